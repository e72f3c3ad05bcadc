"""needskit.config.places: conf/places.yml — the shape of a partnership's own places."""

from __future__ import annotations

import textwrap

import pytest

from needskit.config import PlaceSet, load_places
from needskit.config.places import PlaceSpec, parse_places
from needskit.errors import CatalogError, GeographyError
from needskit.place import build_places
from partner_files import CONF, shipped_place


def _write(tmp_path, text: str):
    path = tmp_path / "places.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_shipped_places_load():
    places = load_places(CONF / "places.yml")
    assert isinstance(places, PlaceSet) and places.name == "partnership places" and places.vintage == 2021
    by_name = {p.name: p for p in places.places}
    assert list(by_name) == ["West Cheltenham", "Gloucester inner city", "Cheltenham town centre"]
    west = by_name["West Cheltenham"]
    assert (
        west.wards == ("Hesters Way", "Springbank", "St Mark's", "St Peter's")
        and west.district == "E07000078"
    )
    assert by_name["Cheltenham town centre"].postcode_prefixes == ("GL50 1", "GL50 3")
    assert places.source == str(CONF / "places.yml")


def test_each_way_of_making_a_place(tmp_path):
    places = load_places(
        _write(
            tmp_path,
            """\
        places:
          By LSOA: {lsoas: [E01022163, E01022164], description: two LSOAs}
          By ward: {wards: [Springbank, E05012345]}
          By postcode: {postcodes: [GL50 3PP]}
          By prefix: {postcode_prefixes: [GL20]}
        """,
        )
    )
    assert places.name == "custom places" and places.vintage == 2021
    assert places.places[0] == PlaceSpec("By LSOA", "two LSOAs", lsoas=("E01022163", "E01022164"))
    assert places.places[1].wards == ("Springbank", "E05012345") and places.places[1].district is None
    assert places.places[2].postcodes == ("GL50 3PP",) and places.places[3].postcode_prefixes == ("GL20",)
    assert parse_places({"vintage": 2011, "places": {"Old": {"lsoas": ["E01022100"]}}}).vintage == 2011


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        (
            "places:\n  Both:\n    lsoas: [E01022163]\n    postcodes: [GL50 3PP]\n",
            "exactly one of",
            "places.Both (line 3)",
        ),
        ("places:\n  None:\n    description: nothing\n", "exactly one of", "places.None (line 3)"),
        (
            "places:\n  X:\n    postcodes: [GL50 3PP]\n    district: E07000078\n",
            "'district' only narrows 'wards'",
            "places.X.district (line 4)",
        ),
        ("places:\n  X:\n    wards: Springbank\n", "is not a list", "places.X.wards (line 3)"),
        ("places:\n  X:\n    lsoas: [[E01022163]]\n", "is not a list", "places.X.lsoas (line 3)"),
        ("places:\n  X:\n    lsoa: [E01022163]\n", r"unknown key \['lsoa'\]", "places.X.lsoa (line 3)"),
        (
            "places:\n  X:\n    wards: [a]\n    district: [E07000078]\n",
            "'district' has the wrong type",
            "places.X.district (line 4)",
        ),
        ("vintage: 2001\nplaces:\n  X: {lsoas: [a]}\n", "'vintage' is not a known value", "vintage (line 1)"),
        ("name: x\n", "missing required key 'places'", "(line 1)"),
        ("places: [a, b]\n", "'places' has the wrong type", "places (line 1)"),
        ("places:\n  X: [E01022163]\n", "is not a mapping", "places.X"),
        ("places:\n  '  ': {lsoas: [a]}\n", "a place needs a name", "places"),
        ("colour: red\nplaces:\n  X: {lsoas: [a]}\n", r"unknown key \['colour'\]", "colour (line 1)"),
    ],
)
def test_malformed_places_are_named(tmp_path, text, message, where):
    path = _write(tmp_path, text)
    with pytest.raises(CatalogError, match=message) as info:
        load_places(path)
    assert str(path) in str(info.value) and where in str(info.value), str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="places file not found"):
        load_places(tmp_path / "nope.yml")


def test_places_are_checked_against_the_geography_when_built(tmp_path):
    """Reading checks the shape; building the places checks the names and codes."""
    geography = shipped_place().geography
    bad = load_places(_write(tmp_path, 'places:\n  Nowhere:\n    wards: ["Atlantis"]\n'))
    with pytest.raises(GeographyError, match="unknown ward") as info:
        build_places(bad, geography=geography)
    assert "places.Nowhere" in str(info.value) and "'Atlantis'" in str(info.value)
    other_district = load_places(
        _write(tmp_path, "places:\n  X:\n    wards: [Springbank]\n    district: E07000081\n")
    )
    with pytest.raises(GeographyError, match="unknown ward") as info:
        build_places(other_district, geography=geography)
    assert "in E07000081" in str(info.value)  # Springbank is a Cheltenham ward, not a Gloucester one
    no_prefix = load_places(_write(tmp_path, "places:\n  X:\n    postcode_prefixes: [ZZ9]\n"))
    with pytest.raises(GeographyError, match="no postcode of the directory.* starts with"):
        build_places(no_prefix, geography=geography)
    built = build_places(load_places(CONF / "places.yml"), geography=geography)
    assert set(built.areas["area_name"]) == {
        "West Cheltenham",
        "Gloucester inner city",
        "Cheltenham town centre",
    }
