"""Postcodes: normalised, and located through the geography's postcode directory."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame
from needskit.errors import SchemaError
from needskit.place.geography import Geography

__all__ = ["normalise_postcode", "geocode_postcodes", "POSTCODE_PATTERN"]

POSTCODE_PATTERN = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")


def normalise_postcode(value: object) -> str | None:
    """``"gl503pp"``, ``"GL50 3PP"``, ``" GL50  3PP "`` → ``"GL50 3PP"``; None if not a postcode."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    compact = re.sub(r"\s+", "", str(value)).upper()
    if not POSTCODE_PATTERN.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def geocode_postcodes(df: pd.DataFrame, *, postcode_col: str, geography: Geography) -> pd.DataFrame:
    """Add British National Grid coordinates from the geography's postcode directory.

    Returns
    -------
    Copy of ``df`` (same rows, same order) with ``postcode_clean`` (``"GL50 3PP"``),
    ``easting``, ``northing`` (EPSG:27700) and ``postcode_status``:

    * ``found`` — coordinates added;
    * ``no_coordinates`` — in the directory without a grid reference (terminated or
      non-geographic postcodes);
    * ``not_found`` — a well-formed postcode that is not in the directory (a directory may cover
      only the partnership's postcode areas);
    * ``invalid`` — not a postcode; ``missing`` — empty.

    Nothing is dropped.
    """
    require_frame(df)
    require_columns(df, [postcode_col], argument="postcode_col")
    clashes = [c for c in ("postcode_clean", "easting", "northing", "postcode_status") if c in df.columns]
    if clashes:
        raise SchemaError(
            "output columns already exist", where=str(clashes), hint="rename or drop them first"
        )
    directory = geography.postcodes().drop_duplicates("postcode_clean").set_index("postcode_clean")
    raw = df[postcode_col]
    clean = raw.map(normalise_postcode)
    out = df.copy()
    out["postcode_clean"] = clean.astype("string")
    out["easting"] = clean.map(directory["easting"]).astype(float)
    out["northing"] = clean.map(directory["northing"]).astype(float)
    known = clean.isin(directory.index)
    blank = raw.isna() | (raw.astype("string").str.strip() == "")
    status = np.select(
        [
            blank.to_numpy(dtype=bool),
            clean.isna().to_numpy(),
            ~known.to_numpy(),
            out["easting"].isna().to_numpy(),
        ],
        ["missing", "invalid", "not_found", "no_coordinates"],
        default="found",
    )
    out["postcode_status"] = status
    return out
