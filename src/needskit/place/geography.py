"""Place: areas, lookups, vintages, point and postcode assignment, apportionment, custom places.

Everything a partnership means by "place" is answered here: neighbourhoods (LSOA), MSOAs,
wards, districts, the county, and a partnership's own places defined by LSOAs, polygons or
postcodes. All geometry work happens in British National Grid (EPSG:27700).

Levels nest through the ONS best-fit lookups (``lsoa`` → ``msoa`` / ``ward`` → ``district`` →
``county`` → ``region`` → ``country``). Two vintages are supported: 2011 LSOAs (IoD2019,
mid-year estimates 2019-2020) and 2021 LSOAs (Census 2021, IoD2025, police.uk since 2023).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from needskit._checks import (
    BNG,
    GB_BNG_EXTENT,
    GB_LONLAT_EXTENT,
    as_list,
    isin,
    require_columns,
    require_frame,
    require_non_negative,
    require_numeric,
)
from needskit._rounding import largest_remainder
from needskit.config.project import AREAS_FILE, data_dir, raw_path
from needskit.errors import GeographyError, SchemaError, describe_values

__all__ = [
    "LEVELS",
    "VINTAGES",
    "BNG",
    "CustomPlaces",
    "load_areas",
    "lookup",
    "hierarchy",
    "aggregate",
    "convert_vintage",
    "assign_points",
    "geocode_postcodes",
    "normalise_postcode",
    "apportion",
    "places_from_lsoas",
    "places_from_polygons",
    "places_from_postcodes",
    "infer_level",
]

Level = Literal["lsoa", "msoa", "ward", "district", "county", "region", "country"]
LEVELS: tuple[str, ...] = ("lsoa", "msoa", "ward", "district", "county", "region", "country")
"""Levels from smallest to largest. Boundaries are shipped for the first five (Gloucestershire)."""
BOUNDARY_LEVELS: tuple[str, ...] = ("lsoa", "msoa", "ward", "district", "county")
VINTAGES: tuple[int, ...] = (2011, 2021)


_NON_ADDITIVE = re.compile(
    r"(rate|ratio|score|rank|decile|quintile|percent|pct|prop|proportion|share|mean|median|average|index|per_)",
    re.IGNORECASE,
)
_AGG_METHODS = ("sum", "min", "max", "mean")


# --------------------------------------------------------------------------------------------
# Custom places


@dataclass(frozen=True)
class CustomPlaces:
    """A partnership's own places, usable wherever a level is.

    Attributes
    ----------
    name
        What the set of places is called (e.g. ``"regeneration areas"``).
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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def places_from_lsoas(
    definitions: Mapping[str, Sequence[str]], *, name: str = "custom places", vintage: int = 2021
) -> CustomPlaces:
    """Define places as whole LSOAs: ``{"Regeneration area": ["E01022120", ...], ...}``.

    Raises
    ------
    GeographyError
        If a code is not a shipped LSOA of ``vintage``.
    """
    _check_vintage(vintage)
    if not definitions:
        raise GeographyError(
            "no places given", where="definitions", expected="a mapping of place name to LSOA codes"
        )
    lsoas = load_areas("lsoa", vintage=vintage)
    known = set(lsoas["area_code"])
    rows = []
    for place, codes in definitions.items():
        codes = as_list(codes)
        unknown = [c for c in codes if c not in known]
        if unknown or not codes:
            raise GeographyError(
                "is not made of shipped LSOAs" if codes else "has no LSOAs",
                where=f"place {place!r}",
                expected=f"LSOA codes of vintage {vintage}",
                got=describe_values(unknown) if unknown else "an empty list",
                hint=_vintage_hint(unknown, "lsoa", vintage),
            )
        rows += [(code, _slug(place), place) for code in dict.fromkeys(codes)]
    members = pd.DataFrame(rows, columns=["lsoa_code", "area_code", "area_name"])
    members["weight"] = 1.0
    geoms = lsoas.set_index("area_code").geometry
    areas = gpd.GeoDataFrame(
        {"area_code": [_slug(p) for p in definitions], "area_name": list(definitions)},
        geometry=[
            shapely.union_all(geoms.loc[members.loc[members.area_code == _slug(p), "lsoa_code"]].values)
            for p in definitions
        ],
        crs=BNG,
    )
    return CustomPlaces(name, areas, members[["lsoa_code", "area_code", "weight"]], vintage)


def places_from_polygons(
    polygons: gpd.GeoDataFrame,
    *,
    code_col: str = "area_code",
    name_col: str | None = None,
    name: str = "custom places",
    vintage: int = 2021,
    weights: Literal["area", "postcodes"] = "postcodes",
) -> CustomPlaces:
    """Define places by polygons (e.g. a regeneration area drawn in QGIS).

    Each LSOA's counts are shared with the places it overlaps: by the share of its postcodes
    inside the place (``weights="postcodes"``, a population proxy; falls back to area for an LSOA
    with no postcode) or by the share of its area (``weights="area"``).
    """
    require_frame(polygons, name="polygons")
    if not isinstance(polygons, gpd.GeoDataFrame):
        raise GeographyError("is not a GeoDataFrame", where="polygons", expected="a GeoDataFrame with a CRS")
    require_columns(polygons, [code_col] + ([name_col] if name_col else []), argument="code_col")
    if polygons.crs is None:
        raise GeographyError(
            "has no CRS",
            where="polygons",
            expected="a CRS such as EPSG:27700",
            got="crs=None",
            hint="set it with .set_crs(...) to the CRS the file was drawn in",
        )
    if weights not in ("area", "postcodes"):
        raise GeographyError(
            "unknown weights", where="weights", expected="'area' or 'postcodes'", got=repr(weights)
        )
    targets = polygons.to_crs(BNG)
    areas = gpd.GeoDataFrame(
        {
            "area_code": targets[code_col].astype(str).to_numpy(),
            "area_name": (targets[name_col] if name_col else targets[code_col]).astype(str).to_numpy(),
        },
        geometry=shapely.make_valid(targets.geometry.values),
        crs=BNG,
    )
    lsoas = load_areas("lsoa", vintage=vintage)
    points = None
    if weights == "postcodes":
        pcs = _postcodes()
        pcs = pcs[pcs["easting"].notna()]
        points = gpd.GeoDataFrame(
            pcs[[]], geometry=gpd.points_from_xy(pcs["easting"], pcs["northing"]), crs=BNG
        )
        points["weight"] = 1.0
    shares = _overlap_shares(lsoas, areas, points=points)
    members = shares.rename(columns={"source": "lsoa_code", "target": "area_code", "share": "weight"})
    return CustomPlaces(name, areas, members[["lsoa_code", "area_code", "weight"]], vintage)


def places_from_postcodes(
    definitions: Mapping[str, Sequence[str]], *, name: str = "custom places", vintage: int = 2021
) -> CustomPlaces:
    """Define places by postcode lists (e.g. a GP practice's or a housing estate's postcodes).

    An LSOA belongs to a place with weight = the share of its postcodes (in the shipped ONS
    Postcode Directory) that are in the place's list. The place's outline is the union of the
    LSOAs it touches. Unknown postcodes raise, naming them.
    """
    _check_vintage(vintage)
    pcs = _postcodes()
    pcs = pcs[pcs["easting"].notna()]
    located = assign_points(pcs, x="easting", y="northing", crs=BNG, level="lsoa", vintage=vintage)
    located = located[located["match"] != "unmatched"]
    per_lsoa = located.groupby("area_code").size()
    by_postcode = located.set_index("postcode_clean")["area_code"]
    rows = []
    for place, postcodes in definitions.items():
        clean = [normalise_postcode(p) for p in as_list(postcodes)]
        unknown = [p for p, c in zip(as_list(postcodes), clean, strict=True) if c not in by_postcode.index]
        if unknown or not clean:
            raise GeographyError(
                "has postcodes that are not in the shipped postcode directory"
                if clean
                else "has no postcodes",
                where=f"place {place!r}",
                expected="current postcodes with coordinates",
                got=describe_values(unknown) if unknown else "an empty list",
                hint="check for typos; terminated postcodes have no coordinates",
            )
        counts = by_postcode.loc[list(dict.fromkeys(clean))].value_counts()
        for lsoa, n in counts.items():
            rows.append((lsoa, _slug(place), n / per_lsoa[lsoa]))
    members = pd.DataFrame(rows, columns=["lsoa_code", "area_code", "weight"])
    geoms = load_areas("lsoa", vintage=vintage).set_index("area_code").geometry
    areas = gpd.GeoDataFrame(
        {"area_code": [_slug(p) for p in definitions], "area_name": list(definitions)},
        geometry=[
            shapely.union_all(geoms.loc[members.loc[members.area_code == _slug(p), "lsoa_code"]].values)
            for p in definitions
        ],
        crs=BNG,
    )
    return CustomPlaces(name, areas, members, vintage)


# --------------------------------------------------------------------------------------------
# Areas and lookups


def _check_vintage(vintage: int) -> None:
    if vintage not in VINTAGES:
        raise GeographyError(
            "unknown vintage", where="vintage", expected=f"one of {list(VINTAGES)}", got=repr(vintage)
        )


def _check_level(level: str, *, allowed: Sequence[str] = LEVELS, argument: str = "level") -> None:
    if level not in allowed:
        raise GeographyError(
            "unknown level", where=argument, expected=f"one of {list(allowed)}", got=repr(level)
        )


@functools.cache
def _read_layer(path: str, layer: str, mtime: float) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(path, layer=layer)


def load_areas(
    level: str | CustomPlaces, *, vintage: int = 2021, within: str | None = None
) -> gpd.GeoDataFrame:
    """Boundaries of one level, in EPSG:27700.

    Parameters
    ----------
    level
        ``"lsoa"``, ``"msoa"``, ``"ward"``, ``"district"``, ``"county"``, or a :class:`CustomPlaces`.
    vintage
        2011 or 2021 LSOA geography.
    within
        Keep only areas inside this district or county code (e.g. ``"E07000078"``).

    Returns
    -------
    GeoDataFrame with ``area_code``, ``area_name``, ``boundary_source`` and geometry, sorted by code.

    Notes
    -----
    The shipped boundaries cover Gloucestershire (see ``data/README.md`` for how the detailed 2021
    LSOAs were built). For other places pass your own polygons to the functions taking ``areas=``.
    """
    if isinstance(level, CustomPlaces):
        return level.areas.copy()
    _check_level(level, allowed=BOUNDARY_LEVELS)
    _check_vintage(vintage)
    path = raw_path(AREAS_FILE)
    areas = _read_layer(str(path), f"{level}_{vintage}", path.stat().st_mtime).copy()
    if within is not None:
        parents = hierarchy(vintage=vintage)
        for parent in ("district", "county", "region", "country"):
            if (parents[parent] == within).any():
                break
        else:
            raise GeographyError(
                "is not a district, county, region or country code",
                where=f"within={within!r}",
                expected="e.g. 'E07000078' (Cheltenham) or 'E10000013' (Gloucestershire)",
                got=repr(within),
            )
        if LEVELS.index(parent) < LEVELS.index(level):
            raise GeographyError(
                f"a {level} is not inside a {parent}",
                where=f"within={within!r}",
                expected=f"a code of a level above {level}",
            )
        keep = set(parents.loc[parents[parent] == within, level])
        areas = areas[areas["area_code"].isin(keep)]
        if areas.empty:
            raise GeographyError(
                "has no shipped boundaries",
                where=f"within={within!r}",
                expected="a code inside the shipped area (Gloucestershire)",
                hint="pass your own polygons through areas= where a function accepts them",
            )
    return areas.reset_index(drop=True)


def _read_csv(relative: str, root: Path | None = None) -> pd.DataFrame:
    path = (root / relative) if root is not None else raw_path(relative)
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str)


@functools.cache
def _hierarchy_cached(vintage: int, root: str) -> pd.DataFrame:
    base = Path(root)
    if vintage == 2021:
        frame = _read_csv("lookups/lookup_lsoa21_ward24_ltla24.csv.gz", base).rename(
            columns={
                "lsoa21_code": "lsoa",
                "lsoa21_name": "lsoa_name",
                "ward24_code": "ward",
                "ward24_name": "ward_name",
                "ltla24_code": "district",
                "ltla24_name": "district_name",
            }
        )
        msoa = _read_csv("lookups/lookup_lsoa21_msoa21.csv.gz", base).set_index("lsoa21_code")
        frame["msoa"] = frame["lsoa"].map(msoa["msoa21_code"])
        frame["msoa_name"] = frame["lsoa"].map(msoa["msoa21_name"])
        county = _read_csv("lookups/lookup_ltla23_utla23.csv.gz", base).set_index("ltla23_code")
        region = _read_csv("lookups/lookup_ltla24_region24.csv.gz", base).set_index("ltla24_code")
        frame["county"] = frame["district"].map(county["utla23_code"])
        frame["county_name"] = frame["district"].map(county["utla23_name"])
        frame["region"] = frame["district"].map(region["region24_code"])
        frame["region_name"] = frame["district"].map(region["region24_name"])
    else:
        frame = _read_csv("lookups/lookup_lsoa11_ltla21.csv.gz", base).rename(
            columns={
                "lsoa11_code": "lsoa",
                "lsoa11_name": "lsoa_name",
                "ltla21_code": "district",
                "ltla21_name": "district_name",
            }
        )
        msoa = _read_csv("lookups/lookup_lsoa11_msoa11.csv.gz", base).set_index("lsoa11_code")
        frame["msoa"] = frame["lsoa"].map(msoa["msoa11_code"])
        frame["msoa_name"] = frame["lsoa"].map(msoa["msoa11_name"])
        ward = _read_csv("lookups/lookup_lsoa11_ward17.csv.gz", base).set_index("lsoa11_code")["ward17_code"]
        names = _read_csv("lookups/lookup_ward21_ltla21.csv.gz", base).drop_duplicates("ward21_code")
        names = names.set_index("ward21_code")["ward21_name"]
        frame["ward"] = frame["lsoa"].map(ward)
        frame["ward_name"] = frame["ward"].map(names).fillna("Ward " + frame["ward"].fillna(""))
        county = _read_csv("lookups/lookup_ltla21_utla21.csv.gz", base).set_index("ltla21_code")
        region = _read_csv("lookups/lookup_ltla21_region21.csv.gz", base).set_index("ltla21_code")
        frame["county"] = frame["district"].map(county["utla21_code"])
        frame["county_name"] = frame["district"].map(county["utla21_name"])
        frame["region"] = frame["district"].map(region["region21_code"])
        frame["region_name"] = frame["district"].map(region["region21_name"])
    wales = frame["lsoa"].str.startswith("W")
    # Welsh principal areas are unitary: county = district. Wales has no English region.
    frame.loc[wales, "county"] = frame.loc[wales, "district"]
    frame.loc[wales, "county_name"] = frame.loc[wales, "district_name"]
    frame.loc[wales, "region"] = "W92000004"
    frame.loc[wales, "region_name"] = "Wales"
    frame["country"] = np.where(wales, "W92000004", "E92000001")
    frame["country_name"] = np.where(wales, "Wales", "England")
    columns = [c for level in LEVELS for c in (level, f"{level}_name")]
    return frame[columns].sort_values("lsoa", ignore_index=True)


def hierarchy(*, vintage: int = 2021, root: Path | None = None) -> pd.DataFrame:
    """The national LSOA hierarchy: one row per LSOA (England and Wales) with the code and name of
    its MSOA, best-fit ward, district, county, region and country (columns ``<level>`` and
    ``<level>_name``)."""
    _check_vintage(vintage)
    root = root if root is not None else data_dir() / "raw"
    return _hierarchy_cached(vintage, str(root)).copy()


def lookup(from_level: str, to_level: str, *, vintage: int = 2021) -> pd.DataFrame:
    """Codes of ``from_level`` areas and the ``to_level`` area each lies in.

    Returns
    -------
    DataFrame with ``<from_level>_code``, ``<to_level>_code`` and ``<to_level>_name``, one row per
    ``from_level`` area (England and Wales).

    Raises
    ------
    GeographyError
        If the levels are unknown, out of order, or do not nest (e.g. MSOA to ward).
    """
    _check_level(from_level, argument="from_level")
    _check_level(to_level, argument="to_level")
    _check_vintage(vintage)
    if LEVELS.index(from_level) >= LEVELS.index(to_level):
        raise GeographyError(
            "lookups go up the hierarchy",
            where=f"lookup({from_level!r}, {to_level!r})",
            expected=f"a to_level above {from_level!r}: {list(LEVELS[LEVELS.index(from_level) + 1 :])}",
            got=repr(to_level),
        )
    frame = hierarchy(vintage=vintage)[[from_level, to_level, f"{to_level}_name"]].drop_duplicates()
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


def infer_level(codes: Sequence[str] | pd.Series, *, vintage: int = 2021) -> str:
    """The level whose codes include every one of ``codes`` (smallest level first)."""
    table = hierarchy(vintage=vintage)
    values = pd.Series(pd.unique(pd.Series(codes, dtype="object").dropna()))
    for level in LEVELS:
        if values.isin(table[level]).all():
            return level
    for level in LEVELS:
        missing = values[~values.isin(table[level])]
        if len(missing) < len(values):
            raise _unknown_codes(missing.tolist(), level, vintage)
    raise _unknown_codes(values.tolist(), "lsoa", vintage)


def _vintage_hint(codes: Sequence[str], level: str, vintage: int) -> str | None:
    if not codes or level not in LEVELS:
        return None
    other = 2011 if vintage == 2021 else 2021
    try:
        known = set(hierarchy(vintage=other)[level])
    except Exception:  # pragma: no cover - lookups missing
        return None
    if any(code in known for code in codes):
        return f"these look like {other} codes: pass vintage={other} or convert with convert_vintage()"
    return "codes must be ONS GSS codes such as E01022100"


def _unknown_codes(codes: Sequence[str], level: str, vintage: int) -> GeographyError:
    return GeographyError(
        f"codes that are not {level} codes of the {vintage} geography",
        where=f"level={level!r}, vintage={vintage}",
        expected=f"ONS {level} codes of vintage {vintage}",
        got=describe_values(list(codes)),
        hint=_vintage_hint(list(codes), level, vintage),
    )


# --------------------------------------------------------------------------------------------
# Aggregation up the hierarchy


def _split_columns(
    df: pd.DataFrame, code_col: str, value_cols: list[str], by: str | Sequence[str] | None
) -> list[str]:
    """Grouping keys besides the area code.

    ``by=None``: every text, categorical, boolean or date column is a key (``period``,
    ``category``, ``dataset`` ...). A numeric column that is neither a value nor named in ``by``
    is refused rather than silently used as a key or dropped.
    """
    if by is not None:
        keys = as_list(by)
        require_columns(df, keys, argument="by")
        return [k for k in keys if k != code_col]
    keys = [c for c in df.columns if c != code_col and c not in value_cols]
    numeric = [
        c for c in keys if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
    ]
    if numeric:
        raise SchemaError(
            "has numeric columns that are neither values nor keys",
            where=f"columns {numeric[:5]}" + (f" and {len(numeric) - 5} more" if len(numeric) > 5 else ""),
            expected="counts listed in value_cols, or keys named in by=",
            got=f"{len(numeric)} unlisted numeric column(s)",
            hint="add them to value_cols, name the keys with by=[...], or drop them first",
        )
    return keys


def aggregate(
    df: pd.DataFrame,
    *,
    to: str | CustomPlaces,
    code_col: str = "area_code",
    value_cols: str | Sequence[str],
    vintage: int = 2021,
    from_level: str | None = None,
    how: Mapping[str, str] | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sum counts up the hierarchy (LSOA → ward → district → county ...) or onto custom places.

    Parameters
    ----------
    df
        One row per area and key (e.g. ``period`` or ``category``).
    to
        Target level, or a :class:`CustomPlaces`.
    code_col
        Column holding the area codes.
    value_cols
        Columns to aggregate. They are summed; a column whose name says it is not a count
        (rate, ratio, score, rank, decile, proportion, share, mean, index ...) is refused unless
        ``how`` says what to do with it.
    from_level
        Level of ``code_col``; inferred from the codes when omitted.
    how
        Per column ``"sum"``, ``"min"``, ``"max"``, ``"mean"`` or ``"mean:<weight column>"``
        (population-weighted mean).
    by
        Grouping keys besides the area; default: every text, category, boolean or date column.

    Returns
    -------
    DataFrame with ``code_col`` (the target codes), ``area_name``, ``level``, the key columns and
    the value columns.

    Raises
    ------
    SchemaError, GeographyError
        Missing columns, non-additive columns without ``how``, unknown codes, non-nesting levels.

    Examples
    --------
    >>> aggregate(crimes, to="district", value_cols="n")  # doctest: +SKIP
    """
    require_frame(df)
    value_cols = as_list(value_cols)
    how = dict(how or {})
    require_columns(df, [code_col], argument="code_col")
    require_columns(df, value_cols, argument="value_cols")
    unknown_how = [c for c in how if c not in value_cols]
    if unknown_how:
        raise SchemaError("names columns that are not in value_cols", where="how", got=str(unknown_how))
    weights_needed = []
    for column in value_cols:
        method = how.get(column)
        if method is None and _NON_ADDITIVE.search(column):
            raise SchemaError(
                "looks non-additive and cannot simply be summed",
                where=f"value column {column!r}",
                expected="a count, or how={column!r: 'mean:<population column>'} (or 'min'/'max'/'sum')",
                got="no aggregation method",
                hint="rates and scores are recomputed from summed numerators and denominators",
            )
        if method is not None:
            base, _, weight = method.partition(":")
            if base not in _AGG_METHODS or (weight and base != "mean"):
                raise SchemaError(
                    "unknown method",
                    where=f"how[{column!r}]",
                    expected="sum, min, max, mean or mean:<col>",
                    got=repr(method),
                )
            if weight:
                require_columns(df, [weight], argument=f"how[{column!r}] weight")
                weights_needed.append(weight)
    require_numeric(df, value_cols + weights_needed)
    keys = _split_columns(df, code_col, value_cols + [w for w in weights_needed if w not in value_cols], by)

    if isinstance(to, CustomPlaces):
        if from_level not in (None, "lsoa"):
            raise GeographyError(
                "custom places are built from LSOAs",
                where="from_level",
                expected="'lsoa'",
                got=repr(from_level),
            )
        _check_codes(df[code_col], "lsoa", to.vintage)
        mapping = to.members.rename(
            columns={"lsoa_code": "__nk_from", "area_code": "__nk_to", "weight": "__nk_share"}
        )
        names = to.areas.set_index("area_code")["area_name"]
        level_name = to.name
    else:
        _check_level(to, argument="to")
        _check_vintage(vintage)
        from_level = from_level or infer_level(df[code_col], vintage=vintage)
        _check_codes(df[code_col], from_level, vintage)
        if from_level == to:
            mapping = pd.DataFrame(
                {"__nk_from": df[code_col].unique(), "__nk_to": df[code_col].unique(), "__nk_share": 1.0}
            )
        else:
            table = lookup(from_level, to, vintage=vintage)
            mapping = table.rename(columns={f"{from_level}_code": "__nk_from", f"{to}_code": "__nk_to"})[
                ["__nk_from", "__nk_to"]
            ]
            mapping["__nk_share"] = 1.0
        names = hierarchy(vintage=vintage).drop_duplicates(to).set_index(to)[f"{to}_name"]
        level_name = to

    joined = df.merge(mapping, left_on=code_col, right_on="__nk_from", how="inner", validate="many_to_many")
    fractional = (joined["__nk_share"] != 1.0).any()
    pieces = []
    group_keys = ["__nk_to"] + keys
    for column in value_cols:
        base, _, weight = how.get(column, "sum").partition(":")
        if base == "sum":
            values = joined[column] * joined["__nk_share"] if fractional else joined[column]
            pieces.append(
                values.groupby([joined[k] for k in group_keys], dropna=False).sum(min_count=1).rename(column)
            )
        elif base in ("min", "max"):
            pieces.append(joined.groupby(group_keys, dropna=False)[column].agg(base))
        elif weight:
            w = joined[weight] * joined["__nk_share"]
            num = (joined[column] * w).groupby([joined[k] for k in group_keys], dropna=False).sum()
            den = w.where(joined[column].notna()).groupby([joined[k] for k in group_keys], dropna=False).sum()
            pieces.append((num / den.replace(0, np.nan)).rename(column))
        else:
            pieces.append(joined.groupby(group_keys, dropna=False)[column].mean())
    out = pd.concat(pieces, axis=1).reset_index().rename(columns={"__nk_to": code_col})
    out.insert(1, "area_name", out[code_col].map(names))
    out.insert(2, "level", level_name)
    return out.sort_values([code_col] + keys, ignore_index=True)


def _check_codes(codes: pd.Series, level: str, vintage: int) -> None:
    if codes.isna().any():
        rows = list(codes.index[codes.isna()][:5])
        raise GeographyError(
            "has missing area codes",
            where="code column",
            expected="a code in every row",
            got=f"{int(codes.isna().sum())} missing, e.g. rows {rows}",
            hint="assign or geocode the rows first, or drop them and record them as unlocated",
        )
    known = set(hierarchy(vintage=vintage)[level].dropna())
    unknown = pd.unique(codes[~isin(codes, known)])
    if len(unknown):
        raise _unknown_codes(list(unknown), level, vintage)


# --------------------------------------------------------------------------------------------
# 2011 <-> 2021 LSOAs


@functools.cache
def _population_weights(vintage: int, root: str) -> pd.Series:
    if vintage == 2021:
        table = pd.read_csv(Path(root) / "census/census2021_lsoa21_age6_usual_residents.csv.gz")
        return table.groupby("lsoa21_code")["usual_residents"].sum().astype(float)
    table = pd.read_csv(
        Path(root) / "population/mye2020_lsoa11_persons_syoa.csv.gz",
        usecols=["lsoa11_code", "total_population"],
    )
    return table.set_index("lsoa11_code")["total_population"].astype(float)


def convert_vintage(
    df: pd.DataFrame,
    *,
    code_col: str,
    value_cols: str | Sequence[str],
    from_vintage: int = 2011,
    to_vintage: int = 2021,
    weights: Literal["population", "area", "equal"] | pd.Series = "population",
    path_col: str | None = "conversion",
    by: str | Sequence[str] | None = None,
    intensive: bool | str | Sequence[str] = False,
) -> pd.DataFrame:
    """Move counts between 2011 and 2021 LSOAs with the ONS best-fit change codes.

    ``U`` (unchanged) rows are copied; ``S`` (a 2011 LSOA split into several 2021 LSOAs) are
    apportioned to the new LSOAs by ``weights``; ``M`` (several merged into one) are summed; ``X``
    (irregular, many-to-many) are apportioned then summed. Converting 2021 → 2011 reverses the roles.

    Parameters
    ----------
    df
        One row per LSOA and key (text columns such as ``period``; see ``by``).
    weights
        ``"population"`` (Census 2021 usual residents of the target LSOAs, or mid-2020 estimates
        for 2011 targets), ``"area"`` (shipped boundaries only), ``"equal"``, or a Series of
        weights indexed by target LSOA code.
    path_col
        Name of an output column saying which path each row took (``U``, ``S``, ``M``, ``X``);
        ``None`` to leave it out.
    by
        Grouping keys besides the LSOA; default: every text, category, boolean or date column.
    intensive
        Value columns that are rates, scores or classes rather than counts (``True`` for all):
        the children of a split inherit the parent's value; a merged LSOA takes the mean of its
        parents weighted by their population (``weights="population"``) or equally otherwise.

    Returns
    -------
    DataFrame on the target LSOAs with the same columns (plus ``path_col``). Integer columns stay
    integers: splits use the largest-remainder method, so every source row's parts add up to it
    exactly and totals are conserved exactly. ``result.attrs["conversion_report"]`` counts rows
    in and out by path: ``{"U": {"rows_in": 354, "rows_out": 354}, "S": {...}, ...}``.

    Raises
    ------
    GeographyError
        Codes not of ``from_vintage``, or a vintage pair that is not 2011/2021.
    """
    require_frame(df)
    value_cols = as_list(value_cols)
    require_columns(df, [code_col], argument="code_col")
    require_columns(df, value_cols, argument="value_cols")
    require_numeric(df, value_cols)
    _check_vintage(from_vintage)
    _check_vintage(to_vintage)
    if from_vintage == to_vintage:
        raise GeographyError(
            "from and to vintages are the same",
            where="to_vintage",
            expected="2011 -> 2021 or 2021 -> 2011",
            got=str(to_vintage),
        )
    keys = _split_columns(df, code_col, value_cols, by)
    if path_col and path_col in df.columns:
        raise SchemaError(
            "output column already exists", where=f"path_col={path_col!r}", hint="pass another name"
        )
    _check_codes(df[code_col], "lsoa", from_vintage)

    change = _read_csv("lookups/lookup_lsoa11_lsoa21_ltla22.csv.gz")
    src, dst = ("lsoa11_code", "lsoa21_code") if from_vintage == 2011 else ("lsoa21_code", "lsoa11_code")
    pairs = (
        change[[src, dst, "change_code"]]
        .drop_duplicates()
        .rename(columns={src: "__nk_src", dst: "__nk_dst", "change_code": "__nk_path"})
    )
    if from_vintage == 2021:
        pairs["__nk_path"] = pairs["__nk_path"].map({"U": "U", "S": "M", "M": "S", "X": "X"})
    pairs = pairs[isin(pairs["__nk_src"], set(df[code_col]))]

    if isinstance(weights, pd.Series):
        w = weights.astype(float)
    elif weights == "population":
        w = _population_weights(to_vintage, str(data_dir() / "raw"))
    elif weights == "area":
        w = load_areas("lsoa", vintage=to_vintage).set_index("area_code").geometry.area
    elif weights == "equal":
        w = pd.Series(1.0, index=pairs["__nk_dst"].unique())
    else:
        raise GeographyError(
            "unknown weights",
            where="weights",
            expected="'population', 'area', 'equal' or a Series",
            got=repr(weights),
        )
    pairs["__nk_w"] = pairs["__nk_dst"].map(w)
    missing = pairs.loc[pairs["__nk_w"].isna(), "__nk_dst"]
    if len(missing):
        raise GeographyError(
            "no weight for target LSOAs",
            where="weights",
            expected="a weight for every target LSOA",
            got=describe_values(missing.tolist()),
            hint="area weights exist only for the shipped boundaries; use weights='population'",
        )
    total = pairs.groupby("__nk_src")["__nk_w"].transform("sum")
    n_targets = pairs.groupby("__nk_src")["__nk_dst"].transform("size")
    pairs["__nk_share"] = np.where(total > 0, pairs["__nk_w"] / total.where(total > 0, 1.0), 1.0 / n_targets)

    joined = df.merge(pairs, left_on=code_col, right_on="__nk_src", how="left", validate="many_to_many")
    # a left merge keeps the input order, so each input row's targets are contiguous
    targets_per_row = df[code_col].map(pairs.groupby("__nk_src").size()).to_numpy().astype(int)
    source_row = np.repeat(np.arange(len(df)), targets_per_row)
    if intensive is True:
        intensive_cols = set(value_cols)
    else:
        intensive_cols = set(as_list(intensive or None))
    unknown = intensive_cols - set(value_cols)
    if unknown:
        raise SchemaError(
            "names columns that are not value columns", where="intensive", got=str(sorted(unknown))
        )
    if intensive_cols:
        source_weight = (
            joined["__nk_src"]
            .map(_population_weights(from_vintage, str(data_dir() / "raw")))
            .fillna(0.0)
            .to_numpy()
            if isinstance(weights, str) and weights == "population"
            else np.ones(len(joined))
        )
        # inheritance weight: a split child sees only its parent; a merge weighs its parents
        joined["__nk_iw"] = np.where(
            joined["__nk_path"].isin(["M", "X"]), source_weight * joined["__nk_share"].to_numpy(), 1.0
        )
    for column in value_cols:
        values = joined[column].to_numpy(dtype=float)
        if column in intensive_cols:
            present = ~np.isnan(values)
            joined[column] = np.where(present, values * joined["__nk_iw"].to_numpy(), 0.0)
            joined[f"__nk_iw_{column}"] = np.where(present, joined["__nk_iw"].to_numpy(), 0.0)
            continue
        if pd.api.types.is_integer_dtype(df[column]):
            whole = np.nan_to_num(values)
            totals = np.zeros(len(df))
            totals[source_row] = whole  # each source row's parts add up to the source row
            split = largest_remainder(whole * joined["__nk_share"].to_numpy(), totals=totals, groups=source_row)
            joined[column] = split.astype(np.int64)
        else:
            joined[column] = values * joined["__nk_share"].to_numpy()
    joined[code_col] = joined["__nk_dst"]
    agg = {column: "sum" for column in value_cols}
    agg.update({f"__nk_iw_{column}": "sum" for column in intensive_cols})
    grouped = joined.groupby([code_col] + keys, dropna=False, sort=True)
    out = grouped.agg(agg)
    # a target reached by several paths (possible only with irregular changes) is "X"
    out["__nk_path"] = grouped["__nk_path"].first().where(grouped["__nk_path"].nunique() == 1, "X")
    out = out.reset_index()
    for column in value_cols:
        if column in intensive_cols:
            total = out.pop(f"__nk_iw_{column}")
            out[column] = np.where(total > 0, out[column] / total.where(total > 0, 1.0), np.nan)
        elif pd.api.types.is_integer_dtype(df[column]):
            out[column] = out[column].astype(df[column].dtype)
    path_of_source = pairs.drop_duplicates("__nk_src").set_index("__nk_src")["__nk_path"]
    report = pd.DataFrame({"path": ["U", "S", "M", "X"]})
    report["rows_in"] = (
        report["path"].map(df[code_col].map(path_of_source).value_counts()).fillna(0).astype(int)
    )
    report["rows_out"] = report["path"].map(out["__nk_path"].value_counts()).fillna(0).astype(int)
    if path_col:
        out = out.rename(columns={"__nk_path": path_col})
    else:
        out = out.drop(columns="__nk_path")
    out = out[[code_col] + keys + value_cols + ([path_col] if path_col else [])]
    # a plain dict: DataFrames in attrs break pd.concat of the results
    out.attrs["conversion_report"] = report.set_index("path").to_dict("index")
    return out


# --------------------------------------------------------------------------------------------
# Points and postcodes


def _check_coordinates(x: np.ndarray, y: np.ndarray, crs: CRS, *, x_name: str, y_name: str) -> None:
    """Refuse coordinates that cannot be British: missing CRS handled by caller; swapped lat/lon."""
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return
    xs, ys = x[ok], y[ok]
    if crs.is_geographic:
        lon0, lat0, lon1, lat1 = GB_LONLAT_EXTENT
        inside = (xs >= lon0) & (xs <= lon1) & (ys >= lat0) & (ys <= lat1)
        swapped = (ys >= lon0) & (ys <= lon1) & (xs >= lat0) & (xs <= lat1)
        looks_bng = (np.abs(xs) > 1000) | (np.abs(ys) > 1000)
        if inside.mean() < 0.5:
            if swapped.mean() >= 0.5:
                raise GeographyError(
                    "longitude and latitude look swapped",
                    where=f"x={x_name!r}, y={y_name!r}",
                    expected="x = longitude (about -6 to 2 in England), y = latitude (about 50 to 56)",
                    got=f"x like {xs[0]:.4f}, y like {ys[0]:.4f}",
                    hint=f"pass x={y_name!r}, y={x_name!r}",
                )
            if looks_bng.mean() >= 0.5:
                raise GeographyError(
                    "coordinates look like British National Grid metres, not degrees",
                    where=f"crs={crs.to_string()!r}",
                    expected="longitude/latitude in degrees",
                    got=f"x like {xs[0]:.0f}, y like {ys[0]:.0f}",
                    hint="pass crs='EPSG:27700'",
                )
            raise GeographyError(
                "most coordinates are outside Great Britain",
                where=f"x={x_name!r}, y={y_name!r}",
                expected=f"longitude {GB_LONLAT_EXTENT[0]}..{GB_LONLAT_EXTENT[2]}, latitude {GB_LONLAT_EXTENT[1]}..{GB_LONLAT_EXTENT[3]}",
                got=f"{int((~inside).sum())} of {len(xs)} outside, e.g. ({xs[~inside][0]}, {ys[~inside][0]})",
                hint="check the columns and the CRS",
            )


def _to_bng(x: np.ndarray, y: np.ndarray, crs) -> tuple[np.ndarray, np.ndarray, CRS]:
    if crs is None:
        raise GeographyError(
            "no CRS given for the coordinates",
            where="crs",
            expected="e.g. 'EPSG:4326' (lon/lat) or 'EPSG:27700'",
            got="None",
            hint="police.uk and most web data are EPSG:4326; ONS grid references are EPSG:27700",
        )
    try:
        source = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises CRSError
        raise GeographyError("is not a CRS pyproj understands", where="crs", got=repr(crs)) from exc
    if source == CRS.from_epsg(27700):
        return x, y, source
    transformer = Transformer.from_crs(source, BNG, always_xy=True)
    bx, by = transformer.transform(x, y)
    return np.asarray(bx, dtype=float), np.asarray(by, dtype=float), source


def assign_points(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    crs="EPSG:4326",
    level: str | CustomPlaces = "lsoa",
    vintage: int = 2021,
    areas: gpd.GeoDataFrame | None = None,
    tolerance: float = 100.0,
    out_col: str = "area_code",
) -> pd.DataFrame:
    """Put each point in the area that contains it.

    Parameters
    ----------
    df
        Any frame with coordinate columns; it is not modified.
    x, y
        Coordinate columns (longitude/latitude for EPSG:4326, easting/northing for EPSG:27700).
    crs
        CRS of the coordinates.
    level, vintage
        Shipped areas to use (ignored when ``areas`` is given).
    areas
        Any GeoDataFrame with ``area_code`` and polygons (national boundaries, a partnership's
        own areas) to use instead of the shipped ones.
    tolerance
        Metres: a point outside every area but within this distance of one (typically just off
        the coast or across a generalised edge) goes to the nearest area with ``match="nearest"``.
    out_col
        Name of the output code column.

    Returns
    -------
    Copy of ``df`` (same rows, same order) with ``out_col`` (missing where unmatched) and
    ``match`` in {``within``, ``nearest``, ``unmatched``}. Rows without coordinates are
    ``unmatched``; nothing is dropped.

    Notes
    -----
    Points are reprojected to EPSG:27700. Identical coordinates are located once (police.uk snaps
    many crimes to the same point), through a shapely STRtree with prepared polygons. A point on
    a boundary shared by several areas goes to the one with the **lowest area code** (so it is
    counted exactly once, the same way every run).
    """
    require_frame(df)
    require_columns(df, [x, y], argument="x/y")
    if out_col in df.columns or "match" in df.columns:
        raise SchemaError(
            "output column already exists",
            where=f"out_col={out_col!r}" if out_col in df.columns else "'match'",
            hint="pass out_col= another name, or drop the column first",
        )
    for column in (x, y):
        series = df[column]
        if not pd.api.types.is_numeric_dtype(series):
            coerced = pd.to_numeric(series, errors="coerce")
            bad = series[coerced.isna() & series.notna()]
            if len(bad):
                raise SchemaError(
                    "is not numeric",
                    where=f"column {column!r}",
                    expected="coordinates as numbers",
                    got=describe_values(bad.astype(str).tolist()),
                )
    xs = pd.to_numeric(df[x], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(df[y], errors="coerce").to_numpy(dtype=float)

    if crs is None:
        _to_bng(xs, ys, None)
    source_crs = CRS.from_user_input(crs) if crs is not None else None
    if source_crs is not None and source_crs.is_geographic:
        _check_coordinates(xs, ys, source_crs, x_name=x, y_name=y)
    bx, by, _ = _to_bng(xs, ys, crs)
    if source_crs is not None and not source_crs.is_geographic:
        finite = np.isfinite(bx) & np.isfinite(by)
        inside = (bx >= GB_BNG_EXTENT[0]) & (bx <= GB_BNG_EXTENT[2]) & (by >= GB_BNG_EXTENT[1]) & (by <= GB_BNG_EXTENT[3])
        if finite.any() and inside[finite].mean() < 0.5:
            hint = (
                "these look like longitude/latitude: pass crs='EPSG:4326'"
                if (np.abs(bx[finite]) < 90).mean() > 0.5
                else "check the CRS"
            )
            raise GeographyError(
                "most coordinates are outside Great Britain",
                where=f"x={x!r}, y={y!r}, crs={crs!r}",
                expected="British National Grid eastings 0..700000 and northings 0..1300000",
                got=f"e.g. ({bx[finite][0]}, {by[finite][0]})",
                hint=hint,
            )

    if areas is None:
        areas = load_areas(level, vintage=vintage)
    else:
        if not isinstance(areas, gpd.GeoDataFrame) or "area_code" not in areas.columns:
            raise GeographyError("is not a GeoDataFrame with an 'area_code' column", where="areas")
        if areas.crs is None:
            raise GeographyError(
                "has no CRS", where="areas", expected="a CRS (EPSG:27700 preferred)", got="None"
            )
        areas = areas.to_crs(BNG) if CRS.from_user_input(areas.crs) != CRS.from_epsg(27700) else areas
    codes, match = _locate(bx, by, areas, tolerance=tolerance)
    out = df.copy()
    out[out_col] = pd.array(codes, dtype="string")
    out["match"] = match
    return out


def _locate(
    bx: np.ndarray, by: np.ndarray, areas: gpd.GeoDataFrame, *, tolerance: float
) -> tuple[pd.api.extensions.ExtensionArray, pd.api.extensions.ExtensionArray]:
    """Vectorised point-in-polygon on unique coordinates; returns codes and match labels.

    Each distinct coordinate is located once; the per-row answers are then two integer takes
    from small arrays (area codes, the three labels), never a loop or an object array of the
    input's length. Codes come back as a ``"string"`` array (missing where unmatched), labels
    with the dtype pandas gives a column of Python strings.
    """
    n = len(bx)
    row_area = np.full(n, -1, dtype=np.intp)  # index into the areas sorted by code
    row_match = np.zeros(n, dtype=np.int8)  # index into _MATCH_LABELS
    finite = np.isfinite(bx) & np.isfinite(by)
    ordered = areas.sort_values("area_code", kind="stable")
    area_codes = ordered["area_code"].astype(str).to_numpy(dtype=object)
    if finite.any() and len(areas):
        unique_area, unique_match, inverse = _locate_unique(
            bx[finite], by[finite], ordered.geometry.values, tolerance=tolerance
        )
        row_area[finite] = unique_area[inverse]
        row_match[finite] = unique_match[inverse]
    return _take_strings(area_codes, row_area, dtype="string"), _take_strings(_MATCH_LABELS, row_match)


_MATCH_LABELS = np.array(["unmatched", "within", "nearest"], dtype=object)


def _locate_unique(
    xs: np.ndarray, ys: np.ndarray, geoms: np.ndarray, *, tolerance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Locate each distinct (x, y) once among ``geoms`` (sorted by code).

    Returns, per distinct coordinate, the index of its area (-1 none; on a shared boundary the
    lowest index) and of its match label, and, per input point, the index of its coordinate.
    """
    inverse, uniques = pd.factorize(xs + 1j * ys)
    tree = shapely.STRtree(geoms)
    points = shapely.points(uniques.real, uniques.imag)
    hit_point, hit_area = tree.query(points, predicate="intersects")
    unique_area = np.full(len(points), -1, dtype=np.intp)
    if len(hit_point):
        order = np.lexsort((hit_area, hit_point))  # lowest tree index = lowest code wins a tie
        first = np.unique(hit_point[order], return_index=True)[1]
        unique_area[hit_point[order][first]] = hit_area[order][first]
    unique_match = np.where(unique_area >= 0, 1, 0).astype(np.int8)
    missing = np.flatnonzero(unique_area < 0)
    if len(missing) and tolerance > 0:
        near_point, near_area = tree.query_nearest(points[missing], max_distance=tolerance, all_matches=True)
        if len(near_point):
            order = np.lexsort((near_area, near_point))
            first = np.unique(near_point[order], return_index=True)[1]
            idx = missing[near_point[order][first]]
            unique_area[idx] = near_area[order][first]
            unique_match[idx] = 2
    return unique_area, unique_match, inverse


def _take_strings(
    labels: np.ndarray, index: np.ndarray, *, dtype: str | None = None
) -> pd.api.extensions.ExtensionArray:
    """``labels[index]`` (missing where ``index`` is -1) as a pandas string array, built by one
    take from the small array of labels, not from a Python string per row."""
    if dtype is None:  # the dtype pandas infers for a column of Python strings (str or object)
        small = pd.Series(labels if len(index) else labels[:0], dtype=None, copy=False).array
    else:
        small = pd.array(labels, dtype=dtype)
    if len(small) == 0:
        small = pd.array([None], dtype=small.dtype)
    return small.take(index, allow_fill=True)


_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")


def normalise_postcode(value) -> str | None:
    """``"gl503pp"``, ``"GL50 3PP"``, ``" GL50  3PP "`` → ``"GL50 3PP"``; None if not a postcode."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    compact = re.sub(r"\s+", "", str(value)).upper()
    if not _POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


@functools.cache
def _postcodes_cached(path: str) -> pd.DataFrame:
    table = pd.read_csv(path, dtype={"pcds": str, "pcd7": str, "laua": str})
    table["postcode_clean"] = table["pcds"].map(normalise_postcode)
    return table.rename(columns={"oseast1m": "easting", "osnrth1m": "northing"})[
        ["postcode_clean", "easting", "northing", "laua"]
    ].drop_duplicates("postcode_clean")


def _postcodes() -> pd.DataFrame:
    return _postcodes_cached(str(raw_path("lookups/onspd_nov2025_GL_postcodes.csv.gz"))).copy()


def geocode_postcodes(df: pd.DataFrame, *, postcode_col: str) -> pd.DataFrame:
    """Add British National Grid coordinates from the shipped ONS Postcode Directory.

    Returns
    -------
    Copy of ``df`` (same rows, same order) with ``postcode_clean`` (``"GL50 3PP"``),
    ``easting``, ``northing`` (EPSG:27700) and ``postcode_status``:

    * ``found`` — coordinates added;
    * ``no_coordinates`` — in the directory without a grid reference (terminated or
      non-geographic postcodes);
    * ``not_found`` — a well-formed postcode that is not in the shipped directory (the shipped
      directory covers GL postcodes only);
    * ``invalid`` — not a postcode; ``missing`` — empty.

    Nothing is dropped.
    """
    require_frame(df)
    require_columns(df, [postcode_col], argument="postcode_col")
    clashes = [c for c in ("postcode_clean", "easting", "northing", "postcode_status") if c in df.columns]
    if clashes:
        raise SchemaError(
            "output columns already exist", where=str(clashes), hint="rename or drop them first"
        )
    directory = _postcodes().set_index("postcode_clean")
    raw = df[postcode_col]
    clean = raw.map(normalise_postcode)
    out = df.copy()
    out["postcode_clean"] = clean.astype("string")
    out["easting"] = clean.map(directory["easting"]).astype(float)
    out["northing"] = clean.map(directory["northing"]).astype(float)
    known = clean.isin(directory.index)
    blank = raw.isna() | (raw.astype("string").str.strip() == "")
    status = np.select(
        [
            blank.to_numpy(dtype=bool),
            clean.isna().to_numpy(),
            ~known.to_numpy(),
            out["easting"].isna().to_numpy(),
        ],
        ["missing", "invalid", "not_found", "no_coordinates"],
        default="found",
    )
    out["postcode_status"] = status
    return out


# --------------------------------------------------------------------------------------------
# Areal interpolation


def _overlap_shares(
    sources: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, *, points: gpd.GeoDataFrame | None = None
) -> pd.DataFrame:
    """Share of each source inside each target: by area, or by weighted points where a source has any."""
    src_geom = sources.geometry.values
    tgt_geom = targets.geometry.values
    tree = shapely.STRtree(tgt_geom)
    si, ti = tree.query(src_geom, predicate="intersects")
    inter = shapely.area(shapely.intersection(src_geom[si], tgt_geom[ti]))
    frame = pd.DataFrame(
        {
            "source": sources["area_code"].to_numpy()[si],
            "target": targets["area_code"].to_numpy()[ti],
            "area": inter,
        }
    )
    frame = frame[frame["area"] > 0]
    src_area = pd.Series(shapely.area(src_geom), index=sources["area_code"].to_numpy())
    frame["share"] = frame["area"] / frame["source"].map(src_area)
    frame["method"] = "area"
    if points is not None and len(points):
        require_columns(points, ["weight"], argument="weights points")
        located_src = _locate(
            points.geometry.x.to_numpy(), points.geometry.y.to_numpy(), sources, tolerance=0
        )[0]
        located_tgt = _locate(
            points.geometry.x.to_numpy(), points.geometry.y.to_numpy(), targets, tolerance=0
        )[0]
        pw = pd.DataFrame(
            {"source": located_src, "target": located_tgt, "w": points["weight"].to_numpy(dtype=float)}
        )
        pw = pw[pw["source"].notna()]
        by_source = pw.groupby("source")["w"].sum()
        by_pair = pw[pw["target"].notna()].groupby(["source", "target"])["w"].sum()
        has_points = frame["source"].isin(by_source[by_source > 0].index)
        pair_index = pd.MultiIndex.from_frame(frame[["source", "target"]])
        point_share = pd.Series(by_pair.reindex(pair_index).fillna(0).to_numpy(), index=frame.index) / frame[
            "source"
        ].map(by_source)
        frame.loc[has_points, "share"] = point_share[has_points]
        frame.loc[has_points, "method"] = "points"
        # targets that hold a source's points but do not overlap it cannot happen (points are inside both)
    return frame[frame["share"] > 0].reset_index(drop=True)


def apportion(
    df: pd.DataFrame,
    *,
    source_areas: gpd.GeoDataFrame,
    target_areas: gpd.GeoDataFrame,
    value_cols: str | Sequence[str],
    weights: Literal["area"] | gpd.GeoDataFrame = "area",
    code_col: str = "area_code",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Areal interpolation of counts from source polygons onto target polygons.

    Parameters
    ----------
    df
        Counts per source area (``code_col`` matches ``source_areas.area_code``), one row per
        area and key (text columns such as ``period``; or name them in ``by``).
    source_areas, target_areas
        GeoDataFrames with ``area_code`` and polygons, in the **same projected CRS**.
    weights
        ``"area"``: a source's count is shared by the share of its area in each target.
        A GeoDataFrame of points with a ``weight`` column (e.g. postcode points, UPRNs with
        population): shared by the weight of the source's points falling in each target; a
        source with no points falls back to area.

    Returns
    -------
    DataFrame with ``code_col`` (target codes), the key columns and the value columns.
    ``attrs["outside"]`` holds, per value column, the amount that fell outside every target
    (zero when targets cover the sources, in which case totals are conserved exactly up to
    floating-point rounding). ``attrs["method"]`` counts sources by weighting method.

    Raises
    ------
    GeographyError
        Missing CRS, different CRSs, geographic (degree) CRS, unknown source codes.
    """
    require_frame(df)
    value_cols = as_list(value_cols)
    require_columns(df, [code_col], argument="code_col")
    require_columns(df, value_cols, argument="value_cols")
    require_numeric(df, value_cols)
    require_non_negative(df, value_cols)
    for name, frame in (("source_areas", source_areas), ("target_areas", target_areas)):
        if not isinstance(frame, gpd.GeoDataFrame) or "area_code" not in frame.columns:
            raise GeographyError("is not a GeoDataFrame with an 'area_code' column", where=name)
        if frame.crs is None:
            raise GeographyError(
                "has no CRS", where=name, expected="a projected CRS such as EPSG:27700", got="None"
            )
    if CRS.from_user_input(source_areas.crs) != CRS.from_user_input(target_areas.crs):
        raise GeographyError(
            "source and target CRS differ",
            where="source_areas/target_areas",
            expected="the same CRS",
            got=f"{source_areas.crs.to_string()} and {target_areas.crs.to_string()}",
            hint="reproject one with .to_crs(other.crs) (EPSG:27700 for England)",
        )
    if CRS.from_user_input(source_areas.crs).is_geographic:
        raise GeographyError(
            "areas are in degrees",
            where="source_areas",
            expected="a projected CRS in metres (EPSG:27700)",
            got=source_areas.crs.to_string(),
            hint="reproject both with .to_crs('EPSG:27700')",
        )
    points = None
    if isinstance(weights, gpd.GeoDataFrame):
        if weights.crs is None or CRS.from_user_input(weights.crs) != CRS.from_user_input(source_areas.crs):
            raise GeographyError(
                "weight points must share the areas' CRS", where="weights", got=str(weights.crs)
            )
        points = weights
    elif weights != "area":
        raise GeographyError(
            "unknown weights",
            where="weights",
            expected="'area' or a GeoDataFrame of points",
            got=repr(weights),
        )
    unknown = pd.unique(df.loc[~df[code_col].isin(source_areas["area_code"]), code_col])
    if len(unknown):
        raise GeographyError(
            "codes not among the source areas",
            where=f"column {code_col!r}",
            got=describe_values(list(unknown)),
        )
    keys = _split_columns(df, code_col, value_cols, by)
    shares = _overlap_shares(source_areas, target_areas, points=points)
    joined = df.merge(shares[["source", "target", "share"]], left_on=code_col, right_on="source", how="left")
    outside = {}
    for column in value_cols:
        joined[column] = joined[column] * joined["share"]
    for column in value_cols:
        outside[column] = float(df[column].sum() - joined[column].sum())
    joined = joined[joined["target"].notna()]
    out = joined.groupby(["target"] + keys, as_index=False, dropna=False)[value_cols].sum()
    out = out.rename(columns={"target": code_col})
    out.attrs["outside"] = outside
    out.attrs["method"] = shares.drop_duplicates("source")["method"].value_counts().to_dict()
    return out
