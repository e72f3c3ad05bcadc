"""Where a partnership works: its area resolved in the geography, its chapters and its comparators.

:func:`resolve_area` turns the ONS codes of ``conf/partnership.yml`` into a
:class:`PartnershipArea`: the LSOAs inside (in both vintages), the codes of every level inside,
the chapters of the regular needs analysis (given, or the next level down with at least two
units) and the region(s) it lies in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from needskit.config.partnership import Partnership
from needskit.errors import GeographyError
from needskit.place.geography import BOUNDARY_LEVELS, LEVELS, Geography

__all__ = ["PartnershipArea", "resolve_area", "CHAPTER_ORDER", "ENGLAND", "plain_name", "join_names"]

ENGLAND = "E92000001"
CHAPTER_ORDER = ("county", "district", "ward", "msoa")
"""Levels tried, in order, for default chapters: the first with at least two units in the area."""


def plain_name(name: str) -> str:
    """ONS's inverted names in reading order: "Bristol, City of" as "City of Bristol"."""
    match = re.fullmatch(r"(.+), (City|County|City and County) of", name)
    return f"{match.group(2)} of {match.group(1)}" if match else name


def join_names(names: list[str]) -> str:
    """Names as a list in a sentence: "A", "A and B", "A, B and C"."""
    names = [plain_name(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class PartnershipArea:
    """A partnership's area in its geography.

    Attributes
    ----------
    name
        The partnership's name.
    area_name
        What the area is called (``"Gloucestershire"``; several names joined with "and").
    codes
        The ONS codes of ``conf/partnership.yml``.
    vintage
        LSOA vintage of the profile.
    hierarchy
        The hierarchy rows of the LSOAs inside the area (vintage ``vintage``).
    other_lsoas
        LSOA codes of the other vintage that overlap the area (data on 2011 LSOAs is kept when it
        moves into the area).
    chapter_level, chapters
        The chapters of the needs analysis: a level and its codes inside the area.
    regions
        Region code(s) the area lies in.
    """

    name: str
    area_name: str
    codes: tuple[str, ...]
    vintage: int
    hierarchy: pd.DataFrame
    other_lsoas: frozenset[str]
    chapter_level: str
    chapters: tuple[str, ...]
    regions: tuple[str, ...]

    def codes_at(self, level: str) -> set[str]:
        """Codes of ``level`` inside the area (LSOAs, MSOAs, wards, districts, counties ...)."""
        if level not in self.hierarchy.columns:
            raise GeographyError("unknown level", where=f"level={level!r}", expected=f"one of {list(LEVELS)}")
        return set(self.hierarchy[level].dropna())

    def lsoas(self, vintage: int | None = None) -> set[str]:
        """LSOA codes inside the area, of the profile's vintage or of the other one."""
        if vintage is None or vintage == self.vintage:
            return self.codes_at("lsoa")
        return set(self.other_lsoas)

    def names(self) -> dict[str, str]:
        """Code -> name for every area inside (all levels)."""
        out: dict[str, str] = {}
        for level in LEVELS:
            pairs = self.hierarchy[[level, f"{level}_name"]].dropna().drop_duplicates(level)
            out.update(zip(pairs[level], pairs[f"{level}_name"], strict=True))
        return out

    def describe(self) -> dict[str, object]:
        """A plain-data summary (written into the store's manifest)."""
        return {
            "name": self.name,
            "area_name": self.area_name,
            "codes": list(self.codes),
            "vintage": self.vintage,
            "chapter_level": self.chapter_level,
            "chapters": list(self.chapters),
            "regions": list(self.regions),
            "lsoas": int(self.hierarchy["lsoa"].nunique()),
        }


def resolve_area(partnership: Partnership, geography: Geography) -> PartnershipArea:
    """The partnership's area in its geography.

    Raises
    ------
    GeographyError
        A code the lookups do not know, chapters that are not inside the area, or an area with
        no level that divides it into two or more units (then name the chapters).
    """
    vintage = partnership.vintage
    inside = geography.lsoas_within(partnership.areas, vintage=vintage)
    inside = inside.sort_values("lsoa", ignore_index=True)
    names = []
    for code in partnership.areas:
        for level in [lv for lv in inside.columns if not lv.endswith("_name")]:
            hit = inside.loc[inside[level] == code, f"{level}_name"]
            if len(hit):
                names.append(str(hit.iloc[0]))
                break
    area_name = partnership.area_name or join_names(names)
    other = 2011 if vintage == 2021 else 2021
    other_lsoas: set[str] = set()
    if geography.has_vintage(other):
        try:
            changes = geography.changes()
        except GeographyError:
            changes = None
        if changes is not None:
            ours, theirs = (f"lsoa{str(vintage)[2:]}_code", f"lsoa{str(other)[2:]}_code")
            other_lsoas = set(changes.loc[changes[ours].isin(set(inside["lsoa"])), theirs])
        else:
            other_lsoas = set(geography.lsoas_within(partnership.areas, vintage=other)["lsoa"])
    level, chapters = _chapters(partnership, inside)
    return PartnershipArea(
        name=partnership.name,
        area_name=area_name,
        codes=tuple(partnership.areas),
        vintage=vintage,
        hierarchy=inside,
        other_lsoas=frozenset(other_lsoas),
        chapter_level=level,
        chapters=chapters,
        regions=tuple(sorted(inside["region"].dropna().unique())),
    )


def _chapters(partnership: Partnership, inside: pd.DataFrame) -> tuple[str, tuple[str, ...]]:
    given = partnership.chapters
    if given == ():
        raise GeographyError(
            "names no chapters",
            where=f"{partnership.source}: chapters",
            expected="a level or a list of codes",
            got="an empty list",
            hint="leave chapters out to take the next level down with at least two units",
        )
    if isinstance(given, tuple):
        levels = []
        for code in given:
            found = [lv for lv in BOUNDARY_LEVELS if (inside[lv] == code).any()]
            if not found:
                raise GeographyError(
                    "is not inside the partnership's area",
                    where=f"{partnership.source}: chapters {code!r}",
                    expected=f"codes of areas inside {list(partnership.areas)}",
                    got=repr(code),
                )
            levels.append(found)
        # a unitary is a district and a county at once: the chapters' level is the largest they share
        common = [lv for lv in levels[0] if all(lv in found for found in levels)]
        if not common:
            raise GeographyError(
                "mixes levels",
                where=f"{partnership.source}: chapters",
                expected="codes of one level",
                got=str(sorted({found[-1] for found in levels})),
            )
        return common[-1], tuple(given)
    if isinstance(given, str):
        return given, tuple(sorted(inside[given].dropna().unique()))
    for level in CHAPTER_ORDER:
        units = sorted(inside[level].dropna().unique())
        if len(units) >= 2:
            return level, tuple(units)
    raise GeographyError(
        "no level divides the area into two or more units",
        where=f"{partnership.source}: area",
        expected="an area of several districts, wards or MSOAs",
        hint="name the chapters in conf/partnership.yml (chapters: [codes])",
    )
