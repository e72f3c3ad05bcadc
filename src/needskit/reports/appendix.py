"""The methods-and-provenance appendix every report ends with, and the notes notebooks add to it.

The export builds the appendix from the run itself (disclosure rule, publication marking, data
sources, OGL attribution, run record). A notebook adds its own methods text with
:func:`methods_note`: the note shows where it is called while the notebook is open in JupyterLab,
and the export moves it from the body into the appendix's "Statistical methods" section::

    from needskit.reports import methods_note
    methods_note(topics=["proportion", "benchmark"])
    methods_note("Crimes are counted where police.uk places them (anonymised snap points).", title="Crime")
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from needskit.errors import ReportError

if TYPE_CHECKING:
    from needskit.disclosure.sharing import Audience

__all__ = ["METHODS", "MethodsNote", "methods_note", "appendix_html", "NOTE_ROLE"]

NOTE_ROLE = "methods"
"""Value of ``output.metadata["needskit"]["role"]`` that marks a methods note in a notebook."""

METHODS: dict[str, tuple[str, str]] = {
    "proportion": (
        "Proportions",
        "Proportions are shown with 95% and 99.8% confidence intervals by the Wilson score method "
        "(the method of OHID Fingertips and PHEindicatormethods).",
    ),
    "crude_rate": (
        "Crude rates",
        "Crude rates are events divided by the population, multiplied by the stated unit (e.g. per "
        "100,000). Confidence intervals use exact Poisson limits below 10 events and Byar's "
        "approximation from 10 events, applied to the count before the multiplier.",
    ),
    "dsr": (
        "Directly standardised rates",
        "Directly standardised rates weight age-specific rates by the 2013 European Standard "
        "Population; intervals use Dobson's method with Byar's limits of the total count. Rates "
        "from fewer than 10 events are not shown.",
    ),
    "benchmark": (
        "Comparisons",
        "Each area is compared with its comparator using the Fingertips rules: an area is similar "
        "when the comparator's value lies within its 95% (or 99.8%) interval, and otherwise higher "
        "or lower; the indicator's polarity turns higher or lower into better or worse.",
    ),
    "funnel": (
        "Funnel plots and compare areas",
        "A funnel plot shows each area's value against its denominator around its comparator's "
        "value, with Fingertips' control limits at 95% and 99.8%: for proportions the Wilson score "
        "limits of the count expected at the comparator's value, for rates the exact Poisson limits "
        "of that count. Points outside the limits differ by more than chance would explain. The "
        "compare-areas table shows every indicator for England, the area and the areas compared "
        "with it, each cell coloured by its comparison (colour-blind-safe colours, with the word); "
        'both show only published values, and "withheld" where a value was withheld.',
    ),
    "quantiles": (
        "Quintiles",
        "Areas are placed in quintiles within their comparator's areas with the Fingertips quantile "
        "formula; quintiles are not given when fewer areas than quantiles have a value.",
    ),
    "needs_index": (
        "Needs index",
        "The composite needs index follows the English Indices of Deprivation method: each domain "
        "is ranked, the ranks are turned into an exponential score from 0 to 100 so that an extreme "
        "domain is not averaged away, and the scores are combined with the domain weights.",
    ),
    "inequality": (
        "Inequality",
        "The slope and relative indices of inequality (SII, RII) are the population-weighted "
        "regression of the indicator on the midpoints of deprivation quantiles, most deprived "
        "first; intervals are simulated with a fixed seed.",
    ),
    "hotspots": (
        "Hot spots",
        "Hot and cold spots are found with local spatial statistics (esda) on neighbouring "
        "areas, with permutation p-values and a fixed seed.",
    ),
    "spc": (
        "Statistical process control",
        "Trends over time use NHS England's Making Data Count XmR charts: limits at the mean plus "
        "or minus 2.66 times the mean moving range, with the standard run and trend rules.",
    ),
}
"""Standard methods paragraphs by topic: ``topic -> (heading, text)``; see ``methods.md``."""

_DEFAULT_METHODS = (
    "Indicators are computed with needskit's implementations of the OHID Fingertips methods "
    "(PHEindicatormethods): Wilson score intervals for proportions, exact Poisson or Byar's "
    "intervals for rates, 95% and 99.8% limits, and the Fingertips comparator rules."
)


@dataclass
class MethodsNote:
    """A methods note: displayed in the notebook, moved into the appendix by the export."""

    title: str | None
    markdown: str
    topics: list[str] = field(default_factory=list)

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"text/markdown": self.markdown, "text/plain": self.markdown}
        metadata = {"needskit": {"role": NOTE_ROLE, "title": self.title, "topics": self.topics}}
        return data, metadata


def methods_note(
    text: str | None = None, *, topics: Sequence[str] = (), title: str | None = None
) -> MethodsNote:
    """A methods note for the report's appendix (call it in a notebook cell; it displays itself).

    Parameters
    ----------
    text
        Markdown describing a method used in the report.
    topics
        Names of standard paragraphs from :data:`METHODS` to include (e.g. ``["proportion"]``).
    title
        Heading of the note.

    Returns
    -------
    MethodsNote
        Shown as markdown in the notebook; in HTML and PDF exports it appears under
        "Statistical methods" in the appendix, not where it was called.

    Raises
    ------
    ReportError
        Neither text nor topics, or an unknown topic.

    Example
    -------
    >>> methods_note(topics=["proportion"]).markdown.startswith("**Proportions.**")
    True
    """
    unknown = [t for t in topics if t not in METHODS]
    if unknown:
        raise ReportError(
            "unknown methods topic",
            where="topics",
            expected=f"some of {sorted(METHODS)}",
            got=repr(unknown[0]),
        )
    parts = [f"**{METHODS[t][0]}.** {METHODS[t][1]}" for t in topics]
    if text:
        parts.append((f"**{title}.** " if title else "") + str(text).strip())
    if not parts:
        raise ReportError("is empty", where="methods_note()", expected="text or topics", got="neither")
    return MethodsNote(title=title, markdown="\n\n".join(parts), topics=list(topics))


def _table(
    rows: Sequence[Sequence[object]], header: Sequence[str] | None = None, cls: str = "appendix-table"
) -> str:
    """An HTML table; with ``header``, column headers, else (a list of name and value) the first
    cell of each row is the row's header (WCAG 1.3.1: headers are marked, not only bold)."""
    out = [f'<table class="{cls}">']
    if header:
        out.append(
            "<thead><tr>"
            + "".join(f'<th scope="col">{html.escape(h)}</th>' for h in header)
            + "</tr></thead>"
        )
    out.append("<tbody>")
    for row in rows:
        cells = [html.escape(str(c)) for c in row]
        first = f"<td>{cells[0]}</td>" if header else f'<th scope="row">{cells[0]}</th>'
        out.append("<tr>" + first + "".join(f"<td>{c}</td>" for c in cells[1:]) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def appendix_html(
    *,
    notes_html: Sequence[str],
    publish: Audience,
    disclosure_rule: str | None,
    sources: pd.DataFrame | None,
    inputs: Sequence[Mapping[str, Any]],
    record: Mapping[str, Any],
) -> str:
    """The appendix as HTML (headings ``h1``/``h2`` with ids, so contents and page numbers find them).

    Parameters
    ----------
    notes_html
        Methods notes from the notebook, already HTML.
    publish, disclosure_rule
        Sharing level and rule set of the run.
    sources
        Data sources (the store's ``sources``: title, partner, period, last_updated, licence),
        or None to list the input files by folder.
    inputs
        The manifest's input files (``file``, ``sha256``, ``bytes``).
    record
        Run facts for the run record: report, notebook, notebook_sha256, parameters, versions,
        git_commit, started, finished, inputs_sha256.
    """
    from needskit.config.attribution import ATTRIBUTION
    from needskit.disclosure import describe_rule, publication_marking

    parts = ['<section class="appendix">', '<h1 id="methods-and-provenance">Methods and provenance</h1>']

    parts.append('<h2 id="appendix-methods">Statistical methods</h2>')
    if notes_html:
        parts.extend(f'<div class="methods-note">{note}</div>' for note in notes_html)
    else:
        parts.append(f"<p>{html.escape(_DEFAULT_METHODS)}</p>")

    parts.append('<h2 id="appendix-disclosure">Disclosure control and publication</h2>')
    parts.append(
        f'<p class="marking-text"><strong>Publication marking ({html.escape(publish)}):</strong> '
        f"{html.escape(publication_marking(publish))}</p>"
    )
    if disclosure_rule:
        parts.append(f"<p>{html.escape(describe_rule(disclosure_rule))}</p>")
    else:
        parts.append(
            "<p>No small-number disclosure rule was applied: "
            "this is an internal output with exact figures.</p>"
        )

    parts.append('<h2 id="appendix-sources">Data sources</h2>')
    if sources is not None and len(sources):
        rows = (
            sources[["title", "partner", "period", "last_updated", "licence"]].astype(str).to_numpy().tolist()
        )
        parts.append(_table(rows, ["Dataset", "Publisher or partner", "Period", "Last updated", "Licence"]))
    groups: dict[str, list[int]] = {}
    for item in inputs:
        path = str(item["file"])
        parts_of = path.split("/")
        key = "/".join(parts_of[:3]) if len(parts_of) > 3 else "/".join(parts_of[:-1]) or path
        groups.setdefault(key, []).append(int(item.get("bytes", 0)))
    if groups:
        parts.append(
            "<p>Files read by this run (SHA-256 of each in <code>manifest.json</code>):</p>"
            + _table(
                [(k, len(v), f"{sum(v) / 1e6:.1f} MB") for k, v in sorted(groups.items())],
                ["Folder", "Files", "Size"],
            )
        )

    parts.append('<h2 id="appendix-attribution">Attribution</h2><ul class="attribution">')
    parts.extend(f"<li>{html.escape(line)}</li>" for line in ATTRIBUTION.values())
    parts.append("</ul>")

    parts.append('<h2 id="appendix-record">Run record</h2>')
    versions = record.get("versions", {})
    params = record.get("parameters", {})
    rows = [
        ("Report", record.get("report", "")),
        ("Notebook", f"{record.get('notebook', '')} (SHA-256 {str(record.get('notebook_sha256', ''))[:12]})"),
        ("Parameters", ", ".join(f"{k}={v!r}" for k, v in params.items())),
        ("needskit", f"{versions.get('needskit', '')}, commit {record.get('git_commit') or 'unknown'}"),
        ("Python and packages", ", ".join(f"{k} {v}" for k, v in versions.items() if k != "needskit")),
        ("Inputs", f"{len(inputs)} files, combined SHA-256 {str(record.get('inputs_sha256', ''))[:16]}"),
        ("Executed", f"{record.get('started', '')} to {record.get('finished', '')}"),
    ]
    parts.append(_table(rows, cls="appendix-table record"))
    parts.append("<p>The full record is in <code>manifest.json</code> next to this report.</p>")
    parts.append("</section>")
    return "\n".join(parts)
