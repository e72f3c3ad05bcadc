"""needskit.reports.priorities on the shipped store: priority places and a pot shared by need."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from needskit.errors import ReportError, SchemaError
from needskit.reports import priorities as pr
from needskit.reports.charts import ReportFigure
from reports.cases import CHELTENHAM, lsoas_of


def test_priority_places_are_the_most_deprived_with_their_themes(ctx):
    places = pr.priority_places(ctx, worst_decile=2)
    assert (places["imd_decile"] <= 2).all()
    n = places["area_code"].nunique()
    iod = ctx.profile[
        (ctx.profile["dataset"] == ctx.deprivation_dataset)
        & (ctx.profile["measure"] == "imd_decile")
        & ctx.profile["area_code"].isin(lsoas_of(ctx, CHELTENHAM))
    ]
    assert n == int((iod["value"] <= 2).sum()) == 5
    assert len(places) == n * 5  # every priority neighbourhood × the five non-cross-cutting themes
    assert ((places["n_signals"] > 0) == (places["evidence"] != "")).all()
    assert places["evidence"].str.contains("deprivation domain, decile").any()
    matrix = pr.priority_matrix(places)
    assert len(matrix) == n and (matrix["n_themes"] <= 5).all()
    sentence = pr.priority_sentence(places, ctx=ctx)
    assert sentence.startswith(f"{n} of Cheltenham's 77 neighbourhoods")
    fewer = pr.priority_places(ctx, worst_decile=1)
    assert set(fewer["area_code"]) < set(places["area_code"])
    assert "10% most deprived in England (IMD decile 1)" in pr.priority_sentence(fewer, ctx=ctx)
    with pytest.raises(ReportError, match="decile"):
        pr.priority_places(ctx, worst_decile=11)
    with pytest.raises(ReportError, match="share"):
        pr.priority_places(ctx, worst_share=1.5)


def test_priority_places_without_a_deprivation_dataset(ctx):
    places = pr.priority_places(dataclasses.replace(ctx, deprivation_dataset=None))
    assert places.empty and places.attrs["worst_decile"] == 2
    assert pr.priority_matrix(places).empty
    assert pr.priority_sentence(places, ctx=ctx).startswith("None of Cheltenham's 77 neighbourhoods")


def test_allocation_sums_exactly_to_the_pot(ctx):
    measures = pr.allocation_measures(ctx, level="ward")
    assert len(measures) == 20 and not measures["crimes_withheld"].any()
    assert (measures["crimes"] % 5 == 0).all()  # published (rounded) counts
    assert (measures["crime_period"] == "2025-H1").all()
    assert np.allclose(
        measures["income_deprived"], measures["income_deprivation"] / 100 * measures["population"]
    )
    shares = pr.allocate_pot(measures, pot=50_000, unit=100)
    for label in pr.ALLOCATION_NEEDS:
        assert shares[f"allocation_{label}"].sum() == 50_000
        assert (shares[f"allocation_{label}"] % 100 == 0).all()
    sentence = pr.allocation_sentence(shares, measures=measures)
    assert "Each scenario sums exactly to the pot" in sentence and "£50,000 pot" in sentence
    table = pr.allocation_table(shares, top=None)
    assert table.filter(like="(£)").drop(columns="range (£)").sum().eq(50_000).all()
    assert isinstance(pr.allocation_chart(shares, title="Pot"), ReportFigure)
    with pytest.raises(SchemaError, match="unit|whole"):
        pr.allocate_pot(measures, pot=50_050, unit=100)


def test_allocation_measures_name_indicators_the_store_lacks(ctx):
    with pytest.raises(ReportError, match="does not compute"):
        pr.allocation_measures(ctx, crime="knife_crime")


def test_a_pot_is_shared_without_the_measures_that_cannot_be_made(no_crime_ctx):
    from needskit.reports.context import Note

    measures = pr.allocation_measures(no_crime_ctx, level="ward")
    assert measures["crimes"].isna().all() and not measures["crimes_withheld"].any()
    why = (
        "Recorded crime (excluding anti-social behaviour) per 1,000 residents: not available, "
        "no police data given."
    )
    assert measures.attrs["unavailable"] == {"crimes": why}
    shares = pr.allocate_pot(measures, pot=50_000, unit=100)
    assert "allocation_crime" not in shares.columns and list(shares.attrs["needs"]) == ["imd", "income"]
    assert shares["allocation_imd"].sum() == shares["allocation_income"].sum() == 50_000
    sentence = pr.allocation_sentence(shares, measures=measures)
    assert "Each scenario sums exactly to the pot" in sentence
    assert sentence.endswith(f"Not shared by recorded crimes: {why}")
    nothing = pr.allocate_pot(measures, pot=50_000, needs={"crime": pr.ALLOCATION_NEEDS["crime"]})
    assert nothing.empty and pr.allocation_sentence(nothing).startswith(
        "The £50,000 pot is not shared: no measure of need is available."
    )
    assert isinstance(pr.allocation_chart(nothing, title="Pot"), Note)
    assert pr.allocation_table(nothing).attrs["why_empty"] == pr.allocation_sentence(nothing)


def test_priority_places_without_crime_data_say_what_is_not_used(no_crime_ctx, ctx):
    places = pr.priority_places(no_crime_ctx)
    assert set(places["area_code"]) == set(pr.priority_places(ctx)["area_code"])
    crime = places[places["theme"] == "safer_stronger_communities"]
    assert not crime["evidence"].str.contains("Recorded crime").any()
    assert crime["evidence"].str.contains("Crime deprivation domain").any()  # the IoD still speaks
    sentence = pr.priority_sentence(places, ctx=no_crime_ctx)
    assert (
        "Indicators that could not be made are not used to flag themes. Not available (no police "
        "data given): Recorded crime (excluding anti-social behaviour) per 1,000 residents;"
    ) in sentence
    assert "could not be made" not in pr.priority_sentence(pr.priority_places(ctx), ctx=ctx)
