"""Every district of one region, one report each: the local process pool (the default engine)
against Dask distributed (a ``LocalCluster`` with the same number of single-threaded workers),
wall time and time per area, and whether the outputs are the same.

The region's workspace is made from the national data shipped with needskit (``needskit init
WS --area E12000009`` + ``needskit run``, as ``benchmarks/new_partnership.py`` does), unless
``--workspace`` names one already built. The areas are ``--each district`` within the region,
read from the store's hierarchy (27 districts and unitaries for the South West). Both engines run
the same report for the same areas and period into separate folders, in the same process, one
after the other (``--repeat`` alternates them); the Dask time includes starting the cluster.

    .venv/bin/python benchmarks/fanout.py                          # South West, needs profile, HTML + PDF
    .venv/bin/python benchmarks/fanout.py --format html --limit 8  # a quicker run
    .venv/bin/python benchmarks/fanout.py --workspace /tmp/sw --region E12000009

Skips with a message (exit 0) when the national backbone (``data/raw/national/``) is absent.
Exit 1 when the two engines' outputs differ beyond their timestamps or an area failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIONAL = ROOT / "data" / "raw" / "national" / "england_areas_2021.gpkg"
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")
ADDRESS = re.compile(r" at 0x[0-9a-f]+>")  # a Python object's repr in the executed notebook


def cli(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "needskit.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NEEDSKIT_HOME": str(ROOT)},
    )
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise SystemExit(f"`needskit {' '.join(args)}` failed (exit {done.returncode})")
    return time.perf_counter() - start


def normalised(path: Path) -> str:
    """An output's text without the run's timestamps (and papermill's timings, paths and the
    random id of the parameters cell it inserts)."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        nb.get("metadata", {}).pop("papermill", None)
        for cell in nb.get("cells", []):
            cell.get("metadata", {}).pop("papermill", None)
            cell.get("metadata", {}).pop("execution", None)
            if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                cell["id"] = "injected-parameters"  # papermill gives the cell it inserts a random id
        return ADDRESS.sub(" at <address>>", STAMP.sub("<time>", json.dumps(nb, sort_keys=True)))
    if path.suffix == ".pdf":
        from pypdf import PdfReader  # the PDF's text, page by page (its bytes carry creation dates)

        return STAMP.sub("<time>", "\f".join(p.extract_text() or "" for p in PdfReader(path).pages))
    return STAMP.sub("<time>", path.read_text(encoding="utf-8"))


def compare(a: Path, b: Path, areas: list[str], period: str, report: str) -> tuple[int, int, list[str]]:
    """(files with equal SHA-256, files equal once timestamps are removed, files that differ)."""
    same = equal_after = 0
    differ = []
    for code in areas:
        left = json.loads((a / code / period / "manifest.json").read_text())["reports"][report]
        right = json.loads((b / code / period / "manifest.json").read_text())["reports"][report]
        for fmt, name in left["files"].items():
            if left["sha256"][fmt] == right["sha256"][fmt]:
                same += 1
            elif normalised(a / code / period / name) == normalised(b / code / period / name):
                equal_after += 1
            else:
                differ.append(f"{code}/{name}")
    return same, equal_after, differ


def run(engine: str, ws: Path, out: Path, areas: list[str], within: str, args) -> dict:
    from needskit.reports.fanout import run_areas

    load = os.getloadavg()[0]
    start = time.perf_counter()
    batch = run_areas(
        args.report,
        areas=areas,
        within=within,
        engine=engine,
        jobs=args.jobs,
        formats=args.format,
        out=out,
        project=ws,
        progress=False,
        raise_errors=False,
    )
    wall = time.perf_counter() - start
    per = [r.seconds for r in batch.results]
    return {
        "engine": engine,
        "wall": wall,
        "per_area": statistics.mean(per) if per else float("nan"),
        "median": statistics.median(per) if per else float("nan"),
        "max": max(per, default=float("nan")),
        "errors": batch.errors,
        "load": (load + os.getloadavg()[0]) / 2,
        "period": batch.period,
        "report": batch.results[0].report if batch.results else args.report,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="E12000009", help="region code (default the South West)")
    parser.add_argument("--workspace", type=Path, default=None, help="a workspace already built")
    parser.add_argument("--report", default="needs-profile")
    parser.add_argument("--format", default="html,pdf")
    parser.add_argument("--each", default="district")
    parser.add_argument("--limit", type=int, default=None, help="only the first N areas")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="workers of each engine")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not NATIONAL.exists():
        print(f"SKIP: {NATIONAL.relative_to(ROOT)} is absent; run `needskit data build` first")
        return
    os.environ.setdefault("NEEDSKIT_HOME", str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        ws = args.workspace
        if ws is None or not (ws / "conf").exists():
            ws = ws or Path(tmp) / "ws"
            built = cli(["init", str(ws), "--area", args.region], Path(tmp))
            built += cli(["run"], ws)
            print(f"built the {args.region} workspace in {built:.0f} s")
        elif not (ws / "data" / "processed").exists():
            print(f"built the store in {cli(['run'], ws):.0f} s")
        from needskit.partner_data.store import Store
        from needskit.reports.fanout import areas_within

        store = Store(ws / "data" / "processed")
        areas = areas_within(args.each, args.region, store=store)
        lsoas = len(store.read_hierarchy())
        print(
            f"{len(areas)} {args.each} areas within {args.region} ({lsoas:,} LSOAs); "
            f"{args.report} as {args.format}; {args.jobs} workers per engine; "
            f"{os.cpu_count()} cores, 1-minute load average {os.getloadavg()[0]:.1f} at the start"
        )
        if args.limit:
            areas = areas[: args.limit]
            print(f"  timing the first {len(areas)}: {' '.join(areas)}")
        runs = []
        for i in range(args.repeat):
            for engine in ("local", "dask"):
                out = Path(tmp) / f"{engine}-{i}"
                runs.append((run(engine, ws, out, areas, args.region, args), out))
        print(f"{'engine':<8}{'wall':>9}{'per area':>10}{'median':>9}{'max':>8}{'load':>7}  failed")
        for row, _ in runs:
            print(
                f"{row['engine']:<8}{row['wall']:>8.1f}s{row['per_area']:>9.1f}s{row['median']:>8.1f}s"
                f"{row['max']:>7.1f}s{row['load']:>7.1f}  {len(row['errors'])}"
            )
            for code, error in list(row["errors"].items())[:3]:
                print(f"    {code}: {error[:300]}")
        best = {e: min(r["wall"] for r, _ in runs if r["engine"] == e) for e in ("local", "dask")}
        print(
            f"Dask LocalCluster / local pool wall time: {best['dask'] / best['local']:.2f}x "
            f"(best of {args.repeat}; {len(areas)} areas, {args.jobs} workers)"
        )
        (local, a), (dask, b) = runs[0], runs[1]
        ok = [c for c in areas if c not in local["errors"] and c not in dask["errors"]]
        same, equal_after, differ = compare(a, b, ok, local["period"], local["report"])
        print(
            f"outputs of {len(ok)} areas: {same} files byte-identical, {equal_after} identical apart "
            f"from timestamps, {len(differ)} different{': ' + ', '.join(differ[:5]) if differ else ''}"
        )
        if differ or local["errors"] or dask["errors"]:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
