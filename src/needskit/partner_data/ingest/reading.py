"""Reading text tables safely: gzip, BOM, encoding and emptiness checked once, with clear errors."""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import pandas as pd

from needskit.errors import DataError


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip (by magic number, not by name)."""
    if not path.exists():
        raise DataError("file not found", where=str(path), hint="check the catalogue's path glob")
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b" and path.suffix == ".gz":
        raise DataError(
            "is not gzip-compressed although it is named .gz", where=str(path), expected="gzip data"
        )
    return gunzip(raw, path)


def gunzip(raw: bytes, where: Path | str) -> bytes:
    """``raw`` decompressed when it is gzip (by magic number), else as it is."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise DataError("is a damaged gzip file", where=str(where), got=str(exc)) from exc


def decode_text(raw: bytes, path: Path | str, *, encoding: str = "utf-8") -> str:
    """Decode text, dropping a UTF-8 byte-order mark; name the first bad byte if it is not UTF-8."""
    if not raw.strip():
        raise DataError(
            "file is empty", where=str(path), expected="a header and data rows", got="0 bytes of text"
        )
    try:
        text = raw.decode(
            "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        )
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"is not {encoding} text",
            where=f"{path}, line {line}",
            expected=f"{encoding} (UTF-8 is the default)",
            got=f"byte 0x{raw[exc.start]:02x} at position {exc.start}",
            hint="re-save the file as UTF-8, or set options: {encoding: cp1252} in the catalogue",
        ) from exc
    if "\x00" in text[:4096]:
        raise DataError(
            "looks like a binary file, not CSV text", where=str(path), hint="check the catalogue's format"
        )
    return text


def read_csv_text(
    path: Path,
    *,
    encoding: str = "utf-8",
    header: int | None = 0,
    thousands: str | None = None,
    names: list[str] | None = None,
    dtype=str,
) -> pd.DataFrame:
    """Read a CSV (optionally gzip) with every column as text; numbers are parsed later, row by row,
    so that one bad cell is one rejected row, not a failed file."""
    text = decode_text(read_bytes(path), path, encoding=encoding)
    return parse_csv_text(text, path, header=header, thousands=thousands, names=names, dtype=dtype)


def parse_csv_text(
    text: str,
    where: Path | str,
    *,
    header: int | None = 0,
    thousands: str | None = None,
    names: list[str] | None = None,
    dtype=str,
) -> pd.DataFrame:
    """CSV text (LF or CRLF line ends) as a frame of text columns; ``where`` names it in errors
    (a file, or a member of an archive)."""
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=header,
            names=names,
            dtype=dtype,
            keep_default_na=False,
            na_values=[""],
            thousands=thousands,
            skipinitialspace=False,
        )
    except pd.errors.ParserError as exc:
        raise DataError(
            "is not a well-formed CSV file",
            where=str(where),
            got=str(exc).splitlines()[0],
            hint="check the delimiter and quoting, or the catalogue's format",
        ) from exc
    if frame.empty:
        raise DataError("has a header but no data rows", where=str(where))
    return frame


def number_rows(
    frame: pd.DataFrame, path: Path, *, first_row: int = 2, name: str | None = None
) -> pd.DataFrame:
    """Add ``_file`` (``name``, or the file's name) and ``_row`` (the line number in the file; the
    header is line 1)."""
    out = frame.reset_index(drop=True)
    out.insert(0, "_row", range(first_row, first_row + len(out)))
    out.insert(0, "_file", path.name if name is None else name)
    return out


def require_file_columns(frame: pd.DataFrame, columns, path: Path | str, *, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        close = {m: [c for c in frame.columns if _squash(c) == _squash(m)] for m in missing}
        renamed = {m: c[0] for m, c in close.items() if c}
        raise DataError(
            f"is missing column{'s' if len(missing) > 1 else ''} {missing}",
            where=str(path),
            expected=f"the {what} columns",
            got=f"columns {list(frame.columns)[:15]}",
            hint=(
                f"renamed? {renamed}"
                if renamed
                else "check the file is the declared format, or map columns in the catalogue"
            ),
        )


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def snake_case(name: str) -> str:
    """``"Income Rank (where 1 is most deprived)"`` → ``"income_rank"``."""
    text = re.sub(r"\((?:where|excluding)[^)]*\)", "", str(name))
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    return text


def to_numbers(values: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Text to float; cells that are not numbers become NaN (callers compare with the text to
    tell a bad cell from an empty one). Fast path first: most files are clean."""
    try:
        return values.astype(float)
    except (ValueError, TypeError):
        if isinstance(values, pd.DataFrame):
            return values.apply(pd.to_numeric, errors="coerce").astype(float)
        return pd.to_numeric(values, errors="coerce").astype(float)
