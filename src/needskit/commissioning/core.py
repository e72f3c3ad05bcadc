"""Commissioning: sharing a budget by need, and (to come) gaps and duplication in provision.

Sections
--------
- Allocation — :func:`allocate` shares a budget (say a £50,000 community pot) across places
  in proportion to need, honouring floors and caps, in whole units that sum exactly to the
  budget; :func:`allocation_scenarios` compares the shares under several need measures.
- Gaps and duplication — :func:`gaps` (need against provision, by quadrant), :func:`duplication`
  and :func:`duplicate_pairs` (several partners serving the same place and theme),
  :func:`spend_vs_need` (descriptive, not a value-for-money judgement).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from needskit._checks import point_coordinates, require_columns, require_frame
from needskit._rounding import largest_remainder
from needskit.errors import SchemaError, describe_values

__all__ = ["allocate", "allocation_scenarios"]


# ============================================================================================
# Allocation
# ============================================================================================

_TOLERANCE = 1e-9


def allocate(
    df: pd.DataFrame | pd.Series | float,
    *,
    budget: float | None = None,
    need: str | pd.Series | None = None,
    place: str = "area_code",
    population: str | pd.Series | None = None,
    floor: float | str | pd.Series = 0,
    cap: float | str | pd.Series | None = None,
    unit: float = 1,
) -> pd.DataFrame:
    """Share a budget across places in proportion to need, with floors, caps and whole units.

    Parameters
    ----------
    df
        One row per place with a ``place`` column and a ``need`` column; or a Series of need
        indexed by place. Not modified. The issue's form ``allocate(50_000, need=series)`` (the
        budget first, need as a Series indexed by place) is accepted too.
    budget
        The sum to share (e.g. ``50_000`` pounds); a whole number of ``unit``.
    need
        Column of need (a score, count or index value, ≥ 0); not used when ``df`` is a Series.
    place
        Column naming the places (ignored for a Series, whose index names them).
    population
        Column (or Series indexed by place) of population: shares then follow need × population
        (e.g. a rate of need times the people it applies to).
    floor, cap
        The least and most a place may receive: one number for every place, a column name, or a
        Series indexed by place (every place present; missing values mean no floor / no cap).
        Each must be a whole number of ``unit``.
    unit
        Allocations are whole multiples of this (``1`` for whole pounds, ``100`` for £100s).

    Returns
    -------
    DataFrame, one row per place in input order: ``place`` (named as the input names it),
    ``need``, ``population`` (when given), ``weight`` (need × population, or need), ``share``
    (weight / total weight), ``proportional`` (budget × share, before floors, caps and rounding),
    ``floor``, ``cap`` (missing when none), ``exact`` (after floors and caps, before rounding),
    ``allocation`` (whole units, summing exactly to ``budget``; integers when ``unit`` is whole),
    ``at_floor`` (the floor binds: its proportional share at the final rate is at or below it),
    ``at_cap`` (the cap binds).

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, repeated or missing places, negative or missing need or
        population, all need zero, budget negative or not a whole number of units, unit ≤ 0,
        a floor above its cap, floors or caps that are not whole units, floors that add up to
        more than the budget, caps that add up to less than it.

    Notes
    -----
    Method: the exact allocation xᵢ = clip(λ·wᵢ, floorᵢ, capᵢ) with λ chosen so that Σ xᵢ =
    budget — the fixed point of iterative redistribution ("fix the places at a floor or cap,
    share the rest in proportion to need, repeat"), found directly from the breakpoints of the
    piecewise-linear Σ clip(λ·wᵢ, ...) in O(n log n). A place with no need receives its floor.
    Rounding: each place gets the whole units below its exact share, and the units left over go
    one each to the places with the largest remainders (Hamilton's largest-remainder method), so
    every allocation is within one unit of its exact share and the total is exact. Ties in the
    remainder (to 1e-9 of a unit) go to the larger weight, then to the place that sorts first
    (by its label), whatever the input order. Floors and caps are never broken by rounding.

    Examples
    --------
    >>> need = pd.Series({"Alpha": 30.0, "Bravo": 10.0, "Charlie": 10.0})
    >>> allocate(need, budget=50_000, floor=10_000)["allocation"].tolist()
    [30000, 10000, 10000]
    """
    if isinstance(df, (int, float, np.integer, np.floating)) and not isinstance(df, bool):
        if budget is not None:
            raise SchemaError("the budget is given twice", where="allocate()", expected="allocate(budget, need=series) or allocate(df, budget=...)")
        if not isinstance(need, pd.Series):
            raise SchemaError(
                "needs the need per place", where="need", expected="a Series of need indexed by place",
                got=type(need).__name__, hint="allocate(50_000, need=imd_score_by_ward)",
            )
        budget, df, need = df, need, None
    if budget is None:
        raise SchemaError("no budget given", where="budget", expected="the sum to share, e.g. budget=50_000")
    places, weights_in, pop = _read_need(df, need=need, place=place, population=population)
    budget_u, unit = _check_budget(budget, unit)
    floors = _per_place(df, floor, places, argument="floor", default=0.0)
    caps = _per_place(df, cap, places, argument="cap", default=np.inf)
    _check_bounds(places, floors, caps, unit)

    weights = weights_in * pop if pop is not None else weights_in
    if not (weights > 0).any():
        raise SchemaError(
            "is zero for every place" if pop is None else "times population is zero for every place",
            where="need",
            expected="some place with need above zero",
            got=f"{len(weights)} places, all zero",
            hint="there is nothing to share the budget in proportion to",
        )
    floor_u, cap_u = floors / unit, caps / unit
    exact_u, lam = _water_fill(weights, floor_u, cap_u, budget_u)
    label_rank = pd.Index(places.astype(str)).argsort(kind="stable").argsort()
    units = largest_remainder(exact_u, totals=budget_u, floors=floor_u, caps=cap_u, tie_break=(-weights, label_rank))

    share = weights / weights.sum()
    column = place if isinstance(df, pd.DataFrame) else (df.index.name or "place")
    out = pd.DataFrame({column: places})
    out["need"] = weights_in
    if pop is not None:
        out["population"] = pop
    out["weight"] = weights
    out["share"] = share
    out["proportional"] = share * budget_u * unit
    out["floor"] = floors
    out["cap"] = np.where(np.isinf(caps), np.nan, caps)
    out["exact"] = exact_u * unit
    allocation = units * unit
    out["allocation"] = allocation.astype(np.int64) if float(unit).is_integer() else allocation
    proportional_u = lam * weights  # the share before floors and caps, at the final rate λ
    slack = _TOLERANCE * np.maximum(1.0, proportional_u)
    out["at_floor"] = (floor_u > 0) & (proportional_u <= floor_u + slack)
    out["at_cap"] = np.isfinite(cap_u) & (proportional_u >= cap_u - slack)
    return out


def allocation_scenarios(
    df: pd.DataFrame,
    *,
    budget: float,
    needs: Sequence[str] | Mapping[str, str],
    place: str = "area_code",
    population: str | None = None,
    floor: float | str | pd.Series = 0,
    cap: float | str | pd.Series | None = None,
    unit: float = 1,
) -> pd.DataFrame:
    """Compare the allocations a budget gets under two or more measures of need.

    Parameters
    ----------
    df
        One row per place with a ``place`` column and one column per need measure (build it
        from Series with ``pd.DataFrame({"imd": s1, "ltc": s2}).rename_axis("area_code")
        .reset_index()``). Not modified.
    budget, place, population, floor, cap, unit
        As :func:`allocate`, applied to every scenario.
    needs
        The need columns, or ``{scenario label: need column}``. The first is the base scenario.

    Returns
    -------
    DataFrame, one row per place in input order: ``place``, ``population`` (when given), then
    per scenario ``allocation_<label>`` and ``share_<label>`` (allocation / budget); then for
    each scenario after the first ``difference_<label>`` (its allocation minus the base's);
    ``range`` (largest minus smallest allocation across scenarios).

    Raises
    ------
    SchemaError
        Fewer than two scenarios, repeated labels, and everything :func:`allocate` raises.

    Notes
    -----
    Each scenario is a separate call of :func:`allocate` with the same floors, caps and units,
    so every column sums exactly to ``budget`` and every difference column sums to zero.

    Examples
    --------
    >>> allocation_scenarios(places, budget=50_000, needs={"IMD": "imd_score", "Health": "health_score"})  # doctest: +SKIP
    """
    require_frame(df)
    labels = (
        dict(needs)
        if isinstance(needs, Mapping)
        else {c: c for c in ([needs] if isinstance(needs, str) else needs)}
    )
    if isinstance(needs, Sequence) and not isinstance(needs, str) and len(set(needs)) != len(needs):
        raise SchemaError("names a column twice", where="needs", got=repr(needs))
    if len(labels) < 2:
        raise SchemaError(
            "needs two or more scenarios",
            where="needs",
            expected="two or more need columns",
            got=repr(needs),
            hint="use allocate() for a single measure",
        )
    require_columns(df, list(labels.values()), argument="needs")
    out = None
    allocations = []
    for label, column in labels.items():
        result = allocate(
            df,
            budget=budget,
            need=column,
            place=place,
            population=population,
            floor=floor,
            cap=cap,
            unit=unit,
        )
        if out is None:
            keep = [place] + (["population"] if population is not None else [])
            out = result[keep].copy()
        out[f"allocation_{label}"] = result["allocation"].to_numpy()
        out[f"share_{label}"] = result["allocation"].to_numpy() / float(budget)
        allocations.append(result["allocation"].to_numpy())
    assert out is not None
    names = list(labels)
    for label, values in zip(names[1:], allocations[1:], strict=True):
        out[f"difference_{label}"] = values - allocations[0]
    stacked = np.vstack(allocations)
    out["range"] = stacked.max(axis=0) - stacked.min(axis=0)
    return out


def _read_need(
    df: Any,
    *,
    need: str | None,
    place: str,
    population: str | pd.Series | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    if isinstance(df, pd.Series):
        places = df.index.to_numpy()
        values = df
        name = df.name if df.name is not None else "need"
    else:
        require_frame(df)
        if need is None:
            raise SchemaError(
                "is required with a DataFrame", where="need", expected="the name of the need column"
            )
        require_columns(df, [place], argument="place")
        require_columns(df, [need], argument="need")
        places = df[place].to_numpy()
        values = df[need]
        name = need
    if len(places) == 0:
        raise SchemaError("has no places", where="df", expected="one or more places")
    index = pd.Index(places)
    if index.hasnans:
        raise SchemaError("has missing place names", where="place", expected="a name or code in every row")
    if index.has_duplicates:
        raise SchemaError(
            "repeats places",
            where="place",
            expected="one row per place",
            got=describe_values(index[index.duplicated()].tolist()),
            hint="add the rows up per place first",
        )
    weights = _numbers(values, name=str(name), what="need")
    pop = None
    if population is not None:
        if isinstance(population, pd.Series):
            pop_values = _aligned(population, index, argument="population")
        else:
            if not isinstance(df, pd.DataFrame):
                raise SchemaError(
                    "must be a Series when the need is a Series", where="population", got=repr(population)
                )
            require_columns(df, [population], argument="population")
            pop_values = df[population]
        pop = _numbers(pop_values, name="population", what="population")
    return places, weights, pop


def _numbers(values: Any, *, name: str, what: str) -> np.ndarray:
    series = pd.Series(values)
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise SchemaError(
            "is not numeric", where=f"{what} {name!r}", expected="numbers", got=f"dtype {series.dtype}"
        )
    array = series.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(array)
    if bad.any():
        raise SchemaError(
            "has missing or infinite values",
            where=f"{what} {name!r}",
            expected="a number for every place",
            got=f"{int(bad.sum())} places, e.g. positions {list(np.flatnonzero(bad)[:5])}",
        )
    negative = array < 0
    if negative.any():
        raise SchemaError(
            "has negative values",
            where=f"{what} {name!r}",
            expected="values of zero or more",
            got=describe_values(array[negative].tolist()),
            hint="shift a z-score or a signed index to be non-negative first (e.g. rank or exponential transform)",
        )
    return array


def _aligned(series: pd.Series, index: pd.Index, *, argument: str) -> pd.Series:
    extra = series.index.difference(index)
    missing = index.difference(series.index)
    if len(extra) or len(missing) or series.index.has_duplicates:
        raise SchemaError(
            "does not match the places",
            where=argument,
            expected="a Series indexed by every place, once",
            got=(f"{len(missing)} places missing, e.g. {list(missing[:5])}; " if len(missing) else "")
            + (f"{len(extra)} unknown places, e.g. {list(extra[:5])}" if len(extra) else "")
            + ("repeated places" if series.index.has_duplicates else ""),
            hint="use NaN for a place without a floor or cap" if argument in ("floor", "cap") else None,
        )
    return series.reindex(index)


def _check_budget(budget: Any, unit: Any) -> tuple[int, float]:
    try:
        budget_f, unit_f = float(budget), float(unit)
    except (TypeError, ValueError):
        raise SchemaError(
            "is not a number", where="budget/unit", got=f"budget={budget!r}, unit={unit!r}"
        ) from None
    if not np.isfinite(unit_f) or unit_f <= 0:
        raise SchemaError(
            "is not a positive number", where="unit", expected="e.g. 1 (pounds) or 100", got=repr(unit)
        )
    if not np.isfinite(budget_f) or budget_f < 0:
        raise SchemaError(
            "is not a sum that can be shared",
            where="budget",
            expected="a number of 0 or more",
            got=repr(budget),
        )
    units = budget_f / unit_f
    if abs(units - round(units)) > _TOLERANCE * max(1.0, abs(units)):
        raise SchemaError(
            "is not a whole number of units",
            where="budget",
            expected=f"a multiple of unit={unit!r}",
            got=repr(budget),
            hint="round the budget, or choose a smaller unit",
        )
    return int(round(units)), unit_f


def _per_place(df: Any, value: Any, places: np.ndarray, *, argument: str, default: float) -> np.ndarray:
    index = pd.Index(places)
    if value is None:
        return np.full(len(places), default)
    if isinstance(value, pd.Series | str):
        if isinstance(value, pd.Series):
            series = _aligned(value, index, argument=argument)
        elif not isinstance(df, pd.DataFrame):
            raise SchemaError(
                "names a column but the need is a Series",
                where=argument,
                expected="a number or a Series indexed by place",
                got=repr(value),
            )
        else:
            require_columns(df, [value], argument=argument)
            series = df[value]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            raise SchemaError(
                "is not numeric",
                where=argument,
                expected="a numeric column or Series",
                got=f"dtype {series.dtype}",
            )
        array = series.to_numpy(dtype=float, na_value=np.nan)
    elif isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_):
        array = np.full(len(places), float(value))
    else:
        raise SchemaError(
            "is not a number",
            where=argument,
            expected="a number, a column name or a Series indexed by place",
            got=repr(value),
        )
    array = np.where(np.isnan(array), default, array)
    if (array < 0).any() or np.isneginf(array).any():
        raise SchemaError(
            "has negative values",
            where=argument,
            expected="0 or more",
            got=describe_values(array[array < 0].tolist()),
        )
    if default == 0 and np.isinf(array).any():
        raise SchemaError("is infinite", where=argument, expected="a finite floor")
    return array


def _check_bounds(places: np.ndarray, floors: np.ndarray, caps: np.ndarray, unit: float) -> None:
    above = floors > caps
    if above.any():
        raise SchemaError(
            "is above the cap",
            where="floor",
            expected="floor ≤ cap for every place",
            got=describe_values(places[above].tolist()),
        )
    for name, values in (("floor", floors), ("cap", caps)):
        finite = values[np.isfinite(values)] / unit
        off = np.abs(finite - np.round(finite)) > _TOLERANCE * np.maximum(1.0, np.abs(finite))
        if off.any():
            raise SchemaError(
                "is not a whole number of units",
                where=name,
                expected=f"multiples of unit={unit:g}",
                got=describe_values((finite[off] * unit).tolist()),
                hint="round floors up and caps down to whole units",
            )


def _water_fill(
    weights: np.ndarray,
    floors: np.ndarray,
    caps: np.ndarray,
    budget: float,
) -> tuple[np.ndarray, float]:
    """Continuous xᵢ = clip(λ·wᵢ, floorᵢ, capᵢ) with Σ x = budget (all in units), and λ."""
    positive = weights > 0
    lowest = floors.sum()
    # a place without need stays at its floor, however large the budget
    highest = np.where(positive, caps, floors).sum()
    if lowest > budget + _TOLERANCE:
        raise SchemaError(
            "add up to more than the budget",
            where="floor",
            expected=f"a total of at most {budget:g} units",
            got=f"{lowest:g} units",
            hint="lower the floors or raise the budget",
        )
    if highest < budget - _TOLERANCE:
        raise SchemaError(
            "add up to less than the budget",
            where="cap",
            expected=f"caps of places with need totalling at least {budget:g} units",
            got=f"{highest:g} units (places without need count at their floor)",
            hint="raise the caps or lower the budget: the rest of the budget would have nowhere to go",
        )
    w = weights[positive]
    f, c = floors[positive], caps[positive]
    low, high = f / w, c / w  # λ at which a place leaves its floor, reaches its cap
    fixed = floors[~positive].sum()

    def total(lam: np.ndarray) -> np.ndarray:
        # Σ clip(λ w, f, c) for many λ at once, via sorted breakpoints and cumulative sums
        lo_order, hi_order = np.argsort(low), np.argsort(high)
        lo_sorted, hi_sorted = low[lo_order], high[hi_order]
        f_cum = np.r_[0.0, np.cumsum(f[lo_order])]
        w_lo_cum = np.r_[0.0, np.cumsum(w[lo_order])]
        hi_finite = np.isfinite(hi_sorted)
        c_cum = np.r_[0.0, np.cumsum(np.where(hi_finite, c[hi_order], 0.0))]
        w_hi_cum = np.r_[0.0, np.cumsum(w[hi_order])]
        n_lo = np.searchsorted(lo_sorted, lam, side="left")  # places with low < λ are off their floor
        n_hi = np.searchsorted(hi_sorted, lam, side="left")  # places with high < λ are at their cap
        at_floor = f_cum[-1] - f_cum[n_lo]
        at_cap = c_cum[n_hi]
        free_w = w_lo_cum[n_lo] - w_hi_cum[n_hi]
        return fixed + at_floor + at_cap + lam * free_w

    points = np.unique(np.r_[0.0, low, high[np.isfinite(high)]])
    values = total(points)
    k = int(np.searchsorted(values, budget, side="left"))
    if k < len(points) and abs(values[k] - budget) <= _TOLERANCE * max(1.0, budget):
        lam = points[k]
    elif k == 0:
        lam = 0.0
    elif k < len(points):
        lam = points[k - 1] + (budget - values[k - 1]) * (points[k] - points[k - 1]) / (
            values[k] - values[k - 1]
        )
    else:  # beyond the last breakpoint only uncapped places grow
        slope = w[np.isinf(high)].sum()
        lam = points[-1] + (budget - values[-1]) / slope
    out = floors.astype(float).copy()
    out[positive] = np.clip(lam * w, f, c)
    return out, float(lam)


# ============================================================================================
# Gaps and duplication
# ============================================================================================

# Imports used only by this section (kept here so the section can be read on its own).
import warnings  # noqa: E402
from typing import Literal  # noqa: E402

import geopandas as gpd  # noqa: E402
from scipy import sparse  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from needskit._checks import require_non_negative, require_numeric  # noqa: E402
from needskit.errors import GeographyError, NeedskitWarning  # noqa: E402

__all__ += ["gaps", "duplication", "duplicate_pairs", "spend_vs_need", "SPEND_VS_NEED_CAVEAT", "QUADRANTS"]

SPEND_VS_NEED_CAVEAT = "Spend per head against need is descriptive; it is not a value-for-money judgement."
"""The sentence every report of :func:`spend_vs_need` must print (also in ``result.attrs["caveat"]``)."""

QUADRANTS = ("gap", "possible over-provision", "aligned high", "aligned low")
"""Need versus provision: high need & low provision, low need & high provision, both high, both low."""


def gaps(
    df: pd.DataFrame,
    *,
    need: str,
    provision: str,
    area: str = "area_code",
    theme: str | None = None,
    threshold: Literal["median"] | float | tuple[float, float] = "median",
) -> pd.DataFrame:
    """Need versus provision per area (and theme): quadrants and a ranked list of gaps.

    Parameters
    ----------
    df
        One row per area (per theme) with a need measure (higher = more need, e.g. an IMD score
        or a rate of the problem) and a provision measure (higher = more provision, e.g.
        ``supply_per_1000`` from :func:`needskit.resources.supply_per_head`, or spend per head).
        Areas without provision must be present with 0. Not modified.
    need, provision
        The two numeric columns.
    area
        Column naming the areas (unique within a theme).
    theme
        Column to compare within (each theme has its own thresholds and ranks); ``None`` for one
        comparison over all rows.
    threshold
        Where "high" starts, as a quantile within the theme: ``"median"`` (0.5), a quantile in
        (0, 1) for both measures (0.75: high means the top quarter), or a pair ``(need_q,
        provision_q)``. A value is high when it is strictly above the threshold value.

    Returns
    -------
    DataFrame, one row per input row: ``area``, ``theme`` (when given), ``need``, ``provision``
    (the input columns), ``need_percentile`` and ``provision_percentile`` (rank / n within the
    theme, ties averaged), ``need_threshold`` and ``provision_threshold`` (the values high must
    exceed), ``threshold_rule`` (e.g. ``"above the median within theme"``), ``high_need``,
    ``high_provision``, ``quadrant`` (one of :data:`QUADRANTS`), ``gap_score``
    (need_percentile − provision_percentile) and ``gap_rank`` (1 = the largest gap in its theme;
    missing unless the quadrant is ``"gap"``). Sorted by theme, then gaps by rank, then the other
    rows by descending ``gap_score``. ``result.attrs["needskit_gaps"]`` holds the rule and the
    thresholds per theme.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, missing values, areas repeated within a theme, fewer than
        three areas in a theme, a threshold outside (0, 1).

    Notes
    -----
    The quadrant method of need-versus-supply mapping (a scatter of need against provision cut
    at the medians): "gap" = high need and low provision; "possible over-provision" = low need and
    high provision; otherwise "aligned high" or "aligned low". Gaps are ranked by how much higher
    an area stands on need than on provision (difference of percentiles), ties broken by higher
    need and then by area code. Thresholds are relative (quantiles within the study area): a
    "gap" is a gap compared with the other areas, not against a standard. "Possible
    over-provision" may be deliberate (a town-centre service used by surrounding areas).

    Examples
    --------
    >>> gaps(table, need="imd_score", provision="supply_per_1000", theme="theme")  # doctest: +SKIP
    """
    require_frame(df)
    group_cols = [theme] if theme is not None else []
    require_columns(df, [area, need, provision, *group_cols], argument="area/need/provision/theme")
    require_numeric(df, [need, provision], allow_missing=False)
    q_need, q_prov, rule = _quantiles(threshold)
    keys = [*group_cols, area]
    repeated = df.duplicated(keys, keep=False)
    if repeated.any():
        raise SchemaError(
            "repeats areas" + (" within a theme" if theme else ""),
            where=f"area={area!r}",
            expected="one row per area" + (" and theme" if theme else ""),
            got=describe_values(df.loc[repeated, area].tolist()),
        )
    out = df[[area, *group_cols, need, provision]].reset_index(drop=True)
    group = out[theme] if theme is not None else pd.Series(0, index=out.index)
    sizes = group.map(group.value_counts())
    if (sizes < 3).any():
        raise SchemaError(
            "has too few areas to compare",
            where=f"theme={theme!r}" if theme else "df",
            expected="three or more areas per theme",
            got=describe_values(group[sizes < 3].astype(str).tolist()),
        )
    grouped_need = out[need].astype(float).groupby(group)
    grouped_prov = out[provision].astype(float).groupby(group)
    out["need_percentile"] = grouped_need.rank(method="average", pct=True)
    out["provision_percentile"] = grouped_prov.rank(method="average", pct=True)
    out["need_threshold"] = group.map(grouped_need.quantile(q_need)).astype(float)
    out["provision_threshold"] = group.map(grouped_prov.quantile(q_prov)).astype(float)
    out["threshold_rule"] = rule + (" within theme" if theme else "")
    out["high_need"] = out[need].astype(float) > out["need_threshold"]
    out["high_provision"] = out[provision].astype(float) > out["provision_threshold"]
    hn, hp = out["high_need"].to_numpy(), out["high_provision"].to_numpy()
    out["quadrant"] = np.select([hn & ~hp, ~hn & hp, hn & hp], list(QUADRANTS[:3]), default=QUADRANTS[3])
    # from the ranks, so that equal differences tie exactly (no floating-point noise)
    need_rank, prov_rank = grouped_need.rank(method="average"), grouped_prov.rank(method="average")
    out["gap_score"] = (need_rank - prov_rank) / sizes.astype(float)
    is_gap = out["quadrant"].to_numpy() == "gap"
    order_key = out.assign(
        _gap=~is_gap, _score=-out["gap_score"], _need=-out[need].astype(float), _group=group.to_numpy()
    ).sort_values(["_group", "_gap", "_score", "_need", area], kind="stable")
    ranks = pd.Series(np.nan, index=out.index)
    gap_rows = order_key[~order_key["_gap"]]
    ranks.loc[gap_rows.index] = gap_rows.groupby("_group").cumcount().to_numpy() + 1
    out["gap_rank"] = ranks.astype("Int64")
    out = out.loc[order_key.index].reset_index(drop=True)
    thresholds = (
        out.groupby(theme if theme else (lambda _: "all"))[["need_threshold", "provision_threshold"]]
        .first()
        .to_dict("index")
    )
    out.attrs["needskit_gaps"] = {
        "threshold_rule": rule + (" within theme" if theme else ""),
        "need_quantile": q_need,
        "provision_quantile": q_prov,
        "thresholds": thresholds,
    }
    return out


def _quantiles(threshold: Any) -> tuple[float, float, str]:
    if threshold == "median":
        return 0.5, 0.5, "above the median"
    pair = threshold if isinstance(threshold, tuple) else (threshold, threshold)
    ok = len(pair) == 2 and all(
        isinstance(q, int | float | np.floating) and not isinstance(q, bool) and 0 < q < 1 for q in pair
    )
    if not ok:
        raise SchemaError(
            "is not a usable threshold",
            where="threshold",
            expected="'median', a quantile in (0, 1), or a pair (need_quantile, provision_quantile)",
            got=repr(threshold),
        )
    q_need, q_prov = float(pair[0]), float(pair[1])
    if q_need == q_prov:
        return q_need, q_prov, f"above the {q_need:g} quantile"
    return q_need, q_prov, f"need above the {q_need:g} quantile, provision above the {q_prov:g} quantile"


# --------------------------------------------------------------------------------- duplication


def _incidence(
    services: pd.DataFrame,
    *,
    catchment: pd.DataFrame | float | str,
    service_id: str,
    area: str,
    catchment_area: str,
    areas: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    """(service_id, area_code) pairs: which areas each service's catchment covers."""
    ids = services[service_id]
    if ids.isna().any() or ids.duplicated().any():
        raise SchemaError(
            "has missing or repeated service ids",
            where=f"column {service_id!r}",
            expected="one row per service",
            got=describe_values(ids[ids.isna() | ids.duplicated(keep=False)].astype(str).tolist()),
        )
    if isinstance(catchment, pd.DataFrame):
        require_columns(catchment, [service_id, catchment_area], argument="catchment columns")
        pairs = catchment[[service_id, catchment_area]].dropna().drop_duplicates()
        unknown = ~pairs[service_id].isin(ids)
        if unknown.any():
            raise SchemaError(
                "names services that are not in the services frame",
                where="catchment",
                expected="service ids of `services`",
                got=describe_values(pairs.loc[unknown, service_id].tolist()),
                hint="filter the catchments to the services you pass",
            )
        return pd.DataFrame(
            {
                "service_id": pairs[service_id].to_numpy(),
                "area_code": pairs[catchment_area].astype(str).to_numpy(),
            }
        )
    # buffers: a radius in metres, one for all or a column of radii
    if not isinstance(services, gpd.GeoDataFrame):
        raise GeographyError(
            "is not a GeoDataFrame",
            where="services",
            expected="service points (EPSG:27700) when the catchment is a radius",
            got=type(services).__name__,
            hint="build them with needskit.resources.service_points, or pass catchments as a table of areas",
        )
    if isinstance(catchment, str):
        require_columns(services, [catchment], argument="catchment")
        require_numeric(services, [catchment], allow_missing=False)
        radii = services[catchment].to_numpy(dtype=float)
    elif isinstance(catchment, int | float | np.number) and not isinstance(catchment, bool):
        radii = np.full(len(services), float(catchment))
    else:
        raise SchemaError(
            "is not a catchment",
            where="catchment",
            expected="a table of (service, area) rows, a radius in metres, or a column of radii",
            got=type(catchment).__name__,
        )
    if not np.isfinite(radii).all() or (radii <= 0).any():
        raise SchemaError(
            "is not a positive distance", where="catchment", expected="metres > 0", got=repr(catchment)
        )

    sx, sy = point_coordinates(services, argument="services")
    if areas is None:
        from needskit.place.geography import load_areas

        areas = load_areas("lsoa")
    if not isinstance(areas, gpd.GeoDataFrame) or "area_code" not in areas.columns:
        raise GeographyError("is not a GeoDataFrame with an 'area_code' column", where="areas")
    if areas.crs is None or not areas.crs.equals(services.crs):
        raise GeographyError(
            "is not in the services' CRS",
            where="areas",
            expected=str(services.crs),
            got=str(areas.crs),
            hint="reproject with .to_crs('EPSG:27700')",
        )
    geoms = areas.geometry
    points = geoms if (geoms.geom_type == "Point").all() else geoms.representative_point()
    tree = cKDTree(np.column_stack([points.x.to_numpy(), points.y.to_numpy()]))
    hits = tree.query_ball_point(np.column_stack([sx, sy]), r=radii)
    lengths = np.fromiter((len(h) for h in hits), dtype=int, count=len(hits))
    flat = np.concatenate([np.asarray(h, dtype=int) for h in hits]) if lengths.sum() else np.zeros(0, int)
    pairs = pd.DataFrame(
        {
            "service_id": np.repeat(ids.to_numpy(), lengths),
            "area_code": areas["area_code"].astype(str).to_numpy()[flat],
        }
    )
    if area in services.columns:  # a service always serves the area it stands in
        own = pd.DataFrame(
            {"service_id": ids.to_numpy(), "area_code": services[area].astype("string").to_numpy()}
        )
        pairs = pd.concat([pairs, own.dropna()], ignore_index=True).drop_duplicates()
    return pairs


def _covered(
    services: pd.DataFrame,
    *,
    catchment: Any,
    theme: str,
    partner: str,
    service_id: str,
    spend: str | None,
    area: str,
    catchment_area: str,
    areas: gpd.GeoDataFrame | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    require_frame(services, name="services")
    require_columns(services, [service_id, theme, partner], argument="service_id/theme/partner")
    if spend is not None:
        require_columns(services, [spend], argument="spend")
        require_numeric(services, [spend])
        require_non_negative(services, [spend])
    for column in (theme, partner):
        if services[column].isna().any():
            raise SchemaError(
                "has missing values", where=f"column {column!r}", expected="a value for every service"
            )
    pairs = _incidence(
        services,
        catchment=catchment,
        service_id=service_id,
        area=area,
        catchment_area=catchment_area,
        areas=areas,
    )
    info = pd.DataFrame(
        {
            "service_id": services[service_id].to_numpy(),
            "theme": services[theme].astype(str).to_numpy(),
            "partner": services[partner].astype(str).to_numpy(),
            "spend": services[spend].to_numpy(dtype=float, na_value=np.nan) if spend else np.nan,
        }
    )
    size = pairs.groupby("service_id").size()
    info["n_areas"] = info["service_id"].map(size).fillna(0).astype(int)
    pairs = pairs.merge(info, on="service_id", how="left")
    return pairs, info


def duplication(
    services: pd.DataFrame,
    *,
    catchment: pd.DataFrame | float | str,
    theme: str = "theme",
    partner: str = "partner",
    service_id: str = "service_id",
    spend: str | None = None,
    area: str = "area_code",
    catchment_area: str = "area_code",
    areas: gpd.GeoDataFrame | None = None,
    min_partners: int = 2,
) -> pd.DataFrame:
    """Areas and themes where several partners' services overlap, with the spend involved.

    Parameters
    ----------
    services
        One row per service with its theme, partner and (optionally) spend. A GeoDataFrame of
        points in EPSG:27700 when ``catchment`` is a radius. Not modified.
    catchment
        Each service's catchment, as either a table of (``service_id``, ``catchment_area``) rows
        (a list of areas per service, e.g. ``register.catchments``), a radius in metres for every
        service, or the name of a column of ``services`` holding each service's radius. With a
        radius, an area is covered when its point (its representative point, or pass
        population-weighted centres) is within the radius, and a service always covers the area
        it stands in (its ``area`` column, when present).
    theme
        Column of what must match for services to duplicate each other: ``"theme"`` for the
        same theme, ``"service_type"`` for like-for-like services.
    partner, service_id
        Columns naming the provider and the service.
    spend
        Column of the services' annual cost or spend (£), optional.
    area
        Column of ``services`` with the area each service stands in (used with a radius).
    catchment_area
        Column of a catchment table holding the area codes.
    areas
        Areas for radius catchments (points or polygons, ``area_code``, same CRS); default the
        shipped 2021 LSOAs.
    min_partners
        How many different partners make a duplication (2 or more).

    Returns
    -------
    DataFrame, one row per area and theme covered by at least ``min_partners`` partners, sorted
    by theme, then most partners, then most services, then area: ``area_code``, the ``theme``
    column (named as the argument, e.g. ``service_type``),
    ``n_partners``, ``partners`` (sorted, ``"; "``-joined), ``n_services``, ``service_ids``,
    ``spend_total`` (full spend of the services involved) and ``spend_in_area`` (each service's
    spend shared equally over the areas of its catchment, summed). Spend columns only with
    ``spend``. ``result.attrs["needskit_duplication"]`` records the method and how many services
    had no catchment.

    Raises
    ------
    SchemaError
        Missing columns or values, repeated service ids, catchment rows naming unknown services,
        a non-positive radius, negative spend, ``min_partners`` < 2.
    GeographyError
        Radius catchments without point services in EPSG:27700, or areas in another CRS.

    Notes
    -----
    Overlap is counted on areas: two services overlap where their catchments share an area.
    An incidence table (service × area) is joined to the services and grouped by area and theme
    (number of distinct partners). Overlap is not by itself waste: partners may serve different
    people in the same place, or work jointly. Treat the list as where to ask, not as a verdict.

    Examples
    --------
    >>> duplication(reg.services, catchment=reg.catchments, theme="service_type",
    ...             spend="annual_cost_gbp")  # doctest: +SKIP
    """
    if isinstance(min_partners, bool) or not isinstance(min_partners, int | np.integer) or min_partners < 2:
        raise SchemaError(
            "is not a number of partners",
            where="min_partners",
            expected="a whole number ≥ 2",
            got=repr(min_partners),
        )
    pairs, info = _covered(
        services,
        catchment=catchment,
        theme=theme,
        partner=partner,
        service_id=service_id,
        spend=spend,
        area=area,
        catchment_area=catchment_area,
        areas=areas,
    )
    pairs = pairs.sort_values(["theme", "area_code", "partner", "service_id"], kind="stable")
    pairs["share"] = pairs["spend"] / pairs["n_areas"].where(pairs["n_areas"] > 0)
    grouped = pairs.groupby(["area_code", "theme"], sort=False)
    out = grouped.agg(
        n_partners=("partner", "nunique"),
        n_services=("service_id", "size"),
        spend_total=("spend", "sum"),
        spend_in_area=("share", "sum"),
    ).reset_index()
    out = out[out["n_partners"] >= min_partners]
    keep = pairs.set_index(["area_code", "theme"]).index.isin(out.set_index(["area_code", "theme"]).index)
    chosen = pairs[keep]
    text = chosen.groupby(["area_code", "theme"], sort=False).agg(
        partners=("partner", lambda s: "; ".join(sorted(set(s)))),
        service_ids=("service_id", lambda s: "; ".join(s)),
    )
    out = out.merge(text.reset_index(), on=["area_code", "theme"], how="left")
    columns = ["area_code", "theme", "n_partners", "partners", "n_services", "service_ids"]
    if spend is not None:
        columns += ["spend_total", "spend_in_area"]
    out = out.sort_values(
        ["theme", "n_partners", "n_services", "area_code"],
        ascending=[True, False, False, True],
        kind="stable",
    )[columns].reset_index(drop=True)
    out = out.rename(columns={"theme": theme})
    out.attrs["needskit_duplication"] = {
        "catchment": "table of areas" if isinstance(catchment, pd.DataFrame) else f"radius {catchment}",
        "match_on": theme,
        "min_partners": min_partners,
        "services_without_catchment": info.loc[info["n_areas"] == 0, "service_id"].tolist(),
    }
    return out


def duplicate_pairs(
    services: pd.DataFrame,
    *,
    catchment: pd.DataFrame | float | str,
    theme: str = "theme",
    partner: str = "partner",
    service_id: str = "service_id",
    spend: str | None = None,
    area: str = "area_code",
    catchment_area: str = "area_code",
    areas: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Pairs of services of different partners, matching on ``theme``, whose catchments overlap.

    Parameters
    ----------
    services, catchment, theme, partner, service_id, spend, area, catchment_area, areas
        As :func:`duplication`.

    Returns
    -------
    DataFrame, one row per overlapping pair (each pair once, ``service_a`` < ``service_b``),
    sorted by theme, descending ``overlap_share``, then ``shared_areas``: the ``theme`` column
    (named as the argument),
    ``service_a``, ``partner_a``, ``service_b``, ``partner_b``, ``shared_areas``, ``areas_a``,
    ``areas_b``, ``overlap_share`` (shared areas / the smaller catchment: 1 when one catchment
    lies inside the other), and with ``spend``: ``spend_a``, ``spend_b``.

    Raises
    ------
    SchemaError, GeographyError
        As :func:`duplication`.

    Notes
    -----
    Shared areas for every pair come from one sparse product of the service × area incidence
    matrix with itself (``M Mᵀ``), per theme.

    Examples
    --------
    >>> duplicate_pairs(reg.services, catchment=reg.catchments, theme="service_type")  # doctest: +SKIP
    """
    pairs, info = _covered(
        services,
        catchment=catchment,
        theme=theme,
        partner=partner,
        service_id=service_id,
        spend=spend,
        area=area,
        catchment_area=catchment_area,
        areas=areas,
    )
    info = info.assign(_sid=info["service_id"].astype(str))
    position = pd.Series(np.arange(len(info)), index=info["service_id"])
    area_codes, area_index = np.unique(pairs["area_code"].to_numpy(dtype=str), return_inverse=True)
    rows = position.loc[pairs["service_id"]].to_numpy()
    incidence = sparse.csr_matrix(
        (np.ones(len(pairs)), (rows, area_index)), shape=(len(info), max(len(area_codes), 1))
    )
    same_theme = info["theme"].to_numpy()
    shared = (incidence @ incidence.T).tocoo()
    i, j, n = shared.row, shared.col, shared.data
    sid = info["_sid"].to_numpy()
    partners = info["partner"].to_numpy()
    keep = (sid[i] < sid[j]) & (same_theme[i] == same_theme[j]) & (partners[i] != partners[j]) & (n > 0)
    i, j, n = i[keep], j[keep], n[keep]
    sizes = info["n_areas"].to_numpy()
    out = pd.DataFrame(
        {
            "theme": same_theme[i],
            "service_a": info["service_id"].to_numpy()[i],
            "partner_a": partners[i],
            "service_b": info["service_id"].to_numpy()[j],
            "partner_b": partners[j],
            "shared_areas": n.astype(int),
            "areas_a": sizes[i],
            "areas_b": sizes[j],
        }
    )
    out["overlap_share"] = out["shared_areas"] / np.minimum(out["areas_a"], out["areas_b"])
    if spend is not None:
        out["spend_a"] = info["spend"].to_numpy()[i]
        out["spend_b"] = info["spend"].to_numpy()[j]
    out = out.sort_values(
        ["theme", "overlap_share", "shared_areas", "service_a", "service_b"],
        ascending=[True, False, False, True, True],
        kind="stable",
    ).reset_index(drop=True)
    return out.rename(columns={"theme": theme})


# ------------------------------------------------------------------------------ spend vs need


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
    :func:`allocate` does). The comparison describes how spend lines up with one measure of need.
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
