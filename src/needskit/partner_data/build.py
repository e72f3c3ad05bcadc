"""Build the project's ``data/raw/`` from the shared raw-data folder (``needskit data build``).

What it writes is listed in ``conf/databuild.yml`` (all documented in ``data/README.md``):

* **copies** of national files needed for England comparators and the IMD reproduction
  (IoD2019, IoD2025, mid-year estimates on 2011 LSOAs, Census 2021 usual residents by age,
  lookups, rural-urban classes), the four police.uk months and the two NHS ODS extracts;
* **row subsets** of the other Census 2021 tables for the partnership's LSOAs, plus their
  national sums by local authority district (``*_ltla24.csv.gz``) for district and England
  comparators;
* a **constructed** boundary file (``boundaries.target`` of the plan) in EPSG:27700 with
  one layer per level and vintage (see :func:`build_areas`).

The build is deterministic and re-runnable; it refuses to overwrite a different existing file
unless ``overwrite=True``, because raw data is never modified once written.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from needskit._checks import BNG
from needskit.config.databuild import BuildPlan
from needskit.config.project import sha256_file
from needskit.errors import DataError
from needskit.partner_data.build_national import build_national_areas, retired_areas
from needskit.partner_data.reference import read_ons_lookups

__all__ = ["build_raw", "build_areas", "HIERARCHY_LOOKUPS"]

HIERARCHY_LOOKUPS = {
    2021: (
        "lookup_lsoa21_ward24_ltla24",
        "lookup_lsoa21_msoa21",
        "lookup_ltla23_utla23",
        "lookup_ltla24_region24",
    ),
    2011: (
        "lookup_lsoa11_ltla21",
        "lookup_lsoa11_msoa11",
        "lookup_lsoa11_ward17",
        "lookup_ward21_ltla21",
        "lookup_ltla21_utla21",
        "lookup_ltla21_region21",
    ),
}
"""ONS lookups (in ``lookups/``) the area layers are dissolved through."""


def _require_source(source: Path, relative: str) -> Path:
    path = source / relative
    if not path.exists():
        raise DataError(
            "source file is missing",
            where=str(path),
            expected="the shared raw-data folder described in its PROVENANCE.md",
            got="no such file",
            hint="pass --from the folder that holds imd2019/, boundaries/, census/ ...",
        )
    return path


def _write_once(dest: Path, write, *, overwrite: bool) -> None:
    """Write ``dest`` through ``write(tmp_path)``; refuse to change an existing different file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    write(tmp)
    if dest.exists() and not overwrite:
        if sha256_file(dest) != sha256_file(tmp):
            tmp.unlink()
            raise DataError(
                "raw data file already exists with different content",
                where=str(dest),
                expected="raw data never to be modified once written",
                got="a build that would change it",
                hint="delete the file deliberately, or pass --overwrite, and say why in data/README.md",
            )
        tmp.unlink()
        return
    tmp.replace(dest)


def _hierarchy(root: Path, vintage: int) -> pd.DataFrame:
    files = [_require_source(root, f"lookups/{name}.csv.gz") for name in HIERARCHY_LOOKUPS[vintage]]
    return read_ons_lookups(files, vintage=vintage)


def _partnership_lsoa21(source: Path, areas: tuple[str, ...]) -> set[str]:
    # the shared folder's own lookups: the LSOA-MSOA 2021 lookup is constructed by the build
    names = [name for name in HIERARCHY_LOOKUPS[2021] if name != "lookup_lsoa21_msoa21"]
    table = read_ons_lookups(
        [_require_source(source, f"lookups/{name}.csv.gz") for name in names], vintage=2021
    )
    inside = table[table[["district", "county", "region"]].isin(list(areas)).any(axis=1)]
    if inside.empty:
        raise DataError(
            "no 2021 LSOA lies in the partnership's area",
            where="conf/partnership.yml area",
            got=str(list(areas)),
        )
    return set(inside["lsoa"])


def _census_subset(
    source: Path,
    dest: Path,
    name: str,
    inside: set[str],
    lsoa_to_lad: pd.Series,
    *,
    suffix: str,
    overwrite: bool,
) -> None:
    table = pd.read_csv(_require_source(source, f"census/{name}.csv.gz"))
    subset = table[table["lsoa21_code"].isin(inside)]
    _write_once(
        dest / f"census/{name}_{suffix}.csv.gz",
        lambda p: subset.to_csv(p, index=False, compression={"method": "gzip", "mtime": 0}),
        overwrite=overwrite,
    )
    # National sums by district (LAD 2024), for district and England comparators.
    total_col = next(c for c in table.columns if c.startswith("total_"))
    category_col = next(c for c in table.columns if c not in {"lsoa21_code", total_col, "n", "prop"})
    with_lad = table.assign(ltla24_code=table["lsoa21_code"].map(lsoa_to_lad))
    if with_lad["ltla24_code"].isna().any():
        missing = with_lad.loc[with_lad["ltla24_code"].isna(), "lsoa21_code"].unique()[:5]
        raise DataError("LSOAs without a district in the lookup", where=name, got=str(list(missing)))
    counts = with_lad.groupby(["ltla24_code", category_col], as_index=False)["n"].sum()
    totals = with_lad.drop_duplicates("lsoa21_code").groupby("ltla24_code", as_index=False)[total_col].sum()
    by_lad = counts.merge(totals, on="ltla24_code", validate="many_to_one")
    stem = name.removesuffix("_lsoa21")
    _write_once(
        dest / f"census/{stem}_ltla24.csv.gz",
        lambda p: by_lad.to_csv(p, index=False, compression={"method": "gzip", "mtime": 0}),
        overwrite=overwrite,
    )


def _split_parent(
    parent: shapely.Geometry, children: dict[str, shapely.Geometry]
) -> dict[str, shapely.Geometry]:
    """Divide a detailed parent polygon among its children, whose outlines are only known coarsely.

    Each child gets the part of the detailed parent its coarse polygon covers. Parts of the parent
    that no coarse child covers (the detailed edge reaches beyond the generalised one) go to the
    nearest child, ties broken by the longest shared edge. The children therefore tile the
    detailed parent exactly: no gap, no overlap, same outline.
    """
    pieces = {code: shapely.intersection(parent, geom) for code, geom in children.items()}
    covered = shapely.union_all(list(children.values()))
    rest = shapely.difference(parent, covered)
    for part in shapely.get_parts(rest):
        if part.is_empty or part.area <= 0:
            continue

        def key(code: str, part=part) -> tuple[float, float]:
            shared = shapely.length(shapely.intersection(shapely.buffer(part, 1.0), children[code].boundary))
            return (round(shapely.distance(part, children[code]), 3), -shared)

        best = min(sorted(children), key=key)
        pieces[best] = shapely.union(pieces[best], part)
    return {code: shapely.make_valid(geom) for code, geom in pieces.items()}


def _polygonal(geom):
    """Keep only the polygonal parts (intersections can leave stray lines or points)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.MultiPolygon(
        [q for p in parts for q in (shapely.get_parts(p) if p.geom_type == "MultiPolygon" else [p])]
    )


def _fill_slivers(geom, *, max_area: float = 100.0):
    """Drop interior rings smaller than ``max_area`` m²: the hairline gaps left between
    neighbouring detailed LSOAs (about 0.85 m² in all for the county) when they are dissolved."""
    polygons = []
    for part in shapely.get_parts(geom):
        keep = [ring for ring in part.interiors if shapely.Polygon(ring).area > max_area]
        polygons.append(shapely.Polygon(part.exterior, keep))
    return shapely.MultiPolygon(polygons)


def build_areas(
    source: Path, raw_root: Path, *, plan: BuildPlan, areas: tuple[str, ...]
) -> dict[str, gpd.GeoDataFrame]:
    """Construct the partnership's area layers (EPSG:27700), keyed ``<level>_<vintage>``.

    * ``lsoa_2011``: the detailed ONS LSOA 2011 outlines (about 29.5k vertices).
    * ``lsoa_2021``: the 354 LSOAs unchanged in 2021 (change code U) take their detailed 2011
      outline; the 39 children of the 19 split LSOAs (code S) divide their parent's detailed
      outline along the super-generalised (BSC) 2021 boundary between them (see
      :func:`_split_parent`). Merged (M) or irregular (X) LSOAs are refused: the built-in
      example has none.
    * ``msoa``, ``ward``, ``district``, ``county``: dissolved from the LSOAs of the same vintage
      through the ONS lookups, so every level nests exactly. Wards are the ONS *best-fit* wards
      (ward 2024 on 2021 LSOAs; ward 2017 on 2011 LSOAs), as Local Insight-style tools do.
    """
    boundaries = _require_source(source, plan.boundaries_source)
    detailed = gpd.read_file(boundaries, layer=plan.detailed_2011_layer).to_crs(BNG)
    detailed["geometry"] = shapely.make_valid(detailed.geometry.values)
    bsc21 = gpd.read_file(boundaries, layer=plan.generalised_2021_layer).to_crs(BNG)

    change = pd.read_csv(_require_source(source, "lookups/lookup_lsoa11_lsoa21_ltla22.csv.gz"))
    change = change[change["lsoa11_code"].isin(detailed["lsoa11_code"])]
    unexpected = set(change["change_code"]) - {"U", "S"}
    if unexpected:
        raise DataError(
            "unexpected LSOA change codes",
            where=plan.boundaries_source,
            expected="U or S",
            got=str(unexpected),
        )

    parent_geom = detailed.set_index("lsoa11_code").geometry
    child_geom = bsc21.set_index("lsoa21_code").geometry
    geoms: dict[str, object] = {}
    how: dict[str, str] = {}
    for code11, group in change.groupby("lsoa11_code", sort=True):
        if (group["change_code"] == "U").all():
            geoms[group["lsoa21_code"].iloc[0]] = parent_geom[code11]
            how[group["lsoa21_code"].iloc[0]] = "detailed 2011 outline (unchanged LSOA)"
            continue
        kids = {code: child_geom[code] for code in group["lsoa21_code"]}
        for code, geom in _split_parent(parent_geom[code11], kids).items():
            geoms[code] = _polygonal(geom)
            how[code] = f"detailed outline of {code11} divided along the BSC 2021 boundary"

    lsoa21_lookup = pd.read_csv(_require_source(source, "lookups/lookup_lsoa21_ward24_ltla24.csv.gz"))
    lsoa21_lookup = lsoa21_lookup[lsoa21_lookup["lsoa21_code"].isin(geoms)].set_index("lsoa21_code")
    lsoa21 = gpd.GeoDataFrame(
        {
            "area_code": list(geoms),
            "area_name": [lsoa21_lookup.loc[c, "lsoa21_name"] for c in geoms],
            "boundary_source": [how[c] for c in geoms],
        },
        geometry=[_polygonal(g) for g in geoms.values()],
        crs=BNG,
    ).sort_values("area_code", ignore_index=True)

    lad11 = pd.read_csv(_require_source(source, "lookups/lookup_lsoa11_ltla21.csv.gz")).set_index(
        "lsoa11_code"
    )
    lsoa11 = gpd.GeoDataFrame(
        {
            "area_code": detailed["lsoa11_code"],
            "area_name": detailed["lsoa11_code"].map(lad11["lsoa11_name"]),
            "boundary_source": "detailed ONS LSOA 2011 outline",
        },
        geometry=detailed.geometry.map(_polygonal),
        crs=BNG,
    ).sort_values("area_code", ignore_index=True)

    # Parent codes for each LSOA, from the copied ONS lookups (the same table lookup() serves).
    parents21 = _hierarchy(raw_root, 2021).rename(columns={"lsoa": "lsoa_code"})
    parents11 = _hierarchy(raw_root, 2011).rename(columns={"lsoa": "lsoa_code"})

    layers: dict[str, gpd.GeoDataFrame] = {"lsoa_2021": lsoa21, "lsoa_2011": lsoa11}
    for vintage, lsoas, parents in ((2021, lsoa21, parents21), (2011, lsoa11, parents11)):
        parents = parents[parents["lsoa_code"].isin(lsoas["area_code"])]
        if (
            len(parents) != len(lsoas)
            or parents.isna().any().any()
            or not parents[["district", "county", "region"]].isin(list(areas)).any(axis=1).all()
        ):
            raise DataError("LSOAs without a full set of parents in the lookups", where=f"vintage {vintage}")
        for level in ("msoa", "ward", "district", "county"):
            frame = lsoas[["area_code", "geometry"]].merge(
                parents[["lsoa_code", level, f"{level}_name"]], left_on="area_code", right_on="lsoa_code"
            )
            dissolved = frame.dissolve(by=[level, f"{level}_name"], as_index=False)[
                [level, f"{level}_name", "geometry"]
            ]
            dissolved = dissolved.rename(columns={level: "area_code", f"{level}_name": "area_name"})
            dissolved["boundary_source"] = f"dissolved from the {vintage} LSOAs through the ONS lookup"
            dissolved["geometry"] = dissolved.geometry.map(_polygonal).map(_fill_slivers)
            layers[f"{level}_{vintage}"] = gpd.GeoDataFrame(dissolved, crs=BNG).sort_values(
                "area_code", ignore_index=True
            )
    return layers


def _msoa21_names(source: Path) -> pd.DataFrame:
    """MSOA 2021 names and codes (LSOA 2021 names are the MSOA name plus a letter)."""
    table = pd.read_csv(_require_source(source, "lookups/lookup_msoa11_msoa21_ltla22.csv.gz"))
    names = table[["msoa21_name", "msoa21_code"]].drop_duplicates()
    boundaries = source / "boundaries/msoa21_dec2021_ew_bsc_v2_simplified.gpkg"
    if boundaries.exists():
        import pyogrio

        extra = pyogrio.read_dataframe(boundaries, read_geometry=False)[["msoa21_name", "msoa21_code"]]
        names = pd.concat([names, extra]).drop_duplicates()
    return names


def _lsoa21_msoa21(source: Path) -> pd.DataFrame:
    lsoas = pd.read_csv(_require_source(source, "lookups/lookup_lsoa21_ward24_ltla24.csv.gz"))
    names = _msoa21_names(source).drop_duplicates("msoa21_name").set_index("msoa21_name")["msoa21_code"]
    out = lsoas[["lsoa21_code", "lsoa21_name"]].copy()
    out["msoa21_name"] = out["lsoa21_name"].str[:-1]
    out["msoa21_code"] = out["msoa21_name"].map(names)
    return out


def build_raw(
    source: Path | str,
    dest: Path | str,
    *,
    plan: BuildPlan,
    areas: tuple[str, ...],
    overwrite: bool = False,
    files: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Write the project's ``data/raw`` from the shared raw folder; return a manifest frame.

    Parameters
    ----------
    source
        The shared raw-data folder (``../shared/data/raw``).
    dest
        The project's ``data/raw``.
    plan
        What to copy, subset and build (``conf/databuild.yml``).
    areas
        The partnership's area codes (``conf/partnership.yml``): subsets keep its LSOAs.
    overwrite
        Replace existing files whose content would change (never needed for a re-run).
    files
        Restrict the copies to these relative paths (tests use this).

    Returns
    -------
    DataFrame with ``file``, ``bytes``, ``sha256``, ``how`` (copied / subset / constructed) and
    ``source``; it is also written to ``MANIFEST.csv``.
    """
    source = Path(source)
    dest = Path(dest)
    if not source.is_dir():
        raise DataError(
            "source folder does not exist",
            where=str(source),
            expected="the shared raw-data folder",
            got="no such folder",
            hint="pass --from ../shared/data/raw",
        )
    records = []
    for relative in files if files is not None else plan.copy:
        src = _require_source(source, relative)
        _write_once(dest / relative, lambda p, s=src: shutil.copyfile(s, p), overwrite=overwrite)
        records.append((relative, "copied", relative))

    if files is None:
        inside = _partnership_lsoa21(source, areas)
        lsoa_to_lad = pd.read_csv(source / "lookups/lookup_lsoa21_ward24_ltla24.csv.gz").set_index(
            "lsoa21_code"
        )["ltla24_code"]
        for name in plan.census_subsets:
            _census_subset(
                source, dest, name, inside, lsoa_to_lad, suffix=plan.subset_suffix, overwrite=overwrite
            )
            stem = name.removesuffix("_lsoa21")
            records.append(
                (
                    f"census/{name}_{plan.subset_suffix}.csv.gz",
                    "subset: the partnership's LSOAs",
                    f"census/{name}.csv.gz",
                )
            )
            records.append(
                (
                    f"census/{stem}_ltla24.csv.gz",
                    "constructed: national sums by LAD 2024",
                    f"census/{name}.csv.gz",
                )
            )

        msoa = _lsoa21_msoa21(source)
        _write_once(
            dest / "lookups/lookup_lsoa21_msoa21.csv.gz",
            lambda p: msoa.to_csv(p, index=False, compression={"method": "gzip", "mtime": 0}),
            overwrite=overwrite,
        )
        records.append(
            ("lookups/lookup_lsoa21_msoa21.csv.gz", "constructed: MSOA from LSOA name", "lookups/")
        )

        layers = build_areas(source, dest, plan=plan, areas=areas)
        _write_layers(dest / plan.boundaries_target, layers, overwrite=overwrite)
        records.append(
            (
                plan.boundaries_target,
                "constructed: see needskit.partner_data.build.build_areas",
                plan.boundaries_source,
            )
        )

    if files is None and plan.national_lsoa_2021 and plan.national_target:
        national = build_national_areas(_require_source(source, plan.national_lsoa_2021), dest)
        _write_layers(dest / plan.national_target, national, overwrite=overwrite)
        records.append(
            (
                plan.national_target,
                "constructed: see needskit.partner_data.build_national.build_national_areas",
                plan.national_lsoa_2021,
            )
        )
    if files is None and plan.retired_source and plan.retired_target:
        retired = retired_areas(_require_source(source, plan.retired_source), dest)
        _write_once(
            dest / plan.retired_target,
            lambda p: retired.to_csv(p, index=False, compression={"method": "gzip", "mtime": 0}),
            overwrite=overwrite,
        )
        records.append(
            (
                plan.retired_target,
                "constructed: see needskit.partner_data.build_national.retired_areas",
                plan.retired_source,
            )
        )

    manifest = pd.DataFrame(records, columns=["file", "how", "source"])
    manifest["bytes"] = [(dest / f).stat().st_size for f in manifest["file"]]
    manifest["sha256"] = [sha256_file(dest / f) for f in manifest["file"]]
    if files is None:
        manifest.to_csv(dest / "MANIFEST.csv", index=False)
    return manifest


def _write_layers(target: Path, layers: dict[str, gpd.GeoDataFrame], *, overwrite: bool) -> None:
    """Write area layers to a GeoPackage once; a rebuild must give the same layers (GeoPackages
    embed timestamps, so the layers are compared, not the bytes)."""
    if target.exists() and not overwrite:
        _check_same_areas(target, layers)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    for name, layer in layers.items():
        layer.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    tmp.replace(target)


def _check_same_areas(path: Path, layers: dict) -> None:
    for name, layer in layers.items():
        existing = gpd.read_file(path, layer=name)
        if len(existing) != len(layer):
            raise DataError("shipped boundary layer differs from a fresh build", where=f"{path}:{name}")
        same = np.allclose(existing.geometry.area.to_numpy(), layer.geometry.area.to_numpy(), rtol=1e-9)
        if not same:
            raise DataError(
                "shipped boundary layer differs from a fresh build",
                where=f"{path}:{name}",
                hint="pass --overwrite deliberately and record why in data/README.md",
            )
