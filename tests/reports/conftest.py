"""Shared fixtures of the report tests."""

from __future__ import annotations

import geopandas as gpd
import pytest

from needskit.place import load_areas


@pytest.fixture(scope="module")
def districts(shipped_geography) -> gpd.GeoDataFrame:
    return load_areas("district", geography=shipped_geography).assign(area_km2=lambda d: d.area / 1e6)
