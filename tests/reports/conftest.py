"""Fixtures of the commissioning report tests: the shipped example's store (built once per session,
see ``tests/conftest.py``) read for Cheltenham (E07000078) and Gloucestershire (E10000013), for the
public, with ward places; and the shipped districts for the map tests."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pytest

from needskit.place import load_areas
from needskit.reports import delivery as dl
from needskit.reports import load_context
from needskit.reports import resource_map as rm
from reports.cases import (
    CHELTENHAM,
    COUNTY,
    StoreWithoutRegister,
    StoreWithUnlocatedRegister,
    crime_rates,
    without_indicators,
)


@pytest.fixture(scope="session")
def report_context(shipped_workspace):
    """``load_context`` on the shipped store for the 2025-H1 period (the area and options given)."""

    def make(area: str, *, period: str = "2025-H1", **options):
        return load_context(
            area=area,
            period=period,
            store=shipped_workspace.store.path,
            project=shipped_workspace.project.root,
            **options,
        )

    return make


@pytest.fixture(scope="session")
def ctx(report_context):
    return report_context(CHELTENHAM, audience="public", level="ward")


@pytest.fixture(scope="session")
def county_ctx(report_context):
    return report_context(COUNTY, audience="public", level="ward")


@pytest.fixture(scope="session")
def bare_ctx(ctx):
    """Cheltenham read from a store with no resource register at all."""
    return dataclasses.replace(ctx, store=StoreWithoutRegister(ctx.store))


@pytest.fixture(scope="session")
def unlocated_ctx(ctx):
    """Cheltenham read from a store whose NHS registers were read but not located (no postcode
    directory given) and whose partnership has no register of its own."""
    return dataclasses.replace(ctx, store=StoreWithUnlocatedRegister(ctx.store))


@pytest.fixture(scope="session")
def no_crime_ctx(ctx):
    """Cheltenham as if no police data had been given: the crime rates could not be made."""
    return without_indicators(ctx, crime_rates(ctx), reason="no police data given")


@pytest.fixture(scope="session")
def register(ctx):
    return rm.register(ctx)


@pytest.fixture(scope="session")
def services(register, ctx):
    return rm.area_services(register, ctx=ctx)


@pytest.fixture(scope="session")
def framework(shipped_workspace):
    return dl.outcomes_framework("conf/outcomes.yml", project=shipped_workspace.project.root)


@pytest.fixture(scope="session")
def activities(ctx, framework, shipped_workspace):
    """The shipped delivery register, located in the store's hierarchy."""
    return dl.delivery_register(
        ctx, framework=framework, delivery_file="conf/delivery.yml", project=shipped_workspace.project.root
    )


@pytest.fixture(scope="module")
def districts(shipped_geography) -> gpd.GeoDataFrame:
    return load_areas("district", geography=shipped_geography).assign(area_km2=lambda d: d.area / 1e6)
