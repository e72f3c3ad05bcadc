"""The needs profile: every indicator for every area and period, benchmarked.

Indicators are defined in ``conf/indicators.yml`` (see :func:`needskit.config.catalog.load_indicators`)
and computed from the pooled long profile (:func:`needskit.partner_data.pooling.pool_catalog`) with the
Fingertips methods of :mod:`needskit.needs.statistics`: Wilson intervals for proportions, exact
Poisson / Byar's for rates, published values carried as they are. Each area is then compared
with a comparator (its parent area, the county, or England) at 95% and 99.8%, and placed in
quintiles within its comparator's areas.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame
from needskit.config.catalog import IndicatorSpec, TermSpec
from needskit.errors import SchemaError
from needskit.needs import statistics as stats
from needskit.place import geography as geo

__all__ = ["compute_indicators", "benchmark", "parent_codes", "write_indicators", "INDICATOR_COLUMNS", "ENGLAND"]

ENGLAND = "E92000001"
INDICATOR_COLUMNS = [
    "indicator", "title", "theme", "statistic", "polarity", "area_code", "area_name", "level", "period",
    "numerator", "denominator", "value", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "method",
    "suppressed_reason", "multiplier", "sources",
]
_PROFILE = ["area_code", "level", "dataset", "measure", "category", "period", "value"]


def _term_values(groups: dict, term: TermSpec) -> pd.DataFrame:
    """Sum a term's categories per area, level and period; per area the first dataset that has it.

    ``groups`` maps (dataset, measure) to that part of the profile (see :func:`_split`)."""
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
        summed = rows.groupby(["area_code", "level", "period"], as_index=False, observed=True)["value"].sum(min_count=1)
        parts.append(summed.assign(_rank=rank))
    if not parts:
        return pd.DataFrame(columns=["area_code", "level", "period", "value"])
    out = pd.concat(parts, ignore_index=True)
    if len(parts) > 1:
        out = out.sort_values("_rank", kind="stable").drop_duplicates(["area_code", "level", "period"])
    return out.drop(columns="_rank")


def _split(profile: pd.DataFrame) -> dict:
    """The profile by (dataset, measure), with categorical keys so filtering and grouping are fast."""
    keys = ["area_code", "level", "period", "category"]
    slim = profile[["dataset", "measure", "value"] + keys].astype({k: "category" for k in keys})
    return {key: part for key, part in slim.groupby(["dataset", "measure"], observed=True, sort=False)}


def _combine(num: pd.DataFrame, den: pd.DataFrame) -> pd.DataFrame:
    """Join numerator and denominator per area; a denominator with one period serves every period."""
    den_periods = den.groupby(["area_code", "level"])["period"].nunique()
    single = den_periods[den_periods == 1].index
    den_single = den.set_index(["area_code", "level"]).loc[lambda d: d.index.isin(single)].reset_index()
    joined_single = num.merge(den_single.drop(columns="period"), on=["area_code", "level"], how="left", suffixes=("_n", "_d"))
    multi = den[~den.set_index(["area_code", "level"]).index.isin(single)]
    joined_multi = num.merge(multi, on=["area_code", "level", "period"], how="inner", suffixes=("_n", "_d"))
    joined = pd.concat([joined_single[joined_single["value_d"].notna()], joined_multi], ignore_index=True)
    return joined.rename(columns={"value_n": "numerator", "value_d": "denominator"})


def _combined_period(frame: pd.DataFrame) -> pd.DataFrame:
    """All periods together: numerators summed, the (shared) denominator kept; period ``first/last``."""
    periods = sorted(frame["period"].unique())
    if len(periods) < 2:
        return frame.iloc[0:0]
    label = f"{periods[0]}/{periods[-1]}"
    grouped = frame.groupby(["area_code", "level"], as_index=False).agg(numerator=("numerator", "sum"), denominator=("denominator", "first"))
    return grouped.assign(period=label)


def compute_indicators(
    profile: pd.DataFrame,
    *,
    indicators: Sequence[IndicatorSpec],
    levels: Sequence[str] | None = None,
    confidence: float | Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Every indicator for every area (of ``levels``) and period of the pooled profile.

    Parameters
    ----------
    profile
        The pooled long profile (``area_code``, ``level``, ``dataset``, ``measure``,
        ``category``, ``period``, ``value``).
    indicators
        Definitions from :func:`needskit.config.catalog.load_indicators`.
    levels
        Keep only these levels (default: all in the profile, comparators included).

    Returns
    -------
    DataFrame with :data:`INDICATOR_COLUMNS`: one row per indicator, area and period, with the
    value, 95% and 99.8% limits, the method and a ``suppressed_reason`` (empty when a value is
    given). Combined periods (``combine_periods: true``) appear as ``"2024-01/2024-04"``.
    """
    require_frame(profile, name="profile")
    require_columns(profile, _PROFILE, argument="profile")
    if levels is not None:
        profile = profile[profile["level"].isin(list(levels))]
    groups = _split(profile)
    pieces = []
    for spec in indicators:
        if spec.statistic == "value":
            values = _term_values(groups, spec.value)
            frame = values.assign(
                numerator=np.nan, denominator=np.nan, value=values["value"] * spec.multiplier,
                method="published value", suppressed_reason=np.where(values["value"].isna(), "no published value", ""),
            )
            for level in stats.confidence_levels(confidence):
                label = stats.level_label(level)
                frame[f"lower_{label}"] = np.nan
                frame[f"upper_{label}"] = np.nan
        else:
            joined = _combine(_term_values(groups, spec.numerator), _term_values(groups, spec.denominator))
            if spec.combine_periods:
                joined = pd.concat([joined, _combined_period(joined)], ignore_index=True)
            if joined.empty:
                continue
            if spec.statistic == "proportion":
                bad = joined["numerator"] > joined["denominator"]
                if bad.any():
                    example = joined.loc[bad].iloc[0]
                    raise SchemaError(
                        "numerator above denominator", where=f"indicator {spec.id!r}",
                        got=f"{int(bad.sum())} areas, e.g. {example['area_code']} ({example['numerator']} > {example['denominator']})",
                        hint="check that numerator and denominator cover the same population",
                    )
                frame = stats.proportion(joined, numerator="numerator", denominator="denominator", confidence=confidence, multiplier=spec.multiplier)
            else:
                frame = stats.crude_rate(joined, count="numerator", population="denominator", confidence=confidence, multiplier=spec.multiplier)
        frame = frame.assign(
            indicator=spec.id, title=spec.title, theme=spec.theme, statistic=spec.statistic, polarity=spec.polarity,
            multiplier=spec.multiplier, sources=", ".join(spec.sources),
        )
        pieces.append(frame)
    if not pieces:
        return pd.DataFrame(columns=INDICATOR_COLUMNS)
    out = pd.concat(pieces, ignore_index=True)
    for column in ("area_code", "level", "period"):
        out[column] = out[column].astype(str)
    names = profile.drop_duplicates(["area_code"]).set_index("area_code")
    out["area_name"] = out["area_code"].map(names["area_name"]) if "area_name" in profile else out["area_code"]
    out["suppressed_reason"] = out["suppressed_reason"].fillna("")
    for column in [c for c in out.columns if c in ("numerator", "denominator", "value") or c.startswith(("lower_", "upper_"))]:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    columns = [c for c in INDICATOR_COLUMNS if c in out.columns]
    return out[columns].sort_values(["indicator", "level", "area_code", "period"], ignore_index=True)


def parent_codes(codes: pd.Series, levels: pd.Series, *, to: str = "parent", vintage: int = 2021) -> pd.Series:
    """Comparator area for each area: ``"parent"`` (LSOA/MSOA/ward → district, district → county,
    county → England), ``"county"``, ``"england"``, or a fixed area code."""
    if to == "england":
        return pd.Series(ENGLAND, index=codes.index)
    if to != "parent" and to not in geo.LEVELS:  # a fixed comparator code for every area
        return pd.Series(to, index=codes.index, dtype="object")
    table = geo.hierarchy(vintage=vintage)
    out = pd.Series(pd.NA, index=codes.index, dtype="object")
    for level in ("lsoa", "msoa", "ward", "district", "county", "region"):
        mask = levels == level
        if not mask.any():
            continue
        target = to
        if to == "parent":
            target = {"lsoa": "district", "msoa": "district", "ward": "district", "district": "county", "county": "country", "region": "country"}[level]
        if target not in geo.LEVELS:
            out[mask] = target  # a fixed comparator code
            continue
        if geo.LEVELS.index(target) <= geo.LEVELS.index(level):
            continue
        mapping = table.drop_duplicates(level).set_index(level)[target]
        out[mask] = codes[mask].map(mapping)
    return out


def benchmark(
    results: pd.DataFrame,
    *,
    comparator: str = "parent",
    confidence: float = 0.95,
    method: str = "ci_overlap",
    quintiles: bool = True,
    vintage: int = 2021,
) -> pd.DataFrame:
    """Compare each area's indicator with its comparator (Fingertips methods).

    Adds ``comparator_code``, ``comparator_value``, ``comparison`` (better / similar / worse, or
    higher / similar / lower for ``no_judgement``; ``not_compared`` without limits),
    ``comparison_method``, ``comparison_confidence`` and, with ``quintiles``, ``quintile`` of the
    value among the areas that share the comparator (1 = lowest value... as Fingertips: 1 = worst
    when polarity is set).
    """
    require_frame(results, name="results")
    out = results.copy()
    out["comparator_code"] = parent_codes(out["area_code"], out["level"], to=comparator, vintage=vintage)
    lookup = out.set_index(["indicator", "area_code", "period"])["value"]
    lookup = lookup[~lookup.index.duplicated()]
    keys = pd.MultiIndex.from_arrays([out["indicator"], out["comparator_code"].fillna(""), out["period"]])
    out["comparator_value"] = lookup.reindex(keys).to_numpy()
    label = stats.level_label(confidence)
    compared = []
    for polarity, group in out.groupby("polarity", sort=False):
        part = group[group["comparator_value"].notna()]
        if part.empty:
            continue
        res = stats.compare(
            part, comparator="comparator_value", polarity=polarity, value="value",
            lower=f"lower_{label}", upper=f"upper_{label}", method=method, confidence=confidence,
        )
        compared.append(res[["comparison", "comparison_method", "comparison_confidence"]])
    if compared:
        out = out.join(pd.concat(compared))
    for column in ("comparison", "comparison_method", "comparison_confidence"):
        if column not in out:
            out[column] = pd.NA
    out["comparison"] = out["comparison"].fillna("no comparator")
    if quintiles:
        qs = []
        for polarity, group in out.groupby("polarity", sort=False):
            ranked = stats.quantiles(group, value="value", by=["indicator", "level", "period", "comparator_code"], q=5, polarity=polarity)
            qs.append(ranked[["quantile"]])
        out = out.join(pd.concat(qs).rename(columns={"quantile": "quintile"}))
    return out


def write_indicators(
    *, profile_path, indicators_path, catalog_path, levels: Sequence[str], comparator: str = "parent", out
) -> dict[str, tuple]:
    """Read the pooled profile and definitions, compute and benchmark, write one CSV per level
    (``indicators_<level>.csv``); return ``{level: (path, rows, indicators)}``."""
    from pathlib import Path

    from needskit.config.catalog import load_catalog, load_indicators
    from needskit.errors import DataError

    profile_path = Path(profile_path)
    if not profile_path.exists():
        raise DataError("pooled profile not found", where=str(profile_path), hint="run `needskit pool` first")
    catalog = load_catalog(catalog_path)
    specs = load_indicators(indicators_path, catalog=catalog)
    profile = pd.read_parquet(profile_path)
    wanted = set(levels) | {"district", "county", "country"}
    results = benchmark(compute_indicators(profile, indicators=specs, levels=sorted(wanted)), comparator=comparator)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for level in levels:
        part = results[results["level"] == level]
        path = out / f"indicators_{level}.csv"
        part.to_csv(path, index=False)
        written[level] = (path, len(part), part["indicator"].nunique())
    return written
