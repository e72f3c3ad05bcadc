"""The needs profile: every indicator for every area and period, from the pooled profile.

Indicators are defined in ``conf/indicators.yml`` (:func:`needskit.config.load_indicators`) and
computed from the pooled long profile with the Fingertips methods of
:mod:`needskit.needs.statistics`: Wilson intervals for proportions, exact Poisson / Byar's for
rates, Dobson for directly standardised rates, Byar's for indirectly standardised ratios,
Chiang II / Silcocks for life expectancy, Student t for means, and published values carried
as they are. :mod:`needskit.needs.benchmarking` then compares every area with its comparators.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame
from needskit.config.indicators import IndicatorSpec, TermSpec
from needskit.errors import SchemaError
from needskit.needs import statistics as stats
from needskit.needs.periods import is_month

__all__ = ["compute_indicators", "INDICATOR_COLUMNS"]

INDICATOR_COLUMNS = [
    "indicator",
    "title",
    "theme",
    "statistic",
    "polarity",
    "unit",
    "area_code",
    "area_name",
    "level",
    "period",
    "numerator",
    "denominator",
    "value",
    "lower_95",
    "upper_95",
    "lower_99_8",
    "upper_99_8",
    "method",
    "suppressed_reason",
    "multiplier",
    "sources",
]
"""Columns of :func:`compute_indicators`' result."""
_PROFILE = ["area_code", "level", "dataset", "measure", "category", "period", "value"]
_KEYS = ["area_code", "level", "period"]


def _term_values(groups: dict, term: TermSpec, *, by_category: bool = False) -> pd.DataFrame:
    """Sum a term's categories per area, level and period (and category when ``by_category``);
    per area the first dataset that has it. ``groups`` maps (dataset, measure) to that part of
    the profile."""
    keys = _KEYS + (["category"] if by_category else [])
    parts = []
    for rank, dataset in enumerate(term.datasets):
        rows = groups.get((dataset, term.measure))
        if rows is None:
            continue
        if term.categories is not None:
            rows = rows[rows["category"].isin(term.categories)]
        elif term.exclude:
            rows = rows[~rows["category"].isin(term.exclude)]
        if term.period is not None:
            rows = rows[rows["period"] == term.period]
        summed = rows.groupby(keys, as_index=False, observed=True)["value"].sum(min_count=1)
        parts.append(summed.assign(_rank=rank))
    if not parts:
        return pd.DataFrame(columns=keys + ["value"])
    out = pd.concat(parts, ignore_index=True)
    if len(parts) > 1:
        out = out.sort_values("_rank", kind="stable").drop_duplicates(keys)
    for key in keys:
        out[key] = out[key].astype(str)
    return out.drop(columns="_rank")


def _split(profile: pd.DataFrame) -> dict:
    """The profile by (dataset, measure), with categorical keys so filtering and grouping are fast."""
    keys = ["area_code", "level", "period", "category"]
    slim = profile[["dataset", "measure", "value"] + keys].astype({k: "category" for k in keys})
    return {key: part for key, part in slim.groupby(["dataset", "measure"], observed=True, sort=False)}


def _combine(num: pd.DataFrame, den: pd.DataFrame, *, keys: Sequence[str] = ()) -> pd.DataFrame:
    """Join numerator and denominator per area (and ``keys``); a denominator with one period
    serves every period of the numerator (a census population for monthly crimes)."""
    area = ["area_code", "level"] + list(keys)
    den_periods = den.groupby(["area_code", "level"])["period"].nunique()
    single = den_periods[den_periods == 1].index
    on_single = den.set_index(["area_code", "level"]).index.isin(single)
    joined_single = num.merge(
        den[on_single].drop(columns="period"), on=area, how="left", suffixes=("_n", "_d")
    )
    joined_multi = num.merge(den[~on_single], on=area + ["period"], how="inner", suffixes=("_n", "_d"))
    joined = pd.concat([joined_single[joined_single["value_d"].notna()], joined_multi], ignore_index=True)
    return joined.rename(columns={"value_n": "numerator", "value_d": "denominator"})


def _combined_period(frame: pd.DataFrame, *, keys: Sequence[str] = ()) -> pd.DataFrame:
    """All periods together: numerators summed, the (shared) denominator kept; period ``first/last``.
    When the frame holds a series' months and the analysis periods summed from them (half-years),
    the analysis periods are combined, not the months twice over."""
    months = frame["period"].astype(str).map(is_month)
    if not months.all():
        frame = frame[~months]
    periods = sorted(frame["period"].unique())
    if len(periods) < 2:
        return frame.iloc[0:0]
    group = ["area_code", "level"] + list(keys)
    grouped = frame.groupby(group, as_index=False).agg(
        numerator=("numerator", "sum"), denominator=("denominator", "first")
    )
    return grouped.assign(period=f"{periods[0]}/{periods[-1]}")


def _empty_limits(frame: pd.DataFrame, confidence: float | Sequence[float]) -> pd.DataFrame:
    for level in stats.confidence_levels(confidence):
        label = stats.level_label(level)
        frame[f"lower_{label}"] = np.nan
        frame[f"upper_{label}"] = np.nan
    return frame


def _value(spec: IndicatorSpec, groups: dict, confidence: float | Sequence[float]) -> pd.DataFrame:
    assert spec.value is not None
    values = _term_values(groups, spec.value)
    frame = values.assign(
        numerator=np.nan,
        denominator=np.nan,
        value=values["value"] * spec.multiplier,
        method="published value",
        suppressed_reason=np.where(values["value"].isna(), "no published value", ""),
    )
    return _empty_limits(frame, confidence)


def _mean(
    spec: IndicatorSpec, groups: dict, members: pd.DataFrame, confidence: float | Sequence[float]
) -> pd.DataFrame:
    """Each area's mean of its LSOAs' values (Student t limits); an LSOA shows its own value."""
    assert spec.value is not None
    values = _term_values(groups, spec.value)
    lsoa = values[values["level"] == "lsoa"]
    joined = members.merge(
        lsoa.rename(columns={"area_code": "lsoa"}).drop(columns="level"), on="lsoa", how="inner"
    )
    if joined.empty:
        return pd.DataFrame(columns=_KEYS + ["value"])
    out = stats.mean(joined, value="value", by=["area_code", "level", "period"], confidence=confidence)
    out = out.rename(columns={"value_sum": "numerator", "value_count": "denominator"})
    own = lsoa.assign(
        numerator=lsoa["value"], denominator=1.0, method="value of the neighbourhood", suppressed_reason=""
    )
    own = _empty_limits(own, confidence)
    out = pd.concat([out[out["level"] != "lsoa"], own], ignore_index=True)
    out["value"] = out["value"] * spec.multiplier
    for column in [c for c in out.columns if c.startswith(("lower_", "upper_"))]:
        out[column] = out[column] * spec.multiplier
    return out


def _by_age(spec: IndicatorSpec, groups: dict, confidence: float | Sequence[float]) -> pd.DataFrame:
    """DSR, ISR or life expectancy from numerator and denominator split by age band."""
    assert spec.numerator is not None and spec.denominator is not None
    num = _term_values(groups, spec.numerator, by_category=True)
    den = _term_values(groups, spec.denominator, by_category=True)
    joined = _combine(num, den, keys=["category"])
    if spec.combine_periods:
        joined = pd.concat([joined, _combined_period(joined, keys=["category"])], ignore_index=True)
    if joined.empty:
        return pd.DataFrame(columns=_KEYS + ["value"])
    if spec.statistic == "dsr":
        out = stats.dsr(
            joined,
            count="numerator",
            population="denominator",
            age_band="category",
            by=_KEYS,
            confidence=confidence,
            multiplier=spec.multiplier,
        )
        return out.rename(columns={"numerator": "numerator", "denominator": "denominator"})
    if spec.statistic == "life_expectancy":
        out = stats.life_expectancy(
            joined,
            deaths="numerator",
            population="denominator",
            age_band="category",
            by=_KEYS,
            confidence=confidence,
            at_age=spec.at_age,
        )
        return out.drop(columns="start_age")
    reference = joined[joined["area_code"] == spec.reference][
        ["period", "category", "numerator", "denominator"]
    ]
    if reference.empty:
        raise SchemaError(
            "the reference area has no data",
            where=f"indicator {spec.id!r}",
            expected=f"rows of area {spec.reference!r} in the profile "
            "(ask for it in the datasets' comparators)",
            got="none",
        )
    ref = reference.rename(columns={"numerator": "ref_count", "denominator": "ref_population"})
    joined = joined.merge(ref, on=["period", "category"], how="inner")
    out = stats.isr(
        joined,
        count="numerator",
        population="denominator",
        reference_count="ref_count",
        reference_population="ref_population",
        by=_KEYS,
        confidence=confidence,
        kind=spec.kind,
        multiplier=spec.multiplier,
    )
    return out


def _counted(spec: IndicatorSpec, groups: dict, confidence: float | Sequence[float]) -> pd.DataFrame:
    """Proportions and crude rates from a numerator and a denominator."""
    assert spec.numerator is not None and spec.denominator is not None
    joined = _combine(_term_values(groups, spec.numerator), _term_values(groups, spec.denominator))
    if spec.combine_periods:
        joined = pd.concat([joined, _combined_period(joined)], ignore_index=True)
    if joined.empty:
        return pd.DataFrame(columns=_KEYS + ["value"])
    if spec.statistic == "proportion":
        bad = joined["numerator"] > joined["denominator"]
        if bad.any():
            example = joined.loc[bad].iloc[0]
            raise SchemaError(
                "numerator above denominator",
                where=f"indicator {spec.id!r}",
                got=f"{int(bad.sum())} areas, e.g. {example['area_code']} "
                f"({example['numerator']} > {example['denominator']})",
                hint="check that numerator and denominator cover the same population",
            )
        return stats.proportion(
            joined,
            numerator="numerator",
            denominator="denominator",
            confidence=confidence,
            multiplier=spec.multiplier,
        )
    return stats.crude_rate(
        joined, count="numerator", population="denominator", confidence=confidence, multiplier=spec.multiplier
    )


def compute_indicators(
    profile: pd.DataFrame,
    *,
    indicators: Sequence[IndicatorSpec],
    members: pd.DataFrame | None = None,
    levels: Sequence[str] | None = None,
    confidence: float | Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Every indicator for every area (of ``levels``) and period of the pooled profile.

    Parameters
    ----------
    profile
        The pooled long profile (``area_code``, ``level``, ``dataset``, ``measure``,
        ``category``, ``period``, ``value``; ``area_name`` when present is carried).
    indicators
        Definitions from :func:`needskit.config.load_indicators`.
    members
        Which LSOAs make up each area (``lsoa``, ``area_code``, ``level``): needed only for
        ``mean`` indicators (each area's mean of its neighbourhoods).
    levels
        Keep only these levels (default: all in the profile, comparators included).
    confidence
        Confidence levels of the limits.

    Returns
    -------
    DataFrame with :data:`INDICATOR_COLUMNS`: one row per indicator, area and period, with the
    value, 95% and 99.8% limits, the method and a ``suppressed_reason`` (empty when a value is
    given). Combined periods (``combine_periods: true``) appear as ``"2024-01/2024-04"``.

    Raises
    ------
    SchemaError
        A proportion whose numerator exceeds its denominator, a ``mean`` without ``members``,
        an ``isr`` whose reference area has no data, and the statistics' own checks.

    Example
    -------
    >>> compute_indicators(profile, indicators=load_indicators("conf/indicators.yml"))  # doctest: +SKIP
    """
    require_frame(profile, name="profile")
    require_columns(profile, _PROFILE, argument="profile")
    if levels is not None:
        profile = profile[profile["level"].isin(list(levels))]
    groups = _split(profile)
    pieces = []
    for spec in indicators:
        if spec.statistic == "value":
            frame = _value(spec, groups, confidence)
        elif spec.statistic == "mean":
            if members is None:
                raise SchemaError(
                    "a 'mean' indicator needs members",
                    where=f"indicator {spec.id!r}",
                    expected="members= (lsoa, area_code, level)",
                )
            frame = _mean(spec, groups, members, confidence)
        elif spec.by_age:
            frame = _by_age(spec, groups, confidence)
        else:
            frame = _counted(spec, groups, confidence)
        if frame.empty:
            continue
        pieces.append(
            frame.assign(
                indicator=spec.id,
                title=spec.title,
                theme=spec.theme,
                statistic=spec.statistic,
                polarity=spec.polarity,
                unit=spec.unit,
                multiplier=spec.multiplier,
                sources=", ".join(spec.sources),
            )
        )
    if not pieces:
        return pd.DataFrame(columns=INDICATOR_COLUMNS)
    out = pd.concat(pieces, ignore_index=True)
    for column in ("area_code", "level", "period"):
        out[column] = out[column].astype(str)
    if "area_name" in profile:
        names = profile.drop_duplicates(["area_code"]).set_index("area_code")["area_name"]
        out["area_name"] = out["area_code"].map(names)
    else:
        out["area_name"] = out["area_code"]
    out["suppressed_reason"] = out["suppressed_reason"].fillna("")
    numeric = [
        c
        for c in out.columns
        if c in ("numerator", "denominator", "value") or c.startswith(("lower_", "upper_"))
    ]
    for column in numeric:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    columns = [c for c in INDICATOR_COLUMNS if c in out.columns]
    return out[columns].sort_values(["indicator", "level", "area_code", "period"], ignore_index=True)
