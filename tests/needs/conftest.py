"""Fixtures of the needs tests: the published IoD2019 domain ranks and the IMD 2019 rebuilt from them."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from needskit.needs.index import IOD2019, combine_domains
from needskit.partner_data.ingest.iod import IOD2019_FILE, read_iod2019_domain_ranks
from shipped import raw_path


@pytest.fixture(scope="module")
def iod_ranks() -> pd.DataFrame:
    return read_iod2019_domain_ranks(raw_path(IOD2019_FILE))


@pytest.fixture(scope="module")
def imd2019(iod_ranks) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the preset must not be rescaled or warn
        out = combine_domains(
            iod_ranks,
            domains=list(IOD2019),
            weights=IOD2019,
            higher_is_more_deprived=False,
            code_col="area_code",
            rank_within="lad_code",
        )
    published = pd.read_csv(raw_path("imd2019/imd2019_lsoa11_imd_score.csv.gz"))
    return out.merge(
        published[["lsoa_code", "imd_score"]],
        left_on="area_code",
        right_on="lsoa_code",
        how="left",
        validate="1:1",
    ).assign(imd_rank=iod_ranks["imd_rank"].to_numpy(), imd_decile=iod_ranks["imd_decile"].to_numpy())
