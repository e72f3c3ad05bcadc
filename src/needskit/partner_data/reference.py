"""Reference data: the partnership's :class:`~needskit.place.Geography`, built from catalogue entries.

``conf/partnership.yml`` names, under ``reference:``, the catalogue entries that describe place:

* ``lookups`` — ONS best-fit lookups (format ``ons_lookups``), one entry per LSOA vintage, each a
  list of files whose columns follow ONS naming, ``<level><yy>_code`` / ``<level><yy>_name``
  (``lsoa21_code``, ``ward24_name``, ``ltla24_code`` ...; ONS originals such as ``LSOA21CD`` and
  ``WD24NM`` are recognised too). Files are joined on the level they share, whatever the year,
  so a newer ward or district lookup can be dropped in without code changes.
* ``lsoa_changes`` — the ONS LSOA 2011 → 2021 lookup with its change indicator.
* ``boundaries`` — GeoPackages with one layer per ``<level>_<vintage>`` (``area_code``,
  ``area_name``); several entries may be given: for an area in more than one, the first wins.
* ``postcodes`` — a postcode directory: a reference entry of format ``postcode_directory``
  whose paths are globs over postcode tables as people download them (ONS Postcode Directory,
  NSPL, OS Code-Point Open; see :mod:`needskit.partner_data.ingest.postcodes`), or a catalogue
  dataset with a postcode column and point coordinates. When the entry's folder holds no file
  yet, the geography has no postcode directory, and says where to drop one.
* ``population`` — per LSOA vintage, a dataset whose first measure counts residents per LSOA.

Everything is read lazily: a pipeline that never converts vintages never reads the change lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from needskit._checks import BNG
from needskit.config.catalog import Catalog, DatasetSpec, ReferenceSpec
from needskit.config.partnership import Partnership
from needskit.errors import CatalogError, DataError
from needskit.partner_data.ingest import read_dataset
from needskit.partner_data.ingest.postcodes import read_postcode_directory
from needskit.place.geography import AREA_TYPES, LEVELS, Geography
from needskit.place.points import to_bng
from needskit.place.postcodes import normalise_postcode

__all__ = [
    "load_geography",
    "postcode_table_inputs",
    "read_ons_lookups",
    "read_lsoa_changes",
    "read_area_layers",
    "LOOKUP_LEVELS",
]

LOOKUP_LEVELS = {
    "lsoa": "lsoa",
    "msoa": "msoa",
    "ward": "ward",
    "wd": "ward",
    "ltla": "district",
    "lad": "district",
    "utla": "county",
    "cty": "county",
    "cauth": None,
    "region": "region",
    "rgn": "region",
    "ctry": "country",
    "icb": "icb",
    "pfa": "pfa",
    "csp": "csp",
}
"""ONS column stems and the needskit level (or area type) they hold."""
_COLUMN = re.compile(r"^(?P<stem>[a-z]+?)(?P<year>\d{2})(?:_?(?P<kind>code|name|cd|nm))$")
_ORDER = LEVELS + AREA_TYPES


def _read_text_csv(path: Path) -> pd.DataFrame:
    """A lookup file as text columns (UTF-8, optional BOM, gzip by extension)."""
    if not path.is_file():
        raise DataError(
            "lookup file is missing",
            where=str(path),
            hint="run make data-build, or fix the path in the catalogue",
        )
    try:
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    except (UnicodeDecodeError, pd.errors.ParserError, OSError) as exc:
        raise DataError(
            "is not a readable CSV lookup", where=str(path), got=f"{type(exc).__name__}: {exc}"
        ) from exc


def _level_columns(columns: list[str]) -> dict[str, tuple[str, str]]:
    """File column -> (level, 'code' or 'name') for the columns that follow ONS naming."""
    out: dict[str, tuple[str, str]] = {}
    targets: set[str] = set()
    for column in columns:
        match = _COLUMN.match(column.strip().lower())
        if not match:
            continue
        level = LOOKUP_LEVELS.get(match["stem"])
        if level is None:
            continue
        kind = "code" if match["kind"] in ("code", "cd") else "name"
        target = level if kind == "code" else f"{level}_name"
        if target not in targets:
            targets.add(target)
            out[column] = (level, kind)
    return out


def _read_lookup(path: Path) -> pd.DataFrame:
    frame = _read_text_csv(path)
    mapping = _level_columns([c for c in frame.columns if not c.startswith("_")])
    if not mapping:
        raise DataError(
            "has no ONS code columns",
            where=str(path),
            expected="columns such as lsoa21_code, ward24_name or LSOA21CD, WD24NM",
            got=f"columns {[c for c in frame.columns if not c.startswith('_')][:10]}",
        )
    renamed = {col: (level if kind == "code" else f"{level}_name") for col, (level, kind) in mapping.items()}
    return frame[list(renamed)].rename(columns=renamed).drop_duplicates()


def read_ons_lookups(files: list[Path], *, vintage: int, where: str = "lookups") -> pd.DataFrame:
    """One hierarchy table (see :data:`needskit.place.geography.HIERARCHY_COLUMNS`) from ONS lookups.

    The file with LSOA codes and the most levels comes first; every other file is joined on the
    lowest level it shares with what has been built so far, adding the levels (and names) not yet
    there. Welsh LSOAs get their principal area as county and "Wales" as region and country.

    Raises
    ------
    DataError
        No file, no file keyed by LSOA, a file that shares no level with the others, or LSOA
        codes repeated (a lookup that is not best-fit).
    """
    if not files:
        raise DataError("no lookup files", where=where, expected="files matching the entry's paths")
    tables = [(path, _read_lookup(path)) for path in files]
    keyed = [t for t in tables if "lsoa" in t[1].columns]
    if not keyed:
        raise DataError(
            "no lookup is keyed by LSOA",
            where=where,
            expected=f"a file with an lsoa{str(vintage)[2:]}_code column",
        )
    first = max(keyed, key=lambda t: sum(c in _ORDER for c in t[1].columns))
    frame = first[1]
    pending = [t for t in tables if t is not first]
    while pending:
        progress = False
        for item in list(pending):
            path, table = item
            shared = [lv for lv in _ORDER if lv in table.columns and lv in frame.columns]
            if not shared:
                continue
            key = shared[0]
            new = [c for c in table.columns if c != key and c not in frame.columns]
            # every LSOA-keyed file must be best-fit, not only the first
            repeats = (
                int(table[[key] + new].drop_duplicates()[key].duplicated().sum()) if key == "lsoa" else 0
            )
            if repeats:
                raise DataError(
                    "repeats LSOA codes",
                    where=str(path),
                    expected="a best-fit lookup: one row per LSOA",
                    got=f"{repeats} repeats",
                )
            names = (
                [f"{key}_name"] if f"{key}_name" in table.columns and f"{key}_name" in frame.columns else []
            )
            part = table[[key] + new + [n for n in names if n not in new]].drop_duplicates(key)
            if names:
                part = part.rename(columns={names[0]: "__nk_name"})
            frame = frame.merge(part, on=key, how="left")
            if names:
                frame[names[0]] = frame[names[0]].fillna(frame.pop("__nk_name"))
            pending.remove(item)
            progress = True
        if not progress:
            raise DataError(
                "shares no level with the other lookups",
                where=str(pending[0][0]),
                expected=f"a column of one of {[lv for lv in _ORDER if lv in frame.columns]}",
            )
    if frame["lsoa"].duplicated().any():
        raise DataError(
            "repeats LSOA codes",
            where=str(first[0]),
            expected="a best-fit lookup: one row per LSOA",
            got=f"{int(frame['lsoa'].duplicated().sum())} repeats",
        )
    wales = frame["lsoa"].astype(str).str.startswith("W")
    for level in LEVELS:
        for column in (level, f"{level}_name"):
            if column not in frame.columns:
                frame[column] = pd.NA
    # Welsh principal areas are unitary: county = district; Wales has no English region.
    frame.loc[wales, "county"] = frame.loc[wales, "district"]
    frame.loc[wales, "county_name"] = frame.loc[wales, "district_name"]
    frame.loc[wales, ["region", "country"]] = "W92000004"
    frame.loc[wales, ["region_name", "country_name"]] = "Wales"
    england = ~wales & frame["lsoa"].astype(str).str.startswith("E")
    frame.loc[england, "country"] = "E92000001"
    frame.loc[england, "country_name"] = "England"
    if frame["ward"].notna().any():
        frame["ward_name"] = frame["ward_name"].fillna("Ward " + frame["ward"].fillna(""))
    columns = [c for level in LEVELS for c in (level, f"{level}_name")]
    extra = [c for t in AREA_TYPES for c in (t, f"{t}_name") if c in frame.columns]
    out = frame[columns + extra].sort_values("lsoa", ignore_index=True)
    return out.astype({c: "object" for c in out.columns})


def read_lsoa_changes(path: Path) -> pd.DataFrame:
    """The ONS LSOA 2011 → 2021 lookup: ``lsoa11_code``, ``lsoa21_code``, ``change_code``."""
    frame = _read_text_csv(path)
    lowered = {c: c.strip().lower() for c in frame.columns}
    rename = {}
    for column, low in lowered.items():
        if low in ("lsoa11_code", "lsoa11cd"):
            rename[column] = "lsoa11_code"
        elif low in ("lsoa21_code", "lsoa21cd"):
            rename[column] = "lsoa21_code"
        elif low in ("change_code", "chgind"):
            rename[column] = "change_code"
    if sorted(rename.values()) != ["change_code", "lsoa11_code", "lsoa21_code"]:
        raise DataError(
            "is not the ONS LSOA 2011 to 2021 lookup",
            where=str(path),
            expected="columns lsoa11_code, lsoa21_code, change_code (or LSOA11CD, LSOA21CD, CHGIND)",
            got=f"columns {[c for c in frame.columns if not c.startswith('_')][:10]}",
        )
    return frame[list(rename)].rename(columns=rename)


def read_area_layers(path: Path) -> dict[tuple[str, int], Callable[[], gpd.GeoDataFrame]]:
    """Loaders for the ``<level>_<vintage>`` layers of a GeoPackage (each read on first use)."""
    if not path.is_file():
        raise DataError(
            "boundaries file is missing", where=str(path), hint="run make data-build, or fix the path"
        )
    loaders: dict[tuple[str, int], Callable[[], gpd.GeoDataFrame]] = {}
    for name, _geometry_type in pyogrio.list_layers(path):
        match = re.fullmatch(r"([a-z]+)_(\d{4})", str(name))
        if not match or match[1] not in LEVELS or int(match[2]) not in (2011, 2021):
            continue

        def load(layer: str = str(name)) -> gpd.GeoDataFrame:
            frame = pyogrio.read_dataframe(path, layer=layer)
            if "area_code" not in frame.columns:
                raise DataError("layer has no area_code column", where=f"{path} layer {layer}")
            return frame

        loaders[(match[1], int(match[2]))] = load
    if not loaders:
        raise DataError(
            "has no boundary layers",
            where=str(path),
            expected="layers named <level>_<vintage>, e.g. lsoa_2021",
        )
    return loaders


def _first_wins(loaders: list[Callable[[], gpd.GeoDataFrame]]) -> Callable[[], gpd.GeoDataFrame]:
    def load() -> gpd.GeoDataFrame:
        frames = [loader().to_crs(BNG) for loader in loaders]
        merged = pd.concat(frames, ignore_index=True).drop_duplicates("area_code", keep="first")
        return gpd.GeoDataFrame(merged, geometry="geometry", crs=BNG)

    return load if len(loaders) > 1 else loaders[0]


def _dataset_or_reference(catalog: Catalog, entry_id: str, role: str) -> DatasetSpec:
    if entry_id in catalog:
        return catalog[entry_id]
    raise CatalogError(
        "is not a dataset of the catalogue",
        where=f"reference.{role} = {entry_id!r}",
        expected=f"a dataset id of {catalog.path or catalog.name}",
        hint="add the dataset to conf/catalog.yml or fix the name in conf/partnership.yml",
    )


def _postcode_loader(spec: DatasetSpec) -> Callable[[], pd.DataFrame]:
    g = spec.geography
    column = g.postcode or spec.record_id
    if g.kind != "points" or not column:
        raise CatalogError(
            "is not a postcode directory",
            where=f"dataset {spec.id!r}",
            expected="geography of kind points (x, y, crs) and the postcode column as record_id",
        )

    def load() -> pd.DataFrame:
        frame = read_dataset(spec)
        xs = pd.to_numeric(frame[g.x], errors="coerce").to_numpy(dtype=float)
        ys = pd.to_numeric(frame[g.y], errors="coerce").to_numpy(dtype=float)
        bx, by, _ = to_bng(xs, ys, g.crs)
        out = pd.DataFrame(
            {"postcode_clean": frame[column].map(normalise_postcode), "easting": bx, "northing": by}
        )
        return out.dropna(subset=["postcode_clean"]).drop_duplicates("postcode_clean", ignore_index=True)

    return load


def _postcode_tables(catalog: Catalog, entry_id: str) -> ReferenceSpec:
    """The ``postcode_directory`` reference entry ``reference.postcodes`` names."""
    if entry_id not in {r.id for r in catalog.reference}:
        raise CatalogError(
            "is neither a dataset nor a reference entry of the catalogue",
            where=f"reference.postcodes = {entry_id!r}",
            expected=f"a reference entry of format postcode_directory, or a dataset id of "
            f"{catalog.path or catalog.name}",
            hint="add it to conf/catalog.yml or fix the name in conf/partnership.yml",
        )
    spec = catalog.reference_entry(entry_id)
    _require_format(spec, "postcode_directory", "postcodes")
    return spec


def _destination(patterns: tuple[str, ...]) -> str:
    """Where the files of an entry go: ``("data/raw/postcodes/*",)`` -> ``"into data/raw/postcodes/"``."""
    out = []
    for pattern in patterns:
        folder = Path(pattern)
        if not any(ch in pattern for ch in "*?["):
            out.append(f"at {folder.as_posix()}")
            continue
        while any(ch in str(folder) for ch in "*?["):
            folder = folder.parent
        out.append(f"into {folder.as_posix().rstrip('/')}/")
    return " or ".join(dict.fromkeys(out))


def _postcode_tables_loader(spec: ReferenceSpec, files: list[Path]) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        return read_postcode_directory(files, where=f"reference.{spec.id}")

    return load


def postcode_table_inputs(catalog: Catalog, partnership: Partnership) -> tuple[list[Path], list[str]]:
    """The postcode tables the geography reads, and the path patterns they are found by.

    For the store's freshness: a postcode file dropped into the folder later makes the store
    older than its inputs. Both are empty when ``reference.postcodes`` names a dataset (its files
    are the pool's inputs already) or nothing.
    """
    name = partnership.reference.postcodes
    if not name or name in catalog or name not in {r.id for r in catalog.reference}:
        return [], []
    spec = catalog.reference_entry(name)
    return [f for f in spec.files() if f.is_file()], list(spec.paths)


def _population_loader(spec: DatasetSpec) -> Callable[[], pd.Series]:
    g = spec.geography
    measure = spec.measures[0]
    if g.kind != "area_code" or g.level != "lsoa" or not (measure.column or measure.count_rows):
        raise CatalogError(
            "cannot give residents per LSOA",
            where=f"dataset {spec.id!r}",
            expected="an LSOA area-coded dataset whose first measure is a count column",
        )

    def load() -> pd.Series:
        frame = read_dataset(spec)
        values = (
            pd.to_numeric(frame[measure.column], errors="coerce")
            if measure.column
            else pd.Series(1.0, index=frame.index)
        )
        return values.groupby(frame[g.column].astype(str)).sum().astype(float)

    return load


def load_geography(catalog: Catalog, partnership: Partnership) -> Geography:
    """The partnership's reference geography, from the catalogue entries ``conf/partnership.yml`` names.

    Raises
    ------
    CatalogError
        A named entry that is missing or of the wrong format (entry and role named).
    DataError
        A file that cannot be read as its format says (when it is first used).
    """
    ref = partnership.reference
    sources: dict[str, str] = {}
    hierarchies: dict[int, Callable[[], pd.DataFrame]] = {}
    for entry_id in ref.lookups:
        spec = catalog.reference_entry(entry_id)
        _require_format(spec, "ons_lookups", "lookups")
        assert spec.vintage is not None
        hierarchies[spec.vintage] = _lookup_loader(spec)
        sources[f"lookups_{spec.vintage}"] = entry_id
    changes = None
    if ref.lsoa_changes:
        spec = catalog.reference_entry(ref.lsoa_changes)
        _require_format(spec, "ons_lsoa_changes", "lsoa_changes")
        changes = _changes_loader(spec)
        sources["lsoa_changes"] = spec.id
    layers: dict[tuple[str, int], list[Callable[[], gpd.GeoDataFrame]]] = {}
    for entry_id in ref.boundaries:
        spec = catalog.reference_entry(entry_id)
        _require_format(spec, "area_layers", "boundaries")
        for path in spec.files() or [spec.root / p for p in spec.paths]:
            for key, loader in read_area_layers(path).items():
                layers.setdefault(key, []).append(loader)
        sources["boundaries"] = ", ".join(filter(None, [sources.get("boundaries"), spec.title]))
    postcodes: Callable[[], pd.DataFrame] | None = None
    hints: dict[str, str] = {}
    if ref.postcodes and ref.postcodes in catalog:
        directory = catalog[ref.postcodes]
        postcodes = _postcode_loader(directory)
        sources["postcodes"] = directory.id
    elif ref.postcodes:
        tables = _postcode_tables(catalog, ref.postcodes)
        files = [f for f in tables.files() if f.is_file()]
        if files:
            postcodes = _postcode_tables_loader(tables, files)
            sources["postcodes"] = tables.id
        else:
            hints["postcodes"] = (
                f"drop a postcode file (ONS Postcode Directory, NSPL or OS Code-Point Open; CSV, .gz or "
                f".zip) {_destination(tables.paths)}: reference entry {tables.id!r} matches no file yet"
            )
    population = {}
    for vintage, dataset in ref.population.items():
        residents = _dataset_or_reference(catalog, dataset, "population")
        population[int(vintage)] = _population_loader(residents)
        sources[f"population_{vintage}"] = residents.id
    return Geography(
        hierarchies=hierarchies,
        changes=changes,
        boundaries={key: _first_wins(loaders) for key, loaders in layers.items()},
        postcodes=postcodes,
        population=population,
        sources=sources,
        hints=hints,
    )


def _require_format(spec: ReferenceSpec, expected: str, role: str) -> None:
    if spec.format != expected:
        raise CatalogError(
            f"is not of format {expected!r}",
            where=f"reference.{spec.id} (named as {role} in conf/partnership.yml)",
            expected=f"format: {expected}",
            got=repr(spec.format),
        )


def _lookup_loader(spec: ReferenceSpec) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        return read_ons_lookups(spec.files(), vintage=int(spec.vintage or 2021), where=f"reference.{spec.id}")

    return load


def _changes_loader(spec: ReferenceSpec) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        files = spec.files()
        if len(files) != 1:
            raise DataError("needs exactly one file", where=f"reference.{spec.id}", got=f"{len(files)} files")
        return read_lsoa_changes(files[0])

    return load
