"""The reference geography a partnership works on: lookups, boundaries, postcodes, populations.

Everything in :mod:`needskit.place` answers questions about *place* — which LSOA a point is in,
which ward an LSOA belongs to, how 2011 LSOAs became 2021 LSOAs — against one
:class:`Geography`. A geography holds the national ONS lookups (one hierarchy per LSOA vintage),
the LSOA change lookup, the boundaries the partnership has, a postcode directory and the
populations used as weights. It holds frames (or functions that produce them on first use); it
never reads a file itself: :func:`needskit.partner_data.reference.load_geography` builds one from
the catalogue entries that ``conf/partnership.yml`` names, and tests build one from hand-drawn
squares.

Levels nest through the ONS best-fit lookups (``lsoa`` → ``msoa`` / ``ward`` → ``district`` →
``county`` → ``region`` → ``country``). Two vintages are supported: 2011 LSOAs (IoD2019,
mid-year estimates 2019-2020) and 2021 LSOAs (Census 2021, IoD2025, police.uk since 2023).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias, TypeVar, cast

import geopandas as gpd
import pandas as pd

from needskit._checks import BNG
from needskit.errors import GeographyError

__all__ = [
    "Level",
    "LEVELS",
    "BOUNDARY_LEVELS",
    "AREA_TYPES",
    "VINTAGES",
    "Geography",
    "CustomPlaces",
    "check_level",
    "check_vintage",
]

Level = Literal["lsoa", "msoa", "ward", "district", "county", "region", "country"]
LEVELS: tuple[str, ...] = ("lsoa", "msoa", "ward", "district", "county", "region", "country")
"""Levels from smallest to largest; each nests in the next through the ONS best-fit lookups
(MSOAs and wards both nest in districts, not in each other)."""
BOUNDARY_LEVELS: tuple[str, ...] = ("lsoa", "msoa", "ward", "district", "county")
"""Levels a partnership's profile is built at (region and country are comparators)."""
AREA_TYPES: tuple[str, ...] = ("icb", "pfa", "csp")
"""Other ONS area types a partnership may be defined by (integrated care board, police force
area, community safety partnership): they select LSOAs but are not levels of the profile."""
VINTAGES: tuple[int, ...] = (2011, 2021)
HIERARCHY_COLUMNS: tuple[str, ...] = tuple(c for level in LEVELS for c in (level, f"{level}_name"))
"""Columns every hierarchy has: ``<level>`` (code) and ``<level>_name`` for each level."""

T = TypeVar("T")
Source: TypeAlias = T | Callable[[], T]


def check_vintage(vintage: object) -> int:
    """Refuse a vintage needskit does not know; return it as an int."""
    if vintage not in VINTAGES:
        raise GeographyError(
            "unknown vintage", where="vintage", expected=f"one of {list(VINTAGES)}", got=repr(vintage)
        )
    return int(vintage)  # type: ignore[call-overload]


def check_level(level: object, *, allowed: Sequence[str] = LEVELS, argument: str = "level") -> str:
    """Refuse a level outside ``allowed``; return it."""
    if level not in allowed:
        raise GeographyError(
            "unknown level", where=argument, expected=f"one of {list(allowed)}", got=repr(level)
        )
    return str(level)


@dataclass(frozen=True)
class CustomPlaces:
    """A partnership's own places, usable wherever a level is.

    Attributes
    ----------
    name
        What the set of places is called (e.g. ``"regeneration areas"``); it is the ``level``
        of the places in the profile.
    areas
        GeoDataFrame (EPSG:27700) with ``area_code``, ``area_name``, geometry.
    members
        How LSOAs make up each place: ``lsoa_code``, ``area_code``, ``weight`` (the share of the
        LSOA's counts that belong to the place; 1 for whole LSOAs).
    vintage
        LSOA vintage of ``members``.
    """

    name: str
    areas: gpd.GeoDataFrame
    members: pd.DataFrame
    vintage: int = 2021

    def __repr__(self) -> str:  # keep notebooks readable
        return f"CustomPlaces({self.name!r}, {len(self.areas)} places, vintage={self.vintage})"


class Geography:
    """The reference geography: hierarchies, LSOA changes, boundaries, postcodes, populations.

    Parameters
    ----------
    hierarchies
        Per LSOA vintage, one row per LSOA (England, or England and Wales) with the columns of
        :data:`HIERARCHY_COLUMNS` (``lsoa``, ``lsoa_name``, ``msoa`` ... ``country_name``) and,
        optionally, ``icb``/``pfa``/``csp`` and their names. A frame, or a function returning one.
    changes
        The ONS LSOA 2011 → 2021 change lookup: ``lsoa11_code``, ``lsoa21_code``,
        ``change_code`` (U, S, M, X). Needed only to convert between vintages.
    boundaries
        Per ``(level, vintage)``, a GeoDataFrame with ``area_code``, ``area_name`` and polygons
        (any projected CRS; held in EPSG:27700), or a function returning one. Levels without
        boundaries can still be aggregated to; they cannot be mapped.
    postcodes
        A postcode directory: ``postcode_clean`` (``"GL50 3PP"``), ``easting``, ``northing``
        (EPSG:27700, missing for postcodes without a grid reference) and, optionally,
        ``terminated`` (True for a terminated postcode, which keeps its last grid reference),
        ``lsoa21``/``lsoa11`` codes and ``source``.
    population
        Per vintage, residents per LSOA (a Series indexed by LSOA code): the weights that
        share a split LSOA's counts among its children.
    sources
        What each part was built from (catalogue entry and file), for reports and errors.
    hints
        How to supply a part the geography lacks, by part (``{"postcodes": "drop a postcode
        file into data/raw/postcodes/"}``): the hint of the error raised when it is asked for.

    Notes
    -----
    Parts given as functions are called once, on first use, and kept. Accessors return copies,
    so callers may modify what they get.

    Example
    -------
    >>> squares = Geography(hierarchies={2021: table}, boundaries={("lsoa", 2021): lsoas})  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        hierarchies: Mapping[int, Source[pd.DataFrame]],
        changes: Source[pd.DataFrame] | None = None,
        boundaries: Mapping[tuple[str, int], Source[gpd.GeoDataFrame]] | None = None,
        postcodes: Source[pd.DataFrame] | None = None,
        population: Mapping[int, Source[pd.Series]] | None = None,
        sources: Mapping[str, str] | None = None,
        hints: Mapping[str, str] | None = None,
    ) -> None:
        if not hierarchies:
            raise GeographyError(
                "a geography needs at least one hierarchy",
                where="hierarchies",
                expected="{2021: <frame with lsoa, msoa, ward, district, county, region, country>}",
                got="nothing",
            )
        for vintage in hierarchies:
            check_vintage(vintage)
        self._hierarchies = dict(hierarchies)
        self._changes = changes
        self._boundaries = dict(boundaries or {})
        self._postcodes = postcodes
        self._population = dict(population or {})
        self.sources: dict[str, str] = dict(sources or {})
        self.hints: dict[str, str] = dict(hints or {})
        self._cache: dict[object, object] = {}

    def __repr__(self) -> str:
        layers = ", ".join(f"{lv}_{v}" for lv, v in sorted(self._boundaries))
        return f"Geography(vintages={sorted(self._hierarchies)}, boundaries=[{layers}])"

    # ------------------------------------------------------------------ resolution of parts

    def _get(self, key: object, source: Source[T], what: str) -> T:  # noqa: ARG002
        if key not in self._cache:
            value = source() if callable(source) else source
            self._cache[key] = value
        return cast(T, self._cache[key])

    @property
    def vintages(self) -> tuple[int, ...]:
        """LSOA vintages this geography has a hierarchy for."""
        return tuple(sorted(self._hierarchies))

    def has_vintage(self, vintage: int) -> bool:
        return vintage in self._hierarchies

    def hierarchy(self, vintage: int = 2021, *, copy: bool = True) -> pd.DataFrame:
        """One row per LSOA of ``vintage``: the code and name of each level it lies in.

        ``copy=False`` returns the geography's own frame, for read-only use."""
        check_vintage(vintage)
        if vintage not in self._hierarchies:
            raise GeographyError(
                f"no {vintage} lookups in this geography",
                where=f"vintage={vintage}",
                expected=f"one of {list(self.vintages)}",
                hint="name the lookups of that vintage under reference.lookups in conf/partnership.yml",
            )
        frame = self._get(("hierarchy", vintage), self._hierarchies[vintage], "hierarchy")
        if not isinstance(frame, pd.DataFrame) or "lsoa" not in frame.columns:
            raise GeographyError(
                "is not a hierarchy table",
                where=f"hierarchy {vintage}",
                expected="a frame with an 'lsoa' column",
            )
        return frame.copy() if copy else frame

    def has_boundaries(self, level: str, vintage: int = 2021) -> bool:
        return (level, vintage) in self._boundaries

    @property
    def boundary_layers(self) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(self._boundaries))

    def boundaries(self, level: str, vintage: int = 2021) -> gpd.GeoDataFrame:
        """Polygons of one level: ``area_code``, ``area_name``, geometry in EPSG:27700 (a copy)."""
        key = ("boundaries", level, vintage)
        if (level, vintage) not in self._boundaries:
            have = [f"{lv} {v}" for lv, v in self.boundary_layers]
            raise GeographyError(
                f"no {level} boundaries of the {vintage} geography",
                where=f"level={level!r}, vintage={vintage}",
                expected=f"one of {have}" if have else "boundaries named in conf/partnership.yml",
                hint="name a boundaries file under reference.boundaries in conf/partnership.yml",
            )
        if key not in self._cache:
            frame = self._get(("raw",) + key, self._boundaries[(level, vintage)], "boundaries")
            if not isinstance(frame, gpd.GeoDataFrame) or "area_code" not in frame.columns:
                raise GeographyError(
                    "is not a GeoDataFrame with an 'area_code' column", where=f"boundaries {level} {vintage}"
                )
            if frame.crs is None:
                raise GeographyError(
                    "has no CRS", where=f"boundaries {level} {vintage}", expected="EPSG:27700"
                )
            if not frame.crs.equals(BNG):
                frame = frame.to_crs(BNG)
            if "area_name" not in frame.columns:
                frame = frame.assign(area_name=frame["area_code"])
            self._cache[key] = frame.sort_values("area_code", ignore_index=True)
        return cast(gpd.GeoDataFrame, self._cache[key]).copy()

    def changes(self) -> pd.DataFrame:
        """The LSOA 2011 → 2021 change lookup (``lsoa11_code``, ``lsoa21_code``, ``change_code``)."""
        if self._changes is None:
            raise GeographyError(
                "no LSOA change lookup in this geography",
                where="convert_vintage",
                expected="the ONS LSOA (2011) to LSOA (2021) lookup",
                hint="name it under reference.lsoa_changes in conf/partnership.yml",
            )
        return self._get("changes", self._changes, "changes").copy()

    def has_postcodes(self) -> bool:
        return self._postcodes is not None

    def postcodes(self) -> pd.DataFrame:
        """The postcode directory: ``postcode_clean``, ``easting``, ``northing`` (a copy)."""
        if self._postcodes is None:
            raise GeographyError(
                "no postcode directory in this geography",
                where="postcodes",
                expected="a postcode directory (ONS Postcode Directory, NSPL or OS Code-Point Open)",
                hint=self.hints.get("postcodes", "name it under reference.postcodes in conf/partnership.yml"),
            )
        return self._get("postcodes", self._postcodes, "postcodes").copy()

    def population(self, vintage: int = 2021) -> pd.Series:
        """Residents per LSOA of ``vintage`` (the weights of vintage conversion)."""
        if vintage not in self._population:
            raise GeographyError(
                f"no {vintage} LSOA populations in this geography",
                where="weights='population'",
                expected="population weights for the target vintage",
                hint="name a population dataset under reference.population in conf/partnership.yml, "
                "or pass weights='equal' or a Series",
            )
        return self._get(("population", vintage), self._population[vintage], "population").copy()

    # ------------------------------------------------------------------ questions

    def levels_of(self, code: str, *, vintage: int = 2021) -> list[str]:
        """The levels (and area types) whose codes include ``code``, smallest first."""
        table = self.hierarchy(vintage, copy=False)
        return [c for c in LEVELS + AREA_TYPES if c in table.columns and (table[c] == code).any()]

    def lsoas_within(self, codes: Sequence[str], *, vintage: int = 2021) -> pd.DataFrame:
        """Hierarchy rows of the LSOAs inside any of ``codes`` (codes of any level or area type).

        Raises
        ------
        GeographyError
            A code that is not in the lookups.
        """
        table = self.hierarchy(vintage, copy=False)
        keep = pd.Series(False, index=table.index)
        unknown = []
        for code in codes:
            columns = [c for c in LEVELS + AREA_TYPES if c in table.columns]
            hit = pd.Series(False, index=table.index)
            for column in columns:
                hit |= table[column] == code
            if not hit.any():
                unknown.append(code)
            keep |= hit
        if unknown:
            raise GeographyError(
                "is not an area of the lookups",
                where=f"area {unknown[0]!r}" if len(unknown) == 1 else f"areas {unknown}",
                expected=f"ONS codes of {vintage} LSOAs, MSOAs, wards, districts, counties, regions, ICBs "
                "or police force areas",
                got=repr(unknown[0]) if len(unknown) == 1 else repr(unknown),
            )
        return table[keep].copy()
