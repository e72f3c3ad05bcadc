"""Tests for needskit.partner_data.ingest.iod: reading the IoD2019 File 2 (published domain ranks)."""

from __future__ import annotations

import pandas as pd
import pytest

from needskit.errors import DataError
from needskit.needs.index import IOD2019
from needskit.partner_data.ingest.iod import IOD2019_FILE, read_iod2019_domain_ranks
from shipped import raw_path

N_LSOA11 = 32_844


@pytest.fixture(scope="module")
def iod_ranks() -> pd.DataFrame:
    return read_iod2019_domain_ranks(raw_path(IOD2019_FILE))


def test_iod2019_domain_ranks_file(iod_ranks):
    assert list(iod_ranks.columns) == ["area_code", "lad_code", "imd_rank", "imd_decile", *IOD2019]
    assert len(iod_ranks) == N_LSOA11 and iod_ranks["area_code"].is_unique
    raw = pd.read_csv(
        raw_path("imd2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"), encoding="utf-8-sig"
    )
    assert (iod_ranks["area_code"] == raw["LSOA code (2011)"]).all()
    assert (iod_ranks["crime"] == raw["Crime Rank (where 1 is most deprived)"]).all()
    assert (
        iod_ranks["barriers"] == raw["Barriers to Housing and Services Rank (where 1 is most deprived)"]
    ).all()
    for d in IOD2019:
        assert iod_ranks[d].min() == 1 and iod_ranks[d].max() == N_LSOA11


def test_read_iod2019_domain_ranks_rejects_a_file_that_is_not_file_2(tmp_path):
    bad = tmp_path / "other.csv"
    pd.DataFrame({"LSOA code (2011)": ["E01000001"], "x": [1]}).to_csv(bad, index=False)
    with pytest.raises(DataError, match="not IoD2019 File 2"):
        read_iod2019_domain_ranks(bad)
    with pytest.raises(DataError, match="missing"):
        read_iod2019_domain_ranks(tmp_path / "absent.csv")


def test_read_iod2019_domain_ranks_rejects_repeated_codes(tmp_path):
    raw = pd.read_csv(
        raw_path("imd2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"), encoding="utf-8-sig", nrows=3
    )
    path = tmp_path / "file2.csv"
    raw.to_csv(path, index=False, encoding="utf-8-sig")
    read = read_iod2019_domain_ranks(path)
    assert read["area_code"].tolist() == raw["LSOA code (2011)"].tolist()
    assert read["income"].tolist() == raw["Income Rank (where 1 is most deprived)"].tolist()
    pd.concat([raw, raw.iloc[[0]]]).to_csv(path, index=False, encoding="utf-8-sig")
    with pytest.raises(DataError, match="repeats LSOA codes"):
        read_iod2019_domain_ranks(path)
