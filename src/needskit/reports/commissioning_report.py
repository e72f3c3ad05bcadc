"""What the commissioning reports show: one call per notebook cell, sentences built from the data.

The resource map (``notebooks/03-resource-map.ipynb``), commissioning priorities (``04``) and
outcomes monitoring (``05``) notebooks call these functions. Each takes the report's
:class:`~needskit.reports.needs_profile.NeedsContext` (disclosure already applied for public and partner
reports: counts shown here come from its published profile and indicators) and the register,
framework or delivery tables, and returns a DataFrame, a figure or a sentence. The statistics live
in :mod:`needskit.resources`, :mod:`needskit.commissioning`, :mod:`needskit.commissioning.outcomes` and
:mod:`needskit.commissioning.monitoring`; this module only selects, joins and words.

Sections
--------
- Common — :func:`data_label`, :func:`report_title`, :func:`residents`, :func:`register_notes`,
  :func:`framework_note`, :func:`show_table`, :func:`methods_text`.
- Resource map — :func:`area_services`, :func:`services_summary`, :func:`assets_map`,
  :func:`supply_by_place`, :func:`supply_map_frame`, :func:`supply_wide`, :func:`supply_chart`,
  :func:`neighbourhood_centres`, :func:`access_table`, :func:`access_summary`,
  :func:`access_sentence`, :func:`furthest`, :func:`gp_accessibility`, :func:`accessibility_sentence`,
  :func:`need_by_theme`, :func:`provision_gaps`, :func:`gap_table`, :func:`gaps_sentence`,
  :func:`duplication_in_area`, :func:`duplication_summary`, :func:`duplication_sentence`,
  :func:`spend_against_need`, :func:`spend_sentence`, :func:`spend_table`, :func:`spend_chart`.
- Commissioning priorities — :func:`priority_places`, :func:`priority_matrix`,
  :func:`priority_sentence`, :func:`delivery_in_area`, :func:`delivery_sentence`,
  :func:`delivery_gap_matrix`, :func:`undelivered_outcomes`, :func:`outcome_need`,
  :func:`delivery_vs_need`, :func:`delivery_need_sentence`, :func:`allocation_measures`,
  :func:`allocate_pot`, :func:`allocation_sentence`, :func:`allocation_table`,
  :func:`allocation_chart`.
- Outcomes monitoring — :func:`outcome_series`, :func:`series_note`,
  :func:`synthetic_history`, :func:`spc_results`, :func:`targets_sentence`,
  :func:`board`, :func:`board_table`, :func:`spc_panel`, :func:`untracked_indicators`,
  :func:`partnership_view`.

Everything built on made-up data says ILLUSTRATIVE: the register's council, police and voluntary
services, its spend and catchments (``register.illustrative``), the outcomes framework's
indicators and targets, the delivery register's budgets, and the synthetic monthly history of
:func:`synthetic_history`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from needskit import commissioning as com
from needskit._checks import require_columns, require_frame
from needskit.commissioning import monitoring as mon
from needskit.commissioning import outcomes as oc
from needskit.config.catalog import THEMES
from needskit.errors import NeedskitWarning, ReportError, SchemaError
from needskit.place import geography as geo
from needskit.reports.charts import ReportFigure
from needskit.reports.needs_profile import AUDIENCE_WORDS, NeedsContext, select_period

__all__ = [
    "THEME_NEED",
    "ACCESS_TYPES",
    "ALLOCATION_NEEDS",
    "DOMAIN_THEMES",
    "ILLUSTRATIVE_LABEL",
    "data_label",
    "report_title",
    "residents",
    "register_notes",
    "framework_note",
    "show_table",
    "methods_text",
    # resource map
    "area_services",
    "services_summary",
    "assets_map",
    "supply_by_place",
    "supply_map_frame",
    "supply_wide",
    "supply_chart",
    "neighbourhood_centres",
    "access_table",
    "access_summary",
    "access_sentence",
    "furthest",
    "gp_accessibility",
    "accessibility_sentence",
    "need_by_theme",
    "provision_gaps",
    "gap_table",
    "gaps_sentence",
    "duplication_in_area",
    "duplication_summary",
    "duplication_sentence",
    "spend_against_need",
    "spend_sentence",
    "spend_table",
    "spend_chart",
    # commissioning priorities
    "priority_places",
    "priority_matrix",
    "priority_sentence",
    "delivery_in_area",
    "delivery_sentence",
    "delivery_gap_matrix",
    "undelivered_outcomes",
    "outcome_need",
    "delivery_vs_need",
    "delivery_need_sentence",
    "allocation_measures",
    "allocate_pot",
    "allocation_sentence",
    "allocation_table",
    "allocation_chart",
    # outcomes monitoring
    "outcome_series",
    "series_note",
    "synthetic_history",
    "spc_results",
    "targets_sentence",
    "board",
    "board_table",
    "spc_panel",
    "untracked_indicators",
    "partnership_view",
]

ILLUSTRATIVE_LABEL = "ILLUSTRATIVE"
"""The word every table, chart and sentence built on made-up data carries."""

THEME_NEED: dict[str, str] = {
    "children_young_people": "children_income_deprivation",
    "safer_stronger_communities": "crime_rate_all",
    "health_older_people": "older_income_deprivation",
    "economy_skills": "employment_deprivation",
    "housing_environment": "household_deprivation",
    "cross_cutting": "imd_score",
}
"""The indicator (``conf/indicators.yml``) that measures need for each catalogue theme, for gaps and
spend against need. Override with ``theme_need=``."""

ACCESS_TYPES: tuple[str, ...] = ("gp_practice", "pharmacy", "library")
"""Service types whose nearest point is measured by default (two real NHS types, one illustrative)."""

ALLOCATION_NEEDS: dict[str, tuple[str, str]] = {
    "imd": ("imd_people", "IMD 2025 score × residents"),
    "income": ("income_deprived", "income-deprived residents (IoD2025 rate × Census 2021 residents)"),
    "crime": ("crimes", "recorded crimes (police.uk)"),
}
"""Allocation scenarios: ``label -> (column of allocation_measures, description)``."""

DOMAIN_THEMES: dict[str, str] = {
    "income": "economy_skills",
    "employment": "economy_skills",
    "education": "children_young_people",
    "health": "health_older_people",
    "crime": "safer_stronger_communities",
    "housing_and_services": "housing_environment",
    "environment": "housing_environment",
}
"""IoD2025 domains and the catalogue theme each one speaks to (for priority places)."""

_DOMAIN_NAMES = {
    "income": "Income", "employment": "Employment", "education": "Education, skills and training",
    "health": "Health and disability", "crime": "Crime", "housing_and_services": "Barriers to housing and services",
    "environment": "Living environment",
}
_PLACE_LEVELS = ("ward", "district")
_D2 = 1.128
"""d2 for moving ranges of two points: σ ≈ mean moving range / 1.128 (Wheeler 1993)."""


# ============================================================================================
# Common
# ============================================================================================


def _area_table(ctx: NeedsContext) -> pd.DataFrame:
    """The geography rows (one per LSOA) of the report's area; a district or county only."""
    if ctx.area_level not in ("district", "county"):
        raise ReportError(
            "commissioning reports cover a district or a county",
            where=f"area {ctx.area_code!r} ({ctx.area_level})",
            expected="a district code (e.g. 'E07000078') or the county ('E10000013')",
            got=ctx.area_level,
            hint="use the neighbourhood-profile report for an LSOA, ward or custom place",
        )
    table = geo.hierarchy()
    return table[table[ctx.area_level] == ctx.area_code]


def _check_level(ctx: NeedsContext, level: str) -> None:
    if level not in _PLACE_LEVELS:
        raise ReportError("is not a level for places", where=f"level={level!r}", expected="'ward' or 'district'", got=repr(level))
    if level == "district" and ctx.area_level == "district":
        raise ReportError(
            "a district has one district: nothing to compare",
            where=f"level={level!r}",
            expected="'ward' for a district report ('district' works for the county)",
            got=f"area {ctx.area_code} is a district",
        )


def _place_codes(ctx: NeedsContext, level: str) -> list[str]:
    _check_level(ctx, level)
    return sorted(_area_table(ctx)[level].dropna().unique())


def _place_names(level: str) -> pd.Series:
    table = geo.hierarchy()
    return table[[level, f"{level}_name"]].drop_duplicates(level).set_index(level)[f"{level}_name"]


def _theme_name(themes: pd.Series) -> pd.Series:
    return themes.map(THEMES).fillna(themes)


def data_label(df: pd.DataFrame) -> str:
    """``" (includes ILLUSTRATIVE data)"`` when any row of ``df`` is illustrative, else ``""``: for titles.

    Looks at an ``illustrative`` (bool) or ``data_status`` column.
    """
    flags = []
    if "illustrative" in df.columns:
        flags.append(df["illustrative"].astype(bool).any())
    if "data_status" in df.columns:
        flags.append(df["data_status"].astype(str).str.contains(ILLUSTRATIVE_LABEL).any())
    return f" (includes {ILLUSTRATIVE_LABEL} data)" if any(flags) else ""


def report_title(ctx: NeedsContext, *, report: str, partnership: str = "") -> str:
    """The report's heading as markdown: ``## <area>: <report>, <period>`` and the audience line.

    Example
    -------
    >>> report_title(ctx, report="resource map")  # doctest: +SKIP
    '## Cheltenham: resource map, 2024-04\\n\\n...'
    """
    audience = AUDIENCE_WORDS[ctx.publish]
    rule = f" · small numbers: {ctx.rule}" if ctx.publish != "internal" else ""
    return f"## {ctx.area_name}: {report}, {ctx.period}\n\n{partnership + ' · ' if partnership else ''}{audience}{rule}"


def residents(ctx: NeedsContext, *, level: str = "lsoa", scope: Literal["area", "county"] = "area") -> pd.Series:
    """Census 2021 usual residents per area as the report publishes them.

    Parameters
    ----------
    ctx
        The report context; its profile has had the disclosure rule applied (public/partner:
        counts rounded or withheld cell by cell), so totals shown are publishable.
    level
        ``"lsoa"``, ``"ward"`` or ``"district"``.
    scope
        The areas of the report's area, or of the whole county it lies in (for access, whose
        catchments cross district boundaries).

    Returns
    -------
    Series ``population`` (float) indexed by ``area_code``, sorted; an area whose cells were all
    withheld counts 0.

    Raises
    ------
    ReportError
        Not a district or county report.
    """
    table = _area_table(ctx)
    if scope == "county":
        full = geo.hierarchy()
        table = full[full["county"].isin(set(table["county"]))]
    codes = sorted(table[level].dropna().unique())
    rows = ctx.profile[
        (ctx.profile["dataset"] == "population_census2021")
        & (ctx.profile["level"] == level)
        & (ctx.profile["measure"] == "usual_residents")
        & ctx.profile["area_code"].isin(codes)
    ]
    totals = rows.groupby("area_code")["value"].sum().reindex(codes).fillna(0.0).astype(float)
    totals.index.name = "area_code"
    return totals.rename("population")


def register_notes(register: Any, *, services: pd.DataFrame | None = None) -> str:
    """What the resource register is, as a markdown list: the ILLUSTRATIVE warning first.

    Parameters
    ----------
    register
        A :class:`~needskit.resources.ResourceRegister`.
    services
        The services the report shows (e.g. :func:`area_services`); adds how many are real and
        how many illustrative.

    Returns
    -------
    str
        Markdown bullets built from ``register.notes`` and the ``illustrative`` flags.
    """
    lines = []
    if services is not None and len(services):
        made_up = int(services["illustrative"].astype(bool).sum())
        real = len(services) - made_up
        genuine = services[~services["illustrative"].astype(bool)]
        kinds = sorted(genuine["service_type"].str.replace("_", " ").unique())
        sources = sorted(genuine["source"].dropna().astype(str).unique()) if "source" in genuine else []
        lines.append(
            f"{len(services)} service points are mapped: {real} real ({', '.join(kinds) or 'none'}"
            f"{'; ' + ', '.join(sources) if sources else ''}) and "
            f"**{made_up} {ILLUSTRATIVE_LABEL}** (made up, not real services)."
        )
    for note in register.notes:
        text = str(note)
        if text.startswith(ILLUSTRATIVE_LABEL):
            text = f"**{ILLUSTRATIVE_LABEL}**" + text[len(ILLUSTRATIVE_LABEL):]
        lines.append(text)
    if getattr(register, "illustrative", False) and not any(ILLUSTRATIVE_LABEL in line for line in lines):
        lines.insert(0, f"**{ILLUSTRATIVE_LABEL}**: some rows of this register are made up.")
    return "\n".join(f"- {line}" for line in lines)


def framework_note(framework: oc.OutcomesFramework, *, delivery: pd.DataFrame | None = None) -> str:
    """Which parts of the outcomes framework (and delivery register) are made up, as markdown.

    Returns
    -------
    str
        E.g. "**ILLUSTRATIVE**: indicators, targets ... of 19 of the 19 outcomes are made up ...",
        built from the ``illustrative_fields`` the files declare; "" when nothing is flagged.
    """
    lines = []
    outcomes = framework.outcomes
    flagged = outcomes[outcomes["illustrative"].astype(bool)]
    if len(flagged):
        fields = sorted({f for text in flagged["illustrative_fields"] for f in str(text).split("; ") if f})
        lines.append(
            f"**{ILLUSTRATIVE_LABEL}**: the {', '.join(fields)} of {len(flagged)} of the {len(outcomes)} outcomes in "
            f"'{framework.name}' are made up to show the method (the aims, outcomes and actions are the source's)."
        )
    if delivery is not None and len(delivery) and "illustrative" in delivery:
        acts = delivery.drop_duplicates("activity_id")
        made = acts[acts["illustrative"].astype(bool)]
        counts = pd.Series([f for text in made["illustrative_fields"] for f in str(text).split("; ") if f]).value_counts()
        if len(counts):
            parts = ", ".join(f"{field} of {n}" for field, n in counts.items())
            lines.append(f"**{ILLUSTRATIVE_LABEL}** delivery register entries (of {len(acts)} activities): {parts} are made up.")
    return "\n".join(f"- {line}" for line in lines)


_MONEY = ("spend", "budget", "allocation", "cost", "gbp", "difference_", "range", "pot", "(£)")
_WHOLE = ("population", "residents", "n_", "crimes", "services", "neighbourhoods", "partners", "charted", "points")


def _money(value: float, digits: int = 0) -> str:
    if pd.isna(value):
        return ""
    return f"{'−' if value < 0 else ''}£{abs(value):,.{digits}f}"


def _column_format(name: str, series: pd.Series) -> Any:
    """A format for a numeric column, chosen from its name (shares, money, metres, counts)."""
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    lowered = name.lower()
    if "share" in lowered:
        return "{:.1%}"
    if "percentile" in lowered or "score" in lowered and "imd" not in lowered:
        return "{:.2f}"
    if any(key in lowered for key in _MONEY):
        return (lambda v: _money(v, 2)) if "per_head" in lowered else _money
    if lowered.endswith("_m") or lowered.endswith("(m)"):
        return "{:,.0f}"
    if pd.api.types.is_integer_dtype(series) or lowered.startswith(_WHOLE) or lowered.endswith(_WHOLE):
        return "{:,.0f}"
    return "{:,.1f}"


def _heading(column: str) -> str:
    """``supply_per_1000`` -> ``Supply per 1,000``; ``gp_practice_m`` -> ``Gp practice (m)``; a
    column that is already a label (capitals or spaces, e.g. a ward name) is kept as it is."""
    if column != column.lower() or " " in column:
        return column
    text = column[:-2] + " (m)" if column.endswith("_m") else column
    text = text.replace("_per_1000", " per 1,000").replace("_per_100k", " per 100,000").replace("imd", "IMD")
    text = text.replace("_", " ")
    return text[0].upper() + text[1:]


def show_table(df: pd.DataFrame, *, columns: Mapping[str, str] | Sequence[str] | None = None, top: int | None = None):
    """A table as leaders read it: chosen columns, readable headings, £ and thousands formatted.

    Parameters
    ----------
    df
        Any table of this module. Not modified.
    columns
        Columns to show, or ``{column: heading}``; default every column, headed in sentence case.
    top
        Show only the first ``top`` rows (the caller sorts).

    Returns
    -------
    pandas Styler (renders as an HTML table; index hidden; missing values blank).

    Raises
    ------
    SchemaError
        Columns not in the frame.
    """
    require_frame(df)
    if columns is None:
        mapping = {c: c for c in df.columns if c != "geometry"}
    elif isinstance(columns, Mapping):
        mapping = dict(columns)
    else:
        mapping = {c: c for c in columns}
    require_columns(df, list(mapping), argument="columns")
    frame = pd.DataFrame(df[list(mapping)]).head(top) if top else pd.DataFrame(df[list(mapping)])
    formats = {}
    headings = {}
    for column, heading in mapping.items():
        label = heading if heading != column else _heading(column)
        headings[column] = label
        fmt = _column_format(column if heading == column else heading, frame[column])
        if fmt:
            formats[label] = fmt
    frame = frame.rename(columns=headings)
    frame.columns = [str(c) for c in frame.columns]
    return frame.style.hide(axis="index").format(formats, na_rep="")


_METHODS = {
    "resource-map": (
        "Service points are the real NHS GP practices and pharmacies of the ODS extracts and the "
        "ILLUSTRATIVE council, police, NHS-community and voluntary services of the shipped register. "
        "Supply per head is services per 1,000 Census 2021 usual residents (a ratio of sums). "
        "Each neighbourhood's centre is the mean position of its postcodes (ONS Postcode Directory; "
        "every postcode counts once, a proxy for where people live), or its polygon's representative "
        "point when no postcode falls in it; distances are straight lines in British National Grid "
        "metres to the nearest service of each type (k-d tree). GP accessibility is the two-step "
        "floating catchment area method (Luo and Wang 2003): each practice's supply divided by the "
        "residents within the catchment, summed over the practices each neighbourhood reaches; every "
        "practice counts as one unit of supply because the ODS extract has no list sizes. Gaps put "
        "each place in a quadrant of need (the theme's indicator) against provision (services per "
        "1,000 residents), cut at the medians of the area's places. Duplication counts partners whose "
        "services' catchments cover the same neighbourhood and theme. Spend per head against need is "
        "descriptive; it is not a value-for-money judgement."
    ),
    "commissioning-priorities": (
        "Priority places are neighbourhoods in the most deprived deciles of England on the IMD 2025. "
        "For each, a theme is flagged when one of its indicators is in the worst fifth of the area's "
        "neighbourhoods (by the indicator's polarity) or an IoD2025 domain speaking to the theme is in "
        "the same national deciles. The delivery matrix counts activities of the delivery register per "
        "outcome and place; district- and county-wide activities count in every ward they cover. "
        "Delivery is 'away from need' when none of its places is in the highest-need fifth of places "
        "for the outcome's indicator (the IMD 2025 score when the outcome has none). Allocations share "
        "the pot in proportion to each need measure with Hamilton's largest-remainder rounding to whole "
        "units, so each scenario sums exactly to the pot."
    ),
    "outcomes-monitoring": (
        "Each outcome indicator with a monthly series is drawn as an XmR chart (NHS England, Making "
        "Data Count): mean and process limits at the mean ± 2.66 mean moving ranges, special causes "
        "flagged by the rules listed in the report. Variation icons describe the latest point; "
        "assurance compares the target with the process limits. Where the report adds an ILLUSTRATIVE "
        "synthetic history, its monthly counts are drawn (seeded) from a gamma-Poisson distribution with "
        "the real months' mean and spread (mean moving range / 1.128): a stable process by "
        "construction, only to show how the charts read with two years of data. Those months are "
        "shaded and labelled and are not evidence."
    ),
}


def methods_text(report: Literal["resource-map", "commissioning-priorities", "outcomes-monitoring"]) -> str:
    """The methods paragraph of a commissioning report (for :func:`needskit.reports.methods_note`).

    Raises
    ------
    ReportError
        Unknown report name.
    """
    if report not in _METHODS:
        raise ReportError("no methods text for this report", where=f"report={report!r}", expected=f"one of {sorted(_METHODS)}", got=repr(report))
    return _METHODS[report]


# ============================================================================================
# Resource map
# ============================================================================================


def area_services(register: Any, *, ctx: NeedsContext) -> gpd.GeoDataFrame:
    """The register's service points inside the report's area, with their ward and data status.

    Parameters
    ----------
    register
        A :class:`~needskit.resources.ResourceRegister` (``load_register()``).
    ctx
        Report context (a district or the county).

    Returns
    -------
    GeoDataFrame (EPSG:27700): the register's service columns for services whose LSOA is in the
    area, plus ``ward_code``, ``ward_name``, ``district_code``, ``district_name`` (from the LSOA)
    and ``data_status`` (``"ILLUSTRATIVE"`` or ``"real"``), sorted by service type and id.

    Raises
    ------
    ReportError
        Not a district or county report.
    """
    table = _area_table(ctx).set_index("lsoa")
    services = register.services
    inside = services[services["area_code"].isin(table.index)]
    out = inside.assign(
        ward_code=inside["area_code"].map(table["ward"]),
        ward_name=inside["area_code"].map(table["ward_name"]),
        district_code=inside["area_code"].map(table["district"]),
        district_name=inside["area_code"].map(table["district_name"]),
        data_status=np.where(inside["illustrative"].astype(bool), ILLUSTRATIVE_LABEL, "real"),
    )
    return out.sort_values(["service_type", "service_id"], kind="stable").reset_index(drop=True)


def services_summary(services: pd.DataFrame) -> pd.DataFrame:
    """Services by type and sector: how many, run by whom, real or ILLUSTRATIVE.

    Returns
    -------
    DataFrame, one row per ``service_type`` and ``partner_sector``: ``service_type``,
    ``theme_name``, ``partner_sector``, ``partners`` (``"; "``-joined), ``n_services``,
    ``data_status``; sorted by theme then type.
    """
    require_frame(services)
    require_columns(services, ["service_type", "partner_sector", "partner", "theme", "data_status"], argument="services")
    grouped = pd.DataFrame(services).groupby(["theme", "service_type", "partner_sector"], as_index=False).agg(
        partners=("partner", lambda s: "; ".join(sorted(set(s)))),
        n_services=("service_id", "size"),
        data_status=("data_status", lambda s: "; ".join(sorted(set(s)))),
    )
    grouped.insert(1, "theme_name", _theme_name(grouped["theme"]))
    grouped["service_type"] = grouped["service_type"].str.replace("_", " ")
    return grouped.drop(columns="theme")[["service_type", "theme_name", "partner_sector", "partners", "n_services", "data_status"]]


def assets_map(services: gpd.GeoDataFrame, *, areas: gpd.GeoDataFrame, title: str) -> ReportFigure:
    """A static map of service points over the area's outlines; real services as triangles,
    ILLUSTRATIVE ones as circles, labelled so in the legend.

    Parameters
    ----------
    services
        Points from :func:`area_services` (``service_type``, ``illustrative``).
    areas
        Polygons to outline (e.g. ``ctx.neighbourhoods``), any CRS (drawn in EPSG:27700).
    title
        Map title ("ILLUSTRATIVE" is added when any point is illustrative).

    Returns
    -------
    ReportFigure
    """
    from matplotlib.lines import Line2D

    fig = ReportFigure(figsize=(8, 8.6))
    ax = fig.add_subplot()
    outlines = areas.to_crs(geo.BNG)
    outlines.plot(ax=ax, facecolor="#f4f4f4", edgecolor="#9a9a9a", linewidth=0.5)
    points = services.to_crs(geo.BNG)
    kinds = sorted(points["service_type"].unique())
    import matplotlib

    palette = matplotlib.colormaps["tab20"]
    handles = []
    for i, kind in enumerate(kinds):
        part = points[points["service_type"] == kind]
        made_up = bool(part["illustrative"].astype(bool).all())
        colour = palette(i % 20)
        ax.scatter(part.geometry.x, part.geometry.y, s=22, marker="o" if made_up else "^", color=colour,
                   edgecolors="black", linewidths=0.3, zorder=3)
        label = kind.replace("_", " ") + (f" ({ILLUSTRATIVE_LABEL})" if made_up else " (real)")
        handles.append(Line2D([], [], marker="o" if made_up else "^", linestyle="", color=colour,
                              markeredgecolor="black", markeredgewidth=0.3, label=f"{label}: {len(part)}"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=7, frameon=False)
    ax.set_axis_off()
    ax.set_aspect("equal")
    illustrative = bool(points["illustrative"].astype(bool).any())
    ax.set_title(title + (f" — circles are {ILLUSTRATIVE_LABEL} (made-up) services" if illustrative else ""), fontsize=10, loc="left")
    fig.tight_layout()
    return fig


def supply_by_place(services: pd.DataFrame, *, ctx: NeedsContext, level: str = "ward", by: str = "theme") -> pd.DataFrame:
    """Services per 1,000 residents by ward (or district) and theme.

    Parameters
    ----------
    services
        Services of the area (:func:`area_services`).
    ctx
        Report context: residents are its published Census 2021 counts.
    level
        ``"ward"`` or ``"district"`` (the county only).
    by
        Column to keep apart (``"theme"``, ``"service_type"``).

    Returns
    -------
    DataFrame from :func:`needskit.resources.supply_per_head` (``area_code``, ``area_name``,
    ``level``, ``by``, ``n_records``, ``supply``, ``population``, ``supply_per_head``,
    ``supply_per_1000``) plus ``theme_name`` when ``by="theme"`` and ``data_status`` (the
    group's services: ``"ILLUSTRATIVE"``, ``"real"`` or both). Every place × group, 0 where none.

    Raises
    ------
    ReportError
        Not a district or county, or an unusable level.
    """
    from needskit.resources import supply_per_head

    _check_level(ctx, level)
    status = pd.DataFrame(services).groupby(by)["data_status"].agg(lambda s: "; ".join(sorted(set(s))))
    out = supply_per_head(services, population=residents(ctx, level="lsoa"), by=by, to=level)
    if by == "theme":
        out.insert(out.columns.get_loc("theme") + 1, "theme_name", _theme_name(out["theme"]))
    out["data_status"] = out[by].map(status)
    return out


def supply_map_frame(supply: pd.DataFrame, *, ctx: NeedsContext) -> gpd.GeoDataFrame:
    """All services per 1,000 residents by place, joined to the places' polygons (for a choropleth).

    Returns
    -------
    GeoDataFrame: ``area_code``, ``area_name``, ``n_services``, ``population``,
    ``services_per_1000``, geometry.
    """
    require_columns(supply, ["area_code", "n_records", "population", "level"], argument="supply")
    level = str(supply["level"].iloc[0])
    totals = supply.groupby("area_code").agg(n_services=("n_records", "sum"), population=("population", "first"))
    totals["services_per_1000"] = np.where(totals["population"] > 0, 1000 * totals["n_services"] / totals["population"], np.nan)
    areas = geo.load_areas(level, within=ctx.area_code)
    return areas[["area_code", "area_name", "geometry"]].merge(totals.reset_index(), on="area_code", how="left")


def supply_wide(supply: pd.DataFrame) -> pd.DataFrame:
    """Supply per head by place as one row per place: all services, then each theme per 1,000.

    Returns
    -------
    DataFrame, one row per place, most services per 1,000 residents first: ``area_name``,
    ``population``, ``n_services``, ``services_per_1000``, one column per theme name (services
    per 1,000), ``data_status``.
    """
    require_columns(supply, ["area_code", "area_name", "theme_name", "n_records", "population", "supply_per_1000", "data_status"], argument="supply")
    wide = supply.pivot_table(index="area_code", columns="theme_name", values="supply_per_1000", aggfunc="sum")
    totals = supply.groupby("area_code").agg(area_name=("area_name", "first"), population=("population", "first"),
                                             n_services=("n_records", "sum"))
    totals["services_per_1000"] = np.where(totals["population"] > 0, 1000 * totals["n_services"] / totals["population"], np.nan)
    status = "; ".join(sorted({part for text in supply["data_status"].dropna() for part in str(text).split("; ")}))
    out = totals.join(wide).sort_values("services_per_1000", ascending=False).reset_index(drop=True)
    out["data_status"] = status
    out.columns.name = None
    return out


def supply_chart(supply: pd.DataFrame, *, title: str, top: int | None = 25) -> ReportFigure:
    """Stacked bars of services per 1,000 residents by place and theme (the ``top`` places by total).

    Returns
    -------
    ReportFigure
    """
    require_columns(supply, ["area_name", "theme_name", "supply_per_1000"], argument="supply")
    wide = supply.pivot_table(index="area_name", columns="theme_name", values="supply_per_1000", aggfunc="sum").fillna(0.0)
    wide = wide.loc[wide.sum(axis=1).sort_values(ascending=False).index]
    shown = wide.head(top) if top else wide
    fig = ReportFigure(figsize=(8, 0.28 * len(shown) + 1.6))
    ax = fig.add_subplot()
    left = np.zeros(len(shown))
    import matplotlib

    palette = matplotlib.colormaps["tab10"]
    for i, theme in enumerate(shown.columns):
        ax.barh(np.arange(len(shown)), shown[theme].to_numpy(), left=left, color=palette(i), label=theme)
        left += shown[theme].to_numpy()
    ax.set_yticks(np.arange(len(shown)), shown.index, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("services per 1,000 residents")
    note = f" (top {len(shown)} of {len(wide)})" if len(shown) < len(wide) else ""
    ax.set_title(title + note, fontsize=10, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def neighbourhood_centres(ctx: NeedsContext) -> gpd.GeoDataFrame:
    """Every LSOA of the area's county as a point where its people live, with its residents.

    Each LSOA's centre is the mean position of the shipped postcode points in it (catalogue
    dataset ``postcodes``: ONS Postcode Directory, every postcode counted once) through
    :func:`needskit.resources.population_weighted_centres`; an LSOA with no postcode point gets
    its polygon's representative point.

    Returns
    -------
    GeoDataFrame (EPSG:27700), one row per LSOA of the county, sorted by code: ``area_code``,
    ``area_name``, ``ward_name``, ``in_area`` (inside the report's area), ``n_postcodes``,
    ``centre_method`` (``"postcode-weighted"`` or ``"representative point (no postcodes)"``),
    ``population`` (published residents), point geometry.

    Raises
    ------
    ReportError
        Not a district or county report.
    CatalogError
        The catalogue has no ``postcodes`` dataset.
    """
    from needskit.partner_data.ingest import read_dataset
    from needskit.resources import population_weighted_centres

    inside = set(_area_table(ctx)["lsoa"])
    county = str(_area_table(ctx)["county"].iloc[0])
    spec = ctx.catalog["postcodes"]
    x, y = spec.geography.x, spec.geography.y
    points = read_dataset(spec)
    located = geo.assign_points(points, x=x, y=y, crs=spec.geography.crs, level="lsoa")
    located = located[located["area_code"].notna()]
    gdf = gpd.GeoDataFrame(
        located[["area_code"]],
        geometry=gpd.points_from_xy(pd.to_numeric(located[x]), pd.to_numeric(located[y])),
        crs=spec.geography.crs,
    ).to_crs(geo.BNG)
    centres = population_weighted_centres(gdf, area_col="area_code").set_index("area_code")
    lsoas = geo.load_areas("lsoa", within=county)
    table = geo.hierarchy().set_index("lsoa")
    known = lsoas["area_code"].isin(centres.index).to_numpy()
    geometry = np.where(
        known,
        centres.geometry.reindex(lsoas["area_code"]).to_numpy(),
        lsoas.geometry.representative_point().to_numpy(),
    )
    out = gpd.GeoDataFrame(
        {
            "area_code": lsoas["area_code"].to_numpy(),
            "area_name": lsoas["area_name"].to_numpy(),
            "ward_name": lsoas["area_code"].map(table["ward_name"]).to_numpy(),
            "in_area": lsoas["area_code"].isin(inside).to_numpy(),
            "n_postcodes": centres["n_points"].reindex(lsoas["area_code"]).fillna(0).astype("int64").to_numpy(),
            "centre_method": np.where(known, "postcode-weighted", "representative point (no postcodes)"),
        },
        geometry=gpd.GeoSeries(geometry, crs=geo.BNG).to_numpy(),
        crs=geo.BNG,
    )
    out["population"] = out["area_code"].map(residents(ctx, level="lsoa", scope="county")).fillna(0.0).to_numpy()
    return out.sort_values("area_code").reset_index(drop=True)


def _require_types(services: pd.DataFrame, service_types: Sequence[str]) -> None:
    known = set(services["service_type"])
    missing = [t for t in service_types if t not in known]
    if missing:
        raise SchemaError(
            "names service types the register does not have",
            where="service_types",
            expected=f"some of {sorted(known)}",
            got=repr(missing),
        )


def access_table(
    centres: gpd.GeoDataFrame, *, services: gpd.GeoDataFrame, service_types: Sequence[str] = ACCESS_TYPES
) -> pd.DataFrame:
    """Straight-line distance from each of the area's neighbourhoods to its nearest service of each type.

    Parameters
    ----------
    centres
        :func:`neighbourhood_centres` (the whole county: the nearest service may be over a
        district boundary).
    services
        Service points of the whole county (``register.services``), EPSG:27700.
    service_types
        Types to measure (default :data:`ACCESS_TYPES`).

    Returns
    -------
    DataFrame, one row per LSOA of the area (``centres.in_area``), sorted by code:
    ``area_code``, ``area_name``, ``ward_name``, ``population``, ``centre_method``, then per
    type ``<type>_m`` (metres) and ``<type>_nearest`` (the service's name).
    ``attrs["data_status"]`` says per type whether its points are ``"real"`` or ``"ILLUSTRATIVE"``.

    Raises
    ------
    SchemaError
        Unknown service types; :func:`needskit.resources.nearest_service` errors.
    """
    from needskit.resources import nearest_service

    require_columns(centres, ["area_code", "in_area", "population"], argument="centres")
    _require_types(services, service_types)
    chosen = services[services["service_type"].isin(service_types)]
    nearest = nearest_service(centres, services=chosen, service_type="service_type")
    names = chosen.set_index("service_id")["name"]
    nearest["name"] = nearest["service_id"].map(names)
    out = pd.DataFrame(centres.loc[centres["in_area"], ["area_code", "area_name", "ward_name", "population", "centre_method"]])
    made_up = chosen.groupby("service_type")["illustrative"].agg(lambda s: bool(s.astype(bool).all()))
    out.attrs["data_status"] = {kind: ILLUSTRATIVE_LABEL if made_up.get(kind, False) else "real" for kind in service_types}
    for kind in service_types:
        part = nearest[nearest["service_type"] == kind].set_index("area_code")
        out[f"{kind}_m"] = out["area_code"].map(part["distance_m"]).astype(float)
        out[f"{kind}_nearest"] = out["area_code"].map(part["name"])
    return out.sort_values("area_code").reset_index(drop=True)


def access_summary(access: pd.DataFrame, *, far_m: float = 2000.0) -> pd.DataFrame:
    """Distances to the nearest service, per type: typical, worst, and residents further than ``far_m``.

    Returns
    -------
    DataFrame, one row per service type: ``service_type``, ``median_m``, ``p90_m``, ``max_m``,
    ``mean_per_resident_m`` (population-weighted mean), ``residents_beyond`` (published residents
    of neighbourhoods whose centre is further than ``far_m``), ``share_residents_beyond``,
    ``far_m``, ``data_status`` (from ``access.attrs``; ``"real"`` when unknown).

    Raises
    ------
    SchemaError
        No ``<type>_m`` columns, or a non-positive ``far_m``.
    """
    require_columns(access, ["population"], argument="access")
    kinds = [c[:-2] for c in access.columns if c.endswith("_m")]
    if not kinds:
        raise SchemaError("has no distance columns", where="access", expected="columns named <type>_m (access_table)")
    if not far_m > 0:
        raise SchemaError("is not a positive distance", where="far_m", expected="metres > 0", got=repr(far_m))
    distances = access[[f"{k}_m" for k in kinds]].to_numpy(float)
    people = access["population"].to_numpy(float)[:, None]
    total = people.sum()
    beyond = ((distances > far_m) * people).sum(axis=0)
    return pd.DataFrame(
        {
            "service_type": [k.replace("_", " ") for k in kinds],
            "median_m": np.nanmedian(distances, axis=0),
            "p90_m": np.nanpercentile(distances, 90, axis=0),
            "max_m": np.nanmax(distances, axis=0),
            "mean_per_resident_m": (distances * people).sum(axis=0) / total if total else np.nan,
            "residents_beyond": beyond,
            "share_residents_beyond": beyond / total if total else np.nan,
            "far_m": float(far_m),
            "data_status": [access.attrs.get("data_status", {}).get(k, "real") for k in kinds],
        }
    )


def access_sentence(summary: pd.DataFrame, *, area_name: str) -> str:
    """One sentence per service type on how far residents are from the nearest one."""
    parts = []
    for row in summary.itertuples(index=False):
        label = row.service_type + (f" ({ILLUSTRATIVE_LABEL} locations)" if getattr(row, "data_status", "real") == ILLUSTRATIVE_LABEL else "")
        parts.append(
            f"{label}: half of {area_name}'s neighbourhoods are within {row.median_m / 1000:,.1f} km and the furthest is "
            f"{row.max_m / 1000:,.1f} km away; {row.residents_beyond:,.0f} residents ({row.share_residents_beyond:.1%}) live in "
            f"neighbourhoods more than {row.far_m / 1000:,.1f} km from one"
        )
    return "Straight-line distance from where each neighbourhood's people live to the nearest service. " + "; ".join(parts) + "."


def furthest(access: pd.DataFrame, *, service_type: str | None = None, top: int | None = 15) -> pd.DataFrame:
    """The neighbourhoods furthest from a service type (default the first measured), furthest first.

    Returns
    -------
    DataFrame: ``area_name``, ``ward_name``, ``population``, every ``<type>_m`` and the chosen
    type's ``<type>_nearest``; sorted by ``<service_type>_m`` descending, at most ``top`` rows.

    Raises
    ------
    SchemaError
        The service type was not measured.
    """
    kinds = [c[:-2] for c in access.columns if c.endswith("_m")]
    kind = service_type or (kinds[0] if kinds else "")
    require_columns(access, [f"{kind}_m", f"{kind}_nearest"], argument="service_type")
    out = access.sort_values([f"{kind}_m", "area_code"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out = out[["area_name", "ward_name", "population", *[f"{k}_m" for k in kinds], f"{kind}_nearest"]]
    return out.head(top) if top else out


def gp_accessibility(
    centres: gpd.GeoDataFrame,
    *,
    services: gpd.GeoDataFrame,
    catchment_m: float = 3000.0,
    decay: Literal["gaussian"] | None = None,
    service_type: str = "gp_practice",
) -> gpd.GeoDataFrame:
    """Two-step floating catchment accessibility to GP practices for the area's neighbourhoods.

    The whole county's neighbourhoods and practices take part (demand from over the district
    boundary counts); the result keeps the area's neighbourhoods, with their polygons.

    Parameters
    ----------
    centres
        :func:`neighbourhood_centres`.
    services
        The county's service points (``register.services``).
    catchment_m, decay
        As :func:`needskit.resources.two_step_fca` (straight-line metres; ``None`` = classic 2SFCA).
    service_type
        The service type to measure.

    Returns
    -------
    GeoDataFrame of the area's LSOA polygons: ``area_code``, ``area_name``, ``ward_name``,
    ``population``, ``accessibility`` (practices per resident within reach),
    ``practices_per_100k`` (× 100,000), ``services_in_catchment``; ``attrs["needskit_access"]``
    from :func:`~needskit.resources.two_step_fca` plus ``supply`` (what one unit is).

    Notes
    -----
    Supply is one per practice: the NHS ODS extract carries no registered-list size, so a small
    and a large practice weigh the same.
    """
    from needskit.resources import two_step_fca

    _require_types(services, [service_type])
    practices = services[services["service_type"] == service_type].assign(_supply=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)  # unreached practices are in attrs
        fca = two_step_fca(centres, services=practices, population="population", supply="_supply",
                           catchment_m=catchment_m, decay=decay)
    meta = dict(fca.attrs.get("needskit_access", {}))
    fca = fca.merge(pd.DataFrame(centres[["area_code", "area_name", "ward_name", "in_area"]]), on="area_code")
    fca = fca[fca["in_area"]].drop(columns="in_area")
    fca["practices_per_100k"] = fca["accessibility"] * 100_000
    polygons = geo.load_areas("lsoa")
    out = polygons[["area_code", "geometry"]].merge(fca, on="area_code", how="inner")
    columns = ["area_code", "area_name", "ward_name", "population", "accessibility", "practices_per_100k", "services_in_catchment", "geometry"]
    out = gpd.GeoDataFrame(out[columns], geometry="geometry", crs=polygons.crs).sort_values("area_code").reset_index(drop=True)
    out.attrs["needskit_access"] = {**meta, "supply": f"1 per {service_type.replace('_', ' ')} (no list sizes)"}
    return out


def accessibility_sentence(fca: pd.DataFrame, *, area_name: str) -> str:
    """What the 2SFCA map shows, from the data."""
    meta = fca.attrs.get("needskit_access", {})
    none = fca[fca["services_in_catchment"] == 0]
    reached = fca[fca["services_in_catchment"] > 0]
    method = meta.get("method", "2SFCA")
    text = (
        f"GP accessibility ({method}, catchment {meta.get('catchment_m', float('nan')) / 1000:,.1f} km in a straight line, "
        f"{meta.get('supply', 'one unit per practice')}): {area_name}'s neighbourhoods reach between "
        f"{reached['practices_per_100k'].min() if len(reached) else 0:,.1f} and {fca['practices_per_100k'].max():,.1f} "
        f"practices per 100,000 residents"
    )
    if len(none):
        text += f"; {len(none)} neighbourhoods ({none['population'].sum():,.0f} residents) have no practice within the catchment"
    unreached = meta.get("unreached_services", [])
    if unreached:
        text += f"; {len(unreached)} practice(s) of the county have no resident within it"
    return text + "."


def _indicator_at(ctx: NeedsContext, indicators: Sequence[str], *, level: str, codes: Sequence[str]) -> pd.DataFrame:
    """Values of indicators at a level for the report period (one row per indicator and area)."""
    rows = ctx.results[ctx.results["indicator"].isin(list(indicators)) & (ctx.results["level"] == level) & ctx.results["area_code"].isin(list(codes))]
    return select_period(rows, ctx.period)


def need_by_theme(
    ctx: NeedsContext, *, level: str = "ward", themes: Sequence[str] | None = None, theme_need: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The need indicator of each theme for every place of the area.

    Parameters
    ----------
    ctx
        Report context (published indicators).
    level
        ``"ward"`` or ``"district"``.
    themes
        Themes wanted (default every theme of ``theme_need``).
    theme_need
        ``theme -> indicator id``; default :data:`THEME_NEED`.

    Returns
    -------
    DataFrame, one row per place and theme: ``area_code``, ``area_name``, ``theme``,
    ``need_indicator``, ``need_title``, ``need_period``, ``need`` (missing where withheld),
    ``need_polarity``.

    Raises
    ------
    ReportError
        Unknown level; a theme without a need indicator, or an indicator the context lacks.
    """
    mapping = dict(theme_need or THEME_NEED)
    wanted = list(themes) if themes is not None else list(mapping)
    missing = [t for t in wanted if t not in mapping]
    if missing:
        raise ReportError("has no need indicator", where=f"themes {missing}", expected=f"themes of {sorted(mapping)}",
                          hint="pass theme_need={theme: indicator_id}")
    unknown = sorted({mapping[t] for t in wanted} - set(ctx.results["indicator"]))
    if unknown:
        raise ReportError("names indicators the report does not compute", where=f"theme_need {unknown}",
                          expected=f"ids of the indicator set, e.g. {sorted(ctx.results['indicator'].unique())[:5]}")
    codes = _place_codes(ctx, level)
    values = _indicator_at(ctx, [mapping[t] for t in wanted], level=level, codes=codes)
    link = pd.DataFrame({"theme": wanted, "need_indicator": [mapping[t] for t in wanted]})
    grid = link.merge(pd.DataFrame({"area_code": codes}), how="cross")
    picked = values[["indicator", "area_code", "value", "title", "period", "polarity"]].rename(
        columns={"indicator": "need_indicator", "value": "need", "title": "need_title", "period": "need_period", "polarity": "need_polarity"})
    out = grid.merge(picked, on=["need_indicator", "area_code"], how="left")
    out.insert(1, "area_name", out["area_code"].map(_place_names(level)))
    return out[["area_code", "area_name", "theme", "need_indicator", "need_title", "need_period", "need", "need_polarity"]]


def provision_gaps(supply: pd.DataFrame, need: pd.DataFrame, *, threshold: Any = "median") -> pd.DataFrame:
    """Need against provision by place and theme, in quadrants, with the gaps ranked.

    Parameters
    ----------
    supply
        :func:`supply_by_place` by theme (``area_code``, ``theme``, ``supply_per_1000``).
    need
        :func:`need_by_theme` (``area_code``, ``theme``, ``need``).
    threshold
        As :func:`needskit.commissioning.gaps`.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.gaps` (``need`` against ``supply_per_1000`` within
    theme) plus ``area_name``, ``theme_name``, ``need_title`` and ``data_status``; themes that
    have both a need indicator and services; places with a withheld need value are left out
    (counted in ``attrs["left_out"]``).
    """
    require_columns(supply, ["area_code", "theme", "supply_per_1000"], argument="supply")
    require_columns(need, ["area_code", "theme", "need", "need_title"], argument="need")
    merged = need.merge(supply[["area_code", "theme", "supply_per_1000", "data_status"]], on=["area_code", "theme"], how="inner")
    left_out = merged[merged["need"].isna() | merged["supply_per_1000"].isna()]
    merged = merged.drop(left_out.index)
    out = com.gaps(merged, need="need", provision="supply_per_1000", theme="theme", threshold=threshold)
    extra = merged.set_index(["area_code", "theme"])[["area_name", "need_title", "data_status"]]
    keys = pd.MultiIndex.from_frame(out[["area_code", "theme"]])
    for column in ("area_name", "need_title", "data_status"):
        out[column] = extra[column].reindex(keys).to_numpy()
    out["theme_name"] = _theme_name(out["theme"])
    out.attrs["left_out"] = len(left_out)
    return out


def gap_table(gaps: pd.DataFrame, *, top: int | None = 15) -> pd.DataFrame:
    """The ranked gaps (high need, low provision) across themes, largest first.

    Returns
    -------
    DataFrame: ``theme_name``, ``area_name``, ``need_title``, ``need``, ``supply_per_1000``,
    ``need_percentile``, ``provision_percentile``, ``gap_score``, ``gap_rank``, ``data_status``;
    at most ``top`` rows, ordered by gap score.
    """
    rows = gaps[gaps["quadrant"] == "gap"].sort_values(["gap_score", "need_percentile"], ascending=False, kind="stable")
    columns = ["theme_name", "area_name", "need_title", "need", "supply_per_1000", "need_percentile", "provision_percentile", "gap_score", "gap_rank", "data_status"]
    rows = rows[columns]
    return (rows.head(top) if top else rows).reset_index(drop=True)


def gaps_sentence(gaps: pd.DataFrame, *, area_name: str) -> str:
    """How many places are gaps in each theme, and the largest one, from the data."""
    counts = gaps.groupby("theme_name").agg(n=("area_code", "size"), gaps=("quadrant", lambda q: int((q == "gap").sum())))
    parts = [f"{theme}: {row.gaps} of {row.n}" for theme, row in counts.iterrows()]
    top = gaps[gaps["quadrant"] == "gap"].sort_values("gap_score", ascending=False)
    text = (
        f"Places of {area_name} with high need and low provision (services per 1,000 residents), where high means "
        f"{gaps.attrs.get('needskit_gaps', {}).get('threshold_rule', 'above the median within theme')}: " + "; ".join(parts) + "."
    )
    if len(top):
        row = top.iloc[0]
        text += f" The largest gap is {row['area_name']} for {row['theme_name'].lower()} (need percentile {row['need_percentile']:.2f}, provision percentile {row['provision_percentile']:.2f})."
    if "data_status" in gaps and gaps["data_status"].astype(str).str.contains(ILLUSTRATIVE_LABEL).any():
        text += f" Provision counts {ILLUSTRATIVE_LABEL} services: the gaps show the method, not real provision."
    if gaps.attrs.get("left_out"):
        text += f" {gaps.attrs['left_out']} place-theme pairs with a withheld need value are left out."
    return text


def duplication_in_area(register: Any, *, ctx: NeedsContext, min_partners: int = 2) -> pd.DataFrame:
    """Neighbourhoods and themes of the area where two or more partners' service catchments overlap.

    Parameters
    ----------
    register
        :class:`~needskit.resources.ResourceRegister`: its services (with ``annual_cost_gbp``) and
        catchments (lists of LSOAs); services without a catchment (the NHS ones) do not take part.
    ctx
        Report context.
    min_partners
        Partners needed for a duplication.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.duplication` for the area's LSOAs:
    ``area_code``, ``area_name``, ``ward_name``, ``theme``, ``theme_name``, ``n_partners``,
    ``partners``, ``n_services``, ``service_ids``, ``spend_total``, ``spend_in_area``,
    ``data_status``; sorted by most partners, then most spend in the area.
    ``attrs["services_without_catchment"]`` counts the services left out.
    """
    table = _area_table(ctx).set_index("lsoa")
    dup = com.duplication(register.services, catchment=register.catchments, spend="annual_cost_gbp", min_partners=min_partners)
    meta = dup.attrs.get("needskit_duplication", {})
    dup = dup[dup["area_code"].isin(table.index)].copy()
    made_up = set(register.services.loc[register.services["illustrative"].astype(bool), "service_id"])
    without = set(meta.get("services_without_catchment", []))
    dup["data_status"] = [
        ILLUSTRATIVE_LABEL if any(s in made_up for s in ids.split("; ")) else "real" for ids in dup["service_ids"]
    ]
    dup.insert(1, "area_name", dup["area_code"].map(table["lsoa_name"]))
    dup.insert(2, "ward_name", dup["area_code"].map(table["ward_name"]))
    dup.insert(4, "theme_name", _theme_name(dup["theme"]))
    dup = dup.sort_values(["n_partners", "spend_in_area", "area_code"], ascending=[False, False, True], kind="stable").reset_index(drop=True)
    dup.attrs["services_without_catchment"] = len(without)
    dup.attrs["services_without_catchment_real"] = len(without - made_up)
    dup.attrs["services_total"] = len(register.services)
    return dup


def duplication_summary(dup: pd.DataFrame) -> pd.DataFrame:
    """Duplication by theme: neighbourhoods, partners, services and spend involved.

    Returns
    -------
    DataFrame, one row per theme: ``theme_name``, ``neighbourhoods``, ``most_partners``,
    ``services`` (distinct services involved), ``spend_in_area`` (their spend shared over their
    catchments, summed over these neighbourhoods), ``data_status``.
    """
    require_columns(dup, ["theme_name", "area_code", "n_partners", "service_ids", "spend_in_area", "data_status"], argument="dup")
    rows = []
    for theme, part in dup.groupby("theme_name", sort=True):
        services = {s for ids in part["service_ids"] for s in ids.split("; ")}
        rows.append({
            "theme_name": theme, "neighbourhoods": part["area_code"].nunique(), "most_partners": int(part["n_partners"].max()),
            "services": len(services), "spend_in_area": float(part["spend_in_area"].sum()),
            "data_status": "; ".join(sorted(set(part["data_status"]))),
        })
    columns = ["theme_name", "neighbourhoods", "most_partners", "services", "spend_in_area", "data_status"]
    return pd.DataFrame(rows, columns=columns)


def duplication_sentence(dup: pd.DataFrame, *, ctx: NeedsContext) -> str:
    """How much overlap there is, from the data; says ILLUSTRATIVE when made-up services are involved."""
    n_areas = len(_area_table(ctx))
    if dup.empty:
        return f"No neighbourhood of {ctx.area_name} is covered by two or more partners' services on the same theme."
    text = (
        f"In {dup['area_code'].nunique()} of {ctx.area_name}'s {n_areas} neighbourhoods, two or more partners run services on the "
        f"same theme whose catchments cover the neighbourhood ({len(dup)} neighbourhood-theme pairs; at most "
        f"{int(dup['n_partners'].max())} partners). The services' running cost shared over their catchments comes to "
        f"£{dup['spend_in_area'].sum():,.0f} a year in these neighbourhoods."
    )
    if (dup["data_status"] == ILLUSTRATIVE_LABEL).any():
        text += f" These services, catchments and costs are {ILLUSTRATIVE_LABEL}."
    if dup.attrs.get("services_without_catchment"):
        text += (
            f" {dup.attrs['services_without_catchment']} of the county's {dup.attrs.get('services_total', '')} services have no catchment on "
            f"record ({dup.attrs.get('services_without_catchment_real', 0)} of them real NHS practices and pharmacies) and are not compared."
        )
    return text + " Overlap is where to ask questions, not a verdict: partners may serve different people, or work jointly."


def spend_against_need(
    register: Any, *, ctx: NeedsContext, level: str = "ward", theme_need: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Partners' spend per head by place and theme set against the theme's need indicator.

    Parameters
    ----------
    register
        :class:`~needskit.resources.ResourceRegister` (``spend``: ward × partner × theme).
    ctx
        Report context (published residents and indicators).
    level
        ``"ward"`` or ``"district"`` (the county only).
    theme_need
        ``theme -> indicator``; default :data:`THEME_NEED`.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.spend_vs_need` (``area_code``, ``theme``,
    ``need``, ``spend_gbp``, ``population``, ``spend_per_head``, percentiles, shares,
    ``need_proportional_spend`` ...) plus ``area_name``, ``theme_name``, ``need_title``,
    ``data_status``. ``attrs["caveat"]`` is :data:`needskit.commissioning.SPEND_VS_NEED_CAVEAT`.
    """
    codes = _place_codes(ctx, level)
    spend = register.spend
    if level == "district":
        spend = spend.assign(ward_code=spend["ward_code"].map(_area_table(ctx).drop_duplicates("ward").set_index("ward")["district"]))
    spend = spend[spend["ward_code"].isin(codes)]
    by_theme = spend.groupby(["ward_code", "theme"], as_index=False).agg(
        spend_gbp=("spend_gbp", "sum"), illustrative=("illustrative", "any")).rename(columns={"ward_code": "area_code"})
    need = need_by_theme(ctx, level=level, themes=sorted(by_theme["theme"].unique()), theme_need=theme_need)
    frame = by_theme.merge(need[["area_code", "theme", "need", "need_title"]], on=["area_code", "theme"], how="left")
    frame["population"] = frame["area_code"].map(residents(ctx, level=level))
    frame = frame[frame["need"].notna()]
    out = com.spend_vs_need(frame, need="need", spend="spend_gbp", population="population", theme="theme")
    keys = pd.MultiIndex.from_frame(out[["area_code", "theme"]])
    extra = frame.set_index(["area_code", "theme"])
    out["need_title"] = extra["need_title"].reindex(keys).to_numpy()
    out["data_status"] = np.where(extra["illustrative"].reindex(keys).to_numpy(dtype=bool), ILLUSTRATIVE_LABEL, "real")
    out.insert(1, "area_name", out["area_code"].map(_place_names(level)))
    out.insert(3, "theme_name", _theme_name(out["theme"]))
    return out


def spend_sentence(table: pd.DataFrame) -> str:
    """The caveat every spend-against-need output must print, then what the data say, per theme."""
    caveat = table.attrs.get("caveat", com.SPEND_VS_NEED_CAVEAT)
    correlation = table.attrs.get("needskit_spend_vs_need", {}).get("spearman_need_vs_spend_per_head", {})
    parts = [f"{THEMES.get(theme, theme)}: {rho:+.2f}" for theme, rho in correlation.items() if np.isfinite(rho)]
    text = f"**{caveat}**"
    if (table.get("data_status", pd.Series(dtype=str)) == ILLUSTRATIVE_LABEL).any():
        text += f" The spend is {ILLUSTRATIVE_LABEL} (made up), so these figures show the method only."
    if parts:
        text += " Rank correlation (Spearman) between need and spend per head across places — " + "; ".join(parts) + "."
    return text


def spend_table(table: pd.DataFrame, *, top: int | None = 15) -> pd.DataFrame:
    """Places whose spend per head ranks furthest below their need, across themes.

    Returns
    -------
    DataFrame: ``theme_name``, ``area_name``, ``need_title``, ``need``, ``spend_per_head``,
    ``need_percentile``, ``spend_per_head_percentile``, ``percentile_difference``,
    ``spend_minus_need_proportional``, ``data_status``; most negative difference first, at most
    ``top`` rows.
    """
    columns = ["theme_name", "area_name", "need_title", "need", "spend_per_head", "need_percentile", "spend_per_head_percentile",
               "percentile_difference", "spend_minus_need_proportional", "data_status"]
    require_columns(table, columns, argument="table")
    out = table.sort_values(["percentile_difference", "need_percentile"], ascending=[True, False], kind="stable")[columns]
    return (out.head(top) if top else out).reset_index(drop=True)


def spend_chart(table: pd.DataFrame, *, title: str) -> ReportFigure:
    """Need percentile against spend-per-head percentile, one panel per theme (points above the
    diagonal get more spend per head than their need rank)."""
    themes = sorted(table["theme_name"].unique())
    n = max(len(themes), 1)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = ReportFigure(figsize=(3.2 * cols, 3.0 * rows + 0.6))
    for i, theme in enumerate(themes):
        ax = fig.add_subplot(rows, cols, i + 1)
        part = table[table["theme_name"] == theme]
        ax.plot([0, 1], [0, 1], color="#bbbbbb", linewidth=0.8)
        ax.scatter(part["need_percentile"], part["spend_per_head_percentile"], s=14, color="#1F77B4")
        ax.set_title(theme, fontsize=8)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("need percentile", fontsize=7)
        ax.set_ylabel("spend per head percentile", fontsize=7)
        ax.tick_params(labelsize=6)
    illustrative = (table.get("data_status", pd.Series(dtype=str)) == ILLUSTRATIVE_LABEL).any()
    fig.suptitle(title + (f" ({ILLUSTRATIVE_LABEL} spend)" if illustrative else ""), fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    return fig


# ============================================================================================
# Commissioning priorities
# ============================================================================================


def priority_places(ctx: NeedsContext, *, worst_decile: int = 2, worst_share: float = 0.2) -> pd.DataFrame:
    """The area's most deprived neighbourhoods and the themes where their need shows most.

    Parameters
    ----------
    ctx
        Report context (published indicators and IoD2025 scores).
    worst_decile
        Neighbourhoods in IMD 2025 national deciles 1 to ``worst_decile`` are priorities; an IoD
        domain in those deciles flags its theme (:data:`DOMAIN_THEMES`).
    worst_share
        An indicator flags its theme when the neighbourhood is in the worst ``worst_share`` of the
        area's neighbourhoods on it (by polarity; withheld values take no part).

    Returns
    -------
    DataFrame, one row per priority neighbourhood and theme (every theme of the catalogue but
    cross-cutting): ``area_code``, ``area_name``, ``ward_name``, ``imd_rank``, ``imd_decile``,
    ``theme``, ``theme_name``, ``n_signals`` (0 when nothing flags the theme), ``evidence``
    (``"; "``-joined). Sorted by IMD rank, then theme. ``attrs`` keep ``worst_decile`` and
    ``worst_share``.

    Raises
    ------
    ReportError
        Not a district or county; ``worst_decile`` not 1-10 or ``worst_share`` not in (0, 1).
    """
    if isinstance(worst_decile, bool) or not isinstance(worst_decile, int | np.integer) or not 1 <= worst_decile <= 10:
        raise ReportError("is not a decile", where="worst_decile", expected="a whole number 1-10", got=repr(worst_decile))
    if not isinstance(worst_share, int | float) or not 0 < worst_share < 1:
        raise ReportError("is not a share", where="worst_share", expected="a number in (0, 1)", got=repr(worst_share))
    table = _area_table(ctx).set_index("lsoa")
    iod = ctx.profile[(ctx.profile["dataset"] == "iod2025_scores") & (ctx.profile["level"] == "lsoa") & ctx.profile["area_code"].isin(table.index)]
    wide = iod.pivot_table(index="area_code", columns="measure", values="value", aggfunc="first")
    priority = wide[wide["imd_decile"] <= worst_decile]
    themes = [t for t in THEMES if t != "cross_cutting"]
    # indicators in the worst share of the area's neighbourhoods
    rows = _indicator_at(ctx, ctx.results["indicator"].unique(), level="lsoa", codes=table.index)
    rows = rows[rows["value"].notna() & rows["polarity"].isin(["high_is_bad", "high_is_good"]) & rows["theme"].isin(themes)]
    badness = np.where(rows["polarity"] == "high_is_good", -rows["value"], rows["value"])
    pct = pd.Series(badness, index=rows.index).groupby(rows["indicator"]).rank(method="average", pct=True)
    worst = rows[(pct > 1 - worst_share) & rows["area_code"].isin(priority.index)]
    signals = [pd.DataFrame({"area_code": worst["area_code"], "theme": worst["theme"],
                             "evidence": worst["title"] + f" (worst {worst_share:.0%} of {ctx.area_name})"})]
    # IoD2025 domains in the worst national deciles
    for key, theme in DOMAIN_THEMES.items():
        column = f"{key}_decile"
        if column in priority:
            hit = priority[priority[column] <= worst_decile]
            signals.append(pd.DataFrame({"area_code": hit.index, "theme": theme,
                                         "evidence": [f"IoD2025 {_DOMAIN_NAMES[key]} domain, decile {int(d)}" for d in hit[column]]}))
    found = pd.concat(signals, ignore_index=True)
    grouped = found.groupby(["area_code", "theme"]).agg(n_signals=("evidence", "size"), evidence=("evidence", "; ".join))
    grid = pd.MultiIndex.from_product([priority.index, themes], names=["area_code", "theme"])
    out = grouped.reindex(grid).reset_index()
    out["n_signals"] = out["n_signals"].fillna(0).astype("int64")
    out["evidence"] = out["evidence"].fillna("")
    out["area_name"] = out["area_code"].map(table["lsoa_name"])
    out["ward_name"] = out["area_code"].map(table["ward_name"])
    out["imd_rank"] = out["area_code"].map(priority["imd_rank"]).astype("int64")
    out["imd_decile"] = out["area_code"].map(priority["imd_decile"]).astype("int64")
    out["theme_name"] = _theme_name(out["theme"])
    order = {t: i for i, t in enumerate(themes)}
    out = out.sort_values(["imd_rank", "theme"], key=lambda s: s.map(order) if s.name == "theme" else s, kind="stable")
    columns = ["area_code", "area_name", "ward_name", "imd_rank", "imd_decile", "theme", "theme_name", "n_signals", "evidence"]
    out = out[columns].reset_index(drop=True)
    out.attrs.update({"worst_decile": int(worst_decile), "worst_share": float(worst_share)})
    return out


def priority_matrix(places: pd.DataFrame) -> pd.DataFrame:
    """Priority neighbourhoods × themes: the number of signals in each cell.

    Returns
    -------
    DataFrame, one row per priority neighbourhood (most deprived first): ``area_name``,
    ``ward_name``, ``imd_decile``, one column per theme name (signals; 0 = none) and
    ``n_themes`` (themes with at least one signal).
    """
    require_columns(places, ["area_code", "area_name", "ward_name", "imd_rank", "imd_decile", "theme_name", "n_signals"], argument="places")
    wide = places.pivot_table(index=["imd_rank", "area_code", "area_name", "ward_name", "imd_decile"], columns="theme_name",
                              values="n_signals", aggfunc="sum", sort=False).fillna(0).astype("int64")
    wide["n_themes"] = (wide > 0).sum(axis=1)
    wide = wide.reset_index().sort_values("imd_rank").drop(columns=["imd_rank", "area_code"])
    wide.columns.name = None
    return wide.reset_index(drop=True)


def priority_sentence(places: pd.DataFrame, *, ctx: NeedsContext) -> str:
    """How many priority neighbourhoods there are and which themes flag most often."""
    worst_decile = int(places.attrs.get("worst_decile", 2))
    n_all = len(_area_table(ctx))
    deciles = "decile 1" if worst_decile == 1 else f"deciles 1-{worst_decile}"
    n = places["area_code"].nunique()
    if n == 0:
        return f"None of {ctx.area_name}'s {n_all} neighbourhoods is in IMD 2025 {deciles}."
    per_theme = places[places["n_signals"] > 0].groupby("theme_name")["area_code"].nunique().sort_values(ascending=False)
    top = "; ".join(f"{theme} ({k} of them)" for theme, k in per_theme.head(3).items())
    wards = places.drop_duplicates("area_code")["ward_name"].value_counts()
    return (
        f"{n} of {ctx.area_name}'s {n_all} neighbourhoods are among the {worst_decile * 10}% most deprived in England "
        f"(IMD 2025 {deciles}), in {len(wards)} wards (most in {wards.index[0]}: {wards.iloc[0]})."
        + (f" The themes flagged most often: {top}." if top else "")
    )


def _places_level(ctx: NeedsContext, level: str | None) -> str:
    return level if level is not None else ("district" if ctx.area_level == "county" else "ward")


def delivery_in_area(delivery: pd.DataFrame, *, ctx: NeedsContext, level: str | None = None) -> pd.DataFrame:
    """Delivery register rows for the area's places: wide places expanded, others dropped.

    Parameters
    ----------
    delivery
        :func:`needskit.commissioning.outcomes.load_delivery` rows.
    ctx
        Report context.
    level
        ``"ward"`` or ``"district"``; default ward for a district, district for the county.

    Returns
    -------
    Rows as :func:`needskit.commissioning.outcomes.expand_places` returns them (``place_code`` at ``level``,
    ``expanded_from`` the original wide place), for places inside the area only; at district
    level a ward activity counts once in its district.
    """
    level = _places_level(ctx, level)
    _check_level(ctx, level)
    rows = oc.expand_places(delivery, to="ward", within=ctx.area_code)
    if level == "district":
        table = _area_table(ctx).drop_duplicates("ward").set_index("ward")
        rows = rows.assign(
            expanded_from=rows["expanded_from"].fillna(rows["place_code"]),
            place_code=rows["place_code"].map(table["district"]),
            place_name=rows["place_code"].map(table["district_name"]),
            place_level="district",
        ).drop_duplicates(["activity_id", "outcome_id", "place_code"]).reset_index(drop=True)
    return rows


def delivery_sentence(delivery: pd.DataFrame, rows: pd.DataFrame, *, ctx: NeedsContext) -> str:
    """What the delivery register covers in the area, from the data."""
    total = delivery["activity_id"].nunique()
    here = rows["activity_id"].nunique()
    if here == 0:
        return f"The delivery register lists {total} activities; none serves a place in {ctx.area_name}."
    origin = rows.drop_duplicates("activity_id")["expanded_from"].fillna("")
    table = geo.hierarchy()
    county_codes = set(table["county"])
    wide = int(origin.isin(county_codes).sum())
    district_wide = int(origin.isin(set(table["district"])).sum())
    local = here - wide - district_wide
    text = (
        f"The delivery register lists {total} activities; {here} of them serve places in {ctx.area_name}: "
        f"{wide} county-wide, {district_wide} district-wide and {local} in named wards. Wide activities count in every place they cover."
    )
    if rows["illustrative"].astype(bool).any():
        text += f" Budgets and some places are {ILLUSTRATIVE_LABEL}."
    return text


def delivery_gap_matrix(rows: pd.DataFrame, *, framework: oc.OutcomesFramework, ctx: NeedsContext, level: str | None = None) -> pd.DataFrame:
    """Place × outcome: how many activities serve each outcome in each place (0 = a delivery gap).

    Returns
    -------
    DataFrame with a first row ``"whole area"`` (distinct activities serving the outcome anywhere
    in the area) and then one row per place of the area: ``place``, one column per outcome id of
    the framework (in its order), and ``outcomes_delivered`` (outcomes with at least one activity
    there; for the first row, anywhere).
    """
    level = _places_level(ctx, level)
    codes = _place_codes(ctx, level)
    ids = framework.outcomes["outcome_id"].astype(str).tolist()
    if rows.empty:
        wide = pd.DataFrame(0, index=ids, columns=codes)
    else:
        wide = oc.delivery_matrix(rows, outcomes=framework, places=codes, values="n_activities")[codes]
    per_outcome = rows.groupby("outcome_id")["activity_id"].nunique() if len(rows) else pd.Series(dtype="int64")
    total = pd.DataFrame([[int(per_outcome.get(o, 0)) for o in wide.index]], columns=wide.index, index=["whole area"])
    body = wide.T.rename(index=_place_names(level))
    out = pd.concat([total, body]).astype("int64")
    out["outcomes_delivered"] = (out[list(wide.index)] > 0).sum(axis=1)
    out.columns.name = None
    return out.rename_axis("place").reset_index()


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def undelivered_outcomes(framework: oc.OutcomesFramework, rows: pd.DataFrame) -> pd.DataFrame:
    """Outcomes with no confirmed activity in the area (activities listed with a question mark do not count).

    Returns
    -------
    DataFrame: ``outcome_id``, ``outcome``, ``theme_name``, ``accountable``, ``lead``,
    ``illustrative_fields``.
    """
    if rows.empty:
        rows = pd.DataFrame({"activity_id": pd.Series(dtype=str), "outcome_id": pd.Series(dtype=str), "confirmed": pd.Series(dtype=bool)})
    missing = oc.outcomes_without_delivery(framework, delivery=rows, confirmed="confirmed")
    missing = missing.assign(theme_name=_theme_name(missing["theme"]))
    return missing[["outcome_id", "outcome", "theme_name", "accountable", "lead", "illustrative_fields"]].reset_index(drop=True)


def outcome_need(ctx: NeedsContext, *, framework: oc.OutcomesFramework, level: str | None = None) -> pd.DataFrame:
    """Need per outcome and place: the outcome's first indicator with a value in every place.

    An outcome whose indicators are not computed for every place (not yet defined, or withheld)
    falls back to the IMD 2025 score. ``high_is_good`` indicators are negated so that higher is
    always more need.

    Returns
    -------
    DataFrame, one row per outcome and place: ``outcome_id``, ``place_code``, ``place_name``,
    ``need``, ``need_indicator``.
    """
    level = _places_level(ctx, level)
    codes = _place_codes(ctx, level)
    links = framework.indicators[["outcome_id", "indicator_id", "polarity"]]
    values = _indicator_at(ctx, sorted(set(links["indicator_id"]) | {"imd_score"}), level=level, codes=codes)
    wide = values.pivot_table(index="indicator", columns="area_code", values="value", aggfunc="first").reindex(columns=codes)
    complete = wide.index[wide.notna().all(axis=1)]
    usable = links[links["indicator_id"].isin(complete)].drop_duplicates("outcome_id")
    chosen = framework.outcomes[["outcome_id"]].merge(usable, on="outcome_id", how="left")
    chosen["indicator_id"] = chosen["indicator_id"].fillna("imd_score")
    chosen["polarity"] = chosen["polarity"].fillna("high_is_bad")
    grid = chosen.merge(pd.DataFrame({"place_code": codes}), how="cross")
    stacked = wide.stack()
    grid["need"] = stacked.reindex(pd.MultiIndex.from_frame(grid[["indicator_id", "place_code"]])).to_numpy(float)
    grid["need"] = np.where(grid["polarity"] == "high_is_good", -grid["need"], grid["need"])
    grid["place_name"] = grid["place_code"].map(_place_names(level))
    return grid.rename(columns={"indicator_id": "need_indicator"})[["outcome_id", "place_code", "place_name", "need", "need_indicator"]]


def delivery_vs_need(rows: pd.DataFrame, *, need: pd.DataFrame, top: float = 0.2) -> pd.DataFrame:
    """Each activity's places against the highest-need places for its outcome.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.outcomes.delivery_away_from_need` (``activity_id``,
    ``outcome_id``, ``n_places``, ``n_high_need_places``, ``share_high_need``,
    ``mean_need_percentile``, ``budget_high_need``, ``budget_share_high_need``, ``activity``,
    ``partner``, ``away_from_need``) plus ``need_indicator``; empty (same columns) when nothing is
    delivered in the area.
    """
    columns = ["activity_id", "outcome_id", "n_places", "n_high_need_places", "share_high_need", "mean_need_percentile",
               "budget_high_need", "budget_share_high_need", "activity", "partner", "away_from_need", "need_indicator"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = oc.delivery_away_from_need(rows, need=need[["outcome_id", "place_code", "need"]], top=top)
    out["need_indicator"] = out["outcome_id"].map(need.drop_duplicates("outcome_id").set_index("outcome_id")["need_indicator"])
    return out[columns]


def delivery_need_sentence(table: pd.DataFrame, *, ctx: NeedsContext) -> str:
    """How much delivery sits away from the highest-need places."""
    if table.empty:
        return f"No activity of the delivery register serves a place in {ctx.area_name}, so none can be compared with need."
    away = table[table["away_from_need"]]
    text = (
        f"{len(away)} of {len(table)} activity-outcome pairs in {ctx.area_name} serve none of the highest-need fifth of places "
        f"for their outcome"
    )
    if len(away):
        text += " (" + "; ".join(f"{a} → {o}" for a, o in zip(away["activity"].head(5), away["outcome_id"].head(5), strict=True)) + ")"
    budget = table["budget_share_high_need"].dropna()
    if len(budget):
        text += f"; on average {budget.mean():.0%} of an activity's ({ILLUSTRATIVE_LABEL}) budget falls in highest-need places"
    return text + "."


def allocation_measures(ctx: NeedsContext, *, level: str = "ward") -> pd.DataFrame:
    """Need measures per place for sharing a pot: deprivation, income deprivation and crime.

    Returns
    -------
    DataFrame, one row per place of the area: ``area_code``, ``area_name``, ``population``
    (published Census 2021 residents), ``imd_score``, ``imd_people`` (score × residents),
    ``income_deprivation`` (%), ``income_deprived`` (rate × residents, estimated people),
    ``crimes`` (recorded crimes in the report's combined period, as published; withheld = 0),
    ``crimes_withheld`` (bool), ``crime_period``.
    """
    codes = _place_codes(ctx, level)
    values = _indicator_at(ctx, ["imd_score", "income_deprivation", "crime_rate_all"], level=level, codes=codes)
    wide = values.pivot_table(index="area_code", columns="indicator", values="value", aggfunc="first").reindex(codes)
    crime = values[values["indicator"] == "crime_rate_all"].set_index("area_code")
    out = pd.DataFrame({"area_code": codes})
    out["area_name"] = out["area_code"].map(_place_names(level))
    out["population"] = out["area_code"].map(residents(ctx, level=level)).to_numpy(float)
    out["imd_score"] = wide["imd_score"].to_numpy(float)
    out["imd_people"] = out["imd_score"] * out["population"]
    out["income_deprivation"] = wide["income_deprivation"].to_numpy(float)
    out["income_deprived"] = out["income_deprivation"] / 100 * out["population"]
    crimes = out["area_code"].map(crime["numerator"]).astype(float)
    out["crimes_withheld"] = crimes.isna().to_numpy()
    out["crimes"] = crimes.fillna(0.0).to_numpy()
    out["crime_period"] = out["area_code"].map(crime["period"]).fillna("")
    return out


def allocate_pot(measures: pd.DataFrame, *, pot: float, unit: float = 100, needs: Mapping[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """Share a pot across the places under each need measure.

    Parameters
    ----------
    measures
        :func:`allocation_measures`.
    pot, unit
        The sum to share (£) and the whole units allocations come in (£100).
    needs
        ``label -> (column, description)``; default :data:`ALLOCATION_NEEDS`.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.allocation_scenarios` (``area_code``,
    ``allocation_<label>``, ``share_<label>``, ``difference_<label>``, ``range``) with
    ``area_name`` second, sorted by the first scenario's allocation (largest first).
    ``attrs["needs"]`` holds the descriptions, ``attrs["pot"]`` and ``attrs["unit"]``.

    Raises
    ------
    SchemaError
        As :func:`needskit.commissioning.allocate` (pot not a whole number of units, a measure
        with missing values ...).
    """
    chosen = dict(needs or ALLOCATION_NEEDS)
    out = com.allocation_scenarios(measures, budget=pot, needs={label: column for label, (column, _) in chosen.items()}, unit=unit)
    out.insert(1, "area_name", out["area_code"].map(measures.set_index("area_code")["area_name"]))
    first = f"allocation_{next(iter(chosen))}"
    out = out.sort_values([first, "area_code"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.attrs.update({"needs": {label: text for label, (_, text) in chosen.items()}, "pot": pot, "unit": unit})
    return out


def allocation_sentence(alloc: pd.DataFrame, *, measures: pd.DataFrame | None = None) -> str:
    """That each scenario sums to the pot (checked here, not assumed), and how far they differ."""
    pot, unit = alloc.attrs.get("pot"), alloc.attrs.get("unit")
    needs = alloc.attrs.get("needs", {})
    sums = {label: int(alloc[f"allocation_{label}"].sum()) for label in needs}
    exact = all(total == pot for total in sums.values())
    parts = "; ".join(f"{text}: £{sums[label]:,.0f}" for label, text in needs.items())
    text = (
        f"The £{pot:,.0f} pot is shared across {len(alloc)} places in units of £{unit:,.0f} under {len(needs)} measures of need. "
        + ("Each scenario sums exactly to the pot" if exact else "NOT every scenario sums to the pot")
        + f" ({parts})."
    )
    widest = alloc.loc[alloc["range"].idxmax()]
    text += f" The measures disagree most on {widest['area_name']}: £{widest['range']:,.0f} between its smallest and largest share."
    if measures is not None and measures["crimes_withheld"].any():
        text += f" {int(measures['crimes_withheld'].sum())} places have a withheld crime count and get no share under the crime measure."
    return text


def allocation_table(alloc: pd.DataFrame, *, top: int | None = 20) -> pd.DataFrame:
    """The allocations with readable headings: place, then £ and share under each measure, and the range.

    Returns
    -------
    DataFrame: ``place``, per measure ``<description> (£)`` and ``<description> share``,
    ``range (£)`` (largest minus smallest allocation); at most ``top`` rows, in ``alloc`` order.
    """
    needs = alloc.attrs.get("needs", {})
    out = pd.DataFrame({"place": alloc["area_name"]})
    for label, text in needs.items():
        out[f"{text} (£)"] = alloc[f"allocation_{label}"]
        out[f"{text}: share"] = alloc[f"share_{label}"]
    out["range (£)"] = alloc["range"]
    return (out.head(top) if top else out).reset_index(drop=True)


def allocation_chart(alloc: pd.DataFrame, *, title: str, top: int | None = 25) -> ReportFigure:
    """Grouped bars of each place's allocation under each measure (the ``top`` places)."""
    needs = alloc.attrs.get("needs", {})
    shown = alloc.head(top) if top else alloc
    fig = ReportFigure(figsize=(8, 0.32 * len(shown) * max(len(needs), 1) / 2 + 1.8))
    ax = fig.add_subplot()
    height = 0.8 / max(len(needs), 1)
    y = np.arange(len(shown))
    for i, (label, text) in enumerate(needs.items()):
        ax.barh(y + i * height, shown[f"allocation_{label}"], height=height, label=text)
    ax.set_yticks(y + height * (len(needs) - 1) / 2, shown["area_name"], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("allocation, £")
    note = f" (top {len(shown)} of {len(alloc)})" if len(shown) < len(alloc) else ""
    ax.set_title(title + note, fontsize=10, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


# ============================================================================================
# Outcomes monitoring
# ============================================================================================


def outcome_series(ctx: NeedsContext, *, framework: oc.OutcomesFramework) -> pd.DataFrame:
    """Monthly values of the framework's indicators for the area, as published.

    Only indicators with more than one monthly period in the data have a series (in the shipped
    data: the police.uk crime rates). Months whose value is withheld are left out.

    Returns
    -------
    DataFrame, one row per indicator and month, sorted: ``indicator``, ``title``, ``polarity``,
    ``outcome_ids`` (``"; "``-joined), ``period`` (``YYYY-MM``), ``numerator``, ``denominator``,
    ``value``, ``multiplier``, ``illustrative`` (False), ``data`` (``"real"``), ``source``.
    """
    ids = framework.indicator_ids
    rows = ctx.results[(ctx.results["area_code"] == ctx.area_code) & ctx.results["indicator"].isin(ids)]
    rows = rows[~rows["period"].str.contains("/") & rows["period"].str.match(r"^\d{4}-\d{2}$") & (rows["period"] <= ctx.period)]
    counts = rows.groupby("indicator")["period"].nunique()
    rows = rows[rows["indicator"].isin(counts[counts > 1].index) & rows["value"].notna()]
    outcomes = framework.indicators.groupby("indicator_id")["outcome_id"].agg(lambda s: "; ".join(dict.fromkeys(s)))
    out = pd.DataFrame({
        "indicator": rows["indicator"], "title": rows["title"], "polarity": rows["polarity"],
        "outcome_ids": rows["indicator"].map(outcomes), "period": rows["period"], "numerator": rows["numerator"],
        "denominator": rows["denominator"], "value": rows["value"], "multiplier": rows["multiplier"],
        "illustrative": False, "data": "real", "source": rows["sources"],
    })
    order = {i: k for k, i in enumerate(ids)}
    return out.sort_values(["indicator", "period"], key=lambda s: s.map(order) if s.name == "indicator" else s).reset_index(drop=True)


def series_note(series: pd.DataFrame) -> str:
    """How many real months each series has, and what that means for the limits (from the data)."""
    real = series[~series["illustrative"].astype(bool)]
    if real.empty:
        return "No outcome indicator has a monthly series in the data."
    n = real.groupby("indicator")["period"].nunique()
    first, last = real["period"].min(), real["period"].max()
    counts = ", ".join(sorted({str(v) for v in n}))
    text = (
        f"The data hold {counts} real months ({first} to {last}) for {len(n)} outcome indicators "
        f"({', '.join(n.index)})."
    )
    if n.max() < mon.MIN_POINTS:
        text += (
            f" That is fewer than the {mon.MIN_POINTS} points Making Data Count recommends before process limits are "
            "trusted: the real-data limits below are provisional and special causes should not be acted on yet."
        )
    synthetic = series[series["illustrative"].astype(bool)]
    if len(synthetic):
        m = synthetic.groupby("indicator")["period"].nunique().max()
        text += (
            f" To show how the charts read with more data, each series is preceded by {m} {ILLUSTRATIVE_LABEL} synthetic months "
            f"({synthetic['period'].min()} to {synthetic['period'].max()}), shaded in the charts and marked in the tables: they are not data."
        )
    return text


def synthetic_history(series: pd.DataFrame, *, months: int = 24, seed: int = 20240401) -> pd.DataFrame:
    """Prepend an ILLUSTRATIVE synthetic monthly history to each real series (for demonstration).

    Parameters
    ----------
    series
        :func:`outcome_series` (real months; ``numerator``, ``denominator``, ``multiplier``).
    months
        Synthetic months before each series' first real month (0: return the real series).
    seed
        Seed of the ``numpy.random.Generator`` (PCG64): the same seed gives the same history.

    Returns
    -------
    The real rows plus, per indicator, ``months`` rows with ``illustrative`` True and ``data``
    ``"ILLUSTRATIVE synthetic"``: ``numerator`` drawn as below, ``denominator`` the latest real
    one, ``value`` = numerator / denominator × multiplier.

    Raises
    ------
    SchemaError
        ``months`` negative, or missing columns.

    Notes
    -----
    Counts are gamma-Poisson (negative binomial) with mean μ = the real months' mean count and
    variance max(μ, σ²), σ = mean moving range of the real counts / 1.128 (the XmR estimate of
    the process spread), so the history varies about as much as the real months do; Poisson
    when σ² ≤ μ. A stable (common-cause) process by construction: a special cause the rules flag
    inside it is chance. It demonstrates the charts; it is not evidence about the area.
    """
    require_columns(series, ["indicator", "period", "numerator", "denominator", "multiplier"], argument="series")
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 0:
        raise SchemaError("is not a number of months", where="months", expected="a whole number ≥ 0", got=repr(months))
    real = series[~series["illustrative"].astype(bool)]
    if months == 0 or real.empty:
        return series.copy()
    ordered = real.sort_values(["indicator", "period"])
    ordered = ordered.assign(_mr=ordered.groupby("indicator")["numerator"].diff().abs())
    firsts = ordered.groupby("indicator", sort=False).agg(
        start=("period", "first"), mean_count=("numerator", "mean"), mean_mr=("_mr", "mean"), denominator=("denominator", "last"),
        multiplier=("multiplier", "first"), title=("title", "first"), polarity=("polarity", "first"),
        outcome_ids=("outcome_ids", "first"), source=("source", "first"))
    mean = firsts["mean_count"].to_numpy(float)
    variance = np.maximum(mean, np.nan_to_num(firsts["mean_mr"].to_numpy(float) / _D2) ** 2)
    over = variance > mean
    shape = np.where(over, mean**2 / np.where(over, variance - mean, 1.0), 1.0)
    rng = np.random.default_rng(seed)
    gamma = rng.gamma(shape[:, None], (mean / shape)[:, None], size=(len(firsts), months))
    counts = rng.poisson(np.where(over[:, None], gamma, mean[:, None])).astype(float)
    starts = pd.PeriodIndex(firsts["start"], freq="M")
    periods = [pd.period_range(end=start - 1, periods=months, freq="M").strftime("%Y-%m") for start in starts]
    synthetic = pd.DataFrame({
        "indicator": np.repeat(firsts.index.to_numpy(), months),
        "title": np.repeat(firsts["title"].to_numpy(), months),
        "polarity": np.repeat(firsts["polarity"].to_numpy(), months),
        "outcome_ids": np.repeat(firsts["outcome_ids"].to_numpy(), months),
        "period": np.concatenate(periods),
        "numerator": counts.ravel(),
        "denominator": np.repeat(firsts["denominator"].to_numpy(float), months),
    })
    synthetic["multiplier"] = np.repeat(firsts["multiplier"].to_numpy(float), months)
    synthetic["value"] = synthetic["numerator"] / synthetic["denominator"] * synthetic["multiplier"]
    synthetic["illustrative"] = True
    synthetic["data"] = f"{ILLUSTRATIVE_LABEL} synthetic"
    synthetic["source"] = f"{ILLUSTRATIVE_LABEL}: synthetic_history(seed={seed})"
    out = pd.concat([synthetic[series.columns], series], ignore_index=True)
    return out.sort_values(["indicator", "period"], kind="stable").reset_index(drop=True)


def _monthly_targets(framework: oc.OutcomesFramework, *, target_months: int) -> pd.Series:
    targets = framework.indicators.dropna(subset=["target_value"]).drop_duplicates("indicator_id")
    return targets.set_index("indicator_id")["target_value"].astype(float) / float(target_months)


def spc_results(
    series: pd.DataFrame, *, framework: oc.OutcomesFramework, target_months: int = 12, rules: mon.SpcRules | None = None
) -> dict[str, pd.DataFrame]:
    """An XmR chart per indicator, with the framework's target read as a rate over ``target_months``.

    Parameters
    ----------
    series
        :func:`outcome_series` (optionally with :func:`synthetic_history`).
    framework
        Outcomes framework (targets and polarity).
    target_months
        Months a target covers: a monthly chart compares with target / ``target_months``
        (12: targets are yearly rates).
    rules
        :class:`~needskit.commissioning.monitoring.SpcRules` (default Making Data Count's).

    Returns
    -------
    ``{indicator: xmr frame}`` in series order; each frame's ``attrs["needskit_report"]`` holds
    ``title``, ``n_real``, ``n_illustrative``, ``first_real`` and ``warnings`` (the monitoring
    warnings, e.g. fewer than 12 points).

    Raises
    ------
    SchemaError
        ``target_months`` < 1; :func:`needskit.commissioning.monitoring.xmr` errors (fewer than 2 points).
    """
    if isinstance(target_months, bool) or not isinstance(target_months, int | np.integer) or target_months < 1:
        raise SchemaError("is not a number of months", where="target_months", expected="a whole number ≥ 1", got=repr(target_months))
    targets = _monthly_targets(framework, target_months=target_months)
    polarity = framework.indicators.drop_duplicates("indicator_id").set_index("indicator_id")["polarity"]
    results: dict[str, pd.DataFrame] = {}
    for indicator, part in series.groupby("indicator", sort=False):
        frame = part.assign(month=pd.PeriodIndex(part["period"], freq="M"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NeedskitWarning)
            chart = mon.xmr(frame, value="value", time="month", rules=rules, polarity=polarity.get(indicator, part["polarity"].iloc[0]),
                            target=targets.get(indicator))
        real = part[~part["illustrative"].astype(bool)]
        chart.attrs["needskit_report"] = {
            "title": str(part["title"].iloc[0]), "n_real": len(real), "n_illustrative": int(part["illustrative"].astype(bool).sum()),
            "first_real": str(real["period"].min()) if len(real) else None, "warnings": [str(w.message) for w in caught],
        }
        results[str(indicator)] = chart
    return results


def targets_sentence(framework: oc.OutcomesFramework, *, series: pd.DataFrame, target_months: int = 12) -> str:
    """How the framework's targets are read on the monthly charts, indicator by indicator."""
    targets = framework.indicators.dropna(subset=["target_value"]).drop_duplicates("indicator_id").set_index("indicator_id")
    charted = [i for i in dict.fromkeys(series["indicator"]) if i in targets.index]
    if not charted:
        return "None of the charted indicators has a target in the outcomes framework."
    made_up = bool(framework.indicators.loc[framework.indicators["indicator_id"].isin(charted), "illustrative"].astype(bool).any())
    parts = "; ".join(f"{i}: {targets.loc[i, 'target_value']:g} by {targets.loc[i, 'target_date']} → "
                      f"{targets.loc[i, 'target_value'] / target_months:,.2f} a month" for i in charted)
    return (
        f"Targets {'(' + ILLUSTRATIVE_LABEL + ' in the outcomes framework) ' if made_up else ''}are read as rates over "
        f"{target_months} months, so the monthly charts compare with the target divided by {target_months}: {parts}."
    )


_VARIATION_TEXT = {
    "common_cause": "common cause", "improvement_high": "improving (high)", "improvement_low": "improving (low)",
    "concern_high": "concerning (high)", "concern_low": "concerning (low)", "neither_high": "special cause, high",
    "neither_low": "special cause, low",
}
_ASSURANCE_TEXT = {"pass": "consistently meets target", "fail": "consistently fails target", "hit_or_miss": "hit and miss", "no_target": "no target"}


def board(results: Mapping[str, pd.DataFrame], *, framework: oc.OutcomesFramework) -> pd.DataFrame:
    """The board summary: one row per indicator with its latest month, icons and who is accountable.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.monitoring.board_summary` plus ``indicator_id``,
    ``outcome_ids``, ``accountable`` (``"; "``-joined), ``variation_text``, ``assurance_text``
    and ``data`` (``"real (4 months)"`` or ``"ILLUSTRATIVE synthetic (24) + real (4)"``).

    Raises
    ------
    SchemaError
        No results.
    """
    if not results:
        raise SchemaError("no charts to summarise", where="results", expected="spc_results(...) with one or more indicators")
    ids = list(results)
    titles = [results[i].attrs.get("needskit_report", {}).get("title", i) for i in ids]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        out = mon.board_summary(*results.values(), names=titles)
    out.insert(0, "indicator_id", ids)
    links = framework.indicators.merge(framework.outcomes[["outcome_id", "accountable"]], on="outcome_id")
    grouped = links.groupby("indicator_id")
    out["outcome_ids"] = out["indicator_id"].map(grouped["outcome_id"].agg(lambda s: "; ".join(dict.fromkeys(s))))
    out["accountable"] = out["indicator_id"].map(grouped["accountable"].agg(lambda s: "; ".join(dict.fromkeys(s))))
    out["variation_text"] = out["variation_icon"].map(_VARIATION_TEXT)
    out["assurance_text"] = out["assurance_icon"].map(_ASSURANCE_TEXT)
    meta = [results[i].attrs.get("needskit_report", {}) for i in ids]
    out["data"] = [
        (f"{ILLUSTRATIVE_LABEL} synthetic ({m['n_illustrative']}) + real ({m['n_real']})" if m.get("n_illustrative") else f"real ({m.get('n_real', 0)} months)")
        for m in meta
    ]
    out["time"] = out["time"].astype(str)
    return out


def board_table(summary: pd.DataFrame):
    """The board summary as a coloured table (Making Data Count colours on variation and assurance).

    Returns
    -------
    pandas Styler: indicator, latest month, value, mean, limits, target, variation, assurance,
    points, data.
    """
    columns = {"indicator": "Indicator", "time": "Latest month", "value": "Value", "mean": "Mean", "lower_limit": "Lower limit",
               "upper_limit": "Upper limit", "target": "Target (monthly)", "variation_text": "Variation",
               "assurance_text": "Assurance", "n_points": "Points", "data": "Data"}
    styler = show_table(summary, columns=columns)
    colours = {"common cause": mon.COLOURS["common cause"], "improving": mon.COLOURS["special cause improving"],
               "concerning": mon.COLOURS["special cause concerning"], "special cause": mon.COLOURS["special cause (no judgement)"]}

    def paint(value: Any) -> str:
        for key, colour in colours.items():
            if str(value).startswith(key):
                return f"background-color: {colour}; color: {'black' if key == 'common cause' else 'white'}"
        return {"consistently fails target": "background-color: #e46c0a; color: white",
                "consistently meets target": "background-color: #00b0f0; color: white"}.get(str(value), "")

    precise = ["Value", "Mean", "Lower limit", "Upper limit", "Target (monthly)"]
    return styler.format("{:,.2f}", subset=precise, na_rep="").map(paint, subset=["Variation", "Assurance"])


def spc_panel(results: Mapping[str, pd.DataFrame], *, title: str) -> ReportFigure:
    """One XmR chart per indicator, stacked; ILLUSTRATIVE synthetic months shaded and labelled.

    Returns
    -------
    ReportFigure (drawn with :func:`needskit.commissioning.monitoring.plot_xmr` on its axes).
    """
    if not results:
        raise SchemaError("no charts to draw", where="results", expected="spc_results(...) with one or more indicators")
    n = len(results)
    fig = ReportFigure(figsize=(9, 3.1 * n + 0.5))
    for i, (indicator, chart) in enumerate(results.items()):
        ax = fig.add_subplot(n, 1, i + 1)
        meta = chart.attrs.get("needskit_report", {})
        mon.plot_xmr(chart, ax=ax, title=_shorten(meta.get("title", indicator), 80), ylabel="per 1,000 a month")
        if meta.get("n_illustrative") and meta.get("first_real"):
            start = chart["month"].min().to_timestamp()
            end = pd.Period(meta["first_real"], freq="M").to_timestamp() - pd.Timedelta(days=15)
            ax.axvspan(start - pd.Timedelta(days=15), end, color="#f2e6ff", zorder=0, label=f"{ILLUSTRATIVE_LABEL} synthetic months")
            ax.text(start, ax.get_ylim()[1], f" {ILLUSTRATIVE_LABEL}: synthetic history (not data)", va="top", fontsize=7, color="#490092")
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=6, frameon=False)
        else:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=6, frameon=False)
        ax.title.set_fontsize(9)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def untracked_indicators(framework: oc.OutcomesFramework, *, series: pd.DataFrame, ctx: NeedsContext) -> pd.DataFrame:
    """The framework's indicators that have no monthly chart, and why.

    Returns
    -------
    DataFrame: ``indicator_id``, ``outcome_ids``, ``target``, ``status`` (``"not defined in the
    indicator set"`` or ``"one period only in the data (…)"``).
    """
    charted = set(series["indicator"])
    links = framework.indicators[~framework.indicators["indicator_id"].isin(charted)]
    grouped = links.groupby("indicator_id", sort=False).agg(
        outcome_ids=("outcome_id", lambda s: "; ".join(dict.fromkeys(s))), target=("target_value", "first"))
    periods = ctx.results[ctx.results["area_code"] == ctx.area_code].groupby("indicator")["period"].agg(lambda s: ", ".join(sorted(set(s))))
    status = [f"one period only in the data ({periods[i]})" if i in periods.index else "not defined in the indicator set" for i in grouped.index]
    out = grouped.reset_index()
    out["status"] = status
    return out.sort_values(["status", "indicator_id"]).reset_index(drop=True)


def partnership_view(framework: oc.OutcomesFramework, *, summary: pd.DataFrame, delivery: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per accountable partnership: its outcomes, what is delivered, and its indicators' icons.

    Parameters
    ----------
    framework
        Outcomes framework.
    summary
        :func:`board` (a row per charted indicator).
    delivery
        Delivery rows for the area (:func:`delivery_in_area`), optional; activities listed with a
        question mark (``confirmed`` False) do not count.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.outcomes.by_partnership` (``partnership``, ``reports_to``,
    ``n_outcomes``, ``outcome_ids``, ``leads``, ``n_indicators``, ``n_targets``, with delivery
    ``n_activities``, ``budget``, ``outcomes_without_delivery``) plus ``charted`` (indicators with
    a monthly chart), ``icons`` (their variation and assurance, e.g. ``"crime_rate_all:
    common cause / consistently fails target"``) and ``data_status`` (``"ILLUSTRATIVE budgets"``
    when the delivery register's budgets are made up, else ``""``).
    """
    rows = delivery if delivery is not None and len(delivery) else None
    if rows is not None and "confirmed" in rows:
        rows = rows[rows["confirmed"].astype(bool)]
        rows = rows if len(rows) else None
    out = oc.by_partnership(framework, delivery=rows)
    if rows is None:
        out["n_activities"] = 0
    per = []
    for partnership in out["partnership"]:
        mine = summary[summary["accountable"].fillna("").str.split("; ").apply(lambda names, p=partnership: p in names)]
        per.append((len(mine), "; ".join(f"{r.indicator_id}: {r.variation_text} / {r.assurance_text}" for r in mine.itertuples())))
    out["charted"] = [n for n, _ in per]
    out["icons"] = [text for _, text in per]
    made_up = rows is not None and bool(rows["illustrative"].astype(bool).any())
    out["data_status"] = f"{ILLUSTRATIVE_LABEL} budgets" if made_up else ""
    return out
