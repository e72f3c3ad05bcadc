"""needskit.commissioning.spc_rules: each Making Data Count rule, a naive reference, the rules object."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from commissioning.cases import BASE, flagged, quiet_xmr
from needskit.commissioning.spc import xmr
from needskit.commissioning.spc_rules import SpcRules
from needskit.errors import NeedskitWarning, SchemaError

# ------------------------------------------------------------------ each rule


def test_outside_limits_and_polarity_mapping():
    values = BASE + [11.0, 17.0, 11.0, 4.0]  # 17 above 16.32, 4 below 5.68 (baseline limits)
    good = quiet_xmr(values, baseline=12)
    assert flagged(good, "outside_limits") == [13, 15]
    assert good["variation"].iloc[13] == "special cause improving"
    assert good["variation"].iloc[15] == "special cause concerning"
    assert good["direction"].iloc[13] == "high" and good["direction"].iloc[15] == "low"
    bad = quiet_xmr(values, baseline=12, polarity="high_is_bad")
    assert bad["variation"].iloc[13] == "special cause concerning"
    assert bad["variation"].iloc[15] == "special cause improving"
    neutral = quiet_xmr(values, baseline=12, polarity="no_judgement")
    assert neutral["variation"].iloc[[13, 15]].tolist() == ["special cause (no judgement)"] * 2
    assert (good["variation"].drop([13, 15]) == "common cause").all()
    off = quiet_xmr(values, baseline=12, rules=SpcRules(outside_limits=False))
    assert not off["outside_limits"].any()


def test_shift_run_is_configurable():
    # mean (6 + 9.3) / 13 = 1.177; the last six points are above it, the 0s and 2s alternate
    values = [0.0, 2.0, 0.0, 2.0, 0.0, 2.0, 0.0, 1.5, 1.6, 1.5, 1.6, 1.5, 1.6]
    default = quiet_xmr(values)
    assert default["mean"].iloc[0] == pytest.approx(15.3 / 13)
    assert not default["special_cause"].any()
    six = quiet_xmr(values, rules=SpcRules(shift_run=6))
    assert flagged(six, "shift") == [7, 8, 9, 10, 11, 12]
    assert not six[["outside_limits", "trend", "two_of_three"]].any().any()
    assert (six["variation"].iloc[7:] == "special cause improving").all()


def test_point_on_the_mean_breaks_a_shift():
    # mean is exactly 1: the 1.0 in the middle breaks what would otherwise be a run of 7 below
    values = [0.5] * 3 + [1.0] + [0.5] * 3 + [2.0, 2.0, 2.0]
    assert np.mean(values) == 1.0
    rules = SpcRules(two_of_three=False, outside_limits=False)
    assert not quiet_xmr(values, rules=rules)["shift"].any()
    values[3] = 0.5  # now seven in a row below the mean (0.95)
    assert flagged(quiet_xmr(values, rules=rules), "shift") == list(range(7))


def test_trend_run_is_configurable_and_direction_follows_the_trend():
    values = [10.0, 11.0, 10.0, 11.0, 10.0, 10.1, 10.2, 10.3, 10.4, 10.5]  # six rising points, indices 4-9
    assert not quiet_xmr(values)["trend"].any()
    six = quiet_xmr(values, rules=SpcRules(trend_run=6))
    assert flagged(six, "trend") == [4, 5, 6, 7, 8, 9]
    assert flagged(six, "special_cause") == [4, 5, 6, 7, 8, 9]
    # 10.1 is below the mean (10.45) but part of a rising trend: improving when high is good
    assert six["value"].iloc[5] < six["mean"].iloc[5]
    assert six["variation"].iloc[5] == "special cause improving"
    falling = quiet_xmr([11.0, 10.0, 11.0, 10.0] + values[4:][::-1], rules=SpcRules(trend_run=6))
    assert flagged(falling, "trend") == [4, 5, 6, 7, 8, 9]
    assert (falling["variation"].iloc[4:] == "special cause concerning").all()


def test_equal_values_break_a_trend():
    values = [10.0, 11.0, 10.0, 10.1, 10.2, 10.3, 10.3, 10.4, 10.5, 10.6]
    out = quiet_xmr(values, rules=SpcRules(trend_run=5))
    assert flagged(out, "trend") == []
    out4 = quiet_xmr(values, rules=SpcRules(trend_run=4))
    assert flagged(out4, "trend") == [2, 3, 4, 5, 6, 7, 8, 9]


def test_two_of_three_beyond_two_sigma_same_side():
    values = BASE + [14.6, 11.0, 14.6, 11.0, 7.4, 11.0, 11.0, 7.4]
    out = quiet_xmr(values, baseline=12)
    assert out["upper_2sigma"].iloc[0] == pytest.approx(11 + 2 / 3 * 5.32)
    assert flagged(out, "two_of_three") == [12, 14]  # the low pair is 3 apart: never 2 in a window of 3
    assert not out["outside_limits"].any()
    assert out["variation"].iloc[[12, 14]].tolist() == ["special cause improving"] * 2
    assert out["variation"].iloc[13] == "common cause"
    off = quiet_xmr(values, baseline=12, rules=SpcRules(two_of_three=False))
    assert not off["special_cause"].any()


def test_two_of_three_on_opposite_sides_is_not_flagged():
    values = BASE + [14.6, 7.4, 11.0]
    out = quiet_xmr(values, baseline=12)
    assert not out["two_of_three"].any()


# ------------------------------------------------------------------ a naive reference on random data


def _naive_flags(y, lo, hi, lo2, hi2, mean, rules):
    n = len(y)
    outside = [(y[i] > hi[i] or y[i] < lo[i]) for i in range(n)]
    side = [np.sign(y[i] - mean[i]) for i in range(n)]
    shift, trend, two = [False] * n, [False] * n, [False] * n
    for a in range(n - rules.shift_run + 1):
        window = side[a : a + rules.shift_run]
        if window[0] != 0 and all(s == window[0] for s in window):
            for i in range(a, a + rules.shift_run):
                shift[i] = True
    for a in range(n - rules.trend_run + 1):
        steps = [np.sign(y[i + 1] - y[i]) for i in range(a, a + rules.trend_run - 1)]
        if steps[0] != 0 and all(s == steps[0] for s in steps):
            for i in range(a, a + rules.trend_run):
                trend[i] = True
    for a in range(n - 2):
        for beyond in ([y[i] > hi2[i] for i in range(n)], [y[i] < lo2[i] for i in range(n)]):
            if sum(beyond[a : a + 3]) >= 2:
                for i in range(a, a + 3):
                    two[i] = two[i] or beyond[i]
    return outside, shift, trend, two


def test_vectorised_rules_match_a_naive_reference_over_random_series_rebases_and_groups():
    rng = np.random.default_rng(20240601)
    frames = []
    for s in range(12):
        n = int(rng.integers(20, 40))
        level = np.cumsum(rng.choice([0, 0, 0, 0, 3], size=n))  # occasional level shifts
        drift = np.where(np.arange(n) > n // 2, np.arange(n) * 0.3 * (s % 2), 0)
        values = np.round(
            10 + level + drift + rng.normal(0, 1, n), 1
        )  # rounding makes ties and on-mean points
        frames.append(pd.DataFrame({"series": f"S{s:02d}", "t": np.arange(n), "v": values}))
    df = pd.concat(frames, ignore_index=True)
    rebase = {"S01": [10], "S04": [8, 17], "S07": [15]}
    rules = SpcRules(shift_run=6, trend_run=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        out = xmr(df, value="v", time="t", by="series", rebase=rebase, rules=rules)
    assert len(out) == len(df)
    checked = 0
    for (series, segment), part in out.groupby(["series", "segment"]):
        starts = [0] + rebase.get(series, [])
        assert part["t"].iloc[0] == starts[segment - 1]
        y = part["value"].to_numpy()
        mrs = np.abs(np.diff(y))
        amr = mrs.mean()
        amr = mrs[mrs <= 3.267 * amr].mean()
        assert part["mean"].to_numpy() == pytest.approx(np.full(len(y), y.mean()))
        assert part["upper_limit"].to_numpy() == pytest.approx(y.mean() + 2.66 * amr)
        outside, shift, trend, two = _naive_flags(
            y,
            part["lower_limit"].to_numpy(),
            part["upper_limit"].to_numpy(),
            part["lower_2sigma"].to_numpy(),
            part["upper_2sigma"].to_numpy(),
            part["mean"].to_numpy(),
            rules,
        )
        assert part["outside_limits"].tolist() == outside
        assert part["shift"].tolist() == shift
        assert part["trend"].tolist() == trend
        assert part["two_of_three"].tolist() == two
        checked += 1
    assert checked == 12 + 4
    assert out["special_cause"].sum() > 20  # the data exercised the rules


# ------------------------------------------------------------------ rules object


def test_rules_describe_reflects_the_settings():
    text = SpcRules().describe()
    assert text.startswith("Rules used: a point outside the process limits; a run of 7 or more points")
    assert "7 or more points in a row" in text
    custom = SpcRules(shift_run=8, trend_run=None, two_of_three=False).describe()
    assert "a run of 8 or more" in custom and "in a row" not in custom and "2 of 3" not in custom
    none = SpcRules(shift_run=None, trend_run=None, two_of_three=False, outside_limits=False).describe()
    assert "none (no special-cause rule" in none


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"shift_run": 1}, "not a usable run length"),
        ({"trend_run": 6.5}, "not a usable run length"),
        ({"shift_run": True}, "not a usable run length"),
        ({"two_of_three": "yes"}, "is not True or False"),
    ],
)
def test_rules_validation(kwargs, match):
    with pytest.raises(SchemaError, match=match):
        SpcRules(**kwargs)
