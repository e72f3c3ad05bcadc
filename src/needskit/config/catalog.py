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
      path: data/raw/police/*
      format: police_uk
      geography: {kind: points, x: Longitude, y: Latitude, crs: "EPSG:4326", code: LSOA code}
      period: {column: Month, format: "%Y-%m"}
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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from needskit.config.project import data_files, expand_path
from needskit.config.yamlfile import Entry, LineMapping, read_yaml
from needskit.errors import CatalogError

__all__ = [
    "THEMES",
    "SHARING_LEVELS",
    "FORMATS",
    "REFERENCE_FORMATS",
    "REGISTER_TABLES",
    "GeographySpec",
    "PeriodSpec",
    "MeasureSpec",
    "ScopeFilter",
    "RegisterSpec",
    "DatasetSpec",
    "ReferenceSpec",
    "Catalog",
    "load_catalog",
    "parse_catalog",
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
REFERENCE_FORMATS = ("area_layers", "ons_lookups", "ons_lsoa_changes", "postcode_directory", "other")
"""Reference files: boundaries as GeoPackage layers ``<level>_<vintage>``, ONS lookups
(``<level><yy>_code``/``_name`` columns), the ONS LSOA 2011-2021 change lookup, postcode tables
as people download them (ONS Postcode Directory, NSPL, OS Code-Point Open; each file's format is
told from its columns, and the path may match no file yet), anything else."""
REGISTER_TABLES = ("services", "spend", "catchments")
"""Resource-register tables a dataset can feed (see :class:`RegisterSpec`)."""
ROLES = ("partner", "denominator", "context")
GEOGRAPHY_KINDS = ("points", "postcode", "area_code", "polygons")
MEASURE_KINDS = ("count", "value", "class")
AGGREGATES = ("sum", "none", "mean", "min", "max", "population_weighted_mean")
FILTER_OPS = ("in", "not_in", "equals", "not_equals", "startswith", "matches", "not_null")
_LEVELS = ("lsoa", "msoa", "ward", "district", "county", "region", "country")


@dataclass(frozen=True)
class GeographySpec:
    """Where a dataset's records are.

    ``points`` have ``x``, ``y`` and ``crs``, and optionally ``code``: the column holding the LSOA
    code the publisher gives each row (police.uk's ``LSOA code``), of either vintage. A usable code
    decides the row's LSOA and the point only fills in where it cannot (see
    :mod:`needskit.partner_data.published_codes`); ``postcode`` rows have a ``postcode`` column;
    ``area_code`` rows have a ``column`` of codes of one ``level`` and ``vintage``.
    """

    kind: str
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    postcode: str | None = None
    column: str | None = None
    level: str | None = None
    vintage: int | None = None
    code: str | None = None


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
class RegisterSpec:
    """How a dataset's rows feed the resource register (``register:`` in its entry).

    ``table`` is ``services`` (service points), ``spend`` (spend by area) or ``catchments``
    (service and area pairs). ``values`` are fixed register values (``partner: NHS primary care``);
    ``columns`` map register columns to the file's columns (``name: practice_name``); a file
    column already named like a register column is taken as it is.
    """

    table: str
    values: Mapping[str, Any] = field(default_factory=dict)
    columns: Mapping[str, str] = field(default_factory=dict)


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
    register: RegisterSpec | None = None
    optional: bool = False
    root: Path = Path(".")
    source: str = "catalog"

    def files(self) -> list[Path]:
        """The files the path (a glob; ``{needskit}/...`` for shipped data) names, sorted; folders,
        hidden files and READMEs (which explain a drop folder) are not data."""
        return data_files(expand_path(self.path, self.root))

    @property
    def folder(self) -> Path:
        """The folder the path's files are dropped into (the path up to its first wildcard)."""
        full = Path(expand_path(self.path, self.root))
        parts = []
        for part in full.parts:
            if glob.has_magic(part):
                break
            parts.append(part)
        folder = Path(*parts)
        return folder if parts and len(parts) < len(full.parts) else folder.parent

    def missing_reason(self) -> str:
        """Why an optional dataset with no files is not pooled, and what to do."""
        folder = self.folder
        try:
            shown = folder.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            shown = folder.as_posix()
        return f"no {self.title} data given: drop the files into {shown}/ and run `needskit run`"


@dataclass(frozen=True)
class ReferenceSpec:
    """A file that is not pooled but describes place (boundaries, lookups), listed for provenance.

    ``path`` is one path or glob, or several (``paths``) for lookups made of several files.
    """

    id: str
    title: str
    paths: tuple[str, ...]
    publisher: str
    licence: str
    format: str = "other"
    vintage: int | None = None
    attribution: tuple[str, ...] = ()
    notes: str = ""
    root: Path = Path(".")

    @property
    def path(self) -> str:
        return ", ".join(self.paths)

    def files(self) -> list[Path]:
        """The files the paths (globs) name, in the order given, each sorted."""
        out: list[Path] = []
        for pattern in self.paths:
            out += data_files(expand_path(pattern, self.root))
        return out


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

    def __iter__(self) -> Iterator[DatasetSpec]:
        return iter(self.datasets)

    def __contains__(self, dataset_id: object) -> bool:
        return any(spec.id == dataset_id for spec in self.datasets)

    def reference_entry(self, entry_id: str) -> ReferenceSpec:
        """The ``reference:`` entry ``entry_id``.

        Raises
        ------
        CatalogError
            No such entry (the known ones are listed).
        """
        for spec in self.reference:
            if spec.id == entry_id:
                return spec
        raise CatalogError(
            "no such reference entry",
            where=str(self.path or self.name),
            expected=f"one of {[r.id for r in self.reference]}",
            got=repr(entry_id),
            hint="add it under reference: in the catalogue, or fix the name in conf/partnership.yml",
        )

    def __len__(self) -> int:
        return len(self.datasets)

    def select(self, ids: list[str] | None) -> Catalog:
        if not ids:
            return self
        return Catalog(tuple(self[i] for i in ids), self.reference, self.path, self.name)

    def sharing(self) -> dict[str, str]:
        return {d.id: d.sharing for d in self.datasets}


# ------------------------------------------------------------------------------------- parsing


def _geography(data: Any, where: str) -> GeographySpec:
    entry = Entry(data, where)
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
        code=entry.get("code", kind=str),
    )
    entry.finish()
    if spec.code is not None and kind != "points":
        raise CatalogError(
            f"'code' is for points (the publisher's own LSOA code beside each point), not kind {kind!r}",
            where=entry.at("code"),
            got=repr(spec.code),
            hint="rows located only by a code are kind: area_code with column:, level: and vintage:",
        )
    needs = {
        "points": ("x", "y", "crs"),
        "postcode": ("postcode",),
        "area_code": ("column", "level", "vintage"),
        "polygons": (),
    }[kind]
    for key in needs:
        if getattr(spec, key) is None:
            raise CatalogError(
                f"geography of kind {kind!r} needs {key!r}", where=entry.where, expected=f"{key}: ..."
            )
    return spec


def _period(data: Any, where: str) -> PeriodSpec:
    if isinstance(data, (str, int)):
        return PeriodSpec(value=str(data))
    entry = Entry(data, where)
    rng = entry.get("range", kind=list)
    column = entry.get("column", kind=str)
    fmt = entry.get("format", kind=str)
    value = None if entry.get("value") is None else str(entry.get("value"))
    bounds = None if rng is None else tuple(str(v) for v in rng)
    entry.finish()
    if (column is None) == (value is None):
        raise CatalogError(
            "period needs exactly one of 'column' or 'value'", where=entry.where, got=str(data)
        )
    if bounds is not None and (len(bounds) != 2 or bounds[0] > bounds[1]):
        raise CatalogError("period range must be [first, last]", where=entry.at("range"), got=str(rng))
    return PeriodSpec(
        column=column, format=fmt, value=value, range=None if bounds is None else (bounds[0], bounds[1])
    )


def _measure(data: Any, where: str) -> MeasureSpec:
    entry = Entry(data, where)
    count = entry.get("count")
    if count is not None and count != "rows":
        raise CatalogError("'count' can only be 'rows'", where=entry.at("count"), got=repr(count))
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
            "a measure needs exactly one of 'count: rows', 'column' or 'columns'",
            where=entry.where,
            got=str(data),
        )
    if spec.kind == "class" and not spec.category:
        raise CatalogError(
            "a 'class' measure needs 'category' (the column holding the class)", where=entry.where
        )
    if spec.name is None and spec.columns is None and spec.column is None:
        raise CatalogError("a row-count measure needs a 'name'", where=entry.where)
    if spec.columns is not None:
        try:
            re.compile(spec.columns)
        except re.error as exc:
            raise CatalogError(
                "'columns' is not a valid regular expression",
                where=entry.at("columns"),
                got=f"{spec.columns!r} ({exc})",
            ) from exc
    aggregate = spec.aggregate or ("sum" if spec.kind in ("count", "class") else "none")
    if spec.kind == "value" and aggregate == "sum":
        raise CatalogError(
            "values (rates, scores, ranks) cannot be summed",
            where=entry.where,
            expected="aggregate: none, mean, population_weighted_mean, min or max",
        )
    return MeasureSpec(**{**spec.__dict__, "aggregate": aggregate})


def _scope(data: Any, where: str) -> ScopeFilter:
    entry = Entry(data, where)
    spec = ScopeFilter(
        column=entry.get("column", required=True, kind=str),
        op=entry.choice("op", FILTER_OPS, required=True),
        value=entry.get("value"),
        reason=entry.get("reason", "outside scope", kind=str),
    )
    entry.finish()
    if spec.op in ("in", "not_in") and not isinstance(spec.value, list):
        raise CatalogError(
            f"scope op {spec.op!r} needs a list value", where=entry.at("value"), got=repr(spec.value)
        )
    if spec.op == "matches":
        try:
            re.compile(str(spec.value))
        except re.error as exc:
            raise CatalogError(
                "scope pattern is not a valid regular expression",
                where=entry.at("value"),
                got=repr(spec.value),
            ) from exc
    return spec


def _register(data: Any, where: str) -> RegisterSpec:
    entry = Entry(data, where)
    table = entry.choice("table", REGISTER_TABLES, required=True)
    columns = entry.get("columns", {}, kind=dict)
    bad = [k for k, v in columns.items() if not isinstance(v, str)]
    if bad:
        raise CatalogError(
            "maps register columns to file columns",
            where=entry.at("columns"),
            expected="register_column: file_column",
            got=repr(bad),
        )
    values = {k: v for k, v in entry.data.items() if k not in ("table", "columns")}
    entry.used |= set(values)
    entry.finish()
    return RegisterSpec(table=table, values=values, columns={str(k): str(v) for k, v in columns.items()})


def _dataset(
    dataset_id: str, data: Any, where: str, root: Path, defaults: Mapping[str, Any], source: str
) -> DatasetSpec:
    if isinstance(data, Mapping) or data is None:
        # the entry's keys over the defaults, keeping the line of each (the entry's, or the default's)
        merged: Any = LineMapping({**defaults, **(data or {})})
        merged.line = getattr(data, "line", None)
        merged.key_lines = {**getattr(defaults, "key_lines", {}), **getattr(data, "key_lines", {})}
    else:
        merged = data
    entry = Entry(merged, where)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", dataset_id):
        raise CatalogError("dataset ids are lower_snake_case", where=entry.where, got=repr(dataset_id))
    measures_raw = entry.get("measures", required=True, kind=list)
    if not measures_raw:
        raise CatalogError("has no measures", where=entry.at("measures"), expected="at least one measure")
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
        register=None
        if entry.get("register") is None
        else _register(entry.get("register"), f"{where}.register"),
        optional=bool(entry.get("optional", False, kind=bool)),
        root=root,
        source=source,
    )
    entry.finish()
    bad_levels = [c for c in spec.comparators if c not in _LEVELS]
    if bad_levels:
        raise CatalogError(
            "unknown comparator level",
            where=entry.at("comparators"),
            expected=f"levels among {list(_LEVELS)}",
            got=str(bad_levels),
        )
    if spec.sharing != "open" and not spec.isa:
        raise CatalogError(
            f"a {spec.sharing!r} dataset needs its information-sharing agreement",
            where=entry.at("sharing"),
            expected="isa: <agreement reference>",
            hint="partner and restricted data are shared under an agreed protocol",
        )
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", spec.last_updated):
        raise CatalogError(
            "last_updated is not a date",
            where=entry.at("last_updated"),
            expected="YYYY-MM-DD",
            got=repr(last),
        )
    return spec


def _reference_entry(key: str, value: Any, where: str, root: Path) -> ReferenceSpec:
    entry = Entry(value, where)
    path = entry.get("path", None, kind=(str, list))
    if path is None:
        path = entry.get("paths", required=True, kind=list)
    else:
        entry.get("paths")
    paths = (path,) if isinstance(path, str) else tuple(str(p) for p in path)
    spec = ReferenceSpec(
        id=str(key),
        title=entry.get("title", required=True, kind=str),
        paths=paths,
        publisher=entry.get("publisher", required=True, kind=str),
        licence=entry.get("licence", required=True, kind=str),
        format=entry.choice("format", REFERENCE_FORMATS, "other"),
        vintage=entry.choice("vintage", (2011, 2021)),
        attribution=tuple(entry.get("attribution", [], kind=list)),
        notes=entry.get("notes", "", kind=str),
        root=root,
    )
    entry.finish()
    if spec.format == "ons_lookups" and spec.vintage is None:
        raise CatalogError(
            "ONS lookups need the LSOA vintage they are keyed by",
            where=entry.where,
            expected="vintage: 2021 or 2011",
        )
    return spec


def parse_catalog(data: Any, *, root: Path, source: str = "catalog") -> Catalog:
    """Build a :class:`Catalog` from already-loaded YAML data (paths resolve against ``root``)."""
    top = Entry(data, source)
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
    reference = tuple(
        _reference_entry(str(key), value, f"{source}: reference.{key}", base)
        for key, value in reference_raw.items()
    )
    clash = sorted({d.id for d in datasets} & {r.id for r in reference})
    if clash:
        raise CatalogError("an id is both a dataset and a reference entry", where=source, got=str(clash))
    return Catalog(datasets, reference, None, name)


def load_catalog(path: str | Path) -> Catalog:
    """Read and check a catalogue file.

    Paths in the catalogue are relative to its ``root:`` key, itself relative to the catalogue
    file (``root: ..`` for ``conf/catalog.yml`` in a project).

    Raises
    ------
    CatalogError
        The file is missing, is not YAML, or an entry is malformed (file, entry, key and line named).
    """
    path = Path(path)
    data = read_yaml(
        path, what="catalogue", hint="pass --catalog conf/catalog.yml, or run from the project folder"
    )
    catalog = parse_catalog(data, root=path.resolve().parent, source=str(path))
    return Catalog(catalog.datasets, catalog.reference, path, catalog.name)
