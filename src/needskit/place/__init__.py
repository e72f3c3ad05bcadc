"""Place: areas, lookups, vintages, points, postcodes, apportionment and a partnership's own places.

Every function works against a :class:`Geography` (the partnership's reference data), passed as
``geography=``; build one with :func:`needskit.partner_data.load_geography` or
:func:`needskit.open_project`. All geometry work happens in British National Grid (EPSG:27700).
"""

from needskit._checks import BNG
from needskit.place.aggregate import aggregate
from needskit.place.apportion import apportion
from needskit.place.areas import hierarchy, infer_level, load_areas, lookup
from needskit.place.custom import (
    build_places,
    place_code,
    places_from_lsoas,
    places_from_polygons,
    places_from_postcodes,
)
from needskit.place.geography import (
    AREA_TYPES,
    BOUNDARY_LEVELS,
    LEVELS,
    VINTAGES,
    CustomPlaces,
    Geography,
)
from needskit.place.points import assign_points
from needskit.place.postcodes import geocode_postcodes, normalise_postcode
from needskit.place.vintages import convert_vintage

__all__ = [
    "BNG",
    "LEVELS",
    "BOUNDARY_LEVELS",
    "AREA_TYPES",
    "VINTAGES",
    "Geography",
    "CustomPlaces",
    "load_areas",
    "hierarchy",
    "lookup",
    "infer_level",
    "aggregate",
    "convert_vintage",
    "assign_points",
    "geocode_postcodes",
    "normalise_postcode",
    "apportion",
    "places_from_lsoas",
    "places_from_polygons",
    "places_from_postcodes",
    "build_places",
    "place_code",
]
