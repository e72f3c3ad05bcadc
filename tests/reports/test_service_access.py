"""needskit.reports.service_access on the shipped store: distances to the nearest service and GP
accessibility."""

from __future__ import annotations

import numpy as np
import pytest

from needskit.errors import SchemaError
from needskit.reports import resource_map as rm
from needskit.reports import service_access as sa
from needskit.reports.maps import Choropleth
from reports.cases import CHELTENHAM, COUNTY, lsoas_of


@pytest.fixture(scope="module")
def centres(ctx):
    return sa.neighbourhood_centres(ctx)


@pytest.fixture(scope="module")
def access(centres, register):
    return sa.access_table(centres, services=register.services)


def test_neighbourhood_centres_cover_every_lsoa_of_the_partnership(centres, ctx):
    assert len(centres) == len(lsoas_of(ctx, COUNTY)) and centres["area_code"].is_unique
    assert int(centres["in_area"].sum()) == 77
    assert centres.crs.to_epsg() == 27700
    fallback = centres["centre_method"] != "postcode-weighted"
    assert (centres.loc[fallback, "n_postcodes"] == 0).all()
    assert (centres.loc[~fallback, "n_postcodes"] > 0).all()
    assert (
        centres.set_index("area_code")["population"].equals(
            centres.set_index("area_code")["population"].astype(float)
        )
        and (centres["population"] > 0).all()
    )
    polygons = ctx.store.read_areas("lsoa").to_crs(27700).set_index("area_code").geometry
    own = polygons.reindex(centres["area_code"]).reset_index(drop=True)
    gap = centres.geometry.reset_index(drop=True).distance(own)
    # the mean of an LSOA's postcodes lies in it, or just outside a concave (crescent-shaped) one
    assert (gap == 0).mean() > 0.9 and gap.max() < 300


def test_access_table_has_one_row_per_lsoa_and_true_nearest_distances(access, centres, register, ctx):
    assert len(access) == 77 and access["area_code"].is_unique
    assert set(access["area_code"]) == lsoas_of(ctx, CHELTENHAM)
    assert access.attrs["data_status"] == {
        "gp_practice": "real",
        "pharmacy": "real",
        "library": "ILLUSTRATIVE",
    }
    assert access.attrs["absent_types"] == []
    # brute force: every centre against every GP practice of the partnership
    gps = register.services[register.services["service_type"] == "gp_practice"]
    here = centres.set_index("area_code").loc[access["area_code"]]
    dx = here.geometry.x.to_numpy()[:, None] - gps.geometry.x.to_numpy()[None, :]
    dy = here.geometry.y.to_numpy()[:, None] - gps.geometry.y.to_numpy()[None, :]
    assert np.allclose(access["gp_practice_m"].to_numpy(), np.sqrt(dx**2 + dy**2).min(axis=1))
    assert access["library_nearest"].str.contains("illustrative").all()


def test_access_summary_and_sentence(access):
    summary = sa.access_summary(access, far_m=2000)
    library = summary.set_index("service_type").loc["library"]
    far = access["library_m"] > 2000
    assert library["residents_beyond"] == access.loc[far, "population"].sum()
    assert library["max_m"] == access["library_m"].max()
    assert library["data_status"] == "ILLUSTRATIVE"
    sentence = sa.access_sentence(summary, area_name="Cheltenham")
    assert "library (ILLUSTRATIVE locations)" in sentence and "gp practice (ILLUSTRATIVE" not in sentence
    assert f"{library['residents_beyond']:,.0f} residents" in sentence
    with pytest.raises(SchemaError, match="no distance columns"):
        sa.access_summary(access[["area_code", "population"]])
    with pytest.raises(SchemaError, match="positive distance"):
        sa.access_summary(access, far_m=0)


def test_access_errors_and_furthest(centres, register, access):
    with pytest.raises(SchemaError, match="service types the register does not have"):
        sa.access_table(centres, services=register.services, service_types=["swimming_pool"])
    top = sa.furthest(access, service_type="pharmacy", top=5)
    assert len(top) == 5 and top["pharmacy_m"].is_monotonic_decreasing
    assert top["pharmacy_m"].iloc[0] == access["pharmacy_m"].max()
    with pytest.raises(SchemaError, match="service_type"):
        sa.furthest(access, service_type="swimming_pool")


def test_service_types_the_register_lacks_are_left_out_and_said(centres, register):
    access = sa.access_table(
        centres, services=register.services, service_types=["gp_practice", "swimming_pool"]
    )
    assert access.attrs["absent_types"] == ["swimming_pool"] and "swimming_pool_m" not in access
    sentence = sa.access_sentence(sa.access_summary(access), area_name="Cheltenham")
    assert sentence.startswith("Straight-line distance") and sentence.endswith(
        "The register has no swimming pool: not measured."
    )


def test_gp_accessibility_for_the_area(centres, register, ctx):
    fca = sa.gp_accessibility(centres, services=register.services, ctx=ctx, catchment_m=3000)
    assert len(fca) == 77 and set(fca["area_code"]) == lsoas_of(ctx, CHELTENHAM)
    assert np.allclose(fca["practices_per_100k"], fca["accessibility"] * 100_000)
    assert (fca.loc[fca["services_in_catchment"] == 0, "accessibility"] == 0).all()
    assert fca.attrs["needskit_access"]["catchment_m"] == 3000.0
    assert "no list sizes" in fca.attrs["needskit_access"]["supply"]
    sentence = sa.accessibility_sentence(fca, area_name="Cheltenham")
    assert "3.0 km" in sentence and "2SFCA" in sentence
    assert isinstance(sa.gp_access_map(fca), Choropleth)
    # a register without the service type (a partnership without NHS data) says so; it does not stop
    dentists = sa.gp_accessibility(centres, services=register.services, ctx=ctx, service_type="dentist")
    assert dentists.attrs["needskit_access"]["absent"] and dentists["accessibility"].isna().all()
    assert "no dentist" in sa.accessibility_sentence(dentists, area_name="Cheltenham")


def test_access_without_services_says_so(bare_ctx):
    register = rm.register(bare_ctx)
    centres = sa.neighbourhood_centres(bare_ctx)
    access = sa.access_table(centres, services=register.services)
    assert len(access) == 77 and access.attrs["absent_types"] == list(sa.ACCESS_TYPES)
    summary = sa.access_summary(access)
    assert summary.empty
    assert "The register has no gp practice, pharmacy, library" in sa.access_sentence(
        summary, area_name="Cheltenham"
    )
    assert sa.furthest(access).empty
    fca = sa.gp_accessibility(centres, services=register.services, ctx=bare_ctx)
    assert len(fca) == 77 and fca["accessibility"].isna().all() and fca.attrs["needskit_access"]["absent"]
    assert "has no GP practices" in sa.accessibility_sentence(fca, area_name="Cheltenham")
    assert "has no GP practices" in sa.gp_access_map(fca).title


def test_access_without_located_practices_says_why(unlocated_ctx):
    register = rm.register(unlocated_ctx)
    centres = sa.neighbourhood_centres(unlocated_ctx)
    access = sa.access_table(centres, services=register.services)
    assert access.attrs["absent_types"] == ["gp_practice", "pharmacy", "library"]
    assert set(access.attrs["unlocated"]) == {"gp_practice", "pharmacy"}
    summary = sa.access_summary(access)
    assert summary.empty and summary.attrs["why_empty"].startswith("No distance is measured")
    sentence = sa.access_sentence(summary, area_name="Cheltenham")
    assert sentence.endswith(
        "The register has no gp practice, pharmacy, library: not measured. GP practices (NHS ODS "
        "epraccur) and Dispensaries and community pharmacies (NHS ODS edispensary) could not be "
        "located: no postcode directory given."
    )
    assert sa.furthest(access).attrs["why_empty"].startswith("No distance is measured")
    fca = sa.gp_accessibility(centres, services=register.services, ctx=unlocated_ctx)
    assert sa.accessibility_sentence(fca, area_name="Cheltenham") == (
        "The register has no GP practices, so GP accessibility in Cheltenham is not measured. "
        "GP practices (NHS ODS epraccur) could not be located: no postcode directory given."
    )
