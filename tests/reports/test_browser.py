"""The HTML report in a real browser: the system's headless Chromium, driven by Playwright.

Checks that the Leaflet map draws its polygons (SVG ``path.leaflet-interactive``), that the page
logs no console error and throws no exception, and that it asks the network for nothing. Needs
Debian's ``chromium`` (``.ci/run`` installs it) and Playwright (the ``[dev]`` extra); skipped with
a message where either is missing. The browser is the session's (``browser`` in conftest.py).
"""

from __future__ import annotations

import pytest

from reports.browser import open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_map_draws_offline_without_console_errors(browser, small_report):
    _out, result = small_report
    page, log = open_page(browser, result.files["html"])
    try:
        # Leaflet draws after load: wait for the six district polygons
        page.wait_for_function(
            "document.querySelectorAll('svg path.leaflet-interactive').length >= 6", timeout=10_000
        )
        paths = page.locator("svg path.leaflet-interactive").count()
        legend = page.locator(".needskit-legend").first.inner_text()
        box = page.locator(".folium-map").first.bounding_box()
    finally:
        page.context.close()
    assert paths == 6, f"expected the 6 district polygons as Leaflet SVG paths, found {paths}"
    assert "km\u00b2" in legend and "(2)" in legend
    assert box is not None and box["width"] > 300 and box["height"] >= 400
    assert log.errors == [], log.errors
    assert log.requests == [], f"the page asked the network for {log.requests}"
