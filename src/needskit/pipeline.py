"""One pipeline, one store: pool → indicators → publish, for the partnership of a project.

:func:`open_workspace` reads the project's configuration once (partnership, catalogue) and builds
its reference geography (files read lazily). Each step then reads and writes the store:

* :func:`pool` — every catalogue dataset onto the partnership's LSOAs and places: profile,
  ledger, rejected rows, the partnership's geography and the resource register;
* :func:`compute` — every indicator of ``conf/indicators.yml`` for every area and period,
  benchmarked against each comparator of ``conf/partnership.yml``;
* :func:`publish` — the one disclosure step: a published store per audience.

:func:`run` does all three. Reports and notebooks only read what these write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import pandas as pd

from needskit.config.catalog import Catalog, load_catalog
from needskit.config.indicators import load_indicators
from needskit.config.partnership import Partnership, load_partnership
from needskit.config.places import load_places
from needskit.config.project import Project, find_project
from needskit.disclosure import describe_rule, publication_marking
from needskit.disclosure.publish import allowed_datasets
from needskit.disclosure.publish import publish as publish_frames
from needskit.disclosure.sharing import Audience
from needskit.errors import GeographyError
from needskit.needs.benchmarking import benchmark_all
from needskit.needs.indicators import compute_indicators
from needskit.needs.periods import period_table, series_datasets, to_analysis_periods
from needskit.partner_data.pooling import PoolResult, pool_catalog
from needskit.partner_data.reference import load_geography, postcode_table_inputs
from needskit.partner_data.stages import write_indicators_stage, write_pool_stage, write_published_stage
from needskit.partner_data.store import Store
from needskit.place.areas import load_areas
from needskit.place.custom import build_places, places_from_lsoas
from needskit.place.extent import ENGLAND, PartnershipArea, resolve_area
from needskit.place.geography import BOUNDARY_LEVELS, CustomPlaces, Geography
from needskit.resources.access import lsoa_centres

__all__ = [
    "Workspace",
    "open_workspace",
    "pool",
    "compute",
    "publish",
    "export_geopackage",
    "run",
    "INDICATOR_LEVELS",
    "PARTNERSHIP_PLACE",
]

INDICATOR_LEVELS = ("lsoa", "ward", "district", "county")
"""Levels whose indicators are also written as ``indicators_<level>.csv`` for analysts."""
PARTNERSHIP_PLACE = "partnership"
"""The code (and level) of the whole area of a partnership of several codes (four unitaries, a
county and a unitary): ``needskit report needs-profile --area partnership``."""


@dataclass
class Workspace:
    """A partnership's configuration, geography and store, read once.

    Attributes
    ----------
    project
        The project folder and its files.
    partnership, catalog
        ``conf/partnership.yml`` and ``conf/catalog.yml``, checked.
    geography
        The reference geography (lookups, boundaries, postcodes, populations).
    store
        The internal store (``data/processed`` unless moved with ``store=``).
    """

    project: Project
    partnership: Partnership
    catalog: Catalog
    geography: Geography
    store: Store
    _area: PartnershipArea | None = field(default=None, repr=False)

    @property
    def area(self) -> PartnershipArea:
        """The partnership's area resolved in its geography (chapters, LSOAs, regions)."""
        if self._area is None:
            self._area = resolve_area(self.partnership, self.geography)
        return self._area

    def published(self, audience: str) -> Store:
        """The published store for ``audience``, next to the internal one."""
        base = (
            self.project.published(audience)
            if self.store.path == self.project.store
            else self.store.path.parent / "published" / audience
        )
        return Store(base, root=self.project.root)

    def places(self, places_file: str | Path | None = None) -> list[CustomPlaces]:
        """The partnership's own places (``conf/places.yml`` by default; none when it is absent
        or lists none) and, for an area of several codes, the whole area as the place
        ``partnership`` (:data:`PARTNERSHIP_PLACE`), so that it has indicators and a report."""
        path = self.project.resolve(places_file) if places_file else self.project.places_file
        out = []
        if path.is_file() or places_file:
            placeset = load_places(path)  # raises when a file named does not exist
            if placeset.places:
                out.append(build_places(placeset, geography=self.geography))
        if len(self.partnership.areas) > 1:
            whole = places_from_lsoas(
                {PARTNERSHIP_PLACE: sorted(self.area.lsoas())},
                geography=self.geography,
                name=PARTNERSHIP_PLACE,
                vintage=self.area.vintage,
            )
            out.append(replace(whole, areas=whole.areas.assign(area_name=self.area.area_name)))
        return out


def open_workspace(
    project: Project | str | Path | None = None,
    *,
    store: str | Path | None = None,
    catalog: str | Path | None = None,
) -> Workspace:
    """Read a project's partnership and catalogue and build its geography.

    Parameters
    ----------
    project
        A :class:`~needskit.config.Project`, a folder, or None (found from the working folder,
        ``NEEDSKIT_PROJECT``, or the checkout: :func:`needskit.config.find_project`).
    store
        Another folder for the internal store (default ``<project>/data/processed``).
    catalog
        Another catalogue file (default ``<project>/conf/catalog.yml``).

    Raises
    ------
    CatalogError
        No project, or malformed configuration (file, key and line named).
    """
    if isinstance(project, Project):
        proj = project
    elif project is not None and (Path(project) / "conf" / "partnership.yml").is_file():
        proj = Project(Path(project).resolve())
    else:
        proj = find_project(project)
    partnership = load_partnership(proj.partnership_file)
    cat = load_catalog(proj.resolve(catalog) if catalog else proj.catalog_file)
    geography = load_geography(cat, partnership)
    folder = proj.resolve(store) if store else proj.store
    return Workspace(proj, partnership, cat, geography, Store(folder, root=proj.root))


def _boundaries(ws: Workspace) -> dict[str, gpd.GeoDataFrame]:
    """The partnership's areas of each level that has boundaries."""
    out = {}
    vintage = ws.area.vintage
    for level in BOUNDARY_LEVELS:
        if not ws.geography.has_boundaries(level, vintage):
            continue
        try:
            out[level] = load_areas(
                level, geography=ws.geography, vintage=vintage, within=list(ws.partnership.areas)
            )
        except GeographyError:
            continue
    return out


def pool(
    ws: Workspace,
    *,
    places_file: str | Path | None = None,
    datasets: Sequence[str] | None = None,
    progress: bool | None = None,
    echo: Callable[[str], None] | None = None,
) -> PoolResult:
    """Pool every catalogue dataset into the store (see :func:`needskit.partner_data.pool_catalog`).

    The store is written even when some datasets have error-level problems (they are in
    ``problems.csv`` and ``result.errors``; the command line exits non-zero).
    """
    places = ws.places(places_file)
    result = pool_catalog(
        ws.catalog,
        area=ws.area,
        geography=ws.geography,
        places=places,
        datasets=datasets,
        progress=progress,
        echo=echo,
    )
    areas = _boundaries(ws)
    postcodes = ws.geography.postcodes() if ws.geography.has_postcodes() else None
    if postcodes is not None and "terminated" in postcodes.columns:
        postcodes = postcodes[~postcodes["terminated"].fillna(False).astype(bool)]  # where people live now
    centres = lsoa_centres(areas["lsoa"], postcodes=postcodes) if "lsoa" in areas else None
    tables, table_patterns = postcode_table_inputs(ws.catalog, ws.partnership)
    result.inputs = sorted(set(result.inputs) | set(tables))
    config = [ws.project.partnership_file, ws.catalog.path or ws.project.catalog_file]
    if places:
        config.append(ws.project.resolve(places_file) if places_file else ws.project.places_file)
    config_files = [Path(p) for p in config]
    # globs, and the paths of optional datasets with no files yet: a file appearing there later
    # makes the store stale
    patterns = [
        spec.path
        for spec in ws.catalog.select(list(datasets) if datasets else None)
        if any(ch in spec.path for ch in "*?[") or spec.id in result.missing
    ]
    patterns += [p for p in table_patterns if p not in patterns]
    write_pool_stage(
        ws.store,
        result,
        areas=areas,
        centres=centres,
        partnership=ws.partnership.describe(),
        config_files=config_files,
        patterns=patterns,
    )
    return result


def _members(hierarchy: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Which LSOAs make up each area of each level (and each place): ``lsoa``, ``area_code``, ``level``."""
    parts = [
        pd.DataFrame({"lsoa": hierarchy["lsoa"], "area_code": hierarchy[level], "level": level})
        for level in BOUNDARY_LEVELS
        if level in hierarchy.columns
    ]
    if len(places):
        parts.append(
            places.loc[places["weight"] > 0, ["lsoa_code", "area_code", "level"]].rename(
                columns={"lsoa_code": "lsoa"}
            )
        )
    return pd.concat(parts, ignore_index=True).dropna().drop_duplicates()


def place_parents(hierarchy: pd.DataFrame, places: pd.DataFrame) -> dict[str, str]:
    """Each of the partnership's places and its comparator: the county its LSOAs lie in; for a
    place across counties (the whole area of a partnership of several unitaries), its region;
    across regions, England."""
    if not len(places):
        return {}
    table = hierarchy.set_index("lsoa")
    frame = places.assign(
        county=places["lsoa_code"].map(table["county"]), region=places["lsoa_code"].map(table["region"])
    ).dropna(subset=["county"])
    out = {}
    for code, group in frame.groupby("area_code"):
        if group["county"].nunique() == 1:
            out[str(code)] = str(group["county"].iloc[0])
        elif group["region"].nunique() == 1:
            out[str(code)] = str(group["region"].iloc[0])
        else:
            out[str(code)] = ENGLAND
    return out


def compute(
    ws: Workspace, *, indicators_file: str | Path | None = None, levels: Sequence[str] = INDICATOR_LEVELS
) -> dict[str, tuple[Path, int, int]]:
    """Compute and benchmark every indicator from the store's profile; write the indicators stage.

    Returns
    -------
    ``{level: (csv path, rows, indicators)}`` for the CSV levels.
    """
    path = ws.project.resolve(indicators_file) if indicators_file else ws.project.indicators_file
    specs = load_indicators(path, catalog=ws.catalog)
    monthly = ws.store.read_profile()
    # monthly series (police.uk) are summed into the partnership's analysis periods (half-years);
    # the months stay too, for monthly SPC charts
    profile = to_analysis_periods(monthly, kind=ws.partnership.period, keep_months=True)
    series = series_datasets(monthly)
    months = monthly.loc[monthly["dataset"].isin(series), "period"].astype(str).unique()
    periods = period_table(months, kind=ws.partnership.period)
    hierarchy = ws.store.read_hierarchy()
    places = ws.store.read_place_members()
    missing = ws.store.stage("pool").get("missing", {})
    unavailable: dict[str, dict[str, str]] = {}
    available = []
    for spec in specs:
        gone = [d for d in spec.sources if d in missing]
        if gone:
            unavailable[spec.id] = {"title": spec.title, "theme": spec.theme, "reason": missing[gone[0]]}
        else:
            available.append(spec)
    results = compute_indicators(profile, indicators=available, members=_members(hierarchy, places))
    made = set(results["indicator"])
    for spec in available:
        if spec.id not in made:
            unavailable[spec.id] = {
                "title": spec.title,
                "theme": spec.theme,
                "reason": _why_no_values(ws.store, spec.sources),
            }
    benchmarked = benchmark_all(
        results,
        hierarchy=hierarchy,
        comparators=ws.partnership.comparators,
        place_parents=place_parents(hierarchy, places),
    )
    return write_indicators_stage(
        ws.store,
        benchmarked,
        config_files=[path],
        levels=levels,
        order=[s.id for s in specs],
        unavailable=unavailable,
        periods={"kind": ws.partnership.period, "series": series, "table": periods.to_dict("records")},
    )


def _why_no_values(store: Store, sources: Sequence[str]) -> str:
    """Why an indicator has no values: a source none of whose rows was placed in the area, with
    the commonest reason its rows were not (and the hint), else the sources named."""
    ledger = store.read_ledger()
    problems = store.read_problems()
    for dataset in sources:
        rows = ledger[ledger["dataset"] == dataset]
        if len(rows) and rows["assigned"].sum() == 0:
            found = problems[(problems["dataset"] == dataset) & (problems["severity"] != "info")]
            if len(found):
                top = found.sort_values("count", ascending=False).iloc[0]
                hint = top["hint"] if isinstance(top["hint"], str) and top["hint"] else ""
                return f"{top['what']} for {dataset}" + (f" ({hint})" if hint else "")
            return f"no row of {dataset} lies in the partnership's area"
    return f"the pooled data give no values for it ({', '.join(sources)})"


def _relations_of(ws: Workspace) -> tuple[pd.DataFrame, tuple]:
    """What the attacker of a published store knows of how its figures add up: which
    neighbourhoods make up each area and place, and the indicator definitions the store's
    indicators were computed with."""
    from needskit.disclosure.audit import membership

    members = membership(ws.store.read_hierarchy(), ws.store.read_place_members())
    specs: tuple = ()
    for record in ws.store.stage("indicators").get("config", []):
        path = ws.project.root / record["file"]
        if path.suffix in (".yml", ".yaml") and path.is_file():
            specs = tuple(load_indicators(path, catalog=ws.catalog))
            break
    return members, specs


def audit(ws: Workspace, *, audience: str = "public") -> tuple[Any, pd.DataFrame]:
    """Attack the published store for ``audience`` as an outsider would
    (:mod:`needskit.disclosure.audit`) and return the counts attacked (their relations) and the
    withheld counts it works out (none, when the publish step did its job)."""
    from needskit.disclosure.audit import attack_store, store_cells

    published = ws.published(audience)
    published.check_fresh(internal=ws.store)
    members, specs = _relations_of(ws)
    rule = str(published.manifest().get("disclosure_rule") or ws.partnership.disclosure_rule)
    cells = store_cells(
        published.read_profile(),
        published.read_indicators(),
        members=members,
        specs=specs,
        truth_profile=ws.store.read_profile(),
        truth_indicators=ws.store.read_indicators(),
        rule=rule,
    )
    return cells, attack_store(cells, rule=rule)


def publish(
    ws: Workspace, *, audiences: Sequence[str] | None = None, rule: str | None = None
) -> dict[str, Store]:
    """Apply disclosure control once per audience and write the published stores.

    The rule set is the partnership's (``disclosure.rule``) unless ``rule`` names another; the
    audiences are the partnership's (``disclosure.audiences``) unless given.
    """
    rule = rule or ws.partnership.disclosure_rule
    sharing = {spec.id: spec.sharing for spec in ws.catalog}
    profile = ws.store.read_profile()
    indicators = ws.store.read_indicators()
    ledger = ws.store.read_ledger()
    register = {t: ws.store.read_register(t) for t in ("services", "spend", "catchments")}
    sources = pd.DataFrame(ws.store.manifest().get("sources", []))
    members, specs = _relations_of(ws)
    written = {}
    for audience in audiences or ws.partnership.audiences:
        published = publish_frames(
            profile=profile,
            indicators=indicators,
            ledger=ledger,
            register=register,
            sharing=sharing,
            audience=audience,
            rule=rule,
            members=members,
            specs=specs,
        )
        allowed = allowed_datasets(sharing, audience=audience)
        target = ws.published(audience)
        write_published_stage(
            target,
            source=ws.store,
            profile=published.profile,
            indicators=published.indicators,
            ledger=published.ledger,
            register=published.register,
            # the datasets the audience may see, and the open reference rows (boundaries)
            sources=sources[sources["dataset"].isin(allowed) | ~sources["dataset"].isin(list(sharing))]
            if len(sources)
            else sources,
            disclosure_log=published.log,
            audience=audience,
            rule=rule,
            rule_text=describe_rule(rule),
            marking=publication_marking(cast(Audience, audience)),  # publish_frames checked it
        )
        _add_geopackage(target)
        written[audience] = target
    return written


def _add_geopackage(published: Store) -> None:
    """Write the QGIS-ready GeoPackage into a published store (one more atomic stage)."""
    from needskit.reports.geopackage import GEOPACKAGE, geopackage_content, write_geopackage

    content = geopackage_content(published)
    with published.transaction("geopackage") as tmp:
        write_geopackage(content, tmp / GEOPACKAGE)


def export_geopackage(
    ws: Workspace, *, audience: str = "public", out: str | Path | None = None, period: str | None = None
) -> tuple[Path, Any]:
    """Write the QGIS-ready GeoPackage of the published store for ``audience`` to ``out``
    (default ``reports/geopackage/indicators-<audience>-<period>.gpkg``; a folder gets that
    name inside it), for the analysis ``period`` (default: the latest complete one).

    Returns
    -------
    (Path, GeoPackageContent)
        The file written and what it holds (:mod:`needskit.reports.geopackage`).

    Raises
    ------
    StoreError
        No published store for ``audience``, or one older than the internal store.
    ReportError
        ``out`` is not a ``.gpkg`` file.
    """
    from needskit.errors import ReportError
    from needskit.reports.geopackage import geopackage_content, write_geopackage

    given = Path(out) if out is not None else None
    if given is not None and not given.is_dir() and given.suffix.lower() != ".gpkg":
        raise ReportError(
            "is not a GeoPackage file name",
            where=f"--out {out}",
            expected="a path ending .gpkg, or a folder",
            got=given.name,
            hint=f"e.g. --out {given.with_suffix('.gpkg').name}",
        )
    published = ws.published(audience)
    published.check_fresh(internal=ws.store)
    content = geopackage_content(published, period=period)
    name = f"indicators-{audience}-{content.period}.gpkg"
    target = ws.project.reports / "geopackage" / name if given is None else given
    if target.is_dir():
        target = target / name
    return write_geopackage(content, target), content


def run(
    ws: Workspace,
    *,
    places_file: str | Path | None = None,
    indicators_file: str | Path | None = None,
    audiences: Sequence[str] | None = None,
    progress: bool | None = None,
    echo: Callable[[str], None] | None = None,
) -> PoolResult:
    """:func:`pool`, :func:`compute` and :func:`publish` in turn, printing what each wrote."""
    say = echo or (lambda _line: None)
    started = time.perf_counter()
    result = pool(ws, places_file=places_file, progress=progress, echo=echo)
    written = compute(ws, indicators_file=indicators_file)
    for level, (path, n_rows, n_ind) in written.items():
        say(f"indicators ({level}): {n_ind} indicators, {n_rows:,} rows -> {path}")
    for audience, store in publish(ws, audiences=audiences).items():
        say(f"published ({audience}, {ws.partnership.disclosure_rule}): {store.path}")
    say(f"store: {ws.store.path} ({time.perf_counter() - started:.1f} s)")
    return result
