"""Tests for needskit.disclosure.percentages: percentages from published (rounded) figures."""

from __future__ import annotations

import pytest

from needskit.disclosure import (
    SUPPRESSED,
    published_percentages,
)
from needskit.errors import SchemaError

from .helpers import TOTAL, grid, long_table, quiet_apply


def test_published_percentages_use_rounded_figures() -> None:
    df = long_table([[3, 40, 12], [0, 0, 0], [50, 20, 60]], rows="area_code", columns="category")
    pub, _ = quiet_apply(df, rule="nhs_digital", rows="area_code", columns="category", totals="rows")
    out = published_percentages(pub, within="area_code", dimension="category")
    pct = grid(out, "area_code", "category", "percent_published")
    assert pct.loc["r0"].tolist() == ["*", "72.7", "18.2", "100.0"]  # 40/55 and 10/55 (rounded 12 -> 10)
    assert pct.loc["r1"].tolist() == ["-", "-", "-", "-"]  # a zero total: undefined, not 0 and not withheld
    assert pct.loc["r2"].tolist() == ["38.5", "15.4", "46.2", "100.0"]  # 50/130, 20/130, 60/130
    two = published_percentages(pub, within=["area_code"], dimension="category", decimals=0)
    assert grid(two, "area_code", "category", "percent_published").loc["r2"].tolist() == [
        "38",
        "15",
        "46",
        "100",
    ]
    # a withheld denominator withholds every share of its group
    tiny = long_table([[1, 2]], rows="area_code", columns="category")
    pub2, _ = quiet_apply(tiny, rule="nhs_digital", rows="area_code", columns="category", totals="rows")
    shares = published_percentages(pub2, within="area_code", dimension="category")["percent_published"]
    assert shares.tolist() == [SUPPRESSED] * 3


def test_published_percentages_errors() -> None:
    df = long_table([[3, 40], [10, 20]], rows="area_code", columns="category")
    pub, _ = quiet_apply(df, rule="nhs_digital", rows="area_code", columns="category", totals="rows")
    with pytest.raises(SchemaError, match="has groups without a published total"):
        published_percentages(pub[pub["category"] != TOTAL], within="area_code", dimension="category")
    with pytest.raises(SchemaError, match="has more than one total per group"):
        published_percentages(pub, within=[], dimension="category")
    with pytest.raises(SchemaError, match="dimension: is also a within column"):
        published_percentages(pub, within=["area_code", "category"], dimension="category")
    with pytest.raises(SchemaError, match="decimals: is not a number of places"):
        published_percentages(pub, within="area_code", dimension="category", decimals=-1)
    with pytest.raises(
        SchemaError,
        match=r"published frame names columns that are not in the frame: \['value_published', 'suppressed'\]",
    ):
        published_percentages(df, within="area_code", dimension="category")
    with pytest.raises(SchemaError, match="within/dimension='ward' is not a column"):
        published_percentages(pub, within="ward", dimension="category")
