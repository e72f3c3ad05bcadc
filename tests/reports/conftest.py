"""Fixtures of the commissioning report tests: the shipped example's store (built once per session,
see ``tests/conftest.py``) read for Cheltenham (E07000078) and Gloucestershire (E10000013), for the
public, with ward places; and the shipped districts for the map tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import pytest

from needskit.place import load_areas
from needskit.reports import delivery as dl
from needskit.reports import load_context
from needskit.reports import resource_map as rm
from reports.browser import browser_session
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


# ------------------------------------------------------------------------------ executed reports

SMALL = Path(__file__).parents[1] / "data" / "notebooks" / "report_small.ipynb"


@pytest.fixture(scope="session")
def small_report(tmp_path_factory, shipped_store):
    """One real run of the small test notebook for Cheltenham, HTML and PDF (internal): the
    ``(out, ReportResult)``. Tests copy ``out`` before they change anything in it."""
    from needskit.config.project import project_dir
    from needskit.reports import run_report

    out = tmp_path_factory.mktemp("reports")
    result = run_report(
        SMALL, area="E07000078", period="2025-H1", out=out, store=shipped_store.path, project=project_dir()
    )
    return out, result


class ExecutedReports:
    """The shipped reports for the public, 2025-H1, each run once per session (on first request)
    into one reports folder, as ``needskit report`` lays them out: ``<out>/<area>/2025-H1/``.

    ``get(report, area)`` returns the :class:`~needskit.reports.ReportResult`; the needs profile
    is made as HTML and PDF, the others as HTML. Tests read these files and never change them.
    """

    PDF = {"needs-profile"}

    def __init__(self, out: Path, workspace) -> None:
        self.out = out
        self.workspace = workspace
        self.results: dict[tuple[str, str], object] = {}

    def get(self, report: str, area: str):
        from needskit.reports import run_report

        key = (report, area)
        if key not in self.results:
            self.results[key] = run_report(
                report,
                area=area,
                period="2025-H1",
                publish="public",
                formats=("html", "pdf") if report in self.PDF else ("html",),
                out=self.out,
                store=self.workspace.store.path,
                project=self.workspace.project.root,
            )
        return self.results[key]


@pytest.fixture(scope="session")
def executed_reports(tmp_path_factory, shipped_workspace) -> ExecutedReports:
    """See :class:`ExecutedReports` (shared by the notebook, accessibility and index tests)."""
    return ExecutedReports(tmp_path_factory.mktemp("executed-reports"), shipped_workspace)


@pytest.fixture(scope="session")
def browser():
    """The system's headless Chromium through Playwright, launched once per session (see
    ``reports/browser.py``); the test is skipped, saying why, where there is none."""
    yield from browser_session()
