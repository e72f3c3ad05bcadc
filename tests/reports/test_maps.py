"""needskit.reports.maps: choropleth and static_map, geometry simplified and rounded, input checks."""

from __future__ import annotations

import dataclasses
import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from needskit.errors import GeographyError, NeedskitWarning, SchemaError
from needskit.place import BNG, load_areas
from needskit.reports import maps
from needskit.reports import needs_profile as profile
from reports.cases import COUNTY


def test_choropleth_geometry_is_simplified_and_rounded(districts):
    chart = maps.choropleth(districts, column="area_km2", simplify=50)
    before = int(districts.geometry.count_coordinates().sum())
    after = int(chart.areas.geometry.count_coordinates().sum())
    assert after < before
    geojson = chart.geojson()
    coords = json.dumps([f["geometry"] for f in geojson["features"]])
    # the map embeds exactly these coordinates, encoded
    embedded = chart.embedded_polygons()
    for drawn, feature in zip(embedded, geojson["features"], strict=True):
        expected = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))
        assert np.array_equal(np.round(shapely.get_coordinates(drawn), 5), expected)
    decimals = [len(x.split(".")[1]) for x in re.findall(r"-?\d+\.\d+", coords)]
    assert max(decimals) <= 5
    lons = np.array([float(x) for x in re.findall(r"\[(-?\d+\.\d+), ", coords)])
    assert ((lons > -3.0) & (lons < -1.5)).all()  # Gloucestershire in lon/lat
    assert districts.geometry.count_coordinates().sum() == before  # input not changed


def test_choropleth_missing_values_and_tooltip(districts):
    frame = districts.assign(value=[1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    chart = maps.choropleth(
        frame, column="value", k=2, tooltip=["area_name", "value"], aliases=["District", "Value"]
    )
    assert (chart.areas["map_class"] == -1).sum() == 1
    assert chart.areas.loc[chart.areas["map_class"] == -1, "map_colour"].iat[0] == maps.MISSING_COLOUR
    assert "No data (1)" in chart.to_html()
    properties = [f["properties"] for f in chart.geojson()["features"]]
    assert properties[2]["value"] == "no data" and properties[0]["area_name"] == "Cheltenham"
    assert '"District"' in chart.to_html()


def test_choropleth_errors(districts):
    with pytest.raises(SchemaError, match="is not a GeoDataFrame"):
        maps.choropleth(districts.drop(columns="geometry"), column="area_km2")
    with pytest.raises(GeographyError, match="has no CRS"):
        maps.choropleth(districts.set_crs(None, allow_override=True), column="area_km2")
    with pytest.raises(SchemaError, match="has no rows"):
        maps.choropleth(districts.iloc[:0], column="area_km2")
    with pytest.raises(SchemaError, match="column='area' is not a column"):
        maps.choropleth(districts, column="area")
    with pytest.raises(SchemaError, match="is not numeric"):
        maps.choropleth(districts, column="area_name")
    with pytest.raises(SchemaError, match="unknown colormap"):
        maps.choropleth(districts, column="area_km2", cmap="Rainbowz")
    with pytest.raises(SchemaError, match="tooltip"):
        maps.choropleth(districts, column="area_km2", tooltip=["nope"])
    with pytest.raises(SchemaError, match="one label per tooltip column"):
        maps.choropleth(districts, column="area_km2", tooltip=["area_name"], aliases=["a", "b"])


def test_static_map_outlines_and_choropleth(districts):
    outline = maps.static_map(districts, title="Districts")
    assert outline.axes[0].get_title(loc="left") == "Districts" and outline.axes[0].get_legend() is None
    filled = maps.static_map(districts, column="area_km2", k=2, legend="km\u00b2")
    assert filled.axes[0].get_legend().get_title().get_text() == "km\u00b2"


# ------------------------------------------------------------------------------ shared edges, no gaps


def _embedded_polygons(chart) -> gpd.GeoSeries:
    """The polygons the interactive map embeds (decoded from its payload), back in British
    National Grid."""
    return gpd.GeoSeries(chart.embedded_polygons(), crs="EPSG:4326").to_crs(BNG)


def _neighbours(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of polygons sharing more than 1 m of boundary (within 10 cm: the published
    boundaries do not share their vertices exactly)."""
    i, j = shapely.STRtree(polygons).query(polygons, predicate="intersects")
    i, j = i[i < j], j[i < j]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(polygons[i]), shapely.buffer(polygons[j], 0.1))
    )
    return i[shared > 1.0], j[shared > 1.0]


def _gaps_wider_than(polygons: np.ndarray, width: float) -> list[float]:
    """Widths (diameter of the largest circle inside) of the holes the polygons leave."""
    union = shapely.union_all(shapely.make_valid(polygons))
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(union) for ring in part.interiors]
    widths = [2 * shapely.length(shapely.maximum_inscribed_circle(h, 0.01)) for h in holes]
    return [w for w in widths if w > width]


def test_report_map_leaves_no_gap_between_neighbouring_lsoas(county_ctx):
    lsoas = county_ctx.store.read_areas("lsoa")
    inside = county_ctx.hierarchy.loc[county_ctx.hierarchy["county"] == COUNTY, "lsoa"]
    county = dataclasses.replace(  # the county's needs profile at LSOA level
        county_ctx, level="lsoa", neighbourhoods=lsoas[lsoas["area_code"].isin(inside)].reset_index(drop=True)
    )
    chart = profile.indicator_map(county, "imd_score")
    original = county.neighbourhoods.set_index("area_code").loc[chart.areas["area_code"]].geometry.to_numpy()
    drawn = _embedded_polygons(chart).to_numpy()
    assert len(drawn) == len(original) > 300 and chart.areas.attrs["simplified"] == "cleaned coverage"
    i, j = _neighbours(original)
    assert len(i) > 1000  # the county's LSOAs have ~1,040 neighbouring pairs
    # neighbours still touch and share an edge (not a point where two wiggly lines cross) ...
    assert shapely.distance(drawn[i], drawn[j]).max() == 0.0
    common = shapely.length(shapely.intersection(shapely.boundary(drawn[i]), shapely.boundary(drawn[j])))
    assert (common > 0).all(), f"{int((common == 0).sum())} neighbouring pairs share no edge"
    # ... and leave no hole or sliver wider than 1 m between them
    assert _gaps_wider_than(drawn, 1.0) == []
    # the published boundaries themselves are not an exact coverage (why cleaning is needed)
    assert not shapely.coverage_is_valid(original)
    # the map stays small: simplified
    assert shapely.get_num_coordinates(drawn).sum() < shapely.get_num_coordinates(original).sum()
    # district outlines are dissolved from the same simplified LSOAs: they run along their edges
    assert sorted(chart.outlines["area_code"]) == sorted(county.hierarchy["district"].unique())
    edges = shapely.union_all(shapely.boundary(chart.areas.geometry.to_numpy()))
    corners = shapely.points(shapely.get_coordinates(chart.outlines.geometry.to_numpy()))
    assert shapely.distance(corners, edges).max() < 1e-6
    assert "Heavier lines: District boundaries." in chart.description


def test_simplify_coverage_cleans_slivers_but_never_cuts_real_overlaps(squares):
    # a 30 cm gap and a 20 cm overlap, as digitising leaves them: cleaned, then one shared edge
    geoms = squares.geometry.to_numpy().copy()
    geoms[1] = shapely.affinity.translate(geoms[1], xoff=0.3)
    geoms[3] = shapely.affinity.translate(geoms[3], xoff=-0.2)
    simplified, how = maps.simplify_coverage(geoms, tolerance=20)
    assert how == "cleaned coverage" and shapely.coverage_is_valid(simplified)
    assert _gaps_wider_than(simplified, 0.01) == []
    # areas that really overlap (by 200 m) are not made to tile: one by one, with the reason
    overlapping = squares.assign(geometry=squares.geometry.buffer(200))
    _, how = maps.simplify_coverage(overlapping.geometry.to_numpy(), tolerance=20)
    assert how.startswith("one by one: the areas overlap")
    with pytest.warns(NeedskitWarning, match="simplified one by one: the areas overlap"):
        maps.choropleth(overlapping.assign(v=[1.0, 2, 3, 4]), column="v", k=2)
    # points are not polygons
    _, how = maps.simplify_coverage(squares.centroid.to_numpy(), tolerance=20)
    assert how == "one by one: not all areas are polygons"


def test_with_parent_gives_no_outline_rather_than_a_wrong_one(shipped_geography):
    lsoas = load_areas("lsoa", geography=shipped_geography, within="E07000078").head(3)
    hierarchy = shipped_geography.hierarchy(2021)
    assert (
        maps.with_parent(lsoas, hierarchy=hierarchy, level="lsoa")["parent_code"].tolist()
        == ["E07000078"] * 3
    )
    assert maps.with_parent(lsoas, hierarchy=hierarchy, level="district")["parent_code"].isna().all()
    ward = hierarchy.loc[hierarchy["lsoa"] == lsoas["area_code"].iat[0], "ward"].iat[0]
    rows = hierarchy[hierarchy["ward"] == ward].reset_index(drop=True)
    wards = lsoas.head(1).assign(area_code=ward)
    assert maps.with_parent(wards, hierarchy=rows, level="ward")["parent_code"].tolist() == ["E07000078"]
    split = rows.assign(district=["E07999999"] + rows["district"].iloc[1:].tolist())  # in two districts
    assert (
        len(rows) > 1 and maps.with_parent(wards, hierarchy=split, level="ward")["parent_code"].isna().all()
    )


def test_static_map_draws_the_same_simplified_geometry(districts):
    chart = maps.choropleth(districts, column="area_km2", k=3)
    assert chart.areas.attrs["simplified"] == "cleaned coverage"
    ax = chart.figure().axes[0]
    drawn = sum(len(path.vertices) for path in ax.collections[0].get_paths())
    assert drawn == int(shapely.get_num_coordinates(chart.areas.geometry.to_numpy()).sum())
    assert drawn < int(shapely.get_num_coordinates(districts.geometry.to_numpy()).sum())
