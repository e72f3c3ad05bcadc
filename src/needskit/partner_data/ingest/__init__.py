"""Adapters: one small reader per real partner format.

Every adapter returns the file's rows as a DataFrame with text columns (numbers are parsed later,
row by row, so one bad cell rejects one row rather than the file) plus ``_file`` and ``_row``
(line number). An adapter that already knows a row is bad (e.g. a band summed from a cell that is
not a number) says why in an ``_invalid`` column; the pool rejects such rows with that reason.
Structural problems (missing file, empty file, not UTF-8, not the declared
format, missing columns) raise :class:`~needskit.errors.DataError` naming the file. A format
whose files must also agree with each other (police.uk: one file per force and month) has a
check of the whole dataset in :data:`DATASET_CHECKS`.

Postcode tables for the reference geography (ONS Postcode Directory, NSPL, OS Code-Point Open,
as downloaded) are read by :mod:`needskit.partner_data.ingest.postcodes`, not as datasets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from needskit.config.catalog import DatasetSpec
from needskit.errors import DataError
from needskit.partner_data.ingest import ods, ons, police_uk, table

__all__ = ["ADAPTERS", "DATASET_CHECKS", "read_dataset", "read_file"]

ADAPTERS: dict[str, Callable[[Path, dict], pd.DataFrame]] = {
    "police_uk": police_uk.read,
    "ods": ods.read,
    "ons_table": ons.read_table,
    "ons_mye": ons.read_mye,
    "csv": table.read_csv,
    "excel": table.read_excel,
    "gpkg": table.read_gpkg,
    "parquet": table.read_parquet,
}

DATASET_CHECKS: dict[str, Callable[[pd.DataFrame, list[Path]], None]] = {
    "police_uk": police_uk.check_months,
}
"""Checks across the files of one dataset, by format: the frame as read and the files."""


def read_file(path: Path, format: str, options: dict | None = None) -> pd.DataFrame:
    """Read one file with the named adapter."""
    if format not in ADAPTERS:
        raise DataError(
            "unknown format", where=str(path), expected=f"one of {sorted(ADAPTERS)}", got=repr(format)
        )
    return ADAPTERS[format](Path(path), dict(options or {}))


def _check_crs(spec: DatasetSpec, path: Path, frame: pd.DataFrame) -> None:
    """A layer that carries its own CRS (GeoPackage) must have the one the catalogue declares:
    points read in the wrong CRS land in the wrong neighbourhood without any other sign."""
    own = frame.attrs.get("crs")
    declared = getattr(spec.geography, "crs", None)
    if not own or not declared:
        return
    from pyproj import CRS

    try:
        same = CRS.from_user_input(own).equals(CRS.from_user_input(declared), ignore_axis_order=True)
    except Exception as exc:  # pyproj raises CRSError for unknown inputs
        raise DataError(
            "has a CRS that cannot be compared with the catalogue's",
            where=f"dataset {spec.id!r} ({path})",
            expected=str(declared),
            got=f"{own} ({exc})",
        ) from exc
    if not same:
        authority = CRS.from_user_input(own).to_authority()
        name = ":".join(authority) if authority else own
        raise DataError(
            "layer is in a different coordinate reference system from the catalogue's",
            where=f"dataset {spec.id!r} ({path})",
            expected=str(declared),
            got=name,
            hint=f'set `crs: "{name}"` for {spec.id} in conf/catalog.yml if the layer is right, '
            "or reproject the layer",
        )


def read_dataset(spec: DatasetSpec) -> pd.DataFrame:
    """Read every file of a catalogue entry into one frame (``_file``, ``_row`` say where each row
    came from)."""
    files = spec.files()
    if not files:
        raise DataError(
            "no file matches the catalogue path",
            where=f"dataset {spec.id!r}",
            expected=f"files matching {spec.path!r} under {spec.root}",
            got="none",
            hint="check the path glob, or run make data-build",
        )
    read = [read_file(f, spec.format, dict(spec.options)) for f in files]
    for path, part in zip(files, read, strict=True):
        _check_crs(spec, path, part)
    frames = [f for f in read if len(f)] or read[:1]  # files with no rows to read (police.uk outcomes)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if spec.format in DATASET_CHECKS:
        DATASET_CHECKS[spec.format](frame, files)
    return frame
