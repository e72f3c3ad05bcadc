"""Proportions, crude rates and means with confidence limits (Fingertips / PHEindicatormethods).

Grouping rule (the same for the three functions here):

* ``proportion`` and ``crude_rate`` with ``by=None`` compute **one result per input row** and
  keep every other column of the row and the input index (an LSOA table in, an LSOA table
  out). With ``by`` given they **sum numerators and denominators within each group first**
  and return one row per group.
* ``mean`` always summarises: ``by=None`` means the whole frame is one group.

Every result row carries ``method`` and ``suppressed_reason``; a missing ``value`` always has a
reason (``"missing numerator"``, ``"denominator is zero"`` ...). When grouping, a group with any
missing numerator or denominator is missing as a whole (never silently summed as zero).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from needskit._checks import require_columns, require_frame, require_non_negative, require_numeric
from needskit.needs.statistics._common import (
    first_reason,
    group_keys,
    grouped_sums,
    limit_columns,
    refuse_collisions,
    require_column_name,
    require_greater_equal,
)
from needskit.needs.statistics.limits import (
    confidence_levels,
    level_label,
    poisson_limits,
    poisson_method,
    wilson_limits,
)

__all__ = ["proportion", "crude_rate", "mean"]

_OUTPUT_BASE = ("value", "method", "suppressed_reason")


def _inputs(df: pd.DataFrame, by, numerator: str, denominator: str) -> tuple[pd.DataFrame, list[str]]:
    """Rows (by=None) or group sums (by given) of numerator and denominator."""
    keys = group_keys(df, by, used=[numerator, denominator])
    if keys:
        return grouped_sums(df, keys, [numerator, denominator]), keys
    return df.copy(), keys


def _missing_reasons(x: np.ndarray, n: np.ndarray) -> list[tuple[np.ndarray, str]]:
    return [
        (np.isnan(x) & np.isnan(n), "missing numerator and denominator"),
        (np.isnan(x), "missing numerator"),
        (np.isnan(n), "missing denominator"),
        (n == 0, "denominator is zero"),
    ]


def proportion(
    df: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = (0.95, 0.998),
    multiplier: float = 100,
) -> pd.DataFrame:
    """Proportion ``numerator / denominator × multiplier`` with Wilson score limits.

    Parameters
    ----------
    df
        One row per area (or per area and key).
    numerator, denominator
        Columns of events and of the population at risk. The numerator may be non-integer
        (e.g. apportioned counts).
    by
        Grouping columns. ``None``: one result per row, other columns kept. Given: numerator
        and denominator are summed within each group first.
    confidence
        One level or several in [0.9, 1); default 95% and 99.8% as Fingertips.
    multiplier
        100 for a percentage (default), 1 for a proportion, 1000 per thousand.

    Returns
    -------
    DataFrame
        ``by=None``: the input columns (same index) plus the outputs below; otherwise the
        ``by`` columns, summed ``numerator`` and ``denominator``, and the outputs:
        ``value``; ``lower_95``, ``upper_95``, ``lower_99_8``, ``upper_99_8`` (one pair per
        level); ``method`` (``"Wilson"``); ``suppressed_reason`` (``""``, or
        ``"missing numerator"``, ``"missing denominator"``, ``"denominator is zero"``).

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, negative values, numerator above denominator, a level
        outside [0.9, 1), or input columns that the output would overwrite.

    Notes
    -----
    Wilson score interval (Wilson 1927; Newcombe 1998), as PHEindicatormethods
    ``phe_proportion``: ``(2x + z² ∓ z√(z² + 4x(1 − x/n))) / (2(n + z²))``. A zero denominator
    (with a zero numerator) gives a missing value with reason ``"denominator is zero"`` rather
    than an error, so that a national LSOA table with one empty area still computes.

    Examples
    --------
    >>> frame = pd.DataFrame({"area": ["A", "B"], "smokers": [65, 1045], "adults": [100, 5000]})
    >>> proportion(frame, numerator="smokers", denominator="adults")[["area", "value"]]
      area  value
    0    A   65.0
    1    B   20.9
    """
    require_frame(df)
    numerator = require_column_name(numerator, argument="numerator")
    denominator = require_column_name(denominator, argument="denominator")
    require_columns(df, [numerator], argument="numerator")
    require_columns(df, [denominator], argument="denominator")
    require_numeric(df, [numerator, denominator])
    levels = confidence_levels(confidence)
    require_non_negative(df, [numerator, denominator])
    require_greater_equal(df, denominator, numerator, what="has a numerator above its denominator")
    out, keys = _inputs(df, by, numerator, denominator)
    produced = [*_OUTPUT_BASE, *limit_columns(levels)]
    if not keys:
        refuse_collisions(df.columns, produced, what="proportion()")

    x = out[numerator].to_numpy(dtype=float)
    n = out[denominator].to_numpy(dtype=float)
    reason = first_reason(_missing_reasons(x, n), len(out))
    ok = reason == ""
    with np.errstate(divide="ignore", invalid="ignore"):
        out["value"] = np.where(ok, x / n * multiplier, np.nan)
    for level in levels:
        lower, upper = wilson_limits(x, n, level)
        out[f"lower_{level_label(level)}"] = np.where(ok, lower * multiplier, np.nan)
        out[f"upper_{level_label(level)}"] = np.where(ok, upper * multiplier, np.nan)
    out["method"] = np.where(ok, "Wilson", "").astype(object)
    out["suppressed_reason"] = reason
    return out


def crude_rate(
    df: pd.DataFrame,
    *,
    count: str,
    population: str,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = (0.95, 0.998),
    multiplier: float = 100_000,
) -> pd.DataFrame:
    """Crude rate ``count / population × multiplier`` with Poisson limits.

    Parameters
    ----------
    df
        One row per area (or per area and key).
    count, population
        Columns of events and of the population (person-years). Zero events are allowed and
        so is a count above the population (repeat events).
    by
        Grouping columns. ``None``: one result per row, other columns kept. Given: count and
        population are summed within each group first.
    confidence
        One level or several in [0.9, 1); default 95% and 99.8%.
    multiplier
        Rate per ``multiplier`` people; default 100,000.

    Returns
    -------
    DataFrame
        ``by=None``: the input columns (same index) plus the outputs; otherwise the ``by``
        columns, summed ``count`` and ``population``, and the outputs: ``value``,
        ``lower_<level>``/``upper_<level>`` pairs, ``method`` (``"Exact Poisson"`` below 10
        events, ``"Byar"`` from 10) and ``suppressed_reason``.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, negative values, a level outside [0.9, 1).

    Notes
    -----
    Exact limits ``χ²_{α/2}(2x)/2, χ²_{1−α/2}(2x+2)/2`` below 10 events; Byar's approximation
    (Breslow & Day 1987) from 10; the count limits are divided by the population and
    multiplied (PHEindicatormethods ``phe_rate``). A zero population gives a missing value
    with reason ``"denominator is zero"``.

    Examples
    --------
    >>> frame = pd.DataFrame({"area": ["A", "B"], "deaths": [5, 20], "pop": [100, 100]})
    >>> crude_rate(frame, count="deaths", population="pop")[["area", "value", "method"]]
      area    value         method
    0    A   5000.0  Exact Poisson
    1    B  20000.0           Byar
    """
    require_frame(df)
    count = require_column_name(count, argument="count")
    population = require_column_name(population, argument="population")
    require_columns(df, [count], argument="count")
    require_columns(df, [population], argument="population")
    require_numeric(df, [count, population])
    levels = confidence_levels(confidence)
    require_non_negative(df, [count, population])
    out, keys = _inputs(df, by, count, population)
    if not keys:
        refuse_collisions(df.columns, [*_OUTPUT_BASE, *limit_columns(levels)], what="crude_rate()")

    x = out[count].to_numpy(dtype=float)
    n = out[population].to_numpy(dtype=float)
    reason = first_reason(_missing_reasons(x, n), len(out))
    ok = reason == ""
    with np.errstate(divide="ignore", invalid="ignore"):
        out["value"] = np.where(ok, x / n * multiplier, np.nan)
        for level in levels:
            lower, upper = poisson_limits(x, level)
            out[f"lower_{level_label(level)}"] = np.where(ok, lower / n * multiplier, np.nan)
            out[f"upper_{level_label(level)}"] = np.where(ok, upper / n * multiplier, np.nan)
    out["method"] = np.where(ok, poisson_method(x), "").astype(object)
    out["suppressed_reason"] = reason
    return out


def mean(
    df: pd.DataFrame,
    *,
    value: str,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Mean of a column with Student's t confidence limits, for the frame or per group.

    Parameters
    ----------
    df
        One row per observation (e.g. per person or per practice).
    value
        Column to average. Missing values are left out and counted in ``value_missing``.
    by
        Grouping columns; ``None`` summarises the whole frame as one group.
    confidence
        One level or several in [0.9, 1).

    Returns
    -------
    DataFrame
        The ``by`` columns, ``value_count`` (non-missing values used), ``value_missing``,
        ``value_sum``, ``value_sd`` (sample standard deviation), ``value`` (the mean),
        ``lower_<level>``/``upper_<level>`` pairs, ``method`` (``"Student t"``) and
        ``suppressed_reason`` (``"no values"``; ``"fewer than 2 values"`` when the mean is
        shown without limits).

    Raises
    ------
    SchemaError
        Missing or non-numeric column, a level outside [0.9, 1).

    Notes
    -----
    ``mean ± t_{1−α/2, n−1} · s / √n`` (PHEindicatormethods ``phe_mean``).

    Examples
    --------
    >>> mean(pd.DataFrame({"score": [1.0, 2.0, 3.0]}), value="score")["value"].item()
    2.0
    """
    require_frame(df)
    value = require_column_name(value, argument="value")
    require_columns(df, [value], argument="value")
    require_numeric(df, [value])
    levels = confidence_levels(confidence)
    keys = group_keys(df, by, used=[value])
    values = df[value].astype(float)
    if keys:
        grouped = values.groupby([df[k] for k in keys], sort=True, dropna=False, observed=True)
        out = pd.DataFrame(
            {
                "value_count": grouped.count(),
                "value_missing": grouped.size() - grouped.count(),
                "value_sum": grouped.sum(),
                "value_sd": grouped.std(ddof=1),
            }
        )
        out.index.names = keys
        out = out.reset_index()
    else:
        out = pd.DataFrame(
            {
                "value_count": [values.count()],
                "value_missing": [int(values.isna().sum())],
                "value_sum": [values.sum()],
                "value_sd": [values.std(ddof=1)],
            }
        )
    k = out["value_count"].to_numpy(dtype=float)
    sd = out["value_sd"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.where(k > 0, out["value_sum"].to_numpy(dtype=float) / k, np.nan)
        se = sd / np.sqrt(k)
    reason = first_reason([(k == 0, "no values"), (k < 2, "fewer than 2 values")], len(out))
    out["value"] = centre
    for level in levels:
        with np.errstate(invalid="ignore"):
            t = stats.t.ppf(1 - (1 - level) / 2, np.where(k >= 2, k - 1, 1))
        out[f"lower_{level_label(level)}"] = np.where(k >= 2, centre - t * se, np.nan)
        out[f"upper_{level_label(level)}"] = np.where(k >= 2, centre + t * se, np.nan)
    out["method"] = "Student t"
    out["suppressed_reason"] = reason
    out["value_count"] = out["value_count"].astype("int64")
    out["value_missing"] = out["value_missing"].astype("int64")
    return out
