"""needskit.reports.scope: the area, places and residents a commissioning report covers."""

from __future__ import annotations

import dataclasses

import pytest

from needskit.errors import ReportError
from needskit.reports import priorities as pr
from needskit.reports import scope
from reports.cases import CHELTENHAM, COUNTY, lsoas_of, wards_of


def test_area_lsoas_are_the_area_of_the_store(ctx, county_ctx):
    assert (
        set(scope.area_lsoas(ctx)["lsoa"]) == lsoas_of(ctx, CHELTENHAM) and len(scope.area_lsoas(ctx)) == 77
    )
    assert len(scope.area_lsoas(county_ctx)) == len(county_ctx.hierarchy)


def test_residents_are_published_counts_for_the_area(ctx):
    lsoa = scope.residents(ctx, level="lsoa")
    assert set(lsoa.index) == lsoas_of(ctx, CHELTENHAM) and len(lsoa) == 77
    assert (lsoa > 0).all()
    # public nhs_digital: each age-band cell is rounded to 5, so every total is a multiple of 5
    assert (lsoa % 5 == 0).all()
    wards = scope.residents(ctx, level="ward")
    assert list(wards.index) == wards_of(ctx, CHELTENHAM)
    assert (
        abs(wards.sum() - lsoa.sum()) / lsoa.sum() < 0.01
    )  # rounding cell by cell, not a different population
    everyone = scope.residents(ctx, level="lsoa", scope="partnership")
    assert len(everyone) == len(lsoas_of(ctx, COUNTY)) and set(lsoa.index) <= set(everyone.index)


def test_residents_by_age_are_the_profile_rows(ctx):
    ages = scope.residents_by_age(ctx)
    assert list(ages.columns) == ["area_code", "age_group", "usual_residents"]
    assert ages["age_group"].nunique() == 6 and ages["area_code"].nunique() == len(ctx.hierarchy)
    totals = ages.groupby("area_code")["usual_residents"].sum()
    everyone = scope.residents(ctx, level="lsoa", scope="partnership")
    assert totals.reindex(everyone.index).equals(everyone.rename(None).rename_axis("area_code"))


def test_reports_refuse_areas_that_are_not_a_district_or_county(ctx):
    lsoa_ctx = dataclasses.replace(ctx, area_code="E01022147", area_level="lsoa")
    with pytest.raises(ReportError, match="district or a county"):
        scope.residents(lsoa_ctx)
    with pytest.raises(ReportError, match="district or a county"):
        scope.area_lsoas(lsoa_ctx)


def test_levels_for_places_are_checked(ctx, county_ctx):
    with pytest.raises(ReportError, match="not a level for places"):
        pr.allocation_measures(ctx, level="lsoa")
    with pytest.raises(ReportError, match="one district"):
        pr.allocation_measures(ctx, level="district")
    assert len(pr.allocation_measures(county_ctx, level="district")) == 6
    assert (
        scope.place_codes(ctx, "ward") == wards_of(ctx, CHELTENHAM) and len(wards_of(ctx, CHELTENHAM)) == 20
    )
    assert scope.default_place_level(ctx) == "ward" and scope.default_place_level(county_ctx) == "district"
    assert scope.place_names(ctx, "district")[CHELTENHAM] == "Cheltenham"


def test_indicator_values_are_for_the_report_period(ctx):
    values = scope.indicator_values(
        ctx, ["crime_rate_all", "imd_score"], level="ward", codes=wards_of(ctx, CHELTENHAM)
    )
    assert len(values) == 2 * 20
    assert set(values.loc[values["indicator"] == "crime_rate_all", "period"]) == {"2025-H1"}


def test_the_whole_area_of_a_partnership_of_several_codes(county_ctx, ctx, activities):
    """A partnership of several codes (four unitaries, say) is reported as its whole-area place;
    here the six districts of the shipped county stand in for them."""
    from needskit.reports import delivery as dl

    districts = sorted(county_ctx.hierarchy["district"].unique())
    whole = dataclasses.replace(
        county_ctx,
        area_code="partnership",
        area_level="partnership",
        members=sorted(county_ctx.hierarchy["lsoa"]),
        area_codes=districts,
    )
    assert whole.is_whole_area and county_ctx.is_whole_area and not ctx.is_whole_area
    assert scope.area_lsoas(whole).equals(scope.area_lsoas(county_ctx))
    assert (
        scope.place_codes(whole, "district") == districts and scope.default_place_level(whole) == "district"
    )
    assert scope.residents(whole, level="ward").equals(scope.residents(county_ctx, level="ward"))
    rows = dl.delivery_in_area(activities, ctx=whole)
    assert set(rows["activity_id"]) == set(dl.delivery_in_area(activities, ctx=county_ctx)["activity_id"])
    place = dataclasses.replace(whole, area_code="west-cheltenham")  # another place: still refused
    with pytest.raises(ReportError, match="the partnership's whole area, a district or a county"):
        scope.area_lsoas(place)
