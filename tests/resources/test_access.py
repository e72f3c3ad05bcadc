"""needskit.resources (access): nearest service, two-step floating catchment, weighted centres."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from needskit import resources as res
from needskit.errors import GeographyError, NeedskitWarning, SchemaError

BNG = "EPSG:27700"
X0, Y0 = 394_000, 222_000  # near Cheltenham, as the conftest squares


def _gdf(columns, coords, crs=BNG):
    return gpd.GeoDataFrame(columns, geometry=[Point(X0 + x, Y0 + y) for x, y in coords], crs=crs)


# ============================================================================================
# Access: two-step floating catchment


def _worked_example(extra_services=()):
    """methods.md: P1 = 100, P2 = 200; S1 = 10 reachable by both, S2 = 5 by P2 only (catchment 1,500 m).

    P1 (0, 0) ---1,000--- S1 (1,000, 0) ---1,000--- P2 (2,000, 0) ---1,000--- S2 (3,000, 0)
    S2 is 3,000 m from P1, out of reach.
    """
    origins = _gdf({"area_code": ["P1", "P2"], "people": [100, 200]}, [(0, 0), (2000, 0)])
    ids, supply, coords = ["S1", "S2"], [10.0, 5.0], [(1000, 0), (3000, 0)]
    for sid, s, xy in extra_services:
        ids.append(sid)
        supply.append(s)
        coords.append(xy)
    services = _gdf({"service_id": ids, "gp_fte": supply}, coords)
    return origins, services


def test_two_step_fca_worked_example():
    origins, services = _worked_example()
    before = origins.copy()
    out = res.two_step_fca(origins, services=services, population="people", supply="gp_fte", catchment_m=1500)
    pd.testing.assert_frame_equal(origins, before)
    assert out["area_code"].tolist() == ["P1", "P2"]
    assert out["accessibility"].tolist() == pytest.approx([10 / 300, 10 / 300 + 5 / 200])
    assert out["accessibility"].round(4).tolist() == [0.0333, 0.0583]
    assert out["accessibility_per_1000"].tolist() == pytest.approx([1000 / 30, 1000 / 30 + 25])
    assert out["services_in_catchment"].tolist() == [1, 2]
    assert (out["population"] * out["accessibility"]).sum() == pytest.approx(15.0)
    assert out.attrs["needskit_access"]["unreached_services"] == []
    assert out.attrs["needskit_access"]["method"] == "2SFCA"


def test_catchment_boundary_is_inclusive():
    origins, services = _worked_example()
    # at exactly 1,000 m everything in the example is still reachable; just below it nothing is
    out = res.two_step_fca(origins, services=services, population="people", supply="gp_fte", catchment_m=1000)
    assert out["services_in_catchment"].tolist() == [1, 2]
    with pytest.warns(NeedskitWarning, match="2 service"):
        none = res.two_step_fca(
            origins, services=services, population="people", supply="gp_fte", catchment_m=999
        )
    assert none["accessibility"].tolist() == [0.0, 0.0]


def test_a_service_nobody_reaches_contributes_nothing_and_is_reported():
    origins, services = _worked_example(extra_services=[("S3", 40.0, (20_000, 0))])
    with pytest.warns(NeedskitWarning, match="1 service\\(s\\) have no population within 1500 m.*'S3'"):
        out = res.two_step_fca(
            origins, services=services, population="people", supply="gp_fte", catchment_m=1500
        )
    assert out["accessibility"].tolist() == pytest.approx([10 / 300, 10 / 300 + 5 / 200])
    meta = out.attrs["needskit_access"]
    assert meta["unreached_services"] == ["S3"]
    assert meta["supply_total"] == 55.0 and meta["supply_reached"] == 15.0
    assert (out["population"] * out["accessibility"]).sum() == pytest.approx(meta["supply_reached"])


def test_a_service_reached_only_by_empty_areas_is_unreached():
    origins = _gdf({"area_code": ["A", "B"], "people": [0, 50]}, [(0, 0), (10_000, 0)])
    services = _gdf({"service_id": ["S"], "gp_fte": [3.0]}, [(100, 0)])
    with pytest.warns(NeedskitWarning, match="'S'"):
        out = res.two_step_fca(
            origins, services=services, population="people", supply="gp_fte", catchment_m=500
        )
    assert out["accessibility"].tolist() == [0.0, 0.0]
    assert out["services_in_catchment"].tolist() == [1, 0]


def _random_layout(seed, n_o=300, n_s=60):
    rng = np.random.default_rng(seed)
    origins = gpd.GeoDataFrame(
        {"area_code": [f"E01{i:06d}" for i in range(n_o)], "people": rng.integers(0, 3000, n_o)},
        geometry=gpd.points_from_xy(X0 + rng.uniform(0, 20_000, n_o), Y0 + rng.uniform(0, 20_000, n_o)),
        crs=BNG,
    )
    services = gpd.GeoDataFrame(
        {
            "service_id": [f"S{j}" for j in range(n_s)],
            "gp_fte": rng.uniform(0.5, 10, n_s),
            "kind": rng.choice(["gp", "pharmacy", "library"], n_s),
        },
        geometry=gpd.points_from_xy(
            X0 + rng.uniform(-2_000, 22_000, n_s), Y0 + rng.uniform(-2_000, 22_000, n_s)
        ),
        crs=BNG,
    )
    return origins, services


def _brute_force_2sfca(origins, services, catchment, weight=lambda d: np.ones_like(d)):
    o = np.column_stack([origins.geometry.x, origins.geometry.y])
    s = np.column_stack([services.geometry.x, services.geometry.y])
    d = np.sqrt(((o[:, None, :] - s[None, :, :]) ** 2).sum(axis=2))
    w = np.where(d <= catchment, weight(d), 0.0)
    p = origins["people"].to_numpy(float)
    ratios = []
    for j in range(len(services)):
        demand = sum(p[i] * w[i, j] for i in range(len(origins)))
        ratios.append(services["gp_fte"].iloc[j] / demand if demand > 0 else 0.0)
    return np.array([sum(w[i, j] * ratios[j] for j in range(len(services))) for i in range(len(origins))])


@pytest.mark.parametrize("decay", [None, "gaussian"])
def test_supply_is_conserved_and_matches_brute_force(decay):
    origins, services = _random_layout(11)
    with pytest.warns(NeedskitWarning):  # a few services sit outside the populated square
        out = res.two_step_fca(
            origins, services=services, population="people", supply="gp_fte", catchment_m=2_500, decay=decay
        )
    meta = out.attrs["needskit_access"]
    assert 0 < len(meta["unreached_services"]) < len(services)
    assert (out["population"] * out["accessibility"]).sum() == pytest.approx(
        meta["supply_reached"], rel=1e-12
    )
    weight = (lambda d: res.gaussian_decay(d, 2_500)) if decay else (lambda d: np.ones_like(d))
    np.testing.assert_allclose(
        out["accessibility"], _brute_force_2sfca(origins, services, 2_500, weight), rtol=1e-10
    )


def test_supply_conserved_when_every_supplier_is_reachable():
    origins, services = _random_layout(5)
    out = res.two_step_fca(
        origins, services=services, population="people", supply="gp_fte", catchment_m=30_000
    )
    assert out.attrs["needskit_access"]["unreached_services"] == []
    assert (out["population"] * out["accessibility"]).sum() == pytest.approx(
        services["gp_fte"].sum(), rel=1e-12
    )


def test_decay_of_one_is_the_plain_version_and_gaussian_discounts_distance():
    origins, services = _random_layout(3)
    kwargs = {"services": services, "population": "people", "supply": "gp_fte", "catchment_m": 4_000}
    plain = res.two_step_fca(origins, **kwargs)
    flat = res.two_step_fca(origins, decay=lambda d: np.ones_like(d), **kwargs)
    gauss = res.two_step_fca(origins, decay="gaussian", **kwargs)
    np.testing.assert_allclose(flat["accessibility"], plain["accessibility"], rtol=1e-12)
    assert not np.allclose(gauss["accessibility"], plain["accessibility"])
    assert gauss.attrs["needskit_access"]["method"] == "E2SFCA"
    assert res.gaussian_decay(np.array([0.0, 4_000.0, 5_000.0]), 4_000).tolist() == pytest.approx(
        [1.0, 0.0, 0.0]
    )
    assert res.gaussian_decay(np.array([2_000.0]), 4_000)[0] == pytest.approx(
        (np.exp(-0.125) - np.exp(-0.5)) / (1 - np.exp(-0.5))
    )


def test_two_step_fca_is_vectorised_at_national_scale():
    origins, services = _random_layout(9, n_o=33_755, n_s=6_500)
    with pytest.warns(NeedskitWarning):
        out = res.two_step_fca(
            origins, services=services, population="people", supply="gp_fte", catchment_m=1_000
        )
    assert len(out) == 33_755
    reached = out.attrs["needskit_access"]["supply_reached"]
    assert (out["population"] * out["accessibility"]).sum() == pytest.approx(reached, rel=1e-10)


# ============================================================================================
# Access: nearest service


def _nearest_layout():
    origins = _gdf({"area_code": ["A", "B"]}, [(0, 0), (1000, 0)])
    services = _gdf(
        {"service_id": ["s1", "s2", "s3"], "kind": ["gp", "gp", "pharmacy"]},
        [(300, 0), (1000, 500), (-100, 0)],
    )
    return origins, services


def test_nearest_service_by_hand():
    origins, services = _nearest_layout()
    out = res.nearest_service(origins, services=services)
    assert out["area_code"].tolist() == ["A", "B"]
    # A: s3 at 100 m (s1 at 300 m); B: s2 at 500 m (s1 at 700 m, s3 at 1,100 m)
    assert out["service_id"].tolist() == ["s3", "s2"]
    assert out["distance_m"].tolist() == pytest.approx([100, 500])
    assert out["rank"].tolist() == [1, 1]


def test_nearest_service_per_type_and_k():
    origins, services = _nearest_layout()
    out = res.nearest_service(origins, services=services, service_type="kind")
    assert list(out.columns) == ["area_code", "kind", "rank", "service_id", "distance_m"]
    assert out[["area_code", "kind", "service_id"]].values.tolist() == [
        ["A", "gp", "s1"],
        ["A", "pharmacy", "s3"],
        ["B", "gp", "s2"],
        ["B", "pharmacy", "s3"],
    ]
    assert out["distance_m"].tolist() == pytest.approx([300, 100, 500, 1100])
    two = res.nearest_service(origins, services=services, service_type="kind", k=2)
    a_gp = two[(two["area_code"] == "A") & (two["kind"] == "gp")]
    assert a_gp["rank"].tolist() == [1, 2]
    assert a_gp["service_id"].tolist() == ["s1", "s2"]
    assert a_gp["distance_m"].tolist() == pytest.approx([300, np.hypot(1000, 500)])
    # only one pharmacy: the second-nearest is missing
    a_ph = two[(two["area_code"] == "A") & (two["kind"] == "pharmacy")]
    assert a_ph["service_id"].isna().tolist() == [False, True]
    assert np.isnan(a_ph["distance_m"].iloc[1])


def test_nearest_service_max_distance_leaves_far_areas_without_one():
    origins, services = _nearest_layout()
    out = res.nearest_service(origins, services=services, service_type="kind", max_distance=600)
    b_pharmacy = out[(out["area_code"] == "B") & (out["kind"] == "pharmacy")]
    assert b_pharmacy["service_id"].isna().all() and b_pharmacy["distance_m"].isna().all()
    assert out["distance_m"].notna().sum() == 3


def test_nearest_service_matches_brute_force():
    origins, services = _random_layout(21, n_o=500, n_s=80)
    out = res.nearest_service(origins, services=services, service_type="kind", service_id="service_id", k=3)
    o = np.column_stack([origins.geometry.x, origins.geometry.y])
    for kind in ["gp", "library", "pharmacy"]:
        sub = services[services["kind"] == kind]
        s = np.column_stack([sub.geometry.x, sub.geometry.y])
        d = np.sqrt(((o[:, None, :] - s[None, :, :]) ** 2).sum(axis=2))
        expected = np.sort(d, axis=1)[:, :3]
        got = out[out["kind"] == kind]["distance_m"].to_numpy().reshape(-1, 3)
        np.testing.assert_allclose(got, expected)
        nearest_ids = sub["service_id"].to_numpy()[np.argmin(d, axis=1)]
        assert out[(out["kind"] == kind) & (out["rank"] == 1)]["service_id"].tolist() == nearest_ids.tolist()
    assert out["area_code"].iloc[::9].tolist() == origins["area_code"].tolist()


# ============================================================================================
# Access: population-weighted centres


def test_population_weighted_centres_by_hand():
    points = _gdf(
        {"lsoa": ["X", "X", "Y", "X"], "residents": [1, 3, 5, 0]}, [(0, 0), (10, 0), (50, 50), (1000, 1000)]
    )
    before = points.copy()
    out = res.population_weighted_centres(points, area_col="lsoa", weight_col="residents")
    pd.testing.assert_frame_equal(points, before)
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == points.crs
    assert out["lsoa"].tolist() == ["X", "Y"]
    assert out["n_points"].tolist() == [3, 1]
    assert out["weight"].tolist() == [4, 5]
    assert (out.geometry.x - X0).tolist() == pytest.approx([7.5, 50])
    assert (out.geometry.y - Y0).tolist() == pytest.approx([0, 50])
    plain = res.population_weighted_centres(points, area_col="lsoa")
    assert (plain.geometry.x - X0).tolist() == pytest.approx([(0 + 10 + 1000) / 3, 50])
    assert "weight" not in plain.columns


def test_population_weighted_centres_zero_weight_area_falls_back_to_plain_mean():
    points = _gdf({"lsoa": ["X", "X", "Y"], "residents": [0, 0, 2]}, [(0, 0), (10, 20), (50, 50)])
    with pytest.warns(NeedskitWarning, match="1 area\\(s\\) have a total weight of zero.*'X'"):
        out = res.population_weighted_centres(points, area_col="lsoa", weight_col="residents")
    assert (out.geometry.x - X0).tolist() == pytest.approx([5, 50])
    assert out["weight"].tolist() == [0, 2]


def test_population_weighted_centres_accepts_another_projected_crs():
    points = gpd.GeoDataFrame({"a": ["X", "X"]}, geometry=[Point(0, 0), Point(2, 4)], crs="EPSG:3857")
    out = res.population_weighted_centres(points, area_col="a")
    assert out.crs == points.crs and (out.geometry.x.iloc[0], out.geometry.y.iloc[0]) == (1, 2)


def test_feeds_nearest_service():
    postcodes = _gdf({"lsoa": ["A", "A", "B"]}, [(0, 0), (200, 0), (5000, 0)])
    centres = res.population_weighted_centres(postcodes, area_col="lsoa").rename(
        columns={"lsoa": "area_code"}
    )
    services = _gdf({"service_id": ["gp1"]}, [(100, 300)])
    out = res.nearest_service(centres, services=services)
    assert out["distance_m"].tolist() == pytest.approx([300, np.hypot(4900, 300)])


# ============================================================================================
# Errors


def test_crs_and_geometry_errors():
    origins, services = _worked_example()
    kwargs = {"population": "people", "supply": "gp_fte", "catchment_m": 1500}
    with pytest.raises(GeographyError, match="geographic CRS.*to_crs\\('EPSG:27700'\\)"):
        res.two_step_fca(origins.to_crs(4326), services=services, **kwargs)
    with pytest.raises(GeographyError, match="is not in British National Grid"):
        res.nearest_service(origins, services=services.to_crs(3857))
    with pytest.raises(GeographyError, match="has no CRS"):
        res.nearest_service(origins.set_crs(None, allow_override=True), services=services)
    with pytest.raises(GeographyError, match="is not a GeoDataFrame"):
        res.nearest_service(pd.DataFrame(origins.drop(columns="geometry")), services=services)
    polygons = gpd.GeoDataFrame({"area_code": ["A"]}, geometry=[box(X0, Y0, X0 + 100, Y0 + 100)], crs=BNG)
    with pytest.raises(GeographyError, match="not points.*population_weighted_centres"):
        res.nearest_service(polygons, services=services)
    empty = origins.copy()
    empty.loc[0, "geometry"] = None
    with pytest.raises(GeographyError, match="missing or empty geometries"):
        res.nearest_service(empty, services=services)
    with pytest.raises(GeographyError, match="geographic CRS"):
        res.population_weighted_centres(origins.to_crs(4326), area_col="area_code")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"catchment_m": 0}, "is not a positive distance"),
        ({"catchment_m": "2km"}, "is not a positive distance"),
        ({"decay": "linear"}, "is not a known decay"),
        ({"decay": lambda d: np.ones(1)}, "returned the wrong shape"),
        ({"decay": lambda d: -d}, "negative or non-finite weights"),
        ({"population": "nope"}, "population='nope' is not a column"),
        ({"supply": "nope"}, "supply='nope' is not a column"),
        ({"origin_code": "nope"}, "origin_code='nope' is not a column"),
    ],
)
def test_two_step_fca_argument_errors(kwargs, match):
    origins, services = _worked_example()
    arguments = {"population": "people", "supply": "gp_fte", "catchment_m": 1500} | kwargs
    with pytest.raises(SchemaError, match=match):
        res.two_step_fca(origins, services=services, **arguments)


def test_two_step_fca_value_errors():
    origins, services = _worked_example()
    kwargs = {"population": "people", "supply": "gp_fte", "catchment_m": 1500}
    with pytest.raises(SchemaError, match="has negative values"):
        res.two_step_fca(origins.assign(people=[-1, 200]), services=services, **kwargs)
    with pytest.raises(SchemaError, match="has missing values"):
        res.two_step_fca(origins, services=services.assign(gp_fte=[np.nan, 5.0]), **kwargs)
    with pytest.raises(SchemaError, match="repeats values"):
        res.two_step_fca(origins.assign(area_code=["P1", "P1"]), services=services, **kwargs)
    with pytest.raises(SchemaError, match="repeats values"):
        res.two_step_fca(origins, services=services.assign(service_id=["S", "S"]), **kwargs)


def test_nearest_service_errors():
    origins, services = _nearest_layout()
    with pytest.raises(SchemaError, match="is not a usable number"):
        res.nearest_service(origins, services=services, k=0)
    with pytest.raises(SchemaError, match="is not a positive distance"):
        res.nearest_service(origins, services=services, max_distance=-5)
    with pytest.raises(SchemaError, match="service_type='type' is not a column"):
        res.nearest_service(origins, services=services, service_type="type")
    with pytest.raises(SchemaError, match="has missing values"):
        res.nearest_service(origins, services=services.assign(kind=["gp", None, "gp"]), service_type="kind")
    with pytest.raises(SchemaError, match="has no services"):
        res.nearest_service(origins, services=services.iloc[:0])
    with pytest.raises(SchemaError, match="has missing values"):
        res.nearest_service(origins.assign(area_code=["A", None]), services=services)


def test_population_weighted_centres_errors():
    points = _gdf({"lsoa": ["X", None], "w": [1, 2]}, [(0, 0), (1, 1)])
    with pytest.raises(GeographyError, match="has points without an area"):
        res.population_weighted_centres(points, area_col="lsoa")
    points = _gdf({"lsoa": ["X", "Y"], "w": [1, -2]}, [(0, 0), (1, 1)])
    with pytest.raises(SchemaError, match="has negative values"):
        res.population_weighted_centres(points, area_col="lsoa", weight_col="w")
    with pytest.raises(SchemaError, match="weight_col='n' is not a column"):
        res.population_weighted_centres(points, area_col="lsoa", weight_col="n")
    with pytest.raises(SchemaError, match="has no points"):
        res.population_weighted_centres(points.iloc[:0], area_col="lsoa")
