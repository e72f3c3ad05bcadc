"""Shared fixtures of the report tests."""

from __future__ import annotations

import geopandas as gpd
import pytest

from needskit.place.geography import load_areas


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return load_areas("district").assign(area_km2=lambda d: d.area / 1e6)
