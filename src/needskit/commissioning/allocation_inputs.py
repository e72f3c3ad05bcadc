"""Reading and checking the inputs of :func:`~needskit.commissioning.allocation.allocate`.

Need and population per place, the budget and its unit, and floors and caps per place: each is
validated once, with an error that says what arrived, and returned as plain arrays in the order
of the places.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame
from needskit.errors import SchemaError, describe_values

__all__ = ["TOLERANCE", "read_need", "check_budget", "per_place", "check_bounds"]

TOLERANCE = 1e-9
"""Relative tolerance (in units) for whole numbers of units and for the water-filling total."""


def read_need(
    df: Any,
    *,
    need: str | None,
    place: str,
    population: str | pd.Series | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Places, need and population from a frame (or a Series of need), checked.

    Parameters
    ----------
    df
        A DataFrame with ``place`` and ``need`` columns, or a Series of need indexed by place.
    need, place, population
        As :func:`~needskit.commissioning.allocation.allocate`.

    Returns
    -------
    The places (array, input order), the need (float array) and the population (float array,
    or ``None`` when not given).

    Raises
    ------
    SchemaError
        No places, missing or repeated places, missing columns, need or population that is not
        numeric, missing, infinite or negative, a population Series that does not match the places.
    """
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
            hint="shift a z-score or a signed index to be non-negative first "
            "(e.g. rank or exponential transform)",
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


def check_budget(budget: Any, unit: Any) -> tuple[int, float]:
    """The budget as a whole number of units, and the unit.

    Parameters
    ----------
    budget, unit
        As :func:`~needskit.commissioning.allocation.allocate`.

    Returns
    -------
    ``(budget / unit as an int, unit as a float)``.

    Raises
    ------
    SchemaError
        Either is not a number, ``unit`` ≤ 0, ``budget`` negative or not a whole number of units.
    """
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
    if abs(units - round(units)) > TOLERANCE * max(1.0, abs(units)):
        raise SchemaError(
            "is not a whole number of units",
            where="budget",
            expected=f"a multiple of unit={unit!r}",
            got=repr(budget),
            hint="round the budget, or choose a smaller unit",
        )
    return int(round(units)), unit_f


def per_place(df: Any, value: Any, places: np.ndarray, *, argument: str, default: float) -> np.ndarray:
    """A floor or cap for every place, from a number, a column name or a Series indexed by place.

    Parameters
    ----------
    df
        The frame (or Series of need) given to ``allocate``; a column name is looked up in it.
    value
        The floor or cap argument; ``None`` means ``default`` everywhere.
    places
        The places, in input order.
    argument
        ``"floor"`` or ``"cap"``, for error messages.
    default
        The value for places without one (``0`` for floors, ``inf`` for caps).

    Returns
    -------
    Float array in the order of ``places``, missing values replaced by ``default``.

    Raises
    ------
    SchemaError
        Not a number, column or Series; a non-numeric column; a Series that does not match the
        places; negative values; an infinite floor.
    """
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


def check_bounds(places: np.ndarray, floors: np.ndarray, caps: np.ndarray, unit: float) -> None:
    """Check that every floor is at most its cap and that floors and caps are whole units.

    Parameters
    ----------
    places
        The places, for error messages.
    floors, caps
        From :func:`per_place` (caps may be ``inf``).
    unit
        The unit of allocation.

    Raises
    ------
    SchemaError
        A floor above its cap, or a finite floor or cap that is not a whole number of units.
    """
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
        off = np.abs(finite - np.round(finite)) > TOLERANCE * np.maximum(1.0, np.abs(finite))
        if off.any():
            raise SchemaError(
                "is not a whole number of units",
                where=name,
                expected=f"multiples of unit={unit:g}",
                got=describe_values((finite[off] * unit).tolist()),
                hint="round floors up and caps down to whole units",
            )
