"""Charts for the reports, in the conventions leaders know (OHID Fingertips colours).

Every function takes tables from :mod:`needskit.reports.needs_profile` and returns a matplotlib Figure (no
pyplot state), which renders the same in HTML and in the PDF.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from needskit.reports.tables import lay_out
from needskit.safe_text import styled

__all__ = [
    "FINGERTIPS_COLOURS",
    "spine_chart",
    "quantile_bars",
    "trend_chart",
    "comparison_colour",
    "cluster_map",
    "indicator_styler",
]

FINGERTIPS_COLOURS = {
    "better": "#92D050",
    "similar": "#FFC000",
    "worse": "#C00000",
    "higher": "#5555E6",
    "lower": "#BED2FF",
    "not_compared": "#FFFFFF",
    "no comparator": "#FFFFFF",
}
_GREY_LIGHT, _GREY_DARK = "#C9C9C9", "#8B8B8B"


class ReportFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG in notebooks and exported reports,
    without pyplot or the inline backend."""

    def _repr_png_(self) -> bytes:
        import io

        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=130, bbox_inches="tight")
        return buffer.getvalue()


def comparison_colour(comparison: str, polarity: str = "high_is_bad") -> str:
    """The Fingertips fill for a comparison outcome (blues for 'no judgement' indicators)."""
    if polarity == "no_judgement" and comparison == "similar":
        return "#FFC000"
    return FINGERTIPS_COLOURS.get(comparison, "#FFFFFF")


def spine_chart(
    table: pd.DataFrame, distribution: pd.DataFrame, *, title: str, comparator_name: str
) -> Figure:
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
        ax.text(1.02, y, f"{row['value']:,.1f}  ({centre:,.1f})", ha="left", va="center", fontsize=7.5)
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
    ax.set_title(title, fontsize=10, loc="left", pad=14)
    fig.subplots_adjust(left=0.4, right=0.86, top=0.94, bottom=0.1)
    return fig


def quantile_bars(
    table: pd.DataFrame, *, title: str, ylabel: str, q_label: str = "IMD 2025 quintile"
) -> Figure | None:
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
    return fig


def trend_chart(
    table: pd.DataFrame,
    *,
    title: str,
    ylabel: str,
    comparator: pd.DataFrame | None = None,
    comparator_name: str = "",
) -> Figure | None:
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
    return fig


CLUSTER_COLOURS = {
    "high-high": "#C00000",
    "low-low": "#2F5597",
    "high-low": "#F4B183",
    "low-high": "#9DC3E6",
    "not significant": "#EFEFEF",
    "no neighbours": "#FFFFFF",
    "not tested": "#FFFFFF",
}


def cluster_map(gdf, *, title: str, column: str = "cluster") -> Figure | None:
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
    text = ["white" if c in ("#C00000", "#5555E6") else "black" for c in colours]
    styles = [f"background-color: {c}; color: {t}" for c, t in zip(colours, text, strict=True)]
    figures = ["Count", "Value", "95% interval", comparator_name] + (
        ["England"] if "england_value" in table else []
    )
    shown = styled(shown).hide(axis="index").apply(lambda _: styles, subset=["Compared"], axis=0)
    return lay_out(shown, figures=figures, whole=["Period"])
