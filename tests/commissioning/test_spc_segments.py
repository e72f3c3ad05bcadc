"""needskit.commissioning.spc_segments: rebasing, baselines and series keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commissioning.cases import BASE, monthly, quiet_xmr
from needskit.commissioning.spc import xmr
from needskit.commissioning.spc_board import board_summary
from needskit.commissioning.spc_plot import plot_xmr
from needskit.errors import SchemaError

# ------------------------------------------------------------------ rebasing


def test_rebase_recalculates_limits_from_the_stated_date():
    values = BASE + [v + 20 for v in BASE]
    df = monthly(values)
    plain = xmr(df, value="v", time="month")
    assert plain["shift"].all()  # one long process with two levels: every point in a run of 12
    # a date between periods: the new segment starts at the first period on or after it
    out = xmr(df, value="v", time="month", rebase=["2022-12-15"])
    assert out["segment"].tolist() == [1] * 12 + [2] * 12
    assert out["mean"].iloc[0] == pytest.approx(11) and out["mean"].iloc[-1] == pytest.approx(31)
    assert out["mean_moving_range"].unique() == pytest.approx([2.0])  # the jump of 18 is not a moving range
    assert np.isnan(out["moving_range"].iloc[12])
    assert not out["special_cause"].any()


def test_several_rebase_dates_and_per_series_rebase():
    values = BASE + [v + 20 for v in BASE] + [v - 5 for v in BASE]
    df = pd.concat([monthly(values).assign(area="A"), monthly(values).assign(area="B")], ignore_index=True)
    months = monthly(values)["month"]
    out = xmr(df, value="v", time="month", by="area", rebase={"A": [months[12], months[24]]})
    a, b = out[out["area"] == "A"], out[out["area"] == "B"]
    assert a["segment"].tolist() == [1] * 12 + [2] * 12 + [3] * 12
    assert a.groupby("segment")["mean"].first().tolist() == pytest.approx([11, 31, 6])
    assert b["segment"].eq(1).all()
    same = xmr(df, value="v", time="month", by="area", rebase=[months[12], months[24]])
    assert same.groupby("area")["segment"].max().to_dict() == {"A": 3, "B": 3}


def test_baseline_fixes_limits_from_the_first_points():
    values = BASE + [30.0, 31.0]
    out = quiet_xmr(values, baseline=12)
    assert out["mean"].iloc[-1] == pytest.approx(11)
    assert out["mean_moving_range"].iloc[-1] == pytest.approx(2)
    assert out["outside_limits"].tolist()[-2:] == [True, True]


# ------------------------------------------------------------------ series keys


def test_unknown_series_keys_are_refused():
    df = pd.concat([monthly(BASE).assign(area="A"), monthly(BASE).assign(area="B")], ignore_index=True)
    with pytest.raises(SchemaError, match="names series that are not in the frame"):
        xmr(df, value="v", time="month", by="area", target={"C": 3.0})
    with pytest.raises(SchemaError, match="names series that are not in the frame"):
        xmr(df, value="v", time="month", by="area", rebase={"C": ["2022-06-01"]})
    with pytest.raises(SchemaError, match="by=\\['nope'\\]|by='nope'"):
        xmr(df, value="v", time="month", by="nope")


def test_two_by_columns_use_tuple_keys():
    rows = []
    for indicator in ("falls", "admissions"):
        for area in ("X", "Y"):
            rows.append(monthly(BASE + [v + 20 for v in BASE]).assign(indicator=indicator, area=area))
    df = pd.concat(rows, ignore_index=True)
    out = xmr(
        df,
        value="v",
        time="month",
        by=["indicator", "area"],
        target={("falls", "Y"): 40.0},
        rebase={("admissions", "X"): ["2023-01-01"]},
    )
    segments = out.groupby(["indicator", "area"])["segment"].max().to_dict()
    assert segments == {("admissions", "X"): 2, ("admissions", "Y"): 1, ("falls", "X"): 1, ("falls", "Y"): 1}
    summary = board_summary(out)
    assert summary[["indicator", "area"]].values.tolist() == [
        ["admissions", "X"],
        ["admissions", "Y"],
        ["falls", "X"],
        ["falls", "Y"],
    ]
    assert summary["target"].isna().tolist() == [True, True, True, False]
    assert board_summary(out, names=["Board"])["indicator"].iloc[0] == "Board: admissions"
    fig = plot_xmr(out, series=("admissions", "X"))
    assert [line.get_gid() for line in fig.axes[0].lines].count("upper_limit") == 2
    with pytest.raises(SchemaError, match="names series that are not in the frame"):
        xmr(df, value="v", time="month", by=["indicator", "area"], target={("falls", "Z"): 1.0})
