"""Funnel-plot control limits: PHEindicatormethods and Fingertips oracles, hand-computed cases,
and agreement with the SPC comparisons."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from needskit.errors import SchemaError
from needskit.needs.statistics import compare, control_limits, funnel_limits

DATA = Path(__file__).parents[1] / "data"


def oracle(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"indicators_{name}.csv", comment="#")


def test_proportion_limits_are_the_wilson_interval_of_the_expected_count():
    # E = N * P0 = 65 of 100: the published Wilson limits of 65/100 (PHEindicatormethods)
    wilson = oracle("wilson")
    rows = wilson[(wilson["x"] == 65) & (wilson["n"] == 100)]
    for row in rows.itertuples():
        lower, upper = control_limits(100, 65.0, statistic="proportion", confidence=row.confidence)
        assert float(lower) == pytest.approx(row.lower * 100, abs=1e-9)
        assert float(upper) == pytest.approx(row.upper * 100, abs=1e-9)
    assert {0.95, 0.998} <= set(rows["confidence"])


def test_proportion_limits_hand_computed():
    # comparator 10% for N = 1,000 and 250: (2E + z² ∓ z√(z² + 4E(1 − E/N))) / (2(N + z²))
    for n in (1000, 250):
        for level, z in ((0.95, 1.959963984540054), (0.998, 3.090232306167813)):
            e = n * 0.10
            spread = z * math.sqrt(z**2 + 4 * e * (1 - e / n))
            expected = (
                (2 * e + z**2 - spread) / (2 * (n + z**2)),
                (2 * e + z**2 + spread) / (2 * (n + z**2)),
            )
            lower, upper = control_limits(n, 10.0, statistic="proportion", confidence=level)
            assert (float(lower), float(upper)) == pytest.approx(
                (expected[0] * 100, expected[1] * 100), abs=1e-9
            )
    # the funnel narrows as the denominator grows, around the comparator
    lower, upper = control_limits([100, 1_000, 10_000, 100_000], 10.0, statistic="proportion")
    assert np.all(np.diff(lower) > 0) and np.all(np.diff(upper) < 0)
    assert np.all(lower < 10) and np.all(upper > 10)


def test_rate_limits_are_exact_poisson_of_the_expected_count():
    # E = 1 and 5 events for a rate per 100,000 among 100 people: PHEindicatormethods' exact limits
    rates = oracle("crude_rate")
    for row in rates[rates["method"] == "exact"].itertuples():
        lower, upper = control_limits(row.n, row.value, statistic="crude_rate", multiplier=row.multiplier)
        assert float(lower) == pytest.approx(row.lower, rel=1e-9)
        assert float(upper) == pytest.approx(row.upper, rel=1e-9)


def test_rate_limits_take_a_non_integer_expected_count_discretely_like_fingertips():
    # 2.5 expected events: lower limit of 3 events (0.6186), upper of 2 events (7.2247) — Garwood's table
    lower, upper = control_limits(1000, 2.5, statistic="crude_rate", multiplier=1000)
    assert float(lower) == pytest.approx(0.6186, abs=1e-4)
    assert float(upper) == pytest.approx(7.2247, abs=1e-4)
    lower, upper = control_limits(1000, 2.5, statistic="dsr", multiplier=1000, confidence=0.998)
    assert float(lower) < 0.6186 and float(upper) > 7.2247


def test_fingertips_spc_for_proportions_worked_examples():
    table = oracle("spc_proportions")
    for level, rows in table.groupby("confidence"):
        judged = funnel_limits(
            rows,
            denominator="denominator",
            comparator="comparator",
            statistic="proportion",
            confidence=level,
            value="value",
            polarity="low_is_good",
        )
        assert judged["funnel_comparison"].tolist() == rows["expected"].tolist(), level


def test_funnel_positions_levels_and_polarity():
    areas = pd.DataFrame(
        {
            "n": [1000, 1000, 1000, 1000, 1000, np.nan, 1000],
            "v": [10.0, 12.6, 16.0, 7.9, 5.0, 10.0, np.nan],
        }
    )
    before = areas.copy()
    out = funnel_limits(
        areas, denominator="n", comparator=10.0, statistic="proportion", value="v", polarity="high_is_good"
    )
    pd.testing.assert_frame_equal(areas, before)
    lo95, hi95 = out["control_lower_95"].iloc[0], out["control_upper_95"].iloc[0]
    lo998, hi998 = out["control_lower_99_8"].iloc[0], out["control_upper_99_8"].iloc[0]
    assert 5 < lo998 < 7.9 < lo95 < 10 < hi95 < 12.6 < hi998 < 16
    assert out["funnel_position"].tolist() == [
        "within",
        "above",
        "above",
        "below",
        "below",
        "not_compared",
        "not_compared",
    ]
    assert out["funnel_level"].tolist()[:5] == [
        pytest.approx(v, nan_ok=True) for v in (np.nan, 0.95, 0.998, 0.95, 0.998)
    ]
    assert out["funnel_comparison"].tolist() == [
        "similar",
        "better",
        "better",
        "worse",
        "worse",
        "not_compared",
        "not_compared",
    ]
    plain = funnel_limits(areas, denominator="n", comparator=10.0, statistic="proportion", value="v")
    assert plain["funnel_comparison"].tolist()[:5] == ["similar", "higher", "higher", "lower", "lower"]
    # limits only (a grid for the curves): no position columns
    curve = funnel_limits(
        pd.DataFrame({"n": [10, 100]}), denominator="n", comparator=10.0, statistic="proportion"
    )
    assert list(curve.columns) == [
        "n",
        "control_lower_95",
        "control_upper_95",
        "control_lower_99_8",
        "control_upper_99_8",
    ]


@pytest.mark.parametrize(
    ("statistic", "method"),
    [("proportion", "spc_proportion"), ("crude_rate", "spc_dsr"), ("dsr", "spc_dsr")],
)
def test_outside_the_funnel_is_what_the_spc_comparison_calls_significant(statistic, method):
    rng = np.random.default_rng(7)
    n = rng.integers(50, 50_000, 300).astype(float)
    x = rng.binomial(n.astype(int), 0.12).astype(float)
    multiplier = 100.0 if statistic == "proportion" else 100_000.0
    frame = pd.DataFrame({"n": n, "x": x, "rate": x / n * multiplier})
    comparator = 12.3 if statistic == "proportion" else 12_300.0
    funnel = funnel_limits(
        frame,
        denominator="n",
        comparator=comparator,
        statistic=statistic,
        value="rate",
        confidence=0.95,
        polarity="high_is_bad",
    )
    spc = compare(
        frame,
        method=method,
        numerator="x",
        denominator="n",
        value="rate",
        comparator=comparator,
        polarity="high_is_bad",
        multiplier=multiplier,
    )
    assert funnel["funnel_comparison"].tolist() == spc["comparison"].tolist()
    assert funnel["control_lower_95"].to_numpy() == pytest.approx(spc["control_lower"].to_numpy())
    assert (funnel["funnel_comparison"] != "similar").sum() > 5  # the test sees both outcomes


def test_missing_and_impossible_inputs_give_missing_limits():
    lower, upper = control_limits([0, -5, np.nan, 100], [10, 10, 10, np.nan], statistic="proportion")
    assert np.isnan(lower).all() and np.isnan(upper).all()
    lower, _ = control_limits(100, 120.0, statistic="proportion")  # above 100%
    assert np.isnan(lower)
    lower, upper = control_limits(100, -1.0, statistic="crude_rate")
    assert np.isnan(lower) and np.isnan(upper)
    lower, upper = control_limits(1000, 0.0, statistic="crude_rate", multiplier=1000)
    assert float(lower) == 0.0 and float(upper) == pytest.approx(-math.log(0.025), rel=1e-9)


def test_funnel_errors():
    frame = pd.DataFrame({"n": [10.0], "v": [1.0], "control_lower_95": [0.0]})
    with pytest.raises(SchemaError, match="has no control limits.*'mean'"):
        funnel_limits(frame, denominator="n", comparator=1.0, statistic="mean")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="has no control limits"):
        control_limits(10, 1.0, statistic="value")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="already has columns.*control_lower_95"):
        funnel_limits(frame, denominator="n", comparator=1.0, statistic="proportion")
    frame = frame.drop(columns="control_lower_95")
    with pytest.raises(SchemaError, match="neither a number nor a column"):
        funnel_limits(frame, denominator="n", comparator=True, statistic="proportion")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="'pop'"):
        funnel_limits(frame, denominator="pop", comparator=1.0, statistic="proportion")
    with pytest.raises(SchemaError, match="value='rate'"):
        funnel_limits(frame, denominator="n", comparator=1.0, statistic="proportion", value="rate")
    with pytest.raises(SchemaError, match="outside"):
        funnel_limits(frame, denominator="n", comparator=1.0, statistic="proportion", confidence=95)
    with pytest.raises(SchemaError, match="polarity"):
        funnel_limits(
            frame, denominator="n", comparator=1.0, statistic="proportion", value="v", polarity="up"
        )
