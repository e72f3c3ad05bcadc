"""The shipped report notebooks, executed through papermill on the shipped data (HTML and PDF)."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from needskit.config.project import project_dir
from needskit.reports import run_report
from needskit.reports.export import network_references

NOTEBOOKS = project_dir() / "notebooks"


def test_notebooks_are_thin_and_committed_without_outputs():
    import nbformat

    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name
                assert len(cell.source.splitlines()) <= 12, f"{path.name}: a cell should be one call"
        params = tagged[0].source
        for line in params.splitlines():
            assert "#" in line, f"{path.name}: every parameter says what it is"


@pytest.mark.slow
def test_needs_profile_notebook_for_a_district(tmp_path):
    result = run_report("needs-profile", area="E07000078", period="2024-04", publish="public", out=tmp_path)
    html = result.files["html"].read_text(encoding="utf-8")
    assert "Cheltenham: needs profile, 2024-04" in html
    assert "Headline facts" in html and "Priority neighbourhoods" in html
    assert "Traceback" not in html and "ename" not in html
    assert network_references(html) == []
    assert html.count('class="leaflet') > 0 or "L.geoJson" in html or "L.geoJSON" in html
    reader = PdfReader(result.files["pdf"])
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 6
    assert "Cheltenham" in text and "Methods and provenance" in text
    assert "Open Government Licence" in text and "data.police.uk" in text
    manifest = json.loads((result.folder / "manifest.json").read_text())
    entry = manifest["reports"]["needs-profile"] if "reports" in manifest else manifest
    assert entry["parameters"]["area"] == "E07000078"


@pytest.mark.slow
@pytest.mark.parametrize("area", ["E01022147", "west-cheltenham"])
def test_neighbourhood_profile_notebook(tmp_path, area):
    result = run_report("neighbourhood-profile", area=area, period="2024-04", publish="public", formats=("html",), out=tmp_path)
    html = result.files["html"].read_text(encoding="utf-8")
    assert "needs profile, 2024-04" in html and "England" in html
    assert "Traceback" not in html
