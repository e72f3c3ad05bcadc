"""needskit.place.points: hand-drawn squares first, then the real police.uk crimes of the shipped example."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from needskit.errors import GeographyError, SchemaError
from needskit.partner_data.ingest import read_dataset
from needskit.place import assign_points, load_areas
from needskit.place.points import to_bng

X0, Y0 = 394_000, 222_000


def _points(coords):
    return pd.DataFrame({"id": range(len(coords)), "x": [c[0] for c in coords], "y": [c[1] for c in coords]})


# ------------------------------------------------------------------ points on hand-drawn squares


def test_assign_points_within_boundary_nearest_unmatched(squares):
    df = _points(
        [
            (X0 + 500, Y0 + 500),  # inside A
            (X0 + 1500, Y0 + 1500),  # inside D
            (X0 + 1000, Y0 + 500),  # on the A|B edge -> lowest code, A
            (X0 + 1000, Y0 + 1000),  # the corner of all four -> A
            (X0 + 1500, Y0 + 1000),  # on the B|D edge -> B
            (X0 - 50, Y0 + 500),  # 50 m off A's outer edge -> nearest A
            (X0 - 5000, Y0),  # 5 km away -> unmatched
            (np.nan, np.nan),  # no location -> unmatched, kept
        ]
    )
    before = df.copy()
    out = assign_points(df, x="x", y="y", crs="EPSG:27700", areas=squares, tolerance=100)
    pd.testing.assert_frame_equal(df, before)  # input untouched
    assert list(out["id"]) == list(df["id"])  # same rows, same order
    assert out["area_code"].tolist()[:6] == ["A", "D", "A", "A", "B", "A"]
    assert out["area_code"].isna().tolist()[6:] == [True, True]
    assert out["match"].tolist() == [
        "within",
        "within",
        "within",
        "within",
        "within",
        "nearest",
        "unmatched",
        "unmatched",
    ]


def test_assign_points_counts_a_boundary_point_once(squares):
    df = _points([(X0 + 1000, Y0 + 250)] * 10)
    out = assign_points(df, x="x", y="y", crs="EPSG:27700", areas=squares)
    assert out["area_code"].value_counts().to_dict() == {"A": 10}


def test_assign_points_reprojects_lonlat(squares):
    # the centre of square A, expressed in WGS84
    lonlat = gpd.GeoSeries(gpd.points_from_xy([394_500], [222_500]), crs="EPSG:27700").to_crs(4326)
    df = pd.DataFrame({"lon": lonlat.x, "lat": lonlat.y})
    out = assign_points(df, x="lon", y="lat", crs="EPSG:4326", areas=squares)
    assert out["area_code"].tolist() == ["A"]


def test_assign_points_refuses_swapped_lonlat(squares):
    df = pd.DataFrame({"lon": [51.9, 51.8], "lat": [-2.1, -2.2]})
    with pytest.raises(GeographyError, match="swapped"):
        assign_points(df, x="lon", y="lat", areas=squares)


def test_assign_points_refuses_grid_metres_declared_as_degrees(squares):
    df = pd.DataFrame({"e": [394_500.0], "n": [222_500.0]})
    with pytest.raises(GeographyError, match="British National Grid"):
        assign_points(df, x="e", y="n", crs="EPSG:4326", areas=squares)


def test_assign_points_refuses_degrees_declared_as_grid(squares):
    df = pd.DataFrame({"lon": [-2.1], "lat": [51.9]})
    with pytest.raises(GeographyError, match="EPSG:4326"):
        assign_points(df, x="lon", y="lat", crs="EPSG:27700", areas=squares)


def test_assign_points_refuses_points_outside_great_britain(squares):
    df = pd.DataFrame({"lon": [2.35, 2.36], "lat": [48.85, 48.86]})  # Paris
    with pytest.raises(GeographyError, match="outside Great Britain"):
        assign_points(df, x="lon", y="lat", areas=squares)
    far = _points([(5_000_000, 5_000_000)])  # grid metres far off Great Britain
    with pytest.raises(GeographyError, match="outside Great Britain"):
        assign_points(far, x="x", y="y", crs="EPSG:27700", areas=squares)


def test_assign_points_needs_a_crs(squares):
    with pytest.raises(GeographyError, match="no CRS"):
        assign_points(_points([(1, 1)]), x="x", y="y", crs=None, areas=squares)
    no_crs = squares.set_crs(None, allow_override=True)
    with pytest.raises(GeographyError, match="has no CRS"):
        assign_points(_points([(394_500, 222_500)]), x="x", y="y", crs="EPSG:27700", areas=no_crs)


def test_assign_points_refuses_a_crs_pyproj_does_not_know(squares):
    # a GeographyError naming the argument, not pyproj's CRSError
    with pytest.raises(GeographyError, match="is not a CRS pyproj understands"):
        assign_points(_points([(394_500, 222_500)]), x="x", y="y", crs="EPSG:not-a-code", areas=squares)


def test_assign_points_bad_columns(squares):
    with pytest.raises(SchemaError, match="not a column"):
        assign_points(_points([(1, 1)]), x="lon", y="y", areas=squares)
    df = pd.DataFrame({"x": ["394500", "east"], "y": [222_500, 222_500]})
    with pytest.raises(SchemaError, match="not numeric"):
        assign_points(df, x="x", y="y", crs="EPSG:27700", areas=squares)
    taken = _points([(394_500, 222_500)]).assign(area_code="old")
    with pytest.raises(SchemaError, match="already exists"):
        assign_points(taken, x="x", y="y", crs="EPSG:27700", areas=squares)
    # numbers held as text are read as numbers
    text = pd.DataFrame({"x": ["394500", None], "y": ["222500", None]})
    out = assign_points(text, x="x", y="y", crs="EPSG:27700", areas=squares)
    assert out["match"].tolist() == ["within", "unmatched"]


def test_assign_points_bad_areas(squares):
    with pytest.raises(GeographyError, match="no areas to assign the points to"):
        assign_points(_points([(394_500, 222_500)]), x="x", y="y", crs="EPSG:27700")
    with pytest.raises(GeographyError, match="'area_code' column"):
        assign_points(
            _points([(394_500, 222_500)]),
            x="x",
            y="y",
            crs="EPSG:27700",
            areas=squares.rename(columns={"area_code": "c"}),
        )


def test_assign_points_to_areas_of_a_geography_or_in_another_crs(toy_geography, squares):
    # the toy geography's LSOA k is the k-th 1 km square east of (394000, 222000)
    df = _points([(X0 + 500, Y0 + 500), (X0 + 9500, Y0 + 500), (X0 + 20_000, Y0)])
    out = assign_points(df, x="x", y="y", crs="EPSG:27700", geography=toy_geography, out_col="lsoa21")
    assert out["lsoa21"].tolist()[:2] == ["E01000001", "E01000010"]
    assert out["match"].tolist() == ["within", "within", "unmatched"]
    # areas in another projected CRS are reprojected to British National Grid first
    out = assign_points(df.iloc[:1], x="x", y="y", crs="EPSG:27700", areas=squares.to_crs(3857))
    assert out["area_code"].tolist() == ["A"]
    # other levels of the geography; levels without boundaries are refused, naming the key to set
    out = assign_points(df.iloc[:2], x="x", y="y", crs="EPSG:27700", level="ward", geography=toy_geography)
    assert out["area_code"].tolist() == ["E05000001", "E05000005"]
    with pytest.raises(
        GeographyError, match="no lsoa boundaries of the 2011 geography.*reference.boundaries"
    ):
        assign_points(df, x="x", y="y", crs="EPSG:27700", vintage=2011, geography=toy_geography)


def test_to_bng_keeps_missing_coordinates_missing():
    # pyproj turns NaN into inf; missing coordinates must stay missing (NaN), not become infinite
    bx, by, crs = to_bng(np.array([np.nan, -2.0778, 1.0]), np.array([np.nan, 51.8994, np.inf]), "EPSG:4326")
    assert np.isnan(bx[[0, 2]]).all() and np.isnan(by[[0, 2]]).all()
    expected = gpd.GeoSeries(gpd.points_from_xy([-2.0778], [51.8994]), crs=4326).to_crs(27700)
    assert (bx[1], by[1]) == pytest.approx((expected.x.item(), expected.y.item()))
    assert crs.is_geographic
    same, _, _ = to_bng(np.array([394_500.0]), np.array([222_500.0]), "EPSG:27700")
    assert same.tolist() == [394_500.0]


# ------------------------------------------------------------------ the police.uk check


def test_police_crimes_agree_with_police_uk_lsoa(shipped_catalog, shipped_geography):
    crimes = read_dataset(shipped_catalog["police_street_crime"])
    out = assign_points(
        crimes,
        x="Longitude",
        y="Latitude",
        crs="EPSG:4326",
        level="lsoa",
        vintage=2021,
        geography=shipped_geography,
    )
    assert len(out) == len(crimes) == 221_034
    lsoas = set(load_areas("lsoa", geography=shipped_geography)["area_code"])
    county = out[out["LSOA code"].isin(lsoas) & out["Longitude"].notna()]
    agreement = (county["area_code"] == county["LSOA code"]).mean()
    print(f"\npolice.uk LSOA agreement: {agreement:.2%} of {len(county):,} located Gloucestershire crimes")
    assert agreement >= 0.96
    # nothing is lost: no-location rows are kept as unmatched
    assert (out.loc[crimes["Longitude"].isna(), "match"] == "unmatched").all()
