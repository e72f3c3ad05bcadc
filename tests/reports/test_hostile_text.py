"""Text from data and config is never markup, end to end: the squares partnership with hostile
strings in its name, an indicator title, a partner's service names and a place name is pooled,
published and reported (needs profile, resource map, outcomes monitoring and the place's profile,
as `needskit report` makes them for the public); the HTML shows every string as text, no script
runs in headless Chromium, and the PDF has no attachment. (Commissioning priorities, where
outcome titles and delivery activities show, needs the national catalogue's indicator ids, which
the squares partnership does not have: its text paths are tested in test_export.py.)"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from needskit.pipeline import open_workspace, run
from needskit.reports import run_report
from needskit.reports.context import whole_area
from squares import write_squares_project

NAME = "Squares <img src=x onerror=window.__pwned=1>"
TITLE = "Crimes <svg onload=window.__pwned=2> per 1,000 residents"
SERVICE = '"><script>window.__pwned=3</script>'
PLACE = "South Side <iframe src=javascript:alert(1)>"
OUTCOME = "Fewer crimes <img src=x onerror=window.__pwned=4>"
ACTIVITY = "[a link](javascript:window.__pwned=5) <b onmouseover=window.__pwned=6>patrols</b>"
OUTCOMES = f"""\
name: Squares outcomes
partnerships:
  Squares board:
    description: The board.
aims:
  - id: "1"
    title: Safer squares
    outcomes:
      - id: "1.1"
        title: {json.dumps(OUTCOME)}
        theme: safer_stronger_communities
        accountable: Squares board
        lead: Squares Police
        actions: [Patrols]
        indicators:
          - {{id: crime_rate, polarity: high_is_bad}}
"""
DELIVERY = f"""\
name: Squares delivery
activities:
  - id: patrols
    activity: {json.dumps(ACTIVITY)}
    partner: Squares Police
    outcomes: ["1.1"]
    places: [E10999901]
    budget: 1000
"""
PARAMETERS = {"headline": "['crime_rate']", "mapped": "['imd_score', 'crime_rate']", "focus": "crime_rate"}


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory):
    root = write_squares_project(tmp_path_factory.mktemp("hostile"))
    partnership = root / "conf" / "partnership.yml"
    partnership.write_text(
        partnership.read_text(encoding="utf-8").replace(
            "name: Squares Community Partnership", f"name: {json.dumps(NAME)}"
        ),
        encoding="utf-8",
    )
    indicators = root / "conf" / "indicators.yml"
    data = yaml.safe_load(indicators.read_text(encoding="utf-8"))
    data["indicators"]["crime_rate"]["title"] = TITLE
    indicators.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    services = root / "data" / "raw" / "partner" / "services.csv"
    frame = pd.read_csv(services, dtype=str)
    frame["name"] = frame["name"].replace({"Library": SERVICE})
    frame.to_csv(services, index=False)
    (root / "conf" / "outcomes.yml").write_text(OUTCOMES, encoding="utf-8")
    (root / "conf" / "delivery.yml").write_text(DELIVERY, encoding="utf-8")
    places = root / "conf" / "places.yml"
    places.write_text(places.read_text(encoding="utf-8").replace("South Side:", f"{json.dumps(PLACE)}:"))
    ws = open_workspace(root)
    run(ws, progress=False)
    out = root / "reports"
    made = {}
    county = whole_area("", ws.store.manifest())
    for report, formats, parameters, area in (
        ("needs-profile", ("html", "pdf"), PARAMETERS, county),
        ("resource-map", ("html",), {}, county),
        ("outcomes-monitoring", ("html",), {}, county),
        ("neighbourhood-profile", ("html",), {}, "south-side-iframe-src-javascript-alert-1"),
    ):
        result = run_report(
            report,
            area=area,
            out=out,
            formats=formats,
            project=root,
            parameters={**parameters, "audience": "public"},
        )
        made[report] = result.folder / f"{report}.html"
    return made


def test_every_hostile_string_is_shown_as_text(hostile_reports):
    for report, path in hostile_reports.items():
        page = path.read_text(encoding="utf-8")
        for raw in (
            "<img src=x",
            "<svg onload",
            "<script>window.__pwned",
            "<iframe src=javascript",
            "<b onmouseover",
            'href="javascript:',
        ):
            assert raw not in page, (report, raw)
        assert "&lt;img src=x onerror=window.__pwned=1&gt;" in page, report  # the partnership, as text
    assert "&lt;svg onload=window.__pwned=2&gt;" in hostile_reports["needs-profile"].read_text(
        encoding="utf-8"
    )
    assert "&lt;script&gt;window.__pwned=3&lt;/script&gt;" in hostile_reports["resource-map"].read_text(
        encoding="utf-8"
    )
    place = hostile_reports["neighbourhood-profile"].read_text(encoding="utf-8")
    assert "South Side &lt;iframe src=javascript:alert(1)&gt;" in place


def test_the_pdf_has_no_attachment(hostile_reports):
    from pypdf import PdfReader

    reader = PdfReader(hostile_reports["needs-profile"].with_suffix(".pdf"))
    assert not reader.attachments and len(reader.pages) > 1
    assert "window.__pwned=2" in "".join(page.extract_text() for page in reader.pages[:3])


@pytest.mark.browser
@pytest.mark.slow
def test_no_script_from_data_runs_in_chromium(hostile_reports, browser):
    from reports.browser import open_page

    found = {}
    for report, path in hostile_reports.items():
        page, log = open_page(browser, path)
        try:
            found[report] = page.evaluate(
                """() => ({pwned: window.__pwned === undefined ? null : window.__pwned,
                    injected: document.querySelectorAll('img[src=x], svg[onload], script:not([src])')
                        .length > 0 && [...document.querySelectorAll('script:not([src])')]
                        .some(s => s.textContent.includes('__pwned'))})"""
            )
        finally:
            page.context.close()
        assert log.requests == [], (report, log.requests)
    for report, value in found.items():
        assert value == {"pwned": None, "injected": False}, report
