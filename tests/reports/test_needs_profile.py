"""needskit.reports.context, needs_profile and charts on the store of the shipped example."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from needskit.errors import ReportError, StoreError
from needskit.reports import charts
from needskit.reports import needs_profile as analysis
from needskit.reports.context import load_context, select_period

CHELTENHAM = "E07000078"


@pytest.fixture(scope="module")
def context(shipped_workspace):
    def load(**kwargs):
        kwargs.setdefault("period", "2025-H1")
        return load_context(
            store=shipped_workspace.store.path, project=shipped_workspace.project.root, **kwargs
        )

    return load


@pytest.fixture(scope="module")
def public(context):
    return context(area=CHELTENHAM, audience="public")


@pytest.fixture(scope="module")
def internal(context):
    return context(area=CHELTENHAM, audience="internal")


def test_context_and_period(public, context):
    assert public.area_name == "Cheltenham" and public.area_level == "district"
    assert public.comparator_code == "E10000013" and public.comparator_name == "Gloucestershire"
    assert len(public.neighbourhoods) == 77
    table = analysis.indicator_table(public)
    periods = table.set_index("indicator")["period"]
    assert periods["crime_rate_all"] == "2025-H1"  # the half-year, not its months
    assert periods["disability"] == "2021" and periods["gp_practices_per_100k"] == "2025-09"  # snapshots
    earlier = context(area=CHELTENHAM, period="2023-H2", audience="internal")
    row = analysis.indicator_table(earlier).set_index("indicator").loc["crime_rate_all"]
    assert row["period"] == "2023-H2"
    # the half-year's count is the sum of its months' (exact counts: the internal store)
    results = earlier.results[
        (earlier.results["indicator"] == "crime_rate_all") & (earlier.results["area_code"] == CHELTENHAM)
    ].set_index("period")
    months = [f"2023-{m:02d}" for m in range(7, 13)]
    assert results.loc[months, "numerator"].sum() == results.loc["2023-H2", "numerator"] == row["count"]


def test_bad_parameters(context, tmp_path):
    with pytest.raises(ReportError, match="not an area of the partnership"):
        context(area="E99999999")
    with pytest.raises(ReportError, match="unknown audience"):
        context(area=CHELTENHAM, audience="everyone")
    with pytest.raises(ReportError, match="no data for that period"):
        context(area=CHELTENHAM, period="2019-01")
    with pytest.raises(ReportError, match="not a comparator the store holds"):
        context(area=CHELTENHAM, comparator="region")
    with pytest.raises(ReportError, match="above the area's level"):
        context(area="E01022147", level="ward")
    with pytest.raises(StoreError, match="no store here.*needskit run"):
        load_context(area=CHELTENHAM, store=tmp_path / "none", audience="internal")


def test_a_report_never_computes_an_indicator(context, monkeypatch):
    import needskit.needs.benchmarking as benchmarking
    import needskit.needs.indicators as indicators

    def forbidden(*args, **kwargs):
        raise AssertionError("a report computed indicators")

    monkeypatch.setattr(indicators, "compute_indicators", forbidden)
    monkeypatch.setattr(benchmarking, "benchmark", forbidden)
    ctx = context(area=CHELTENHAM, audience="public")
    assert len(analysis.indicator_table(ctx)) > 15
    analysis.headline_facts(ctx)


def test_a_public_report_reads_only_the_published_store(public, internal, shipped_workspace):
    assert public.store.path == shipped_workspace.published("public").path
    assert public.store.audience == "public" and public.rule == "nhs_digital"
    assert internal.store.path == shipped_workspace.store.path and internal.rule is None


def test_public_context_controls_small_numbers(public, internal):
    lsoa_pub = public.results[
        (public.results["level"] == "lsoa") & (public.results["indicator"] == "crime_rate_burglary")
    ]
    lsoa_int = internal.results[
        (internal.results["level"] == "lsoa") & (internal.results["indicator"] == "crime_rate_burglary")
    ]
    small = lsoa_int["numerator"].between(1, 7)
    assert small.any()
    withheld = lsoa_pub.loc[small[small].index]
    assert (
        withheld["value"].isna().all()
        and withheld["suppressed_reason"].str.startswith("small number withheld").all()
    )
    published_counts = lsoa_pub["numerator"].dropna()
    assert (published_counts % 5 == 0).all()
    assert (lsoa_int.loc[~small, "value"].notna()).all()
    pop = public.profile[
        (public.profile["dataset"] == "population_census2021") & (public.profile["area_code"] == CHELTENHAM)
    ]
    assert (pop["value"] % 5 == 0).all()


def test_headline_facts_are_generated_from_the_data(public):
    facts = analysis.headline_facts(public)
    assert facts[0].startswith(
        "Cheltenham had 118,840 residents (2021), 19.3% of them aged 65 years and over"
    )
    assert any("most deprived in England" in f for f in facts)
    crime = next(f for f in facts if f.startswith("Recorded crime"))
    table = analysis.indicator_table(public).set_index("indicator")
    assert f"{table.loc['crime_rate_all', 'value']:,.1f} per 1,000 residents" in crime
    assert "significantly worse" in crime and "Gloucestershire" in crime


def test_priority_neighbourhoods_and_drivers(public):
    priority = analysis.priority_neighbourhoods(public)
    assert len(priority) == 5 and (priority["imd_decile"] <= 2).all()
    assert priority["imd_rank"].is_monotonic_increasing
    assert priority.loc[0, "area_code"] == "E01022147" and "Income (decile 1)" in priority.loc[0, "drivers"]


def test_inequality_hot_spots_and_trend(public):
    table, sentence = analysis.inequality_by_decile(public)
    assert list(table["quantile"]) == [1, 2, 3, 4, 5]
    assert "most deprived fifth" in sentence
    spots, sentence = analysis.hot_spot_areas(public)
    assert set(spots["cluster"]) <= {
        "high-high",
        "low-low",
        "high-low",
        "low-high",
        "not significant",
        "no neighbours",
    }
    assert "Local Moran's I" in sentence
    by_period, sentence = analysis.period_trend(public)
    halves = [f"{y}-H{h}" for y in (2022, 2023, 2024) for h in (1, 2)] + ["2025-H1"]
    assert list(by_period["period"]) == halves  # seven half-years: the recent trend can be tested
    assert "2022-H1 to 2025-H1: recent trend" in sentence and "cannot be calculated" not in sentence
    monthly = analysis.monthly_series(public)
    assert len(monthly) == 42 and monthly["period"].iloc[-1] == "2025-06"


def test_charts_are_figures(public):
    table = analysis.indicator_table(public)
    distribution, label = analysis.comparison_group(public)
    assert distribution["area_code"].nunique() == 6 and label.startswith("districts")
    fig = charts.spine_chart(table, distribution, title="Cheltenham", comparator_name="Gloucestershire")
    assert isinstance(fig, Figure)
    points = fig.axes[0].collections
    assert len(points) == table["value"].notna().sum()
    colours = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in points}
    assert len(colours) >= 3
    bars, _ = analysis.inequality_by_decile(public)
    assert isinstance(charts.quantile_bars(bars, title="x", ylabel="y"), Figure)
    by_period, _ = analysis.period_trend(public)
    assert isinstance(charts.trend_chart(by_period, title="x", ylabel="y"), Figure)
    assert charts.comparison_colour("worse") == "#D55E00" and charts.comparison_colour("better") == "#009E73"
    assert fig.alt.startswith("Spine chart: Cheltenham.")


def test_select_period_prefers_spans_and_keeps_snapshots():
    frame = pd.DataFrame(
        {
            "indicator": ["a", "a", "a", "a", "b"],
            "period": ["2024-01", "2024-02", "2024-03", "2024-01/2024-03", "2021"],
        }
    )
    chosen = select_period(frame, "2024-03")
    assert sorted(chosen["period"]) == ["2021", "2024-01/2024-03"]
    chosen = select_period(frame, "2024-02")
    assert sorted(chosen["period"]) == ["2021", "2024-02"]


def _select_period_row_by_row(results: pd.DataFrame, period: str) -> pd.DataFrame:
    """select_period as it was written before it chose on (indicator, period) pairs: every step on
    every row (the reference the faster one must match exactly)."""
    from needskit.needs.periods import period_kind

    kind = period_kind(period)
    if kind not in (None, "month"):
        kinds = results["period"].map(period_kind)
        series = set(results.loc[kinds == kind, "indicator"])
        results = results[~((kinds == "month") & results["indicator"].isin(series))]
    singles = results[~results["period"].str.contains("/")].groupby("indicator")["period"].nunique()
    snapshot = results["indicator"].map(singles).fillna(0) <= 1
    end = results["period"].str.split("/").str[-1].where(~snapshot, "")
    eligible = results[end <= period].copy()
    eligible["_end"] = end[end <= period]
    eligible["_span"] = eligible["period"].str.contains("/")
    best = eligible.sort_values(["indicator", "_end", "_span"]).groupby("indicator")[["_end", "_span"]].last()
    key = eligible["indicator"].map(best["_end"]).eq(eligible["_end"]) & eligible["indicator"].map(
        best["_span"]
    ).eq(eligible["_span"])
    return eligible[key].drop(columns=["_end", "_span"])


@pytest.mark.parametrize("period", ["2024-03", "2024-02", "2024-Q1", "2024-H1", "2023-H2", "2024", "2019-H1"])
def test_select_period_matches_the_row_by_row_choice(period):
    rng = np.random.default_rng(7)
    labels = [
        *[f"2024-{m:02d}" for m in range(1, 7)],
        "2023-H2",
        "2024-H1",
        "2024-Q1",
        "2024",
        "2024-01/2024-03",
        "2024-01/2024-06",
        "2023-07/2023-12",
        "2021",
    ]
    rows = [
        (indicator, label, area)
        for indicator in ("a", "b", "c", "d")
        for label in rng.choice(labels, size=int(rng.integers(1, len(labels))), replace=False)
        for area in ("x", "y", "z")
    ]
    frame = pd.DataFrame(rows, columns=["indicator", "period", "area_code"]).sample(frac=1, random_state=3)
    frame.index = frame.index * 10  # the index is kept, not reset
    frame.loc[frame.index[0], "period"] = "2020-H1"
    pd.testing.assert_frame_equal(select_period(frame, period), _select_period_row_by_row(frame, period))


def test_select_period_matches_the_row_by_row_choice_on_the_store(county_ctx, public, internal):
    for context in (county_ctx, public, internal):
        for period in (context.period, "2024-H2", "2025-05"):
            pd.testing.assert_frame_equal(
                select_period(context.results, period), _select_period_row_by_row(context.results, period)
            )


def test_info_is_the_first_row_of_the_indicator(public):
    first = public.results[public.results["indicator"] == "crime_rate_all"].iloc[0]
    columns = ["indicator", "title", "theme", "statistic", "polarity", "unit", "multiplier"]
    pd.testing.assert_series_equal(public.info("crime_rate_all"), first[columns])
    with pytest.raises(ReportError, match="is not an indicator of the store"):
        public.info("no_such_indicator")


# -------------------------------------------------------------------------- compare areas (county chapter)


def test_headline_fact_without_a_comparator_value_says_so(county_ctx):
    # England has no police.uk crime rate: the county's fact says so rather than "against n/a"
    crime = next(f for f in analysis.headline_facts(county_ctx) if f.startswith("Recorded crime"))
    assert "n/a" not in crime and "(England has no value to compare with)." in crime


def test_county_funnel_reads_the_published_districts(county_ctx):
    funnel = analysis.funnel_data(county_ctx, indicator="crime_rate_all")
    published = select_period(county_ctx.results, county_ctx.period)
    districts = published[(published["indicator"] == "crime_rate_all") & (published["level"] == "district")]
    county = published[(published["indicator"] == "crime_rate_all") & (published["area_code"] == "E10000013")]
    points = funnel.points.set_index("area_code")
    assert sorted(points.index) == sorted(districts["area_code"]) and len(points) == 6
    for column in ("numerator", "denominator", "value"):
        assert points.loc[districts["area_code"], column].tolist() == districts[column].tolist(), column
    assert (points["numerator"] % 5 == 0).all()  # the public store's rounded counts, not the internal ones
    assert funnel.centre == county["value"].item() and funnel.comparator_name == "Gloucestershire"
    above = points[points["funnel_position"] == "above"]
    assert len(above) and (above["value"] > above["control_upper_95"]).all()
    assert (points.loc[points["funnel_comparison"] == "worse", "value"] > funnel.centre).all()
    assert funnel.curve["denominator"].between(0, 1.06 * points["denominator"].max()).all()
    # a district's report, an indicator without a denominator: a sentence instead
    assert "in the Gloucestershire report" in str(
        analysis.funnel_data(
            dataclasses.replace(
                county_ctx,
                area_code="E07000078",
                area_name="Cheltenham",
                area_level="district",
                comparator_name="Gloucestershire",
            ),
            indicator="crime_rate_all",
        )
    )
    assert "needs a proportion or a rate" in str(analysis.funnel_data(county_ctx, indicator="imd_score"))


def test_county_compare_areas_and_withheld_values(county_ctx):
    table = analysis.compare_areas(county_ctx)
    areas = table.drop_duplicates("area_code")
    assert areas["role"].tolist() == ["england", "area"] + ["compared"] * 6
    assert areas["area_name"].tolist()[:2] == ["England", "Gloucestershire"]
    published = select_period(county_ctx.results, county_ctx.period).set_index(["indicator", "area_code"])
    districts = table[table["role"] == "compared"]
    keys = list(zip(districts["indicator"], districts["area_code"], strict=True))
    assert districts["value"].tolist() == published.loc[keys, "value"].tolist()
    assert districts["comparison"].tolist() == published.loc[keys, "comparison"].tolist()
    assert set(table.loc[table["role"] == "england", "comparison"]) <= {"benchmark", "no_data", "withheld"}
    # a value the published store withheld shows as withheld in the rug and under the funnel
    results = county_ctx.results.copy()
    hit = (
        (results["indicator"] == "crime_rate_all")
        & (results["area_code"] == "E07000079")
        & (results["period"] == county_ctx.period)
    )
    results.loc[hit, ["value", "lower_95", "upper_95", "numerator"]] = np.nan
    results.loc[hit, "suppressed_reason"] = "fewer than 8 events"
    withheld = dataclasses.replace(county_ctx, results=results)
    rug = charts.compare_areas_table(analysis.compare_areas(withheld))
    row = rug.cells.set_index("Indicator").loc[
        "Recorded crime (excluding anti-social behaviour) per 1,000 residents"
    ]
    assert row["Cotswold"] == "withheld" and row["Gloucester"].endswith("\nworse")
    fig = charts.funnel_plot(analysis.funnel_data(withheld, indicator="crime_rate_all"))
    assert "Withheld: Cotswold." in fig.alt and "5 districts of Gloucestershire" in fig.alt
