"""The needs profile a report presents: one call per notebook cell, sentences built from the data.

Every function takes the report's :class:`~needskit.reports.context.ReportContext` (read from the
store, disclosure already applied for public and partner reports) and returns the tables,
sentences and inputs to charts and maps a leadership group reads: headline facts written from
the data, the Fingertips-style indicator table, the priority neighbourhoods and what drives their
need, inequality by deprivation, hot spots and trend. Nothing here computes an indicator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from needskit.errors import ReportError
from needskit.needs.periods import months_in, period_kind
from needskit.place.extent import ENGLAND
from needskit.reports.context import AUDIENCE_WORDS, Note, ReportContext, select_period
from needskit.reports.maps import Choropleth, choropleth, with_parent
from needskit.reports.tables import show_table
from needskit.safe_text import escape_markdown

__all__ = [
    "PRIORITY_DOMAINS",
    "indicator_table",
    "comparison_group",
    "neighbourhood_indicator",
    "indicator_map",
    "need_by_neighbourhood",
    "deprivation",
    "priority_neighbourhoods",
    "priority_table",
    "headline_facts",
    "inequality_by_decile",
    "hot_spot_areas",
    "period_trend",
    "monthly_series",
    "title_markdown",
    "facts_markdown",
    "neighbourhood_comparison",
    "area_map_frame",
    "Funnel",
    "areas_compared",
    "funnel_data",
    "compare_areas",
]

PRIORITY_DOMAINS = {
    "income": "Income",
    "employment": "Employment",
    "education": "Education, skills and training",
    "health": "Health and disability",
    "crime": "Crime",
    "housing_and_services": "Barriers to housing and services",
    "environment": "Living environment",
}


# ------------------------------------------------------------------------------ tables and facts


def _fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def indicator_table(ctx: ReportContext, *, indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """The area's indicators for the report period: value, 95% limits, comparator, significance
    (all of them, or only ``indicators``).

    Columns: ``indicator``, ``title``, ``theme``, ``period``, ``count`` (numerator), ``value``,
    ``lower_95``, ``upper_95``, ``comparator`` (name), ``comparator_value``, ``comparison``,
    ``polarity``, ``quintile``, ``note`` (a suppression reason when there is no value).
    """
    chosen = select_period(ctx.results[ctx.results["area_code"] == ctx.area_code], ctx.period)
    order = {indicator: i for i, indicator in enumerate(ctx.indicator_order)}
    table = chosen.assign(
        comparator=ctx.comparator_name, count=chosen["numerator"], note=chosen["suppressed_reason"]
    )
    columns = [
        "indicator",
        "title",
        "theme",
        "unit",
        "period",
        "count",
        "value",
        "lower_95",
        "upper_95",
        "comparator",
        "comparator_value",
        "comparison",
        "polarity",
        "quintile",
        "note",
    ]
    if indicators is not None:
        table = table[table["indicator"].isin(list(indicators))]
    return table.sort_values("indicator", key=lambda s: s.map(order))[columns].reset_index(drop=True)


def comparison_group(ctx: ReportContext) -> tuple[pd.DataFrame, str]:
    """Values of the areas a spine chart spreads the area against: areas of the same level that
    share its comparator (the county's districts for a district); for the county, its districts.
    Returns the values (``indicator``, ``area_code``, ``value``) and a description."""
    results = select_period(ctx.results, ctx.period)
    same = results[(results["level"] == ctx.area_level) & (results["comparator_code"] == ctx.comparator_code)]
    if same["area_code"].nunique() >= 3:
        return same[
            ["indicator", "area_code", "value"]
        ], f"{ctx.area_level}s compared with {ctx.comparator_name}"
    below = results[(results["level"] == "district") & (results["comparator_code"] == ctx.area_code)]
    return below[["indicator", "area_code", "value"]], f"districts of {ctx.area_name}"


def neighbourhood_indicator(ctx: ReportContext, indicator: str) -> gpd.GeoDataFrame:
    """One indicator for every neighbourhood of the area (report period), joined to the polygons."""
    rows = ctx.results[(ctx.results["indicator"] == indicator) & (ctx.results["level"] == ctx.level)]
    if rows.empty:
        raise ReportError(
            "no such indicator at this level",
            where=f"indicator={indicator!r}",
            expected=f"one of {sorted(ctx.results['indicator'].unique())}",
        )
    rows = select_period(rows, ctx.period)
    keep = [
        "area_code",
        "value",
        "lower_95",
        "upper_95",
        "numerator",
        "denominator",
        "comparison",
        "suppressed_reason",
        "period",
        "title",
    ]
    return ctx.neighbourhoods.merge(rows[keep], on="area_code", how="left")


def indicator_map(ctx: ReportContext, indicator: str) -> Choropleth | Note:
    """A map of one indicator across the area's neighbourhoods (title and legend from the
    indicator's definition); a :class:`Note` saying why when the indicator is not available."""
    if not ctx.available(indicator):
        return Note(ctx.unavailable_note(indicator))
    info = ctx.info(indicator)
    frame = with_parent(neighbourhood_indicator(ctx, indicator), hierarchy=ctx.hierarchy, level=ctx.level)
    title = f"{info['title']} by {_level_words(ctx.level)}"
    rows = ctx.results[(ctx.results["indicator"] == indicator) & (ctx.results["level"] == ctx.level)]
    periods = frame["period"].dropna().astype(str).unique()
    source = ctx.source_text(str(rows["sources"].iloc[0])) if "sources" in rows and len(rows) else ""
    caption = f"{title}, {periods[0] if len(periods) == 1 else ctx.period}" + (
        f". Source: {source}." if source else "."
    )
    return choropleth(
        frame,
        column="value",
        caption=caption,
        title=title,
        legend=str(info["unit"]) or "value",
        area_label=_level_words(ctx.level).capitalize(),
        withheld="suppressed_reason",
        outline_by="parent_code",
        outline_label="District boundaries",
    )


def _level_words(level: str) -> str:
    return {
        "lsoa": "neighbourhood",
        "msoa": "MSOA",
        "ward": "ward",
        "district": "district",
        "county": "county",
    }.get(level, level)


def need_by_neighbourhood(ctx: ReportContext, indicator: str) -> pd.Series:
    """One indicator's value in each of the area's neighbourhoods, indexed by neighbourhood name
    (the ``need`` of :func:`needskit.commissioning.allocate`); withheld values are left out."""
    rows = neighbourhood_indicator(ctx, indicator)
    rows = rows[rows["value"].notna()]
    return pd.Series(rows["value"].to_numpy(), index=rows["area_name"].astype(str).to_numpy(), name=indicator)


def deprivation(ctx: ReportContext) -> pd.DataFrame:
    """The deprivation index's ranks, deciles and scores per neighbourhood (wide), from the store's
    profile (the partnership's ``deprivation`` dataset, e.g. the IoD 2025)."""
    rows = ctx.profile[(ctx.profile["dataset"] == ctx.deprivation_dataset) & (ctx.profile["level"] == "lsoa")]
    wide = rows.pivot_table(index="area_code", columns="measure", values="value", aggfunc="first")
    return wide.reindex(ctx.neighbourhoods["area_code"])


def priority_neighbourhoods(ctx: ReportContext, *, share: float = 0.2) -> pd.DataFrame:
    """Neighbourhoods among the most deprived nationally (IoD2025 decile ≤ 2 for 20%, 1 for 10%),
    with what drives their need: the domains in which each is in the most deprived 10% or 20%
    of England. Columns: ``area_code``, ``area_name``, ``ward``, ``imd_rank``, ``imd_decile``,
    ``most_deprived``, ``drivers`` (``"Income (decile 1); Crime (decile 2)"``: every such domain,
    in the index's order). :func:`priority_table` shows it in a report."""
    iod = deprivation(ctx)
    if iod.empty or "imd_decile" not in iod:
        return pd.DataFrame(
            columns=["area_code", "area_name", "ward", "imd_rank", "imd_decile", "most_deprived", "drivers"]
        )
    worst = int(round(share * 10))
    table = ctx.hierarchy.set_index("lsoa")
    frame = pd.DataFrame(
        {
            "area_code": iod.index,
            "imd_rank": iod["imd_rank"].to_numpy(),
            "imd_decile": iod["imd_decile"].to_numpy(),
        }
    )
    frame = frame[frame["imd_decile"] <= worst].sort_values("imd_rank")
    frame["area_name"] = frame["area_code"].map(table["lsoa_name"])
    frame["ward"] = frame["area_code"].map(table["ward_name"])
    frame["most_deprived"] = np.where(frame["imd_decile"] <= 1, "10%", "20%")
    drivers = []
    for code in frame["area_code"]:
        row = iod.loc[code]
        named = [
            f"{label} (decile {int(row[f'{key}_decile'])})"
            for key, label in PRIORITY_DOMAINS.items()
            if f"{key}_decile" in row and row[f"{key}_decile"] <= worst
        ]
        drivers.append("; ".join(named) if named else f"no single domain in the worst {worst}0%")
    frame["drivers"] = drivers
    frame["imd_rank"] = frame["imd_rank"].astype(int)
    frame["imd_decile"] = frame["imd_decile"].astype(int)
    return frame[
        ["area_code", "area_name", "ward", "imd_rank", "imd_decile", "most_deprived", "drivers"]
    ].reset_index(drop=True)


def priority_table(ctx: ReportContext, *, share: float = 0.2):
    """The priority neighbourhoods as a report shows them (:func:`priority_neighbourhoods`):
    neighbourhood and ward names, IMD rank and decile, and every deprivation domain driving need.

    Returns
    -------
    :class:`~needskit.safe_text.SafeStyler` laid out by :func:`~needskit.reports.tables.show_table`
    (no index, readable headings, ranks with thousands separators and never wrapped, the drivers
    in full); a :class:`~needskit.reports.context.Note` when no neighbourhood of the area is
    among the most deprived (or the store has no deprivation index).
    """
    frame = priority_neighbourhoods(ctx, share=share)
    worst = f"{round(share * 100)}%"
    if frame.empty:
        why = (
            f"No neighbourhood of {ctx.area_name} is among the {worst} most deprived in England."
            if "imd_decile" in deprivation(ctx)
            else f"The store holds no deprivation index for the neighbourhoods of {ctx.area_name}."
        )
        return Note(why)
    return show_table(
        frame,
        columns={
            "area_name": "Neighbourhood",
            "ward": "Ward",
            "imd_rank": "IMD rank (1 = most deprived)",
            "imd_decile": "IMD decile",
            "drivers": f"Deprivation domains in England's most deprived {worst}",
        },
    )


def headline_facts(
    ctx: ReportContext,
    *,
    headline: Sequence[str] = ("crime_rate_all",),
    older: str = "Aged 65 years and over",
) -> list[str]:
    """Sentences for the top of the report, each written from the data.

    Parameters
    ----------
    ctx
        The report's context.
    headline
        Indicators given a sentence of their own (count, value and comparison), when the store
        has them.
    older
        The residents' age group reported as "older people".
    """
    facts = []
    table = indicator_table(ctx)
    pop = ctx.profile[
        (ctx.profile["dataset"] == ctx.residents_dataset) & (ctx.profile["area_code"] == ctx.area_code)
    ]
    if ctx.residents_measure:
        pop = pop[pop["measure"] == ctx.residents_measure]
    if len(pop) and pop["value"].notna().any():
        total = pop["value"].sum()
        share = pop.loc[pop["category"] == older, "value"].sum() / total if total else np.nan
        facts.append(
            f"{ctx.area_name} had {total:,.0f} residents ({pop['period'].iloc[0]})"
            + (f", {share:.1%} of them {older.lower()}" if np.isfinite(share) and share > 0 else "")
            + f", living in {len(ctx.neighbourhoods)} neighbourhoods "
            f"({'LSOAs' if ctx.level == 'lsoa' else ctx.level + 's'})."
        )
    priority = priority_neighbourhoods(ctx)
    if len(ctx.neighbourhoods) == 1:
        decile = deprivation(ctx)["imd_decile"].iloc[0] if "imd_decile" in deprivation(ctx) else np.nan
        if not np.isnan(decile):
            facts.append(
                f"This neighbourhood is in decile {int(decile)} of the Index of Multiple Deprivation 2025 "
                f"(1 = the most deprived 10% of neighbourhoods in England)"
                + (f"; its need is driven by {priority['drivers'].iloc[0]}." if len(priority) else ".")
            )
    elif len(ctx.neighbourhoods):
        n10 = int((priority["most_deprived"] == "10%").sum())
        facts.append(
            f"{len(priority)} of its {len(ctx.neighbourhoods)} neighbourhoods are among the 20% most "
            f"deprived in England (IMD 2025), {n10} of them among the most deprived 10%."
        )
    for indicator in headline:
        if not ctx.available(indicator):
            facts.append(ctx.unavailable_note(indicator))
            continue
        rows = table[table["indicator"] == indicator]
        if rows.empty or np.isnan(rows["value"].iloc[0]):
            continue
        row = rows.iloc[0]
        unit = f" {row['unit']}" if isinstance(row.get("unit"), str) and row["unit"] else ""
        counted = f" ({row['count']:,.0f} counted)" if pd.notna(row["count"]) else ""
        words = _comparison_words(row["comparison"])
        against = (
            f" against {_fmt(row['comparator_value'])} in {row['comparator']} ({words})"
            if pd.notna(row["comparator_value"])
            else f" ({row['comparator']} has no value to compare with)"
        )
        when = row["period"].replace("/", " to ")
        facts.append(f"{row['title']}, {when}: {_fmt(row['value'])}{unit}{counted}{against}.")
    worse = table[table["comparison"] == "worse"]["title"].tolist()
    better = table[table["comparison"] == "better"]["title"].tolist()
    if worse:
        facts.append(
            f"Significantly worse than {ctx.comparator_name} (95% confidence): " + "; ".join(worse) + "."
        )
    if better:
        facts.append(f"Significantly better than {ctx.comparator_name}: " + "; ".join(better) + ".")
    if not worse and not better:
        facts.append(f"No indicator differs significantly from {ctx.comparator_name} at 95% confidence.")
    facts += unavailable_facts(ctx, skip=headline)
    return facts


def first_available(ctx: ReportContext, candidates: Sequence[str]) -> str:
    """The first of ``candidates`` the store has values for, else the store's first indicator.

    Raises
    ------
    ReportError
        The store has no indicator at all.
    """
    for indicator in list(candidates) + list(ctx.indicator_order):
        if ctx.available(indicator):
            return indicator
    raise ReportError("the store has no indicators", where=str(ctx.store.path), hint="run `needskit run`")


def unavailable_facts(ctx: ReportContext, *, skip: Sequence[str] = ()) -> list[str]:
    """One sentence per reason, naming the indicators that could not be made for it."""
    by_reason: dict[str, list[str]] = {}
    for indicator, known in ctx.unavailable.items():
        if indicator not in skip:
            by_reason.setdefault(known["reason"], []).append(known["title"])
    return [f"Not available ({reason}): {'; '.join(titles)}." for reason, titles in by_reason.items()]


def _comparison_words(comparison: str) -> str:
    return {
        "worse": "significantly worse",
        "better": "significantly better",
        "similar": "not significantly different",
        "higher": "significantly higher",
        "lower": "significantly lower",
        "not_compared": "not compared",
    }.get(comparison, comparison)


# ------------------------------------------------------------------------------ inequality, hot spots, trend


def inequality_by_decile(
    ctx: ReportContext, *, indicator: str = "crime_rate_all", q: Literal[10, 5] = 5
) -> tuple[pd.DataFrame, str]:
    """An indicator by national IMD 2025 quintile (or decile) of the area's neighbourhoods, and a
    sentence on the gap between the most and least deprived fifth."""
    from needskit.needs.deprivation import by_deprivation

    if not ctx.available(indicator):
        return pd.DataFrame(), ctx.unavailable_note(indicator)
    rows = neighbourhood_indicator(ctx, indicator)
    spec = ctx.info(indicator)
    iod = deprivation(ctx)
    rows = rows.assign(imd_decile=rows["area_code"].map(iod["imd_decile"]))
    rows = rows[rows["numerator"].notna() & rows["denominator"].notna() & rows["imd_decile"].notna()]
    if rows.empty:
        return pd.DataFrame(), f"{spec['title']}: not enough published data to compare deprivation groups."
    statistic: Literal["proportion", "rate"] = "proportion" if spec["statistic"] == "proportion" else "rate"
    table = by_deprivation(
        pd.DataFrame(rows.drop(columns="geometry")).assign(imd_decile=rows["imd_decile"].astype(int)),
        numerator="numerator",
        denominator="denominator",
        decile="imd_decile",
        q=q,
        statistic=statistic,
        multiplier=spec["multiplier"],
    )
    first, last = table.iloc[0], table.iloc[-1]
    if np.isnan(first["value"]) or np.isnan(last["value"]):
        sentence = (
            f"{spec['title']}: the most or least deprived fifth has no neighbourhoods here, "
            "so the gap is not calculated."
        )
    else:
        ratio = first["value"] / last["value"] if last["value"] else np.nan
        sentence = (
            f"{spec['title']}: {_fmt(first['value'])} in the most deprived fifth of neighbourhoods against "
            f"{_fmt(last['value'])} in the least deprived fifth "
            f"(a gap of {_fmt(first['value'] - last['value'])}"
            + (f", {ratio:.1f} times as high" if np.isfinite(ratio) else "")
            + ")."
        )
    return table, sentence


def hot_spot_areas(
    ctx: ReportContext, *, indicator: str = "crime_rate_all", fdr: bool = False
) -> tuple[gpd.GeoDataFrame, str]:
    """Local Moran's I clusters of an indicator across the area's neighbourhoods, and a sentence."""
    import warnings

    from tqdm import TqdmWarning

    with warnings.catch_warnings():  # esda imports tqdm.auto, which warns without ipywidgets
        warnings.simplefilter("ignore", TqdmWarning)
        from needskit.needs.hotspots import hot_spots

    if not ctx.available(indicator):
        return ctx.neighbourhoods.iloc[0:0].assign(cluster=pd.Series(dtype=str)), ctx.unavailable_note(
            indicator
        )
    rows = neighbourhood_indicator(ctx, indicator)
    usable = rows[rows["value"].notna()].reset_index(drop=True)
    spec = ctx.info(indicator)
    if len(usable) < 10:
        return usable.assign(
            cluster="not tested"
        ), f"{spec['title']}: too few neighbourhoods with published values to look for hot spots."
    result = hot_spots(usable, value="value", method="moran", permutations=999, seed=ctx.seed, fdr=fdr)
    hh = result[result["cluster"] == "high-high"]
    sentence = (
        f"{spec['title']}: {len(hh)} neighbourhoods form high-high clusters "
        f"(Local Moran's I, 999 permutations, seed {ctx.seed}, "
        f"p < {result['p_threshold'].iloc[0]:.3f})"
        + (f", in {', '.join(sorted(set(hh['area_name'].str.rsplit(' ', n=1).str[0])))}." if len(hh) else ".")
    )
    return result, sentence


def period_trend(ctx: ReportContext, *, indicator: str = "crime_rate_all") -> tuple[pd.DataFrame, str]:
    """The indicator for the area period by period (half-years by default) up to the report's
    period, with Fingertips' recent-trend test on the last five consecutive periods."""
    from needskit.needs.statistics import trend

    if not ctx.available(indicator):
        return pd.DataFrame(), ctx.unavailable_note(indicator)
    rows = ctx.results[(ctx.results["indicator"] == indicator) & (ctx.results["area_code"] == ctx.area_code)]
    kind = period_kind(ctx.period)
    rows = rows[(rows["period"].map(period_kind) == kind) & (rows["period"] <= ctx.period)].sort_values(
        "period"
    )
    spec = ctx.info(indicator)
    if rows.empty:
        return rows, f"{spec['title']}: no data by period."
    tested = trend(
        rows.assign(t=range(len(rows))),
        time="t",
        count="numerator",
        denominator="denominator",
        polarity=spec["polarity"],
    )
    last = tested.iloc[-1]
    outcome = last["trend"]
    reason = last.get("trend_reason", "")
    sentence = (
        f"{spec['title']}, {rows['period'].iloc[0]} to {rows['period'].iloc[-1]}: recent trend {outcome}"
        + (f" ({reason})" if isinstance(reason, str) and reason else "")
        + "."
    )
    return rows[["period", "numerator", "denominator", "value", "lower_95", "upper_95"]].reset_index(
        drop=True
    ), sentence


def monthly_series(ctx: ReportContext, *, indicator: str = "crime_rate_all") -> pd.DataFrame:
    """The indicator for the area month by month up to the end of the report's period (for an
    SPC chart): ``period``, ``numerator``, ``denominator``, ``value``, ``lower_95``, ``upper_95``;
    no rows when the indicator is not a monthly series."""
    rows = ctx.results[(ctx.results["indicator"] == indicator) & (ctx.results["area_code"] == ctx.area_code)]
    end = months_in(ctx.period)[-1] if period_kind(ctx.period) is not None else ctx.period
    rows = rows[(rows["period"].map(period_kind) == "month") & (rows["period"] <= end)]
    columns = ["period", "numerator", "denominator", "value", "lower_95", "upper_95"]
    return rows.sort_values("period")[columns].reset_index(drop=True)


def title_markdown(ctx: ReportContext, *, report: str = "needs profile") -> str:
    """The report's heading: area, period and audience, as markdown (names escaped: text, not markup)."""
    audience = AUDIENCE_WORDS[ctx.audience]
    area, period, partnership = (escape_markdown(v) for v in (ctx.area_name, ctx.period, ctx.partnership))
    lines = [f"## {area}: {escape_markdown(report)}, {period}"]
    lines.append(
        f"{partnership + ' · ' if partnership else ''}"
        f"Compared with {escape_markdown(ctx.comparator_name)} · {audience}"
    )
    return "\n\n".join(lines)


def facts_markdown(ctx: ReportContext, *, headline: Sequence[str] = ("crime_rate_all",)) -> str:
    """The headline facts as a markdown list."""
    return "\n".join(f"- {fact}" for fact in headline_facts(ctx, headline=headline))


def neighbourhood_comparison(ctx: ReportContext) -> pd.DataFrame:
    """A neighbourhood, ward or custom place against its comparator (usually its district) and
    England: one row per indicator with the three values and the significance of the difference."""
    table = indicator_table(ctx)
    chosen = select_period(ctx.results, ctx.period)
    england = chosen[chosen["area_code"] == ENGLAND].set_index("indicator")["value"]
    table["england_value"] = table["indicator"].map(england)
    return table


def area_map_frame(ctx: ReportContext) -> gpd.GeoDataFrame:
    """The area's neighbourhoods among all neighbourhoods of its district(s), flagged ``in_area``
    (1 inside, 0 outside) with the deprivation score, for a locator map; ``area_outline`` holds
    the area's code inside it (``choropleth(outline_by="area_outline")`` outlines the area)."""
    table = ctx.hierarchy
    districts = table.loc[table["lsoa"].isin(ctx.neighbourhoods["area_code"]), "district"].unique()
    lsoas = ctx.store.read_areas("lsoa")
    around = lsoas[lsoas["area_code"].isin(set(table.loc[table["district"].isin(districts), "lsoa"]))]
    around = gpd.GeoDataFrame(
        around if len(around) else ctx.neighbourhoods, crs=ctx.neighbourhoods.crs
    ).reset_index(drop=True)
    imd = ctx.profile[
        (ctx.profile["dataset"] == ctx.deprivation_dataset)
        & (ctx.profile["measure"] == "imd_score")
        & (ctx.profile["level"] == "lsoa")
    ]
    around["imd_score"] = around["area_code"].map(imd.set_index("area_code")["value"])
    around["in_area"] = around["area_code"].isin(ctx.neighbourhoods["area_code"]).astype(int)
    around["area_outline"] = (  # the area's outline drawn over the map
        pd.Series(ctx.area_code, index=around.index, dtype="string").where(around["in_area"] == 1)
    )
    return around


# ---------------------------------------------------------------- Fingertips compare-areas views


def areas_compared(ctx: ReportContext, *, level: str = "district") -> pd.DataFrame:
    """The report period's published rows of the areas of ``level`` compared with this area (the
    county's districts), every indicator; no rows when none is (a district's report, a unitary).

    Columns as :attr:`ReportContext.results` (``numerator``, ``denominator``, ``value``,
    ``comparison`` with this area as comparator, ``suppressed_reason`` ...)."""
    results = select_period(ctx.results, ctx.period)
    return results[(results["level"] == level) & (results["comparator_code"] == ctx.area_code)].reset_index(
        drop=True
    )


def _nothing_compared(ctx: ReportContext, level: str) -> Note:
    """Why a report has no compare-areas views: its area has no ``level`` areas compared with it."""
    words = _level_words(level)
    if ctx.area_level == level:
        return Note(
            f"{ctx.area_name} is compared with the other {words}s of {ctx.comparator_name} "
            f"(compare areas, funnel plots) in the {ctx.comparator_name} report."
        )
    return Note(
        f"No {words}s are compared with {ctx.area_name}, so this report has no compare-areas view "
        "or funnel plot."
    )


def _withheld(rows: pd.DataFrame) -> pd.Series:
    """True where the published store withheld the value (disclosure control or reliability)."""
    reason = rows["suppressed_reason"].fillna("").astype(str)
    return rows["value"].isna() & (reason != "")


@dataclass(frozen=True)
class Funnel:
    """What a funnel plot draws, all from the published store.

    Attributes
    ----------
    points
        One row per area: ``area_code``, ``area_name``, ``numerator``, ``denominator``, ``value``,
        ``withheld`` (bool), ``suppressed_reason`` and, for areas with a value, the control
        limits at their denominator and ``funnel_position`` / ``funnel_level`` /
        ``funnel_comparison`` (:func:`needskit.needs.statistics.funnel_limits`).
    curve
        The control limits over a grid of denominators (``denominator``, ``control_lower_95``,
        ``control_upper_95``, ``control_lower_99_8``, ``control_upper_99_8``).
    centre
        The comparator's value (the centre line).
    indicator, title, unit, period, polarity, statistic
        The indicator's definition.
    comparator_name, areas_word
        The comparator (this area) and what the points are ("districts of Gloucestershire").
    """

    points: pd.DataFrame
    curve: pd.DataFrame
    centre: float
    indicator: str
    title: str
    unit: str
    period: str
    polarity: str
    statistic: str
    comparator_name: str
    areas_word: str


def funnel_data(
    ctx: ReportContext, *, indicator: str, level: str = "district", grid: int = 240
) -> Funnel | Note:
    """An indicator's funnel plot across the areas compared with this area (the county's districts):
    each area's published value against its denominator, the area's own value as the centre line,
    and Fingertips' 95% and 99.8% control limits around it.

    Parameters
    ----------
    ctx
        The report's context (the county: its districts are the points).
    indicator
        A proportion or a rate (crude or directly standardised) of the store.
    level
        Level of the areas plotted.
    grid
        Number of denominators the limits are drawn at.

    Returns
    -------
    Funnel, or a :class:`Note` saying why there is no funnel (no areas compared with this one,
    an indicator without a denominator, no published value for the comparator).
    """
    from needskit.needs.statistics import FUNNEL_STATISTICS, funnel_limits

    if not ctx.available(indicator):
        return Note(ctx.unavailable_note(indicator))
    info = ctx.info(indicator)
    rows = areas_compared(ctx, level=level)
    rows = rows[rows["indicator"] == indicator]
    words = f"{_level_words(level)}s of {ctx.area_name}"
    if rows.empty:
        return _nothing_compared(ctx, level)
    if info["statistic"] not in FUNNEL_STATISTICS:
        return Note(
            f"{info['title']}: a funnel plot needs a proportion or a rate with its denominator; "
            f"this indicator is a {info['statistic'].replace('_', ' ')}."
        )
    centre = (
        float(rows["comparator_value"].dropna().iloc[0]) if rows["comparator_value"].notna().any() else np.nan
    )
    if not np.isfinite(centre):
        return Note(f"{info['title']}: {ctx.area_name} has no published value, so there is no centre line.")
    multiplier = float(info["multiplier"])
    points = pd.DataFrame(
        {
            "area_code": rows["area_code"].to_numpy(),
            "area_name": rows["area_name"].astype(str).to_numpy(),
            "numerator": rows["numerator"].to_numpy(dtype=float),
            "denominator": rows["denominator"].to_numpy(dtype=float),
            "value": rows["value"].to_numpy(dtype=float),
            "withheld": _withheld(rows).to_numpy(),
            "suppressed_reason": rows["suppressed_reason"].fillna("").astype(str).to_numpy(),
        }
    )
    points = funnel_limits(
        points,
        denominator="denominator",
        comparator=centre,
        statistic=info["statistic"],
        multiplier=multiplier,
        value="value",
        polarity=info["polarity"],
    ).sort_values("area_name", ignore_index=True)
    sizes = points["denominator"].dropna()
    sizes = sizes[sizes > 0]
    if sizes.empty:
        return Note(f"{info['title']}: no published denominators for the {words}.")
    # PHEindicatormethods' axis: from zero when the areas' sizes differ more than twofold
    low = 0.0 if sizes.max() > 2 * sizes.min() else 0.95 * sizes.min()
    denominators = np.linspace(max(low, 1.0), 1.05 * sizes.max(), grid)
    if info["statistic"] != "proportion" and centre > 0:
        # a rate's limits step with each whole expected event: draw them through the steps' corners
        # (denominators of a whole number of expected events), as PHEindicatormethods does
        events = np.unique(np.round(denominators * centre / multiplier))
        events = events[events >= 1]
        if len(events) >= 2:
            denominators = events * multiplier / centre
    curve = funnel_limits(
        pd.DataFrame({"denominator": denominators}),
        denominator="denominator",
        comparator=centre,
        statistic=info["statistic"],
        multiplier=multiplier,
    )
    return Funnel(
        points=points,
        curve=curve,
        centre=centre,
        indicator=indicator,
        title=str(info["title"]),
        unit=str(info["unit"] or ""),
        period=str(rows["period"].iloc[0]),
        polarity=str(info["polarity"]),
        statistic=str(info["statistic"]),
        comparator_name=ctx.area_name,
        areas_word=words,
    )


def compare_areas(ctx: ReportContext, *, level: str = "district") -> pd.DataFrame | Note:
    """Fingertips' compare-areas view ("tartan rug") as a tidy table: every indicator for England,
    this area and the areas compared with it (the county's districts), with the published value
    and the store's comparison of each area with its comparator.

    Returns
    -------
    DataFrame
        One row per indicator and area: ``indicator``, ``title``, ``unit``, ``period``,
        ``polarity``, ``area_code``, ``area_name``, ``role`` (``england``, ``area`` or
        ``compared``), ``level`` (of the area), ``value``, ``comparison`` (``better`` ...
        ``not_compared``, ``withheld`` where the value was withheld, ``no_data`` where there is no
        row, ``benchmark`` for England), ``comparator_name``
        (what the cell is compared with; empty for England). Indicators in the store's order,
        areas England, this area, then the compared areas by name. A :class:`Note` when no area
        is compared with this one.
    """
    below = areas_compared(ctx, level=level)
    if below.empty:
        return _nothing_compared(ctx, level)
    chosen = select_period(ctx.results, ctx.period)
    own = chosen[chosen["area_code"] == ctx.area_code]
    england = chosen[chosen["area_code"] == ENGLAND]
    names = below.drop_duplicates("area_code").sort_values("area_name")
    areas = [(ENGLAND, "England", "england", "")]
    areas.append((ctx.area_code, ctx.area_name, "area", ctx.comparator_name))
    areas += [
        (code, str(name), "compared", ctx.area_name)
        for code, name in zip(names["area_code"], names["area_name"], strict=True)
    ]
    order = [i for i in ctx.indicator_order if (below["indicator"] == i).any()]
    info = below.drop_duplicates("indicator").set_index("indicator")
    frames = []
    for code, name, role, against in areas:
        rows = england if role == "england" else own if role == "area" else below[below["area_code"] == code]
        rows = rows.drop_duplicates("indicator").set_index("indicator").reindex(order)
        withheld = rows["value"].isna() & rows["suppressed_reason"].fillna("").astype(str).ne("")
        comparison = rows["comparison"].fillna("not_compared").astype(object)
        comparison = comparison.where(~rows["value"].isna(), "no_data")
        comparison = comparison.where(~withheld, "withheld")
        if role == "england":
            comparison = comparison.where(comparison.isin(["withheld", "no_data"]), "benchmark")
        comparison = comparison.replace({"no comparator": "not_compared"})
        frames.append(
            pd.DataFrame(
                {
                    "indicator": order,
                    "title": info.loc[order, "title"].astype(str).to_numpy(),
                    "unit": info.loc[order, "unit"].fillna("").astype(str).to_numpy(),
                    "period": rows["period"].fillna(info.loc[order, "period"]).astype(str).to_numpy(),
                    "polarity": info.loc[order, "polarity"].astype(str).to_numpy(),
                    "area_code": code,
                    "area_name": name,
                    "role": role,
                    "level": "country" if role == "england" else ctx.area_level if role == "area" else level,
                    "value": rows["value"].to_numpy(dtype=float),
                    "comparison": comparison.to_numpy(dtype=object),
                    "comparator_name": against,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
