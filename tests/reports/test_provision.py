"""needskit.reports.provision on the shipped store: need by theme, gaps, duplication and spend
against need."""

from __future__ import annotations

import numpy as np
import pytest

from needskit.commissioning import SPEND_VS_NEED_CAVEAT
from needskit.errors import ReportError
from needskit.reports import provision as pv
from needskit.reports import resource_map as rm
from reports.cases import CHELTENHAM, COUNTY, lsoas_of, wards_of


def test_need_by_theme_and_its_errors(ctx):
    need = pv.need_by_theme(ctx, level="ward")
    assert len(need) == 20 * len(pv.THEME_NEED)
    crime = need[need["theme"] == "safer_stronger_communities"]
    assert (crime["need_indicator"] == "crime_rate_all").all() and (crime["need_period"] == "2025-H1").all()
    with pytest.raises(ReportError, match="has no need indicator"):
        pv.need_by_theme(ctx, themes=["culture"])
    with pytest.raises(ReportError, match="does not compute"):
        pv.need_by_theme(ctx, theme_need={"economy_skills": "happiness_index"})


def test_provision_gaps_are_high_need_low_provision(ctx, services):
    supply = rm.supply_by_place(services, ctx=ctx, level="ward")
    gaps = pv.provision_gaps(supply, pv.need_by_theme(ctx, level="ward"))
    assert set(gaps["theme"]) == set(services["theme"])
    rows = gaps[gaps["quadrant"] == "gap"]
    assert (rows["high_need"] & ~rows["high_provision"]).all()
    table = pv.gap_table(gaps, top=None)
    assert len(table) == len(rows) and table["gap_score"].is_monotonic_decreasing
    sentence = pv.gaps_sentence(gaps, area_name="Cheltenham")
    for theme, part in gaps.groupby("theme_name"):
        assert f"{theme}: {int((part['quadrant'] == 'gap').sum())} of {len(part)}" in sentence
    assert "ILLUSTRATIVE" in sentence


def test_duplication_in_area(register, ctx):
    dup = pv.duplication_in_area(register, ctx=ctx)
    assert len(dup) and set(dup["area_code"]) <= lsoas_of(ctx, CHELTENHAM)
    assert (dup["n_partners"] >= 2).all() and (dup["data_status"] == "ILLUSTRATIVE").all()
    assert dup["partners"].str.split("; ").map(len).equals(dup["n_partners"])
    summary = pv.duplication_summary(dup)
    assert summary["neighbourhoods"].sum() == len(dup)  # one row per neighbourhood and theme
    assert np.isclose(summary["spend_in_area"].sum(), dup["spend_in_area"].sum())
    sentence = pv.duplication_sentence(dup, ctx=ctx)
    assert (
        f"In {dup['area_code'].nunique()} of Cheltenham's 77 neighbourhoods" in sentence
        and "ILLUSTRATIVE" in sentence
    )
    assert "229 of the partnership's 377 services have no catchment on record (171 of them real)" in sentence
    assert pv.duplication_sentence(dup.iloc[0:0], ctx=ctx).startswith("No neighbourhood")


def test_spend_against_need_keeps_the_spend_and_prints_the_caveat(register, ctx):
    spend = pv.spend_against_need(register, ctx=ctx, level="ward")
    expected = register.spend.loc[
        register.spend["area_code"].isin(wards_of(ctx, CHELTENHAM)), "spend_gbp"
    ].sum()
    assert spend["spend_gbp"].sum() == expected > 0
    assert spend.attrs["caveat"] == SPEND_VS_NEED_CAVEAT
    assert (spend["data_status"] == "ILLUSTRATIVE").all()
    sentence = pv.spend_sentence(spend)
    assert SPEND_VS_NEED_CAVEAT in sentence and "ILLUSTRATIVE" in sentence
    table = pv.spend_table(spend, top=10)
    assert len(table) == 10 and table["percentile_difference"].is_monotonic_increasing
    fig = pv.spend_chart(spend, title="Spend")
    assert "ILLUSTRATIVE" in fig._suptitle.get_text()


def test_spend_by_district_for_the_county(register, county_ctx):
    spend = pv.spend_against_need(register, ctx=county_ctx, level="district")
    table = county_ctx.hierarchy
    assert set(spend["area_code"]) == set(table.loc[table["county"] == COUNTY, "district"])
    assert spend["spend_gbp"].sum() == register.spend["spend_gbp"].sum()


def test_provision_without_a_register_says_so(bare_ctx):
    register = rm.register(bare_ctx)
    services = rm.area_services(register, ctx=bare_ctx)
    gaps = pv.provision_gaps(rm.supply_by_place(services, ctx=bare_ctx), pv.need_by_theme(bare_ctx))
    assert gaps.empty and pv.gap_table(gaps).empty
    assert "the register has no services here" in pv.gaps_sentence(gaps, area_name="Cheltenham")
    dup = pv.duplication_in_area(register, ctx=bare_ctx)
    assert dup.empty and pv.duplication_summary(dup).empty
    assert pv.duplication_sentence(dup, ctx=bare_ctx).startswith("No neighbourhood")
    spend = pv.spend_against_need(register, ctx=bare_ctx)
    assert spend.empty and pv.spend_table(spend).empty
    assert pv.spend_sentence(spend).startswith(
        f"**{SPEND_VS_NEED_CAVEAT}**"
    ) and "nothing is compared" in pv.spend_sentence(spend)
    assert "no spend in the register" in pv.spend_chart(spend, title="Spend")._suptitle.get_text()


def test_need_by_theme_shows_the_themes_that_can_be_measured(no_crime_ctx, services, register):
    """With no police data given the crime theme cannot be compared: the others still are, and
    the report says why the crime theme is missing."""
    need = pv.need_by_theme(no_crime_ctx, level="ward")
    assert "safer_stronger_communities" not in set(need["theme"])
    assert set(need["theme"]) == set(pv.THEME_NEED) - {"safer_stronger_communities"}
    assert len(need) == 20 * (len(pv.THEME_NEED) - 1) and need["need"].notna().any()
    why = (
        "Safer and stronger communities is not compared: Recorded crime (excluding anti-social "
        "behaviour) per 1,000 residents: not available, no police data given."
    )
    note = need.attrs["unavailable"]["safer_stronger_communities"]
    assert f"Safer and stronger communities is not compared: {note}" == why
    gaps = pv.provision_gaps(rm.supply_by_place(services, ctx=no_crime_ctx, level="ward"), need)
    assert len(gaps) and "safer_stronger_communities" not in set(gaps["theme"])
    assert pv.gaps_sentence(gaps, area_name="Cheltenham").endswith(why)
    spend = pv.spend_against_need(register, ctx=no_crime_ctx, level="ward")
    assert len(spend) and "safer_stronger_communities" not in set(spend["theme"])
    assert pv.spend_sentence(spend).endswith(why)
    with pytest.raises(ReportError, match="does not compute"):  # a typo is still an error
        pv.need_by_theme(no_crime_ctx, theme_need={"economy_skills": "happiness_index"})


def test_provision_of_unlocated_services_says_why(unlocated_ctx):
    register = rm.register(unlocated_ctx)
    services = rm.area_services(register, ctx=unlocated_ctx)
    gaps = pv.provision_gaps(rm.supply_by_place(services, ctx=unlocated_ctx), pv.need_by_theme(unlocated_ctx))
    assert gaps.empty
    assert pv.gaps_sentence(gaps, area_name="Cheltenham") == (
        "No provision to set against need in Cheltenham: the register has no services here. GP "
        "practices (NHS ODS epraccur) and Dispensaries and community pharmacies (NHS ODS "
        "edispensary) could not be located: no postcode directory given."
    )
    assert pv.gap_table(gaps).attrs["why_empty"].startswith("No gap to list")
    dup = pv.duplication_in_area(register, ctx=unlocated_ctx)
    assert pv.duplication_sentence(dup, ctx=unlocated_ctx).endswith(
        "No service of the register has a catchment on record, so none can be compared."
    )
    assert pv.duplication_summary(dup).attrs["why_empty"] == dup.attrs["why_empty"]
    spend = pv.spend_against_need(register, ctx=unlocated_ctx)
    assert pv.spend_table(spend).attrs["why_empty"].startswith("The register has no spend by area")
