"""The shipped notebooks: thin, committed without outputs, and run the same from JupyterLab,
from papermill in any folder and from ``needskit report`` — on the shipped example's store."""

from __future__ import annotations

import json
import re

import nbformat
import papermill
import pytest
from pypdf import PdfReader

from needskit.config.project import project_dir
from needskit.reports.export import network_references
from needskit.reports.run import kernel_for_reports

ROOT = project_dir()
NOTEBOOKS = ROOT / "notebooks"


def test_notebooks_are_thin_and_committed_without_outputs():
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert [p.name for p in paths][:2] == ["00-start-here.ipynb", "01-needs-profile.ipynb"]
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
        assert nb.metadata["kernelspec"]["name"] == "needskit", path.name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name
                assert len(cell.source.splitlines()) <= 12, f"{path.name}: a cell should be one call"
                for forbidden in (
                    "read_parquet",
                    "read_csv",
                    "pool_catalog",
                    "compute_indicators",
                    "apply_rules",
                    "conf/catalog",
                ):
                    assert forbidden not in cell.source, (
                        f"{path.name}: a notebook reads the store, never {forbidden}"
                    )
        params = tagged[0].source
        for line in params.splitlines():
            assert "#" in line, f"{path.name}: every parameter says what it is"
        # papermill must see every parameter (it cannot parse a comment holding '=')
        assert len(papermill.inspect_notebook(str(path))) == len(params.splitlines()), path.name
        assert {"store", "project"} <= set(papermill.inspect_notebook(str(path))), path.name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_runs_from_jupyterlab_in_the_notebooks_folder(name, shipped_store, tmp_path):
    """As an analyst opens it: the kernel starts in notebooks/ and the project is found from there;
    only the store is pointed at the test's (never the checkout's data/processed)."""
    executed = tmp_path / name
    papermill.execute_notebook(
        str(NOTEBOOKS / name),
        str(executed),
        parameters={"store": str(shipped_store.path)},
        kernel_name=kernel_for_reports(),
        cwd=str(NOTEBOOKS),
        progress_bar=False,
        log_output=False,
    )
    nb = nbformat.read(executed, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    html = [
        str(o.get("data", {}).get("text/html", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    ]
    charts = [h for h in html if h.startswith('<figure class="needskit-chart">')]
    assert all(re.search(r'<img [^>]*alt="[^"]{20,}"', h) for h in charts), name  # every chart has a text
    if name == "01-needs-profile.ipynb":  # the partnership's whole area: the county chapter
        assert any("needskit-compare-areas" in h and "Gloucestershire with England" in h for h in html)
        assert any('alt="Funnel plot: ' in h and "districts of Gloucestershire" in h for h in charts)
        assert any('alt="Spine chart: ' in h for h in charts) and any(
            'alt="Line chart: ' in h for h in charts
        )


@pytest.mark.slow
def test_needs_profile_notebook_for_a_district(executed_reports):
    result = executed_reports.get("needs-profile", "E07000078")  # public, HTML and PDF
    html = result.files["html"].read_text(encoding="utf-8")
    assert "Cheltenham: needs profile, 2025-H1" in html
    assert "Headline facts" in html and "Priority neighbourhoods" in html
    assert "Cheltenham is compared with the other districts of Gloucestershire" in html  # not here
    assert "Traceback" not in html and "ename" not in html
    assert network_references(html) == []
    assert html.count('class="leaflet') > 0 or "L.geoJson" in html or "L.geoJSON" in html
    reader = PdfReader(result.files["pdf"])
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 6
    assert "Cheltenham" in text and "Methods and provenance" in text
    assert "Open Government Licence" in text and "data.police.uk" in text
    manifest = json.loads((result.folder / "manifest.json").read_text())
    entry = manifest["reports"]["needs-profile"]
    assert entry["parameters"]["area"] == "E07000078" and entry["disclosure_rule"] == "nhs_digital"
    # a public report records only files of the published store
    assert all("published/public" in item["file"] for item in entry["inputs"])


@pytest.mark.slow
@pytest.mark.parametrize("area", ["E01022147", "west-cheltenham"])
def test_neighbourhood_profile_notebook(executed_reports, area):
    result = executed_reports.get("neighbourhood-profile", area)  # public, HTML
    html = result.files["html"].read_text(encoding="utf-8")
    assert "neighbourhood profile, 2025-H1" in html and "England" in html
    assert "Traceback" not in html
