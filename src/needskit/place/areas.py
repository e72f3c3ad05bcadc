"""Areas and lookups: which areas a level has, and which larger area each one lies in."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd

from needskit._checks import isin
from needskit.errors import GeographyError, describe_values
from needskit.place.geography import (
    AREA_TYPES,
    BOUNDARY_LEVELS,
    LEVELS,
    CustomPlaces,
    Geography,
    check_level,
    check_vintage,
)

__all__ = [
    "load_areas",
    "hierarchy",
    "lookup",
    "infer_level",
    "check_codes",
    "unknown_codes_error",
    "vintage_hint",
]


def hierarchy(*, geography: Geography, vintage: int = 2021) -> pd.DataFrame:
    """The LSOA hierarchy: one row per LSOA with the code and name of its MSOA, best-fit ward,
    district, county, region and country (columns ``<level>`` and ``<level>_name``)."""
    return geography.hierarchy(check_vintage(vintage))


def load_areas(
    level: str | CustomPlaces,
    *,
    geography: Geography,
    vintage: int = 2021,
    within: str | Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Boundaries of one level, in EPSG:27700.

    Parameters
    ----------
    level
        ``"lsoa"``, ``"msoa"``, ``"ward"``, ``"district"``, ``"county"``, or a :class:`CustomPlaces`.
    geography
        The partnership's reference geography (:class:`~needskit.place.Geography`).
    vintage
        2011 or 2021 LSOA geography.
    within
        Keep only areas inside this area (or any of these areas): a code of a level above
        ``level`` or of an area type such as an ICB or police force area.

    Returns
    -------
    GeoDataFrame with ``area_code``, ``area_name`` and geometry, sorted by code.

    Raises
    ------
    GeographyError
        Unknown level or vintage, no boundaries of that level, a ``within`` code that is not
        above ``level``, or no boundaries inside ``within``.

    Example
    -------
    >>> load_areas("lsoa", geography=geography, within="E07000078")  # doctest: +SKIP
    """
    if isinstance(level, CustomPlaces):
        return level.areas.copy()
    check_level(level, allowed=BOUNDARY_LEVELS)
    check_vintage(vintage)
    areas = geography.boundaries(level, vintage)
    if within is None:
        return areas
    codes = [within] if isinstance(within, str) else list(within)
    table = geography.hierarchy(vintage, copy=False)
    keep: set[str] = set()
    for code in codes:
        found = geography.levels_of(code, vintage=vintage)
        parents = [  # MSOAs and wards both nest in districts, not in each other
            lv
            for lv in found
            if lv in AREA_TYPES
            or (LEVELS.index(lv) >= LEVELS.index(level) and {lv, level} != {"msoa", "ward"})
        ]
        if not found:
            raise GeographyError(
                "is not an area of the lookups",
                where=f"within={code!r}",
                expected=f"a code of a level above {level}, e.g. a district (E07…/E06…) or county (E10…)",
                got=repr(code),
                hint=vintage_hint([code], "district", vintage, geography=geography),
            )
        if not parents:
            raise GeographyError(
                f"a {level} is not inside a {found[0]}",
                where=f"within={code!r}",
                expected=f"a code of a level above {level}",
            )
        keep |= set(table.loc[table[parents[0]] == code, level].dropna())
    areas = areas[areas["area_code"].isin(keep)]
    if areas.empty:
        raise GeographyError(
            f"has no {level} boundaries in this geography",
            where=f"within={within!r}",
            expected="an area covered by the boundaries "
            f"({geography.sources.get('boundaries', 'reference.boundaries')})",
            hint="name boundaries that cover it under reference.boundaries in conf/partnership.yml",
        )
    return areas.reset_index(drop=True)


def lookup(from_level: str, to_level: str, *, geography: Geography, vintage: int = 2021) -> pd.DataFrame:
    """Codes of ``from_level`` areas and the ``to_level`` area each lies in.

    Returns
    -------
    DataFrame with ``<from_level>_code``, ``<to_level>_code`` and ``<to_level>_name``, one row per
    ``from_level`` area of the lookups.

    Raises
    ------
    GeographyError
        If the levels are unknown, out of order, or do not nest (e.g. MSOA to ward).
    """
    check_level(from_level, argument="from_level")
    check_level(to_level, argument="to_level")
    check_vintage(vintage)
    if LEVELS.index(from_level) >= LEVELS.index(to_level):
        raise GeographyError(
            "lookups go up the hierarchy",
            where=f"lookup({from_level!r}, {to_level!r})",
            expected=f"a to_level above {from_level!r}: {list(LEVELS[LEVELS.index(from_level) + 1 :])}",
            got=repr(to_level),
        )
    table = geography.hierarchy(vintage, copy=False)
    frame = table[[from_level, to_level, f"{to_level}_name"]].drop_duplicates()
    frame = frame.dropna(subset=[from_level])
    split = frame[from_level].duplicated(keep=False)
    if split.any():
        raise GeographyError(
            f"{from_level} areas do not nest in {to_level} areas",
            where=f"lookup({from_level!r}, {to_level!r})",
            expected=f"each {from_level} inside one {to_level}",
            got=f"{frame.loc[split, from_level].nunique()} {from_level} areas in several, e.g. "
            f"{frame.loc[split, from_level].iloc[0]}",
            hint="go through LSOAs (aggregate from lsoa), or use apportion()",
        )
    return frame.rename(columns={from_level: f"{from_level}_code", to_level: f"{to_level}_code"}).reset_index(
        drop=True
    )


def infer_level(codes: Sequence[str] | pd.Series, *, geography: Geography, vintage: int = 2021) -> str:
    """The level whose codes include every one of ``codes`` (smallest level first).

    Raises
    ------
    GeographyError
        Codes of no single level (the message names the unknown ones and the likely cause).
    """
    table = geography.hierarchy(vintage, copy=False)
    values = pd.Series(pd.unique(pd.Series(codes, dtype="object").dropna()))
    for level in LEVELS:
        if values.isin(table[level]).all():
            return level
    for level in LEVELS:
        missing = values[~values.isin(table[level])]
        if len(missing) < len(values):
            raise unknown_codes_error(missing.tolist(), level, vintage, geography=geography)
    raise unknown_codes_error(values.tolist(), "lsoa", vintage, geography=geography)


def vintage_hint(codes: Sequence[str], level: str, vintage: int, *, geography: Geography) -> str | None:
    """A hint for codes that are not usable as ``level`` codes of ``vintage``: are they codes of
    that vintage outside the geography's boundaries, codes of the other vintage, or of another
    level?"""
    if not codes or level not in LEVELS:
        return None
    here = geography.hierarchy(vintage, copy=False)
    known_here = set(here[level])
    if all(code in known_here for code in codes):
        return (
            f"these are {level} codes of the {vintage} geography, but the partnership's boundaries do not "
            "cover them: are they inside the partnership's area?"
        )
    other = 2011 if vintage == 2021 else 2021
    if geography.has_vintage(other):
        table = geography.hierarchy(other, copy=False)
        unknown_here = [code for code in codes if code not in known_here]
        if any(code in set(table[level]) for code in unknown_here):
            return f"these look like {other} codes: pass vintage={other} or convert with convert_vintage()"
    elsewhere = [lv for lv in LEVELS if lv != level and any(code in set(here[lv]) for code in codes[:5])]
    if elsewhere:
        return f"these look like {elsewhere[0]} codes, not {level} codes"
    return "codes must be ONS GSS codes of the lookups, such as E01022100 for an LSOA"


def unknown_codes_error(
    codes: Sequence[str], level: str, vintage: int, *, geography: Geography
) -> GeographyError:
    """The error for codes that are not ``level`` codes of ``vintage`` (with a hint)."""
    return GeographyError(
        f"codes that are not {level} codes of the {vintage} geography",
        where=f"level={level!r}, vintage={vintage}",
        expected=f"ONS {level} codes of vintage {vintage}",
        got=describe_values(list(codes)),
        hint=vintage_hint(list(codes), level, vintage, geography=geography),
    )


def check_codes(codes: pd.Series, level: str, vintage: int, *, geography: Geography) -> None:
    """Refuse missing codes and codes that are not ``level`` codes of ``vintage``."""
    if codes.isna().any():
        rows = list(codes.index[codes.isna()][:5])
        raise GeographyError(
            "has missing area codes",
            where="code column",
            expected="a code in every row",
            got=f"{int(codes.isna().sum())} missing, e.g. rows {rows}",
            hint="assign or geocode the rows first, or drop them and record them as unlocated",
        )
    known = set(geography.hierarchy(vintage, copy=False)[level].dropna())
    unknown = pd.unique(codes[~isin(codes, known)])
    if len(unknown):
        raise unknown_codes_error(list(unknown), level, vintage, geography=geography)
