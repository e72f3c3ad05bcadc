"""needskit.reports.tables: headings, tables, labels and methods of the commissioning reports."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from needskit.errors import ReportError, SchemaError
from needskit.reports import delivery as dl
from needskit.reports import monitoring as mo
from needskit.reports import priorities as pr
from needskit.reports import provision as pv
from needskit.reports import resource_map as rm
from needskit.reports import scope, service_access, tables


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
    assert "£1,234" in html and "−£50" in html and "25.0%" in html and ">100<" in html and "1,200" in html
    assert "Area name" in html and "Gp practice (m)" in html and "Ward Name" in html
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
