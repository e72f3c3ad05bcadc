"""needskit.reports.maps: one classification, two renderings (folium HTML without network, static PNG)."""

from __future__ import annotations

import base64
import json
import re

import geopandas as gpd
import numpy as np
import pytest

from needskit.errors import GeographyError, SchemaError
from needskit.place.geography import load_areas
from needskit.reports import maps


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return load_areas("district").assign(area_km2=lambda d: d.area / 1e6)


def test_classify_quantiles_natural_breaks_user_defined():
    q = maps.classify([1, 2, 3, 4, 5, 6], scheme="quantiles", k=3)
    assert q.counts == [2, 2, 2] and list(q.class_of) == [0, 0, 1, 1, 2, 2]
    assert q.bins.tolist() == pytest.approx([8 / 3, 13 / 3, 6.0])  # numpy percentiles, linear interpolation
    jenks = maps.classify([1, 2, 3, 10, 11, 12], scheme="natural_breaks", k=2)
    assert jenks.bins.tolist() == [3.0, 12.0] and jenks.counts == [3, 3]
    user = maps.classify([1, 5, 9, np.nan], scheme="user_defined", bins=[4, 10], fmt="{:.0f}")
    assert list(user.class_of) == [0, 1, 1, -1] and user.labels == ["1 \u2013 4", "4 \u2013 10"]
    assert len(set(q.colours)) == 3 and all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in q.colours)
    # fewer distinct values than classes: fewer classes, no error
    assert len(maps.classify([1, 1, 2, 2], k=5).labels) <= 2
    assert maps.classify([7, 7, 7], k=3).counts == [3]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scheme": "jenks"}, "unknown classification scheme"),
        ({"k": 1}, "needs at least two classes"),
        ({"scheme": "user_defined"}, "needs class bounds"),
    ],
)
def test_classify_errors(kwargs, message):
    with pytest.raises(SchemaError, match=message):
        maps.classify([1, 2, 3], **kwargs)


def test_classify_all_missing():
    with pytest.raises(SchemaError, match="has no numbers to map"):
        maps.classify([np.nan, None])


def test_choropleth_both_renderings_share_classes(districts):
    chart = maps.choropleth(districts, column="area_km2", title="Area", legend="km\u00b2", k=3)
    assert sum(chart.classes.counts) == 6
    assert list(chart.areas.columns[:3]) == ["area_code", "area_name", "area_km2"]
    assert {"map_class", "map_colour", "map_label"} <= set(chart.areas.columns)
    assert chart.areas.crs.equals("EPSG:27700") and chart.lonlat.crs.equals("EPSG:4326")
    bundle = chart._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    page = bundle["text/html"]
    for label, colour in zip(chart.classes.labels, chart.classes.colours, strict=True):
        assert label in json.loads(re.search(r"div\.innerHTML = (\".*?\");", page).group(1))
        assert colour in page
    # the static legend uses the same labels
    figure = chart.figure()
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert texts == [f"{label} ({n})" for label, n in zip(chart.classes.labels, chart.classes.counts, strict=True)]
    assert figure.axes[0].get_title(loc="left") == "Area"
    # include/exclude are honoured
    assert set(chart._repr_mimebundle_(include={"image/png"})) == {"image/png", "text/plain"}


def test_choropleth_html_is_self_contained(districts):
    page = maps.choropleth(districts, column="area_km2").to_html()
    assert "<iframe" not in page
    assert page.count('data-needskit-asset="leaflet.js"') == 1 and 'data-needskit-asset="leaflet.css"' in page
    assert not re.search(r"""<(script|img)[^>]*\bsrc\s*=\s*["']?(https?:)?//""", page)
    assert not re.search(r"""<link[^>]*\bhref\s*=\s*["']?(https?:)?//""", page)
    assert "sourceMappingURL" not in page and "url(images/" not in page
    assert "L.tileLayer" not in page.split("</script>", 1)[1]  # no tile server: the map draws offline
    assert "html, body" not in page  # folium's full-page styles are not carried into a report
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()


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
    chart = maps.choropleth(frame, column="value", k=2, tooltip=["area_name", "value"], aliases=["District", "Value"])
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


def test_leaflet_assets_are_vendored_and_inlinable():
    js, css = maps.leaflet_assets()
    assert 'version="1.9.4"' in js.replace("'", '"') or "1.9.4" in js
    assert "sourceMappingURL" not in js
    assert "data:image/png;base64," in css and "url(images/" not in css
