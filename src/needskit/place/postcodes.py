"""Postcodes: normalised, and located through the geography's postcode directory."""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame
from needskit.errors import SchemaError
from needskit.place.geography import Geography

__all__ = ["normalise_postcode", "geocode_postcodes", "POSTCODE_PATTERN"]

POSTCODE_PATTERN = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
_OUTPUT = ("postcode_clean", "easting", "northing", "postcode_terminated", "postcode_status")


def normalise_postcode(value: object) -> str | None:
    """``"gl503pp"``, ``"GL50 3PP"``, ``" GL50  3PP "`` → ``"GL50 3PP"``; None if not a postcode."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    compact = re.sub(r"\s+", "", str(value)).upper()
    if not POSTCODE_PATTERN.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def geocode_postcodes(
    df: pd.DataFrame,
    *,
    postcode_col: str,
    geography: Geography,
    if_no_directory: Literal["raise", "mark"] = "raise",
) -> pd.DataFrame:
    """Add British National Grid coordinates from the geography's postcode directory.

    Parameters
    ----------
    df
        Any frame with a postcode column (left unchanged).
    postcode_col
        The column holding postcodes, written any way (``"gl503pp"``, ``" GL50  3PP "``).
    geography
        The geography whose postcode directory locates them.
    if_no_directory
        When the geography has no postcode directory: ``"raise"`` (the default) or ``"mark"``
        every well-formed postcode ``no_directory``.

    Returns
    -------
    Copy of ``df`` (same rows, same order) with ``postcode_clean`` (``"GL50 3PP"``),
    ``easting``, ``northing`` (EPSG:27700), ``postcode_terminated`` (True when the directory
    says the postcode is terminated; missing when it does not say) and ``postcode_status``:

    * ``found`` — coordinates added (a terminated postcode keeps its last grid reference);
    * ``no_coordinates`` — in the directory without a grid reference (terminated or
      non-geographic postcodes);
    * ``not_found`` — a well-formed postcode that is not in the directory (a directory may cover
      only the partnership's postcode areas);
    * ``no_directory`` — a well-formed postcode, and no directory to look it up in (only with
      ``if_no_directory="mark"``);
    * ``invalid`` — not a postcode; ``missing`` — empty.

    Nothing is dropped.

    Raises
    ------
    GeographyError
        The geography has no postcode directory (and ``if_no_directory="raise"``).
    SchemaError
        ``postcode_col`` is not a column, or the output columns exist already.

    Example
    -------
    >>> partners = pd.DataFrame({"pc": ["gl503pp"]})
    >>> out = geocode_postcodes(partners, postcode_col="pc", geography=geo)  # doctest: +SKIP
    >>> out["postcode_status"].tolist()  # doctest: +SKIP
    ['found']
    """
    require_frame(df)
    require_columns(df, [postcode_col], argument="postcode_col")
    if if_no_directory not in ("raise", "mark"):
        raise SchemaError(
            "unknown choice", where="if_no_directory", expected="'raise' or 'mark'", got=repr(if_no_directory)
        )
    clashes = [c for c in _OUTPUT if c in df.columns]
    if clashes:
        raise SchemaError(
            "output columns already exist", where=str(clashes), hint="rename or drop them first"
        )
    if geography.has_postcodes() or if_no_directory == "raise":
        directory = geography.postcodes().drop_duplicates("postcode_clean").set_index("postcode_clean")
    else:
        directory = pd.DataFrame(
            {"easting": [], "northing": []}, index=pd.Index([], dtype=object, name="postcode_clean")
        )
    raw = df[postcode_col]
    clean = raw.map(normalise_postcode)
    out = df.copy()
    out["postcode_clean"] = clean.astype("string")
    out["easting"] = clean.map(directory["easting"]).astype(float)
    out["northing"] = clean.map(directory["northing"]).astype(float)
    terminated = (
        clean.map(directory["terminated"])
        if "terminated" in directory.columns
        else pd.Series(pd.NA, index=df.index)
    )
    out["postcode_terminated"] = terminated.astype("boolean")
    known = clean.isin(directory.index)
    blank = raw.isna() | (raw.astype("string").str.strip() == "")
    status = np.select(
        [
            blank.to_numpy(dtype=bool),
            clean.isna().to_numpy(),
            np.full(len(df), not geography.has_postcodes()),
            ~known.to_numpy(),
            out["easting"].isna().to_numpy(),
        ],
        ["missing", "invalid", "no_directory", "not_found", "no_coordinates"],
        default="found",
    )
    out["postcode_status"] = status
    return out
