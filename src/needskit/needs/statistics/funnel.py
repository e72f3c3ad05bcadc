"""Control limits around a comparator for funnel plots and SPC comparisons (Fingertips).

* :func:`control_limits` — on arrays: the 95% / 99.8% (or any level) control limits of a
  comparator value for areas of the given denominators, on the value's scale.
* :func:`funnel_limits` — on a DataFrame: those limits per row and, given the rows' values, where
  each area falls (inside the funnel, or above or below which limit), judged by polarity.

The same limits decide :func:`needskit.needs.statistics.compare` with ``method="spc_proportion"``
and ``"spc_dsr"``, so a point outside a funnel is exactly an area those comparisons call
significant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from needskit._checks import require_columns, require_frame, require_numeric
from needskit.errors import SchemaError
from needskit.needs.statistics._common import (
    judge,
    polarity_per_row,
    refuse_collisions,
    require_column_name,
)
from needskit.needs.statistics.limits import confidence_levels, level_label, wilson_limits

__all__ = ["control_limits", "funnel_limits", "FUNNEL_STATISTICS", "FUNNEL_POSITIONS"]

FUNNEL_STATISTICS: tuple[str, ...] = ("proportion", "crude_rate", "dsr")
"""Statistics with control limits: proportions (Wilson score of the expected count) and rates
(exact Poisson limits of the expected count)."""

_DEFAULT_MULTIPLIER = {"proportion": 100.0, "crude_rate": 100_000.0, "dsr": 100_000.0}


def _require_statistic(statistic: object) -> str:
    if statistic not in FUNNEL_STATISTICS:
        raise SchemaError(
            "has no control limits",
            where="statistic",
            expected=f"one of {list(FUNNEL_STATISTICS)}",
            got=repr(statistic),
            hint="means, scores carried as published and life expectancy have no funnel",
        )
    return str(statistic)


def control_limits(
    denominator: ArrayLike,
    comparator: ArrayLike,
    *,
    statistic: Literal["proportion", "crude_rate", "dsr"],
    confidence: float = 0.95,
    multiplier: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Control limits of a comparator value for areas with the given denominators.

    Parameters
    ----------
    denominator
        The areas' denominators (population, persons at risk); scalar or array.
    comparator
        The comparator's value on the indicator's scale (e.g. 12.3 for 12.3%, or 34.7 per
        1,000); scalar or array broadcast against ``denominator``.
    statistic
        ``"proportion"``, or ``"crude_rate"`` / ``"dsr"`` for rates.
    confidence
        0.95 or 0.998 as Fingertips (any level in [0.9, 1)).
    multiplier
        The value's scale: default 100 for proportions (percent) and 100,000 for rates.

    Returns
    -------
    (lower, upper)
        Float arrays on the value's scale; missing where the denominator is missing or not
        positive, or the comparator is missing, negative (or above 100% for a proportion).

    Notes
    -----
    Expected count ``E = N · comparator / multiplier`` for an area of denominator N.
    Proportions (Fingertips ``SpcForProportionsComparer``): the Wilson score limits of E out of
    N, ``(2E + z² ∓ z√(z² + 4E(1 − E/N))) / (2(N + z²))``. Rates (``SpcForDsrComparer``): the
    exact Poisson limits of E at tails ``(1 − confidence)/2``, ``χ²_{α/2}(2E)/2`` and
    ``χ²_{1−α/2}(2E + 2)/2``, divided by N; as Fingertips' ``PoisLow``/``PoisHigh`` a
    non-integer E is taken discretely (``ceil(E)`` events for the lower limit, ``floor(E)`` for
    the upper), so the limits of a rate step with each whole expected event.

    Examples
    --------
    >>> lower, upper = control_limits(100, 65.0, statistic="proportion")
    >>> round(float(lower), 4), round(float(upper), 4)
    (55.2544, 73.6358)
    """
    statistic = _require_statistic(statistic)  # type: ignore[assignment]
    (level,) = confidence_levels(confidence)
    unit = _DEFAULT_MULTIPLIER[statistic] if multiplier is None else float(multiplier)
    n = np.asarray(denominator, dtype=float)
    comp = np.asarray(comparator, dtype=float)
    n, comp = np.broadcast_arrays(n, comp)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = n * comp / unit
        usable = (n > 0) & (comp >= 0) & ~np.isnan(expected)
        if statistic == "proportion":
            usable &= comp <= unit
            lower, upper = wilson_limits(expected, n, level)
            lower, upper = lower * unit, upper * unit
        else:
            alpha = 1 - level
            safe = np.where(usable, expected, 0.0)
            low_events, high_events = np.ceil(safe), np.floor(safe)
            lo_count = np.where(
                low_events > 0,
                stats.chi2.ppf(alpha / 2, 2 * np.where(low_events > 0, low_events, 1.0)) / 2,
                0.0,
            )
            hi_count = stats.chi2.ppf(1 - alpha / 2, 2 * high_events + 2) / 2
            lower, upper = lo_count / n * unit, hi_count / n * unit
    lower = np.where(usable, lower, np.nan)
    upper = np.where(usable, upper, np.nan)
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)


FUNNEL_POSITIONS: tuple[str, ...] = ("above", "below", "within", "not_compared")
"""Words of ``funnel_position``: above or below the limits of a level, within all, not compared."""


def funnel_limits(
    df: pd.DataFrame,
    *,
    denominator: str,
    comparator: str | float,
    statistic: Literal["proportion", "crude_rate", "dsr"],
    multiplier: float | None = None,
    confidence: float | Sequence[float] = (0.95, 0.998),
    value: str | None = None,
    polarity: str = "no_judgement",
) -> pd.DataFrame:
    """Funnel-plot control limits per row and, with ``value``, where each area falls.

    Parameters
    ----------
    df
        One row per area (the points of a funnel plot), or a grid of denominators to draw the
        funnel's curves.
    denominator
        Column of the denominators (the funnel's x axis).
    comparator
        Column holding the comparator's value on each row, or one number (the centre line).
    statistic
        ``"proportion"``, ``"crude_rate"`` or ``"dsr"`` (see :func:`control_limits`).
    multiplier
        The value's scale: default 100 for proportions, 100,000 for rates.
    confidence
        One level or several; Fingertips draws 0.95 and 0.998.
    value
        Column of the areas' values; when given, ``funnel_position``, ``funnel_level`` and
        ``funnel_comparison`` are added.
    polarity
        ``"high_is_good"``, ``"high_is_bad"`` (``"low_is_good"``), ``"no_judgement"`` or a
        column, for ``funnel_comparison``.

    Returns
    -------
    DataFrame
        The input rows and columns (same index) plus ``control_lower_<level>`` and
        ``control_upper_<level>`` per level (``control_lower_95`` ...), and with ``value``:
        ``funnel_position`` (``above``, ``below``, ``within`` or ``not_compared`` when the
        value or a limit is missing), ``funnel_level`` (the widest level whose limit the value
        is beyond, e.g. 0.998, else missing) and ``funnel_comparison`` at the narrowest level
        (``better``/``worse``/``similar``, or ``higher``/``lower`` with no judgement,
        ``not_compared``).

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, an unknown statistic or polarity, a level outside
        [0.9, 1), output columns already in the frame.

    Notes
    -----
    Fingertips' SPC comparators (methods.md, "Benchmarking against a comparator"), as
    :func:`control_limits`. A value exactly on a limit is inside the funnel.

    Examples
    --------
    >>> areas = pd.DataFrame({"n": [1000, 1000], "v": [10.0, 16.0]})
    >>> out = funnel_limits(areas, denominator="n", comparator=10.0, statistic="proportion", value="v")
    >>> out["funnel_position"].tolist(), out["funnel_level"].tolist()
    (['within', 'above'], [nan, 0.998])
    """
    require_frame(df)
    _require_statistic(statistic)
    levels = sorted(confidence_levels(confidence))
    denominator = require_column_name(denominator, argument="denominator")
    require_columns(df, [denominator], argument="denominator")
    require_numeric(df, [denominator])
    if isinstance(comparator, str):
        require_columns(df, [comparator], argument="comparator")
        require_numeric(df, [comparator])
        comp = df[comparator].to_numpy(dtype=float, na_value=np.nan)
    elif isinstance(comparator, bool) or not isinstance(comparator, (int, float, np.integer, np.floating)):
        raise SchemaError("is neither a number nor a column name", where="comparator", got=repr(comparator))
    else:
        comp = np.full(len(df), float(comparator))
    produced = [f"control_{side}_{level_label(lv)}" for lv in levels for side in ("lower", "upper")]
    if value is not None:
        value = require_column_name(value, argument="value")
        require_columns(df, [value], argument="value")
        require_numeric(df, [value])
        produced += ["funnel_position", "funnel_level", "funnel_comparison"]
    refuse_collisions(df.columns, produced, what="funnel_limits()")
    pol = polarity_per_row(df, polarity)

    n = df[denominator].to_numpy(dtype=float, na_value=np.nan)
    out = df.copy()
    limits = {}
    for level in levels:
        lower, upper = control_limits(n, comp, statistic=statistic, confidence=level, multiplier=multiplier)
        limits[level] = (lower, upper)
        out[f"control_lower_{level_label(level)}"] = lower
        out[f"control_upper_{level_label(level)}"] = upper
    if value is None:
        return out

    v = df[value].to_numpy(dtype=float, na_value=np.nan)
    usable = ~np.isnan(v) & np.all([~np.isnan(lo) for lo, _ in limits.values()], axis=0)
    position = np.full(len(df), "within", dtype=object)
    beyond = np.full(len(df), np.nan)
    with np.errstate(invalid="ignore"):
        for level in levels:  # narrowest first: a wider level beyond overwrites
            lower, upper = limits[level]
            above, below = v > upper, v < lower
            position = np.where(above, "above", np.where(below, "below", position))
            beyond = np.where(above | below, level, beyond)
        lower, upper = limits[levels[0]]
        direction = np.where(v > upper, "higher", np.where(v < lower, "lower", "similar"))
    judged = judge(direction.astype(object), pol)
    out["funnel_position"] = np.where(usable, position, "not_compared").astype(object)
    out["funnel_level"] = np.where(usable, beyond, np.nan)
    out["funnel_comparison"] = np.where(usable, judged, "not_compared").astype(object)
    return out
