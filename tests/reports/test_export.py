"""needskit.reports.export: text from data and config is never markup in the HTML or the PDF.

Hostile strings go through every kind of output a report shows — the tables of ``show_table``,
``indicator_styler`` and ``board_table``, a map's tooltips and legend, markdown titles and
sentences, the cover, header and footer — and come out as text. The notebook is built from the
helpers' own display outputs (no kernel), so this stays cheap.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import nbformat
import pandas as pd
import pypdf
import pytest
from IPython.display import Markdown
from shapely.geometry import box

from needskit.errors import ReportError
from needskit.reports import charts, maps, monitoring, tables
from needskit.reports.export import ExportContext, export_html, export_pdf, print_html

SECRET = Path(__file__).parent / "secret.txt"  # never created: the fetcher refuses before reading
HOSTILE = {
    "indicator": "Recorded crime <img src=x onerror=window.__pwned=1>",
    "area": 'Ward "><svg onload=window.__pwned=2></svg>',
    "partner": f'Partner <a rel="attachment" href="{SECRET.as_uri()}">x</a>',
    "outcome": "Safer <script>window.__pwned=3</script> streets",
    "activity": "<iframe src=javascript:window.__pwned=4></iframe> outreach",
    "partnership": "</style><script>window.__pwned=5</script>",
}
RAW = ("<img src=x", "<svg", "<script>window", "<iframe", '<a rel="attachment"')


def _display(obj) -> nbformat.NotebookNode:
    if isinstance(obj, Markdown):
        data = {"text/markdown": obj.data, "text/plain": "<Markdown>"}
    elif hasattr(obj, "_repr_mimebundle_"):  # (data, metadata), as IPython takes it
        data, metadata = obj._repr_mimebundle_()
        return nbformat.v4.new_output("display_data", data=data, metadata=metadata)
    else:
        data = {"text/html": obj._repr_html_(), "text/plain": repr(obj)}
    return nbformat.v4.new_output("display_data", data=data)


def _hostile_outputs() -> list:
    indicators = pd.DataFrame(
        {
            "title": [HOSTILE["indicator"]],
            "period": ["2025-01/2025-06"],
            "count": [12.0],
            "value": [3.4],
            "lower_95": [2.0],
            "upper_95": [5.0],
            "comparator_value": [3.0],
            "comparison": ["similar"],
            "polarity": ["high_is_bad"],
            "note": [HOSTILE["area"]],
        }
    )
    board = pd.DataFrame(
        {
            "indicator": [HOSTILE["outcome"]],
            "time": ["2025-06"],
            "value": [1.0],
            "mean": [1.0],
            "lower_limit": [0.5],
            "upper_limit": [1.5],
            "target": [1.2],
            "variation_text": ["common cause"],
            "assurance_text": [HOSTILE["activity"]],
            "n_points": [6],
            "data": ["real"],
        }
    )
    delivery = pd.DataFrame(
        {
            "activity": [HOSTILE["activity"]],
            "partner": [HOSTILE["partner"]],
            "outcome": [HOSTILE["outcome"]],
            HOSTILE["area"]: [5000.0],
        }
    )
    areas = gpd.GeoDataFrame(
        {
            "area_code": ["A1", "A2", "A3"],
            "area_name": [HOSTILE["area"], HOSTILE["partner"], "Plain"],
            "value": [1.0, 2.0, 3.0],
        },
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(0, 1000, 1000, 2000)],
        crs="EPSG:27700",
    )
    area_map = maps.choropleth(
        areas,
        column="value",
        title=HOSTILE["indicator"],
        legend=HOSTILE["outcome"],
        tooltip=["area_name", "value"],
        aliases=[HOSTILE["partnership"], "Value"],
        k=3,
    )
    ctx = SimpleNamespace(
        area_name=HOSTILE["area"],
        period="2025-H1",
        partnership=HOSTILE["partnership"],
        audience="public",
        rule="rounded <b>to</b> 5",
    )
    return [
        Markdown(tables.report_title(ctx, report="resource map")),
        Markdown(f"{HOSTILE['outcome']} is delivered by {HOSTILE['partner']}.\n\n{HOSTILE['activity']}"),
        tables.show_table(delivery),
        tables.show_table(delivery, columns={"activity": HOSTILE["indicator"], "partner": "Partner"}),
        charts.indicator_styler(indicators, comparator_name=HOSTILE["area"]),
        monitoring.board_table(board),
        area_map,
    ]


@pytest.fixture(scope="module")
def hostile():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Hostile text")]
    for obj in _hostile_outputs():
        cell = nbformat.v4.new_code_cell("shown()")
        cell.outputs = [_display(obj)]
        nb.cells.append(cell)
    ctx = ExportContext(
        title="Hostile text",
        report="needs-profile",
        area="E07000078",
        area_name=HOSTILE["area"],
        period="2025-H1",
        publish="partner",
        disclosure_rule=None,
        partnership=HOSTILE["partnership"],
        date="2 December 2026",
    )
    return nb, ctx


def test_html_shows_every_hostile_value_as_text(hostile):
    page = export_html(*hostile)
    body = page.split('<main class="report-body">', 1)[1]
    for raw in RAW:
        assert raw not in body, raw
    assert "<script>window" not in page and "</style><script>" not in page
    assert "Recorded crime &lt;img src=x onerror=window.__pwned=1&gt;" in page  # shown, as text


def test_map_tooltips_and_aliases_are_escaped_text():
    area_map = _hostile_outputs()[-1]
    features = area_map.geojson()["features"]
    names = {f["properties"]["area_name"] for f in features}
    assert HOSTILE["area"] in names  # plain text: the map's script sets it as a text node
    folium_html = area_map.to_html(include_assets=False)  # (Leaflet itself writes "<svg")
    for raw in RAW:
        assert raw not in folium_html, raw
    assert "\\u003c/style\\u003e\\u003cscript\\u003e" in folium_html  # the alias, in the script's JSON
    assert "textContent = label" in folium_html and "textContent = values[i]" in folium_html  # tooltips
    # the description and the data table show it as text
    assert "&lt;/style&gt;&lt;script&gt;window.__pwned=5&lt;/script&gt;" in folium_html


def test_print_html_cover_header_and_footer_are_text(hostile):
    page = print_html(*hostile)
    for raw in RAW:
        assert raw not in page, raw


def test_the_printed_map_has_a_visible_caption(hostile, tmp_path):
    area_map = _hostile_outputs()[-1]
    page = print_html(*hostile)
    figure = page.split('<figure class="needskit-map-print">', 1)[1].split("</figure>", 1)[0]
    caption = figure.split("<figcaption>", 1)[1]
    assert "Recorded crime &lt;img src=x onerror=window.__pwned=1&gt;" in caption  # the title, as text
    assert caption.count("3 areas shaded in 3 classes") == 1  # and the description
    assert re.search(r"alt=[\"']Map: Recorded crime &lt;img", figure)  # the image keeps its alt text
    path = tmp_path / "captioned.pdf"
    export_pdf(*hostile, path)
    text = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(path).pages)
    assert area_map.description.split(":")[0] in text and "3 areas shaded in 3 classes" in text


def _laid_out(tmp_path, hostile, cells: list, name: str) -> list[str]:
    """The text of each page of a PDF of ``cells`` (markdown text or display objects)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Layout")]
    for item in cells:
        if isinstance(item, str):
            nb.cells.append(nbformat.v4.new_markdown_cell(item))
        elif isinstance(item, nbformat.NotebookNode):
            nb.cells.append(item)
        else:
            cell = nbformat.v4.new_code_cell("shown()")
            cell.outputs = [_display(item)]
            nb.cells.append(cell)
    export_pdf(nb, hostile[1], tmp_path / f"{name}.pdf")
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(tmp_path / f"{name}.pdf").pages]


def _long_rug(n: int) -> pd.DataFrame:
    """The tidy compare-areas table of ``n`` indicators for England, a county and three districts."""
    areas = [
        ("E92000001", "England", "england", "", "country"),
        ("C1", "Squares County", "area", "England", "county"),
    ]
    areas += [(f"D{i}", f"District {i}", "compared", "Squares County", "district") for i in range(3)]
    return pd.DataFrame(
        [
            {
                "indicator": f"i{k:02d}",
                "title": f"Indicator {k:02d} with a long name that wraps over two lines",
                "unit": "%",
                "period": "2025-H1",
                "polarity": "high_is_bad",
                "area_code": code,
                "area_name": name,
                "role": role,
                "level": level,
                "value": 10.0 + k,
                "comparison": "benchmark" if role == "england" else "not_compared",
                "comparator_name": against,
            }
            for k in range(n)
            for code, name, role, against, level in areas
        ]
    )


def _filler(lines: int) -> Markdown:
    """The output of the section before (a code cell's, as a report's sentences are)."""
    return Markdown("\n\n".join(f"Filler paragraph {i} of the section before." for i in range(lines)))


def test_a_heading_stays_with_the_table_after_it(hostile, tmp_path):
    # a long tartan rug (whole rows, its header repeated) after a heading and its introduction,
    # wherever the heading falls on the page: never the heading alone at the foot of a page
    rug = charts.compare_areas_table(_long_rug(30))
    for lines in (20, 26, 30, 33):
        pages = _laid_out(
            tmp_path,
            hostile,
            [_filler(lines), "## Compare areas\n\nEvery indicator, every area.", rug],
            "rug",
        )
        page = next(p for p in pages if "Compare areas Every indicator" in p)
        assert "Indicator 00" in page, (lines, page[-300:])
    # nor the heading and the sentence from the data under it, away from the table they introduce
    for lines in (20, 26):
        said = Markdown("Recorded crime: 31 neighbourhoods form high-high clusters.")
        silent = nbformat.v4.new_code_cell("spots = hot_spots()")  # a computation: no output
        pages = _laid_out(tmp_path, hostile, [_filler(lines), "## Hot spots", silent, said, rug], "lead-in")
        page = next(p for p in pages if "Hot spots Recorded crime: 31" in p)
        assert "Indicator 00" in page, (lines, page[-300:])


def test_no_table_leaves_its_last_row_alone_on_a_page(hostile, tmp_path):
    rows = pd.DataFrame(
        {"area_name": [f"Row {i:02d} of the table" for i in range(40)], "n_places": range(40)}
    )
    for lines in (1, 2, 14):  # 1: the 40th row would fall alone on the next page
        pages = _laid_out(tmp_path, hostile, [_filler(lines), tables.show_table(rows)], "widow")
        counts = [n for p in pages if (n := len(re.findall(r"Row \d\d of the table", p)))]
        assert sum(counts) == 40 and counts[-1] > 1, (lines, counts)  # no last row alone


def test_pdf_has_no_attachments_and_no_foreign_file(hostile, tmp_path):
    assert not SECRET.exists()
    path = tmp_path / "hostile.pdf"
    export_pdf(*hostile, path)
    reader = pypdf.PdfReader(path)
    assert reader.attachments == {}
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Recorded crime <img src=x" in text  # the value is printed as written


def test_the_pdf_fetches_only_bundled_assets_and_drawn_images(hostile, tmp_path):
    """Should a value ever reach the page unescaped, WeasyPrint still embeds no local file."""
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    nb, ctx = hostile
    nb = nbformat.from_dict(dict(nb))
    cell = nbformat.v4.new_code_cell("shown()")
    raw = f'<p><a rel="attachment" href="{secret.as_uri()}">register</a></p>'
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": raw})]
    nb.cells = [*nb.cells, cell]
    with pytest.raises(ReportError, match=r"not one of the report's own.*secret\.txt"):
        export_pdf(nb, ctx, tmp_path / "leak.pdf")
    assert not (tmp_path / "leak.pdf").exists()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "https://example.org/logo.png",
        "data:text/html,<script>1</script>",
        "data:image/svg+xml;base64,PHN2Zy8+",
        "ftp://example.org/x",
    ],
)
def test_the_fetcher_refuses_files_network_and_foreign_data(url):
    from needskit.reports.export import asset_fetcher

    with pytest.raises(ReportError, match="bundled assets"):
        asset_fetcher(report="r").fetch(url)


def test_the_fetcher_serves_bundled_assets_and_report_images():
    from importlib import resources

    from needskit.reports.export import asset_fetcher

    fetcher = asset_fetcher(report="r")
    css = Path(str(resources.files("needskit") / "assets" / "print.css"))
    assert fetcher.fetch(css.as_uri()).url.endswith("print.css")
    png = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEA"
        "HnOcQAAAAABJRU5ErkJggg=="
    )
    assert fetcher.fetch(png).url.startswith("data:image/png")


@pytest.mark.browser
@pytest.mark.slow
def test_no_hostile_value_runs_as_script_in_chromium(hostile, tmp_path, browser):
    from reports.browser import open_page

    page_file = tmp_path / "hostile.html"
    page_file.write_text(export_html(*hostile), encoding="utf-8")
    page, log = open_page(browser, page_file)
    try:
        # build every map tooltip, as hovering would, and keep it in the page
        tooltips = page.evaluate(
            """() => { const seen = []; let injected = 0;
                for (const v of Object.values(window)) { if (v instanceof L.Map) { v.eachLayer(l => {
                    if (l.feature && l.getTooltip && l.getTooltip()) {
                        l.openTooltip(l.getBounds().getCenter());  // as hovering or tapping does
                        seen.push(l.getTooltip().getElement().innerText);
                        injected += document.querySelectorAll('img[src=x], svg[onload]').length;
                    }
                }); } } return {seen, injected}; }"""
        )
        found = page.evaluate(
            """() => ({pwned: window.__pwned === undefined ? null : window.__pwned,
                injected: document.querySelectorAll(
                    'img[src=x], svg[onload], iframe, a[rel=attachment]').length,
                shown: document.body.innerText.includes('onerror=window.__pwned=1')})"""
        )
    finally:
        page.context.close()
    assert len(tooltips["seen"]) == 3 and any("onload=window.__pwned=2" in t for t in tooltips["seen"])
    assert tooltips["injected"] == 0
    assert found == {"pwned": None, "injected": 0, "shown": True}
    assert log.requests == [], log.requests


def test_the_document_title_names_the_report_area_and_period_once(hostile):
    from needskit.reports.export import document_title

    _nb, ctx = hostile
    plain = dataclasses.replace(ctx, title="Needs profile", area_name="Cheltenham")
    assert document_title(plain) == "Needs profile \u2014 Cheltenham \u2014 2025-H1"
    named = dataclasses.replace(plain, title="Cheltenham: needs profile, 2025-H1")
    assert document_title(named) == "Cheltenham: needs profile, 2025-H1"
    page = print_html(*hostile)
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    area = "Ward &#34;&gt;&lt;svg onload=window.__pwned=2&gt;&lt;/svg&gt;"  # text, not markup
    assert title == f"Hostile text \u2014 {area} \u2014 2025-H1"
