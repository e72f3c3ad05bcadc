"""A partnership's own places (``conf/places.yml``): names and how each is made up.

Example::

    name: partnership places
    vintage: 2021
    places:
      West Cheltenham:
        description: Regeneration area
        wards: [Springbank, Hesters Way, St Mark's]
        district: E07000078
      Gloucester city centre:
        lsoas: [E01022292, E01022293]
      Tewkesbury GL20:
        postcode_prefixes: [GL20]

Each place names exactly one of ``lsoas``, ``wards`` (optionally within a ``district``),
``postcodes`` or ``postcode_prefixes``. Reading the file checks its shape; turning the places
into areas (:func:`needskit.place.build_places`) checks them against the geography.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from needskit.config.yamlfile import Entry, read_yaml
from needskit.errors import CatalogError

__all__ = ["PlaceSpec", "PlaceSet", "parse_places", "load_places"]


@dataclass(frozen=True)
class PlaceSpec:
    """One place as written in ``conf/places.yml``."""

    name: str
    description: str = ""
    lsoas: tuple[str, ...] | None = None
    wards: tuple[str, ...] | None = None
    district: str | None = None
    postcodes: tuple[str, ...] | None = None
    postcode_prefixes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PlaceSet:
    """The places of one file: their set's name, LSOA vintage and definitions."""

    name: str
    vintage: int
    places: tuple[PlaceSpec, ...]
    source: str = "places"


def _strings(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise CatalogError("is not a list", where=where, expected="[a, b, ...]", got=repr(value))
    return tuple(str(v) for v in value)


def parse_places(data: Any, *, source: str = "places") -> PlaceSet:
    """A :class:`PlaceSet` from loaded YAML (see :func:`load_places`)."""
    top = Entry(data, source)
    name = top.get("name", "custom places", kind=str)
    vintage = top.choice("vintage", (2011, 2021), 2021)
    raw = top.get("places", required=True, kind=dict)
    top.finish()
    places = []
    for place, spec in raw.items():
        if not isinstance(place, str) or not place.strip():
            raise CatalogError("a place needs a name", where=f"{source}: places", got=repr(place))
        entry = Entry(spec, f"{source}: places.{place}")
        item = PlaceSpec(
            name=place,
            description=entry.get("description", "", kind=str),
            lsoas=_strings(entry.get("lsoas"), entry.at("lsoas")),
            wards=_strings(entry.get("wards"), entry.at("wards")),
            district=entry.get("district", None, kind=str),
            postcodes=_strings(entry.get("postcodes"), entry.at("postcodes")),
            postcode_prefixes=_strings(entry.get("postcode_prefixes"), entry.at("postcode_prefixes")),
        )
        entry.finish()
        given = [x is not None for x in (item.lsoas, item.wards, item.postcodes, item.postcode_prefixes)]
        if sum(given) != 1:
            raise CatalogError(
                "a place needs exactly one of lsoas, wards, postcodes or postcode_prefixes", where=entry.where
            )
        if item.district is not None and item.wards is None:
            raise CatalogError("'district' only narrows 'wards'", where=entry.at("district"))
        places.append(item)
    return PlaceSet(name=name, vintage=vintage, places=tuple(places), source=source)


def load_places(path: str | Path) -> PlaceSet:
    """Read and check ``conf/places.yml``.

    Raises
    ------
    CatalogError
        Missing file, invalid YAML, or a malformed place (file, place, key and line named).
    """
    return parse_places(read_yaml(path, what="places"), source=str(path))
