"""needskit.needs.slope_index: the slope and relative index of inequality (SII, RII)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import needskit.needs.slope_index as slope_index
from needskit.errors import NeedskitWarning, SchemaError
from needskit.needs.deprivation import by_deprivation
from needskit.needs.slope_index import sii

Z95 = stats.norm.ppf(0.975)


def _exact_line() -> pd.DataFrame:
    # shares 0.1, 0.2, 0.3, 0.2, 0.2 -> midpoints 0.05, 0.2, 0.45, 0.7, 0.9; value = 10 + 5x exactly
    pop = np.array([100, 200, 300, 200, 200])
    mid = np.array([0.05, 0.2, 0.45, 0.7, 0.9])
    return pd.DataFrame({"quintile": range(1, 6), "pop": pop, "value": 10 + 5 * mid, "se": [0.5] * 5})


def test_sii_exact_line_hand_computed():
    out = sii(
        _exact_line(), value="value", population="pop", quantile="quintile", se="se", q=5, repetitions=1000
    )
    row = out.iloc[0]
    assert row["sii"] == pytest.approx(5.0) and row["rii"] == pytest.approx(15 / 10)
    assert row["fitted_most_deprived"] == pytest.approx(10.0) and row[
        "fitted_least_deprived"
    ] == pytest.approx(15.0)
    assert row["sii_lower_95"] < 5 < row["sii_upper_95"] and row["suppressed_reason"] == ""
    flipped = sii(
        _exact_line(),
        value="value",
        population="pop",
        quantile="quintile",
        se="se",
        q=5,
        repetitions=1000,
        direction="most_minus_least",
    ).iloc[0]
    assert flipped["sii"] == pytest.approx(-5.0) and flipped["rii"] == pytest.approx(10 / 15)
    assert flipped["sii_lower_95"] == pytest.approx(-row["sii_upper_95"])  # same draws, mirrored
    assert flipped["rii_upper_95"] == pytest.approx(1 / row["rii_lower_95"])


def test_sii_matches_weighted_least_squares_by_polyfit():
    rng = np.random.default_rng(3)
    pop = rng.integers(500, 5000, size=10)
    value = rng.normal(70, 5, size=10)
    frame = pd.DataFrame({"decile": range(1, 11), "pop": pop, "value": value, "se": np.full(10, 1.0)})
    a = pop / pop.sum()
    x = np.cumsum(a) - a / 2
    # WLS with weights a == ordinary LS of y*sqrt(a) on sqrt(a), x*sqrt(a) (phe_sii);
    # polyfit weights are sqrt(a)
    slope, intercept = np.polyfit(x, value, 1, w=np.sqrt(a))
    coef, *_ = np.linalg.lstsq(np.column_stack([np.sqrt(a), x * np.sqrt(a)]), value * np.sqrt(a), rcond=None)
    assert coef == pytest.approx([intercept, slope])
    row = sii(frame, value="value", population="pop", quantile="decile", se="se").iloc[0]
    assert row["sii"] == pytest.approx(slope) and row["rii"] == pytest.approx((intercept + slope) / intercept)


def test_sii_simulated_limits_agree_with_analytic_variance():
    rng = np.random.default_rng(4)
    pop = rng.integers(1000, 3000, size=10).astype(float)
    se = rng.uniform(0.5, 2.0, size=10)
    frame = pd.DataFrame({"decile": range(1, 11), "pop": pop, "value": np.linspace(60, 80, 10), "se": se})
    out = sii(
        frame,
        value="value",
        population="pop",
        quantile="decile",
        se="se",
        repetitions=40_000,
        confidence=(0.95, 0.998),
    ).iloc[0]
    a = pop / pop.sum()
    x = np.cumsum(a) - a / 2
    dx = x - np.sum(a * x)
    sd = np.sqrt(np.sum((a * dx / np.sum(a * dx * dx)) ** 2 * se**2))  # slope is linear in y
    for level, label in [(0.95, "95"), (0.998, "99_8")]:
        z = stats.norm.ppf((1 + level) / 2)
        assert out[f"sii_lower_{label}"] == pytest.approx(out["sii"] - z * sd, abs=0.1 * sd)
        assert out[f"sii_upper_{label}"] == pytest.approx(out["sii"] + z * sd, abs=0.1 * sd)


def test_sii_seed_is_deterministic_and_block_size_does_not_matter(monkeypatch):
    frame = pd.concat(
        [
            _exact_line().assign(area=name, value=_exact_line()["value"] * k)
            for name, k in [("A", 1.0), ("B", 1.5), ("C", 0.7)]
        ],
        ignore_index=True,
    )
    kwargs = {
        "value": "value",
        "population": "pop",
        "quantile": "quintile",
        "se": "se",
        "q": 5,
        "by": "area",
        "seed": 11,
    }
    first, second = sii(frame, **kwargs), sii(frame, **kwargs)
    pd.testing.assert_frame_equal(first, second)
    other = sii(frame, **{**kwargs, "seed": 12})
    assert (other["sii"] == first["sii"]).all()
    assert not np.allclose(other["sii_lower_95"], first["sii_lower_95"])
    monkeypatch.setattr(slope_index, "_SIM_BLOCK", 1)  # one group per block: same stream of draws
    pd.testing.assert_frame_equal(sii(frame, **kwargs), first)


def test_sii_limits_from_lower_upper_equal_those_from_se():
    frame = _exact_line()
    frame["lower"] = frame["value"] - Z95 * frame["se"]
    frame["upper"] = frame["value"] + Z95 * frame["se"]
    common = {"value": "value", "population": "pop", "quantile": "quintile", "q": 5, "seed": 5}
    from_se = sii(frame, se="se", **common)
    from_limits = sii(frame, lower="lower", upper="upper", **common)
    pd.testing.assert_frame_equal(from_se, from_limits)


def test_sii_proportion_from_counts_equals_from_wilson_limits_and_chains_from_by_deprivation():
    rng = np.random.default_rng(8)
    areas = pd.DataFrame({"decile": np.repeat(np.arange(1, 11), 3), "n": rng.integers(400, 900, 30)})
    areas["x"] = np.round(areas["n"] * np.linspace(0.35, 0.12, 30)).astype(int)
    table = by_deprivation(areas, numerator="x", denominator="n", decile="decile", confidence=0.95)
    common = {
        "population": "denominator",
        "quantile": "quantile",
        "statistic": "proportion",
        "multiplier": 100,
        "seed": 1,
    }
    counts = sii(table, numerator="numerator", denominator="denominator", **common)
    limits = sii(table, value="value", lower="lower_95", upper="upper_95", **common)
    pd.testing.assert_frame_equal(counts, limits)
    row = counts.iloc[0]
    a = (table["denominator"] / table["denominator"].sum()).to_numpy()
    x = np.cumsum(a) - a / 2
    slope, intercept = np.polyfit(x, table["value"].to_numpy(), 1, w=np.sqrt(a))
    assert row["sii"] == pytest.approx(slope) and row["sii"] < 0  # higher in the most deprived
    assert row["sii_lower_95"] < row["sii"] < row["sii_upper_95"]
    assert row["rii_lower_95"] < row["rii"] < row["rii_upper_95"] < 1


def test_sii_rate_on_log_scale():
    frame = pd.DataFrame({"decile": range(1, 11), "pop": [10_000] * 10, "deaths": np.arange(60, 10, -5)})
    out = sii(
        frame,
        numerator="deaths",
        denominator="pop",
        population="pop",
        quantile="decile",
        statistic="rate",
        multiplier=100_000,
    ).iloc[0]
    rate = frame["deaths"] / frame["pop"] * 100_000
    x = np.arange(0.05, 1, 0.1)
    slope, intercept = np.polyfit(x, rate, 1)
    assert out["sii"] == pytest.approx(slope) and out["rii"] == pytest.approx((intercept + slope) / intercept)
    assert out["sii_lower_95"] < out["sii"] < out["sii_upper_95"] < 0


def test_sii_suppresses_groups_with_reasons_never_silent_nan():
    good = _exact_line().assign(area="ok")
    missing = _exact_line().assign(area="gap").drop(index=2)
    zero_pop = _exact_line().assign(area="zero", pop=[100, 0, 300, 200, 200])
    no_value = _exact_line().assign(area="nan", value=[11.0, np.nan, 12, 13, 14])
    frame = pd.concat([good, missing, zero_pop, no_value], ignore_index=True)
    with pytest.warns(NeedskitWarning, match="3 of 4 groups suppressed"):
        out = sii(frame, value="value", population="pop", quantile="quintile", se="se", q=5, by="area")
    out = out.set_index("area")
    assert out.loc["ok", "suppressed_reason"] == "" and out.loc["ok", "sii"] == pytest.approx(5.0)
    assert out.loc["gap", "suppressed_reason"] == "quantiles missing: [3]; the SII needs all 5"
    assert out.loc["zero", "suppressed_reason"] == "population zero or missing in quantiles [2]"
    assert out.loc["nan", "suppressed_reason"] == "value missing in quantiles [2]"
    suppressed = out.drop(index="ok")
    assert suppressed[["sii", "sii_lower_95", "rii", "rii_upper_95"]].isna().all().all()
    assert (suppressed["method"] == "").all()


def test_sii_proportion_of_zero_is_suppressed():
    frame = _exact_line().assign(value=[0.0, 10, 20, 30, 40])
    with pytest.warns(NeedskitWarning):
        out = sii(
            frame,
            value="value",
            population="pop",
            quantile="quintile",
            se="se",
            q=5,
            statistic="proportion",
            multiplier=100,
        )
    assert "no logit" in out.loc[0, "suppressed_reason"] and np.isnan(out.loc[0, "sii"])


def test_sii_without_rii_and_large_grouped_run():
    rng = np.random.default_rng(0)
    groups = 300
    frame = pd.DataFrame(
        {
            "la": np.repeat(np.arange(groups), 10),
            "decile": np.tile(np.arange(1, 11), groups),
            "pop": rng.integers(1000, 20_000, groups * 10),
            "value": rng.normal(50, 5, groups * 10),
            "se": rng.uniform(0.5, 2, groups * 10),
        }
    )
    out = sii(frame, value="value", population="pop", quantile="decile", se="se", by="la", rii=False)
    assert len(out) == groups and "rii" not in out.columns
    assert (out["sii_lower_95"] < out["sii"]).all() and (out["sii"] < out["sii_upper_95"]).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"repetitions": 999}, "repetitions: is too small"),
        ({"q": 4}, "q: is not a usable number of quantiles"),
        ({"se": None}, "needs exactly one source"),
        ({"lower": "value"}, "needs exactly one source"),
        ({"se": None, "lower": "value"}, "needs both limits"),
        ({"se": None, "numerator": "value"}, "needs both counts"),
        ({"se": None, "numerator": "value", "denominator": "pop"}, "statistic='normal'"),
        ({"value": None}, "no value to regress"),
        ({"statistic": "mean"}, "statistic: is not a known option"),
        ({"direction": "up"}, "direction: is not a known option"),
        ({"confidence": 95}, "outside"),
        ({"multiplier": -1}, "multiplier: is not a positive number"),
        ({"rii": "yes"}, "rii: is not True or False"),
        ({"population": "nope"}, "population='nope' is not a column"),
        ({"by": "quintile"}, "also an input"),
        ({"by": ["area", "area"]}, "by: repeats a column"),
        ({"value": 3}, "value: is not a column name"),
        (
            {"se": None, "lower": "value", "upper": "value", "limits_confidence": 0.5},
            "limits_confidence: is outside",
        ),
    ],
)
def test_sii_argument_errors(kwargs, match):
    arguments = {"value": "value", "population": "pop", "quantile": "quintile", "se": "se", "q": 5, **kwargs}
    with pytest.raises(SchemaError, match=match):
        sii(_exact_line().assign(area="A"), **arguments)


@pytest.mark.parametrize(
    ("column", "new", "match"),
    [
        ("quintile", [1, 2, 3, 4, 6], "not quantiles 1 to 5"),
        ("quintile", [1, 2, 3, 4, 4], "same quantile twice"),
        ("se", [0.5, -1, 0.5, 0.5, 0.5], "has negative values"),
        ("pop", [100, -5, 300, 200, 200], "has negative values"),
        ("value", ["a", "b", "c", "d", "e"], "is not numeric"),
    ],
)
def test_sii_data_errors(column, new, match):
    frame = _exact_line()
    frame[column] = new
    with pytest.raises(SchemaError, match=match):
        sii(frame, value="value", population="pop", quantile="quintile", se="se", q=5)
