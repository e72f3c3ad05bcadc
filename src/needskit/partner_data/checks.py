"""Checks of pooled data against what its publisher says (e.g. police.uk's own LSOA codes).

Rows with the publisher's own LSOA code are assigned by that code; the pool still measures, per
dataset and period, how often the row's point lies in the code's LSOA (``PoolResult.agreement``,
``code_agreement.csv`` in the store). These functions summarise that table, so the demo, the
store and the pool report the same figures.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from needskit.config.catalog import DatasetSpec
from needskit.partner_data.prepare import prepare_dataset
from needskit.place.extent import PartnershipArea
from needskit.place.geography import Geography

__all__ = ["agreement_by_dataset", "police_agreement"]


def agreement_by_dataset(agreement: pd.DataFrame) -> dict[str, tuple[float, int]]:
    """``{dataset: (share, rows compared)}`` over every period of a code-agreement table.

    ``share`` is NaN when no row of the dataset was compared.

    Example
    -------
    >>> agreement_by_dataset(result.agreement)  # doctest: +SKIP
    {'police_street_crime': (0.966..., 19057)}
    """
    out = {}
    totals = agreement.groupby("dataset", sort=False)[["rows_compared", "rows_agreeing"]].sum()
    for dataset, row in totals.iterrows():
        n = int(row["rows_compared"])
        out[str(dataset)] = (int(row["rows_agreeing"]) / n if n else float("nan"), n)
    return out


def police_agreement(
    spec: DatasetSpec, *, area: PartnershipArea, geography: Geography, code_column: str | None = None
) -> tuple[float, int]:
    """Share of a police.uk dataset's rows assigned by police.uk's LSOA code (inside the area, with
    a point) whose point lies in that LSOA, and the number of such rows.

    The rows are prepared exactly as the pool prepares them, so the figures are those of
    ``code_agreement.csv``. ``code_column`` names the code column when the catalogue entry has
    none (default: the entry's ``code``, else police.uk's ``LSOA code``).

    Returns
    -------
    (agreement, rows compared); ``(nan, 0)`` when no row carries a usable code of the area.
    """
    column = code_column or spec.geography.code or "LSOA code"
    if spec.geography.code != column:
        spec = dataclasses.replace(spec, geography=dataclasses.replace(spec.geography, code=column))
    agreement = prepare_dataset(spec, area=area, geography=geography).agreement
    assert agreement is not None  # points with a code column always have one
    return agreement_by_dataset(agreement).get(spec.id, (float("nan"), 0))
