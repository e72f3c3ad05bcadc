"""needskit.reports.map_rendering: two renderings of one choropleth (folium HTML without network,
static PNG)."""

from __future__ import annotations

import base64
import html
import json
import re

import numpy as np
import pandas as pd

from needskit.reports import map_rendering, map_text, maps


def test_choropleth_both_renderings_share_classes(districts):
    chart = maps.choropleth(districts, column="area_km2", title="Area", legend="km\u00b2", k=3)
    assert sum(chart.classes.counts) == 6
    assert list(chart.areas.columns[:3]) == ["area_code", "area_name", "area_km2"]
    assert {"map_class", "map_colour", "map_label"} <= set(chart.areas.columns)
    assert chart.areas.crs.equals("EPSG:27700") and chart.lonlat.crs.equals("EPSG:4326")
    bundle, metadata = chart._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    # the PDF's img alt text, and the caption printed under the static map (the title by default)
    assert metadata == {
        "image/png": {"alt": chart.description, "caption": "Area", "description": chart.description}
    }
    captioned = maps.choropleth(
        districts, column="area_km2", title="Area", caption="Area, 2021. Source: ONS."
    )
    assert captioned._repr_mimebundle_()[1]["image/png"]["caption"] == "Area, 2021. Source: ONS."
    assert ">Area, 2021. Source: ONS.</figcaption>" in captioned.to_html(include_assets=False)
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
    assert "viewport" not in page and "user-scalable" not in page  # nor its zoom lock
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()


def test_leaflet_assets_are_vendored_and_inlinable():
    js, css = map_rendering.leaflet_assets()
    assert 'version="1.9.4"' in js.replace("'", '"') or "1.9.4" in js
    assert "sourceMappingURL" not in js
    assert "data:image/png;base64," in css and "url(images/" not in css


# ------------------------------------------------------------------------------ text alternative


def test_map_has_a_text_alternative_and_a_data_table(districts, shipped_geography):
    frame = districts.assign(
        area_name=["<b>Cheltenham</b>", *districts["area_name"].iloc[1:]],
        value=[12.5, np.nan, np.nan, 40.0, 7.25, 19.0],
        why=["", "small numbers", "", "", "", ""],
    )
    frame = maps.with_parent(
        frame, hierarchy=shipped_geography.hierarchy(2021), level="district", parent="county"
    )
    chart = maps.choropleth(
        frame,
        column="value",
        title="Rate by district",
        legend="per 1,000 residents",
        k=2,
        area_label="District",
        withheld="why",
        outline_by="parent_code",
        outline_label="County boundary",
    )
    assert chart.areas["map_class"].tolist()[:3] == [0, -2, -1]
    text = chart.description
    assert text.startswith("Map: Rate by district. 6 areas shaded in 2 classes of per 1,000 residents: ")
    ranking = "Gloucester (40.0), Tewkesbury (19.0), <b>Cheltenham</b> (12.5), Stroud (7.2)."
    assert f"From highest to lowest: {ranking}" in text  # plain text: escaped where it is shown
    assert (
        "1 area withheld to protect small numbers. 1 area without data. Heavier lines: County boundary."
        in text
    )
    # the interactive map is described by that text and labelled for keyboard users
    page = chart.to_html(include_assets=False)
    about = re.search(r'<p class="needskit-map-about" id="([^"]+)">(.*?)</p>', page)
    assert about and html.unescape(about.group(2)) == text and "<b>" not in about.group(2)
    assert re.search(
        rf'class="folium-map" id="[^"]+" role="region" aria-label="Interactive map: Rate by district\. '
        rf'[^"]*arrow keys[^"]*" aria-describedby="{about.group(1)}"',
        page,
    )
    assert '<figure class="needskit-map" aria-labelledby=' in page and "<figcaption id=" in page
    # the same data as a table: every area, highest first, withheld and missing said in words
    table = re.search(
        r"<details class=\"needskit-map-data\"><summary>Data table of this map \(6 areas\)</summary>"
        r"(.*?)</details>",
        page,
        re.S,
    ).group(1)
    assert '<th scope="col">District</th><th scope="col" class="num">per 1,000 residents</th>' in table
    cells = re.findall(r'<tr><th scope="row">(.*?)</th><td class="num">(.*?)</td>', table)
    assert [v for _, v in cells] == ["40.0", "19.0", "12.5", "7.2", "withheld", "no data"]
    assert cells[2][0] == "&lt;b&gt;Cheltenham&lt;/b&gt;"
    # hover or tap shows the name and the value, or "withheld"
    props = {f["properties"]["area_name"]: f["properties"]["value"] for f in chart.geojson()["features"]}
    assert props[frame["area_name"].iat[1]] == "withheld" and props["<b>Cheltenham</b>"] == "12.5"
    assert (
        "<b>Cheltenham" not in page.split("</figure>")[1]
    )  # the script's JSON escapes it; tooltips are text
    # outlines drawn over the areas, not clickable; the legend names classes, withheld and outlines
    assert page.count("interactive: false") == 1
    legend = json.loads(re.search(r"div\.innerHTML = (\".*?\");", page).group(1))
    assert (
        "<strong>per 1,000 residents</strong>" in legend
        and "Withheld (1)" in legend
        and "County boundary" in legend
    )
    static = [t.get_text() for t in chart.figure().axes[0].get_legend().get_texts()]
    assert static[-3:] == ["Withheld (1)", "No data (1)", "County boundary"]


def test_map_description_names_the_extremes():
    frame = pd.DataFrame({"area_name": [f"Area {c}" for c in "ABCDEFGH"], "v": [5.0, 1, 8, 3, 7, 2, 6, 4]})
    text = map_text.map_description(
        frame, column="v", classes=pd.Series([0] * 8), labels=["1.0 – 8.0"], counts=[8], title="V", legend="%"
    )
    assert text == (
        "Map: V. 8 areas shaded in 1 class of %: 1.0 – 8.0 (8 areas). Highest: Area C (8.0), Area E (7.0), "
        "Area G (6.0). Lowest: Area B (1.0), Area F (2.0), Area D (3.0)."
    )


def test_encoded_rings_decode_to_the_same_coordinates():
    rng = np.random.default_rng(7)
    ring = np.round(np.cumsum(rng.normal(0, 0.001, (500, 2)), axis=0) + [-2.1, 51.8], 5)
    text = map_rendering.encode_ring(ring)
    assert np.array_equal(np.round(map_rendering.decode_ring(text), 5), ring)
    assert len(text) < 6 * len(ring)  # GeoJSON takes ~20 characters a vertex
    assert re.fullmatch(r"[A-Za-z0-9_-]+", text)  # nothing to escape in JSON, HTML or a template


def test_map_element_ids_are_reproducible_and_distinct(districts, monkeypatch):
    """folium draws a random element id per map; needskit's comes from the map's data and its
    place in the notebook, so a report run again (or on another machine) writes the same HTML,
    and two maps of one report never share an id."""
    import itertools

    chart = maps.choropleth(districts, column="area_km2", title="Area")
    monkeypatch.setattr(map_rendering, "_SERIAL", itertools.count())  # a fresh kernel
    first, second = chart.to_html(), chart.to_html()
    monkeypatch.setattr(map_rendering, "_SERIAL", itertools.count())  # the same report, run again
    assert chart.to_html() == first
    ids = [set(re.findall(r'id="(map_[0-9a-f]{32})"', page)) for page in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 1 and ids[0] != ids[1]
