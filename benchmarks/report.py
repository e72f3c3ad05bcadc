"""Time report production, this code against the present way, in one run: one district <= 6 s, the
county with its six districts <= 20 s.

Each timing is a fresh process (``python -m needskit.reports``), as a user or a scheduler runs it:
Python start, imports, parameter checks, kernel start, execution, HTML and PDF export, publishing.
The store is built once first (``needskit run`` into a temporary folder, the shipped example:
Gloucestershire, 393 LSOAs, six districts); every report reads it.

The baseline is **the present way**: the same commands, on the same store, run by the code of
``--baseline-ref`` (default ``68cf17c``, the code before issue 14 §2; ``git archive`` of its
``src/`` into a temporary folder, put first on ``PYTHONPATH`` for the report process and its
kernels). The two are alternated ``--repeat`` times and the best of each is compared, so both see
the same load. ``--baseline cold`` instead times this code with ``NEEDSKIT_FORK_KERNELS=0`` (a cold
kernel per report, everything else new).

    .venv/bin/python benchmarks/report.py [--repeat 2] [--baseline ref|cold] [--baseline-ref REF]
                                          [--store data/processed]  (a store already built)

Prints each time, the ratio, PASS/MISS against the targets, the largest HTML and the 1-minute load
average before and after. Exit code 1 if a report fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERIOD = os.environ.get("NEEDSKIT_BENCH_PERIOD", "2025-H1")
DISTRICT, COUNTY = "E07000078", "E10000013"  # Cheltenham; Gloucestershire and its six districts
TARGET_ONE, TARGET_BATCH = 6.0, 20.0
PRESENT = "68cf17c"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(args: list[str], *, src: Path, extra_env: dict[str, str] | None = None) -> float:
    env = {**os.environ, **(extra_env or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [os.environ.get("PYTHONPATH")])])
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "needskit.reports", *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stdout, done.stderr, sep="\n")
        raise SystemExit(f"report failed (exit {done.returncode}): {' '.join(args)}")
    return seconds


def present_source(ref: str, into: Path) -> Path:
    """``src/`` of ``ref`` extracted into ``into`` (the present way's code)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def build(store: str) -> None:
    """``needskit run`` of the shipped example into ``store`` (by this code)."""
    paths = [str(ROOT / "src"), os.environ.get("PYTHONPATH")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    built = subprocess.run(
        [sys.executable, "-m", "needskit.cli", "run", "--store", store],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if built.returncode != 0:
        raise SystemExit(f"the store could not be built: {built.stderr}")


def verdict(seconds: float, target: float) -> str:
    return "PASS" if seconds <= target else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="alternate the two ways N times, best of N")
    parser.add_argument("--baseline", choices=("ref", "cold"), default="ref")
    parser.add_argument("--baseline-ref", default=PRESENT, help="git ref of the present way's code")
    parser.add_argument("--store", default=None, help="an internal store already built (default: build one)")
    opts = parser.parse_args()

    print(f"load average before: {load()}  ({os.cpu_count()} cores, period {PERIOD})")
    with tempfile.TemporaryDirectory() as work:
        work_path = Path(work)
        store = opts.store or str(work_path / "data" / "processed")
        if opts.store is None:
            build(store)
        new_src = ROOT / "src"
        if opts.baseline == "ref":
            (work_path / "present").mkdir()
            old_src = present_source(opts.baseline_ref, work_path / "present")
            old_env: dict[str, str] = {}
            old_name = f"present way ({opts.baseline_ref})"
        else:
            old_src, old_env, old_name = new_src, {"NEEDSKIT_FORK_KERNELS": "0"}, "cold kernels"
        common = ["--period", PERIOD, "--store", store, "--format", "html,pdf"]
        times: dict[str, dict[str, list[float]]] = {
            "new": {"one": [], "batch": []},
            "old": {"one": [], "batch": []},
        }
        sizes: list[int] = []
        for i in range(opts.repeat):
            for way, src, extra in (
                (("old", old_src, old_env), ("new", new_src, {}))
                if i % 2 == 0
                else (
                    ("new", new_src, {}),
                    ("old", old_src, old_env),
                )
            ):
                out = work_path / f"reports-{way}-{i}"
                times[way]["one"].append(
                    run(
                        ["needs-profile", "--area", DISTRICT, *common, "--out", str(out)],
                        src=src,
                        extra_env=extra,
                    )
                )
                out = work_path / f"batch-{way}-{i}"
                times[way]["batch"].append(
                    run(
                        ["needs-profile", "--area", COUNTY, *common, "--each-chapter", "--out", str(out)],
                        src=src,
                        extra_env=extra,
                    )
                )
                if way == "new":
                    sizes += [p.stat().st_size for p in out.rglob("*.html") if p.name != "index.html"]
                print(
                    f"  run {i + 1} {way}: one district {times[way]['one'][-1]:.1f} s, "
                    f"county + 6 districts {times[way]['batch'][-1]:.1f} s  (load {load()})",
                    flush=True,
                )
    one_new, one_old = min(times["new"]["one"]), min(times["old"]["one"])
    batch_new, batch_old = min(times["new"]["batch"]), min(times["old"]["batch"])
    best = f"best of {opts.repeat}" if opts.repeat > 1 else "one run"
    print(f"\n{'':38}{'needskit':>10}{old_name:>28}{'ratio':>8}   target")
    print(
        f"{'one district (execute + HTML + PDF)':38}{one_new:9.1f}s{one_old:27.1f}s{one_old / one_new:7.1f}x"
        f"   <= {TARGET_ONE:.0f} s {verdict(one_new, TARGET_ONE)}"
    )
    print(
        f"{'county + 6 districts, index':38}{batch_new:9.1f}s{batch_old:27.1f}s{batch_old / batch_new:7.1f}x"
        f"   <= {TARGET_BATCH:.0f} s {verdict(batch_new, TARGET_BATCH)}"
    )
    print(f"({best}; largest HTML {max(sizes) / 1e6:.2f} MB; load average after: {load()})")


if __name__ == "__main__":
    main()
