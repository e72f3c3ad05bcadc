"""ONS and MHCLG area-coded tables: IoD files, Census 2021 tables, mid-year estimates.

* ``ons_table``: a CSV with one row per area; the official IoD files carry a UTF-8 byte-order
  mark and thousands separators (``"29,199"``); column names are turned into snake_case
  (``"Income Rank (where 1 is most deprived)"`` → ``income_rank``) unless ``snake_case: false``.
* ``ons_mye``: small-area population estimates by single year of age (columns ``0`` … ``89``,
  ``90+``), reshaped to one row per area and age band (default: the 19 European Standard
  Population 2013 bands 0-4 … 85-89, 90+), with the band in ``age_band`` and the count in
  ``population``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from needskit.errors import DataError
from needskit.partner_data.ingest.reading import number_rows, read_csv_text, snake_case, to_numbers

ESP2013_BANDS = [f"{a}-{a + 4}" for a in range(0, 90, 5)] + ["90+"]


def read_table(path: Path, options: dict) -> pd.DataFrame:
    frame = read_csv_text(path, encoding=options.get("encoding", "utf-8"), thousands=None)
    if options.get("snake_case", True):
        renamed = [snake_case(c) for c in frame.columns]
        if len(set(renamed)) != len(renamed):
            raise DataError(
                "column names clash once snake_cased",
                where=str(path),
                hint="set options: {snake_case: false}",
            )
        frame.columns = renamed
    thousands = options.get("thousands", ",")
    if thousands:
        # strip thousands separators inside numbers only ("29,199" -> "29199"); text keeps its commas
        for column in frame.columns:
            values = frame[column]
            looks = values.str.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", na=False)
            if looks.any():
                frame[column] = values.where(~looks, values.str.replace(",", "", regex=False))
    return number_rows(frame, path)


def band_of_age(age: pd.Series, bands: list[str] = ESP2013_BANDS) -> pd.Series:
    """Map single-year ages ("0" … "89", "90+") to bands such as "0-4" … "85-89", "90+"."""
    lower = pd.to_numeric(age.str.rstrip("+"), errors="coerce")
    edges = []
    for band in bands:
        low = band.rstrip("+").split("-")[0]
        edges.append(int(low))
    index = np.searchsorted(np.array(edges), lower.to_numpy(), side="right") - 1
    return pd.Series(np.array(bands, dtype=object)[index], index=age.index)


def read_mye(path: Path, options: dict) -> pd.DataFrame:
    frame = read_csv_text(path, encoding=options.get("encoding", "utf-8"), thousands=",")
    ages = [c for c in frame.columns if c.rstrip("+").isdigit()]
    if len(ages) < 2:
        raise DataError(
            "has no single-year-of-age columns",
            where=str(path),
            expected="columns 0, 1, … 89, 90+",
            got=f"columns {list(frame.columns)[:10]}",
        )
    frame = number_rows(frame, path)
    keep = [
        c for c in frame.columns if c not in ages and c != options.get("total_column", "total_population")
    ]
    bands = options.get("bands", ESP2013_BANDS)
    band = band_of_age(pd.Series(ages, dtype="object"), bands).to_numpy()
    text = frame[ages]
    numeric = to_numbers(text).to_numpy(dtype=float)
    bad = np.isnan(numeric) & text.notna().to_numpy()
    n, k = len(frame), len(bands)
    sums = np.zeros((n, k))
    spoiled = np.zeros((n, k), dtype=bool)
    for j, name in enumerate(bands):  # 19 bands: a loop over columns, not rows
        cols = band == name
        sums[:, j] = np.nansum(numeric[:, cols], axis=1)
        spoiled[:, j] = bad[:, cols].any(axis=1)
    out = frame[keep].loc[np.repeat(np.arange(n), k)].reset_index(drop=True)
    out["age_band"] = np.tile(np.array(bands, dtype=object), n)
    population = sums.ravel()
    out["population"] = (
        population.astype(np.int64) if np.all(population == np.round(population)) else population
    )
    # a band summed from a cell that is not a number is flagged, so the pool rejects it with a reason
    out["_invalid"] = np.where(  # type: ignore[call-overload]
        spoiled.ravel(), "population: a single-year cell is not a number", None
    )
    return out
