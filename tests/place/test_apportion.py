"""needskit.place.apportion: areal interpolation on hand-drawn squares."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from needskit.errors import GeographyError, SchemaError
from needskit.place import apportion

X0, Y0 = 394_000, 222_000


def _frame(codes, boxes):
    return gpd.GeoDataFrame({"area_code": codes}, geometry=[box(*b) for b in boxes], crs="EPSG:27700")


def test_apportion_methods_example(squares):
    # methods.md: source A (100) split 40/60 by area between T1/T2, and B (50) wholly in T2.
    sources = _frame(["A", "B"], [(X0, Y0, X0 + 1000, Y0 + 1000), (X0 + 1000, Y0, X0 + 2000, Y0 + 1000)])
    targets = _frame(["T1", "T2"], [(X0, Y0, X0 + 400, Y0 + 1000), (X0 + 400, Y0, X0 + 2000, Y0 + 1000)])
    counts = pd.DataFrame({"area_code": ["A", "B"], "n": [100, 50]})
    out = apportion(counts, source_areas=sources, target_areas=targets, value_cols="n")
    assert out.set_index("area_code")["n"].to_dict() == pytest.approx({"T1": 40.0, "T2": 110.0})
    assert out["n"].sum() == pytest.approx(150.0)
    assert out.attrs["outside"]["n"] == pytest.approx(0.0)


def test_apportion_by_points_and_outside(squares):
    target = _frame(["T"], [(X0, Y0, X0 + 500, Y0 + 2000)])
    # three weight points in A: two inside T (west half), one outside
    points = gpd.GeoDataFrame(
        {"weight": [1.0, 1.0, 1.0]},
        geometry=gpd.points_from_xy([X0 + 100, X0 + 200, X0 + 900], [Y0 + 100, Y0 + 200, Y0 + 900]),
        crs="EPSG:27700",
    )
    counts = pd.DataFrame({"area_code": ["A", "C"], "n": [90.0, 10.0]})
    out = apportion(counts, source_areas=squares, target_areas=target, value_cols="n", weights=points)
    # A goes by its points (2 of 3 inside T); C has no points and falls back to area (half)
    assert out["n"].iloc[0] == pytest.approx(60.0 + 5.0)
    assert out.attrs["outside"]["n"] == pytest.approx(35.0)
    assert out.attrs["method"] == {"points": 1, "area": 1}


def test_apportion_keeps_keys_apart(squares):
    whole = _frame(["ALL"], [(X0, Y0, X0 + 2000, Y0 + 2000)])
    counts = pd.DataFrame(
        {"area_code": ["A", "B", "A"], "period": ["2024-01", "2024-01", "2024-02"], "n": [1, 2, 4]}
    )
    out = apportion(counts, source_areas=squares, target_areas=whole, value_cols="n")
    assert out.set_index("period")["n"].to_dict() == pytest.approx({"2024-01": 3.0, "2024-02": 4.0})
    assert set(out["area_code"]) == {"ALL"}


def test_apportion_refuses_crs_problems(squares):
    counts = pd.DataFrame({"area_code": ["A"], "n": [1]})
    with pytest.raises(GeographyError, match="CRS differ"):
        apportion(counts, source_areas=squares, target_areas=squares.to_crs(3857), value_cols="n")
    lonlat = squares.to_crs(4326)
    with pytest.raises(GeographyError, match="degrees"):
        apportion(counts, source_areas=lonlat, target_areas=lonlat, value_cols="n")
    with pytest.raises(GeographyError, match="no CRS"):
        apportion(
            counts,
            source_areas=squares.set_crs(None, allow_override=True),
            target_areas=squares,
            value_cols="n",
        )
    with pytest.raises(GeographyError, match="not among the source areas"):
        apportion(
            pd.DataFrame({"area_code": ["Z"], "n": [1]}),
            source_areas=squares,
            target_areas=squares,
            value_cols="n",
        )
    with pytest.raises(SchemaError, match="negative"):
        apportion(
            pd.DataFrame({"area_code": ["A"], "n": [-1]}),
            source_areas=squares,
            target_areas=squares,
            value_cols="n",
        )


def test_apportion_refuses_bad_areas_and_weights(squares):
    counts = pd.DataFrame({"area_code": ["A"], "n": [1]})
    with pytest.raises(GeographyError, match="'area_code' column"):
        apportion(
            counts,
            source_areas=squares.rename(columns={"area_code": "c"}),
            target_areas=squares,
            value_cols="n",
        )
    with pytest.raises(GeographyError, match="unknown weights"):
        apportion(counts, source_areas=squares, target_areas=squares, value_cols="n", weights="population")
    lonlat_points = gpd.GeoDataFrame({"weight": [1.0]}, geometry=gpd.points_from_xy([-2.1], [51.9]), crs=4326)
    with pytest.raises(GeographyError, match="share the areas' CRS"):
        apportion(counts, source_areas=squares, target_areas=squares, value_cols="n", weights=lonlat_points)
