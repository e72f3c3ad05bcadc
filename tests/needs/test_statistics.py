"""Indicator statistics against published worked examples (tests/data/indicators_*.csv) and invariants."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from needskit.errors import SchemaError
from needskit.needs.statistics import (
    ESP2013,
    byars_limits,
    confidence_levels,
    crude_rate,
    dsr,
    exact_poisson_limits,
    isr,
    level_label,
    life_expectancy,
    mean,
    parse_band,
    poisson_limits,
    proportion,
    wilson_limits,
    z_value,
)

DATA = Path(__file__).parents[1] / "data"
REL = 1e-9
LIMITS = ["lower_95", "upper_95", "lower_99_8", "upper_99_8"]
ESP_LABELS = [f"{a}-{a + 4}" for a in range(0, 90, 5)] + ["90+"]
LE_LABELS = ["0", "1-4"] + [f"{a}-{a + 4}" for a in range(5, 90, 5)] + ["90+"]


def oracle(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"indicators_{name}.csv", comment="#")


@pytest.fixture
def dsr_long() -> pd.DataFrame:
    """dsr_input.csv in long form: one row per area and age band."""
    wide = oracle("dsr_input")
    return wide.melt(id_vars=["age_band", "esp2013", "population"], var_name="area", value_name="count")


@pytest.fixture
def le_frame() -> pd.DataFrame:
    return oracle("life_expectancy")[["age_band", "population", "deaths"]]


# ---------------------------------------------------------------------------------------------
# Array-level limits


def test_wilson_limits_match_oracle():
    table = oracle("wilson")
    for row in table.itertuples():
        lower, upper = wilson_limits(row.x, row.n, row.confidence)
        assert float(lower) == pytest.approx(row.lower, rel=REL)
        assert float(upper) == pytest.approx(row.upper, rel=REL)


def test_wilson_limits_vectorised_and_missing():
    lower, upper = wilson_limits([65, np.nan, 5], [100, 100, 0], 0.95)
    assert lower.shape == (3,)
    assert lower[0] == pytest.approx(0.55254443296887967, rel=REL)
    assert np.isnan(lower[1]) and np.isnan(upper[1])
    assert np.isnan(lower[2]) and np.isnan(upper[2])  # n = 0


def test_byars_limits_match_oracle():
    table = oracle("byars")
    lower, upper = byars_limits(table["x"].to_numpy(), 0.95)
    np.testing.assert_allclose(lower, table["lower"], rtol=REL)
    np.testing.assert_allclose(upper, table["upper"], rtol=REL)


def test_byars_limits_zero_count_is_finite():
    # PHStatsMethods' byars_upper raises on zero counts; here L = 0 and U is the formula.
    lower, upper = byars_limits(0, 0.95)
    z = 1.959963985
    assert float(lower) == 0.0
    assert float(upper) == pytest.approx((1 - 1 / 9 + z / 3) ** 3, rel=1e-9)


def test_exact_poisson_limits_zero_and_textbook_values():
    lower, upper = exact_poisson_limits([0, 2, 9], 0.95)
    assert lower[0] == 0.0
    assert upper[0] == pytest.approx(-math.log(0.025), rel=1e-12)  # U = -ln(alpha/2)
    # Exact Poisson 95% limits from published tables: 2 -> 0.2422-7.2247, 9 -> 4.1153-17.0848.
    assert lower[1] == pytest.approx(0.2422, abs=1e-4) and upper[1] == pytest.approx(7.2247, abs=1e-4)
    assert lower[2] == pytest.approx(4.1153, abs=1e-4) and upper[2] == pytest.approx(17.0848, abs=1e-4)


def test_poisson_limits_switch_at_ten():
    x = np.array([9.0, 10.0])
    lower, upper = poisson_limits(x, 0.95)
    exact = exact_poisson_limits(x, 0.95)
    byar = byars_limits(x, 0.95)
    assert lower[0] == exact[0][0] and upper[0] == exact[1][0]
    assert lower[1] == byar[0][1] and upper[1] == byar[1][1]


def test_limits_keep_shape_for_scalars_and_grids():
    lower, upper = poisson_limits([[1, 20], [30, np.nan]], 0.95)
    assert lower.shape == upper.shape == (2, 2)
    assert lower[0, 0] == pytest.approx(0.025317807984289896, rel=REL)  # exact, as crude_rate.csv x = 1
    assert lower[0, 1] == pytest.approx(12.211428834875936, rel=REL)  # Byar's, as crude_rate.csv x = 20
    assert np.isnan(lower[1, 1]) and np.isnan(upper[1, 1])
    scalar_lower, _ = poisson_limits(5, 0.95)
    assert scalar_lower.shape == () and float(scalar_lower) == pytest.approx(1.6234863901184199, rel=REL)


def test_z_values_and_labels():
    assert z_value(0.95) == pytest.approx(1.959963985, rel=1e-9)
    assert z_value(0.998) == pytest.approx(3.090232306, rel=1e-9)
    assert level_label(0.95) == "95"
    assert level_label(0.998) == "99_8"
    assert level_label(0.99) == "99"


@pytest.mark.parametrize(
    ("confidence", "match"),
    [
        (95, r"0\.95, not 95"),
        (0.5, r"outside \[0\.9, 1\)"),
        (1.0, r"outside \[0\.9, 1\)"),
        ((0.95, 0.95), "repeats a level"),
        ("0.95", "is not a number"),
        ((), "is empty"),
    ],
)
def test_confidence_validation(confidence, match):
    with pytest.raises(SchemaError, match=match):
        confidence_levels(confidence)


def test_parse_band_variants():
    assert parse_band("0-4") == (0, 4)
    assert parse_band("85 – 89") == (85, 89)
    assert parse_band("90 +") == (90, math.inf)
    assert parse_band("90 and over") == (90, math.inf)
    assert parse_band("<1") == (0, 0)
    assert parse_band(5) == (5, None)
    assert parse_band("five") is None
    assert parse_band("9-5") is None


# ---------------------------------------------------------------------------------------------
# Proportion


def test_proportion_matches_wilson_oracle_per_row():
    table = oracle("wilson")
    for level, rows in table.groupby("confidence"):
        result = proportion(rows[["x", "n"]], numerator="x", denominator="n", confidence=level, multiplier=1)
        label = level_label(level)
        np.testing.assert_allclose(result[f"lower_{label}"], rows["lower"], rtol=REL)
        np.testing.assert_allclose(result[f"upper_{label}"], rows["upper"], rtol=REL)
        np.testing.assert_allclose(result["value"], rows["x"] / rows["n"], rtol=REL)
        assert (result["method"] == "Wilson").all()
        assert (result["suppressed_reason"] == "").all()


def test_proportion_per_row_keeps_columns_index_and_input():
    frame = pd.DataFrame(
        {"area": ["A", "B"], "note": ["x", "y"], "num": [65, 1045], "den": [100, 5000]}, index=[10, 20]
    )
    before = frame.copy()
    result = proportion(frame, numerator="num", denominator="den")
    pd.testing.assert_frame_equal(frame, before)
    assert list(result.index) == [10, 20]
    assert list(result.columns) == [
        "area",
        "note",
        "num",
        "den",
        "value",
        *LIMITS,
        "method",
        "suppressed_reason",
    ]
    assert result.loc[10, "value"] == pytest.approx(65.0)
    assert result.loc[20, "lower_95"] == pytest.approx(19.795549880013297, rel=REL)
    assert result.loc[20, "upper_99_8"] == pytest.approx(22.731562902525818, rel=REL)


def test_proportion_by_sums_within_groups_first():
    frame = pd.DataFrame({"district": ["D1", "D1", "D2"], "num": [40, 25, 20], "den": [60, 40, 100]})
    result = proportion(frame, numerator="num", denominator="den", by="district", confidence=0.95)
    assert list(result.columns) == [
        "district",
        "num",
        "den",
        "value",
        "lower_95",
        "upper_95",
        "method",
        "suppressed_reason",
    ]
    d1 = result.set_index("district").loc["D1"]
    assert (d1["num"], d1["den"]) == (65, 100)
    assert d1["lower_95"] == pytest.approx(0.55254443296887967 * 100, rel=REL)
    assert result.set_index("district").loc["D2", "upper_95"] == pytest.approx(
        0.28882916559315885 * 100, rel=REL
    )


def test_proportion_missing_and_zero_denominator_carry_reasons():
    frame = pd.DataFrame(
        {"g": ["a", "a", "b", "c"], "num": [1.0, np.nan, 0.0, 3.0], "den": [10.0, 10.0, 0.0, np.nan]}
    )
    per_row = proportion(frame, numerator="num", denominator="den")
    assert per_row["suppressed_reason"].tolist() == [
        "",
        "missing numerator",
        "denominator is zero",
        "missing denominator",
    ]
    assert per_row["value"].isna().tolist() == [False, True, True, True]
    assert per_row.loc[per_row["value"].isna(), "suppressed_reason"].ne("").all()
    grouped = proportion(frame, numerator="num", denominator="den", by="g").set_index("g")
    # One missing numerator makes the group missing rather than silently summing it as zero.
    assert (
        np.isnan(grouped.loc["a", "value"]) and grouped.loc["a", "suppressed_reason"] == "missing numerator"
    )


def test_proportion_errors():
    frame = pd.DataFrame({"num": [5, 12], "den": [10, 10]})
    with pytest.raises(SchemaError, match="numerator above its denominator"):
        proportion(frame, numerator="num", denominator="den")
    with pytest.raises(SchemaError, match="negative values"):
        proportion(pd.DataFrame({"num": [-1], "den": [10]}), numerator="num", denominator="den")
    with pytest.raises(SchemaError, match="numerator='events' is not a column"):
        proportion(frame, numerator="events", denominator="den")
    with pytest.raises(SchemaError, match="is not numeric"):
        proportion(pd.DataFrame({"num": ["a"], "den": [1]}), numerator="num", denominator="den")
    with pytest.raises(SchemaError, match="already has columns"):
        proportion(pd.DataFrame({"num": [1], "den": [2], "value": [0.5]}), numerator="num", denominator="den")
    with pytest.raises(SchemaError, match="also an input"):
        proportion(pd.DataFrame({"num": [1], "den": [2]}), numerator="num", denominator="den", by="num")
    with pytest.raises(SchemaError, match="not a DataFrame"):
        proportion([1, 2], numerator="num", denominator="den")
    with pytest.raises(SchemaError, match=r"outside \[0\.9, 1\)"):
        proportion(pd.DataFrame({"num": [1], "den": [2]}), numerator="num", denominator="den", confidence=0.8)


# ---------------------------------------------------------------------------------------------
# Crude rate


def test_crude_rate_matches_oracle():
    table = oracle("crude_rate")
    result = crude_rate(table[["x", "n"]], count="x", population="n", confidence=0.95, multiplier=100_000)
    np.testing.assert_allclose(result["value"], table["value"], rtol=REL)
    np.testing.assert_allclose(result["lower_95"], table["lower"], rtol=REL)
    np.testing.assert_allclose(result["upper_95"], table["upper"], rtol=REL)
    expected_method = table["method"].map({"exact": "Exact Poisson", "byars": "Byar"})
    assert result["method"].tolist() == expected_method.tolist()


def test_crude_rate_zero_events_and_count_above_population():
    frame = pd.DataFrame({"x": [0, 150], "n": [1000, 100]})
    result = crude_rate(frame, count="x", population="n", confidence=0.95)
    assert result.loc[0, "value"] == 0.0
    assert result.loc[0, "lower_95"] == 0.0
    assert result.loc[0, "upper_95"] == pytest.approx(-math.log(0.025) / 1000 * 100_000, rel=1e-12)
    assert result.loc[1, "value"] == pytest.approx(150_000.0)  # repeat events: above 100%
    assert result["suppressed_reason"].tolist() == ["", ""]


def test_crude_rate_by_group_and_reasons():
    frame = pd.DataFrame({"d": ["a", "a", "b", "c"], "x": [10, 10, 3, 4], "n": [1000, 1000, 0, np.nan]})
    result = crude_rate(frame, count="x", population="n", by="d").set_index("d")
    assert result.loc["a", "x"] == 20 and result.loc["a", "n"] == 2000
    assert result.loc["a", "value"] == pytest.approx(1000.0)
    assert result.loc["a", "method"] == "Byar"
    assert result.loc["b", "suppressed_reason"] == "denominator is zero"
    assert result.loc["c", "suppressed_reason"] == "missing denominator"
    assert result.loc[["b", "c"], "value"].isna().all()


def test_crude_rate_errors():
    with pytest.raises(SchemaError, match="negative values"):
        crude_rate(pd.DataFrame({"x": [-1], "n": [10]}), count="x", population="n")
    with pytest.raises(SchemaError, match="population='pop' is not a column"):
        crude_rate(pd.DataFrame({"x": [1], "n": [10]}), count="x", population="pop")
    with pytest.raises(SchemaError, match="is not a column name"):
        crude_rate(pd.DataFrame({"x": [1], "n": [10]}), count=["x"], population="n")


# ---------------------------------------------------------------------------------------------
# Mean


def test_mean_student_t_hand_computed():
    # values 2,4,4,4,5,5,7,9: mean 5, sample variance 32/7, t(0.975, 7 d.f.) = 2.364624252 (tables)
    frame = pd.DataFrame({"v": [2, 4, 4, 4, 5, 5, 7, 9, np.nan]})
    result = mean(frame, value="v", confidence=0.95)
    half = 2.364624252 * math.sqrt(32 / 7) / math.sqrt(8)
    assert result["value"].item() == pytest.approx(5.0)
    assert result["lower_95"].item() == pytest.approx(5 - half, rel=1e-9)
    assert result["upper_95"].item() == pytest.approx(5 + half, rel=1e-9)
    assert result["value_count"].item() == 8 and result["value_missing"].item() == 1
    assert result["method"].item() == "Student t"


def test_mean_by_group_small_groups_have_reasons():
    frame = pd.DataFrame({"g": ["a", "a", "a", "b", "c"], "v": [1.0, 2.0, 3.0, 4.0, np.nan]})
    result = mean(frame, value="v", by="g").set_index("g")
    assert result.loc["a", "value"] == pytest.approx(2.0)
    assert result.loc["a", "suppressed_reason"] == ""
    assert result.loc["b", "value"] == 4.0 and np.isnan(result.loc["b", "lower_95"])
    assert result.loc["b", "suppressed_reason"] == "fewer than 2 values"
    assert np.isnan(result.loc["c", "value"]) and result.loc["c", "suppressed_reason"] == "no values"


def test_mean_errors():
    with pytest.raises(SchemaError, match="value='score' is not a column"):
        mean(pd.DataFrame({"v": [1.0]}), value="score")


# ---------------------------------------------------------------------------------------------
# DSR


def test_dsr_matches_oracle(dsr_long):
    expected = oracle("dsr_expected")
    result = dsr(
        dsr_long, count="count", population="population", age_band="age_band", by="area", confidence=0.95
    )
    result = result.set_index("area").loc[expected["area"]]
    np.testing.assert_allclose(result["count"], expected["total_count"], rtol=REL)
    np.testing.assert_allclose(result["value"], expected["value"], rtol=REL)
    np.testing.assert_allclose(result["lower_95"], expected["lower_95"], rtol=REL)
    np.testing.assert_allclose(result["upper_95"], expected["upper_95"], rtol=REL)
    assert result.loc["tiny", "suppressed_reason"] == "fewer than 10 events"
    assert result.loc[["big", "small"], "suppressed_reason"].eq("").all()
    assert (result["method"] == "Dobson").all()


def test_dsr_output_schema_and_levels(dsr_long):
    result = dsr(dsr_long, count="count", population="population", age_band="age_band", by="area")
    assert list(result.columns) == [
        "area",
        "count",
        "population",
        "value",
        *LIMITS,
        "method",
        "suppressed_reason",
    ]
    big = result.set_index("area").loc["big"]
    assert big["lower_99_8"] < big["lower_95"] < big["value"] < big["upper_95"] < big["upper_99_8"]
    tiny = result.set_index("area").loc["tiny", ["value", *LIMITS]]
    assert tiny.isna().all()


def test_dsr_label_forms_and_standard_column_agree(dsr_long):
    base = dsr(dsr_long, count="count", population="population", age_band="age_band", by="area")
    starts = dsr_long.assign(age_band=dsr_long["age_band"].map(lambda s: int(s.split("-")[0].rstrip("+"))))
    spaced = dsr_long.assign(age_band=dsr_long["age_band"].str.replace("-", " - ").str.replace("+", " +"))
    as_column = dsr(
        dsr_long, count="count", population="population", age_band="age_band", by="area", standard="esp2013"
    )
    custom = dsr(
        dsr_long.rename(columns={"esp2013": "std"}),
        count="count",
        population="population",
        age_band="age_band",
        by="area",
        standard="std",
    )
    for other in (
        dsr(starts, count="count", population="population", age_band="age_band", by="area"),
        dsr(spaced, count="count", population="population", age_band="age_band", by="area"),
        as_column,
        custom,
    ):
        pd.testing.assert_frame_equal(other, base)


def test_dsr_esp2013_weights():
    assert len(ESP2013) == 19 and sum(ESP2013) == 100_000
    # Events only in 90+: DSR = w_90 * x/n / sum(w) = 1000 * 50/100 / 100000 per person.
    frame = pd.DataFrame({"age": ESP_LABELS, "x": [0] * 18 + [50], "n": [100] * 19})
    result = dsr(frame, count="x", population="n", age_band="age", multiplier=1)
    assert result["value"].item() == pytest.approx(1000 * 0.5 / 100_000, rel=1e-12)


def test_dsr_sums_rows_of_the_same_band_and_matches_per_group(dsr_long):
    halves = pd.concat(
        [dsr_long.assign(count=dsr_long["count"] / 2, population=dsr_long["population"] / 2)] * 2
    )
    base = dsr(dsr_long, count="count", population="population", age_band="age_band", by="area")
    split = dsr(halves, count="count", population="population", age_band="age_band", by="area")
    pd.testing.assert_frame_equal(split, base, rtol=1e-12)
    single = dsr(
        dsr_long[dsr_long["area"] == "small"], count="count", population="population", age_band="age_band"
    )
    assert single["value"].item() == pytest.approx(base.set_index("area").loc["small", "value"], rel=1e-12)


def test_dsr_population_problems_are_reasons(dsr_long):
    frame = dsr_long.copy()
    frame.loc[(frame["area"] == "big") & (frame["age_band"] == "0-4"), "population"] = 0
    frame.loc[(frame["area"] == "small") & (frame["age_band"] == "90+"), "population"] = np.nan
    result = dsr(frame, count="count", population="population", age_band="age_band", by="area").set_index(
        "area"
    )
    assert result.loc["big", "suppressed_reason"] == "population is zero in an age band"
    assert result.loc["small", "suppressed_reason"] == "missing population"
    assert np.isnan(result.loc["small", "population"])
    assert result.loc[["big", "small"], "value"].isna().all()


def test_dsr_errors(dsr_long):
    kwargs = {"count": "count", "population": "population", "age_band": "age_band"}
    lacking = dsr_long[~((dsr_long["area"] == "small") & (dsr_long["age_band"] == "90+"))]
    with pytest.raises(SchemaError, match=r"missing age bands.*'small' lacks 90\+"):
        dsr(lacking, by="area", **kwargs)
    with pytest.raises(SchemaError, match=r"is missing age bands.*no rows for 0-4"):
        dsr(dsr_long[dsr_long["age_band"] != "0-4"], **kwargs)
    with pytest.raises(SchemaError, match="not ESP2013 age bands"):
        dsr(dsr_long.replace({"age_band": {"0-4": "0-5"}}), by="area", **kwargs)
    with pytest.raises(SchemaError, match="not a known standard"):
        dsr(dsr_long, by="area", standard="who2000", **kwargs)
    with pytest.raises(SchemaError, match="negative values"):
        dsr(dsr_long.assign(count=-dsr_long["count"]), by="area", **kwargs)
    uneven = dsr_long.copy()
    uneven.loc[uneven["area"] == "big", "esp2013"] += 1
    with pytest.raises(SchemaError, match="different standard populations for the same band"):
        dsr(uneven.rename(columns={"esp2013": "std"}), by="area", standard="std", **kwargs)


# ---------------------------------------------------------------------------------------------
# ISR


def _isr_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area": ["A", "A", "B", "B"],
            "obs": [3, 6, 20, 30],
            "pop": [1000, 500, 1000, 500],
            "ref_x": [20, 100, 20, 100],
            "ref_n": [10_000, 5000, 10_000, 5000],
        }
    )


def test_isr_ratio_hand_computed():
    # Area A: E = 1000*20/10000 + 500*100/5000 = 2 + 10 = 12; O = 9 -> ratio 0.75.
    # Exact Poisson 95% limits of 9 (tables): 4.1153, 17.0848 -> 0.34294, 1.42373.
    result = isr(
        _isr_frame(),
        count="obs",
        population="pop",
        reference_count="ref_x",
        reference_population="ref_n",
        by="area",
    ).set_index("area")
    assert result.loc["A", "expected"] == pytest.approx(12.0)
    assert result.loc["A", "value"] == pytest.approx(0.75)
    assert result.loc["A", "lower_95"] == pytest.approx(4.1153 / 12, abs=1e-5)
    assert result.loc["A", "upper_95"] == pytest.approx(17.0848 / 12, abs=1e-5)
    assert result.loc["A", "method"] == "Exact Poisson"
    # Area B: O = 50 -> Byar's limits of 50 over E = 12.
    lower, upper = byars_limits(50, 0.95)
    assert result.loc["B", "value"] == pytest.approx(50 / 12)
    assert result.loc["B", "lower_95"] == pytest.approx(float(lower) / 12, rel=1e-12)
    assert result.loc["B", "upper_95"] == pytest.approx(float(upper) / 12, rel=1e-12)
    assert result.loc["B", "method"] == "Byar"
    assert list(result.reset_index().columns) == [
        "area",
        "obs",
        "pop",
        "expected",
        "value",
        *LIMITS,
        "method",
        "suppressed_reason",
    ]


def test_isr_rate_and_multiplier():
    # Reference crude rate = (20 + 100) / (10000 + 5000) = 0.008 -> 800 per 100,000; A: 0.75 * 800 = 600.
    common = {
        "count": "obs",
        "population": "pop",
        "reference_count": "ref_x",
        "reference_population": "ref_n",
    }
    rate = isr(_isr_frame(), by="area", kind="rate", **common).set_index("area")
    assert rate.loc["A", "value"] == pytest.approx(600.0)
    smr = isr(_isr_frame(), by="area", multiplier=100, **common).set_index("area")
    assert smr.loc["A", "value"] == pytest.approx(75.0)
    whole = isr(_isr_frame(), **common)
    assert whole["value"].item() == pytest.approx(59 / 24)


def test_isr_zero_expected_and_errors():
    common = {
        "count": "obs",
        "population": "pop",
        "reference_count": "ref_x",
        "reference_population": "ref_n",
    }
    zero = _isr_frame().assign(ref_x=0)
    result = isr(zero, by="area", **common)
    assert result["suppressed_reason"].eq("expected count is zero").all() and result["value"].isna().all()
    with pytest.raises(SchemaError, match="zero or less"):
        isr(_isr_frame().assign(ref_n=0), **common)
    with pytest.raises(SchemaError, match="'ratio' or 'rate'"):
        isr(_isr_frame(), kind="smr", **common)
    with pytest.raises(SchemaError, match="has missing values"):
        isr(_isr_frame().assign(ref_x=np.nan), **common)


# ---------------------------------------------------------------------------------------------
# Life expectancy


def test_life_expectancy_methods_md_worked_example(le_frame):
    result = life_expectancy(le_frame, deaths="deaths", population="population", age_band="age_band")
    row = result.iloc[0]
    assert row["start_age"] == 0
    assert row["value"] == pytest.approx(80.16960813, rel=1e-9)
    # The published limits 79.88268548-80.45653078 were computed with z = 1.96; PHEindicatormethods
    # (z = qnorm(0.975)) agrees with them to 4 decimal places, and so do we ...
    assert round(row["lower_95"], 4) == round(79.88268548, 4)
    assert round(row["upper_95"], 4) == round(80.45653078, 4)
    # ... and our standard error reproduces them to 1e-9 when z = 1.96 is used.
    se = (row["upper_95"] - row["lower_95"]) / (2 * z_value(0.95))
    assert row["value"] - 1.96 * se == pytest.approx(79.88268548, rel=1e-9)
    assert row["value"] + 1.96 * se == pytest.approx(80.45653078, rel=1e-9)
    assert row["method"] == "Chiang II, Silcocks" and row["suppressed_reason"] == ""
    assert row["deaths"] == le_frame["deaths"].sum() and row["population"] == le_frame["population"].sum()


def test_life_expectancy_all_ages_match_published_table(le_frame):
    expected = oracle("life_expectancy")
    result = life_expectancy(
        le_frame, deaths="deaths", population="population", age_band="age_band", at_age="all"
    )
    assert result["start_age"].tolist() == [0, 1, *range(5, 95, 5)]
    np.testing.assert_allclose(result["value"], expected["value"], rtol=1e-8)
    se = (result["upper_95"] - result["lower_95"]) / (2 * z_value(0.95))
    np.testing.assert_allclose(result["value"] - 1.96 * se, expected["lower_95"], rtol=1e-8)
    np.testing.assert_allclose(result["value"] + 1.96 * se, expected["upper_95"], rtol=1e-8)
    assert (result["lower_99_8"] < result["lower_95"]).all()


def test_life_expectancy_order_and_label_forms_do_not_matter(le_frame):
    base = life_expectancy(le_frame, deaths="deaths", population="population", age_band="age_band")
    shuffled = le_frame.sample(frac=1, random_state=3)
    starts = le_frame.assign(age_band=[0, 1, *range(5, 95, 5)])
    for other in (shuffled, starts):
        pd.testing.assert_frame_equal(
            life_expectancy(other, deaths="deaths", population="population", age_band="age_band"), base
        )


def test_life_expectancy_suppression_rules(le_frame):
    def area(name, **changes):
        frame = le_frame.copy()
        for band, (column, value) in changes.items():
            frame.loc[frame["age_band"] == band, column] = value
        return frame.assign(area=name)

    frames = [
        area("good"),
        area("negative", **{"5-9": ("deaths", -2)}),
        area("zero pop", **{"10-14": ("population", 0)}),
        area("deaths above pop", **{"20-24": ("population", 10)}),
        area("no 90+ deaths", **{"90+": ("deaths", 0)}),
        area("small").assign(population=100, deaths=1),
        area("missing band").query("age_band != '85-89'"),
        area("missing deaths", **{"0": ("deaths", np.nan)}),
    ]
    result = life_expectancy(
        pd.concat(frames), deaths="deaths", population="population", age_band="age_band", by="area"
    ).set_index("area")
    reasons = result["suppressed_reason"].to_dict()
    assert reasons == {
        "deaths above pop": "deaths exceed population in an age band",
        "good": "",
        "missing band": "age band missing",
        "missing deaths": "missing deaths",
        "negative": "negative deaths in an age band",
        "no 90+ deaths": "no deaths in the 90+ band",
        "small": "total population of 5,000 or fewer",
        "zero pop": "population of zero or less in an age band",
    }
    suppressed = result.drop(index="good")
    assert suppressed[["value", *LIMITS]].isna().all().all()
    assert result.loc["good", "value"] == pytest.approx(80.16960813, rel=1e-9)


def test_life_expectancy_wide_interval_suppresses_value_keeps_limits():
    frame = pd.DataFrame({"age": LE_LABELS, "pop": [300] * 20, "deaths": [1] * 19 + [3]})
    result = life_expectancy(frame, deaths="deaths", population="pop", age_band="age")
    assert result["suppressed_reason"].item() == "95% confidence interval wider than 20 years"
    assert np.isnan(result["value"].item())
    assert result["upper_95"].item() - result["lower_95"].item() > 20


def test_life_expectancy_errors(le_frame):
    kwargs = {"deaths": "deaths", "population": "population", "age_band": "age_band"}
    with pytest.raises(SchemaError, match="not the start of a life-table band"):
        life_expectancy(le_frame, at_age=3, **kwargs)
    with pytest.raises(SchemaError, match="not life-table age bands"):
        life_expectancy(le_frame.replace({"age_band": {"0": "0-4"}}), **kwargs)
    with pytest.raises(SchemaError, match="is not a known option"):
        life_expectancy(le_frame, at_age="birth", **kwargs)
    with pytest.raises(SchemaError, match="deaths='d' is not a column"):
        life_expectancy(le_frame, deaths="d", population="population", age_band="age_band")


def test_nullable_integer_columns_are_accepted():
    frame = pd.DataFrame(
        {"x": pd.array([65, None, 12], dtype="Int64"), "n": pd.array([100, 100, 10], dtype="Int64")}
    )
    with pytest.raises(SchemaError, match="numerator above its denominator"):
        proportion(frame, numerator="x", denominator="n")
    result = proportion(frame.iloc[:2], numerator="x", denominator="n", confidence=0.95)
    assert result.loc[0, "lower_95"] == pytest.approx(55.254443296887967, rel=REL)
    assert result.loc[1, "suppressed_reason"] == "missing numerator"
