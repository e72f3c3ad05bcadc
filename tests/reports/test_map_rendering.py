"""needskit.reports.map_rendering: two renderings of one choropleth (folium HTML without network,
static PNG)."""

from __future__ import annotations

import base64
import json
import re

from needskit.reports import map_rendering, maps


def test_choropleth_both_renderings_share_classes(districts):
    chart = maps.choropleth(districts, column="area_km2", title="Area", legend="km\u00b2", k=3)
    assert sum(chart.classes.counts) == 6
    assert list(chart.areas.columns[:3]) == ["area_code", "area_name", "area_km2"]
    assert {"map_class", "map_colour", "map_label"} <= set(chart.areas.columns)
    assert chart.areas.crs.equals("EPSG:27700") and chart.lonlat.crs.equals("EPSG:4326")
    bundle, metadata = chart._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    assert metadata == {"image/png": {"alt": chart.description}}  # the PDF's img alt text
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    page = bundle["text/html"]
    for label, colour in zip(chart.classes.labels, chart.classes.colours, strict=True):
        assert label in json.loads(re.search(r"div\.innerHTML = (\".*?\");", page).group(1))
        assert colour in page
    # the static legend uses the same labels
    figure = chart.figure()
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert texts == [
        f"{label} ({n})" for label, n in zip(chart.classes.labels, chart.classes.counts, strict=True)
    ]
    assert figure.axes[0].get_title(loc="left") == "Area"
    # include/exclude are honoured
    assert set(chart._repr_mimebundle_(include={"image/png"})[0]) == {"image/png", "text/plain"}


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


def test_leaflet_assets_are_vendored_and_inlinable():
    js, css = map_rendering.leaflet_assets()
    assert 'version="1.9.4"' in js.replace("'", '"') or "1.9.4" in js
    assert "sourceMappingURL" not in js
    assert "data:image/png;base64," in css and "url(images/" not in css
