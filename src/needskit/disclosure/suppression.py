"""apply_rules: a small-number rule set applied to a long table of counts, with its audit log.

The steps, in order: check the counts, build the tables and their totals
(:mod:`needskit.disclosure.tables`), primary suppression and, for rules that need it, totals
from redacted cells or secondary suppression (:mod:`needskit.disclosure.secondary`), rounding,
the published text, and one log row per action.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from needskit._checks import as_list, require_choice, require_columns, require_frame, require_numeric
from needskit.disclosure.rules import (
    SUPPRESSED,
    RuleSet,
    resolve_rule,
    round_half_up,
    withheld_by_primary,
)
from needskit.disclosure.secondary import secondary_suppression
from needskit.disclosure.tables import build_table, totals_from_redacted
from needskit.errors import NeedskitWarning, SchemaError, describe_values

__all__ = ["apply_rules"]

Totals = Literal["both", "rows", "columns"]

_OUTPUT_COLUMNS = ("value_published", "suppressed", "is_total", "disclosure_rule")


def apply_rules(
    df: pd.DataFrame,
    *,
    rule: str | RuleSet = "nhs_digital",
    value: str = "value",
    rows: str | None = None,
    columns: str | None = None,
    by: str | Sequence[str] | None = None,
    totals: bool | Totals | None = None,
    total_label: str = "Total",
    allow_fractional: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply a small-number rule set to a long table of counts, before publication.

    Parameters
    ----------
    df
        Long table of counts, one row per cell (e.g. ``area_code``, ``measure``, ``category``,
        ``period``, ``value``, ``dataset``). Not modified.
    rule
        ``"nhs_digital"``, ``"opensafely"``, ``"lt5_secondary"`` (see :data:`RULE_SETS`) or a
        :class:`RuleSet`.
    value
        The count column.
    rows, columns
        The two dimensions of each table (e.g. ``rows="area_code"``, ``columns="category"``).
        Required for rules with secondary suppression and whenever totals are published;
        without them ``nhs_digital`` and ``opensafely`` act cell by cell.
    by
        Columns that separate tables (e.g. ``["measure", "period"]``); each combination is one
        rows x columns table, protected on its own.
    totals
        Which totals the published table carries; ``apply_rules`` computes them and appends
        them as cells labelled ``total_label``. ``"both"`` (or ``True``): a total per row, per
        column and a grand total; ``"rows"``: a total for each row (e.g. per area, across
        categories); ``"columns"``: a total for each column; ``False``: none. Default: ``"both"``
        when ``rows`` and ``columns`` are given, else none.
    total_label
        Label of the total cells in the ``rows`` / ``columns`` columns. The input must not
        already hold it: give the table without totals and let ``apply_rules`` add them, so the
        totals are protected together with the cells.
    allow_fractional
        Accept non-integer counts (apportioned or modelled). The primary test then applies to the
        value rounded half up to a whole number (``nhs_digital``: ``0 < x < 7.5`` is withheld,
        including ``0.3``, which is not a true zero), and rounding to 5 rounds halves up
        (``7.5 -> 10``, ``12.5 -> 15``, ``17.4 -> 15``).

    Returns
    -------
    published : pandas.DataFrame
        The input rows (then any appended totals) on a new RangeIndex, every input column except
        ``value``, which is dropped so exact figures cannot travel with the output, plus:

        - ``value_published`` (str): the published figure as text, ``"*"`` when withheld; missing
          only where the input count was missing (cell-by-cell mode).
        - ``suppressed`` (bool): the figure is withheld.
        - ``is_total`` (bool): a total appended by ``apply_rules``.
        - ``disclosure_rule`` (str): the rule set's name.

        Other columns of appended totals hold the value shared by every cell the total sums (e.g.
        ``area_name`` on a per-area total), else missing.
    log : pandas.DataFrame
        One row per action, for the audit trail (internal; it holds no exact counts): the
        identifying columns of ``published`` (all but the four above), ``is_total``, ``rule``,
        ``action`` (``"primary suppression"``, ``"secondary suppression"``, ``"rounded"``),
        ``reason`` (``"primary: 1-7"``, ``"secondary: protects area_code='E01...', category='b'"``,
        ``"rounded to nearest 5"``) and ``value_published``.

    Raises
    ------
    SchemaError
        Unknown rule, missing columns, overlapping roles, ``rows`` without ``columns``, a
        non-numeric, negative, missing (in a table) or non-integer count, missing labels, the
        ``total_label`` already present, duplicated cells, or an incomplete table under a rule
        with secondary suppression.

    Warns
    -----
    NeedskitWarning
        How many cells were withheld (primary and secondary), when any were.

    Notes
    -----
    *nhs_digital*: 0 stays 0, 1-7 -> ``"*"``, others rounded to the nearest 5; totals are summed
    from exact counts and then treated the same way (rounded independently), so rounded cells
    need not add up to rounded totals. Use :func:`published_percentages` for percentages.

    *opensafely*: every count <= 7, zero included, is redacted; totals are the sums of the
    cells left after redaction, then redacted if <= 7; everything published is rounded to 5.

    *lt5_secondary*: 1-4 withheld. The published table is seen as its cells plus its totals, and
    every row and column that has a published total is an equation (cells sum to the total,
    the totals row and column included when there is a grand total). (1) While some equation
    has exactly one withheld figure, withhold its smallest other figure, preferring a non-zero
    and an inner cell (rows first, then columns, to a fixed point). (2) That rule is not enough:
    two withheld blocks joined by a single withheld cell leave that cell determined even though
    every line holds two or more withheld figures. Read the withheld cells as the edges of a
    graph between equations; a withheld value is fixed by the equations exactly when its edge
    is a *bridge* (lies on no cycle). Each bridge is removed by also withholding the smallest
    published cell that joins the two sides; adding cells never creates a bridge, so this ends.
    Zeros are chosen only when no positive cell qualifies (never in the tests), so withheld
    cells are positive, each can move both ways along a cycle, and its feasible range given
    all published figures is a non-trivial interval (audited by linear programming on seeded
    random tables in the tests). The guarantee is that no withheld figure is determined, not a
    minimum width: a withheld 3 may be known to lie in 0-7.

    Hierarchies: ``by`` gives one level (e.g. ``by="district"``, ``rows="lsoa_code"`` publishes
    each district's table with its LSOA totals, district-by-category totals and district
    total, all protected). *Not covered*: linked tables that share cells across levels, such as
    the district table and a county table summing it, or LSOA and MSOA tables published side
    by side: there a figure lies in more than two published equations, which this graph
    method does not model. Publish only one level, or protect the higher level separately and
    check the pair by hand.

    References: NHS Digital, Hospital Episode Statistics analysis guide (small numbers);
    OpenSAFELY output-checking guidance (redact <= 7, round to 5); Hundepool et al.,
    *Statistical Disclosure Control* (2012), ch. 4 (secondary suppression, audit by LP).

    Example
    -------
    >>> counts = pd.DataFrame({"area_code": ["A", "B", "C", "D"], "value": [0, 3, 12, 13]})
    >>> pub, log = apply_rules(counts, rule="nhs_digital")  # warns: 1 of 4 cells withheld
    >>> pub["value_published"].tolist(), log["reason"].tolist()[:2]
    (['0', '*', '10', '15'], ['primary: 1-7', 'rounded to nearest 5'])
    >>> t = pd.DataFrame({"area_code": ["A", "A", "B", "B"], "category": ["x", "y", "x", "y"],
    ...                   "value": [3, 40, 25, 30]})
    >>> pub, log = apply_rules(t, rule="lt5_secondary", rows="area_code", columns="category")
    >>> pub.loc[pub["is_total"], "value_published"].tolist()  # inner cells all withheld
    ['43', '55', '28', '70', '98']
    """
    df = require_frame(df)
    rs = resolve_rule(rule)
    by_cols = as_list(by)
    require_columns(df, [value], argument="value")
    require_columns(df, [c for c in (rows, columns) if c is not None], argument="rows/columns")
    require_columns(df, by_cols, argument="by")
    mode = _resolve_totals(totals, rows=rows, columns=columns)
    table = rows is not None or columns is not None or rs.secondary or mode != "none"
    if table and (rows is None or columns is None):
        raise SchemaError(
            "needs both rows and columns",
            where=f"rule={rs.name!r}" if rs.secondary else "rows/columns",
            expected="rows=<column> and columns=<column> naming the table's two dimensions",
            got=f"rows={rows!r}, columns={columns!r}",
            hint="e.g. rows='area_code', columns='category', by=['measure', 'period']",
        )
    roles = [value, *by_cols] + ([rows, columns] if table else [])
    if len(set(roles)) != len(roles):
        raise SchemaError(
            "gives one column two roles",
            where="value/rows/columns/by",
            expected="distinct columns",
            got=f"value={value!r}, rows={rows!r}, columns={columns!r}, by={by_cols!r}",
        )
    clash = [c for c in _OUTPUT_COLUMNS if c in df.columns]
    if clash:
        raise SchemaError(
            "already has columns apply_rules writes",
            where="df",
            expected=f"none of {list(_OUTPUT_COLUMNS)}",
            got=repr(clash),
            hint="is this frame already published? apply the rules to the exact counts",
        )
    x = _check_counts(df, value=value, allow_missing=not table, allow_fractional=allow_fractional)

    if not table:
        cells = df[[c for c in df.columns if c != value]].reset_index(drop=True)
        exact = x
        is_total = np.zeros(len(x), dtype=bool)
        primary = withheld_by_primary(exact, rs)
        secondary = np.zeros(len(x), dtype=bool)
        protects = np.full(len(x), -1, dtype=np.int64)
    else:
        assert rows is not None and columns is not None
        tab = build_table(
            df,
            x,
            rs=rs,
            value=value,
            rows=rows,
            columns=columns,
            by=by_cols,
            mode=mode,
            total_label=total_label,
        )
        cells, is_total = tab.cells, tab.is_total
        primary = withheld_by_primary(tab.exact, rs)
        if rs.totals_from_redacted and mode != "none":
            tab.exact = totals_from_redacted(tab, primary)
            primary = withheld_by_primary(tab.exact, rs)
        exact = tab.exact
        if rs.secondary and mode != "none" and len(exact):
            withheld, protects = secondary_suppression(tab, primary)
        else:
            withheld, protects = primary.copy(), np.full(len(exact), -1, dtype=np.int64)
        secondary = withheld & ~primary

    suppressed = primary | secondary
    missing = np.isnan(exact)
    shown = ~suppressed & ~missing
    published_num = exact.copy()
    rounded = np.zeros(len(exact), dtype=bool)
    if rs.rounding_base:  # zero stays 0: it is neither withheld nor rounded
        rounded = shown & (exact > 0)
        published_num[rounded] = round_half_up(exact[rounded], rs.rounding_base)
    text = _format(published_num, suppressed=suppressed, missing=missing)

    published = cells.copy()
    published["value_published"] = pd.Series(text, dtype="str")
    published["suppressed"] = suppressed
    published["is_total"] = is_total
    published["disclosure_rule"] = pd.Series([rs.name] * len(published), dtype="str")

    log = _build_log(
        published,
        rs=rs,
        primary=primary,
        secondary=secondary,
        rounded=rounded,
        protects=protects,
        rows=rows,
        columns=columns,
    )
    n_sup = int(suppressed.sum())
    if n_sup:
        n_round = int(rounded.sum())
        warnings.warn(
            f"apply_rules(rule={rs.name!r}): {n_sup} of {len(published)} cells withheld "
            f"({int(primary.sum())} primary, {int(secondary.sum())} secondary)"
            + (f"; {n_round} rounded to nearest {rs.rounding_base}" if rs.rounding_base else "")
            + "; every action is in the returned log",
            NeedskitWarning,
            stacklevel=2,
        )
    published.attrs["disclosure_rule"] = rs.name
    return published, log


def _resolve_totals(totals: bool | str | None, *, rows: str | None, columns: str | None) -> str:
    if totals is None:
        return "both" if rows is not None and columns is not None else "none"
    if totals is True:
        return "both"
    if totals is False:
        return "none"
    require_choice(totals, ["both", "rows", "columns", True, False], argument="totals")
    return str(totals)


def _check_counts(df: pd.DataFrame, *, value: str, allow_missing: bool, allow_fractional: bool) -> np.ndarray:
    series = df[value]
    if pd.api.types.is_bool_dtype(series):
        raise SchemaError(
            "is boolean", where=f"column {value!r}", expected="counts", got=f"dtype {series.dtype}"
        )
    require_numeric(df, [value], allow_missing=allow_missing)
    x = pd.to_numeric(series).to_numpy(dtype=float, na_value=np.nan)
    bad = np.flatnonzero(x < 0)
    if len(bad):
        raise SchemaError(
            "has negative counts",
            where=f"column {value!r}",
            expected="counts of zero or more",
            got=f"{describe_values(x[bad].tolist())} at rows {list(df.index[bad[:5]])}",
        )
    bad = np.flatnonzero(~np.isfinite(x) & ~np.isnan(x))
    if len(bad):
        raise SchemaError(
            "has infinite counts", where=f"column {value!r}", got=f"rows {list(df.index[bad[:5]])}"
        )
    if not allow_fractional:
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(np.mod(x, 1) != 0)
        bad = bad[~np.isnan(x[bad])]
        if len(bad):
            raise SchemaError(
                "has non-integer counts",
                where=f"column {value!r}",
                expected="whole numbers",
                got=f"{describe_values(x[bad].tolist())} at rows {list(df.index[bad[:5]])}",
                hint="pass allow_fractional=True for apportioned or modelled counts",
            )
    return x


def _format(x: np.ndarray, *, suppressed: np.ndarray, missing: np.ndarray) -> np.ndarray:
    out = np.full(len(x), SUPPRESSED, dtype=object)
    show = ~suppressed & ~missing
    whole = show & (np.mod(np.where(show, x, 0), 1) == 0)
    out[whole] = x[whole].astype(np.int64).astype(str)
    frac = show & ~whole
    out[frac] = np.char.mod("%.10g", x[frac])
    out[missing & ~suppressed] = None
    return out


# --------------------------------------------------------------------------------------------
# Audit log


def _build_log(
    published: pd.DataFrame,
    *,
    rs: RuleSet,
    primary: np.ndarray,
    secondary: np.ndarray,
    rounded: np.ndarray,
    protects: np.ndarray,
    rows: str | None,
    columns: str | None,
) -> pd.DataFrame:
    keys = [c for c in published.columns if c not in _OUTPUT_COLUMNS]
    idx_p, idx_s, idx_r = np.flatnonzero(primary), np.flatnonzero(secondary), np.flatnonzero(rounded)
    reasons_s: list[str] = []
    if len(idx_s):
        lab_r = published[rows].to_numpy(dtype=object)
        lab_c = published[columns].to_numpy(dtype=object)
        reasons_s = [
            f"secondary: protects {rows}={lab_r[p]!r}, {columns}={lab_c[p]!r}"
            for p in protects[idx_s].tolist()
        ]
    if rs.rounding_base and rs.totals_from_redacted:
        tot = published["is_total"].to_numpy()[idx_r]
        reason_r = np.where(
            tot,
            f"total of unredacted cells, rounded to nearest {rs.rounding_base}",
            f"rounded to nearest {rs.rounding_base}",
        ).tolist()
    else:
        reason_r = [f"rounded to nearest {rs.rounding_base}"] * len(idx_r)
    index = np.concatenate([idx_p, idx_s, idx_r])
    log = published.iloc[index][[*keys, "is_total", "value_published"]].reset_index(drop=True)
    log.insert(len(keys) + 1, "rule", pd.Series([rs.name] * len(index), dtype="str"))
    log.insert(
        len(keys) + 2,
        "action",
        pd.Series(
            ["primary suppression"] * len(idx_p)
            + ["secondary suppression"] * len(idx_s)
            + ["rounded"] * len(idx_r),
            dtype="str",
        ),
    )
    log.insert(
        len(keys) + 3,
        "reason",
        pd.Series([rs.primary_reason] * len(idx_p) + reasons_s + list(reason_r), dtype="str"),
    )
    return log
