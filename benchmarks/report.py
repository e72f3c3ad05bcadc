"""Time report production against the targets: one district <= 20 s, county + six districts <= 60 s.

Each timing is a fresh process (``python -m needskit.reports``), as a user or a scheduler runs it:
Python start, imports (papermill, nbconvert, WeasyPrint ~3 s), parameter checks, kernel start,
execution, HTML and PDF export, publishing. The store is built once first (``needskit run`` into a
temporary folder); every report reads it. Uses ``notebooks/01-needs-profile.ipynb`` when it
exists, else the small test notebook (``tests/data/notebooks/report_small.ipynb``: a table and a
choropleth of the districts) and says which. The baseline is the obvious one: each of the seven
chapters run on its own, one after another, in a fresh process.

    .venv/bin/python benchmarks/report.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "notebooks" / "01-needs-profile.ipynb"
TEST = ROOT / "tests" / "data" / "notebooks" / "report_small.ipynb"
PERIOD = os.environ.get("NEEDSKIT_BENCH_PERIOD", "2025-H1")
TARGET_ONE, TARGET_BATCH = 20.0, 60.0


def run(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "needskit.reports", *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stdout, done.stderr, sep="\n")
        raise SystemExit(f"report failed (exit {done.returncode})")
    return seconds


def main() -> None:
    report = "needs-profile" if REAL.exists() else str(TEST)
    which = REAL.relative_to(ROOT) if REAL.exists() else TEST.relative_to(ROOT)
    print(f"notebook timed: {which}  (period {PERIOD}, {os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as stores:
        store = str(Path(stores) / "processed")
        built = subprocess.run(
            [sys.executable, "-m", "needskit.cli", "run", "--store", store], capture_output=True, text=True
        )
        if built.returncode != 0:
            raise SystemExit(f"the store could not be built: {built.stderr}")
        common = ["--period", PERIOD, "--store", store]
        one = run([report, "--area", "E07000078", *common, "--format", "html,pdf", "--out", tmp])
        again = run([report, "--area", "E07000078", *common, "--out", tmp, "--if-changed"])
        batch = run([report, "--area", "E10000013", *common, "--each-chapter", "--out", tmp])
        sizes = sorted(p.stat().st_size for p in Path(tmp).rglob("*.html") if p.name != "index.html")
        # the obvious baseline: one process per chapter, one after another (imports and a kernel each time)
        chapters = ["E10000013", "E07000078", "E07000079", "E07000080", "E07000081", "E07000082", "E07000083"]
        with tempfile.TemporaryDirectory() as base:
            sequential = sum(run([report, "--area", code, *common, "--out", base]) for code in chapters)
    print(
        f"one district (execute + HTML + PDF): {one:6.1f} s   target <= {TARGET_ONE:.0f} s   "
        f"{'ok' if one <= TARGET_ONE else 'SLOW'}"
    )
    print(f"same again with --if-changed (skip): {again:6.1f} s")
    print(
        f"county + 6 districts, parallel:      {batch:6.1f} s   target <= {TARGET_BATCH:.0f} s   "
        f"{'ok' if batch <= TARGET_BATCH else 'SLOW'}"
    )
    print(
        f"baseline, 7 chapters one by one:     {sequential:6.1f} s   "
        f"parallel batch is {sequential / batch:.1f}x faster"
    )
    print(f"largest HTML: {sizes[-1] / 1e6:.2f} MB (limit 10 MB)")


if __name__ == "__main__":
    main()
