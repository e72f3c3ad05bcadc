"""What a report reads: one area's slice of the store, for the report's audience.

:func:`load_context` opens the store (the internal one for internal reports, the published store
of the audience otherwise), checks that it is up to date with its inputs, and gathers for one
area — the partnership's area, a chapter, a ward, a neighbourhood or one of the partnership's own
places — its profile, its indicators against the chosen comparator, its neighbourhoods'
boundaries and the hierarchy. Reports never pool, compute indicators or apply disclosure: every
number comes from the store.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from needskit.config.project import Project, find_project
from needskit.errors import ReportError, StoreError
from needskit.needs.periods import period_kind
from needskit.partner_data.store import Store
from needskit.place.extent import ENGLAND
from needskit.place.geography import LEVELS, Geography

__all__ = [
    "ReportContext",
    "load_context",
    "open_store",
    "AUDIENCES",
    "AUDIENCE_WORDS",
    "select_period",
    "Note",
    "whole_area",
]

AUDIENCES = ("public", "partner", "internal")
AUDIENCE_WORDS = {
    "public": "for publication",
    "partner": "for partner organisations",
    "internal": "internal, not for publication",
}
"""How a report heading names its audience."""


@dataclass(frozen=True)
class Note:
    """A sentence shown where a figure would be, saying why it is not there (a notebook cell
    displays it as a paragraph; its text is escaped, never markup)."""

    text: str

    def _repr_markdown_(self) -> str:
        from needskit.safe_text import escape_markdown

        return escape_markdown(self.text)

    def _repr_html_(self) -> str:
        return f'<p class="not-available">{html.escape(self.text, quote=False)}</p>'

    def __str__(self) -> str:
        return self.text


@dataclass
class ReportContext:
    """Everything a report shows for one area, read from the store.

    Attributes
    ----------
    area_code, area_name, area_level
        The area (``area_level`` is the name of the place set for a partnership's own place).
    period
        The report period (the latest in the store unless asked).
    comparator, comparator_code, comparator_name
        The comparator kind (``parent``, ``england``, ``region``) and the area it is for this area.
    audience, rule, marking
        Who the report is for, the disclosure rule its store was published under (None for
        internal), and the publication marking.
    level
        Neighbourhood level of maps and tables.
    partnership
        The partnership's name.
    profile, results
        The store's profile and the indicators benchmarked against ``comparator``.
    neighbourhoods
        Polygons of the ``level`` areas inside the area.
    hierarchy
        The partnership's LSOAs and the areas they lie in.
    store, geography
        The store read, and the partnership's geography as the store holds it (for aggregating).
    unavailable
        Indicators that could not be made, id to ``title``, ``theme`` and ``reason`` (e.g. no
        police.uk files given yet): reports say so instead of leaving a blank.
    area_codes
        The codes of the partnership's area (``conf/partnership.yml``).
    """

    area_code: str
    area_name: str
    area_level: str
    period: str
    comparator: str
    comparator_code: str
    comparator_name: str
    audience: str
    rule: str | None
    marking: str
    level: str
    partnership: str
    profile: pd.DataFrame
    results: pd.DataFrame
    neighbourhoods: gpd.GeoDataFrame
    hierarchy: pd.DataFrame
    store: Store
    geography: Geography
    indicator_order: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    residents_dataset: str = "population_census2021"
    residents_measure: str | None = "usual_residents"
    deprivation_dataset: str | None = "iod2025_scores"
    seed: int = 20240401
    notes: list[str] = field(default_factory=list)
    unavailable: dict[str, dict[str, str]] = field(default_factory=dict)
    area_codes: list[str] = field(default_factory=list)

    @property
    def is_whole_area(self) -> bool:
        """True when the report is about the partnership's whole area: its code, or the place
        ``partnership`` of an area of several codes."""
        return bool(self.area_codes) and self.area_code == whole_area(
            "", {"area": {"codes": self.area_codes}}
        )

    @property
    def publish(self) -> str:
        """The audience (the name older notebooks used)."""
        return self.audience

    def info(self, indicator: str) -> pd.Series:
        """Title, statistic, polarity, unit and multiplier of an indicator of the store (for an
        indicator that could not be made, its title and theme, the rest empty).

        Raises
        ------
        ReportError
            The store has no such indicator.
        """
        hit = self.results["indicator"].eq(indicator).to_numpy(dtype=bool, na_value=False)
        if not hit.any() and indicator in self.unavailable:
            known = self.unavailable[indicator]
            return pd.Series(
                {
                    "indicator": indicator,
                    "title": known["title"],
                    "theme": known.get("theme", ""),
                    "statistic": "",
                    "polarity": "",
                    "unit": "",
                    "multiplier": float("nan"),
                }
            )
        if not hit.any():
            raise ReportError(
                "is not an indicator of the store",
                where=f"indicator {indicator!r}",
                expected=f"one of {sorted(self.results['indicator'].unique())}",
                hint="indicators are defined in conf/indicators.yml and computed by `needskit run`",
            )
        first = self.results.iloc[int(hit.argmax())]  # the first row, without filtering every row
        return first[["indicator", "title", "theme", "statistic", "polarity", "unit", "multiplier"]]

    def available(self, indicator: str) -> bool:
        """True when the store holds values of ``indicator`` (see :attr:`unavailable` for why not)."""
        return bool((self.results["indicator"] == indicator).any())

    def unavailable_note(self, indicator: str) -> str:
        """One sentence saying that an indicator is not available and why."""
        known = self.unavailable.get(indicator)
        if known:
            return f"{known['title']}: not available, {known['reason']}."
        return f"{indicator}: not available, it is not an indicator of the store (conf/indicators.yml)."

    def source_text(self, datasets: str | Sequence[str]) -> str:
        """The titles of datasets as readers know them (the store's ``sources``: "GP practices
        (NHS ODS epraccur)"), for a caption; a dataset the store does not list is named by its id.

        Parameters
        ----------
        datasets
            Dataset ids, or the ``sources`` text of an indicator (ids separated by commas).
        """
        ids = [d.strip() for d in datasets.split(",")] if isinstance(datasets, str) else list(datasets)
        known = {str(r.get("dataset")): str(r.get("title")) for r in self.store.manifest().get("sources", [])}
        return "; ".join(dict.fromkeys(known.get(d, d) for d in ids if d))

    @property
    def datasets(self) -> list[str]:
        return sorted(set(self.profile["dataset"]))


def open_store(
    *, audience: str = "internal", store: str | Path | None = None, project: Project | None = None
) -> tuple[Store, Store]:
    """The store a report for ``audience`` reads, and the internal store (to check freshness).

    ``store`` is the internal store's folder (default ``<project>/data/processed``); published
    stores are in ``published/<audience>`` next to it (``<project>/data/published/<audience>``).
    """
    if audience not in AUDIENCES:
        raise ReportError(
            "unknown audience", where="audience", expected=f"one of {list(AUDIENCES)}", got=repr(audience)
        )
    proj = project or find_project()
    internal_path = proj.resolve(store) if store else proj.store
    internal = Store(internal_path, root=proj.root)
    if audience == "internal":
        return internal, internal
    published = (
        proj.published(audience)
        if internal_path == proj.store
        else internal_path.parent / "published" / audience
    )
    return Store(published, root=proj.root), internal


def select_period(results: pd.DataFrame, period: str) -> pd.DataFrame:
    """Per indicator, the period a report for ``period`` shows: the latest of the same kind
    (half-year, quarter, year; months only for a monthly period) not after ``period``,
    preferring a combined span (``2024-01/2024-04``) that ends there. Indicators with a single
    period (a census, an index) are shown whatever their date.

    Returns the rows of ``results`` (same order, index and columns) of the chosen periods. The
    choice depends only on which (indicator, period) pairs the frame holds, so it is made on those
    pairs and the rows are then taken once (a store holds a few hundred pairs and 10^5 rows)."""
    if results.empty:
        return results
    indicator_codes, indicators = pd.factorize(results["indicator"], use_na_sentinel=False)
    period_codes, periods = pd.factorize(results["period"], use_na_sentinel=False)
    pair_codes = indicator_codes.astype(np.int64) * len(periods) + period_codes
    unique_pairs, first = np.unique(pair_codes, return_index=True)
    pairs = results[["indicator", "period"]].iloc[first].reset_index(drop=True)
    pairs["code"] = unique_pairs
    kind = period_kind(period)
    if kind not in (None, "month"):  # a half-year report shows a series' half-years, not its months
        kinds = pairs["period"].map(period_kind)
        series = set(pairs.loc[kinds == kind, "indicator"])
        pairs = pairs[~((kinds == "month") & pairs["indicator"].isin(series))]
    span = pairs["period"].str.contains("/")
    singles = pairs[~span].groupby("indicator")["period"].nunique()
    snapshot = pairs["indicator"].map(singles).fillna(0) <= 1  # one period only: always shown
    end = pairs["period"].str.split("/").str[-1].where(~snapshot, "")
    eligible = pairs[end <= period].copy()
    eligible["_end"] = end[end <= period]
    eligible["_span"] = span[end <= period]
    best = eligible.sort_values(["indicator", "_end", "_span"]).groupby("indicator")[["_end", "_span"]].last()
    key = eligible["indicator"].map(best["_end"]).eq(eligible["_end"]) & eligible["indicator"].map(
        best["_span"]
    ).eq(eligible["_span"])
    return results[np.isin(pair_codes, eligible.loc[key, "code"].to_numpy())]


def whole_area(area: str | None, manifest: dict) -> str:
    """``area`` as asked, or for ``""``/``"partnership"`` the partnership's whole area: its code,
    or the place ``partnership`` of an area of several codes (four unitaries, say)."""
    codes = list(manifest.get("area", {}).get("codes", []))
    if area in (None, "", "partnership") and codes:
        return codes[0] if len(codes) == 1 else "partnership"
    return str(area or "")


def _names(hierarchy: pd.DataFrame) -> dict[str, str]:
    names = {ENGLAND: "England"}
    for level in LEVELS:
        pairs = hierarchy[[level, f"{level}_name"]].dropna().drop_duplicates(level)
        names.update(zip(pairs[level], pairs[f"{level}_name"], strict=True))
    return names


def load_context(
    *,
    area: str = "",
    period: str | None = None,
    comparator: str = "parent",
    level: str = "lsoa",
    audience: str = "public",
    store: str | Path | None = None,
    project: str | Path | None = None,
    seed: int = 20240401,
    check: bool = True,
) -> ReportContext:
    """Gather a report's data for ``area`` from the store.

    Parameters
    ----------
    area
        An area code inside the partnership (its area, a chapter, a ward, an LSOA) or the code
        of one of its own places (``conf/places.yml``). Empty (or ``"partnership"``): the
        partnership's whole area (its code, or the place ``partnership`` of an area of several
        codes).
    period
        Report period, or None / ``"latest"`` for the latest in the store.
    comparator
        A comparator kind the store holds (``parent``, ``england``, ``region``).
    level
        Neighbourhood level of maps and tables (not above the area's level).
    audience
        ``public`` and ``partner`` read the published store of that audience; ``internal`` the
        internal store.
    store, project
        The internal store's folder and the project (found from the working folder by default).
    seed
        Seed for anything random (permutation tests).
    check
        Refuse a store that is older than its inputs (default).

    Raises
    ------
    StoreError
        No store, or a store older than its inputs (one line, with the command to run).
    ReportError
        An area that is not in the store, a comparator it does not hold, a level above the
        area's, a period outside the data.
    """
    proj = find_project(project) if project is not None else find_project()
    reading, internal = open_store(audience=audience, store=store, project=proj)
    if check:
        if audience != "internal" and not reading.exists():
            raise StoreError(
                f"no {audience} store",
                where=str(reading.path),
                hint="run `needskit publish` (or `needskit run`) to publish the store for this audience",
            )
        reading.check_fresh(internal=internal if audience != "internal" else None)
        if audience != "internal":
            internal.check_fresh()
    manifest = reading.manifest()
    hierarchy = reading.read_hierarchy()
    profile = reading.read_profile()
    stored = manifest["stages"]["indicators"].get("comparators", [])
    if comparator not in stored:
        raise ReportError(
            "is not a comparator the store holds",
            where=f"comparator {comparator!r}",
            expected=f"one of {stored}",
            hint="add it to comparators: in conf/partnership.yml and run `needskit run`",
        )
    results = reading.read_indicators(comparator=comparator)
    area = whole_area(area, manifest)
    names = _names(hierarchy)
    members: list[str] = []
    # a unitary is a district and a county at once: it is reported as the county (compared with
    # its region or England), and its rows as a district (its own parent) are left out
    unitaries = set(hierarchy["district"]) & set(hierarchy["county"])
    results = results[~((results["level"] == "district") & results["area_code"].isin(unitaries))]
    if "level" in profile.columns:
        profile = profile[~((profile["level"] == "district") & profile["area_code"].isin(unitaries))]
    area_level = next((lv for lv in reversed(LEVELS) if (hierarchy[lv] == area).any()), None)
    if area_level is not None:
        area_name = names.get(area, area)
    else:
        places = reading.read_place_members()
        hit = places[places["area_code"] == area]
        if hit.empty:
            raise ReportError(
                "is not an area of the partnership",
                where=f"area {area!r}",
                expected="a code of an area inside "
                f"{manifest.get('area', {}).get('area_name', 'the partnership')} "
                "or of a place of conf/places.yml",
                got=repr(area),
                hint=f"chapters: {', '.join(manifest.get('area', {}).get('chapters', []))}",
            )
        area_level = str(hit["level"].iloc[0])
        members = sorted(hit.loc[hit["weight"] > 0, "lsoa_code"])
        outline = reading.read_areas("places")
        area_name = str(outline.loc[outline["area_code"] == area, "area_name"].iloc[0])
    if level not in LEVELS or (area_level in LEVELS and LEVELS.index(level) > LEVELS.index(area_level)):
        raise ReportError(
            f"is above the area's level ({area_level})" if level in LEVELS else "unknown level",
            where=f"level {level!r}",
            expected="a level the area divides into: "
            f"{list(LEVELS[: LEVELS.index(area_level) + 1]) if area_level in LEVELS else ['lsoa']}",
            got=repr(level),
        )
    available = reading.periods()
    if period in (None, "", "latest"):
        period = max(p.split("/")[-1] for p in available) if available else ""
    if available and not any(p.split("/")[-1] <= period for p in available):
        raise ReportError(
            "no data for that period",
            where="period",
            expected=f"a period from {available[0]} to {available[-1]}",
            got=repr(period),
        )
    own = results[results["area_code"] == area]
    comparator_code = (
        str(own["comparator_code"].dropna().iloc[0]) if own["comparator_code"].notna().any() else ENGLAND
    )
    if members:
        codes = (
            set(members) if level == "lsoa" else set(hierarchy.loc[hierarchy["lsoa"].isin(members), level])
        )
    else:
        codes = set(hierarchy.loc[hierarchy[area_level] == area, level])
    neighbourhoods = reading.read_areas(level)
    neighbourhoods = neighbourhoods[neighbourhoods["area_code"].isin(codes)].reset_index(drop=True)
    partnership = manifest.get("partnership", {})
    residents = partnership.get("residents") or {}
    deprivation = partnership.get("deprivation") or {}
    return ReportContext(
        area_code=area,
        area_name=area_name,
        area_level=area_level,
        period=str(period),
        comparator=comparator,
        comparator_code=comparator_code,
        comparator_name=names.get(comparator_code, comparator_code),
        audience=audience,
        rule=manifest.get("disclosure_rule"),
        marking=manifest.get("publication_marking", "OFFICIAL — internal, not for publication"),
        level=level,
        partnership=partnership.get("name", ""),
        profile=profile,
        results=results,
        neighbourhoods=neighbourhoods,
        hierarchy=hierarchy,
        store=reading,
        geography=reading.geography(),
        indicator_order=list(manifest["stages"]["indicators"].get("indicators", [])),
        members=members,
        residents_dataset=residents.get("dataset", "population_census2021"),
        residents_measure=residents.get("measure"),
        deprivation_dataset=deprivation.get("dataset"),
        seed=seed,
        unavailable={k: dict(v) for k, v in manifest["stages"]["indicators"].get("unavailable", {}).items()},
        area_codes=[str(c) for c in manifest.get("area", {}).get("codes", [])],
    )
