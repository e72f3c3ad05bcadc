"""Supply per head: services, capacity or spend per resident, by area."""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame, require_non_negative, require_numeric
from needskit.errors import GeographyError, NeedskitWarning, SchemaError, describe_values
from needskit.place.aggregate import aggregate
from needskit.place.areas import infer_level
from needskit.place.geography import LEVELS, Geography

__all__ = ["supply_per_head"]


def supply_per_head(
    df: pd.DataFrame,
    *,
    population: pd.Series | pd.DataFrame,
    value: str | None = None,
    area: str = "area_code",
    by: str | list[str] | None = None,
    to: str | None = None,
    from_level: str | None = None,
    geography: Geography | None = None,
    vintage: int = 2021,
    population_col: str = "population",
) -> pd.DataFrame:
    """Capacity, spend or number of services per head and per 1,000 residents, by area.

    Parameters
    ----------
    df
        Services (one row each, e.g. ``register.services``) or area-level spend/activity (one row
        per area and key, e.g. ``register.spend``), with an area code column. Not modified.
    population
        The relevant population, e.g. Census 2021 usual residents (or children, or people
        aged 65+) by LSOA: a Series indexed by area code, or a DataFrame with ``area`` and
        ``population_col``. Its areas define the output's areas, so pass the study area's
        population only (e.g. ``register.residents()``), not England's.
    value
        Column to add up (``capacity``, ``annual_cost_gbp``, ``spend_gbp``); ``None`` counts rows
        (services). When a ``<value>_unit`` column exists (``capacity_unit``), every group must
        have one unit.
    area
        Column of ``df`` with the area codes.
    by
        Columns to keep apart (``theme``, ``service_type``, ``partner`` ...).
    to
        Level to aggregate both supply and population to (``"ward"``, ``"district"`` ...), through
        :func:`needskit.place.geography.aggregate`; ``None`` keeps the codes as they are (then
        population must use the same codes).
    from_level, geography, vintage
        Level of the codes (inferred when omitted), the geography whose lookups aggregate them
        and its LSOA vintage: needed with ``to``.
    population_col
        Value column of a population DataFrame.

    Returns
    -------
    DataFrame, one row per area (every area of the population, at ``to`` when given) and ``by``
    group present in ``df``, sorted by area then group: ``area_code`` (whatever ``area`` was
    called), ``area_name`` and ``level`` (when ``to`` is given), the ``by`` columns,
    ``n_records`` (rows of ``df``: services, for a register), ``supply`` (sum of ``value``; the
    row count when ``value`` is None), ``n_missing`` (rows whose ``value`` is
    missing, not in ``supply``; with ``value``), ``population``, ``supply_per_head``
    (supply / population) and ``supply_per_1000``. Areas without supply have 0, not a gap in
    the table; areas with no population have missing rates.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, negative values, a group mixing units, areas of ``df``
        that the population does not cover, a population repeating areas.
    GeographyError
        Codes that are not of the level or vintage, or a ``to`` below the data's level.

    Warns
    -----
    NeedskitWarning
        Rows without an area (outside every area) or with a missing ``value`` are left out of
        ``supply`` and counted.

    Notes
    -----
    supply_per_1000 = 1,000 × Σ value / Σ population over the area's parts (a ratio of sums, not
    a mean of rates). For spend this is £ per 1,000 residents; ``supply_per_head`` is £ per
    resident. Crude: no age standardisation, and people use services outside their own area
    (see :func:`two_step_fca` for supply within reach).

    Examples
    --------
    >>> reg = load_register()  # doctest: +SKIP
    >>> supply_per_head(reg.services, population=reg.residents(), by="theme", to="district")  # doctest: +SKIP
    >>> supply_per_head(reg.spend, population=reg.residents(), value="spend_gbp", area="ward_code",
    ...                 by="theme")  # doctest: +SKIP
    """
    require_frame(df)
    by_cols = [by] if isinstance(by, str) else list(by or [])
    require_columns(df, [area, *by_cols], argument="area/by")
    frame = pd.DataFrame(df.drop(columns="geometry") if isinstance(df, gpd.GeoDataFrame) else df)
    if value is not None:
        require_columns(frame, [value], argument="value")
        require_numeric(frame, [value])
        require_non_negative(frame, [value])
        unit = f"{value}_unit"
        if unit in frame.columns:
            units = (
                frame.groupby(by_cols, dropna=False)[unit].nunique()
                if by_cols
                else pd.Series([frame[unit].nunique()])
            )
            if (units > 1).any():
                raise SchemaError(
                    f"adds up {value!r} in different units",
                    where=f"column {unit!r}",
                    expected="one unit per group",
                    got=f"{sorted(frame[unit].dropna().unique().tolist())[:5]}",
                    hint="group by service_type (by='service_type'), or select one kind of service",
                )
    pop = _population_series(population, area=area, population_col=population_col)

    no_area = frame[area].isna()
    if no_area.any():
        warnings.warn(
            f"{int(no_area.sum())} row(s) have no area (outside every area) and are left out",
            NeedskitWarning,
            stacklevel=2,
        )
        frame = frame[~no_area]
    work = frame[[area, *by_cols]].copy()
    work["n_records"] = 1
    if value is not None:
        values = pd.to_numeric(frame[value]).astype(float)
        work["supply"] = values.fillna(0.0).to_numpy()
        work["n_missing"] = values.isna().astype(int).to_numpy()
        if work["n_missing"].any():
            warnings.warn(
                f"{int(work['n_missing'].sum())} row(s) have no {value!r}; they are counted in n_records "
                "and n_missing but not in supply",
                NeedskitWarning,
                stacklevel=2,
            )
    else:
        work["supply"] = 1.0
    sums = ["n_records", "supply"] + (["n_missing"] if value is not None else [])
    grouped = work.groupby([area, *by_cols], dropna=False, as_index=False)[sums].sum()

    pop_frame = pd.DataFrame({area: pop.index.astype("string"), "population": pop.to_numpy(float)})
    if to is not None:
        if geography is None:
            raise GeographyError(
                "needs a geography to aggregate to a level",
                where=f"to={to!r}",
                expected="geography= (the partnership's lookups, e.g. ReportContext.geography)",
                got="None",
            )
        data_level = from_level or infer_level(grouped[area], geography=geography, vintage=vintage)
        pop_level = infer_level(pop_frame[area], geography=geography, vintage=vintage)
        for name, lvl in (("df", data_level), ("population", pop_level)):
            if LEVELS.index(lvl) > LEVELS.index(to):
                raise GeographyError(
                    f"{name} is at {lvl} level, above to={to!r}",
                    where="to",
                    expected=f"a level at or above {lvl!r}",
                    got=repr(to),
                    hint="supply cannot be split down the hierarchy; use geography.apportion",
                )
        if data_level != to:
            grouped = aggregate(
                grouped,
                geography=geography,
                to=to,
                code_col=area,
                value_cols=sums,
                vintage=vintage,
                from_level=data_level,
                by=by_cols,
            ).drop(columns=["area_name", "level"])
        if pop_level != to:
            pop_frame = aggregate(
                pop_frame,
                geography=geography,
                to=to,
                code_col=area,
                value_cols="population",
                vintage=vintage,
                from_level=pop_level,
                by=[],
            )[[area, "population"]]
    grouped[area] = grouped[area].astype("string")
    pop_frame[area] = pop_frame[area].astype("string")

    unknown = ~grouped[area].isin(pop_frame[area])
    if unknown.any():
        raise SchemaError(
            "has areas the population does not cover",
            where=f"df column {area!r}",
            expected="a population for every area with supply",
            got=describe_values(grouped.loc[unknown, area].tolist()),
            hint="pass the population of every area, at the same level (or give to=)",
        )
    groups = grouped[by_cols].drop_duplicates() if by_cols else pd.DataFrame(index=[0])
    full = pop_frame[[area]].merge(groups, how="cross") if by_cols else pop_frame[[area]]
    out = full.merge(grouped, on=[area, *by_cols], how="left")
    for column in sums:
        out[column] = out[column].fillna(0).astype(float if column == "supply" else "int64")
    out = out.merge(pop_frame, on=area, how="left")
    people = out["population"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_head = np.where(people > 0, out["supply"].to_numpy(float) / people, np.nan)
    out["supply_per_head"] = per_head
    out["supply_per_1000"] = per_head * 1_000
    out = out.rename(columns={area: "area_code"})
    if to is not None:
        assert geography is not None  # checked above: to= needs a geography
        names = _area_names(to, geography, vintage)
        out.insert(1, "area_name", out["area_code"].map(names).astype("string"))
        out.insert(2, "level", to)
    return out.sort_values(["area_code", *by_cols], kind="stable").reset_index(drop=True)


def _population_series(population: Any, *, area: str, population_col: str) -> pd.Series:
    if isinstance(population, pd.DataFrame):
        require_columns(population, [area], argument="population area column")
        require_columns(population, [population_col], argument="population_col")
        series = pd.Series(population[population_col].to_numpy(), index=population[area].to_numpy())
    elif isinstance(population, pd.Series):
        series = population
    else:
        raise SchemaError(
            "is not a Series or DataFrame",
            where="population",
            expected="residents by area: a Series indexed by area code, or a DataFrame",
            got=type(population).__name__,
        )
    if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        raise SchemaError(
            "is not numeric", where="population", expected="numbers", got=f"dtype {series.dtype}"
        )
    values = series.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(values).any() or (values < 0).any():
        raise SchemaError(
            "has missing or negative values",
            where="population",
            expected="0 or more residents for every area",
            got=f"{int(np.isnan(values).sum())} missing, {int((values < 0).sum())} negative",
        )
    if series.index.has_duplicates or series.index.hasnans:
        raise SchemaError(
            "repeats areas or has missing area codes",
            where="population",
            expected="one value per area",
            got=describe_values(series.index[series.index.duplicated()].tolist()),
            hint="add the age groups up per area first (groupby(area).sum())",
        )
    return series


def _area_names(level: str, geography: Geography, vintage: int) -> pd.Series:
    table = geography.hierarchy(vintage, copy=False)
    if level not in table.columns:
        return pd.Series(dtype="string")
    return table[[level, f"{level}_name"]].drop_duplicates(level).set_index(level)[f"{level}_name"]
