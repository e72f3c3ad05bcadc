"""Fixtures of the place tests: a hand-drawn toy geography, the squares partnership, the shipped example.

The toy geography is drawn by hand (no files)::

    region E12000009 (South West), England
      county E10000001 (Shire), two-tier
        district E07000001 (Northtown): wards E05000001 (LSOAs 01, 02), E05000002 (03, 04)
        district E07000002 (Southtown): ward E05000003 (05, 06)
      unitary E06000001 (Unitown), county and district at once
        wards E05000004 (07, 08), E05000005 (09, 10)
      MSOAs cut across wards (not across districts): E02000001 = 01, 02, 03; E02000002 = 04;
        E02000003 = 05, 06; E02000004 = 07, 08, 09; E02000005 = 10
    and in Wales: W01000001, W01000002 in principal area W06000001 (Cymtown)

LSOA ``E0100000k`` is the 1 km square ``k - 1`` kilometres east of (394000, 222000).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from needskit.config import load_catalog, load_partnership
from needskit.config.project import project_dir
from needskit.partner_data.reference import load_geography
from needskit.place import Geography
from squares import write_squares_project

X0, Y0 = 394_000, 222_000
SHIRE, NORTHTOWN, SOUTHTOWN = "E10000001", "E07000001", "E07000002"
UNITOWN, CYMTOWN = "E06000001", "W06000001"
TOY_WARDS = {  # ward: (name, district, county)
    "E05000001": ("North One", NORTHTOWN, SHIRE),
    "E05000002": ("North Two", NORTHTOWN, SHIRE),
    "E05000003": ("South One", SOUTHTOWN, SHIRE),
    "E05000004": ("Uni One", UNITOWN, UNITOWN),
    "E05000005": ("Uni Two", UNITOWN, UNITOWN),
}
DISTRICT_NAMES = {NORTHTOWN: "Northtown", SOUTHTOWN: "Southtown", UNITOWN: "Unitown", CYMTOWN: "Cymtown"}
COUNTY_NAMES = {SHIRE: "Shire", UNITOWN: "Unitown"}
TOY_MSOA = {1: 1, 2: 1, 3: 1, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4, 9: 4, 10: 5}  # LSOA number: MSOA number


def _toy_hierarchy() -> pd.DataFrame:
    """The toy geography's 2021 hierarchy (one row per LSOA, every HIERARCHY_COLUMN)."""
    rows = []
    for i, (ward, (ward_name, district, county)) in enumerate(TOY_WARDS.items()):
        for j in range(2):
            k = 2 * i + j + 1
            rows.append(
                {
                    "lsoa": f"E010000{k:02d}",
                    "lsoa_name": f"{DISTRICT_NAMES[district]} {k:03d}",
                    "msoa": f"E0200000{TOY_MSOA[k]}",
                    "msoa_name": f"{DISTRICT_NAMES[district]} MSOA {TOY_MSOA[k]}",
                    "ward": ward,
                    "ward_name": ward_name,
                    "district": district,
                    "district_name": DISTRICT_NAMES[district],
                    "county": county,
                    "county_name": COUNTY_NAMES[county],
                    "region": "E12000009",
                    "region_name": "South West",
                    "country": "E92000001",
                    "country_name": "England",
                }
            )
    for k in (1, 2):
        rows.append(
            {
                "lsoa": f"W0100000{k}",
                "lsoa_name": f"Cymtown 00{k}A",
                "msoa": "W02000001",
                "msoa_name": "Cymtown 001",
                "ward": "W05000001",
                "ward_name": "Cym Ward",
                "district": CYMTOWN,
                "district_name": "Cymtown",
                "county": CYMTOWN,
                "county_name": "Cymtown",
                "region": "W92000004",
                "region_name": "Wales",
                "country": "W92000004",
                "country_name": "Wales",
            }
        )
    return pd.DataFrame(rows)


def _toy_lsoas() -> gpd.GeoDataFrame:
    """The toy geography's English 2021 LSOAs: ten 1 km squares in a row."""
    codes = [f"E010000{k:02d}" for k in range(1, 11)]
    return gpd.GeoDataFrame(
        {"area_code": codes, "area_name": [f"LSOA {c[-2:]}" for c in codes]},
        geometry=[box(X0 + 1000 * i, Y0, X0 + 1000 * (i + 1), Y0 + 1000) for i in range(10)],
        crs="EPSG:27700",
    )


def _toy_boundaries() -> dict[tuple[str, int], gpd.GeoDataFrame]:
    """The toy geography's English 2021 boundaries of every level, dissolved from its LSOAs."""
    lsoas = _toy_lsoas()
    table = _toy_hierarchy().set_index("lsoa")
    out = {("lsoa", 2021): lsoas}
    for level in ("msoa", "ward", "district", "county"):
        frame = lsoas.assign(
            area_code=lsoas["area_code"].map(table[level]),
            area_name=lsoas["area_code"].map(table[f"{level}_name"]),
        )
        out[(level, 2021)] = frame.dissolve(by=["area_code", "area_name"], as_index=False)[
            ["area_code", "area_name", "geometry"]
        ]
    return out


@pytest.fixture
def toy_hierarchy() -> pd.DataFrame:
    """The toy geography's 2021 hierarchy: ten English and two Welsh LSOAs (a fresh frame)."""
    return _toy_hierarchy()


@pytest.fixture
def toy_lsoas() -> gpd.GeoDataFrame:
    """The toy geography's ten English 2021 LSOAs, 1 km squares in a row (a fresh frame)."""
    return _toy_lsoas()


@pytest.fixture
def toy_boundaries() -> dict[tuple[str, int], gpd.GeoDataFrame]:
    """The toy geography's English 2021 boundaries of every level (fresh frames)."""
    return _toy_boundaries()


@pytest.fixture
def toy_geography() -> Geography:
    """The hand-drawn toy geography: a 2021 hierarchy and English boundaries of every level (fresh
    for each test; no LSOA changes, postcodes or populations)."""
    return Geography(hierarchies={2021: _toy_hierarchy()}, boundaries=_toy_boundaries())


# ------------------------------------------------------------------ the squares partnership


@pytest.fixture(scope="session")
def squares_project(tmp_path_factory):
    """The squares partnership's project (see tests/squares.py), written once per session."""
    return write_squares_project(tmp_path_factory.mktemp("squares"))


@pytest.fixture(scope="session")
def squares_catalog(squares_project):
    return load_catalog(squares_project / "conf" / "catalog.yml")


@pytest.fixture(scope="session")
def squares_partnership(squares_project):
    return load_partnership(squares_project / "conf" / "partnership.yml")


@pytest.fixture(scope="session")
def squares_geography(squares_catalog, squares_partnership) -> Geography:
    """The squares partnership's geography, read from its files by load_geography."""
    return load_geography(squares_catalog, squares_partnership)


# ------------------------------------------------------------------ the shipped example


@pytest.fixture(scope="session")
def shipped_root():
    return project_dir()


@pytest.fixture(scope="session")
def shipped_catalog(shipped_root):
    return load_catalog(shipped_root / "conf" / "catalog.yml")


@pytest.fixture(scope="session")
def shipped_partnership(shipped_root):
    return load_partnership(shipped_root / "conf" / "partnership.yml")


@pytest.fixture(scope="session")
def shipped_geography(shipped_catalog, shipped_partnership) -> Geography:
    """The shipped Gloucestershire example's geography, built once per session (its parts are
    read on first use and kept; accessors hand out copies, so tests cannot spoil it)."""
    return load_geography(shipped_catalog, shipped_partnership)
