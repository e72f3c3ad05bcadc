"""needskit.needs.change: an indicator this period against an earlier one, tested."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from needskit.errors import SchemaError
from needskit.needs.change import (
    CHANGE_COLUMNS,
    compare_periods,
    gap_change,
    proportion_difference,
    rate_ratio,
)


def test_rate_ratio_is_the_conditional_binomial_interval():
    ratio, lower, upper = rate_ratio(120, 1000, 100, 1000)
    # independently: Clopper-Pearson limits of 120 successes in 220 (scipy's binomtest), as odds
    cp = sps.binomtest(120, 220).proportion_ci(confidence_level=0.95, method="exact")
    assert ratio == pytest.approx(1.2)
    assert lower == pytest.approx(cp.low / (1 - cp.low)) and upper == pytest.approx(cp.high / (1 - cp.high))
    # unequal denominators scale the limits; no events before: no upper limit
    ratio, lower, upper = rate_ratio([30, 5, 0], [2000, 10, 10], [10, 0, 0], [1000, 10, 10])
    cp = sps.binomtest(30, 40).proportion_ci(method="exact")
    assert ratio[0] == pytest.approx(1.5) and lower[0] == pytest.approx(cp.low / (1 - cp.low) / 2)
    assert np.isinf(ratio[1]) and np.isinf(upper[1])
    low = sps.binomtest(5, 5).proportion_ci(method="exact").low
    assert lower[1] == pytest.approx(low / (1 - low)) and lower[1] < 1  # 5 vs 0: exact p = 0.0625
    assert np.isnan(ratio[2]) and np.isnan(lower[2])  # no events in either period: nothing to test


def test_proportion_difference_is_newcombes_method_10():
    # Newcombe (1998), Statistics in Medicine 17:873, table II example (56/70 vs 48/80)
    diff, lower, upper = proportion_difference(56, 70, 48, 80)
    assert diff == pytest.approx(0.2)
    assert round(float(lower), 4) == 0.0524 and round(float(upper), 4) == 0.3339
    # (9/10 vs 3/10): 0.6, 0.1705 to 0.8090 in the same table
    diff, lower, upper = proportion_difference(9, 10, 3, 10)
    assert round(float(lower), 4) == 0.1705 and round(float(upper), 4) == 0.8090


def _results() -> pd.DataFrame:
    rows = [
        # indicator, area, period, statistic, polarity, numerator, denominator
        ("crime", "A", "2024-H2", "crude_rate", "high_is_bad", 1000, 100_000),
        ("crime", "A", "2025-H1", "crude_rate", "high_is_bad", 850, 100_000),
        ("crime", "B", "2024-H2", "crude_rate", "high_is_bad", 20, 2_000),
        ("crime", "B", "2025-H1", "crude_rate", "high_is_bad", 24, 2_000),
        ("jobs", "A", "2024-H2", "proportion", "high_is_good", 400, 1000),
        ("jobs", "A", "2025-H1", "proportion", "high_is_good", 470, 1000),
        ("score", "A", "2024-H2", "mean", "high_is_bad", np.nan, np.nan),
        ("score", "A", "2025-H1", "mean", "high_is_bad", np.nan, np.nan),
        ("census", "A", "2021", "proportion", "high_is_bad", 5, 10),
    ]
    frame = pd.DataFrame(
        rows,
        columns=["indicator", "area_code", "period", "statistic", "polarity", "numerator", "denominator"],
    )
    value = frame["numerator"] / frame["denominator"]
    value[frame["indicator"] == "score"] = [3.0, 2.0]
    return frame.assign(level="lsoa", value=value)


def test_compare_periods_tests_and_judges_each_indicator():
    out = compare_periods(_results(), period="2025-H1", against="2024-H2")
    assert list(out.columns) == CHANGE_COLUMNS
    got = out.set_index(["indicator", "area_code"])
    assert sorted(got.index) == [("crime", "A"), ("crime", "B"), ("jobs", "A"), ("score", "A")]  # not census
    crime = got.loc[("crime", "A")]
    assert crime["measure"] == "rate ratio" and crime["change"] == pytest.approx(0.85)
    assert crime["upper"] < 1 and (crime["direction"], crime["judgement"]) == ("decrease", "better")
    small = got.loc[("crime", "B")]  # 20 -> 24 is well within chance
    assert small["lower"] < 1 < small["upper"] and small["judgement"] == "no significant change"
    jobs = got.loc[("jobs", "A")]
    assert jobs["measure"] == "difference" and jobs["change"] == pytest.approx(0.07)
    assert (jobs["direction"], jobs["judgement"]) == ("increase", "better")
    score = got.loc[("score", "A")]
    assert (score["measure"], score["direction"], score["judgement"]) == ("not tested",) * 3
    with pytest.raises(SchemaError, match="lacks columns"):
        compare_periods(_results().drop(columns="numerator"), period="2025-H1", against="2024-H2")


def test_is_the_gap_narrowing():
    before = pd.Series({"sii": 40.0, "sii_lower_95": 36.0, "sii_upper_95": 44.0})
    narrower = pd.Series({"sii": 30.0, "sii_lower_95": 26.0, "sii_upper_95": 34.0})
    same = pd.Series({"sii": 38.0, "sii_lower_95": 34.0, "sii_upper_95": 42.0})
    result = gap_change(before, narrower)
    se = np.hypot(4 / 1.959964, 4 / 1.959964)
    assert result["difference"] == -10.0 and result["z"] == pytest.approx(-10 / se)
    assert result["verdict"] == "narrowing" and result["upper"] < 0
    assert gap_change(before, same)["verdict"] == "no significant change"
    assert gap_change(narrower, before)["verdict"] == "widening"
