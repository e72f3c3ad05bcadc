"""Export an executed report notebook to self-contained HTML and to PDF (WeasyPrint, no LaTeX).

Both exports hide code and prompts (nbconvert ``exclude_input``, ``exclude_input_prompt``,
``exclude_output_prompt``), drop stderr output (warnings go to the manifest instead) and end with
the methods-and-provenance appendix (:mod:`needskit.reports.appendix`).

* **HTML** prefers ``text/html`` outputs, so maps are interactive. Libraries a map inlines
  (``data-needskit-asset``) are kept once, in the page head; nothing is loaded from the network.
* **PDF** prefers ``image/png`` over ``text/html``, so each map is its static twin; the page is
  then laid out for A4 by ``assets/print.css``: cover, contents with page numbers
  (``target-counter``), page numbers in the footer, the publication marking at the top of every
  page of partner and internal outputs. The PDF is tagged (PDF/UA-1), with its title and language.
"""

from __future__ import annotations

import copy
import dataclasses
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from needskit.errors import ReportError
from needskit.reports.appendix import NOTE_ROLE, appendix_html
from needskit.safe_text import css_string, sanitise_markdown

if TYPE_CHECKING:
    from needskit.disclosure.sharing import Audience

__all__ = [
    "ExportContext",
    "prepare_notebook",
    "export_html",
    "export_pdf",
    "asset_fetcher",
    "network_references",
    "headings",
    "document_title",
]

_HTML_PRIORITY = [
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/plain",
]
_PRINT_PRIORITY = [
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/html",
    "text/markdown",
    "text/plain",
]
_ASSET = re.compile(r'<(script|style) data-needskit-asset="([^"]+)">(.*?)</\1>\s*', re.DOTALL)
_HEADING = re.compile(r'<h([1-3])\s+id="([^"]+)"[^>]*>(.*?)</h\1>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
# A map's figure brings its own page's <meta> (a viewport that forbids zooming, WCAG 1.4.4):
# the report's head has the page's own, so every <meta> inside the body is dropped.
_BODY_META = re.compile(r"<meta\b[^>]*>\s*", re.IGNORECASE)
_REMOVE_TAGS = {"remove_cell", "remove-cell", "hide", "injected-parameters", "papermill-error-cell-tag"}


@dataclass
class ExportContext:
    """What the exports print around the notebook's content (cover, header, appendix).

    Attributes
    ----------
    title
        Report title (the notebook's first level-1 heading wins when it has one).
    report
        Report name, e.g. ``"needs-profile"``.
    area, area_name, period, publish, disclosure_rule, partnership, date
        Shown on the cover / header and in the appendix.
    sources
        Data sources table (:func:`~needskit.reports.appendix.catalog_sources`) or None.
    inputs
        Input files of the manifest.
    record
        Run record (see :func:`~needskit.reports.appendix.appendix_html`).
    provisional
        Empty, or why the period is provisional: then "PROVISIONAL" heads the marking on every
        page (HTML banner, PDF page header).
    """

    title: str
    report: str
    area: str
    area_name: str
    period: str
    publish: Audience
    disclosure_rule: str | None
    partnership: str
    date: str
    sources: pd.DataFrame | None = None
    inputs: Sequence[Mapping[str, Any]] = ()
    record: Mapping[str, Any] = field(default_factory=dict)
    provisional: str = ""


# --------------------------------------------------------------------------------------------
# Notebook clean-up


def prepare_notebook(nb) -> tuple[Any, list[str], list[str]]:
    """A copy of ``nb`` ready to export, its methods notes (HTML) and its stderr text.

    Removes cells tagged ``remove_cell``/``remove-cell``/``hide``, the papermill injected parameters
    and error cells, stderr streams (returned) and methods notes (returned as HTML, for the appendix).
    Every markdown output of a code cell is built from data, so it is passed through
    :func:`~needskit.safe_text.sanitise_markdown` (raw HTML and links become text).
    """
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    nb = copy.deepcopy(nb)
    notes: list[str] = []
    stderr: list[str] = []
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _REMOVE_TAGS:
            continue
        if cell.get("cell_type") == "code":
            kept = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    stderr.append(output.get("text", ""))
                    continue
                meta = output.get("metadata", {}).get("needskit", {})
                data = output.get("data", {})
                if "text/markdown" in data:  # built from data: its HTML and links are text
                    data["text/markdown"] = sanitise_markdown(str(data["text/markdown"]))
                if isinstance(meta, Mapping) and meta.get("role") == NOTE_ROLE:
                    notes.append(markdown2html_mistune(data.get("text/markdown", "")))
                    continue
                kept.append(output)
            cell["outputs"] = kept
        cells.append(cell)
    nb.cells = cells
    return nb, notes, stderr


def _body(nb, *, priority: list[str], anchors: bool) -> str:
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config(
        {
            "NbConvertBase": {"display_data_priority": priority},
            "HTMLExporter": {
                "exclude_input": True,
                "exclude_input_prompt": True,
                "exclude_output_prompt": True,
                "exclude_anchor_links": not anchors,
            },
        }
    )
    exporter = HTMLExporter(template_name="basic", config=config)
    body, _ = exporter.from_notebook_node(nb)
    return body


def headings(body: str, *, levels: Sequence[int] = (1, 2)) -> list[tuple[int, str, str]]:
    """``(level, id, text)`` of the headings in an HTML body (nbconvert gives every heading an id)."""
    found = []
    for level, ident, inner in _HEADING.findall(body):
        if int(level) in levels:
            text = html.unescape(_TAG.sub("", inner)).replace("\u00b6", "").strip()
            found.append((int(level), ident, text))
    return found


def _title(body: str, fallback: str) -> str:
    first = headings(body, levels=(1,))
    return first[0][2] if first else fallback


def _split_assets(body: str) -> tuple[str, dict[str, tuple[str, str]]]:
    assets: dict[str, tuple[str, str]] = {}

    def keep(match: re.Match[str]) -> str:
        assets.setdefault(match.group(2), (match.group(1), match.group(3)))
        return ""

    return _ASSET.sub(keep, body), assets


def network_references(text: str) -> list[str]:
    """Everything in an HTML page that would be *loaded* from the network.

    Looks at ``src`` of script, img, iframe, source, embed, audio, video, ``href`` of ``<link>``,
    CSS ``url()`` and ``@import``. Hyperlinks (``<a href>``) are not loads and are allowed.
    """
    scheme = r"""(?:https?:)?//"""
    found = re.findall(
        rf"""<(?:script|img|iframe|source|embed|audio|video|input)\b[^>]*?\bsrc\s*=\s*["']?({scheme}[^"'\s>]+)""",
        text,
        flags=re.IGNORECASE,
    )
    found += re.findall(rf"""<link\b[^>]*?\bhref\s*=\s*["']?({scheme}[^"'\s>]+)""", text, flags=re.IGNORECASE)
    found += re.findall(rf"""url\(\s*["']?({scheme}[^)"']+)""", text, flags=re.IGNORECASE)
    found += re.findall(rf"""@import\s+["']({scheme}[^"']+)""", text, flags=re.IGNORECASE)
    return found


def _environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    folder = resources.files("needskit") / "templates" / "report"
    return Environment(loader=FileSystemLoader(str(folder)), autoescape=select_autoescape(["html", "j2"]))


def _asset(name: str) -> str:
    return (resources.files("needskit") / "assets" / name).read_text(encoding="utf-8")


def document_title(ctx: ExportContext) -> str:
    """The page's and the PDF's title (WCAG 2.4.2): the report's title, with the area and period
    added when it does not name them already."""
    missing = [part for part in (ctx.area_name, ctx.period) if part and part not in ctx.title]
    return " \u2014 ".join([ctx.title, *missing])


def _common(ctx: ExportContext, notes: list[str]) -> dict[str, Any]:
    from needskit.disclosure import publication_marking

    appendix = appendix_html(
        notes_html=notes,
        publish=ctx.publish,
        disclosure_rule=ctx.disclosure_rule,
        sources=ctx.sources,
        inputs=ctx.inputs,
        record=ctx.record,
    )
    marking = publication_marking(ctx.publish)
    if ctx.provisional:
        marking = f"PROVISIONAL: {ctx.period} is not complete ({ctx.provisional}). {marking}"
    return {
        "ctx": ctx,
        "document_title": document_title(ctx),
        "marking": marking,
        "running_marking": ctx.publish in ("partner", "internal") or bool(ctx.provisional),
        "appendix": appendix,
    }


# --------------------------------------------------------------------------------------------
# HTML


def export_html(nb, ctx: ExportContext) -> str:
    """The report as one self-contained HTML page (no code, no prompts, no network references).

    Parameters
    ----------
    nb
        The executed notebook (``nbformat.NotebookNode``).
    ctx
        Cover and appendix facts.

    Returns
    -------
    str
        The page. Raises :class:`ReportError` if a ``src``/``href`` would load from the network.
    """
    clean, notes, _ = prepare_notebook(nb)
    body = _body(clean, priority=_HTML_PRIORITY, anchors=True)
    body, assets = _split_assets(body)
    body = _BODY_META.sub("", body)
    ctx = dataclasses.replace(ctx, title=_title(body, ctx.title))
    values = _common(ctx, notes)
    page = (
        _environment()
        .get_template("page.html.j2")
        .render(
            **values,
            body=body,
            css=_asset("report.css"),
            assets=[(kind, name, content) for name, (kind, content) in assets.items()],
        )
    )
    remote = network_references(page)
    if remote:
        raise ReportError(
            "the HTML would load files from the network",
            where=f"{ctx.report} HTML",
            expected="every script, style and image inlined",
            got=f"{len(remote)} references, e.g. {remote[0]!r}",
            hint="display maps with needskit.reports.maps.choropleth (it inlines Leaflet), "
            "not folium.Map directly",
        )
    return page


# --------------------------------------------------------------------------------------------
# PDF


def _safe_ids(body: str) -> str:
    """Heading ids reduced to letters, digits, ``-`` and ``_`` (and the links to them)."""

    def clean(ident: str) -> str:
        return re.sub(r"[^A-Za-z0-9_-]+", "-", html.unescape(ident)).strip("-") or "section"

    body = re.sub(r'(<h[1-6]\s+id=")([^"]+)(")', lambda m: m.group(1) + clean(m.group(2)) + m.group(3), body)
    return re.sub(r'(href="#)([^"]+)(")', lambda m: m.group(1) + clean(m.group(2)) + m.group(3), body)


def _captioned_figures(nb) -> None:
    """Give every static image that carries a caption (a map's PNG: ``metadata["image/png"]``
    ``caption`` and ``description``) a visible caption in print: the output becomes a
    ``<figure>`` of the image (its alt text kept) and a ``<figcaption>``, as the charts print."""
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data, meta = output.get("data", {}), output.get("metadata", {}).get("image/png", {})
            if "image/png" not in data or not isinstance(meta, Mapping) or not meta.get("caption"):
                continue
            alt = html.escape(str(meta.get("alt", "")), quote=True)
            about = str(meta.get("description", ""))
            output["data"] = {
                "text/html": (
                    f'<figure class="needskit-map-print"><img src="data:image/png;base64,'
                    f'{str(data["image/png"]).strip()}" alt="{alt}">'
                    f'<figcaption><span class="needskit-map-caption">{html.escape(str(meta["caption"]))}'
                    f"</span>{' ' + html.escape(about) if about else ''}</figcaption></figure>"
                ),
                "text/plain": data.get("text/plain", ""),
            }


_LEAD_IN = "needskit-lead-in"
_LEAD_IN_CHARS = 600


def _lead_ins(nb) -> None:
    """Tag each code cell that shows only a short text (a sentence from the data under a section's
    heading) so that print keeps it with what follows (``print.css``: ``celltag_needskit-lead-in``),
    as a heading is: the table or figure it introduces is not left for the next page alone."""
    for cell in nb.cells:
        outputs = cell.get("outputs", []) if cell.get("cell_type") == "code" else []
        shown = ("display_data", "execute_result")
        data = [o.get("data", {}) for o in outputs if o.get("output_type") in shown]
        if not data or len(data) != len(outputs) or not all("text/markdown" in d for d in data):
            continue
        if sum(len(str(d["text/markdown"])) for d in data) <= _LEAD_IN_CHARS:
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            tags.append(_LEAD_IN)


def print_html(nb, ctx: ExportContext) -> str:
    """The HTML WeasyPrint lays out: cover, contents, body with static maps (each with its
    caption), appendix."""
    clean, notes, _ = prepare_notebook(nb)
    # a code cell that shows nothing (a computation) would sit between a heading and what the
    # heading introduces, as a place where a page may break: print leaves it out
    clean.cells = [c for c in clean.cells if c.get("cell_type") != "code" or c.get("outputs")]
    _captioned_figures(clean)
    _lead_ins(clean)
    body = _body(clean, priority=_PRINT_PRIORITY, anchors=True)  # ids for the contents; links hidden by CSS
    body, _assets = _split_assets(body)  # no scripts in print
    body = re.sub(r"<script\b.*?</script>", "", body, flags=re.DOTALL | re.IGNORECASE)
    body = _safe_ids(body)  # "95%-..." would be read as a percent-escape in the contents' links
    title = _title(body, ctx.title)
    first = _HEADING.search(body)
    if first and first.group(1) == "1":  # the title is on the cover
        body = body[: first.start()] + body[first.end() :]
    ctx = dataclasses.replace(ctx, title=title)
    values = _common(ctx, notes)
    contents = headings(body, levels=(1, 2)) + headings(values["appendix"], levels=(1, 2))
    return (
        _environment()
        .get_template("print.html.j2")
        .render(
            **values,
            body=body,
            css=_asset("print.css"),
            contents=contents,
            marking_css=css_string(values["marking"]),
            footer_css=css_string(values["document_title"]),
        )
    )


_IMAGE_DATA = re.compile(r"data:image/(png|jpeg);base64,", re.IGNORECASE)


def _assets_folder() -> Path:
    return Path(str(resources.files("needskit") / "assets")).resolve()


def asset_fetcher(*, report: str = "report"):
    """The URL fetcher WeasyPrint gets: only the project's own assets and the report's images.

    Serves ``file:`` URLs inside ``needskit/assets`` and ``data:image/png`` / ``data:image/jpeg``
    base64 URIs (the charts and static maps nbconvert embeds). Refuses everything else — any
    other ``file:`` (a local file would end up inside the PDF), ``http(s):``, other ``data:``
    types and every other scheme — by raising :class:`ReportError`, which stops the PDF.

    Parameters
    ----------
    report
        Named in the error.

    Returns
    -------
    weasyprint.urls.URLFetcher
    """
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import URLFetcher

    assets = _assets_folder()

    class AssetFetcher(URLFetcher):
        def __init__(self) -> None:
            super().__init__(allowed_protocols=("file", "data"), fail_on_errors=True)

        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme == "data" and _IMAGE_DATA.match(url):
                return super().fetch(url, headers)
            if scheme == "file":
                local = Path(unquote(urlsplit(url).path)).resolve()
                if local.is_relative_to(assets) and local.is_file():
                    return super().fetch(url, headers)
            shown = url if len(url) <= 200 else url[:120] + "..." + url[-40:]
            raise ReportError(
                "the PDF would load a file that is not one of the report's own",
                where=f"{report} PDF",
                expected="needskit's bundled assets or images the report drew (data:image/png|jpeg)",
                got=repr(shown),
                hint="text from data or config must be escaped, never markup; "
                "a report shows only what its notebook computed",
            )

    return AssetFetcher()


PDF_VARIANT = "pdf/ua-1"
"""The PDF is tagged for assistive technology: WeasyPrint's PDF/UA-1 variant writes the structure
tree (headings, paragraphs, lists, tables with their header cells, figures with their alt text),
the document's language (``<html lang>``) and title (``<title>``, shown by viewers)."""


def export_pdf(nb, ctx: ExportContext, path: Path) -> int:
    """Write the report as a tagged A4 PDF (PDF/UA-1) with WeasyPrint; returns the number of pages.

    The PDF carries a structure tree, the language ``en-GB`` and the title "report — area —
    period" (:data:`PDF_VARIANT`). WeasyPrint fetches only through :func:`asset_fetcher`: a
    reference to any other file or to the network stops the export with :class:`ReportError`.
    """
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    page = print_html(nb, ctx)
    try:  # attachments are fetched when the PDF is written, images when it is laid out
        document = HTML(
            string=page, base_url=str(path.parent), url_fetcher=asset_fetcher(report=ctx.report)
        ).render()
        pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
    except FatalURLFetchingError as error:
        if isinstance(error.__cause__, ReportError):
            raise error.__cause__ from None
        raise
    path.write_bytes(pdf)
    return len(document.pages)
