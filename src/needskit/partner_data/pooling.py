"""Pooling: partner datasets → one neighbourhood geography → the needs profile and its ledger.

For each catalogue entry: decide every row's fate (:func:`~needskit.partner_data.prepare.prepare_dataset`),
extract its measures, move 2011-LSOA data to 2021 LSOAs, and sum up the hierarchy (LSOA → MSOA,
ward → district → county), to the comparators the entry asks for (e.g. England) and to the
partnership's own places. Datasets with a ``register:`` block also give their located rows to
the resource register.

Invariants, checked on every run and by the tests:

* rows: ``read = assigned + unlocated + rejected``, per dataset and period;
* values: for every count measure, the sum over assigned rows equals the sum in the profile at
  the base level, and ``read = assigned + unlocated + rejected`` holds for the sums too.

Nothing here touches files: :class:`~needskit.partner_data.store.Store` writes the result.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from needskit.config.catalog import Catalog, DatasetSpec
from needskit.errors import DataError, NeedskitError
from needskit.partner_data.ingest import read_dataset
from needskit.partner_data.ledger import (
    count_values,
    dataset_ledger,
    measure_ledger,
    rejected_rows,
)
from needskit.partner_data.prepare import META_COLUMNS, Prepared, partnership_lsoas, prepare_dataset
from needskit.partner_data.problems import Problem, problem_from_error
from needskit.partner_data.published_codes import AGREEMENT_COLUMNS
from needskit.place.aggregate import aggregate
from needskit.place.extent import PartnershipArea
from needskit.place.geography import BOUNDARY_LEVELS, LEVELS, CustomPlaces, Geography
from needskit.place.vintages import convert_vintage

__all__ = [
    "PROFILE_COLUMNS",
    "PoolResult",
    "pool_catalog",
    "register_rows",
    "summary_lines",
    "REGISTER_NUMBERS",
]

REGISTER_NUMBERS = ("easting", "northing", "capacity", "hours_per_week", "annual_cost_gbp", "spend_gbp")
"""Register columns that hold numbers (coordinates, capacity, hours, costs)."""

PROFILE_COLUMNS = [
    "area_code",
    "area_name",
    "level",
    "vintage",
    "dataset",
    "measure",
    "category",
    "period",
    "value",
    "kind",
    "sharing",
]
"""Columns of the pooled profile: one row per area, dataset, measure, category and period."""
MEASURE_LEDGER_COLUMNS = [
    "dataset",
    "measure",
    "period",
    "read",
    "assigned",
    "unlocated",
    "rejected",
    "in_profile",
    "conserved",
]


@dataclass
class PoolResult:
    """What :func:`pool_catalog` returns (and the store writes).

    Attributes
    ----------
    profile
        The long profile (:data:`PROFILE_COLUMNS`).
    ledger, measure_ledger
        Lines and count values read, assigned, unlocated and rejected, per dataset and period.
    rejected
        Per dataset, the lines not assigned with their status and reason.
    problems
        Everything validation found (errors, warnings, info).
    register
        Per register table (``services``, ``spend``, ``catchments``), the located rows of the
        datasets that feed it.
    area, places
        The partnership's area and its own places, as pooled.
    missing
        Optional datasets with no files: dataset id to the reason (what to drop where).
    agreement
        For datasets of points with the publisher's own LSOA code (``code:``, e.g. police.uk):
        per dataset and period, the rows assigned by their code that have a point, and how many
        of those points lie in the code's LSOA
        (:data:`~needskit.partner_data.published_codes.AGREEMENT_COLUMNS`).
    """

    profile: pd.DataFrame
    ledger: pd.DataFrame
    measure_ledger: pd.DataFrame
    rejected: dict[str, pd.DataFrame]
    problems: list[Problem]
    area: PartnershipArea
    level: str = "lsoa"
    vintage: int = 2021
    places: Sequence[CustomPlaces] = ()
    register: dict[str, pd.DataFrame] = field(default_factory=dict)
    seconds: float = 0.0
    inputs: list[Path] = field(default_factory=list)
    datasets: list[DatasetSpec] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    agreement: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AGREEMENT_COLUMNS))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _sum_records(records: pd.DataFrame) -> pd.DataFrame:
    keys = ["area_code", "level", "vintage", "period", "measure", "category", "kind", "aggregate"]
    counts = records[records["kind"] != "value"].groupby(keys, as_index=False, sort=False)["value"].sum()
    values = records[records["kind"] == "value"].groupby(keys, as_index=False, sort=False)["value"].first()
    return pd.concat([counts, values], ignore_index=True)


def _convert(
    records: pd.DataFrame, *, to_vintage: int, geography: Geography
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move LSOA records of the other vintage: counts apportioned, values and classes inherited."""
    out, reports = [], []
    if records.empty:
        return records, pd.DataFrame(columns=["path", "rows_in", "rows_out", "kind"])
    for kind, group in records.groupby("kind"):
        wide = group.drop(columns=["level", "vintage"])
        keys = ["period", "measure", "category", "aggregate", "kind"]
        converted = convert_vintage(
            wide[["area_code", "value"] + keys],
            code_col="area_code",
            value_cols="value",
            geography=geography,
            from_vintage=int(group["vintage"].iloc[0]),
            to_vintage=to_vintage,
            by=keys,
            intensive=kind != "count",
        )
        reports.append(
            pd.DataFrame.from_dict(converted.attrs.pop("conversion_report"), orient="index")
            .rename_axis("path")
            .reset_index()
            .assign(kind=kind)
        )
        out.append(converted.assign(level="lsoa", vintage=to_vintage))
    return pd.concat(out, ignore_index=True), pd.concat(reports, ignore_index=True)


def _aggregate_up(
    base: pd.DataFrame, *, levels: Sequence[str], vintage: int, geography: Geography
) -> pd.DataFrame:
    """Base-level records → each higher level, by each measure's aggregate rule."""
    out = []
    keys = ["period", "measure", "category", "kind", "aggregate", "dataset", "sharing"]
    lsoa = base[base["level"] == "lsoa"]
    for rule, group in lsoa.groupby("aggregate"):
        if rule == "none":
            continue
        frame = group[["area_code", "value"] + keys].copy()
        how = {"value": "sum" if rule == "sum" else rule}
        if rule == "population_weighted_mean":
            frame["_w"] = frame["area_code"].map(geography.population(vintage)).fillna(0.0)
            how = {"value": "mean:_w"}
        for level in levels:
            agg = aggregate(
                frame,
                to=level,
                geography=geography,
                value_cols=["value"] + (["_w"] if "_w" in frame else []),
                how={**how, **({"_w": "sum"} if "_w" in frame else {})},
                vintage=vintage,
                from_level="lsoa",
                by=keys,
            )
            out.append(agg.drop(columns=[c for c in ("_w", "area_name") if c in agg]).assign(vintage=vintage))
    # data native to a higher level (ward spend, district tables) goes up from there
    for native in ("msoa", "ward", "district"):
        part = base[(base["level"] == native) & (base["aggregate"] == "sum")]
        if part.empty:
            continue
        above = [
            lv
            for lv in levels
            if LEVELS.index(lv) > LEVELS.index(native) and not (native == "msoa" and lv == "ward")
        ]
        for level in above:
            agg = aggregate(
                part[["area_code", "value"] + keys],
                to=level,
                geography=geography,
                value_cols="value",
                vintage=vintage,
                from_level=native,
                by=keys,
            )
            out.append(agg.drop(columns="area_name").assign(vintage=vintage))
    return pd.concat(out, ignore_index=True) if out else base.iloc[0:0]


def _complete_zeros(
    profile: pd.DataFrame, *, area: PartnershipArea, places: Sequence[CustomPlaces]
) -> pd.DataFrame:
    """Add the true zeros: every area of a level × every category a count measure has, so an
    area with no burglaries has a burglary count of 0 rather than no row (indicators and
    disclosure tables need complete tables)."""
    areas = {level: pd.Series(sorted(area.codes_at(level))) for level in BOUNDARY_LEVELS}
    for place in places:
        areas[place.name] = place.areas["area_code"]
    counts = profile[(profile["kind"] != "value") & profile["level"].isin(list(areas))]
    keys = ["dataset", "measure", "period", "level", "vintage", "kind", "aggregate", "sharing"]
    combos = counts[keys + ["category"]].drop_duplicates()
    if places:
        # places are made from the LSOA records: each has every combination the LSOAs have (0 when
        # none of its LSOAs has it), not only those some place happens to have
        names = [place.name for place in places]
        lsoa = combos[combos["level"] == "lsoa"]
        combos = pd.concat(
            [combos[~combos["level"].isin(names)], *(lsoa.assign(level=name) for name in names)],
            ignore_index=True,
        ).drop_duplicates()
    grid = pd.concat(
        [
            combos[combos["level"] == level].merge(pd.DataFrame({"area_code": codes}), how="cross")
            for level, codes in areas.items()
        ],
        ignore_index=True,
    )
    full = grid.merge(counts, on=keys + ["category", "area_code"], how="left")
    full["value"] = full["value"].fillna(0.0)
    return pd.concat([profile[~profile.index.isin(counts.index)], full[profile.columns]], ignore_index=True)


def _names(
    profile: pd.DataFrame, geography: Geography, vintage: int, places: Sequence[CustomPlaces]
) -> pd.Series:
    table = geography.hierarchy(vintage, copy=False)
    names = {}
    for level in LEVELS:
        pairs = table[[level, f"{level}_name"]].dropna().drop_duplicates(level)
        names.update(dict(zip(pairs[level], pairs[f"{level}_name"], strict=True)))
    for place in places or []:
        names.update(dict(zip(place.areas["area_code"], place.areas["area_name"], strict=False)))
    return profile["area_code"].map(names)


_MINOR_WORDS = frozenset({"and", "at", "by", "de", "for", "in", "of", "on", "the", "upon", "with"})


def name_case(names: pd.Series) -> pd.Series:
    """Names published in capitals (NHS ODS: ``GEORGE'S PRACTICE``) in the case people write them:
    ``George's Practice``, ``O'Brien Surgery``, ``Ross-on-Wye Medical Centre``, ``Church of England``.

    Every word is capitalised except an apostrophe's ``s`` and, inside a name, ``and``, ``of``,
    ``on``, ``the`` and similar short words.
    """

    def word(match: re.Match[str]) -> str:
        text = match.group(0)
        if match.start() > 0 and text in _MINOR_WORDS:
            return text
        return text[:1].upper() + text[1:]

    def one(name: str) -> str:
        lowered = re.sub(r"[a-z]+", word, name.lower())
        return re.sub(r"'S\b", "'s", lowered)

    return names.astype("string").map(one, na_action="ignore").astype("string")


def register_rows(prepared: Prepared, frame: pd.DataFrame) -> pd.DataFrame:
    """The assigned rows of a dataset with a ``register:`` block, in register columns.

    Register columns come from the block's ``columns`` mapping, from file columns of the same
    name, and from its fixed ``values``; services get ``service_id`` (the record id),
    ``easting``/``northing`` (British National Grid, from the located point or postcode) and
    every table gets ``area_code`` (where the pool assigned the row), ``dataset``, ``sharing``,
    ``source`` and ``illustrative``.
    """
    spec = prepared.spec
    reg = spec.register
    assert reg is not None
    keep = (prepared.rows["status"] == "assigned").to_numpy()
    rows = frame.loc[keep]
    out = rows[[c for c in rows.columns if c not in META_COLUMNS and c != "geometry"]].copy()
    for target, source in reg.columns.items():
        out[target] = rows[source].to_numpy()
    title_case = reg.values.get("title_case", [])
    for key, value in reg.values.items():
        if key != "title_case":
            out[key] = value
    for column in title_case if isinstance(title_case, list) else [title_case]:
        out[column] = name_case(out[column])
    if reg.table == "services":
        if "service_id" not in out.columns and spec.record_id:
            out["service_id"] = rows[spec.record_id].to_numpy()
        if prepared.coords is not None:
            out["easting"] = prepared.coords.loc[keep, "easting"].to_numpy()
            out["northing"] = prepared.coords.loc[keep, "northing"].to_numpy()
        out["theme"] = out["theme"] if "theme" in out.columns else spec.theme
    out["area_code"] = prepared.rows.loc[keep, "area_code"].astype("string").to_numpy()
    out["dataset"] = spec.id
    out["sharing"] = spec.sharing
    if "source" not in out.columns:
        out["source"] = spec.title
    if "illustrative" not in out.columns:
        out["illustrative"] = spec.illustrative
    out["illustrative"] = out["illustrative"].map(lambda v: str(v).strip().lower() in ("true", "1", "yes"))
    for column in REGISTER_NUMBERS:  # the register's numbers, read as text by the adapters
        if column in out.columns:
            out[column] = pd.to_numeric(out[column], errors="coerce")
    return out.reset_index(drop=True)


def pool_catalog(
    catalog: Catalog,
    *,
    area: PartnershipArea,
    geography: Geography,
    places: Sequence[CustomPlaces] = (),
    datasets: Sequence[str] | None = None,
    progress: bool | None = None,
    echo: Callable[[str], None] | None = None,
) -> PoolResult:
    """Pool every dataset of a catalogue onto the partnership's LSOAs.

    Parameters
    ----------
    catalog
        From :func:`needskit.config.load_catalog`.
    area, geography
        The partnership's area (:func:`needskit.place.extent.resolve_area`) and its reference
        geography: rows outside the area are rejected as outside, and the profile holds the
        area's LSOAs, MSOAs, wards, districts and counties with true zeros.
    places
        The partnership's own places to aggregate to (:func:`needskit.place.build_places`).
    datasets
        Pool only these dataset ids.
    progress
        Show a progress bar per dataset (default: when stderr is a terminal).
    echo
        Called with each line of the summary.

    Returns
    -------
    PoolResult

    Raises
    ------
    NeedskitError
        If a dataset cannot be read as declared, or an invariant fails.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    vintage = area.vintage
    selected = catalog.select(list(datasets) if datasets else None)
    show = sys.stderr.isatty() if progress is None else progress
    levels = [lv for lv in BOUNDARY_LEVELS if lv != "lsoa"]
    lsoas = partnership_lsoas(area, geography)

    base_parts, upper_parts, comparator_parts = [], [], []
    ledgers, measure_ledgers, rejected, problems, inputs, agreements = [], [], {}, [], [], []
    register: dict[str, list[pd.DataFrame]] = {}
    missing: dict[str, str] = {}
    for spec in tqdm(list(selected), desc="pooling", unit="dataset", disable=not show):
        if spec.optional and not spec.files():
            missing[spec.id] = spec.missing_reason()
            problems.append(
                Problem(spec.id, "info", missing[spec.id], expected=f"files matching {spec.path}")
            )
            continue
        try:
            frame = read_dataset(spec)
            prepared = prepare_dataset(spec, area=area, geography=geography, frame=frame, lsoas=lsoas)
        except NeedskitError as exc:
            problems.append(problem_from_error(spec.id, exc))
            raise
        inputs += spec.files()
        problems += prepared.problems
        records = _sum_records(prepared.records)
        if (
            spec.geography.kind == "area_code"
            and spec.geography.level == "lsoa"
            and spec.geography.vintage != vintage
        ):
            records, _ = _convert(records, to_vintage=vintage, geography=geography)
            changes = geography.changes()
            src = "lsoa11_code" if spec.geography.vintage == 2011 else "lsoa21_code"
            prepared.conversion = set(changes.loc[changes["change_code"] != "U", src])
        records = records.assign(dataset=spec.id, sharing=spec.sharing)
        base_parts.append(records)
        if prepared.comparator_records is not None and len(prepared.comparator_records):
            comp = _sum_records(prepared.comparator_records)
            native_vintage = spec.geography.vintage or vintage
            for target in spec.comparators:
                agg = aggregate(
                    comp[["area_code", "value", "period", "measure", "category", "kind", "aggregate"]],
                    to=target,
                    geography=geography,
                    value_cols="value",
                    vintage=native_vintage,
                    from_level=spec.geography.level,
                    by=["period", "measure", "category", "kind", "aggregate"],
                )
                comparator_parts.append(
                    agg.drop(columns="area_name").assign(
                        vintage=vintage, dataset=spec.id, sharing=spec.sharing
                    )
                )
        ledgers.append(dataset_ledger(prepared))
        if prepared.agreement is not None:
            agreements.append(prepared.agreement)
        base_lsoa = records[records["kind"] == "count"]
        measure_ledgers.append(measure_ledger(prepared, count_values(prepared, frame), base_lsoa))
        not_assigned = rejected_rows(spec, frame, prepared.rows)
        if len(not_assigned):
            rejected[spec.id] = not_assigned
        if spec.register is not None:
            register.setdefault(spec.register.table, []).append(register_rows(prepared, frame))

    if not base_parts:
        raise DataError(
            "no dataset has any files",
            where=str(catalog.path or catalog.name),
            expected="files for at least one catalogue entry",
            got="; ".join(missing.values()),
        )
    base = pd.concat(base_parts, ignore_index=True)
    upper_parts.append(_aggregate_up(base, levels=levels, vintage=vintage, geography=geography))
    for place in places:
        lsoa = base[(base["level"] == "lsoa") & (base["kind"] != "value")]
        keys = ["period", "measure", "category", "kind", "aggregate", "dataset", "sharing"]
        agg = aggregate(
            lsoa[["area_code", "value"] + keys], to=place, geography=geography, value_cols="value", by=keys
        )
        upper_parts.append(agg.drop(columns="area_name").assign(vintage=vintage))
    profile = pd.concat([base] + upper_parts, ignore_index=True)
    profile = _complete_zeros(profile, area=area, places=places)
    profile = pd.concat([profile] + comparator_parts, ignore_index=True)
    keep_levels = set(LEVELS) | {p.name for p in places}
    profile = profile[profile["level"].isin(keep_levels)].copy()
    profile["area_name"] = _names(profile, geography, vintage, places)
    # plain numpy floats and one string dtype, whatever the adapters produced
    profile["value"] = profile["value"].astype("float64")
    for column in (
        "area_code",
        "area_name",
        "level",
        "dataset",
        "measure",
        "category",
        "period",
        "kind",
        "sharing",
    ):
        profile[column] = profile[column].astype("str")
    profile = profile[PROFILE_COLUMNS].sort_values(
        ["dataset", "level", "area_code", "measure", "category", "period"], ignore_index=True
    )

    ledger = pd.concat(ledgers, ignore_index=True)
    paths = [c for c in ledger.columns if c.startswith("assigned_")]  # a path only some datasets took
    ledger[paths] = ledger[paths].fillna(0).astype("int64")
    measure_parts = [m for m in measure_ledgers if len(m)]
    measures = (
        pd.concat(measure_parts, ignore_index=True)
        if measure_parts
        else pd.DataFrame(
            columns=MEASURE_LEDGER_COLUMNS
        )  # only values (scores, ranks): no counts to conserve
    )
    if not ledger["balanced"].all():
        bad = ledger.loc[~ledger["balanced"], ["dataset", "period"]].to_dict("records")
        raise DataError(
            "ledger does not balance (read != assigned + unlocated + rejected)", where=str(bad[:3])
        )
    if len(measures) and not measures["conserved"].all():
        bad = (
            measures.loc[~measures["conserved"], ["dataset", "measure", "period"]].head(3).to_dict("records")
        )
        raise DataError("a count measure's total changed while pooling", where=str(bad))
    result = PoolResult(
        profile=profile,
        ledger=ledger,
        measure_ledger=measures,
        rejected=rejected,
        problems=problems,
        area=area,
        vintage=vintage,
        places=tuple(places),
        register={table: pd.concat(parts, ignore_index=True) for table, parts in register.items()},
        seconds=time.perf_counter() - started,
        inputs=sorted(set(inputs)),
        datasets=[spec for spec in selected if spec.id not in missing],
        missing=missing,
        agreement=(
            pd.concat(agreements, ignore_index=True)
            if agreements
            else pd.DataFrame(columns=AGREEMENT_COLUMNS)
        ),
    )
    if echo:
        for line in summary_lines(result):
            echo(line)
    return result


def summary_lines(result: PoolResult) -> list[str]:
    """A one-screen summary: per dataset, rows read / assigned / unlocated / rejected; for datasets
    assigned by the publisher's own codes, how often code and point agree."""
    led = result.ledger.groupby("dataset", sort=False)[
        ["read", "assigned", "unlocated", "rejected_invalid", "rejected_outside"]
    ].sum()
    lines = [
        f"pooled {len(led)} datasets onto {result.level} {result.vintage} in {result.seconds:.1f} s "
        f"(profile of {len(result.profile):,} rows)",
        f"{'dataset':<38}{'read':>9}{'assigned':>10}{'unlocated':>10}{'invalid':>9}{'outside':>9}",
    ]
    for name, row in led.iterrows():
        lines.append(
            f"{name:<38}{row['read']:>9,}{row['assigned']:>10,}{row['unlocated']:>10,}{row['rejected_invalid']:>9,}{row['rejected_outside']:>9,}"
        )
    for name, reason in result.missing.items():
        lines.append(f"{name:<38}not pooled: {reason}")
    for name, part in result.agreement.groupby("dataset", sort=False):
        compared, agreeing = int(part["rows_compared"].sum()), int(part["rows_agreeing"].sum())
        if compared:
            shares = (
                part.loc[part["rows_compared"] > 0, "rows_agreeing"]
                / part.loc[part["rows_compared"] > 0, "rows_compared"]
            )
            months = f"; by period {shares.min():.1%} to {shares.max():.1%}" if len(shares) > 1 else ""
            lines.append(
                f"{name}: the point lies in the LSOA of the published code for "
                f"{agreeing / compared:.1%} of {compared:,} rows assigned by code "
                f"(code_agreement.csv{months})"
            )
    warnings = sum(1 for p in result.problems if p.severity == "warning")
    lines.append(f"ledger balances for every dataset and period; {warnings} warnings (see problems.csv)")
    return lines
