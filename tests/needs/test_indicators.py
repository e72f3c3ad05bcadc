"""needskit.needs.indicators: indicators from a pooled profile, on hand-built profiles and the shipped data."""

from __future__ import annotations

import pandas as pd
import pytest

from needskit.cli import main
from needskit.config.catalog import load_catalog, load_indicators, parse_indicators
from needskit.config.project import project_dir
from needskit.errors import CatalogError, SchemaError
from needskit.needs.indicators import benchmark, compute_indicators, parent_codes
from needskit.needs.statistics import poisson_limits, wilson_limits
from needskit.partner_data.pooling import pool_catalog

ROOT = project_dir()


def _profile(rows):
    frame = pd.DataFrame(rows, columns=["area_code", "level", "dataset", "measure", "category", "period", "value"])
    return frame.assign(area_name=frame["area_code"])


def _spec(**indicator):
    return parse_indicators({"indicators": {"test": indicator}})


PROFILE = _profile(
    [
        # residents (one period) and crimes (two months) in two LSOAs of Cheltenham and their district
        ("E01022163", "lsoa", "pop", "residents", "all", "2021", 1500),
        ("E01022164", "lsoa", "pop", "residents", "all", "2021", 1000),
        ("E07000078", "district", "pop", "residents", "all", "2021", 2500),
        ("E01022163", "lsoa", "crime", "crimes", "Burglary", "2024-01", 6),
        ("E01022163", "lsoa", "crime", "crimes", "Robbery", "2024-01", 4),
        ("E01022163", "lsoa", "crime", "crimes", "Burglary", "2024-02", 3),
        ("E01022164", "lsoa", "crime", "crimes", "Burglary", "2024-01", 0),
        ("E01022164", "lsoa", "crime", "crimes", "Burglary", "2024-02", 25),
        ("E07000078", "district", "crime", "crimes", "Burglary", "2024-01", 6),
        ("E07000078", "district", "crime", "crimes", "Robbery", "2024-01", 4),
        ("E07000078", "district", "crime", "crimes", "Burglary", "2024-02", 28),
        ("E92000001", "country", "pop_national", "residents", "all", "2021", 56_000_000),
    ]
)


def test_crude_rate_per_area_and_period_with_combined_period():
    spec = _spec(
        title="Burglary", theme="safer_stronger_communities", statistic="crude_rate", multiplier=1000,
        numerator={"dataset": "crime", "measure": "crimes", "category": "Burglary"},
        denominator={"dataset": "pop", "measure": "residents"}, polarity="high_is_bad", combine_periods=True,
    )
    out = compute_indicators(PROFILE, indicators=spec).set_index(["area_code", "period"])
    row = out.loc[("E01022163", "2024-01")]
    assert row["numerator"] == 6 and row["denominator"] == 1500
    assert row["value"] == pytest.approx(4.0)
    lower, upper = poisson_limits(6, 0.95)
    assert row["lower_95"] == pytest.approx(lower / 1500 * 1000) and row["upper_95"] == pytest.approx(upper / 1500 * 1000)
    assert out.loc[("E01022164", "2024-01"), "value"] == 0.0  # a true zero
    combined = out.loc[("E01022164", "2024-01/2024-02")]
    assert combined["numerator"] == 25 and combined["value"] == pytest.approx(25.0)
    assert set(out["suppressed_reason"]) == {""}


def test_proportion_categories_exclusions_and_fallback_datasets():
    spec = _spec(
        title="Share of crime that is not robbery", theme="safer_stronger_communities", statistic="proportion",
        numerator={"dataset": "crime", "measure": "crimes", "exclude": ["Robbery"]},
        denominator={"dataset": "crime", "measure": "crimes"}, polarity="no_judgement",
    )
    out = compute_indicators(PROFILE, indicators=spec).set_index(["area_code", "period"])
    row = out.loc[("E01022163", "2024-01")]
    lower, upper = wilson_limits(6, 10, 0.95)
    assert row["value"] == pytest.approx(60.0)
    assert row["lower_95"] == pytest.approx(lower * 100) and row["upper_95"] == pytest.approx(upper * 100)
    fallback = _spec(
        title="Residents", theme="cross_cutting", statistic="crude_rate", multiplier=1,
        numerator={"dataset": ["pop", "pop_national"], "measure": "residents"},
        denominator={"dataset": ["pop", "pop_national"], "measure": "residents"}, polarity="no_judgement",
    )
    out = compute_indicators(PROFILE, indicators=fallback)
    assert set(out["area_code"]) == {"E01022163", "E01022164", "E07000078", "E92000001"}


def test_numerator_above_denominator_is_refused():
    spec = _spec(
        title="Impossible", theme="cross_cutting", statistic="proportion",
        numerator={"dataset": "crime", "measure": "crimes"}, denominator={"dataset": "crime", "measure": "crimes", "category": "Robbery"},
        polarity="high_is_bad",
    )
    with pytest.raises(SchemaError, match="numerator above denominator"):
        compute_indicators(PROFILE, indicators=spec)


def test_indicator_definitions_are_checked():
    with pytest.raises(CatalogError, match="needs a numerator and a denominator"):
        _spec(title="x", theme="cross_cutting", statistic="proportion", numerator={"dataset": "a", "measure": "m"}, polarity="high_is_bad")
    with pytest.raises(CatalogError, match="'polarity' is not a known value"):
        _spec(title="x", theme="cross_cutting", statistic="value", value={"dataset": "a", "measure": "m"}, polarity="up")
    with pytest.raises(CatalogError, match="not in the catalogue"):
        parse_indicators(
            {"indicators": {"x": {"title": "x", "theme": "cross_cutting", "statistic": "value", "value": {"dataset": "nope", "measure": "m"}, "polarity": "high_is_bad"}}},
            catalog=load_catalog(ROOT / "conf" / "catalog.yml"),
        )


def test_parent_codes_and_benchmark():
    codes = pd.Series(["E01022163", "E07000078", "E10000013"])
    levels = pd.Series(["lsoa", "district", "county"])
    assert parent_codes(codes, levels).tolist() == ["E07000078", "E10000013", "E92000001"]
    assert parent_codes(codes, levels, to="england").tolist() == ["E92000001"] * 3
    spec = _spec(
        title="Burglary", theme="safer_stronger_communities", statistic="crude_rate", multiplier=1000,
        numerator={"dataset": "crime", "measure": "crimes", "category": "Burglary"},
        denominator={"dataset": "pop", "measure": "residents"}, polarity="high_is_bad",
    )
    out = benchmark(compute_indicators(PROFILE, indicators=spec)).set_index(["area_code", "period"])
    # E01022164 in Feb: 25 per 1,000 against Cheltenham's 28/2,500 = 11.2 per 1,000 -> worse
    assert out.loc[("E01022164", "2024-02"), "comparator_value"] == pytest.approx(11.2)
    assert out.loc[("E01022164", "2024-02"), "comparison"] == "worse"
    assert out.loc[("E01022163", "2024-02"), "comparison"] == "better"
    assert out.loc[("E07000078", "2024-02"), "comparison"] == "no comparator"


@pytest.fixture(scope="module")
def shipped_indicators():
    catalog = load_catalog(ROOT / "conf" / "catalog.yml")
    specs = load_indicators(ROOT / "conf" / "indicators.yml", catalog=catalog)
    profile = pool_catalog(catalog, progress=False).profile
    return specs, benchmark(compute_indicators(profile, indicators=specs))


def test_shipped_indicators_for_lsoas_wards_and_districts(shipped_indicators):
    specs, results = shipped_indicators
    assert len(specs) >= 15
    themes = {s.theme for s in specs}
    assert {"safer_stronger_communities", "economy_skills", "health_older_people", "housing_environment", "children_young_people"} <= themes
    for level, n in (("lsoa", 393), ("ward", 137), ("district", 6)):
        part = results[results["level"] == level]
        assert set(part["indicator"]) == {s.id for s in specs}, level
        per = part.groupby("indicator")["area_code"].nunique()
        assert (per == n).all(), per[per != n]
    # every missing value says why
    assert (results.loc[results["value"].isna(), "suppressed_reason"] != "").all()
    district = results[(results["level"] == "district") & (results["indicator"] == "disability")]
    assert district["comparator_code"].eq("E10000013").all() and district["comparison"].isin(["better", "similar", "worse"]).all()
    county = results[(results["level"] == "county") & (results["indicator"] == "overcrowding")]
    assert county["comparator_code"].item() == "E92000001" and county["comparator_value"].item() == pytest.approx(4.37, abs=0.01)


def test_cli_indicators(tmp_path, capsys):
    profile = tmp_path / "profile.parquet"
    catalog = load_catalog(ROOT / "conf" / "catalog.yml")
    pool_catalog(catalog, progress=False, datasets=["police_street_crime", "population_census2021"]).profile.to_parquet(profile)
    small = tmp_path / "indicators.yml"
    small.write_text((ROOT / "conf" / "indicators.yml").read_text().split("  # ------------------------------------------------------------ economy")[0])
    code = main(["indicators", "--profile", str(profile), "--indicators", str(small), "--catalog", str(ROOT / "conf" / "catalog.yml"),
                 "--level", "district", "--out", str(tmp_path)])
    assert code == 0
    assert "district: 6 indicators" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "indicators_district.csv")) == 6 * 6 * 5
    assert main(["indicators", "--profile", str(tmp_path / "none.parquet")]) == 2
