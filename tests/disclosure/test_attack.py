"""needskit.disclosure.attack: an attacker who differences published counts (a period's total
minus its other months), and the complementary withholding that leaves it nothing to recover;
then the attack on the shipped example's public store, across periods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needskit.disclosure.attack import (
    UNBOUNDED,
    Relations,
    count_bounds,
    period_relations,
    protect,
    recovered,
    tighten,
)
from needskit.disclosure.publish import SECONDARY_PERIODS, publish_indicators

NAN = np.nan


def test_what_the_attacker_knows_of_each_published_count():
    values = np.array([NAN, 0.0, 10.0, 20.0, 5.0])
    lo, hi = count_bounds(values, rule="nhs_digital")  # withheld 1-7, rounded to 5
    assert lo.tolist() == [0.5, 0.0, 7.5, 17.5, 7.5] and hi.tolist() == [7.5, 0.5, 12.5, 22.5, 7.5]
    lo, hi = count_bounds(values, rule="opensafely")  # zeros withheld too
    assert (lo[0], hi[0]) == (0.0, 7.5) and (lo[2], hi[2]) == (7.5, 12.5)
    lo, hi = count_bounds(np.array([NAN, 0.0, 6.0]), rule="lt5_secondary")  # exact, withheld 1-4
    assert lo.tolist() == [0.5, 0.0, 6.0] and hi.tolist() == [4.5, 0.0, 6.0]
    lo, hi = count_bounds(np.array([NAN, NAN]), rule="lt5_secondary", secondary=np.array([True, False]))
    assert (lo[0], hi[0]) == (0.0, UNBOUNDED) and (lo[1], hi[1]) == (0.5, 4.5)


def _half_year(values):
    """Rows 0-5 the months, row 6 their total."""
    return Relations(np.array([6]), np.zeros(6, dtype=np.int64), np.arange(6))


def test_differencing_recovers_a_lone_withheld_month_of_exact_counts():
    # months 10, 3 (withheld), 6, 8, 5, 9 and the half-year 41, published exactly
    published = np.array([10, NAN, 6, 8, 5, 9, 41])
    lo, hi = tighten(*count_bounds(published, rule="lt5_secondary"), _half_year(published))
    assert (lo[1], hi[1]) == (3.0, 3.0) and recovered(np.isnan(published), lo, hi).tolist() == [
        False,
        True,
    ] + [False] * 5
    # two withheld months summing to 2 are both 1: also recovered
    published = np.array([10, NAN, NAN, 8, 5, 9, 34])
    lo, hi = tighten(*count_bounds(published, rule="lt5_secondary"), _half_year(published))
    assert recovered(np.isnan(published), lo, hi)[[1, 2]].all()
    # rounded to 5: 41 -> 40, 10 -> 10, 6 -> 10 (8 -> 10), ... leaves the withheld month in 1..7
    rounded = np.array([10, NAN, 10, 10, NAN, 10, 40])
    lo, hi = tighten(*count_bounds(rounded, rule="nhs_digital"), _half_year(rounded))
    assert not recovered(np.isnan(rounded), lo, hi).any()


def test_complementary_withholding_leaves_nothing_to_recover():
    published = np.array([10, NAN, 6, 8, 5, 9, 41])
    extra = protect(published, _half_year(published), rule="lt5_secondary")
    assert extra.tolist() == [False, False, False, False, True, False, False]  # the smallest other month
    published[extra] = NAN
    lo, hi = tighten(*count_bounds(published, rule="lt5_secondary", secondary=extra), _half_year(published))
    assert not recovered(np.isnan(published), lo, hi).any()
    # nothing to protect: nothing withheld
    assert not protect(np.array([10, 7, 6, 8, 5, 9, 45.0]), _half_year(None), rule="lt5_secondary").any()


def test_period_relations_join_complete_periods_to_their_months():
    months = [f"2024-{m:02d}" for m in range(1, 7)]
    table = pd.DataFrame(
        {
            "indicator": ["x"] * 8 + ["y"] * 2,
            "area_code": ["A"] * 8 + ["A"] * 2,
            "period": months + ["2024-H1", "2024-Q3", "2024-01", "2024-H1"],
        }
    )
    relations = period_relations(table, keys=["indicator", "area_code"])
    # x's half-year has its six months; x's 2024-Q3 has none; y's half-year only one month
    assert relations.total.tolist() == [6] and relations.part_cell.tolist() == list(range(6))
    assert period_relations(table.iloc[0:0], keys=["indicator", "area_code"]).size == 0


def _series(counts, *, period="2024-H1"):
    months = [f"2024-{m:02d}" for m in range(1, 7)]
    return pd.DataFrame(
        {
            "indicator": "crime",
            "statistic": "crude_rate",
            "area_code": "A",
            "level": "lsoa",
            "period": months + [period],
            "numerator": [float(c) for c in counts] + [float(sum(counts))],
            "denominator": 1500.0,
            "multiplier": 1000.0,
            "value": [c / 1.5 for c in counts] + [sum(counts) / 1.5],
            "lower_95": 0.0,
            "upper_95": 99.0,
            "suppressed_reason": "",
        }
    )


def test_publishing_a_monthly_series_withholds_a_second_month_where_one_would_be_recovered():
    out = publish_indicators(_series([10, 3, 6, 8, 5, 9]), rule="lt5_secondary")
    reasons = out["suppressed_reason"].tolist()
    assert reasons[1].startswith("small number") and reasons[4] == SECONDARY_PERIODS
    assert np.isnan(out.loc[4, ["value", "numerator", "lower_95", "upper_95"]].to_numpy(dtype=float)).all()
    assert out.loc[6, "numerator"] == 41  # the half-year stays
    # rounding protects on its own (nhs_digital): no second month withheld
    assert (
        SECONDARY_PERIODS
        not in publish_indicators(_series([10, 3, 16, 8, 15, 9]), rule="nhs_digital")[
            "suppressed_reason"
        ].tolist()
    )


def _attack_periods(indicators: pd.DataFrame, *, rule: str) -> pd.DataFrame:
    """The withheld counts of a published indicators table that differencing across periods
    recovers (month rows against their period's row)."""
    keys = ["indicator", "area_code", "period"]
    reason = indicators["suppressed_reason"].fillna("")
    counted = indicators["statistic"].isin(["proportion", "crude_rate", "dsr", "isr"])
    cells = indicators[counted & (indicators["numerator"].notna() | (reason != ""))].drop_duplicates(keys)
    cells = cells.reset_index(drop=True)
    why = cells["suppressed_reason"].fillna("")
    secondary = (why == SECONDARY_PERIODS).to_numpy()
    withheld = why.str.startswith("small number").to_numpy() | secondary
    lo, hi = count_bounds(cells["numerator"].to_numpy(dtype=float), rule=rule, secondary=secondary)
    lo, hi = tighten(lo, hi, period_relations(cells, keys=["indicator", "area_code"]))
    return cells.loc[recovered(withheld, lo, hi), keys]


@pytest.mark.parametrize("rule", ["nhs_digital", "lt5_secondary"])
def test_no_withheld_count_of_the_shipped_series_is_recovered_across_periods(shipped_workspace, rule):
    """Every month of the shipped crime series against its half-year, under the default rule (the
    public store as `needskit run` publishes it) and under the exact-count rule with secondary
    suppression (which, without the period protection, gives back about 2,000 months)."""
    if rule == shipped_workspace.partnership.disclosure_rule:
        published = shipped_workspace.published("public").read_indicators()
    else:
        published = publish_indicators(shipped_workspace.store.read_indicators(), rule=rule)
    months = published["period"].astype(str).str.len() == 7
    assert months.sum() > 100_000 and published["suppressed_reason"].fillna("").str.startswith("small").any()
    recovered_rows = _attack_periods(published, rule=rule)
    assert recovered_rows.empty, recovered_rows.head()
