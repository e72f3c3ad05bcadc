"""How the commissioning reports word and lay out what they show: headings, tables, labels, methods.

The resource map, commissioning priorities and outcomes monitoring reports (notebooks ``03`` to
``05``) show DataFrames through :func:`show_table` (readable headings, £ and thousands
formatted), head every report with :func:`report_title`, mark anything built on made-up data
with :data:`ILLUSTRATIVE_LABEL` (:func:`data_label`) and print a methods paragraph per report
(:func:`methods_text`). Nothing here reads the store.

Every report table (these and the needs profile's indicator table) is laid out by
:func:`lay_out`: columns of figures are right-aligned in tabular figures and never wrapped, text
wraps only between words, so that WeasyPrint's automatic table layout sizes each column from its
content on A4 (``assets/print.css``) as the browser does on screen (``assets/report.css``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from needskit._checks import require_columns, require_frame
from needskit.config.catalog import THEMES
from needskit.errors import ReportError
from needskit.reports.context import AUDIENCE_WORDS, Note, ReportContext
from needskit.safe_text import SafeStyler, escape_markdown, styled

__all__ = [
    "ILLUSTRATIVE_LABEL",
    "data_label",
    "theme_names",
    "in_words",
    "shorten",
    "report_title",
    "show_table",
    "lay_out",
    "figures",
    "money",
    "methods_text",
    "unlocated_sentence",
    "why_empty",
]

ILLUSTRATIVE_LABEL = "ILLUSTRATIVE"
"""The word every table, chart and sentence built on made-up data carries."""

_MONEY = ("spend", "budget", "allocation", "cost", "gbp", "difference_", "range", "pot", "(£)")
_WHOLE = (
    "population",
    "residents",
    "n_",
    "crimes",
    "services",
    "neighbourhoods",
    "partners",
    "charted",
    "points",
)


def data_label(df: pd.DataFrame) -> str:
    """``" (includes ILLUSTRATIVE data)"`` when any row of ``df`` is illustrative, else ``""``: for titles.

    Parameters
    ----------
    df
        Any table; an ``illustrative`` (bool) or ``data_status`` column is looked at.

    Returns
    -------
    str
    """
    flags = []
    if "illustrative" in df.columns:
        flags.append(bool(df["illustrative"].astype(bool).any()))
    if "data_status" in df.columns:
        flags.append(bool(df["data_status"].astype(str).str.contains(ILLUSTRATIVE_LABEL).any()))
    return f" (includes {ILLUSTRATIVE_LABEL} data)" if any(flags) else ""


def theme_names(themes: pd.Series) -> pd.Series:
    """Catalogue theme keys as their names (:data:`needskit.config.THEMES`); unknown keys kept."""
    return themes.map(THEMES).fillna(themes)


def unlocated_sentence(
    unlocated: Mapping[str, Mapping[str, str]], *, service_types: Sequence[str] | None = None
) -> str:
    """Why the register has none of some service types: their sources could not be located.

    Parameters
    ----------
    unlocated
        ``service_type -> {"title": source title, "reason": why, "hint": what to do}`` (the
        ``attrs["unlocated"]`` of :func:`needskit.reports.resource_map.register`'s services).
    service_types
        Only these types (default all).

    Returns
    -------
    str
        E.g. "GP practices (NHS ODS epraccur) could not be located: no postcode directory
        given." — one sentence per reason; "" when nothing is unlocated.
    """
    wanted = list(unlocated) if service_types is None else [t for t in service_types if t in unlocated]
    by_reason: dict[str, list[str]] = {}
    for kind in wanted:
        known = unlocated[kind]
        titles = by_reason.setdefault(str(known.get("reason", "")), [])
        if known.get("title") not in titles:
            titles.append(str(known.get("title", kind)))
    return " ".join(
        f"{' and '.join(titles)} could not be located{': ' + reason if reason else ''}."
        for reason, titles in by_reason.items()
    )


def why_empty(df: pd.DataFrame, why: str) -> pd.DataFrame:
    """``df`` with ``attrs["why_empty"]`` set: the sentence :func:`show_table` shows instead of
    a table with no rows."""
    df.attrs["why_empty"] = why
    return df


def shorten(text: str, *, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def report_title(ctx: ReportContext, *, report: str) -> str:
    """The report's heading as markdown: ``## <area>: <report>, <period>`` and who it is for.

    Parameters
    ----------
    ctx
        The report's context (area, period, partnership, audience and disclosure rule).
    report
        What the report is, in words (``"resource map"``).

    Returns
    -------
    str
        Markdown: the heading, then the partnership's name, the audience and, for published
        reports, the small-number rule (every name escaped: text, not markup).

    Example
    -------
    >>> report_title(ctx, report="resource map").splitlines()[0]  # doctest: +SKIP
    '## <area name>: resource map, <period>'
    """
    audience = AUDIENCE_WORDS[ctx.audience]
    rule = f" · small numbers: {escape_markdown(ctx.rule)}" if ctx.audience != "internal" and ctx.rule else ""
    partnership = f"{escape_markdown(ctx.partnership)} · " if ctx.partnership else ""
    area, period = escape_markdown(ctx.area_name), escape_markdown(ctx.period)
    return f"## {area}: {escape_markdown(report)}, {period}\n\n{partnership}{audience}{rule}"


def money(value: float, digits: int = 0) -> str:
    """``£1,234`` (``−£50`` for a negative amount); ``""`` for a missing one."""
    if pd.isna(value):
        return ""
    return f"{'−' if value < 0 else ''}£{abs(value):,.{digits}f}"


def _column_format(name: str, series: pd.Series) -> Any:
    """A format for a numeric column, chosen from its name (shares, money, metres, counts)."""
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    lowered = name.lower()
    if "year" in lowered and pd.api.types.is_integer_dtype(series):
        return "{:.0f}"  # 2025, not 2,025
    if "share" in lowered:
        return "{:.1%}"
    if any(key in lowered for key in _MONEY):
        return (lambda v: money(v, 2)) if "per_head" in lowered else money
    if "percentile" in lowered or "score" in lowered and "imd" not in lowered:
        return "{:,.2f}"
    if lowered.endswith("_m") or lowered.endswith("(m)"):
        return "{:,.0f}"
    if "per_" in lowered or "per " in lowered:  # a rate (services per 1,000), not a count
        return "{:,.1f}"
    if pd.api.types.is_integer_dtype(series) or lowered.startswith(_WHOLE) or lowered.endswith(_WHOLE):
        return "{:,.0f}"
    return "{:,.1f}"


# words written in capitals in a heading, and a column name's unit suffix as the heading shows it
_ACRONYMS = {
    "gp": "GP",
    "imd": "IMD",
    "iod": "IoD",
    "nhs": "NHS",
    "lsoa": "LSOA",
    "msoa": "MSOA",
    "id": "ID",
    "ids": "IDs",
    "ods": "ODS",
    "icb": "ICB",
    "vcse": "VCSE",
    "sii": "SII",
    "rii": "RII",
    "spc": "SPC",
    "2sfca": "2SFCA",
    "ci": "CI",
}
_UNITS = {"m": "(m)", "km": "(km)", "km2": "(km²)", "gbp": "(£)", "pct": "(%)"}


def in_words(values: pd.Series) -> pd.Series:
    """Codes written for machines as words for readers: ``gp_practice`` -> ``GP practice``,
    ``central_government`` -> ``central government``, ``nhs`` -> ``NHS`` (missing kept)."""

    def one(value: Any) -> Any:
        if pd.isna(value):
            return value
        return " ".join(_ACRONYMS.get(w, w) for w in str(value).replace("_", " ").split())

    return values.map(one)


def _heading(column: str) -> str:
    """A column name as a heading: ``supply_per_1000`` -> ``Supply per 1,000``,
    ``gp_practice_m`` -> ``GP practice (m)``, ``spend_gbp`` -> ``Spend (£)``,
    ``share_high_need`` -> ``Share high need (%)``, ``n_services`` -> ``Services (number)``; a
    column that is already a label (capitals or spaces, e.g. a ward name) is kept as it is, its
    first letter made a capital."""
    if column != column.lower() or " " in column:
        return column[:1].upper() + column[1:]
    text = column.replace("_per_1000", " per 1,000").replace("_per_100k", " per 100,000")
    words = [w for w in text.split("_") if w]
    if not words:
        return column
    unit = ""
    if len(words) > 1 and words[-1] in _UNITS:
        unit = _UNITS[words.pop()]
    elif "share" in words:
        unit = "(%)"
    if words[0] == "n" and len(words) > 1:
        words = words[1:]
        unit = unit or "(number)"
    words = [_ACRONYMS.get(w, w) for w in words]
    first = words[0]
    words[0] = first if first in _ACRONYMS.values() else first[:1].upper() + first[1:]
    return " ".join([*words, unit]) if unit else " ".join(words)


TABLE_CLASS = "needskit-table"
"""The class of every report table laid out by :func:`lay_out` (``print.css``, ``report.css``)."""

# The A4 text width (210 mm less 2 x 17 mm margins, print.css) in ems of each table type size
# of print.css, the padding of a column in those ems, and the width of a character (DejaVu Sans:
# digits 0.64 em, lower case about 0.6 em; bold headings a little wider).
_PRINT_WIDTH_MM = 176.0
_DENSITY = {"": (7.5, 3.2), "compact": (6.5, 2.0), "dense": (6.0, 1.2)}  # type size pt, padding mm
_CHAR_EM, _BOLD = 0.62, 1.08
_BREAK = re.compile(r"\s+|(?<=-)")  # where a browser may wrap text: spaces, after a hyphen


def _density(styler: SafeStyler, figures: Sequence[str], whole: Sequence[str]) -> str:
    """The type size class at which the table's narrowest layout fits the A4 text width.

    Each column is at least as wide as its longest heading word, its longest figure or whole
    cell, or its longest word of text (the min-content width of automatic table layout);
    ``"tight"`` when even the densest size does not fit (text may then break inside a word).
    """
    rows = [line.split("\t") for line in styler.to_string(delimiter="\t").splitlines()]
    if not rows:
        return ""
    heading, body = rows[0], rows[1:]
    keep = set(figures) | set(whole)
    chars = 0.0
    for i, label in enumerate(heading):
        widest = max((len(w) for w in _BREAK.split(label)), default=0) * _BOLD
        for row in body:
            cell = row[i] if i < len(row) else ""
            longest = len(cell) if label in keep else max((len(w) for w in _BREAK.split(cell)), default=0)
            widest = max(widest, longest)
        chars += widest
    for name, (size, padding) in _DENSITY.items():
        em_mm = size * 0.3528
        if chars * _CHAR_EM + len(heading) * padding / em_mm <= _PRINT_WIDTH_MM / em_mm:
            return name
    return "dense tight"


# a text value written as a figure: "1,234", "−£50", "12.5%", "× 1.05 (0.98 to 1.12)", "3.4 – 5.1"
_FIGURE_TEXT = re.compile(
    r"^[\s\d.,%£×*+\-−–()]*\d[\s\d.,%£×*+\-−–()]*(?:\s(?:to|pp)\b[\s\d.,%£×*+\-−–()]*)*$"
)


def figures(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy of ``df`` whose text ``columns`` :func:`show_table` lays out as figures.

    Numeric columns are figures anyway; this is for numbers already written as text (an interval
    ``× 1.05 (0.98 to 1.12)``, a change ``+1.2 pp``), kept on one line and right-aligned.

    Raises
    ------
    SchemaError
        Columns not in the frame.
    """
    require_columns(df, list(columns), argument="columns")
    out = df.copy()
    out.attrs["figures"] = [*out.attrs.get("figures", []), *columns]
    return out


def lay_out(styler: SafeStyler, *, figures: Sequence[str] = (), whole: Sequence[str] = ()) -> SafeStyler:
    """Mark a report table for its layout on screen and on A4: figures never wrap.

    Parameters
    ----------
    styler
        The table as it is shown (its columns are the headings).
    figures
        Headings of the columns of numbers, including numbers written as text (an interval,
        ``£1,234``, a rank).
    whole
        Headings of text columns kept on one line (short codes and periods such as
        ``2025-H1``, which would otherwise break at the hyphen).

    Returns
    -------
    SafeStyler
        ``styler``: the table has class :data:`TABLE_CLASS`; every cell of a figures column has
        class ``figure`` (right-aligned, tabular figures, never wrapped: ``print.css`` and
        ``report.css``) and its heading is right-aligned; a whole column's cells have class
        ``whole``; other text is left-aligned. Headings and text wrap only between words, so each
        column is as wide as its longest word or figure at least (the automatic table layout of
        WeasyPrint and browsers sizes the rest from the content). A table too wide for A4 at the
        print type size also has class ``compact`` or ``dense`` (smaller type and padding,
        chosen from an estimate of its narrowest layout) and, when even that does not fit,
        ``tight`` (text and headings, never a figure, may then break inside a word rather
        than run off the page).

    Raises
    ------
    SchemaError
        A figures column the table does not show.

    Example
    -------
    >>> html = lay_out(styled(pd.DataFrame({"Ward": ["A"], "Residents": ["3,440"]})),
    ...                figures=["Residents"]).to_html()
    >>> 'class="needskit-table"' in html and "figure" in html
    True
    """
    require_columns(styler.data, list(figures), argument="figures")
    require_columns(styler.data, list(whole), argument="whole")
    data = styler.data
    kinds = ["figure" if c in figures else "whole" if c in whole else "" for c in data.columns]
    classes = pd.DataFrame(
        [kinds] * len(data),
        index=data.index,
        columns=data.columns,
    )
    styler.set_td_classes(classes)
    density = _density(styler, figures, whole)
    styler.set_table_attributes(f'class="{TABLE_CLASS}{" " + density if density else ""}"')
    if figures:
        right = [{"selector": "th.col_heading", "props": [("text-align", "right")]}]
        styler.set_table_styles({c: right for c in dict.fromkeys(figures)}, overwrite=False)
    return styler


def _percent(value: float) -> str:
    return f"{100 * value:.1f}"


_CODE = re.compile(r"(?:^|[_\s])(?:id|ids|code|codes|ref)$", re.IGNORECASE)


def _is_code(column: str, heading: str) -> bool:
    """An identifier or code (``outcome_id`` "1.1", ``area_code``): text, even when it looks like
    a figure, so it is left-aligned and kept on one line."""
    return bool(_CODE.search(column) or _CODE.search(heading))


def _written_as_figures(series: pd.Series) -> bool:
    """A text column whose every value is a figure (or blank)."""
    if not (pd.api.types.is_string_dtype(series) or series.dtype == object):
        return False
    values = [str(v).strip() for v in series.dropna()]
    values = [v for v in values if v]
    return bool(values) and all(_FIGURE_TEXT.match(v) for v in values)


def show_table(
    df: pd.DataFrame, *, columns: Mapping[str, str] | Sequence[str] | None = None, top: int | None = None
):
    """A table as leaders read it: chosen columns, readable headings, £ and thousands formatted,
    laid out for the page (:func:`lay_out`).

    Parameters
    ----------
    df
        Any table of the report modules. Not modified. Columns of numbers written as text can be
        named in ``df.attrs["figures"]`` (:func:`figures`); text columns whose every value is a
        number written out (``"1,234"``, ``"× 1.05 (0.98 to 1.12)"``) are found anyway.
    columns
        Columns to show, or ``{column: heading}``; default every column, headed in sentence case
        with the unit of a suffix (``_m``: metres, ``_gbp``: £) in brackets.
    top
        Show only the first ``top`` rows (the caller sorts).

    Returns
    -------
    :class:`~needskit.safe_text.SafeStyler` (renders as an HTML table, every value and heading
    escaped text; index hidden; missing values blank; numbers right-aligned and never wrapped), or, when
    ``df`` has no rows and says why (``attrs["why_empty"]``, see :func:`why_empty`), a
    :class:`~needskit.reports.context.Note` with that sentence instead of an empty table.

    Raises
    ------
    SchemaError
        Columns not in the frame.
    """
    require_frame(df)
    if df.empty and df.attrs.get("why_empty"):
        return Note(str(df.attrs["why_empty"]))
    if columns is None:
        mapping = {c: c for c in df.columns if c != "geometry"}
    elif isinstance(columns, Mapping):
        mapping = dict(columns)
    else:
        mapping = {c: c for c in columns}
    require_columns(df, list(mapping), argument="columns")
    frame = pd.DataFrame(df[list(mapping)]).reset_index(drop=True)
    frame = frame.head(top) if top else frame
    for column in frame.columns:  # yes and no, not True and False
        if pd.api.types.is_bool_dtype(frame[column]):
            frame[column] = frame[column].map({True: "yes", False: "no"})
    declared = set(df.attrs.get("figures", []))
    formats, headings, numbers, codes = {}, {}, [], []
    for column, heading in mapping.items():
        label = heading if heading != column else _heading(column)
        headings[column] = label
        if _is_code(str(column), label) and column not in declared:
            codes.append(label)
            continue
        fmt = _column_format(column if heading == column else heading, frame[column])
        if fmt == "{:.1%}" and label.endswith("(%)"):  # the unit is in the heading
            fmt = _percent
        if fmt:
            formats[label] = fmt
        if fmt or column in declared or _written_as_figures(frame[column]):
            numbers.append(label)
    frame = frame.rename(columns=headings)
    frame.columns = [str(c) for c in frame.columns]
    table = styled(frame).hide(axis="index").format(formats, na_rep="")
    return lay_out(table, figures=numbers, whole=codes)


_METHODS = {
    "resource-map": (
        "Service points are the partners' services of the resource register: real ones (such as "
        "the NHS GP practices and pharmacies of the ODS extracts) and, where the register holds "
        "them, ILLUSTRATIVE made-up services, labelled wherever they are used. Supply per head is "
        "services per 1,000 residents (a ratio of sums, residents as the report publishes them). "
        "Each neighbourhood's centre is the mean position of its postcodes (every postcode counts "
        "once, a proxy for where people live), or its polygon's representative point when no "
        "postcode falls in it; distances are straight lines in British National Grid metres to the "
        "nearest service of each type (k-d tree). GP accessibility is the two-step floating "
        "catchment area method (Luo and Wang 2003): each practice's supply divided by the "
        "residents within the catchment, summed over the practices each neighbourhood reaches; "
        "every practice counts as one unit of supply because the ODS extract has no list sizes. "
        "Gaps put each place in a quadrant of need (the theme's indicator) against provision "
        "(services per 1,000 residents), cut at the medians of the area's places. Duplication "
        "counts partners whose services' catchments cover the same neighbourhood and theme. Spend "
        "per head against need is descriptive; it is not a value-for-money judgement."
    ),
    "commissioning-priorities": (
        "Priority places are neighbourhoods in the most deprived national deciles of the "
        "partnership's deprivation index (IMD). For each, a theme is flagged when one of its "
        "indicators is in the worst fifth of the area's neighbourhoods (by the indicator's "
        "polarity) or a deprivation domain speaking to the theme is in the same national deciles. "
        "The delivery matrix counts activities of the delivery register per outcome and place; "
        "activities for a wider area count in every ward they cover. Delivery is 'away from need' "
        "when none of its places is in the highest-need fifth of places for the outcome's "
        "indicator (the deprivation score when the outcome has none). Allocations share the pot "
        "in proportion to each need measure with Hamilton's largest-remainder rounding to whole "
        "units, so each scenario sums exactly to the pot."
    ),
    "outcomes-monitoring": (
        "Each outcome indicator with a monthly series is drawn as an XmR chart (NHS England, Making "
        "Data Count): mean and process limits at the mean ± 2.66 mean moving ranges, special causes "
        "flagged by the rules listed in the report. Variation icons describe the latest point; "
        "assurance compares the target with the process limits. Where the report adds an "
        "ILLUSTRATIVE synthetic history, its monthly counts are drawn (seeded) from a gamma-Poisson "
        "distribution with the real months' mean and spread (mean moving range / 1.128): a stable "
        "process by construction, only to show how the charts read with two years of data. Those "
        "months are shaded and labelled and are not evidence."
    ),
}


def methods_text(report: Literal["resource-map", "commissioning-priorities", "outcomes-monitoring"]) -> str:
    """The methods paragraph of a commissioning report (for :func:`needskit.reports.methods_note`).

    Parameters
    ----------
    report
        The report's name.

    Returns
    -------
    str

    Raises
    ------
    ReportError
        Unknown report name.
    """
    if report not in _METHODS:
        raise ReportError(
            "no methods text for this report",
            where=f"report={report!r}",
            expected=f"one of {sorted(_METHODS)}",
            got=repr(report),
        )
    return _METHODS[report]
