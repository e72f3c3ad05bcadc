"""Narrowing the gap: indicators by deprivation quantile and the gap between the ends.

Three questions a partnership asks of any indicator:

* :func:`by_deprivation` — what is it in each national or local deprivation decile (or quintile)?
* :func:`gap` — how far apart are the most and the least deprived fifth (or tenth)?
* :func:`~needskit.needs.slope_index.sii` — what is the slope (and relative) index of inequality
  across all of them? (in :mod:`needskit.needs.slope_index`)

:func:`~needskit.needs.deciles.local_deciles` computes local deciles/quintiles of a set of areas
(1 = most deprived) for when the national IMD deciles are too coarse for a county.

Conventions used throughout (here and in :mod:`needskit.needs.slope_index`)
--------------------------------------------------------------------------
* Quantile 1 is the **most deprived**, quantile ``q`` the least deprived (as the IMD deciles).
* ``direction="least_minus_most"`` (default) is the PHEindicatormethods ``phe_sii`` / Fingertips
  convention: quantiles are ordered most → least deprived on a relative rank running from 0 to
  1, so the SII is the fitted value at the **least** deprived end minus the fitted value at the
  **most** deprived end (the slope), and the RII their ratio (least / most) =
  ``(intercept + slope) / intercept``. The SII is therefore *negative* when the most deprived
  have the higher values (e.g. mortality, smoking) and *positive* for life expectancy.
  ``direction="most_minus_least"`` flips the SII and inverts the RII (as ``phe_sii`` does with a
  negative multiplier), so that a positive value means "higher in the most deprived".
  :func:`gap` follows the same ``direction`` so that the two measures always agree in sign.
* Confidence-limit columns are named ``lower_95``, ``upper_99_8`` ... as in
  :mod:`needskit.needs.statistics`; every missing value carries a ``suppressed_reason``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from needskit._checks import (
    as_list,
    require_choice,
    require_column,
    require_frame,
    require_group_keys,
    require_non_negative,
    require_numeric,
)
from needskit.errors import SchemaError, describe_values
from needskit.needs.statistics import confidence_levels, level_label, poisson_limits, wilson_limits

__all__ = ["by_deprivation", "gap", "DIRECTIONS"]

Statistic = Literal["proportion", "rate"]
Direction = Literal["least_minus_most", "most_minus_least"]
DIRECTIONS: tuple[str, ...] = ("least_minus_most", "most_minus_least")
"""The two orders of a difference between the ends (see the module notes); :func:`gap` and
:func:`~needskit.needs.slope_index.sii` accept either as ``direction``."""
_DEFAULT_MULTIPLIER = {"proportion": 100, "rate": 100_000}
_METHOD = {"proportion": "Wilson", "rate": "Byar (exact Poisson below 10)"}


# --------------------------------------------------------------------------------------------
# deprivation quantiles of the rows (also used by the SII)


def require_integer_levels(df: pd.DataFrame, column: str, top: int, *, what: str) -> np.ndarray:
    """Values of ``column`` as ints, all whole numbers in 1..top (missing not allowed).

    Raises
    ------
    SchemaError
        A value is missing, not numeric, not whole, or outside 1..top (``what`` names them).
    """
    values = df[column]
    require_numeric(df, [column], allow_missing=False)
    numbers = values.to_numpy(dtype=float)
    bad = ~((numbers >= 1) & (numbers <= top) & (numbers == np.round(numbers)))
    if bad.any():
        raise SchemaError(
            f"holds values that are not {what}",
            where=f"column {column!r}",
            expected=f"whole numbers 1 to {top} (1 = most deprived)",
            got=f"{describe_values(values[bad].tolist())} at rows {list(values.index[bad][:5])}",
        )
    return numbers.astype(int)


def group_codes(df: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer code per row for the ``keys`` groups (sorted) and the table of groups.

    Returns
    -------
    tuple
        The code of each row (0 ... n_groups - 1, all 0 without keys) and a frame of the groups'
        keys in code order (one row and no columns without keys).
    """
    if not keys:
        return np.zeros(len(df), dtype=int), pd.DataFrame(index=pd.RangeIndex(1))
    codes = df.groupby(keys, sort=True, dropna=False, observed=True).ngroup().to_numpy()
    groups = df[keys].drop_duplicates().sort_values(keys, na_position="last").reset_index(drop=True)
    # drop_duplicates + sort reproduces groupby's order; assert it rather than trust it.
    check = groups.groupby(keys, sort=True, dropna=False, observed=True).ngroup().to_numpy()
    if not np.array_equal(check, np.arange(len(groups))):  # pragma: no cover - defensive
        raise AssertionError("group order mismatch")
    return codes, groups


# --------------------------------------------------------------------------------------------
# indicator by deprivation quantile


def _quantile_of(deciles: np.ndarray, *, q: int, input_q: int) -> np.ndarray:
    """Map 1..input_q (1 = most deprived) to 1..q: deciles 1-2 → quintile 1 and so on."""
    return np.ceil(deciles * q / input_q).astype(int)


def by_deprivation(
    df: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    decile: str,
    q: Literal[10, 5] = 10,
    input_q: Literal[10, 5] = 10,
    statistic: Statistic = "proportion",
    multiplier: float | None = None,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """An indicator in each deprivation decile or quintile, with confidence limits.

    Parameters
    ----------
    df
        One row per area (e.g. LSOA) with its counts and its deprivation decile.
    numerator, denominator
        Columns of events and population at risk; summed within each quantile.
    decile
        Column holding each area's national or local deprivation decile, 1 = most deprived
        (IMD ``IMD_decile`` or :func:`local_deciles`' ``local_decile``).
    q
        10 reports by decile; 5 by quintile (deciles 1-2 form quintile 1, and so on).
    input_q
        What ``decile`` holds: 10 (deciles, default) or 5 (it already holds quintiles).
    statistic
        ``"proportion"`` (Wilson score limits) or ``"rate"`` (Byar's limits, exact Poisson
        below 10 events).
    multiplier
        Scale of the value: default 100 for a proportion (a percentage) and 100,000 for a rate.
    by
        Further grouping columns (e.g. district, sex); each group gets all ``q`` quantiles.
    confidence
        One level or several in [0.9, 1); default 95% and 99.8%.

    Returns
    -------
    DataFrame
        One row per group and quantile (every quantile 1..q, even one without areas):
        the ``by`` columns; ``quantile`` (1 = most deprived); ``q``; ``areas`` (rows summed);
        ``numerator``; ``denominator``; ``population_share`` (the quantile's share of the
        group's denominator); ``value``; ``lower_95``, ``upper_95``, ``lower_99_8``,
        ``upper_99_8`` (one pair per level); ``statistic``; ``multiplier``; ``method``;
        ``suppressed_reason`` (``""``, ``"no areas in this quantile"``, ``"missing numerator"``,
        ``"missing denominator"``, ``"denominator is zero"``).

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, negative counts, a numerator above its denominator for
        a proportion, deciles missing or outside 1..input_q, unknown options.

    Notes
    -----
    Numerators and denominators are summed over the areas of each quantile (never averaged),
    then the statistic is computed as in methods.md: Wilson score interval for proportions;
    Byar's approximation (exact Poisson below 10 events) for the count of a rate, divided by the
    denominator. A quantile holding any area with a missing numerator or denominator is missing
    as a whole, with its reason, rather than silently summed as zero. Limits come from
    :func:`needskit.needs.statistics.wilson_limits` and :func:`~needskit.needs.statistics.poisson_limits`.

    Examples
    --------
    >>> frame = pd.DataFrame(
    ...     {"decile": [1, 2, 9, 10], "smokers": [30, 25, 10, 8], "adults": [100, 100, 100, 100]}
    ... )
    >>> out = by_deprivation(frame, numerator="smokers", denominator="adults", decile="decile", q=5)
    >>> out[["quantile", "value"]].query("quantile in (1, 5)")
       quantile  value
    0         1   27.5
    4         5    9.0
    """
    require_frame(df)
    numerator = require_column(df, numerator, argument="numerator")
    denominator = require_column(df, denominator, argument="denominator")
    decile = require_column(df, decile, argument="decile")
    require_choice(statistic, ["proportion", "rate"], argument="statistic")
    require_choice(q, [10, 5], argument="q")
    require_choice(input_q, [10, 5], argument="input_q")
    if q > input_q:
        raise SchemaError(
            "asks for finer quantiles than the column holds",
            where="q",
            expected=f"q <= input_q ({input_q})",
            got=repr(q),
        )
    levels = confidence_levels(confidence)
    if multiplier is None:
        multiplier = _DEFAULT_MULTIPLIER[statistic]
    if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) or not multiplier > 0:
        raise SchemaError(
            "is not a positive number",
            where="multiplier",
            expected="e.g. 100 or 100000",
            got=repr(multiplier),
        )
    keys = require_group_keys(df, by, used=[numerator, denominator, decile])
    clash = [k for k in keys if k in ("quantile", "q")]
    if clash:
        raise SchemaError(
            "uses an output column name", where="by", expected="not 'quantile' or 'q'", got=repr(clash)
        )
    require_numeric(df, [numerator, denominator])
    require_non_negative(df, [numerator, denominator])
    if statistic == "proportion":
        above = df.index[(df[numerator] > df[denominator]).to_numpy()]
        if len(above):
            raise SchemaError(
                "has a numerator above its denominator",
                where=f"columns {numerator!r} and {denominator!r}",
                expected="numerator <= denominator for a proportion",
                got=f"{len(above)} rows, e.g. rows {list(above[:5])}",
                hint="use statistic='rate' if events can exceed the population",
            )
    deciles = require_integer_levels(
        df, decile, input_q, what="deprivation deciles" if input_q == 10 else "quintiles"
    )

    codes, groups = group_codes(df, keys)
    n_groups = len(groups)
    quantile = _quantile_of(deciles, q=q, input_q=input_q)
    cell = codes * q + (quantile - 1)  # one cell per group and quantile
    size = n_groups * q
    x_raw = df[numerator].to_numpy(dtype=float)
    n_raw = df[denominator].to_numpy(dtype=float)
    areas = np.bincount(cell, minlength=size)
    x = np.bincount(cell, weights=np.nan_to_num(x_raw), minlength=size)
    n = np.bincount(cell, weights=np.nan_to_num(n_raw), minlength=size)
    x_missing = np.bincount(cell, weights=np.isnan(x_raw), minlength=size) > 0
    n_missing = np.bincount(cell, weights=np.isnan(n_raw), minlength=size) > 0
    x = np.where(x_missing, np.nan, x)
    n = np.where(n_missing, np.nan, n)

    reason = np.select(
        [areas == 0, x_missing & n_missing, x_missing, n_missing, n == 0],
        [
            "no areas in this quantile",
            "missing numerator and denominator",
            "missing numerator",
            "missing denominator",
            "denominator is zero",
        ],
        default="",
    ).astype(object)
    ok = reason == ""
    out = (
        groups.loc[np.repeat(np.arange(n_groups), q)].reset_index(drop=True)
        if keys
        else pd.DataFrame(index=range(size))
    )
    out["quantile"] = np.tile(np.arange(1, q + 1), n_groups)
    out["q"] = q
    out["areas"] = areas
    out["numerator"] = np.where(areas == 0, 0.0, x)
    out["denominator"] = np.where(areas == 0, 0.0, n)
    group_total = np.repeat(n.reshape(n_groups, q).sum(axis=1), q)  # missing if any quantile is
    with np.errstate(divide="ignore", invalid="ignore"):
        out["population_share"] = np.where(
            group_total > 0, out["denominator"].to_numpy() / group_total, np.nan
        )
        out["value"] = np.where(ok, x / n * multiplier, np.nan)
    for level in levels:
        if statistic == "proportion":
            lower, upper = wilson_limits(x, n, level)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                count_lower, count_upper = poisson_limits(x, level)
                lower, upper = count_lower / n, count_upper / n
        out[f"lower_{level_label(level)}"] = np.where(ok, lower * multiplier, np.nan)
        out[f"upper_{level_label(level)}"] = np.where(ok, upper * multiplier, np.nan)
    out["statistic"] = statistic
    out["multiplier"] = multiplier
    if statistic == "proportion":
        method = np.where(ok, "Wilson", "")
    else:
        method = np.where(ok, np.where(x < 10, "Exact Poisson", "Byar"), "")
    out["method"] = method.astype(object)
    out["suppressed_reason"] = reason
    return out


# --------------------------------------------------------------------------------------------
# gap between the ends


def gap(
    df: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    decile: str,
    q: Literal[10, 5] = 5,
    input_q: Literal[10, 5] = 10,
    statistic: Statistic = "proportion",
    multiplier: float | None = None,
    by: str | Sequence[str] | None = None,
    confidence: float | Sequence[float] = 0.95,
    direction: Direction = "least_minus_most",
) -> pd.DataFrame:
    """Absolute and relative gap between the most and the least deprived fifth (or tenth).

    Parameters
    ----------
    df, numerator, denominator, decile, input_q, statistic, multiplier, by
        As :func:`by_deprivation`.
    q
        5 (default) compares the most and least deprived fifths; 10 the tenths.
    confidence
        One level or several in [0.9, 1); default 95%.
    direction
        ``"least_minus_most"`` (default, the SII convention of this module): absolute gap =
        least deprived − most deprived, relative gap = least / most. ``"most_minus_least"``:
        most − least and most / least.

    Returns
    -------
    DataFrame
        One row per ``by`` group: the ``by`` columns; ``q``; ``most_deprived_value``,
        ``least_deprived_value`` (quantiles 1 and q); ``absolute_gap`` with
        ``absolute_gap_lower_95``/``absolute_gap_upper_95`` (one pair per level);
        ``relative_gap`` with ``relative_gap_lower_95``/``relative_gap_upper_95``;
        ``direction``; ``statistic``; ``multiplier``; ``method``; ``suppressed_reason``
        (``""`` or why the gap, or only the relative gap, is missing).

    Raises
    ------
    SchemaError
        As :func:`by_deprivation`, or an unknown ``direction``.

    Notes
    -----
    The two end quantiles come from :func:`by_deprivation`. Limits of the difference use
    Newcombe's method 10 (MOVER with the Wilson or Poisson limits of each end; Newcombe 1998,
    Zou & Donner 2008): ``d ∓ √((p₁ − l₁)² + (u₂ − p₂)²)`` and ``d + √((u₁ − p₁)² + (p₂ − l₂)²)``.
    Limits of the ratio use the same construction on the log scale (log r = log p₁ − log p₂),
    back-transformed; the relative gap is missing (with a reason) when an end value is zero.

    Examples
    --------
    >>> frame = pd.DataFrame(
    ...     {"decile": [1, 2, 9, 10], "smokers": [30, 25, 10, 8], "adults": [100, 100, 100, 100]}
    ... )
    >>> out = gap(
    ...     frame, numerator="smokers", denominator="adults", decile="decile", direction="most_minus_least"
    ... )
    >>> round(float(out["absolute_gap"].iloc[0]), 1), round(float(out["relative_gap"].iloc[0]), 3)
    (18.5, 3.056)
    """
    require_choice(direction, list(DIRECTIONS), argument="direction")
    levels = confidence_levels(confidence)
    table = by_deprivation(
        df,
        numerator=numerator,
        denominator=denominator,
        decile=decile,
        q=q,
        input_q=input_q,
        statistic=statistic,
        multiplier=multiplier,
        by=by,
        confidence=levels,
    )
    keys = as_list(by)
    q_used = int(table["q"].iloc[0])
    most = table[table["quantile"] == 1].reset_index(drop=True)
    least = table[table["quantile"] == q_used].reset_index(drop=True)
    first, second = (least, most) if direction == "least_minus_most" else (most, least)
    out = most[keys].copy() if keys else pd.DataFrame(index=range(len(most)))
    out["q"] = q_used
    out["most_deprived_value"] = most["value"].to_numpy()
    out["least_deprived_value"] = least["value"].to_numpy()
    p1 = first["value"].to_numpy(dtype=float)
    p2 = second["value"].to_numpy(dtype=float)

    reason = np.select(
        [most["suppressed_reason"].to_numpy() != "", least["suppressed_reason"].to_numpy() != ""],
        [
            "most deprived quantile: " + most["suppressed_reason"].astype(str).to_numpy(),
            "least deprived quantile: " + least["suppressed_reason"].astype(str).to_numpy(),
        ],
        default="",
    ).astype(object)
    ok = reason == ""
    ratio_ok = ok & (p1 > 0) & (p2 > 0)
    reason = np.where(
        ok & ~ratio_ok, "relative gap undefined: an end quantile has a value of zero", reason
    ).astype(object)

    out["absolute_gap"] = np.where(ok, p1 - p2, np.nan)
    abs_limits: dict[str, np.ndarray] = {}
    rel_limits: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = p1 / p2
        log_p1, log_p2 = np.log(p1), np.log(p2)
        for level in levels:
            label = level_label(level)
            l1 = first[f"lower_{label}"].to_numpy(dtype=float)
            u1 = first[f"upper_{label}"].to_numpy(dtype=float)
            l2 = second[f"lower_{label}"].to_numpy(dtype=float)
            u2 = second[f"upper_{label}"].to_numpy(dtype=float)
            d = p1 - p2
            abs_limits[f"absolute_gap_lower_{label}"] = np.where(
                ok, d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), np.nan
            )
            abs_limits[f"absolute_gap_upper_{label}"] = np.where(
                ok, d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), np.nan
            )
            lr = log_p1 - log_p2
            lower = np.exp(lr - np.sqrt((log_p1 - np.log(l1)) ** 2 + (np.log(u2) - log_p2) ** 2))
            upper = np.exp(lr + np.sqrt((np.log(u1) - log_p1) ** 2 + (log_p2 - np.log(l2)) ** 2))
            rel_limits[f"relative_gap_lower_{label}"] = np.where(ratio_ok, lower, np.nan)
            rel_limits[f"relative_gap_upper_{label}"] = np.where(ratio_ok, upper, np.nan)
    for name, values in abs_limits.items():
        out[name] = values
    out["relative_gap"] = np.where(ratio_ok, ratio, np.nan)
    for name, values in rel_limits.items():
        out[name] = values
    out["direction"] = direction
    out["statistic"] = statistic
    out["multiplier"] = most["multiplier"].to_numpy()
    out["method"] = np.where(ok, f"MOVER ({_METHOD[statistic]} limits of each end)", "").astype(object)
    out["suppressed_reason"] = reason
    return out
