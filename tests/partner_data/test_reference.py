"""needskit.partner_data.reference: tiny ONS-style files, then the squares project and the shipped example."""

from __future__ import annotations

import shutil
import textwrap
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from needskit.config import load_catalog, load_partnership
from needskit.config.project import project_dir
from needskit.errors import CatalogError, DataError, GeographyError
from needskit.partner_data import reference
from needskit.partner_data.reference import (
    load_geography,
    read_area_layers,
    read_lsoa_changes,
    read_ons_lookups,
)
from needskit.place import geocode_postcodes, load_areas
from needskit.place.geography import HIERARCHY_COLUMNS, LEVELS
from squares import use_postcode_tables, write_squares_project

CHELTENHAM, GLOUCESTERSHIRE = "E07000078", "E10000013"


def _csv(path, columns, rows, *, encoding="utf-8"):
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False, encoding=encoding)
    return path


# ------------------------------------------------------------------ tiny ONS lookups
#
#   E01000001, E01000002 -> ward E05000001 -> district E07000001 (Northtown) -> county E10000001 (Shire)
#   E01000003            -> ward E05000002 -> district E07000002 (Southtown) -> county E10000001 (Shire)
#   E01000004            -> ward E05000003 -> unitary E06000001 (Unitown)
#   W01000001            -> ward W05000001 -> principal area W06000001 (Cymtown), in Wales


@pytest.fixture
def lookups(tmp_path):
    """Five lookup files in the column styles ONS publishes (snake case and ONS originals, other years)."""
    return {
        "ward": _csv(
            tmp_path / "lookup_lsoa21_ward24_ltla24.csv",
            ["lsoa21_code", "lsoa21_name", "ward24_code", "ward24_name", "ltla24_code", "ltla24_name"],
            [
                ("E01000001", "Northtown 001A", "E05000001", "North Ward", "E07000001", "Northtown"),
                ("E01000002", "Northtown 001B", "E05000001", "North Ward", "E07000001", "Northtown"),
                ("E01000003", "Southtown 001A", "E05000002", "South Ward", "E07000002", "Southtown"),
                ("E01000004", "Unitown 001A", "E05000003", "Uni Ward", "E06000001", "Unitown"),
                ("W01000001", "Cymtown 001A", "W05000001", "Cym Ward", "W06000001", "Cymtown"),
            ],
        ),
        "msoa": _csv(  # ONS originals, a Welsh-name column and an ObjectId that are not levels; a BOM
            tmp_path / "LSOA21_MSOA21.csv",
            ["LSOA21CD", "LSOA21NM", "LSOA21NMW", "MSOA21CD", "MSOA21NM", "ObjectId"],
            [
                ("E01000001", "Northtown 001A", "", "E02000001", "Northtown 001", 1),
                ("E01000002", "Northtown 001B", "", "E02000001", "Northtown 001", 2),
                ("E01000003", "Southtown 001A", "", "E02000002", "Southtown 001", 3),
                ("E01000004", "Unitown 001A", "", "E02000003", "Unitown 001", 4),
                ("W01000001", "Cymtown 001A", "Cymdref 001A", "W02000001", "Cymtown 001", 5),
            ],
            encoding="utf-8-sig",
        ),
        "county": _csv(  # another year (2023) than the districts of the ward lookup (2024)
            tmp_path / "LTLA23_UTLA23.csv",
            ["LTLA23CD", "LTLA23NM", "UTLA23CD", "UTLA23NM"],
            [
                ("E07000001", "Northtown", "E10000001", "Shire"),
                ("E07000002", "Southtown", "E10000001", "Shire"),
                ("E06000001", "Unitown", "E06000001", "Unitown"),
                ("E07000099", "Elsewhere", "E10000099", "Far Shire"),
            ],
        ),
        "region": _csv(
            tmp_path / "LAD24_RGN24.csv",
            ["LAD24CD", "LAD24NM", "RGN24CD", "RGN24NM"],
            [
                (d, n, "E12000009", "South West")
                for d, n in (("E07000001", "Northtown"), ("E07000002", "Southtown"), ("E06000001", "Unitown"))
            ],
        ),
        "icb": _csv(  # an area type; SICBL is not a level needskit knows
            tmp_path / "lsoa21_icb24.csv",
            ["lsoa21_code", "sicbl24_code", "icb24_code", "icb24_name"],
            [(f"E0100000{k}", "E38000001", "E54000001", "An ICB") for k in range(1, 5)],
        ),
    }


def test_read_ons_lookups_joins_files_on_the_levels_they_share(lookups):
    table = read_ons_lookups(list(lookups.values()), vintage=2021)
    assert list(table.columns) == list(HIERARCHY_COLUMNS) + ["icb", "icb_name"]
    assert all(pd.api.types.is_object_dtype(t) for t in table.dtypes)
    # lsoa, msoa, ward, district, county, region, country, icb
    expected = pd.DataFrame(
        [
            "E01000001 E02000001 E05000001 E07000001 E10000001 E12000009 E92000001 E54000001".split(),
            "E01000002 E02000001 E05000001 E07000001 E10000001 E12000009 E92000001 E54000001".split(),
            "E01000003 E02000002 E05000002 E07000002 E10000001 E12000009 E92000001 E54000001".split(),
            "E01000004 E02000003 E05000003 E06000001 E06000001 E12000009 E92000001 E54000001".split(),
            "W01000001 W02000001 W05000001 W06000001 W06000001 W92000004 W92000004".split() + [np.nan],
        ],
        columns=[*LEVELS, "icb"],
        dtype=object,
    )
    pd.testing.assert_frame_equal(table[[*LEVELS, "icb"]], expected)
    names = table.set_index("lsoa")
    southtown = ["lsoa_name", "msoa_name", "ward_name", "district_name", "county_name"]
    assert names.loc["E01000003", southtown].tolist() == [
        "Southtown 001A",
        "Southtown 001",
        "South Ward",
        "Southtown",
        "Shire",
    ]
    above = ["county_name", "region_name", "country_name"]
    assert names.loc["E01000004", above].tolist() == ["Unitown", "South West", "England"]
    # Welsh principal areas are unitary (county = district); Wales has no English region
    assert names.loc["W01000001", above].tolist() == ["Cymtown", "Wales", "Wales"]
    # the order of the files does not matter: the LSOA file with most levels comes first
    again = read_ons_lookups(list(lookups.values())[::-1], vintage=2021)
    pd.testing.assert_frame_equal(again[table.columns], table)


def test_read_ons_lookups_fills_names_from_a_later_file(tmp_path):
    # 2011 style: a ward lookup without names, and a newer ward -> district lookup with them
    wards = _csv(
        tmp_path / "lsoa11_ward17.csv",
        ["lsoa11_code", "ward17_code"],
        [("E01100001", "E05000001"), ("E01100002", "E05000009")],
    )
    lsoas = _csv(
        tmp_path / "lsoa11_ltla21.csv",
        ["lsoa11_code", "lsoa11_name", "ltla21_code", "ltla21_name"],
        [
            ("E01100001", "Northtown 001A", "E07000001", "Northtown"),
            ("E01100002", "Northtown 001B", "E07000001", "Northtown"),
        ],
    )
    names = _csv(
        tmp_path / "ward21_ltla21.csv",
        ["WD21CD", "WD21NM", "LAD21CD"],
        [("E05000001", "North Ward", "E07000001")],
    )
    table = read_ons_lookups([wards, lsoas, names], vintage=2011).set_index("lsoa")
    assert table["ward"].tolist() == ["E05000001", "E05000009"]
    assert table["ward_name"].tolist() == [
        "North Ward",
        "Ward E05000009",
    ]  # a ward without a name is named by its code
    assert table["msoa"].isna().all() and table["country"].tolist() == ["E92000001"] * 2


def test_read_ons_lookups_errors(tmp_path, lookups):
    with pytest.raises(DataError, match="lookups: no lookup files"):
        read_ons_lookups([], vintage=2021)
    with pytest.raises(
        DataError, match="reference.x: no lookup is keyed by LSOA; expected a file with an lsoa11_code column"
    ):
        read_ons_lookups([lookups["county"]], vintage=2011, where="reference.x")
    forces = _csv(tmp_path / "csp_pfa.csv", ["csp24_code", "pfa24_code"], [("E22000001", "E23000001")])
    with pytest.raises(DataError, match="csp_pfa.csv: shares no level with the other lookups"):
        read_ons_lookups([lookups["ward"], forces], vintage=2021)
    repeated = _csv(
        tmp_path / "not_best_fit.csv",
        ["lsoa21_code", "ward24_code", "ltla24_code"],
        [
            ("E01000001", "E05000001", "E07000001"),
            ("E01000001", "E05000002", "E07000001"),
            ("E01000002", "E05000001", "E07000001"),
        ],
    )
    with pytest.raises(DataError, match="not_best_fit.csv: repeats LSOA codes.*1 repeats"):
        read_ons_lookups([repeated], vintage=2021)
    # a repeated LSOA in any LSOA-keyed file, not only in the first one
    msoas = _csv(
        tmp_path / "msoa_not_best_fit.csv",
        ["lsoa21_code", "msoa21_code"],
        [("E01000001", "E02000001"), ("E01000001", "E02000002")],
    )
    with pytest.raises(DataError, match="msoa_not_best_fit.csv: repeats LSOA codes"):
        read_ons_lookups([lookups["ward"], msoas], vintage=2021)
    plain = _csv(tmp_path / "plain.csv", ["code", "name"], [("E01000001", "x")])
    with pytest.raises(DataError, match="plain.csv: has no ONS code columns.*columns \\['code', 'name'\\]"):
        read_ons_lookups([plain], vintage=2021)
    with pytest.raises(DataError, match="missing.csv: lookup file is missing"):
        read_ons_lookups([tmp_path / "missing.csv"], vintage=2021)
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("lsoa21_code,lsoa21_name\nE01000001,Ynys M\xf4n\n".encode("latin-1"))
    with pytest.raises(DataError, match="latin1.csv: is not a readable CSV lookup.*UnicodeDecodeError"):
        read_ons_lookups([latin], vintage=2021)


# ------------------------------------------------------------------ the LSOA change lookup


def test_read_lsoa_changes_in_either_style(tmp_path):
    snake = _csv(
        tmp_path / "snake.csv",
        ["lsoa11_code", "lsoa21_code", "change_code"],
        [("E01100001", "E01000001", "U")],
    )
    ons = _csv(
        tmp_path / "ons.csv",
        ["LSOA11CD", "LSOA11NM", "LSOA21CD", "LSOA21NM", "CHGIND", "LAD22CD", "ObjectId"],
        [
            ("E01100002", "a", "E01000002", "b", "S", "E07000001", 1),
            ("E01100002", "a", "E01000003", "c", "S", "E07000001", 2),
        ],
        encoding="utf-8-sig",
    )
    assert read_lsoa_changes(snake).values.tolist() == [["E01100001", "E01000001", "U"]]
    changes = read_lsoa_changes(ons)
    assert list(changes.columns) == ["lsoa11_code", "lsoa21_code", "change_code"]
    assert changes.values.tolist() == [["E01100002", "E01000002", "S"], ["E01100002", "E01000003", "S"]]
    wrong = _csv(tmp_path / "wrong.csv", ["LSOA11CD", "LSOA21CD"], [("E01100001", "E01000001")])
    with pytest.raises(DataError, match="wrong.csv: is not the ONS LSOA 2011 to 2021 lookup.*CHGIND"):
        read_lsoa_changes(wrong)
    with pytest.raises(DataError, match="lookup file is missing"):
        read_lsoa_changes(tmp_path / "missing.csv")


# ------------------------------------------------------------------ boundary layers


def _layer(path, layer, codes, **columns):
    frame = gpd.GeoDataFrame(
        {"area_code": codes, **columns},
        geometry=[box(i, 0, i + 1, 1) for i in range(len(codes))],
        crs="EPSG:27700",
    )
    frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")


def test_read_area_layers_reads_each_layer_on_first_use(tmp_path, monkeypatch):
    path = tmp_path / "areas.gpkg"
    _layer(path, "lsoa_2021", ["E01000002", "E01000001"], area_name=["B", "A"])
    _layer(path, "ward_2011", ["E05000001"])
    _layer(path, "parish_2021", ["E04000001"])  # not a level
    _layer(path, "lsoa_2015", ["E01000001"])  # not a vintage
    _layer(path, "notes", ["x"])  # not <level>_<vintage>
    reads = []
    read = reference.pyogrio.read_dataframe
    monkeypatch.setattr(
        reference.pyogrio, "read_dataframe", lambda *a, **k: reads.append(k["layer"]) or read(*a, **k)
    )
    loaders = read_area_layers(path)
    assert sorted(loaders) == [("lsoa", 2021), ("ward", 2011)]
    assert reads == []  # nothing read yet
    lsoas = loaders[("lsoa", 2021)]()
    assert reads == ["lsoa_2021"] and lsoas["area_code"].tolist() == ["E01000002", "E01000001"]
    assert lsoas.crs.to_epsg() == 27700


def test_read_area_layers_errors(tmp_path):
    path = tmp_path / "areas.gpkg"
    gpd.GeoDataFrame({"code": ["E01000001"]}, geometry=[box(0, 0, 1, 1)], crs=27700).to_file(
        path, layer="lsoa_2021", engine="pyogrio"
    )
    loaders = read_area_layers(path)
    with pytest.raises(DataError, match="areas.gpkg layer lsoa_2021: layer has no area_code column"):
        loaders[("lsoa", 2021)]()
    other = tmp_path / "other.gpkg"
    _layer(other, "notes", ["x"])
    with pytest.raises(DataError, match="other.gpkg: has no boundary layers.*lsoa_2021"):
        read_area_layers(other)
    with pytest.raises(DataError, match="none.gpkg: boundaries file is missing"):
        read_area_layers(tmp_path / "none.gpkg")


# ------------------------------------------------------------------ load_geography on the squares project


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def _load(root):
    return load_geography(
        load_catalog(root / "conf" / "catalog.yml"), load_partnership(root / "conf" / "partnership.yml")
    )


@pytest.fixture
def squares_root(tmp_path):
    return write_squares_project(tmp_path)


def test_load_geography_of_the_squares_project(squares_root):
    geography = _load(squares_root)
    assert geography.vintages == (2021,)
    assert geography.sources == {
        "lookups_2021": "lookups",
        "lsoa_changes": "changes",
        "boundaries": "Squares boundaries",
        "postcodes": "postcodes",
        "population_2021": "residents",
    }
    table = geography.hierarchy()
    assert table["lsoa"].tolist() == ["E01999901", "E01999902", "E01999903", "E01999904", "E01999905"]
    assert set(table.loc[table["lsoa"] != "E01999905", "ward_name"]) == {"West Ward", "East Ward"}
    assert geography.boundary_layers == (
        ("county", 2021),
        ("district", 2021),
        ("lsoa", 2021),
        ("msoa", 2021),
        ("ward", 2021),
    )
    assert len(load_areas("lsoa", geography=geography, within="E10999901")) == 4
    assert set(geography.changes()["change_code"]) == {"U"}
    postcodes = geography.postcodes()
    assert len(postcodes) == 21 and postcodes.set_index("postcode_clean").loc["SQ9 9ZZ", "easting"] == 397_500
    residents = (
        pd.read_csv(squares_root / "data/raw/population/residents.csv")
        .groupby("lsoa21_code")["usual_residents"]
        .sum()
    )
    pd.testing.assert_series_equal(geography.population(2021), residents.astype(float), check_names=False)


def test_load_geography_reads_nothing_until_asked(squares_root):
    geography = _load(squares_root)
    (squares_root / "data/raw/lookups/squares_lookup.csv").unlink()
    (squares_root / "data/raw/lookups/lsoa_changes.csv").unlink()
    with pytest.raises(DataError, match="reference.lookups: no lookup files"):
        geography.hierarchy()
    with pytest.raises(DataError, match="reference.changes: needs exactly one file.*0 files"):
        geography.changes()


def test_load_geography_first_boundaries_win(squares_root):
    extra = squares_root / "data/raw/boundaries/extra.gpkg"
    gpd.GeoDataFrame(
        {"area_code": ["E01999901", "E01999906"], "area_name": ["Not A", "F"]},
        geometry=[box(0, 0, 10, 10), box(394_000, 224_000, 395_000, 225_000)],
        crs="EPSG:27700",
    ).to_crs(4326).to_file(extra, layer="lsoa_2021", engine="pyogrio")
    entry = """\
      extra:
        title: Extra boundaries
        format: area_layers
        path: data/raw/boundaries/extra.gpkg
        publisher: tests
        licence: MIT
    """
    _edit(
        squares_root / "conf/catalog.yml",
        "  squares:\n",
        textwrap.indent(textwrap.dedent(entry), "  ") + "  squares:\n",
    )
    _edit(squares_root / "conf/partnership.yml", "boundaries: [squares]", "boundaries: [squares, extra]")
    geography = _load(squares_root)
    assert geography.sources["boundaries"] == "Squares boundaries, Extra boundaries"
    lsoas = geography.boundaries("lsoa").set_index("area_code")
    assert lsoas.index.tolist() == [f"E0199990{k}" for k in range(1, 7)]
    assert lsoas.loc["E01999901", "area_name"] == "Squareton 00A"  # the first entry wins
    assert lsoas.loc["E01999906"].geometry.area == pytest.approx(1e6, rel=1e-3)  # reprojected to BNG
    assert geography.boundary_layers[0] == ("county", 2021)


def test_load_geography_postcodes_in_lonlat_keep_missing_coordinates_missing(squares_root):
    pcs = pd.DataFrame(
        {
            "pcds": ["SQ1 0AA", "sq1 1aa", "SQ1 2AA", "not one"],
            "long": [-2.0778, -2.0770, None, -2.0],
            "lat": [51.8994, 51.8990, None, 51.9],
        }
    )
    pcs.to_csv(squares_root / "data/raw/postcodes/lonlat.csv", index=False)
    entry = """\
      lonlat:
        title: Postcodes in lon/lat
        partner: ONS
        theme: cross_cutting
        role: context
        path: data/raw/postcodes/lonlat.csv
        format: csv
        geography: {kind: points, x: long, y: lat, crs: "EPSG:4326"}
        period: "2025"
        record_id: pcds
        measures: [{name: postcodes, count: rows}]
    """
    _edit(
        squares_root / "conf/catalog.yml",
        "  services:\n",
        textwrap.indent(textwrap.dedent(entry), "  ") + "  services:\n",
    )
    _edit(squares_root / "conf/partnership.yml", "postcodes: postcodes", "postcodes: lonlat")
    geography = _load(squares_root)
    directory = geography.postcodes().set_index("postcode_clean")
    assert directory.index.tolist() == ["SQ1 0AA", "SQ1 1AA", "SQ1 2AA"]  # normalised; not postcodes dropped
    assert directory.loc["SQ1 0AA", "easting"] == pytest.approx(394_700, abs=500)
    assert np.isnan(directory.loc["SQ1 2AA", "easting"]) and np.isnan(directory.loc["SQ1 2AA", "northing"])
    out = geocode_postcodes(
        pd.DataFrame({"pc": ["SQ1 0AA", "SQ1 2AA"]}), postcode_col="pc", geography=geography
    )
    assert out["postcode_status"].tolist() == ["found", "no_coordinates"]


# ------------------------------------------------------------------ postcode tables dropped into a folder


def test_load_geography_reads_the_postcode_tables_of_a_folder(squares_root):
    by_dataset = _load(squares_root).postcodes()
    folder = use_postcode_tables(squares_root)
    # a Code-Point Open zip dropped beside the ONSPD-style file: its new postcode is added, and
    # the ONSPD-style file (first in name order) wins where both have a postcode
    with zipfile.ZipFile(folder / "z_codepo_gb.zip", "w") as archive:
        archive.writestr(
            "Data/CSV/sq.csv",
            '"SQ1 0AA",10,1,1,"E92000001","","","","",""\n'
            'SQ88XX,10,394900,222900,"E92000001","","","","",""\n',
        )
    (folder / "sub").mkdir()  # folders the glob matches are not tables
    geography = _load(squares_root)
    assert geography.sources["postcodes"] == "postcode_tables" and geography.has_postcodes()
    directory = geography.postcodes()
    assert len(directory) == len(by_dataset) + 1
    pd.testing.assert_frame_equal(
        directory.iloc[:-1][["postcode_clean", "easting", "northing"]],
        by_dataset.astype({"easting": float, "northing": float}),
        check_dtype=False,
    )
    assert directory.iloc[-1][["postcode_clean", "easting", "northing"]].tolist() == [
        "SQ8 8XX",
        394_900,
        222_900,
    ]
    assert directory["source"].iloc[0] == str(folder / "postcodes.csv")
    assert directory["source"].iloc[-1] == f"{folder / 'z_codepo_gb.zip'}:Data/CSV/sq.csv"
    out = geocode_postcodes(
        pd.DataFrame({"pc": ["sq10aa", "SQ8 8XX"]}), postcode_col="pc", geography=geography
    )
    assert out["easting"].tolist() == [394_150.0, 394_900.0]


def test_an_empty_postcode_folder_means_no_postcode_directory(squares_root):
    folder = use_postcode_tables(squares_root, keep_dataset_file=False)
    assert not any(folder.iterdir())
    geography = _load(squares_root)
    assert not geography.has_postcodes() and "postcodes" not in geography.sources
    with pytest.raises(
        GeographyError,
        match=r"no postcode directory in this geography.*hint: drop a postcode file "
        r"\(ONS Postcode Directory, NSPL or OS Code-Point Open; CSV, .gz or .zip\) "
        r"into data/raw/postcodes/: reference entry "
        r"'postcode_tables' matches no file yet",
    ):
        geography.postcodes()
    # as soon as a file is there, the next geography has it
    shutil.copy(squares_root / "data/raw/lookups/squares_postcodes.csv", folder / "onspd.csv")
    assert _load(squares_root).has_postcodes()


def test_a_postcode_table_of_an_unknown_format_is_named_when_first_used(squares_root):
    folder = use_postcode_tables(squares_root)
    (folder / "README.md").write_text("Postcodes go here\n", encoding="utf-8")
    assert len(_load(squares_root).postcodes())  # a drop folder's README is not a table
    (folder / "notes.txt").write_text("Postcodes go here\n", encoding="utf-8")
    geography = _load(squares_root)
    with pytest.raises(
        DataError, match=r"notes.txt: is not a postcode table of a known format.*Postcodes go here"
    ):
        geography.postcodes()


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            "lsoa_changes: changes",
            "lsoa_changes: squares",
            r"reference.squares \(named as lsoa_changes in conf/partnership.yml\): "
            "is not of format 'ons_lsoa_changes'",
        ),
        (
            "lookups: [lookups]",
            "lookups: [changes]",
            "is not of format 'ons_lookups'.*got 'ons_lsoa_changes'",
        ),
        (
            "boundaries: [squares]",
            "boundaries: [lookups]",
            "named as boundaries.*is not of format 'area_layers'",
        ),
        ("lookups: [lookups]", "lookups: [nowhere]", "no such reference entry"),
        (
            "postcodes: postcodes",
            "postcodes: nowhere",
            "reference.postcodes = 'nowhere': is neither a dataset nor a reference entry",
        ),
        (
            "postcodes: postcodes",
            "postcodes: changes",
            "named as postcodes in conf/partnership.yml.*is not of format 'postcode_directory'",
        ),
        ("postcodes: postcodes", "postcodes: residents", "dataset 'residents': is not a postcode directory"),
        ("{2021: residents}", "{2021: crimes}", "dataset 'crimes': cannot give residents per LSOA"),
        ("{2021: residents}", "{2021: nowhere}", "reference.population = 'nowhere': is not a dataset"),
    ],
)
def test_load_geography_errors_name_the_entry_and_the_role(squares_root, old, new, match):
    _edit(squares_root / "conf/partnership.yml", old, new)
    with pytest.raises(CatalogError, match=match):
        _load(squares_root)


def test_load_geography_refuses_a_missing_boundaries_file(squares_root):
    shutil.rmtree(squares_root / "data/raw/boundaries")
    with pytest.raises(DataError, match="squares.gpkg: boundaries file is missing"):
        _load(squares_root)


# ------------------------------------------------------------------ load_geography on the shipped example


def _read(raw, relative):
    return pd.read_csv(raw / relative, encoding="utf-8-sig", dtype=str)


def _old_hierarchy(raw, vintage):
    """The hierarchy as the pre-redesign code built it (needskit.place.geography._hierarchy_cached,
    before the generic ONS lookup reader): the shipped files, read by name."""
    if vintage == 2021:
        frame = _read(raw, "lookups/lookup_lsoa21_ward24_ltla24.csv.gz").rename(
            columns={
                "lsoa21_code": "lsoa",
                "lsoa21_name": "lsoa_name",
                "ward24_code": "ward",
                "ward24_name": "ward_name",
                "ltla24_code": "district",
                "ltla24_name": "district_name",
            }
        )
        msoa = _read(raw, "lookups/lookup_lsoa21_msoa21.csv.gz").set_index("lsoa21_code")
        frame["msoa"], frame["msoa_name"] = (
            frame["lsoa"].map(msoa["msoa21_code"]),
            frame["lsoa"].map(msoa["msoa21_name"]),
        )
        county = _read(raw, "lookups/lookup_ltla23_utla23.csv.gz").set_index("ltla23_code")
        region = _read(raw, "lookups/lookup_ltla24_region24.csv.gz").set_index("ltla24_code")
        frame["county"], frame["county_name"] = (
            frame["district"].map(county["utla23_code"]),
            frame["district"].map(county["utla23_name"]),
        )
        frame["region"], frame["region_name"] = (
            frame["district"].map(region["region24_code"]),
            frame["district"].map(region["region24_name"]),
        )
    else:
        frame = _read(raw, "lookups/lookup_lsoa11_ltla21.csv.gz").rename(
            columns={
                "lsoa11_code": "lsoa",
                "lsoa11_name": "lsoa_name",
                "ltla21_code": "district",
                "ltla21_name": "district_name",
            }
        )
        msoa = _read(raw, "lookups/lookup_lsoa11_msoa11.csv.gz").set_index("lsoa11_code")
        frame["msoa"], frame["msoa_name"] = (
            frame["lsoa"].map(msoa["msoa11_code"]),
            frame["lsoa"].map(msoa["msoa11_name"]),
        )
        ward = _read(raw, "lookups/lookup_lsoa11_ward17.csv.gz").set_index("lsoa11_code")["ward17_code"]
        names = (
            _read(raw, "lookups/lookup_ward21_ltla21.csv.gz")
            .drop_duplicates("ward21_code")
            .set_index("ward21_code")["ward21_name"]
        )
        frame["ward"] = frame["lsoa"].map(ward)
        frame["ward_name"] = frame["ward"].map(names).fillna("Ward " + frame["ward"].fillna(""))
        county = _read(raw, "lookups/lookup_ltla21_utla21.csv.gz").set_index("ltla21_code")
        region = _read(raw, "lookups/lookup_ltla21_region21.csv.gz").set_index("ltla21_code")
        frame["county"], frame["county_name"] = (
            frame["district"].map(county["utla21_code"]),
            frame["district"].map(county["utla21_name"]),
        )
        frame["region"], frame["region_name"] = (
            frame["district"].map(region["region21_code"]),
            frame["district"].map(region["region21_name"]),
        )
    wales = frame["lsoa"].str.startswith("W")
    frame.loc[wales, "county"] = frame.loc[wales, "district"]
    frame.loc[wales, "county_name"] = frame.loc[wales, "district_name"]
    frame.loc[wales, "region"] = "W92000004"
    frame.loc[wales, "region_name"] = "Wales"
    frame["country"] = np.where(wales, "W92000004", "E92000001")
    frame["country_name"] = np.where(wales, "Wales", "England")
    return frame[list(HIERARCHY_COLUMNS)].sort_values("lsoa", ignore_index=True).astype(object)


@pytest.fixture(scope="module")
def shipped():
    root = project_dir()
    catalog = load_catalog(root / "conf" / "catalog.yml")
    return root, catalog, load_geography(catalog, load_partnership(root / "conf" / "partnership.yml"))


def test_shipped_hierarchies(shipped):
    _root, _catalog, geography = shipped
    assert geography.vintages == (2011, 2021)
    h21, h11 = geography.hierarchy(2021), geography.hierarchy(2011)
    assert len(h21) == 35_672 and h21["lsoa"].is_unique  # England and Wales, 2021
    assert len(h11) == 34_753 and h11["lsoa"].is_unique
    assert (h21["district"] == CHELTENHAM).sum() == 77 and (h11["district"] == CHELTENHAM).sum() == 75
    assert (h21["county"] == GLOUCESTERSHIRE).sum() == 393 and (h11["county"] == GLOUCESTERSHIRE).sum() == 373
    assert h21[list(HIERARCHY_COLUMNS)].notna().all().all()
    assert {"icb", "pfa", "csp"} <= set(h21.columns)
    glos = h21[h21["county"] == GLOUCESTERSHIRE]
    assert set(glos["region"]) == {"E12000009"} and set(glos["pfa_name"]) == {"Gloucestershire"}


@pytest.mark.parametrize("vintage", [2021, 2011])
def test_shipped_hierarchy_equals_what_the_old_code_produced(shipped, vintage):
    root, _catalog, geography = shipped
    old = _old_hierarchy(root / "data" / "raw", vintage)
    pd.testing.assert_frame_equal(geography.hierarchy(vintage)[old.columns], old)


def test_shipped_populations_postcodes_changes_and_boundaries(shipped):
    root, catalog, geography = shipped
    raw = root / "data" / "raw"
    residents = pd.read_csv(raw / "census/census2021_lsoa21_age6_usual_residents.csv.gz")
    expected = residents.groupby("lsoa21_code")["usual_residents"].sum().astype(float)
    pd.testing.assert_series_equal(geography.population(2021).sort_index(), expected, check_names=False)
    mye = pd.read_csv(
        raw / "population/mye2020_lsoa11_persons_syoa.csv.gz", usecols=["lsoa11_code", "total_population"]
    )
    expected = mye.set_index("lsoa11_code")["total_population"].astype(float).sort_index()
    pd.testing.assert_series_equal(geography.population(2011).sort_index(), expected, check_names=False)
    postcodes = geography.postcodes().set_index("postcode_clean")
    assert postcodes.index.is_unique and postcodes.index.str.startswith("GL").all()
    assert postcodes.loc["GL50 3PP", "easting"] == 394_619
    changes = geography.changes()
    assert set(changes["change_code"]) == {"U", "S", "M", "X"}
    assert len(geography.boundary_layers) == 10
    assert geography.sources["population_2011"] == "population_mye2020"
    assert catalog.reference_entry(geography.sources["lookups_2021"]).format == "ons_lookups"
