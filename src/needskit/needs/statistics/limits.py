"""Confidence limits for counts and proportions, on NumPy arrays.

These are the building blocks of every indicator statistic in needskit and are exported for
use elsewhere (funnel plots, SPC, small-area work). Each function is vectorised: ``x`` and ``n``
may be scalars or arrays of any shape, and missing inputs give missing limits (no error).
Input *values* are not validated here; the DataFrame functions validate first.

Notation follows PHEindicatormethods: ``z = Φ⁻¹(1 − α/2)`` with ``α = 1 − confidence``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from needskit.errors import SchemaError

__all__ = [
    "wilson_limits",
    "byars_limits",
    "exact_poisson_limits",
    "poisson_limits",
    "z_value",
    "confidence_levels",
    "level_label",
    "POISSON_EXACT_BELOW",
]

POISSON_EXACT_BELOW = 10
"""Counts below this use exact Poisson limits in :func:`poisson_limits`; Byar's from here up."""


def confidence_levels(
    confidence: float | Sequence[float], *, argument: str = "confidence"
) -> tuple[float, ...]:
    """Validate one confidence level or several and return them as a tuple.

    Each level must be a number in [0.9, 1) (0.95, 0.998 ...), not a percentage.
    """
    levels = [confidence] if np.isscalar(confidence) else list(confidence)  # type: ignore[arg-type]
    if not levels:
        raise SchemaError(
            "is empty", where=argument, expected="at least one level, e.g. (0.95, 0.998)", got="[]"
        )
    out: list[float] = []
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)):
            raise SchemaError(
                "is not a number", where=argument, expected="levels such as 0.95 or 0.998", got=repr(level)
            )
        level = float(level)
        if not (0.9 <= level < 1):
            raise SchemaError(
                "is outside [0.9, 1)",
                where=argument,
                expected="a confidence level between 0.9 and 1, e.g. 0.95 or 0.998",
                got=repr(level),
                hint="give a proportion, not a percentage (0.95, not 95)" if level >= 1 else None,
            )
        if level in out:
            raise SchemaError("repeats a level", where=argument, expected="distinct levels", got=repr(levels))
        out.append(level)
    return tuple(out)


def level_label(level: float) -> str:
    """Column suffix for a confidence level: 0.95 → ``"95"``, 0.998 → ``"99_8"``."""
    return f"{level * 100:g}".replace(".", "_")


def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile, Φ⁻¹(1 − α/2): 1.959964 for 0.95, 3.090232 for 0.998."""
    (level,) = confidence_levels(confidence)
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def wilson_limits(x: ArrayLike, n: ArrayLike, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits of the proportion ``x / n`` (as proportions, not percentages).

    ``L, U = (2x + z² ∓ z·√(z² + 4x(1 − x/n))) / (2(n + z²))``. ``x`` may be non-integer.

    Returns
    -------
    (lower, upper)
        Float arrays broadcast from ``x`` and ``n``; missing where ``x`` or ``n`` is missing or
        ``n`` is zero.

    Examples
    --------
    >>> lower, upper = wilson_limits(65, 100, 0.95)
    >>> round(float(lower), 6), round(float(upper), 6)
    (0.552544, 0.736358)
    """
    z = z_value(confidence)
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = 2 * x + z**2
        spread = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
        denom = 2 * (n + z**2)
        lower = (centre - spread) / denom
        upper = (centre + spread) / denom
        bad = ~(n > 0)
    lower = np.where(bad, np.nan, lower)
    upper = np.where(bad, np.nan, upper)
    return lower, upper


def byars_limits(x: ArrayLike, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximation to the Poisson confidence limits of a count ``x``.

    ``L = x·(1 − 1/(9x) − z/(3√x))³``, ``U = (x+1)·(1 − 1/(9(x+1)) + z/(3√(x+1)))³``;
    ``L = 0`` when ``x = 0``. Breslow & Day (1987). Accurate from about 10 events; use
    :func:`poisson_limits` to switch to exact limits below that.

    Examples
    --------
    >>> lower, upper = byars_limits(65, 0.95)
    >>> round(float(lower), 4), round(float(upper), 4)
    (50.1632, 82.8491)
    """
    z = z_value(confidence)
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
        upper = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
    lower = np.where(x == 0, 0.0, lower)
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)


def exact_poisson_limits(x: ArrayLike, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (chi-square based) Poisson confidence limits of a count ``x``.

    ``L = χ²_{α/2}(2x)/2``, ``U = χ²_{1−α/2}(2x+2)/2``; for ``x = 0``, ``L = 0`` and
    ``U = −ln(α/2)``. Armitage & Berry (2002).

    Examples
    --------
    >>> lower, upper = exact_poisson_limits(0, 0.95)
    >>> float(lower), round(float(upper), 6)
    (0.0, 3.688879)
    """
    (level,) = confidence_levels(confidence)
    alpha = 1 - level
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        lower = np.where(x > 0, stats.chi2.ppf(alpha / 2, np.where(x > 0, 2 * x, 1.0)) / 2, 0.0)
        upper = stats.chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
    nan = np.isnan(x)
    return np.where(nan, np.nan, lower), np.where(nan, np.nan, upper)


def poisson_limits(x: ArrayLike, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Poisson limits as Fingertips uses them: exact below 10 events, Byar's from 10.

    Examples
    --------
    >>> lower, upper = poisson_limits([1, 20], 0.95)
    >>> [round(float(v), 4) for v in lower]
    [0.0253, 12.2114]
    """
    x = np.asarray(x, dtype=float)
    lower, upper = (np.array(limit, dtype=float) for limit in byars_limits(x, confidence))
    small = x < POISSON_EXACT_BELOW
    if small.any():  # the chi-square quantiles are the slow part: only where they are used
        lower[small], upper[small] = exact_poisson_limits(x[small], confidence)
    return lower, upper


def poisson_method(x: ArrayLike) -> np.ndarray:
    """Method label per count: ``"Exact Poisson"`` below 10, ``"Byar"`` from 10, ``""`` if missing."""
    x = np.asarray(x, dtype=float)
    return np.where(np.isnan(x), "", np.where(x < POISSON_EXACT_BELOW, "Exact Poisson", "Byar")).astype(
        object
    )
