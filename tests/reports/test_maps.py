"""needskit.reports.maps: choropleth and static_map, geometry simplified and rounded, input checks."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from needskit.errors import GeographyError, SchemaError
from needskit.reports import maps


def test_choropleth_geometry_is_simplified_and_rounded(districts):
    chart = maps.choropleth(districts, column="area_km2", simplify=50)
    before = int(districts.geometry.count_coordinates().sum())
    after = int(chart.areas.geometry.count_coordinates().sum())
    assert after < before
    geojson = chart.geojson()
    coords = json.dumps([f["geometry"] for f in geojson["features"]])
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
    assert properties[2]["value"] == "" and properties[0]["area_name"] == "Cheltenham"
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
