"""SPC charts: XmR and p charts as NHS England's *Making Data Count* computes them.

An indicator's monthly (or quarterly) values are read as a process: the centre line is the mean,
the process limits are where nearly all values of a stable process fall, and four rules say when
a point is *special cause variation* rather than noise. Each point is then labelled improving,
concerning or neither (by the indicator's polarity), and the process is compared with its target
(*assurance*: will it consistently meet the target, consistently fail it, or hit and miss?).

- :func:`xmr` — XmR (individuals) chart for any measure.
- :func:`p_chart` — p chart for a proportion with a numerator and denominator per period.

The rules are applied by :mod:`needskit.commissioning.spc_rules`, series and segments are
numbered by :mod:`needskit.commissioning.spc_segments`; the board table is
:mod:`needskit.commissioning.spc_board` and the drawing :mod:`needskit.commissioning.spc_plot`.
The commissioning package exports :func:`xmr`, :func:`p_chart`, ``board_summary`` and ``SpcRules``.

References
----------
NHS England and NHS Improvement (2019, updated 2021), *Making Data Count: Getting started* and
*Strengthening your decisions*. NHS-R Community, NHSRplotthedots (R package), ``ptd_spc``.
Wheeler, D. J. (1993), *Understanding Variation*.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from needskit._checks import as_list, require_columns, require_frame, require_non_negative, require_numeric
from needskit.commissioning.spc_rules import Chart, Polarity, SpcRules, apply_rules
from needskit.commissioning.spc_segments import (
    baseline_mask,
    check_chart_arguments,
    check_segment_sizes,
    segment_mean,
    segment_positions,
    segments,
    series_index,
    sort_series,
    target_values,
)
from needskit.errors import SchemaError, describe_values

__all__ = ["XMR_CONSTANT", "SCREEN_CONSTANT", "xmr", "p_chart", "chart_meta"]

XMR_CONSTANT = 2.66
"""Process limits are mean ± 2.66 × mean moving range (3 / d2, d2 = 1.128 for ranges of two)."""
SCREEN_CONSTANT = 3.267
"""Upper range limit: moving ranges above 3.267 × their mean are screened out (D4 for n = 2)."""
_ATTRS_KEY = "needskit_spc"


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
        The special-cause rules; default :class:`~needskit.commissioning.spc_rules.SpcRules` ()
        — Making Data Count's.
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
    for a special-cause point, else missing); ``variation`` (one of
    :data:`~needskit.commissioning.spc_rules.VARIATIONS`); ``target``; ``assurance`` (one of
    :data:`~needskit.commissioning.spc_rules.ASSURANCES`, from the point's segment limits).
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
    rules = check_chart_arguments(
        df, time=time, keys=keys, rules=rules, polarity=polarity, target=target, baseline=baseline
    )

    frame = sort_series(df, time=time, keys=keys)
    y = frame[value].to_numpy(dtype=float)
    if not np.isfinite(y).all():
        raise SchemaError("has infinite values", where=f"column {value!r}", expected="finite numbers")
    group, seg = segments(frame, time=time, keys=keys, rebase=rebase)
    pos, first = segment_positions(seg)
    use = baseline_mask(pos, baseline)
    check_segment_sizes(frame, seg, use, keys=keys, time=time)

    n_seg = int(seg.max()) + 1
    counts = np.bincount(seg, weights=use, minlength=n_seg)
    mean_seg = np.bincount(seg, weights=np.where(use, y, 0.0), minlength=n_seg) / counts
    moving = np.full(len(y), np.nan)
    moving[~first] = np.abs(np.diff(y))[~first[1:]]
    mr_use = ~first & use  # both points of the range in the baseline
    amr = segment_mean(moving, mr_use, seg, n_seg)
    if rules.screen_moving_ranges:
        mr_use = mr_use & (moving <= SCREEN_CONSTANT * amr[seg])
        amr = segment_mean(moving, mr_use, seg, n_seg)

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
    >>> p_chart(
    ...     waits, numerator="seen_18wk", denominator="referrals", time="month", target=0.92
    ... )  # doctest: +SKIP
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
    rules = check_chart_arguments(
        df, time=time, keys=keys, rules=rules, polarity=polarity, target=target, baseline=baseline
    )
    for t in target_values(target):
        if not 0 <= t <= 1:
            raise SchemaError(
                "is not a proportion", where="target", expected="a value between 0 and 1", got=repr(t)
            )

    frame = sort_series(df, time=time, keys=keys)
    x = frame[numerator].to_numpy(dtype=float)
    n = frame[denominator].to_numpy(dtype=float)
    group, seg = segments(frame, time=time, keys=keys, rebase=rebase)
    pos, first = segment_positions(seg)
    use = baseline_mask(pos, baseline)
    check_segment_sizes(frame, seg, use, keys=keys, time=time)

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


def chart_meta(result: Any, *, argument: str) -> dict[str, Any]:
    """What :func:`xmr` or :func:`p_chart` recorded about a chart (``result.attrs["needskit_spc"]``).

    Parameters
    ----------
    result
        A frame returned by :func:`xmr` or :func:`p_chart`.
    argument
        The argument's name, for error messages.

    Returns
    -------
    dict with ``chart``, ``polarity``, ``rules``, ``rules_text``, ``by``, ``time`` and ``value``.

    Raises
    ------
    SchemaError
        Not a DataFrame, or a frame without the chart's metadata or columns.
    """
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
    chart: Chart,
    value: str,
    time: str,
) -> pd.DataFrame:
    seg_in_group = seg - seg[np.flatnonzero(np.r_[True, group[1:] != group[:-1]])][group] + 1
    out["segment"] = seg_in_group
    flags = apply_rules(
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
        np.where(direction > 0, "high", np.where(direction < 0, "low", None)),  # type: ignore[call-overload]
        index=out.index,
        dtype="string",
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
        targets = given.reindex(series_index(frame, keys)).to_numpy(dtype=float)
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
