"""needskit.partner_data.published_codes: a publisher's own LSOA codes of either vintage, on the
shipped geography's real codes (ONS LSOA 2011 → 2021 lookup) and the county's LSOA outlines."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from needskit.partner_data.prepare import partnership_lsoas
from needskit.partner_data.published_codes import (
    AGREEMENT_COLUMNS,
    agreement_table,
    code_lookup,
    code_paths,
    codes_agree,
    place_by_code,
)
from needskit.place.points import to_bng
from partner_files import CHELTENHAM_POINT, shipped_place

U = "E01022163"  # Cheltenham 001A: unchanged (U), the same code in 2011 and 2021
PARENT = "E01022158"  # Cheltenham 007F (2011), split (S) in 2021 into
CHILD_G, CHILD_H = "E01034777", "E01034778"  # Cheltenham 007G and 007H
IN_G, IN_H = (-2.089044, 51.905734), (-2.088629, 51.902886)  # points inside each child
MERGED = ("E01011973", "E01011976")  # Hartlepool (2011), merged (M) in 2021 into
MERGED_INTO = "E01035188"
IRREGULAR = "E01023964"  # Welwyn Hatfield 014C (2011), irregular (X): became E01035581 and E01035608
IRREGULAR_ONE = "E01027506"  # Northumberland 039D (2011), irregular (X): became E01035637 only


@pytest.fixture(scope="module")
def place():
    return shipped_place()


@pytest.fixture(scope="module")
def lookup(place):
    return code_lookup(place.geography, vintage=2021)


@pytest.fixture(scope="module")
def lsoas(place):
    return partnership_lsoas(place.area, place.geography)


def _bng(points):
    lon, lat = np.array([p[0] for p in points], float), np.array([p[1] for p in points], float)
    return to_bng(lon, lat, "EPSG:4326")[:2]


def test_every_code_of_either_vintage_stands_for_lsoas_of_the_profile(lookup):
    by_code = lookup.groupby("code").agg(path=("path", "first"), lsoas=("lsoa", lambda s: sorted(s)))
    assert by_code.loc[U].tolist() == ["by_code", [U]]  # unchanged: a code of 2021 already
    assert by_code.loc[CHILD_G].tolist() == ["by_code", [CHILD_G]]
    assert by_code.loc[PARENT].tolist() == ["split_by_point", [CHILD_G, CHILD_H]]
    for merged in MERGED:
        assert by_code.loc[merged].tolist() == ["by_code_2011", [MERGED_INTO]]
    assert by_code.loc[IRREGULAR].tolist() == ["split_by_point", ["E01035581", "E01035608"]]
    assert by_code.loc[IRREGULAR_ONE].tolist() == ["split_by_point", ["E01035637"]]  # X: by point, always
    assert by_code.loc["W01000624", "path"] == "by_code"  # Welsh codes are known, and outside England's areas
    # every 2021 code once, every 2011-only code of the ONS lookup too
    assert lookup.loc[lookup["path"] == "by_code", "code"].is_unique
    assert (lookup["path"] == "split_by_point").sum() > (lookup["path"] == "by_code_2011").sum() > 0


def test_a_2011_profile_reads_2021_codes_the_other_way_round(place):
    lookup = code_lookup(place.geography, vintage=2011)
    by_code = lookup.groupby("code").agg(path=("path", "first"), lsoas=("lsoa", lambda s: sorted(s)))
    assert by_code.loc[CHILD_G].tolist() == ["by_code_2021", [PARENT]]  # a split child has one parent
    assert by_code.loc[MERGED_INTO].tolist() == ["split_by_point", list(MERGED)]
    assert by_code.loc[PARENT].tolist() == ["by_code", [PARENT]]


def test_code_paths_of_each_row(lookup):
    codes = pd.Series(
        [U, f" {PARENT} ", MERGED[0], "", None, "E01999999", CHILD_H], index=[5, 6, 7, 8, 9, 10, 11]
    )
    paths = code_paths(codes, lookup=lookup)
    assert paths.index.tolist() == codes.index.tolist()
    assert paths["path"].tolist() == ["by_code", "split_by_point", "by_code_2011", "", "", "", "by_code"]
    assert paths["lsoa"].tolist() == [U, pd.NA, MERGED_INTO, pd.NA, pd.NA, pd.NA, CHILD_H]
    assert paths.loc[6, "code"] == PARENT  # stripped
    assert paths["code"].isna().tolist() == [False, False, False, True, True, False, False]


def test_split_codes_are_placed_by_the_point_among_the_lsoas_they_became(lookup, lsoas):
    points = [IN_G, IN_H, CHELTENHAM_POINT, (np.nan, np.nan), IN_H, CHELTENHAM_POINT]
    codes = pd.Series([PARENT, PARENT, PARENT, PARENT, CHILD_G, U])
    x, y = _bng(points)
    placed = place_by_code(code_paths(codes, lookup=lookup), x=x, y=y, areas=lsoas, lookup=lookup)
    # within each child; a point in neither (it lies in Cheltenham 001A) goes to the nearest child
    # (007G is 863 m away, 007H 1,279 m); no point: no choice; a code of 2021 is kept whatever the point
    assert placed.tolist() == [CHILD_G, CHILD_H, CHILD_G, pd.NA, CHILD_G, U]


def test_a_split_code_partly_outside_the_areas_is_placed_only_within(lookup, lsoas):
    without_h = lsoas[lsoas["area_code"] != CHILD_H]
    x, y = _bng([IN_G, IN_H, CHELTENHAM_POINT])
    paths = code_paths(pd.Series([PARENT] * 3), lookup=lookup)
    placed = place_by_code(paths, x=x, y=y, areas=without_h, lookup=lookup)
    # the point in 007H may be in the part outside: outside, not the nearest child that is inside
    assert placed.tolist() == [CHILD_G, pd.NA, pd.NA]


def test_merged_2011_codes_are_converted_to_their_one_2021_lsoa(lookup):
    # Hartlepool's merged LSOA as the only area (a hand-drawn outline: only the code matters)
    areas = gpd.GeoDataFrame(
        {"area_code": [MERGED_INTO]}, geometry=[box(448_000, 532_000, 449_000, 533_000)], crs=27700
    )
    paths = code_paths(pd.Series([MERGED[0], MERGED[1], U]), lookup=lookup)
    nowhere = np.full(3, np.nan)
    placed = place_by_code(paths, x=nowhere, y=nowhere, areas=areas, lookup=lookup)
    assert placed.tolist() == [MERGED_INTO, MERGED_INTO, pd.NA]  # U is a real code, outside these areas


def test_code_and_point_agree_when_the_point_lies_in_the_codes_lsoa(lookup):
    codes = pd.Series([U, U, PARENT, PARENT, MERGED[0], "", None])
    points = pd.Series([U, CHILD_G, CHILD_H, U, MERGED_INTO, U, pd.NA], dtype="string")
    agree = codes_agree(code_paths(codes, lookup=lookup), points, lookup=lookup)
    assert agree.tolist() == [True, False, True, False, True, False, False]


def test_agreement_table_by_period():
    period = pd.Series(["2024-02", "2024-01", "2024-01", "2024-01", "2024-02", "2024-03"])
    compared = pd.Series([True, True, True, False, True, False])
    agrees = pd.Series([True, True, False, True, False, False])
    table = agreement_table(period, compared=compared, agrees=agrees, dataset="crimes")
    assert list(table.columns) == AGREEMENT_COLUMNS
    assert table.drop(columns="share").values.tolist() == [
        ["crimes", "2024-01", 2, 1],  # the row not compared does not count, even if it "agrees"
        ["crimes", "2024-02", 2, 1],
        ["crimes", "2024-03", 0, 0],
    ]
    assert table["share"].tolist()[:2] == [0.5, 0.5] and np.isnan(table["share"].iloc[2])
