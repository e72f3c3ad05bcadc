"""Time a new partnership from nothing to its first needs profile: ``needskit init`` + ``needskit run``
+ ``needskit report needs-profile`` (HTML and PDF), from the national data shipped with needskit.

The partnership timed is the four unitaries of the Avon and Somerset police force area north of
the Mendips (Bath and North East Somerset E06000022, Bristol E06000023, North Somerset E06000024,
South Gloucestershire E06000025), as issue 10 asks: several codes make one area, chapters are the
four unitaries, comparators the South West and England. Each step is a fresh process, as an
analyst or cron runs it (Python start and imports included).

The baseline, timed in the same run the same way, is the simplest partnership the same commands
can make: one county with districts (Gloucestershire, E10000013, from the same national data, not
the shipped example's detailed boundaries). The ratio per LSOA says what the multi-code area costs
over one code; the LSOA counts of both are printed (read from the national lookups).

    .venv/bin/python benchmarks/new_partnership.py [--repeat 1]

Skips with a message (exit 0) when the national backbone (``data/raw/national/``) is absent: run
``needskit data build`` first.
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
NATIONAL = ROOT / "data" / "raw" / "national" / "england_areas_2021.gpkg"
AVON = ["E06000022", "E06000023", "E06000024", "E06000025"]
BASELINE = ["E10000013"]


def cli(args: list[str], cwd: Path) -> float:
    """Seconds one ``needskit`` command takes in a fresh process; stops the benchmark if it fails."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "needskit.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NEEDSKIT_HOME": str(ROOT)},
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise SystemExit(f"`needskit {' '.join(args)}` failed (exit {done.returncode})")
    return seconds


def partnership(codes: list[str], where: Path) -> dict[str, float]:
    """init + run + one report for ``codes`` in a new workspace under ``where``."""
    ws = where / "ws"
    times = {"init": cli(["init", str(ws), *[a for code in codes for a in ("--area", code)]], where)}
    times["run"] = cli(["run"], ws)
    times["report"] = cli(["report", "needs-profile", "--format", "html,pdf"], ws)
    pdfs = list((ws / "reports").rglob("*.pdf"))
    if not pdfs:
        raise SystemExit(f"no PDF was written under {ws / 'reports'}")
    times["total"] = sum(times.values())
    return times


def lsoa_count(codes: list[str]) -> int:
    from needskit.workspace import check_area_codes

    return sum(len(area.lsoas) for area in check_area_codes(codes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="alternate the two partnerships N times")
    args = parser.parse_args()
    if not NATIONAL.exists():
        print(f"SKIP: {NATIONAL.relative_to(ROOT)} is absent; run `needskit data build` first")
        return
    shapes = {"4 unitaries (Avon)": AVON, "1 county (Gloucestershire)": BASELINE}
    sizes = {name: lsoa_count(codes) for name, codes in shapes.items()}
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, 1-minute load average {load:.1f} at the start")
    for name, codes in shapes.items():
        print(f"  {name}: {' '.join(codes)}, {sizes[name]:,} LSOAs 2021")
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in shapes}
    for _ in range(args.repeat):
        for name, codes in shapes.items():
            with tempfile.TemporaryDirectory() as tmp:
                runs[name].append(partnership(codes, Path(tmp)))
    print(f"{'partnership':<28}{'init':>8}{'run':>8}{'report':>8}{'total':>8}{'ms/LSOA':>9}")
    best = {}
    for name, timed in runs.items():
        row = {step: min(t[step] for t in timed) for step in timed[0]}
        best[name] = row
        print(
            f"{name:<28}{row['init']:>7.1f}s{row['run']:>7.1f}s{row['report']:>7.1f}s{row['total']:>7.1f}s"
            f"{1000 * row['total'] / sizes[name]:>9.0f}"
        )
    new, base = best["4 unitaries (Avon)"], best["1 county (Gloucestershire)"]
    per_new = new["total"] / sizes["4 unitaries (Avon)"]
    per_base = base["total"] / sizes["1 county (Gloucestershire)"]
    print(
        f"4 unitaries take {new['total'] / base['total']:.2f}x the one-code baseline in all, "
        f"{per_new / per_base:.2f}x per LSOA (best of {args.repeat})"
    )


if __name__ == "__main__":
    main()
