"""needskit.partner_data.ingest.postcodes: postcode tables in the formats people download.

The fixtures are written from the formats' documented columns with real GL postcodes and their
real coordinates, taken from the shipped ONS Postcode Directory extract: an ONSPD file (lower-case
columns, grid references and lat/long), an NSPL-style file (upper-case columns, lat/long only,
gzip) and an OS Code-Point Open zip (headerless ``Data/CSV/gl.csv``, built from the same eastings
and northings). Each must put every postcode in the same LSOA.
"""

from __future__ import annotations

import gzip
import zipfile
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from needskit.config import load_catalog, load_partnership
from needskit.config.catalog import Catalog, ReferenceSpec
from needskit.config.partnership import ReferenceNames
from needskit.errors import DataError
from needskit.partner_data.ingest.postcodes import (
    DIRECTORY_COLUMNS,
    detect_postcode_tables,
    read_postcode_directory,
)
from needskit.partner_data.reference import load_geography
from needskit.place import assign_points, geocode_postcodes
from partner_files import CONF, RAW

# Real GL postcodes across the six districts, one in South Gloucestershire (outside the county's
# boundaries) and one the ONSPD gives no coordinates (GL1 9AB).
POSTCODES = [
    "GL1 1AA",
    "GL11 4LP",
    "GL15 4EA",
    "GL18 1LT",
    "GL2 8BE",
    "GL3 3RE",
    "GL4 8LU",
    "GL50 3AZ",
    "GL50 3PP",
    "GL51 7AN",
    "GL52 8AT",
    "GL54 5DZ",
    "GL6 7YX",
    "GL7 9DG",
    "GL12 8AA",
    "GL1 9AB",
]
TERMINATED = "GL7 9DG"  # written as if terminated, to see it keep its coordinates
NO_COORDINATES = "GL1 9AB"


@pytest.fixture(scope="module")
def onspd_rows() -> pd.DataFrame:
    """The chosen postcodes' rows of the shipped ONSPD extract (pcds, oseast1m, osnrth1m, lon, lat)."""
    shipped = pd.read_csv(RAW / "lookups/onspd_nov2025_GL_postcodes.csv.gz", dtype=str)
    shipped["pcds"] = shipped["pcds"].str.replace(" ", "").str.replace(r"(...)$", r" \1", regex=True)
    rows = shipped.set_index("pcds").loc[POSTCODES].reset_index()
    assert rows.loc[rows["pcds"] != NO_COORDINATES, "oseast1m"].notna().all()
    assert rows.loc[rows["pcds"] == NO_COORDINATES, ["oseast1m", "lat"]].isna().all().all()
    return rows


def _pcd7(pcds: str) -> str:
    """ONSPD's 7-character form: ``GL1 1AA``, ``GL503PP``."""
    outward, inward = pcds.split()
    return f"{outward:<{7 - len(inward)}}{inward}"


def _pcd8(pcds: str) -> str:
    """ONSPD's 8-character form: the outward code padded to four, a space, the inward code."""
    outward, inward = pcds.split()
    return f"{outward:<4} {inward}"


def write_onspd(folder, rows: pd.DataFrame):
    """An ONSPD file: lower-case columns, grid references and lat/long (99.999999/0 when none)."""
    located = rows["oseast1m"].notna()
    frame = pd.DataFrame(
        {
            "pcd": rows["pcds"].map(_pcd7),
            "pcd2": rows["pcds"].map(_pcd8),
            "pcds": rows["pcds"],
            "dointr": "198001",
            "doterm": np.where(rows["pcds"] == TERMINATED, "202301", ""),
            "oscty": "E10000013",
            "oseast1m": rows["oseast1m"].str.replace(".0", "", regex=False).fillna(""),
            "osnrth1m": rows["osnrth1m"].str.replace(".0", "", regex=False).fillna(""),
            "osgrdind": np.where(located, "1", "9"),
            "lsoa21": "",
            "lat": rows["lat"].where(located, "99.999999"),
            "long": rows["lon"].where(located, "0.000000"),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ONSPD_NOV_2025_UK_GL.csv"
    frame.to_csv(path, index=False)
    return path


def write_nspl(folder, rows: pd.DataFrame):
    """An NSPL-style file: upper-case columns, latitude and longitude only, gzip."""
    located = rows["oseast1m"].notna()
    frame = pd.DataFrame(
        {
            "PCD": rows["pcds"].map(_pcd7),
            "PCD2": rows["pcds"].map(_pcd8),
            "PCDS": rows["pcds"],
            "DOINTR": "198001",
            "DOTERM": np.where(rows["pcds"] == TERMINATED, "202301", ""),
            "USERTYPE": "0",
            "LAT": rows["lat"].where(located, "99.999999"),
            "LONG": rows["lon"].where(located, "0.000000"),
            "LAUA": rows["laua"].fillna(""),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "NSPL_NOV_2025_UK_GL.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False)
    return path


def code_point_lines(rows: pd.DataFrame) -> str:
    """Code-Point Open rows: no header, 10 columns, postcodes with and without the space."""
    lines = []
    for i, row in rows.reset_index(drop=True).iterrows():
        located = pd.notna(row["oseast1m"])
        postcode = f'"{_pcd7(row["pcds"])}"' if i % 2 else row["pcds"].replace(" ", "")
        quality, east, north = (
            ("10", row["oseast1m"][:-2], row["osnrth1m"][:-2]) if located else ("90", "0", "0")
        )
        ward = "E05010000"
        lines.append(
            f'{postcode},{quality},{east},{north},"E92000001","E19000002","E18000009","E10000013",'
            f'"{row["laua"] if located else ""}","{ward}"'
        )
    return "\n".join(lines) + "\n"


def write_code_point(folder, rows: pd.DataFrame):
    """OS Code-Point Open as OS distributes it: a zip of Data/CSV/<area>.csv and Doc/ CSVs."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "codepo_gb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Data/CSV/gl.csv", code_point_lines(rows))
        archive.writestr("Doc/Code-Point_Open_Column_Headers.csv", "PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\n")
        archive.writestr("Doc/licence.txt", "Open Government Licence\n")
    return path


@pytest.fixture(scope="module")
def formats(tmp_path_factory, onspd_rows) -> dict:
    """One folder per format, each holding one file of the same postcodes."""
    root = tmp_path_factory.mktemp("postcode_formats")
    return {
        "onspd": write_onspd(root / "onspd", onspd_rows),
        "nspl": write_nspl(root / "nspl", onspd_rows),
        "code_point_open": write_code_point(root / "codepoint", onspd_rows),
    }


# ------------------------------------------------------------------------------- detection


def test_every_format_is_detected_by_its_columns(formats):
    onspd, nspl, code_point = (
        detect_postcode_tables(formats[k]) for k in ("onspd", "nspl", "code_point_open")
    )
    assert [t.format for t in onspd] == ["ons_postcodes"]
    assert onspd[0].columns == {
        "postcode": "pcds",
        "easting": "oseast1m",
        "northing": "osnrth1m",
        "latitude": "lat",
        "longitude": "long",
        "lsoa21": "lsoa21",
        "terminated": "doterm",
    }
    assert [t.format for t in nspl] == ["ons_postcodes"]  # upper case, gzip, no grid references
    assert nspl[0].columns == {
        "postcode": "PCDS",
        "latitude": "LAT",
        "longitude": "LONG",
        "terminated": "DOTERM",
    }
    # in the zip, only Data/ is read: Doc/ holds the column headers, not postcodes
    assert [(t.format, t.member) for t in code_point] == [("code_point_open", "Data/CSV/gl.csv")]
    assert code_point[0].where == f"{formats['code_point_open']}:Data/CSV/gl.csv"


def test_a_plain_code_point_open_csv_and_other_postcode_columns(tmp_path, onspd_rows):
    plain = tmp_path / "gl.csv"
    plain.write_text(code_point_lines(onspd_rows.iloc[[1, 0]]), encoding="utf-8")  # starts with a quoted one
    assert [t.format for t in detect_postcode_tables(plain)] == ["code_point_open"]
    pcd_only = tmp_path / "pcd_only.csv"
    pd.DataFrame({"PCD": ["GL503PP"], "OSEAST1M": ["394619"], "OSNRTH1M": ["222461"]}).to_csv(
        pcd_only, index=False
    )
    (table,) = detect_postcode_tables(pcd_only)
    assert table.columns == {"postcode": "PCD", "easting": "OSEAST1M", "northing": "OSNRTH1M"}
    directory = read_postcode_directory([pcd_only])
    assert directory[["postcode_clean", "easting", "northing"]].values.tolist() == [
        ["GL50 3PP", 394619.0, 222461.0]
    ]


def test_a_file_of_neither_format_names_the_file_and_its_columns(tmp_path):
    unknown = tmp_path / "practices.csv"
    pd.DataFrame({"code": ["A1"], "name": ["Surgery"], "address": ["1 High St"]}).to_csv(unknown, index=False)
    with pytest.raises(
        DataError,
        match=r"practices.csv: is not a postcode table of a known format; expected an ONS Postcode "
        r"Directory.*Code-Point Open.*got 3 columns \['code', 'name', 'address'\]",
    ):
        detect_postcode_tables(unknown)
    no_location = tmp_path / "no_location.csv"
    pd.DataFrame({"pcds": ["GL50 3PP"], "laua": ["E07000078"]}).to_csv(no_location, index=False)
    with pytest.raises(
        DataError, match=r"no_location.csv: is not a postcode table.*hint: .*add grid references"
    ):
        read_postcode_directory([no_location])
    narrow = tmp_path / "narrow.csv"
    narrow.write_text("GL503PP,10,394619,222461\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"narrow.csv: is not a postcode table.*4 columns.*this one has 4"):
        detect_postcode_tables(narrow)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.csv", b"", "empty.csv: is empty"),
        (
            "latin1.csv",
            "pcds,lat,long\nGL50 3PP,51.9,-2.1\nYnys M\xf4n\n".encode("latin-1"),
            "is not UTF-8 text",
        ),
        ("notes.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "notes.pdf: is not UTF-8 text"),
        ("broken.csv.gz", b"\x1f\x8b\x08\x00garbage", "broken.csv.gz: cannot be read"),
        ("header.csv", b"pcds,lat,long\n", "header.csv: has no postcode rows"),
    ],
)
def test_unreadable_files_are_named(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=match):
        read_postcode_directory([path])


def test_zip_archives_without_postcode_tables_and_missing_files(tmp_path):
    sheet = tmp_path / "postcodes.xlsx"  # a spreadsheet is a zip too
    with zipfile.ZipFile(sheet, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(
        DataError, match=r"postcodes.xlsx: is a zip archive with no CSV file.*xl/workbook.xml.*as CSV"
    ):
        detect_postcode_tables(sheet)
    with pytest.raises(DataError, match="nowhere.csv: postcode file not found"):
        detect_postcode_tables(tmp_path / "nowhere.csv")
    with pytest.raises(DataError, match="reference.x: no postcode files"):
        read_postcode_directory([], where="reference.x")


def test_the_onspd_zip_is_read_once_not_twice(tmp_path):
    """ONSPD's zip holds the whole file and the same rows again per area (multi_csv/)."""
    rows = "pcds,oseast1m,osnrth1m\nGL50 3PP,394619,222461\n"
    path = tmp_path / "ONSPD_NOV_2025.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Data/ONSPD_NOV_2025_UK.csv", rows)
        archive.writestr("Data/multi_csv/ONSPD_NOV_2025_UK_GL.csv", rows)
        archive.writestr("Documents/LA_UA names and codes UK as at 04_25.csv", "LAD25CD,LAD25NM\n")
    assert [t.member for t in detect_postcode_tables(path)] == ["Data/ONSPD_NOV_2025_UK.csv"]


# ------------------------------------------------------------------------------- reading


def test_each_format_gives_the_same_postcodes_and_grid_references(formats, onspd_rows):
    tables = {
        name: read_postcode_directory([path]).set_index("postcode_clean") for name, path in formats.items()
    }
    onspd, nspl, code_point = tables["onspd"], tables["nspl"], tables["code_point_open"]
    for table in tables.values():
        assert table.index.tolist() == POSTCODES  # normalised, in file order, none dropped
        assert table.loc[[NO_COORDINATES], ["easting", "northing"]].isna().all().all()
    expected = onspd_rows.set_index("pcds")[["oseast1m", "osnrth1m"]].astype(float)
    expected.columns = ["easting", "northing"]
    pd.testing.assert_frame_equal(
        onspd[["easting", "northing"]], expected, check_names=False, check_index_type=False
    )
    pd.testing.assert_frame_equal(
        code_point[["easting", "northing"]], expected, check_names=False, check_index_type=False
    )
    # from latitude and longitude: within a few metres of the ONSPD's own grid references
    gap = np.hypot(nspl["easting"] - expected["easting"], nspl["northing"] - expected["northing"])
    assert gap.drop(NO_COORDINATES).max() < 5
    # a terminated postcode keeps its coordinates and says so; Code-Point Open lists live ones only
    assert onspd.loc[TERMINATED, "terminated"] and np.isfinite(onspd.loc[TERMINATED, "easting"])
    assert nspl["terminated"].sum() == 1 and not code_point["terminated"].any()
    assert list(onspd.reset_index().columns) == list(DIRECTORY_COLUMNS)
    assert set(code_point["source"]) == {f"{formats['code_point_open']}:Data/CSV/gl.csv"}


def test_the_first_table_wins_where_a_postcode_repeats(tmp_path, formats):
    later = tmp_path / "zz_later.csv"
    pd.DataFrame(
        {"pcds": ["GL50 3PP", "SQ1 1AA"], "oseast1m": ["1", "394500"], "osnrth1m": ["1", "222500"]}
    ).to_csv(later, index=False)
    directory = read_postcode_directory([formats["code_point_open"], later]).set_index("postcode_clean")
    assert directory.index.is_unique and len(directory) == len(POSTCODES) + 1
    assert directory.loc["GL50 3PP", "easting"] == 394_619  # Code-Point Open's, not the later file's
    assert directory.loc["SQ1 1AA", "source"] == str(later)
    assert pd.isna(directory.loc["SQ1 1AA", "terminated"])  # the later file does not say


def test_placeholders_mean_no_coordinates_and_northern_ireland_uses_lat_long(tmp_path):
    path = tmp_path / "onspd.csv"
    pd.DataFrame(
        {
            "pcds": ["GL50 3PP", "JE2 3AB", "BT1 5GS", "not one", "GL1 9AB"],
            "oseast1m": ["394619", "", "333896", "1", "0"],  # BT1 5GS: an Irish Grid reference
            "osnrth1m": ["222461", "", "374203", "1", "0"],
            "lat": ["51.902984", "99.999999", "54.596389", "51.9", "99.999999"],
            "long": ["-2.080700", "0.000000", "-5.930278", "-2.1", "0.000000"],
            "lsoa21": ["E01022154", "L99999999", "", "", ""],
            "lsoa11": ["E01022110", "", "95AA01S1", "", " "],
        }
    ).to_csv(path, index=False)
    directory = read_postcode_directory([path]).set_index("postcode_clean")
    assert directory.index.tolist() == ["GL50 3PP", "JE2 3AB", "BT1 5GS", "GL1 9AB"]  # "not one" left out
    assert directory.loc["JE2 3AB", ["easting", "northing"]].isna().all()
    assert directory.loc["GL1 9AB", ["easting", "northing"]].isna().all()  # 0, 0 is nowhere
    belfast = directory.loc["BT1 5GS"]  # projected from lat/long, far west of the Irish Grid figure
    assert 140_000 < belfast["easting"] < 160_000 and 520_000 < belfast["northing"] < 540_000
    assert directory["lsoa21"].tolist()[:2] == ["E01022154", "L99999999"]
    assert directory["lsoa11"].isna().tolist() == [False, True, False, True]
    assert directory["terminated"].isna().all()  # no doterm column: it does not say


# ------------------------------------------------------------------------------- located the same


@pytest.fixture(scope="module")
def shipped_parts():
    catalog = load_catalog(CONF / "catalog.yml")
    return catalog, load_partnership(CONF / "partnership.yml")


def _geography(shipped_parts, folder):
    """The shipped lookups and boundaries, with a postcode_directory entry over ``folder``."""
    catalog, partnership = shipped_parts
    tables = ReferenceSpec(
        id="postcode_tables",
        title="Postcode tables",
        paths=(str(folder / "*"),),
        publisher="tests",
        licence="OGL-3.0",
        format="postcode_directory",
    )
    small = Catalog(
        datasets=(),
        reference=(catalog.reference_entry("lookups_2021"), catalog.reference_entry("boundaries"), tables),
    )
    names = ReferenceNames(
        lookups=("lookups_2021",),
        lsoa_changes=None,
        boundaries=("boundaries",),
        postcodes="postcode_tables",
        population={},
    )
    return load_geography(small, replace(partnership, reference=names))


def test_every_format_locates_the_same_postcodes_to_the_same_lsoa(shipped_parts, formats, shipped_geography):
    # the partner's postcodes, written as partners write them
    partner = pd.DataFrame({"pc": [p.lower().replace(" ", "") for p in POSTCODES] + ["SW1A 1AA", ""]})
    located = {}
    for name, path in formats.items():
        geography = _geography(shipped_parts, path.parent)
        assert geography.sources["postcodes"] == "postcode_tables" and geography.has_postcodes()
        coded = geocode_postcodes(partner, postcode_col="pc", geography=geography)
        assert coded["postcode_status"].tolist() == ["found"] * 15 + [
            "no_coordinates",
            "not_found",
            "missing",
        ]
        lsoas = assign_points(
            coded, x="easting", y="northing", crs="EPSG:27700", level="lsoa", geography=geography
        )
        located[name] = lsoas["area_code"]
    # the shipped geography locates through the ONSPD extract as a catalogue dataset
    shipped = geocode_postcodes(partner, postcode_col="pc", geography=shipped_geography)
    expected = assign_points(
        shipped, x="easting", y="northing", crs="EPSG:27700", level="lsoa", geography=shipped_geography
    )["area_code"]
    assert (
        expected.iloc[:14].notna().all() and expected.iloc[14:].isna().all()
    )  # GL12 8AA: outside the county
    assert expected.iloc[:14].nunique() == 14
    for name, codes in located.items():
        pd.testing.assert_series_equal(codes, expected, check_names=False, obj=name)
