"""needskit.commissioning.duplication: several partners' services overlapping in the same areas."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from needskit import commissioning as com
from needskit.errors import GeographyError, SchemaError

X0, Y0 = 394_000, 222_000  # the conftest squares: C D over A B, 1 km each


def _services():
    """y1 (County) serves A, B; y2 (Charity) B, C; y3 (County) C; a County library A-D; a
    Charity food bank D. Youth services: two partners in B and in C."""
    return pd.DataFrame(
        {
            "service_id": ["y1", "y2", "y3", "l1", "f1"],
            "service_type": ["youth_service", "youth_service", "youth_service", "library", "food_bank"],
            "theme": ["children", "children", "children", "economy", "economy"],
            "partner": ["County", "Charity", "County", "County", "Charity"],
            "cost": [100.0, 300.0, 40.0, 1000.0, 20.0],
        }
    )


def _catchments():
    return pd.DataFrame(
        {
            "service_id": ["y1", "y1", "y2", "y2", "y3", "l1", "l1", "l1", "l1", "f1"],
            "area_code": ["A", "B", "B", "C", "C", "A", "B", "C", "D", "D"],
        }
    )


def test_duplication_from_lists_of_areas_with_spend():
    services, catchments = _services(), _catchments()
    before = services.copy()
    out = com.duplication(services, catchment=catchments, spend="cost")
    pd.testing.assert_frame_equal(services, before)
    children = out[out["theme"] == "children"].set_index("area_code")
    assert sorted(children.index) == ["B", "C"]
    assert children.loc["B", "partners"] == "Charity; County"
    assert children.loc["B", "n_services"] == 2 and children.loc["B", "n_partners"] == 2
    assert (
        children.loc["B", "spend_total"] == 400 and children.loc["B", "spend_in_area"] == 200
    )  # 100/2 + 300/2
    assert children.loc["C", "spend_in_area"] == 190  # 300/2 + 40/1
    # same theme, different kinds of service: a library and a food bank "overlap" in D ...
    assert out[out["theme"] == "economy"]["area_code"].tolist() == ["D"]
    # ... but not like for like
    typed = com.duplication(services, catchment=catchments, theme="service_type")
    assert set(typed["service_type"]) == {"youth_service"}
    assert "spend_total" not in typed.columns
    assert com.duplication(services, catchment=catchments, min_partners=3).empty


def test_duplicate_pairs_from_lists_of_areas():
    pairs = com.duplicate_pairs(_services(), catchment=_catchments(), spend="cost")
    assert list(zip(pairs["service_a"], pairs["service_b"], strict=True)) == [
        ("y2", "y3"),
        ("y1", "y2"),
        ("f1", "l1"),
    ]
    got = {
        (a, b): row
        for a, b, row in zip(pairs["service_a"], pairs["service_b"], pairs.itertuples(), strict=True)
    }
    assert set(got) == {("y1", "y2"), ("y2", "y3"), ("f1", "l1")}  # y1-y3: same partner
    assert got[("y1", "y2")].shared_areas == 1 and got[("y1", "y2")].overlap_share == 0.5
    assert got[("y2", "y3")].overlap_share == 1.0  # y3's only area is in y2's catchment
    assert got[("f1", "l1")].areas_b == 4 and got[("f1", "l1")].spend_b == 1000
    assert pairs["theme"].tolist() == ["children", "children", "economy"]
    assert pairs["overlap_share"].tolist() == [1.0, 0.5, 1.0]  # sorted within theme
    typed = com.duplicate_pairs(_services(), catchment=_catchments(), theme="service_type")
    assert set(typed["service_type"]) == {"youth_service"} and len(typed) == 2


def _points(coords, squares_crs="EPSG:27700", **extra):
    frame = _services().iloc[: len(coords)].assign(**extra)
    return gpd.GeoDataFrame(frame, geometry=[Point(X0 + x, Y0 + y) for x, y in coords], crs=squares_crs)


def test_duplication_with_a_radius_around_each_service(squares):
    # y1 at the centre of A, y2 at the centre of B, y3 far away
    services = _points([(500, 500), (1500, 500), (20_000, 20_000)])
    wide = com.duplication(services, catchment=1100.0, areas=squares)
    # y1 reaches A, B, C (1,000 m) but not D (1,414 m); y2 reaches A, B, D
    assert wide["area_code"].tolist() == ["A", "B"]
    assert wide.attrs["needskit_duplication"]["services_without_catchment"] == ["y3"]
    assert com.duplication(services, catchment=900.0, areas=squares).empty
    # per-service radii from a column
    radii = services.assign(reach=[1100.0, 900.0, 10.0])
    assert com.duplication(radii, catchment="reach", areas=squares)["area_code"].tolist() == ["B"]
    # a service always serves the area it stands in
    placed = services.assign(area_code=["A", "B", "B"])  # y3 (County) far off, but recorded in B
    assert com.duplication(placed, catchment=900.0, areas=squares)["area_code"].tolist() == ["B"]
    pairs = com.duplicate_pairs(services, catchment=1100.0, areas=squares)
    assert pairs[["service_a", "service_b", "shared_areas", "areas_a", "areas_b"]].values.tolist() == [
        ["y1", "y2", 2, 3, 3]
    ]


def test_duplication_errors(squares):
    services, catchments = _services(), _catchments()
    with pytest.raises(SchemaError, match="not in the services frame"):
        com.duplication(services.iloc[1:], catchment=catchments)
    with pytest.raises(SchemaError, match="missing or repeated service ids"):
        com.duplication(pd.concat([services, services.iloc[:1]]), catchment=catchments)
    with pytest.raises(SchemaError, match="whole number ≥ 2"):
        com.duplication(services, catchment=catchments, min_partners=1)
    with pytest.raises(SchemaError, match="'spend'|spend"):
        com.duplication(services, catchment=catchments, spend="budget")
    with pytest.raises(SchemaError, match="negative"):
        com.duplication(services.assign(cost=-1.0), catchment=catchments, spend="cost")
    with pytest.raises(SchemaError, match="has missing values"):
        com.duplication(services.assign(partner=[None, "a", "b", "c", "d"]), catchment=catchments)
    with pytest.raises(SchemaError, match="catchment columns"):
        com.duplication(services, catchment=catchments.rename(columns={"area_code": "lsoa"}))
    with pytest.raises(GeographyError, match="not a GeoDataFrame"):
        com.duplication(services, catchment=1000.0)
    points = _points([(500, 500), (1500, 500)])
    with pytest.raises(SchemaError, match="not a positive distance"):
        com.duplication(points, catchment=-5.0, areas=squares)
    with pytest.raises(SchemaError, match="not a catchment"):
        com.duplication(points, catchment=["A"], areas=squares)
    with pytest.raises(GeographyError, match="needs the areas a radius catchment covers"):
        com.duplication(points, catchment=1000.0)
    with pytest.raises(GeographyError, match="not in the services' CRS"):
        com.duplication(points, catchment=1000.0, areas=squares.to_crs(4326))
    with pytest.raises(GeographyError, match="'area_code' column"):
        com.duplication(points, catchment=1000.0, areas=squares.rename(columns={"area_code": "code"}))
    with pytest.raises(GeographyError, match="geographic CRS"):
        com.duplication(points.to_crs(4326), catchment=1000.0, areas=squares)


def test_duplication_on_the_shipped_register(shipped_store):
    from needskit.resources import build_register

    services = shipped_store.read_register("services")
    services = services[services["illustrative"]].assign(
        annual_cost_gbp=lambda f: pd.to_numeric(f["annual_cost_gbp"]),
        easting=lambda f: pd.to_numeric(f["easting"]),
        northing=lambda f: pd.to_numeric(f["northing"]),
    )
    register = build_register(
        services=services,
        spend=shipped_store.read_register("spend"),
        catchments=shipped_store.read_register("catchments"),
        population=pd.DataFrame(),
    )
    out = com.duplication(
        register.services, catchment=register.catchments, theme="service_type", spend="annual_cost_gbp"
    )
    assert (out["n_partners"] >= 2).all()
    youth = out[out["service_type"] == "youth_service"]
    assert len(youth) > 0  # council and voluntary youth services overlap somewhere
    assert set(youth["partners"].str.split("; ").explode()) == {
        "Gloucestershire County Council",
        "Voluntary and community sector",
    }
    pairs = com.duplicate_pairs(register.services, catchment=register.catchments, theme="service_type")
    assert (pairs["partner_a"] != pairs["partner_b"]).all() and (pairs["overlap_share"] <= 1).all()
    assert set(pairs.loc[pairs["service_type"] == "youth_service", "service_a"]) <= set(
        youth["service_ids"].str.split("; ").explode()
    )
