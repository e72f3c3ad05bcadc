"""benchmarks/pool_points.py: its core on 2,000 points over the shipped Gloucestershire LSOAs.

No timing is asserted here: the benchmark measures speed, these tests check that what it
compares is right and that its agreement check can fail.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from needskit.place import load_areas

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "pool_points.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("needskit_bench_pool_points", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def lsoas(shipped_geography):
    return load_areas("lsoa", geography=shipped_geography)


@pytest.fixture(scope="module")
def run(bench, lsoas):
    """Both approaches on 2,000 crimes, a fifth of whose map points sit on an LSOA vertex."""
    points = bench.synthetic_crimes(lsoas, n=2_000, seed=11, crimes_per_location=10, boundary_share=0.2)
    codes = np.sort(lsoas["area_code"].to_numpy(dtype=object))
    nk_table, located = bench.pool_needskit(points, lsoas)
    sj_table, joined = bench.pool_sjoin(points, lsoas)
    return {
        "points": points,
        "codes": codes,
        "nk_table": nk_table,
        "sj_table": sj_table,
        "nk": bench.needskit_rows(located, codes),
        "sj": bench.sjoin_rows(joined, len(points), codes),
        "ref": bench.reference_rows(points, lsoas),
    }


def _compare(bench, run, nk_table=None, nk=None):
    return bench.compare(
        run["nk_table"] if nk_table is None else nk_table,
        run["sj_table"],
        nk=run["nk"] if nk is None else nk,
        sj=run["sj"],
        ref=run["ref"],
        crime_type=run["points"]["crime_type"].to_numpy(dtype=object),
        area_codes=run["codes"],
    )


def test_synthetic_crimes_are_police_uk_like(bench, lsoas):
    points = bench.synthetic_crimes(lsoas, n=3_000, seed=3)
    assert len(points) == 3_000
    assert list(points.columns) == ["x", "y", "crime_type"]
    assert set(points["crime_type"]) <= set(bench.CRIME_TYPES)
    assert points["crime_type"].nunique() >= 10
    distinct = len(points.drop_duplicates(["x", "y"]))
    assert 10 <= distinct <= 50  # about one map point per 60 crimes
    per_point = points.groupby(["x", "y"]).size()
    assert per_point.max() > 3 * per_point.median()  # skewed: a few points hold many crimes
    assert shapely.intersects_xy(lsoas.union_all(), points["x"], points["y"]).all()
    again = bench.synthetic_crimes(lsoas, n=3_000, seed=3)
    pd.testing.assert_frame_equal(points, again)  # the seed fixes the data


def test_core_counts_agree_on_points_strictly_inside_one_lsoa(bench, lsoas):
    points = bench.synthetic_crimes(lsoas, n=2_000, seed=5)
    verdict = bench.pool_both(points, lsoas)
    assert verdict.identical
    assert verdict.rule_violations == 0
    assert verdict.strict_rows > 1_900  # boundary_share=0.001: nearly every row is strictly inside


def test_every_row_is_classified_once(bench, run):
    verdict = _compare(bench, run)
    assert verdict.identical
    assert verdict.row_disagreements == 0
    kinds = (
        verdict.strict_rows,
        verdict.shared_edge_rows,
        verdict.edge_in_neighbour_rows,
        verdict.overlap_rows,
        verdict.outer_edge_rows,
        verdict.nearest_rows,
        verdict.outside_rows,
    )
    assert sum(kinds) == 2_000
    # the vertices placed on purpose; the shipped LSOAs' neighbours do not share vertices exactly,
    # so a vertex lies on one LSOA's edge alone or a hair inside its neighbour
    assert verdict.edge_in_neighbour_rows + verdict.outer_edge_rows + verdict.shared_edge_rows >= 300
    assert verdict.nearest_rows == 0 and verdict.outside_rows == 0  # every map point is in an LSOA


def test_needskit_counts_boundary_rows_once_in_the_lowest_code(bench, run):
    verdict = _compare(bench, run)
    assert verdict.rule_violations == 0
    assert run["nk_table"].sum() == 2_000  # every row exactly once
    touching = run["ref"]["touch"] >= 2
    assert touching.sum() > 0
    assert (run["nk"]["code"][touching] == run["ref"]["lowest"][touching]).all()
    # sjoin "within" drops a point on a shared edge and doubles one inside overlapping polygons
    assert run["sj_table"].sum() == run["sj"]["hits"].sum()
    assert not verdict.tables_equal


def test_reference_counts_the_polygons_a_point_touches(run, lsoas):
    points = run["points"]
    geoms = lsoas.sort_values("area_code").geometry.to_numpy()
    for row in np.flatnonzero(run["ref"]["touch"] >= 2)[:10]:
        touching = np.flatnonzero(shapely.intersects_xy(geoms, points["x"][row], points["y"][row]))
        assert len(touching) == run["ref"]["touch"][row]
        assert touching.min() == run["ref"]["lowest"][row]


def test_a_changed_count_is_caught(bench, run):
    tampered = run["nk_table"].copy()
    tampered.iloc[0] += 1
    assert not _compare(bench, run, nk_table=tampered).identical


def test_a_row_put_in_another_area_is_caught(bench, run):
    nk = {key: value.copy() for key, value in run["nk"].items()}
    strict = np.flatnonzero((run["sj"]["hits"] == 1) & (run["ref"]["touch"] == 1))
    nk["code"][strict[0]] = (nk["code"][strict[0]] + 1) % len(run["codes"])
    verdict = _compare(bench, run, nk=nk)
    assert verdict.row_disagreements == 1
    assert verdict.rule_violations == 1
    assert not verdict.identical


def test_skips_cleanly_without_the_national_boundaries(bench, tmp_path, capsys):
    assert bench.main(["--boundaries", str(tmp_path / "absent.gpkg")]) == 0
    assert "SKIP" in capsys.readouterr().out


def test_rejects_a_non_positive_point_count(bench, capsys):
    with pytest.raises(SystemExit, match="2"):
        bench.main(["--points", "0"])
    assert "--points and --repeat must be at least 1" in capsys.readouterr().err
