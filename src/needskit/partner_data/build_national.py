"""The national backbone of the data build: England's area layers and the retired area codes.

Any partnership in England starts from these (``needskit init``):

* :func:`build_national_areas` — England's 2021 LSOAs (the ONS super-generalised outlines,
  reprojected to British National Grid) and every level above them, **dissolved from the LSOAs
  through the ONS best-fit lookups** so that the levels nest exactly and carry the lookups' codes:
  MSOA 2021, ward 2024, district 2024, county/unitary, region, ICB 2024, police force area 2024;
* :func:`retired_areas` — district and county codes of the 2011 geography (2017 districts and
  the 2021 lookups' counties) that no longer exist, with the 2024 districts and counties their
  LSOAs lie in now, so that ``needskit init --area`` can name the successor of a retired code.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from needskit._checks import BNG
from needskit.errors import DataError
from needskit.partner_data.reference import read_ons_lookups

__all__ = ["build_national_areas", "retired_areas", "NATIONAL_LOOKUPS", "NATIONAL_LEVELS"]

NATIONAL_LOOKUPS = (
    "lookup_lsoa21_ward24_ltla24",
    "lookup_lsoa21_msoa21",
    "lookup_ltla23_utla23",
    "lookup_ltla24_region24",
    "lookup_lsoa21_icb24",
    "lookup_ltla24_csp24_pfa24",
)
"""The ONS lookups (in ``lookups/``) the national layers are dissolved through."""
DISSOLVED_SOURCE = "dissolved from the LSOA 2021 super-generalised outlines through the ONS lookup"
NATIONAL_LEVELS = ("msoa", "ward", "district", "county", "region", "icb", "pfa")


EARLIER_COUNTIES = (
    ("E10000002", "Buckinghamshire", "E06000060"),
    ("E10000009", "Dorset", "E06000058; E06000059"),
    ("E10000021", "Northamptonshire", "E06000061; E06000062"),
)
"""County codes retired before the 2021 lookups begin (ONS Register of Geographic Codes:
Dorset 2019, Buckinghamshire 2020, Northamptonshire 2021), with their successor unitaries; the
shipped lookups cannot show these, so they are listed here."""


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygons of a geometry (a dissolve can leave slivers of lines)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else geom


def build_national_areas(lsoa_file: Path, raw_root: Path) -> dict[str, gpd.GeoDataFrame]:
    """England's 2021 area layers, keyed ``<level>_2021`` (``icb_2021``/``pfa_2021`` for the
    area types), in EPSG:27700, with ``area_code``, ``area_name`` and ``boundary_source``.

    Parameters
    ----------
    lsoa_file
        The ONS LSOA 2021 boundaries (one layer, ``lsoa21_code``/``lsoa21_name`` or
        ``LSOA21CD``/``LSOA21NM`` columns; any CRS).
    raw_root
        The project's ``data/raw`` holding the lookups (:data:`NATIONAL_LOOKUPS`).

    Raises
    ------
    DataError
        A missing file, or LSOAs the lookups do not know.
    """
    if not lsoa_file.is_file():
        raise DataError(
            "national LSOA boundaries are missing",
            where=str(lsoa_file),
            hint="pass --from ../shared/data/raw",
        )
    frame = pyogrio.read_dataframe(lsoa_file)
    columns = {c.lower(): c for c in frame.columns}
    code = columns.get("lsoa21_code") or columns.get("lsoa21cd")
    name = columns.get("lsoa21_name") or columns.get("lsoa21nm")
    if code is None or name is None:
        raise DataError(
            "has no LSOA 2021 code and name columns", where=str(lsoa_file), got=str(list(frame.columns))
        )
    frame = frame[frame[code].astype(str).str.startswith("E")].to_crs(BNG)
    source = "ONS LSOA 2021 super-generalised outline (200 m)"
    lsoas = gpd.GeoDataFrame(
        {"area_code": frame[code].astype(str).to_numpy(), "area_name": frame[name].astype(str).to_numpy()},
        geometry=shapely.make_valid(frame.geometry.to_numpy()),
        crs=BNG,
    ).assign(boundary_source=source)
    lsoas["geometry"] = lsoas.geometry.map(_polygonal)
    files = [raw_root / "lookups" / f"{stem}.csv.gz" for stem in NATIONAL_LOOKUPS]
    table = read_ons_lookups(files, vintage=2021, where="national lookups").set_index("lsoa")
    missing = sorted(set(lsoas["area_code"]) - set(table.index))
    if missing:
        raise DataError(
            "LSOAs the lookups do not know", where=str(lsoa_file), got=f"{len(missing)}, e.g. {missing[:5]}"
        )
    layers = {"lsoa_2021": lsoas.sort_values("area_code", ignore_index=True)}
    for level in NATIONAL_LEVELS:
        keyed = lsoas.assign(
            code=lsoas["area_code"].map(table[level]), name=lsoas["area_code"].map(table[f"{level}_name"])
        )
        keyed = keyed[keyed["code"].notna()]
        groups = keyed.groupby(["code", "name"], sort=True)
        geometries = [_polygonal(shapely.union_all(part.geometry.to_numpy())) for _, part in groups]
        keys = list(groups.groups)
        layers[f"{level}_2021"] = gpd.GeoDataFrame(
            {
                "area_code": [k[0] for k in keys],
                "area_name": [k[1] for k in keys],
                "boundary_source": DISSOLVED_SOURCE,
            },
            geometry=geometries,
            crs=BNG,
        )
    return layers


def retired_areas(oa_lookup: Path, raw_root: Path) -> pd.DataFrame:
    """District and county codes of the 2011 geography that the 2024 lookups no longer have, with
    the 2024 districts and counties their LSOAs lie in now.

    Returns
    -------
    DataFrame ``code``, ``name``, ``level`` (district or county), ``successor_codes`` and
    ``successor_names`` (``"; "``-joined, sorted by code).
    """
    if not oa_lookup.is_file():
        raise DataError(
            "the 2011 output-area lookup is missing",
            where=str(oa_lookup),
            hint="pass --from ../shared/data/raw",
        )
    old = pd.read_csv(oa_lookup, dtype=str, encoding="utf-8-sig", usecols=["LSOA11CD", "LAD17CD", "LAD17NM"])
    old = old.drop_duplicates("LSOA11CD").rename(
        columns={"LSOA11CD": "lsoa11", "LAD17CD": "code", "LAD17NM": "name"}
    )
    old = old.assign(level="district")
    counties = pd.read_csv(
        raw_root / "lookups" / "lookup_ltla21_utla21.csv.gz", dtype=str, encoding="utf-8-sig"
    )
    lsoa11 = pd.read_csv(
        raw_root / "lookups" / "lookup_lsoa11_ltla21.csv.gz", dtype=str, encoding="utf-8-sig"
    )
    county_of = lsoa11.merge(counties, on="ltla21_code")[["lsoa11_code", "utla21_code", "utla21_name"]]
    old = pd.concat(
        [
            old,
            county_of.rename(
                columns={"lsoa11_code": "lsoa11", "utla21_code": "code", "utla21_name": "name"}
            ).assign(level="county"),
            lsoa11.rename(columns={"lsoa11_code": "lsoa11", "ltla21_code": "code", "ltla21_name": "name"})[
                ["lsoa11", "code", "name"]
            ].assign(level="district"),
        ],
        ignore_index=True,
    )
    old = old[old["code"].str.startswith("E")]
    changes = pd.read_csv(
        raw_root / "lookups" / "lookup_lsoa11_lsoa21_ltla22.csv.gz", dtype=str, encoding="utf-8-sig"
    )
    files = [raw_root / "lookups" / f"{stem}.csv.gz" for stem in NATIONAL_LOOKUPS]
    now = read_ons_lookups(files, vintage=2021, where="national lookups")
    current = set(now["district"]) | set(now["county"])
    retired = old[~old["code"].isin(current)]
    linked = retired.merge(changes[["lsoa11_code", "lsoa21_code"]], left_on="lsoa11", right_on="lsoa11_code")
    linked = linked.merge(
        now[["lsoa", "district", "district_name", "county", "county_name"]],
        left_on="lsoa21_code",
        right_on="lsoa",
    )
    names = now.drop_duplicates("county").set_index("county")["county_name"]
    rows = [
        {
            "code": code,
            "name": name,
            "level": "county",
            "successor_codes": successors,
            "successor_names": "; ".join(names[c] for c in successors.split("; ")),
        }
        for code, name, successors in EARLIER_COUNTIES
    ]
    for (code, name, level), part in linked.groupby(["code", "name", "level"], sort=True):
        target = "district" if level == "district" else "county"
        pairs = part[[target, f"{target}_name"]].drop_duplicates().sort_values(target)
        rows.append(
            {
                "code": code,
                "name": name,
                "level": level,
                "successor_codes": "; ".join(pairs[target]),
                "successor_names": "; ".join(pairs[f"{target}_name"]),
            }
        )
    table = pd.DataFrame(rows, columns=["code", "name", "level", "successor_codes", "successor_names"])
    return table.drop_duplicates("code").sort_values("code", ignore_index=True)
