"""needskit.partner_data.ingest: one adapter per real format, tested on the real shipped files."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from needskit.config import load_catalog
from needskit.errors import DataError
from needskit.partner_data.ingest import ADAPTERS, read_dataset, read_file
from partner_files import (
    CHELTENHAM_POINT,
    CONF,
    RAW,
    entry,
    police_entry,
    police_file,
    police_text,
    police_zip,
    write_catalog,
)


def test_ons_tables_bom_thousands_and_single_years():
    file1 = read_file(RAW / "imd2019/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz", "ons_table")
    assert file1.columns[2] == "lsoa_code_2011"  # the BOM did not stick to the first header
    assert file1.loc[0, "index_of_multiple_deprivation_imd_rank"] == "29199"  # "29,199" without separator
    mye = read_file(RAW / "population/mye2020_lsoa11_persons_syoa.csv.gz", "ons_mye")
    assert len(mye) == 34_753 * 19
    published = pd.read_csv(RAW / "population/mye2020_lsoa11_persons_syoa.csv.gz")["total_population"].sum()
    assert mye["population"].sum() == published == 59_719_724


def test_police_uk_months_are_read_with_line_numbers():
    spec = load_catalog(CONF / "catalog.yml")["police_street_crime"]
    assert spec.path == "data/raw/police/*"  # any police.uk file dropped into the folder
    frame = read_dataset(spec)
    assert len(frame) == 221_034 and frame["_file"].nunique() == 42  # 2022-01 ... 2025-06
    first = frame[frame["_file"] == "2024-01-gloucestershire-street.csv.gz"]
    assert len(first) == 5_000 and first["_row"].min() == 2  # the header is line 1
    crlf = frame[frame["_file"] == "2022-01-gloucestershire-street.csv.gz"]  # CRLF line endings
    assert len(crlf) == 5_189 and not crlf["Context"].fillna("").str.contains("\r").any()
    assert frame["Longitude"].isna().sum() == 15_296  # "No Location" rows are kept


def test_generic_table_adapters_with_column_mapping(tmp_path):
    frame = pd.DataFrame({"Area": ["E01022163"], "Visits": ["12"]})
    frame.to_parquet(tmp_path / "t.parquet")
    out = read_file(tmp_path / "t.parquet", "parquet", {"columns": {"Area": "area", "Visits": "visits"}})
    assert list(out.columns) == ["_file", "_row", "area", "visits"]
    with pytest.raises(DataError, match="lacks"):
        read_file(tmp_path / "t.parquet", "parquet", {"columns": {"Ward": "ward"}})
    gpd.GeoDataFrame({"name": ["hub"]}, geometry=[Point(394_619, 222_461)], crs="EPSG:27700").to_file(
        tmp_path / "s.gpkg"
    )
    points = read_file(tmp_path / "s.gpkg", "gpkg")
    assert points.loc[0, "_x"] == 394_619
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    excel = read_file(tmp_path / "t.xlsx", "excel", {"columns": {"Area": "area"}})
    assert excel.loc[0, "area"] == "E01022163" and excel.loc[0, "_row"] == 2


def test_unknown_format_and_missing_files(tmp_path):
    with pytest.raises(DataError, match="unknown format") as info:
        read_file(tmp_path / "x.sav", "spss")
    assert "csv" in str(info.value) and set(ADAPTERS) >= {"police_uk", "ods", "ons_table", "csv", "parquet"}
    spec = load_catalog(write_catalog(tmp_path, {"test": entry(path="nothing*.csv")}))["test"]
    with pytest.raises(DataError, match="no file matches the catalogue path") as info:
        read_dataset(spec)
    assert "nothing*.csv" in str(info.value)
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="is not a Parquet file"):
        read_file(tmp_path / "bad.parquet", "parquet")


# ------------------------------------------------------------------ police.uk files as downloaded


def _crimes(n: int = 2) -> list[tuple]:
    """``n`` burglaries, an anti-social behaviour row (no Crime ID) and a "No Location" row."""
    lon, lat = CHELTENHAM_POINT
    rows = [(f"{i + 1:064x}", lon, lat, "E01022163", "Burglary") for i in range(n)]
    return rows + [
        ("", lon, lat, "E01022163", "Anti-social behaviour"),
        ("", None, None, "", "Anti-social behaviour"),
    ]


def _read(tmp_path):
    return read_dataset(load_catalog(write_catalog(tmp_path, {"crimes": police_entry()}))["crimes"])


def test_police_uk_csv_gzip_and_zip_files_are_read_as_downloaded(tmp_path):
    police = tmp_path / "police"
    police_file(police, "2022-01", _crimes(), eol="\r\n")  # CRLF, as some downloads are
    police_file(police, "2023-02", _crimes(3), gz=True)
    police_zip(
        police,
        "c4d1e5f0a8b2.zip",  # the custom download: a folder per month, outcomes and stop-and-search beside
        {
            "2024-01/2024-01-gloucestershire-street.csv": police_text("2024-01", _crimes(1)),
            "2024-01/2024-01-gloucestershire-outcomes.csv": "Crime ID,Month\nab12,2024-01\n",
            "2024-01/2024-01-gloucestershire-stop-and-search.csv": "Type,Date\nPerson search,2024-01-03\n",
            "2024-02/2024-02-gloucestershire-street.csv": police_text("2024-02", _crimes(4)),
            "2024-02/2024-02-avon-and-somerset-street.csv": police_text("2024-02", _crimes(1)),
        },
    )
    (police / "2023-02-gloucestershire-outcomes.csv").write_text("Crime ID,Month\n")  # not read
    frame = _read(tmp_path)
    assert frame["_file"].value_counts(sort=False).to_dict() == {
        "2022-01-gloucestershire-street.csv": 4,
        "2023-02-gloucestershire-street.csv.gz": 5,
        "c4d1e5f0a8b2.zip:2024-01/2024-01-gloucestershire-street.csv": 3,
        "c4d1e5f0a8b2.zip:2024-02/2024-02-avon-and-somerset-street.csv": 3,
        "c4d1e5f0a8b2.zip:2024-02/2024-02-gloucestershire-street.csv": 6,
    }
    assert (frame.groupby("_file")["_row"].min() == 2).all()  # the header is line 1 of each file or member
    crlf = frame[frame["_file"] == "2022-01-gloucestershire-street.csv"]
    assert crlf["_row"].tolist() == [2, 3, 4, 5] and crlf["Context"].isna().all()  # no stray "\r"
    assert crlf["Crime type"].iloc[-1] == "Anti-social behaviour"
    assert frame["Crime ID"].isna().sum() == 10  # every anti-social behaviour row: two a file
    assert (frame["Month"] == frame["_file"].str.extract(r"(\d{4}-\d{2})-[a-z-]+-street")[0]).all()
    assert frame.loc[frame["Location"] == "No Location", ["Longitude", "LSOA code"]].isna().all().all()


def test_a_month_other_than_the_one_in_the_file_name_is_refused(tmp_path):
    police = tmp_path / "police"
    police_file(police, "2024-01", _crimes()).rename(police / "2024-02-gloucestershire-street.csv")
    with pytest.raises(DataError, match="holds rows of another month than the 2024-02 in its name") as info:
        _read(tmp_path)
    assert "2024-02-gloucestershire-street.csv" in str(info.value) and "'2024-01': 4" in str(info.value)
    assert "lines [2, 3, 4, 5]" in str(info.value)
    (police / "2024-02-gloucestershire-street.csv").unlink()
    police_zip(
        police, "x.zip", {"2024-03/2024-03-gloucestershire-street.csv": police_text("2024-04", _crimes())}
    )
    with pytest.raises(
        DataError, match="x.zip:2024-03/2024-03-gloucestershire-street.csv: holds rows of another"
    ):
        _read(tmp_path)


def test_the_same_month_in_two_files_is_refused_naming_both(tmp_path):
    police = tmp_path / "police"
    police_file(police, "2024-01", _crimes())
    police_zip(
        police,
        "download.zip",
        {"2024-01/2024-01-gloucestershire-street.csv": police_text("2024-01", _crimes())},
    )
    with pytest.raises(
        DataError, match="the 2024-01 street-level crime of gloucestershire is in 2 files"
    ) as info:
        _read(tmp_path)
    assert (
        "2024-01-gloucestershire-street.csv and download.zip:2024-01/2024-01-gloucestershire-street.csv"
        in str(info.value)
    )
    (police / "download.zip").unlink()
    police_file(police, "2024-01", _crimes(), gz=True)  # the same month, compressed and not
    with pytest.raises(DataError, match="is in 2 files") as info:
        _read(tmp_path)
    assert "2024-01-gloucestershire-street.csv and 2024-01-gloucestershire-street.csv.gz" in str(info.value)


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda d: (d / "crimes-january.csv").write_text(police_text("2024-01", _crimes())),
            "is not named as police.uk",
        ),
        (lambda d: (d / "2024-01").mkdir(), "is a folder, not a police.uk file"),
        (
            lambda d: (d / "2024-01.zip").write_text("not a zip"),
            "is not a zip archive although it is named .zip",
        ),
        (
            lambda d: police_zip(
                d, "outcomes.zip", {"2024-01/2024-01-gloucestershire-outcomes.csv": "Crime ID\n"}
            ),
            "holds no police.uk street-level file",
        ),
        (
            lambda d: (d / "2024-01-gloucestershire-outcomes.csv").write_text("Crime ID,Month\n"),
            "has no police.uk street-level rows",
        ),
        (
            lambda d: (d / "2024-01-gloucestershire-street.csv").write_text("Crime ID,Month\nab,2024-01\n"),
            "is missing columns",
        ),
    ],
)
def test_files_that_are_not_police_uk_street_level_files(tmp_path, make, message):
    police = tmp_path / "police"
    police.mkdir()
    make(police)
    with pytest.raises(DataError, match=message):
        _read(tmp_path)


# ---------------------------------------------------------------------------------- hostile files


def test_a_gzip_bomb_fails_fast_while_decompressing(tmp_path, monkeypatch):
    import gzip

    from needskit.partner_data.ingest.reading import read_bytes

    monkeypatch.setenv("NEEDSKIT_MAX_GZIP_RATIO", "20")
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb") as out:  # streamed: 4 MB of CSV text, about 10 kB compressed
        out.write(b"a,b\n")
        for _ in range(64):
            out.write(b"1,2\n" * 16_384)
    with pytest.raises(DataError, match="gzip bomb") as info:
        read_bytes(path)
    assert "\n" not in str(info.value) and "NEEDSKIT_MAX_GZIP_RATIO" in str(info.value)


def test_a_file_over_the_size_limit_fails_before_it_is_read(tmp_path, monkeypatch):
    from needskit.partner_data.ingest.reading import read_bytes

    monkeypatch.setenv("NEEDSKIT_MAX_FILE_BYTES", "1000")
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "1,2\n" * 500)
    with pytest.raises(DataError, match="larger than a partner file may be") as info:
        read_bytes(path)
    assert "2,004 bytes" in str(info.value) and str(path) in str(info.value)


def test_a_binary_file_is_refused_on_its_first_bytes(tmp_path, monkeypatch):
    import gzip

    from needskit.partner_data.ingest.reading import read_bytes

    path = tmp_path / "zeros.csv.gz"
    with gzip.open(path, "wb") as out:
        for _ in range(8):
            out.write(bytes(1 << 20))
    monkeypatch.setenv("NEEDSKIT_MAX_GZIP_RATIO", "100000")  # only the binary check can stop it
    with pytest.raises(DataError, match="looks like a binary file"):
        read_bytes(path)
    plain = tmp_path / "blob.csv"
    plain.write_bytes(b"\x00\x01" * 10_000)
    with pytest.raises(DataError, match="looks like a binary file"):
        read_bytes(plain)


def test_a_layer_in_another_crs_than_the_catalogue_says_is_refused(tmp_path):
    """A GeoPackage layer in OSGB36 lat/lon (EPSG:4277) catalogued as WGS84 (EPSG:4326) would put
    points some 100 m off, in the wrong neighbourhood, without any other sign; a Web Mercator layer
    likewise. The error names the dataset, the file and the layer's CRS."""
    points = [Point(-2.0787, 51.8994), Point(-2.2448, 51.8642)]
    for crs in ("EPSG:4277", "EPSG:3857"):
        layer = gpd.GeoDataFrame(
            {"id": ["a", "b"], "month": ["2024-01"] * 2, "type": ["x"] * 2}, geometry=points
        )
        layer.set_crs("EPSG:4326").to_crs(crs).to_file(tmp_path / "sites.gpkg")
        spec = load_catalog(
            write_catalog(
                tmp_path,
                {
                    "sites": entry(
                        path="sites.gpkg",
                        format="gpkg",
                        geography={"kind": "points", "x": "_x", "y": "_y", "crs": "EPSG:4326"},
                    )
                },
            )
        )["sites"]
        with pytest.raises(DataError, match="different coordinate reference system") as info:
            read_dataset(spec)
        message = str(info.value)
        assert "'sites'" in message and "sites.gpkg" in message and crs in message and "EPSG:4326" in message
    # the CRS the catalogue declares: read as before
    layer.set_crs("EPSG:4326").to_file(tmp_path / "sites.gpkg")
    spec = load_catalog(
        write_catalog(
            tmp_path,
            {
                "sites": entry(
                    path="sites.gpkg",
                    format="gpkg",
                    geography={"kind": "points", "x": "_x", "y": "_y", "crs": "EPSG:4326"},
                )
            },
        )
    )["sites"]
    assert read_dataset(spec)["_x"].round(4).tolist() == [-2.0787, -2.2448]
