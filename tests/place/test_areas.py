"""needskit.place.areas: the hand-drawn toy geography first, then the shipped Gloucestershire data."""

from __future__ import annotations

import pandas as pd
import pytest

from needskit.errors import GeographyError
from needskit.place import Geography, hierarchy, infer_level, load_areas, lookup
from needskit.place.areas import check_codes, vintage_hint
from needskit.place.geography import HIERARCHY_COLUMNS

CHELTENHAM = "E07000078"
GLOUCESTERSHIRE = "E10000013"
NORTHTOWN, SHIRE, UNITOWN = "E07000001", "E10000001", "E06000001"


# ------------------------------------------------------------------ the toy geography


def test_hierarchy_is_a_copy_of_the_geographys(toy_geography):
    table = hierarchy(geography=toy_geography)
    assert tuple(table.columns) == HIERARCHY_COLUMNS
    assert len(table) == 12
    table.loc[:, "district"] = "spoilt"
    assert "spoilt" not in set(hierarchy(geography=toy_geography)["district"])
    with pytest.raises(GeographyError, match="unknown vintage"):
        hierarchy(geography=toy_geography, vintage=2001)
    with pytest.raises(GeographyError, match="no 2011 lookups"):
        hierarchy(geography=toy_geography, vintage=2011)


def test_load_areas_within_any_level_or_several(toy_geography):
    assert load_areas("lsoa", geography=toy_geography, within=NORTHTOWN)["area_code"].tolist() == [
        "E01000001",
        "E01000002",
        "E01000003",
        "E01000004",
    ]
    assert len(load_areas("lsoa", geography=toy_geography, within=SHIRE)) == 6
    assert len(load_areas("lsoa", geography=toy_geography, within=[NORTHTOWN, UNITOWN])) == 8
    assert len(load_areas("lsoa", geography=toy_geography, within="E12000009")) == 10
    # a unitary is a district and a county at once
    assert len(load_areas("lsoa", geography=toy_geography, within=UNITOWN)) == 4
    # an area of the same level is "within" itself
    assert load_areas("lsoa", geography=toy_geography, within="E01000005")["area_code"].tolist() == [
        "E01000005"
    ]


def test_load_areas_refuses_levels_that_do_not_nest(toy_geography):
    # MSOAs and wards both nest in districts, not in each other: E02000001 (LSOAs 01-03) is
    # not inside ward E05000002 (LSOAs 03-04), so no MSOA is "within" a ward
    with pytest.raises(GeographyError, match="a msoa is not inside a ward"):
        load_areas("msoa", geography=toy_geography, within="E05000002")
    with pytest.raises(GeographyError, match="a ward is not inside a msoa"):
        load_areas("ward", geography=toy_geography, within="E02000001")
    with pytest.raises(GeographyError, match="a county is not inside a district"):
        load_areas("county", geography=toy_geography, within=NORTHTOWN)


def test_load_areas_errors_name_what_to_do(toy_geography, toy_lsoas):
    with pytest.raises(GeographyError, match="unknown level"):
        load_areas("region", geography=toy_geography)  # region is a level, but has no boundaries
    lsoas_only = Geography(
        hierarchies={2021: toy_geography.hierarchy()}, boundaries={("lsoa", 2021): toy_lsoas}
    )
    with pytest.raises(
        GeographyError, match="no ward boundaries.*reference.boundaries in conf/partnership.yml"
    ):
        load_areas("ward", geography=lsoas_only)
    with pytest.raises(GeographyError, match="is not an area of the lookups"):
        load_areas("lsoa", geography=toy_geography, within="E07999999")
    with pytest.raises(GeographyError, match="has no lsoa boundaries in this geography"):
        load_areas("lsoa", geography=toy_geography, within="W06000001")  # Welsh: in the lookups only


def test_lookup_and_nesting(toy_geography):
    table = lookup("ward", "county", geography=toy_geography)
    assert list(table.columns) == ["ward_code", "county_code", "county_name"]
    assert table.set_index("ward_code")["county_code"].to_dict() == {
        "E05000001": SHIRE,
        "E05000002": SHIRE,
        "E05000003": SHIRE,
        "E05000004": UNITOWN,
        "E05000005": UNITOWN,
        "W05000001": "W06000001",
    }
    with pytest.raises(GeographyError, match="do not nest"):
        lookup("msoa", "ward", geography=toy_geography)
    with pytest.raises(GeographyError, match="up the hierarchy"):
        lookup("county", "county", geography=toy_geography)
    with pytest.raises(GeographyError, match="unknown level"):
        lookup("lsoa", "icb", geography=toy_geography)


def test_infer_level_and_its_errors(toy_geography):
    assert infer_level(["E01000001", "E01000002", None], geography=toy_geography) == "lsoa"
    assert infer_level(pd.Series(["E05000001"]), geography=toy_geography) == "ward"
    assert infer_level([UNITOWN], geography=toy_geography) == "district"  # smallest level first
    assert infer_level([SHIRE, UNITOWN], geography=toy_geography) == "county"
    with pytest.raises(GeographyError, match="not lsoa codes.*'E01999999'"):
        infer_level(["E01000001", "E01999999"], geography=toy_geography)
    with pytest.raises(GeographyError, match="codes that are not lsoa codes.*ONS GSS codes"):
        infer_level(["nonsense"], geography=toy_geography)


def test_check_codes_and_vintage_hints(toy_geography):
    check_codes(pd.Series(["E01000001", "W01000002"]), "lsoa", 2021, geography=toy_geography)
    with pytest.raises(GeographyError, match="has missing area codes"):
        check_codes(pd.Series(["E01000001", None]), "lsoa", 2021, geography=toy_geography)
    with pytest.raises(GeographyError, match="these look like ward codes, not lsoa codes"):
        check_codes(pd.Series(["E05000001"]), "lsoa", 2021, geography=toy_geography)
    assert vintage_hint([], "lsoa", 2021, geography=toy_geography) is None
    assert vintage_hint(["X"], "icb", 2021, geography=toy_geography) is None


# ------------------------------------------------------------------ shipped areas and lookups


def test_shipped_lsoa_counts(shipped_geography):
    geo = shipped_geography
    assert len(load_areas("lsoa", geography=geo, vintage=2011, within=CHELTENHAM)) == 75
    assert len(load_areas("lsoa", geography=geo, vintage=2021, within=CHELTENHAM)) == 77
    assert len(load_areas("lsoa", geography=geo, vintage=2011)) == 373
    assert len(load_areas("lsoa", geography=geo, vintage=2021, within=GLOUCESTERSHIRE)) == 393
    districts = load_areas("district", geography=geo)
    assert districts["area_name"].tolist() == [
        "Cheltenham",
        "Cotswold",
        "Forest of Dean",
        "Gloucester",
        "Stroud",
        "Tewkesbury",
    ]
    assert str(districts.crs) == "EPSG:27700"


def test_every_lsoa_in_exactly_one_district(shipped_geography):
    geo = shipped_geography
    for vintage in (2011, 2021):
        lsoas = load_areas("lsoa", geography=geo, vintage=vintage)
        table = lookup("lsoa", "district", geography=geo, vintage=vintage)
        glos = table[table["lsoa_code"].isin(lsoas["area_code"])]
        assert len(glos) == len(lsoas)
        assert glos["lsoa_code"].is_unique
        assert set(glos["district_code"]) == set(
            load_areas("district", geography=geo, vintage=vintage)["area_code"]
        )


def test_shipped_levels_nest_and_tile(shipped_geography):
    geo = shipped_geography
    lsoas = load_areas("lsoa", geography=geo)
    county = load_areas("county", geography=geo)
    assert len(county) == 1 and county["area_code"].item() == GLOUCESTERSHIRE
    assert lsoas.area.sum() == pytest.approx(county.area.sum(), rel=1e-6)
    for level in ("msoa", "ward", "district"):
        assert load_areas(level, geography=geo).area.sum() == pytest.approx(county.area.sum(), rel=1e-6)
    # 2021 LSOAs were built to the detailed 2011 outline: same county
    assert load_areas("lsoa", geography=geo, vintage=2011).area.sum() == pytest.approx(
        lsoas.area.sum(), rel=1e-9
    )


def test_load_areas_errors(shipped_geography):
    geo = shipped_geography
    with pytest.raises(GeographyError, match="unknown level"):
        load_areas("parish", geography=geo)
    with pytest.raises(GeographyError, match="unknown vintage"):
        load_areas("lsoa", geography=geo, vintage=2015)
    with pytest.raises(GeographyError, match="is not an area of the lookups"):
        load_areas("lsoa", geography=geo, within="E99999999")
    with pytest.raises(GeographyError, match="has no lsoa boundaries in this geography"):
        load_areas("lsoa", geography=geo, within="E07000136")  # Boston, Lincolnshire
    with pytest.raises(GeographyError, match="is not inside"):
        load_areas("county", geography=geo, within=CHELTENHAM)


def test_lookup_shapes_and_errors(shipped_geography):
    geo = shipped_geography
    table = lookup("lsoa", "county", geography=geo)
    assert list(table.columns) == ["lsoa_code", "county_code", "county_name"]
    assert len(table) == 35_672  # England and Wales, 2021
    assert table.loc[table["lsoa_code"] == "E01022100", "county_code"].item() == GLOUCESTERSHIRE
    assert len(lookup("ward", "district", geography=geo)) > 7_000
    with pytest.raises(GeographyError, match="up the hierarchy"):
        lookup("district", "lsoa", geography=geo)
    with pytest.raises(GeographyError, match="do not nest"):
        lookup("msoa", "ward", geography=geo)


def test_vintage_hints_on_the_shipped_geography(shipped_geography):
    geo = shipped_geography
    # a Bristol 2021 LSOA: a real 2021 code outside Gloucestershire's boundaries, not a 2011 code
    hint = vintage_hint(["E01014520"], "lsoa", 2021, geography=geo)
    assert hint is not None and "do not cover them" in hint and "2011" not in hint
    # a Cheltenham 2011 LSOA that was split in 2021 really is a 2011 code
    assert vintage_hint(["E01022158"], "lsoa", 2021, geography=geo) == (
        "these look like 2011 codes: pass vintage=2011 or convert with convert_vintage()"
    )
    assert "2021 codes" in vintage_hint(["E01034777"], "lsoa", 2011, geography=geo)
