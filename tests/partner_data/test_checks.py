"""needskit.partner_data.checks: police.uk's own LSOA codes against the points, as the pool measures it."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from needskit.config import load_catalog
from needskit.partner_data.checks import agreement_by_dataset, police_agreement
from partner_files import CONF, police_entry, police_file, shipped_place, write_catalog


def test_agreement_by_dataset_sums_the_periods():
    table = pd.DataFrame(
        {
            "dataset": ["crimes", "crimes", "asb"],
            "period": ["2024-01", "2024-02", "2024-01"],
            "rows_compared": [3, 1, 0],
            "rows_agreeing": [2, 1, 0],
            "share": [2 / 3, 1.0, float("nan")],
        }
    )
    out = agreement_by_dataset(table)
    assert out["crimes"] == (0.75, 4) and out["asb"][1] == 0 and math.isnan(out["asb"][0])
    assert agreement_by_dataset(table.iloc[0:0]) == {}


def test_police_agreement_of_the_shipped_months_is_the_pools():
    place = shipped_place()
    spec = load_catalog(CONF / "catalog.yml")["police_street_crime"]
    share, n = police_agreement(spec, area=place.area, geography=place.geography)
    assert (n, round(share * n)) == (204_527, 198_760) and round(share, 3) == 0.972
    # an entry without a code column is measured on police.uk's "LSOA code" all the same
    without = dataclasses.replace(spec, geography=dataclasses.replace(spec.geography, code=None))
    assert police_agreement(without, area=place.area, geography=place.geography) == (share, n)


def test_no_row_to_compare(tmp_path):
    place = shipped_place()
    police_file(tmp_path / "police", "2024-01", [("", None, None, "", "Anti-social behaviour")])
    spec = load_catalog(write_catalog(tmp_path, {"crimes": police_entry()}))["crimes"]
    share, n = police_agreement(spec, area=place.area, geography=place.geography)
    assert n == 0 and math.isnan(share)
