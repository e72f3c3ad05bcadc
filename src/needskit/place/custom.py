"""A partnership's own places: defined by LSOAs, wards, postcodes or polygons, used like a level."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

import geopandas as gpd
import pandas as pd
import shapely

from needskit._checks import BNG, as_list, require_columns, require_frame
from needskit.config.places import PlaceSet
from needskit.errors import GeographyError, describe_values
from needskit.place.apportion import overlap_shares
from needskit.place.areas import load_areas, vintage_hint
from needskit.place.geography import CustomPlaces, Geography, check_vintage
from needskit.place.points import assign_points
from needskit.place.postcodes import normalise_postcode

__all__ = [
    "places_from_lsoas",
    "places_from_polygons",
    "places_from_postcodes",
    "build_places",
    "place_code",
]


def place_code(name: str) -> str:
    """The code of a place named ``name``: lower case, words joined by hyphens
    (``"West Cheltenham"`` → ``"west-cheltenham"``); letters of any script are kept."""
    return re.sub(r"[\W_]+", "-", str(name).lower()).strip("-")


def _codes(names: Sequence[str], *, where: str) -> list[str]:
    """Codes of the named places, refusing empty or repeated codes (two names, one code)."""
    codes = [place_code(n) for n in names]
    empty = [n for n, c in zip(names, codes, strict=True) if not c]
    if empty:
        raise GeographyError(
            "has no letters or digits to make a place code from",
            where=f"{where}: place {empty[0]!r}",
            expected="a name with letters or digits, e.g. 'West Cheltenham'",
            got=repr(empty[0]),
        )
    seen: dict[str, str] = {}
    for name, code in zip(names, codes, strict=True):
        if code in seen:
            raise GeographyError(
                "two places would have the same code",
                where=f"{where}: places {seen[code]!r} and {name!r}",
                expected="names that differ in more than case or punctuation",
                got=f"both become {code!r}",
                hint="rename one of them",
            )
        seen[code] = name
    return codes


def _outlines(
    codes: Sequence[str], names: Sequence[str], members: pd.DataFrame, lsoas: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    geoms = lsoas.set_index("area_code").geometry
    return gpd.GeoDataFrame(
        {"area_code": list(codes), "area_name": list(names)},
        geometry=[
            shapely.union_all(geoms.loc[members.loc[members.area_code == c, "lsoa_code"]].values)
            for c in codes
        ],
        crs=BNG,
    )


def places_from_lsoas(
    definitions: Mapping[str, Sequence[str]],
    *,
    geography: Geography,
    name: str = "custom places",
    vintage: int = 2021,
) -> CustomPlaces:
    """Define places as whole LSOAs: ``{"Regeneration area": ["E01022120", ...], ...}``.

    Raises
    ------
    GeographyError
        If a code is not an LSOA of ``vintage`` with boundaries in the geography, a place has
        no LSOAs, or two place names make the same code.
    """
    check_vintage(vintage)
    if not definitions:
        raise GeographyError(
            "no places given", where="definitions", expected="a mapping of place name to LSOA codes"
        )
    codes = _codes(list(definitions), where=name)
    lsoas = load_areas("lsoa", geography=geography, vintage=vintage)
    known = set(lsoas["area_code"])
    rows = []
    for (place, lsoa_codes), code in zip(definitions.items(), codes, strict=True):
        listed = as_list(lsoa_codes)
        unknown = [c for c in listed if c not in known]
        if unknown or not listed:
            raise GeographyError(
                "is not made of LSOAs of the geography" if listed else "has no LSOAs",
                where=f"place {place!r}",
                expected=f"LSOA codes of vintage {vintage} inside the partnership's boundaries",
                got=describe_values(unknown) if unknown else "an empty list",
                hint=vintage_hint(unknown, "lsoa", vintage, geography=geography),
            )
        rows += [(lsoa, code) for lsoa in dict.fromkeys(listed)]
    members = pd.DataFrame(rows, columns=["lsoa_code", "area_code"]).assign(weight=1.0)
    return CustomPlaces(name, _outlines(codes, list(definitions), members, lsoas), members, vintage)


def places_from_polygons(
    polygons: gpd.GeoDataFrame,
    *,
    code_col: str = "area_code",
    name_col: str | None = None,
    geography: Geography,
    name: str = "custom places",
    vintage: int = 2021,
    weights: Literal["area", "postcodes"] = "postcodes",
) -> CustomPlaces:
    """Define places by polygons (e.g. a regeneration area drawn in QGIS).

    Each LSOA's counts are shared with the places it overlaps: by the share of its postcodes
    inside the place (``weights="postcodes"``, a population proxy; falls back to area for an LSOA
    with no postcode, or everywhere when the geography has no postcode directory) or by the share
    of its area (``weights="area"``).
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
    lsoas = load_areas("lsoa", geography=geography, vintage=vintage)
    points = None
    if weights == "postcodes" and geography.has_postcodes():
        pcs = geography.postcodes()
        pcs = pcs[pcs["easting"].notna()]
        points = gpd.GeoDataFrame(
            pcs[[]], geometry=gpd.points_from_xy(pcs["easting"], pcs["northing"]), crs=BNG
        )
        points["weight"] = 1.0
    shares = overlap_shares(lsoas, areas, points=points)
    members = shares.rename(columns={"source": "lsoa_code", "target": "area_code", "share": "weight"})
    return CustomPlaces(name, areas, members[["lsoa_code", "area_code", "weight"]], vintage)


def places_from_postcodes(
    definitions: Mapping[str, Sequence[str]],
    *,
    geography: Geography,
    name: str = "custom places",
    vintage: int = 2021,
) -> CustomPlaces:
    """Define places by postcode lists (e.g. a GP practice's or a housing estate's postcodes).

    An LSOA belongs to a place with weight = the share of its postcodes (in the geography's
    postcode directory) that are in the place's list. The place's outline is the union of the
    LSOAs it touches.

    Raises
    ------
    GeographyError
        Postcodes that are not in the directory (named), a place without postcodes, or two
        place names that make the same code.
    """
    check_vintage(vintage)
    codes = _codes(list(definitions), where=name)
    located = _located_postcodes(geography, vintage)
    per_lsoa = located.groupby("area_code").size()
    by_postcode = located.drop_duplicates("postcode_clean").set_index("postcode_clean")["area_code"]
    rows = []
    for (place, postcodes), code in zip(definitions.items(), codes, strict=True):
        clean = [normalise_postcode(p) for p in as_list(postcodes)]
        unknown = [p for p, c in zip(as_list(postcodes), clean, strict=True) if c not in by_postcode.index]
        if unknown or not clean:
            raise GeographyError(
                "has postcodes that are not in the postcode directory inside the partnership's area"
                if clean
                else "has no postcodes",
                where=f"place {place!r}",
                expected="current postcodes with coordinates",
                got=describe_values(unknown) if unknown else "an empty list",
                hint="check for typos; terminated postcodes have no coordinates",
            )
        counts = by_postcode.loc[list(dict.fromkeys(clean))].value_counts()
        rows += [(lsoa, code, n / per_lsoa[lsoa]) for lsoa, n in counts.items()]
    members = pd.DataFrame(rows, columns=["lsoa_code", "area_code", "weight"])
    lsoas = load_areas("lsoa", geography=geography, vintage=vintage)
    return CustomPlaces(name, _outlines(codes, list(definitions), members, lsoas), members, vintage)


def _located_postcodes(geography: Geography, vintage: int) -> pd.DataFrame:
    """The directory's postcodes that lie in an LSOA of the geography's boundaries, with its code."""
    pcs = geography.postcodes()
    pcs = pcs[pcs["easting"].notna()]
    located = assign_points(
        pcs, x="easting", y="northing", crs=BNG, level="lsoa", vintage=vintage, geography=geography
    )
    return located[located["match"] != "unmatched"]


def build_places(places: PlaceSet, *, geography: Geography) -> CustomPlaces:
    """Turn the places of ``conf/places.yml`` (read by :func:`needskit.config.load_places`) into
    one :class:`CustomPlaces`: each place by its LSOAs, its wards (names or codes, optionally
    within a district), its postcodes or its postcode prefixes.

    Raises
    ------
    GeographyError
        An unknown ward, LSOA or postcode, a prefix no postcode starts with, or two places with
        the same code; the message names the file and the place.
    """
    if not places.places:
        raise GeographyError(
            "has no places", where=places.source, expected="at least one place under places:"
        )
    _codes([p.name for p in places.places], where=places.source)
    table = geography.hierarchy(places.vintage, copy=False)
    sets = []
    for spec in places.places:
        where = f"{places.source}: places.{spec.name}"
        if spec.wards is not None:
            rows = table if spec.district is None else table[table["district"] == spec.district]
            lsoas: list[str] = []
            for ward in spec.wards:
                hit = rows[(rows["ward"] == ward) | (rows["ward_name"] == ward)]
                if hit.empty:
                    raise GeographyError(
                        "unknown ward",
                        where=where,
                        got=repr(ward),
                        expected="a ward name or code" + (f" in {spec.district}" if spec.district else ""),
                        hint="ward names are the best-fit wards of the lookups (load_areas('ward', ...))",
                    )
                lsoas += hit["lsoa"].tolist()
            sets.append(
                places_from_lsoas(
                    {spec.name: lsoas}, geography=geography, name=places.name, vintage=places.vintage
                )
            )
        elif spec.lsoas is not None:
            sets.append(
                places_from_lsoas(
                    {spec.name: list(spec.lsoas)},
                    geography=geography,
                    name=places.name,
                    vintage=places.vintage,
                )
            )
        else:
            postcodes = list(spec.postcodes or [])
            if spec.postcode_prefixes is not None:
                # a postcode district or sector may reach beyond the boundaries (GL20 into
                # Worcestershire): a prefix takes the postcodes inside them
                known = _located_postcodes(geography, places.vintage)["postcode_clean"].dropna()
                prefixes = tuple(str(p).upper() for p in spec.postcode_prefixes)
                postcodes = known[known.str.startswith(prefixes)].tolist()
                if not postcodes:
                    raise GeographyError(
                        "no postcode of the directory inside the boundaries starts with these prefixes",
                        where=where,
                        got=str(list(prefixes)),
                    )
            sets.append(
                places_from_postcodes(
                    {spec.name: postcodes}, geography=geography, name=places.name, vintage=places.vintage
                )
            )
    areas = gpd.GeoDataFrame(pd.concat([s.areas for s in sets], ignore_index=True), crs=BNG)
    members = pd.concat([s.members for s in sets], ignore_index=True)
    return CustomPlaces(places.name, areas, members, places.vintage)
