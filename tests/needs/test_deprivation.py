"""needskit.needs.deprivation: indicators by deprivation quantile and the gap between the ends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from needskit.errors import SchemaError
from needskit.needs.deprivation import by_deprivation, gap

DATA = Path(__file__).parents[1] / "data"
Z95 = stats.norm.ppf(0.975)


def _oracle(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, comment="#")


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
    frame = pd.concat(
        [_areas().assign(district="A"), _areas().assign(district="B").iloc[4:]], ignore_index=True
    )
    out = by_deprivation(
        frame, numerator="x", denominator="n", decile="decile", q=5, by="district", multiplier=1
    )
    assert len(out) == 10 and out.groupby("district").size().tolist() == [5, 5]
    a1 = out[(out.district == "A") & (out["quantile"] == 1)].iloc[0]
    assert a1["numerator"] == 65 + 1045 and a1["denominator"] == 5100  # deciles 1 and 2
    b1 = out[(out.district == "B") & (out["quantile"] == 1)].iloc[0]
    assert (
        b1["areas"] == 0 and np.isnan(b1["value"]) and b1["suppressed_reason"] == "no areas in this quantile"
    )
    assert out.groupby("district")["population_share"].sum().tolist() == pytest.approx([1.0, 1.0])
    # a column that already holds quintiles
    quint = frame.assign(quintile=np.ceil(frame["decile"] / 2).astype(int))
    again = by_deprivation(
        quint, numerator="x", denominator="n", decile="quintile", q=5, input_q=5, by="district", multiplier=1
    )
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
        by_deprivation(
            frame.assign(quantile=1), numerator="x", denominator="n", decile="decile", by="quantile"
        )
    # events above the population are fine for a rate
    over = frame.copy()
    over.loc[3, "x"] = 10_000
    out = by_deprivation(over, numerator="x", denominator="n", decile="decile", statistic="rate")
    assert out.loc[1, "value"] == pytest.approx(11_000 / 5000 * 100_000)


# ------------------------------------------------------------------ gap


def test_gap_difference_matches_newcombe_method_10():
    ref = _oracle("inequality_newcombe.csv").iloc[0]
    frame = pd.DataFrame({"decile": [1, 10], "x": [ref.x1, ref.x2], "n": [ref.n1, ref.n2]})
    out = gap(
        frame,
        numerator="x",
        denominator="n",
        decile="decile",
        q=10,
        multiplier=1,
        direction="most_minus_least",
    )
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
    assert most["relative_gap_lower_95"] == pytest.approx(lower) and most[
        "relative_gap_upper_95"
    ] == pytest.approx(upper)
    assert most["absolute_gap"] == pytest.approx(100 * (p1 - p2))
    # the default direction (least - most) flips the difference and inverts the ratio and its limits
    assert least["absolute_gap"] == pytest.approx(-most["absolute_gap"])
    assert least["absolute_gap_lower_95"] == pytest.approx(-most["absolute_gap_upper_95"])
    assert least["relative_gap"] == pytest.approx(1 / most["relative_gap"])
    assert least["relative_gap_upper_95"] == pytest.approx(1 / most["relative_gap_lower_95"])
    assert most["most_deprived_value"] == pytest.approx(27.5) and most[
        "least_deprived_value"
    ] == pytest.approx(9.0)


def test_gap_suppressed_ends_have_reasons():
    frame = pd.DataFrame(
        {"district": ["A", "A", "B", "B"], "decile": [1, 10, 1, 10], "x": [5, 0, 5, 3], "n": [50, 50, 50, 50]}
    )
    out = gap(
        frame.iloc[:3],
        numerator="x",
        denominator="n",
        decile="decile",
        by="district",
        confidence=(0.95, 0.998),
    )
    a, b = out.iloc[0], out.iloc[1]
    assert a["absolute_gap"] == pytest.approx(-10.0) and np.isnan(a["relative_gap"])
    assert a["suppressed_reason"].startswith("relative gap undefined")
    assert (
        np.isnan(b["absolute_gap"])
        and b["suppressed_reason"] == "least deprived quantile: no areas in this quantile"
    )
    assert {"absolute_gap_lower_99_8", "relative_gap_upper_99_8"} <= set(out.columns)
    with pytest.raises(SchemaError, match="direction: is not a known option"):
        gap(frame, numerator="x", denominator="n", decile="decile", direction="up")
