"""needskit.commissioning.allocation: a budget shared by need (floors, caps, whole units, scenarios)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commissioning.cases import places
from needskit import commissioning as com
from needskit.errors import SchemaError


def _reference_exact(weights, floors, caps, budget):
    """Σ clip(λ w, f, c) = budget solved by plain bisection on λ (a place without need stays at its floor)."""
    weights, floors, caps = (np.asarray(a, dtype=float) for a in (weights, floors, caps))

    def total(lam):
        return np.where(weights > 0, np.clip(lam * weights, floors, caps), floors).sum()

    lo, hi = 0.0, 1.0
    while total(hi) < budget:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) < budget else (lo, mid)
    lam = (lo + hi) / 2
    return np.where(weights > 0, np.clip(lam * weights, floors, caps), floors)


def test_proportional_when_no_floor_or_cap_binds():
    out = com.allocate(places([30.0, 10.0, 10.0, 50.0]), budget=50_000, need="need")
    assert out["allocation"].tolist() == [15_000, 5_000, 5_000, 25_000]
    assert out["share"].tolist() == pytest.approx([0.3, 0.1, 0.1, 0.5])
    assert out["proportional"].tolist() == pytest.approx([15_000, 5_000, 5_000, 25_000])
    assert not out["at_floor"].any() and not out["at_cap"].any()
    assert out["allocation"].dtype == np.int64
    assert list(out.columns[:2]) == ["area_code", "need"]


def test_input_is_not_modified_and_rows_keep_input_order():
    df = places([3.0, 1.0, 2.0])
    before = df.copy()
    out = com.allocate(df, budget=600, need="need")
    pd.testing.assert_frame_equal(df, before)
    assert out["area_code"].tolist() == ["P00", "P01", "P02"]
    assert out["allocation"].tolist() == [300, 100, 200]


def test_need_times_population():
    need = pd.Series({"A": 0.2, "B": 0.1}, name="rate").rename_axis("lsoa")
    population = pd.Series({"B": 3000, "A": 1000})  # order does not matter: aligned on place
    out = com.allocate(need, budget=10_000, population=population)
    # weights 200 and 300
    assert out["lsoa"].tolist() == ["A", "B"]
    assert out["weight"].tolist() == pytest.approx([200, 300])
    assert out["allocation"].tolist() == [4_000, 6_000]
    assert out["population"].tolist() == [1000, 3000]


def test_floor_raises_small_places_and_the_rest_is_shared_by_need():
    # £50,000 pot, every place gets at least £5,000
    out = com.allocate(places([60.0, 30.0, 6.0, 4.0]), budget=50_000, need="need", floor=5_000)
    # proportional: 30,000 15,000 3,000 2,000 -> the two small ones are raised to 5,000;
    # the remaining 40,000 is shared 60:30 between the others
    assert out["allocation"].tolist() == [26_667, 13_333, 5_000, 5_000]
    assert out["at_floor"].tolist() == [False, False, True, True]
    assert out["exact"].tolist() == pytest.approx([80_000 / 3, 40_000 / 3, 5_000, 5_000])


def test_cap_holds_a_large_place_down_and_redistributes():
    out = com.allocate(places([70.0, 20.0, 10.0]), budget=1_000, need="need", cap=500)
    # 700 is cut to 500; the other 500 shared 20:10
    assert out["allocation"].tolist() == [500, 333, 167]
    assert out["at_cap"].tolist() == [True, False, False]
    assert out["cap"].tolist() == [500.0] * 3


def test_redistribution_cascades_through_floors_and_caps():
    # capping A pushes B over its cap too; floors raise D and E
    need = pd.Series({"A": 100.0, "B": 40.0, "C": 30.0, "D": 1.0, "E": 0.0})
    caps = pd.Series({"A": 300.0, "B": 250.0, "C": np.nan, "D": np.nan, "E": np.nan})
    out = com.allocate(need, budget=1_000, floor=50, cap=caps)
    assert out["allocation"].tolist() == [300, 250, 350, 50, 50]
    assert out["at_cap"].tolist() == [True, True, False, False, False]
    assert out["at_floor"].tolist() == [False, False, False, True, True]
    reference = _reference_exact(need.to_numpy(), [50] * 5, caps.fillna(np.inf).to_numpy(), 1_000)
    np.testing.assert_allclose(out["exact"], reference, rtol=1e-9)


@pytest.mark.parametrize("unit", [1, 100])
def test_parts_sum_exactly_to_the_budget_in_many_random_cases(unit):
    rng = np.random.default_rng(12345 + unit)
    binding = {"at_floor": 0, "at_cap": 0}
    for case in range(200):
        n = int(rng.integers(1, 40))
        need = rng.gamma(1.0, 10.0, n) * (rng.random(n) > 0.15)  # some places with no need
        if not need.any():
            need[0] = 1.0
        budget = int(rng.integers(0, 2_000)) * unit
        floors = np.zeros(n)
        caps = np.full(n, np.inf)
        if case % 3 and budget:
            floors = rng.integers(0, budget // unit // (2 * n) + 1, n).astype(float) * unit  # Σ ≤ budget / 2
        if case % 4 == 0:
            caps = np.maximum(floors, rng.integers(1, max(2, 3 * budget // unit // n + 2), n) * unit).astype(
                float
            )
            if np.where(need > 0, caps, floors).sum() < budget:
                caps = np.full(n, np.inf)
        df = places(need, floor=floors, cap=np.where(np.isinf(caps), np.nan, caps))
        out = com.allocate(df, budget=budget, need="need", floor="floor", cap="cap", unit=unit)
        allocation = out["allocation"].to_numpy()
        assert allocation.sum() == budget
        assert (allocation % unit == 0).all()
        assert (allocation >= floors).all() and (allocation <= caps).all()
        assert (np.abs(allocation - out["exact"].to_numpy()) < unit).all()
        np.testing.assert_allclose(
            out["exact"], _reference_exact(need, floors, caps, budget), rtol=1e-7, atol=1e-6
        )
        binding = {k: v + int(out[k].any()) for k, v in binding.items()}
    assert binding["at_floor"] > 30 and binding["at_cap"] > 10  # the cases exercised floors and caps


def test_largest_remainder_gives_leftover_units_to_largest_remainders():
    out = com.allocate(places([1.0, 1.0, 1.0, 3.0]), budget=100, need="need")
    # exact 16.67, 16.67, 16.67, 50: 1 unit left after flooring 16+16+16+50 = 98 -> 2 units
    assert out["allocation"].sum() == 100
    assert out["allocation"].tolist() == [17, 17, 16, 50]


def test_tie_break_is_by_weight_then_place_label_whatever_the_input_order():
    # three equal places, £100: the spare pound goes to the place whose label sorts first
    need = pd.Series({"Charlie": 1.0, "Alpha": 1.0, "Bravo": 1.0})
    out = com.allocate(need, budget=100).set_index("place")["allocation"]
    assert out.to_dict() == {"Charlie": 33, "Alpha": 34, "Bravo": 33}
    shuffled = com.allocate(need[["Bravo", "Charlie", "Alpha"]], budget=100).set_index("place")["allocation"]
    assert shuffled.to_dict() == out.to_dict()
    # equal remainders (0.5 each) but different weights: the larger weight wins, although "A" sorts first
    uneven = com.allocate(pd.Series({"A": 1.0, "B": 3.0}), budget=2).set_index("place")["allocation"]
    assert uneven.to_dict() == {"A": 0, "B": 2}


def test_rounding_never_breaks_a_cap():
    # exact shares 2.5, 2.5, 5 (capped) in units of 1: the leftover unit cannot go to the capped place
    out = com.allocate(
        pd.Series({"A": 1.0, "B": 1.0, "C": 10.0}),
        budget=10,
        cap=pd.Series({"A": np.nan, "B": np.nan, "C": 5}),
    )
    assert out["allocation"].tolist() == [3, 2, 5]


def test_zero_need_place_gets_its_floor_and_no_more():
    out = com.allocate(pd.Series({"A": 0.0, "B": 2.0}), budget=1_000, floor=100)
    assert out["allocation"].tolist() == [100, 900]
    assert out["at_floor"].tolist() == [True, False]


def test_floor_equal_to_cap_fixes_a_place():
    out = com.allocate(
        places([5.0, 1.0, 1.0], floor=[200.0, 0, 0], cap=[200.0, np.nan, np.nan]),
        budget=600,
        need="need",
        floor="floor",
        cap="cap",
    )
    assert out["allocation"].tolist() == [200, 200, 200]


def test_unit_of_100_pounds():
    out = com.allocate(places([1.0, 1.0, 1.0]), budget=10_000, need="need", unit=100)
    assert sorted(out["allocation"].tolist()) == [3_300, 3_300, 3_400]
    assert out["allocation"].tolist() == [3_400, 3_300, 3_300]  # P00 sorts first


def test_places_without_need_cannot_absorb_the_budget():
    # only B has need and it is capped at 100: the other 900 has nowhere to go
    with pytest.raises(SchemaError, match="add up to less than the budget"):
        com.allocate(pd.Series({"A": 0.0, "B": 1.0}), budget=1_000, cap=100)


def test_large_allocation_is_fast_and_exact():
    rng = np.random.default_rng(7)
    need = pd.Series(rng.gamma(2.0, 5.0, 33_755), index=[f"E01{i:06d}" for i in range(33_755)])
    out = com.allocate(need, budget=10_000_000, floor=100, cap=1_000)
    assert out["allocation"].sum() == 10_000_000
    assert out["allocation"].between(100, 1_000).all()
    assert out["at_cap"].any() and out["at_floor"].any()


def test_allocate_accepts_the_budget_first_form():
    allocate = com.allocate
    need = pd.Series({"Alpha": 30.0, "Bravo": 10.0, "Charlie": 10.0})
    first = allocate(50_000, need=need, floor=10_000)
    assert first["allocation"].tolist() == [30000, 10000, 10000]
    assert first.equals(allocate(need, budget=50_000, floor=10_000))
    with pytest.raises(SchemaError, match="given twice"):
        allocate(50_000, budget=50_000, need=need)
    with pytest.raises(SchemaError, match="needs the need per place"):
        allocate(50_000, need="imd")
    with pytest.raises(SchemaError, match="no budget given"):
        allocate(need)


# ------------------------------------------------------------------ scenarios


def test_allocation_scenarios_compare_need_measures():
    df = pd.DataFrame({"ward": ["A", "B", "C"], "imd": [40.0, 30.0, 30.0], "health": [10.0, 10.0, 80.0]})
    out = com.allocation_scenarios(
        df, budget=50_000, needs={"IMD": "imd", "Health": "health"}, place="ward", floor=5_000
    )
    assert out["ward"].tolist() == ["A", "B", "C"]
    assert out["allocation_IMD"].tolist() == [20_000, 15_000, 15_000]
    assert out["allocation_Health"].tolist() == [5_000, 5_000, 40_000]
    assert out["difference_Health"].tolist() == [-15_000, -10_000, 25_000]
    assert out["difference_Health"].sum() == 0
    assert out["range"].tolist() == [15_000, 10_000, 25_000]
    assert out["share_IMD"].sum() == pytest.approx(1.0)
    assert "difference_IMD" not in out.columns
    as_list = com.allocation_scenarios(df, budget=50_000, needs=["imd", "health"], place="ward", floor=5_000)
    assert as_list["allocation_health"].tolist() == out["allocation_Health"].tolist()


def test_allocation_scenarios_with_population_and_errors():
    df = pd.DataFrame({"area_code": ["A", "B"], "x": [1.0, 1.0], "y": [1.0, 3.0], "pop": [100, 300]})
    out = com.allocation_scenarios(df, budget=800, needs=["x", "y"], population="pop")
    assert out["population"].tolist() == [100, 300]
    assert out["allocation_x"].tolist() == [200, 600]
    assert out["allocation_y"].tolist() == [80, 720]
    with pytest.raises(SchemaError, match="needs two or more scenarios"):
        com.allocation_scenarios(df, budget=800, needs=["x"])
    with pytest.raises(SchemaError, match="needs two or more scenarios"):
        com.allocation_scenarios(df, budget=800, needs="x")
    with pytest.raises(SchemaError, match="names a column twice"):
        com.allocation_scenarios(df, budget=800, needs=["x", "x"])
    with pytest.raises(SchemaError, match="needs names columns that are not in the frame"):
        com.allocation_scenarios(df, budget=800, needs=["x", "z", "w"])
