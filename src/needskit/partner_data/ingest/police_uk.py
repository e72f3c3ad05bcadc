"""data.police.uk street-level crime CSV (one file per force and month).

Columns as published: Crime ID, Month, Reported by, Falls within, Longitude, Latitude, Location,
LSOA code, LSOA name, Crime type, Last outcome category, Context. Anti-social behaviour rows have
no Crime ID; rows with no location have empty coordinates ("No Location") and are kept: the pool
counts them as unlocated.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from needskit.partner_data.ingest.reading import number_rows, read_csv_text, require_file_columns

COLUMNS = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]


def read(path: Path, options: dict) -> pd.DataFrame:
    frame = read_csv_text(path, encoding=options.get("encoding", "utf-8"))
    require_file_columns(frame, COLUMNS, path, what="police.uk street-level")
    return number_rows(frame, path)
