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
    inherent,
    period_relations,
    protect,
    recovered,
    tighten,
)
from needskit.disclosure.publish import publish_indicators, withheld_reason
from needskit.disclosure.rules import resolve_rule

NAN = np.nan


def test_what_the_attacker_knows_of_each_published_count():
    values = np.array([NAN, 0.0, 10.0, 20.0, 5.0])
    lo, hi = count_bounds(values, rule="nhs_digital")  # withheld 1-7, rounded to 5
    assert lo.tolist() == [0.5, 0.0, 7.5, 17.5, 7.5] and hi.tolist() == [7.5, 0.5, 12.5, 22.5, 7.5]
    lo, hi = count_bounds(values, rule="opensafely")  # zeros withheld too
    assert (lo[0], hi[0]) == (0.0, 7.5) and (lo[2], hi[2]) == (7.5, 12.5)
    lo, hi = count_bounds(np.array([NAN, 0.0, 6.0]), rule="lt5_secondary")  # exact, withheld 1-4
    assert lo[0] == 0.5 and hi[0] == 4.5
    assert np.allclose(lo[1:], [0.0, 6.0], atol=1e-4) and np.allclose(hi[1:], [0.0, 6.0], atol=1e-4)
    lo, hi = count_bounds(np.array([NAN, NAN]), rule="lt5_secondary", secondary=np.array([True, False]))
    assert (lo[0], hi[0]) == (0.0, UNBOUNDED) and (lo[1], hi[1]) == (0.5, 4.5)


def _half_year(values):
    """Rows 0-5 the months, row 6 their total."""
    return Relations(np.array([6]), np.zeros(6, dtype=np.int64), np.arange(6))


def test_differencing_recovers_a_lone_withheld_month_of_exact_counts():
    # months 10, 3 (withheld), 6, 8, 5, 9 and the half-year 41, published exactly
    published = np.array([10, NAN, 6, 8, 5, 9, 41])
    lo, hi = tighten(*count_bounds(published, rule="lt5_secondary"), _half_year(published))
    assert np.allclose([lo[1], hi[1]], 3.0, atol=1e-3)
    assert recovered(np.isnan(published), lo, hi).tolist() == [False, True] + [False] * 5
    # even when the attacker does not know it is small (withheld: could be anything)
    lo, hi = tighten(
        *count_bounds(published, rule="lt5_secondary", secondary=np.isnan(published)), _half_year(published)
    )
    assert recovered(np.isnan(published), lo, hi)[1]
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


def test_an_attacker_who_knows_which_figures_are_small_is_defeated_where_withholding_can():
    """Five neighbourhoods withheld (each 1) under a published area of 5: knowing that each is
    small (1-4 under lt5_secondary), the attacker has each >= 1, so each = 1. Withholding the
    area defeats it. Four under an area itself withheld (at most 4) are given away by the rule
    alone: nothing to withhold helps, only a rule that withholds zeros."""
    five = np.array([NAN] * 5 + [5.0])
    sum_of_five = Relations(np.array([5]), np.zeros(5, dtype=np.int64), np.arange(5))
    lo, hi = tighten(*count_bounds(five, rule="lt5_secondary"), sum_of_five, whole=np.ones(6, dtype=bool))
    assert recovered(np.isnan(five), lo, hi)[:5].all()
    blind = count_bounds(five, rule="lt5_secondary", secondary=np.isnan(five))  # not told which is small
    assert not recovered(np.isnan(five), *tighten(*blind, sum_of_five, whole=np.ones(6, dtype=bool))).any()
    assert not inherent(five, sum_of_five, rule="lt5_secondary").any()
    extra = protect(five, sum_of_five, rule="lt5_secondary")
    assert extra.tolist() == [False] * 5 + [True]
    four = np.array([NAN] * 5)
    sum_of_four = Relations(np.array([4]), np.zeros(4, dtype=np.int64), np.arange(4))
    assert inherent(four, sum_of_four, rule="lt5_secondary").all()
    assert not protect(four, sum_of_four, rule="lt5_secondary").any()
    with_a_zero = Relations(np.array([4]), np.zeros(5, dtype=np.int64), np.array([0, 1, 2, 3, 5]))
    four_and_zero = np.array([NAN] * 5 + [0.0])
    assert inherent(four_and_zero, with_a_zero, rule="lt5_secondary")[:5].all()
    assert not inherent(four, sum_of_four, rule="opensafely").any()


def test_a_count_pinned_through_a_withheld_area_is_protected_in_the_area_above():
    """Five neighbourhoods of one each (withheld) in a ward withheld to protect them, whose
    district (15) and other ward (10) are published: ward = 15 - 10 = 5 gives them all away.
    Nothing in the ward's own sum can be withheld; the other ward is."""
    values = np.array([NAN] * 5 + [NAN, 10.0, 15.0])
    secondary = np.array([False] * 5 + [True, False, False])
    relations = Relations(np.array([5, 7]), np.array([0] * 5 + [1, 1]), np.array([0, 1, 2, 3, 4, 5, 6]))
    whole = np.ones(8, dtype=bool)
    lo, hi = tighten(*count_bounds(values, rule="lt5_secondary", secondary=secondary), relations, whole=whole)
    assert recovered(np.isnan(values) & ~secondary, lo, hi)[:5].all()
    extra = protect(values, relations, rule="lt5_secondary", secondary=secondary)
    assert extra[6] or extra[7]
    values[extra] = NAN
    bounds = count_bounds(values, rule="lt5_secondary", secondary=secondary | extra)
    lo, hi = tighten(*bounds, relations, whole=whole)
    assert not recovered(np.isnan(values) & ~secondary & ~extra, lo, hi).any()


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
    # the small month and the one withheld to protect it give the same reason: which is which is not said
    assert reasons[1] == reasons[4] == withheld_reason("lt5_secondary") and reasons.count(reasons[1]) == 2
    assert np.isnan(out.loc[4, ["value", "numerator", "lower_95", "upper_95"]].to_numpy(dtype=float)).all()
    assert out.loc[6, "numerator"] == 41  # the half-year stays
    # rounding protects on its own (nhs_digital): no second month withheld
    rounded = publish_indicators(_series([10, 3, 16, 8, 15, 9]), rule="nhs_digital")
    assert rounded["value"].isna().sum() == 1


def test_a_ward_and_its_neighbourhoods_give_no_withheld_count_back():
    """The issue's finding: a ward published with its neighbourhoods, one of them withheld, gives
    it back as ward minus the others (exact counts), and so does a place of apportioned
    neighbourhoods; protecting the store withholds a second neighbourhood (or the total)."""
    from needskit.disclosure.audit import attack_store, membership, protect_store, store_cells

    hierarchy = pd.DataFrame(
        {"lsoa": ["L1", "L2", "L3", "L4"], "ward": ["W1", "W1", "W1", "W2"], "district": ["D"] * 4}
    )
    places = pd.DataFrame(
        {"lsoa_code": ["L3", "L4"], "area_code": ["P"] * 2, "weight": [1.0, 0.5], "level": ["places"] * 2}
    )
    truth = {"L1": 18.0, "L2": 14.0, "L3": 3.0, "L4": 12.0, "W1": 35.0, "W2": 12.0, "D": 47.0, "P": 9.0}
    levels = {"L": "lsoa", "W": "ward", "D": "district", "P": "places"}

    def profile(values):
        return pd.DataFrame(
            {
                "dataset": "crime",
                "measure": "crimes",
                "category": "all",
                "period": "2025-01",
                "vintage": "2021",
                "level": [levels[c[0]] for c in values],
                "area_code": list(values),
                "kind": "count",
                "value": list(values.values()),
                "suppressed": [np.isnan(v) for v in values.values()],
            }
        )

    published = profile({**truth, "L3": NAN})  # lt5_secondary: 3 withheld, the rest exact
    cells = store_cells(
        published,
        pd.DataFrame(),
        members=membership(hierarchy, places),
        truth_profile=profile(truth),
        truth_indicators=pd.DataFrame(),
        rule="lt5_secondary",
    )
    found = attack_store(cells, rule="lt5_secondary")
    assert found["area_code"].tolist() == ["L3"] and found["found_from"].round(3).tolist() == [3.0]
    extra = protect_store(cells, rule="lt5_secondary")
    assert len(extra) >= 2 and "L3" not in set(extra["area_code"])  # the ward's and the place's relations
    protected = published.copy()
    protected.loc[extra["row"], "value"] = NAN
    protected.loc[extra["row"], "suppressed"] = True
    again = store_cells(
        protected,
        pd.DataFrame(),
        members=membership(hierarchy, places),
        truth_profile=profile(truth),
        truth_indicators=pd.DataFrame(),
        rule="lt5_secondary",
    )
    assert attack_store(again, rule="lt5_secondary").empty


@pytest.mark.parametrize("rule", ["nhs_digital", "lt5_secondary"])
def test_no_withheld_count_of_the_shipped_series_is_recovered_across_periods(shipped_workspace, rule):
    """Every month of the shipped indicators against its half-year, under the default rule and
    under the exact-count rule with secondary suppression (which, without the period protection,
    gives back about 2,000 months); the whole store's attack is the next test."""
    from needskit.disclosure.attack import period_relations

    if rule == shipped_workspace.partnership.disclosure_rule:
        published = shipped_workspace.published("public").read_indicators()
    else:
        published = publish_indicators(shipped_workspace.store.read_indicators(), rule=rule)
    keys = ["indicator", "area_code", "period"]
    counted = published["statistic"].isin(["proportion", "crude_rate", "dsr", "isr"])
    withheld = published["suppressed_reason"].fillna("") == withheld_reason(rule)
    cells = published[counted & (published["numerator"].notna() | withheld)].drop_duplicates(keys)
    cells = cells.reset_index(drop=True)
    values = cells["numerator"].to_numpy(dtype=float)
    assert len(cells) > 100_000 and np.isnan(values).any()
    lo, hi = count_bounds(values, rule=rule, secondary=np.isnan(values))  # which is small is not said
    lo, hi = tighten(lo, hi, period_relations(cells, keys=["indicator", "area_code"]))
    # a figure withheld to protect a small one may be worked out; the small ones may not
    internal = shipped_workspace.store.read_indicators().drop_duplicates(keys).set_index(keys)["numerator"]
    true = internal.reindex(pd.MultiIndex.from_frame(cells[keys])).to_numpy(dtype=float, na_value=np.nan)
    low = 0 if resolve_rule(rule).suppress_zero else 1
    small = np.isnan(values) & (true >= low) & (true <= resolve_rule(rule).threshold)
    assert small.sum() > 1_000
    assert not recovered(small, lo, hi).any()


@pytest.mark.slow
def test_the_attacker_recovers_no_withheld_count_from_the_shipped_public_store(shipped_workspace):
    """The public store `needskit run` publishes for the shipped example (profile and indicators
    of every level, place and period), attacked with parent - children, place - members, period -
    period and indicator - categories: nothing withheld is worked out. The same attack on the
    store as published before this protection (rounding and primary suppression only) works out
    withheld counts, so the test can fail."""
    from needskit.disclosure.audit import attack_store, store_cells
    from needskit.pipeline import _relations_of

    ws = shipped_workspace
    public = ws.published("public")
    members, specs = _relations_of(ws)
    truth = {"truth_profile": ws.store.read_profile(), "truth_indicators": ws.store.read_indicators()}
    rule = ws.partnership.disclosure_rule
    blind = store_cells(
        public.read_profile(),
        public.read_indicators(),
        members=members,
        specs=specs,
        rule=rule,
        knows_small=False,
        **truth,
    )
    assert blind.relations.size > 100_000 and blind.frame["withheld"].sum() > 50_000
    assert attack_store(blind, rule=rule).empty
    # told (or guessing) which withheld figures are small, the attacker works out only what the
    # rule itself gives away: sums whose every figure is withheld or 0
    cells = store_cells(
        public.read_profile(), public.read_indicators(), members=members, specs=specs, rule=rule, **truth
    )
    found = attack_store(cells, rule=rule)
    assert found["inherent"].all()
    # without the store's protection (rounding and primary suppression only) the attack works some out
    from needskit.disclosure.publish import publish as publish_frames

    bare = publish_frames(
        profile=truth["truth_profile"],
        indicators=truth["truth_indicators"],
        ledger=ws.store.read_ledger(),
        register={},
        sharing={spec.id: spec.sharing for spec in ws.catalog},
        audience="public",
        rule=rule,
    )
    unprotected = store_cells(bare.profile, bare.indicators, members=members, specs=specs, rule=rule, **truth)
    assert (~attack_store(unprotected, rule=rule)["inherent"]).sum() > 0
    log = pd.read_csv(public.path / "disclosure_log.csv")
    assert "area_code" not in log.columns and log["action"].eq("secondary suppression").any()
