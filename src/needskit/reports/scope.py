"""What a commissioning report covers: the area's LSOAs, its places, its residents and indicators.

The resource map, commissioning priorities and outcomes monitoring reports are about the
partnership's area or one of its chapters — a district or a county — and compare its *places*
(wards, or the districts of a county). Everything here is read from the report's
:class:`~needskit.reports.context.ReportContext`: the hierarchy of the store, and residents from
its profile (the partnership's ``residents`` dataset and measure, as published for the report's
audience), so every report counts people one way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from needskit.errors import ReportError
from needskit.reports.context import ReportContext, select_period

__all__ = [
    "AREA_LEVELS",
    "PLACE_LEVELS",
    "area_lsoas",
    "check_place_level",
    "default_place_level",
    "place_codes",
    "place_names",
    "residents",
    "residents_by_age",
    "indicator_values",
]

AREA_LEVELS: tuple[str, ...] = ("district", "county")
"""Levels of the areas a commissioning report covers."""

PLACE_LEVELS: tuple[str, ...] = ("ward", "district")
"""Levels of the places a commissioning report compares."""


def area_lsoas(ctx: ReportContext) -> pd.DataFrame:
    """The hierarchy rows (one per LSOA) of the report's area.

    Parameters
    ----------
    ctx
        The report's context; its area must be a district or a county.

    Returns
    -------
    DataFrame: the rows of ``ctx.hierarchy`` whose ``<area level>`` is the area's code.

    Raises
    ------
    ReportError
        The area is not a district or a county.
    """
    if ctx.area_level not in AREA_LEVELS:
        raise ReportError(
            "commissioning reports cover a district or a county",
            where=f"area {ctx.area_code!r} ({ctx.area_level})",
            expected="the code of the partnership's area or of one of its chapters (a district or a county)",
            got=ctx.area_level,
            hint="use the neighbourhood-profile report for an LSOA, ward or the partnership's own places",
        )
    return ctx.hierarchy[ctx.hierarchy[ctx.area_level] == ctx.area_code]


def check_place_level(ctx: ReportContext, level: str) -> None:
    """Refuse a level of places the report's area cannot be compared at.

    Raises
    ------
    ReportError
        ``level`` not ``"ward"`` or ``"district"``, or ``"district"`` for a district.
    """
    if level not in PLACE_LEVELS:
        raise ReportError(
            "is not a level for places",
            where=f"level={level!r}",
            expected="'ward' or 'district'",
            got=repr(level),
        )
    if level == "district" and ctx.area_level == "district":
        raise ReportError(
            "a district has one district: nothing to compare",
            where=f"level={level!r}",
            expected="'ward' for a district report ('district' works for a county)",
            got=f"area {ctx.area_code} is a district",
        )


def default_place_level(ctx: ReportContext, level: str | None = None) -> str:
    """``level`` when given, else wards for a district and districts for a county."""
    return level if level is not None else ("district" if ctx.area_level == "county" else "ward")


def place_codes(ctx: ReportContext, level: str) -> list[str]:
    """Codes of the places of ``level`` inside the report's area, sorted.

    Raises
    ------
    ReportError
        As :func:`area_lsoas` and :func:`check_place_level`.
    """
    check_place_level(ctx, level)
    return sorted(area_lsoas(ctx)[level].dropna().unique())


def place_names(ctx: ReportContext, level: str) -> pd.Series:
    """Names of the partnership's areas of ``level``, indexed by code (from the store's hierarchy)."""
    table = ctx.hierarchy
    return table[[level, f"{level}_name"]].drop_duplicates(level).set_index(level)[f"{level}_name"]


def _resident_rows(ctx: ReportContext, *, level: str) -> pd.DataFrame:
    profile = ctx.profile
    rows = profile[(profile["dataset"] == ctx.residents_dataset) & (profile["level"] == level)]
    if ctx.residents_measure:
        rows = rows[rows["measure"] == ctx.residents_measure]
    return rows


def residents(
    ctx: ReportContext, *, level: str = "lsoa", scope: Literal["area", "partnership"] = "area"
) -> pd.Series:
    """Residents per area as the report publishes them.

    Parameters
    ----------
    ctx
        The report context. Residents are the profile's rows of ``ctx.residents_dataset`` (and
        ``ctx.residents_measure``), summed over categories (age groups); for public and partner
        reports the disclosure rule has been applied to them cell by cell, so totals shown are
        publishable.
    level
        ``"lsoa"``, ``"ward"`` or ``"district"``.
    scope
        The areas of the report's area, or of the whole partnership (for access, whose
        catchments cross district boundaries).

    Returns
    -------
    Series ``population`` (float) indexed by ``area_code``, sorted; an area whose cells were all
    withheld counts 0.

    Raises
    ------
    ReportError
        Not a district or county report.
    """
    table = area_lsoas(ctx) if scope == "area" else ctx.hierarchy
    codes = sorted(table[level].dropna().unique())
    rows = _resident_rows(ctx, level=level)
    rows = rows[rows["area_code"].isin(codes)]
    totals = rows.groupby("area_code")["value"].sum().reindex(codes).fillna(0.0).astype(float)
    totals.index.name = "area_code"
    return totals.rename("population")


def residents_by_age(ctx: ReportContext) -> pd.DataFrame:
    """Residents of every LSOA of the partnership by age group, as the report publishes them.

    Returns
    -------
    DataFrame: ``area_code``, ``age_group`` (the residents dataset's category, e.g. the Census
    2021 age bands), ``usual_residents`` (withheld cells count 0) — what
    :func:`needskit.resources.build_register` takes as ``population``.
    """
    rows = _resident_rows(ctx, level="lsoa")
    rows = rows[rows["area_code"].isin(set(ctx.hierarchy["lsoa"]))]
    out = pd.DataFrame(
        {
            "area_code": rows["area_code"].astype(str).to_numpy(),
            "age_group": rows["category"].astype(str).to_numpy(),
            "usual_residents": rows["value"].fillna(0.0).astype(float).to_numpy(),
        }
    )
    return out.sort_values(["area_code", "age_group"], kind="stable").reset_index(drop=True)


def indicator_values(
    ctx: ReportContext, indicators: Sequence[str], *, level: str, codes: Sequence[str]
) -> pd.DataFrame:
    """Indicators of the store for areas of ``level`` in the report period (one row per indicator
    and area; the period a report for ``ctx.period`` shows, see
    :func:`~needskit.reports.context.select_period`)."""
    results = ctx.results
    rows = results[
        results["indicator"].isin(list(indicators))
        & (results["level"] == level)
        & results["area_code"].isin(list(codes))
    ]
    return select_period(rows, ctx.period)
