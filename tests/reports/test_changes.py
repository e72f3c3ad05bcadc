"""needskit.reports.changes: what changed since the last analysis, on the shipped 42 months
(Cheltenham, the published store), against values computed by hand from the published counts."""

from __future__ import annotations

import pytest
from scipy import stats as sps

from needskit.needs.statistics import trend
from needskit.reports import changes
from needskit.reports import needs_profile as analysis
from reports.cases import CHELTENHAM


@pytest.fixture(scope="module")
def cheltenham(report_context):
    return report_context(CHELTENHAM, period="2025-H1", audience="public")


def _counts(ctx, indicator, period):
    rows = ctx.results[
        (ctx.results["indicator"] == indicator)
        & (ctx.results["area_code"] == CHELTENHAM)
        & (ctx.results["period"] == period)
    ]
    return float(rows["numerator"].iloc[0]), float(rows["denominator"].iloc[0])


def test_the_periods_compared(cheltenham):
    assert changes.comparison_periods(cheltenham) == {
        "the previous analysis": "2024-H2",
        "the same period a year earlier": "2024-H1",
    }


def test_each_change_is_the_rate_ratio_of_the_published_counts(cheltenham):
    table, sentences = changes.what_changed(cheltenham)
    assert len(table) == 12  # six crime indicators against two earlier half-years; the rest have one period
    o1, d1 = _counts(cheltenham, "crime_rate_all", "2025-H1")
    o0, d0 = _counts(cheltenham, "crime_rate_all", "2024-H2")
    # by hand: the ratio of rates, and the Clopper-Pearson interval of O1 among O1 + O0 as odds
    ratio = (o1 / d1) / (o0 / d0)
    ci = sps.binomtest(int(o1), int(o1 + o0)).proportion_ci(method="exact")
    low, high = ci.low / (1 - ci.low) * d0 / d1, ci.high / (1 - ci.high) * d0 / d1
    row = table[
        table["Indicator"].str.startswith("Recorded crime") & table["Against"].str.startswith("2024-H2")
    ].iloc[0]
    assert row["Change (95% CI)"] == f"× {ratio:.2f} ({low:.2f} to {high:.2f})"
    verdict = "no significant change" if low < 1 < high else ("better" if high < 1 else "worse")
    assert row["Judgement"] == verdict
    text = [s for s in sentences if s.startswith("Recorded crime") and "(2024-H2)" in s][0]
    assert f"rate ratio {ratio:.2f}" in text and "since the previous analysis (2024-H2)" in text
    # significant changes are listed first
    flags = ["not a significant change" not in s for s in sentences]
    assert flags == sorted(flags, reverse=True)


def test_neighbourhoods_entering_and_leaving_the_highest_fifth(cheltenham):
    lines = list(changes.highest_fifth_changes(cheltenham))
    assert lines[0].startswith("Recorded crime") and "were also in the highest fifth in 2024-H2" in lines[0]
    assert lines[1].startswith("Entered the highest fifth: ") and lines[2].startswith(
        "Left the highest fifth: "
    )
    assert "do not change between analyses" in lines[3]


def test_is_the_gap_narrowing(cheltenham):
    table, notes = changes.gap_over_time(cheltenham)
    assert table["period"].tolist() == ["2025-H1", "2024-H2", "2024-H1"]
    assert (table["sii_lower_95"] < table["sii"]).all() and (table["sii"] < table["sii_upper_95"]).all()
    (sentence,) = list(notes)
    assert sentence.startswith("Is the gap narrowing? ") and "slope index of inequality" in sentence
    now, before = table.iloc[0], table.iloc[1]
    assert f"{abs(now['sii']) - abs(before['sii']):+.1f}" in sentence


def test_the_recent_trend_is_fingertips_test_on_the_last_five_half_years(cheltenham):
    rows, sentence = analysis.period_trend(cheltenham)
    assert rows["period"].tolist()[-5:] == ["2023-H1", "2023-H2", "2024-H1", "2024-H2", "2025-H1"]
    by_hand = trend(
        rows.tail(5).assign(t=range(5)),
        time="t",
        count="numerator",
        denominator="denominator",
        polarity="high_is_bad",
    )
    assert f"recent trend {by_hand['trend'].iloc[-1]}" in sentence
