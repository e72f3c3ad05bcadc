"""Slope index of inequality (SII) and relative index of inequality (RII), with simulated limits.

:func:`sii` answers the third question of :mod:`needskit.needs.deprivation`: what is the slope
(and relative) index of inequality across all deprivation quantiles? It fits a population-weighted
line through the quantile values (Low & Low 2004, as PHEindicatormethods ``phe_sii``) and finds its
confidence limits by simulation. Quantile 1 is the most deprived; the ``direction`` of the SII and
the names of the limit columns follow the conventions in the notes of
:mod:`needskit.needs.deprivation`, so that the SII and :func:`~needskit.needs.deprivation.gap`
always agree in sign.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from needskit._checks import (
    require_choice,
    require_column,
    require_frame,
    require_group_keys,
    require_non_negative,
    require_numeric,
)
from needskit.errors import NeedskitWarning, SchemaError
from needskit.needs.deprivation import DIRECTIONS, Direction, group_codes, require_integer_levels
from needskit.needs.statistics import confidence_levels, level_label, poisson_limits, wilson_limits

__all__ = ["sii"]

SiiStatistic = Literal["normal", "proportion", "rate"]
_Z95 = 1.959963984540054
# Simulated values held at once in sii() (groups x quantiles x repetitions): about 16 MB of
# floats. Small blocks worked on in place are several times faster than one huge array.
_SIM_BLOCK = 2_000_000


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
        see the notes of :mod:`needskit.needs.deprivation`.
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
    require_choice(statistic, ["normal", "proportion", "rate"], argument="statistic")
    require_choice(direction, list(DIRECTIONS), argument="direction")
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
        require_column(df, name, argument=argument)
    numeric = [c for a, c in inputs.items() if a != "quantile"]
    require_numeric(df, numeric)
    keys = require_group_keys(df, by, used=list(inputs.values()))
    require_non_negative(df, [population] + [c for c in (se, numerator, denominator) if c is not None])
    quantiles = require_integer_levels(df, quantile, q, what=f"quantiles 1 to {q}")

    codes, groups = group_codes(df, keys)
    n_groups = len(groups)
    cell = codes * q + (quantiles - 1)
    dup = pd.Series(cell).duplicated(keep=False).to_numpy()
    if dup.any():
        examples = list(df.index[dup][:5])
        raise SchemaError(
            "has the same quantile twice within a group",
            where=f"column {quantile!r}",
            expected="one row per group and quantile",
            got=f"{int(dup.sum())} rows, e.g. rows {examples}",
            hint="sum the areas of each quantile first (by_deprivation), or pass by= to separate groups",
        )

    def grid(column: str | None) -> np.ndarray:
        out = np.full(n_groups * q, np.nan)
        if column is not None:
            out[cell] = df[column].to_numpy(dtype=float)
        return out.reshape(n_groups, q)

    filled = np.zeros(n_groups * q, dtype=bool)
    filled[cell] = True
    present = filled.reshape(n_groups, q)
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
