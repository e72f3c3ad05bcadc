"""What a map shows, in words and as a table: its text alternative and its data table.

A map is no use to a reader who cannot see it or cannot point at it. Every report map
(:class:`~needskit.reports.map_rendering.Choropleth`) therefore carries

* a **description** built from its data (:func:`map_description`): what it shows, the classes
  and how many areas fall in each, the highest and lowest areas and how many values were
  withheld or missing; it is the ``alt`` text of the static map in the PDF and the description
  (``aria-describedby``) of the interactive map in HTML;
* a **data table** (:func:`data_table_html`): every area with its value and class, sorted from
  the highest value, in a collapsed ``<details>`` next to the interactive map, so the map's
  content can be read with a keyboard or a screen reader.

Every text from data or configuration is escaped (:func:`~needskit.safe_text.escape_html`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from needskit.safe_text import escape_html

__all__ = ["map_description", "ranked", "data_table_html"]

WITHHELD_CLASS = -2
"""``map_class`` of an area whose value was withheld (suppressed to protect small numbers)."""
MISSING_CLASS = -1
"""``map_class`` of an area without a value."""


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def ranked(areas: pd.DataFrame, *, column: str, name_column: str | None) -> pd.DataFrame:
    """The areas from the highest value to the lowest, areas without a value last (by name).

    Parameters
    ----------
    areas
        One row per area with ``column`` (numeric) and, when given, ``name_column``.
    column, name_column
        The mapped value and the areas' names.

    Returns
    -------
    DataFrame
        The same rows, reordered (index kept).
    """
    order = pd.DataFrame(
        {
            "missing": areas[column].isna().to_numpy(),
            "value": -pd.to_numeric(areas[column], errors="coerce").astype(float).to_numpy(),
            "name": areas[name_column].astype(str).to_numpy() if name_column else np.arange(len(areas)),
        },
        index=areas.index,
    )
    return areas.loc[order.sort_values(["missing", "value", "name"], kind="stable").index]


def _extremes(values: pd.DataFrame, *, column: str, name_column: str | None, fmt: str, n: int) -> list[str]:
    def named(row: pd.Series) -> str:
        value = fmt.format(float(row[column]))
        return f"{row[name_column]} ({value})" if name_column else value

    return [named(row) for _, row in values.head(n).iterrows()]


def map_description(
    areas: pd.DataFrame,
    *,
    column: str,
    classes: pd.Series,
    labels: Sequence[str],
    counts: Sequence[int],
    title: str,
    legend: str,
    name_column: str | None = "area_name",
    fmt: str = "{:,.1f}",
    outline_label: str | None = None,
    n_extremes: int = 3,
) -> str:
    """The text alternative of a choropleth, built from its data (plain text, not markup).

    Parameters
    ----------
    areas
        One row per mapped area: ``column`` and ``name_column``.
    column
        The mapped value.
    classes
        Class of each area (``map_class``: 0.. for the classes, -1 no data, -2 withheld).
    labels, counts
        Class labels (``"low – high"``) and how many areas each holds.
    title, legend
        The map's title and what the value measures (its unit).
    name_column
        Areas' names (None: the extremes are given as values only).
    fmt
        Number format.
    outline_label
        What the heavier outlines drawn over the areas are, if any (e.g. ``"District boundaries"``).
    n_extremes
        How many highest and lowest areas are named.

    Returns
    -------
    str
        E.g. "Map: Burglary per 1,000 residents by neighbourhood. 77 areas shaded in 5 classes
        of per 1,000 residents: 0.0 – 2.1 (16 areas); …; 9.3 – 30.1 (15 areas). Highest:
        Cheltenham 008A (30.1), …. Lowest: …. 3 areas withheld to protect small numbers."

    Example
    -------
    >>> frame = pd.DataFrame({"area_name": ["A", "B", "C"], "v": [1.0, 3.0, None]})
    >>> map_description(frame, column="v", classes=pd.Series([0, 1, -2]), labels=["1.0 – 1.0",
    ...     "1.0 – 3.0"], counts=[1, 1], title="V", legend="score", n_extremes=1)[:38]
    'Map: V. 3 areas shaded in 2 classes of'
    """
    subject = title.strip().rstrip(".") if title.strip() else column
    n = len(areas)
    shades = [
        f"{label} ({_plural(int(c), 'area', 'areas')})" for label, c in zip(labels, counts, strict=True)
    ]
    what = legend.strip() or column
    shaded = f"{_plural(n, 'area', 'areas')} shaded in {_plural(len(labels), 'class', 'classes')} of {what}"
    parts = [f"Map: {subject}. {shaded}: {'; '.join(shades)}."]
    order = ranked(areas, column=column, name_column=name_column)
    valued = order[order[column].notna()]

    def listed(rows: pd.DataFrame, n: int) -> str:
        return ", ".join(_extremes(rows, column=column, name_column=name_column, fmt=fmt, n=n))

    if len(valued) > 2 * n_extremes:
        parts.append(f"Highest: {listed(valued, n_extremes)}.")
        parts.append(f"Lowest: {listed(valued.iloc[::-1], n_extremes)}.")
    elif len(valued):
        parts.append(f"From highest to lowest: {listed(valued, len(valued))}.")
    klass = np.asarray(classes)
    withheld = int((klass == WITHHELD_CLASS).sum())
    missing = int((klass == MISSING_CLASS).sum())
    if withheld:
        parts.append(f"{_plural(withheld, 'area', 'areas')} withheld to protect small numbers.")
    if missing:
        parts.append(f"{_plural(missing, 'area', 'areas')} without data.")
    if outline_label:
        parts.append(f"Heavier lines: {outline_label}.")
    return " ".join(parts)


def data_table_html(
    cells: pd.DataFrame,
    *,
    caption: str,
    summary: str,
    numeric: Sequence[str] = (),
    table_id: str | None = None,
) -> str:
    """A collapsed table of a map's data: ``<details>`` with a summary line, then the table.

    Parameters
    ----------
    cells
        The rows in the order shown, as text (already formatted), with readable column names;
        the first column names the area and heads each row (``<th scope="row">``).
    caption
        The table's caption (what it holds).
    summary
        The text of the ``<summary>`` the reader opens.
    numeric
        Columns aligned right.
    table_id
        ``id`` of the table, if any.

    Returns
    -------
    str
        HTML; every header and cell escaped.
    """
    ident = f' id="{escape_html(table_id)}"' if table_id else ""
    right = set(numeric)
    num = ' class="num"'
    head = "".join(
        f'<th scope="col"{num if name in right else ""}>{escape_html(name)}</th>' for name in cells.columns
    )
    rows = []
    for values in cells.itertuples(index=False):
        first, *rest = list(values)
        tds = "".join(
            f"<td{num if name in right else ''}>{escape_html(v)}</td>"
            for name, v in zip(list(cells.columns)[1:], rest, strict=True)
        )
        rows.append(f'<tr><th scope="row">{escape_html(first)}</th>{tds}</tr>')
    return (
        f'<details class="needskit-map-data"><summary>{escape_html(summary)}</summary>'
        f'<table class="needskit-map-table"{ident}><caption>{escape_html(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></details>"
    )
