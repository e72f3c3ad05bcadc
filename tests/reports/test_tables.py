"""needskit.reports.tables: headings, tables, labels and methods of the commissioning reports."""

from __future__ import annotations

import dataclasses
import re
from html import unescape

import nbformat
import pandas as pd
import pypdf
import pytest

from needskit.errors import ReportError, SchemaError
from needskit.reports import changes, charts, needs_profile, scope, service_access, tables
from needskit.reports import delivery as dl
from needskit.reports import monitoring as mo
from needskit.reports import priorities as pr
from needskit.reports import provision as pv
from needskit.reports import resource_map as rm
from needskit.reports.export import ExportContext, export_pdf
from needskit.safe_text import styled
from reports.cases import CHELTENHAM


def test_report_title_names_area_report_period_and_audience(ctx):
    title = tables.report_title(ctx, report="resource map")
    assert title.startswith("## Cheltenham: resource map, 2025-H1")
    assert (
        "Gloucestershire Strategic Partnership" in title
        and "for publication" in title
        and "nhs_digital" in title
    )
    internal = tables.report_title(
        dataclasses.replace(ctx, audience="internal", partnership=""), report="resource map"
    )
    assert (
        "internal, not for publication" in internal
        and "small numbers" not in internal
        and " · " not in internal
    )


def test_data_label(services):
    assert "ILLUSTRATIVE" in tables.data_label(services)
    assert tables.data_label(services[~services["illustrative"]]) == ""
    assert "ILLUSTRATIVE" in tables.data_label(pd.DataFrame({"data_status": ["real", "ILLUSTRATIVE; real"]}))
    assert tables.data_label(pd.DataFrame({"x": [1]})) == ""


def test_theme_names_and_shorten():
    names = tables.theme_names(pd.Series(["children_young_people", "not_a_theme"]))
    assert names.tolist() == ["Children and young people", "not_a_theme"]
    assert tables.shorten("abcdef", width=4) == "abc…" and tables.shorten("abc", width=4) == "abc"
    assert tables.money(-50) == "−£50" and tables.money(float("nan")) == ""


def test_show_table_formats_money_shares_and_counts():
    frame = pd.DataFrame(
        {
            "area_name": ["A", "B"],
            "spend_gbp": [1234.0, -50.0],
            "share_x": [0.25, 0.5],
            "population": [100.0, 5.0],
            "gp_practice_m": [1200.4, 80.0],
            "Ward Name": ["x", "y"],
        }
    )
    html = tables.show_table(frame).to_html()
    assert "£1,234" in html and "−£50" in html and ">25.0<" in html and ">100<" in html and "1,200" in html
    assert "Area name" in html and "GP practice (m)" in html and "Ward Name" in html and "Share x (%)" in html
    assert ">0.25" not in html and "25.0%" in tables.show_table(frame, columns={"share_x": "Share"}).to_html()
    assert tables.show_table(frame, columns={"area_name": "Place"}, top=1).to_html().count("<tr") == 2
    with pytest.raises(SchemaError, match="not in frame|nope"):
        tables.show_table(frame, columns=["nope"])


@pytest.mark.parametrize(
    "call",
    [
        lambda f: rm.services_summary(f),
        lambda f: rm.supply_map_frame(f, ctx=None),
        lambda f: rm.supply_wide(f),
        lambda f: rm.supply_chart(f, title="x"),
        lambda f: pv.provision_gaps(f, f),
        lambda f: pv.duplication_summary(f),
        lambda f: pv.spend_table(f),
        lambda f: pr.priority_matrix(f),
        lambda f: mo.synthetic_history(f),
    ],
)
def test_table_functions_name_the_missing_columns(call):
    with pytest.raises(SchemaError, match="not a column of the frame|not in the frame"):
        call(pd.DataFrame({"area_code": ["A"], "unrelated": [1]}))


def test_methods_text_for_each_report_and_unknown():
    for report in ("resource-map", "commissioning-priorities", "outcomes-monitoring"):
        text = tables.methods_text(report)
        assert len(text) > 200 and "Gloucestershire" not in text and "Cheltenham" not in text
    assert "ILLUSTRATIVE" in tables.methods_text("resource-map")
    with pytest.raises(ReportError, match="no methods text"):
        tables.methods_text("needs-profile")


def test_report_modules_name_no_area_or_dataset():
    """Areas and datasets come from the context (the store's manifest), never from the code."""
    import inspect

    for module in (tables, scope, rm, service_access, pv, pr, dl, mo):
        source = inspect.getsource(module)
        for text in (
            "E07000",
            "E10000013",
            "Gloucester",
            "Cheltenham",
            "population_census2021",
            "iod2025_scores",
            ".csv",
        ):
            assert text not in source, (module.__name__, text)


def test_an_empty_table_that_says_why_is_a_sentence():
    from needskit.reports.context import Note

    empty = tables.why_empty(
        pd.DataFrame(columns=["area_name", "n_services"]), "No service here: none located."
    )
    shown = tables.show_table(empty)
    assert isinstance(shown, Note) and shown.text == "No service here: none located."
    assert "<p" in shown._repr_html_()
    assert not isinstance(tables.show_table(pd.DataFrame(columns=["a"])), Note)  # silent only if not told
    full = tables.why_empty(pd.DataFrame({"a": [1]}), "unused")
    assert not isinstance(tables.show_table(full), Note)


def test_unlocated_sentence_groups_sources_by_reason():
    unlocated = {
        "gp_practice": {"title": "GP practices", "reason": "no postcode directory given"},
        "pharmacy": {"title": "Pharmacies", "reason": "no postcode directory given"},
        "library": {"title": "Libraries", "reason": "postcode not in the postcode directory"},
    }
    assert tables.unlocated_sentence(unlocated) == (
        "GP practices and Pharmacies could not be located: no postcode directory given. "
        "Libraries could not be located: postcode not in the postcode directory."
    )
    assert tables.unlocated_sentence(unlocated, service_types=["library", "museum"]) == (
        "Libraries could not be located: postcode not in the postcode directory."
    )
    assert tables.unlocated_sentence({}) == ""


# ------------------------------------------------------------------------------ layout on the page


def test_codes_in_words():
    codes = pd.Series(["gp_practice", "central_government", "nhs", None])
    assert tables.in_words(codes).tolist()[:3] == ["GP practice", "central government", "NHS"]
    assert tables.in_words(codes).isna().tolist() == [False, False, False, True]


def test_headings_are_words_with_units():
    cases = {
        "supply_per_1000": "Supply per 1,000",
        "gp_practice_m": "GP practice (m)",
        "spend_gbp": "Spend (£)",
        "n_services": "Services (number)",
        "imd_rank": "IMD rank",
        "lsoa_name": "LSOA name",
        "budget_share_high_need": "Budget share high need (%)",
        "Ward Name": "Ward Name",
    }
    assert {c: tables._heading(c) for c in cases} == cases


def test_every_table_marks_headers_figures_and_hides_the_index():
    frame = pd.DataFrame(
        {
            "area_name": ["A", "B"],
            "population": [3440.0, 12.0],
            "share_high_need": [0.289, 0.5],
            "year": [2025, 2024],
            "change": ["× 1.05 (0.98 to 1.12)", "+1.2 pp (−0.3 to +2.7)"],
            "note": ["fine", "2 withheld"],
        },
        index=[7, 7],  # a repeated index is neither shown nor a problem
    )
    html = tables.show_table(frame).to_html()
    assert html.count('scope="col"') == 6 and "<th" not in html.split("<tbody>")[1]
    assert 'class="needskit-table"' in html
    cells = dict(re.findall(r'class="data row0 col\d+ ?([a-z]*)" >([^<]*)<', html)[i][::-1] for i in range(6))
    assert cells == {"A": "", "3,440": "figure", "28.9": "figure", "2025": "figure",
                     "× 1.05 (0.98 to 1.12)": "figure", "fine": ""}  # fmt: skip
    assert "Share high need (%)" in html and "th.col_heading.col1" in html  # a figure's heading right-aligned
    with pytest.raises(SchemaError, match="figures"):
        tables.lay_out(styled(frame), figures=["nope"])

    def density(n: int) -> str:  # n columns headed by a long phrase
        wide = pd.DataFrame({f"Economic development, enterprise and skills {i}": [0.1] for i in range(n)})
        return re.search(r'class="needskit-table ?([^"]*)"', tables.show_table(wide).to_html())[1]

    assert [density(n) for n in (4, 8, 9, 12)] == ["", "compact", "dense", "dense tight"]
    declared = tables.show_table(tables.figures(frame, ["note"]))
    assert 'class="data row1 col5 figure" >2 withheld<' in declared.to_html()


def test_identifiers_and_codes_are_text_not_figures():
    # an outcome ID "1.1" or a code looks like a figure but is text: left-aligned, kept whole
    frame = pd.DataFrame(
        {
            "outcome_id": ["1.1", "2.3"],
            "area_code": ["1", "2"],
            "Outcome": ["Safer", "Healthier"],
            "n_places": [3, 4],
        }
    )
    html = tables.show_table(frame).to_html()
    assert 'class="data row0 col0 whole" >1.1<' in html and 'class="data row1 col1 whole" >2<' in html
    assert 'class="data row0 col3 figure" >3<' in html
    assert "th.col_heading.col0" not in html and "th.col_heading.col3" in html  # only figures right
    renamed = tables.show_table(frame, columns={"outcome_id": "Outcome ID", "n_places": "Places"}).to_html()
    assert 'col0 whole" >1.1<' in renamed


def test_the_indicator_table_marks_figures_and_says_units(ctx):
    table = needs_profile.indicator_table(ctx)
    html = charts.indicator_styler(table, comparator_name=ctx.comparator_name).to_html()
    assert 'scope="col" >Gloucestershire<' in html and 'class="needskit-table"' in html
    values = [f"{v:,.1f}" for v in table["value"].dropna()]
    for value in values:
        assert re.search(rf'figure" >{re.escape(value)}<', html), value
    # a unit the title does not say follows it
    untitled = table.assign(title="Burglary", unit="per 1,000 residents").head(1)
    shown = charts.indicator_styler(untitled, comparator_name="X").to_html()
    assert ">Burglary (per 1,000 residents)<" in shown


@pytest.fixture(scope="module")
def lsoa_ctx(report_context):
    return report_context(CHELTENHAM, audience="public")


def test_priority_table_names_places_and_gives_every_driver(lsoa_ctx):
    frame = needs_profile.priority_neighbourhoods(lsoa_ctx)
    html = needs_profile.priority_table(lsoa_ctx).to_html()
    head = html.split("<tbody>")[0]
    for heading in ("Neighbourhood", "Ward", "IMD rank (1 = most deprived)", "IMD decile"):
        assert f'scope="col" >{heading}<' in head
    assert "area_code" not in html and "row_heading" not in html and "…" not in html and "..." not in html
    assert html.count("<tr>") == len(frame) + 1
    first = frame.iloc[0]
    text = unescape(html)
    assert f">{first['area_name']}<" in text and f">{first['ward']}<" in text
    assert f'figure" >{first["imd_rank"]:,}<' in html
    assert f">{first['drivers']}<" in text and first["drivers"].count("; ") >= 1  # in full
    nothing = dataclasses.replace(lsoa_ctx, neighbourhoods=lsoa_ctx.neighbourhoods.iloc[:0])
    assert "No neighbourhood of Cheltenham" in needs_profile.priority_table(nothing).text


@pytest.fixture(scope="module")
def tables_pdf(ctx, lsoa_ctx, tmp_path_factory):
    """The needs profile's tables (indicators, priority neighbourhoods, what changed) printed as the
    report prints them (the notebook's display outputs, no kernel), and the PDF's text."""
    indicators = needs_profile.indicator_table(ctx)
    changed, _ = changes.what_changed(ctx)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Tables")]
    for obj in (
        charts.indicator_styler(indicators, comparator_name=ctx.comparator_name),
        needs_profile.priority_table(lsoa_ctx),
        tables.show_table(changed),
    ):
        cell = nbformat.v4.new_code_cell("shown()")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": obj.to_html()})]
        nb.cells.append(cell)
    export = ExportContext(
        title="Tables",
        report="needs-profile",
        area=ctx.area_code,
        area_name=ctx.area_name,
        period=ctx.period,
        publish="public",
        disclosure_rule=ctx.rule,
        partnership=ctx.partnership,
        date="1 July 2025",
    )
    path = tmp_path_factory.mktemp("tables") / "tables.pdf"
    export_pdf(nb, export, path)
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    return indicators, changed, text


def test_pdf_prints_every_figure_of_the_indicator_table_on_one_line(tables_pdf, ctx):
    indicators, _, text = tables_pdf
    lines = text.splitlines()
    expected = [f"{v:,.1f}" for v in indicators["value"].dropna()]
    expected += [f"{v:,.0f}" for v in indicators["count"].dropna()]
    expected += [f"{v:,.1f}" for v in indicators["comparator_value"].dropna()]
    expected += [
        f"{lo:,.1f} – {hi:,.1f}" for lo, hi in indicators[["lower_95", "upper_95"]].dropna().to_numpy()
    ]
    assert any("," in v for v in expected)  # thousands are among them
    broken = [v for v in expected if not any(v in line for line in lines)]
    assert not broken, broken
    for word in (ctx.comparator_name, "Compared", "Indicator", "interval"):  # headings not cut in a word
        assert any(word in line for line in lines), word


def test_pdf_prints_priority_names_ranks_and_drivers_whole(tables_pdf, lsoa_ctx):
    _, changed, text = tables_pdf
    flat = " ".join(text.split())
    frame = needs_profile.priority_neighbourhoods(lsoa_ctx)
    lines = text.splitlines()
    for row in frame.itertuples():
        assert any(f"{row.imd_rank:,}" in line for line in lines), row.imd_rank
        for driver in row.drivers.split("; "):  # every driver, in full (wrapped between words)
            assert driver in flat, driver
    for change in changed["Change (95% CI)"]:  # the change table's intervals are not wrapped
        assert any(change in line for line in lines), change
