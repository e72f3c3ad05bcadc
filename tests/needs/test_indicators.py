"""needskit.needs.indicators: indicators from a pooled profile, on hand-built profiles and the
shipped data."""

from __future__ import annotations

import pandas as pd
import pytest

from needskit.config.catalog import load_catalog
from needskit.config.indicators import parse_indicators
from needskit.config.project import project_dir
from needskit.errors import CatalogError, SchemaError
from needskit.needs import statistics as stats
from needskit.needs.indicators import INDICATOR_COLUMNS, compute_indicators
from needskit.needs.statistics import poisson_limits, wilson_limits

ESP_BANDS = [f"{a}-{a + 4}" for a in range(0, 90, 5)] + ["90+"]
LIFE_BANDS = ["0", "1-4"] + [f"{a}-{a + 4}" for a in range(5, 90, 5)] + ["90+"]

ROOT = project_dir()


def _profile(rows):
    frame = pd.DataFrame(
        rows, columns=["area_code", "level", "dataset", "measure", "category", "period", "value"]
    )
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
        title="Burglary",
        theme="safer_stronger_communities",
        statistic="crude_rate",
        multiplier=1000,
        numerator={"dataset": "crime", "measure": "crimes", "category": "Burglary"},
        denominator={"dataset": "pop", "measure": "residents"},
        polarity="high_is_bad",
        combine_periods=True,
    )
    out = compute_indicators(PROFILE, indicators=spec).set_index(["area_code", "period"])
    row = out.loc[("E01022163", "2024-01")]
    assert row["numerator"] == 6 and row["denominator"] == 1500
    assert row["value"] == pytest.approx(4.0)
    lower, upper = poisson_limits(6, 0.95)
    assert row["lower_95"] == pytest.approx(lower / 1500 * 1000) and row["upper_95"] == pytest.approx(
        upper / 1500 * 1000
    )
    assert out.loc[("E01022164", "2024-01"), "value"] == 0.0  # a true zero
    combined = out.loc[("E01022164", "2024-01/2024-02")]
    assert combined["numerator"] == 25 and combined["value"] == pytest.approx(25.0)
    assert set(out["suppressed_reason"]) == {""}


def test_proportion_categories_exclusions_and_fallback_datasets():
    spec = _spec(
        title="Share of crime that is not robbery",
        theme="safer_stronger_communities",
        statistic="proportion",
        numerator={"dataset": "crime", "measure": "crimes", "exclude": ["Robbery"]},
        denominator={"dataset": "crime", "measure": "crimes"},
        polarity="no_judgement",
    )
    out = compute_indicators(PROFILE, indicators=spec).set_index(["area_code", "period"])
    row = out.loc[("E01022163", "2024-01")]
    lower, upper = wilson_limits(6, 10, 0.95)
    assert row["value"] == pytest.approx(60.0)
    assert row["lower_95"] == pytest.approx(lower * 100) and row["upper_95"] == pytest.approx(upper * 100)
    fallback = _spec(
        title="Residents",
        theme="cross_cutting",
        statistic="crude_rate",
        multiplier=1,
        numerator={"dataset": ["pop", "pop_national"], "measure": "residents"},
        denominator={"dataset": ["pop", "pop_national"], "measure": "residents"},
        polarity="no_judgement",
    )
    out = compute_indicators(PROFILE, indicators=fallback)
    assert set(out["area_code"]) == {"E01022163", "E01022164", "E07000078", "E92000001"}


def test_numerator_above_denominator_is_refused():
    spec = _spec(
        title="Impossible",
        theme="cross_cutting",
        statistic="proportion",
        numerator={"dataset": "crime", "measure": "crimes"},
        denominator={"dataset": "crime", "measure": "crimes", "category": "Robbery"},
        polarity="high_is_bad",
    )
    with pytest.raises(SchemaError, match="numerator above denominator"):
        compute_indicators(PROFILE, indicators=spec)


def test_indicator_definitions_are_checked():
    with pytest.raises(CatalogError, match="needs numerator and denominator"):
        _spec(
            title="x",
            theme="cross_cutting",
            statistic="proportion",
            numerator={"dataset": "a", "measure": "m"},
            polarity="high_is_bad",
        )
    with pytest.raises(CatalogError, match="'polarity' is not a known value"):
        _spec(
            title="x",
            theme="cross_cutting",
            statistic="value",
            value={"dataset": "a", "measure": "m"},
            polarity="up",
        )
    with pytest.raises(CatalogError, match="not in the catalogue"):
        parse_indicators(
            {
                "indicators": {
                    "x": {
                        "title": "x",
                        "theme": "cross_cutting",
                        "statistic": "value",
                        "value": {"dataset": "nope", "measure": "m"},
                        "polarity": "high_is_bad",
                    }
                }
            },
            catalog=load_catalog(ROOT / "conf" / "catalog.yml"),
        )


def _age_profile(bands, *, deaths, population, areas=("A", "B"), dataset_n="deaths", dataset_d="pop"):
    rows = []
    for area in areas:
        for band, d, p in zip(bands, deaths, population, strict=True):
            rows.append((area, "lsoa", dataset_n, "deaths", band, "2021", d))
            rows.append((area, "lsoa", dataset_d, "population", band, "2021", p))
    return _profile(rows)


def _by_age_spec(statistic, **extra):
    return _spec(
        title=statistic,
        theme="health_older_people",
        statistic=statistic,
        polarity="high_is_bad",
        numerator={"dataset": "deaths", "measure": "deaths"},
        denominator={"dataset": "pop", "measure": "population"},
        **extra,
    )


def test_dsr_from_the_profile_equals_the_statistic():
    deaths = [2, 1, 0, 1, 1, 2, 3, 3, 4, 5, 6, 8, 10, 12, 15, 18, 20, 22, 25]
    population = [3000 - 100 * i for i in range(19)]
    profile = _age_profile(ESP_BANDS, deaths=deaths, population=population)
    out = compute_indicators(profile, indicators=_by_age_spec("dsr")).set_index("area_code")
    direct = stats.dsr(
        pd.DataFrame({"band": ESP_BANDS, "d": deaths, "p": population}),
        count="d",
        population="p",
        age_band="band",
    )
    assert out.loc["A", "value"] == pytest.approx(direct["value"].item())
    assert out.loc["A", "lower_95"] == pytest.approx(direct["lower_95"].item())
    assert out.loc["A", "numerator"] == sum(deaths) and out.loc["A", "method"] == "Dobson"
    assert list(out.columns) == [c for c in INDICATOR_COLUMNS if c in out.columns]


def test_isr_against_a_reference_area_in_the_profile():
    deaths = [1] * 19
    population = [1000] * 19
    profile = _age_profile(ESP_BANDS, deaths=deaths, population=population, areas=("A", "REF"))
    profile.loc[(profile["area_code"] == "REF") & (profile["measure"] == "deaths"), "value"] = (
        2  # twice the rate
    )
    spec = _by_age_spec("isr", reference="REF", multiplier=100)
    out = compute_indicators(profile, indicators=spec).set_index("area_code")
    assert out.loc["A", "value"] == pytest.approx(50.0)  # observed 19, expected 38
    assert out.loc["REF", "value"] == pytest.approx(100.0)
    with pytest.raises(SchemaError, match="reference area has no data"):
        compute_indicators(profile, indicators=_by_age_spec("isr", reference="NOWHERE"))
    with pytest.raises(CatalogError, match="needs the reference area"):
        _by_age_spec("isr")


def test_life_expectancy_from_the_profile_equals_the_statistic():
    population = [5000] * 20
    deaths = [20, 4] + [2] * 10 + [20, 40, 80, 150, 300, 600, 900, 1500]
    profile = _age_profile(LIFE_BANDS, deaths=deaths, population=population)
    out = compute_indicators(profile, indicators=_by_age_spec("life_expectancy")).set_index("area_code")
    direct = stats.life_expectancy(
        pd.DataFrame({"band": LIFE_BANDS, "d": deaths, "p": population}),
        deaths="d",
        population="p",
        age_band="band",
    )
    assert out.loc["A", "value"] == pytest.approx(direct["value"].item())
    assert 60 < out.loc["A", "value"] < 110


def test_mean_of_an_areas_neighbourhoods_with_student_t_limits():
    profile = _profile(
        [
            (code, "lsoa", "iod", "score", "all", "2025", v)
            for code, v in (("A", 10.0), ("B", 20.0), ("C", 30.0))
        ]
    )
    members = pd.DataFrame(
        {
            "lsoa": ["A", "B", "C", "A", "B", "C"],
            "area_code": ["W1", "W1", "W2", "A", "B", "C"],
            "level": ["ward", "ward", "ward", "lsoa", "lsoa", "lsoa"],
        }
    )
    spec = _spec(
        title="Mean score",
        theme="cross_cutting",
        statistic="mean",
        value={"dataset": "iod", "measure": "score"},
        polarity="high_is_bad",
    )
    out = compute_indicators(profile, indicators=spec, members=members).set_index("area_code")
    assert out.loc["W1", "value"] == pytest.approx(15.0)
    direct = stats.mean(pd.DataFrame({"v": [10.0, 20.0]}), value="v")
    assert out.loc["W1", "lower_95"] == pytest.approx(direct["lower_95"].item())
    assert out.loc["W2", "suppressed_reason"] == "fewer than 2 values"  # one neighbourhood: no interval
    assert out.loc["A", "value"] == 10.0 and out.loc["A", "method"] == "value of the neighbourhood"
    with pytest.raises(SchemaError, match="needs members"):
        compute_indicators(profile, indicators=spec)


def test_every_statistic_of_the_library_is_reachable_from_yaml():
    from needskit.config.indicators import STATISTICS

    assert set(STATISTICS) == {"proportion", "crude_rate", "mean", "dsr", "isr", "life_expectancy", "value"}
