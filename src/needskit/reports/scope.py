"""What a commissioning report covers: the area's LSOAs, its places, its residents and indicators.

The resource map, commissioning priorities and outcomes monitoring reports are about the
partnership's whole area (its code, or the place ``partnership`` of an area of several codes) or
one of its chapters — a district or a county — and compare its *places* (wards, or the districts
of a county; a unitary, a district and a county at once, is one place of the district level).
Everything here is read from the report's :class:`~needskit.reports.context.ReportContext`:
the hierarchy of the store, and residents from its profile (the partnership's ``residents``
dataset and measure, as published for the report's audience), so every report counts people one
way.
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
        The report's context; its area must be a district, a county or the partnership's whole
        area (:attr:`~needskit.reports.context.ReportContext.is_whole_area`).

    Returns
    -------
    DataFrame: the rows of ``ctx.hierarchy`` whose ``<area level>`` is the area's code (for the
    whole area of several codes, the rows of its LSOAs).

    Raises
    ------
    ReportError
        The area is not a district, a county or the partnership's whole area.
    """
    if ctx.area_level in AREA_LEVELS:
        return ctx.hierarchy[ctx.hierarchy[ctx.area_level] == ctx.area_code]
    if ctx.is_whole_area and ctx.members:
        return ctx.hierarchy[ctx.hierarchy["lsoa"].isin(ctx.members)]
    raise ReportError(
        "commissioning reports cover the partnership's whole area, a district or a county",
        where=f"area {ctx.area_code!r} ({ctx.area_level})",
        expected="the code of the partnership's area or of one of its chapters (a district or a county)",
        got=ctx.area_level,
        hint="use the neighbourhood-profile report for an LSOA, ward or the partnership's own places",
    )


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
    """``level`` when given, else districts for an area of several (a county, or a partnership of
    several unitaries) and wards for an area of one (a district or a unitary)."""
    if level is not None:
        return level
    if ctx.area_level == "district":
        return "ward"
    return "district" if area_lsoas(ctx)["district"].nunique() > 1 else "ward"


def _level_rows(ctx: ReportContext, frame: pd.DataFrame, level: str) -> pd.Series:
    """Which rows of a profile or indicator frame are of ``level``: for districts, a unitary's
    county rows too (the report context keeps a unitary's rows as a county's only)."""
    mask = frame["level"] == level
    if level == "district":
        unitaries = set(ctx.hierarchy["district"].dropna()) & set(ctx.hierarchy["county"].dropna())
        mask |= (frame["level"] == "county") & frame["area_code"].isin(unitaries)
    return mask


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
    rows = profile[(profile["dataset"] == ctx.residents_dataset) & _level_rows(ctx, profile, level)]
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
        ``"lsoa"``, ``"ward"`` or ``"district"`` (a unitary's residents as a county's).
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
        & _level_rows(ctx, results, level)
        & results["area_code"].isin(list(codes))
    ]
    return select_period(rows, ctx.period)
