"""Reports: parameters checked before a kernel starts, papermill run, HTML/PDF export, atomic publish.

The small test notebook (tests/data/notebooks/report_small.ipynb) has a parameters cell, a
markdown heading, a DataFrame output and a needskit.reports.maps.choropleth of the store's
districts. It runs through the real machinery (papermill, kernel ``needskit`` or ``python3``,
nbconvert, WeasyPrint) into tmp folders, reading the shipped example's store built once per session.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import pypdf
import pytest

from needskit import reports as rp
from needskit.config.attribution import ATTRIBUTION
from needskit.config.project import project_dir
from needskit.errors import ReportError, StoreError
from needskit.reports import export as rx
from needskit.reports import manifest as rm
from needskit.reports.params import validate_parameters

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).parents[1] / "data" / "notebooks"
SMALL = NOTEBOOKS / "report_small.ipynb"
TINY = NOTEBOOKS / "report_tiny.ipynb"
ROOT = project_dir()


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def run(shipped_store):
    """run_report / run_batch on the shipped example's store (never the checkout's)."""

    def call(report, **kwargs):
        kwargs.setdefault("store", shipped_store.path)
        kwargs.setdefault("project", ROOT)
        return rp.run_report(report, **kwargs)

    return call


# ------------------------------------------------------------------------------- outputs
# (``small_report``, one real run of the small notebook for Cheltenham, is the session's: conftest.py)


def test_outputs_and_manifest_written(small_report, shipped_store):
    out, result = small_report
    folder = out / "E07000078" / "2025-H1"
    assert result.status == "written" and result.folder == folder
    for name in ("report_small.ipynb", "report_small.html", "report_small.pdf", "manifest.json"):
        assert (folder / name).is_file(), name
    assert not (out / ".tmp").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = manifest["reports"]["report_small"]
    assert manifest["area"] == "E07000078" and manifest["period"] == "2025-H1"
    assert entry["parameters"]["area"] == "E07000078"
    assert entry["parameters"]["seed"] == 1 and entry["parameters"]["comparator"] == "parent"
    assert entry["publish"] == "internal" and entry["disclosure_rule"] is None
    assert entry["files"] == {
        "ipynb": "report_small.ipynb",
        "html": "report_small.html",
        "pdf": "report_small.pdf",
    }
    assert entry["started"] <= entry["executed"] <= entry["finished"]
    for package in ("needskit", "pandas", "geopandas", "papermill", "nbconvert", "weasyprint"):
        assert entry["versions"][package] != "not installed"
    assert entry["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", entry["git_commit"])
    # every file of the store the report read is recorded with its real SHA-256 (the store's own
    # manifest records the raw files it was made from)
    recorded = {Path(item["file"]).name: item["sha256"] for item in entry["inputs"]}
    for name in ("profile.parquet", "indicators.parquet", "store.json", "hierarchy.parquet"):
        assert name in recorded, name
    assert "rejected" not in " ".join(item["file"] for item in entry["inputs"])
    assert (
        recorded["store.json"] == hashlib.sha256((shipped_store.path / "store.json").read_bytes()).hexdigest()
    )
    assert entry["notebook_sha256"] == hashlib.sha256(SMALL.read_bytes()).hexdigest()


def test_executed_notebook_has_the_injected_parameters(small_report):
    out, _ = small_report
    nb = nbformat.read(out / "E07000078" / "2025-H1" / "report_small.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'area = "E07000078"' in injected[0].source


def test_html_has_no_code_no_prompts_no_network_and_is_small(small_report):
    out, _ = small_report
    path = out / "E07000078" / "2025-H1" / "report_small.html"
    page = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 10_000_000
    # no code input, no prompts
    for code in (
        "from needskit.reports.maps import choropleth",
        "read_areas(",
        "raise ValueError",
        "if fail:",
    ):
        assert code not in page
    assert "jp-InputArea" not in page and "jp-InputPrompt" not in page and "jp-OutputPrompt" not in page
    assert (
        "In&nbsp;[" not in page
        and "Out[&nbsp;" not in page
        and not re.search(r">\s*(In|Out)\s*\[\d*\]", page)
    )
    # content is there: heading, DataFrame, the interactive map, the appendix
    assert 'id="Districts-of-the-partnership"' in page
    assert "Forest of Dean" in page and 'class="dataframe' in page
    assert "L.map(" in page and "needskit-map" in page
    assert "Methods and provenance" in page and ATTRIBUTION["ONS"] in page
    # the map's static twin is not in the HTML; Leaflet is inlined exactly once
    main = page.split('<main class="report-body">')[1].split("</main>")[0]
    assert "data:image/png" not in main
    assert page.count('data-needskit-asset="leaflet.js"') == 1
    # nothing loads from the network: no src=/href= to http(s) except hyperlinks in text
    assert not re.search(r"""<script[^>]*\bsrc\s*=\s*["']?(https?:)?//""", page, re.I)
    assert not re.search(r"""<link[^>]*\bhref\s*=\s*["']?(https?:)?//""", page, re.I)
    for match in re.finditer(r"""(src|href)\s*=\s*["']?https?:""", page, re.I):
        tag_start = page.rfind("<", 0, match.start())
        assert match.group(1).lower() == "href" and page[tag_start : tag_start + 3] == "<a ", page[
            tag_start : match.end() + 40
        ]
    assert rx.network_references(page) == []
    # stderr output went to the manifest, not the page
    assert "Traceback" not in page


def test_pdf_pages_headings_attribution_marking_contents(small_report):
    out, result = small_report
    reader = pypdf.PdfReader(out / "E07000078" / "2025-H1" / "report_small.pdf")
    pages = [_squash(p.extract_text()) for p in reader.pages]
    assert 4 <= len(pages) <= 8
    assert result.manifest["pdf_pages"] == len(pages)
    text = " ".join(pages)
    # cover: title (the notebook's first heading), area, period, partnership
    assert "Test district profile" in pages[0] and "Cheltenham (E07000078)" in pages[0]
    assert "Period: 2025-H1" in pages[0] and "Gloucestershire Strategic Partnership" in pages[0]
    for heading in (
        "Contents",
        "Districts of the partnership",
        "Map of district areas",
        "Summary",
        "Methods and provenance",
        "Run record",
    ):
        assert heading in text, heading
    for line in ATTRIBUTION.values():
        assert _squash(line) in text, line[:60]
    # no code
    assert "read_areas(" not in text and "import" not in text.split("Methods and provenance")[0]
    # internal output: the marking on every page, page numbers in the footer
    assert all("NOT FOR PUBLICATION" in p for p in pages)
    assert all(f"Page {i} of {len(pages)}" in p for i, p in enumerate(pages, start=1) if i > 1)
    # contents page numbers point at the right pages
    contents = pages[1]
    number = int(re.search(r"Methods and provenance \.+ ?(\d+)", contents).group(1))
    assert pages[number - 1].count("Methods and provenance") >= 1
    assert "Statistical methods" in pages[number - 1]
    body = int(re.search(r"Districts of the partnership \.+ ?(\d+)", contents).group(1))
    assert "Forest of Dean" in pages[body - 1]
    # the static map is an image on the map's page; the methods note moved to the appendix
    map_page = next(i for i, p in enumerate(pages) if "Map of district areas" in p and i > 1)
    assert len(reader.pages[map_page].images) >= 1
    appendix = text.split("Methods and provenance")[-1]
    assert "District areas are measured on the store's boundaries" in appendix
    assert "Wilson score method" in appendix
    assert "District areas are measured" not in text.split("Methods and provenance")[1]  # not in the body


def test_print_html_prefers_static_maps(shipped_store):
    nb = nbformat.read(SMALL, as_version=4)
    from needskit.reports.maps import choropleth

    chart = choropleth(shipped_store.read_areas("district").assign(v=range(6)), column="v", k=3)
    data, metadata = chart._repr_mimebundle_()
    cell = next(c for c in nb.cells if "choropleth(" in c.source and "districts" in c.source)
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
    ctx = rx.ExportContext(
        title="T",
        report="t",
        area="E07000078",
        area_name="Cheltenham",
        period="2025-H1",
        publish="partner",
        disclosure_rule="nhs_digital",
        partnership="P",
        date="1 April 2026",
    )
    printed = rx.print_html(nb, ctx)
    assert "<script" not in printed and "data:image/png;base64," in printed
    assert f'alt="{html.escape(chart.description)}"' in printed  # the static map's text alternative
    assert "L.map(" not in printed
    assert "@top-center" in printed and "PARTNER" in printed.upper()  # running marking for partner outputs
    page = rx.export_html(nb, ctx)
    assert "L.map(" in page and "data:image/png;base64," not in page.split("<main")[1].split("</main>")[0]
    assert "NHS Digital" in page  # describe_rule text in the appendix


# ------------------------------------------------------------------------------- failures


def test_unknown_parameter_fails_before_any_kernel(tmp_path, monkeypatch, run):
    import papermill

    def forbidden(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", forbidden)
    with pytest.raises(
        ReportError, match=r"parameter 'sead'.*not a parameter of the notebook.*did you mean 'seed'"
    ):
        run(SMALL, area="E07000078", period="2025-H1", parameters={"sead": 2}, out=tmp_path)
    with pytest.raises(ReportError, match=r"period '2023-01'.*not a period in the data"):
        run(SMALL, area="E07000078", period="2023-01", out=tmp_path)
    with pytest.raises(ReportError, match=r"area 'E07000999'.*not an area of the partnership"):
        run(SMALL, area="E07000999", period="2025-H1", out=tmp_path)
    with pytest.raises(ReportError, match=r"level 'county'.*above the area's level \(district\)"):
        run(SMALL, area="E07000078", level="county", period="2025-H1", out=tmp_path)
    with pytest.raises(ReportError, match=r"unknown level"):
        run(SMALL, area="E07000078", level="street", period="2025-H1", out=tmp_path)
    with pytest.raises(
        ReportError, match=r"area 'E07000099'.*not an area of the partnership"
    ):  # North Hertfordshire
        run(SMALL, area="E07000099", period="2025-H1", out=tmp_path)
    with pytest.raises(ReportError, match=r"comparator 'X1'.*not a comparator the store holds"):
        run(SMALL, area="E07000078", comparator="X1", period="2025-H1", out=tmp_path)
    with pytest.raises(ReportError, match=r"unknown audience"):
        run(SMALL, area="E07000078", publish="everyone", period="2025-H1", out=tmp_path)
    with pytest.raises(ReportError, match=r"parameter 'seed'.*wrong type"):
        run(SMALL, area="E07000078", parameters={"seed": "seven"}, period="2025-H1", out=tmp_path)
    with pytest.raises(ReportError, match=r"unknown output format"):
        run(SMALL, area="E07000078", formats="html,docx", out=tmp_path)
    with pytest.raises(ReportError, match=r"unknown report.*needs-profile"):
        run("needs-profiel", area="E07000078", out=tmp_path)
    with pytest.raises(StoreError, match=r"no store here.*needskit run"):
        run(SMALL, area="E07000078", out=tmp_path, store=tmp_path / "nowhere")
    assert list(tmp_path.iterdir()) == []


def test_notebook_without_parameters_cell(tmp_path, run):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "plain.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ReportError, match=r"has no cell tagged 'parameters'"):
        run(path, area="E07000078", period="2025-H1", out=tmp_path / "out")


def test_failing_notebook_keeps_previous_report(small_report, tmp_path, run):
    source, _ = small_report
    out = tmp_path / "reports"
    shutil.copytree(source / "E07000078", out / "E07000078")
    folder = out / "E07000078" / "2025-H1"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(
        ReportError, match=r"cell 8 \('if fail:'\) failed: ValueError: deliberate failure for the test"
    ) as info:
        run(SMALL, area="E07000078", period="2025-H1", parameters={"fail": True}, out=out)
    kept = out / "_failed" / "E07000078" / "2025-H1" / "report_small.ipynb"
    assert str(kept) in str(info.value)
    failed_nb = nbformat.read(kept, as_version=4)
    errors = [
        o for c in failed_nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors and errors[0].ename == "ValueError"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # untouched
    assert not (out / ".tmp").exists()


def test_failing_run_from_the_cli_exits_non_zero(tmp_path, capsys, shipped_store):
    from needskit import cli

    code = cli.main(
        [
            "report",
            str(TINY),
            "--area",
            "E07000078",
            "--period",
            "2025-H1",
            "--out",
            str(tmp_path),
            "-p",
            "nope=1",
            "--store",
            str(shipped_store.path),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "needskit: error: parameter 'nope'" in err and "Traceback" not in err


# ------------------------------------------------------------------------------- if-changed


def test_if_changed_skips_unchanged_runs(small_report, tmp_path, monkeypatch, run):
    source, first = small_report
    out = tmp_path / "reports"
    shutil.copytree(source / "E07000078", out / "E07000078")
    import papermill

    monkeypatch.setattr(
        papermill, "execute_notebook", lambda *a, **k: (_ for _ in ()).throw(AssertionError("ran"))
    )
    again = run(SMALL, area="E07000078", period="2025-H1", out=out, if_changed=True)
    assert again.status == "unchanged"
    assert again.files["html"] == out / "E07000078" / "2025-H1" / "report_small.html"
    # a different parameter, or a missing output, means the run is needed
    entry = dict(first.manifest)
    assert rm.unchanged(entry, entry, folder=out / "E07000078" / "2025-H1")
    assert not rm.unchanged(
        entry,
        {**entry, "parameters": {**entry["parameters"], "seed": 2}},
        folder=out / "E07000078" / "2025-H1",
    )
    assert not rm.unchanged(
        entry, {**entry, "inputs_sha256": "0" * 64, "inputs": []}, folder=out / "E07000078" / "2025-H1"
    )
    assert not rm.unchanged(entry, {**entry, "git_commit": "f" * 40}, folder=out / "E07000078" / "2025-H1")
    assert not rm.unchanged(None, entry, folder=out)
    (out / "E07000078" / "2025-H1" / "report_small.pdf").unlink()
    assert not rm.unchanged(entry, entry, folder=out / "E07000078" / "2025-H1")
    with pytest.raises(ReportError, match="could not be run: AssertionError: ran"):  # it tried to run
        run(SMALL, area="E07000078", period="2025-H1", out=out, if_changed=True)


# ------------------------------------------------------------------------------- batch


def test_each_chapter_batch_runs_in_parallel_and_writes_index(tmp_path, shipped_store):
    out = tmp_path / "reports"
    batch = rp.run_batch(
        TINY,
        area="E10000013",
        out=out,
        formats="html",
        jobs=2,
        progress=False,
        store=shipped_store.path,
        project=ROOT,
    )
    codes = ["E10000013", "E07000078", "E07000079", "E07000080", "E07000081", "E07000082", "E07000083"]
    assert [r.area for r in batch.results] == codes and not batch.errors
    assert batch.period == "2025-H1"  # the latest of the known periods, resolved once for every chapter
    for code in codes:
        assert (out / code / "2025-H1" / "report_tiny.html").is_file()
    county = nbformat.read(out / "E10000013" / "2025-H1" / "report_tiny.ipynb", as_version=4)
    assert "area E10000013, period 2025-H1, map level district" in "".join(
        o.get("text", "") for c in county.cells if c.cell_type == "code" for o in c.outputs
    )
    index = (out / "E10000013" / "2025-H1" / "index.html").read_text(encoding="utf-8")
    assert batch.index == out / "E10000013" / "2025-H1" / "index.html"
    for code, name in [
        ("E07000078", "Cheltenham"),
        ("E07000083", "Tewkesbury"),
        ("E10000013", "Gloucestershire"),
    ]:
        assert f'<th scope="row">{name}</th>' in index and f"<td>{code}</td>" in index
    assert 'href="../../E07000080/2025-H1/report_tiny.html"' in index
    assert 'href="report_tiny.html"' in index
    assert rx.network_references(index) == []


def test_chapters_of(shipped_store):
    assert rp.chapters_of("E10000013", store=shipped_store) == [
        "E07000078",
        "E07000079",
        "E07000080",
        "E07000081",
        "E07000082",
        "E07000083",
    ]
    wards = rp.chapters_of("E07000078", store=shipped_store)  # an area inside: its next level down
    assert len(wards) > 10 and all(code.startswith("E05") for code in wards)
    with pytest.raises(ReportError, match="has no chapters"):
        rp.chapters_of("E01022147", store=shipped_store)


# ------------------------------------------------------------------------------- pieces


def test_store_periods_follow_the_time_series(shipped_store):
    # the report periods are the half-years of the time series (police months 2022-01 ... 2025-06),
    # not one-off snapshots (postcodes 2025-11); every one is complete
    halves = [f"{y}-H{h}" for y in (2022, 2023, 2024) for h in (1, 2)] + ["2025-H1"]
    assert shipped_store.periods() == halves and shipped_store.period_kind() == "half-year"
    table = shipped_store.period_table()
    assert table["complete"].all() and (table["months_present"] == 6).all()
    assert table.iloc[-1][["first", "last"]].tolist() == ["2025-01", "2025-06"]


def test_validate_parameters_fills_defaults_and_infers_level(shipped_store, shipped_workspace):
    checked = validate_parameters(
        SMALL,
        {"area": "E10000013", "seed": "3"},
        store=shipped_store,
        optional={"partnership": "P", "not_declared": 1},
    )
    assert (
        checked.area_level == "county" and "level" not in checked.given
    )  # the map level stays the notebook's
    assert "partnership" not in checked.given and "not_declared" not in checked.parameters
    assert (
        checked.period == "2025-H1" and checked.parameters["period"] == "2025-H1"
    )  # the latest complete period in the store
    assert checked.parameters["seed"] == 3 and checked.area_name == "Gloucestershire"
    assert checked.publish == "internal" and checked.period_checked
    keyword = validate_parameters(SMALL, {"area": "E07000078", "comparator": "england"}, store=shipped_store)
    assert keyword.comparator == "england"
    place = validate_parameters(SMALL, {"area": "west-cheltenham"}, store=shipped_store)
    assert place.area_level == "place" and place.area_name == "West Cheltenham"
    with pytest.raises(ReportError, match="is not the public store"):
        validate_parameters(SMALL, {"area": "E07000078", "audience": "public"}, store=shipped_store)
    public = validate_parameters(
        SMALL, {"area": "E07000078", "audience": "public"}, store=shipped_workspace.published("public")
    )
    assert public.publish == "public" and public.disclosure_rule == "nhs_digital"


def test_a_period_must_be_one_in_the_data_and_complete_to_publish(
    shipped_store, shipped_workspace, monkeypatch
):
    from needskit.partner_data.store import Store

    with pytest.raises(
        ReportError, match=r"is not a period in the data.*2025-H1.*hint: a needs analysis covers"
    ):
        validate_parameters(SMALL, {"area": "E07000078", "period": "2024-04"}, store=shipped_store)
    # as if May and June 2025 had not been published yet
    table = shipped_store.period_table()
    table.loc[table.index[-1], ["months_present", "complete", "missing"]] = [4, False, "2025-05, 2025-06"]
    monkeypatch.setattr(Store, "period_table", lambda self: table)
    latest = validate_parameters(SMALL, {"area": "E07000078"}, store=shipped_store)
    assert latest.period == "2024-H2" and latest.provisional == ""  # the latest complete period
    inside = validate_parameters(SMALL, {"area": "E07000078", "period": "2025-H1"}, store=shipped_store)
    assert inside.provisional == "4 of its 6 months are in the data (missing 2025-05, 2025-06)"
    with pytest.raises(ReportError, match=r"is not complete: 4 of its 6 months.*publish '2024-H2'"):
        validate_parameters(
            SMALL,
            {"area": "E07000078", "period": "2025-H1", "audience": "public"},
            store=shipped_workspace.published("public"),
        )


def test_a_provisional_period_is_marked_on_every_page():
    from needskit.reports.export import ExportContext, _common

    ctx = ExportContext(
        title="t",
        report="needs-profile",
        area="E07000078",
        area_name="Cheltenham",
        period="2025-H1",
        publish="internal",
        disclosure_rule=None,
        partnership="P",
        date="2 December 2026",
        provisional="4 of its 6 months are in the data (missing 2025-05, 2025-06)",
    )
    values = _common(ctx, [])
    assert values["marking"].startswith("PROVISIONAL: 2025-H1 is not complete (4 of its 6 months")
    assert values["running_marking"]  # the PDF's page header carries it on every page


def test_registry_and_formats(tmp_path):
    assert rp.REPORTS["needs-profile"].notebook == "01-needs-profile.ipynb"
    assert rp.REPORTS["neighbourhood-profile"].notebook == "02-neighbourhood-profile.ipynb"
    assert {"resource-map", "commissioning-priorities", "outcomes-monitoring"} <= set(rp.REPORTS)
    spec = rp.register_report("test-extra", notebook="report_tiny.ipynb", title="Extra")
    try:
        assert rp.resolve_report("test-extra", notebooks=NOTEBOOKS) == (spec, TINY.resolve())
        with pytest.raises(ReportError, match="notebook does not exist yet"):
            rp.resolve_report("test-extra", notebooks=tmp_path)
    finally:
        del rp.REPORTS["test-extra"]
    with pytest.raises(ReportError, match="not a usable report name"):
        rp.register_report("bad name!", notebook="x.ipynb", title="x")
    with pytest.raises(ReportError, match="notebook not found"):
        rp.resolve_report(tmp_path / "missing.ipynb")
    from needskit.reports.run import parse_formats

    assert parse_formats("pdf") == ["ipynb", "pdf"] and parse_formats(["html", "pdf"]) == [
        "ipynb",
        "html",
        "pdf",
    ]


def test_methods_note_and_parse_params():
    note = rp.methods_note("Counts are from police.uk.", topics=["crude_rate"], title="Crime")
    data, meta = note._repr_mimebundle_()
    assert meta["needskit"]["role"] == "methods"
    assert (
        data["text/markdown"].startswith("**Crude rates.**")
        and "**Crime.** Counts are from police.uk." in data["text/markdown"]
    )
    with pytest.raises(ReportError, match="unknown methods topic"):
        rp.methods_note(topics=["astrology"])
    with pytest.raises(ReportError, match="is empty"):
        rp.methods_note()
    from needskit.reports.command import parse_params

    assert parse_params(["seed=7", "indicator_set=core"]) == {"seed": "7", "indicator_set": "core"}
    with pytest.raises(ReportError, match="is not NAME=VALUE"):
        parse_params(["seed"])


def test_sources_come_from_the_store_and_respect_the_audience(shipped_workspace):
    internal = shipped_workspace.store.manifest()["sources"]
    public = shipped_workspace.published("public").manifest()["sources"]
    # one row per catalogue dataset, and one for the boundaries the reports draw (which outlines)
    outlines = [s for s in internal if str(s["title"]).startswith("LSOA 2021 boundaries: ")]
    assert len(outlines) == 1 and "393 detailed outlines" in outlines[0]["title"]
    assert len(internal) == len(shipped_workspace.catalog) + 1
    assert {s["sharing"] for s in public} <= {"open"} and len(public) <= len(internal)


# ------------------------------------------------------------------------------- scheduling doc

DOC = Path(__file__).parents[2] / "docs" / "scheduling.md"


def _block(kind: str) -> list[str]:
    match = re.search(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert match, f"no ```{kind} block in {DOC}"
    return match.group(1).splitlines()


def _expand(field: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
            assert step >= 1
        if part == "*":
            start, stop = low, high
        elif "-" in part:
            start, stop = (int(x) for x in part.split("-"))
        else:
            start = stop = int(part)
        assert low <= start <= stop <= high, f"{field!r} outside {low}-{high}"
        values.update(range(start, stop + 1, step))
    return values


def test_scheduling_doc_cron_line():
    lines = [
        line
        for line in _block("cron")
        if line.strip() and not line.startswith("#") and not re.match(r"^[A-Z_]+=", line)
    ]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    assert len(fields) == 6  # five time fields and the command
    minute, hour, day, month, weekday, command = fields
    assert _expand(minute, 0, 59) == {0} and _expand(hour, 0, 23) == {6}
    assert _expand(day, 1, 31) == {1} and _expand(month, 1, 12) == set(range(1, 13))  # every month
    assert _expand(weekday, 0, 7) == set(range(8))  # any weekday
    # the command is a real needskit cycle invocation
    call = command.split("needskit cycle", 1)[1].split(">>")[0].split()
    from needskit.cli import cli

    cycle = cli.commands["cycle"]
    ctx = cycle.make_context("cycle", call)
    assert ctx.params["audience"] == "public"


def test_scheduling_doc_systemd_calendar():
    values = [
        line.split("=", 1)[1] for line in _block("ini") + _second_ini() if line.startswith("OnCalendar=")
    ]
    assert len(values) == 1
    value = values[0]
    assert value == "*-*-01 06:00:00"  # the first of every month
    tool = shutil.which("systemd-analyze")
    if tool:
        import subprocess

        shown = subprocess.run(
            [tool, "calendar", value, "--iterations=4"], capture_output=True, text=True, check=True
        ).stdout
        assert f"Normalized form: {value}" in shown
        elapses = re.findall(r"\d{4}-(\d{2})-(\d{2}) 06:00:00", shown)
        assert len(elapses) == 4 and len({m for m, _ in elapses}) == 4 and {d for _, d in elapses} == {"01"}


def _second_ini() -> list[str]:
    blocks = re.findall(r"```ini\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [line for block in blocks[1:] for line in block.splitlines()]


# ------------------------------------------------------------------------------- atomic publish


class _Crash(BaseException):
    """A process killed mid-publish: no handler and no clean-up runs."""


def _old_folder(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True)
    for name, text in (("r.ipynb", "old nb"), ("r.html", "old html"), ("r.pdf", "old pdf")):
        (folder / name).write_text(text)
    entry = {
        "formats": ["ipynb", "html", "pdf"],
        "files": {"ipynb": "r.ipynb", "html": "r.html", "pdf": "r.pdf"},
        "sha256": {
            f: hashlib.sha256(f"old {k}".encode()).hexdigest()
            for f, k in (("ipynb", "nb"), ("html", "html"), ("pdf", "pdf"))
        },
    }
    (folder / "manifest.json").write_text(json.dumps({"manifest_version": 1, "reports": {"r": entry}}))
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _new_files(tmp: Path) -> dict[str, Path]:
    tmp.mkdir()
    files = {}
    for fmt, text in (("ipynb", "new nb"), ("html", "new html"), ("pdf", "new pdf")):
        files[fmt] = tmp / f"r.{fmt}"
        files[fmt].write_text(text)
    return files


def _checked():
    from types import SimpleNamespace

    return SimpleNamespace(area="E07000078", area_name="Cheltenham", period="2025-H1")


@pytest.mark.parametrize("at", [1, 2, 3])
def test_a_publish_killed_at_any_rename_leaves_the_old_report_or_the_new_one(tmp_path, monkeypatch, at):
    import os

    from needskit import _atomic
    from needskit.reports import run as rr

    folder = tmp_path / "E07000078" / "2025-H1"
    before = _old_folder(folder)
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == at:
            raise _Crash
        return real_replace(src, dst)

    monkeypatch.setattr(_atomic, "_exchange", lambda a, b: False, raising=False)  # two renames
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(shutil, "rmtree", lambda *a, **k: None)  # killed: nothing cleaned up
    try:
        rr._publish(folder, _new_files(tmp_path / "work"), "r", {"files": {}}, _checked())
        crashed = False
    except _Crash:
        crashed = True
    monkeypatch.undo()
    from needskit._atomic import locked, recover

    with locked(folder):
        recover(folder)  # what the next run does first
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    if crashed:
        assert after == before  # never a new HTML beside the old PDF and manifest
    else:
        assert {after[f"r.{f}"] for f in ("ipynb", "html", "pdf")} == {b"new nb", b"new html", b"new pdf"}
    assert sorted(p.name for p in folder.parent.iterdir()) == [".2025-H1.lock", "2025-H1"]


def test_if_changed_checks_the_outputs_against_their_hashes(tmp_path):
    folder = tmp_path / "E07000078" / "2025-H1"
    _old_folder(folder)
    entry = rm.manifest_entry(folder, "r")
    current = {**entry, "formats": ["ipynb", "html", "pdf"]}
    assert rm.unchanged(entry, current, folder=folder)
    (folder / "r.html").write_text("a new HTML left by a crash")  # same name, other content
    assert not rm.unchanged(entry, current, folder=folder)
    older = {k: v for k, v in entry.items() if k != "sha256"}  # no hashes: never trusted
    assert not rm.unchanged(older, current, folder=folder)


def test_two_runs_publishing_into_one_folder_keep_both_manifest_entries(tmp_path, monkeypatch):
    import threading
    import time

    from needskit.reports import run as rr

    folder = tmp_path / "E07000078" / "2025-H1"
    real_read = rr.read_manifest

    def slow_read(path):
        data = real_read(path)
        time.sleep(0.2)  # both runs would read the manifest before either writes it
        return data

    monkeypatch.setattr(rr, "read_manifest", slow_read)
    threads = []
    for name in ("a", "b"):
        work = tmp_path / f"work-{name}"
        work.mkdir()
        (work / f"{name}.html").write_text(name)
        files = {"html": work / f"{name}.html"}
        threads.append(
            threading.Thread(target=rr._publish, args=(folder, files, name, {"files": {}}, _checked()))
        )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert set(rm.read_manifest(folder)["reports"]) == {"a", "b"}
    assert {p.name for p in folder.iterdir()} == {"a.html", "b.html", "manifest.json"}


def test_an_unknown_format_is_echoed_as_given():
    from needskit.reports.run import parse_formats

    with pytest.raises(ReportError, match=r"got 'html,\.\./\.\./x'|got '\.\./\.\./x'") as info:
        parse_formats("html,../../x")
    assert "'../../x'" in str(info.value) and "'/../x'" not in str(info.value)
    assert parse_formats(" HTML,.pdf ") == ["ipynb", "html", "pdf"]
