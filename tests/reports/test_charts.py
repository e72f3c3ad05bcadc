"""needskit.reports.charts: the compare-areas table, the funnel plot, colour-blind-safe comparison
colours and the text alternative every chart carries (hand-made tables: no store, no kernel)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

from needskit.needs.statistics import funnel_limits
from needskit.reports import charts
from needskit.reports.context import Note
from needskit.reports.needs_profile import Funnel

HOSTILE = 'Ward "><img src=x onerror=alert(1)>'

# Machado, Oliveira & Fernandes (2009) simulation matrices at full severity (linear RGB)
CVD = {
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}


def _linear(colour: str) -> np.ndarray:
    rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(
        linear, 0, 1
    )
    t = xyz / np.array([0.9505, 1.0, 1.089])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _contrast(a: str, b: str) -> float:
    la, lb = (float(_linear(c) @ [0.2126, 0.7152, 0.0722]) for c in (a, b))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


# ------------------------------------------------------------------------------ colours


def test_comparison_colours_stay_apart_under_colour_blindness_and_text_is_readable():
    judged = ["better", "similar", "worse", "higher", "lower", "withheld", "not_compared"]
    colours = {k: charts.COMPARISON_COLOURS[k] for k in judged}
    assert colours["worse"] != "#C00000" and colours["better"] != "#92D050"  # no red/green pair
    for name, matrix in {"normal vision": np.eye(3).tolist(), **CVD}.items():
        for a, b in itertools.combinations(
            ["better", "similar", "worse", "higher", "lower", "not_compared"], 2
        ):
            seen_a, seen_b = (np.array(matrix) @ _linear(colours[k]) for k in (a, b))
            assert np.linalg.norm(_lab(seen_a) - _lab(seen_b)) > 20, (name, a, b)
    for key, fill in charts.COMPARISON_COLOURS.items():
        assert _contrast(fill, charts.text_colour(fill)) >= 4.5, key
        assert key in charts.COMPARISON_WORDS


# ------------------------------------------------------------------------------ the compare-areas table


def _rug() -> pd.DataFrame:
    rows = []
    cells = {  # indicator: England, county, district A, district B
        "crime": [(np.nan, "no_data"), (34.7, "not_compared"), (40.9, "worse"), (22.1, "better")],
        "older": [(18.5, "benchmark"), (21.8, "higher"), (19.9, "lower"), (np.nan, "withheld")],
        "pharm": [(16.0, "benchmark"), (16.3, "similar"), (21.0, "similar"), (11.5, "similar")],
    }
    titles = {"crime": "Crime per 1,000 residents", "older": "Aged 65 and over", "pharm": "Pharmacies"}
    units = {"crime": "per 1,000 residents", "older": "%", "pharm": "per 100,000 residents"}
    areas = [
        ("E92000001", "England", "england", "", "country"),
        ("C1", "Squares County", "area", "England", "county"),
        ("D1", "Alpha", "compared", "Squares County", "district"),
        ("D2", HOSTILE, "compared", "Squares County", "district"),
    ]
    for indicator, values in cells.items():
        for (code, name, role, against, level), (value, comparison) in zip(areas, values, strict=True):
            rows.append(
                {
                    "indicator": indicator,
                    "title": titles[indicator],
                    "unit": units[indicator],
                    "period": "2025-H1",
                    "polarity": "no_judgement" if indicator == "older" else "high_is_bad",
                    "area_code": code,
                    "area_name": name,
                    "role": role,
                    "level": level,
                    "value": value,
                    "comparison": comparison,
                    "comparator_name": against,
                }
            )
    return pd.DataFrame(rows)


def test_compare_areas_table_colours_and_words():
    view = charts.compare_areas_table(_rug())
    cells = view.cells
    assert list(cells.columns) == ["Indicator", "Period", "England", "Squares County", "Alpha", HOSTILE]
    assert cells["Indicator"].tolist() == [
        "Crime per 1,000 residents",
        "Aged 65 and over (%)",
        "Pharmacies (per 100,000 residents)",
    ]
    assert cells["Alpha"].tolist() == ["40.9\nworse", "19.9\nlower", "21.0\nsimilar"]
    assert cells[HOSTILE].tolist() == ["22.1\nbetter", "withheld", "11.5\nsimilar"]
    assert cells["England"].tolist() == ["no data", "18.5", "16.0"]
    assert cells["Squares County"].tolist() == ["34.7\nnot compared", "21.8\nhigher", "16.3\nsimilar"]
    html = view._repr_html_()
    # each cell on its comparison's colour, with the text colour of the higher contrast
    for text, key in (
        ("40.9", "worse"),
        ("22.1", "better"),
        ("21.8", "higher"),
        ("19.9", "lower"),
        ("withheld", "withheld"),
    ):
        cell = re.search(rf'<td id="(T_\w+_row\d+_col\d+)"[^>]*>{re.escape(text)}', html)
        assert cell, text
        rule = re.search(rf"#{cell.group(1)}[^{{]*\{{([^}}]*)\}}", html).group(1)
        fill = charts.COMPARISON_COLOURS[key]
        assert f"background-color: {fill}" in rule and f"color: {charts.text_colour(fill)}" in rule, (
            text,
            rule,
        )
    # the key names every outcome shown, each word on its colour
    for word in ("better", "similar", "worse", "higher", "lower", "withheld", "no data", "not compared"):
        assert f">{word}</td>" in view.legend.to_html(), word
    assert "compared with Squares County" in html and "Squares County with England" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html  # names are text, not markup


def test_compare_areas_headings_each_have_room_for_their_longest_word():
    # a county's districts: no heading may run into the next (each column holds its name's
    # longest word in the bold heading, ~1.55 mm a character on A4, and its padding)
    names = ["England", "Gloucestershire", "Cheltenham", "Cotswold", "Forest of Dean", "Gloucester",
             "Stroud", "Tewkesbury"]  # fmt: skip
    rug = _rug()
    rug = pd.concat(
        [
            rug[rug["role"] != "compared"].replace({"Squares County": names[1]}),
            *(
                rug[rug["area_code"] == "D1"].assign(area_code=f"D{i}", area_name=n)
                for i, n in enumerate(names[2:])
            ),
        ]
    )
    html = charts.compare_areas_table(rug)._repr_html_()
    widths = [float(w) for _, w in re.findall(r"th:nth-child\((\d+)\) \{\s*width: ([\d.]+)%", html)]
    assert len(widths) == 2 + len(names) and sum(widths) == pytest.approx(100, abs=0.05)
    for name, width in zip(names, widths[2:], strict=True):
        longest = min(max(len(w) for w in name.split()), 12)  # longer words are hyphenated
        assert width * 1.76 >= longest * 1.55 + 1.6, (name, width)
    assert widths[0] >= 20  # the indicator's name keeps a readable column
    assert "border-left: 1px solid #FFFFFF" in html  # a rule between the columns


def test_compare_areas_table_passes_a_note_through():
    note = Note("No districts are compared with Alpha.")
    assert charts.compare_areas_table(note) is note
    assert charts.funnel_plot(note) is note


# ------------------------------------------------------------------------------ the funnel plot


def _funnel() -> Funnel:
    points = pd.DataFrame(
        {
            "area_code": ["A", "B", "C", "D", "E"],
            "area_name": ["Alpha", "Bravo", HOSTILE, "Delta", "Echo"],
            "numerator": [480.0, 200.0, 2300.0, 3150.0, np.nan],
            "denominator": [12_000.0, 10_000.0, 87_000.0, 120_000.0, 15_000.0],
            "value": [40.0, 20.0, 26.4, 26.25, np.nan],
            "withheld": [False, False, False, False, True],
            "suppressed_reason": ["", "", "", "", "fewer than 8 events"],
        }
    )
    points = funnel_limits(
        points,
        denominator="denominator",
        comparator=26.0,
        statistic="crude_rate",
        multiplier=1000,
        value="value",
        polarity="high_is_bad",
    )
    curve = funnel_limits(
        pd.DataFrame({"denominator": np.linspace(5_000, 130_000, 50)}),
        denominator="denominator",
        comparator=26.0,
        statistic="crude_rate",
        multiplier=1000,
    )
    return Funnel(
        points=points,
        curve=curve,
        centre=26.0,
        indicator="crime",
        title="Crime per 1,000 residents",
        unit="per 1,000 residents",
        period="2025-H1",
        polarity="high_is_bad",
        statistic="crude_rate",
        comparator_name="Squares County",
        areas_word="districts of Squares County",
    )


def test_funnel_plot_draws_limits_points_and_describes_them():
    funnel = _funnel()
    assert funnel.points["funnel_comparison"].tolist() == [
        "worse",
        "better",
        "similar",
        "similar",
        "not_compared",
    ]
    fig = charts.funnel_plot(funnel)
    ax = fig.axes[0]
    assert len(ax.lines) == 5  # centre line and the two pairs of limits
    assert len(ax.collections) == 4  # the four areas with a value; the withheld one is named below
    labels = [t.get_text() for t in ax.texts]
    assert "Alpha (worse)" in labels and "Bravo (better)" in labels and f"{HOSTILE} (similar)" in labels
    assert any("Withheld (not plotted): Echo" in t.get_text() for t in fig.texts)
    alt = fig.alt
    assert alt.startswith("Funnel plot: Crime per 1,000 residents, 2025-H1. 4 districts of Squares County")
    assert "Squares County's value of 26.0 per 1,000 residents as the centre line" in alt
    assert "1 significantly worse, 1 significantly better, 2 not significantly different" in alt
    assert "Above the 99.8% limit: Alpha." in alt and "Below the 99.8% limit: Bravo." in alt
    assert "Highest: Alpha (40.0); lowest: Bravo (20.0)" in alt and "Withheld: Echo." in alt
    # the limits drawn are the ones the points are judged by
    centre = ax.lines[0].get_ydata()
    assert centre[0] == 26.0


def test_a_chart_shows_as_an_image_with_its_text_alternative_and_no_separate_png():
    fig = charts.funnel_plot(_funnel())
    bundle = fig._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    html = bundle["text/html"]
    assert html.startswith('<figure class="needskit-chart"><img src="data:image/png;base64,')
    alt = re.search(r'alt="([^"]*)"', html).group(1)
    caption = re.search(r"<figcaption[^>]*>(.*)</figcaption>", html).group(1)
    assert alt == caption and alt.startswith("Funnel plot: Crime") and "&lt;img src=x" in alt
    assert "<img src=x" not in html and bundle["text/plain"] == fig.alt
    # displayed from a kernel: the bundle only (the inline backend's PNG would win in the PDF)
    shell = InteractiveShell.instance()
    data, _ = shell.display_formatter.format(fig)
    assert data == {}  # _ipython_display_ publishes the bundle itself


# ------------------------------------------------------------------------------ other charts' text


def test_spine_trend_bars_and_cluster_charts_describe_their_data(squares):
    table = pd.DataFrame(
        {
            "indicator": ["crime", "older", "pharm", "score"],
            "title": ["Crime, all", "Aged 65 and over", "Pharmacies", "A score"],
            "value": [40.9, 19.9, 21.0, np.nan],
            "comparator_value": [34.7, 21.8, 16.3, 10.0],
            "comparison": ["worse", "lower", "similar", "not_compared"],
            "polarity": ["high_is_bad", "no_judgement", "high_is_good", "high_is_bad"],
        }
    )
    spread = pd.DataFrame(
        {"indicator": ["crime", "crime", "older", "pharm"], "value": [20.0, 50.0, 25.0, 12.0]}
    )
    alt = charts.spine_chart(
        table, spread, title="Alpha compared with Squares County", comparator_name="Squares County"
    ).alt
    assert alt.startswith("Spine chart: Alpha compared with Squares County. 3 indicators")
    assert "1 significantly worse, 1 significantly lower, 1 not significantly different" in alt
    assert "Significantly worse: Crime, all." in alt
    assert (
        "Highest relative to Squares County: Pharmacies (21.0 against 16.3); "
        "lowest: Aged 65 and over (19.9 against 21.8)" in alt
    )
    assert "1 indicators without a value" in alt

    periods = pd.DataFrame(
        {
            "period": ["2024-H1", "2024-H2", "2025-H1"],
            "value": [30.0, np.nan, 36.5],
            "lower_95": [29.0, np.nan, 35.0],
            "upper_95": [31.0, np.nan, 38.0],
        }
    )
    alt = charts.trend_chart(periods, title="Crime", ylabel="per 1,000").alt
    assert "2024-H1 to 2025-H1 (3 periods)" in alt and "30.0 in 2024-H1 and 36.5 in 2025-H1" in alt
    assert "highest 36.5 (2025-H1), lowest 30.0 (2024-H1)" in alt and "No published value for 2024-H2" in alt

    bars = pd.DataFrame(
        {
            "quantile": [1, 2, 3],
            "value": [50.0, 30.0, 20.0],
            "lower_95": [45.0, 27.0, 18.0],
            "upper_95": [55.0, 33.0, 22.0],
        }
    )
    alt = charts.quantile_bars(bars, title="Crime by quintile", ylabel="per 1,000").alt
    assert "1: 50.0; 2: 30.0; 3: 20.0" in alt and "Highest in group 1 (50.0), lowest in group 3 (20.0)" in alt

    clusters = squares.assign(cluster=["high-high", "high-high", "low-low", "not significant"])
    alt = charts.cluster_map(clusters, title="Clusters of crime").alt
    assert alt == (
        "Map: Clusters of crime. 4 neighbourhoods: 2 high-high, 1 low-low, 1 not significant. "
        "High-high: Alpha, Bravo."
    )


def test_a_figure_without_text_falls_back_to_its_titles():
    fig = charts.ReportFigure()
    fig.add_subplot().set_title("Supply by district")
    assert fig.text_alternative() == "Chart: Supply by district."
    assert 'alt="Chart: Supply by district."' in fig._repr_mimebundle_()["text/html"]
