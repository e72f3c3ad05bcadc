"""Spend against need: spend per head set against a need measure. Descriptive, not value for money."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from needskit._checks import require_columns, require_frame, require_non_negative, require_numeric
from needskit.errors import NeedskitWarning, SchemaError, describe_values

__all__ = ["spend_vs_need", "SPEND_VS_NEED_CAVEAT"]

SPEND_VS_NEED_CAVEAT = "Spend per head against need is descriptive; it is not a value-for-money judgement."
"""The sentence every report of :func:`spend_vs_need` must print (also in ``result.attrs["caveat"]``)."""


def spend_vs_need(
    df: pd.DataFrame,
    *,
    need: str,
    spend: str,
    population: str,
    area: str = "area_code",
    theme: str | None = None,
) -> pd.DataFrame:
    """Spend per head set against need, per area (and theme). Descriptive, not value for money.

    Parameters
    ----------
    df
        One row per area (per theme): a need measure (higher = more need), spend (£) and the
        population the spend is for. Not modified.
    need, spend, population
        Numeric columns. Spend and population are ≥ 0.
    area
        Column naming the areas.
    theme
        Column to compare within (shares, percentiles and correlation per theme).

    Returns
    -------
    DataFrame in input order: ``area``, ``theme`` (when given), ``need``, ``spend``,
    ``population``, ``spend_per_head`` (£ per resident; missing where population is 0),
    ``need_percentile`` and ``spend_per_head_percentile`` (rank / n within the theme),
    ``percentile_difference`` (spend − need percentile: negative where spend per head ranks
    lower than need), ``spend_share`` (of the theme's spend), ``need_share`` (need × population
    over its theme total; missing when need has negative values) and
    ``need_proportional_spend`` (the theme's spend shared by ``need_share``) and
    ``spend_minus_need_proportional``.
    ``result.attrs["caveat"]`` is :data:`SPEND_VS_NEED_CAVEAT`, which reports must print;
    ``result.attrs["needskit_spend_vs_need"]`` holds Spearman's rank correlation of need and
    spend per head per theme.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, missing values, negative spend or population, areas
        repeated within a theme.

    Notes
    -----
    Spend per head = spend / population; the need-proportional spend is what each area would get
    if the theme's spend were shared in proportion to need × population (as
    :func:`~needskit.commissioning.allocation.allocate` does). The comparison describes how spend
    lines up with one measure of need.
    It says nothing about outcomes, cost of delivery in rural areas, economies of scale,
    services used across area boundaries, or whether the spend achieves anything: it is not a
    value-for-money judgement (field.md: SPOT spend-and-outcome tools make the same caveat).

    Examples
    --------
    >>> table = spend_vs_need(ward_table, need="imd_score", spend="spend_gbp", population="residents",
    ...                       theme="theme")  # doctest: +SKIP
    >>> print(table.attrs["caveat"])  # doctest: +SKIP
    """
    require_frame(df)
    group_cols = [theme] if theme is not None else []
    require_columns(
        df, [area, need, spend, population, *group_cols], argument="area/need/spend/population/theme"
    )
    require_numeric(df, [need, spend, population], allow_missing=False)
    require_non_negative(df, [spend, population])
    repeated = df.duplicated([*group_cols, area], keep=False)
    if repeated.any():
        raise SchemaError(
            "repeats areas" + (" within a theme" if theme else ""),
            where=f"area={area!r}",
            expected="one row per area" + (" and theme" if theme else ""),
            got=describe_values(df.loc[repeated, area].tolist()),
        )
    out = df[[area, *group_cols, need, spend, population]].reset_index(drop=True)
    group = out[theme] if theme is not None else pd.Series("all", index=out.index)
    s = out[spend].to_numpy(float)
    p = out[population].to_numpy(float)
    x = out[need].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["spend_per_head"] = np.where(p > 0, s / p, np.nan)
    out["need_percentile"] = out[need].astype(float).groupby(group).rank(method="average", pct=True)
    out["spend_per_head_percentile"] = out["spend_per_head"].groupby(group).rank(method="average", pct=True)
    out["percentile_difference"] = out["spend_per_head_percentile"] - out["need_percentile"]
    total = pd.Series(s, index=out.index).groupby(group).transform("sum").to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["spend_share"] = np.where(total > 0, s / total, np.nan)
        weight = pd.Series(x * p, index=out.index)
        negative_need = pd.Series(x < 0, index=out.index).groupby(group).transform("any").to_numpy(bool)
        weight_total = weight.groupby(group).transform("sum").to_numpy(float)
        need_share = np.where(~negative_need & (weight_total > 0), weight.to_numpy() / weight_total, np.nan)
    out["need_share"] = need_share
    out["need_proportional_spend"] = total * need_share
    out["spend_minus_need_proportional"] = s - out["need_proportional_spend"].to_numpy()
    correlation = {}
    for key, rows in out.groupby(group, sort=True).groups.items():
        part = out.loc[rows, [need, "spend_per_head"]].dropna()
        if len(part) >= 3 and part[need].nunique() > 1 and part["spend_per_head"].nunique() > 1:
            correlation[key] = float(spearmanr(part[need], part["spend_per_head"]).statistic)
        else:
            correlation[key] = float("nan")
    if negative_need.any():
        warnings.warn(
            f"need {need!r} has negative values: need_share and need_proportional_spend are left missing",
            NeedskitWarning,
            stacklevel=2,
        )
    out.attrs["caveat"] = SPEND_VS_NEED_CAVEAT
    out.attrs["needskit_spend_vs_need"] = {
        "spearman_need_vs_spend_per_head": correlation,
        "caveat": SPEND_VS_NEED_CAVEAT,
    }
    return out.reset_index(drop=True)
