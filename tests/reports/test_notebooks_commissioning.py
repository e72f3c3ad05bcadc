"""The commissioning report notebooks (03-05), executed through papermill on the shipped store for
Cheltenham."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from needskit.reports import STANDARD_PARAMETERS, notebook_parameters, resolve_report, run_report
from needskit.reports.export import headings, network_references

REPORTS = {
    "resource-map": {
        "title": "Cheltenham: resource map, 2025-H1",
        "headings": [
            "About the data",
            "What partners have, and where",
            "Supply per head",
            "Access to services",
            "Gaps: need against provision",
            "Duplication: several partners in the same place and theme",
            "Spend per head against need",
        ],
        "text": [
            "Spend per head against need is descriptive; it is not a value-for-money judgement.",
            "ILLUSTRATIVE",
            "GP accessibility (2SFCA",
            "library (ILLUSTRATIVE locations)",
        ],
        "files": set(),
    },
    "commissioning-priorities": {
        "title": "Cheltenham: commissioning priorities, 2025-H1",
        "headings": [
            "About the data",
            "Priority places and themes",
            "Delivery against outcomes",
            "Outcomes with nothing delivered",
            "Delivery and need",
            "Sharing a pot by need",
        ],
        "text": [
            "ILLUSTRATIVE",
            "Each scenario sums exactly to the pot",
            "£50,000 pot",
            "neighbourhoods are among the 20% most deprived",
        ],
        "files": {"outcomes_file", "delivery_file"},
    },
    "outcomes-monitoring": {
        "title": "Cheltenham: outcomes monitoring, 2025-H1",
        "headings": [
            "About the data",
            "Board summary: the real months",
            "Charts",
            "Recorded crime month by month: each district and each crime group",
            "Rules and targets",
            "Indicators without a monthly series",
            "By accountable partnership",
        ],
        "text": [
            "42 real months (2022-01 to 2025-06)",
            "Rules used:",
            "real (42 months)",
            "special cause",
        ],
        "files": {"outcomes_file", "delivery_file"},
    },
}


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_commissioning_notebooks_are_thin_and_committed_without_outputs(report):
    _, path = resolve_report(report)
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "needskit"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            assert len(cell.source.splitlines()) <= 12
    params = notebook_parameters(path)
    assert set(STANDARD_PARAMETERS) <= set(params), set(STANDARD_PARAMETERS) - set(params)
    assert not {"partnership", "publish", "indicator_set", "disclosure_rule"} & set(params)
    assert REPORTS[report]["files"] <= set(params)
    assert all("#" in line for line in tagged[0].source.splitlines())
    assert params["audience"] == "public" and params["store"] == "" and params["project"] == ""


def _run(report, shipped_workspace, tmp_path, **options):
    return run_report(
        report,
        area="E07000078",
        period="2025-H1",
        store=shipped_workspace.store.path,
        project=shipped_workspace.project.root,
        out=tmp_path,
        formats=("html",),
        **options,
    )


@pytest.mark.slow
@pytest.mark.parametrize("report", sorted(REPORTS))
def test_commissioning_notebook_for_cheltenham(report, executed_reports):
    result = executed_reports.get(report, "E07000078")  # public (the notebooks' default), HTML
    html = result.files["html"].read_text(encoding="utf-8")
    found = [text for _, _, text in headings(html, levels=(2,))]
    expected = REPORTS[report]
    assert expected["title"] in found
    for heading in expected["headings"]:
        assert heading in found, (heading, found)
    for text in expected["text"]:
        assert text in html, text
    assert "Traceback" not in html and "ename" not in html
    executed = nbformat.read(result.files["ipynb"], as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    assert network_references(html) == []
    assert "Methods and provenance" in html


@pytest.mark.slow
def test_allocation_parameters_reach_the_notebook(tmp_path, shipped_workspace):
    result = _run(
        "commissioning-priorities", shipped_workspace, tmp_path, parameters={"pot": 20000, "unit": 500}
    )
    html = result.files["html"].read_text(encoding="utf-8")
    assert (
        "£20,000 pot" in html and "units of £500" in html and "Each scenario sums exactly to the pot" in html
    )


@pytest.mark.slow
def test_resource_map_of_a_store_without_a_register_says_so(tmp_path, shipped_workspace):
    """A partnership that has not added its services yet gets the report, saying so, not an error."""
    source = shipped_workspace.store.path
    copy = tmp_path / "store"
    shutil.copytree(source, copy / "processed")
    shutil.copytree(source.parent / "published", copy / "published")
    for register in (copy / "processed" / "register", copy / "published" / "public" / "register"):
        for table in register.glob("*.parquet"):
            table.unlink()
    result = run_report(
        "resource-map",
        area="E07000078",
        period="2025-H1",
        store=copy / "processed",
        project=shipped_workspace.project.root,
        out=tmp_path / "reports",
        formats=("html",),
    )
    html = result.files["html"].read_text(encoding="utf-8")
    assert "The partnership has no register of its own services yet" in html
    assert (
        "No service point of the register lies in this area" in html
        and "The register has no GP practices" in html
    )
    assert "The register has no gp practice, pharmacy, library: not measured" in html
    assert "Spend per head against need is descriptive" in html and "Traceback" not in html
