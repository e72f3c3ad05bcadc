"""Needs-based allocation: share a budget across places in proportion to need.

:func:`allocate` shares a budget (say a £50,000 community pot) across places in proportion to
need, honouring floors and caps, in whole units that sum exactly to the budget;
:func:`allocation_scenarios` compares the shares under several need measures. The inputs are read
and checked by :mod:`needskit.commissioning.allocation_inputs`; the exact shares come from
water-filling here, and the whole units from :func:`needskit._rounding.largest_remainder`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame
from needskit._rounding import largest_remainder
from needskit.commissioning.allocation_inputs import (
    TOLERANCE,
    check_bounds,
    check_budget,
    per_place,
    read_need,
)
from needskit.errors import SchemaError

__all__ = ["allocate", "allocation_scenarios"]


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
    total: float | np.integer | np.floating | None = budget
    if isinstance(df, (int, float, np.integer, np.floating)) and not isinstance(df, bool):
        if total is not None:
            raise SchemaError(
                "the budget is given twice",
                where="allocate()",
                expected="allocate(budget, need=series) or allocate(df, budget=...)",
            )
        if not isinstance(need, pd.Series):
            raise SchemaError(
                "needs the need per place",
                where="need",
                expected="a Series of need indexed by place",
                got=type(need).__name__,
                hint="allocate(50_000, need=imd_score_by_ward)",
            )
        total, df, need = df, need, None
    if total is None:
        raise SchemaError("no budget given", where="budget", expected="the sum to share, e.g. budget=50_000")
    places, weights_in, pop = read_need(df, need=need, place=place, population=population)
    budget_u, unit = check_budget(total, unit)
    floors = per_place(df, floor, places, argument="floor", default=0.0)
    caps = per_place(df, cap, places, argument="cap", default=np.inf)
    check_bounds(places, floors, caps, unit)

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
    units = largest_remainder(
        exact_u, totals=budget_u, floors=floor_u, caps=cap_u, tie_break=(-weights, label_rank)
    )

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
    slack = TOLERANCE * np.maximum(1.0, proportional_u)
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
    >>> allocation_scenarios(
    ...     places, budget=50_000, needs={"IMD": "imd_score", "Health": "health_score"}
    ... )  # doctest: +SKIP
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
    if lowest > budget + TOLERANCE:
        raise SchemaError(
            "add up to more than the budget",
            where="floor",
            expected=f"a total of at most {budget:g} units",
            got=f"{lowest:g} units",
            hint="lower the floors or raise the budget",
        )
    if highest < budget - TOLERANCE:
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
    if k < len(points) and abs(values[k] - budget) <= TOLERANCE * max(1.0, budget):
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
