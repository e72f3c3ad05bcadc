"""needskit.reports.contrast: WCAG 2.2 contrast ratios, and the text colours reports put on colour."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from needskit.commissioning.spc_plot import COLOURS
from needskit.errors import SchemaError
from needskit.reports import monitoring
from needskit.reports.contrast import AA_TEXT, contrast_ratio, relative_luminance, text_colour


def test_contrast_ratios_match_wcag():
    assert relative_luminance("#000000") == 0 and relative_luminance("#ffffff") == pytest.approx(1)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1)
    # WCAG's own examples: #767676 is the lightest grey that passes AA on white (4.54:1)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") < AA_TEXT < contrast_ratio("#767676", "#ffffff")
    assert contrast_ratio("white", "#e46c0a") == pytest.approx(3.26, abs=0.01)  # the old board's cell
    with pytest.raises(SchemaError, match="is not a colour"):
        contrast_ratio("#ggg", "#fff")


@pytest.mark.parametrize("background", [*COLOURS.values(), "#ffff00", "#777777", "#808080", "#0000ff"])
def test_text_colour_always_reaches_aa(background):
    assert contrast_ratio(text_colour(background), background) >= AA_TEXT


def test_the_board_tables_coloured_cells_are_readable():
    board = pd.DataFrame(
        {
            "indicator": ["A", "B", "C", "D"],
            "time": ["2025-06"] * 4,
            "value": [1.0] * 4,
            "mean": [1.0] * 4,
            "lower_limit": [0.5] * 4,
            "upper_limit": [1.5] * 4,
            "target": [1.2] * 4,
            "variation_text": [
                "common cause",
                "special cause improving (high)",
                "special cause concerning (high)",
                "special cause",
            ],
            "assurance_text": [
                "consistently fails target",
                "consistently meets target",
                "inconsistent",
                "",
            ],
            "n_points": [24] * 4,
            "data": ["real"] * 4,
        }
    )
    page = monitoring.board_table(board).to_html()
    pairs = re.findall(r"background-color: (#[0-9a-fA-F]{6});\s*color: (#[0-9a-fA-F]{6})", page)
    assert len(set(pairs)) == 4  # four variation colours (the two assurance ones are among them)
    style = page.split("</style>")[0]
    assert "_row0_col8" in style and "_row1_col8" in style  # both assurance cells are painted
    for background, text in pairs:
        assert contrast_ratio(text, background) >= AA_TEXT, (background, text)
