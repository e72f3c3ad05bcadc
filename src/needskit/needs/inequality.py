"""Narrowing the gap: indicators by deprivation quantile, the gap between the ends, SII and RII.

Three questions a partnership asks of any indicator:

* :func:`by_deprivation` — what is it in each national or local deprivation decile (or quintile)?
* :func:`gap` — how far apart are the most and the least deprived fifth (or tenth)?
* :func:`sii` — what is the slope (and relative) index of inequality across all of them?

:func:`local_deciles` computes local deciles/quintiles of a set of areas (1 = most deprived) for
when the national IMD deciles are too coarse for a county.

Conventions used throughout
---------------------------
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

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from needskit._checks import (
    as_list,
    require_choice,
    require_columns,
    require_frame,
    require_non_negative,
    require_numeric,
)
from needskit.errors import NeedskitWarning, SchemaError, describe_values
from needskit.needs.statistics import confidence_levels, level_label, poisson_limits, wilson_limits

__all__ = ["local_deciles", "by_deprivation", "gap", "sii", "DIRECTIONS"]

Statistic = Literal["proportion", "rate"]
SiiStatistic = Literal["normal", "proportion", "rate"]
Direction = Literal["least_minus_most", "most_minus_least"]
DIRECTIONS: tuple[str, ...] = ("least_minus_most", "most_minus_least")
_DEFAULT_MULTIPLIER = {"proportion": 100, "rate": 100_000}
_METHOD = {"proportion": "Wilson", "rate": "Byar (exact Poisson below 10)"}
_Z95 = 1.959963984540054
# Simulated values held at once in sii() (groups x quantiles x repetitions): about 16 MB of
# floats. Small blocks worked on in place are several times faster than one huge array.
_SIM_BLOCK = 2_000_000


# --------------------------------------------------------------------------------------------
# shared checks


def _column(df: pd.DataFrame, name: object, *, argument: str) -> str:
    if not isinstance(name, str):
        raise SchemaError("is not a column name", where=argument, expected="a string", got=repr(name))
    require_columns(df, [name], argument=argument)
    return name


def _group_keys(df: pd.DataFrame, by: str | Sequence[str] | None, *, used: Sequence[str]) -> list[str]:
    keys = as_list(by)
    require_columns(df, keys, argument="by")
    clash = [k for k in keys if k in used]
    if clash:
        raise SchemaError(
            "groups by a column that is also an input",
            where="by",
            expected="grouping columns distinct from the value, count and quantile columns",
            got=repr(clash),
        )
    if len(set(keys)) != len(keys):
        raise SchemaError("repeats a column", where="by", got=repr(keys))
    return keys


def _require_integer_levels(df: pd.DataFrame, column: str, top: int, *, what: str) -> np.ndarray:
    """Values of ``column`` as ints, all whole numbers in 1..top (missing not allowed)."""
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


def _group_codes(df: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer code per row for the ``keys`` groups (sorted) and the table of groups."""
    if not keys:
        return np.zeros(len(df), dtype=int), pd.DataFrame(index=pd.RangeIndex(1))
    codes = df.groupby(keys, sort=True, dropna=False, observed=True).ngroup().to_numpy()
    groups = df[keys].drop_duplicates().sort_values(keys, na_position="last").reset_index(drop=True)
    # drop_duplicates + sort reproduces groupby's order; assert it rather than trust it.
    check = groups.groupby(keys, sort=True, dropna=False, observed=True).ngroup().to_numpy()
    if not np.array_equal(check, np.arange(len(groups))):  # pragma: no cover - defensive
        raise AssertionError("group order mismatch")
    return codes, groups


def _check_statistic(statistic: object, choices: Sequence[str]) -> None:
    require_choice(statistic, list(choices), argument="statistic")


def _check_direction(direction: object) -> None:
    require_choice(direction, list(DIRECTIONS), argument="direction")


# --------------------------------------------------------------------------------------------
# local deciles


def local_deciles(
    df: pd.DataFrame,
    *,
    score_or_rank: str,
    q: int = 10,
    by: str | Sequence[str] | None = None,
    kind: Literal["score", "rank"] = "score",
    name: str | None = None,
) -> pd.DataFrame:
    """Local deprivation deciles (or quintiles) of a set of areas, 1 = most deprived.

    Parameters
    ----------
    df
        One row per area, e.g. the LSOAs of a county with their IMD score.
    score_or_rank
        Column to rank: an IMD (or domain) score or a national rank.
    q
        Number of quantiles: 10 for deciles, 5 for quintiles (any whole number from 2).
    by
        Compute quantiles separately within each group (e.g. per district).
    kind
        ``"score"``: a higher value is more deprived (IMD score). ``"rank"``: 1 is the most
        deprived (IMD rank).
    name
        Output column; default ``local_decile`` (q = 10), ``local_quintile`` (q = 5) or
        ``local_quantile``.

    Returns
    -------
    DataFrame
        A copy of ``df`` (same index) with one nullable integer column ``name``: the local
        quantile, 1 = most deprived. It is missing where ``score_or_rank`` is missing or the
        group has fewer than ``q`` values (a :class:`NeedskitWarning` says how many).

    Raises
    ------
    SchemaError
        Missing or non-numeric column, ``q`` below 2, an unknown ``kind``, or a ``name`` that
        already is a column.

    Notes
    -----
    Fingertips' "quantiles within a group" (PHEindicatormethods ``phe_quantile``): with N
    non-missing values ranked ascending (ties take the lowest rank; a score is ranked on its
    negative so that the most deprived ranks first), the quantile is
    ``floor((q + 1) − ceiling(((N + 1) − rank) / (N / q)))`` with 0 set to 1. Applied to the
    national IMD ranks it reproduces the published IMD deciles except for a handful of areas at
    decile boundaries (the IoD uses ``ceiling(rank / (N / 10))``).

    Examples
    --------
    >>> frame = pd.DataFrame({"lsoa": list("ABCDE"), "imd_score": [40.0, 5.0, 22.0, 12.0, 30.0]})
    >>> local_deciles(frame, score_or_rank="imd_score", q=5)["local_quintile"].tolist()
    [1, 5, 3, 4, 2]
    """
    require_frame(df)
    column = _column(df, score_or_rank, argument="score_or_rank")
    require_numeric(df, [column])
    require_choice(kind, ["score", "rank"], argument="kind")
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 2:
        raise SchemaError(
            "is not a number of quantiles",
            where="q",
            expected="a whole number from 2 (10, 5 ...)",
            got=repr(q),
        )
    keys = _group_keys(df, by, used=[column])
    out_name = name or {10: "local_decile", 5: "local_quintile"}.get(int(q), "local_quantile")
    if out_name in df.columns:
        raise SchemaError(
            "is already a column of the frame",
            where=f"name={out_name!r}",
            expected="a new column name",
            hint="pass name= or drop the column first",
        )

    values = df[column].astype(float)
    ordered = -values if kind == "score" else values
    if keys:
        grouped = ordered.groupby([df[k] for k in keys], dropna=False, observed=True, sort=False)
        rank = grouped.rank(method="min")
        n_valid = grouped.transform("count")
    else:
        rank = ordered.rank(method="min")
        n_valid = pd.Series(float(ordered.notna().sum()), index=df.index)
    r = rank.to_numpy(dtype=float)
    n = n_valid.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        quantile = np.floor((q + 1) - np.ceil(((n + 1) - r) / (n / q)))
    quantile = np.where(quantile == 0, 1, quantile)
    small = n < q
    quantile = np.where(small | np.isnan(r), np.nan, quantile)

    missing_value = int(values.isna().sum())
    small_rows = int((small & ~np.isnan(r)).sum())
    if missing_value or small_rows:
        parts = []
        if missing_value:
            parts.append(f"{missing_value} rows have no {column}")
        if small_rows:
            parts.append(f"{small_rows} rows are in groups with fewer than {q} values")
        warnings.warn(
            f"local_deciles: {out_name} is missing where " + " and ".join(parts),
            NeedskitWarning,
            stacklevel=2,
        )
    out = df.copy()
    out[out_name] = pd.array(np.where(np.isnan(quantile), pd.NA, quantile), dtype="Int64")
    return out


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
    >>> frame = pd.DataFrame({"decile": [1, 2, 9, 10], "smokers": [30, 25, 10, 8], "adults": [100, 100, 100, 100]})
    >>> out = by_deprivation(frame, numerator="smokers", denominator="adults", decile="decile", q=5)
    >>> out[["quantile", "value"]].query("quantile in (1, 5)")
       quantile  value
    0         1   27.5
    4         5    9.0
    """
    require_frame(df)
    numerator = _column(df, numerator, argument="numerator")
    denominator = _column(df, denominator, argument="denominator")
    decile = _column(df, decile, argument="decile")
    _check_statistic(statistic, ("proportion", "rate"))
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
    keys = _group_keys(df, by, used=[numerator, denominator, decile])
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
    deciles = _require_integer_levels(
        df, decile, input_q, what="deprivation deciles" if input_q == 10 else "quintiles"
    )

    codes, groups = _group_codes(df, keys)
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
    >>> frame = pd.DataFrame({"decile": [1, 2, 9, 10], "smokers": [30, 25, 10, 8], "adults": [100, 100, 100, 100]})
    >>> out = gap(frame, numerator="smokers", denominator="adults", decile="decile", direction="most_minus_least")
    >>> round(float(out["absolute_gap"].iloc[0]), 1), round(float(out["relative_gap"].iloc[0]), 3)
    (18.5, 3.056)
    """
    _check_direction(direction)
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


# --------------------------------------------------------------------------------------------
# slope and relative index of inequality


def _transform(values: np.ndarray, statistic: str, multiplier: float) -> np.ndarray:
    """Scale on which values are simulated: identity, log (rates) or logit (proportions)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if statistic == "rate":
            return np.log(values)
        if statistic == "proportion":
            p = values / multiplier
            return np.log(p / (1 - p))
    return values


def _untransform_inplace(values: np.ndarray, statistic: str, multiplier: float) -> None:
    """Inverse of :func:`_transform`, overwriting ``values``."""
    if statistic == "rate":
        np.exp(values, out=values)
    elif statistic == "proportion":
        np.negative(values, out=values)
        np.exp(values, out=values)
        values += 1
        np.divide(multiplier, values, out=values)


def _fit(y: np.ndarray, a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares of y on x with weights a (rows sum to 1), along the quantile axis.

    ``y`` is (G, q) or (G, q, R); ``a`` and ``x`` are (G, q). Returns slope and intercept.
    """
    x_bar = np.sum(a * x, axis=1)
    dx = x - x_bar[:, None]
    sxx = np.sum(a * dx * dx, axis=1)
    if y.ndim == 3:
        slope = np.matmul((a * dx)[:, None, :], y)[:, 0, :] / sxx[:, None]
        intercept = np.matmul(a[:, None, :], y)[:, 0, :] - slope * x_bar[:, None]
    else:
        slope = np.sum(a * dx * y, axis=1) / sxx
        intercept = np.sum(a * y, axis=1) - slope * x_bar
    return slope, intercept


def _indices(slope: np.ndarray, intercept: np.ndarray, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """SII and RII in the chosen direction from the fitted slope and intercept."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if direction == "least_minus_most":
            return slope, (intercept + slope) / intercept
        return -slope, intercept / (intercept + slope)


def sii(
    df: pd.DataFrame,
    *,
    value: str | None = None,
    population: str,
    quantile: str,
    lower: str | None = None,
    upper: str | None = None,
    se: str | None = None,
    numerator: str | None = None,
    denominator: str | None = None,
    statistic: SiiStatistic = "normal",
    multiplier: float = 1,
    q: int = 10,
    limits_confidence: float = 0.95,
    repetitions: int = 10_000,
    seed: int | None = 20_240_401,
    confidence: float | Sequence[float] = 0.95,
    rii: bool = True,
    direction: Direction = "least_minus_most",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Slope index of inequality (SII) and relative index of inequality (RII), with simulated limits.

    Parameters
    ----------
    df
        One row per group and deprivation quantile, e.g. the output of :func:`by_deprivation`.
    value
        Column of the indicator value per quantile. May be omitted when ``numerator`` and
        ``denominator`` are given (value = numerator / denominator × multiplier).
    population
        Column of the quantile's population (its weight; e.g. ``denominator``).
    quantile
        Column of the quantile, 1 = most deprived … ``q`` = least deprived.
    lower, upper
        Columns of the value's confidence limits at ``limits_confidence`` (95% by default), used
        to derive its standard error.
    se
        Column of the value's standard error on the value's own scale.
    numerator, denominator
        Columns of counts; the standard error then comes from Wilson (proportion) or Byar/exact
        Poisson (rate) 95% limits. Give exactly one of ``se``, ``lower``+``upper``,
        ``numerator``+``denominator`` as the source of uncertainty.
    statistic
        ``"normal"`` (values simulated as they are), ``"proportion"`` (simulated on the logit
        scale) or ``"rate"`` (on the log scale), as PHEindicatormethods ``value_type`` 0/2/1.
    multiplier
        Scale of ``value``, ``lower``, ``upper`` and ``se``: 100 for percentages, 100,000 for
        rates per 100,000 (needed to take the logit of a percentage). The SII is in the same units.
    q
        Number of quantiles (5 to 100); every group needs all of 1..q.
    limits_confidence
        Confidence level of ``lower``/``upper``.
    repetitions
        Number of simulations (at least 1,000).
    seed
        Seed of the random generator (``numpy.random.default_rng``); the same seed and data give
        the same limits. ``None`` for fresh randomness.
    confidence
        Level(s) of the SII/RII limits, e.g. 0.95 (2.5th and 97.5th percentiles).
    rii
        Also return the RII and its limits.
    direction
        ``"least_minus_most"`` (default, the ``phe_sii`` convention) or ``"most_minus_least"``;
        see the module notes.
    by
        Grouping columns: one SII per group.

    Returns
    -------
    DataFrame
        One row per ``by`` group: the ``by`` columns; ``sii``; ``sii_lower_95``,
        ``sii_upper_95`` (one pair per level); if ``rii``: ``rii``, ``rii_lower_95``,
        ``rii_upper_95``; ``fitted_most_deprived`` and ``fitted_least_deprived`` (the fitted
        line at relative rank 0 and 1); ``q``; ``direction``; ``statistic``; ``repetitions``;
        ``method``; ``suppressed_reason`` (``""``, or e.g. ``"quantiles missing: [3]; the SII
        needs all 10"``). A suppressed group has missing values and a reason, never a silent NaN.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns; none or more than one source of uncertainty; negative
        populations or standard errors; quantiles that are not whole numbers in 1..q; the same
        quantile twice in a group; ``repetitions`` below 1,000; unknown options.

    Notes
    -----
    Low & Low (2004), as PHEindicatormethods ``phe_sii``. Within a group, quantiles are ordered
    most → least deprived, ``a_k`` is the population share and ``x_k = Σ_{j<k} a_j + a_k/2`` the
    midpoint of the quantile on the cumulative population (relative rank, 0 to 1). The value is
    regressed on ``x`` by weighted least squares with weights ``a`` (equivalently ``phe_sii``'s
    ``y√a ~ √a + x√a − 1``). The slope is the SII (least − most deprived end);
    RII = (intercept + slope) / intercept.

    Limits by simulation: each quantile value is drawn ``repetitions`` times from a normal
    distribution around it with its standard error — on the logit scale for proportions and
    the log scale for rates, where the standard error is ``(T(U) − T(L)) / (2·z)`` from the 95%
    limits (a standard error given on the value scale is carried over by the delta method) —
    back-transformed, and the regression is refitted to every draw at once (NumPy, vectorised
    over groups and repetitions). The limits are the ``(1 − c)/2`` and ``(1 + c)/2`` percentiles
    (linear interpolation) of the simulated SIIs and RIIs. The draws use NumPy's generator, so
    the limits differ from R's ``phe_sii`` by simulation noise only.

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "decile": range(1, 11), "pop": [1000] * 10,
    ...     "value": [80.0, 78, 76, 74, 72, 70, 68, 66, 64, 62], "se": [1.0] * 10})
    >>> out = sii(frame, value="value", population="pop", quantile="decile", se="se", repetitions=1000)
    >>> round(float(out["sii"].iloc[0]), 6), round(float(out["rii"].iloc[0]), 4)
    (-20.0, 0.7531)
    """
    require_frame(df)
    _check_statistic(statistic, ("normal", "proportion", "rate"))
    _check_direction(direction)
    levels = confidence_levels(confidence)
    (limits_level,) = confidence_levels(limits_confidence, argument="limits_confidence")
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or not 5 <= q <= 100:
        raise SchemaError(
            "is not a usable number of quantiles",
            where="q",
            expected="a whole number from 5 to 100",
            got=repr(q),
        )
    if isinstance(repetitions, bool) or not isinstance(repetitions, (int, np.integer)) or repetitions < 1000:
        raise SchemaError(
            "is too small",
            where="repetitions",
            expected="a whole number of at least 1,000 (default 10,000)",
            got=repr(repetitions),
        )
    if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) or not multiplier > 0:
        raise SchemaError(
            "is not a positive number",
            where="multiplier",
            expected="e.g. 1, 100 or 100000",
            got=repr(multiplier),
        )
    if not isinstance(rii, bool):
        raise SchemaError("is not True or False", where="rii", got=repr(rii))

    sources = [
        name
        for name, given in (
            ("se", se is not None),
            ("lower/upper", lower is not None or upper is not None),
            ("numerator/denominator", numerator is not None or denominator is not None),
        )
        if given
    ]
    if value is None and (numerator is None or denominator is None):
        raise SchemaError(
            "no value to regress",
            where="value",
            expected="value=, or numerator= and denominator=",
            got="none",
        )
    if len(sources) != 1:
        raise SchemaError(
            "needs exactly one source of the values' uncertainty",
            where="se / lower, upper / numerator, denominator",
            expected="se=, or lower= and upper=, or numerator= and denominator=",
            got=f"{len(sources)}: {sources}" if sources else "none",
        )
    source = sources[0]
    if source == "lower/upper" and (lower is None or upper is None):
        raise SchemaError(
            "needs both limits",
            where="lower, upper",
            expected="lower= and upper=",
            got=f"lower={lower!r}, upper={upper!r}",
        )
    if source == "numerator/denominator":
        if numerator is None or denominator is None:
            raise SchemaError(
                "needs both counts",
                where="numerator, denominator",
                expected="numerator= and denominator=",
                got=f"numerator={numerator!r}, denominator={denominator!r}",
            )
        if statistic == "normal":
            raise SchemaError(
                "cannot derive a standard error from counts for statistic='normal'",
                where="statistic",
                expected="'proportion' or 'rate' with numerator= and denominator=",
                got=repr(statistic),
                hint="or give se=, or lower= and upper=",
            )

    inputs = {"population": population, "quantile": quantile}
    for argument, name in (
        ("value", value),
        ("lower", lower),
        ("upper", upper),
        ("se", se),
        ("numerator", numerator),
        ("denominator", denominator),
    ):
        if name is not None:
            inputs[argument] = name
    for argument, name in inputs.items():
        _column(df, name, argument=argument)
    numeric = [c for a, c in inputs.items() if a != "quantile"]
    require_numeric(df, numeric)
    keys = _group_keys(df, by, used=list(inputs.values()))
    require_non_negative(df, [population] + [c for c in (se, numerator, denominator) if c is not None])
    quantiles = _require_integer_levels(df, quantile, q, what=f"quantiles 1 to {q}")

    codes, groups = _group_codes(df, keys)
    n_groups = len(groups)
    cell = codes * q + (quantiles - 1)
    dup = pd.Series(cell).duplicated(keep=False).to_numpy()
    if dup.any():
        rows = list(df.index[dup][:5])
        raise SchemaError(
            "has the same quantile twice within a group",
            where=f"column {quantile!r}",
            expected="one row per group and quantile",
            got=f"{int(dup.sum())} rows, e.g. rows {rows}",
            hint="sum the areas of each quantile first (by_deprivation), or pass by= to separate groups",
        )

    def grid(column: str | None) -> np.ndarray:
        out = np.full(n_groups * q, np.nan)
        if column is not None:
            out[cell] = df[column].to_numpy(dtype=float)
        return out.reshape(n_groups, q)

    present = np.zeros(n_groups * q, dtype=bool)
    present[cell] = True
    present = present.reshape(n_groups, q)
    pop = grid(population)
    if value is not None:
        y = grid(value)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            y = grid(numerator) / grid(denominator) * multiplier

    # standard error on the simulation scale
    with np.errstate(divide="ignore", invalid="ignore"):
        if source == "se":
            s = grid(se)
            if statistic == "rate":
                s = s / y
            elif statistic == "proportion":
                p = y / multiplier
                s = s / multiplier / (p * (1 - p))
        else:
            if source == "lower/upper":
                lo, hi = grid(lower), grid(upper)
                z = float(stats.norm.ppf((1 + limits_level) / 2))
            else:
                x_count, n_count = grid(numerator), grid(denominator)
                if statistic == "proportion":
                    lo, hi = wilson_limits(x_count, n_count, 0.95)
                    lo, hi = lo * multiplier, hi * multiplier
                else:
                    lo, hi = poisson_limits(x_count, 0.95)
                    lo, hi = lo / n_count * multiplier, hi / n_count * multiplier
                z = _Z95
            s = (_transform(hi, statistic, multiplier) - _transform(lo, statistic, multiplier)) / (2 * z)
        t = _transform(y, statistic, multiplier)

    reasons = _sii_reasons(present, pop, y, t, s, q=q, statistic=statistic)
    ok = reasons == ""

    out = groups.copy() if keys else pd.DataFrame(index=range(n_groups))
    sii_value = np.full(n_groups, np.nan)
    rii_value = np.full(n_groups, np.nan)
    fitted_most = np.full(n_groups, np.nan)
    fitted_least = np.full(n_groups, np.nan)
    sii_limits = {level: np.full((n_groups, 2), np.nan) for level in levels}
    rii_limits = {level: np.full((n_groups, 2), np.nan) for level in levels}

    if ok.any():
        a = pop[ok] / pop[ok].sum(axis=1, keepdims=True)
        x_mid = np.cumsum(a, axis=1) - a / 2
        slope, intercept = _fit(y[ok], a, x_mid)
        sii_value[ok], rii_value[ok] = _indices(slope, intercept, direction)
        fitted_most[ok], fitted_least[ok] = intercept, intercept + slope

        rng = np.random.default_rng(seed)
        probabilities = [p for level in levels for p in ((1 - level) / 2, (1 + level) / 2)]
        rows = np.flatnonzero(ok)
        block = max(1, _SIM_BLOCK // (q * repetitions))
        buffer = np.empty((min(block, len(rows)), q, repetitions))
        for start in range(0, len(rows), block):
            part = slice(start, start + block)
            g = rows[part]
            simulated = buffer[: len(g)]
            rng.standard_normal(out=simulated)  # one stream in C order: blocks do not change the draws
            simulated *= s[g][:, :, None]
            simulated += t[g][:, :, None]
            _untransform_inplace(simulated, statistic, multiplier)
            sim_slope, sim_intercept = _fit(simulated, a[part], x_mid[part])
            sim_sii, sim_rii = _indices(sim_slope, sim_intercept, direction)
            sii_q = np.quantile(sim_sii, probabilities, axis=1)
            rii_q = np.quantile(sim_rii, probabilities, axis=1) if rii else None
            for i, level in enumerate(levels):
                sii_limits[level][g] = sii_q[2 * i : 2 * i + 2].T
                if rii_q is not None:
                    rii_limits[level][g] = rii_q[2 * i : 2 * i + 2].T

    out["sii"] = sii_value
    for level in levels:
        out[f"sii_lower_{level_label(level)}"] = sii_limits[level][:, 0]
        out[f"sii_upper_{level_label(level)}"] = sii_limits[level][:, 1]
    if rii:
        out["rii"] = rii_value
        for level in levels:
            out[f"rii_lower_{level_label(level)}"] = rii_limits[level][:, 0]
            out[f"rii_upper_{level_label(level)}"] = rii_limits[level][:, 1]
    out["fitted_most_deprived"] = fitted_most
    out["fitted_least_deprived"] = fitted_least
    out["q"] = q
    out["direction"] = direction
    out["statistic"] = statistic
    out["repetitions"] = repetitions
    out["method"] = np.where(
        ok, f"WLS on population midpoints; simulation, {repetitions} repetitions", ""
    ).astype(object)
    out["suppressed_reason"] = reasons
    if (~ok).any():
        warnings.warn(
            f"sii: {int((~ok).sum())} of {n_groups} groups suppressed, e.g. {reasons[~ok][0]!r}",
            NeedskitWarning,
            stacklevel=2,
        )
    return out.reset_index(drop=True)


def _first_quantiles(mask: np.ndarray) -> list[list[int]]:
    return [list(np.flatnonzero(row) + 1) for row in mask]


def _sii_reasons(present, pop, y, t, s, *, q: int, statistic: str) -> np.ndarray:
    """Why each group cannot have an SII ("" when it can). Vectorised checks, first reason wins."""
    n_groups = present.shape[0]
    reasons = np.full(n_groups, "", dtype=object)
    transform_name = {"rate": "log", "proportion": "logit"}.get(statistic)
    checks = [
        (~present, lambda k: f"quantiles missing: {k}; the SII needs all {q}"),
        (present & ~(pop > 0), lambda k: f"population zero or missing in quantiles {k}"),
        (present & np.isnan(y), lambda k: f"value missing in quantiles {k}"),
        (
            present & ~np.isnan(y) & ~np.isfinite(t),
            lambda k: (
                f"value in quantiles {k} has no {transform_name} (a proportion of 0 or 100%, or a rate of 0)"
            ),
        ),
        (
            present & np.isfinite(t) & ~(np.isfinite(s) & (s >= 0)),
            lambda k: f"standard error missing or not finite in quantiles {k}",
        ),
    ]
    for mask, message in checks:
        bad = mask.any(axis=1) & (reasons == "")
        if bad.any():
            for g, k in zip(np.flatnonzero(bad), _first_quantiles(mask[bad]), strict=True):
                reasons[g] = message([int(v) for v in k])
    return reasons
