"""Charts for the reports, in the conventions leaders know (Fingertips' views and comparisons).

Every function takes tables from :mod:`needskit.reports.needs_profile` and returns a
:class:`ReportFigure` (no pyplot state), which renders the same in HTML and in the PDF, or a
table (:class:`~needskit.safe_text.SafeStyler`). Every figure carries a text alternative built
from the data it draws (what it shows, the extremes, how many areas or indicators are
significantly better or worse): the image's ``alt`` text in HTML and its caption in the PDF.

Comparison colours are colour-blind safe and always come with the comparison's word (in a
legend, a cell or a label): better and worse are Okabe and Ito's bluish green and vermillion,
similar Fingertips' amber, and for indicators with no judgement Fingertips' dark and light blue for
higher and lower. The pairs stay apart (CIELAB ΔE > 20) under simulated protanopia,
deuteranopia and tritanopia, and each colour is paired with the text colour of the higher
contrast (≥ 4.5:1).
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from needskit.reports.tables import lay_out
from needskit.safe_text import SafeStyler, escape_html, styled

if TYPE_CHECKING:
    from needskit.reports.context import Note
    from needskit.reports.needs_profile import Funnel

__all__ = [
    "COMPARISON_COLOURS",
    "COMPARISON_WORDS",
    "FINGERTIPS_COLOURS",
    "ReportFigure",
    "spine_chart",
    "quantile_bars",
    "trend_chart",
    "comparison_colour",
    "text_colour",
    "cluster_map",
    "indicator_styler",
    "funnel_plot",
    "compare_areas_table",
]

COMPARISON_COLOURS = {
    "better": "#009E73",  # Okabe-Ito bluish green
    "similar": "#FFC000",  # Fingertips amber
    "worse": "#D55E00",  # Okabe-Ito vermillion
    "higher": "#5555E6",  # Fingertips, no judgement
    "lower": "#BED2FF",  # Fingertips, no judgement
    "not_compared": "#FFFFFF",
    "no comparator": "#FFFFFF",
    "benchmark": "#FFFFFF",
    "no_data": "#FFFFFF",
    "withheld": "#D9D9D9",
}
"""Fill of each comparison outcome (colour-blind safe; always shown with its word)."""

FINGERTIPS_COLOURS = COMPARISON_COLOURS
"""The name earlier versions used for :data:`COMPARISON_COLOURS`."""

COMPARISON_WORDS = {
    "better": "better",
    "similar": "similar",
    "worse": "worse",
    "higher": "higher",
    "lower": "lower",
    "not_compared": "not compared",
    "no comparator": "not compared",
    "benchmark": "benchmark",
    "no_data": "no data",
    "withheld": "withheld",
}
"""The word shown with each comparison colour."""

_GREY_LIGHT, _GREY_DARK = "#C9C9C9", "#8B8B8B"


def _luminance(colour: str) -> float:
    rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def text_colour(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill`` (a ``#RRGGBB`` colour; WCAG ratio)."""
    lum = _luminance(fill)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#FFFFFF"


class ReportFigure(Figure):
    """A matplotlib Figure that shows itself in notebooks and exported reports (no pyplot, no
    inline backend) as an image with a text alternative.

    Set :attr:`alt` to the text alternative (built from the data drawn); without one, the axes'
    titles are used. It is displayed as ``<figure>`` with the PNG (``alt`` = the text) and a
    ``<figcaption>`` holding the same text: the HTML report's stylesheet hides the caption on
    screen (the alt text is read instead), the PDF prints it under the chart.
    """

    alt: str = ""

    def to_png(self, *, dpi: int = 130) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.to_png()

    def text_alternative(self) -> str:
        """:attr:`alt`, or the axes' titles when no text was set."""
        if self.alt:
            return self.alt
        titles = [ax.get_title(loc) for ax in self.axes for loc in ("left", "center", "right")]
        titles = [t for t in titles if t]
        return "Chart: " + "; ".join(titles) + "." if titles else "Chart."

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        text = self.text_alternative()
        png = base64.b64encode(self.to_png()).decode("ascii")
        html = (
            '<figure class="needskit-chart">'
            f'<img src="data:image/png;base64,{png}" alt="{escape_html(text)}">'
            '<figcaption class="needskit-chart-caption" style="font-size: 0.8em; color: #404040; '
            f'margin: 0.2em 0 0.8em;">{escape_html(text)}</figcaption>'
            "</figure>"
        )
        return {"text/html": html, "text/plain": text}

    def _ipython_display_(self) -> None:
        """Displayed as the bundle only: no PNG of the inline backend beside it (the PDF would
        prefer that PNG and lose the caption)."""
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)


def comparison_colour(comparison: str, polarity: str = "high_is_bad") -> str:
    """The fill for a comparison outcome (:data:`COMPARISON_COLOURS`; blues for 'no judgement')."""
    return COMPARISON_COLOURS.get(comparison, "#FFFFFF")


def _fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:,.{digits}f}"


def _names(items: Sequence[str], limit: int = 4, *, sep: str = ", ") -> str:
    items = list(items)
    if len(items) <= limit:
        return sep.join(items)
    return sep.join(items[:limit]) + f" and {len(items) - limit} more"


def _counts(comparisons: Sequence[str]) -> str:
    """ "2 significantly worse, 3 significantly better, 1 similar" from comparison outcomes."""
    words = {
        "worse": "significantly worse",
        "better": "significantly better",
        "higher": "significantly higher",
        "lower": "significantly lower",
        "similar": "not significantly different",
        "not_compared": "not compared",
    }
    values = pd.Series(list(comparisons), dtype=object).replace({"no comparator": "not_compared"})
    parts = [f"{int((values == key).sum())} {word}" for key, word in words.items() if (values == key).any()]
    return ", ".join(parts) if parts else "none compared"


def spine_chart(
    table: pd.DataFrame, distribution: pd.DataFrame, *, title: str, comparator_name: str
) -> ReportFigure:
    """A Fingertips spine chart: one row per indicator, the comparator at the centre line.

    Parameters
    ----------
    table
        :func:`needskit.reports.needs_profile.indicator_table` (``indicator``, ``title``, ``value``,
        ``comparator_value``, ``comparison``, ``polarity``).
    distribution
        Values of the comparison group per indicator (``indicator``, ``value``), e.g. every
        district of the county; drawn as the grey bars (worst, 25th, 75th percentile, best).
    """
    rows = table[table["value"].notna() & table["comparator_value"].notna()].reset_index(drop=True)
    n = len(rows)
    fig = ReportFigure(figsize=(10, 0.5 * n + 1.6))
    ax = fig.add_subplot()
    for i, row in rows.iterrows():
        y = n - 1 - i
        centre = row["comparator_value"]
        values = distribution.loc[distribution["indicator"] == row["indicator"], "value"].dropna().to_numpy()
        values = np.append(values, row["value"])
        spread = np.nanmax(np.abs(values - centre)) or 1.0
        # worse to the left (Fingertips); for 'no judgement' indicators, higher to the right
        flip = 1.0 if row["polarity"] == "high_is_bad" else -1.0
        q = np.nanpercentile(values, [0, 25, 75, 100])
        low, q1, q3, high = 0.5 - flip * (q - centre) / (2.05 * spread)
        left, right = sorted([low, high])
        inner_left, inner_right = sorted([q1, q3])
        ax.barh(y, right - left, left=left, color=_GREY_LIGHT, height=0.55, zorder=1)
        ax.barh(y, inner_right - inner_left, left=inner_left, color=_GREY_DARK, height=0.55, zorder=2)
        colour = comparison_colour(row["comparison"], row["polarity"])
        ax.scatter(
            [0.5 - flip * (row["value"] - centre) / (2.05 * spread)],
            [y],
            s=90,
            color=colour,
            edgecolors="black",
            linewidths=0.8,
            zorder=3,
        )
        ax.text(-0.02, y, textwrap.fill(str(row["title"]), 52), ha="right", va="center", fontsize=7)
        word = COMPARISON_WORDS.get(row["comparison"], str(row["comparison"]))
        ax.text(
            1.02, y, f"{row['value']:,.1f}  ({centre:,.1f})  {word}", ha="left", va="center", fontsize=7.5
        )
    ax.axvline(0.5, color="black", linewidth=1.2, zorder=4)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_yticks([])
    ax.set_xticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=10, loc="left")
    legend = [
        Patch(facecolor=FINGERTIPS_COLOURS[k], edgecolor="black", label=label)
        for k, label in (
            ("better", "Better"),
            ("similar", "Similar"),
            ("worse", "Worse"),
            ("higher", "Higher"),
            ("lower", "Lower"),
        )
    ]
    legend += [
        Patch(facecolor=_GREY_LIGHT, label="Range of comparison areas"),
        Patch(facecolor=_GREY_DARK, label="25th-75th percentile"),
    ]
    ax.legend(
        handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=4, fontsize=7, frameon=False
    )
    ax.text(0.5, n - 0.25, f"{comparator_name}", ha="center", va="bottom", fontsize=7.5)
    ax.text(1.02, n - 0.25, "value (comparator)", ha="left", va="bottom", fontsize=7)
    ax.set_title(title, fontsize=10, loc="left", pad=14)
    fig.subplots_adjust(left=0.4, right=0.84, top=0.94, bottom=0.1)
    fig.alt = _spine_alt(rows, title=title, comparator_name=comparator_name, hidden=len(table) - n)
    return fig


def _spine_alt(rows: pd.DataFrame, *, title: str, comparator_name: str, hidden: int) -> str:
    if rows.empty:
        return f"Spine chart: {title}. No indicator has both a value and a value for {comparator_name}."
    ratio = rows["value"] / rows["comparator_value"].where(rows["comparator_value"] != 0)
    text = (
        f"Spine chart: {title}. {len(rows)} indicators, each against {comparator_name} (the centre line) "
        f"and the range of the comparison areas: {_counts(rows['comparison'])}."
    )
    for key, word in (("worse", "Significantly worse"), ("better", "Significantly better")):
        named = rows.loc[rows["comparison"] == key, "title"].astype(str)
        if len(named):
            text += f" {word}: {_names(named, sep='; ')}."
    if ratio.notna().any():
        high, low = rows.loc[ratio.idxmax()], rows.loc[ratio.idxmin()]
        text += (
            f" Highest relative to {comparator_name}: {high['title']} ({_fmt(high['value'])} against "
            f"{_fmt(high['comparator_value'])}); lowest: {low['title']} ({_fmt(low['value'])} against "
            f"{_fmt(low['comparator_value'])})."
        )
    if hidden:
        text += f" {hidden} indicators without a value or comparator value are not drawn."
    return text


def quantile_bars(
    table: pd.DataFrame, *, title: str, ylabel: str, q_label: str = "IMD 2025 quintile"
) -> ReportFigure | None:
    """Bars of an indicator by deprivation quantile with 95% error bars (1 = most deprived);
    None for an empty table (the sentence beside it says why)."""
    if table.empty:
        return None
    fig = ReportFigure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    value = table["value"].to_numpy(dtype=float)
    lower = value - table["lower_95"].to_numpy(dtype=float)
    upper = table["upper_95"].to_numpy(dtype=float) - value
    labels = [
        f"{int(q)}" + (" (most deprived)" if i == 0 else " (least deprived)" if i == len(table) - 1 else "")
        for i, q in enumerate(table["quantile"])
    ]
    ax.bar(
        range(len(table)),
        np.nan_to_num(value),
        color="#1F77B4",
        yerr=[np.nan_to_num(lower), np.nan_to_num(upper)],
        capsize=4,
    )
    ax.set_xticks(range(len(table)), labels, fontsize=8)
    ax.set_xlabel(q_label)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.alt = _bars_alt(table, title=title, unit=ylabel, q_label=q_label)
    return fig


def _bars_alt(table: pd.DataFrame, *, title: str, unit: str, q_label: str) -> str:
    values = table["value"].to_numpy(dtype=float)
    groups = [str(int(q)) for q in table["quantile"]]
    text = f"Bar chart: {title}, {unit}, by {q_label} (1 = most deprived), with 95% confidence intervals."
    known = ~np.isnan(values)
    if known.any():
        shown = "; ".join(f"{g}: {_fmt(v)}" for g, v, k in zip(groups, values, known, strict=True) if k)
        high, low = int(np.nanargmax(values)), int(np.nanargmin(values))
        text += (
            f" {shown}. Highest in group {groups[high]} ({_fmt(values[high])}), "
            f"lowest in group {groups[low]} ({_fmt(values[low])})."
        )
    if not known.all():
        text += f" No value for group {', '.join(g for g, k in zip(groups, known, strict=True) if not k)}."
    return text


def trend_chart(
    table: pd.DataFrame,
    *,
    title: str,
    ylabel: str,
    comparator: pd.DataFrame | None = None,
    comparator_name: str = "",
) -> ReportFigure | None:
    """An indicator over time with its 95% interval (and the comparator's values, dashed); None
    for an empty table (the sentence beside it says why)."""
    if table.empty:
        return None
    fig = ReportFigure(figsize=(7, 3.2))
    ax = fig.add_subplot()
    x = np.arange(len(table))
    ax.fill_between(x, table["lower_95"], table["upper_95"], color="#1F77B4", alpha=0.2, label="95% interval")
    ax.plot(x, table["value"], marker="o", color="#1F77B4", label="value")
    if comparator is not None and len(comparator):
        ax.plot(
            x, comparator["value"].to_numpy()[: len(x)], linestyle="--", color="black", label=comparator_name
        )
    ax.set_xticks(x, table["period"], fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.alt = _trend_alt(
        table, title=title, unit=ylabel, comparator=comparator, comparator_name=comparator_name
    )
    return fig


def _trend_alt(
    table: pd.DataFrame, *, title: str, unit: str, comparator: pd.DataFrame | None, comparator_name: str
) -> str:
    periods = table["period"].astype(str).tolist()
    values = table["value"].to_numpy(dtype=float)
    text = (
        f"Line chart: {title}, {unit}, {periods[0]} to {periods[-1]} ({len(periods)} periods), "
        "with 95% intervals."
    )
    known = ~np.isnan(values)
    if known.any():
        first, last = int(np.argmax(known)), len(known) - 1 - int(np.argmax(known[::-1]))
        high, low = int(np.nanargmax(values)), int(np.nanargmin(values))
        text += (
            f" {_fmt(values[first])} in {periods[first]} and {_fmt(values[last])} in {periods[last]};"
            f" highest {_fmt(values[high])} ({periods[high]}), lowest {_fmt(values[low])} ({periods[low]})."
        )
    withheld = [p for p, k in zip(periods, known, strict=True) if not k]
    if withheld:
        text += f" No published value for {_names(withheld)}."
    if comparator is not None and len(comparator) and comparator_name:
        theirs = comparator["value"].to_numpy(dtype=float)[: len(periods)]
        if np.isfinite(theirs).any():
            text += f" {comparator_name} (dashed line): {_fmt(theirs[0])} to {_fmt(theirs[-1])}."
    return text


CLUSTER_COLOURS = {
    "high-high": "#C00000",
    "low-low": "#2F5597",
    "high-low": "#F4B183",
    "low-high": "#9DC3E6",
    "not significant": "#EFEFEF",
    "no neighbours": "#FFFFFF",
    "not tested": "#FFFFFF",
}


def cluster_map(gdf, *, title: str, column: str = "cluster") -> ReportFigure | None:
    """A static map of hot-spot clusters (Local Moran's I categories) in fixed colours; None for
    no neighbourhoods (the sentence beside it says why)."""
    if len(gdf) == 0:
        return None
    fig = ReportFigure(figsize=(7, 6))
    ax = fig.add_subplot()
    for label, colour in CLUSTER_COLOURS.items():
        part = gdf[gdf[column] == label]
        if len(part):
            part.plot(ax=ax, color=colour, edgecolor="#7F7F7F", linewidth=0.3)
    present = [k for k in CLUSTER_COLOURS if (gdf[column] == k).any()]
    ax.legend(
        handles=[Patch(facecolor=CLUSTER_COLOURS[k], edgecolor="#7F7F7F", label=k) for k in present],
        loc="lower left",
        fontsize=8,
        frameon=False,
    )
    ax.set_axis_off()
    ax.set_title(title, fontsize=10, loc="left")
    fig.tight_layout()
    counts = gdf[column].value_counts()
    fig.alt = (
        f"Map: {title}. {len(gdf)} neighbourhoods: "
        + ", ".join(f"{int(counts[k])} {k}" for k in CLUSTER_COLOURS if k in counts.index)
        + "."
    )
    if "area_name" in gdf and (gdf[column] == "high-high").any():
        fig.alt += (
            " High-high: "
            + _names(sorted(gdf.loc[gdf[column] == "high-high", "area_name"].astype(str)), 6)
            + "."
        )
    return fig


def indicator_styler(table: pd.DataFrame, *, comparator_name: str):
    """The indicator table as leaders read it: figures rounded, significance in Fingertips colours
    (a :class:`~needskit.safe_text.SafeStyler`: titles and headings are escaped text), laid out
    for the page by :func:`~needskit.reports.tables.lay_out` (figures never wrapped); each
    indicator's unit follows its title unless the title already says it."""
    units = table["unit"] if "unit" in table else pd.Series("", index=table.index)
    shown = pd.DataFrame(
        {
            "Indicator": [
                f"{t} ({u})" if isinstance(u, str) and u and u not in str(t) else t
                for t, u in zip(table["title"], units, strict=True)
            ],
            "Period": table["period"].str.replace("/", " to "),
            "Count": table["count"].map(lambda v: "" if pd.isna(v) else f"{v:,.0f}"),
            "Value": table["value"].map(lambda v: "*" if pd.isna(v) else f"{v:,.1f}"),
            "95% interval": [
                "" if pd.isna(lo) else f"{lo:,.1f} – {hi:,.1f}"
                for lo, hi in zip(table["lower_95"], table["upper_95"], strict=True)
            ],
            comparator_name: table["comparator_value"].map(lambda v: "" if pd.isna(v) else f"{v:,.1f}"),
            "Compared": table["comparison"].str.replace("_", " "),
            **(
                {"England": table["england_value"].map(lambda v: "" if pd.isna(v) else f"{v:,.1f}")}
                if "england_value" in table
                else {}
            ),
            "Note": table["note"].fillna(""),
        }
    )
    colours = [comparison_colour(c, p) for c, p in zip(table["comparison"], table["polarity"], strict=True)]
    text = [text_colour(c) for c in colours]
    styles = [f"background-color: {c}; color: {t}" for c, t in zip(colours, text, strict=True)]
    figures = ["Count", "Value", "95% interval", comparator_name] + (
        ["England"] if "england_value" in table else []
    )
    shown = styled(shown).hide(axis="index").apply(lambda _: styles, subset=["Compared"], axis=0)
    return lay_out(shown, figures=figures, whole=["Period"])


# ------------------------------------------------------------------------ Fingertips' compare-areas views

_POSITION_MARKERS = {"above": "^", "below": "v", "within": "o"}


def funnel_plot(funnel: Funnel | Note) -> ReportFigure | Note:
    """A funnel plot: each area's published value against its denominator, the comparator's value
    as the centre line and the 95% and 99.8% control limits around it (Fingertips' SPC limits).

    Points are coloured by the comparison at the 95% limits and shaped by where they fall
    (▲ above, ▼ below, ● within), each labelled with the area's name and the comparison's word;
    areas whose value was withheld are named under the chart. A :class:`Note` (no funnel for this
    indicator or area) is passed through.
    """
    from needskit.reports.context import Note

    if isinstance(funnel, Note):
        return funnel
    points, curve = funnel.points, funnel.curve
    shown = points[points["value"].notna() & points["denominator"].notna()]
    fig = ReportFigure(figsize=(8, 4.8))
    ax = fig.add_subplot()
    x = curve["denominator"].to_numpy(dtype=float)
    ax.axhline(funnel.centre, color="black", linewidth=1.2, zorder=1)
    for level, style, label in (("95", (0, (5, 3)), "95% limits"), ("99_8", (0, (1, 2)), "99.8% limits")):
        for side in ("lower", "upper"):
            ax.plot(
                x,
                curve[f"control_{side}_{level}"],
                color="#404040",
                linestyle=style,
                linewidth=1.1,
                label=label if side == "lower" else None,
                zorder=1,
            )
    present: dict[tuple[str, str], None] = {}
    labels = []
    for row in shown.itertuples():
        comparison, position = str(row.funnel_comparison), str(row.funnel_position)
        present[(comparison, position)] = None
        ax.scatter(
            [row.denominator],
            [row.value],
            s=70,
            marker=_POSITION_MARKERS.get(position, "o"),
            color=COMPARISON_COLOURS.get(comparison, "#FFFFFF"),
            edgecolors="black",
            linewidths=0.8,
            zorder=3,
        )
        annotation = ax.annotate(
            f"{row.area_name} ({COMPARISON_WORDS.get(comparison, comparison)})",
            (row.denominator, row.value),
            xytext=(6, 4),
            textcoords="offset points",
            fontsize=7.5,
            zorder=4,
        )
        labels.append(annotation)
    handles: list[Any] = [
        Line2D([], [], color="black", linewidth=1.2, label=f"{funnel.comparator_name} {_fmt(funnel.centre)}")
    ]
    handles += ax.get_legend_handles_labels()[0]
    position_words = {"above": "above the limits", "below": "below the limits", "within": "within the limits"}
    for comparison, position in present:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker=_POSITION_MARKERS.get(position, "o"),
                markersize=7,
                markerfacecolor=COMPARISON_COLOURS.get(comparison, "#FFFFFF"),
                markeredgecolor="black",
                label=f"{COMPARISON_WORDS.get(comparison, comparison).capitalize()} "
                f"({position_words.get(position, position)})",
            )
        )
    ax.legend(handles=handles, fontsize=7.5, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_xlabel("Denominator (population the value is of)")
    ax.set_ylabel(funnel.unit or "value")
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    ax.set_title(
        "\n".join(textwrap.wrap(f"{funnel.title}, {funnel.period}: {funnel.areas_word}", 80)),
        fontsize=10,
        loc="left",
    )
    ax.spines[["top", "right"]].set_visible(False)
    values = np.concatenate(
        [shown["value"].to_numpy(dtype=float), curve["control_lower_99_8"], curve["control_upper_99_8"]]
    )
    values = values[np.isfinite(values)]
    if len(values):
        pad = 0.08 * (values.max() - values.min() or abs(funnel.centre) or 1.0)
        ax.set_ylim(values.min() - pad, values.max() + pad)
    withheld = points[points["withheld"]]
    if len(withheld):
        fig.text(
            0.01,
            0.01,
            "Withheld (not plotted): " + ", ".join(withheld["area_name"].astype(str)),
            fontsize=7.5,
        )
    fig.tight_layout(rect=(0, 0.04 if len(withheld) else 0, 1, 1))
    _place_labels(fig, ax, labels)
    fig.alt = _funnel_alt(funnel)
    return fig


_LABEL_PLACES = (
    (6, 4, "left"),
    (6, -12, "left"),
    (-6, 4, "right"),
    (-6, -12, "right"),
    (6, 14, "left"),
    (6, -22, "left"),
)


def _place_labels(fig: Figure, ax: Any, labels: list[Any]) -> None:
    """Move each point's label to the first of a few places beside it where it stays inside the
    axes and clear of the other labels and points (labels of close points would overlap)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    inside = ax.get_window_extent(renderer)
    anchors = [ax.transData.transform(label.xy) for label in labels]
    markers = [Bbox.from_extents(x - 10, y - 10, x + 10, y + 10) for x, y in anchors]
    placed: list[Any] = []
    for i, label in enumerate(labels):
        others = placed + [m for j, m in enumerate(markers) if j != i]
        for dx, dy, align in _LABEL_PLACES:
            label.set_position((dx, dy))
            label.set_horizontalalignment(align)
            box = label.get_window_extent(renderer).expanded(1.0, 1.15)
            fits = inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
            if fits and not any(box.overlaps(other) for other in others):
                break
        else:
            label.set_position(_LABEL_PLACES[0][:2])
            label.set_horizontalalignment("left")
            box = label.get_window_extent(renderer)
        placed.append(box)


def _funnel_alt(funnel: Funnel) -> str:
    points = funnel.points
    shown = points[points["value"].notna() & points["denominator"].notna()]
    unit = f" {funnel.unit}" if funnel.unit and funnel.unit != "%" else funnel.unit
    text = (
        f"Funnel plot: {funnel.title}, {funnel.period}. {len(shown)} {funnel.areas_word}, each area's value "
        f"against its denominator, with {funnel.comparator_name}'s value of {_fmt(funnel.centre)}{unit} "
        "as the centre line and 95% and 99.8% control limits around it."
    )
    if len(shown):
        text += f" {_counts(shown['funnel_comparison'])} (at the 95% limits)."
        groups = (
            ("above", 0.998, "Above the 99.8% limit"),
            ("above", 0.95, "Above the 95% limit only"),
            ("within", None, "Within the limits"),
            ("below", 0.95, "Below the 95% limit only"),
            ("below", 0.998, "Below the 99.8% limit"),
        )
        for position, level, words in groups:
            mask = shown["funnel_position"] == position
            if level is not None:
                mask &= np.isclose(shown["funnel_level"].fillna(0), level)
            if mask.any():
                text += f" {words}: {_names(shown.loc[mask, 'area_name'].astype(str), 6)}."
        high, low = shown.loc[shown["value"].idxmax()], shown.loc[shown["value"].idxmin()]
        text += (
            f" Highest: {high['area_name']} ({_fmt(high['value'])}); lowest: {low['area_name']} "
            f"({_fmt(low['value'])}). Denominators from {shown['denominator'].min():,.0f} to "
            f"{shown['denominator'].max():,.0f}."
        )
    withheld = points[points["withheld"]]
    if len(withheld):
        text += f" Withheld: {_names(withheld['area_name'].astype(str), 6)}."
    return text


class CompareAreas:
    """The compare-areas view as a report shows it: a legend of the colours with their words, then
    the table (indicators × areas), each cell the published value and the comparison's word on the
    comparison's colour. Both are :class:`~needskit.safe_text.SafeStyler` tables (escaped text)."""

    def __init__(self, legend: SafeStyler, table: SafeStyler, cells: pd.DataFrame) -> None:
        self.legend, self.table, self.cells = legend, table, cells

    def _repr_html_(self) -> str:
        # the table is about a page long: it runs over pages in print (whole rows, its header row
        # repeated), so the section's heading is never left alone above it; the key stays with it
        return (
            '<div class="needskit-compare-areas">' + self.legend.to_html() + self.table.to_html() + "</div>"
        )


def _cell_text(value: float, comparison: str) -> str:
    if comparison == "withheld":
        return "withheld"
    if comparison == "no_data" or not np.isfinite(value):
        return "no data"
    if comparison == "benchmark":
        return _fmt(value)
    return f"{_fmt(value)}\n{COMPARISON_WORDS.get(comparison, comparison)}"


# The rug's fixed layout on A4 (176 mm of text width, print.css): the period takes 7%, each area
# column at least the width of its name's longest word in the bold heading (0.9 x 7.5 pt DejaVu
# Sans Bold: about 1.6 mm a character; a longer word is hyphenated, so at most 12 counted) or of
# "compared" in its cells, plus its padding; the indicator column the rest (at least 20%).
_RUG_WIDTH_MM, _RUG_CHAR_MM, _RUG_PAD_MM = 176.0, 1.6, 2.0
_RUG_PERIOD, _RUG_INDICATOR_MIN = 7.0, 20.0


def _rug_widths(names: Sequence[str]) -> tuple[float, list[float]]:
    """The indicator column's width and each area column's, in percent of the table's width."""
    need = [
        100
        * (min(max(max((len(w) for w in str(name).split()), default=0), 8), 12) * _RUG_CHAR_MM + _RUG_PAD_MM)
        / _RUG_WIDTH_MM
        for name in names
    ]
    room = 100 - _RUG_PERIOD - _RUG_INDICATOR_MIN
    if sum(need) > room:  # too many areas for A4: each its share of what there is
        need = [room * n / sum(need) for n in need]
    return 100 - _RUG_PERIOD - sum(need), need


def compare_areas_table(table: pd.DataFrame | Note, *, caption: str = "") -> CompareAreas | Note:
    """Fingertips' compare-areas view ("tartan rug") from
    :func:`needskit.reports.needs_profile.compare_areas`: one row per indicator, one column per
    area (England, the area, the areas compared with it), each cell the published value with the
    comparison's word on its colour-blind-safe colour; "withheld" where the value was withheld.

    Parameters
    ----------
    table
        The tidy table (or a :class:`Note`, passed through).
    caption
        Shown above the table; default says what each column is compared with.

    Returns
    -------
    CompareAreas
        ``legend`` and ``table`` (SafeStyler) and ``cells``: the wide frame of cell texts.
    """
    from needskit.reports.context import Note

    if isinstance(table, Note):
        return table
    areas = table.drop_duplicates("area_code")[["area_code", "area_name", "role", "comparator_name"]]
    indicators = table.drop_duplicates("indicator").set_index("indicator")
    order = list(indicators.index)
    labels = [
        title if not unit or unit.lower() in title.lower() else f"{title} ({unit})"
        for title, unit in zip(indicators["title"], indicators["unit"], strict=True)
    ]
    periods = table[table["role"] == "area"].set_index("indicator").reindex(order)["period"]
    wide = pd.DataFrame({"Indicator": labels, "Period": periods.fillna(indicators["period"]).to_numpy()})
    fills = pd.DataFrame("", index=wide.index, columns=wide.columns)
    for code, name in zip(areas["area_code"], areas["area_name"], strict=True):
        rows = table[table["area_code"] == code].set_index("indicator").reindex(order)
        wide[name] = [
            _cell_text(v, c)
            for v, c in zip(rows["value"].to_numpy(dtype=float), rows["comparison"], strict=True)
        ]
        colours = [COMPARISON_COLOURS.get(c, "#FFFFFF") for c in rows["comparison"]]
        fills[name] = [f"background-color: {c}; color: {text_colour(c)}" for c in colours]
    if not caption:
        compared = table[table["role"] == "compared"].drop_duplicates("area_code")
        own = areas[areas["role"] == "area"].iloc[0]
        level = str(compared["level"].iloc[0]) if "level" in compared and len(compared) else "area"
        caption = (
            f"Compare areas: the {len(compared)} {level}s are each compared with {own['area_name']}, and "
            f"{own['area_name']} with {own['comparator_name'] or 'its comparator'} (95% confidence). "
            "Each cell shows the published value and the comparison's word; England is the benchmark."
        )
    indicator_width, widths = _rug_widths(list(areas["area_name"]))
    cell_style = [
        {
            "selector": "",
            "props": "table-layout: fixed; width: 100%; break-inside: auto; page-break-inside: auto;",
        },
        {
            "selector": "td",
            "props": "white-space: pre-line; text-align: center; font-size: 0.9em; padding: 2px 3px; "
            "overflow-wrap: normal; word-break: normal; box-sizing: border-box; "
            "border-left: 1px solid #FFFFFF;",
        },
        {"selector": "td:nth-child(1)", "props": "text-align: left; white-space: normal;"},
        {"selector": "td:nth-child(2)", "props": "white-space: nowrap;"},
        {
            "selector": "th",
            "props": "font-size: 0.9em; vertical-align: bottom; text-align: center; padding: 2px 3px; "
            "overflow-wrap: normal; word-break: normal; hyphens: auto; box-sizing: border-box; "
            "border-left: 1px solid #FFFFFF;",
        },
        {"selector": "th:nth-child(1)", "props": f"width: {indicator_width:.2f}%; text-align: left;"},
        {"selector": "th:nth-child(2)", "props": f"width: {_RUG_PERIOD:.2f}%;"},
        *({"selector": f"th:nth-child({i + 3})", "props": f"width: {w:.2f}%;"} for i, w in enumerate(widths)),
        {"selector": "caption", "props": "caption-side: top; text-align: left;"},
    ]
    shown = (
        styled(wide)
        .hide(axis="index")
        .apply(lambda _: fills, axis=None)
        .set_caption(caption)
        .set_table_styles(cell_style)
        .set_table_attributes('class="needskit-compare-areas-table"')
    )
    used = [k for k in COMPARISON_COLOURS if k in set(table["comparison"]) and k not in ("no comparator",)]
    legend_frame = pd.DataFrame(  # its one row headed by a row header (no empty header cell)
        [[COMPARISON_WORDS[k] for k in used]], columns=[COMPARISON_WORDS[k] for k in used], index=["Colours"]
    )
    legend_fill = pd.DataFrame(
        [
            [
                f"background-color: {COMPARISON_COLOURS[k]}; color: {text_colour(COMPARISON_COLOURS[k])}; "
                "border: 1px solid #7F7F7F; padding: 2px 8px;"
                for k in used
            ]
        ],
        columns=legend_frame.columns,
        index=legend_frame.index,
    )
    legend = (
        styled(legend_frame)
        .hide(axis="columns")
        .apply(lambda _: legend_fill, axis=None)
        .set_caption("Key: the colour of each comparison, with its word")
        .set_table_styles(
            [
                {"selector": "", "props": "break-after: avoid; page-break-after: avoid;"},
                {"selector": "caption", "props": "caption-side: top; text-align: left;"},
                {"selector": "td", "props": "overflow-wrap: normal; word-break: normal;"},
            ]
        )
        .set_table_attributes('class="needskit-compare-areas-key"')
    )
    return CompareAreas(legend, shown, wide)
