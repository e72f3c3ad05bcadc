"""needskit.commissioning.monitoring: XmR and p charts, Making Data Count rules, assurance, board summary, plot."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from needskit.commissioning import monitoring as mon
from needskit.errors import NeedskitWarning, SchemaError

DATA = Path(__file__).parents[1] / "data"

# Twelve points alternating 10, 12: mean 11, every moving range 2, so limits 11 ± 5.32 = 5.68 - 16.32
# and the 2-sigma lines 11 ± 3.5467 = 7.4533 - 14.5467. Used as a fixed baseline (baseline=12).
BASE = [10.0, 12.0] * 6


def _series(values, *, start="2022-01-01"):
    return pd.DataFrame({"month": pd.date_range(start, periods=len(values), freq="MS"), "v": values})


def _xmr(values, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        return mon.xmr(_series(values), value="v", time="month", **kwargs)


def _flagged(result, column):
    return list(np.flatnonzero(result[column].to_numpy()))


# ------------------------------------------------------------------ the published worked example


def test_oracle_mean_moving_range_and_limits():
    oracle = pd.read_csv(DATA / "spc_xmr.csv", comment="#")
    with pytest.warns(NeedskitWarning, match="fewer than 12 points"):
        out = mon.xmr(oracle, value="value", time="t")
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
        out = mon.xmr(shuffled, value="value", time="t")
    pd.testing.assert_frame_equal(shuffled, before)
    assert out["t"].tolist() == list(range(1, 11))
    assert out["value"].tolist() == oracle["value"].astype(float).tolist()


# ------------------------------------------------------------------ moving-range screening


def test_screening_leaves_out_moving_ranges_above_3267_times_their_mean():
    values = BASE + [40.0]  # one freak month: moving range 28 against a mean of (11*2 + 28)/12
    raw_mean = (11 * 2 + 28) / 12
    assert 28 > 3.267 * raw_mean
    screened = _xmr(values)
    unscreened = _xmr(values, rules=mon.SpcRules(screen_moving_ranges=False))
    assert screened["mean_moving_range"].iloc[0] == pytest.approx(2.0)
    assert unscreened["mean_moving_range"].iloc[0] == pytest.approx(raw_mean)
    assert screened["upper_limit"].iloc[0] < unscreened["upper_limit"].iloc[0]
    assert "left out" in screened.attrs["needskit_spc"]["rules_text"]
    assert "all moving ranges used" in unscreened.attrs["needskit_spc"]["rules_text"]


# ------------------------------------------------------------------ each rule


def test_outside_limits_and_polarity_mapping():
    values = BASE + [11.0, 17.0, 11.0, 4.0]  # 17 above 16.32, 4 below 5.68 (baseline limits)
    good = _xmr(values, baseline=12)
    assert _flagged(good, "outside_limits") == [13, 15]
    assert good["variation"].iloc[13] == "special cause improving"
    assert good["variation"].iloc[15] == "special cause concerning"
    assert good["direction"].iloc[13] == "high" and good["direction"].iloc[15] == "low"
    bad = _xmr(values, baseline=12, polarity="high_is_bad")
    assert bad["variation"].iloc[13] == "special cause concerning"
    assert bad["variation"].iloc[15] == "special cause improving"
    neutral = _xmr(values, baseline=12, polarity="no_judgement")
    assert neutral["variation"].iloc[[13, 15]].tolist() == ["special cause (no judgement)"] * 2
    assert (good["variation"].drop([13, 15]) == "common cause").all()
    off = _xmr(values, baseline=12, rules=mon.SpcRules(outside_limits=False))
    assert not off["outside_limits"].any()


def test_shift_run_is_configurable():
    # mean (6 + 9.3) / 13 = 1.177; the last six points are above it, the 0s and 2s alternate
    values = [0.0, 2.0, 0.0, 2.0, 0.0, 2.0, 0.0, 1.5, 1.6, 1.5, 1.6, 1.5, 1.6]
    default = _xmr(values)
    assert default["mean"].iloc[0] == pytest.approx(15.3 / 13)
    assert not default["special_cause"].any()
    six = _xmr(values, rules=mon.SpcRules(shift_run=6))
    assert _flagged(six, "shift") == [7, 8, 9, 10, 11, 12]
    assert not six[["outside_limits", "trend", "two_of_three"]].any().any()
    assert (six["variation"].iloc[7:] == "special cause improving").all()


def test_point_on_the_mean_breaks_a_shift():
    # mean is exactly 1: the 1.0 in the middle breaks what would otherwise be a run of 7 below
    values = [0.5] * 3 + [1.0] + [0.5] * 3 + [2.0, 2.0, 2.0]
    assert np.mean(values) == 1.0
    rules = mon.SpcRules(two_of_three=False, outside_limits=False)
    assert not _xmr(values, rules=rules)["shift"].any()
    values[3] = 0.5  # now seven in a row below the mean (0.95)
    assert _flagged(_xmr(values, rules=rules), "shift") == list(range(7))


def test_trend_run_is_configurable_and_direction_follows_the_trend():
    values = [10.0, 11.0, 10.0, 11.0, 10.0, 10.1, 10.2, 10.3, 10.4, 10.5]  # six rising points, indices 4-9
    assert not _xmr(values)["trend"].any()
    six = _xmr(values, rules=mon.SpcRules(trend_run=6))
    assert _flagged(six, "trend") == [4, 5, 6, 7, 8, 9]
    assert _flagged(six, "special_cause") == [4, 5, 6, 7, 8, 9]
    # 10.1 is below the mean (10.45) but part of a rising trend: improving when high is good
    assert six["value"].iloc[5] < six["mean"].iloc[5]
    assert six["variation"].iloc[5] == "special cause improving"
    falling = _xmr([11.0, 10.0, 11.0, 10.0] + values[4:][::-1], rules=mon.SpcRules(trend_run=6))
    assert _flagged(falling, "trend") == [4, 5, 6, 7, 8, 9]
    assert (falling["variation"].iloc[4:] == "special cause concerning").all()


def test_equal_values_break_a_trend():
    values = [10.0, 11.0, 10.0, 10.1, 10.2, 10.3, 10.3, 10.4, 10.5, 10.6]
    out = _xmr(values, rules=mon.SpcRules(trend_run=5))
    assert _flagged(out, "trend") == []
    out4 = _xmr(values, rules=mon.SpcRules(trend_run=4))
    assert _flagged(out4, "trend") == [2, 3, 4, 5, 6, 7, 8, 9]


def test_two_of_three_beyond_two_sigma_same_side():
    values = BASE + [14.6, 11.0, 14.6, 11.0, 7.4, 11.0, 11.0, 7.4]
    out = _xmr(values, baseline=12)
    assert out["upper_2sigma"].iloc[0] == pytest.approx(11 + 2 / 3 * 5.32)
    assert _flagged(out, "two_of_three") == [12, 14]  # the low pair is 3 apart: never 2 in a window of 3
    assert not out["outside_limits"].any()
    assert out["variation"].iloc[[12, 14]].tolist() == ["special cause improving"] * 2
    assert out["variation"].iloc[13] == "common cause"
    off = _xmr(values, baseline=12, rules=mon.SpcRules(two_of_three=False))
    assert not off["special_cause"].any()


def test_two_of_three_on_opposite_sides_is_not_flagged():
    values = BASE + [14.6, 7.4, 11.0]
    out = _xmr(values, baseline=12)
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
        values = np.round(10 + level + drift + rng.normal(0, 1, n), 1)  # rounding makes ties and on-mean points
        frames.append(pd.DataFrame({"series": f"S{s:02d}", "t": np.arange(n), "v": values}))
    df = pd.concat(frames, ignore_index=True)
    rebase = {"S01": [10], "S04": [8, 17], "S07": [15]}
    rules = mon.SpcRules(shift_run=6, trend_run=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        out = mon.xmr(df, value="v", time="t", by="series", rebase=rebase, rules=rules)
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
            y, part["lower_limit"].to_numpy(), part["upper_limit"].to_numpy(), part["lower_2sigma"].to_numpy(),
            part["upper_2sigma"].to_numpy(), part["mean"].to_numpy(), rules,
        )
        assert part["outside_limits"].tolist() == outside
        assert part["shift"].tolist() == shift
        assert part["trend"].tolist() == trend
        assert part["two_of_three"].tolist() == two
        checked += 1
    assert checked == 12 + 4
    assert out["special_cause"].sum() > 20  # the data exercised the rules


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
    out = _xmr(BASE, polarity=polarity, target=target)
    assert out["lower_limit"].iloc[0] == pytest.approx(5.68)
    assert out["upper_limit"].iloc[0] == pytest.approx(16.32)
    assert (out["assurance"] == expected).all()


def test_target_per_series_and_missing_series_have_no_target():
    df = pd.concat([_series(BASE).assign(area="A"), _series(BASE).assign(area="B")], ignore_index=True)
    out = mon.xmr(df, value="v", time="month", by="area", target={"A": 20.0})
    assert out.groupby("area")["assurance"].first().to_dict() == {"A": "consistently fails target", "B": "no target"}
    assert out.loc[out["area"] == "B", "target"].isna().all()


def test_assurance_uses_the_latest_segment_limits_after_a_rebase():
    values = BASE + [v + 20 for v in BASE]  # mean 11, then mean 31; both segments have limits ± 5.32
    df = _series(values)
    out = mon.xmr(df, value="v", time="month", target=20.0, rebase=[df["month"].iloc[12]])
    assert out["assurance"].iloc[0] == "consistently fails target"
    assert out["assurance"].iloc[-1] == "consistently meets target"
    summary = mon.board_summary(out)
    assert summary["assurance_icon"].tolist() == ["pass"]


# ------------------------------------------------------------------ rebasing


def test_rebase_recalculates_limits_from_the_stated_date():
    values = BASE + [v + 20 for v in BASE]
    df = _series(values)
    plain = mon.xmr(df, value="v", time="month")
    assert plain["shift"].all()  # one long process with two levels: every point in a run of 12
    # a date between periods: the new segment starts at the first period on or after it
    out = mon.xmr(df, value="v", time="month", rebase=["2022-12-15"])
    assert out["segment"].tolist() == [1] * 12 + [2] * 12
    assert out["mean"].iloc[0] == pytest.approx(11) and out["mean"].iloc[-1] == pytest.approx(31)
    assert out["mean_moving_range"].unique() == pytest.approx([2.0])  # the jump of 18 is not a moving range
    assert np.isnan(out["moving_range"].iloc[12])
    assert not out["special_cause"].any()


def test_several_rebase_dates_and_per_series_rebase():
    values = BASE + [v + 20 for v in BASE] + [v - 5 for v in BASE]
    df = pd.concat([_series(values).assign(area="A"), _series(values).assign(area="B")], ignore_index=True)
    months = _series(values)["month"]
    out = mon.xmr(df, value="v", time="month", by="area", rebase={"A": [months[12], months[24]]})
    a, b = out[out["area"] == "A"], out[out["area"] == "B"]
    assert a["segment"].tolist() == [1] * 12 + [2] * 12 + [3] * 12
    assert a.groupby("segment")["mean"].first().tolist() == pytest.approx([11, 31, 6])
    assert b["segment"].eq(1).all()
    same = mon.xmr(df, value="v", time="month", by="area", rebase=[months[12], months[24]])
    assert same.groupby("area")["segment"].max().to_dict() == {"A": 3, "B": 3}


def test_baseline_fixes_limits_from_the_first_points():
    values = BASE + [30.0, 31.0]
    out = _xmr(values, baseline=12)
    assert out["mean"].iloc[-1] == pytest.approx(11)
    assert out["mean_moving_range"].iloc[-1] == pytest.approx(2)
    assert out["outside_limits"].tolist()[-2:] == [True, True]


# ------------------------------------------------------------------ p chart


def test_p_chart_limits_against_hand_computation():
    df = pd.DataFrame({"q": [1, 2, 3, 4], "x": [10, 20, 15, 3], "n": [100, 200, 120, 10]})
    with pytest.warns(NeedskitWarning):
        out = mon.p_chart(df, numerator="x", denominator="n", time="q", target=0.01)
    pbar = 48 / 430
    se = np.sqrt(pbar * (1 - pbar) / df["n"].to_numpy())
    np.testing.assert_allclose(out["value"], df["x"] / df["n"])
    np.testing.assert_allclose(out["mean"], pbar)
    np.testing.assert_allclose(out["upper_limit"], pbar + 3 * se)
    np.testing.assert_allclose(out["lower_limit"], np.clip(pbar - 3 * se, 0, 1))
    assert out["lower_limit"].iloc[3] == 0.0  # n = 10: the raw lower limit is negative, clipped
    assert pbar - 3 * se[3] < 0
    np.testing.assert_allclose(out["upper_2sigma"], pbar + 2 * se)
    # target 0.01 is below the lower limits of the first three points (0.017 the lowest), not the clipped fourth
    assert (pbar - 3 * se[:3]).min() == pytest.approx(0.017, abs=1e-3)
    assert out["assurance"].tolist() == ["consistently meets target"] * 3 + ["inconsistent"]


def test_p_chart_flags_a_special_cause_month():
    months = pd.period_range("2023-01", periods=15, freq="M")
    x = [50, 52, 48, 51, 49, 50, 53, 47, 50, 51, 49, 50, 52, 48, 80]
    df = pd.DataFrame({"month": months, "x": x, "n": 500})
    out = mon.p_chart(df, numerator="x", denominator="n", time="month", polarity="high_is_bad")
    assert _flagged(out, "outside_limits") == [14]
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
        mon.p_chart(df, numerator="x", denominator="n", time="t", **kwargs)


# ------------------------------------------------------------------ board summary


def test_board_summary_one_row_per_indicator_with_icons():
    admissions = _xmr(BASE + [17.0], baseline=12, polarity="high_is_bad", target=20.0)
    screening = _xmr(BASE, target=11.0)
    areas = pd.concat([_series(BASE).assign(area="A"), _series(BASE[:-1] + [4.0]).assign(area="B")], ignore_index=True)
    with pytest.warns(NeedskitWarning, match="2 segment"):
        by_area = mon.xmr(areas, value="v", time="month", by="area", baseline=11)
    out = mon.board_summary(admissions, screening, by_area, names=["Admissions", "Screening", "Falls"])
    assert out["indicator"].tolist() == ["Admissions", "Screening", "Falls", "Falls"]
    assert out["area"].tolist()[2:] == ["A", "B"]
    assert out["value"].tolist() == [17.0, 12.0, 12.0, 4.0]
    assert out["variation_icon"].tolist() == ["concern_high", "common_cause", "common_cause", "concern_low"]
    assert out["assurance_icon"].tolist() == ["pass", "hit_or_miss", "no_target", "no_target"]
    assert out["assurance"].iloc[0] == "consistently meets target"  # 20 is above the upper limit 16.32
    assert out["n_points"].tolist() == [13, 12, 12, 12]
    assert out["time"].iloc[0] == pd.Timestamp("2023-01-01")


def test_board_summary_neither_icon_and_default_names():
    out = mon.board_summary(_xmr(BASE + [4.0], baseline=12, polarity="no_judgement"))
    assert out["indicator"].tolist() == ["v"]
    assert out["variation_icon"].tolist() == ["neither_low"]


def test_board_summary_errors():
    with pytest.raises(SchemaError, match="no charts given"):
        mon.board_summary()
    with pytest.raises(SchemaError, match="does not name every result"):
        mon.board_summary(_xmr(BASE), names=["a", "b"])
    with pytest.raises(SchemaError, match="is not an SPC chart"):
        mon.board_summary(pd.DataFrame({"value": [1.0]}))


# ------------------------------------------------------------------ chart


def test_plot_xmr_returns_a_figure_with_the_expected_lines():
    out = _xmr(BASE + [17.0, 4.0], baseline=12, target=15.0)
    fig = mon.plot_xmr(out, title="Falls")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    gids = [line.get_gid() for line in ax.lines]
    assert gids == ["value", "mean", "upper_limit", "lower_limit", "target"]
    target = ax.lines[-1]
    assert target.get_linestyle() == "--"
    np.testing.assert_allclose(target.get_ydata(), 15.0)
    assert ax.get_title() == "Falls"
    scatters = {c.get_gid(): c for c in ax.collections}
    assert set(scatters) == {"points:common cause", "points:special cause improving", "points:special cause concerning"}
    assert to_hex(scatters["points:special cause improving"].get_facecolor()[0]) == mon.COLOURS["special cause improving"]
    assert to_hex(scatters["points:special cause concerning"].get_facecolor()[0]) == "#e46c0a"  # orange
    assert len(scatters["points:common cause"].get_offsets()) == 12


def test_plot_xmr_draws_each_segment_and_uses_a_given_axes():
    values = BASE + [v + 20 for v in BASE]
    df = pd.concat([_series(values).assign(area="A"), _series(values).assign(area="B")], ignore_index=True)
    out = mon.xmr(df, value="v", time="month", by="area", rebase={"A": ["2023-01-01"]})
    with pytest.raises(SchemaError, match="holds several series"):
        mon.plot_xmr(out)
    with pytest.raises(SchemaError, match="is not a series of the chart"):
        mon.plot_xmr(out, series="Z")
    fig = Figure()
    ax = fig.add_subplot()
    assert mon.plot_xmr(out, series="A", ax=ax) is fig
    assert [line.get_gid() for line in ax.lines].count("mean") == 2
    assert ax.get_title() == "v"


def test_plot_p_chart_with_periods():
    months = pd.period_range("2023-01", periods=12, freq="M")
    df = pd.DataFrame({"month": months, "x": [50, 52, 48, 51, 49, 50, 53, 47, 50, 51, 49, 50], "n": 500})
    fig = mon.plot_xmr(mon.p_chart(df, numerator="x", denominator="n", time="month"))
    assert [line.get_gid() for line in fig.axes[0].lines] == ["value", "mean", "upper_limit", "lower_limit"]


# ------------------------------------------------------------------ rules object and errors


def test_rules_describe_reflects_the_settings():
    text = mon.SpcRules().describe()
    assert text.startswith("Rules used: a point outside the process limits; a run of 7 or more points")
    assert "7 or more points in a row" in text
    custom = mon.SpcRules(shift_run=8, trend_run=None, two_of_three=False).describe()
    assert "a run of 8 or more" in custom and "in a row" not in custom and "2 of 3" not in custom
    none = mon.SpcRules(shift_run=None, trend_run=None, two_of_three=False, outside_limits=False).describe()
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
        mon.SpcRules(**kwargs)


@pytest.mark.parametrize(
    ("df", "kwargs", "match"),
    [
        (_series(BASE), {"value": "nope"}, "value='nope' is not a column"),
        (_series(BASE), {"time": "when"}, "time='when' is not a column"),
        (_series(BASE).assign(v=["x"] * 12), {}, "is not numeric"),
        (_series(BASE).assign(v=[np.nan] + BASE[1:]), {}, "has missing values"),
        (_series(BASE).assign(v=[np.inf] + BASE[1:]), {}, "has infinite values"),
        (_series(BASE).assign(month=pd.Timestamp("2022-01-01")), {}, "has repeated periods"),
        (_series(BASE).assign(month=[pd.NaT] + list(pd.date_range("2022-02-01", periods=11, freq="MS"))), {}, "missing periods"),
        (_series(BASE), {"polarity": "up"}, "is not a known option"),
        (_series(BASE), {"rules": {"shift_run": 6}}, "is not an SpcRules"),
        (_series(BASE), {"baseline": 1}, "not a usable baseline"),
        (_series(BASE), {"polarity": "no_judgement", "target": 5}, "cannot be judged"),
        (_series(BASE), {"target": "high"}, "is not a number"),
        (_series(BASE), {"target": np.nan}, "is not a finite number"),
        (_series(BASE), {"target": {"A": 3}}, "is a mapping but the chart has one series"),
        (_series(BASE), {"rebase": {"A": ["2022-05-01"]}}, "is a mapping but the chart has one series"),
        (_series(BASE), {"rebase": ["2030-01-01"]}, "is after the end of the series"),
        (_series(BASE), {"rebase": ["2022-12-01"]}, "fewer than 2 points"),
        (_series(BASE), {"rebase": [3.5]}, "cannot be compared"),
        (_series(BASE)[:0], {}, "has no rows"),
        (_series(BASE[:1]), {}, "fewer than 2 points"),
    ],
)
def test_xmr_errors(df, kwargs, match):
    arguments = {"value": "v", "time": "month"} | kwargs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        with pytest.raises(SchemaError, match=match):
            mon.xmr(df, **arguments)


def test_unknown_series_keys_are_refused():
    df = pd.concat([_series(BASE).assign(area="A"), _series(BASE).assign(area="B")], ignore_index=True)
    with pytest.raises(SchemaError, match="names series that are not in the frame"):
        mon.xmr(df, value="v", time="month", by="area", target={"C": 3.0})
    with pytest.raises(SchemaError, match="names series that are not in the frame"):
        mon.xmr(df, value="v", time="month", by="area", rebase={"C": ["2022-06-01"]})
    with pytest.raises(SchemaError, match="by=\\['nope'\\]|by='nope'"):
        mon.xmr(df, value="v", time="month", by="nope")


def test_many_series_are_computed_together():
    rng = np.random.default_rng(1)
    n_area, n_t = 2000, 15
    df = pd.DataFrame(
        {"area": np.repeat(np.arange(n_area), n_t), "t": np.tile(np.arange(n_t), n_area), "v": rng.normal(10, 2, n_area * n_t)}
    )
    out = mon.xmr(df, value="v", time="t", by="area")
    first = df[df["area"] == 7]["v"].to_numpy()
    part = out[out["area"] == 7]
    assert part["mean"].iloc[0] == pytest.approx(first.mean())
    assert out.groupby("area")["mean"].nunique().eq(1).all()
    assert len(mon.board_summary(out)) == n_area


def test_two_by_columns_use_tuple_keys():
    rows = []
    for indicator in ("falls", "admissions"):
        for area in ("X", "Y"):
            rows.append(_series(BASE + [v + 20 for v in BASE]).assign(indicator=indicator, area=area))
    df = pd.concat(rows, ignore_index=True)
    out = mon.xmr(df, value="v", time="month", by=["indicator", "area"],
                  target={("falls", "Y"): 40.0}, rebase={("admissions", "X"): ["2023-01-01"]})
    segments = out.groupby(["indicator", "area"])["segment"].max().to_dict()
    assert segments == {("admissions", "X"): 2, ("admissions", "Y"): 1, ("falls", "X"): 1, ("falls", "Y"): 1}
    summary = mon.board_summary(out)
    assert summary[["indicator", "area"]].values.tolist() == [["admissions", "X"], ["admissions", "Y"], ["falls", "X"], ["falls", "Y"]]
    assert summary["target"].isna().tolist() == [True, True, True, False]
    assert mon.board_summary(out, names=["Board"])["indicator"].iloc[0] == "Board: admissions"
    fig = mon.plot_xmr(out, series=("admissions", "X"))
    assert [line.get_gid() for line in fig.axes[0].lines].count("upper_limit") == 2
    with pytest.raises(SchemaError, match="names series that are not in the frame"):
        mon.xmr(df, value="v", time="month", by=["indicator", "area"], target={("falls", "Z"): 1.0})
