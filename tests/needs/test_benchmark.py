"""Benchmarking, quantiles and recent trend: Fingertips oracle and hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from needskit.errors import SchemaError
from needskit.needs.statistics import TREND_CRITICAL_VALUE, compare, crude_rate, proportion, quantiles, trend

DATA = Path(__file__).parents[1] / "data"


def oracle(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"indicators_{name}.csv", comment="#")


# ---------------------------------------------------------------------------------------------
# compare: overlapping confidence intervals


def test_compare_matches_fingertips_oracle():
    table = oracle("comparisons")
    before = table.copy()
    result = compare(
        table, value="value", lower="lower", upper="upper", comparator="comparator", polarity="polarity"
    )
    pd.testing.assert_frame_equal(table, before)
    assert result["comparison"].tolist() == table["expected"].tolist()
    assert (result["comparison_method"] == "overlapping confidence interval").all()
    assert (result["comparison_confidence"] == 0.95).all()
    assert list(result.index) == list(table.index)


def test_compare_scalar_comparator_polarity_and_default_limit_columns():
    frame = pd.DataFrame(
        {
            "value": [3.3, 2.5, 3.05, np.nan],
            "lower_99_8": [3.1, 2.0, 2.7, 1.0],
            "upper_99_8": [3.6, 2.9, 3.1, 5.0],
        }
    )
    judged = compare(frame, comparator=3.0, polarity="high_is_good", confidence=0.998)
    assert judged["comparison"].tolist() == ["better", "worse", "similar", "not_compared"]
    assert (judged["comparison_confidence"] == 0.998).all()
    plain = compare(frame, comparator=3.0, polarity="no_judgement", confidence=0.998)
    assert plain["comparison"].tolist() == ["higher", "lower", "similar", "not_compared"]
    bad = compare(frame, comparator=3.0, polarity="high_is_bad", confidence=0.998)
    assert bad["comparison"].tolist() == ["worse", "better", "similar", "not_compared"]


def test_compare_on_indicator_output_with_comparator_column():
    rates = crude_rate(
        pd.DataFrame(
            {"area": ["A", "B"], "x": [200, 20], "n": [10_000, 10_000], "england": [1000.0, np.nan]}
        ),
        count="x",
        population="n",
    )
    result = compare(rates, comparator="england", polarity="high_is_bad")
    # A: 2000 per 100,000 with 95% limits about 1733-2297, above England's 1000 -> worse. B: no comparator.
    assert result["comparison"].tolist() == ["worse", "not_compared"]


# ---------------------------------------------------------------------------------------------
# compare: SPC for proportions and for DSRs


def test_spc_proportion_limits_are_wilson_of_expected_count():
    # Comparator 20 (%), N = 100: P0 = 0.2, E = N*P0 = 20, so the control limits
    # (2E + z^2 -/+ z*sqrt(z^2 + 4E(1 - E/N))) / (2(N + z^2)) are the Wilson limits of 20/100:
    # wilson.csv gives 0.1333669333 and 0.2888291656 at 95%.
    wilson = oracle("wilson").query("x == 20 and n == 100 and confidence == 0.95").iloc[0]
    frame = pd.DataFrame({"x": [30, 10, 20, 5], "n": [100, 100, 100, 0]})
    result = compare(
        frame, method="spc_proportion", numerator="x", denominator="n", comparator=20, polarity="high_is_good"
    )
    assert result.loc[0, "control_lower"] == pytest.approx(wilson["lower"] * 100, rel=1e-9)
    assert result.loc[0, "control_upper"] == pytest.approx(wilson["upper"] * 100, rel=1e-9)
    # 30% > 28.88% -> better; 10% < 13.34% -> worse; 20% inside -> similar; N = 0 -> not compared.
    assert result["comparison"].tolist() == ["better", "worse", "similar", "not_compared"]
    assert (result["comparison_method"] == "SPC for proportions").all()
    assert np.isnan(result.loc[3, "control_lower"])


def test_spc_proportion_at_998_is_wider():
    frame = pd.DataFrame({"x": [28], "n": [100]})
    narrow = compare(
        frame, method="spc_proportion", numerator="x", denominator="n", comparator=20, polarity="no_judgement"
    )
    wide = compare(
        frame,
        method="spc_proportion",
        numerator="x",
        denominator="n",
        comparator=20,
        polarity="no_judgement",
        confidence=0.998,
    )
    assert narrow["comparison"].item() == "similar"  # 28 < 28.88
    assert wide["control_upper"].item() > narrow["control_upper"].item()
    assert wide["control_lower"].item() < narrow["control_lower"].item()


def test_spc_dsr_exact_poisson_control_limits():
    # Comparator 200 per 100,000, population 1,000: E = 200 * 1000 / 100000 = 2 expected events.
    # Exact Poisson 95% limits of 2 (tables): 0.2422 and 7.2247 -> per 100,000 of 1,000 people: 24.22, 722.47.
    frame = pd.DataFrame({"value": [800.0, 10.0, 300.0], "pop": [1000, 1000, 1000]})
    result = compare(
        frame, method="spc_dsr", value="value", denominator="pop", comparator=200, polarity="high_is_bad"
    )
    assert result.loc[0, "control_lower"] == pytest.approx(24.22, abs=0.01)
    assert result.loc[0, "control_upper"] == pytest.approx(722.47, abs=0.01)
    assert result["comparison"].tolist() == ["worse", "better", "similar"]
    assert (result["comparison_method"] == "SPC for DSRs").all()


def test_spc_dsr_non_integer_expected_count_is_discrete_like_fingertips():
    # Comparator 250, population 1,000: E = 2.5. Fingertips' PoisLow counts P(X >= 2.5) = P(X >= 3)
    # and PoisHigh P(X <= 2.5) = P(X <= 2): lower = exact lower limit of 3 events (0.6187, tables),
    # upper = exact upper limit of 2 events (7.2247).
    frame = pd.DataFrame({"value": [250.0], "pop": [1000]})
    result = compare(
        frame, method="spc_dsr", value="value", denominator="pop", comparator=250, polarity="no_judgement"
    )
    assert result["control_lower"].item() == pytest.approx(61.87, abs=0.01)
    assert result["control_upper"].item() == pytest.approx(722.47, abs=0.01)


def test_compare_errors():
    frame = pd.DataFrame({"value": [1.0], "lower_95": [0.5], "upper_95": [1.5], "x": [1], "n": [10]})
    with pytest.raises(SchemaError, match="not a known comparison method"):
        compare(frame, comparator=1.0, polarity="high_is_good", method="funnel")
    with pytest.raises(SchemaError, match="neither a polarity nor a column"):
        compare(frame, comparator=1.0, polarity="up_is_good")
    with pytest.raises(SchemaError, match="holds unknown polarities"):
        compare(frame.assign(p="sideways"), comparator=1.0, polarity="p")
    with pytest.raises(SchemaError, match="required by method='spc_proportion'"):
        compare(frame, comparator=1.0, polarity="high_is_good", method="spc_proportion", denominator="n")
    with pytest.raises(SchemaError, match="comparator='england' is not a column"):
        compare(frame, comparator="england", polarity="high_is_good")
    with pytest.raises(SchemaError, match="neither a number nor a column name"):
        compare(frame, comparator=[1.0], polarity="high_is_good")
    with pytest.raises(SchemaError, match="lower='lower_99_8' is not a column"):
        compare(frame, comparator=1.0, polarity="high_is_good", confidence=0.998)
    with pytest.raises(SchemaError, match="already has columns"):
        compare(frame.assign(comparison="x"), comparator=1.0, polarity="high_is_good")


# ---------------------------------------------------------------------------------------------
# quantiles


def test_quantiles_hand_computed_with_ties_and_polarity():
    # Group a: 9 non-missing values, q = 5, N/q = 1.8. With high_is_bad, rank -value ("min" ties):
    # 11->1, 10->2, 9->3, 8->4, 7->5, 5->6, 3->7, 3->7, 1->9.
    # quantile = floor(6 - ceil((10 - rank)/1.8)): rank 1 -> 6-ceil(5.0)=1; 2 -> 6-ceil(4.44)=1;
    # 3 -> 6-ceil(3.89)=2; 4 -> 6-ceil(3.33)=2; 5 -> 6-ceil(2.78)=3; 6 -> 6-ceil(2.22)=3;
    # 7 -> 6-ceil(1.67)=4; 9 -> 6-ceil(0.56)=5. Group b has one value (< q) -> missing.
    frame = pd.DataFrame(
        {"v": [5, 3, 3, 1, np.nan, 7, 8, 9, 10, 11, 12], "g": list("aaaaaaaaaab")}, index=range(100, 111)
    )
    result = quantiles(frame, value="v", by="g", polarity="high_is_bad")
    assert list(result.index) == list(frame.index)
    assert result["quantile"].tolist() == [3, 4, 4, 5, pd.NA, 3, 2, 2, 1, 1, pd.NA]
    assert result["quantile_count"].tolist() == [9] * 10 + [1]
    assert result.loc[104, "quantile_reason"] == "missing value"
    assert result.loc[110, "quantile_reason"] == "fewer than 5 values in group"
    assert result.loc[100, "quantile_reason"] == ""


def test_quantiles_deciles_and_low_first_by_default():
    # 20 values, q = 10, N/q = 2: rank r -> floor(11 - ceil((21 - r)/2)) = ceil(r/2).
    frame = pd.DataFrame({"v": np.arange(20.0)[::-1]})
    result = quantiles(frame, value="v", q=10)
    assert result["quantile"].tolist() == [int(np.ceil(r / 2)) for r in range(20, 0, -1)]
    assert result["quantile"].dtype == "Int64"


def test_quantiles_errors():
    frame = pd.DataFrame({"v": [1.0, 2.0], "g": ["a", "a"], "p": ["high_is_bad", "high_is_good"]})
    with pytest.raises(SchemaError, match="differs within a group"):
        quantiles(frame, value="v", by="g", polarity="p")
    with pytest.raises(SchemaError, match="integer of 2 or more"):
        quantiles(frame, value="v", q=1)
    with pytest.raises(SchemaError, match="already has columns"):
        quantiles(frame.assign(quantile=1), value="v")


# ---------------------------------------------------------------------------------------------
# trend


def _series(counts, denominators=1000, start=2015, **extra):
    frame = pd.DataFrame({"year": range(start, start + len(counts)), "x": counts, "n": denominators})
    return frame.assign(**extra)


def test_trend_increasing_hand_computed():
    # x = 100,120,140,160,180 of n = 1000, t = 1..5: N = 5000, X = 700, Σxt = 2300, Σnt = 15000,
    # Σnt² = 55000. NΣxt − XΣnt = 11.5e6 − 10.5e6 = 1e6;
    # χ² = N(1e6)² / (X(N − X)(NΣnt² − (Σnt)²)) = 5e15 / (700·4300·5e7) = 33.2226 > 9.5495.
    result = trend(_series([100, 120, 140, 160, 180]), time="year", count="x", denominator="n")
    assert result["trend_chi_square"].item() == pytest.approx(5e15 / (700 * 4300 * 5e7), rel=1e-12)
    assert result["trend"].item() == "increasing"
    assert (result["trend_from"].item(), result["trend_to"].item(), result["trend_points"].item()) == (
        2015,
        2019,
        5,
    )
    assert result["trend_reason"].item() == ""
    assert "trend_assessment" not in result.columns


def test_trend_no_significant_change_hand_computed():
    # x = 50,52,48,51,49: X = 250, Σxt = 747, NΣxt − XΣnt = 3.735e6 − 3.75e6 = −15000;
    # χ² = 5000·2.25e8 / (250·4750·5e7) = 0.018947 < 9.5495.
    result = trend(_series([50, 52, 48, 51, 49]), time="year", count="x", denominator="n")
    assert result["trend_chi_square"].item() == pytest.approx(5000 * 2.25e8 / (250 * 4750 * 5e7), rel=1e-12)
    assert result["trend"].item() == "no significant change"


def test_trend_uses_last_five_points_and_polarity():
    old_then_falling = _series([999, 1, 180, 160, 140, 120, 100], start=2013)
    result = trend(old_then_falling, time="year", count="x", denominator="n", polarity="high_is_good")
    assert result["trend"].item() == "decreasing"
    assert result["trend_assessment"].item() == "getting worse"
    assert result["trend_chi_square"].item() == pytest.approx(5e15 / (700 * 4300 * 5e7), rel=1e-12)
    assert result["trend_from"].item() == 2015
    bad = trend(old_then_falling, time="year", count="x", denominator="n", polarity="high_is_bad")
    assert bad["trend_assessment"].item() == "getting better"
    plain = trend(old_then_falling, time="year", count="x", denominator="n", polarity="no_judgement")
    assert plain["trend_assessment"].item() == "decreasing"


def test_trend_outlier_check_like_fingertips():
    # x = 100,90,80,70,300: NΣxt − XΣnt = 5000·2300 − 640·15000 = 1.9e6 > 0 and
    # χ² = 5000·(1.9e6)² / (640·4360·5e7) = 129.4, but without the last point the series falls:
    # the direction is not robust, so Fingertips reports no significant change.
    result = trend(_series([100, 90, 80, 70, 300]), time="year", count="x", denominator="n")
    assert result["trend_chi_square"].item() == pytest.approx(5000 * 1.9e6**2 / (640 * 4360 * 5e7), rel=1e-12)
    assert result["trend_chi_square"].item() > TREND_CRITICAL_VALUE
    assert result["trend"].item() == "no significant change"


def test_trend_cannot_be_calculated_cases_by_group():
    frame = pd.concat(
        [
            _series([10, 12, 14, 16, 18], area="short", start=2016)[1:],  # 4 periods
            _series([10, 12, np.nan, 16, 18, 20, 22], area="gap", start=2013),  # 4 valid since the gap
            _series([0, 0, 0, 0, 0], area="zeros"),
            _series([100, 120, 140, 160, 180], area="ok"),
        ]
    )
    result = trend(
        frame, time="year", count="x", denominator="n", by="area", polarity="high_is_bad"
    ).set_index("area")
    assert list(result.index) == ["gap", "ok", "short", "zeros"]
    assert result.loc["short", "trend_reason"] == "fewer than 5 periods"
    assert result.loc["gap", "trend_reason"] == "fewer than 5 consecutive periods with valid data"
    assert result.loc["gap", "trend_points"] == 4
    assert result.loc["zeros", "trend_reason"].startswith("no variation to test")
    assert result.loc[["short", "gap", "zeros"], "trend"].eq("cannot be calculated").all()
    assert result.loc[["short", "gap", "zeros"], "trend_assessment"].eq("cannot be calculated").all()
    assert result.loc[["short", "gap", "zeros"], "trend_chi_square"].isna().all()
    assert result.loc["ok", "trend_assessment"] == "getting worse"


def test_trend_weighted_for_values_with_limits_hand_computed():
    # value 10,12,14,16,18 with 95% limits value ± 1.96: SE = 3.92/3.92 = 1, weights 1.
    # S1 = 5, S3 = Σt = 15, S5 = Σt² = 55, S2 = Σvt = 230, S4 = Σv = 70; det = 5·55 − 15² = 50;
    # slope = (5·230 − 15·70)/50 = 2; SE(slope) = sqrt(S1/det) = sqrt(0.1); χ² = 2²/0.1 = 40.
    values = np.array([10.0, 12, 14, 16, 18])
    frame = pd.DataFrame(
        {"year": range(2019, 2024), "value": values, "lower_95": values - 1.96, "upper_95": values + 1.96}
    )
    result = trend(frame, time="year", value="value")
    assert result["trend_chi_square"].item() == pytest.approx(40.0, rel=1e-12)
    assert result["trend"].item() == "increasing"
    assert result["trend_method"].item() == "chi-square for weighted linear trend"


def test_trend_accepts_proportion_output():
    frame = proportion(_series([100, 120, 140, 160, 180]), numerator="x", denominator="n")
    result = trend(frame, time="year", value="value")
    assert result["trend"].item() == "increasing"


def test_trend_errors():
    frame = _series([1, 2, 3, 4, 5])
    with pytest.raises(SchemaError, match="needs one form of input"):
        trend(frame, time="year")
    with pytest.raises(SchemaError, match="needs one form of input"):
        trend(frame.assign(value=1.0), time="year", count="x", denominator="n", value="value")
    with pytest.raises(SchemaError, match="denominator.*required"):
        trend(frame, time="year", count="x")
    with pytest.raises(SchemaError, match="repeats a period"):
        trend(pd.concat([frame, frame]), time="year", count="x", denominator="n")
    with pytest.raises(SchemaError, match="count above its denominator"):
        trend(frame.assign(n=2), time="year", count="x", denominator="n")
    with pytest.raises(SchemaError, match="integer of 3 or more"):
        trend(frame, time="year", count="x", denominator="n", points=2)
    with pytest.raises(SchemaError, match="time='period' is not a column"):
        trend(frame, time="period", count="x", denominator="n")
    with pytest.raises(SchemaError, match="differs within a group"):
        trend(
            frame.assign(p=["high_is_bad"] * 4 + ["high_is_good"]),
            time="year",
            count="x",
            denominator="n",
            polarity="p",
        )
