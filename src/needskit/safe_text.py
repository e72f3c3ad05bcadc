"""Text from data and config is never markup: the one place values are made safe to publish.

Every name, title and sentence a report shows comes from data or configuration (a partner's
service name, an indicator title of ``conf/indicators.yml``, ``--partnership``). Wherever such
text is rendered it goes through one of these helpers:

* :func:`styled` — the pandas Styler of every report table: cells, headers and captions are
  HTML-escaped whatever formats are added later (:class:`SafeStyler`).
* :func:`escape_html` / :func:`escape_markdown` — one value put into HTML or markdown.
* :func:`sanitise_markdown` — a whole markdown output built from data (the export passes every
  markdown output of a report through it): raw HTML and link syntax become text.
* :func:`css_string` — a CSS string literal (the PDF's running header and footer).
* :func:`neutralise_formulas` / :func:`write_csv` — CSV files meant for people: a text cell that
  a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) gets a
  leading ``'`` (OWASP, "CSV injection"); numbers, including negative ones, are kept.
"""

from __future__ import annotations

import html
import itertools
import re
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from pandas.io.formats.style import Styler

__all__ = [
    "SafeStyler",
    "styled",
    "escape_html",
    "escape_markdown",
    "sanitise_markdown",
    "css_string",
    "neutralise_formulas",
    "write_csv",
]


# --------------------------------------------------------------------------------------------
# HTML tables


# pandas' table template with header cells marked for assistive technology: a column heading is
# <th scope="col">, a row heading <th scope="row"> (WCAG 1.3.1); otherwise pandas' own markup.
def _row_block(block: str, heading: str, scope: str) -> str:
    cell = (
        '<{{c.type}}{% if not exclude_styles %}{% if c.id is defined %} id="T_{{uuid}}_{{c.id}}"{% endif %}'
        ' class="{{c.class}}"{% endif %}'
        f'{{% if c.type == "th" and "{heading}" in c.class %}} scope="{scope}"{{% endif %}}'
        " {{c.attributes}}>{{c.display_value}}</{{c.type}}>"
    )
    return (
        f"{{% block {block} %}}\n    <tr>\n{{% for c in r %}}\n{{% if c.is_visible != False %}}\n"
        f"      {cell}\n{{% endif %}}\n{{% endfor %}}\n    </tr>\n{{% endblock {block} %}}\n"
    )


_TABLE_TEMPLATE = (
    '{% extends "html_table.tpl" %}\n'
    + _row_block("head_tr", "col_heading", "col")
    + _row_block("tr", "row_heading", "row")
)
_TEMPLATES = jinja2.Environment(
    loader=jinja2.ChoiceLoader([jinja2.DictLoader({"safe_table.tpl": _TABLE_TEMPLATE}), Styler.loader]),
    trim_blocks=True,
)

_TABLE_SERIAL = itertools.count()


class SafeStyler(Styler):
    """A pandas Styler whose cells, headers, index and caption are always escaped text.

    ``format`` and ``format_index`` force ``escape="html"`` and no automatic hyperlinks, so a
    format added later (``styler.format("{:,.2f}", subset=...)``) cannot switch escaping off.
    Column headings render as ``<th scope="col">`` and row headings as ``<th scope="row">``
    (pandas' template, extended as :meth:`~pandas.io.formats.style.Styler.from_custom_template`
    does).
    """

    env = _TEMPLATES
    template_html = _TEMPLATES.get_template("html.tpl")
    template_html_table = _TEMPLATES.get_template("safe_table.tpl")
    template_html_style = _TEMPLATES.get_template("html_style.tpl")

    def __init__(self, data: pd.DataFrame | pd.Series, **options: Any) -> None:
        options["escape"] = "html"
        # the tables' element ids in order, not pandas' random ones: a report rerun (on another
        # machine, say) writes the same HTML, and two tables of one report never share an id
        options.setdefault("uuid", f"n{next(_TABLE_SERIAL):04x}")
        super().__init__(data, **options)
        for axis in (0, 1):
            self.format_index(axis=axis)
            self.format_index_names(axis=axis)
        if options.get("caption") is not None:
            self.set_caption(options["caption"])

    def format(
        self,
        formatter=None,
        subset=None,
        na_rep=None,
        precision=None,
        decimal=".",
        thousands=None,
        escape=None,
        hyperlinks=None,
    ):  # type: ignore[override]  # noqa: E501
        """:meth:`pandas.io.formats.style.Styler.format`, always with ``escape="html"``."""
        return super().format(
            formatter, subset, na_rep, precision, decimal, thousands, escape="html", hyperlinks=None
        )

    def format_index(
        self,
        formatter=None,
        axis=0,
        level=None,
        na_rep=None,
        precision=None,
        decimal=".",
        thousands=None,
        escape=None,
        hyperlinks=None,
    ):  # type: ignore[override]  # noqa: E501
        """:meth:`pandas.io.formats.style.Styler.format_index`, always with ``escape="html"``."""
        return super().format_index(
            formatter, axis, level, na_rep, precision, decimal, thousands, escape="html", hyperlinks=None
        )

    def format_index_names(
        self,
        formatter=None,
        axis=0,
        level=None,
        na_rep=None,
        precision=None,
        decimal=".",
        thousands=None,
        escape=None,
        hyperlinks=None,
    ):  # type: ignore[override]  # noqa: E501
        """:meth:`pandas.io.formats.style.Styler.format_index_names`, always with ``escape="html"``."""
        return super().format_index_names(
            formatter, axis, level, na_rep, precision, decimal, thousands, escape="html", hyperlinks=None
        )

    def set_caption(self, caption):  # type: ignore[override]
        """A caption shown as text (escaped)."""
        if isinstance(caption, str):
            caption = escape_html(caption)
        elif isinstance(caption, tuple | list):
            caption = type(caption)(escape_html(c) for c in caption)
        return super().set_caption(caption)


def styled(df: pd.DataFrame) -> SafeStyler:
    """``df.style`` for a report: a :class:`SafeStyler` (every value and heading escaped).

    Parameters
    ----------
    df
        Any table. Not modified.

    Returns
    -------
    SafeStyler

    Example
    -------
    >>> "<img" in styled(pd.DataFrame({"name": ["<img src=x>"]})).to_html()
    False
    """
    return SafeStyler(df)


# --------------------------------------------------------------------------------------------
# Text in HTML, markdown and CSS


def escape_html(value: Any) -> str:
    """``value`` as HTML text: ``&``, ``<``, ``>``, ``"`` and ``'`` escaped."""
    return html.escape(str(value), quote=True)


# "_" inside a word (nhs_digital) is never emphasis in CommonMark, so it is left as it is
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*\[\]{}#!|~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")


def escape_markdown(value: Any) -> str:
    """``value`` as markdown text: shown as written, never HTML, a link, a heading or emphasis.

    Line breaks become spaces (a value cannot start a block), HTML's ``&``, ``<`` and ``>``
    become entities and markdown's punctuation is backslash-escaped.

    Example
    -------
    >>> escape_markdown("St *Mary* <b>")
    'St \\\\*Mary\\\\* &lt;b&gt;'
    """
    text = " ".join(str(value).split())
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    return html.escape(text, quote=False)


def sanitise_markdown(text: str) -> str:
    """A markdown output built from data, with no way left to make markup.

    Raw HTML and autolinks (anything starting ``<``) become text (``&lt;``); inline links and
    images (``](``) and link definitions (``]:``) become text. Emphasis, headings and lists
    written by the library are kept.
    """
    text = text.replace("<", "&lt;")
    return re.sub(r"\](\s*)([(:])", r"]\1\\\2", text)


def css_string(text: str) -> str:
    """``text`` as a CSS string literal (for ``content:``), safe inside a ``<style>`` element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("\r", " ")
    return '"' + escaped.replace("<", "\\3C ").replace(">", "\\3E ") + '"'


# --------------------------------------------------------------------------------------------
# CSV files for people

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d[\d,]*)?(\.\d+)?([eE][+-]?\d+)?$")


def _neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        stripped = value.strip()
        if stripped and any(c.isdigit() for c in stripped) and _NUMBER.match(stripped):
            return value  # a number written as text ("-12.5") is a number, not a formula
        return "'" + value
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell a spreadsheet would run as a formula made plain text.

    Parameters
    ----------
    df
        Any table. Not modified.

    Returns
    -------
    DataFrame
        The same columns; in text columns (string or object dtype), a value starting with
        ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``, unless it is
        a number (``-12.5``). Numeric columns are untouched; column names are treated the same.

    Notes
    -----
    OWASP, "CSV Injection" (https://owasp.org/www-community/attacks/CSV_Injection).

    Example
    -------
    >>> neutralise_formulas(pd.DataFrame({"v": ["=1+1", "-3", "ok"]}))["v"].tolist()
    ["'=1+1", '-3', 'ok']
    """
    out = df.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_string_dtype(series) or series.dtype == object:
            out[column] = series.map(_neutralise, na_action="ignore")
    out.columns = [_neutralise(c) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path: Path | str, **options: Any) -> None:
    """Write ``df`` as a CSV meant for people (ledgers, problems, rejected rows): formula
    prefixes neutralised (:func:`neutralise_formulas`), no index; ``options`` go to
    :meth:`pandas.DataFrame.to_csv` (e.g. ``compression``)."""
    options.setdefault("index", False)
    neutralise_formulas(df).to_csv(path, **options)
