"""needskit.commissioning.spc: XmR and p charts — limits, screening, assurance, errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commissioning.cases import BASE, flagged, monthly, quiet_xmr
from needskit.commissioning.spc import p_chart, xmr
from needskit.commissioning.spc_board import board_summary
from needskit.commissioning.spc_rules import SpcRules
from needskit.errors import NeedskitWarning, SchemaError

DATA = Path(__file__).parents[1] / "data"


# ------------------------------------------------------------------ the published worked example


def test_oracle_mean_moving_range_and_limits():
    oracle = pd.read_csv(DATA / "spc_xmr.csv", comment="#")
    with pytest.warns(NeedskitWarning, match="fewer than 12 points"):
        out = xmr(oracle, value="value", time="t")
    assert out["mean"].unique() == pytest.approx([11.7])
    assert out["mean_moving_range"].unique() == pytest.approx([28 / 9])
    assert out["mean_moving_range"].iloc[0] == pytest.approx(3.1111, abs=1e-4)
    assert out["lower_limit"].iloc[0] == pytest.approx(3.4244, abs=1e-4)
    assert out["upper_limit"].iloc[0] == pytest.approx(19.9756, abs=1e-4)
    assert out["lower_2sigma"].iloc[0] == pytest.approx(11.7 - 2 / 3 * 2.66 * 28 / 9)
    np.testing.assert_allclose(out["moving_range"].to_numpy()[1:], np.abs(np.diff(oracle["value"])))
    assert np.isnan(out["moving_range"].iloc[0])
    assert not out["special_cause"].any()
    assert (out["variation"] == "common cause").all()
    assert (out["assurance"] == "no target").all()


def test_input_untouched_and_output_sorted_by_time():
    oracle = pd.read_csv(DATA / "spc_xmr.csv", comment="#")
    shuffled = oracle.sample(frac=1, random_state=3)
    before = shuffled.copy()
    with pytest.warns(NeedskitWarning):
        out = xmr(shuffled, value="value", time="t")
    pd.testing.assert_frame_equal(shuffled, before)
    assert out["t"].tolist() == list(range(1, 11))
    assert out["value"].tolist() == oracle["value"].astype(float).tolist()


# ------------------------------------------------------------------ moving-range screening


def test_screening_leaves_out_moving_ranges_above_3267_times_their_mean():
    values = BASE + [40.0]  # one freak month: moving range 28 against a mean of (11*2 + 28)/12
    raw_mean = (11 * 2 + 28) / 12
    assert 28 > 3.267 * raw_mean
    screened = quiet_xmr(values)
    unscreened = quiet_xmr(values, rules=SpcRules(screen_moving_ranges=False))
    assert screened["mean_moving_range"].iloc[0] == pytest.approx(2.0)
    assert unscreened["mean_moving_range"].iloc[0] == pytest.approx(raw_mean)
    assert screened["upper_limit"].iloc[0] < unscreened["upper_limit"].iloc[0]
    assert "left out" in screened.attrs["needskit_spc"]["rules_text"]
    assert "all moving ranges used" in unscreened.attrs["needskit_spc"]["rules_text"]


# ------------------------------------------------------------------ assurance


@pytest.mark.parametrize(
    ("polarity", "target", "expected"),
    [
        ("high_is_good", 5.0, "consistently meets target"),  # target below the lower limit 5.68
        ("high_is_good", 20.0, "consistently fails target"),
        ("high_is_good", 11.0, "inconsistent"),
        ("high_is_bad", 5.0, "consistently fails target"),
        ("high_is_bad", 20.0, "consistently meets target"),
        ("high_is_bad", 16.0, "inconsistent"),
        ("high_is_good", None, "no target"),
        ("no_judgement", None, "no target"),
    ],
)
def test_assurance_each_branch(polarity, target, expected):
    out = quiet_xmr(BASE, polarity=polarity, target=target)
    assert out["lower_limit"].iloc[0] == pytest.approx(5.68)
    assert out["upper_limit"].iloc[0] == pytest.approx(16.32)
    assert (out["assurance"] == expected).all()


def test_target_per_series_and_missing_series_have_no_target():
    df = pd.concat([monthly(BASE).assign(area="A"), monthly(BASE).assign(area="B")], ignore_index=True)
    out = xmr(df, value="v", time="month", by="area", target={"A": 20.0})
    assert out.groupby("area")["assurance"].first().to_dict() == {
        "A": "consistently fails target",
        "B": "no target",
    }
    assert out.loc[out["area"] == "B", "target"].isna().all()


def test_assurance_uses_the_latest_segment_limits_after_a_rebase():
    values = BASE + [v + 20 for v in BASE]  # mean 11, then mean 31; both segments have limits ± 5.32
    df = monthly(values)
    out = xmr(df, value="v", time="month", target=20.0, rebase=[df["month"].iloc[12]])
    assert out["assurance"].iloc[0] == "consistently fails target"
    assert out["assurance"].iloc[-1] == "consistently meets target"
    summary = board_summary(out)
    assert summary["assurance_icon"].tolist() == ["pass"]


# ------------------------------------------------------------------ p chart


def test_p_chart_limits_against_hand_computation():
    df = pd.DataFrame({"q": [1, 2, 3, 4], "x": [10, 20, 15, 3], "n": [100, 200, 120, 10]})
    with pytest.warns(NeedskitWarning):
        out = p_chart(df, numerator="x", denominator="n", time="q", target=0.01)
    pbar = 48 / 430
    se = np.sqrt(pbar * (1 - pbar) / df["n"].to_numpy())
    np.testing.assert_allclose(out["value"], df["x"] / df["n"])
    np.testing.assert_allclose(out["mean"], pbar)
    np.testing.assert_allclose(out["upper_limit"], pbar + 3 * se)
    np.testing.assert_allclose(out["lower_limit"], np.clip(pbar - 3 * se, 0, 1))
    assert out["lower_limit"].iloc[3] == 0.0  # n = 10: the raw lower limit is negative, clipped
    assert pbar - 3 * se[3] < 0
    np.testing.assert_allclose(out["upper_2sigma"], pbar + 2 * se)
    # target 0.01 is below the lower limits of the first three points (0.017 the lowest),
    # not the clipped fourth
    assert (pbar - 3 * se[:3]).min() == pytest.approx(0.017, abs=1e-3)
    assert out["assurance"].tolist() == ["consistently meets target"] * 3 + ["inconsistent"]


def test_p_chart_flags_a_special_cause_month():
    months = pd.period_range("2023-01", periods=15, freq="M")
    x = [50, 52, 48, 51, 49, 50, 53, 47, 50, 51, 49, 50, 52, 48, 80]
    df = pd.DataFrame({"month": months, "x": x, "n": 500})
    out = p_chart(df, numerator="x", denominator="n", time="month", polarity="high_is_bad")
    assert flagged(out, "outside_limits") == [14]
    assert out["variation"].iloc[14] == "special cause concerning"
    assert "3 standard errors" in out.attrs["needskit_spc"]["rules_text"]


@pytest.mark.parametrize(
    ("x", "n", "kwargs", "match"),
    [
        ([1, 2], [10, 0], {}, "denominators of zero or less"),
        ([1, 12], [10, 10], {}, "larger than its denominator"),
        ([-1, 2], [10, 10], {}, "negative values"),
        ([1, 2], [10, 10], {"target": 92}, "is not a proportion"),
    ],
)
def test_p_chart_errors(x, n, kwargs, match):
    df = pd.DataFrame({"t": [1, 2], "x": x, "n": n})
    with pytest.raises(SchemaError, match=match):
        p_chart(df, numerator="x", denominator="n", time="t", **kwargs)


# ------------------------------------------------------------------ errors and many series


@pytest.mark.parametrize(
    ("df", "kwargs", "match"),
    [
        (monthly(BASE), {"value": "nope"}, "value='nope' is not a column"),
        (monthly(BASE), {"time": "when"}, "time='when' is not a column"),
        (monthly(BASE).assign(v=["x"] * 12), {}, "is not numeric"),
        (monthly(BASE).assign(v=[np.nan] + BASE[1:]), {}, "has missing values"),
        (monthly(BASE).assign(v=[np.inf] + BASE[1:]), {}, "has infinite values"),
        (monthly(BASE).assign(month=pd.Timestamp("2022-01-01")), {}, "has repeated periods"),
        (
            monthly(BASE).assign(month=[pd.NaT] + list(pd.date_range("2022-02-01", periods=11, freq="MS"))),
            {},
            "missing periods",
        ),
        (monthly(BASE), {"polarity": "up"}, "is not a known option"),
        (monthly(BASE), {"rules": {"shift_run": 6}}, "is not an SpcRules"),
        (monthly(BASE), {"baseline": 1}, "not a usable baseline"),
        (monthly(BASE), {"polarity": "no_judgement", "target": 5}, "cannot be judged"),
        (monthly(BASE), {"target": "high"}, "is not a number"),
        (monthly(BASE), {"target": np.nan}, "is not a finite number"),
        (monthly(BASE), {"target": {"A": 3}}, "is a mapping but the chart has one series"),
        (monthly(BASE), {"rebase": {"A": ["2022-05-01"]}}, "is a mapping but the chart has one series"),
        (monthly(BASE), {"rebase": ["2030-01-01"]}, "is after the end of the series"),
        (monthly(BASE), {"rebase": ["2022-12-01"]}, "fewer than 2 points"),
        (monthly(BASE), {"rebase": [3.5]}, "cannot be compared"),
        (monthly(BASE)[:0], {}, "has no rows"),
        (monthly(BASE[:1]), {}, "fewer than 2 points"),
    ],
)
def test_xmr_errors(df, kwargs, match):
    arguments = {"value": "v", "time": "month"} | kwargs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        with pytest.raises(SchemaError, match=match):
            xmr(df, **arguments)


def test_many_series_are_computed_together():
    rng = np.random.default_rng(1)
    n_area, n_t = 2000, 15
    df = pd.DataFrame(
        {
            "area": np.repeat(np.arange(n_area), n_t),
            "t": np.tile(np.arange(n_t), n_area),
            "v": rng.normal(10, 2, n_area * n_t),
        }
    )
    out = xmr(df, value="v", time="t", by="area")
    first = df[df["area"] == 7]["v"].to_numpy()
    part = out[out["area"] == 7]
    assert part["mean"].iloc[0] == pytest.approx(first.mean())
    assert out.groupby("area")["mean"].nunique().eq(1).all()
    assert len(board_summary(out)) == n_area
