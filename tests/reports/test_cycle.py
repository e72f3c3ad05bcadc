"""needskit.reports.cycle: `needskit cycle` brings the store up to date and produces each due
analysis once, for the squares partnership (quarters: its crimes are monthly)."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from needskit.cli import main
from needskit.pipeline import open_workspace
from needskit.reports.cycle import due_periods, run_cycle
from squares import write_squares_project

SQUARES_PARAMETERS = {
    "headline": "['crime_rate']",
    "mapped": "['imd_score', 'crime_rate']",
    "focus": "crime_rate",
}


def _hashes(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_due_periods():
    assert due_periods([], []) == []
    assert due_periods(["2024-Q1", "2024-Q2"], []) == ["2024-Q2"]  # the first time: the latest only
    assert due_periods(["2024-Q1", "2024-Q2", "2024-Q3"], ["2024-Q1"]) == ["2024-Q2", "2024-Q3"]  # caught up
    assert due_periods(["2024-Q1"], ["2024-Q1"]) == []


@pytest.mark.slow
def test_the_cycle_produces_each_analysis_once_and_keeps_earlier_ones(tmp_path, capsys):
    root = write_squares_project(tmp_path / "squares")
    reports = tmp_path / "reports"
    ws = open_workspace(root)
    # no store yet: the cycle makes it, then the analysis of the latest complete quarter
    first = run_cycle(ws, out=reports, jobs=1, parameters=SQUARES_PARAMETERS)
    assert first.ok and first.store_updated and first.produced == ["2024-Q1"], first.failures
    area = first.area
    folders = sorted(p.name for p in reports.iterdir() if p.is_dir())
    assert area in folders and len(folders) >= 3  # the county and its chapters
    assert (reports / area / "2024-Q1" / "needs-profile.pdf").exists()
    history = (reports / area / "index.html").read_text(encoding="utf-8")
    assert "2024-Q1/needs-profile.html" in history and "no earlier analysis to compare with" in history
    before = _hashes(reports)
    # run again: nothing to do, nothing written
    again = run_cycle(open_workspace(root), out=reports, jobs=1, parameters=SQUARES_PARAMETERS)
    assert again.ok and not again.store_updated and again.produced == [] and again.history is None
    assert _hashes(reports) == before
    # and as cron runs it: exit 0, one line, still nothing written
    assert main(["--project", str(root), "cycle", "--reports", str(reports), "--jobs", "1"]) == 0
    assert f"cycle: {area}: nothing new" in capsys.readouterr().out
    assert _hashes(reports) == before
    # a new quarter arrives: three month files of real rows with their Month changed
    crimes = pd.read_csv(root / "data" / "raw" / "partner" / "crimes.csv", dtype=str)
    for old, new in (("2024-01", "2024-04"), ("2024-02", "2024-05"), ("2024-03", "2024-06")):
        month = crimes[crimes["month"] == old].copy()
        month["crime_id"] = month["crime_id"].str.replace(old, new)
        month["month"] = new
        month.to_csv(root / "data" / "raw" / "partner" / f"crimes_{new}.csv", index=False)
    third = run_cycle(open_workspace(root), out=reports, jobs=1, parameters=SQUARES_PARAMETERS)
    assert third.ok, third.failures
    after = _hashes(reports)
    new = {name for name in after if name not in before}
    assert {n.split("/")[1] for n in new if n.count("/") >= 2} == {"2024-Q2"}  # one new period per area
    for chapter in folders:
        assert (reports / chapter / "2024-Q2" / "needs-profile.html").exists(), chapter
    changed = [n for n, digest in before.items() if after.get(n) != digest and n != f"{area}/index.html"]
    assert changed == []  # every earlier analysis byte-identical (only the history page is rewritten)
    history = (reports / area / "index.html").read_text(encoding="utf-8")
    assert history.index("2024-Q2") < history.index("2024-Q1")  # newest first
    assert "against" in history and "in 2024-Q1" in history  # what changed, in one line


def test_text_from_data_on_the_history_page_is_never_markup(tmp_path):
    from importlib import resources

    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from needskit.reports.changes import Sentences

    hostile = "<img src=x onerror=alert(1)>"
    assert (
        "<img" not in Sentences([hostile])._repr_html_()
        and "<img" not in Sentences([hostile])._repr_markdown_()
    )
    env = Environment(
        loader=FileSystemLoader(str(resources.files("needskit") / "templates" / "report")),
        autoescape=select_autoescape(["html", "j2"]),
    )
    page = env.get_template("history.html.j2").render(
        area_name=hostile,
        area="E1",
        partnership=hostile,
        rows=[{"period": "2025-H1", "links": [("HTML", "2025-H1/r.html")], "changed": hostile}],
        css="",
        report="r",
    )
    assert "<img" not in page and page.count("&lt;img") == 4
