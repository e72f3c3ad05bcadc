"""The needskit command: help, version, one clear line for bad input, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import needskit
from needskit.cli import main


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert needskit.__version__ in capsys.readouterr().out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "demo" in out and "data" in out


def test_bad_input_is_one_line_without_traceback(capsys, tmp_path):
    code = main(["data", "build", "--from", str(tmp_path / "nowhere"), "--to", str(tmp_path / "raw")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("needskit: error:") and "source folder does not exist" in err and "hint" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_console_script_runs_demo(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "needskit.cli", "demo", "--out", str(tmp_path), "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "get the LSOA police.uk publishes" in result.stdout
    assert (tmp_path / "profile.parquet").exists() and (tmp_path / "ledger.csv").exists()
    reports = tmp_path / "reports"
    assert (reports / "E10000013" / "2024-04" / "index.html").exists()
    for area in ("E10000013", "E07000078", "E07000079", "E07000080", "E07000081", "E07000082", "E07000083"):
        for suffix in ("html", "pdf"):
            assert (reports / area / "2024-04" / f"needs-profile.{suffix}").exists(), (area, suffix)
    for name in ("resource-map", "commissioning-priorities", "outcomes-monitoring"):
        for area in ("E10000013", "E07000078"):
            assert (reports / area / "2024-04" / f"{name}.pdf").exists(), (name, area)
