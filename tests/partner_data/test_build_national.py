"""needskit.partner_data.build_national: England's area layers and the retired area codes shipped
in data/raw (the national backbone every partnership starts from)."""

from __future__ import annotations

import functools

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from needskit.errors import DataError
from needskit.partner_data.build_national import (
    EARLIER_COUNTIES,
    NATIONAL_LEVELS,
    NATIONAL_LOOKUPS,
    build_national_areas,
)
from needskit.partner_data.reference import read_ons_lookups
from partner_files import RAW

NATIONAL = RAW / "national" / "england_areas_2021.gpkg"


@functools.cache
def _lookups() -> pd.DataFrame:
    files = [RAW / "lookups" / f"{stem}.csv.gz" for stem in NATIONAL_LOOKUPS]
    return read_ons_lookups(files, vintage=2021, where="national lookups")


def test_the_shipped_layers_cover_england_and_match_the_lookups():
    layers = dict(pyogrio.list_layers(NATIONAL))
    assert set(layers) == {"lsoa_2021"} | {f"{level}_2021" for level in NATIONAL_LEVELS}
    table = _lookups()
    english = table[table["lsoa"].str.startswith("E")]
    lsoas = pyogrio.read_dataframe(NATIONAL, layer="lsoa_2021", read_geometry=False)
    assert len(lsoas) == 33_755 and set(lsoas["area_code"]) == set(english["lsoa"])
    for level in NATIONAL_LEVELS:
        codes = pyogrio.read_dataframe(NATIONAL, layer=f"{level}_2021", read_geometry=False)["area_code"]
        assert codes.is_unique, level
        assert set(codes) == set(english[level].dropna()), level
    # the England counts published by ONS for these vintages
    counts = {lvl: pyogrio.read_info(NATIONAL, layer=f"{lvl}_2021")["features"] for lvl in NATIONAL_LEVELS}
    assert counts["msoa"] == 6_856 and counts["region"] == 9 and counts["icb"] == 42
    assert counts["district"] == 296 and counts["pfa"] == 39


def test_a_district_is_the_union_of_its_lsoas():
    table = _lookups().set_index("lsoa")
    wanted = table.index[table["district"].isin(["E07000078", "E07000081"])]
    listed = ", ".join(f"'{code}'" for code in wanted)
    lsoas = gpd.read_file(NATIONAL, layer="lsoa_2021", where=f"area_code IN ({listed})")
    districts = gpd.read_file(NATIONAL, layer="district_2021")
    lsoas["district"] = lsoas["area_code"].map(table["district"])
    for code in ("E07000078", "E07000081"):  # Cheltenham, Gloucester
        ours = lsoas[lsoas["district"] == code]
        outline = districts[districts["area_code"] == code].geometry.iloc[0]
        assert len(ours) > 70
        assert abs(ours.geometry.area.sum() - outline.area) / outline.area < 1e-6
        assert str(districts.crs.to_epsg()) == "27700"


def test_retired_codes_name_their_successors():
    retired = pd.read_csv(RAW / "lookups" / "retired_areas.csv.gz", dtype=str).set_index("code")
    assert retired.loc["E07000004", "successor_names"] == "Buckinghamshire"  # Aylesbury Vale, 2020
    assert retired.loc["E10000006", "successor_codes"] == "E06000063; E06000064"  # Cumbria, 2023
    assert retired.loc["E07000246", "successor_codes"] == "E06000066"  # Somerset West and Taunton
    for code, _, successors in EARLIER_COUNTIES:
        assert retired.loc[code, "successor_codes"] == successors
    current = set(_lookups()["district"]) | set(_lookups()["county"])
    assert not set(retired.index) & current
    for successors in retired["successor_codes"]:
        assert set(successors.split("; ")) <= current


def test_a_small_national_build_dissolves_through_the_lookups(tmp_path):
    table = _lookups()
    picks = (
        table[table["district"].isin(["E07000078", "E07000081"])]
        .sort_values("lsoa")
        .groupby("district")
        .head(2)
    )
    squares = gpd.GeoDataFrame(
        {
            "LSOA21CD": picks["lsoa"].tolist() + ["W01000001"],
            "LSOA21NM": picks["lsoa_name"].tolist() + ["Welsh LSOA"],
        },
        geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(len(picks) + 1)],
        crs="EPSG:27700",
    )
    path = tmp_path / "lsoas.gpkg"
    squares.to_file(path, driver="GPKG")
    layers = build_national_areas(path, RAW)
    assert layers["lsoa_2021"]["area_code"].tolist() == sorted(picks["lsoa"])  # Wales left out
    districts = layers["district_2021"].set_index("area_code")
    assert districts.loc["E07000078", "area_name"] == "Cheltenham"
    assert districts.geometry.area.tolist() == [20_000.0, 20_000.0]
    assert layers["county_2021"]["area_code"].tolist() == ["E10000013"]
    assert layers["region_2021"].geometry.area.tolist() == [40_000.0]


def test_lsoas_the_lookups_do_not_know_are_refused(tmp_path):
    path = tmp_path / "lsoas.gpkg"
    gpd.GeoDataFrame(
        {"LSOA21CD": ["E01999999"], "LSOA21NM": ["Nowhere 001A"]},
        geometry=[box(0, 0, 1, 1)],
        crs="EPSG:27700",
    ).to_file(path, driver="GPKG")
    with pytest.raises(DataError, match="LSOAs the lookups do not know") as info:
        build_national_areas(path, RAW)
    assert "E01999999" in str(info.value)
    with pytest.raises(DataError, match="national LSOA boundaries are missing"):
        build_national_areas(tmp_path / "absent.gpkg", RAW)
