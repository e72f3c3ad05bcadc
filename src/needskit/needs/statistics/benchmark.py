"""Benchmarking against a comparator, quantiles within a group, and the recent trend (Fingertips).

* :func:`compare` — significance against a comparator (England, the region, a target) by
  overlapping confidence interval or by SPC control limits for proportions or for DSRs,
  turned into better / worse / similar by the indicator's polarity.
* :func:`quantiles` — Fingertips / PHEindicatormethods quantiles of areas within a group.
* :func:`trend` — the Fingertips "recent trend": chi-square test for linear trend over the
  last five points.

Outcome vocabulary (stable, for colours and sentences): ``better``, ``worse``, ``similar``,
``higher``, ``lower``, ``not_compared``; trends ``increasing``, ``decreasing``,
``no significant change``, ``cannot be calculated`` and, with a polarity,
``getting better`` / ``getting worse``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame, require_non_negative, require_numeric
from needskit.errors import SchemaError
from needskit.needs.statistics._common import (
    first_reason,
    group_keys,
    judge,
    polarity_per_row,
    refuse_collisions,
    require_column_name,
    require_greater_equal,
)
from needskit.needs.statistics.funnel import control_limits
from needskit.needs.statistics.limits import confidence_levels, level_label

__all__ = ["compare", "quantiles", "trend", "COMPARISON_METHODS", "TREND_CRITICAL_VALUE"]

COMPARISON_METHODS: tuple[str, ...] = ("ci_overlap", "spc_proportion", "spc_dsr")
TREND_CRITICAL_VALUE = 9.54953570608324
"""Chi-square (1 d.f.) at 99.8%: the Fingertips threshold for a significant recent trend."""

_METHOD_NAMES = {
    "ci_overlap": "overlapping confidence interval",
    "spc_proportion": "SPC for proportions",
    "spc_dsr": "SPC for DSRs",
}


def _comparator_values(df: pd.DataFrame, comparator: str | float) -> np.ndarray:
    if isinstance(comparator, str):
        require_columns(df, [comparator], argument="comparator")
        require_numeric(df, [comparator])
        return df[comparator].to_numpy(dtype=float)
    if isinstance(comparator, bool) or not isinstance(comparator, (int, float, np.integer, np.floating)):
        raise SchemaError("is neither a number nor a column name", where="comparator", got=repr(comparator))
    return np.full(len(df), float(comparator))


def _needs(df: pd.DataFrame, method: str, **columns: str | None) -> dict[str, np.ndarray]:
    """Arrays of the named columns, raising if one is not given or not in the frame."""
    out: dict[str, np.ndarray] = {}
    for argument, column in columns.items():
        if column is None:
            raise SchemaError(
                f"is required by method={method!r}",
                where=argument,
                expected="a column name",
                got="None",
            )
        require_column_name(column, argument=argument)
        require_columns(df, [column], argument=argument)
        require_numeric(df, [column])
        out[argument] = df[column].to_numpy(dtype=float)
    return out


def compare(
    df: pd.DataFrame,
    *,
    comparator: str | float,
    polarity: str,
    value: str | None = "value",
    lower: str | None = None,
    upper: str | None = None,
    method: Literal["ci_overlap", "spc_proportion", "spc_dsr"] = "ci_overlap",
    confidence: float = 0.95,
    numerator: str | None = None,
    denominator: str | None = None,
    multiplier: float | None = None,
) -> pd.DataFrame:
    """Compare each row's value with a comparator, Fingertips style.

    Parameters
    ----------
    df
        One row per area (and period ...), e.g. the output of :func:`crude_rate`.
    comparator
        Column holding the comparator's value on each row (England, region ...) or one number
        for every row (a target).
    polarity
        ``"high_is_good"``, ``"high_is_bad"`` (alias ``"low_is_good"``), ``"no_judgement"``, or
        a column holding one of these per row.
    value
        Column of the area's value (``ci_overlap`` and ``spc_dsr``).
    lower, upper
        ``ci_overlap`` only: columns of the area's limits; default ``lower_<level>`` /
        ``upper_<level>`` for ``confidence`` (``lower_95`` ...).
    method
        ``"ci_overlap"``: similar when lower ≤ comparator ≤ upper. ``"spc_proportion"``:
        control limits of the comparator proportion for the area's denominator (needs
        ``numerator`` and ``denominator``). ``"spc_dsr"``: exact Poisson control limits of
        the expected count (needs ``value`` and ``denominator``, the population).
    confidence
        0.95 or 0.998 as Fingertips (any level in [0.9, 1) is accepted).
    numerator, denominator
        Columns for the SPC methods.
    multiplier
        Scale of ``value`` and ``comparator`` for the SPC methods: default 100 (percent) for
        ``spc_proportion`` and 100,000 for ``spc_dsr``.

    Returns
    -------
    DataFrame
        The input rows and columns (same index) plus ``comparison`` (``better``, ``worse``,
        ``similar``, or ``higher``/``lower`` with ``no_judgement``, or ``not_compared`` when a
        value, limit, comparator or denominator is missing), ``comparison_method`` (e.g.
        ``"overlapping confidence interval"``) and ``comparison_confidence`` (e.g. ``0.95``);
        the SPC methods add ``control_lower`` and ``control_upper`` on the value's scale.

    Raises
    ------
    SchemaError
        Unknown method or polarity, missing or non-numeric columns, a level outside [0.9, 1),
        output columns already in the frame.

    Notes
    -----
    Fingertips comparators (fingertips-open ``SingleOverlappingCIsComparer``,
    ``SpcForProportionsComparer``, ``SpcForDsrComparer``). Overlapping interval: similar when
    the comparator lies within the area's interval, otherwise higher or lower by the value.
    SPC for proportions: ``P₀ = comparator/multiplier``, ``E = N·P₀``, limits
    ``(2E + z² ∓ z√(z² + 4E(1 − E/N))) / (2(N + z²))`` compared with ``numerator/N``.
    SPC for DSRs: ``E = comparator × denominator / multiplier``; limits are the exact Poisson
    limits of E at tails ``(1 − confidence)/2`` (0.025 and 0.001), divided by the denominator
    and multiplied. As in Fingertips' ``PoisLow``/``PoisHigh`` a non-integer E is treated
    discretely: the lower limit uses ``ceil(E)`` and the upper ``floor(E)`` events.

    Examples
    --------
    >>> frame = pd.DataFrame({"value": [3.3], "lower_95": [3.2], "upper_95": [3.5]})
    >>> compare(frame, comparator=3.0, polarity="high_is_bad")["comparison"].item()
    'worse'
    """
    require_frame(df)
    if method not in COMPARISON_METHODS:
        raise SchemaError(
            "is not a known comparison method",
            where="method",
            expected=f"one of {list(COMPARISON_METHODS)}",
            got=repr(method),
        )
    (level,) = confidence_levels(confidence)
    pol = polarity_per_row(df, polarity)
    comp = _comparator_values(df, comparator)
    produced = ["comparison", "comparison_method", "comparison_confidence"]
    if method != "ci_overlap":
        produced += ["control_lower", "control_upper"]
    refuse_collisions(df.columns, produced, what="compare()")

    control_lower = control_upper = None
    if method == "ci_overlap":
        lower = lower or f"lower_{level_label(level)}"
        upper = upper or f"upper_{level_label(level)}"
        cols = _needs(df, method, value=value, lower=lower, upper=upper)
        v, lo, hi = cols["value"], cols["lower"], cols["upper"]
        usable = ~(np.isnan(v) | np.isnan(lo) | np.isnan(hi) | np.isnan(comp))
        with np.errstate(invalid="ignore"):
            similar = (lo <= comp) & (comp <= hi)
            direction = np.where(v < comp, "lower", "higher")
    else:
        if method == "spc_proportion":
            cols = _needs(df, method, numerator=numerator, denominator=denominator)
            n = cols["denominator"]
            with np.errstate(divide="ignore", invalid="ignore"):
                observed = cols["numerator"] / n * (100.0 if multiplier is None else float(multiplier))
            lo, hi = control_limits(n, comp, statistic="proportion", confidence=level, multiplier=multiplier)
        else:  # spc_dsr
            cols = _needs(df, method, value=value, denominator=denominator)
            observed, n = cols["value"], cols["denominator"]
            lo, hi = control_limits(n, comp, statistic="dsr", confidence=level, multiplier=multiplier)
        usable = ~(np.isnan(observed) | np.isnan(lo) | np.isnan(hi))
        control_lower, control_upper = lo, hi
        with np.errstate(invalid="ignore"):
            similar = (lo <= observed) & (observed <= hi)
            direction = np.where(observed > hi, "higher", "lower")
    outcome = np.where(similar, "similar", judge(direction.astype(object), pol))
    outcome = np.where(usable, outcome, "not_compared").astype(object)

    out = df.copy()
    out["comparison"] = outcome
    out["comparison_method"] = _METHOD_NAMES[method]
    out["comparison_confidence"] = level
    if control_lower is not None and control_upper is not None:
        out["control_lower"] = np.where(usable, control_lower, np.nan)
        out["control_upper"] = np.where(usable, control_upper, np.nan)
    return out


def quantiles(
    df: pd.DataFrame,
    *,
    value: str,
    by: str | Sequence[str] | None = None,
    q: int = 5,
    polarity: str = "no_judgement",
) -> pd.DataFrame:
    """Assign areas to ``q`` quantiles of their group (quintiles by default), Fingertips style.

    Parameters
    ----------
    df
        One row per area.
    value
        Column to rank.
    by
        Grouping columns (e.g. the comparator's region or the period); ``None``: one group.
    q
        Number of quantiles, at least 2 (5 quintiles, 10 deciles).
    polarity
        ``"no_judgement"`` (default) or ``"high_is_good"``: quantile 1 holds the lowest values.
        ``"high_is_bad"`` (alias ``"low_is_good"``): quantile 1 holds the highest values. So
        with a polarity quantile 1 is always the worst. May be a column, constant within groups.

    Returns
    -------
    DataFrame
        The input rows and columns (same index) plus ``quantile`` (nullable integer 1..q),
        ``quantile_count`` (non-missing values in the group) and ``quantile_reason``
        (``""``, ``"missing value"`` or ``"fewer than q values in group"``).

    Raises
    ------
    SchemaError
        Missing or non-numeric column, ``q`` not an integer ≥ 2, unknown or mixed polarity,
        output columns already in the frame.

    Notes
    -----
    PHEindicatormethods ``phe_quantile``: N non-missing values, ranks ascending with ties at the
    lowest rank, ``quantile = floor((q + 1) − ceiling(((N + 1) − rank)/(N/q)))`` with 0 read as
    1; missing when ``N < q``.

    Examples
    --------
    >>> quantiles(pd.DataFrame({"v": range(10)}), value="v")["quantile"].tolist()
    [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    """
    require_frame(df)
    value = require_column_name(value, argument="value")
    require_columns(df, [value], argument="value")
    require_numeric(df, [value])
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 2:
        raise SchemaError(
            "is not a number of quantiles", where="q", expected="an integer of 2 or more", got=repr(q)
        )
    keys = group_keys(df, by, used=[value])
    refuse_collisions(df.columns, ["quantile", "quantile_count", "quantile_reason"], what="quantiles()")
    pol = polarity_per_row(df, polarity)
    v = df[value].to_numpy(dtype=float)
    work = pd.DataFrame({"_v": np.where(pol == "high_is_bad", -v, v), "_pol": pol}, index=df.index)
    for k in keys:
        work[k] = df[k]
    if keys:
        grouped = work.groupby(keys, sort=False, dropna=False, observed=True)
        if (grouped["_pol"].nunique() > 1).any():
            raise SchemaError(
                "differs within a group",
                where=f"polarity column {polarity!r}",
                expected="one polarity per group",
            )
        rank = grouped["_v"].rank(method="min").to_numpy()
        count = grouped["_v"].transform("count").to_numpy(dtype=float)
    else:
        rank = work["_v"].rank(method="min").to_numpy()
        count = np.full(len(work), float(work["_v"].count()))
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.floor((q + 1) - np.ceil(((count + 1) - rank) / (count / q)))
    result = np.where(result == 0, 1, result)
    reason = first_reason(
        [(np.isnan(v), "missing value"), (count < q, f"fewer than {q} values in group")], len(df)
    )
    result = np.where(reason == "", result, np.nan)
    out = df.copy()
    out["quantile"] = pd.array(np.where(np.isnan(result), 0, result).astype(np.int64), dtype="Int64")
    out.loc[np.isnan(result), "quantile"] = pd.NA
    out["quantile_count"] = count.astype(np.int64)
    out["quantile_reason"] = reason
    return out


def trend(
    df: pd.DataFrame,
    *,
    time: str,
    count: str | None = None,
    denominator: str | None = None,
    value: str | None = None,
    lower: str | None = None,
    upper: str | None = None,
    by: str | Sequence[str] | None = None,
    points: int = 5,
    polarity: str | None = None,
    critical: float = TREND_CRITICAL_VALUE,
) -> pd.DataFrame:
    """Recent trend over the last ``points`` periods (Fingertips trend marker).

    Parameters
    ----------
    df
        One row per period per group.
    time
        Column ordering the periods (year, ``"2019/20"`` ... anything sortable); unique within
        a group.
    count, denominator
        For proportions: events and denominator per period (chi-square test for linear trend
        in proportions).
    value, lower, upper
        For rates and other values instead of ``count``/``denominator``: the value and its
        95% limits (default columns ``lower_95``/``upper_95``); inverse-variance weighted
        regression of the value on time.
    by
        Grouping columns (area, indicator ...); ``None``: one series.
    points
        Number of most recent consecutive valid periods used; Fingertips uses 5.
    polarity
        Optional polarity (or polarity column, constant within groups) to add
        ``trend_assessment``.
    critical
        Chi-square threshold; default 9.5495 (1 d.f., 99.8%).

    Returns
    -------
    DataFrame
        One row per group: the ``by`` columns, ``trend_points`` (valid consecutive periods
        used), ``trend_from``/``trend_to`` (first and last period used), ``trend_chi_square``,
        ``trend`` (``increasing``, ``decreasing``, ``no significant change`` or
        ``cannot be calculated``), ``trend_reason`` (why it cannot be calculated, else ``""``),
        ``trend_method`` and, with ``polarity``, ``trend_assessment`` (``getting better``,
        ``getting worse``, or ``increasing``/``decreasing`` with no_judgement, ``no significant
        change``, ``cannot be calculated``).

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, neither or both input forms, a period repeated within
        a group, negative counts or counts above denominators, ``points`` below 3.

    Notes
    -----
    fingertips-open ``TrendMarkerCalculator`` / ``TrendRequest``. Periods are taken from the
    most recent backwards until a missing one; fewer than ``points`` → cannot be calculated.
    Time is coded 1..points. Proportions: with N = Σn, X = Σx,
    ``χ² = N(NΣxt − XΣnt)² / (X(N − X)(NΣnt² − (Σnt)²))`` (Armitage's test for trend);
    direction from the sign of ``NΣxt − XΣnt``. Values with limits: weights
    ``w = 1/((U − L)/3.92)²``, weighted least-squares slope b with standard error s,
    ``χ² = (b/s)²``. Significant when χ² exceeds ``critical`` and, as Fingertips' outlier check,
    the direction is unchanged when each point in turn is left out. (Fingertips checks that
    direction for proportions with the unweighted slope of the log-odds; needskit uses the same
    linear-trend score as the test, which is defined for counts of zero.)

    Examples
    --------
    >>> frame = pd.DataFrame({"year": range(2015, 2020), "x": [100, 120, 140, 160, 180], "n": [1000] * 5})
    >>> trend(frame, time="year", count="x", denominator="n")["trend"].item()
    'increasing'
    """
    require_frame(df)
    time = require_column_name(time, argument="time")
    require_columns(df, [time], argument="time")
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 3:
        raise SchemaError(
            "is too small",
            where="points",
            expected="an integer of 3 or more (Fingertips: 5)",
            got=repr(points),
        )
    proportions = count is not None or denominator is not None
    if proportions == (value is not None):
        raise SchemaError(
            "needs one form of input",
            where="trend()",
            expected="count= and denominator= (proportions) "
            "or value= with lower=/upper= (rates, other values)",
            got=f"count={count!r}, denominator={denominator!r}, value={value!r}",
        )
    if proportions:
        cols = {"count": count, "denominator": denominator}
    else:
        cols = {"value": value, "lower": lower or "lower_95", "upper": upper or "upper_95"}
    inputs: list[str] = []
    for argument, column in cols.items():
        if column is None:
            raise SchemaError(
                "is required with proportions", where=argument, expected="a column name", got="None"
            )
        require_column_name(column, argument=argument)
        require_columns(df, [column], argument=argument)
        inputs.append(column)
    require_numeric(df, inputs)
    keys = group_keys(df, by, used=[*inputs, time])
    if proportions:
        assert count is not None and denominator is not None  # checked with the columns above
        require_non_negative(df, inputs)
        require_greater_equal(df, denominator, count, what="has a count above its denominator")

    # Group id per row; groups appear sorted by their keys.
    if keys:
        grouped = df.groupby(keys, sort=True, dropna=False, observed=True)
        gid = grouped.ngroup().to_numpy()
        groups = grouped.size().reset_index()[keys]
    else:
        gid = np.zeros(len(df), dtype=np.int64)
        groups = pd.DataFrame(index=range(1))
    n_groups = len(groups)
    work = pd.DataFrame({"_g": gid, "_t": df[time].to_numpy()})
    for argument, column in cols.items():
        work[argument] = df[column].to_numpy(dtype=float)
    if work["_t"].isna().any():
        raise SchemaError("has missing periods", where=f"column {time!r}", expected="a period in every row")
    repeated = work.duplicated(["_g", "_t"])
    if repeated.any():
        raise SchemaError(
            "repeats a period within a group",
            where=f"column {time!r}",
            expected="one row per period per group",
            got=f"{int(repeated.sum())} repeated rows, e.g. period {work.loc[repeated, '_t'].iloc[0]!r}",
            hint="sum the rows first, or add the distinguishing column to by=",
        )
    if proportions:
        valid = work[["count", "denominator"]].notna().all(axis=1) & (work["denominator"] > 0)
    else:
        valid = work[["value", "lower", "upper"]].notna().all(axis=1) & (work["upper"] > work["lower"])
    work["_bad"] = ~valid
    work = work.sort_values(["_g", "_t"], ascending=[True, False], kind="stable")
    broken = work.groupby("_g")["_bad"].cumsum() > 0
    position = work.groupby("_g").cumcount()
    kept = work[~broken & (position < points)]
    used = kept.groupby("_g").size().reindex(range(n_groups), fill_value=0).to_numpy()
    total = work.groupby("_g").size().reindex(range(n_groups), fill_value=0).to_numpy()

    g = kept["_g"].to_numpy()
    slot = points - 1 - position[kept.index].to_numpy()  # 0 = oldest, points-1 = most recent
    arrays = {}
    for argument in cols:
        a = np.full((n_groups, points), np.nan)
        a[g, slot] = kept[argument].to_numpy()
        arrays[argument] = a
    t = np.arange(1, points + 1, dtype=float)[None, :]
    complete = used >= points
    safe = complete[:, None]

    def score(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Direction statistic and chi-square over the points where ``mask`` is True."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if proportions:
                x = np.where(mask & safe, arrays["count"], 0.0)
                n = np.where(mask & safe, arrays["denominator"], 0.0)
                big_n, big_x = n.sum(1), x.sum(1)
                s_xt, s_nt, s_nt2 = (x * t).sum(1), (n * t).sum(1), (n * t**2).sum(1)
                u = big_n * s_xt - big_x * s_nt
                chi2 = big_n * u**2 / (big_x * (big_n - big_x) * (big_n * s_nt2 - s_nt**2))
                return u, chi2
            se = (arrays["upper"] - arrays["lower"]) / 3.92
            w = np.where(mask & safe, 1 / se**2, 0.0)
            v = np.where(mask & safe, arrays["value"], 0.0)
            s1, s2, s3, s4, s5 = (
                w.sum(1),
                (w * v * t).sum(1),
                (w * t).sum(1),
                (w * v).sum(1),
                (w * t**2).sum(1),
            )
            det = s1 * s5 - s3**2
            slope = (s1 * s2 - s3 * s4) / det
            chi2 = slope**2 / (s1 / det)
            return slope, chi2

    everything = np.ones((1, points), dtype=bool)
    direction, chi_square = score(everything)
    signs = [np.where(direction < 0, -1, 1)]
    for left_out in range(points):
        mask = everything.copy()
        mask[0, left_out] = False
        signs.append(np.where(score(mask)[0] < 0, -1, 1))
    consistent = np.abs(np.sum(signs, axis=0)) == points + 1

    defined = np.isfinite(chi_square)
    reason = first_reason(
        [
            (total < points, f"fewer than {points} periods"),
            (~complete, f"fewer than {points} consecutive periods with valid data"),
            (
                ~defined,
                "no variation to test (all counts zero or equal to denominators)"
                if proportions
                else "trend is undefined",
            ),
        ],
        n_groups,
    )
    calculable = reason == ""
    significant = calculable & consistent & (np.where(defined, chi_square, 0) > critical)
    outcome = np.select(
        [~calculable, significant & (direction > 0), significant & (direction < 0)],
        ["cannot be calculated", "increasing", "decreasing"],
        default="no significant change",
    ).astype(object)

    out = groups.reset_index(drop=True) if keys else pd.DataFrame(index=range(1))
    first = kept.groupby("_g")["_t"].min().reindex(range(n_groups))
    last = kept.groupby("_g")["_t"].max().reindex(range(n_groups))
    out["trend_points"] = used.astype(np.int64)
    out["trend_from"] = first.to_numpy()
    out["trend_to"] = last.to_numpy()
    out["trend_chi_square"] = np.where(calculable, chi_square, np.nan)
    out["trend"] = outcome
    out["trend_reason"] = reason
    out["trend_method"] = (
        "chi-square test for linear trend in proportions"
        if proportions
        else "chi-square for weighted linear trend"
    )
    if polarity is not None:
        pol_rows = polarity_per_row(df, polarity)
        pol_frame = pd.Series(pol_rows).groupby(gid)
        if (pol_frame.nunique() > 1).any():
            raise SchemaError(
                "differs within a group",
                where=f"polarity column {polarity!r}",
                expected="one polarity per group",
            )
        pol = pol_frame.first().reindex(range(n_groups)).to_numpy(dtype=object)
        judged = judge(
            np.select([outcome == "increasing", outcome == "decreasing"], ["higher", "lower"], "").astype(
                object
            ),
            pol,
        )
        assessment = np.select(
            [judged == "better", judged == "worse", judged == "higher", judged == "lower"],
            ["getting better", "getting worse", "increasing", "decreasing"],
            default=outcome,
        )
        out["trend_assessment"] = assessment.astype(object)
    return out
