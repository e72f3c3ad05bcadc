"""Monitoring: statistical process control charts as NHS England's *Making Data Count* draws them.

An indicator's monthly (or quarterly) values are read as a process: the centre line is the mean,
the process limits are where nearly all values of a stable process fall, and four rules say when
a point is *special cause variation* rather than noise. Each point is then labelled improving,
concerning or neither (by the indicator's polarity), and the process is compared with its target
(*assurance*: will it consistently meet the target, consistently fail it, or hit and miss?).

- :func:`xmr` — XmR (individuals) chart for any measure.
- :func:`p_chart` — p chart for a proportion with a numerator and denominator per period.
- :func:`board_summary` — one row per indicator with the latest value and the variation and
  assurance icons, the table a partnership board reads.
- :func:`plot_xmr` — the chart, coloured as Making Data Count colours it.
- :class:`SpcRules` — the house rules (run lengths, which tests), printable in a report.

References
----------
NHS England and NHS Improvement (2019, updated 2021), *Making Data Count: Getting started* and
*Strengthening your decisions*. NHS-R Community, NHSRplotthedots (R package), ``ptd_spc``.
Wheeler, D. J. (1993), *Understanding Variation*.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from needskit._checks import (
    as_list,
    require_choice,
    require_columns,
    require_frame,
    require_non_negative,
    require_numeric,
)
from needskit.errors import NeedskitWarning, SchemaError, describe_values
from needskit.reports.charts import ReportFigure

__all__ = [
    "SpcRules",
    "POLARITIES",
    "VARIATIONS",
    "ASSURANCES",
    "COLOURS",
    "xmr",
    "p_chart",
    "board_summary",
    "plot_xmr",
]

Polarity = Literal["high_is_good", "high_is_bad", "no_judgement"]
POLARITIES: tuple[str, ...] = ("high_is_good", "high_is_bad", "no_judgement")
VARIATIONS: tuple[str, ...] = (
    "common cause",
    "special cause improving",
    "special cause concerning",
    "special cause (no judgement)",
)
ASSURANCES: tuple[str, ...] = (
    "consistently meets target",
    "consistently fails target",
    "inconsistent",
    "no target",
)

XMR_CONSTANT = 2.66
"""Process limits are mean ± 2.66 × mean moving range (3 / d2, d2 = 1.128 for ranges of two)."""
SCREEN_CONSTANT = 3.267
"""Upper range limit: moving ranges above 3.267 × their mean are screened out (D4 for n = 2)."""
MIN_POINTS = 12
"""Fewer points than this in a segment's baseline give unreliable limits (a warning, as NHSRplotthedots)."""

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

_VARIATION_ICONS = {
    ("common cause", ""): "common_cause",
    ("special cause improving", "high"): "improvement_high",
    ("special cause improving", "low"): "improvement_low",
    ("special cause concerning", "high"): "concern_high",
    ("special cause concerning", "low"): "concern_low",
    ("special cause (no judgement)", "high"): "neither_high",
    ("special cause (no judgement)", "low"): "neither_low",
}
_ASSURANCE_ICONS = {
    "consistently meets target": "pass",
    "consistently fails target": "fail",
    "inconsistent": "hit_or_miss",
    "no target": "no_target",
}
_ATTRS_KEY = "needskit_spc"


# --------------------------------------------------------------------------------------------
# House rules


@dataclass(frozen=True)
class SpcRules:
    """The special-cause rules applied to a chart (Making Data Count defaults).

    Parameters
    ----------
    shift_run
        A run of this many consecutive points on the same side of the mean is a shift
        (Making Data Count: 7). ``None`` switches the rule off.
    trend_run
        This many consecutive points each higher (or each lower) than the one before is a trend
        (Making Data Count: 7). ``None`` switches the rule off.
    two_of_three
        Flag 2 of 3 consecutive points beyond the 2σ line (two thirds of the way from the mean to
        a process limit) on the same side.
    outside_limits
        Flag a point above the upper or below the lower process limit.
    screen_moving_ranges
        XmR charts only: leave moving ranges above 3.267 × the mean moving range out of the mean
        moving range before the limits are computed (one pass), so that one freak month does not
        widen the limits. NHSRplotthedots ``ptd_spc(screen_outliers = TRUE)`` does the same.

    Notes
    -----
    A point exactly on the mean breaks a shift, and two equal consecutive values break a trend
    (as NHSRplotthedots). Every point of a qualifying run is flagged, not only the seventh.
    Two of three: any window of three consecutive points with two beyond the same 2σ line
    flags those two; a point beyond the process limit also counts as beyond 2σ, and the third
    point may lie anywhere (NHSRplotthedots counts only points between 2σ and 3σ and asks all
    three to sit on the same side of the mean). Screening keeps moving ranges ≤ 3.267 × mean
    (NHSRplotthedots: <), so a constant series keeps zero-width limits rather than none.

    Examples
    --------
    >>> SpcRules(shift_run=6).describe()  # doctest: +ELLIPSIS
    'Rules used: a point outside the process limits; a run of 6 or more points ...'
    """

    shift_run: int | None = 7
    trend_run: int | None = 7
    two_of_three: bool = True
    outside_limits: bool = True
    screen_moving_ranges: bool = True

    def __post_init__(self) -> None:
        for name in ("shift_run", "trend_run"):
            run = getattr(self, name)
            if run is not None and (
                isinstance(run, bool) or not isinstance(run, int | np.integer) or run < 2
            ):
                raise SchemaError(
                    "is not a usable run length",
                    where=f"SpcRules({name}=...)",
                    expected="a whole number of 2 or more, or None to switch the rule off",
                    got=repr(run),
                )
        for name in ("two_of_three", "outside_limits", "screen_moving_ranges"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise SchemaError(
                    "is not True or False", where=f"SpcRules({name}=...)", got=repr(getattr(self, name))
                )

    def describe(self, *, chart: Literal["xmr", "p"] = "xmr") -> str:
        """The sentence a report prints under the chart: which rules flagged special causes."""
        rules = []
        if self.outside_limits:
            rules.append("a point outside the process limits")
        if self.shift_run is not None:
            rules.append(f"a run of {self.shift_run} or more points on one side of the mean")
        if self.trend_run is not None:
            rules.append(
                f"{self.trend_run} or more points in a row each higher (or each lower) than the one before"
            )
        if self.two_of_three:
            rules.append(
                "2 of 3 consecutive points beyond two thirds of the way to a process limit, on the same side"
            )
        text = (
            "Rules used: "
            + ("; ".join(rules) if rules else "none (no special-cause rule is switched on)")
            + "."
        )
        if chart == "xmr":
            text += " Limits: mean ± 2.66 × mean moving range"
            text += (
                ", moving ranges above 3.267 × their mean left out."
                if self.screen_moving_ranges
                else ", all moving ranges used."
            )
        else:
            text += " Limits: p̄ ± 3 standard errors for each period's denominator."
        return text


# --------------------------------------------------------------------------------------------
# Charts


def xmr(
    df: pd.DataFrame,
    *,
    value: str,
    time: str,
    rules: SpcRules | None = None,
    polarity: Polarity = "high_is_good",
    target: float | Mapping[Hashable, float] | None = None,
    rebase: Sequence[Any] | Mapping[Hashable, Sequence[Any]] | None = None,
    baseline: int | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """XmR (individuals and moving range) chart with Making Data Count rules and icons.

    Parameters
    ----------
    df
        One row per period (per indicator or area when ``by`` is given). Not modified.
    value
        Column of the measured values.
    time
        Column that orders the periods (dates, periods or numbers); unique within each series.
    rules
        The special-cause rules; default :class:`SpcRules` () — Making Data Count's.
    polarity
        ``"high_is_good"``, ``"high_is_bad"`` or ``"no_judgement"``: which way is improvement.
    target
        A target for every series, or ``{series key: target}`` when ``by`` is given (a tuple key
        for several ``by`` columns); series without one get ``assurance = "no target"``.
    rebase
        Dates (values of ``time``) at which the process changed: limits are recalculated from the
        first period on or after each date. A mapping ``{series key: [dates]}`` rebases series
        separately.
    baseline
        Compute each segment's mean and limits from its first ``baseline`` points only and extend
        them (limits "fixed" after a baseline period); default all points.
    by
        Column(s) naming separate series (indicator, area); each gets its own chart.

    Returns
    -------
    DataFrame, one row per point, sorted by ``by`` and ``time``:
    the ``by`` columns, ``time``; ``value``; ``moving_range`` (|change from the previous point of
    the same segment|); ``mean``; ``mean_moving_range`` (after screening); ``lower_limit``,
    ``upper_limit`` (mean ∓ 2.66 × mean moving range); ``lower_2sigma``, ``upper_2sigma``;
    ``segment`` (1, 2, ... from each rebase); the rule flags ``outside_limits``, ``shift``,
    ``trend``, ``two_of_three``; ``special_cause`` (any rule); ``direction`` (``"high"``/``"low"``
    for a special-cause point, else missing); ``variation`` (one of :data:`VARIATIONS`);
    ``target``; ``assurance`` (one of :data:`ASSURANCES`, from the point's segment limits).
    The chart type, polarity and rules are kept in ``result.attrs["needskit_spc"]``.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, missing values, repeated periods, unknown polarity, a
        target with ``polarity="no_judgement"``, a rebase date after the series ends, unknown
        series keys, a segment with fewer than 2 points.

    Warns
    -----
    NeedskitWarning
        A segment's limits rest on fewer than 12 points.

    Notes
    -----
    Centre = mean; mRₜ = |yₜ − yₜ₋₁| within a segment; limits = mean ± 2.66 × mean(mR); the 2σ
    line is two thirds of the way to a limit. Moving ranges above 3.267 × mean(mR) are left out
    of mean(mR) when ``rules.screen_moving_ranges`` (default, as NHSRplotthedots). A special-cause
    point is "high" when it lies above the mean (for a trend alone: when the trend rises);
    improving or concerning then follows the polarity. Assurance: a target beyond the process
    limits is consistently met or failed (by polarity); one inside them is hit and miss.
    Reference: NHS England, *Making Data Count* (2019); NHSRplotthedots ``ptd_spc``.

    Examples
    --------
    >>> chart = xmr(monthly, value="rate", time="month", polarity="high_is_bad", target=12)  # doctest: +SKIP
    >>> chart[["month", "value", "variation", "assurance"]].tail(1)  # doctest: +SKIP
    """
    require_frame(df)
    keys = as_list(by)
    require_columns(df, [value], argument="value")
    require_columns(df, [time], argument="time")
    require_columns(df, keys, argument="by")
    require_numeric(df, [value], allow_missing=False)
    rules = _check_common(
        df, time=time, keys=keys, rules=rules, polarity=polarity, target=target, baseline=baseline
    )

    frame = _sorted(df, time=time, keys=keys)
    y = frame[value].to_numpy(dtype=float)
    if not np.isfinite(y).all():
        raise SchemaError("has infinite values", where=f"column {value!r}", expected="finite numbers")
    group, seg = _segments(frame, time=time, keys=keys, rebase=rebase)
    pos, first = _positions(seg)
    use = _baseline_mask(pos, baseline)
    _check_segment_sizes(frame, seg, use, keys=keys, time=time)

    n_seg = int(seg.max()) + 1
    counts = np.bincount(seg, weights=use, minlength=n_seg)
    mean_seg = np.bincount(seg, weights=np.where(use, y, 0.0), minlength=n_seg) / counts
    moving = np.full(len(y), np.nan)
    moving[~first] = np.abs(np.diff(y))[~first[1:]]
    mr_use = ~first & use  # both points of the range in the baseline
    amr = _mean_by(moving, mr_use, seg, n_seg)
    if rules.screen_moving_ranges:
        mr_use = mr_use & (moving <= SCREEN_CONSTANT * amr[seg])
        amr = _mean_by(moving, mr_use, seg, n_seg)

    centre = mean_seg[seg]
    spread = XMR_CONSTANT * amr[seg]
    out = frame[keys + [time]].copy()
    out["value"] = y
    out["moving_range"] = moving
    out["mean"] = centre
    out["mean_moving_range"] = amr[seg]
    out["lower_limit"] = centre - spread
    out["upper_limit"] = centre + spread
    out["lower_2sigma"] = centre - spread * 2 / 3
    out["upper_2sigma"] = centre + spread * 2 / 3
    return _finish(
        out,
        frame,
        group,
        seg,
        first,
        rules=rules,
        polarity=polarity,
        target=target,
        keys=keys,
        chart="xmr",
        value=value,
        time=time,
    )


def p_chart(
    df: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    time: str,
    rules: SpcRules | None = None,
    polarity: Polarity = "high_is_good",
    target: float | Mapping[Hashable, float] | None = None,
    rebase: Sequence[Any] | Mapping[Hashable, Sequence[Any]] | None = None,
    baseline: int | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """p chart for a proportion (e.g. share of referrals seen within 18 weeks) per period.

    Parameters
    ----------
    df
        One row per period (per series when ``by`` is given). Not modified.
    numerator, denominator
        Columns of the count with the attribute and the count at risk, ``0 ≤ x ≤ n``, ``n > 0``.
    time, rules, polarity, rebase, baseline, by
        As :func:`xmr`.
    target
        A proportion (0–1), or ``{series key: target}``.

    Returns
    -------
    DataFrame, one row per point: the ``by`` columns, ``time``, ``numerator``, ``denominator``,
    ``value`` (x / n), ``mean`` (p̄ = Σx / Σn over the segment's baseline), ``lower_limit``,
    ``upper_limit`` (p̄ ∓ 3√(p̄(1 − p̄)/nᵢ), clipped to [0, 1]), ``lower_2sigma``,
    ``upper_2sigma`` (∓ 2 standard errors, clipped), ``segment``, the rule flags,
    ``special_cause``, ``direction``, ``variation``, ``target``, ``assurance`` — as :func:`xmr`.

    Raises
    ------
    SchemaError
        As :func:`xmr`; also a negative numerator, a denominator ≤ 0, a numerator above its
        denominator, or a target outside [0, 1].

    Notes
    -----
    Limits vary with each period's denominator (Montgomery, *Introduction to Statistical Quality
    Control*, ch. 7; NHS England, *Making Data Count*). The rules are those of :func:`xmr`; the
    2σ line is p̄ ± 2 standard errors.

    Examples
    --------
    >>> p_chart(waits, numerator="seen_18wk", denominator="referrals", time="month", target=0.92)  # doctest: +SKIP
    """
    require_frame(df)
    keys = as_list(by)
    require_columns(df, [numerator, denominator], argument="numerator/denominator")
    require_columns(df, [time], argument="time")
    require_columns(df, keys, argument="by")
    require_numeric(df, [numerator, denominator], allow_missing=False)
    require_non_negative(df, [numerator])
    bad = df[denominator] <= 0
    if bad.any():
        raise SchemaError(
            "has denominators of zero or less",
            where=f"column {denominator!r}",
            expected="a count above zero",
            got=f"{describe_values(df.loc[bad, denominator].tolist())} at rows {list(df.index[bad][:5])}",
            hint="leave periods with no one at risk out of the chart",
        )
    over = df[numerator] > df[denominator]
    if over.any():
        raise SchemaError(
            "is larger than its denominator",
            where=f"column {numerator!r}",
            expected=f"at most {denominator!r}",
            got=f"{int(over.sum())} rows, e.g. rows {list(df.index[over][:5])}",
        )
    rules = _check_common(
        df, time=time, keys=keys, rules=rules, polarity=polarity, target=target, baseline=baseline
    )
    for t in _target_values(target):
        if not 0 <= t <= 1:
            raise SchemaError(
                "is not a proportion", where="target", expected="a value between 0 and 1", got=repr(t)
            )

    frame = _sorted(df, time=time, keys=keys)
    x = frame[numerator].to_numpy(dtype=float)
    n = frame[denominator].to_numpy(dtype=float)
    group, seg = _segments(frame, time=time, keys=keys, rebase=rebase)
    pos, first = _positions(seg)
    use = _baseline_mask(pos, baseline)
    _check_segment_sizes(frame, seg, use, keys=keys, time=time)

    n_seg = int(seg.max()) + 1
    pbar = (
        np.bincount(seg, weights=np.where(use, x, 0.0), minlength=n_seg)
        / np.bincount(seg, weights=np.where(use, n, 0.0), minlength=n_seg)
    )[seg]
    se = np.sqrt(pbar * (1 - pbar) / n)
    out = frame[keys + [time]].copy()
    out["numerator"] = x
    out["denominator"] = n
    out["value"] = x / n
    out["mean"] = pbar
    out["lower_limit"] = np.clip(pbar - 3 * se, 0, 1)
    out["upper_limit"] = np.clip(pbar + 3 * se, 0, 1)
    out["lower_2sigma"] = np.clip(pbar - 2 * se, 0, 1)
    out["upper_2sigma"] = np.clip(pbar + 2 * se, 0, 1)
    return _finish(
        out,
        frame,
        group,
        seg,
        first,
        rules=rules,
        polarity=polarity,
        target=target,
        keys=keys,
        chart="p",
        value=numerator,
        time=time,
    )


# --------------------------------------------------------------------------------------------
# Board summary and chart


def board_summary(*results: pd.DataFrame, names: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per indicator (per series): latest value, variation and assurance, with icon codes.

    Parameters
    ----------
    *results
        Frames returned by :func:`xmr` or :func:`p_chart`, one per indicator (each may hold
        several series through ``by``).
    names
        Indicator names, one per result; default the value (or numerator) column's name.

    Returns
    -------
    DataFrame with ``indicator`` (a ``by`` column of that name is used as it is, prefixed by
    ``names`` when given), the ``by`` columns of any result, ``time`` (latest period),
    ``value``, ``mean``, ``lower_limit``, ``upper_limit``, ``target``, ``polarity``, ``chart``,
    ``n_points`` (points in the latest segment), ``variation`` and ``variation_icon``
    (``common_cause``, ``improvement_high``/``_low``, ``concern_high``/``_low``,
    ``neither_high``/``_low``), ``assurance`` and ``assurance_icon`` (``pass``, ``fail``,
    ``hit_or_miss``, ``no_target``).

    Raises
    ------
    SchemaError
        No results, a frame that did not come from :func:`xmr`/:func:`p_chart`, or ``names`` of
        the wrong length.

    Notes
    -----
    The variation icon describes the latest point (as Making Data Count and NHSRplotthedots);
    assurance uses the latest segment's limits. Icon codes name Making Data Count's icons: the
    letter H or L and the colour (blue improving, orange concerning, purple neither, grey common
    cause); assurance P (pass), F (fail) or ? (hit and miss).

    Examples
    --------
    >>> board_summary(xmr(a, value="v", time="t"), p_chart(b, numerator="x", denominator="n", time="t"),
    ...               names=["A&E waits", "Screening uptake"])  # doctest: +SKIP
    """
    if not results:
        raise SchemaError(
            "no charts given", where="results", expected="one or more frames from xmr() or p_chart()"
        )
    if names is not None and (isinstance(names, str) or len(names) != len(results)):
        raise SchemaError(
            "does not name every result", where="names", expected=f"{len(results)} names", got=repr(names)
        )
    pieces = []
    for i, result in enumerate(results):
        meta = _meta(result, argument=f"results[{i}]")
        keys, time = meta["by"], meta["time"]
        latest = result.groupby(keys, sort=False, dropna=False).tail(1) if keys else result.tail(1)
        last_seg = (
            result.groupby(keys, sort=False, dropna=False)["segment"].transform("max")
            if keys
            else result["segment"].max()
        )
        in_last = result[result["segment"] == last_seg]
        sizes = in_last.groupby(keys, sort=False, dropna=False).size() if keys else pd.Series([len(in_last)])
        piece = (
            latest[
                keys
                + [
                    time,
                    "value",
                    "mean",
                    "lower_limit",
                    "upper_limit",
                    "target",
                    "variation",
                    "direction",
                    "assurance",
                ]
            ]
            .rename(columns={time: "time"})
            .reset_index(drop=True)
        )
        if "indicator" in keys:  # the series are themselves indicators
            if names is not None:
                piece["indicator"] = f"{names[i]}: " + piece["indicator"].astype(str)
        else:
            piece.insert(0, "indicator", names[i] if names is not None else meta["value"])
        piece["polarity"] = meta["polarity"]
        piece["chart"] = meta["chart"]
        piece["n_points"] = sizes.to_numpy()
        pieces.append(piece)
    out = pd.concat(pieces, ignore_index=True)
    direction = out["direction"].fillna("").astype(str)
    out["variation_icon"] = [
        _VARIATION_ICONS[(v, d)] for v, d in zip(out["variation"], direction, strict=True)
    ]
    out["assurance_icon"] = out["assurance"].map(_ASSURANCE_ICONS)
    order = [
        c
        for c in out.columns
        if c not in ("variation", "direction", "variation_icon", "assurance", "assurance_icon")
    ]
    return out[order + ["variation", "variation_icon", "assurance", "assurance_icon"]]


def plot_xmr(
    result: pd.DataFrame,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    series: Hashable | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Draw an SPC chart from :func:`xmr` or :func:`p_chart`, coloured as Making Data Count.

    Parameters
    ----------
    result
        A frame from :func:`xmr` or :func:`p_chart`.
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
        A frame not from :func:`xmr`/:func:`p_chart`, or several series and no (or an unknown)
        ``series``.

    Notes
    -----
    Mean and limits are drawn per segment, so a rebase shows as a step. Colours follow
    NHSRplotthedots ``ptd_spc_colours()``.

    Examples
    --------
    >>> fig = plot_xmr(xmr(monthly, value="rate", time="month"), title="Emergency admissions")  # doctest: +SKIP
    """
    meta = _meta(result, argument="result")
    keys, time = meta["by"], meta["time"]
    data = result
    if keys:
        labels = _series_index(result, keys)
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
        data = result[_series_mask(result, keys, chosen)]
    if ax is None:
        fig = ReportFigure(figsize=(9, 4.5), layout="constrained")  # shows itself in notebooks and reports
        ax = fig.add_subplot()
    else:
        fig = ax.get_figure()
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


# --------------------------------------------------------------------------------------------
# Internals: validation, segments, rules


def _check_common(
    df: pd.DataFrame,
    *,
    time: str,
    keys: list[str],
    rules: SpcRules | None,
    polarity: str,
    target: Any,
    baseline: int | None,
) -> SpcRules:
    if rules is None:
        rules = SpcRules()
    if not isinstance(rules, SpcRules):
        raise SchemaError(
            "is not an SpcRules", where="rules", expected="SpcRules(...) or None", got=type(rules).__name__
        )
    require_choice(polarity, POLARITIES, argument="polarity")
    if df[time].isna().any():
        rows = list(df.index[df[time].isna()][:5])
        raise SchemaError(
            "has missing periods",
            where=f"column {time!r}",
            expected="a period in every row",
            got=f"{int(df[time].isna().sum())} missing, e.g. rows {rows}",
        )
    repeated = df.duplicated(keys + [time], keep=False)
    if repeated.any():
        raise SchemaError(
            "has repeated periods",
            where=f"column {time!r}",
            expected="one row per period" + (f" and {keys}" if keys else ""),
            got=describe_values(df.loc[repeated, time].astype(str).tolist()),
            hint="aggregate to one value per period first"
            + ("" if keys else ", or pass by= for several series"),
        )
    if baseline is not None and (
        isinstance(baseline, bool) or not isinstance(baseline, int | np.integer) or baseline < 2
    ):
        raise SchemaError(
            "is not a usable baseline",
            where="baseline",
            expected="a whole number of 2 or more, or None",
            got=repr(baseline),
        )
    values = _target_values(target)
    if values and polarity == "no_judgement":
        raise SchemaError(
            "cannot be judged",
            where="target",
            expected="no target when polarity='no_judgement'",
            got=repr(target),
            hint="say which way is better with polarity='high_is_good' or 'high_is_bad'",
        )
    if isinstance(target, Mapping):
        if not keys:
            raise SchemaError(
                "is a mapping but the chart has one series",
                where="target",
                expected="a number",
                got=repr(target),
            )
        _check_keys(df, keys, target.keys(), argument="target")
    if any(not np.isfinite(v) for v in values):
        raise SchemaError("is not a finite number", where="target", got=repr(target))
    return rules


def _target_values(target: Any) -> list[float]:
    if target is None:
        return []
    raw = list(target.values()) if isinstance(target, Mapping) else [target]
    try:
        return [float(v) for v in raw if v is not None]
    except (TypeError, ValueError):
        raise SchemaError(
            "is not a number", where="target", expected="a number or {series: number}", got=repr(target)
        ) from None


def _series_index(frame: pd.DataFrame, keys: list[str]) -> pd.Index:
    """The series key of each row: a value for one ``by`` column, a tuple (MultiIndex) for several."""
    return pd.MultiIndex.from_frame(frame[keys]) if len(keys) > 1 else pd.Index(frame[keys[0]])


def _series_mask(frame: pd.DataFrame, keys: list[str], key: Hashable) -> np.ndarray:
    return np.asarray(_series_index(frame, keys).isin([key]), dtype=bool)


def _check_keys(df: pd.DataFrame, keys: list[str], given: Any, *, argument: str) -> None:
    known = set(_series_index(df, keys).unique())
    unknown = [k for k in given if k not in known]
    if unknown:
        raise SchemaError(
            "names series that are not in the frame",
            where=argument,
            expected=f"keys among {sorted(map(str, known))[:5]}",
            got=describe_values(unknown),
        )


def _sorted(df: pd.DataFrame, *, time: str, keys: list[str]) -> pd.DataFrame:
    return df.sort_values(keys + [time], kind="stable").reset_index(drop=True)


def _segments(
    frame: pd.DataFrame,
    *,
    time: str,
    keys: list[str],
    rebase: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Series number and segment number (consecutive, global) of each sorted row."""
    n = len(frame)
    if n == 0:
        raise SchemaError("has no rows", where="df", expected="at least 2 periods")
    group = (
        frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy() if keys else np.zeros(n, dtype=int)
    )
    start = np.ones(n, dtype=bool)
    start[1:] = group[1:] != group[:-1]
    if rebase is not None:
        times = frame[time]
        if isinstance(rebase, Mapping):
            if not keys:
                raise SchemaError(
                    "is a mapping but the chart has one series",
                    where="rebase",
                    expected="a list of dates",
                    got=repr(rebase),
                )
            _check_keys(frame, keys, rebase.keys(), argument="rebase")
            items = [(_series_mask(frame, keys, key), _date_list(dates)) for key, dates in rebase.items()]
        else:
            items = [(np.ones(n, dtype=bool), _date_list(rebase))]
        for mask, dates in items:
            for date in dates:
                after = _on_or_after(times, date) & mask
                # first row on or after the date in each series covered by the mask
                first_after = after & ~np.r_[False, after[:-1] & (group[1:] == group[:-1])]
                ended = np.setdiff1d(np.unique(group[mask]), np.unique(group[first_after]))
                if len(ended):
                    raise SchemaError(
                        "is after the end of the series",
                        where=f"rebase date {date!r}",
                        expected=f"a value of {time!r} within the series",
                        got=f"{len(ended)} series ending before it",
                    )
                start |= first_after
    return group, np.cumsum(start) - 1


def _date_list(dates: Any) -> list[Any]:
    if isinstance(dates, str) or not isinstance(dates, Sequence | np.ndarray | pd.Index | pd.Series):
        return [dates]
    return list(dates)


def _on_or_after(times: pd.Series, date: Any) -> np.ndarray:
    try:
        if pd.api.types.is_datetime64_any_dtype(times):
            if isinstance(date, int | float | np.number):
                raise TypeError("a number is not a date")
            date = pd.Timestamp(date)
        elif isinstance(times.dtype, pd.PeriodDtype):
            date = pd.Period(date, freq=times.dtype.freq)
        return (times >= date).to_numpy(dtype=bool)
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            "cannot be compared with the periods",
            where=f"rebase date {date!r}",
            expected=f"a value like those in the time column ({times.dtype})",
            got=repr(date),
        ) from exc


def _positions(seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first = np.ones(len(seg), dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    starts = np.flatnonzero(first)
    pos = np.arange(len(seg)) - starts[seg]
    return pos, first


def _baseline_mask(pos: np.ndarray, baseline: int | None) -> np.ndarray:
    return np.ones(len(pos), dtype=bool) if baseline is None else pos < baseline


def _check_segment_sizes(
    frame: pd.DataFrame, seg: np.ndarray, use: np.ndarray, *, keys: list[str], time: str
) -> None:
    sizes = np.bincount(seg, weights=use).astype(int)
    firsts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])

    def starts(which: np.ndarray) -> list[str]:
        return frame.iloc[firsts[which]][keys + [time]].astype(str).agg(" ".join, axis=1).tolist()

    tiny = np.flatnonzero(sizes < 2)
    if len(tiny):
        raise SchemaError(
            "has a segment with fewer than 2 points",
            where="rebase/baseline" if len(sizes) > 1 else "df",
            expected="at least 2 points to compute limits from",
            got="segments starting " + describe_values(starts(tiny)),
            hint="move the rebase date, or add more periods",
        )
    short = np.flatnonzero(sizes < MIN_POINTS)
    if len(short):
        warnings.warn(
            f"{len(short)} segment(s) have limits computed from fewer than {MIN_POINTS} points "
            f"(starting {', '.join(starts(short[:5]))}); treat their special causes with care",
            NeedskitWarning,
            stacklevel=3,
        )


def _mean_by(values: np.ndarray, mask: np.ndarray, seg: np.ndarray, n_seg: int) -> np.ndarray:
    total = np.bincount(seg, weights=np.where(mask, values, 0.0), minlength=n_seg)
    count = np.bincount(seg, weights=mask, minlength=n_seg)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def _run_lengths(labels: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Length of the run of equal ``labels`` (within a segment) each element belongs to."""
    new = np.ones(len(labels), dtype=bool)
    new[1:] = (labels[1:] != labels[:-1]) | (seg[1:] != seg[:-1])
    run = np.cumsum(new) - 1
    return np.bincount(run)[run]


def _apply_rules(
    y: np.ndarray,
    centre: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    lower2: np.ndarray,
    upper2: np.ndarray,
    seg: np.ndarray,
    first: np.ndarray,
    rules: SpcRules,
) -> dict[str, np.ndarray]:
    n = len(y)
    side = np.sign(y - centre).astype(int)
    same_as_prev = ~first

    outside = (y > upper) | (y < lower) if rules.outside_limits else np.zeros(n, dtype=bool)

    if rules.shift_run is not None:
        shift = (side != 0) & (_run_lengths(side, seg) >= rules.shift_run)
    else:
        shift = np.zeros(n, dtype=bool)

    trend = np.zeros(n, dtype=bool)
    trend_dir = np.zeros(n, dtype=int)
    if rules.trend_run is not None and n > 1:
        step = np.zeros(n, dtype=int)  # sign of the change into each point (0 at a segment start)
        step[1:] = np.where(same_as_prev[1:], np.sign(np.diff(y)), 0)
        into = (step != 0) & (_run_lengths(step, seg) >= rules.trend_run - 1)
        out_of = np.zeros(n, dtype=bool)
        out_of[:-1] = into[1:]
        trend = into | out_of
        step_out = np.zeros(n, dtype=int)
        step_out[:-1] = step[1:]
        trend_dir = np.where(into, step, np.where(out_of, step_out, 0))

    two = np.zeros(n, dtype=bool)
    if rules.two_of_three and n >= 3:
        for beyond in (y > upper2, y < lower2):
            count = beyond[2:].astype(int) + beyond[1:-1] + beyond[:-2]
            window = np.zeros(n, dtype=bool)  # window of three ending at each point qualifies
            window[2:] = (count >= 2) & (seg[2:] == seg[:-2])
            covered = window.copy()
            covered[:-1] |= window[1:]
            covered[:-2] |= window[2:]
            two |= beyond & covered

    level = outside | shift | two
    special = level | trend
    direction = np.where(level, side, np.where(trend, trend_dir, 0))
    return {
        "outside_limits": outside,
        "shift": shift,
        "trend": trend,
        "two_of_three": two,
        "special_cause": special,
        "direction": direction,
    }


def _finish(
    out: pd.DataFrame,
    frame: pd.DataFrame,
    group: np.ndarray,
    seg: np.ndarray,
    first: np.ndarray,
    *,
    rules: SpcRules,
    polarity: str,
    target: Any,
    keys: list[str],
    chart: str,
    value: str,
    time: str,
) -> pd.DataFrame:
    seg_in_group = seg - seg[np.flatnonzero(np.r_[True, group[1:] != group[:-1]])][group] + 1
    out["segment"] = seg_in_group
    flags = _apply_rules(
        out["value"].to_numpy(),
        out["mean"].to_numpy(),
        out["lower_limit"].to_numpy(),
        out["upper_limit"].to_numpy(),
        out["lower_2sigma"].to_numpy(),
        out["upper_2sigma"].to_numpy(),
        seg,
        first,
        rules,
    )
    for name in ("outside_limits", "shift", "trend", "two_of_three", "special_cause"):
        out[name] = flags[name]
    direction = flags["direction"]
    out["direction"] = pd.Series(
        np.where(direction > 0, "high", np.where(direction < 0, "low", None)), index=out.index, dtype="string"
    )
    good = {"high_is_good": 1, "high_is_bad": -1, "no_judgement": 0}[polarity]
    variation = np.full(len(out), "common cause", dtype=object)
    if good == 0:
        variation[flags["special_cause"]] = "special cause (no judgement)"
    else:
        variation[flags["special_cause"] & (direction == good)] = "special cause improving"
        variation[flags["special_cause"] & (direction == -good)] = "special cause concerning"
    out["variation"] = pd.Series(variation, index=out.index, dtype="string")

    if isinstance(target, Mapping):
        given = pd.Series({k: np.nan if v is None else float(v) for k, v in target.items()}, dtype=float)
        targets = given.reindex(_series_index(frame, keys)).to_numpy(dtype=float)
    else:
        targets = np.full(len(out), np.nan if target is None else float(target))
    out["target"] = targets
    lower, upper = out["lower_limit"].to_numpy(), out["upper_limit"].to_numpy()
    meets = (targets < lower) if good > 0 else (targets > upper)
    fails = (targets > upper) if good > 0 else (targets < lower)
    assurance = np.where(
        np.isnan(targets),
        "no target",
        np.where(
            meets, "consistently meets target", np.where(fails, "consistently fails target", "inconsistent")
        ),
    )
    out["assurance"] = pd.Series(assurance, index=out.index, dtype="string")
    out.attrs = {
        _ATTRS_KEY: {
            "chart": chart,
            "polarity": polarity,
            "rules": rules,
            "rules_text": rules.describe(chart=chart),
            "by": keys,
            "time": time,
            "value": value,
        }
    }
    return out


def _meta(result: Any, *, argument: str) -> dict[str, Any]:
    require_frame(result, name=argument)
    meta = result.attrs.get(_ATTRS_KEY)
    needed = {
        "value",
        "mean",
        "lower_limit",
        "upper_limit",
        "segment",
        "variation",
        "direction",
        "assurance",
        "target",
    }
    if meta is None or not needed.issubset(result.columns):
        raise SchemaError(
            "is not an SPC chart",
            where=argument,
            expected="a frame returned by xmr() or p_chart()",
            got=f"columns {list(result.columns)[:8]}",
            hint="pandas keeps .attrs through most operations; filter the chart rather than rebuilding it",
        )
    return meta
