"""How the commissioning reports word and lay out what they show: headings, tables, labels, methods.

The resource map, commissioning priorities and outcomes monitoring reports (notebooks ``03`` to
``05``) show DataFrames through :func:`show_table` (readable headings, £ and thousands
formatted), head every report with :func:`report_title`, mark anything built on made-up data
with :data:`ILLUSTRATIVE_LABEL` (:func:`data_label`) and print a methods paragraph per report
(:func:`methods_text`). Nothing here reads the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from needskit._checks import require_columns, require_frame
from needskit.config.catalog import THEMES
from needskit.errors import ReportError
from needskit.reports.context import AUDIENCE_WORDS, Note, ReportContext
from needskit.safe_text import escape_markdown, styled

__all__ = [
    "ILLUSTRATIVE_LABEL",
    "data_label",
    "theme_names",
    "shorten",
    "report_title",
    "show_table",
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
    if "share" in lowered:
        return "{:.1%}"
    if "percentile" in lowered or "score" in lowered and "imd" not in lowered:
        return "{:.2f}"
    if any(key in lowered for key in _MONEY):
        return (lambda v: money(v, 2)) if "per_head" in lowered else money
    if lowered.endswith("_m") or lowered.endswith("(m)"):
        return "{:,.0f}"
    if pd.api.types.is_integer_dtype(series) or lowered.startswith(_WHOLE) or lowered.endswith(_WHOLE):
        return "{:,.0f}"
    return "{:,.1f}"


def _heading(column: str) -> str:
    """``supply_per_1000`` -> ``Supply per 1,000``; ``gp_practice_m`` -> ``Gp practice (m)``; a
    column that is already a label (capitals or spaces, e.g. a ward name) is kept as it is."""
    if column != column.lower() or " " in column:
        return column
    text = column[:-2] + " (m)" if column.endswith("_m") else column
    text = text.replace("_per_1000", " per 1,000").replace("_per_100k", " per 100,000").replace("imd", "IMD")
    text = text.replace("_", " ")
    return text[0].upper() + text[1:]


def show_table(
    df: pd.DataFrame, *, columns: Mapping[str, str] | Sequence[str] | None = None, top: int | None = None
):
    """A table as leaders read it: chosen columns, readable headings, £ and thousands formatted.

    Parameters
    ----------
    df
        Any table of the report modules. Not modified.
    columns
        Columns to show, or ``{column: heading}``; default every column, headed in sentence case.
    top
        Show only the first ``top`` rows (the caller sorts).

    Returns
    -------
    :class:`~needskit.safe_text.SafeStyler` (renders as an HTML table, every value and heading
    escaped text; index hidden; missing values blank), or, when
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
    frame = pd.DataFrame(df[list(mapping)]).head(top) if top else pd.DataFrame(df[list(mapping)])
    formats = {}
    headings = {}
    for column, heading in mapping.items():
        label = heading if heading != column else _heading(column)
        headings[column] = label
        fmt = _column_format(column if heading == column else heading, frame[column])
        if fmt:
            formats[label] = fmt
    frame = frame.rename(columns=headings)
    frame.columns = [str(c) for c in frame.columns]
    return styled(frame).hide(axis="index").format(formats, na_rep="")


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
