"""Postcode tables in the formats people download, told apart by their columns.

A partnership drops postcode tables into a folder (``data/raw/postcodes/``, named by a catalogue
reference entry of format ``postcode_directory``) and :func:`read_postcode_directory` turns them
into one postcode directory for :class:`~needskit.place.Geography`. Each file may be CSV, gzip
or a zip archive of CSVs, and is one of:

``ons_postcodes``
    The ONS Postcode Directory (ONSPD) or the National Statistics Postcode Lookup (NSPL): a
    header row with a postcode column (``pcds``, ``pcd``, ``pcd7``, ``pcd8`` or ``pcd2``) and
    grid references (``oseast1m``/``osnrth1m``, EPSG:27700) or latitude and longitude
    (``lat``/``long``, WGS84), in any letter case. ``doterm`` (date of termination) and
    ``lsoa21``/``lsoa11`` (or ``lsoa21cd``/``lsoa11cd``) are kept when present.
``code_point_open``
    OS Code-Point Open: no header, 10 columns (postcode, positional quality, eastings,
    northings, country, NHS regional health authority, NHS health authority, admin county,
    admin district, admin ward), British National Grid; one file per postcode area, usually
    in the zip OS distributes (``Data/CSV/<area>.csv``). Postcodes are written with or without
    the space (``GL503PP``, ``"GL50 3PP"``).

Postcodes without a usable location keep no coordinates: blank grid references, ONSPD's
placeholder latitude 99.999999, Code-Point Open's positional quality 90 (and any 0, 0 grid
reference). Northern Irish postcodes are located from their latitude and longitude, because
the ONSPD gives their grid references on the Irish Grid.
"""

from __future__ import annotations

import csv
import gzip
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Literal, cast

import numpy as np
import pandas as pd

from needskit.errors import DataError
from needskit.place.points import to_bng
from needskit.place.postcodes import normalise_postcode

__all__ = [
    "DIRECTORY_COLUMNS",
    "POSTCODE_FORMATS",
    "PostcodeTable",
    "detect_postcode_tables",
    "read_postcode_directory",
]

DIRECTORY_COLUMNS = ("postcode_clean", "easting", "northing", "lsoa21", "lsoa11", "terminated", "source")
"""Columns of the directory :func:`read_postcode_directory` returns."""
POSTCODE_FORMATS = ("ons_postcodes", "code_point_open")

# Column names recognised in a header (compared in lower case), in order of preference.
_POSTCODE = ("pcds", "pcd8", "pcd7", "pcd", "pcd2")
_EASTING = ("oseast1m", "east1m")
_NORTHING = ("osnrth1m", "north1m")
_LATITUDE = ("lat", "latitude")
_LONGITUDE = ("long", "lon", "longitude")
_LSOA21 = ("lsoa21", "lsoa21cd", "lsoa21_code")
_LSOA11 = ("lsoa11", "lsoa11cd", "lsoa11_code")
_TERMINATED = ("doterm",)
_CODE_POINT_WIDTH = 10
_NO_POSITION = "90"  # Code-Point Open positional quality: no coordinates
_HEAD_BYTES = 65_536
_EXPECTED = (
    "an ONS Postcode Directory or NSPL CSV (a header with pcds, pcd, pcd7, pcd8 or pcd2 and "
    "oseast1m/osnrth1m or lat/long) or an OS Code-Point Open CSV (no header; 10 columns: "
    "postcode, positional quality, eastings, northings, country, NHS region, NHS health authority, "
    "county, district, ward)"
)


@dataclass(frozen=True)
class PostcodeTable:
    """One postcode table found in a file: where it is, its format and the columns it is read from.

    ``where`` is the file (``codepo_gb.zip:Data/CSV/gl.csv`` for a member of a zip); ``columns``
    maps the directory's roles (``postcode``, ``easting``, ``northing``, ``latitude``,
    ``longitude``, ``lsoa21``, ``lsoa11``, ``terminated``) to the file's header names.
    """

    where: str
    format: Literal["ons_postcodes", "code_point_open"]
    columns: dict[str, str] = field(default_factory=dict)
    path: Path = Path(".")
    member: str | None = None


# ------------------------------------------------------------------------------- opening files


def _is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _zip_members(path: Path) -> list[str]:
    """The CSV members of a zip that hold postcode tables.

    Only the ``Data/`` folder's CSVs when there is one (Code-Point Open's ``Doc/`` holds CSVs
    of column names and codes), and the ONSPD's per-area ``multi_csv/`` copies only when the
    archive has no whole-country file.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile as exc:
        raise DataError("is a damaged zip archive", where=str(path), got=str(exc)) from exc
    members = [n for n in names if n.lower().endswith(".csv") and not n.endswith("/")]
    in_data = [n for n in members if any(p.lower() == "data" for p in PurePosixPath(n).parts[:-1])]
    members = in_data or members
    whole = [n for n in members if "multi_csv" not in (p.lower() for p in PurePosixPath(n).parts)]
    members = whole or members
    if not members:
        raise DataError(
            "is a zip archive with no CSV file",
            where=str(path),
            expected=f"CSV files inside: {_EXPECTED}",
            got=f"members {names[:10]}",
            hint="a spreadsheet (.xlsx) is a zip too: save it as CSV",
        )
    return sorted(members)


@contextmanager
def _open(path: Path, member: str | None) -> Iterator[IO[bytes]]:
    """A table's bytes: a member of a zip, or the file (gunzipped when it is gzip)."""
    if member is not None:
        with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
            yield handle
    elif _is_gzip(path):
        with gzip.open(path, "rb") as unzipped:
            yield cast(IO[bytes], unzipped)
    else:
        with path.open("rb") as handle:
            yield handle


def _read_head(path: Path, member: str | None, where: str) -> list[list[str]]:
    """The first two rows of a table, parsed as CSV."""
    try:
        with _open(path, member) as handle:
            raw = handle.read(_HEAD_BYTES)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError("cannot be read (damaged gzip or zip?)", where=where, got=str(exc)) from exc
    if not raw.strip():
        raise DataError("is empty", where=where, expected=_EXPECTED, got="0 bytes of text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(raw) - 4:  # not merely a character cut at the end of the probe
            raise DataError(
                "is not UTF-8 text",
                where=where,
                expected=_EXPECTED,
                got=f"byte 0x{raw[exc.start]:02x} at position {exc.start}",
                hint="is it a CSV? spreadsheets and PDFs cannot be read as postcode tables",
            ) from exc
        text = raw[: exc.start].decode("utf-8-sig")
    if "\x00" in text:
        raise DataError("looks like a binary file, not CSV text", where=where, expected=_EXPECTED)
    lines = text.splitlines()[:2]
    return [row for row in csv.reader(lines)]


# ------------------------------------------------------------------------------- detection


def _pick(header: dict[str, str], names: Sequence[str]) -> str | None:
    return next((header[n] for n in names if n in header), None)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _detect(rows: list[list[str]], *, path: Path, member: str | None, where: str) -> PostcodeTable:
    first = rows[0] if rows else []
    header = {c.strip().lower(): c for c in first}
    roles = {
        "postcode": _pick(header, _POSTCODE),
        "easting": _pick(header, _EASTING),
        "northing": _pick(header, _NORTHING),
        "latitude": _pick(header, _LATITUDE),
        "longitude": _pick(header, _LONGITUDE),
        "lsoa21": _pick(header, _LSOA21),
        "lsoa11": _pick(header, _LSOA11),
        "terminated": _pick(header, _TERMINATED),
    }
    grid = roles["easting"] and roles["northing"]
    lonlat = roles["latitude"] and roles["longitude"]
    if roles["postcode"] and (grid or lonlat):
        if not grid:
            roles["easting"] = roles["northing"] = None
        if not lonlat:
            roles["latitude"] = roles["longitude"] = None
        columns = {role: name for role, name in roles.items() if name}
        return PostcodeTable(where, "ons_postcodes", columns, path=path, member=member)
    if (
        len(first) == _CODE_POINT_WIDTH
        and normalise_postcode(first[0]) is not None
        and _is_number(first[2])
        and _is_number(first[3])
    ):
        return PostcodeTable(where, "code_point_open", {}, path=path, member=member)
    if roles["postcode"]:
        hint = "the postcode column is there: add grid references (oseast1m, osnrth1m) or lat/long"
    elif normalise_postcode(first[0] if first else None) is not None:
        hint = f"a file without a header must be Code-Point Open's 10 columns; this one has {len(first)}"
    else:
        hint = "drop ONSPD, NSPL or Code-Point Open files here as downloaded (CSV, .gz or .zip)"
    raise DataError(
        "is not a postcode table of a known format",
        where=where,
        expected=_EXPECTED,
        got=f"{len(first)} columns {first[:12]}",
        hint=hint,
    )


def detect_postcode_tables(path: str | Path) -> list[PostcodeTable]:
    """The postcode tables in one file, each with its format, told apart by its columns.

    A CSV (optionally gzip) is one table; a zip archive holds one per CSV member (see the module
    docstring for which members are read).

    Raises
    ------
    DataError
        The file is missing, empty, not text, or a table of neither format (the file, what was
        expected and the columns found are named).

    Example
    -------
    >>> [t.format for t in detect_postcode_tables("data/raw/postcodes/codepo_gb.zip")]  # doctest: +SKIP
    ['code_point_open', 'code_point_open', ...]
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            "postcode file not found",
            where=str(path),
            hint="check the path of the postcode_directory entry in the catalogue",
        )
    if _is_zip(path):
        out = []
        for member in _zip_members(path):
            where = f"{path}:{member}"
            out.append(_detect(_read_head(path, member, where), path=path, member=member, where=where))
        return out
    return [_detect(_read_head(path, None, str(path)), path=path, member=None, where=str(path))]


# ------------------------------------------------------------------------------- reading


def _csv(table: PostcodeTable, read: Callable[[IO[bytes]], pd.DataFrame]) -> pd.DataFrame:
    try:
        with _open(table.path, table.member) as handle:
            frame = read(handle)
    except UnicodeDecodeError as exc:
        raise DataError("is not UTF-8 text", where=table.where, got=str(exc)) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(
            "is not a well-formed CSV file",
            where=table.where,
            expected=f"the columns of {table.format}",
            got=str(exc).splitlines()[0],
        ) from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError("cannot be read (damaged gzip or zip?)", where=table.where, got=str(exc)) from exc
    if frame.empty:
        raise DataError("has no postcode rows", where=table.where, expected=_EXPECTED)
    return frame


def _numbers(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column].str.strip(), errors="coerce").astype(float)


def _codes(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    codes = frame[column].astype("string").str.strip()
    return codes.mask(codes == "")


def _read_ons(table: PostcodeTable) -> pd.DataFrame:
    c = table.columns
    usecols = list(dict.fromkeys(c.values()))
    frame = _csv(
        table,
        lambda handle: pd.read_csv(
            handle,
            usecols=usecols,
            dtype=str,
            encoding="utf-8-sig",
            keep_default_na=False,
            na_values=[""],
        ),
    )
    postcode = frame[c["postcode"]].map(normalise_postcode)
    easting, northing = _numbers(frame, c.get("easting")), _numbers(frame, c.get("northing"))
    if "latitude" in c:
        # no grid reference, or a Northern Irish one (on the Irish Grid): from latitude and longitude
        take = easting.isna() | northing.isna() | postcode.str.startswith("BT", na=False)
        lat, lon = _numbers(frame, c["latitude"])[take], _numbers(frame, c["longitude"])[take]
        usable = lat.between(-90, 90) & lon.between(-180, 180)  # ONSPD: 99.999999 when there is none
        bx, by, _ = to_bng(
            lon.where(usable).to_numpy(dtype=float), lat.where(usable).to_numpy(dtype=float), "EPSG:4326"
        )
        easting, northing = easting.copy(), northing.copy()
        easting[take], northing[take] = bx, by
    else:
        irish = postcode.str.startswith("BT", na=False)
        easting, northing = easting.mask(irish), northing.mask(irish)
    terminated = (
        _codes(frame, c["terminated"]).notna().astype("boolean")
        if "terminated" in c
        else pd.Series(pd.NA, index=frame.index, dtype="boolean")
    )
    return _directory(
        postcode,
        easting,
        northing,
        _codes(frame, c.get("lsoa21")),
        _codes(frame, c.get("lsoa11")),
        terminated,
    )


def _read_code_point(table: PostcodeTable) -> pd.DataFrame:
    frame = _csv(
        table,
        lambda handle: pd.read_csv(
            handle,
            header=None,
            usecols=[0, 1, 2, 3],
            names=["postcode", "quality", "easting", "northing"],
            dtype=str,
            encoding="utf-8-sig",
            keep_default_na=False,
            na_values=[""],
        ),
    )
    placed = frame["quality"].astype("string").str.strip() != _NO_POSITION
    easting = _numbers(frame, "easting").where(placed.fillna(True))
    northing = _numbers(frame, "northing").where(placed.fillna(True))
    missing = pd.Series(pd.NA, index=frame.index, dtype="string")
    return _directory(
        frame["postcode"].map(normalise_postcode),
        easting,
        northing,
        missing,
        missing,
        pd.Series(False, index=frame.index, dtype="boolean"),  # Code-Point Open lists live postcodes only
    )


def _directory(postcode, easting, northing, lsoa21, lsoa11, terminated) -> pd.DataFrame:
    nowhere = (easting == 0) & (northing == 0)
    return pd.DataFrame(
        {
            "postcode_clean": postcode.astype(object),
            "easting": easting.mask(nowhere).astype(float),
            "northing": northing.mask(nowhere).astype(float),
            "lsoa21": lsoa21,
            "lsoa11": lsoa11,
            "terminated": terminated,
        }
    )


def read_postcode_directory(files: Sequence[str | Path], *, where: str = "postcodes") -> pd.DataFrame:
    """One postcode directory from postcode tables of any of the known formats.

    Parameters
    ----------
    files
        The files, in order of precedence: where a postcode is in several tables, the first
        table's row wins. Each file is detected by its columns (:func:`detect_postcode_tables`).
    where
        What the files are, for errors (e.g. the catalogue entry).

    Returns
    -------
    DataFrame, one row per postcode: ``postcode_clean`` (``"GL50 3PP"``), ``easting``,
    ``northing`` (EPSG:27700; missing when the table gives no location), ``lsoa21``, ``lsoa11``
    (codes when the table has them), ``terminated`` (True when the ONSPD gives a date of
    termination; missing when a table does not say) and ``source`` (the file it came from).
    Rows whose postcode is not a postcode are left out.

    Raises
    ------
    DataError
        No file, or a file that cannot be read or is of neither format (named, with the
        columns found).

    Notes
    -----
    Terminated postcodes keep their coordinates (a partner may still hold them) and say so in
    ``terminated``. Coordinates given only as latitude and longitude are projected to the
    British National Grid with pyproj (within a few metres of the ONSPD's own grid references).

    Example
    -------
    >>> directory = read_postcode_directory(sorted(Path("data/raw/postcodes").glob("*")))  # doctest: +SKIP
    >>> directory.set_index("postcode_clean").loc["GL50 3PP", "easting"]  # doctest: +SKIP
    394619.0
    """
    if not files:
        raise DataError(
            "no postcode files",
            where=where,
            expected=f"files of {_EXPECTED}",
            hint="drop the downloaded postcode file into the folder the catalogue names",
        )
    tables = [table for path in files for table in detect_postcode_tables(path)]
    parts = []
    for table in tables:
        part = _read_ons(table) if table.format == "ons_postcodes" else _read_code_point(table)
        parts.append(part.assign(source=table.where))
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    frame = frame.dropna(subset=["postcode_clean"]).drop_duplicates("postcode_clean", ignore_index=True)
    frame["source"] = frame["source"].astype("string")
    return frame[list(DIRECTORY_COLUMNS)]
