"""Accessibility of the published reports (WCAG 2.2 AA, the public sector's duty).

* Each report type's HTML — the needs profile of a district and of the county, a neighbourhood
  profile, the resource map, commissioning priorities and outcomes monitoring — is opened in
  headless Chromium (Playwright) and checked with axe-core (the npm package, vendored in
  ``tests/assets/axe-core``): no serious or critical violation.
* The page structure axe does not judge on its own: the language is set, there is one level-1
  heading before any other and no heading level is skipped, every table header is a ``<th>``.
* The PDF is tagged (PDF/UA-1): structure tree, language and title, read back with pypdf.

The reports are the session's (``executed_reports``: each made once, shared with the notebook
tests); the browser is launched once per session. The index pages are checked in
test_index_pages.py.
"""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from reports.browser import axe_violations, describe, open_page
from reports.cases import CHELTENHAM, COUNTY

REPORT_TYPES = [
    ("needs-profile", CHELTENHAM),
    ("needs-profile", COUNTY),
    ("neighbourhood-profile", "E01022147"),
    ("resource-map", CHELTENHAM),
    ("commissioning-priorities", CHELTENHAM),
    ("outcomes-monitoring", CHELTENHAM),
]
_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.DOTALL)


def _in_main(page: str) -> str:
    return page.split('<main class="report-body">', 1)[1].split("</main>", 1)[0]


def _heading_levels(page: str) -> list[int]:
    return [int(level) for level, _ in _HEADING.findall(page)]


@pytest.mark.slow
@pytest.mark.parametrize(("report", "area"), REPORT_TYPES, ids=[f"{r}-{a}" for r, a in REPORT_TYPES])
def test_report_page_structure(executed_reports, report, area):
    page = executed_reports.get(report, area).files["html"].read_text(encoding="utf-8")
    assert '<html lang="en-GB">' in page
    assert re.search(r"<title>[^<]+</title>", page)
    for landmark in ("<header", '<main class="report-body">', "<footer"):
        assert page.count(landmark) == 1, landmark
    levels = _heading_levels(_in_main(page))
    assert levels[0] == 1 and levels.count(1) == 2, levels  # the title, and "Methods and provenance"
    skipped = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
    assert skipped == [], f"heading levels skipped: {skipped}"
    assert "<meta" not in _in_main(page)  # no map's own viewport (that forbade zooming)
    for table in re.findall(r"<table\b.*?</table>", page, flags=re.DOTALL):
        assert re.search(r"<th\b", table), table[:300]  # every table marks its headers
        for header in re.findall(r"<th\b[^>]*>(.*?)</th>", table, flags=re.DOTALL):
            assert re.sub(r"<[^>]+>", "", header).strip(), table[:300]  # and none is empty


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize(("report", "area"), REPORT_TYPES, ids=[f"{r}-{a}" for r, a in REPORT_TYPES])
def test_no_serious_or_critical_axe_violation(executed_reports, browser, report, area):
    path = executed_reports.get(report, area).files["html"]
    page, log = open_page(browser, path)
    try:
        if page.locator(".folium-map").count():  # Leaflet draws after load
            page.wait_for_function(
                "document.querySelectorAll('.folium-map svg path, .folium-map .leaflet-marker-icon')"
                ".length > 0",
                timeout=10_000,
            )
        violations = axe_violations(page)
    finally:
        page.context.close()
    assert violations == [], f"{report} {area}:\n{describe(violations)}"
    assert log.requests == [] and log.errors == [], (log.requests, log.errors)


@pytest.mark.slow
def test_the_pdf_is_tagged_with_its_title_and_language(executed_reports):
    result = executed_reports.get("needs-profile", CHELTENHAM)
    reader = PdfReader(result.files["pdf"])
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root, "the PDF has no structure tree (untagged)"
    tree = root["/StructTreeRoot"].get_object()
    assert tree["/K"], "the structure tree is empty"
    assert str(root["/MarkInfo"]["/Marked"]).lower() == "true"
    assert str(root["/Lang"]) == "en-GB"
    assert str(root["/ViewerPreferences"]["/DisplayDocTitle"]).lower() == "true"
    title = reader.metadata.title
    assert title == "Needs profile \u2014 Cheltenham \u2014 2025-H1", title
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8", "replace")
    assert "pdfuaid:part" in xmp  # declares PDF/UA
