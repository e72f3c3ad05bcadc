"""Commissioning: sharing a budget by need, and (to come) gaps and duplication in provision.

Sections
--------
- Allocation — :func:`allocate` shares a budget (say a £50,000 community pot) across places
  in proportion to need, honouring floors and caps, in whole units that sum exactly to the
  budget; :func:`allocation_scenarios` compares the shares under several need measures.
- Gaps and duplication — to be added below the allocation section.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._validate import require_columns, require_frame
from .errors import SchemaError, describe_values

__all__ = ["allocate", "allocation_scenarios"]


# ============================================================================================
# Allocation
# ============================================================================================

_TOLERANCE = 1e-9


def allocate(
    df: pd.DataFrame | pd.Series,
    *,
    budget: float,
    need: str | None = None,
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
        indexed by place. Not modified.
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
    units = _largest_remainder(exact_u, floor_u, cap_u, budget_u, weights=weights, places=places)

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


def _largest_remainder(
    exact: np.ndarray,
    floors: np.ndarray,
    caps: np.ndarray,
    budget: int,
    *,
    weights: np.ndarray,
    places: np.ndarray,
) -> np.ndarray:
    """Whole units within one of ``exact``, summing to ``budget``, never below a floor or above a cap."""
    snapped = np.where(np.abs(exact - np.round(exact)) < 1e-7, np.round(exact), exact)
    base = np.floor(snapped)
    base = np.clip(base, np.round(floors), np.where(np.isfinite(caps), np.round(caps), np.inf))
    short = int(budget - base.sum())
    remainder = np.round(snapped - base, 9)
    room = base + 1 <= np.where(np.isfinite(caps), np.round(caps), np.inf)
    remainder = np.where(room, remainder, -np.inf)
    # largest remainder first; ties to the larger weight, then to the place that sorts first
    label_rank = pd.Index(places.astype(str)).argsort(kind="stable").argsort()
    order = np.lexsort((label_rank, -weights, -remainder))
    extra = np.zeros(len(exact))
    if short > 0:
        extra[order[:short]] = 1
    return base + extra


# ============================================================================================
# Gaps and duplication (to be added)
# ============================================================================================
