"""needskit.place.geography: the Geography class, built from small hand-made frames (no files)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from needskit.errors import GeographyError
from needskit.place import CustomPlaces, Geography
from needskit.place.geography import HIERARCHY_COLUMNS, check_level, check_vintage

CHANGES = pd.DataFrame({"lsoa11_code": ["E01100001"], "lsoa21_code": ["E01000001"], "change_code": ["U"]})
POSTCODES = pd.DataFrame({"postcode_clean": ["AB1 2CD"], "easting": [394_500.0], "northing": [222_500.0]})


class Counting:
    """A part given as a function: counts how often the geography calls it."""

    def __init__(self, value):
        self.value, self.calls = value, 0

    def __call__(self):
        self.calls += 1
        return self.value


@pytest.fixture
def parts(toy_hierarchy, toy_lsoas):
    return {
        "hierarchy": Counting(toy_hierarchy),
        "changes": Counting(CHANGES),
        "lsoas": Counting(toy_lsoas),
        "postcodes": Counting(POSTCODES),
        "population": Counting(pd.Series(100.0, index=toy_lsoas["area_code"])),
    }


@pytest.fixture
def lazy(parts):
    return Geography(
        hierarchies={2021: parts["hierarchy"]},
        changes=parts["changes"],
        boundaries={("lsoa", 2021): parts["lsoas"]},
        postcodes=parts["postcodes"],
        population={2021: parts["population"]},
        sources={"boundaries": "hand-drawn squares"},
    )


def test_check_level_and_vintage():
    assert check_vintage(2011) == 2011 and check_level("ward") == "ward"
    with pytest.raises(
        GeographyError, match="vintage: unknown vintage; expected one of \\[2011, 2021\\]; got '2021'"
    ):
        check_vintage("2021")
    with pytest.raises(GeographyError, match="to: unknown level.*got 'icb'"):
        check_level("icb", allowed=("lsoa", "ward"), argument="to")


def test_a_geography_needs_a_hierarchy_of_a_known_vintage(toy_hierarchy):
    with pytest.raises(GeographyError, match="hierarchies: a geography needs at least one hierarchy"):
        Geography(hierarchies={})
    with pytest.raises(GeographyError, match="unknown vintage.*got 2019"):
        Geography(hierarchies={2019: toy_hierarchy})


def test_what_a_geography_has(lazy):
    assert lazy.vintages == (2021,) and lazy.has_vintage(2021) and not lazy.has_vintage(2011)
    assert lazy.has_boundaries("lsoa", 2021) and not lazy.has_boundaries("ward", 2021)
    assert lazy.boundary_layers == (("lsoa", 2021),) and lazy.has_postcodes()
    assert repr(lazy) == "Geography(vintages=[2021], boundaries=[lsoa_2021])"
    assert lazy.sources == {"boundaries": "hand-drawn squares"}


def test_parts_given_as_functions_are_called_once_on_first_use(lazy, parts):
    assert all(part.calls == 0 for part in parts.values())  # nothing read when built
    for _ in range(3):
        lazy.hierarchy()
        lazy.hierarchy(copy=False)
        lazy.changes()
        lazy.boundaries("lsoa")
        lazy.postcodes()
        lazy.population(2021)
        lazy.levels_of("E05000001")
        lazy.lsoas_within(["E07000001"])
    assert {name: part.calls for name, part in parts.items()} == dict.fromkeys(parts, 1)


def test_accessors_return_copies(lazy):
    table, changes, postcodes = lazy.hierarchy(), lazy.changes(), lazy.postcodes()
    table.loc[:, "district"] = "spoilt"
    changes.loc[:, "change_code"] = "X"
    postcodes.loc[:, "easting"] = 0.0
    population = lazy.population(2021)
    population[:] = 0.0
    lsoas = lazy.boundaries("lsoa")
    lsoas.loc[:, "area_name"] = "spoilt"
    lsoas.geometry = lsoas.geometry.translate(1e5)
    within = lazy.lsoas_within(["E07000001"])
    within.loc[:, "lsoa"] = "spoilt"
    assert "spoilt" not in set(lazy.hierarchy()["district"]) and "spoilt" not in set(lazy.hierarchy()["lsoa"])
    assert lazy.changes()["change_code"].tolist() == ["U"]
    assert lazy.postcodes()["easting"].tolist() == [394_500.0]
    assert (lazy.population(2021) == 100.0).all()
    assert "spoilt" not in set(lazy.boundaries("lsoa")["area_name"])
    assert lazy.boundaries("lsoa").total_bounds[0] == 394_000
    # copy=False hands out the geography's own frame, for read-only use
    assert lazy.hierarchy(copy=False) is lazy.hierarchy(copy=False)
    assert lazy.hierarchy() is not lazy.hierarchy(copy=False)


def test_missing_parts_name_the_key_to_set(toy_hierarchy):
    bare = Geography(hierarchies={2021: toy_hierarchy})
    with pytest.raises(GeographyError, match="no 2011 lookups.*reference.lookups in conf/partnership.yml"):
        bare.hierarchy(2011)
    with pytest.raises(
        GeographyError,
        match="no lsoa boundaries of the 2021 geography.*reference.boundaries in conf/partnership.yml",
    ):
        bare.boundaries("lsoa")
    with pytest.raises(
        GeographyError, match="no LSOA change lookup.*reference.lsoa_changes in conf/partnership.yml"
    ):
        bare.changes()
    assert not bare.has_postcodes()
    with pytest.raises(
        GeographyError, match="no postcode directory.*reference.postcodes in conf/partnership.yml"
    ):
        bare.postcodes()
    with pytest.raises(
        GeographyError, match="no 2021 LSOA populations.*reference.population in conf/partnership.yml"
    ):
        bare.population(2021)
    # the geography's builder may say how to supply what is missing
    waiting = Geography(hierarchies={2021: toy_hierarchy}, hints={"postcodes": "drop a file into pc/"})
    assert not waiting.has_postcodes() and waiting.hints == {"postcodes": "drop a file into pc/"}
    with pytest.raises(
        GeographyError, match=r"no postcode directory.*Code-Point Open.*\(hint: drop a file into pc/\)$"
    ):
        waiting.postcodes()
    with pytest.raises(GeographyError, match="unknown vintage"):
        bare.hierarchy(2015)


def test_parts_that_are_not_what_they_should_be(toy_hierarchy, toy_lsoas):
    with pytest.raises(GeographyError, match="hierarchy 2021: is not a hierarchy table"):
        Geography(hierarchies={2021: lambda: toy_hierarchy.drop(columns="lsoa")}).hierarchy()
    with pytest.raises(GeographyError, match="is not a hierarchy table"):
        Geography(hierarchies={2021: "lookups.csv"}).hierarchy()
    with pytest.raises(
        GeographyError, match="boundaries lsoa 2021: is not a GeoDataFrame with an 'area_code' column"
    ):
        Geography(
            hierarchies={2021: toy_hierarchy}, boundaries={("lsoa", 2021): pd.DataFrame(toy_lsoas)}
        ).boundaries("lsoa")
    with pytest.raises(GeographyError, match="boundaries lsoa 2021: has no CRS"):
        no_crs = toy_lsoas.set_crs(None, allow_override=True)
        Geography(hierarchies={2021: toy_hierarchy}, boundaries={("lsoa", 2021): no_crs}).boundaries("lsoa")


def test_boundaries_are_held_in_british_national_grid_sorted_and_named(toy_hierarchy, toy_lsoas):
    shuffled = toy_lsoas.iloc[::-1].drop(columns="area_name").to_crs(4326)
    geography = Geography(hierarchies={2021: toy_hierarchy}, boundaries={("lsoa", 2021): shuffled})
    lsoas = geography.boundaries("lsoa")
    assert isinstance(lsoas, gpd.GeoDataFrame) and lsoas.crs.to_epsg() == 27700
    assert lsoas["area_code"].tolist() == sorted(toy_lsoas["area_code"])
    assert lsoas["area_name"].tolist() == lsoas["area_code"].tolist()  # names default to codes
    assert lsoas.area.sum() == pytest.approx(10e6, rel=1e-3)


def test_levels_of_and_lsoas_within(toy_geography, toy_hierarchy):
    assert toy_geography.levels_of("E06000001") == ["district", "county"]  # a unitary
    assert toy_geography.levels_of("E92000001") == ["country"]
    assert toy_geography.levels_of("E99999999") == []
    within = toy_geography.lsoas_within(["E07000002", "E05000004"])
    assert within["lsoa"].tolist() == ["E01000005", "E01000006", "E01000007", "E01000008"]
    assert list(within.columns) == list(HIERARCHY_COLUMNS)
    with pytest.raises(GeographyError, match="area 'E99999999': is not an area of the lookups"):
        toy_geography.lsoas_within(["E07000002", "E99999999"])
    # area types (ICB, police force area, community safety partnership) are codes too
    typed = Geography(hierarchies={2021: toy_hierarchy.assign(pfa="E23000001", pfa_name="A force")})
    assert typed.levels_of("E23000001") == ["pfa"]
    assert len(typed.lsoas_within(["E23000001"])) == len(toy_hierarchy)


def test_custom_places_repr(toy_lsoas):
    places = CustomPlaces(
        "patches", toy_lsoas.iloc[:2], pd.DataFrame(columns=["lsoa_code", "area_code", "weight"])
    )
    assert repr(places) == "CustomPlaces('patches', 2 places, vintage=2021)"
