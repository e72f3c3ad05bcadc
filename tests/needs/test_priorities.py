"""Tests for needskit.needs.priorities: priority flags and double disadvantage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needskit.errors import SchemaError
from needskit.needs.priorities import double_disadvantage, priority_flags

N_LSOA11 = 32_844


def test_national_flags_from_deciles():
    df = pd.DataFrame({"imd_decile": [1, 2, 3, 10]})
    out = priority_flags(df, national_decile="imd_decile")
    assert out["most_deprived_10pct_national"].tolist() == [True, False, False, False]
    assert out["most_deprived_20pct_national"].tolist() == [True, True, False, False]
    assert out["most_deprived_10pct_national"].dtype == bool
    assert "most_deprived_10pct_local" not in out
    assert list(df.columns) == ["imd_decile"]


def test_local_flags_rerank_within_the_frame_and_groups():
    n = 40
    df = pd.DataFrame(
        {"imd_rank": np.arange(1000, 1000 + 40 * 7, 7)[::-1], "district": ["A"] * 20 + ["B"] * 20}
    )
    out = priority_flags(df, local_rank="imd_rank")
    smallest = df["imd_rank"].nsmallest(n // 5).index
    assert out["most_deprived_10pct_local"].sum() == n // 10
    assert set(out.index[out["most_deprived_20pct_local"]]) == set(smallest)
    grouped = priority_flags(df, local_rank="imd_rank", within="district")
    assert grouped.groupby("district")["most_deprived_10pct_local"].sum().tolist() == [2, 2]
    assert grouped.groupby("district")["most_deprived_20pct_local"].sum().tolist() == [4, 4]
    for _, g in grouped.groupby("district"):
        assert set(g.index[g["most_deprived_10pct_local"]]) == set(g["imd_rank"].nsmallest(2).index)


def test_local_flags_tied_areas_are_flagged_together():
    df = pd.DataFrame({"rank": [1, 1, 3, 4, 5, 6, 7, 8, 9, 10]})
    out = priority_flags(df, local_rank="rank")
    assert out["most_deprived_10pct_local"].tolist() == [True, True] + [False] * 8


def test_flags_on_the_national_index(imd2019):
    flags = priority_flags(imd2019, national_decile="decile", local_rank="local_rank", within="lad_code")
    assert flags["most_deprived_10pct_national"].sum() == sum(imd2019["rank"] <= N_LSOA11 / 10)
    assert (flags["most_deprived_20pct_national"] == (imd2019["imd_decile"] <= 2)).all()
    sizes = imd2019.groupby("lad_code")["area_code"].transform("size")
    assert (flags["most_deprived_10pct_local"] == (imd2019["local_rank"] * 10 <= sizes)).all()


@pytest.mark.parametrize(
    ("kwargs", "frame", "match"),
    [
        ({}, {"d": [1]}, "no index to flag from"),
        ({"national_decile": "d", "within": "g"}, {"d": [1], "g": ["a"]}, "no local_rank"),
        ({"national_decile": "zz"}, {"d": [1]}, "is not a column"),
        ({"national_decile": "d"}, {"d": [0]}, "not deciles"),
        ({"national_decile": "d"}, {"d": [1.5]}, "not deciles"),
        ({"national_decile": "d"}, {"d": [1.0, None]}, "has missing values"),
        ({"national_decile": "d"}, {"d": ["1"]}, "is not numeric"),
        ({"local_rank": "r"}, {"r": [1.0, np.nan]}, "has missing values"),
        ({"local_rank": "r", "within": "g"}, {"r": [1, 2], "g": ["a", None]}, "within='g'.*missing"),
        ({"national_decile": "d"}, {"d": [1], "most_deprived_10pct_national": [True]}, "already exist"),
    ],
)
def test_priority_flags_errors(kwargs, frame, match):
    with pytest.raises(SchemaError, match=match):
        priority_flags(pd.DataFrame(frame), **kwargs)


def test_double_disadvantage():
    df = pd.DataFrame({"imd": [1, 1, 2, 2, 3], "health": [1, 2, 1, 2, 1]})
    out = double_disadvantage(df, first="imd", second="health")
    assert out["double_disadvantage"].tolist() == [True, False, False, False, False]
    out2 = double_disadvantage(df, first="imd", second="health", worst=2, column="both_20pct")
    assert out2["both_20pct"].tolist() == [True, True, True, True, False]
    assert "double_disadvantage" not in df


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"first": "imd", "second": "imd"}, "with itself"),
        ({"first": "imd", "second": "health", "worst": 0}, "number of deciles"),
        ({"first": "imd", "second": "health", "worst": 11}, "number of deciles"),
        ({"first": "imd", "second": "health", "worst": 1.5}, "number of deciles"),
        ({"first": "imd", "second": "health", "worst": True}, "number of deciles"),
        ({"first": "imd", "second": "nope"}, "is not a column"),
        ({"first": "imd", "second": "bad"}, "not deciles"),
        ({"first": "imd", "second": "health", "column": "imd"}, "already exist"),
    ],
)
def test_double_disadvantage_errors(kwargs, match):
    df = pd.DataFrame({"imd": [1, 2], "health": [1, 3], "bad": [1, 12]})
    with pytest.raises(SchemaError, match=match):
        double_disadvantage(df, **kwargs)
