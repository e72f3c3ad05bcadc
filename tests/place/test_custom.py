"""needskit.place.custom: the toy geography and the squares partnership first, then the shipped example."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from needskit.config import load_places
from needskit.config.places import PlaceSet, parse_places
from needskit.errors import GeographyError, SchemaError
from needskit.place import (
    CustomPlaces,
    aggregate,
    build_places,
    load_areas,
    place_code,
    places_from_lsoas,
    places_from_polygons,
    places_from_postcodes,
)

X0, Y0 = 394_000, 222_000
A, B, C, D = "E01999901", "E01999902", "E01999903", "E01999904"  # the squares partnership's LSOAs


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("West Cheltenham", "west-cheltenham"),
        ("St Mark's", "st-mark-s"),
        ("  Gloucester  inner_city! ", "gloucester-inner-city"),
        ("Ystradgynlais Ŵ", "ystradgynlais-ŵ"),
        ("GL50 1", "gl50-1"),
        ("__", ""),
    ],
)
def test_place_code(name, code):
    assert place_code(name) == code


# ------------------------------------------------------------------ the toy geography


def test_places_from_lsoas_outlines_and_errors(toy_geography):
    places = places_from_lsoas(
        {"North end": ["E01000001", "E01000002", "E01000001"], "Far east": "E01000010"},
        geography=toy_geography,
    )
    assert isinstance(places, CustomPlaces) and places.name == "custom places" and places.vintage == 2021
    assert places.areas["area_code"].tolist() == ["north-end", "far-east"]
    assert places.areas["area_name"].tolist() == ["North end", "Far east"]
    assert places.areas.area.tolist() == pytest.approx([2e6, 1e6])  # repeated LSOAs count once
    assert places.members.values.tolist() == [
        ["E01000001", "north-end", 1.0],
        ["E01000002", "north-end", 1.0],
        ["E01000010", "far-east", 1.0],
    ]
    assert load_areas(places, geography=toy_geography)["area_code"].tolist() == ["north-end", "far-east"]
    with pytest.raises(GeographyError, match="no places given"):
        places_from_lsoas({}, geography=toy_geography)
    with pytest.raises(GeographyError, match="place 'Empty': has no LSOAs"):
        places_from_lsoas({"Empty": []}, geography=toy_geography)
    # Welsh LSOAs are in the lookups but not in the boundaries
    with pytest.raises(
        GeographyError, match="place 'Wales': is not made of LSOAs of the geography.*'W01000001'"
    ):
        places_from_lsoas({"Wales": ["W01000001"]}, geography=toy_geography)
    with pytest.raises(GeographyError, match="has no letters or digits"):
        places_from_lsoas({"!!": ["E01000001"]}, geography=toy_geography)
    with pytest.raises(GeographyError, match="two places would have the same code.*'north-end'"):
        places_from_lsoas({"North end": ["E01000001"], "north END": ["E01000002"]}, geography=toy_geography)
    with pytest.raises(GeographyError, match="unknown vintage"):
        places_from_lsoas({"North end": ["E01000001"]}, geography=toy_geography, vintage=2001)


def test_places_from_polygons_by_area_without_a_postcode_directory(toy_geography):
    # half of LSOA 01 and all of LSOA 02, drawn in lon/lat: reprojected to British National Grid
    drawn = gpd.GeoDataFrame(
        {"id": ["P1"], "label": ["Patch"]}, geometry=[box(X0 + 500, Y0, X0 + 2000, Y0 + 1000)], crs=27700
    )
    places = places_from_polygons(
        drawn.to_crs(4326), code_col="id", name_col="label", geography=toy_geography
    )
    weights = places.members.set_index("lsoa_code")["weight"]
    weights = weights[weights > 1e-6]  # slivers of the round trip through degrees
    assert weights.to_dict() == pytest.approx({"E01000001": 0.5, "E01000002": 1.0}, abs=1e-4)
    assert places.areas[["area_code", "area_name"]].values.tolist() == [["P1", "Patch"]]
    assert str(places.areas.crs) == "EPSG:27700"


def test_places_from_polygons_errors(toy_geography, squares):
    with pytest.raises(GeographyError, match="is not a GeoDataFrame"):
        places_from_polygons(pd.DataFrame({"area_code": ["P"]}), geography=toy_geography)
    with pytest.raises(GeographyError, match="has no CRS"):
        places_from_polygons(squares.set_crs(None, allow_override=True), geography=toy_geography)
    with pytest.raises(GeographyError, match="unknown weights"):
        places_from_polygons(squares, geography=toy_geography, weights="population")
    with pytest.raises(SchemaError, match="not a column"):
        places_from_polygons(squares, code_col="code", geography=toy_geography)


# ------------------------------------------------------------------ the squares partnership


def test_places_from_postcodes_weigh_lsoas_by_their_postcodes(squares_geography):
    # each square has five postcodes (SQ1 0AA ... SQ1 4AA in A)
    places = places_from_postcodes({"Town": ["SQ1 0AA", "sq11aa", "SQ2 0AB"]}, geography=squares_geography)
    assert places.members.set_index("lsoa_code")["weight"].to_dict() == pytest.approx({A: 0.4, B: 0.2})
    assert places.areas.area.item() == pytest.approx(2e6)  # the outline is the union of the LSOAs touched
    with pytest.raises(GeographyError, match="not in the postcode directory.*'SQ1 9ZZ'"):
        places_from_postcodes({"Bad": ["SQ1 0AA", "SQ1 9ZZ"]}, geography=squares_geography)
    with pytest.raises(GeographyError, match="place 'Empty': has no postcodes"):
        places_from_postcodes({"Empty": []}, geography=squares_geography)


def test_places_from_polygons_by_postcodes(squares_geography):
    west_half_of_a = gpd.GeoDataFrame(
        {"area_code": ["W"]}, geometry=[box(X0, Y0, X0 + 500, Y0 + 1000)], crs=27700
    )
    # A's postcodes lie 150, 300, 450, 600 and 750 m east of its west edge: 3 of 5 in the west half
    by_postcodes = places_from_polygons(west_half_of_a, geography=squares_geography)
    assert by_postcodes.members.values.tolist() == [[A, "W", pytest.approx(0.6)]]
    by_area = places_from_polygons(west_half_of_a, geography=squares_geography, weights="area")
    assert by_area.members.values.tolist() == [[A, "W", pytest.approx(0.5)]]


def test_build_places_of_every_kind(squares_project, squares_geography):
    from_file = build_places(
        load_places(squares_project / "conf" / "places.yml"), geography=squares_geography
    )
    assert from_file.name == "squares places"
    assert from_file.members.values.tolist() == [[A, "south-side", 1.0], [B, "south-side", 1.0]]
    places = parse_places(
        {
            "name": "mixed",
            "places": {
                "West": {"wards": ["West Ward"], "district": "E07999901"},
                "East": {"wards": ["E05999902"]},
                "North": {"lsoas": [C, D]},
                "Sample": {"postcodes": ["SQ1 0AA", "SQ4 0AD"]},
                "Square two": {"postcode_prefixes": ["sq2"]},
            },
        },
        source="places.yml",
    )
    built = build_places(places, geography=squares_geography)
    assert built.name == "mixed" and built.areas["area_code"].tolist() == [
        "west",
        "east",
        "north",
        "sample",
        "square-two",
    ]
    members = built.members.groupby("area_code")["lsoa_code"].apply(sorted).to_dict()
    assert members == {"west": [A, C], "east": [B, D], "north": [C, D], "sample": [A, D], "square-two": [B]}
    assert built.members.set_index("area_code").loc["square-two", "weight"] == pytest.approx(1.0)
    counts = pd.DataFrame({"area_code": [A, B, C, D], "n": [1, 2, 4, 8]})
    out = aggregate(counts, to=built, value_cols="n", geography=squares_geography).set_index("area_code")["n"]
    assert out.to_dict() == pytest.approx(
        {"east": 10, "north": 12, "sample": 1.8, "square-two": 2, "west": 5}
    )


def test_build_places_errors(squares_geography):
    def build(spec):
        return build_places(parse_places({"places": spec}, source="places.yml"), geography=squares_geography)

    with pytest.raises(
        GeographyError, match="places.yml: places.X: unknown ward.*code in E07999901; got 'Far Ward'"
    ):
        build({"X": {"wards": ["Far Ward"], "district": "E07999901"}})
    with pytest.raises(GeographyError, match="places.X: unknown ward.*'Nowhere'"):
        build({"X": {"wards": ["Nowhere"]}})
    with pytest.raises(
        GeographyError, match="no postcode of the directory inside the boundaries starts with"
    ):
        build({"X": {"postcode_prefixes": ["ZZ1"]}})
    with pytest.raises(GeographyError, match="place 'X': is not made of LSOAs"):
        build({"X": {"lsoas": ["E01000001"]}})
    with pytest.raises(GeographyError, match="two places would have the same code"):
        build({"Side": {"lsoas": [A]}, "side!": {"lsoas": [B]}})
    with pytest.raises(GeographyError, match="places.yml: has no places"):
        build_places(
            PlaceSet(name="none", vintage=2021, places=(), source="places.yml"), geography=squares_geography
        )


# ------------------------------------------------------------------ the shipped example


def test_custom_places_from_lsoas_polygons_and_postcodes(shipped_geography):
    geo = shipped_geography
    lsoas = load_areas("lsoa", geography=geo)
    counts = pd.DataFrame(
        {"area_code": lsoas["area_code"], "n": np.random.default_rng(1).integers(0, 50, len(lsoas))}
    )
    codes = counts["area_code"].iloc[:3].tolist()
    places = places_from_lsoas(
        {"North patch": codes[:2], "South patch": codes[2:]}, name="patches", geography=geo
    )
    out = aggregate(counts, to=places, value_cols="n", geography=geo)
    assert out.set_index("area_code")["n"].to_dict() == {
        "north-patch": counts["n"].iloc[:2].sum(),
        "south-patch": counts["n"].iloc[2],
    }
    assert out["level"].unique().tolist() == ["patches"]
    assert len(load_areas(places, geography=geo)) == 2

    # a polygon that is exactly one LSOA takes all of it
    lsoa = lsoas.iloc[[10]]
    poly = places_from_polygons(lsoa.assign(area_code="P1"), weights="area", geography=geo)
    assert poly.members.set_index("lsoa_code")["weight"].max() == pytest.approx(1.0, abs=1e-6)

    pcs = places_from_postcodes({"Town centre": ["GL50 3PP", "gl503pq"]}, geography=geo)
    assert pcs.members["weight"].between(0, 1).all() and len(pcs.areas) == 1
    with pytest.raises(GeographyError, match="not in the postcode directory"):
        places_from_postcodes({"Bad": ["SW1A 1AA"]}, geography=geo)
    with pytest.raises(GeographyError, match="not made of LSOAs of the geography"):
        places_from_lsoas({"Bad": ["E01000001"]}, geography=geo)


def test_shipped_places_and_postcode_districts_reaching_beyond_the_county(shipped_root, shipped_geography):
    places = build_places(load_places(shipped_root / "conf" / "places.yml"), geography=shipped_geography)
    assert places.areas["area_code"].tolist() == [
        "west-cheltenham",
        "gloucester-inner-city",
        "cheltenham-town-centre",
    ]
    assert set(places.members.loc[places.members["area_code"] != "cheltenham-town-centre", "weight"]) == {1.0}
    # GL20 (Tewkesbury) reaches into Worcestershire: a prefix takes the postcodes inside the boundaries
    tewkesbury = build_places(
        parse_places({"places": {"Tewkesbury GL20": {"postcode_prefixes": ["GL20"]}}}),
        geography=shipped_geography,
    )
    inside = set(load_areas("lsoa", geography=shipped_geography)["area_code"])
    assert len(tewkesbury.members) > 0 and set(tewkesbury.members["lsoa_code"]) <= inside
    assert tewkesbury.members["weight"].between(0, 1).all()
