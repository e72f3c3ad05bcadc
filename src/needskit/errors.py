"""Errors and warnings raised by needskit.

Every error says what was wrong, where, what was expected, what arrived and, where it can,
how to fix it. Each subclass also inherits the matching built-in exception so that
``except ValueError`` in user code keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "NeedskitError",
    "SchemaError",
    "GeographyError",
    "CatalogError",
    "DataError",
    "DisclosureError",
    "ReportError",
    "StoreError",
    "NeedskitWarning",
    "describe_values",
]


class NeedskitError(Exception):
    """Base class of every error needskit raises on purpose.

    Parameters
    ----------
    what
        One sentence: what is wrong.
    where
        The argument, file, column or row it concerns.
    expected, got
        What was expected and what arrived.
    hint
        How to fix it.
    """

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        expected: str | None = None,
        got: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.what = what
        self.where = where
        self.expected = expected
        self.got = got
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.where:
            parts.append(f"{self.where}: {self.what}")
        else:
            parts.append(self.what)
        if self.expected is not None:
            parts.append(f"expected {self.expected}")
        if self.got is not None:
            parts.append(f"got {self.got}")
        message = "; ".join(parts)
        if self.hint:
            message += f" (hint: {self.hint})"
        return message


class SchemaError(NeedskitError, ValueError):
    """A frame lacks a column, has the wrong type, or holds values out of range."""


class GeographyError(NeedskitError, ValueError):
    """An area code, level, vintage, CRS or coordinate is not what was expected."""


class CatalogError(NeedskitError, ValueError):
    """A catalogue entry or config file is malformed."""


class DataError(NeedskitError, ValueError):
    """A data file cannot be read as declared (missing, empty, wrong encoding or format)."""


class DisclosureError(NeedskitError, ValueError):
    """A publication would break a sharing level or a disclosure rule."""


class ReportError(NeedskitError, RuntimeError):
    """A report could not be produced."""


class StoreError(NeedskitError, RuntimeError):
    """The store is missing, older than its inputs, or written by another version."""


class NeedskitWarning(UserWarning):
    """Something recoverable happened and was recorded (for example a suppressed cell)."""


def describe_values(values: Iterable[object], *, limit: int = 5) -> str:
    """Describe offending values as ``N values, e.g. a, b, c``: a count and at most ``limit`` examples."""
    items: Sequence[object] = list(values)
    examples = ", ".join(repr(v) for v in list(dict.fromkeys(items))[:limit])
    n = len(items)
    return f"{n} value{'s' if n != 1 else ''}, e.g. {examples}" if n else "no values"
