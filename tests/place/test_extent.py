"""needskit.place.extent: a partnership's area and chapters (toy geography, squares, shipped example)."""

from __future__ import annotations

import pandas as pd
import pytest

from needskit.config.partnership import parse_partnership
from needskit.errors import GeographyError
from needskit.place import Geography
from needskit.place.extent import PartnershipArea, resolve_area
from needskit.place.geography import LEVELS

SHIRE, NORTHTOWN, SOUTHTOWN, UNITOWN = "E10000001", "E07000001", "E07000002", "E06000001"
SOURCE = "conf/partnership.yml"


def _partnership(area, **extra):
    return parse_partnership({"name": "Toy Partnership", "area": area, **extra}, source=SOURCE)


# ------------------------------------------------------------------ derived chapters


@pytest.mark.parametrize(
    ("area", "level", "chapters"),
    [
        ([SHIRE], "district", (NORTHTOWN, SOUTHTOWN)),  # the districts of a county
        ([NORTHTOWN], "ward", ("E05000001", "E05000002")),  # the wards of a single district
        ([UNITOWN], "ward", ("E05000004", "E05000005")),  # the wards of a single unitary
        ([SHIRE, UNITOWN], "county", (UNITOWN, SHIRE)),  # the unitaries and counties of several
        ([NORTHTOWN, SOUTHTOWN], "district", (NORTHTOWN, SOUTHTOWN)),  # several districts of one county
        (["E05000001", "E05000002"], "ward", ("E05000001", "E05000002")),  # two wards
    ],
)
def test_default_chapters_are_the_next_level_down_with_two_units(toy_geography, area, level, chapters):
    resolved = resolve_area(_partnership(area), toy_geography)
    assert (resolved.chapter_level, resolved.chapters) == (level, chapters)


def test_no_level_divides_a_single_neighbourhood(toy_geography):
    with pytest.raises(GeographyError, match=f"{SOURCE}: area: no level divides the area.*name the chapters"):
        resolve_area(_partnership(["E01000001"]), toy_geography)


# ------------------------------------------------------------------ given chapters


def test_chapters_given_as_a_level(toy_geography):
    resolved = resolve_area(_partnership([SHIRE], chapters="msoa"), toy_geography)
    assert resolved.chapter_level == "msoa"
    assert resolved.chapters == ("E02000001", "E02000002", "E02000003")


def test_chapters_given_as_codes(toy_geography):
    resolved = resolve_area(_partnership([SHIRE], chapters=["E05000003", "E05000001"]), toy_geography)
    assert (resolved.chapter_level, resolved.chapters) == (
        "ward",
        ("E05000003", "E05000001"),
    )  # in the order given
    # a unitary is a district and a county at once: districts and a unitary are chapters of one level
    mixed = resolve_area(
        _partnership([SHIRE, UNITOWN], chapters=[NORTHTOWN, SOUTHTOWN, UNITOWN]), toy_geography
    )
    assert (mixed.chapter_level, mixed.chapters) == ("district", (NORTHTOWN, SOUTHTOWN, UNITOWN))
    unitary = resolve_area(_partnership([SHIRE, UNITOWN], chapters=[UNITOWN]), toy_geography)
    assert unitary.chapter_level == "county"


def test_chapter_errors(toy_geography):
    with pytest.raises(
        GeographyError, match=f"{SOURCE}: chapters 'E05000004': is not inside the partnership's area"
    ):
        resolve_area(_partnership([NORTHTOWN], chapters=["E05000001", "E05000004"]), toy_geography)
    with pytest.raises(GeographyError, match="is not inside the partnership's area.*'E05999999'"):
        resolve_area(_partnership([NORTHTOWN], chapters=["E05999999"]), toy_geography)
    with pytest.raises(GeographyError, match=f"{SOURCE}: chapters: mixes levels.*'district', 'ward'"):
        resolve_area(_partnership([SHIRE], chapters=[NORTHTOWN, "E05000003"]), toy_geography)
    with pytest.raises(GeographyError, match=f"{SOURCE}: chapters: names no chapters"):
        resolve_area(_partnership([SHIRE], chapters=[]), toy_geography)


def test_unknown_area_codes(toy_geography):
    with pytest.raises(GeographyError, match="area 'E10999999': is not an area of the lookups"):
        resolve_area(_partnership([SHIRE, "E10999999"]), toy_geography)
    with pytest.raises(
        GeographyError, match=r"areas \['E10999998', 'E10999999'\]: is not an area of the lookups"
    ):
        resolve_area(_partnership(["E10999998", "E10999999"]), toy_geography)


# ------------------------------------------------------------------ what the area holds


def test_the_area_holds_its_lsoas_names_and_regions(toy_geography):
    area = resolve_area(_partnership([SHIRE, UNITOWN]), toy_geography)
    assert isinstance(area, PartnershipArea)
    assert area.name == "Toy Partnership" and area.area_name == "Shire and Unitown"
    assert area.codes == (SHIRE, UNITOWN) and area.vintage == 2021 and area.regions == ("E12000009",)
    assert area.lsoas() == {f"E010000{k:02d}" for k in range(1, 11)}
    assert area.lsoas(2011) == set()  # the toy geography has no 2011 lookups
    assert area.codes_at("district") == {NORTHTOWN, SOUTHTOWN, UNITOWN}
    assert area.hierarchy["lsoa"].is_monotonic_increasing
    names = area.names()
    assert (
        names[NORTHTOWN] == "Northtown"
        and names["E05000004"] == "Uni One"
        and names["E92000001"] == "England"
    )
    assert area.describe() == {
        "name": "Toy Partnership",
        "area_name": "Shire and Unitown",
        "codes": [SHIRE, UNITOWN],
        "vintage": 2021,
        "chapter_level": "county",
        "chapters": [UNITOWN, SHIRE],
        "regions": ["E12000009"],
        "lsoas": 10,
    }
    with pytest.raises(GeographyError, match="unknown level"):
        area.codes_at("parish")
    named = resolve_area(_partnership([SHIRE], area_name="The Shire"), toy_geography)
    assert named.area_name == "The Shire"


def test_lsoas_of_the_other_vintage(toy_hierarchy):
    old = toy_hierarchy.assign(lsoa=toy_hierarchy["lsoa"].str.replace("E010", "E011"))
    changes = pd.DataFrame(
        {
            "lsoa11_code": ["E01100001", "E01100002"],
            "lsoa21_code": ["E01000001", "E01000010"],
            "change_code": "U",
        }
    )
    with_changes = Geography(hierarchies={2021: toy_hierarchy, 2011: old}, changes=changes)
    area = resolve_area(_partnership([NORTHTOWN]), with_changes)
    assert area.lsoas(2011) == {"E01100001"}  # through the change lookup
    without_changes = Geography(hierarchies={2021: toy_hierarchy, 2011: old})
    area = resolve_area(_partnership([NORTHTOWN]), without_changes)
    assert area.lsoas(2011) == {
        "E01100001",
        "E01100002",
        "E01100003",
        "E01100004",
    }  # through the 2011 lookups


def test_area_types_define_an_area(toy_hierarchy):
    table = toy_hierarchy.assign(icb=["E54000001"] * 4 + ["E54000002"] * 8, icb_name="An ICB")
    area = resolve_area(_partnership(["E54000001"]), Geography(hierarchies={2021: table}))
    assert area.area_name == "An ICB" and area.lsoas() == {"E01000001", "E01000002", "E01000003", "E01000004"}
    assert (area.chapter_level, area.chapters) == ("ward", ("E05000001", "E05000002"))


# ------------------------------------------------------------------ the squares and the shipped example


def test_squares_partnership_area(squares_partnership, squares_geography):
    area = resolve_area(squares_partnership, squares_geography)
    assert area.area_name == "Squareshire"
    assert area.lsoas() == {"E01999901", "E01999902", "E01999903", "E01999904"}
    assert (area.chapter_level, area.chapters) == ("ward", ("E05999901", "E05999902"))
    assert area.lsoas(2011) == set()  # the squares geography has 2021 lookups only


def test_shipped_partnership_area(shipped_partnership, shipped_geography):
    area = resolve_area(shipped_partnership, shipped_geography)
    assert area.area_name == "Gloucestershire" and area.codes == ("E10000013",)
    assert len(area.lsoas()) == 393 and len(area.lsoas(2011)) == 373
    assert area.chapter_level == "district"
    assert area.chapters == ("E07000078", "E07000079", "E07000080", "E07000081", "E07000082", "E07000083")
    assert area.regions == ("E12000009",)
    assert set(area.hierarchy.columns) >= {f"{level}_name" for level in LEVELS}
    assert area.names()["E07000078"] == "Cheltenham"
