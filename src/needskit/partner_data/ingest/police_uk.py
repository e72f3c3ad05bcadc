"""data.police.uk street-level crime, as downloaded: one file per force and month, or a zip of them.

police.uk names each file ``YYYY-MM-<force>-street.csv``; a project keeps them as they came, any
number of months and forces in one folder (the catalogue's path is a glob such as
``data/raw/police/*``):

* a street-level CSV, gzip-compressed or not (``.csv`` / ``.csv.gz``), LF or CRLF line ends;
* a zip archive (the data.police.uk custom download): its ``YYYY-MM/YYYY-MM-<force>-street.csv``
  members are read, its ``-outcomes.csv`` and ``-stop-and-search.csv`` members are not. A row's
  ``_file`` names the archive and the member: ``2024-01.zip:2024-01/2024-01-avon-and-somerset-street.csv``.
  Outcomes and stop-and-search files beside the street files are skipped the same way.

Columns as published: Crime ID, Month, Reported by, Falls within, Longitude, Latitude, Location,
LSOA code, LSOA name, Crime type, Last outcome category, Context. Anti-social behaviour rows have
no Crime ID; rows with no location have empty coordinates and no LSOA code ("No Location") and are
kept: the pool counts them as unlocated.

Checked here, because a wrong file would silently double or misdate a month: every row's ``Month``
is the month in its file's name, and no month of a force is in two files
(:func:`check_months`); either is a :class:`~needskit.errors.DataError` naming the files.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import pandas as pd

from needskit.errors import DataError
from needskit.partner_data.ingest.reading import (
    check_member_size,
    decode_text,
    gunzip,
    number_rows,
    parse_csv_text,
    read_bytes,
    require_file_columns,
)

__all__ = ["COLUMNS", "read", "check_months", "file_month"]

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

NAME = re.compile(
    r"^(?P<month>\d{4}-(?:0[1-9]|1[0-2]))-(?P<force>[a-z0-9-]+?)-(?P<kind>street|outcomes|stop-and-search)"
    r"\.csv(?:\.gz)?$"
)
"""police.uk's file names: ``2024-01-<force>-street.csv``, e.g. ``2024-01-avon-and-somerset-street.csv``
(``.gz`` when compressed)."""
NAMED_LIKE = "YYYY-MM-<force>-street.csv (or .csv.gz), or a police.uk zip archive"


def file_month(name: str) -> tuple[str, str, str] | None:
    """``(month, force, kind)`` of a police.uk file or archive member name (any folder), or None."""
    match = NAME.match(PurePosixPath(name.split(":")[-1]).name)
    return None if match is None else (match["month"], match["force"], match["kind"])


def read(path: Path, options: dict) -> pd.DataFrame:
    """The street-level rows of one police.uk file: a CSV (gzip or not) or a zip archive.

    Returns
    -------
    The file's columns as text plus ``_file`` and ``_row``; no rows for an outcomes or
    stop-and-search file.

    Raises
    ------
    DataError
        A folder, a file not named as police.uk names them, a zip with no street-level member,
        missing columns, or a ``Month`` other than the one in the file's name.
    """
    encoding = options.get("encoding", "utf-8")
    if path.is_dir():
        raise DataError(
            "is a folder, not a police.uk file",
            where=str(path),
            expected=NAMED_LIKE,
            hint="keep the zip as downloaded, or point the catalogue's path at the files (folder/*/*)",
        )
    raw = read_bytes(path)
    if raw[:4] == b"PK\x03\x04":
        return _read_zip(path, raw, encoding)
    if path.suffix == ".zip":
        raise DataError("is not a zip archive although it is named .zip", where=str(path))
    named = file_month(path.name)
    if named is None:
        raise DataError(
            "is not named as police.uk names its files",
            where=str(path),
            expected=NAMED_LIKE,
            got=repr(path.name),
            hint="keep police.uk's file names (the month in the name is checked against the data), "
            "or narrow the catalogue's path glob",
        )
    if named[2] != "street":
        return _no_rows()
    return _street(decode_text(raw, path, encoding=encoding), path, path.name, named[0])


def _read_zip(path: Path, raw: bytes, encoding: str) -> pd.DataFrame:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise DataError("is a damaged zip archive", where=str(path), got=str(exc)) from exc
    frames, names = [], []
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            names.append(info.filename)
            named = None if info.is_dir() else file_month(info.filename)
            if named is None or named[2] != "street":
                continue  # outcomes, stop-and-search (and anything else police.uk adds)
            label = f"{path.name}:{info.filename}"
            check_member_size(info.file_size, info.compress_size, label)
            try:
                member = gunzip(archive.read(info), label)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a CRC error, a truncated member
                raise DataError("is a damaged member of a zip archive", where=label, got=str(exc)) from exc
            frames.append(_street(decode_text(member, label, encoding=encoding), path, label, named[0]))
    if not frames:
        raise DataError(
            "holds no police.uk street-level file",
            where=str(path),
            expected="members named YYYY-MM/YYYY-MM-<force>-street.csv",
            got=f"{len(names)} members, e.g. {names[:5]}",
            hint="download with 'Include crime data' ticked",
        )
    return pd.concat(frames, ignore_index=True)


def _street(text: str, path: Path, label: str, month: str) -> pd.DataFrame:
    frame = parse_csv_text(text, label)
    require_file_columns(frame, COLUMNS, label, what="police.uk street-level")
    frame = number_rows(frame, path, name=label)
    months = frame["Month"].astype("string").str.strip()
    other = months.notna() & (months != month)
    if other.any():
        found = months[other].value_counts()
        lines = frame.loc[other, "_row"].head(5).tolist()
        raise DataError(
            f"holds rows of another month than the {month} in its name",
            where=label,
            expected=f"Month {month} on every row (police.uk writes one month per file)",
            got=f"{int(other.sum()):,} rows with Month {dict(found.head(5))} (lines {lines})",
            hint="was the file renamed? give it back police.uk's name for the month it holds",
        )
    return frame


def _no_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in ["_file", "_row", *COLUMNS]})


def check_months(frame: pd.DataFrame, files: Sequence[Path]) -> None:
    """Refuse a dataset with no street-level rows, or with a month of a force in two files.

    Raises
    ------
    DataError
        Naming every file that holds the same month of the same force (a month downloaded twice,
        or a CSV and a zip holding it).
    """
    if frame.empty:
        raise DataError(
            "has no police.uk street-level rows",
            where=", ".join(p.name for p in files[:5]),
            expected="files named YYYY-MM-<force>-street.csv, or zips holding them",
            hint="outcomes and stop-and-search files are not read",
        )
    labels = pd.DataFrame({"label": frame["_file"].unique()})
    named = labels["label"].map(file_month)  # every label was read as a street-level file
    labels["month"], labels["force"] = named.str[0], named.str[1]
    twice = [
        (key, group["label"].tolist())
        for key, group in labels.groupby(["month", "force"], sort=True)
        if len(group) > 1
    ]
    if twice:
        (month, force), names = twice[0]
        more = f" (and {len(twice) - 1} more months)" if len(twice) > 1 else ""
        raise DataError(
            f"the {month} street-level crime of {force} is in {len(names)} files{more}",
            where=" and ".join(names),
            expected="each month of a force once",
            got=f"{len(names)} files for {month}",
            hint="remove one of them: a month downloaded twice, or a CSV beside a zip that holds it",
        )
