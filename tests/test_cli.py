"""The needskit command: help, version, one clear line for bad input, no tracebacks; the pipeline
commands on a partnership that is not the built-in example; the demo as `make demo` runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

import needskit
from needskit.cli import main
from squares import write_squares_project


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert needskit.__version__ in capsys.readouterr().out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("demo", "data", "pool", "indicators", "publish", "run", "report", "validate"):
        assert command in out


def test_bad_input_is_one_line_without_traceback(capsys, tmp_path):
    code = main(["data", "build", "--from", str(tmp_path / "nowhere"), "--to", str(tmp_path / "raw")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("needskit: error:") and "source folder does not exist" in err and "hint" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "No such command" in capsys.readouterr().err


@pytest.fixture(scope="module")
def squares_project(tmp_path_factory):
    return write_squares_project(tmp_path_factory.mktemp("squares"))


def test_pipeline_commands_on_another_partnership(squares_project, capsys, monkeypatch):
    monkeypatch.chdir(squares_project / "conf")  # as cron runs it: found from the working folder
    assert main(["validate"]) == 0
    assert "8 datasets checked: 0 errors" in capsys.readouterr().out
    assert main(["pool"]) == 0
    out = capsys.readouterr().out
    assert "crimes" in out and "ledger balances" in out
    assert main(["indicators"]) == 0
    assert "county: 6 indicators" in capsys.readouterr().out
    assert main(["publish"]) == 0
    assert "published for public under nhs_digital" in capsys.readouterr().out
    store = squares_project / "data" / "processed"
    assert (store / "store.json").is_file() and (
        squares_project / "data" / "published" / "public" / "store.json"
    ).is_file()
    indicators = pd.read_csv(store / "indicators_county.csv")
    assert set(indicators["area_code"]) == {"E10999901"}


def test_a_stale_store_is_one_line_with_the_command_to_run(squares_project, capsys, tmp_path):
    assert main(["--project", str(squares_project), "run"]) == 0
    capsys.readouterr()
    crimes = squares_project / "data" / "raw" / "partner" / "crimes_late.csv"
    crimes.write_text(
        "crime_id,month,x,y,crime_type\nlate-1,2024-03,394500,222500,Burglary\n", encoding="utf-8"
    )
    try:
        code = main(
            [
                "--project",
                str(squares_project),
                "report",
                "needs-profile",
                "--area",
                "E10999901",
                "--out",
                str(tmp_path),
            ]
        )
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1
        assert "crimes_late.csv is new since `needskit pool` ran" in err and "needskit run" in err
    finally:
        crimes.unlink()


def test_pool_exits_non_zero_on_error_level_problems(squares_project, capsys, tmp_path):
    bad = squares_project / "data" / "raw" / "partner" / "crimes_bad.csv"
    bad.write_text(
        "crime_id,month,x,y,crime_type\n" + "".join(f"b{i},2024-13,1,2,Burglary\n" for i in range(50)),
        encoding="utf-8",
    )
    try:
        code = main(["--project", str(squares_project), "pool", "--store", str(tmp_path / "store")])
        captured = capsys.readouterr()
        assert code == 1 and "needskit: error:" in captured.err and "too many invalid rows" in captured.err
    finally:
        bad.unlink()


def test_no_project_is_one_clear_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NEEDSKIT_PROJECT", raising=False)
    monkeypatch.setenv("NEEDSKIT_PROJECT", str(tmp_path))
    assert main(["pool"]) == 2
    err = capsys.readouterr().err
    assert "is not a needskit project" in err and "Traceback" not in err


@pytest.mark.slow
def test_console_script_runs_demo(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "needskit.cli",
            "demo",
            "--store",
            str(tmp_path / "processed"),
            "--reports",
            str(tmp_path / "reports"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "are placed by the LSOA police.uk publishes" in result.stdout
    store = tmp_path / "processed"
    assert (store / "profile.parquet").exists() and (store / "ledger.csv").exists()
    assert (tmp_path / "published" / "public" / "store.json").exists()
    reports = tmp_path / "reports"
    assert (reports / "E10000013" / "2025-H1" / "index.html").exists()
    # the closing line names the index that links every report (a file, not a folder)
    opened = re.search(r"open (\S+) to read every report", result.stdout.strip().splitlines()[-1])
    assert opened and Path(opened[1]) == reports / "E10000013" / "2025-H1" / "index.html"
    for area in ("E10000013", "E07000078", "E07000079", "E07000080", "E07000081", "E07000082", "E07000083"):
        for suffix in ("html", "pdf"):
            assert (reports / area / "2025-H1" / f"needs-profile.{suffix}").exists(), (area, suffix)
    index = (reports / "E10000013" / "2025-H1" / "index.html").read_text(encoding="utf-8")
    for name in ("resource-map", "commissioning-priorities", "outcomes-monitoring"):
        for area in ("E10000013", "E07000078"):
            assert (reports / area / "2025-H1" / f"{name}.pdf").exists(), (name, area)
        # the index, written last, links every report of each area
        assert f'href="{name}.html"' in index and f'href="../../E07000078/2025-H1/{name}.pdf"' in index
    # the county chapter compares its districts: the rug and the funnel plot, with text alternatives
    county = (reports / "E10000013" / "2025-H1" / "needs-profile.html").read_text(encoding="utf-8")
    assert 'class="needskit-compare-areas"' in county and 'alt="Funnel plot: ' in county
    printed = " ".join(
        " ".join(page.extract_text().split())
        for page in PdfReader(reports / "E10000013" / "2025-H1" / "needs-profile.pdf").pages
    )
    assert "Compare areas" in printed and "Funnel plot: Recorded crime" in printed  # the caption


def test_a_file_of_only_invalid_rows_fails_pool_and_every_later_command(squares_project, capsys, tmp_path):
    # one small month with x and y swapped: 3 rows, under the dataset's max_invalid, all invalid
    bad = squares_project / "data" / "raw" / "partner" / "crimes_swapped.csv"
    bad.write_text(
        "crime_id,month,x,y,crime_type\n"
        + "".join(f"s{i},2024-02,222500,39450{i},Burglary\n" for i in range(3)),
        encoding="utf-8",
    )
    store = tmp_path / "store"
    try:
        code = main(["--project", str(squares_project), "pool", "--store", str(store)])
        err = capsys.readouterr().err
        assert code == 1, err
        assert "needskit: error:" in err and "crimes_swapped.csv" in err and "Traceback" not in err
        assert main(["--project", str(squares_project), "indicators", "--store", str(store)]) == 0
        capsys.readouterr()
        code = main(
            [
                "--project",
                str(squares_project),
                "report",
                "needs-profile",
                "--area",
                "E10999901",
                "--store",
                str(store),
                "--out",
                str(tmp_path / "reports"),
                "--audience",
                "internal",
            ]
        )
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and "error-level problem" in err
    finally:
        bad.unlink()


def test_audit_attacks_the_published_store(tmp_path, capsys):
    """`needskit audit` works out nothing from what `needskit run` published (exact counts with
    secondary suppression, the rule most open to differencing); once the figures withheld to
    protect small ones are put back, it works the small ones out and exits 1."""
    root = write_squares_project(tmp_path / "squares")
    conf = root / "conf" / "partnership.yml"
    conf.write_text(conf.read_text().replace("rule: nhs_digital", "rule: lt5_secondary"), encoding="utf-8")
    assert main(["--project", str(root), "run"]) == 0
    capsys.readouterr()
    assert main(["--project", str(root), "audit"]) == 0
    out = capsys.readouterr().out
    assert "published counts" in out and "no withheld count can be worked out" in out
    path = root / "data" / "published" / "public" / "profile.parquet"
    profile = pd.read_parquet(path)
    keys = ["dataset", "measure", "category", "period", "vintage", "level", "area_code", "kind"]
    truth = pd.read_parquet(root / "data" / "processed" / "profile.parquet").set_index(keys)["value"]
    true = truth.reindex(pd.MultiIndex.from_frame(profile[keys])).to_numpy()
    protective = (profile["suppressed"] & (true > 4)).to_numpy()  # withheld, but not small
    assert protective.any()
    profile.loc[protective, "value"] = true[protective]
    profile.loc[protective, "suppressed"] = False
    profile.to_parquet(path)
    assert main(["--project", str(root), "audit"]) == 1
    err = capsys.readouterr().err
    assert "withheld counts can be worked out" in err
