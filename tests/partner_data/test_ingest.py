"""needskit.partner_data.ingest: one adapter per real format, tested on the real shipped files."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from needskit.config import load_catalog
from needskit.errors import DataError
from needskit.partner_data.ingest import ADAPTERS, read_dataset, read_file
from partner_files import CONF, RAW, entry, write_catalog


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
    frame = read_dataset(spec)
    assert len(frame) == 19_869 and frame["_file"].nunique() == 4
    first = frame[frame["_file"] == "2024-01-gloucestershire-street.csv.gz"]
    assert len(first) == 5_000 and first["_row"].min() == 2  # the header is line 1
    assert frame["Longitude"].isna().sum() == 717  # "No Location" rows are kept


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
