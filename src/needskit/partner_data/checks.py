"""Checks of pooled data against what its publisher says (e.g. police.uk's own LSOA codes)."""

from __future__ import annotations

import pandas as pd

from needskit.config.catalog import DatasetSpec
from needskit.partner_data.ingest import read_dataset
from needskit.partner_data.prepare import partnership_lsoas
from needskit.place.extent import PartnershipArea
from needskit.place.geography import Geography
from needskit.place.points import assign_points

__all__ = ["police_agreement"]


def police_agreement(
    spec: DatasetSpec, *, area: PartnershipArea, geography: Geography, code_column: str = "LSOA code"
) -> tuple[float, int]:
    """Share of a police.uk dataset's located rows inside the area whose point falls in the LSOA
    police.uk publishes for it (2021 codes), and the number of such rows.

    Returns
    -------
    (agreement, rows compared); ``(nan, 0)`` when no row carries a 2021 LSOA code of the area.
    """
    frame = read_dataset(spec)
    g = spec.geography
    lsoas = partnership_lsoas(area, geography)
    located = assign_points(frame, x=g.x or "Longitude", y=g.y or "Latitude", crs=g.crs, areas=lsoas)
    inside = located[located[code_column].isin(set(lsoas["area_code"])) & located[g.x or "Longitude"].notna()]
    if inside.empty:
        return float("nan"), 0
    same = inside["area_code"].astype("string") == inside[code_column].astype("string")
    return float(pd.Series(same).mean()), int(len(inside))
