"""Checking partner data against its catalogue entry (``needskit validate``).

The same checks decide, in :mod:`needskit.partner_data.pooling`, which rows are assigned, unlocated
or rejected: validation is pooling without writing. Each problem is one clear line: dataset, file,
rows (the first five line numbers and a count), column, what was expected, what arrived, and a hint.

Severity: ``error`` when a dataset cannot be pooled as declared (missing file or column, not the
declared format, a malformed catalogue entry, most coordinates unusable) or when more than the
entry's ``max_invalid`` share of rows is invalid; ``warning`` for rows that will be rejected or
left unlocated with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from needskit.errors import NeedskitError

__all__ = ["Problem", "problems_frame", "problem_from_error", "rows_problem"]


@dataclass(frozen=True)
class Problem:
    dataset: str
    severity: str
    what: str
    file: str | None = None
    column: str | None = None
    rows: tuple[int | str, ...] = field(default_factory=tuple)
    count: int = 0
    expected: str | None = None
    got: str | None = None
    hint: str | None = None

    def line(self) -> str:
        """The one line ``needskit validate`` prints."""
        where = [self.dataset]
        if self.file:
            where.append(self.file)
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows)
            more = f" ({self.count:,} rows)" if self.count > len(self.rows) else ""
            where.append(f"line{'s' if len(self.rows) > 1 else ''} {shown}{more}")
        elif self.count:
            where.append(f"{self.count:,} rows")
        if self.column:
            where.append(f"column {self.column!r}")
        text = f"{self.severity.upper()} {': '.join(where)}: {self.what}"
        if self.expected is not None:
            text += f"; expected {self.expected}"
        if self.got is not None:
            text += f"; got {self.got}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


def problem_from_error(dataset: str, error: NeedskitError, *, file: str | None = None) -> Problem:
    """A structural error (raised while reading) as an error-level problem."""
    return Problem(
        dataset=dataset,
        severity="error",
        what=error.what,
        file=file or error.where,
        expected=error.expected,
        got=error.got,
        hint=error.hint,
    )


def rows_problem(
    dataset: str,
    frame: pd.DataFrame,
    mask: pd.Series,
    *,
    what: str,
    severity: str = "warning",
    column: str | None = None,
    expected: str | None = None,
    values: pd.Series | None = None,
    hint: str | None = None,
) -> Problem | None:
    """Summarise the rows selected by ``mask``: first five line numbers, count, example values."""
    count = int(mask.sum())
    if not count:
        return None
    selected = frame.loc[mask]
    files = selected["_file"].unique() if "_file" in selected else []
    head = selected.head(1000)
    got = None
    if values is not None:
        examples = list(dict.fromkeys(values[mask].head(1000).astype(str).tolist()))[:5]
        got = ", ".join(repr(v) for v in examples)
    return Problem(
        dataset=dataset,
        severity=severity,
        what=what,
        file=files[0] if len(files) == 1 else (f"{len(files)} files" if len(files) else None),
        column=column,
        rows=(
            tuple(int(r) for r in pd.unique(head["_row"])[:5])
            if len(files) == 1
            else tuple(dict.fromkeys(f"{f}:{r}" for f, r in zip(head["_file"], head["_row"], strict=True)))[
                :5
            ]
        )
        if "_row" in selected
        else (),
        count=count,
        expected=expected,
        got=got,
        hint=hint,
    )


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    columns = ["dataset", "severity", "what", "file", "column", "rows", "count", "expected", "got", "hint"]
    return pd.DataFrame(
        [{**p.__dict__, "rows": " ".join(str(r) for r in p.rows)} for p in problems], columns=columns
    )
