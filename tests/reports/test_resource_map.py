"""needskit.reports.resource_map on the shipped store: the register, service points and supply per head."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from needskit.reports import resource_map as rm
from needskit.reports import scope
from needskit.reports.charts import ReportFigure
from needskit.reports.maps import Choropleth
from needskit.resources import ILLUSTRATIVE_NOTE, NO_LIST_SIZE_NOTE, NO_REGISTER_NOTE
from reports.cases import CHELTENHAM, StoreWithUnlocatedRegister, lsoas_of


def test_register_is_built_from_the_store(register, ctx):
    stored = {table: ctx.store.read_register(table) for table in ("services", "spend", "catchments")}
    assert (
        len(register.services) == len(stored["services"]) == 377
    )  # 65 GP practices, 106 pharmacies, 206 illustrative
    assert len(register.spend) == len(stored["spend"]) and len(register.catchments) == len(
        stored["catchments"]
    )
    assert register.services.crs.to_epsg() == 27700 and register.services["service_id"].is_unique
    assert register.services.groupby("illustrative").size().to_dict() == {False: 171, True: 206}
    for column in ("easting", "northing", "annual_cost_gbp", "capacity"):
        assert pd.api.types.is_float_dtype(register.services[column]), column
    assert pd.api.types.is_float_dtype(register.spend["spend_gbp"])
    assert register.population.equals(scope.residents_by_age(ctx))
    assert register.notes == (ILLUSTRATIVE_NOTE, NO_LIST_SIZE_NOTE) and register.illustrative


def test_register_notes_say_illustrative_and_count_real_and_made_up(register, services):
    notes = rm.register_notes(register, services=services)
    made_up = int(services["illustrative"].sum())
    assert f"**{made_up} ILLUSTRATIVE**" in notes
    assert (
        f"{len(services) - made_up} real (gp practice, pharmacy; NHS ODS edispensary, NHS ODS epraccur)"
        in notes
    )
    assert notes.count("ILLUSTRATIVE") >= 2 and "no registered-list size" in notes


def test_area_services_are_inside_the_area_and_labelled(services, register, ctx):
    assert set(services["area_code"]) <= lsoas_of(ctx, CHELTENHAM)
    assert (services["district_code"] == CHELTENHAM).all()
    assert set(services["data_status"]) == {"ILLUSTRATIVE", "real"}
    assert (
        services.loc[services["data_status"] == "real", "service_type"].isin(["gp_practice", "pharmacy"])
    ).all()
    inside = register.services["area_code"].isin(lsoas_of(ctx, CHELTENHAM))
    assert len(services) == int(inside.sum()) == 66


def test_services_summary_adds_up(services):
    summary = rm.services_summary(services)
    assert summary["n_services"].sum() == len(services)
    assert summary.loc[summary["service_type"] == "GP practice", "data_status"].tolist() == ["real"]
    assert not summary["partner_sector"].str.contains("_").any()  # "central government", not a code


def test_assets_map_is_a_figure_labelled_illustrative(services, ctx):
    fig = rm.assets_map(services, areas=ctx.neighbourhoods, title="Service points")
    assert isinstance(fig, ReportFigure)
    assert "ILLUSTRATIVE" in fig.axes[0].get_title(loc="left")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("gp practice (real)" in t for t in labels) and any("(ILLUSTRATIVE)" in t for t in labels)
    assert fig._repr_png_()[:4] == b"\x89PNG"


def test_supply_by_ward_counts_every_service_once(services, ctx):
    supply = rm.supply_by_place(services, ctx=ctx, level="ward")
    themes = services["theme"].nunique()
    assert len(supply) == 20 * themes and supply.attrs["level"] == "ward"
    assert supply["n_records"].sum() == len(services)
    expected = 1000 * supply["supply"] / supply["population"]
    assert np.allclose(supply["supply_per_1000"], expected)
    frame = rm.supply_map_frame(supply, ctx=ctx)
    assert len(frame) == 20 and frame["n_services"].sum() == len(services)
    assert isinstance(rm.supply_map(supply, ctx=ctx), Choropleth)
    assert "ILLUSTRATIVE" in rm.supply_map(supply, ctx=ctx).title
    wide = rm.supply_wide(supply)
    assert wide["n_services"].sum() == len(services)
    assert wide["services_per_1000"].is_monotonic_decreasing
    assert isinstance(rm.supply_chart(supply, title="Supply", top=5), ReportFigure)


def test_supply_by_district_for_the_county(register, county_ctx):
    services = rm.area_services(register, ctx=county_ctx)
    assert len(services) == len(register.services)
    supply = rm.supply_by_place(services, ctx=county_ctx, level="district")
    assert supply["area_code"].nunique() == 6 and supply["n_records"].sum() == len(services)


def test_a_store_without_services_says_so(bare_ctx):
    register = rm.register(bare_ctx)
    assert NO_REGISTER_NOTE in register.notes and not register.illustrative
    services = rm.area_services(register, ctx=bare_ctx)
    assert services.empty and "data_status" in services.columns
    notes = rm.register_notes(register, services=services)
    assert "No service point" in notes and "no register of its own services" in notes
    assert rm.services_summary(services).empty
    fig = rm.assets_map(services, areas=bare_ctx.neighbourhoods, title="Service points")
    assert "no services in the register" in fig.axes[0].get_title(loc="left")
    supply = rm.supply_by_place(services, ctx=bare_ctx, level="ward")
    assert supply.empty and "supply_per_1000" in supply.columns
    frame = rm.supply_map_frame(supply, ctx=bare_ctx)
    assert len(frame) == 20 and (frame["n_services"] == 0).all() and (frame["services_per_1000"] == 0).all()
    assert isinstance(rm.supply_map(supply, ctx=bare_ctx), Choropleth)
    assert rm.supply_wide(supply).empty
    assert "no services in the register" in rm.supply_chart(supply, title="Supply").axes[0].get_title(
        loc="left"
    )


def test_a_register_whose_nhs_sources_could_not_be_located_says_why(unlocated_ctx):
    """A partnership with only the national NHS registers and no postcode directory yet."""
    register = rm.register(unlocated_ctx)
    located = (
        "GP practices (NHS ODS epraccur) and Dispensaries and community pharmacies (NHS ODS edispensary) "
        "could not be located, so the register has none of them: no postcode directory given "
        "(drop a postcode file into data/raw/postcodes/)."
    )
    assert register.notes == (located, NO_REGISTER_NOTE)
    assert set(register.services.attrs["unlocated"]) == {"gp_practice", "pharmacy"}
    services = rm.area_services(register, ctx=unlocated_ctx)
    notes = rm.register_notes(register, services=services)
    assert located in notes and "data/raw/partner/" in notes and "conf/catalog.yml" in notes
    why = "could not be located: no postcode directory given."
    summary = rm.services_summary(services)
    assert summary.empty and summary.attrs["why_empty"].startswith("No service point of the register")
    assert why in summary.attrs["why_empty"]
    supply = rm.supply_by_place(services, ctx=unlocated_ctx, level="ward")
    assert why in rm.supply_wide(supply).attrs["why_empty"]
    assert rm.supply_map(supply, ctx=unlocated_ctx).title.endswith("— no services in the register")


def test_register_sources_the_audience_may_not_see_are_not_named(register, unlocated_ctx):
    assert not any("could not be located" in note for note in register.notes)
    assert register.services.attrs["unlocated"] == {}

    class Hidden(StoreWithUnlocatedRegister):  # the published ledger has no row of them
        def read_ledger(self):
            ledger = self.inner.read_ledger()
            return ledger[~ledger["dataset"].isin(["gp_practices", "pharmacies"])]

    hidden = rm.register(dataclasses.replace(unlocated_ctx, store=Hidden(unlocated_ctx.store.inner)))
    assert hidden.notes == (NO_REGISTER_NOTE,) and hidden.services.attrs["unlocated"] == {}
