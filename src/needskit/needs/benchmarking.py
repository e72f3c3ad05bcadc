"""Benchmarking: every area compared with its parent area, its region or England (Fingertips).

Each area's indicator value is compared with its comparator's at 95% (or 99.8%) confidence and
placed in quintiles among the areas sharing that comparator. The store holds one benchmark per
comparator kind of ``conf/partnership.yml`` (``comparator`` column), so reports choose one
without recomputing anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd

from needskit._checks import require_columns, require_frame
from needskit.errors import SchemaError
from needskit.needs import statistics as stats
from needskit.place.extent import ENGLAND
from needskit.place.geography import LEVELS

__all__ = ["parent_codes", "benchmark", "benchmark_all", "PARENT_LEVEL"]

PARENT_LEVEL = {
    "lsoa": "district",
    "msoa": "district",
    "ward": "district",
    "district": "county",
    "county": "country",
    "region": "country",
}
"""The level an area of each level is compared with when the comparator is its parent."""


def parent_codes(
    codes: pd.Series,
    levels: pd.Series,
    *,
    hierarchy: pd.DataFrame,
    to: str = "parent",
    place_parents: Mapping[str, str] | None = None,
) -> pd.Series:
    """Comparator area of each area.

    Parameters
    ----------
    codes, levels
        Area codes and their levels (aligned Series).
    hierarchy
        LSOA hierarchy holding the areas (``lsoa`` … ``country`` columns).
    to
        ``"parent"`` (LSOA/MSOA/ward → district → county → England), ``"region"``,
        ``"england"``, a level name, or a fixed area code for every area.
    place_parents
        Comparator of each of the partnership's own places (a place is not in the hierarchy).

    Returns
    -------
    Series of comparator codes aligned with ``codes`` (missing where there is none, e.g. the
    parent of England).
    """
    if to == "england":
        return pd.Series(ENGLAND, index=codes.index, dtype="object")
    if to != "parent" and to not in LEVELS:  # a fixed comparator code for every area
        return pd.Series(to, index=codes.index, dtype="object")
    out = pd.Series(pd.NA, index=codes.index, dtype="object")
    for level in ("lsoa", "msoa", "ward", "district", "county", "region"):
        mask = levels == level
        if not mask.any():
            continue
        target = PARENT_LEVEL[level] if to == "parent" else to
        if LEVELS.index(target) <= LEVELS.index(level):
            continue
        mapping = hierarchy.drop_duplicates(level).set_index(level)[target]
        out[mask] = codes[mask].map(mapping)
    places = ~levels.isin(LEVELS)
    if places.any() and place_parents:
        if to == "parent":
            out[places] = codes[places].map(place_parents)
        else:
            # a place's parent is a county, or a region for a place across counties
            parent = codes[places].map(place_parents)
            mapping = pd.concat(
                [
                    pd.Series(hierarchy[to].to_numpy(), index=hierarchy[level].to_numpy())
                    for level in ("county", "region")
                    if LEVELS.index(level) <= LEVELS.index(to)
                ]
            )
            out[places] = parent.map(mapping[~mapping.index.duplicated()])
    return out


def benchmark(
    results: pd.DataFrame,
    *,
    hierarchy: pd.DataFrame,
    comparator: str = "parent",
    place_parents: Mapping[str, str] | None = None,
    confidence: float = 0.95,
    method: Literal["ci_overlap", "spc_proportion", "spc_dsr"] = "ci_overlap",
    quintiles: bool = True,
) -> pd.DataFrame:
    """Compare each area's indicator with its comparator (Fingertips methods).

    Parameters
    ----------
    results
        Indicators (:func:`needskit.needs.compute_indicators`), comparator areas included.
    hierarchy, place_parents
        How areas nest (see :func:`parent_codes`).
    comparator
        ``"parent"``, ``"region"``, ``"england"`` or an area code.
    confidence, method
        Significance level and method of :func:`needskit.needs.statistics.compare`.
    quintiles
        Add ``quintile`` among the areas of a level that share the comparator.

    Returns
    -------
    Copy of ``results`` with ``comparator_code``, ``comparator_value``, ``comparison`` (better /
    similar / worse, or higher / similar / lower for ``no_judgement``; ``not_compared``
    without limits; ``no comparator``), ``comparison_method``, ``comparison_confidence`` and,
    with ``quintiles``, ``quintile`` (1 = worst when polarity is set, as Fingertips).
    """
    require_frame(results, name="results")
    require_columns(
        results, ["indicator", "area_code", "level", "period", "value", "polarity"], argument="results"
    )
    out = results.copy()
    out["comparator_code"] = parent_codes(
        out["area_code"], out["level"], hierarchy=hierarchy, to=comparator, place_parents=place_parents
    )
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
            part,
            comparator="comparator_value",
            polarity=str(polarity),
            value="value",
            lower=f"lower_{label}",
            upper=f"upper_{label}",
            method=method,
            confidence=confidence,
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
            ranked = stats.quantiles(
                group,
                value="value",
                by=["indicator", "level", "period", "comparator_code"],
                q=5,
                polarity=str(polarity),
            )
            qs.append(ranked[["quantile"]])
        out = out.join(pd.concat(qs).rename(columns={"quantile": "quintile"}))
    return out


def benchmark_all(
    results: pd.DataFrame,
    *,
    hierarchy: pd.DataFrame,
    comparators: Sequence[str] = ("parent", "england"),
    place_parents: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """:func:`benchmark` for each comparator kind, stacked with a ``comparator`` column.

    Raises
    ------
    SchemaError
        No comparator kinds.
    """
    if not comparators:
        raise SchemaError("no comparators", where="comparators", expected="e.g. ['parent', 'england']")
    parts = [
        benchmark(results, hierarchy=hierarchy, comparator=kind, place_parents=place_parents).assign(
            comparator=kind
        )
        for kind in dict.fromkeys(comparators)
    ]
    return pd.concat(parts, ignore_index=True)
