"""Tables of counts for disclosure control: published totals and the lines (equations) cells lie on.

:func:`build_table` turns a long frame of counts into rows x columns tables (one per ``by``
group), appends the totals :func:`~needskit.disclosure.suppression.apply_rules` publishes and
numbers the row and column lines each cell lies on, which is the structure secondary suppression
(:mod:`needskit.disclosure.secondary`) reasons about. :func:`totals_from_redacted` recomputes the
totals from the cells left after redaction (OpenSAFELY).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from needskit.disclosure.rules import RuleSet
from needskit.errors import SchemaError

__all__ = ["Table", "build_table", "totals_from_redacted"]

_INNER_ROW, _TOTALS_ROW, _INNER_COL, _TOTALS_COL = 0, 1, 2, 3


@dataclass
class Table:
    """Cells (inner then totals) and the lines they lie on.

    Each cell lies on one row line and one column line. Lines are numbered ``0..R-1`` inner rows,
    then the totals row of each table, then ``C`` inner columns, then the totals column of each
    table. A line is an *equation* when it is published with its total (its inner cells sum to
    its total cell).

    Attributes
    ----------
    cells
        The input rows without the count column, then one row per appended total.
    exact
        The exact count of each cell (totals summed from the inner cells).
    is_total
        Whether each cell is an appended total.
    row_line, col_line
        The row line and the column line of each cell.
    has_eq
        Per line: it is published with its total, so it is an equation.
    line_table
        Per line: the table (``by`` group) it belongs to.
    line_kind
        Per line: inner row, totals row, inner column or totals column.
    """

    cells: pd.DataFrame
    exact: np.ndarray
    is_total: np.ndarray
    row_line: np.ndarray
    col_line: np.ndarray
    has_eq: np.ndarray
    line_table: np.ndarray
    line_kind: np.ndarray


def _check_table(
    df: pd.DataFrame, *, rs: RuleSet, rows: str, columns: str, by: list[str], total_label: str
) -> None:
    for name in (rows, columns, *by):
        if df[name].isna().any():
            bad = list(df.index[df[name].isna().to_numpy()][:5])
            raise SchemaError(
                "has missing labels",
                where=f"column {name!r}",
                expected="a label in every row",
                got=f"rows {bad}",
            )
    for name in (rows, columns):
        hit = (df[name].astype(str) == str(total_label)).to_numpy()
        if hit.any():
            raise SchemaError(
                f"already holds the total label {total_label!r}",
                where=f"column {name!r}",
                expected="the table's cells without totals",
                got=f"{int(hit.sum())} rows labelled {total_label!r}",
                hint="drop the total rows: apply_rules computes the totals it publishes, so they are "
                "protected with the cells (or pass another total_label if this is a real category)",
            )
    keys = df[[*by, rows, columns]]
    dup = keys.duplicated(keep=False).to_numpy()
    if dup.any():
        first = keys[dup].head(5).astype(str).agg("/".join, axis=1).tolist()
        raise SchemaError(
            "has more than one row for some cells",
            where=f"by={by!r}, rows={rows!r}, columns={columns!r}",
            expected="one row per table cell",
            got=f"{int(dup.sum())} rows, e.g. {first}",
            hint="add the column that separates tables (measure, period, dataset) to by=, or aggregate first",
        )


def build_table(
    df: pd.DataFrame,
    x: np.ndarray,
    *,
    rs: RuleSet,
    value: str,
    rows: str,
    columns: str,
    by: list[str],
    mode: str,
    total_label: str,
) -> Table:
    """Validate the table structure, append the published totals and number the lines.

    Parameters
    ----------
    df
        Long table of counts, one row per cell, without totals.
    x
        The counts of ``df`` as floats (column ``value``, already checked).
    rs
        The rule set; with secondary suppression every table must be complete.
    value
        The count column, left out of :attr:`Table.cells`.
    rows, columns
        The two dimensions of each table.
    by
        Columns that separate tables.
    mode
        Totals published: ``"both"``, ``"rows"``, ``"columns"`` or ``"none"``.
    total_label
        Label of the total cells in the ``rows`` / ``columns`` columns.

    Returns
    -------
    Table
        The cells with the totals appended, and their lines.

    Raises
    ------
    SchemaError
        Missing labels, ``total_label`` already present, duplicated cells, or an incomplete
        table under a rule with secondary suppression.
    """
    _check_table(df, rs=rs, rows=rows, columns=columns, by=by, total_label=total_label)
    n = len(df)
    t = df.groupby(by, sort=False, dropna=False).ngroup().to_numpy() if by else np.zeros(n, dtype=np.int64)
    n_tab = int(t.max()) + 1 if n else 0
    r_id = (
        pd.DataFrame({"t": t, "k": df[rows].to_numpy()}).groupby(["t", "k"], sort=False).ngroup().to_numpy()
    )
    c_id = (
        pd.DataFrame({"t": t, "k": df[columns].to_numpy()})
        .groupby(["t", "k"], sort=False)
        .ngroup()
        .to_numpy()
    )
    n_r = int(r_id.max()) + 1 if n else 0
    n_c = int(c_id.max()) + 1 if n else 0
    r_tab = np.zeros(n_r, dtype=np.int64)
    r_tab[r_id] = t
    c_tab = np.zeros(n_c, dtype=np.int64)
    c_tab[c_id] = t
    if rs.secondary and n:
        rows_per_t = np.bincount(r_tab, minlength=n_tab)
        cols_per_t = np.bincount(c_tab, minlength=n_tab)
        cells_per_t = np.bincount(t, minlength=n_tab)
        short = np.flatnonzero(cells_per_t != rows_per_t * cols_per_t)
        if len(short):
            k = int(short[0])
            which = df.loc[t == k, by].head(1).to_dict("records")[0] if by else "the table"
            raise SchemaError(
                "is not a complete table",
                where=f"rule={rs.name!r}",
                expected="every rows x columns combination present in each table",
                got=f"{len(short)} incomplete table(s), e.g. {which}: {int(cells_per_t[k])} cells for "
                f"{int(rows_per_t[k])} rows x {int(cols_per_t[k])} columns",
                hint="add the absent combinations with value 0 if they are true zeros",
            )

    t_row = n_r + np.arange(n_tab)
    c_off = n_r + n_tab
    t_col = c_off + n_c + np.arange(n_tab)
    n_lines = c_off + n_c + n_tab
    line_table = np.concatenate([r_tab, np.arange(n_tab), c_tab, np.arange(n_tab)])
    line_kind = np.repeat(
        np.array([_INNER_ROW, _TOTALS_ROW, _INNER_COL, _TOTALS_COL]), [n_r, n_tab, n_c, n_tab]
    )
    has_eq = np.zeros(n_lines, dtype=bool)
    if mode in ("both", "rows"):
        has_eq[:n_r] = True
    if mode in ("both", "columns"):
        has_eq[c_off : c_off + n_c] = True
    if mode == "both":
        has_eq[t_row] = True
        has_eq[t_col] = True

    base = df[[c for c in df.columns if c != value]].reset_index(drop=True)
    parts, xs = [base], [x]
    tot, rls, cls = [np.zeros(n, dtype=bool)], [r_id], [c_off + c_id]
    if mode in ("both", "rows"):  # one total per row, summed across the columns
        frame, ids = _margin_frame(base, r_id, set_to=[columns], label=total_label)
        parts.append(frame)
        xs.append(np.bincount(r_id, weights=x, minlength=n_r)[ids])
        rls.append(ids)
        cls.append(t_col[r_tab[ids]])
    if mode in ("both", "columns"):
        frame, ids = _margin_frame(base, c_id, set_to=[rows], label=total_label)
        parts.append(frame)
        xs.append(np.bincount(c_id, weights=x, minlength=n_c)[ids])
        rls.append(t_row[c_tab[ids]])
        cls.append(c_off + ids)
    if mode == "both":
        frame, ids = _margin_frame(base, t, set_to=[rows, columns], label=total_label)
        parts.append(frame)
        xs.append(np.bincount(t, weights=x, minlength=n_tab)[ids])
        rls.append(t_row[ids])
        cls.append(t_col[ids])
    for extra in parts[1:]:
        tot.append(np.ones(len(extra), dtype=bool))
    cells = pd.concat(parts, ignore_index=True) if len(parts) > 1 else base
    return Table(
        cells=cells,
        exact=np.concatenate(xs),
        is_total=np.concatenate(tot),
        row_line=np.concatenate(rls),
        col_line=np.concatenate(cls),
        has_eq=has_eq,
        line_table=line_table,
        line_kind=line_kind,
    )


def _margin_frame(
    base: pd.DataFrame, key: np.ndarray, *, set_to: list[str], label: str
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per key value (sorted): columns constant within it keep their value, others are missing."""
    grouped = base.groupby(key, sort=True, dropna=False)
    first = grouped.first(skipna=False)
    varying = grouped.nunique(dropna=False) > 1
    frame = first.mask(varying) if bool(varying.to_numpy().any()) else first
    frame = frame.reset_index(drop=True)
    for col in set_to:
        dtype = base[col].dtype if pd.api.types.is_string_dtype(base[col].dtype) else object
        frame[col] = pd.Series([label] * len(frame), dtype=dtype)
    return frame[list(base.columns)], first.index.to_numpy()


def totals_from_redacted(tab: Table, primary: np.ndarray) -> np.ndarray:
    """OpenSAFELY: every total becomes the sum of the inner cells left after redaction.

    Parameters
    ----------
    tab
        The table from :func:`build_table`.
    primary
        Cells withheld by the primary rule.

    Returns
    -------
    numpy.ndarray
        ``tab.exact`` with every total recomputed from the inner cells not withheld.
    """
    inner = ~tab.is_total
    kept = np.where(inner & ~primary, tab.exact, 0.0)
    n_lines = len(tab.has_eq)
    by_row = np.bincount(tab.row_line, weights=kept, minlength=n_lines)
    by_col = np.bincount(tab.col_line, weights=kept, minlength=n_lines)
    by_tab = np.bincount(tab.line_table[tab.row_line], weights=kept, minlength=int(tab.line_table.max()) + 1)
    out = tab.exact.copy()
    row_kind = tab.line_kind[tab.row_line]
    col_kind = tab.line_kind[tab.col_line]
    row_tot = tab.is_total & (row_kind == _INNER_ROW)
    col_tot = tab.is_total & (col_kind == _INNER_COL)
    grand = tab.is_total & (row_kind == _TOTALS_ROW) & (col_kind == _TOTALS_COL)
    out[row_tot] = by_row[tab.row_line[row_tot]]
    out[col_tot] = by_col[tab.col_line[col_tot]]
    out[grand] = by_tab[tab.line_table[tab.row_line[grand]]]
    return out
