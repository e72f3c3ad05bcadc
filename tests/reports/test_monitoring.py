"""needskit.reports.monitoring on the shipped store: outcome series, SPC charts, the board and the
partnerships."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needskit.errors import SchemaError
from needskit.reports import delivery as dl
from needskit.reports import monitoring as mo
from needskit.reports.charts import ReportFigure


@pytest.fixture(scope="module")
def series(ctx, framework):
    return mo.outcome_series(ctx, framework=framework)


def test_outcome_series_are_the_published_monthly_crime_rates(series):
    assert sorted(series["indicator"].unique()) == [
        "crime_rate_all",
        "crime_rate_asb",
        "crime_rate_burglary",
        "crime_rate_violence",
    ]
    # 2022-01 ... 2025-06, less the few months the public store withholds (to protect small
    # neighbourhood counts from differencing): a withheld month is a gap, never an estimate
    months = series.groupby("indicator")["period"].nunique()
    assert months.max() == 42 and months.min() >= 36
    assert (series["numerator"] % 5 == 0).all()  # counts as published (nhs_digital rounds to 5)
    assert not series["illustrative"].any() and (series["data"] == "real").all()
    note = mo.series_note(series)
    assert "real months (2022-01 to 2025-06)" in note and "fewer than the 12 points" not in note
    assert "Burglary per 1,000 residents" in note and "crime_rate" not in note
    assert mo.series_note(series.iloc[0:0]) == "No outcome indicator has a monthly series in the data."


def test_outcome_series_stop_at_the_report_period(report_context, framework):
    earlier = mo.outcome_series(
        report_context("E07000078", period="2023-H2", audience="public"), framework=framework
    )
    assert (
        earlier["period"].max() == "2023-12"  # the last month of the half-year
        and (earlier.groupby("indicator")["period"].nunique() == 24).all()
    )


def test_synthetic_history_is_labelled_seeded_and_before_the_real_months(series):
    # a real series of 12 months or more is charted as it is: no synthetic history
    assert mo.synthetic_history(series, months=24, seed=7).equals(series)
    series = series[series["period"] >= "2025-03"].reset_index(drop=True)  # as if only 4 months were real
    extended = mo.synthetic_history(series, months=24, seed=7)
    made_up = extended[extended["illustrative"]]
    assert len(made_up) == 24 * series["indicator"].nunique()
    assert (made_up["data"] == "ILLUSTRATIVE synthetic").all() and made_up["source"].str.startswith(
        "ILLUSTRATIVE"
    ).all()
    assert made_up["period"].max() < series["period"].min()
    assert made_up.groupby("indicator")["period"].agg(lambda s: list(s) == sorted(s)).all()
    assert made_up["period"].min() == "2023-03"
    real = extended[~extended["illustrative"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(real[series.columns], series.reset_index(drop=True), check_dtype=False)
    assert mo.synthetic_history(series, months=24, seed=7).equals(extended)
    assert not mo.synthetic_history(series, months=24, seed=8).equals(extended)
    assert np.allclose(
        made_up["value"], made_up["numerator"] / made_up["denominator"] * made_up["multiplier"]
    )
    assert "24 ILLUSTRATIVE synthetic months" in mo.series_note(extended)
    assert mo.synthetic_history(series, months=0).equals(series)
    with pytest.raises(SchemaError, match="number of months"):
        mo.synthetic_history(series, months=-1)


def test_spc_results_read_targets_per_month_and_keep_warnings(series, framework):
    assert not any(
        "fewer than 12" in w
        for w in mo.spc_results(series, framework=framework)["crime_rate_all"].attrs["needskit_report"][
            "warnings"
        ]
    )
    series = series[series["period"] >= "2025-03"]  # four months: too few for trusted limits
    results = mo.spc_results(series, framework=framework, target_months=12)
    assert list(results) == list(dict.fromkeys(series["indicator"]))
    target = framework.indicators.set_index("indicator_id").loc["crime_rate_all", "target_value"]
    assert np.allclose(results["crime_rate_all"]["target"], target / 12)
    assert results["crime_rate_burglary"]["target"].isna().all()
    assert any("fewer than 12" in w for w in results["crime_rate_all"].attrs["needskit_report"]["warnings"])
    with pytest.raises(SchemaError, match="number of months"):
        mo.spc_results(series, framework=framework, target_months=0)


def test_board_and_panel_label_illustrative_history(series, framework):
    real = mo.board(mo.spc_results(series, framework=framework), framework=framework)
    assert (real["data"] == real["n_points"].map(lambda n: f"real ({n} months)")).all()
    assert real["n_points"].between(36, 42).all() and (real["n_points"] == 42).any()
    assert (real["accountable"] == "Positive Lives Partnership").all()
    extended = mo.synthetic_history(series[series["period"] >= "2025-03"], months=24)
    charts = mo.spc_results(extended, framework=framework)
    summary = mo.board(charts, framework=framework)
    # 4 real months each, less any month the public store withholds
    real_months = summary["n_points"] - 24
    assert real_months.between(3, 4).all() and (real_months == 4).any()
    expected = real_months.map(lambda n: f"ILLUSTRATIVE synthetic (24) + real ({n})")
    assert all(d.startswith(e) for d, e in zip(summary["data"], expected, strict=True))
    assert summary["variation_text"].notna().all() and summary["assurance_text"].notna().all()
    assert "ILLUSTRATIVE" in mo.board_table(summary).to_html()
    fig = mo.spc_panel(charts, title="Charts")
    assert isinstance(fig, ReportFigure) and len(fig.axes) == len(charts)
    assert all(any("ILLUSTRATIVE" in t.get_text() for t in ax.texts) for ax in fig.axes)
    with pytest.raises(SchemaError, match="no charts"):
        mo.board({}, framework=framework)
    with pytest.raises(SchemaError, match="no charts"):
        mo.spc_panel({}, title="x")


def test_rules_targets_untracked_and_partnership_view(series, framework, ctx, activities):
    assert mo.rules_text().startswith("Rules used:")
    sentence = mo.targets_sentence(framework, series=series, target_months=12)
    crime = "Recorded crime (excluding anti-social behaviour) per 1,000 residents"
    assert f"{crime}: 40 by 2027-03-31 → 3.33 a month" in sentence and "ILLUSTRATIVE" in sentence
    assert "crime_rate" not in sentence  # indicators by their names, not their ids
    untracked = mo.untracked_indicators(framework, series=series, ctx=ctx)
    assert not set(untracked["indicator_id"]) & set(series["indicator"])
    status = untracked.set_index("indicator_id")["status"]
    assert status["imd_score"] == "one period only in the data (2025)"
    assert status["fuel_poverty"] == "not defined in the indicator set"
    summary = mo.board(mo.spc_results(series, framework=framework), framework=framework)
    rows = dl.delivery_in_area(activities, ctx=ctx)
    view = mo.partnership_view(framework, summary=summary, delivery=rows).set_index("partnership")
    assert view.loc["Positive Lives Partnership", "charted"] == 4 and view["charted"].sum() == 4
    assert "Burglary per 1,000 residents: " in view.loc["Positive Lives Partnership", "icons"]
    assert "crime_rate" not in view.loc["Positive Lives Partnership", "icons"]
    # the unconfirmed "Gloucestershire first?" does not count as delivery for the Strategic Leadership Group
    assert view.loc["Strategic Leadership Group", "n_activities"] == 0
    assert (view["data_status"] == "ILLUSTRATIVE budgets").all()
    bare = mo.partnership_view(framework, summary=summary)
    assert (bare["n_activities"] == 0).all() and (bare["data_status"] == "").all()


def test_without_monthly_series_the_board_and_charts_say_why(no_crime_ctx, framework, activities):
    from needskit.reports.context import Note

    series = mo.outcome_series(no_crime_ctx, framework=framework)
    assert series.empty
    charted = [i for i in framework.indicator_ids if i in no_crime_ctx.unavailable]
    why = (
        "No outcome indicator has a monthly series in the data. Not available (no police data given): "
        + "; ".join(no_crime_ctx.unavailable[i]["title"] for i in charted)
        + "."
    )
    assert mo.series_note(series) == why
    extended = mo.synthetic_history(series, months=24)
    charts = mo.spc_results(extended, framework=framework)
    assert isinstance(charts, mo.SpcCharts) and not charts and charts.why_empty == why
    summary = mo.board(charts, framework=framework)
    assert summary.empty and summary.attrs["why_empty"] == why
    table = mo.board_table(summary)
    assert isinstance(table, Note) and table.text == why
    panel = mo.spc_panel(charts, title="Charts")
    assert isinstance(panel, Note) and "no outcome indicator has a monthly series" in panel.text
    assert (
        mo.targets_sentence(framework, series=extended)
        == "No indicator is charted, so no target is read on a chart."
    )
    status = mo.untracked_indicators(framework, series=series, ctx=no_crime_ctx).set_index("indicator_id")[
        "status"
    ]
    assert status["crime_rate_all"] == "not available: no police data given"
    assert status["fuel_poverty"] == "not defined in the indicator set"
    nothing = dl.delivery_in_area(activities.iloc[0:0], ctx=no_crime_ctx)
    view = mo.partnership_view(framework, summary=summary, delivery=nothing)
    assert (view["charted"] == 0).all() and (view["icons"] == "").all() and (view["budget"] == 0).all()
    assert (view["outcomes_without_delivery"] == view["outcome_ids"]).all()
    assert (view["data_status"] == "no delivery recorded in conf/delivery.yml yet").all()
