"""The partner data catalogue: every dataset described once (``conf/catalog.yml``).

kedro-catalog style: one entry per dataset saying who owns it, which theme it serves, where the
files are, which adapter reads them, where its records are (points, postcodes, area codes),
which period they cover, what to pool (counts, sums, values, split by categories), its licence,
its **sharing level** (``open``, ``partner``, ``restricted``), the information-sharing
agreement, refresh cadence and last update.

This is the only module that reads configuration. A malformed entry raises
:class:`~needskit.errors.CatalogError` naming the file, the entry and the key.

Example entry::

    police_street:
      title: Street-level crime and anti-social behaviour
      partner: Gloucestershire Constabulary
      theme: safer_stronger_communities
      path: data/raw/police/*-gloucestershire-street.csv.gz
      format: police_uk
      geography: {kind: points, x: Longitude, y: Latitude, crs: "EPSG:4326"}
      period: {column: Month, format: "%Y-%m", range: ["2024-01", "2024-04"]}
      record_id: Crime ID
      measures:
        - {name: crimes, count: rows, category: Crime type}
      licence: OGL-3.0
      sharing: open
      refresh: monthly
      last_updated: 2024-05-30
"""

from __future__ import annotations

import glob
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from needskit.errors import CatalogError

__all__ = [
    "THEMES",
    "SHARING_LEVELS",
    "FORMATS",
    "GeographySpec",
    "PeriodSpec",
    "MeasureSpec",
    "ScopeFilter",
    "DatasetSpec",
    "ReferenceSpec",
    "Catalog",
    "load_catalog",
    "parse_catalog",
    "load_places",
    "TermSpec",
    "IndicatorSpec",
    "load_indicators",
    "parse_indicators",
]

THEMES = {
    "children_young_people": "Children and young people",
    "safer_stronger_communities": "Safer and stronger communities",
    "health_older_people": "Healthier communities and older people",
    "economy_skills": "Economic development, enterprise and skills",
    "housing_environment": "Housing and environment",
    "cross_cutting": "Cross-cutting (population, deprivation, geography)",
}
"""The Local Area Agreement blocks the partnership papers use, plus cross-cutting context."""

SHARING_LEVELS = ("open", "partner", "restricted")
FORMATS = ("police_uk", "ods", "ons_table", "ons_mye", "csv", "excel", "gpkg", "parquet")
ROLES = ("partner", "denominator", "context")
GEOGRAPHY_KINDS = ("points", "postcode", "area_code", "polygons")
MEASURE_KINDS = ("count", "value", "class")
AGGREGATES = ("sum", "none", "mean", "min", "max", "population_weighted_mean")
FILTER_OPS = ("in", "not_in", "equals", "not_equals", "startswith", "matches", "not_null")
_LEVELS = ("lsoa", "msoa", "ward", "district", "county", "region", "country")


@dataclass(frozen=True)
class GeographySpec:
    """Where a dataset's records are."""

    kind: str
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    postcode: str | None = None
    column: str | None = None
    level: str | None = None
    vintage: int | None = None


@dataclass(frozen=True)
class PeriodSpec:
    """Which period each record belongs to: a column (with a date format) or one fixed value."""

    column: str | None = None
    format: str | None = None
    value: str | None = None
    range: tuple[str, str] | None = None


@dataclass(frozen=True)
class MeasureSpec:
    """What to pool from each record.

    ``count: rows`` counts records; ``column`` sums (kind ``count``) or carries (kind ``value``)
    a numeric column; ``columns`` is a regular expression selecting several columns at once
    (each becomes a measure named after it); ``category`` splits by a column's values; kind
    ``class`` counts areas by a categorical column (e.g. rural-urban class).
    """

    name: str | None = None
    column: str | None = None
    columns: str | None = None
    count_rows: bool = False
    category: str | None = None
    kind: str = "count"
    aggregate: str = "sum"
    unit: str | None = None


@dataclass(frozen=True)
class ScopeFilter:
    """Rows failing a scope filter are outside the partnership's scope (recorded, not pooled)."""

    column: str
    op: str
    value: Any = None
    reason: str = "outside scope"


@dataclass(frozen=True)
class DatasetSpec:
    id: str
    title: str
    partner: str
    theme: str
    path: str
    format: str
    geography: GeographySpec
    period: PeriodSpec
    measures: tuple[MeasureSpec, ...]
    licence: str
    sharing: str
    refresh: str
    last_updated: str
    role: str = "partner"
    isa: str | None = None
    record_id: str | None = None
    scope: tuple[ScopeFilter, ...] = ()
    comparators: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    attribution: tuple[str, ...] = ()
    description: str = ""
    notes: str = ""
    illustrative: bool = False
    max_invalid: float = 0.01
    root: Path = Path(".")
    source: str = "catalog"

    def files(self) -> list[Path]:
        """The files the path (a glob) names, sorted."""
        pattern = self.path if Path(self.path).is_absolute() else str(self.root / self.path)
        return [Path(p) for p in sorted(glob.glob(pattern))]


@dataclass(frozen=True)
class ReferenceSpec:
    """A shipped file that is not pooled (boundaries, lookups), listed for provenance."""

    id: str
    title: str
    path: str
    publisher: str
    licence: str
    attribution: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Catalog:
    datasets: tuple[DatasetSpec, ...]
    reference: tuple[ReferenceSpec, ...] = ()
    path: Path | None = None
    name: str = "catalogue"

    def __getitem__(self, dataset_id: str) -> DatasetSpec:
        for spec in self.datasets:
            if spec.id == dataset_id:
                return spec
        raise CatalogError(
            "no such dataset",
            where=str(self.path or self.name),
            expected=f"one of {[d.id for d in self.datasets]}",
            got=repr(dataset_id),
        )

    def __iter__(self):
        return iter(self.datasets)

    def __len__(self) -> int:
        return len(self.datasets)

    def select(self, ids: list[str] | None) -> Catalog:
        if not ids:
            return self
        return Catalog(tuple(self[i] for i in ids), self.reference, self.path, self.name)

    def sharing(self) -> dict[str, str]:
        return {d.id: d.sharing for d in self.datasets}


# ------------------------------------------------------------------------------------- parsing


class _Entry:
    """A mapping being read, which knows where it is for error messages."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise CatalogError(
                "is not a mapping", where=where, expected="key: value pairs", got=type(data).__name__
            )
        self.data = dict(data)
        self.where = where
        self.used: set[str] = set()

    def get(
        self, key: str, default: Any = None, *, required: bool = False, kind: type | tuple = object
    ) -> Any:
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                raise CatalogError(
                    f"missing required key {key!r}",
                    where=self.where,
                    expected=f"{key}: ...",
                    got=f"keys {sorted(self.data)}",
                )
            return default
        value = self.data[key]
        if kind is not object and not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise CatalogError(
                f"{key!r} has the wrong type", where=self.where, expected=names, got=f"{value!r}"
            )
        return value

    def choice(self, key: str, choices, default: Any = None, *, required: bool = False) -> Any:
        value = self.get(key, default, required=required)
        if value is not None and value not in choices:
            raise CatalogError(
                f"{key!r} is not a known value",
                where=self.where,
                expected=f"one of {list(choices)}",
                got=repr(value),
            )
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise CatalogError(
                f"unknown key{'s' if len(unknown) > 1 else ''} {unknown}",
                where=self.where,
                expected=f"keys among {sorted(self.used)}",
                hint="check the spelling (keys are lower_snake_case)",
            )


def _geography(data: Any, where: str) -> GeographySpec:
    entry = _Entry(data, where)
    kind = entry.choice("kind", GEOGRAPHY_KINDS, required=True)
    spec = GeographySpec(
        kind=kind,
        x=entry.get("x", kind=str),
        y=entry.get("y", kind=str),
        crs=entry.get("crs", kind=str),
        postcode=entry.get("postcode", kind=str),
        column=entry.get("column", kind=str),
        level=entry.choice("level", _LEVELS),
        vintage=entry.choice("vintage", (2011, 2021)),
    )
    entry.finish()
    needs = {
        "points": ("x", "y", "crs"),
        "postcode": ("postcode",),
        "area_code": ("column", "level", "vintage"),
        "polygons": (),
    }[kind]
    for key in needs:
        if getattr(spec, key) is None:
            raise CatalogError(
                f"geography of kind {kind!r} needs {key!r}", where=where, expected=f"{key}: ..."
            )
    return spec


def _period(data: Any, where: str) -> PeriodSpec:
    if isinstance(data, (str, int)):
        return PeriodSpec(value=str(data))
    entry = _Entry(data, where)
    rng = entry.get("range", kind=list)
    spec = PeriodSpec(
        column=entry.get("column", kind=str),
        format=entry.get("format", kind=str),
        value=None if entry.get("value") is None else str(entry.get("value")),
        range=None if rng is None else tuple(str(v) for v in rng),
    )
    entry.finish()
    if (spec.column is None) == (spec.value is None):
        raise CatalogError("period needs exactly one of 'column' or 'value'", where=where, got=str(data))
    if spec.range is not None and (len(spec.range) != 2 or spec.range[0] > spec.range[1]):
        raise CatalogError("period range must be [first, last]", where=where, got=str(rng))
    return spec


def _measure(data: Any, where: str) -> MeasureSpec:
    entry = _Entry(data, where)
    count = entry.get("count")
    if count is not None and count != "rows":
        raise CatalogError("'count' can only be 'rows'", where=where, got=repr(count))
    spec = MeasureSpec(
        name=entry.get("name", kind=str),
        column=entry.get("column", kind=str),
        columns=entry.get("columns", kind=str),
        count_rows=count == "rows",
        category=entry.get("category", kind=str),
        kind=entry.choice("kind", MEASURE_KINDS, "count"),
        aggregate=entry.choice("aggregate", AGGREGATES),
        unit=entry.get("unit", kind=str),
    )
    entry.finish()
    sources = sum([spec.count_rows, spec.column is not None, spec.columns is not None])
    if sources != 1:
        raise CatalogError(
            "a measure needs exactly one of 'count: rows', 'column' or 'columns'", where=where, got=str(data)
        )
    if spec.kind == "class" and not spec.category:
        raise CatalogError("a 'class' measure needs 'category' (the column holding the class)", where=where)
    if spec.name is None and spec.columns is None and spec.column is None:
        raise CatalogError("a row-count measure needs a 'name'", where=where)
    if spec.columns is not None:
        try:
            re.compile(spec.columns)
        except re.error as exc:
            raise CatalogError(
                "'columns' is not a valid regular expression", where=where, got=f"{spec.columns!r} ({exc})"
            ) from exc
    aggregate = spec.aggregate or ("sum" if spec.kind in ("count", "class") else "none")
    if spec.kind == "value" and aggregate == "sum":
        raise CatalogError(
            "values (rates, scores, ranks) cannot be summed",
            where=where,
            expected="aggregate: none, mean, population_weighted_mean, min or max",
        )
    return MeasureSpec(**{**spec.__dict__, "aggregate": aggregate})


def _scope(data: Any, where: str) -> ScopeFilter:
    entry = _Entry(data, where)
    spec = ScopeFilter(
        column=entry.get("column", required=True, kind=str),
        op=entry.choice("op", FILTER_OPS, required=True),
        value=entry.get("value"),
        reason=entry.get("reason", "outside scope", kind=str),
    )
    entry.finish()
    if spec.op in ("in", "not_in") and not isinstance(spec.value, list):
        raise CatalogError(f"scope op {spec.op!r} needs a list value", where=where, got=repr(spec.value))
    if spec.op == "matches":
        try:
            re.compile(str(spec.value))
        except re.error as exc:
            raise CatalogError(
                "scope pattern is not a valid regular expression", where=where, got=repr(spec.value)
            ) from exc
    return spec


def _dataset(
    dataset_id: str, data: Any, where: str, root: Path, defaults: Mapping[str, Any], source: str
) -> DatasetSpec:
    merged = {**defaults, **(data or {})} if isinstance(data, Mapping) else data
    entry = _Entry(merged, where)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", dataset_id):
        raise CatalogError("dataset ids are lower_snake_case", where=where, got=repr(dataset_id))
    measures_raw = entry.get("measures", required=True, kind=list)
    if not measures_raw:
        raise CatalogError("has no measures", where=where, expected="at least one measure")
    last = entry.get("last_updated", required=True)
    spec = DatasetSpec(
        id=dataset_id,
        title=entry.get("title", required=True, kind=str),
        partner=entry.get("partner", required=True, kind=str),
        theme=entry.choice("theme", THEMES, required=True),
        path=entry.get("path", required=True, kind=str),
        format=entry.choice("format", FORMATS, required=True),
        geography=_geography(entry.get("geography", required=True), f"{where}.geography"),
        period=_period(entry.get("period", required=True), f"{where}.period"),
        measures=tuple(_measure(m, f"{where}.measures[{i}]") for i, m in enumerate(measures_raw)),
        licence=entry.get("licence", required=True, kind=str),
        sharing=entry.choice("sharing", SHARING_LEVELS, required=True),
        refresh=entry.get("refresh", required=True, kind=str),
        last_updated=str(last),
        role=entry.choice("role", ROLES, "partner"),
        isa=entry.get("isa", kind=str),
        record_id=entry.get("record_id", kind=str),
        scope=tuple(
            _scope(s, f"{where}.scope[{i}]") for i, s in enumerate(entry.get("scope", [], kind=list))
        ),
        comparators=tuple(entry.get("comparators", [], kind=list)),
        options=dict(entry.get("options", {}, kind=dict)),
        attribution=tuple(entry.get("attribution", [], kind=list)),
        description=entry.get("description", "", kind=str),
        notes=entry.get("notes", "", kind=str),
        illustrative=bool(entry.get("illustrative", False, kind=bool)),
        max_invalid=float(entry.get("max_invalid", 0.01, kind=(int, float))),
        root=root,
        source=source,
    )
    entry.finish()
    bad_levels = [c for c in spec.comparators if c not in _LEVELS]
    if bad_levels:
        raise CatalogError(
            "unknown comparator level",
            where=f"{where}.comparators",
            expected=f"levels among {list(_LEVELS)}",
            got=str(bad_levels),
        )
    if spec.sharing != "open" and not spec.isa:
        raise CatalogError(
            f"a {spec.sharing!r} dataset needs its information-sharing agreement",
            where=where,
            expected="isa: <agreement reference>",
            hint="partner and restricted data are shared under an agreed protocol",
        )
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", spec.last_updated):
        raise CatalogError("last_updated is not a date", where=where, expected="YYYY-MM-DD", got=repr(last))
    return spec


def parse_catalog(data: Any, *, root: Path, source: str = "catalog") -> Catalog:
    """Build a :class:`Catalog` from already-loaded YAML data (paths resolve against ``root``)."""
    top = _Entry(data, source)
    defaults = top.get("defaults", {}, kind=dict)
    datasets_raw = top.get("datasets", required=True, kind=dict)
    reference_raw = top.get("reference", {}, kind=dict)
    name = top.get("name", "catalogue", kind=str)
    root_value = top.get("root", None, kind=str)
    top.finish()
    base = (root / root_value).resolve() if root_value else root
    datasets = tuple(
        _dataset(str(key), value, f"{source}: datasets.{key}", base, defaults, source)
        for key, value in datasets_raw.items()
    )
    reference = []
    for key, value in reference_raw.items():
        entry = _Entry(value, f"{source}: reference.{key}")
        reference.append(
            ReferenceSpec(
                id=str(key),
                title=entry.get("title", required=True, kind=str),
                path=entry.get("path", required=True, kind=str),
                publisher=entry.get("publisher", required=True, kind=str),
                licence=entry.get("licence", required=True, kind=str),
                attribution=tuple(entry.get("attribution", [], kind=list)),
                notes=entry.get("notes", "", kind=str),
            )
        )
        entry.finish()
    return Catalog(datasets, tuple(reference), None, name)


def load_catalog(path: str | Path) -> Catalog:
    """Read and check a catalogue file.

    Paths in the catalogue are relative to its ``root:`` key, itself relative to the catalogue
    file (``root: ..`` for ``conf/catalog.yml`` in a project).

    Raises
    ------
    CatalogError
        The file is missing, is not YAML, or an entry is malformed (file, entry and key named).
    """
    path = Path(path)
    if not path.exists():
        raise CatalogError(
            "catalogue file not found", where=str(path), hint="pass --catalog conf/catalog.yml"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CatalogError(
            "is not valid YAML", where=f"{path}{at}", got=str(getattr(exc, "problem", exc))
        ) from exc
    except UnicodeDecodeError as exc:
        raise CatalogError("is not UTF-8 text", where=str(path)) from exc
    catalog = parse_catalog(data, root=path.resolve().parent, source=str(path))
    return Catalog(catalog.datasets, catalog.reference, path, catalog.name)


def load_places(path: str | Path):
    """Read a custom places file (``conf/places.yml``) into one :class:`~needskit.place.geography.CustomPlaces`.

    Each place names ``lsoas`` (codes), ``wards`` (names or codes, optionally within a
    ``district``), ``postcodes`` or ``postcode_prefixes``.
    """
    from needskit.place import geography as geo

    path = Path(path)
    if not path.exists():
        raise CatalogError("places file not found", where=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogError("is not valid YAML", where=str(path), got=str(exc).splitlines()[0]) from exc
    top = _Entry(data, str(path))
    name = top.get("name", "custom places", kind=str)
    vintage = top.choice("vintage", (2011, 2021), 2021)
    places = top.get("places", required=True, kind=dict)
    top.finish()
    table = geo.hierarchy(vintage=vintage)
    sets = []
    for place, spec in places.items():
        where = f"{path}: places.{place}"
        entry = _Entry(spec, where)
        entry.get("description", "", kind=str)
        lsoas = entry.get("lsoas", None, kind=list)
        wards = entry.get("wards", None, kind=list)
        district = entry.get("district", None, kind=str)
        postcodes = entry.get("postcodes", None, kind=list)
        prefixes = entry.get("postcode_prefixes", None, kind=list)
        entry.finish()
        given = [x is not None for x in (lsoas, wards, postcodes, prefixes)]
        if sum(given) != 1:
            raise CatalogError(
                "a place needs exactly one of lsoas, wards, postcodes or postcode_prefixes", where=where
            )
        if wards is not None:
            rows = table if district is None else table[table["district"] == district]
            codes = []
            for ward in wards:
                hit = rows[(rows["ward"] == ward) | (rows["ward_name"] == ward)]
                if hit.empty:
                    raise CatalogError(
                        "unknown ward",
                        where=where,
                        got=repr(ward),
                        expected="a ward name or code" + (f" in {district}" if district else ""),
                        hint="ward names are the 2024 best-fit wards of needskit.place.geography.load_areas('ward')",
                    )
                codes += hit["lsoa"].tolist()
            lsoas = codes
        if lsoas is not None:
            sets.append(geo.places_from_lsoas({place: lsoas}, name=name, vintage=vintage))
        else:
            if prefixes is not None:
                known = geo._postcodes()["postcode_clean"].dropna()
                postcodes = known[known.str.startswith(tuple(str(p).upper() for p in prefixes))].tolist()
                if not postcodes:
                    raise CatalogError(
                        "no shipped postcode starts with these prefixes", where=where, got=str(prefixes)
                    )
            sets.append(geo.places_from_postcodes({place: postcodes}, name=name, vintage=vintage))
    import geopandas as gpd
    import pandas as pd

    areas = gpd.GeoDataFrame(pd.concat([s.areas for s in sets], ignore_index=True), crs=sets[0].areas.crs)
    members = pd.concat([s.members for s in sets], ignore_index=True)
    return [geo.CustomPlaces(name, areas, members, vintage)]


# ------------------------------------------------------------------------------------ indicators

STATISTICS = ("proportion", "crude_rate", "value")
POLARITIES = ("high_is_bad", "high_is_good", "no_judgement")


@dataclass(frozen=True)
class TermSpec:
    """A numerator, denominator or value: pooled measures added up.

    ``datasets`` lists datasets in order of preference: for each area the first dataset that
    has it is used (e.g. the LSOA table, then national district sums for England).
    """

    datasets: tuple[str, ...]
    measure: str
    categories: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    period: str | None = None


@dataclass(frozen=True)
class IndicatorSpec:
    id: str
    title: str
    theme: str
    statistic: str
    polarity: str
    numerator: TermSpec | None = None
    denominator: TermSpec | None = None
    value: TermSpec | None = None
    multiplier: float = 100.0
    combine_periods: bool = False
    notes: str = ""
    unit: str = ""

    @property
    def sources(self) -> tuple[str, ...]:
        terms = [t for t in (self.numerator, self.denominator, self.value) if t is not None]
        return tuple(dict.fromkeys(d for t in terms for d in t.datasets))


def _term(data: Any, where: str) -> TermSpec:
    entry = _Entry(data, where)
    datasets = entry.get("dataset", required=True, kind=(str, list))
    categories = entry.get("category", None, kind=(str, list))
    spec = TermSpec(
        datasets=(datasets,) if isinstance(datasets, str) else tuple(datasets),
        measure=entry.get("measure", required=True, kind=str),
        categories=None if categories is None else ((categories,) if isinstance(categories, str) else tuple(str(c) for c in categories)),
        exclude=tuple(str(c) for c in entry.get("exclude", [], kind=list)),
        period=None if entry.get("period") is None else str(entry.get("period")),
    )
    entry.finish()
    if spec.categories is not None and spec.exclude:
        raise CatalogError("give 'category' or 'exclude', not both", where=where)
    return spec


def parse_indicators(data: Any, *, source: str = "indicators", catalog: Catalog | None = None) -> tuple[IndicatorSpec, ...]:
    """Indicator definitions from loaded YAML; with ``catalog``, every source dataset must exist."""
    top = _Entry(data, source)
    top.get("name", "", kind=str)
    raw = top.get("indicators", required=True, kind=dict)
    top.finish()
    specs = []
    for key, value in raw.items():
        where = f"{source}: indicators.{key}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(key)):
            raise CatalogError("indicator ids are lower_snake_case", where=where, got=repr(key))
        entry = _Entry(value, where)
        statistic = entry.choice("statistic", STATISTICS, required=True)
        numerator = entry.get("numerator")
        denominator = entry.get("denominator")
        val = entry.get("value")
        spec = IndicatorSpec(
            id=str(key),
            title=entry.get("title", required=True, kind=str),
            theme=entry.choice("theme", THEMES, required=True),
            statistic=statistic,
            polarity=entry.choice("polarity", POLARITIES, required=True),
            numerator=None if numerator is None else _term(numerator, f"{where}.numerator"),
            denominator=None if denominator is None else _term(denominator, f"{where}.denominator"),
            value=None if val is None else _term(val, f"{where}.value"),
            multiplier=float(entry.get("multiplier", 1.0 if statistic == "value" else 100.0, kind=(int, float))),
            combine_periods=bool(entry.get("combine_periods", False, kind=bool)),
            notes=entry.get("notes", "", kind=str),
            unit=entry.get("unit", "", kind=str),
        )
        entry.finish()
        if statistic == "value":
            if spec.value is None or spec.numerator or spec.denominator:
                raise CatalogError("a 'value' indicator needs 'value' (and no numerator/denominator)", where=where)
        elif spec.numerator is None or spec.denominator is None:
            raise CatalogError(f"a {statistic!r} indicator needs a numerator and a denominator", where=where)
        if catalog is not None:
            known = {d.id for d in catalog}
            missing = [d for d in spec.sources if d not in known]
            if missing:
                raise CatalogError(
                    "names datasets that are not in the catalogue", where=where, got=str(missing),
                    expected=f"dataset ids of {catalog.path or catalog.name}",
                )
        specs.append(spec)
    return tuple(specs)


def load_indicators(path: str | Path, *, catalog: Catalog | None = None) -> tuple[IndicatorSpec, ...]:
    """Read and check ``conf/indicators.yml``."""
    path = Path(path)
    if not path.exists():
        raise CatalogError("indicator definitions not found", where=str(path), hint="pass --indicators conf/indicators.yml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogError("is not valid YAML", where=str(path), got=str(exc).splitlines()[0]) from exc
    return parse_indicators(data, source=str(path), catalog=catalog)
