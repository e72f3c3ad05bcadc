"""SPC series and segments: the checks and bookkeeping shared by the XmR and p charts.

Rows are sorted into series (the ``by`` keys) and numbered into segments (a new segment at each
rebase date), with each point's position in its segment and whether it belongs to the baseline
the limits are computed from. :func:`check_chart_arguments` checks what both chart functions
take; :func:`series_index` and :func:`series_mask` name a row's series, as the plot does too.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from needskit._checks import require_choice
from needskit.commissioning.spc_rules import POLARITIES, SpcRules
from needskit.errors import NeedskitWarning, SchemaError, describe_values

__all__ = [
    "MIN_POINTS",
    "check_chart_arguments",
    "target_values",
    "series_index",
    "series_mask",
    "sort_series",
    "segments",
    "segment_positions",
    "baseline_mask",
    "check_segment_sizes",
    "segment_mean",
]

MIN_POINTS = 12
"""Fewer points than this in a segment's baseline give unreliable limits (a warning, as NHSRplotthedots)."""


def check_chart_arguments(
    df: pd.DataFrame,
    *,
    time: str,
    keys: list[str],
    rules: SpcRules | None,
    polarity: str,
    target: Any,
    baseline: int | None,
) -> SpcRules:
    """Check the arguments :func:`~needskit.commissioning.spc.xmr` and ``p_chart`` share.

    Parameters
    ----------
    df
        The chart's input frame (columns already checked to exist).
    time, keys
        The time column and the ``by`` columns (as a list).
    rules, polarity, target, baseline
        As :func:`~needskit.commissioning.spc.xmr`.

    Returns
    -------
    The rules to apply: ``rules``, or the default
    :class:`~needskit.commissioning.spc_rules.SpcRules` when ``None``.

    Raises
    ------
    SchemaError
        Rules that are not an :class:`~needskit.commissioning.spc_rules.SpcRules`, an unknown
        polarity, missing or repeated periods, a baseline below 2, a target with
        ``polarity="no_judgement"``, a target mapping for a single series or naming unknown
        series, a target that is not a finite number.
    """
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
    values = target_values(target)
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


def target_values(target: Any) -> list[float]:
    """The target's numbers: none for ``None``, one for a number, the values of a mapping.

    Parameters
    ----------
    target
        A number, ``{series key: number or None}`` or ``None``.

    Returns
    -------
    The targets as floats (``None`` values of a mapping left out).

    Raises
    ------
    SchemaError
        A target that is not a number.
    """
    if target is None:
        return []
    raw = list(target.values()) if isinstance(target, Mapping) else [target]
    try:
        return [float(v) for v in raw if v is not None]
    except (TypeError, ValueError):
        raise SchemaError(
            "is not a number", where="target", expected="a number or {series: number}", got=repr(target)
        ) from None


def series_index(frame: pd.DataFrame, keys: list[str]) -> pd.Index:
    """The series key of each row: a value for one ``by`` column, a tuple (MultiIndex) for several.

    Parameters
    ----------
    frame
        Rows of one or more series.
    keys
        The ``by`` columns (one or more).

    Returns
    -------
    Index (or MultiIndex) aligned with the rows of ``frame``.
    """
    return pd.MultiIndex.from_frame(frame[keys]) if len(keys) > 1 else pd.Index(frame[keys[0]])


def series_mask(frame: pd.DataFrame, keys: list[str], key: Hashable) -> np.ndarray:
    """Which rows of ``frame`` belong to the series ``key``.

    Parameters
    ----------
    frame, keys
        As :func:`series_index`.
    key
        A series key: a value, or a tuple for several ``by`` columns.

    Returns
    -------
    Boolean array, one per row.
    """
    return np.asarray(series_index(frame, keys).isin([key]), dtype=bool)


def _check_keys(df: pd.DataFrame, keys: list[str], given: Any, *, argument: str) -> None:
    known = set(series_index(df, keys).unique())
    unknown = [k for k in given if k not in known]
    if unknown:
        raise SchemaError(
            "names series that are not in the frame",
            where=argument,
            expected=f"keys among {sorted(map(str, known))[:5]}",
            got=describe_values(unknown),
        )


def sort_series(df: pd.DataFrame, *, time: str, keys: list[str]) -> pd.DataFrame:
    """The rows sorted by series (``keys``) and then ``time`` (stable), with a fresh 0..n-1 index."""
    return df.sort_values(keys + [time], kind="stable").reset_index(drop=True)


def segments(
    frame: pd.DataFrame,
    *,
    time: str,
    keys: list[str],
    rebase: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Series number and segment number (consecutive, global) of each sorted row.

    Parameters
    ----------
    frame
        Rows sorted by :func:`sort_series`.
    time, keys
        The time column and the ``by`` columns.
    rebase
        As :func:`~needskit.commissioning.spc.xmr`: dates, or ``{series key: dates}``.

    Returns
    -------
    ``(group, seg)``: the series number and the segment number (0, 1, ... across all series) of
    each row; a segment starts at each series' first row and at the first row on or after each
    rebase date.

    Raises
    ------
    SchemaError
        No rows, a rebase mapping for a single series or naming unknown series, a rebase date
        after the end of a series or not comparable with the periods.
    """
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
            items = [(series_mask(frame, keys, key), _date_list(dates)) for key, dates in rebase.items()]
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


def segment_positions(seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's position in its segment (0, 1, ...) and whether it is the segment's first row.

    Parameters
    ----------
    seg
        Segment numbers from :func:`segments` (rows of a segment are consecutive).

    Returns
    -------
    ``(pos, first)``: integer positions and a boolean array.
    """
    first = np.ones(len(seg), dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    starts = np.flatnonzero(first)
    pos = np.arange(len(seg)) - starts[seg]
    return pos, first


def baseline_mask(pos: np.ndarray, baseline: int | None) -> np.ndarray:
    """Which rows the limits are computed from: the first ``baseline`` of each segment, or all.

    Parameters
    ----------
    pos
        Positions in the segment, from :func:`segment_positions`.
    baseline
        Number of baseline points, or ``None`` for all points.

    Returns
    -------
    Boolean array, one per row.
    """
    return np.ones(len(pos), dtype=bool) if baseline is None else pos < baseline


def check_segment_sizes(
    frame: pd.DataFrame, seg: np.ndarray, use: np.ndarray, *, keys: list[str], time: str
) -> None:
    """Refuse segments with fewer than 2 baseline points; warn when fewer than :data:`MIN_POINTS`.

    Parameters
    ----------
    frame
        The sorted rows (to name where a segment starts).
    seg, use
        Segment numbers and the baseline mask.
    keys, time
        The ``by`` columns and the time column.

    Raises
    ------
    SchemaError
        A segment with fewer than 2 baseline points.

    Warns
    -----
    NeedskitWarning
        Segments whose limits rest on fewer than :data:`MIN_POINTS` points (reported at the
        caller of the chart function).
    """
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


def segment_mean(values: np.ndarray, mask: np.ndarray, seg: np.ndarray, n_seg: int) -> np.ndarray:
    """Mean of ``values`` over the rows where ``mask`` holds, per segment.

    Parameters
    ----------
    values, mask
        Values and which of them count (arrays, one per row).
    seg
        Segment numbers, one per row.
    n_seg
        The number of segments.

    Returns
    -------
    Float array of length ``n_seg`` (NaN for a segment with no counted value).
    """
    total = np.bincount(seg, weights=np.where(mask, values, 0.0), minlength=n_seg)
    count = np.bincount(seg, weights=mask, minlength=n_seg)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count
