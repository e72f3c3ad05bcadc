"""needskit.safe_text: values from data and config are text wherever they are published."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from needskit.safe_text import (
    SafeStyler,
    css_string,
    escape_markdown,
    neutralise_formulas,
    sanitise_markdown,
    styled,
    write_csv,
)

HOSTILE = '<img src=x onerror=alert(1)>"><svg onload=alert(2)>'


def test_styled_escapes_cells_headers_index_and_caption_whatever_is_added_later():
    df = pd.DataFrame({HOSTILE: [HOSTILE, "ok"], "value": [1.25, -2.0]}, index=[HOSTILE, "b"])
    styler = styled(df).format({"value": "{:.1f}"}, na_rep="").format("{:,.2f}", subset=["value"])
    styler = styler.format_index(lambda h: f"col {h}", axis=1).set_caption(HOSTILE)
    page = styler.to_html()
    assert isinstance(styler, SafeStyler)
    assert "<img" not in page and "<svg" not in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") == 4  # cell, index, caption, header
    assert "col &lt;img src=x" in page  # the header, through a formatter added later
    assert "1.25" in page and "-2.00" in page  # formats still apply


def test_styled_makes_no_links_from_urls():
    page = styled(pd.DataFrame({"url": ["https://example.org/x"]})).format(hyperlinks="html").to_html()
    assert "<a " not in page


def test_escape_markdown_is_text_on_one_line():
    text = escape_markdown("St *Mary*\n\n# <b>[x](javascript:alert(1))</b> & co")
    assert "\n" not in text and "<" not in text
    assert text == r"St \*Mary\* \# &lt;b&gt;\[x\](javascript:alert(1))&lt;/b&gt; &amp; co"


def test_sanitise_markdown_turns_html_and_links_into_text():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    source = (
        "## Title\n\n- <script>alert(1)</script> and **bold**\n\n<div onclick=x>block</div>\n\n"
        "[a](javascript:alert(1)) ![i](file:///etc/passwd) <http://x> [r]\n\n[r]: file:///etc/passwd"
    )
    rendered = markdown2html_mistune(sanitise_markdown(source))
    assert "<script" not in rendered and "<div" not in rendered and "<img" not in rendered
    assert "javascript:" not in rendered.replace("[a](javascript:", "") and 'href="file' not in rendered
    assert "<h2" in rendered and "<strong>bold</strong>" in rendered and "<li>" in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


def test_css_string_cannot_close_the_style_element():
    text = css_string('Area </style><a rel="attachment" href="file:///x">"\\')
    assert "<" not in text and ">" not in text
    assert text.startswith('"') and text.endswith('"') and '\\"' in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("-12.5", "-12.5"),
        ("+44", "+44"),
        ("-1,234", "-1,234"),
        ("1e-5", "1e-5"),
        ("GL50 1AA", "GL50 1AA"),
        ("", ""),
    ],
)
def test_neutralise_formulas_text_cells(value, expected):
    assert neutralise_formulas(pd.DataFrame({"v": [value]}))["v"].iat[0] == expected


def test_neutralise_formulas_keeps_numbers_and_missing_values_and_the_input():
    df = pd.DataFrame(
        {
            "n": [-1, 2],
            "x": [-1.5, None],
            "s": pd.array(["=1", None], dtype="string"),
            "o": pd.Series(["@a", 3], dtype=object),
            "=h": ["a", "b"],
        }
    )
    before = df.copy()
    out = neutralise_formulas(df)
    pd.testing.assert_frame_equal(df, before)
    assert out["n"].tolist() == [-1, 2] and out["x"].iat[0] == -1.5 and pd.isna(out["x"].iat[1])
    assert out["s"].iat[0] == "'=1" and pd.isna(out["s"].iat[1])
    assert out["o"].tolist() == ["'@a", 3]
    assert list(out.columns) == ["n", "x", "s", "o", "'=h"]


def test_write_csv_neutralises_and_passes_options(tmp_path):
    path = tmp_path / "rows.csv.gz"
    write_csv(pd.DataFrame({"name": ["=cmd", "ok"], "n": [-3, 4]}), path, compression="gzip")
    with gzip.open(path, "rt") as handle:
        assert handle.read().splitlines() == ["name,n", "'=cmd,-3", "ok,4"]


def test_escape_markdown_keeps_underscores_inside_words():
    assert escape_markdown("nhs_digital _x_") == r"nhs_digital \_x\_"


def test_table_ids_are_in_order_not_random(monkeypatch):
    """pandas gives each Styler a random id; a report's tables are numbered in order instead, so
    a report rerun (on another machine, say) writes the same HTML."""
    import itertools
    import re

    from needskit import safe_text

    frame = pd.DataFrame({"a": [1, 2]})
    monkeypatch.setattr(safe_text, "_TABLE_SERIAL", itertools.count())  # a fresh kernel
    first = [safe_text.styled(frame).to_html() for _ in range(2)]
    monkeypatch.setattr(safe_text, "_TABLE_SERIAL", itertools.count())  # the report, run again
    assert [safe_text.styled(frame).to_html() for _ in range(2)] == first
    ids = [set(re.findall(r'<table id="(T_n[0-9a-f]{4})"', page)) for page in first]
    assert len(ids[0]) == len(ids[1]) == 1 and ids[0] != ids[1]
