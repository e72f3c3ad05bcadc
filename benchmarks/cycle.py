"""Time the regular needs analysis on the shipped 42 months of police.uk data (2022-01 … 2025-06):
pooling every month into the store, and the county + six district half-year analyses.

Two measurements, each against the obvious baseline in the same run, each step a fresh process as
cron runs it:

1. **Pool** (``needskit run``: pool, indicators for the months and the seven half-years, publish)
   of all 42 months at once, against pooling them **month by month** (what a partnership does
   when it re-runs the pipeline as each month arrives: the same command with one month's file in
   the police folder). The baseline is timed on ``--sample`` months (default 3) and scaled to 42;
   the shape of the input is printed (rows and months, measured from the shipped files).
2. **Analyses** (``needskit cycle``: the store already up to date, the county and its six districts
   for the latest complete half-year, HTML + PDF, two workers), against the same seven reports run
   one after another, each in a fresh process (``needskit report needs-profile --area CODE``).

    .venv/bin/python benchmarks/cycle.py [--sample 3]

Needs the shipped example (``data/raw/police/``); skips with a message when it is absent.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICE = ROOT / "data" / "raw" / "police"
COUNTY = "E10000013"
DISTRICTS = ["E07000078", "E07000079", "E07000080", "E07000081", "E07000082", "E07000083"]


def cli(args: list[str], *, cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "needskit.cli", "--project", str(cwd), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NEEDSKIT_HOME": str(ROOT)},
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise SystemExit(f"`needskit {' '.join(args)}` failed (exit {done.returncode})")
    return seconds


def project_copy(target: Path, months: list[Path]) -> Path:
    """The shipped project (conf, data/raw) in ``target``, with only ``months`` in the police folder."""
    shutil.copytree(ROOT / "conf", target / "conf")
    shutil.copytree(ROOT / "notebooks", target / "notebooks")
    raw = target / "data" / "raw"
    shutil.copytree(ROOT / "data" / "raw", raw, ignore=shutil.ignore_patterns("police"))
    (raw / "police").mkdir()
    for month in months:
        shutil.copy2(month, raw / "police" / month.name)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=3, help="months pooled one by one for the baseline")
    args = parser.parse_args()
    months = sorted(POLICE.glob("*-street.csv.gz"))
    if len(months) < 12:
        print(f"SKIP: {POLICE.relative_to(ROOT)} holds {len(months)} months; run `needskit data build` first")
        return
    rows = sum(sum(1 for _ in gzip.open(m, "rt", encoding="utf-8")) - 1 for m in months)
    print(
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; input: {len(months)} police.uk months "
        f"({months[0].name[:7]} … {months[-1].name[:7]}), {rows:,} rows, {rows / len(months):,.0f} a month"
    )
    with tempfile.TemporaryDirectory() as tmp:
        whole = project_copy(Path(tmp) / "all", months)
        pool_all = cli(["run"], cwd=whole)
        one_by_one = []
        for month in months[-args.sample :]:
            single = project_copy(Path(tmp) / month.name[:7], [month])
            one_by_one.append(cli(["run"], cwd=single))
            shutil.rmtree(single)
        baseline = sum(one_by_one) / len(one_by_one) * len(months)
        print(
            f"pool 42 months at once:       {pool_all:7.1f} s\n"
            f"baseline, month by month:     {baseline:7.1f} s  (mean of {len(one_by_one)} months "
            f"{sum(one_by_one) / len(one_by_one):.1f} s x {len(months)})  ratio {baseline / pool_all:.1f}x"
        )
        reports = Path(tmp) / "reports"
        cycle = cli(["cycle", "--reports", str(reports), "--jobs", "2"], cwd=whole)
        produced = sorted(p.parent.parent.name for p in reports.glob("*/*/needs-profile.pdf"))
        again = cli(["cycle", "--reports", str(reports)], cwd=whole)
        sequential = sum(
            cli(
                [
                    "report",
                    "needs-profile",
                    "--area",
                    code,
                    "--audience",
                    "public",
                    "--out",
                    str(Path(tmp) / "seq"),
                ],
                cwd=whole,
            )
            for code in [COUNTY, *DISTRICTS]
        )
    print(
        f"cycle, county + 6 districts:  {cycle:7.1f} s  ({len(produced)} analyses: {', '.join(produced)})\n"
        f"cycle again (nothing due):    {again:7.1f} s\n"
        f"baseline, 7 reports in turn:  {sequential:7.1f} s  ratio {sequential / cycle:.1f}x"
    )


if __name__ == "__main__":
    main()
