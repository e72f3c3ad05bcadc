"""The index pages link every report of an area and period, and the history page every period.

Written over the session's executed reports (``executed_reports``: the needs profile of the
county and of Cheltenham, Cheltenham's resource map, commissioning priorities and outcomes
monitoring), as ``needskit report`` and ``needskit demo`` leave them; the history page over a
copy of Cheltenham's folder laid out as two periods of the 6-monthly cycle. No notebook is run
here beyond the session's.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from needskit.reports.batch import BatchResult, write_index
from needskit.reports.cycle import write_history
from needskit.reports.index_pages import published_reports
from reports.browser import axe_violations, describe, open_page
from reports.cases import CHELTENHAM, COUNTY

pytestmark = pytest.mark.slow

COMMISSIONING = ("resource-map", "commissioning-priorities", "outcomes-monitoring")


def _hrefs(page: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', page)


def _resolves(page: Path) -> list[str]:
    """The links of ``page`` that point at no file."""
    return [href for href in _hrefs(page.read_text(encoding="utf-8")) if not (page.parent / href).is_file()]


@pytest.fixture(scope="module")
def reports_folder(executed_reports):
    executed_reports.get("needs-profile", COUNTY)
    executed_reports.get("needs-profile", CHELTENHAM)
    for report in COMMISSIONING:
        executed_reports.get(report, CHELTENHAM)
    return executed_reports


@pytest.fixture(scope="module")
def county_index(reports_folder, shipped_workspace) -> Path:
    county = reports_folder.get("needs-profile", COUNTY)
    district = reports_folder.get("needs-profile", CHELTENHAM)
    batch = BatchResult("needs-profile", COUNTY, "2025-H1", results=[county, district])
    return write_index(
        batch,
        areas=[COUNTY, CHELTENHAM],
        out=reports_folder.out,
        title="Needs profile",
        store=shipped_workspace.published("public"),
        history=True,
    )


@pytest.fixture(scope="module")
def history_page(reports_folder, shipped_workspace, tmp_path_factory) -> Path:
    """Cheltenham's history page over two periods: its 2025-H1 folder, and a copy of it as 2024-H2
    with the index a batch writes there."""
    out = tmp_path_factory.mktemp("history")
    source = reports_folder.out / CHELTENHAM / "2025-H1"
    for period in ("2024-H2", "2025-H1"):
        shutil.copytree(source, out / CHELTENHAM / period)
    store = shipped_workspace.published("public")
    write_index(
        BatchResult(
            "needs-profile", CHELTENHAM, "2024-H2", results=[reports_folder.get("needs-profile", CHELTENHAM)]
        ),
        areas=[CHELTENHAM],
        out=out,
        title="Needs profile",
        store=store,
        history=True,
    )
    path = write_history(store, out=out, area=CHELTENHAM, area_name="Cheltenham", partnership="Partners")
    assert path == out / CHELTENHAM / "index.html"
    return path


def test_published_reports_reads_every_report_of_the_folder_in_the_registrys_order(reports_folder):
    folder = reports_folder.out / CHELTENHAM / "2025-H1"
    found = published_reports(folder, relative_to=folder)
    names = [r.name for r in found]
    assert names[:1] == ["needs-profile"] and set(COMMISSIONING) <= set(names)
    assert (
        names.index("resource-map")
        < names.index("commissioning-priorities")
        < names.index("outcomes-monitoring")
    )
    profile = found[0]
    assert profile.title == "Needs profile"
    assert profile.links == (("HTML", "needs-profile.html"), ("PDF", "needs-profile.pdf"))
    assert [r.links for r in found if r.name == "resource-map"] == [(("HTML", "resource-map.html"),)]
    assert published_reports(folder / "nothing-here", relative_to=folder) == []


def test_the_county_index_links_every_report_of_each_area(county_index):
    page = county_index.read_text(encoding="utf-8")
    hrefs = _hrefs(page)
    assert "needs-profile.html" in hrefs  # the county's own
    chapter = "../../E07000078/2025-H1/"
    for name in ("needs-profile.html", "needs-profile.pdf", *(f"{r}.html" for r in COMMISSIONING)):
        assert chapter + name in hrefs, name
    for title in ("Needs profile", "Resource map", "Commissioning priorities", "Outcomes monitoring"):
        assert f'<th scope="col">{title}</th>' in page, title
    assert "../index.html" in hrefs  # every period: the history page (written by the cycle)
    assert [h for h in _resolves(county_index) if h != "../index.html"] == []
    # a link names its report, area and format for a screen reader (not three bare "HTML" links)
    assert 'aria-label="Resource map, Cheltenham, HTML"' in page
    assert page.count("not produced") == len(COMMISSIONING)  # the county has only its needs profile


def test_the_history_page_links_every_period_and_every_report(history_page):
    page = history_page.read_text(encoding="utf-8")
    hrefs = _hrefs(page)
    assert page.index(">2025-H1<") < page.index(">2024-H2<")  # newest first
    for period in ("2024-H2", "2025-H1"):
        for name in ("needs-profile.html", "needs-profile.pdf", *(f"{r}.html" for r in COMMISSIONING)):
            assert f"{period}/{name}" in hrefs, (period, name)
    assert "2024-H2/index.html" in hrefs and "2025-H1/index.html" not in hrefs  # only where written
    assert _resolves(history_page) == []
    index = (history_page.parent / "2024-H2" / "index.html").read_text(encoding="utf-8")
    assert 'href="../index.html"' in index  # and the period's index links back to every period


@pytest.mark.browser
@pytest.mark.parametrize("name", ["county_index", "history_page"])
def test_index_pages_have_no_serious_or_critical_axe_violation(request, browser, name):
    page, log = open_page(browser, request.getfixturevalue(name))
    try:
        violations = axe_violations(page)
    finally:
        page.context.close()
    assert violations == [], f"{name}:\n{describe(violations)}"
    assert log.errors == [] and log.requests == []
