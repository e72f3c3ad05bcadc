"""needskit.reports.cycle: `needskit cycle` brings the store up to date and produces each due
analysis once: for the squares partnership (quarters: its crimes are monthly) and for a copy of
the shipped project to which a new half-year of police months is added."""

from __future__ import annotations

import hashlib
from pathlib import Path

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
    # a new period arriving: see the shipped months' test below


def test_text_from_data_on_the_history_page_is_never_markup(tmp_path):
    from importlib import resources

    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from needskit.reports.changes import Sentences
    from needskit.reports.index_pages import PublishedReport

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
        rows=[
            {
                "period": "2025-H1",
                "reports": [PublishedReport("r", hostile, (("HTML", "2025-H1/r.html"),))],
                "index": None,
                "changed": hostile,
            }
        ],
        css="",
        report="r",
    )
    # the title, h1 and caption (area), the partnership, the report title (text, aria-label), the change
    assert "<img" not in page and page.count("&lt;img") == 7


@pytest.mark.slow
def test_a_new_half_year_of_the_shipped_months_yields_one_analysis_per_area(tmp_path, shipped_workspace):
    """The shipped project, copied: its store (the session's) is current, so the first cycle
    produces 2025-H1 for the county and its six districts; six month files of real rows with
    their Month changed to 2025-07 ... 12 make the store stale, and the next cycle pools them and
    produces exactly one new analysis (2025-H2) per area, every earlier file byte-identical."""
    import gzip
    import shutil

    tiny = Path(__file__).parents[1] / "data" / "notebooks" / "report_tiny.ipynb"
    source = shipped_workspace.project.root
    root = tmp_path / "project"
    shutil.copytree(source / "conf", root / "conf")
    shutil.copytree(source / "data" / "raw", root / "data" / "raw")
    shutil.copytree(shipped_workspace.store.path, root / "data" / "processed")
    shutil.copytree(shipped_workspace.store.path.parent / "published", root / "data" / "published")
    reports = tmp_path / "reports"
    run = {"report": str(tiny), "out": reports, "jobs": 2, "formats": ("html",)}

    first = run_cycle(open_workspace(root), **run)
    assert first.ok and not first.store_updated and first.produced == ["2025-H1"], first.failures
    areas = sorted(p.name for p in reports.iterdir() if p.is_dir())
    assert len(areas) == 7 and first.area in areas  # the county and its six districts
    before = _hashes(reports)
    assert run_cycle(open_workspace(root), **run).produced == [] and _hashes(reports) == before

    police = root / "data" / "raw" / "police"
    for month in range(1, 7):
        old, new = f"2025-{month:02d}", f"2025-{month + 6:02d}"
        rows = pd.read_csv(police / f"{old}-gloucestershire-street.csv.gz", dtype=str)
        rows["Month"] = new
        rows["Crime ID"] = new + rows["Crime ID"]  # a new crime (ASB rows have no ID and keep none)
        with gzip.open(police / f"{new}-gloucestershire-street.csv.gz", "wt", newline="") as handle:
            rows.to_csv(handle, index=False)
    second = run_cycle(open_workspace(root), **run)
    assert second.ok and second.store_updated and second.produced == ["2025-H2"], second.failures
    after = _hashes(reports)
    new_files = sorted(name for name in after if name not in before)
    assert {name.split("/")[1] for name in new_files if name.count("/") >= 2} == {"2025-H2"}
    assert {name.split("/")[0] for name in new_files if name.endswith("report_tiny.html")} == set(areas)
    changed = [n for n, digest in before.items() if after[n] != digest and n != f"{first.area}/index.html"]
    assert changed == []  # every earlier analysis byte-identical; only the history page is rewritten
    history = (reports / first.area / "index.html").read_text(encoding="utf-8")
    assert history.index("2025-H2") < history.index("2025-H1")  # newest first
    assert "against" in history and "in 2025-H1" in history  # what changed, in one line
    # every period links its report and its index of every area; each index links every period
    for period in ("2025-H1", "2025-H2"):
        assert f'href="{period}/report_tiny.html"' in history and f'href="{period}/index.html"' in history
        index = (reports / first.area / period / "index.html").read_text(encoding="utf-8")
        assert 'href="../index.html"' in index and index.count("report_tiny.html") == len(areas)
    store = open_workspace(root).store
    table = store.period_table().set_index("period")
    assert bool(table.loc["2025-H2", "complete"]) and int(table.loc["2025-H2", "months_present"]) == 6


def test_sentences_and_notes_are_plain_text_in_markdown():
    """In JupyterLab a note or sentence is rendered as markdown: text from data makes no link,
    emphasis or HTML there either."""
    from needskit.reports.changes import Sentences
    from needskit.reports.context import Note

    hostile = "[click](javascript:alert(1)) *St Mary's* <b>x</b>"
    for markdown in (Note(hostile)._repr_markdown_(), Sentences([hostile])._repr_markdown_()):
        assert "](" not in markdown.replace("\\](", "") and "<b>" not in markdown and "\\*St" in markdown
