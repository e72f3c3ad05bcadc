"""needskit.commissioning.spc_plot: the chart drawn as Making Data Count draws it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from commissioning.cases import BASE, monthly, quiet_xmr
from needskit.commissioning.spc import p_chart, xmr
from needskit.commissioning.spc_plot import COLOURS, plot_xmr
from needskit.errors import SchemaError


def test_plot_xmr_returns_a_figure_with_the_expected_lines():
    out = quiet_xmr(BASE + [17.0, 4.0], baseline=12, target=15.0)
    fig = plot_xmr(out, title="Falls")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    gids = [line.get_gid() for line in ax.lines]
    assert gids == ["value", "mean", "upper_limit", "lower_limit", "target"]
    target = ax.lines[-1]
    assert target.get_linestyle() == "--"
    np.testing.assert_allclose(target.get_ydata(), 15.0)
    assert ax.get_title() == "Falls"
    scatters = {c.get_gid(): c for c in ax.collections}
    assert set(scatters) == {
        "points:common cause",
        "points:special cause improving",
        "points:special cause concerning",
    }
    assert (
        to_hex(scatters["points:special cause improving"].get_facecolor()[0])
        == COLOURS["special cause improving"]
    )
    assert to_hex(scatters["points:special cause concerning"].get_facecolor()[0]) == "#e46c0a"  # orange
    assert len(scatters["points:common cause"].get_offsets()) == 12


def test_plot_xmr_draws_each_segment_and_uses_a_given_axes():
    values = BASE + [v + 20 for v in BASE]
    df = pd.concat([monthly(values).assign(area="A"), monthly(values).assign(area="B")], ignore_index=True)
    out = xmr(df, value="v", time="month", by="area", rebase={"A": ["2023-01-01"]})
    with pytest.raises(SchemaError, match="holds several series"):
        plot_xmr(out)
    with pytest.raises(SchemaError, match="is not a series of the chart"):
        plot_xmr(out, series="Z")
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_xmr(out, series="A", ax=ax) is fig
    assert [line.get_gid() for line in ax.lines].count("mean") == 2
    assert ax.get_title() == "v"


def test_plot_p_chart_with_periods():
    months = pd.period_range("2023-01", periods=12, freq="M")
    df = pd.DataFrame({"month": months, "x": [50, 52, 48, 51, 49, 50, 53, 47, 50, 51, 49, 50], "n": 500})
    fig = plot_xmr(p_chart(df, numerator="x", denominator="n", time="month"))
    assert [line.get_gid() for line in fig.axes[0].lines] == ["value", "mean", "upper_limit", "lower_limit"]
