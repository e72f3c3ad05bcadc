"""Pooling: partner datasets → one neighbourhood geography → the needs profile and its ledger.

For each catalogue entry: read it with its adapter, decide for every row whether it is
**assigned** to an area (``within`` / ``nearest`` a point, by code, by postcode, apportioned
from another vintage), **unlocated** (no usable location) or **rejected** (invalid, with a
reason, or outside the partnership's area or scope), extract its measures, move 2011-LSOA data
to 2021 LSOAs, and sum up the hierarchy (LSOA → MSOA, ward → district → county), to the
comparators the entry asks for (e.g. England) and to any custom places.

Invariants, checked on every run and by the tests:

* rows: ``read = assigned + unlocated + rejected``, per dataset and period;
* values: for every count measure, the sum over assigned rows equals the sum in the profile at
  the base level, and ``read = assigned + unlocated + rejected`` holds for the sums too.

Only :func:`write_pool` touches files.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from needskit._checks import BNG, GB_LONLAT_EXTENT, isin
from needskit.config.catalog import Catalog, DatasetSpec, MeasureSpec
from needskit.config.project import sha256_file
from needskit.errors import DataError, NeedskitError, SchemaError
from needskit.partner_data.ingest import read_dataset
from needskit.partner_data.ingest._io import to_numbers
from needskit.partner_data.problems import Problem, problem_from_error, problems_frame, rows_problem
from needskit.place import geography as geo

__all__ = [
    "PoolResult", "prepare_dataset", "pool_catalog", "publish_result", "write_pool", "PROFILE_COLUMNS", "summary_lines",
]

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
ASSIGNED_HOW = ("within", "nearest", "by_code", "by_postcode", "apportioned")
_META = {"_file", "_row", "_invalid"}


@dataclass
class Prepared:
    """One dataset after row checks and geography: every row with its status."""

    spec: DatasetSpec
    rows: pd.DataFrame  # _file, _row, period, status, reason, how, area_code, level, vintage
    records: (
        pd.DataFrame
    )  # _row, area_code, level, vintage, period, measure, category, value, kind, aggregate
    problems: list[Problem] = field(default_factory=list)
    comparator_records: pd.DataFrame | None = None
    conversion: set[str] | None = None


@dataclass
class PoolResult:
    """What :func:`pool_catalog` returns (and :func:`write_pool` writes)."""

    profile: pd.DataFrame
    ledger: pd.DataFrame
    measure_ledger: pd.DataFrame
    rejected: dict[str, pd.DataFrame]
    problems: list[Problem]
    level: str
    vintage: int
    audience: str = "internal"
    disclosure_log: pd.DataFrame | None = None
    rule: str | None = None
    seconds: float = 0.0
    inputs: list[Path] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


# ----------------------------------------------------------------------------------- periods


def _parse_period(values: pd.Series, fmt: str | None) -> tuple[pd.Series, pd.Series]:
    """Periods as text (``"2024-01"`` for months, ``"2021"`` for years); mask of unparseable."""
    text = values.astype("string").str.strip()
    if fmt is None:
        return text, text.isna()
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    out_fmt = "%Y-%m" if "%m" in fmt and "%d" not in fmt else ("%Y" if fmt.strip() == "%Y" else "%Y-%m-%d")
    return parsed.dt.strftime(out_fmt).astype("string"), parsed.isna()


# -------------------------------------------------------------------------------- row checks


def _measure_columns(spec: DatasetSpec, frame: pd.DataFrame) -> list[tuple[MeasureSpec, str | None, str]]:
    """(measure spec, source column or None for row counts, measure name) for every measure."""
    reserved = {
        spec.geography.x,
        spec.geography.y,
        spec.geography.postcode,
        spec.geography.column,
        spec.period.column,
        spec.record_id,
    } | _META
    out = []
    for m in spec.measures:
        if m.count_rows:
            out.append((m, None, m.name))
        elif m.column is not None:
            out.append((m, m.column, m.name or m.column))
        else:
            pattern = re.compile(m.columns)
            matched = [c for c in frame.columns if c not in reserved and pattern.search(c)]
            if not matched:
                raise DataError(
                    "measure pattern matches no column",
                    where=f"dataset {spec.id!r}",
                    expected=f"columns matching {m.columns!r}",
                    got=f"columns {list(frame.columns)[:12]}",
                )
            out += [(m, c, c) for c in matched]
    return out


def _required_columns(spec: DatasetSpec, measures) -> list[str]:
    g = spec.geography
    cols = [c for c in (g.x, g.y, g.postcode, g.column, spec.period.column, spec.record_id) if c]
    cols += [c for _, c, _ in measures if c]
    cols += [m.category for m, _, _ in measures if m.category]
    cols += [s.column for s in spec.scope]
    return list(dict.fromkeys(cols))


def _scope_mask(frame: pd.DataFrame, flt) -> pd.Series:
    col = frame[flt.column].astype("string")
    if flt.op == "equals":
        keep = col == str(flt.value)
    elif flt.op == "not_equals":
        keep = col != str(flt.value)
    elif flt.op == "in":
        keep = pd.Series(isin(col, [str(v) for v in flt.value]), index=col.index)
    elif flt.op == "not_in":
        keep = pd.Series(~isin(col, [str(v) for v in flt.value]), index=col.index)
    elif flt.op == "startswith":
        keep = col.str.startswith(str(flt.value))
    elif flt.op == "matches":
        keep = col.str.contains(str(flt.value), regex=True)
    else:  # not_null
        keep = col.notna()
    return keep.fillna(False).astype(bool)


def _partnership_codes(level: str, vintage: int) -> set[str]:
    if level in geo.BOUNDARY_LEVELS:
        return set(geo.load_areas(level, vintage=vintage)["area_code"])
    lsoas = set(geo.load_areas("lsoa", vintage=vintage)["area_code"])
    table = geo.hierarchy(vintage=vintage)
    return set(table.loc[table["lsoa"].isin(lsoas), level])


def prepare_dataset(spec: DatasetSpec, *, vintage: int = 2021, frame: pd.DataFrame | None = None) -> Prepared:
    """Read one dataset and decide every row's fate; the shared core of validate and pool.

    Raises
    ------
    DataError, GeographyError, SchemaError
        Structural problems: the dataset cannot be pooled as declared.
    """
    frame = read_dataset(spec) if frame is None else frame
    measures = _measure_columns(spec, frame)
    required = _required_columns(spec, measures)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        files = ", ".join(sorted(frame["_file"].unique())[:3]) if "_file" in frame else spec.path
        close = {
            m: [c for c in frame.columns if re.sub(r"\W", "", c.lower()) == re.sub(r"\W", "", m.lower())]
            for m in missing
        }
        renamed = {m: c[0] for m, c in close.items() if c}
        raise DataError(
            f"missing column{'s' if len(missing) > 1 else ''} {missing}",
            where=f"dataset {spec.id!r} ({files})",
            expected="the columns the catalogue entry names",
            got=f"columns {[c for c in frame.columns if c not in _META][:15]}",
            hint=f"renamed? {renamed}" if renamed else "update the catalogue entry or the file",
        )
    n = len(frame)
    status = pd.Series("ok", index=frame.index, dtype="object")
    reason = pd.Series("", index=frame.index, dtype="object")
    problems: list[Problem] = []

    def mark(
        mask: pd.Series,
        new_status: str,
        why: str,
        *,
        column=None,
        expected=None,
        values=None,
        hint=None,
        severity="warning",
    ):
        mask = mask & (status == "ok")
        if not mask.any():
            return
        status[mask] = new_status
        reason[mask] = why
        p = rows_problem(
            spec.id,
            frame,
            mask,
            what=why,
            severity=severity,
            column=column,
            expected=expected,
            values=values,
            hint=hint,
        )
        if p is not None:
            problems.append(p)

    if "_invalid" in frame:
        bad = frame["_invalid"].notna()
        mark(bad, "invalid", "invalid row", values=frame["_invalid"])

    for flt in spec.scope:
        mark(
            ~_scope_mask(frame, flt),
            "outside",
            f"outside scope: {flt.reason}",
            column=flt.column,
            values=frame[flt.column],
            severity="info",
        )

    # period
    if spec.period.column:
        period, unparsed = _parse_period(frame[spec.period.column], spec.period.format)
        mark(
            unparsed,
            "invalid",
            "period is not a date",
            column=spec.period.column,
            expected=f"dates like {spec.period.format or 'text'}",
            values=frame[spec.period.column],
        )
    else:
        period = pd.Series(spec.period.value, index=frame.index, dtype="string")
    if spec.period.range:
        first, last = spec.period.range
        outside = period.notna() & ((period < first) | (period > last))
        mark(
            outside,
            "invalid",
            "period outside the declared range",
            column=spec.period.column,
            expected=f"{first} to {last}",
            values=period,
            hint="update period.range in the catalogue if the data are newer",
        )

    # record ids
    if spec.record_id:
        ids = frame[spec.record_id]
        dup = ids.notna() & ids.duplicated(keep="first")
        mark(
            dup,
            "invalid",
            "duplicated record id",
            column=spec.record_id,
            values=ids,
            hint="the first occurrence is kept; check whether the partner sent overlapping extracts",
        )

    # measures
    parsed: dict[str, pd.Series] = {}
    for m, column, _name in measures:
        if column is None or column in parsed or m.kind == "class":
            continue
        text = frame[column]
        values = to_numbers(text) if not pd.api.types.is_numeric_dtype(text) else text.astype(float)
        parsed[column] = values
        mark(
            values.isna() & text.notna(),
            "invalid",
            "value is not a number",
            column=column,
            expected="a number",
            values=text,
        )
        if m.kind == "count":
            mark(values < 0, "invalid", "negative count", column=column, expected="0 or more", values=text)

    # geography
    g = spec.geography
    area = pd.Series(pd.NA, index=frame.index, dtype="string")
    how = pd.Series("", index=frame.index, dtype="object")
    native_level, native_vintage = "lsoa", vintage
    if g.kind in ("points", "postcode"):
        if g.kind == "points":
            xs_text, ys_text = frame[g.x], frame[g.y]
            xs, ys = to_numbers(xs_text), to_numbers(ys_text)
            mark(xs_text.isna() | ys_text.isna(), "unlocated", "no coordinates", column=f"{g.x}/{g.y}")
            mark(
                (xs.isna() & xs_text.notna()) | (ys.isna() & ys_text.notna()),
                "invalid",
                "coordinate is not a number",
                column=f"{g.x}/{g.y}",
                values=xs_text.astype("string") + "," + ys_text.astype("string"),
            )
            crs, label = g.crs, None
        else:
            coded = geo.geocode_postcodes(frame[[g.postcode]], postcode_col=g.postcode)
            st = coded["postcode_status"]
            mark(st == "missing", "unlocated", "no postcode", column=g.postcode)
            mark(
                st == "invalid",
                "invalid",
                "not a postcode",
                column=g.postcode,
                values=frame[g.postcode],
                expected="a UK postcode such as GL50 3PP",
            )
            mark(
                st == "not_found",
                "unlocated",
                "postcode not in the shipped postcode directory",
                column=g.postcode,
                values=frame[g.postcode],
                hint="the shipped ONS Postcode Directory covers GL postcodes",
            )
            mark(
                st == "no_coordinates",
                "unlocated",
                "postcode has no coordinates (terminated or non-geographic)",
                column=g.postcode,
                values=frame[g.postcode],
            )
            xs, ys, crs, label = coded["easting"], coded["northing"], BNG, "by_postcode"
        ok = status == "ok"
        points = pd.DataFrame({"x": xs.where(ok), "y": ys.where(ok)})
        if g.kind == "points":
            lon0, lat0, lon1, lat1 = GB_LONLAT_EXTENT
            from pyproj import CRS

            if CRS.from_user_input(crs).is_geographic:
                outside_gb = ok & ~(xs.between(lon0, lon1) & ys.between(lat0, lat1))
                geo._check_coordinates(
                    xs[ok].to_numpy(), ys[ok].to_numpy(), CRS.from_user_input(crs), x_name=g.x, y_name=g.y
                )
                mark(
                    outside_gb,
                    "invalid",
                    "coordinates outside Great Britain",
                    column=f"{g.x}/{g.y}",
                    values=xs_text.astype("string") + "," + ys_text.astype("string"),
                    hint="swapped or mistyped coordinates?",
                )
                points = pd.DataFrame({"x": xs.where(status == "ok"), "y": ys.where(status == "ok")})
        located = geo.assign_points(points, x="x", y="y", crs=crs, level="lsoa", vintage=vintage)
        inside = located["match"].isin(["within", "nearest"]) & (status == "ok")
        mark(
            (status == "ok") & ~inside,
            "outside",
            "outside the partnership area",
            column=f"{g.x}/{g.y}" if g.kind == "points" else g.postcode,
            severity="info",
        )
        area = located["area_code"].where(inside)
        how = pd.Series(np.where(inside, label or located["match"], ""), index=frame.index, dtype="object")
    elif g.kind == "area_code":
        native_level, native_vintage = g.level, g.vintage
        codes = frame[g.column].astype("string").str.strip()
        mark(codes.isna() | (codes == ""), "unlocated", "no area code", column=g.column)
        known = set(geo.hierarchy(vintage=native_vintage)[native_level].dropna())
        is_known = pd.Series(isin(codes, known), index=codes.index)
        mark(
            ~is_known,
            "invalid",
            f"not a {native_level} code of the {native_vintage} geography",
            column=g.column,
            values=codes,
            expected=f"ONS {native_level} codes of vintage {native_vintage}",
            hint=geo._vintage_hint(
                codes[~is_known].dropna().unique()[:5].tolist(), native_level, native_vintage
            ),
        )
        ours = _partnership_codes(native_level, native_vintage)
        mark(
            pd.Series(~isin(codes, ours), index=codes.index),
            "outside",
            "outside the partnership area",
            column=g.column,
            severity="info",
        )
        area = codes.where(status == "ok")
        how = pd.Series(np.where(status == "ok", "by_code", ""), index=frame.index, dtype="object")
    else:
        raise SchemaError(
            "polygon datasets are not pooled yet",
            where=f"dataset {spec.id!r}",
            hint="use apportion() directly",
        )

    rows = pd.DataFrame(
        {
            "_file": frame["_file"],
            "_row": frame["_row"],
            "period": period.fillna("unknown"),
            "status": status.map({"ok": "assigned"}).fillna(status),
            "reason": reason,
            "how": how,
            "area_code": area,
            "level": native_level,
            "vintage": native_vintage,
        }
    )

    # invalid share above the entry's tolerance is an error for the dataset
    invalid_share = float((rows["status"] == "invalid").mean()) if n else 0.0
    if invalid_share > spec.max_invalid:
        problems.append(
            Problem(
                dataset=spec.id,
                severity="error",
                what="too many invalid rows",
                count=int((rows["status"] == "invalid").sum()),
                expected=f"at most {spec.max_invalid:.0%} of {n:,} rows",
                got=f"{invalid_share:.1%}",
                hint="fix the file, or raise max_invalid in the catalogue if this is expected",
            )
        )

    records = _records(spec, frame, rows, measures, parsed, keep=rows["status"] == "assigned")
    comparator_records = None
    if spec.comparators and g.kind == "area_code":
        usable = rows["status"].isin(["assigned", "outside"]) & ~rows["reason"].str.startswith(
            "outside scope"
        )
        comp = _records(
            spec,
            frame,
            rows.assign(area_code=frame[g.column].astype("string").str.strip()),
            measures,
            parsed,
            keep=usable,
        )
        comparator_records = comp[comp["kind"] != "value"]
    return Prepared(spec, rows, records, problems, comparator_records)


def _records(spec, frame, rows, measures, parsed, *, keep) -> pd.DataFrame:
    """Long measure records for the kept rows: one per row × measure (× its category)."""
    pieces = []
    base = rows.loc[keep, ["_row", "area_code", "level", "vintage", "period"]]
    for m, column, name in measures:
        if column is None:
            value = pd.Series(1.0, index=base.index)
        else:
            value = parsed[column][keep]
        if m.kind == "class":
            value = pd.Series(1.0, index=base.index)
        category = (
            frame.loc[keep, m.category].astype("string").fillna("(missing)")
            if m.category
            else pd.Series("all", index=base.index, dtype="string")
        )
        piece = base.assign(
            measure=name,
            category=category,
            value=value.to_numpy(dtype=float),
            kind=m.kind,
            aggregate=m.aggregate,
        )
        pieces.append(piece[piece["value"].notna()])
    if not pieces:
        return pd.DataFrame(
            columns=[
                "_row",
                "area_code",
                "level",
                "vintage",
                "period",
                "measure",
                "category",
                "value",
                "kind",
                "aggregate",
            ]
        )
    return pd.concat(pieces, ignore_index=True)


# ----------------------------------------------------------------------------------- pooling


def _sum_records(records: pd.DataFrame) -> pd.DataFrame:
    keys = ["area_code", "level", "vintage", "period", "measure", "category", "kind", "aggregate"]
    counts = records[records["kind"] != "value"].groupby(keys, as_index=False, sort=False)["value"].sum()
    values = records[records["kind"] == "value"].groupby(keys, as_index=False, sort=False)["value"].first()
    return pd.concat([counts, values], ignore_index=True)


def _convert(records: pd.DataFrame, *, to_vintage: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move LSOA records of the other vintage: counts apportioned, values and classes inherited."""
    out, reports = [], []
    if records.empty:
        return records, pd.DataFrame(columns=["path", "rows_in", "rows_out", "kind"])
    for kind, group in records.groupby("kind"):
        wide = group.drop(columns=["level", "vintage"])
        keys = ["period", "measure", "category", "aggregate", "kind"]
        converted = geo.convert_vintage(
            wide[["area_code", "value"] + keys],
            code_col="area_code",
            value_cols="value",
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
    base: pd.DataFrame, *, levels: Sequence[str], vintage: int, weights: pd.Series
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
            frame["_w"] = frame["area_code"].map(weights).fillna(0.0)
            how = {"value": "mean:_w"}
        for level in levels:
            agg = geo.aggregate(
                frame,
                to=level,
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
        above = [lv for lv in levels if geo.LEVELS.index(lv) > geo.LEVELS.index(native) and not (native == "msoa" and lv == "ward")]
        for level in above:
            agg = geo.aggregate(part[["area_code", "value"] + keys], to=level, value_cols="value", vintage=vintage, from_level=native, by=keys)
            out.append(agg.drop(columns="area_name").assign(vintage=vintage))
    return pd.concat(out, ignore_index=True) if out else base.iloc[0:0]


def _complete_zeros(profile: pd.DataFrame, *, vintage: int, places) -> pd.DataFrame:
    """Add the true zeros: every area of a level × every category a count measure has, so an
    area with no burglaries has a burglary count of 0 rather than no row (indicators and
    disclosure tables need complete tables)."""
    areas = {level: geo.load_areas(level, vintage=vintage)["area_code"] for level in geo.BOUNDARY_LEVELS}
    for place in places:
        areas[place.name] = place.areas["area_code"]
    counts = profile[(profile["kind"] != "value") & profile["level"].isin(list(areas))]
    keys = ["dataset", "measure", "period", "level", "vintage", "kind", "aggregate", "sharing"]
    combos = counts[keys + ["category"]].drop_duplicates()
    grid = pd.concat(
        [combos[combos["level"] == level].merge(pd.DataFrame({"area_code": codes}), how="cross") for level, codes in areas.items()],
        ignore_index=True,
    )
    full = grid.merge(counts, on=keys + ["category", "area_code"], how="left")
    full["value"] = full["value"].fillna(0.0)
    return pd.concat([profile[~profile.index.isin(counts.index)], full[profile.columns]], ignore_index=True)


def _names(profile: pd.DataFrame, vintage: int, places) -> pd.Series:
    table = geo.hierarchy(vintage=vintage)
    names = {}
    for level in geo.LEVELS:
        names.update(dict(zip(table[level], table[f"{level}_name"], strict=False)))
    for place in places or []:
        names.update(dict(zip(place.areas["area_code"], place.areas["area_name"], strict=False)))
    return profile["area_code"].map(names)


_SEVERITY = {"assigned": 0, "unlocated": 1, "outside": 2, "invalid": 3}


def _lines(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per line of the input files: a line split into several records (e.g. age bands)
    takes the worst status of its records, so the ledger counts lines as they were read."""
    if not rows.duplicated(["_file", "_row"]).any():
        return rows
    worst = rows.assign(_sev=rows["status"].map(_SEVERITY)).sort_values("_sev", kind="stable")
    return worst.drop_duplicates(["_file", "_row"], keep="last").drop(columns="_sev")


def _ledger(prepared: Prepared) -> pd.DataFrame:
    """Per period: lines read, assigned (by how), unlocated and rejected (invalid or outside)."""
    rows = _lines(prepared.rows)
    assigned = rows["status"] == "assigned"
    if prepared.conversion:
        # lines by code whose LSOA was split or merged between vintages were apportioned
        moved = assigned & isin(rows["area_code"], prepared.conversion)
        rows = rows.assign(how=rows["how"].where(~moved, "apportioned"))
    counts = pd.crosstab(rows["period"], [rows["status"], rows["how"]])
    out = pd.DataFrame({"period": counts.index})
    out["read"] = counts.sum(axis=1).to_numpy()

    def col(status, how=None):
        cols = [c for c in counts.columns if c[0] == status and (how is None or c[1] == how)]
        return counts[cols].sum(axis=1).to_numpy() if cols else 0

    for how in ASSIGNED_HOW:
        out[f"assigned_{how}"] = col("assigned", how)
    out["assigned"] = col("assigned")
    out["unlocated"] = col("unlocated")
    out["rejected_invalid"] = col("invalid")
    out["rejected_outside"] = col("outside")
    out["rejected"] = out["rejected_invalid"] + out["rejected_outside"]
    bad = rows[rows["status"].isin(["invalid", "outside", "unlocated"])]
    reasons = bad.groupby(["period", "reason"]).size()
    out["reasons"] = [
        "; ".join(f"{r}: {n:,}" for (pp, r), n in reasons.items() if pp == p) for p in out["period"]
    ]
    out.insert(0, "dataset", prepared.spec.id)
    out["vintage_from"] = (
        prepared.spec.geography.vintage if prepared.spec.geography.kind == "area_code" else None
    )
    out["balanced"] = out["read"] == out["assigned"] + out["unlocated"] + out["rejected"]
    return out


def _measure_ledger(
    prepared: Prepared, frame_values: pd.DataFrame, base_profile: pd.DataFrame
) -> pd.DataFrame:
    """Per count measure and period: value read, assigned, unlocated, rejected, in the profile."""
    if frame_values.empty:
        return pd.DataFrame()
    v = frame_values.join(prepared.rows[["status", "period"]], on="_i")
    grouped = v.groupby(["measure", "period", "status"])["value"].sum().unstack("status", fill_value=0.0)
    for col in ("assigned", "unlocated", "invalid", "outside"):
        if col not in grouped:
            grouped[col] = 0.0
    out = grouped.reset_index()
    out["read"] = out[["assigned", "unlocated", "invalid", "outside"]].sum(axis=1)
    out["rejected"] = out["invalid"] + out["outside"]
    in_profile = base_profile.groupby(["measure", "period"])["value"].sum()
    out["in_profile"] = pd.MultiIndex.from_frame(out[["measure", "period"]]).map(
        lambda k: in_profile.get(k, 0.0)
    )
    out.insert(0, "dataset", prepared.spec.id)
    out["conserved"] = np.isclose(out["in_profile"], out["assigned"], rtol=1e-9, atol=1e-6)
    return out[
        [
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
    ]


def _all_values(prepared: Prepared, frame: pd.DataFrame) -> pd.DataFrame:
    """Count-measure values of every row (any status) for the value ledger."""
    spec = prepared.spec
    measures = _measure_columns(spec, frame)
    pieces = []
    for m, column, name in measures:
        if m.kind != "count":
            continue
        value = (
            pd.Series(1.0, index=frame.index)
            if column is None
            else to_numbers(frame[column])
            if not pd.api.types.is_numeric_dtype(frame[column])
            else frame[column].astype(float)
        )
        pieces.append(
            pd.DataFrame({"_i": frame.index, "measure": name, "value": value.fillna(0.0).to_numpy()})
        )
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame()


def _rejected_rows(spec: DatasetSpec, frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Every line not assigned, with its status and reason. Invalid and unlocated lines keep all
    their columns (someone must fix them); lines that are simply outside the partnership's area
    or scope keep only the columns that say where and why, to keep the files small."""
    lines = _lines(rows)
    bad = lines[lines["status"] != "assigned"]
    if bad.empty:
        return bad
    g = spec.geography
    where_cols = [c for c in (g.x, g.y, g.postcode, g.column, spec.record_id) if c] + [
        s.column for s in spec.scope
    ]
    first = frame.loc[bad.index]
    keep_all = bad["status"].isin(["invalid", "unlocated"])
    columns = [c for c in frame.columns if c != "_invalid"]
    slim = ["_file", "_row"] + [c for c in dict.fromkeys(where_cols) if c in frame.columns]
    out = first[columns].copy()
    out.loc[~keep_all.to_numpy(), [c for c in columns if c not in slim]] = None
    out["status"] = bad["status"].replace({"invalid": "rejected", "outside": "rejected"}).to_numpy()
    out["reason"] = bad["reason"].to_numpy()
    return out.reset_index(drop=True)


def pool_catalog(
    catalog: Catalog,
    *,
    level: str = "lsoa",
    vintage: int = 2021,
    places: Sequence[geo.CustomPlaces] = (),
    datasets: Sequence[str] | None = None,
    progress: bool | None = None,
    echo: Callable[[str], None] | None = None,
) -> PoolResult:
    """Pool every dataset of a catalogue onto one geography.

    Parameters
    ----------
    catalog
        From :func:`needskit.config.catalog.load_catalog`.
    level
        Lowest level of the profile (LSOA by default); the profile also holds every level above
        it, the comparators each dataset asks for, and ``places``.
    vintage
        LSOA vintage of the profile; data on the other vintage are converted.
    places
        Custom places to aggregate to.
    datasets
        Pool only these dataset ids.
    progress
        Show a tqdm progress bar per dataset (default: when stderr is a terminal).

    Returns
    -------
    PoolResult with ``profile`` (columns :data:`PROFILE_COLUMNS`), ``ledger``,
    ``measure_ledger``, ``rejected`` (per dataset: the rejected and unlocated rows with reasons)
    and ``problems``.

    Raises
    ------
    NeedskitError
        If a dataset cannot be read as declared, or an invariant fails.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    geo._check_level(level, allowed=geo.BOUNDARY_LEVELS)
    geo._check_vintage(vintage)
    selected = catalog.select(list(datasets) if datasets else None)
    show = sys.stderr.isatty() if progress is None else progress
    weights = geo._population_weights(vintage, str(geo.data_dir() / "raw"))
    levels = [lv for lv in geo.BOUNDARY_LEVELS if geo.LEVELS.index(lv) > geo.LEVELS.index("lsoa")]

    base_parts, upper_parts, comparator_parts = [], [], []
    ledgers, measure_ledgers, rejected, problems, inputs = [], [], {}, [], []
    for spec in tqdm(list(selected), desc="pooling", unit="dataset", disable=not show):
        try:
            frame = read_dataset(spec)
            prepared = prepare_dataset(spec, vintage=vintage, frame=frame)
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
            records, _ = _convert(records, to_vintage=vintage)
            moved = geo._read_csv("lookups/lookup_lsoa11_lsoa21_ltla22.csv.gz")
            src = "lsoa11_code" if spec.geography.vintage == 2011 else "lsoa21_code"
            prepared.conversion = set(moved.loc[moved["change_code"] != "U", src])
        records = records.assign(dataset=spec.id, sharing=spec.sharing)
        base_parts.append(records)
        if prepared.comparator_records is not None and len(prepared.comparator_records):
            comp = _sum_records(prepared.comparator_records)
            native_vintage = spec.geography.vintage or vintage
            for target in spec.comparators:
                agg = geo.aggregate(
                    comp[["area_code", "value", "period", "measure", "category", "kind", "aggregate"]],
                    to=target,
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
        ledgers.append(_ledger(prepared))
        base_lsoa = records[records["kind"] == "count"]
        measure_ledgers.append(_measure_ledger(prepared, _all_values(prepared, frame), base_lsoa))
        rejected_rows = _rejected_rows(spec, frame, prepared.rows)
        if len(rejected_rows):
            rejected[spec.id] = rejected_rows

    base = pd.concat(base_parts, ignore_index=True)
    upper_parts.append(_aggregate_up(base, levels=levels, vintage=vintage, weights=weights))
    for place in places:
        lsoa = base[(base["level"] == "lsoa") & (base["kind"] != "value")]
        keys = ["period", "measure", "category", "kind", "aggregate", "dataset", "sharing"]
        agg = geo.aggregate(lsoa[["area_code", "value"] + keys], to=place, value_cols="value", by=keys)
        upper_parts.append(agg.drop(columns="area_name").assign(vintage=vintage))
    profile = pd.concat([base] + upper_parts, ignore_index=True)
    profile = _complete_zeros(profile, vintage=vintage, places=places)
    profile = pd.concat([profile] + comparator_parts, ignore_index=True)
    keep_levels = set(geo.LEVELS[geo.LEVELS.index(level) :]) | {p.name for p in places}
    profile = profile[profile["level"].isin(keep_levels)]
    profile["area_name"] = _names(profile, vintage, places)
    # plain numpy floats and one string dtype, whatever the adapters produced
    profile["value"] = profile["value"].astype("float64")
    for column in ("area_code", "area_name", "level", "dataset", "measure", "category", "period", "kind", "sharing"):
        profile[column] = profile[column].astype("str")
    profile = profile[PROFILE_COLUMNS].sort_values(
        ["dataset", "level", "area_code", "measure", "category", "period"], ignore_index=True
    )

    ledger = pd.concat(ledgers, ignore_index=True)
    measure_ledger = pd.concat([m for m in measure_ledgers if len(m)], ignore_index=True)
    if not ledger["balanced"].all():
        bad = ledger.loc[~ledger["balanced"], ["dataset", "period"]].to_dict("records")
        raise DataError(
            "ledger does not balance (read != assigned + unlocated + rejected)", where=str(bad[:3])
        )
    if len(measure_ledger) and not measure_ledger["conserved"].all():
        bad = (
            measure_ledger.loc[~measure_ledger["conserved"], ["dataset", "measure", "period"]]
            .head(3)
            .to_dict("records")
        )
        raise DataError("a count measure's total changed while pooling", where=str(bad))
    result = PoolResult(
        profile=profile,
        ledger=ledger,
        measure_ledger=measure_ledger,
        rejected=rejected,
        problems=problems,
        level=level,
        vintage=vintage,
        seconds=time.perf_counter() - started,
        inputs=sorted(set(inputs)),
    )
    if echo:
        for line in summary_lines(result):
            echo(line)
    return result


# ----------------------------------------------------------------------------------- publishing


def publish_result(result: PoolResult, *, catalog: Catalog | None = None, audience: str = "public", rule: str = "nhs_digital") -> PoolResult:
    """The pooled result made fit for ``audience`` (``public`` or ``partner``).

    * Datasets whose sharing level may not reach the audience are removed (``restricted`` never
      reaches a publishable output; ``partner`` only partner outputs), with a warning naming them.
    * Every count (kinds ``count`` and ``class``) is passed through the disclosure ``rule`` as one
      table per dataset, measure, level and period (areas × categories, with area, category and
      grand totals), so that no suppressed cell can be recovered from the totals of that table.
      ``value`` then holds the published number (missing where suppressed), ``value_published``
      the text (``"*"``), ``suppressed`` the flag. Values (rates, scores, ranks) pass unchanged.
    * Rejected rows (which hold partner records) are not part of a published output.

    Notes
    -----
    Secondary suppression protects each level's table; differencing *across* levels (a district
    total minus its other LSOAs) is not protected by ``lt5_secondary`` — publish one level per
    table, or use a rounding rule (``nhs_digital``, ``opensafely``), where rounding to 5 already
    blurs such differences.
    """
    from needskit.disclosure import apply_rules, filter_for_audience, publication_marking

    if audience == "internal":
        return result
    profile = result.profile
    if catalog is not None:
        profile = profile.assign(sharing=profile["dataset"].map(catalog.sharing()).fillna(profile["sharing"]))
    import warnings

    from needskit.errors import NeedskitWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        allowed = filter_for_audience(profile, audience=audience)
        counts = allowed[allowed["kind"] != "value"]
        values = allowed[allowed["kind"] == "value"]
        table_keys = ["dataset", "measure", "level", "period", "vintage", "kind", "sharing"]
        published, log = apply_rules(
            counts[["area_code", "category", "value"] + table_keys].reset_index(drop=True),
            rule=rule, rows="area_code", columns="category", by=table_keys, totals=False, allow_fractional=True,
        ) if rule != "lt5_secondary" else apply_rules(
            counts[["area_code", "category", "value"] + table_keys].reset_index(drop=True),
            rule=rule, rows="area_code", columns="category", by=table_keys, totals="both", allow_fractional=True,
        )
    published = published[~published["is_total"]].copy()
    published["value"] = pd.to_numeric(published["value_published"], errors="coerce").astype(float)
    published["area_name"] = _names(published, result.vintage, [])
    values = values.assign(value_published=values["value"].map(lambda v: f"{v:g}"), suppressed=False, disclosure_rule="none (not a count)")
    columns = PROFILE_COLUMNS + ["value_published", "suppressed", "disclosure_rule"]
    profile_out = pd.concat([published.reindex(columns=columns), values.reindex(columns=columns)], ignore_index=True)
    profile_out = profile_out.sort_values(["dataset", "level", "area_code", "measure", "category", "period"], ignore_index=True)
    profile_out.attrs["publication_marking"] = publication_marking(audience)
    return PoolResult(
        profile=profile_out, ledger=result.ledger, measure_ledger=result.measure_ledger.iloc[0:0], rejected={},
        problems=result.problems, level=result.level, vintage=result.vintage, audience=audience,
        disclosure_log=log, rule=rule, seconds=result.seconds, inputs=result.inputs,
    )


# ----------------------------------------------------------------------------------- writing


def summary_lines(result: PoolResult) -> list[str]:
    """A one-screen summary: per dataset, rows read / assigned / unlocated / rejected."""
    led = result.ledger.groupby("dataset", sort=False)[
        ["read", "assigned", "unlocated", "rejected_invalid", "rejected_outside"]
    ].sum()
    lines = [
        f"pooled {len(led)} datasets onto {result.level} {result.vintage} in {result.seconds:.1f} s "
        f"({result.audience} profile, {len(result.profile):,} rows)",
        f"{'dataset':<38}{'read':>9}{'assigned':>10}{'unlocated':>10}{'invalid':>9}{'outside':>9}",
    ]
    for name, row in led.iterrows():
        lines.append(
            f"{name:<38}{row['read']:>9,}{row['assigned']:>10,}{row['unlocated']:>10,}{row['rejected_invalid']:>9,}{row['rejected_outside']:>9,}"
        )
    warnings = sum(1 for p in result.problems if p.severity == "warning")
    lines.append(f"ledger balances for every dataset and period; {warnings} warnings (see problems.csv)")
    return lines



def wide_layers(profile: pd.DataFrame, *, vintage: int) -> dict[str, object]:
    """One wide GeoDataFrame per boundary level: a column per dataset, measure and category of
    the latest period (QGIS-friendly names, at most 63 characters)."""
    layers = {}
    for level in geo.BOUNDARY_LEVELS:
        part = profile[profile["level"] == level]
        if part.empty:
            continue
        latest = part.groupby(["dataset", "measure"])["period"].transform("max")
        part = part[part["period"] == latest]
        names = (
            part["dataset"]
            + "__"
            + part["measure"]
            + np.where(part["category"] == "all", "", "__" + part["category"])
        ).str.lower()
        names = names.str.replace(r"[^a-z0-9_]+", "_", regex=True).str.strip("_").str.slice(0, 63)
        wide = part.assign(column=names).pivot_table(
            index="area_code", columns="column", values="value", aggfunc="first"
        )
        areas = geo.load_areas(level, vintage=vintage)[["area_code", "area_name", "geometry"]]
        layers[f"{level}_{vintage}"] = areas.merge(wide, left_on="area_code", right_index=True, how="left")
    return layers


def write_pool(result: PoolResult, out: str | Path, *, catalog_path: Path | None = None) -> dict[str, Path]:
    """Write ``profile.parquet``, ``profile.gpkg``, ``ledger.csv``, ``ledger_measures.csv``,
    ``problems.csv``, ``rejected/<dataset>.csv.gz`` and ``pool_manifest.json`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "profile": out / "profile.parquet",
        "gpkg": out / "profile.gpkg",
        "ledger": out / "ledger.csv",
        "measures": out / "ledger_measures.csv",
        "problems": out / "problems.csv",
        "manifest": out / "pool_manifest.json",
    }
    profile = result.profile.copy()
    profile.attrs = {}
    profile.to_parquet(paths["profile"], index=False)
    if paths["gpkg"].exists():
        paths["gpkg"].unlink()
    for name, layer in wide_layers(result.profile, vintage=result.vintage).items():
        layer.to_file(paths["gpkg"], layer=name, driver="GPKG", engine="pyogrio")
    result.ledger.to_csv(paths["ledger"], index=False)
    result.measure_ledger.to_csv(paths["measures"], index=False)
    problems_frame(result.problems).to_csv(paths["problems"], index=False)
    rejected_dir = out / "rejected"
    rejected_dir.mkdir(exist_ok=True)
    for old in rejected_dir.glob("*.csv.gz"):
        old.unlink()
    for dataset, frame in result.rejected.items():
        frame.to_csv(
            rejected_dir / f"{dataset}.csv.gz", index=False, compression={"method": "gzip", "mtime": 0}
        )
    if result.disclosure_log is not None:
        paths["disclosure"] = out / "disclosure_log.csv"
        result.disclosure_log.to_csv(paths["disclosure"], index=False)
    manifest = {
        "level": result.level,
        "vintage": result.vintage,
        "audience": result.audience,
        "disclosure_rule": result.rule,
        "for_publication": result.audience != "internal",
        "catalog": str(catalog_path) if catalog_path else None,
        "seconds": round(result.seconds, 2),
        "inputs": [{"file": str(p), "sha256": sha256_file(p)} for p in result.inputs],
        "rows": int(len(result.profile)),
    }
    paths["manifest"].write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return paths
