"""What changed between two analysis periods: each indicator this period against an earlier one,
with a test appropriate to its statistic, and the change in the gap by deprivation.

- **Crude rates** (and counts per head) are compared by the **ratio of the two rates** with an
  exact interval: given the two counts O1 and O0 on denominators d1 and d0, O1 is binomial in
  O1 + O0 with p = λ1·d1 / (λ1·d1 + λ0·d0), so the Clopper–Pearson limits of p give the limits of
  the rate ratio (the conditional method for comparing two Poisson rates). The change is
  significant when the interval excludes 1.
- **Proportions** are compared by their **difference**, with Newcombe's hybrid score interval
  (method 10, from the two Wilson intervals); significant when it excludes 0.
- Other statistics (means, standardised rates, published values) are shown, not tested.

The polarity of the indicator turns a significant increase or decrease into "better" or "worse".

>>> ratio, lower, upper = rate_ratio(120, 1000, 100, 1000)
>>> round(float(ratio), 2), round(float(lower), 3), round(float(upper), 3)
(1.2, 0.913, 1.581)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as sps

from needskit.errors import SchemaError
from needskit.needs.statistics.limits import wilson_limits, z_value

__all__ = ["CHANGE_COLUMNS", "compare_periods", "gap_change", "proportion_difference", "rate_ratio"]

CHANGE_COLUMNS = [
    "indicator",
    "area_code",
    "level",
    "period",
    "against",
    "value",
    "value_before",
    "numerator",
    "numerator_before",
    "measure",
    "change",
    "lower",
    "upper",
    "direction",
    "judgement",
]
"""Columns of :func:`compare_periods`: ``measure`` is ``"rate ratio"``, ``"difference"`` or
``"not tested"``; ``change`` with ``lower``/``upper`` its estimate and interval; ``direction``
``"increase"``, ``"decrease"``, ``"no significant change"`` or ``"not tested"``; ``judgement``
``"better"``, ``"worse"``, ``"no significant change"`` or ``"not tested"`` (polarity applied)."""


def rate_ratio(
    o1: ArrayLike, d1: ArrayLike, o0: ArrayLike, d0: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ratio of two rates (O1/d1) / (O0/d0) and its exact (conditional binomial) interval.

    NaN where a count is missing or both counts are zero; the upper limit is infinite when O0 is
    zero and the lower limit zero when O1 is zero.
    """
    o1, d1, o0, d0 = (np.asarray(a, dtype=float) for a in (o1, d1, o0, d0))
    n = o1 + o0
    alpha = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (o1 / d1) / (o0 / d0)
        p_low = np.where(o1 > 0, sps.beta.ppf(alpha / 2, o1, o0 + 1), 0.0)
        p_high = np.where(o0 > 0, sps.beta.ppf(1 - alpha / 2, o1 + 1, o0), 1.0)
        scale = d0 / d1
        lower = p_low / (1 - p_low) * scale
        upper = np.where(p_high < 1, p_high / (1 - p_high) * scale, np.inf)
    bad = ~np.isfinite(n) | (n <= 0) | ~(d1 > 0) | ~(d0 > 0)
    return (np.where(bad, np.nan, ratio), np.where(bad, np.nan, lower), np.where(bad, np.nan, upper))


def proportion_difference(
    x1: ArrayLike, n1: ArrayLike, x0: ArrayLike, n0: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p1 - p0 and Newcombe's hybrid score interval (method 10)."""
    x1, n1, x0, n0 = (np.asarray(a, dtype=float) for a in (x1, n1, x0, n0))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p0 = x1 / n1, x0 / n0
        l1, u1 = wilson_limits(x1, n1, confidence)
        l0, u0 = wilson_limits(x0, n0, confidence)
        diff = p1 - p0
        lower = diff - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
        upper = diff + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return diff, lower, upper


def _judge(direction: pd.Series, polarity: pd.Series) -> pd.Series:
    good = np.where(
        polarity == "high_is_good", "increase", np.where(polarity == "high_is_bad", "decrease", "")
    )
    bad = np.where(
        polarity == "high_is_good", "decrease", np.where(polarity == "high_is_bad", "increase", "")
    )
    return pd.Series(
        np.select(
            [direction.isin(["no significant change", "not tested"]), direction == good, direction == bad],
            [direction, "better", "worse"],
            "no judgement (polarity not set)",
        ),
        index=direction.index,
    )


def compare_periods(
    results: pd.DataFrame, *, period: str, against: str, confidence: float = 0.95
) -> pd.DataFrame:
    """Every indicator and area with a value in both ``period`` and ``against``, compared.

    Parameters
    ----------
    results
        Indicator results (``indicator``, ``area_code``, ``level``, ``period``, ``statistic``,
        ``polarity``, ``numerator``, ``denominator``, ``value``, ``multiplier``): the store's
        indicators, one comparator's rows.
    period, against
        This period and the one it is compared with (``2025-H1`` against ``2024-H2``).

    Returns
    -------
    DataFrame with :data:`CHANGE_COLUMNS`, one row per indicator and area in both periods.
    """
    needed = {"indicator", "area_code", "level", "period", "statistic", "numerator", "denominator", "value"}
    missing = needed - set(results.columns)
    if missing:
        raise SchemaError(
            "lacks columns",
            where="compare_periods(results)",
            expected=", ".join(sorted(needed)),
            got=", ".join(sorted(missing)),
        )
    keys = ["indicator", "area_code", "level"]
    now = results[results["period"] == period].drop_duplicates(keys)
    before = results[results["period"] == against].drop_duplicates(keys)
    both = now.merge(
        before[[*keys, "numerator", "denominator", "value"]], on=keys, how="inner", suffixes=("", "_before")
    )
    both = both[both["value"].notna() & both["value_before"].notna()].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "indicator": both["indicator"],
            "area_code": both["area_code"],
            "level": both["level"],
            "period": period,
            "against": against,
            "value": both["value"],
            "value_before": both["value_before"],
            "numerator": both["numerator"],
            "numerator_before": both["numerator_before"],
            "measure": "not tested",
            "change": np.nan,
            "lower": np.nan,
            "upper": np.nan,
        }
    )
    tests: dict[str, tuple[str, Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]]] = {
        "crude_rate": ("rate ratio", rate_ratio),
        "proportion": ("difference", proportion_difference),
    }
    for statistic, (measure, test) in tests.items():
        rows = both["statistic"].eq(statistic).to_numpy()
        if rows.any():
            counts = [
                both.loc[rows, c]
                for c in ("numerator", "denominator", "numerator_before", "denominator_before")
            ]
            estimate, lo, hi = test(*counts, confidence)
            out.loc[rows, ["measure", "change", "lower", "upper"]] = np.column_stack(
                [np.full(rows.sum(), measure, dtype=object), estimate, lo, hi]
            )
    for column in ("change", "lower", "upper"):
        out[column] = out[column].astype(float)
    null = np.where(out["measure"] == "rate ratio", 1.0, 0.0)
    tested = out["measure"] != "not tested"
    valid = tested & out["lower"].notna() & out["upper"].notna()
    direction = np.select(
        [~tested, ~valid, out["lower"] > null, out["upper"] < null],
        ["not tested", "not tested", "increase", "decrease"],
        "no significant change",
    )
    out["direction"] = direction
    polarity = both["polarity"] if "polarity" in both.columns else pd.Series("", index=both.index)
    out["judgement"] = _judge(out["direction"], polarity.fillna(""))
    return out[CHANGE_COLUMNS]


def gap_change(before: pd.Series, now: pd.Series, *, confidence: float = 0.95) -> dict[str, float | str]:
    """Is the gap narrowing? The slope index of inequality of two periods compared.

    Parameters
    ----------
    before, now
        Rows of :func:`needskit.needs.slope_index.sii` (``sii``, ``sii_lower_95``,
        ``sii_upper_95``) for the earlier and this period, in the same direction.

    Returns
    -------
    ``difference`` (now − before), its ``lower``/``upper`` limits (standard errors from each
    period's 95% interval, combined as independent), ``z``, ``p`` and ``verdict``: ``"narrowing"``,
    ``"widening"`` or ``"no significant change"`` (a narrowing gap is a smaller absolute SII).
    """
    z95 = z_value(0.95)
    se_before = (before["sii_upper_95"] - before["sii_lower_95"]) / (2 * z95)
    se_now = (now["sii_upper_95"] - now["sii_lower_95"]) / (2 * z95)
    se = float(np.hypot(se_before, se_now))
    difference = float(abs(now["sii"]) - abs(before["sii"]))
    zc = z_value(confidence)
    z = difference / se if se > 0 else np.nan
    p = float(2 * sps.norm.sf(abs(z))) if np.isfinite(z) else np.nan
    verdict = (
        "no significant change"
        if not np.isfinite(z) or abs(z) < zc
        else ("narrowing" if difference < 0 else "widening")
    )
    return {
        "difference": difference,
        "lower": difference - zc * se,
        "upper": difference + zc * se,
        "z": float(z),
        "p": p,
        "verdict": verdict,
    }
