"""Reading text tables safely: gzip, BOM, encoding and emptiness checked once, with clear errors."""

from __future__ import annotations

import io
import os
import re
import zlib
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from needskit.errors import DataError

MAX_BYTES_ENV = "NEEDSKIT_MAX_FILE_BYTES"
"""Environment variable: the most bytes a partner file may hold, decompressed (default 4 GB)."""
MAX_RATIO_ENV = "NEEDSKIT_MAX_GZIP_RATIO"
"""Environment variable: the most a gzip file may grow when decompressed (default 200 times)."""
_CHUNK = 1 << 20


def _limit(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _too_big(where: Path | str, size: str, limit: int) -> DataError:
    return DataError(
        "is larger than a partner file may be",
        where=str(where),
        expected=f"at most {limit:,} bytes of data",
        got=size,
        hint=f"split the file, or raise {MAX_BYTES_ENV} if it is genuine",
    )


def _refuse_binary(head: bytes, where: Path | str) -> None:
    """Fail fast on the first bytes: a NUL byte is never in CSV text."""
    if b"\x00" in head[:4096] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(
            "looks like a binary file, not CSV text", where=str(where), hint="check the catalogue's format"
        )


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip (by magic number, not by name).

    Read with limits, so a huge or hostile file fails fast with one line instead of filling the
    memory: at most ``NEEDSKIT_MAX_FILE_BYTES`` bytes (default 4 GB) and, for gzip, at most
    ``NEEDSKIT_MAX_GZIP_RATIO`` times the compressed size (default 200; a gzip bomb), checked while
    decompressing; a file whose first bytes are binary is refused before it is read further.
    """
    if not path.exists():
        raise DataError("file not found", where=str(path), hint="check the catalogue's path glob")
    limit = int(_limit(MAX_BYTES_ENV, 4e9))
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(4096)
        if head[:2] != b"\x1f\x8b":
            if path.suffix == ".gz":
                raise DataError(
                    "is not gzip-compressed although it is named .gz", where=str(path), expected="gzip data"
                )
            if head[:4] != b"PK\x03\x04":  # a zip archive is read member by member
                _refuse_binary(head, path)
            if size > limit:
                raise _too_big(path, f"{size:,} bytes", limit)
            return head + handle.read()
        if size > limit:
            raise _too_big(path, f"{size:,} bytes compressed", limit)
        handle.seek(0)
        return _gunzip_stream(handle, path, compressed=size, limit=limit)


def _gunzip_stream(handle: BinaryIO, where: Path | str, *, compressed: int, limit: int) -> bytes:
    ratio = _limit(MAX_RATIO_ENV, 200.0)
    cap = min(limit, max(int(compressed * ratio), 1 << 20))  # small files may grow more
    out = bytearray()
    checked = False
    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending = b""
    try:
        while True:
            if not pending:
                pending = handle.read(_CHUNK)
                if not pending:
                    if not stream.eof:
                        raise DataError("is a damaged gzip file", where=str(where), got="truncated data")
                    break
            if stream.eof:
                if pending[:2] != b"\x1f\x8b":
                    break  # trailing bytes after the last member
                stream = zlib.decompressobj(16 + zlib.MAX_WBITS)  # concatenated gzip members
            out += stream.decompress(pending, cap + 1 - len(out))
            pending = stream.unconsumed_tail or stream.unused_data
            if len(out) > cap:
                raise DataError(
                    "decompresses to more than a partner file may hold (a gzip bomb?)",
                    where=str(where),
                    expected=f"at most {cap:,} bytes ({ratio:g} times the {compressed:,} compressed)",
                    got=f"more than {cap:,} bytes",
                    hint=f"check the file; raise {MAX_RATIO_ENV} or {MAX_BYTES_ENV} if it is genuine",
                )
            if not checked and len(out) >= 4096:
                _refuse_binary(bytes(out[:4096]), where)
                checked = True
    except zlib.error as exc:
        raise DataError("is a damaged gzip file", where=str(where), got=str(exc)) from exc
    if not checked:
        _refuse_binary(bytes(out[:4096]), where)
    return bytes(out)


def check_member_size(size: int, compressed: int, where: str) -> None:
    """Refuse an archive member that would decompress beyond the limits of :func:`read_bytes`
    (from the sizes the archive declares, before reading it)."""
    limit = int(_limit(MAX_BYTES_ENV, 4e9))
    ratio = _limit(MAX_RATIO_ENV, 200.0)
    cap = min(limit, max(int(compressed * ratio), 1 << 20))
    if size > cap:
        raise DataError(
            "decompresses to more than a partner file may hold (a zip bomb?)",
            where=where,
            expected=f"at most {cap:,} bytes",
            got=f"{size:,} bytes from {compressed:,} compressed",
            hint=f"check the file; raise {MAX_RATIO_ENV} or {MAX_BYTES_ENV} if it is genuine",
        )


def gunzip(raw: bytes, where: Path | str) -> bytes:
    """``raw`` decompressed when it is gzip (by magic number), else as it is; with the limits of
    :func:`read_bytes`."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    limit = int(_limit(MAX_BYTES_ENV, 4e9))
    return _gunzip_stream(io.BytesIO(raw), where, compressed=len(raw), limit=limit)


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
