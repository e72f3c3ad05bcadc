"""needskit.needs.inequality: local deciles, indicators by deprivation, the gap, SII/RII."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import needskit.needs.inequality as ineq
from needskit.config.project import raw_path
from needskit.errors import NeedskitWarning, SchemaError
from needskit.needs.inequality import by_deprivation, gap, local_deciles, sii

DATA = Path(__file__).parents[1] / "data"
Z95 = stats.norm.ppf(0.975)


def _oracle(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, comment="#")


# ------------------------------------------------------------------ local deciles


def test_local_deciles_fingertips_formula_with_ties():
    # N = 10, q = 5, N/q = 2; ranks of -score (ties "min"): 1,1,3,4,...,10
    # quantile = floor(6 - ceil((11 - rank) / 2)) -> 1,1,2,2,3,3,4,4,5,5
    frame = pd.DataFrame({"area": list("ABCDEFGHIJ"), "score": [9, 9, 8, 7, 6, 5, 4, 3, 2, 1]})
    out = local_deciles(frame, score_or_rank="score", q=5)
    assert out["local_quintile"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert str(out["local_quintile"].dtype) == "Int64"
    assert "local_quintile" not in frame.columns  # input untouched


def test_local_deciles_rank_kind_and_equal_sizes():
    rng = np.random.default_rng(1)
    score = rng.permutation(np.arange(50.0))
    frame = pd.DataFrame({"score": score, "rank": pd.Series(-score).rank(method="min")})
    by_score = local_deciles(frame, score_or_rank="score")["local_decile"]
    by_rank = local_deciles(frame, score_or_rank="rank", kind="rank")["local_decile"]
    assert by_score.tolist() == by_rank.tolist()
    assert by_score.value_counts().sort_index().tolist() == [5] * 10
    # most deprived (highest score) is decile 1
    assert by_score[np.argmax(score)] == 1 and by_score[np.argmin(score)] == 10


def test_local_deciles_by_group_small_group_and_missing_warn():
    frame = pd.DataFrame(
        {"district": ["X"] * 5 + ["Y"] * 3, "score": [5.0, 4.0, np.nan, 2.0, 1.0, 3.0, 2.0, 1.0]}
    )
    with pytest.warns(NeedskitWarning, match="fewer than 4 values"):
        out = local_deciles(frame, score_or_rank="score", q=4, by="district", name="quartile")
    # district X: N = 4 non-missing, N/q = 1: quartile = 5 - (5 - rank) = rank
    assert out["quartile"].iloc[:5].tolist() == [1, 2, pd.NA, 3, 4]
    assert out["quartile"].iloc[5:].isna().all()  # Y has 3 < 4 values


def test_local_deciles_on_national_ranks_matches_published_imd_deciles():
    imd = pd.read_csv(raw_path("imd2025/iod2025_lsoa21_scores_ranks_deciles.csv.gz"), usecols=["IMD_rank", "IMD_decile"])
    out = local_deciles(imd, score_or_rank="IMD_rank", kind="rank")
    diff = (out["local_decile"].astype(int) - imd["IMD_decile"]).abs()
    # Fingertips' formula and the IoD's ceiling(rank / (N/10)) differ only at decile boundaries
    assert (diff == 0).mean() > 0.999
    assert diff.max() <= 1


def test_local_deciles_agree_with_indicators_quantiles():
    from needskit.needs.statistics import quantiles

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"district": rng.choice(["A", "B", "C"], 200), "score": np.round(rng.gamma(2, 10, 200), 1)})
    ours = local_deciles(frame, score_or_rank="score", by="district")["local_decile"]
    theirs = quantiles(frame, value="score", by="district", q=10, polarity="high_is_bad")["quantile"]
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"score_or_rank": "nope"}, "score_or_rank='nope' is not a column"),
        ({"score_or_rank": "score", "q": 1}, "not a number of quantiles"),
        ({"score_or_rank": "score", "kind": "level"}, "kind: is not a known option"),
        ({"score_or_rank": "score", "name": "score"}, "already a column"),
        ({"score_or_rank": "label"}, "is not numeric"),
    ],
)
def test_local_deciles_errors(kwargs, match):
    frame = pd.DataFrame({"score": [1.0, 2.0], "label": ["a", "b"]})
    with pytest.raises(SchemaError, match=match):
        local_deciles(frame, **kwargs)


# ------------------------------------------------------------------ by deprivation


def _areas() -> pd.DataFrame:
    # decile 1: 40/60 + 25/40 = 65/100 (the Wilson oracle); decile 2: 1000/4000 + 45/1000 = 1045/5000
    return pd.DataFrame(
        {
            "lsoa": [f"L{i}" for i in range(12)],
            "decile": [1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "x": [40, 25, 1000, 45, 10, 12, 9, 8, 7, 6, 5, 4],
            "n": [60, 40, 4000, 1000, 100, 100, 100, 100, 100, 100, 100, 100],
        }
    )


def test_by_deprivation_sums_and_wilson_limits_match_oracle():
    frame = _areas()
    before = frame.copy()
    out = by_deprivation(frame, numerator="x", denominator="n", decile="decile")
    pd.testing.assert_frame_equal(frame, before)
    assert out["quantile"].tolist() == list(range(1, 11))
    wilson = _oracle("inequality_wilson.csv")
    for quantile, x, n in [(1, 65, 100), (2, 1045, 5000)]:
        row = out[out["quantile"] == quantile].iloc[0]
        assert row["numerator"] == x and row["denominator"] == n
        assert row["value"] == pytest.approx(100 * x / n)
        for level, label in [(0.95, "95"), (0.998, "99_8")]:
            ref = wilson[(wilson.x == x) & (wilson.n == n) & (wilson.confidence == level)].iloc[0]
            assert row[f"lower_{label}"] == pytest.approx(100 * ref.lower, rel=1e-9)
            assert row[f"upper_{label}"] == pytest.approx(100 * ref.upper, rel=1e-9)
    assert out["areas"].sum() == len(frame)
    assert out["numerator"].sum() == frame["x"].sum()  # totals conserved
    assert out["population_share"].sum() == pytest.approx(1.0)
    assert set(out["method"]) == {"Wilson"} and set(out["suppressed_reason"]) == {""}


def test_by_deprivation_rate_uses_byar_from_10_and_exact_below():
    out = by_deprivation(_areas(), numerator="x", denominator="n", decile="decile", statistic="rate")
    byars = _oracle("inequality_byars.csv")
    ref = byars[byars.x == 1045].iloc[0]
    row = out[out["quantile"] == 2].iloc[0]
    assert row["value"] == pytest.approx(1045 / 5000 * 100_000)
    assert row["lower_95"] == pytest.approx(ref.lower / 5000 * 100_000, rel=1e-9)
    assert row["upper_95"] == pytest.approx(ref.upper / 5000 * 100_000, rel=1e-9)
    small = out[out["quantile"] == 10].iloc[0]  # 4 events: exact Poisson
    assert small["method"] == "Exact Poisson"
    assert small["lower_95"] == pytest.approx(stats.chi2.ppf(0.025, 8) / 2 / 100 * 100_000)
    assert small["upper_95"] == pytest.approx(stats.chi2.ppf(0.975, 10) / 2 / 100 * 100_000)
    assert row["method"] == "Byar"


def test_by_deprivation_quintiles_groups_and_empty_quantiles():
    frame = pd.concat([_areas().assign(district="A"), _areas().assign(district="B").iloc[4:]], ignore_index=True)
    out = by_deprivation(frame, numerator="x", denominator="n", decile="decile", q=5, by="district", multiplier=1)
    assert len(out) == 10 and out.groupby("district").size().tolist() == [5, 5]
    a1 = out[(out.district == "A") & (out["quantile"] == 1)].iloc[0]
    assert a1["numerator"] == 65 + 1045 and a1["denominator"] == 5100  # deciles 1 and 2
    b1 = out[(out.district == "B") & (out["quantile"] == 1)].iloc[0]
    assert b1["areas"] == 0 and np.isnan(b1["value"]) and b1["suppressed_reason"] == "no areas in this quantile"
    assert out.groupby("district")["population_share"].sum().tolist() == pytest.approx([1.0, 1.0])
    # a column that already holds quintiles
    quint = frame.assign(quintile=np.ceil(frame["decile"] / 2).astype(int))
    again = by_deprivation(quint, numerator="x", denominator="n", decile="quintile", q=5, input_q=5, by="district", multiplier=1)
    pd.testing.assert_frame_equal(out, again)


def test_by_deprivation_missing_count_makes_the_quantile_missing_with_reason():
    frame = _areas().astype({"x": float})
    frame.loc[0, "x"] = np.nan
    out = by_deprivation(frame, numerator="x", denominator="n", decile="decile")
    first = out[out["quantile"] == 1].iloc[0]
    assert np.isnan(first["value"]) and first["suppressed_reason"] == "missing numerator"
    assert np.isnan(first["lower_95"])
    zero = _areas()
    zero.loc[zero.decile == 10, ["x", "n"]] = 0
    last = by_deprivation(zero, numerator="x", denominator="n", decile="decile").iloc[-1]
    assert last["suppressed_reason"] == "denominator is zero" and np.isnan(last["value"])


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (None, {"numerator": "nope"}, "numerator='nope' is not a column"),
        (None, {"statistic": "mean"}, "statistic: is not a known option"),
        (None, {"q": 4}, "q: is not a known option"),
        (None, {"q": 5, "input_q": 5}, "holds values that are not quintiles"),
        (None, {"multiplier": 0}, "multiplier: is not a positive number"),
        (None, {"by": "decile"}, "also an input"),
        (("decile", 11), {}, "not deprivation deciles"),
        (("decile", 2.5), {}, "not deprivation deciles"),
        (("decile", np.nan), {}, "has missing values"),
        (("x", -1), {}, "has negative values"),
        (("x", 10_000), {}, "numerator above its denominator"),
    ],
)
def test_by_deprivation_errors(change, kwargs, match):
    frame = _areas().astype({"decile": float, "x": float})
    if change is not None:
        frame.loc[3, change[0]] = change[1]
    arguments = {"numerator": "x", "denominator": "n", "decile": "decile", **kwargs}
    with pytest.raises(SchemaError, match=match):
        by_deprivation(frame, **arguments)


def test_by_deprivation_more_errors():
    frame = _areas()
    with pytest.raises(SchemaError, match="finer quantiles"):
        by_deprivation(frame.assign(d5=1), numerator="x", denominator="n", decile="d5", q=10, input_q=5)
    with pytest.raises(SchemaError, match="output column name"):
        by_deprivation(frame.assign(quantile=1), numerator="x", denominator="n", decile="decile", by="quantile")
    # events above the population are fine for a rate
    over = frame.copy()
    over.loc[3, "x"] = 10_000
    out = by_deprivation(over, numerator="x", denominator="n", decile="decile", statistic="rate")
    assert out.loc[1, "value"] == pytest.approx(11_000 / 5000 * 100_000)


# ------------------------------------------------------------------ gap


def test_gap_difference_matches_newcombe_method_10():
    ref = _oracle("inequality_newcombe.csv").iloc[0]
    frame = pd.DataFrame({"decile": [1, 10], "x": [ref.x1, ref.x2], "n": [ref.n1, ref.n2]})
    out = gap(frame, numerator="x", denominator="n", decile="decile", q=10, multiplier=1, direction="most_minus_least")
    row = out.iloc[0]
    assert row["absolute_gap"] == pytest.approx(ref.difference)
    assert row["absolute_gap_lower_95"] == pytest.approx(ref.lower, abs=5e-5)
    assert row["absolute_gap_upper_95"] == pytest.approx(ref.upper, abs=5e-5)


def _wilson(x, n, z=Z95):
    centre, spread = 2 * x + z**2, z * np.sqrt(z**2 + 4 * x * (1 - x / n))
    return (centre - spread) / (2 * (n + z**2)), (centre + spread) / (2 * (n + z**2))


def test_gap_relative_mover_on_log_scale_and_direction():
    frame = pd.DataFrame({"decile": [1, 2, 9, 10], "x": [30, 25, 10, 8], "n": [100, 100, 100, 100]})
    most = gap(frame, numerator="x", denominator="n", decile="decile", direction="most_minus_least").iloc[0]
    least = gap(frame, numerator="x", denominator="n", decile="decile").iloc[0]
    p1, p2 = 55 / 200, 18 / 200
    (l1, u1), (l2, u2) = _wilson(55, 200), _wilson(18, 200)
    lower = np.exp(np.log(p1 / p2) - np.sqrt((np.log(p1) - np.log(l1)) ** 2 + (np.log(u2) - np.log(p2)) ** 2))
    upper = np.exp(np.log(p1 / p2) + np.sqrt((np.log(u1) - np.log(p1)) ** 2 + (np.log(p2) - np.log(l2)) ** 2))
    assert most["relative_gap"] == pytest.approx(p1 / p2)
    assert most["relative_gap_lower_95"] == pytest.approx(lower) and most["relative_gap_upper_95"] == pytest.approx(upper)
    assert most["absolute_gap"] == pytest.approx(100 * (p1 - p2))
    # the default direction (least - most) flips the difference and inverts the ratio and its limits
    assert least["absolute_gap"] == pytest.approx(-most["absolute_gap"])
    assert least["absolute_gap_lower_95"] == pytest.approx(-most["absolute_gap_upper_95"])
    assert least["relative_gap"] == pytest.approx(1 / most["relative_gap"])
    assert least["relative_gap_upper_95"] == pytest.approx(1 / most["relative_gap_lower_95"])
    assert most["most_deprived_value"] == pytest.approx(27.5) and most["least_deprived_value"] == pytest.approx(9.0)


def test_gap_suppressed_ends_have_reasons():
    frame = pd.DataFrame({"district": ["A", "A", "B", "B"], "decile": [1, 10, 1, 10], "x": [5, 0, 5, 3], "n": [50, 50, 50, 50]})
    out = gap(frame.iloc[:3], numerator="x", denominator="n", decile="decile", by="district", confidence=(0.95, 0.998))
    a, b = out.iloc[0], out.iloc[1]
    assert a["absolute_gap"] == pytest.approx(-10.0) and np.isnan(a["relative_gap"])
    assert a["suppressed_reason"].startswith("relative gap undefined")
    assert np.isnan(b["absolute_gap"]) and b["suppressed_reason"] == "least deprived quantile: no areas in this quantile"
    assert {"absolute_gap_lower_99_8", "relative_gap_upper_99_8"} <= set(out.columns)
    with pytest.raises(SchemaError, match="direction: is not a known option"):
        gap(frame, numerator="x", denominator="n", decile="decile", direction="up")


# ------------------------------------------------------------------ SII / RII


def _exact_line() -> pd.DataFrame:
    # shares 0.1, 0.2, 0.3, 0.2, 0.2 -> midpoints 0.05, 0.2, 0.45, 0.7, 0.9; value = 10 + 5x exactly
    pop = np.array([100, 200, 300, 200, 200])
    mid = np.array([0.05, 0.2, 0.45, 0.7, 0.9])
    return pd.DataFrame({"quintile": range(1, 6), "pop": pop, "value": 10 + 5 * mid, "se": [0.5] * 5})


def test_sii_exact_line_hand_computed():
    out = sii(_exact_line(), value="value", population="pop", quantile="quintile", se="se", q=5, repetitions=1000)
    row = out.iloc[0]
    assert row["sii"] == pytest.approx(5.0) and row["rii"] == pytest.approx(15 / 10)
    assert row["fitted_most_deprived"] == pytest.approx(10.0) and row["fitted_least_deprived"] == pytest.approx(15.0)
    assert row["sii_lower_95"] < 5 < row["sii_upper_95"] and row["suppressed_reason"] == ""
    flipped = sii(_exact_line(), value="value", population="pop", quantile="quintile", se="se", q=5,
                  repetitions=1000, direction="most_minus_least").iloc[0]
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
    # WLS with weights a == ordinary LS of y*sqrt(a) on sqrt(a), x*sqrt(a) (phe_sii); polyfit weights are sqrt(a)
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
    out = sii(frame, value="value", population="pop", quantile="decile", se="se", repetitions=40_000,
              confidence=(0.95, 0.998)).iloc[0]
    a = pop / pop.sum()
    x = np.cumsum(a) - a / 2
    dx = x - np.sum(a * x)
    sd = np.sqrt(np.sum((a * dx / np.sum(a * dx * dx)) ** 2 * se**2))  # slope is linear in y
    for level, label in [(0.95, "95"), (0.998, "99_8")]:
        z = stats.norm.ppf((1 + level) / 2)
        assert out[f"sii_lower_{label}"] == pytest.approx(out["sii"] - z * sd, abs=0.1 * sd)
        assert out[f"sii_upper_{label}"] == pytest.approx(out["sii"] + z * sd, abs=0.1 * sd)


def test_sii_seed_is_deterministic_and_block_size_does_not_matter(monkeypatch):
    frame = pd.concat([_exact_line().assign(area=name, value=_exact_line()["value"] * k)
                       for name, k in [("A", 1.0), ("B", 1.5), ("C", 0.7)]], ignore_index=True)
    kwargs = {"value": "value", "population": "pop", "quantile": "quintile", "se": "se", "q": 5, "by": "area", "seed": 11}
    first, second = sii(frame, **kwargs), sii(frame, **kwargs)
    pd.testing.assert_frame_equal(first, second)
    other = sii(frame, **{**kwargs, "seed": 12})
    assert (other["sii"] == first["sii"]).all()
    assert not np.allclose(other["sii_lower_95"], first["sii_lower_95"])
    monkeypatch.setattr(ineq, "_SIM_BLOCK", 1)  # one group per block: same stream of draws
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
    common = {"population": "denominator", "quantile": "quantile", "statistic": "proportion", "multiplier": 100, "seed": 1}
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
    out = sii(frame, numerator="deaths", denominator="pop", population="pop", quantile="decile",
              statistic="rate", multiplier=100_000).iloc[0]
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
        out = sii(frame, value="value", population="pop", quantile="quintile", se="se", q=5,
                  statistic="proportion", multiplier=100)
    assert "no logit" in out.loc[0, "suppressed_reason"] and np.isnan(out.loc[0, "sii"])


def test_sii_without_rii_and_large_grouped_run():
    rng = np.random.default_rng(0)
    groups = 300
    frame = pd.DataFrame({
        "la": np.repeat(np.arange(groups), 10), "decile": np.tile(np.arange(1, 11), groups),
        "pop": rng.integers(1000, 20_000, groups * 10), "value": rng.normal(50, 5, groups * 10),
        "se": rng.uniform(0.5, 2, groups * 10),
    })
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
        ({"se": None, "lower": "value", "upper": "value", "limits_confidence": 0.5}, "limits_confidence: is outside"),
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
