"""needskit.reports.delivery on the shipped store: the delivery register against outcomes, places and need."""

from __future__ import annotations

import pytest

from needskit.errors import CatalogError
from needskit.reports import delivery as dl
from reports.cases import CHELTENHAM, COUNTY, wards_of


def test_framework_and_register_are_read_from_the_project(framework, activities, shipped_workspace, ctx):
    assert framework.path == shipped_workspace.project.root / "conf" / "outcomes.yml"
    assert {"place_code", "place_name", "place_level"} <= set(
        activities.columns
    ) and "place" not in activities
    assert set(activities["place_level"]) <= {"ward", "district", "county"}
    assert set(activities["place_code"]) <= set(ctx.hierarchy[["ward", "district", "county"]].stack())
    with pytest.raises(CatalogError):
        dl.outcomes_framework("conf/no-such-file.yml", project=shipped_workspace.project.root)
    default = dl.outcomes_framework(project=shipped_workspace.project.root)  # the project's conf/outcomes.yml
    assert default.path == framework.path
    assert dl.delivery_register(ctx, framework=framework, project=shipped_workspace.project.root).equals(
        activities
    )


def test_framework_note_flags_made_up_fields(framework, activities):
    note = dl.framework_note(framework, delivery=activities)
    n = len(framework.outcomes)
    assert f"of {n} of the {n} outcomes" in note and "ILLUSTRATIVE" in note
    assert f"budget of {activities['activity_id'].nunique()}" in note  # every budget is made up


def test_delivery_in_cheltenham_is_county_wide_only(activities, ctx, framework):
    rows = dl.delivery_in_area(activities, ctx=ctx)
    wide = set(activities.loc[activities["place_code"] == COUNTY, "activity_id"])
    assert set(rows["activity_id"]) == wide and len(wide) == 3
    assert set(rows["place_code"]) == set(wards_of(ctx, CHELTENHAM))
    sentence = dl.delivery_sentence(activities, rows, ctx=ctx)
    assert f"{len(wide)} of them serve places in Cheltenham: {len(wide)} county-wide" in sentence
    matrix = dl.delivery_gap_matrix(rows, framework=framework, ctx=ctx).set_index("place")
    ids = framework.outcomes["outcome_id"].tolist()
    assert len(matrix) == 1 + 20 and list(matrix.columns) == ids + ["outcomes_delivered"]
    per_outcome = rows.groupby("outcome_id")["activity_id"].nunique()
    assert matrix.loc["whole area", ids].sum() == per_outcome.sum()
    assert matrix.loc["whole area", "outcomes_delivered"] == len(per_outcome)
    assert (
        (matrix.drop(index="whole area")[list(per_outcome.index)] == 1).all().all()
    )  # county-wide: every ward


def test_delivery_at_district_level_for_the_county(activities, county_ctx, framework):
    rows = dl.delivery_in_area(activities, ctx=county_ctx)
    assert set(rows["place_level"]) == {"district"}
    assert not rows.duplicated(["activity_id", "outcome_id", "place_code"]).any()
    assert set(rows["activity_id"]) == set(activities["activity_id"])
    matrix = dl.delivery_gap_matrix(rows, framework=framework, ctx=county_ctx).set_index("place")
    assert len(matrix) == 1 + 6
    assert matrix.loc["Gloucester", "outcomes_delivered"] > matrix.loc["Cheltenham", "outcomes_delivered"]


def test_undelivered_outcomes_ignore_unconfirmed_activities(activities, ctx, framework):
    rows = dl.delivery_in_area(activities, ctx=ctx)
    missing = dl.undelivered_outcomes(framework, rows)
    confirmed = set(rows.loc[rows["confirmed"], "outcome_id"])
    assert set(missing["outcome_id"]) == set(framework.outcomes["outcome_id"]) - confirmed
    assert "3.5" in set(missing["outcome_id"])  # only an unconfirmed activity ("older people assembly?")
    assert len(dl.undelivered_outcomes(framework, rows.iloc[0:0])) == len(framework.outcomes)


def test_outcome_need_and_delivery_against_need(activities, ctx, framework):
    need = dl.outcome_need(ctx, framework=framework)
    assert len(need) == len(framework.outcomes) * 20
    chosen = need.drop_duplicates("outcome_id").set_index("outcome_id")["need_indicator"]
    assert chosen["2.3"] == "crime_rate_all" and chosen["1.1"] == "imd_score"
    titles = need.drop_duplicates("outcome_id").set_index("outcome_id")["need_title"]
    assert titles["1.1"] == "Index of Multiple Deprivation 2025 score"  # readers see the name, not the id
    assert titles["2.3"].startswith("Recorded crime")
    assert need["need"].notna().all()
    rows = dl.delivery_in_area(activities, ctx=ctx)
    table = dl.delivery_vs_need(rows, need=need)
    assert len(table) == len(rows.drop_duplicates(["activity_id", "outcome_id"]))
    assert not table["need_title"].str.contains("_").any()
    assert (table["n_places"] == 20).all() and not table[
        "away_from_need"
    ].any()  # county-wide reaches every ward
    assert table["illustrative"].all() and "(ILLUSTRATIVE) budget" in dl.delivery_need_sentence(
        table, ctx=ctx
    )
    empty = dl.delivery_vs_need(rows.iloc[0:0], need=need)
    assert empty.empty and "away_from_need" in empty.columns
    assert "none can be compared" in dl.delivery_need_sentence(empty, ctx=ctx)


def test_an_empty_delivery_register_says_nothing_is_recorded(activities, ctx, framework):
    from needskit.reports.context import Note
    from needskit.reports.tables import show_table

    assert activities.attrs["source"] == "conf/delivery.yml"
    empty = activities.iloc[0:0]  # `activities: []`, as `needskit init` writes it
    recorded = (
        "No delivery is recorded in conf/delivery.yml yet: list the partners' activities there (what, "
        "who, the outcomes and places they serve, the budget) to see them against the outcomes and need."
    )
    assert recorded in dl.framework_note(framework, delivery=empty)
    rows = dl.delivery_in_area(empty, ctx=ctx)
    assert rows.empty and rows.attrs["recorded"] == 0 and rows.attrs["why_empty"] == recorded
    assert dl.delivery_sentence(empty, rows, ctx=ctx) == recorded
    matrix = dl.delivery_gap_matrix(rows, framework=framework, ctx=ctx)
    assert matrix.empty and isinstance(show_table(matrix), Note)
    assert "nothing is recorded in conf/delivery.yml yet" in matrix.attrs["why_empty"]
    assert len(dl.undelivered_outcomes(framework, rows)) == len(framework.outcomes)
    against = dl.delivery_vs_need(rows, need=dl.outcome_need(ctx, framework=framework))
    assert against.empty and "nothing is recorded" in against.attrs["why_empty"]
    assert dl.delivery_need_sentence(against, ctx=ctx) == (
        "No delivery is recorded in conf/delivery.yml yet, so none can be compared with need."
    )
    # activities recorded, none of them in the area: a matrix of zeros, as before
    here = set(ctx.hierarchy.loc[ctx.hierarchy["district"] == CHELTENHAM, "ward"]) | {CHELTENHAM}
    other = activities[
        activities["place_level"].isin(["ward", "district"]) & ~activities["place_code"].isin(here)
    ]
    none_here = dl.delivery_in_area(other, ctx=ctx)
    recorded = other["activity_id"].nunique()
    assert none_here.empty and none_here.attrs["recorded"] == recorded > 0
    assert none_here.attrs["why_empty"] == (
        f"None of the {recorded} activities of the delivery register serves a place in Cheltenham."
    )
    assert len(dl.delivery_gap_matrix(none_here, framework=framework, ctx=ctx)) == 1 + 20


def test_the_starter_framework_is_said_to_be_made_up_in_full(framework):
    import dataclasses

    outcomes = framework.outcomes.assign(illustrative=True, illustrative_fields="all")
    note = dl.framework_note(dataclasses.replace(framework, outcomes=outcomes, name="Starter"))
    n = len(outcomes)
    assert note == (
        f"- **ILLUSTRATIVE**: {n} of the {n} outcomes in 'Starter' are made up in full (aims, outcomes, "
        "indicators, targets and who is accountable), an example of the format to be replaced by the "
        "partnership's own."
    )
