"""The SPC chart drawn as Making Data Count draws it: points coloured by variation, limits per segment."""

from __future__ import annotations

from collections.abc import Hashable
from typing import cast

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from needskit.commissioning.spc import chart_meta
from needskit.commissioning.spc_rules import VARIATIONS
from needskit.commissioning.spc_segments import series_index, series_mask
from needskit.errors import SchemaError, describe_values
from needskit.reports.charts import ReportFigure

__all__ = ["COLOURS", "plot_xmr"]

COLOURS: dict[str, str] = {
    "common cause": "#a6a6a6",
    "special cause improving": "#00b0f0",  # blue
    "special cause concerning": "#e46c0a",  # orange
    "special cause (no judgement)": "#490092",  # purple
    "value_line": "#a6a6a6",
    "mean": "#000000",
    "limit": "#a6a6a6",
    "target": "#de1b1b",
}
"""Making Data Count colours (as NHSRplotthedots ``ptd_spc_colours``)."""


def plot_xmr(
    result: pd.DataFrame,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    series: Hashable | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Draw an SPC chart from ``xmr`` or ``p_chart``, coloured as Making Data Count.

    Parameters
    ----------
    result
        A frame from :func:`~needskit.commissioning.spc.xmr` or
        :func:`~needskit.commissioning.spc.p_chart`.
    title
        Chart title; default the indicator's column name.
    ax
        Axes to draw on; default a new figure (no pyplot state is touched).
    series
        The series to draw when the chart was made with ``by`` (a tuple for several columns).
    ylabel
        Label of the y axis.

    Returns
    -------
    matplotlib Figure. Its lines carry ``gid`` ``"value"``, ``"mean"``, ``"upper_limit"``,
    ``"lower_limit"`` and ``"target"`` (dashed, when there is a target); the points are a
    scatter per variation class with ``gid`` ``"points:<variation>"``: grey common cause,
    blue improving, orange concerning, purple neither.

    Raises
    ------
    SchemaError
        A frame not from :func:`~needskit.commissioning.spc.xmr` or
        :func:`~needskit.commissioning.spc.p_chart`, or several series and no (or an unknown)
        ``series``.

    Notes
    -----
    Mean and limits are drawn per segment, so a rebase shows as a step. Colours follow
    NHSRplotthedots ``ptd_spc_colours()``.

    Examples
    --------
    >>> fig = plot_xmr(
    ...     xmr(monthly, value="rate", time="month"), title="Emergency admissions"
    ... )  # doctest: +SKIP
    """
    meta = chart_meta(result, argument="result")
    keys, time = meta["by"], meta["time"]
    data = result
    if keys:
        labels = series_index(result, keys)
        available = list(labels.unique())
        if series is None and len(available) > 1:
            raise SchemaError(
                "holds several series",
                where="result",
                expected="series= naming one of them",
                got=describe_values(available),
            )
        chosen = available[0] if series is None else series
        if chosen not in available:
            raise SchemaError(
                "is not a series of the chart",
                where="series",
                expected=f"one of {available[:5]}",
                got=repr(series),
            )
        data = result[series_mask(result, keys, chosen)]
    fig: Figure
    if ax is None:
        fig = ReportFigure(figsize=(9, 4.5), layout="constrained")  # shows itself in notebooks and reports
        ax = fig.add_subplot()
    else:
        # the figure holding the caller's axes (never None for an Axes; matplotlib types it as
        # Figure | SubFigure | None, and this function returns it as the Figure it documents)
        fig = cast(Figure, ax.get_figure())
    x = data[time]
    if isinstance(x.dtype, pd.PeriodDtype):
        x = x.dt.to_timestamp()
    x = x.to_numpy()

    ax.plot(
        x,
        data["value"].to_numpy(),
        color=COLOURS["value_line"],
        linewidth=1.5,
        gid="value",
        label="value",
        zorder=2,
    )
    for number, (_, part) in enumerate(data.groupby("segment", sort=True)):
        xs = x[data["segment"].to_numpy() == part["segment"].iloc[0]]
        hide = "" if number == 0 else "_"
        ax.plot(
            xs,
            part["mean"].to_numpy(),
            color=COLOURS["mean"],
            linewidth=1.2,
            gid="mean",
            label=f"{hide}mean",
            drawstyle="steps-mid",
            zorder=1,
        )
        ax.plot(
            xs,
            part["upper_limit"].to_numpy(),
            color=COLOURS["limit"],
            linestyle="--",
            linewidth=1,
            gid="upper_limit",
            label=f"{hide}process limits",
            drawstyle="steps-mid",
            zorder=1,
        )
        ax.plot(
            xs,
            part["lower_limit"].to_numpy(),
            color=COLOURS["limit"],
            linestyle="--",
            linewidth=1,
            gid="lower_limit",
            label="_lower",
            drawstyle="steps-mid",
            zorder=1,
        )
    if data["target"].notna().any():
        ax.plot(
            x,
            data["target"].to_numpy(dtype=float),
            color=COLOURS["target"],
            linestyle=(0, (5, 3)),
            linewidth=1.3,
            gid="target",
            label="target",
            zorder=1,
        )
    for variation in VARIATIONS:
        mask = (data["variation"] == variation).to_numpy()
        if mask.any():
            ax.scatter(
                x[mask],
                data["value"].to_numpy()[mask],
                color=COLOURS[variation],
                s=28,
                zorder=3,
                gid=f"points:{variation}",
                label=variation,
            )
    ax.set_title(title if title is not None else str(meta["value"]))
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.legend(loc="best", fontsize="small", frameon=False)
    ax.grid(axis="y", color="#eeeeee")
    return fig
