"""Pool police.uk-like points onto the 35,672 England & Wales LSOAs: needskit against geopandas.sjoin.

What is timed, for each approach, from a points frame in memory to a table of counts per
``area_code`` x ``crime_type``:

* needskit: ``needskit.place.geography.assign_points(df, x="x", y="y", crs="EPSG:27700", areas=lsoas)``
  then a pandas groupby count;
* baseline: build the points GeoDataFrame (``geopandas.points_from_xy``), then
  ``geopandas.sjoin(points, lsoas, predicate="within")`` then the same groupby.

Each approach runs in its own child process, so that each has its own peak resident memory (read
from ``/proc/self/status`` VmHWM, reset after the inputs are loaded, so the peak is that of the
approach with its inputs in memory; the child's whole-life peak from ``os.wait4`` is shown too).

The synthetic points mimic police.uk street-level crime: crimes are snapped to a limited set of
anonymised map points (on average ``--crimes-per-location`` crimes per point, with a skewed,
lognormal number of crimes per point), the points lie inside LSOA polygons, and each crime has
one of the 14 police.uk crime types. A small share of the map points (``--boundary-share``) are
put exactly on polygon vertices, where LSOAs meet or on the coast.

Why the counts can differ, and how they are compared: sjoin's ``within`` puts a point in every
polygon whose interior holds it, so a point on an edge or vertex shared by two LSOAs goes in
none, and a point where polygons overlap in all of them; needskit puts every point that touches
a polygon in exactly one (the lowest area code among those it touches) and a point just outside
every polygon in the nearest one within 100 m. So the check is made on the rows strictly inside
one polygon (touching exactly one, and within it): on those rows both must give the same area,
and the two count tables, less the contribution of every other row, must be identical. The
other rows are counted by kind, and needskit's lowest-code rule is checked on them.

Usage::

    python benchmarks/pool_points.py                    # 6,000,000 points
    python benchmarks/pool_points.py --points 500000 --repeat 3 --seed 7

Skips with a message (exit code 0) when ``../shared/data/raw/boundaries/`` is absent. Exit code 1
if the counts differ; missing the speed or memory target is reported (PASS/MISS), not an error.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from needskit._checks import BNG
from needskit.place import assign_points

BOUNDARIES = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "raw"
    / "boundaries"
    / "lsoa21_dec2021_ew_bsc_v4.gpkg"
)
"""ONS LSOA (Dec 2021) EW BSC V4, as kept in the project's shared raw-data folder."""

TARGET_SPEEDUP = 4.0
TARGET_PEAK_GB = 3.0

CRIME_TYPES: dict[str, float] = {
    # Shares of the 14 police.uk crime types in the shipped Gloucestershire rows (Jan-Apr 2024),
    # rounded; they only shape the synthetic data.
    "Violence and sexual offences": 0.378,
    "Anti-social behaviour": 0.177,
    "Public order": 0.080,
    "Shoplifting": 0.073,
    "Other theft": 0.069,
    "Criminal damage and arson": 0.066,
    "Burglary": 0.043,
    "Vehicle crime": 0.042,
    "Other crime": 0.025,
    "Drugs": 0.018,
    "Bicycle theft": 0.010,
    "Robbery": 0.007,
    "Possession of weapons": 0.006,
    "Theft from the person": 0.005,
}
KEYS = ["area_code", "crime_type"]


# --------------------------------------------------------------------------------------------
# Inputs


def load_lsoas(path: Path = BOUNDARIES) -> gpd.GeoDataFrame:
    """The national LSOA 2021 polygons with ``area_code``, ``area_name``, in EPSG:27700."""
    raw = pyogrio.read_dataframe(path, layer="lsoa21")
    areas = gpd.GeoDataFrame(
        {"area_code": raw["lsoa21_code"].to_numpy(), "area_name": raw["lsoa21_name"].to_numpy()},
        geometry=raw.geometry.values,
        crs=raw.crs,
    )
    return areas.to_crs(BNG)


def _points_inside(geoms: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One uniform random point inside each polygon (rejection sampling in its bounding box)."""
    bounds = shapely.bounds(geoms)
    xs = np.full(len(geoms), np.nan)
    ys = np.full(len(geoms), np.nan)
    todo = np.arange(len(geoms))
    while len(todo):
        b = bounds[todo]
        cx = rng.uniform(b[:, 0], b[:, 2])
        cy = rng.uniform(b[:, 1], b[:, 3])
        ok = shapely.contains_xy(geoms[todo], cx, cy)
        xs[todo[ok]], ys[todo[ok]] = cx[ok], cy[ok]
        todo = todo[~ok]
    return xs, ys


def synthetic_crimes(
    areas: gpd.GeoDataFrame,
    *,
    n: int,
    seed: int = 2024,
    crimes_per_location: float = 60.0,
    boundary_share: float = 0.001,
    skew: float = 1.5,
) -> pd.DataFrame:
    """police.uk-like crimes: ``x``, ``y`` (EPSG:27700, snapped map points) and ``crime_type``.

    ``n / crimes_per_location`` map points are drawn uniformly inside randomly chosen areas
    (``boundary_share`` of them exactly on a vertex of an area's outline instead); each crime goes
    to a map point with lognormal(0, ``skew``) weights, so a few points hold many crimes; crime
    types follow :data:`CRIME_TYPES`. Rows are in random order, as in a police.uk file.
    """
    rng = np.random.default_rng(seed)
    geoms = areas.geometry.values
    n_locations = max(1, round(n / crimes_per_location))
    area_of = rng.integers(0, len(geoms), n_locations)
    lx, ly = _points_inside(geoms[area_of], rng)
    on_edge = np.flatnonzero(rng.random(n_locations) < boundary_share)
    if len(on_edge):
        rings = shapely.get_exterior_ring(shapely.get_geometry(geoms[area_of[on_edge]], 0))
        vertices = shapely.get_num_points(rings) - 1  # the closing vertex repeats the first
        which = (rng.random(len(on_edge)) * vertices).astype(int)
        corner = shapely.get_point(rings, which)
        lx[on_edge], ly[on_edge] = shapely.get_x(corner), shapely.get_y(corner)
    weights = rng.lognormal(0.0, skew, n_locations)
    location = rng.choice(n_locations, size=n, p=weights / weights.sum())
    names = np.array(list(CRIME_TYPES), dtype=object)
    shares = np.array(list(CRIME_TYPES.values()))
    crime = rng.choice(len(names), size=n, p=shares / shares.sum())
    return pd.DataFrame(
        {
            "x": lx[location],
            "y": ly[location],
            "crime_type": pd.array(names[crime], dtype="str"),
        }
    )


# --------------------------------------------------------------------------------------------
# The two approaches (what is timed)


def _count(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby(KEYS, sort=True).size()


def pool_needskit(points: pd.DataFrame, areas: gpd.GeoDataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """needskit: counts per area x crime type, and the located frame."""
    located = assign_points(points, x="x", y="y", crs="EPSG:27700", areas=areas)
    return _count(located), located


def pool_sjoin(points: pd.DataFrame, areas: gpd.GeoDataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """The obvious geopandas way: counts per area x crime type, and the joined frame."""
    gdf = gpd.GeoDataFrame(points, geometry=gpd.points_from_xy(points["x"], points["y"]), crs=BNG)
    joined = gpd.sjoin(gdf, areas[["area_code", "geometry"]], predicate="within")
    return _count(joined), joined


# --------------------------------------------------------------------------------------------
# Reconciliation


def needskit_rows(located: pd.DataFrame, area_codes: np.ndarray) -> dict[str, np.ndarray]:
    """Per input row: index of the assigned area in ``area_codes`` (-1 none) and the match kind
    (0 unmatched, 1 within, 2 nearest)."""
    code = pd.Index(area_codes).get_indexer(located["area_code"].to_numpy(dtype=object, na_value=None))
    kind = pd.Categorical(located["match"], categories=["unmatched", "within", "nearest"]).codes
    return {"code": code.astype(np.int32), "kind": kind.astype(np.int8)}


def sjoin_rows(joined: pd.DataFrame, n: int, area_codes: np.ndarray) -> dict[str, object]:
    """Per input row: how many polygons sjoin put it in and the area when exactly one; and the
    count table of the rows it put in several (the points frame has a RangeIndex)."""
    row = joined.index.to_numpy()
    hits = np.bincount(row, minlength=n).astype(np.int32)
    code = np.full(n, -1, dtype=np.int32)
    single = hits[row] == 1
    code[row[single]] = pd.Index(area_codes).get_indexer(joined["area_code"].to_numpy()[single])
    return {"hits": hits, "code": code, "multi_table": _count(joined[~single])}


def reference_rows(points: pd.DataFrame, areas: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """Per input row, by plain shapely: how many polygons the point touches (interior or edge),
    and the index of the lowest area code among them (-1 none), codes sorted."""
    xy = points[["x", "y"]].to_numpy()
    uniques, inverse = np.unique(xy, axis=0, return_inverse=True)
    geoms = areas.sort_values("area_code").geometry.values
    hit_point, hit_area = shapely.STRtree(geoms).query(
        shapely.points(uniques[:, 0], uniques[:, 1]), predicate="intersects"
    )
    touch = np.bincount(hit_point, minlength=len(uniques)).astype(np.int32)
    lowest = np.full(len(uniques), len(geoms), dtype=np.int64)
    np.minimum.at(lowest, hit_point, hit_area)
    lowest[touch == 0] = -1
    inverse = inverse.ravel()
    return {"touch": touch[inverse], "lowest": lowest[inverse].astype(np.int32)}


@dataclass
class Comparison:
    """How the two outputs relate, row by row; ``identical`` and ``rule_violations`` decide."""

    identical: bool
    rule_violations: int
    tables_equal: bool
    strict_rows: int
    row_disagreements: int
    shared_edge_rows: int
    edge_in_neighbour_rows: int
    overlap_rows: int
    outer_edge_rows: int
    nearest_rows: int
    outside_rows: int

    def describe(self) -> str:
        rows = [
            (
                "strictly inside one polygon and touching no other",
                self.strict_rows,
                f"same area from both except for {self.row_disagreements:,} rows",
            ),
            ("on an edge or vertex shared by polygons", self.shared_edge_rows, "once, lowest code | none"),
            (
                "on one polygon's edge, inside its neighbour",
                self.edge_in_neighbour_rows,
                "once, lowest code | the neighbour",
            ),
            ("inside overlapping polygons", self.overlap_rows, "once, lowest code | each of them"),
            (
                "on one polygon's edge only (coast, or a hairline gap)",
                self.outer_edge_rows,
                "that polygon | none",
            ),
            ("outside every polygon, within 100 m", self.nearest_rows, "nearest polygon | none"),
            ("outside every polygon, further away", self.outside_rows, "none | none"),
        ]
        lines = ["rows by where the point lies (needskit | sjoin within):"]
        lines += [f"  {label}: {count:,} ({rule})" for label, count, rule in rows]
        lines.append(
            f"needskit rows not in the lowest code they touch: {self.rule_violations:,}; "
            "whole count tables equal: " + ("yes" if self.tables_equal else "no (for the rows above)")
        )
        return "\n".join(lines)


def compare(
    needskit_table: pd.Series,
    sjoin_table: pd.Series,
    *,
    nk: dict[str, np.ndarray],
    sj: dict[str, object],
    ref: dict[str, np.ndarray],
    crime_type: np.ndarray,
    area_codes: np.ndarray,
) -> Comparison:
    """Check the two outputs agree on every point strictly inside one polygon.

    Such a point touches (by ``intersects``) exactly one polygon and sjoin finds it within that
    one. Every such row must get the same area from both, and both count tables, less the
    contributions of all other rows, must be identical. Every other row is classified by where
    it lies, and needskit's rule for it (the lowest code among the polygons it touches) checked.
    """
    hits, sj_code, code, kind = sj["hits"], sj["code"], nk["code"], nk["kind"]
    touch, lowest = ref["touch"], ref["lowest"]
    strict = (touch == 1) & (hits == 1)
    disagree = int((code[strict] != sj_code[strict]).sum())
    nk_other = ~strict & (code >= 0)
    sj_other = ~strict & (hits == 1)

    def table(rows: np.ndarray, codes: np.ndarray) -> pd.Series:
        return _count(pd.DataFrame({"area_code": area_codes[codes[rows]], "crime_type": crime_type[rows]}))

    nk_strict = needskit_table.sub(table(nk_other, code), fill_value=0)
    sj_strict = sjoin_table.sub(table(sj_other, sj_code), fill_value=0).sub(sj["multi_table"], fill_value=0)
    nk_strict = nk_strict[nk_strict != 0].astype(np.int64).sort_index()
    sj_strict = sj_strict[sj_strict != 0].astype(np.int64).sort_index()
    same = nk_strict.equals(sj_strict)
    whole = needskit_table.sort_index().astype(np.int64).equals(sjoin_table.sort_index().astype(np.int64))
    violations = int(((touch >= 1) & (code != lowest)).sum() + ((touch == 0) & (kind == 1)).sum())
    return Comparison(
        identical=bool(same and disagree == 0),
        rule_violations=violations,
        tables_equal=bool(whole),
        strict_rows=int(strict.sum()),
        row_disagreements=disagree,
        shared_edge_rows=int(((touch >= 2) & (hits == 0)).sum()),
        edge_in_neighbour_rows=int(((touch >= 2) & (hits == 1)).sum()),
        overlap_rows=int((hits >= 2).sum()),
        outer_edge_rows=int(((touch == 1) & (hits == 0)).sum()),
        nearest_rows=int(((touch == 0) & (kind == 2)).sum()),
        outside_rows=int(((touch == 0) & (kind != 2)).sum()),
    )


def pool_both(points: pd.DataFrame, areas: gpd.GeoDataFrame) -> Comparison:
    """Both approaches in this process, untimed, and their comparison (the benchmark's core)."""
    codes = np.sort(areas["area_code"].to_numpy(dtype=object))
    nk_table, located = pool_needskit(points, areas)
    sj_table, joined = pool_sjoin(points, areas)
    return compare(
        nk_table,
        sj_table,
        nk=needskit_rows(located, codes),
        sj=sjoin_rows(joined, len(points), codes),
        ref=reference_rows(points, areas),
        crime_type=points["crime_type"].to_numpy(dtype=object),
        area_codes=codes,
    )


# --------------------------------------------------------------------------------------------
# Child processes


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _child(approach: str, workdir: Path) -> None:
    """One timed run of one approach, in a fresh process: timings, memory, outputs to files."""
    areas = pd.read_pickle(workdir / "areas.pkl")
    points = pd.read_parquet(workdir / "points.parquet")
    run = pool_needskit if approach == "needskit" else pool_sjoin
    gc.collect()
    inputs_kb = _status_kb("VmRSS")
    reset = _reset_peak()
    cpu, wall = time.process_time(), time.perf_counter()
    table, frame = run(points, areas)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_kb = _status_kb("VmHWM")
    codes = np.sort(areas["area_code"].to_numpy(dtype=object))
    rows = needskit_rows(frame, codes) if approach == "needskit" else sjoin_rows(frame, len(points), codes)
    with open(workdir / f"{approach}.pkl", "wb") as handle:
        pickle.dump({"table": table, "rows": rows}, handle, protocol=pickle.HIGHEST_PROTOCOL)
    measured = {"time": wall, "cpu": cpu, "inputs_kb": inputs_kb, "peak_kb": peak_kb, "peak_reset": reset}
    (workdir / f"{approach}.json").write_text(json.dumps(measured))


def _run_child(approach: str, workdir: Path) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", approach, "--workdir", str(workdir)]
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"the {approach} run failed (exit code {process.returncode})")
    measured = json.loads((workdir / f"{approach}.json").read_text())
    measured["process_peak_kb"] = usage.ru_maxrss  # kilobytes on Linux
    with open(workdir / f"{approach}.pkl", "rb") as handle:
        measured.update(pickle.load(handle))
    return measured


def _measure(workdir: Path, repeat: int) -> dict[str, dict]:
    """Alternate the two approaches ``repeat`` times (so a busy spell hits both), one process
    per run; keep every time, the largest peaks and the outputs of the last run."""
    results: dict[str, dict] = {}
    for _ in range(repeat):
        for approach in ("needskit", "sjoin"):
            run = _run_child(approach, workdir)
            kept = results.setdefault(approach, {"times": [], "cpus": []})
            kept["times"].append(run.pop("time"))
            kept["cpus"].append(run.pop("cpu"))
            for key in ("inputs_kb", "peak_kb", "process_peak_kb"):
                run[key] = max(run[key] or 0, kept.get(key) or 0) or None
            run["peak_reset"] = run["peak_reset"] and kept.get("peak_reset", True)
            kept.update(run)
    return results


# --------------------------------------------------------------------------------------------
# Main


def _gb(kb: float | None) -> float:
    return float("nan") if kb is None else kb * 1024 / 1e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=6_000_000, help="number of crimes (default 6,000,000)")
    parser.add_argument("--seed", type=int, default=2024, help="random seed of the synthetic data")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="timed runs per approach, alternating, each in a fresh process; the fastest is reported",
    )
    parser.add_argument("--crimes-per-location", type=float, default=60.0, help="mean crimes per map point")
    parser.add_argument("--boundary-share", type=float, default=0.001, help="share of map points on a vertex")
    parser.add_argument("--boundaries", type=Path, default=BOUNDARIES, help="LSOA 2021 EW BSC GeoPackage")
    parser.add_argument("--child", choices=["needskit", "sjoin"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.points < 1 or args.repeat < 1:
        parser.error("--points and --repeat must be at least 1")
    if args.child:
        _child(args.child, args.workdir)
        return 0
    if not args.boundaries.exists():
        print(
            f"SKIP: {args.boundaries} is not here (the project's shared raw-data folder is needed "
            "for the national LSOA boundaries); nothing measured."
        )
        return 0

    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores; geopandas {gpd.__version__}, "
        f"shapely {shapely.__version__}, pandas {pd.__version__}"
    )
    start = time.perf_counter()
    areas = load_lsoas(args.boundaries)
    points = synthetic_crimes(
        areas,
        n=args.points,
        seed=args.seed,
        crimes_per_location=args.crimes_per_location,
        boundary_share=args.boundary_share,
    )
    distinct = len(points.drop_duplicates(["x", "y"]))
    print(
        f"{len(points):,} crimes at {distinct:,} distinct map points, {points['crime_type'].nunique()} crime "
        f"types, onto {len(areas):,} LSOAs (set-up, not timed: {time.perf_counter() - start:.1f} s)"
    )
    with tempfile.TemporaryDirectory(prefix="needskit-bench-") as tmp:
        workdir = Path(tmp)
        areas.to_pickle(workdir / "areas.pkl")
        points.to_parquet(workdir / "points.parquet")
        load = os.getloadavg()[0]
        results = _measure(workdir, args.repeat)
    for approach, measured in results.items():
        times = ", ".join(f"{t:.2f}" for t in measured["times"])
        print(
            f"{approach:>8}: {min(measured['times']):.2f} s "
            f"(runs: {times}; CPU {min(measured['cpus']):.2f} s); "
            f"peak RSS {_gb(measured['peak_kb']):.2f} GB (inputs {_gb(measured['inputs_kb']):.2f} GB, "
            f"whole process {_gb(measured['process_peak_kb']):.2f} GB)"
        )
    print(f"load average (1 min) before / after the runs: {load:.2f} / {os.getloadavg()[0]:.2f}")
    nk, sj = results["needskit"], results["sjoin"]
    verdict = compare(
        nk["table"],
        sj["table"],
        nk=nk["rows"],
        sj=sj["rows"],
        ref=reference_rows(points, areas),
        crime_type=points["crime_type"].to_numpy(dtype=object),
        area_codes=np.sort(areas["area_code"].to_numpy(dtype=object)),
    )
    print(verdict.describe())
    t_nk, t_sj = min(nk["times"]), min(sj["times"])
    ratio = t_sj / t_nk
    peak_key = "peak_kb" if nk["peak_reset"] and sj["peak_reset"] else "process_peak_kb"
    peak_nk, peak_sj = _gb(nk[peak_key]), _gb(sj[peak_key])
    speed = "PASS" if ratio >= TARGET_SPEEDUP else "MISS"
    memory = "PASS" if peak_nk <= TARGET_PEAK_GB else "MISS"
    print(f"targets: >= {TARGET_SPEEDUP:g}x faster {speed}; peak RSS <= {TARGET_PEAK_GB:g} GB {memory}")
    print(
        f"needskit {t_nk:.1f} s vs sjoin {t_sj:.1f} s: {ratio:.1f}x faster; "
        f"peak RSS {peak_nk:.2f} GB vs {peak_sj:.2f} GB; "
        f"counts identical: {'yes' if verdict.identical else 'NO'} "
        f"(on the {verdict.strict_rows:,} rows strictly inside one polygon)"
    )
    return 0 if verdict.identical and verdict.rule_violations == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
