"""Disclosure control: small-number rule sets and sharing levels.

Partners pool counts (police crimes, GP registers, council services) into one profile. Before
anything leaves as a publishable output two gates apply:

* **small numbers** are controlled by a named rule set (:data:`RULE_SETS`, :func:`apply_rules`),
  with every suppression and rounding written to an audit log;
* **sharing levels** are respected: each dataset is ``open``, ``partner`` or ``restricted`` and each
  output is for the ``public``, for ``partner`` organisations or ``internal``
  (:func:`check_sharing`, :func:`filter_for_audience`, :func:`publication_marking`).

The published frame never carries the exact count: ``value_published`` is text, ``"*"`` for a
withheld figure, and a ``suppressed`` flag says the same thing, so a withheld cell cannot be read
as a zero or as missing data. Definitions: ``methods.md``, "Small-number disclosure control".
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd

from needskit._checks import as_list, require_choice, require_columns, require_frame, require_numeric
from needskit.errors import DisclosureError, NeedskitWarning, SchemaError, describe_values

__all__ = [
    "RuleSet",
    "RULE_SETS",
    "SHARING_LEVELS",
    "AUDIENCES",
    "SUPPRESSED",
    "apply_rules",
    "describe_rule",
    "published_percentages",
    "check_sharing",
    "filter_for_audience",
    "publication_marking",
]

SUPPRESSED = "*"
"""The mark a withheld figure carries in ``value_published`` and ``percent_published``."""

Totals = Literal["both", "rows", "columns"]
Sharing = Literal["open", "partner", "restricted"]
Audience = Literal["public", "partner", "internal"]

SHARING_LEVELS: tuple[str, ...] = ("open", "partner", "restricted")
AUDIENCES: tuple[str, ...] = ("public", "partner", "internal")
_ALLOWED: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "public": frozenset({"open"}),
        "partner": frozenset({"open", "partner"}),
        "internal": frozenset({"open", "partner", "restricted"}),
    }
)
_OUTPUT_COLUMNS = ("value_published", "suppressed", "is_total", "disclosure_rule")


# --------------------------------------------------------------------------------------------
# Rule sets


@dataclass(frozen=True)
class RuleSet:
    """A small-number disclosure rule: primary suppression, optional secondary suppression, rounding.

    Attributes
    ----------
    name
        Registry key, also written to ``disclosure_rule`` and the log.
    title
        Who uses the rule, for the methods statement (e.g. ``"NHS Digital"``).
    threshold
        Counts up to and including this are withheld (primary suppression).
    suppress_zero
        Whether a zero is withheld too (OpenSAFELY: "redact <= 7"); otherwise zero stays 0.
    rounding_base
        Published counts (not withheld) are rounded to the nearest multiple; ``None`` keeps exact.
    secondary
        Protect withheld cells from recovery by subtraction from published totals.
    totals_from_redacted
        Totals are recomputed from the cells left after withholding (OpenSAFELY), before rounding.
    """

    name: str
    title: str
    threshold: int
    suppress_zero: bool = False
    rounding_base: int | None = None
    secondary: bool = False
    totals_from_redacted: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.threshold, int | np.integer) or self.threshold < 0:
            raise SchemaError(
                "is not a count",
                where="RuleSet.threshold",
                expected="an integer >= 0",
                got=repr(self.threshold),
            )
        if self.rounding_base is not None and (
            not isinstance(self.rounding_base, int | np.integer) or self.rounding_base < 1
        ):
            raise SchemaError(
                "is not a rounding base",
                where="RuleSet.rounding_base",
                expected="None or an integer >= 1",
                got=repr(self.rounding_base),
            )
        if self.secondary and self.suppress_zero:
            raise SchemaError(
                "withholds zeros and uses secondary suppression",
                where=f"RuleSet {self.name!r}",
                expected="suppress_zero=False when secondary=True",
                got="both",
                hint="withheld cells that sum to zero along a published total are recovered exactly (all are 0)",
            )
        if self.secondary and self.totals_from_redacted:
            raise SchemaError(
                "combines secondary suppression with totals recomputed from redacted cells",
                where=f"RuleSet {self.name!r}",
                expected="one of secondary=True or totals_from_redacted=True",
                got="both",
                hint="totals built from redacted cells reveal nothing about them; secondary suppression is not needed",
            )

    @property
    def primary_reason(self) -> str:
        """``"primary: 1-7"`` (``"primary: 0-7"`` when zeros are withheld too)."""
        return f"primary: {0 if self.suppress_zero else 1}-{self.threshold}"


RULE_SETS: Mapping[str, RuleSet] = MappingProxyType(
    {
        "nhs_digital": RuleSet("nhs_digital", "NHS Digital", threshold=7, rounding_base=5),
        "opensafely": RuleSet(
            "opensafely",
            "OpenSAFELY",
            threshold=7,
            suppress_zero=True,
            rounding_base=5,
            totals_from_redacted=True,
        ),
        "lt5_secondary": RuleSet(
            "lt5_secondary", "fewer than 5 with secondary suppression", threshold=4, secondary=True
        ),
    }
)
"""Built-in rule sets by name. Pass your own :class:`RuleSet` to :func:`apply_rules` for house rules."""


def _resolve_rule(rule: str | RuleSet) -> RuleSet:
    if isinstance(rule, RuleSet):
        return rule
    require_choice(rule, list(RULE_SETS), argument="rule")
    return RULE_SETS[rule]


def describe_rule(rule: str | RuleSet) -> str:
    """One plain-English paragraph stating a rule set, for the methods appendix of a report.

    Parameters
    ----------
    rule
        A name in :data:`RULE_SETS` or a :class:`RuleSet`.

    Returns
    -------
    str
        The paragraph; built from the rule's settings, so custom rule sets are described too.

    Raises
    ------
    SchemaError
        If ``rule`` is not a known name.

    Example
    -------
    >>> describe_rule("nhs_digital").startswith("Small numbers were controlled with the NHS Digital rule")
    True
    """
    rs = _resolve_rule(rule)
    star = f"\u201c{SUPPRESSED}\u201d"
    text = [
        f"Small numbers were controlled with the {rs.title} rule (needskit rule set \u2018{rs.name}\u2019)."
    ]
    if rs.suppress_zero:
        text.append(
            f"Every count of {rs.threshold} or fewer, including zero, was withheld and is shown as {star}."
        )
    else:
        text.append(
            f"Counts from 1 to {rs.threshold} were withheld and are shown as {star}; zeros are shown as 0."
        )
    if rs.secondary:
        text.append(
            "Where a row or column is published with its total and only one of its figures had been withheld, "
            "its next smallest figure was withheld as well, repeating until every such row and column had none or "
            "at least two withheld figures; the pattern was then checked, and extended where needed, so that no "
            "withheld figure can be worked out exactly by adding and subtracting published rows, columns and totals."
        )
    if rs.rounding_base:
        text.append(
            f"All other counts were rounded to the nearest {rs.rounding_base} (a value exactly halfway is rounded up), "
            "so figures may not add up exactly to the totals shown."
        )
    if rs.totals_from_redacted:
        text.append("Totals were recalculated from the figures left after withholding, before rounding.")
    elif rs.rounding_base:
        text.append("Totals were calculated from the exact figures and then treated in the same way.")
    if rs.rounding_base:
        text.append("Percentages were calculated from the published, rounded figures.")
    text.append(
        f"A figure shown as {star} is not zero and is not missing: it was withheld to protect individuals."
    )
    return " ".join(text)


# --------------------------------------------------------------------------------------------
# apply_rules


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
    rs = _resolve_rule(rule)
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
        primary = _primary(exact, rs)
        secondary = np.zeros(len(x), dtype=bool)
        protects = np.full(len(x), -1, dtype=np.int64)
    else:
        assert rows is not None and columns is not None
        tab = _build_table(
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
        primary = _primary(tab.exact, rs)
        if rs.totals_from_redacted and mode != "none":
            tab.exact = _totals_from_redacted(tab, primary)
            primary = _primary(tab.exact, rs)
        exact = tab.exact
        if rs.secondary and mode != "none" and len(exact):
            withheld, protects = _secondary(tab, primary)
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
        published_num[rounded] = _round_half_up(exact[rounded], rs.rounding_base)
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


def _primary(x: np.ndarray, rs: RuleSet) -> np.ndarray:
    """Withheld by the primary rule. Non-integers are tested as rounded half up: x < threshold + 0.5."""
    with np.errstate(invalid="ignore"):
        small = x < rs.threshold + 0.5
        return small & (x >= 0) if rs.suppress_zero else small & (x > 0)


def _round_half_up(x: np.ndarray, base: int) -> np.ndarray:
    """Round to the nearest multiple of ``base``, halves up (7.5 -> 10, 12.5 -> 15), as Excel's MROUND."""
    return np.floor(x / base + 0.5) * base


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
# Tables: margins and line structure

_INNER_ROW, _TOTALS_ROW, _INNER_COL, _TOTALS_COL = 0, 1, 2, 3


@dataclass
class _Table:
    """Cells (inner then totals) and the lines they lie on.

    Each cell lies on one row line and one column line. Lines are numbered ``0..R-1`` inner rows,
    then the totals row of each table, then ``C`` inner columns, then the totals column of each
    table. A line is an *equation* when it is published with its total (its inner cells sum to
    its total cell).
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
                hint="drop the total rows: apply_rules computes the totals it publishes, so they are protected "
                "with the cells (or pass another total_label if this is a real category)",
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


def _build_table(
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
) -> _Table:
    """Validate the table structure, append the published totals and number the lines."""
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
    return _Table(
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


def _totals_from_redacted(tab: _Table, primary: np.ndarray) -> np.ndarray:
    """OpenSAFELY: every total becomes the sum of the inner cells left after redaction."""
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


# --------------------------------------------------------------------------------------------
# Secondary suppression


def _secondary(tab: _Table, primary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Secondary suppression: next-smallest rule to a fixed point, then bridge repair.

    Returns the withheld mask and, for each secondary cell, the cell it protects (else -1).
    """
    value, is_total = tab.exact, tab.is_total
    suppressed = primary.copy()
    protects = np.full(len(value), -1, dtype=np.int64)
    # Candidate order within a line: non-zero first, then smallest, inner before total, then position.
    rank = np.empty(len(value), dtype=np.int64)
    rank[np.lexsort((np.arange(len(value)), is_total, value, value == 0))] = np.arange(len(value))
    n_lines = len(tab.has_eq)
    phases = [(tab.row_line, tab.has_eq[tab.row_line]), (tab.col_line, tab.has_eq[tab.col_line])]
    stable = 0
    while stable < 2:  # alternate rows and columns until neither changes anything
        for line, eq in phases:
            count = np.bincount(line[eq & suppressed], minlength=n_lines)
            need = eq & (count[line] == 1)
            if not need.any():
                stable += 1
                continue
            stable = 0
            lone = np.full(n_lines, -1, dtype=np.int64)
            idx = np.flatnonzero(need & suppressed)
            lone[line[idx]] = idx
            cand = np.flatnonzero(need & ~suppressed)
            order = cand[np.lexsort((rank[cand], line[cand]))]
            first = np.r_[True, line[order][1:] != line[order][:-1]]
            chosen = order[first]
            suppressed[chosen] = True
            protects[chosen] = lone[line[chosen]]
    _repair_bridges(tab, suppressed, protects, rank)
    return suppressed, protects


def _repair_bridges(tab: _Table, suppressed: np.ndarray, protects: np.ndarray, rank: np.ndarray) -> None:
    """Withhold more cells until no withheld cell is a bridge of the withheld-cell graph (in place).

    Vertices are the equation lines; every line without an equation is merged into one free
    vertex per table (nothing constrains it). Withheld cells are edges between their two lines.
    The published figures fix a withheld value exactly iff its edge lies on no cycle.
    """
    n_lines = len(tab.has_eq)
    free = n_lines + tab.line_table
    vertex = np.where(tab.has_eq, np.arange(n_lines), free)
    vr, vc = vertex[tab.row_line], vertex[tab.col_line]
    n_vertices = n_lines + int(tab.line_table.max()) + 1
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n_vertices)]
    for k in np.flatnonzero(suppressed).tolist():
        a, b = int(vr[k]), int(vc[k])
        if a != b:
            adj[a].append((b, k))
            adj[b].append((a, k))
    bridges = _bridges(adj)
    if not bridges:
        return
    cell_table = tab.line_table[tab.row_line]
    order = np.argsort(cell_table, kind="stable")
    starts = np.searchsorted(cell_table[order], np.arange(int(cell_table.max()) + 2))
    side = np.zeros(n_vertices, dtype=np.int8)
    for e in bridges:
        u, v = int(vr[e]), int(vc[e])
        left = _reach(adj, u, banned=e)
        if v in left:  # an earlier repair already put it on a cycle
            continue
        right = _reach(adj, v, banned=e)
        side[list(left)] = 1
        side[list(right)] = 2
        t = int(cell_table[e])
        cells = order[starts[t] : starts[t + 1]]
        crossing = cells[(side[vr[cells]].astype(np.int16) * side[vc[cells]] == 2) & ~suppressed[cells]]
        side[list(left)] = 0
        side[list(right)] = 0
        # Never empty: u and v each have a second withheld edge (every equation line holds 0 or >= 2),
        # to v' on u's side and u' on v's side, and the cell (u', v') joins the sides unwithheld.
        assert len(crossing), "internal: no cell joins the two sides of a bridge"
        k = int(crossing[np.argmin(rank[crossing])])
        suppressed[k] = True
        protects[k] = e
        a, b = int(vr[k]), int(vc[k])
        adj[a].append((b, k))
        adj[b].append((a, k))


def _bridges(adj: list[list[tuple[int, int]]]) -> list[int]:
    """Edge ids of the bridges of a multigraph given as adjacency lists of (neighbour, edge id).

    Iterative Tarjan: an edge (p, v) of the DFS tree is a bridge when nothing below v reaches p
    or above by another edge. Parallel edges are kept apart by edge id.
    """
    n = len(adj)
    disc = [-1] * n
    low = [0] * n
    timer = 0
    out: list[int] = []
    for s in range(n):
        if disc[s] != -1 or not adj[s]:
            continue
        disc[s] = low[s] = timer
        timer += 1
        stack = [(s, -1, iter(adj[s]))]
        while stack:
            v, via, it = stack[-1]
            for w, k in it:
                if k == via:
                    continue
                if disc[w] == -1:
                    disc[w] = low[w] = timer
                    timer += 1
                    stack.append((w, k, iter(adj[w])))
                    break
                low[v] = min(low[v], disc[w])
            else:
                stack.pop()
                if stack:
                    p = stack[-1][0]
                    low[p] = min(low[p], low[v])
                    if low[v] > disc[p]:
                        out.append(via)
    return out


def _reach(adj: list[list[tuple[int, int]]], start: int, *, banned: int) -> set[int]:
    seen = {start}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w, k in adj[v]:
            if k != banned and w not in seen:
                seen.add(w)
                queue.append(w)
    return seen


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


# --------------------------------------------------------------------------------------------
# Percentages from published figures


def published_percentages(
    published: pd.DataFrame,
    *,
    within: str | Sequence[str],
    dimension: str,
    total_label: str = "Total",
    decimals: int = 1,
) -> pd.DataFrame:
    """Percentages recomputed from published (rounded) figures, as NHS Digital requires.

    Each cell is divided by the published total of its group: the cell of the same ``within``
    values whose ``dimension`` is ``total_label`` (e.g. within ``["area_code", "measure",
    "period"]``, dimension ``"category"``: each category's share of the area's total).

    Parameters
    ----------
    published
        First element returned by :func:`apply_rules` run with totals on ``dimension``.
    within
        Columns that identify a group sharing one denominator.
    dimension
        The column holding ``total_label`` on the denominator row.
    total_label
        Label of the total cell.
    decimals
        Decimal places of the published percentage.

    Returns
    -------
    pandas.DataFrame
        A copy of ``published`` with ``percent_published`` (str): the percentage to ``decimals``
        places, ``"*"`` when the cell or its total is withheld, ``"-"`` when the total is 0
        (undefined), missing when the cell itself is missing.

    Raises
    ------
    SchemaError
        Missing columns, a frame that is not a published frame, a group without its total or
        with more than one, or ``decimals`` below 0.

    Notes
    -----
    Computing from the rounded figures keeps every published percentage consistent with the
    published counts and cannot reveal a figure that rounding hid (NHS Digital, Hospital
    Episode Statistics analysis guide).

    Example
    -------
    >>> t = pd.DataFrame({"area_code": ["A", "A", "A"], "category": ["x", "y", "z"], "value": [3, 40, 12]})
    >>> pub, _ = apply_rules(t, rule="nhs_digital", rows="area_code", columns="category", totals="rows")
    >>> published_percentages(pub, within="area_code", dimension="category")["percent_published"].tolist()
    ['*', '72.7', '18.2', '100.0']
    """
    published = require_frame(published, name="published")
    keys = as_list(within)
    require_columns(published, [*keys, dimension], argument="within/dimension")
    require_columns(published, ["value_published", "suppressed"], argument="published frame")
    if dimension in keys:
        raise SchemaError("is also a within column", where="dimension", got=repr(dimension))
    if not isinstance(decimals, int | np.integer) or decimals < 0:
        raise SchemaError(
            "is not a number of places", where="decimals", expected="an integer >= 0", got=repr(decimals)
        )
    frame = published if keys else published.assign(_one_group=0)
    keys = keys or ["_one_group"]
    is_den = (frame[dimension].astype(str) == str(total_label)).to_numpy()
    den = frame.loc[is_den, [*keys, "value_published", "suppressed"]]
    dup = den.duplicated(keys, keep=False)
    if dup.any():
        raise SchemaError(
            "has more than one total per group",
            where=f"within={keys!r}",
            expected=f"one {dimension}={total_label!r} row per group",
            got=f"{int(dup.sum())} total rows share their group, e.g. {den.loc[dup, keys].head(3).to_dict('records')}",
            hint="add the columns that separate tables (measure, period) to within=",
        )
    den = den.rename(columns={"value_published": "_den_text", "suppressed": "_den_suppressed"})
    merged = frame[keys].merge(den, on=keys, how="left", sort=False)
    lacking = merged["_den_text"].isna() & merged["_den_suppressed"].isna()
    if lacking.any():
        raise SchemaError(
            "has groups without a published total",
            where=f"dimension={dimension!r}",
            expected=f"a {dimension}={total_label!r} row in every group",
            got=f"{int(lacking.sum())} cells, e.g. {frame.loc[lacking.to_numpy(), keys].head(3).to_dict('records')}",
            hint="run apply_rules with totals covering this dimension",
        )
    num_sup = published["suppressed"].to_numpy(dtype=bool)
    den_sup = merged["_den_suppressed"].to_numpy(dtype=bool)
    num = pd.to_numeric(published["value_published"].where(~num_sup), errors="coerce").to_numpy(dtype=float)
    den_v = pd.to_numeric(merged["_den_text"].where(~den_sup), errors="coerce").to_numpy(dtype=float)
    out_text = np.full(len(published), None, dtype=object)
    withheld = num_sup | den_sup
    out_text[withheld] = SUPPRESSED
    zero = ~withheld & (den_v == 0) & ~np.isnan(num)
    out_text[zero] = "-"
    ok = ~withheld & ~zero & ~np.isnan(num) & ~np.isnan(den_v)
    out_text[ok] = np.char.mod(f"%.{int(decimals)}f", 100.0 * num[ok] / den_v[ok])
    out = published.copy()
    out["percent_published"] = pd.Series(out_text, index=out.index, dtype="str")
    return out


# --------------------------------------------------------------------------------------------
# Sharing levels


def _require_audience(audience: str) -> None:
    require_choice(audience, AUDIENCES, argument="audience")


def _unknown_levels(levels: Mapping[str, object]) -> None:
    bad = {name: level for name, level in levels.items() if level not in SHARING_LEVELS}
    if bad:
        raise SchemaError(
            "has unknown sharing levels",
            where="sharing",
            expected=f"one of {list(SHARING_LEVELS)} for every dataset",
            got=", ".join(f"{name!r}: {level!r}" for name, level in list(bad.items())[:5])
            + (f" and {len(bad) - 5} more" if len(bad) > 5 else ""),
            hint="set `sharing` for each dataset in conf/catalog.yml",
        )


def check_sharing(datasets_used: Mapping[str, str], *, audience: Audience) -> None:
    """Refuse an output whose datasets may not reach ``audience``.

    ``restricted`` data never goes into a publishable output (public or partner); ``partner``
    data only into outputs for partners and internal ones; ``open`` data anywhere.

    Parameters
    ----------
    datasets_used
        Dataset name -> sharing level (``"open"``, ``"partner"``, ``"restricted"``).
    audience
        ``"public"``, ``"partner"`` or ``"internal"``.

    Raises
    ------
    DisclosureError
        If any dataset is above the audience's level; the message names every such dataset.
    SchemaError
        Unknown audience or sharing level.

    Example
    -------
    >>> check_sharing({"police_crimes": "open", "gp_registers": "partner"}, audience="partner")
    """
    _require_audience(audience)
    if not isinstance(datasets_used, Mapping):
        raise SchemaError(
            "is not a mapping",
            where="datasets_used",
            expected="a dict of dataset name -> sharing level",
            got=type(datasets_used).__name__,
        )
    _unknown_levels(datasets_used)
    allowed = _ALLOWED[audience]
    refused = {name: level for name, level in datasets_used.items() if level not in allowed}
    if refused:
        restricted = [n for n, lv in refused.items() if lv == "restricted"]
        what = (
            "restricted data cannot be written into a publishable output"
            if restricted
            else f"partner-only data cannot be published for the {audience}"
        )
        raise DisclosureError(
            what,
            where=f"audience={audience!r}",
            expected=f"only {' or '.join(sorted(allowed))} data",
            got=", ".join(f"{name!r} ({level})" for name, level in refused.items()),
            hint="drop these datasets (filter_for_audience), or produce the output for "
            + ("audience='internal'" if restricted else "audience='partner' or 'internal'"),
        )


def filter_for_audience(
    df: pd.DataFrame,
    *,
    audience: Audience,
    sharing: str | Mapping[str, str] = "sharing",
    dataset: str = "dataset",
    errors: Literal["drop", "raise"] = "drop",
) -> pd.DataFrame:
    """Keep only the rows whose dataset may reach ``audience``.

    Parameters
    ----------
    df
        Pooled long frame with a ``dataset`` column (and a ``sharing`` column, unless a mapping
        is given). Not modified.
    audience
        ``"public"``, ``"partner"`` or ``"internal"``.
    sharing
        The column holding each row's sharing level, or a mapping dataset -> level.
    dataset
        The column naming each row's dataset.
    errors
        ``"drop"``: drop rows above the audience's level with a :class:`NeedskitWarning` naming
        the datasets; ``"raise"``: raise :class:`DisclosureError` instead.

    Returns
    -------
    pandas.DataFrame
        The allowed rows (original index and columns). ``attrs["audience"]`` and
        ``attrs["publication_marking"]`` (:func:`publication_marking`) are set for the writer.

    Raises
    ------
    DisclosureError
        ``errors="raise"`` and some rows are above the audience's level.
    SchemaError
        Unknown audience or errors option, missing columns, a dataset absent from the mapping,
        an unknown or missing sharing level.

    Notes
    -----
    Filter first, then :func:`apply_rules` for ``public`` and ``partner`` outputs; ``internal``
    outputs keep exact figures and carry the "not for publication" marking.

    Example
    -------
    >>> pooled = pd.DataFrame({"dataset": ["crimes", "gp"], "sharing": ["open", "partner"], "value": [12, 30]})
    >>> len(filter_for_audience(pooled, audience="partner"))
    2
    """
    df = require_frame(df)
    _require_audience(audience)
    require_choice(errors, ["drop", "raise"], argument="errors")
    if isinstance(sharing, Mapping):
        require_columns(df, [dataset], argument="dataset")
        names = df[dataset]
        unmapped = sorted({str(v) for v in names[~names.isin(list(sharing))].tolist()})
        if unmapped:
            raise SchemaError(
                "has datasets without a sharing level",
                where="sharing",
                expected=f"a level for every value of column {dataset!r}",
                got=describe_values(unmapped),
                hint="add them to the mapping (or to conf/catalog.yml)",
            )
        levels = names.map(dict(sharing))
    else:
        require_columns(df, [sharing], argument="sharing")
        levels = df[sharing]
        names = df[dataset] if dataset in df.columns else levels.astype(str).radd("rows with sharing ")
    bad = levels[~levels.isin(SHARING_LEVELS)]
    if len(bad):
        raise SchemaError(
            "has unknown or missing sharing levels",
            where="sharing" if isinstance(sharing, Mapping) else f"column {sharing!r}",
            expected=f"one of {list(SHARING_LEVELS)}",
            got=f"{describe_values(bad.astype(object).tolist())} at rows {list(bad.index[:5])}",
        )
    keep = levels.isin(sorted(_ALLOWED[audience])).to_numpy()
    if not keep.all():
        refused = dict(zip(names[~keep].astype(str).tolist(), levels[~keep].tolist(), strict=True))
        if errors == "raise":
            check_sharing(refused, audience=audience)
        counts = names[~keep].astype(str).value_counts()
        warnings.warn(
            f"filter_for_audience(audience={audience!r}): dropped {int((~keep).sum())} rows from "
            + ", ".join(f"{n!r} ({refused[n]}, {int(c)} rows)" for n, c in counts.items()),
            NeedskitWarning,
            stacklevel=2,
        )
    out = df.loc[keep].copy()
    out.attrs["audience"] = audience
    out.attrs["publication_marking"] = publication_marking(audience)
    return out


_MARKINGS: Mapping[str, str] = MappingProxyType(
    {
        "public": "OFFICIAL \u2014 PUBLIC. Open and partner-approved data only; small numbers have been "
        "controlled before publication and \u201c*\u201d marks a withheld figure.",
        "partner": "OFFICIAL-SENSITIVE \u2014 PARTNERS ONLY. For the organisations in the data sharing agreement; "
        "do not publish or pass on. Small numbers have been controlled; \u201c*\u201d marks a withheld figure.",
        "internal": "OFFICIAL-SENSITIVE \u2014 INTERNAL: NOT FOR PUBLICATION. Contains exact figures, including "
        "small numbers, and may contain restricted data; do not share outside the producing organisation.",
    }
)


def publication_marking(audience: Audience) -> str:
    """The banner an output for ``audience`` must carry (top of every page, sheet and file).

    Raises
    ------
    SchemaError
        Unknown audience.

    Example
    -------
    >>> "NOT FOR PUBLICATION" in publication_marking("internal")
    True
    """
    _require_audience(audience)
    return _MARKINGS[audience]
