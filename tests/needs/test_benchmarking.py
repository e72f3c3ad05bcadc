"""needskit.needs.benchmarking: each area against its parent, region or England (Fingertips)."""

from __future__ import annotations

import pandas as pd
import pytest

from needskit.config.indicators import parse_indicators
from needskit.errors import SchemaError
from needskit.needs.benchmarking import benchmark, benchmark_all, parent_codes
from needskit.needs.indicators import compute_indicators

HIERARCHY = pd.DataFrame(
    {
        "lsoa": ["E01022163", "E01022164"],
        "msoa": ["E02004660", "E02004660"],
        "ward": ["E05015700", "E05015700"],
        "district": ["E07000078", "E07000078"],
        "county": ["E10000013", "E10000013"],
        "region": ["E12000009", "E12000009"],
        "country": ["E92000001", "E92000001"],
    }
)


def _profile(rows):
    frame = pd.DataFrame(
        rows, columns=["area_code", "level", "dataset", "measure", "category", "period", "value"]
    )
    return frame.assign(area_name=frame["area_code"])


PROFILE = _profile(
    [
        ("E01022163", "lsoa", "pop", "residents", "all", "2021", 1500),
        ("E01022164", "lsoa", "pop", "residents", "all", "2021", 1000),
        ("E07000078", "district", "pop", "residents", "all", "2021", 2500),
        ("E01022163", "lsoa", "crime", "crimes", "Burglary", "2024-02", 3),
        ("E01022164", "lsoa", "crime", "crimes", "Burglary", "2024-02", 25),
        ("E07000078", "district", "crime", "crimes", "Burglary", "2024-02", 28),
    ]
)
SPEC = parse_indicators(
    {
        "indicators": {
            "burglary": {
                "title": "Burglary",
                "theme": "safer_stronger_communities",
                "statistic": "crude_rate",
                "multiplier": 1000,
                "numerator": {"dataset": "crime", "measure": "crimes"},
                "denominator": {"dataset": "pop", "measure": "residents"},
                "polarity": "high_is_bad",
            }
        }
    }
)


def test_parent_codes():
    codes = pd.Series(["E01022163", "E07000078", "E10000013", "west-cheltenham"])
    levels = pd.Series(["lsoa", "district", "county", "places"])
    places = {"west-cheltenham": "E10000013"}
    assert parent_codes(codes, levels, hierarchy=HIERARCHY, place_parents=places).tolist() == [
        "E07000078",
        "E10000013",
        "E92000001",
        "E10000013",
    ]
    assert parent_codes(codes, levels, hierarchy=HIERARCHY, to="england").tolist() == ["E92000001"] * 4
    assert (
        parent_codes(codes, levels, hierarchy=HIERARCHY, to="region", place_parents=places).tolist()
        == ["E12000009"] * 4
    )
    assert parent_codes(codes, levels, hierarchy=HIERARCHY, to="E10000013").tolist() == ["E10000013"] * 4


def test_benchmark_against_the_parent():
    out = benchmark(compute_indicators(PROFILE, indicators=SPEC), hierarchy=HIERARCHY).set_index(
        ["area_code", "period"]
    )
    # E01022164 in Feb: 25 per 1,000 against Cheltenham's 28/2,500 = 11.2 per 1,000 -> worse
    assert out.loc[("E01022164", "2024-02"), "comparator_value"] == pytest.approx(11.2)
    assert out.loc[("E01022164", "2024-02"), "comparison"] == "worse"
    assert out.loc[("E01022163", "2024-02"), "comparison"] == "better"
    assert out.loc[("E07000078", "2024-02"), "comparison"] == "no comparator"


def test_benchmark_all_stacks_one_benchmark_per_comparator():
    results = compute_indicators(PROFILE, indicators=SPEC)
    out = benchmark_all(results, hierarchy=HIERARCHY, comparators=("parent", "england"))
    assert out.groupby("comparator").size().to_dict() == {"england": len(results), "parent": len(results)}
    england = out[out["comparator"] == "england"]
    assert set(england["comparator_code"]) == {"E92000001"}
    with pytest.raises(SchemaError, match="no comparators"):
        benchmark_all(results, hierarchy=HIERARCHY, comparators=())


def test_shipped_indicators_for_lsoas_wards_and_districts(shipped_workspace):
    from needskit.config.indicators import load_indicators

    specs = load_indicators(shipped_workspace.project.indicators_file, catalog=shipped_workspace.catalog)
    results = shipped_workspace.store.read_indicators(comparator="parent")
    assert len(specs) >= 15
    themes = {s.theme for s in specs}
    assert {
        "safer_stronger_communities",
        "economy_skills",
        "health_older_people",
        "housing_environment",
        "children_young_people",
    } <= themes
    for level, n in (("lsoa", 393), ("ward", 137), ("district", 6)):
        part = results[results["level"] == level]
        assert set(part["indicator"]) == {s.id for s in specs}, level
        per = part.groupby("indicator")["area_code"].nunique()
        assert (per == n).all(), per[per != n]
    # every missing value says why
    assert (results.loc[results["value"].isna(), "suppressed_reason"] != "").all()
    district = results[(results["level"] == "district") & (results["indicator"] == "disability")]
    assert (
        district["comparator_code"].eq("E10000013").all()
        and district["comparison"].isin(["better", "similar", "worse"]).all()
    )
    county = results[(results["level"] == "county") & (results["indicator"] == "overcrowding")]
    assert county["comparator_code"].item() == "E92000001" and county[
        "comparator_value"
    ].item() == pytest.approx(4.37, abs=0.01)
    england = shipped_workspace.store.read_indicators(comparator="england")
    assert len(england) == len(results) and set(
        england.loc[england["level"] != "country", "comparator_code"]
    ) == {"E92000001"}


def test_a_place_across_counties_is_compared_with_its_region():
    codes = pd.Series(["partnership"])
    levels = pd.Series(["partnership"])
    places = {"partnership": "E12000009"}  # the whole area of several unitaries: its region
    assert parent_codes(codes, levels, hierarchy=HIERARCHY, place_parents=places).tolist() == ["E12000009"]
    assert parent_codes(codes, levels, hierarchy=HIERARCHY, to="region", place_parents=places).tolist() == [
        "E12000009"
    ]
    assert parent_codes(codes, levels, hierarchy=HIERARCHY, to="england", place_parents=places).tolist() == [
        "E92000001"
    ]
