"""needskit.needs.hotspots: hand-built grids with a planted cluster, then the shipped
Gloucestershire LSOAs."""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from needskit.errors import GeographyError, NeedskitWarning, SchemaError
from needskit.needs.hotspots import GI_CLUSTERS, MORAN_CLUSTERS, hot_spots
from needskit.place import load_areas
from shipped import raw_path

BNG = "EPSG:27700"
X0, Y0 = 394_000, 222_000  # near Cheltenham


def _grid(
    n: int = 7, *, size: float = 100.0, gap: float = 0.0, block: int = 3, high: float = 10.0
) -> gpd.GeoDataFrame:
    """n x n squares, row-major from the south-west; a block x block corner of ``high``, 1 elsewhere."""
    rows = []
    for j in range(n):
        for i in range(n):
            x, y = X0 + i * (size + gap), Y0 + j * (size + gap)
            rows.append(
                {
                    "col": i,
                    "row": j,
                    "rate": high if (i < block and j < block) else 1.0,
                    "geometry": box(x, y, x + size, y + size),
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)


def _quiet(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean grid must not warn
        return hot_spots(**kwargs)


# ------------------------------------------------------------------ planted cluster


def test_moran_finds_the_planted_high_high_corner():
    grid = _grid()
    before = grid.copy()
    out = _quiet(gdf=grid, value="rate")
    pd.testing.assert_frame_equal(grid, before)  # input untouched
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == grid.crs and list(out.index) == list(grid.index)
    corner = (out["col"] < 3) & (out["row"] < 3)
    assert out.loc[0, "cluster"] == "high-high"  # the south-west corner square
    assert (out.loc[corner, "cluster"] == "high-high").sum() >= 4
    assert not (out.loc[~corner, "cluster"] == "high-high").any()
    assert set(out["cluster"]) <= set(MORAN_CLUSTERS)
    assert out.loc[0, "hotspot_statistic"] > 0 and out.loc[0, "p_value"] < 0.05
    assert out["neighbours"].tolist()[:2] == [3, 5] and out["neighbours"].max() == 8
    assert (out["method"] == "Local Moran's I").all() and (out["alpha"] == 0.05).all()
    assert (~out["fdr"]).all() and (out["permutations"] == 999).all() and (out["p_threshold"] == 0.05).all()


def test_getis_ord_finds_the_planted_hot_spot():
    out = _quiet(gdf=_grid(), value="rate", method="getis_ord")
    corner = (out["col"] < 3) & (out["row"] < 3)
    assert out.loc[0, "cluster"] == "hot spot"
    assert (out.loc[corner, "cluster"] == "hot spot").sum() >= 4
    assert not (out.loc[~corner, "cluster"] == "hot spot").any()
    assert set(out["cluster"]) <= set(GI_CLUSTERS)
    assert out.loc[0, "hotspot_statistic"] > 2  # Gi* z-score
    assert (out["method"] == "Getis-Ord Gi*").all()


def test_cold_spot_and_low_low_mirror_the_hot_spot():
    grid = _grid(high=0.1)  # a planted corner of low values among 1s
    moran = _quiet(gdf=grid, value="rate")
    gi = _quiet(gdf=grid, value="rate", method="getis_ord")
    assert moran.loc[0, "cluster"] == "low-low"
    assert gi.loc[0, "cluster"] == "cold spot" and gi.loc[0, "hotspot_statistic"] < 0


def test_statistics_are_esdas_and_seed_makes_them_reproducible():
    grid = _grid()
    grid["rate"] = grid["rate"] + np.random.default_rng(0).uniform(0, 1, len(grid))
    first = _quiet(gdf=grid, value="rate", seed=3)
    again = _quiet(gdf=grid, value="rate", seed=3)
    pd.testing.assert_frame_equal(first, again)
    other = _quiet(gdf=grid, value="rate", seed=4)
    assert not np.array_equal(first["p_value"], other["p_value"])
    assert np.array_equal(first["hotspot_statistic"], other["hotspot_statistic"])
    w = libpysal.weights.Queen.from_dataframe(grid, use_index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # esda's note on its future default alternative
        reference = esda.Moran_Local(grid["rate"].to_numpy(), w, permutations=999, seed=3)
    assert np.allclose(first["hotspot_statistic"], reference.Is)
    assert np.allclose(first["p_value"], reference.p_sim)


def test_fdr_uses_esda_cut_off_and_is_stricter():
    grid = _grid(n=9)
    grid["rate"] = grid["rate"] + np.random.default_rng(1).uniform(0, 3, len(grid))
    plain = _quiet(gdf=grid, value="rate", method="getis_ord", seed=2)
    strict = _quiet(gdf=grid, value="rate", method="getis_ord", seed=2, fdr=True)
    expected = esda.fdr(plain["p_value"].to_numpy(), 0.05)
    assert strict["p_threshold"].iloc[0] == pytest.approx(expected) and expected < 0.05
    assert strict["fdr"].all()
    significant_plain = plain["cluster"] != "not significant"
    significant_strict = strict["cluster"] != "not significant"
    assert not (significant_strict & ~significant_plain).any()  # FDR only removes
    assert significant_strict.sum() < significant_plain.sum()
    assert (significant_strict == (strict["p_value"] < expected)).all()


def test_island_is_reported_not_crashed_and_left_out_of_fdr():
    grid = _grid()
    far = gpd.GeoDataFrame(
        {"col": [99], "row": [99], "rate": [1.0]}, geometry=[box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)], crs=BNG
    )
    areas = pd.concat([grid, far], ignore_index=True)
    with pytest.warns(NeedskitWarning, match="1 areas have no neighbour"):
        out = hot_spots(areas, value="rate")
    island = out.iloc[-1]
    assert island["cluster"] == "no neighbours" and island["neighbours"] == 0
    assert np.isnan(island["hotspot_statistic"]) and np.isnan(island["p_value"])
    assert out.loc[0, "cluster"] == "high-high"
    assert out["p_value"].iloc[:-1].notna().all()
    for method in ("moran", "getis_ord"):
        with pytest.warns(NeedskitWarning):
            corrected = hot_spots(areas, value="rate", method=method, fdr=True)
        p = corrected["p_value"].iloc[:-1].to_numpy()
        assert corrected["p_threshold"].iloc[0] == pytest.approx(esda.fdr(p, 0.05))
        assert corrected["cluster"].iloc[-1] == "no neighbours"


def test_tolerance_joins_boundaries_with_hairline_gaps():
    grid = _grid(gap=0.4)  # squares 40 cm apart: no shared vertices
    with pytest.raises(GeographyError, match="no area has a neighbour"):
        hot_spots(grid, value="rate", tolerance=0)
    out = _quiet(gdf=grid, value="rate")  # default tolerance 1 m
    assert out["neighbours"].max() == 8 and out.loc[0, "cluster"] == "high-high"
    exact = _quiet(gdf=_grid(), value="rate", tolerance=0)
    assert exact["neighbours"].tolist() == out["neighbours"].tolist()


def test_prebuilt_weights_and_no_crs_with_exact_contiguity():
    grid = _grid()
    w = libpysal.weights.Queen.from_dataframe(grid, use_index=False)
    with_w = _quiet(gdf=grid, value="rate", weights=w, seed=9)
    default = _quiet(gdf=grid, value="rate", seed=9)
    pd.testing.assert_frame_equal(with_w, default)
    graph = libpysal.graph.Graph.build_contiguity(grid.reset_index(drop=True), rook=False)
    pd.testing.assert_frame_equal(_quiet(gdf=grid, value="rate", weights=graph, seed=9), default)
    no_crs = grid.set_crs(None, allow_override=True)
    out = _quiet(gdf=no_crs, value="rate", tolerance=0, seed=9)
    assert out["cluster"].tolist() == default["cluster"].tolist()


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"value": "nope"}, "value='nope' is not a column"),
        ({"value": 3}, "value: is not a column name"),
        ({"method": "lisa"}, "method: is not a known option"),
        ({"permutations": 10}, "permutations: is too small"),
        ({"alpha": 0.9}, "alpha: is not a significance level"),
        ({"fdr": "yes"}, "fdr: is not True or False"),
        ({"tolerance": -1}, "tolerance: is not a distance"),
        ({"weights": "rook"}, "weights: is not a known option"),
        ({"weights": np.eye(3)}, "weights: is not a kind of weights"),
        ({"value": "label"}, "is not numeric"),
        ({"value": "flat"}, "has no variation"),
        ({"value": "signed", "method": "getis_ord"}, "negative values, which Getis-Ord"),
    ],
)
def test_argument_errors(kwargs, match):
    grid = _grid()
    grid["label"] = "x"
    grid["flat"] = 2.0
    grid["signed"] = grid["rate"] - 3
    with pytest.raises(SchemaError, match=match):
        hot_spots(grid, **{"value": "rate", **kwargs})


def test_missing_values_are_refused():
    grid = _grid()
    grid.loc[5, "rate"] = np.nan
    with pytest.raises(SchemaError, match="has missing values"):
        hot_spots(grid, value="rate")


def test_output_collision_and_too_few_areas():
    with pytest.raises(SchemaError, match="already has columns that hot_spots"):
        hot_spots(_grid().assign(cluster="x"), value="rate")
    with pytest.raises(SchemaError, match="too few areas"):
        hot_spots(_grid().iloc[:2], value="rate")


def test_geography_errors():
    grid = _grid()
    with pytest.raises(GeographyError, match="is not a GeoDataFrame"):
        hot_spots(pd.DataFrame(grid.drop(columns="geometry")), value="rate")
    with pytest.raises(GeographyError, match="needs a projected CRS"):
        hot_spots(grid.to_crs("EPSG:4326"), value="rate")
    with pytest.raises(GeographyError, match="needs a projected CRS"):
        hot_spots(grid.set_crs(None, allow_override=True), value="rate")
    points = grid.copy()
    points["geometry"] = [Point(X0 + i, Y0) for i in range(len(grid))]
    with pytest.raises(GeographyError, match="not polygons"):
        hot_spots(points, value="rate")
    holes = grid.copy()
    holes.loc[3, "geometry"] = None
    with pytest.raises(GeographyError, match="without a geometry"):
        hot_spots(holes, value="rate")
    w = libpysal.weights.Queen.from_dataframe(grid.iloc[::-1], ids=list(range(len(grid)))[::-1])
    with pytest.raises(GeographyError, match="not aligned with the frame"):
        hot_spots(grid, value="rate", weights=w)


# ------------------------------------------------------------------ shipped Gloucestershire LSOAs


@pytest.fixture(scope="module")
def lsoa_income(shipped_geography) -> gpd.GeoDataFrame:
    areas = load_areas("lsoa", geography=shipped_geography)
    iod = pd.read_csv(
        raw_path("imd2025/iod2025_lsoa21_scores_ranks_deciles.csv.gz"),
        usecols=["lsoa21_code", "Income_score"],
    )
    joined = areas.merge(iod, left_on="area_code", right_on="lsoa21_code", how="left", validate="one_to_one")
    assert len(joined) == 393 and joined["Income_score"].notna().all()
    return joined


def test_income_deprivation_clusters_in_gloucestershire(lsoa_income):
    out = _quiet(gdf=lsoa_income, value="Income_score")
    assert (out["neighbours"] > 0).all()  # the 1 m tolerance joins the detailed outlines
    high = out[out["cluster"] == "high-high"]
    assert len(high) >= 10
    assert high["Income_score"].min() > lsoa_income["Income_score"].median()
    # most income-deprived clusters are in the city of Gloucester
    assert high["area_name"].str.startswith("Gloucester ").sum() > len(high) / 2
    again = _quiet(gdf=lsoa_income, value="Income_score")
    pd.testing.assert_frame_equal(out, again)
    gi = _quiet(gdf=lsoa_income, value="Income_score", method="getis_ord", fdr=True)
    hot = set(gi.loc[gi["cluster"] == "hot spot", "area_code"])
    assert hot and hot <= set(out.loc[out["Income_score"] > out["Income_score"].median(), "area_code"])
