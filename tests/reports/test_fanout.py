"""Many areas on one engine (``needskit report NAME --each LEVEL --within CODE``): the local
process pool and Dask distributed give the same outputs, one area's failure is reported while the
others are published, and bad ``--each``/``--within``/engine options are one clear line.

One 2-worker Dask ``LocalCluster`` (single-threaded worker processes) is started per module and
reached by its scheduler address, as a real cluster is (``--scheduler tcp://HOST:8786``). The runs
use the small test notebook (tests/data/notebooks/report_small.ipynb) as HTML for three districts
of the shipped example's store (built once per session).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from needskit.cli import main
from needskit.config.project import project_dir
from needskit.errors import ReportError
from needskit.reports import fanout as fo
from needskit.reports.manifest import MANIFEST_NAME

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).parents[1] / "data" / "notebooks"
SMALL = NOTEBOOKS / "report_small.ipynb"
TINY = NOTEBOOKS / "report_tiny.ipynb"
ROOT = project_dir()
COUNTY = "E10000013"
THREE = ["E07000078", "E07000079", "E07000080"]
PERIOD = "2025-H1"
# Written into the outputs at run time: when the run started, executed and finished, how long it
# took, the working file papermill wrote (a private folder per run) and the random id of the cell
# papermill inserts. Nothing else may differ.
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")
ADDRESS = re.compile(r" at 0x[0-9a-f]+>")  # a Python object's repr in the executed notebook
TIMED = {"started", "executed", "finished", "seconds"}


@pytest.fixture(scope="module")
def scheduler():
    """The address of a 2-worker Dask LocalCluster, one thread per worker process."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # no fixed port: several clusters may run at once
        memory_limit=0,
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address


def _areas(report, out, shipped_store, **options):
    return fo.run_areas(
        report,
        areas=THREE,
        within=COUNTY,
        period=PERIOD,
        formats="html",
        progress=False,
        out=out,
        store=shipped_store.path,
        project=ROOT,
        **options,
    )


def _normalised(path: Path) -> str:
    """The output's text without what the issue allows to differ: the run's timestamps (and, in
    the executed notebook, papermill's timings and working paths, the random id papermill gives
    the parameters cell it inserts, and the memory address in an object's plain-text repr)."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        nb.metadata.pop("papermill", None)
        for cell in nb.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
            if "injected-parameters" in cell.metadata.get("tags", []):
                cell["id"] = "injected-parameters"  # papermill gives the cell it inserts a random id
        text = ADDRESS.sub(" at <address>>", nbformat.writes(nb))
    else:
        text = path.read_text(encoding="utf-8")
    return STAMP.sub("<time>", text)


def _entry(folder: Path, name: str) -> dict:
    return json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))["reports"][name]


# ------------------------------------------------------------------------------- same outputs


def test_dask_cluster_gives_the_outputs_of_the_local_pool(tmp_path, shipped_store, scheduler):
    local = _areas(SMALL, tmp_path / "local", shipped_store, engine="local", jobs=2)
    dask = _areas(SMALL, tmp_path / "dask", shipped_store, scheduler=scheduler)
    assert [r.area for r in local.results] == [r.area for r in dask.results] == THREE
    assert not local.errors and not dask.errors and local.period == dask.period == PERIOD
    for code in THREE:
        a = _entry(tmp_path / "local" / code / PERIOD, "report_small")
        b = _entry(tmp_path / "dask" / code / PERIOD, "report_small")
        assert a["files"] == b["files"] == {"ipynb": "report_small.ipynb", "html": "report_small.html"}
        # the manifest records the same run: parameters, notebook, inputs and their hashes, code
        # version, kernel ... everything but the times (and the hashes and sizes of outputs that
        # carry those times, compared below)
        drop = TIMED | {"sha256", "bytes"}
        assert {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}
        assert a["inputs_sha256"] == b["inputs_sha256"] and a["parameters"]["area"] == code
        for fmt, name in a["files"].items():
            left, right = tmp_path / "local" / code / PERIOD / name, tmp_path / "dask" / code / PERIOD / name
            if a["sha256"][fmt] != b["sha256"][fmt]:
                assert _normalised(left) == _normalised(right), f"{code} {name} differs beyond timestamps"
        # the HTML shows when it was run: the comparison removed that, and nothing else differed
        assert "<time>" in _normalised(tmp_path / "local" / code / PERIOD / "report_small.html")
    for batch in (local, dask):
        index = (batch.index).read_text(encoding="utf-8")
        assert batch.index == batch.index.parents[1] / PERIOD / "index.html"
        assert all(f"<td>{code}</td>" in index for code in THREE)
        assert 'href="../../E07000079/2025-H1/report_small.html"' in index


# ------------------------------------------------------------------------------- one area fails


def _failing_copy(tmp_path: Path, code: str) -> Path:
    """The small notebook, whose deliberate-failure cell also fails for ``code``."""
    nb = nbformat.read(SMALL, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("if fail:"))
    cell.source = f'if fail or area == "{code}":\n    raise ValueError("deliberate failure for the test")'
    path = tmp_path / "notebooks" / "report_small.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("engine", ["dask", "local"])
def test_one_area_failing_is_reported_and_the_others_published(tmp_path, shipped_store, scheduler, engine):
    notebook = _failing_copy(tmp_path, "E07000079")
    out = tmp_path / "reports"
    where = {"scheduler": scheduler} if engine == "dask" else {"engine": "local", "jobs": 2}
    failed = r"1 of 3 areas failed \(E07000079\); first, E07000079: .*cell"
    with pytest.raises(ReportError, match=failed) as info:
        _areas(notebook, out, shipped_store, **where)
    assert "ValueError: deliberate failure for the test" in str(info.value)
    assert "the other areas were published" in str(info.value)
    for code in ("E07000078", "E07000080"):
        assert (out / code / PERIOD / "report_small.html").is_file()
    assert not (out / "E07000079" / PERIOD / "report_small.html").exists()
    assert (out / "_failed" / "E07000079" / PERIOD / "report_small.ipynb").is_file()  # kept to debug
    index = (out / COUNTY / PERIOD / "index.html").read_text(encoding="utf-8")
    assert "failed in this run" in index and index.count("report_small.html") == 2


def test_run_tasks_keeps_results_in_task_order_and_errors_by_area(tmp_path, shipped_store, scheduler):
    common = {
        "period": PERIOD,
        "formats": "html",
        "out": str(tmp_path),
        "store": str(shipped_store.path),
        "project": str(ROOT),
    }
    tasks = [
        {**common, "report": str(TINY), "area": "E07000081"},
        {**common, "report": str(TINY), "area": "E99999999"},  # not in the store: fails in the worker
        {**common, "report": str(TINY), "area": "E07000078"},
    ]
    done, errors = fo.run_tasks(tasks, scheduler=scheduler)
    assert [r.area for r in done] == ["E07000081", "E07000078"]
    assert list(errors) == ["E99999999"] and "E99999999" in errors["E99999999"]


# ------------------------------------------------------------------------------- which areas


def test_areas_within_reads_the_hierarchy(shipped_store):
    hierarchy = shipped_store.read_hierarchy()
    districts = sorted(hierarchy["district"].unique())
    assert fo.areas_within("district", COUNTY, store=shipped_store) == districts
    assert fo.areas_within("district", None, store=shipped_store) == districts  # the whole area
    assert fo.areas_within("district", "partnership", store=shipped_store) == districts
    wards = fo.areas_within("ward", "E07000078", store=shipped_store)
    assert wards == sorted(hierarchy.loc[hierarchy["district"] == "E07000078", "ward"].unique())
    assert len(wards) > 10 and all(code.startswith("E05") for code in wards)
    lsoas = fo.areas_within("lsoa", wards[0], store=shipped_store)
    assert set(lsoas) == set(hierarchy.loc[hierarchy["ward"] == wards[0], "lsoa"])
    # the region and the police force area the store's LSOAs lie in (a partnership of a whole
    # region has every district of it; a grouping holds districts, not counties)
    region, force = hierarchy["region"].iloc[0], hierarchy["pfa"].iloc[0]
    assert fo.areas_within("district", region, store=shipped_store) == districts
    assert fo.areas_within("district", force, store=shipped_store) == districts
    with pytest.raises(ReportError, match=r"county areas do not lie within a pfa.*ward, district"):
        fo.areas_within("county", force, store=shipped_store)


def test_areas_within_errors(shipped_store):
    with pytest.raises(ReportError, match=r"--each: is not a level .*expected one of lsoa, msoa, ward"):
        fo.areas_within("parish", COUNTY, store=shipped_store)
    with pytest.raises(ReportError, match=r"--within: is not an area of the store.*got 'E06000023'"):
        fo.areas_within("district", "E06000023", store=shipped_store)
    with pytest.raises(ReportError, match=r"county areas do not lie within a district"):
        fo.areas_within("county", "E07000078", store=shipped_store)
    with pytest.raises(ReportError, match=r"district areas do not lie within a district"):
        fo.areas_within("district", "E07000078", store=shipped_store)

    class Unitaries:  # a store of unitaries only: no county above them
        def read_hierarchy(self):
            return pd.DataFrame(
                {
                    "lsoa": ["E01000001", "E01000002"],
                    "msoa": ["E02000001", "E02000001"],
                    "ward": ["E05000001", "E05000002"],
                    "district": ["E06000022", "E06000023"],
                    "county": [None, None],
                }
            )

        def manifest(self):
            return {"area": {"codes": ["E06000022", "E06000023"]}}

    with pytest.raises(ReportError, match=r"no county lies within the partnership's area"):
        fo.areas_within("county", "partnership", store=Unitaries())
    assert fo.areas_within("district", "", store=Unitaries()) == ["E06000022", "E06000023"]


def test_engine_checks(tmp_path, shipped_store, scheduler, monkeypatch):
    task = {"report": str(TINY), "area": "E07000078", "store": str(shipped_store.path), "project": str(ROOT)}
    with pytest.raises(ReportError, match="--engine: unknown engine"):
        fo.run_tasks([task], engine="spark")  # type: ignore[arg-type]
    with pytest.raises(ReportError, match="a scheduler needs the dask engine"):
        fo.run_tasks([task], engine="local", scheduler=scheduler)
    # a worker that cannot see the project (another machine without the shared folder)
    elsewhere = {**task, "project": str(tmp_path / "not-mounted")}
    with pytest.raises(ReportError, match=r"Dask worker .* cannot see .*not-mounted"):
        fo.run_tasks([elsewhere], scheduler=scheduler)
    monkeypatch.setattr(fo, "CONNECT_TIMEOUT", 1)
    unreachable = r"--scheduler tcp://127.0.0.1:9: could not reach the Dask scheduler"
    with pytest.raises(ReportError, match=unreachable):
        fo.run_tasks([task], scheduler="tcp://127.0.0.1:9")


# ------------------------------------------------------------------------------- the command


def _cli(capsys, shipped_store, *args):
    code = main(["report", str(TINY), "--store", str(shipped_store.path), "--format", "html", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--each", "parish"], "--each: is not a level of the store's hierarchy"),
        (["--each", "district", "--within", "E06000023"], "--within: is not an area of the store"),
        (["--each", "county", "--within", "E07000078"], "county areas do not lie within a district"),
        (["--within", COUNTY], "--within needs --each LEVEL"),
        (["--each", "district", "--each-chapter"], "--each and --each-chapter cannot be combined"),
        (["--engine", "dask"], "an engine runs many areas"),
        (["--each", "district", "--engine", "local", "--scheduler", "tcp://x:1"], "needs the dask engine"),
    ],
)
def test_cli_option_errors_are_one_line(capsys, shipped_store, args, message):
    code, _, err = _cli(capsys, shipped_store, *args)
    assert code == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_unknown_engine_is_a_usage_error(capsys, shipped_store):
    code, _, err = _cli(capsys, shipped_store, "--each", "district", "--engine", "spark")
    assert code == 2 and "Invalid value for '--engine'" in err and "Traceback" not in err


def test_cli_each_district_on_a_dask_local_cluster(capsys, tmp_path, shipped_store):
    out = tmp_path / "reports"
    code, stdout, err = _cli(
        capsys, shipped_store, "--each", "district", "--out", str(out), "--engine", "dask", "--jobs", "2"
    )
    assert code == 0, err
    districts = sorted(shipped_store.read_hierarchy()["district"].unique())
    for code_ in districts:
        assert (out / code_ / PERIOD / "report_tiny.html").is_file()
    assert stdout.count("wrote ") == len(districts)
    assert f"index: {out / COUNTY / PERIOD / 'index.html'} ({len(districts)} reports" in stdout
    shutil.rmtree(out)
