"""Provision against need in the resource map: gaps, duplication, and spend per head against need.

The second part of the resource-map report: each theme's need indicator by place
(:func:`need_by_theme`) against services per 1,000 residents (:func:`provision_gaps`), places
where several partners' catchments overlap on a theme (:func:`duplication_in_area`), and
partners' spend per head set against need (:func:`spend_against_need`, which always carries
:data:`needskit.commissioning.SPEND_VS_NEED_CAVEAT`). The statistics are
:func:`needskit.commissioning.gaps`, :func:`~needskit.commissioning.duplication` and
:func:`~needskit.commissioning.spend_vs_need`; this module selects, joins and words. Made-up
services, catchments and spend are labelled ILLUSTRATIVE; a register without them gives empty
tables and sentences that say so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from needskit._checks import require_columns
from needskit.commissioning import SPEND_VS_NEED_CAVEAT, duplication, gaps, spend_vs_need
from needskit.config.catalog import THEMES
from needskit.errors import ReportError, SchemaError
from needskit.place.geography import LEVELS
from needskit.reports.charts import ReportFigure
from needskit.reports.context import ReportContext
from needskit.reports.scope import area_lsoas, indicator_values, place_codes, place_names, residents
from needskit.reports.tables import ILLUSTRATIVE_LABEL, theme_names, unlocated_sentence, why_empty
from needskit.resources import ResourceRegister

__all__ = [
    "THEME_NEED",
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
]

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

_GAP_COLUMNS = [
    "theme_name",
    "area_name",
    "need_title",
    "need",
    "supply_per_1000",
    "need_percentile",
    "provision_percentile",
    "gap_score",
    "gap_rank",
    "data_status",
]
_DUP_COLUMNS = [
    "area_code",
    "area_name",
    "ward_name",
    "theme",
    "theme_name",
    "n_partners",
    "partners",
    "n_services",
    "service_ids",
    "spend_total",
    "spend_in_area",
    "data_status",
]
_SPEND_COLUMNS = [
    "theme_name",
    "area_name",
    "need_title",
    "need",
    "spend_per_head",
    "need_percentile",
    "spend_per_head_percentile",
    "percentile_difference",
    "spend_minus_need_proportional",
    "data_status",
]


def need_by_theme(
    ctx: ReportContext,
    *,
    level: str = "ward",
    themes: Sequence[str] | None = None,
    theme_need: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The need indicator of each theme for every place of the area.

    Parameters
    ----------
    ctx
        Report context (its store's indicators, as published).
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
    ``need_polarity``. Themes whose need indicator could not be made for the partnership (it
    is in ``ctx.unavailable``, e.g. crime with no police data given) are left out:
    ``attrs["unavailable"]`` maps each to the sentence saying why.

    Raises
    ------
    ReportError
        Unknown level; a theme without a need indicator, or an indicator the store neither has
        nor knows to be unavailable (not in ``conf/indicators.yml``).
    """
    mapping = dict(theme_need or THEME_NEED)
    wanted = list(themes) if themes is not None else list(mapping)
    missing = [t for t in wanted if t not in mapping]
    if missing:
        raise ReportError(
            "has no need indicator",
            where=f"themes {missing}",
            expected=f"themes of {sorted(mapping)}",
            hint="pass theme_need={theme: indicator_id}",
        )
    unavailable = {t: ctx.unavailable_note(mapping[t]) for t in wanted if mapping[t] in ctx.unavailable}
    wanted = [t for t in wanted if t not in unavailable]
    unknown = sorted({mapping[t] for t in wanted} - set(ctx.results["indicator"]))
    if unknown and theme_need is None:  # the default needs the national catalogue's indicators
        for t in [t for t in wanted if mapping[t] in unknown]:
            unavailable[t] = (
                f"{t.replace('_', ' ').capitalize()}: no need indicator: this partnership's "
                f"conf/indicators.yml has no {mapping[t]!r} (pass theme_need={{theme: indicator}} "
                "to use one of its own)."
            )
        wanted = [t for t in wanted if mapping[t] not in unknown]
    elif unknown:
        raise ReportError(
            "names indicators the report does not compute",
            where=f"theme_need {unknown}",
            expected=f"ids of the store's indicators, e.g. {sorted(ctx.results['indicator'].unique())[:5]}",
        )
    codes = place_codes(ctx, level)
    values = indicator_values(ctx, [mapping[t] for t in wanted], level=level, codes=codes)
    link = pd.DataFrame({"theme": wanted, "need_indicator": [mapping[t] for t in wanted]})
    grid = link.merge(pd.DataFrame({"area_code": codes}), how="cross")
    picked = values[["indicator", "area_code", "value", "title", "period", "polarity"]].rename(
        columns={
            "indicator": "need_indicator",
            "value": "need",
            "title": "need_title",
            "period": "need_period",
            "polarity": "need_polarity",
        }
    )
    out = grid.merge(picked, on=["need_indicator", "area_code"], how="left")
    out.insert(1, "area_name", out["area_code"].map(place_names(ctx, level)))
    out = out[
        [
            "area_code",
            "area_name",
            "theme",
            "need_indicator",
            "need_title",
            "need_period",
            "need",
            "need_polarity",
        ]
    ]
    out.attrs["unavailable"] = unavailable
    return out


def provision_gaps(supply: pd.DataFrame, need: pd.DataFrame, *, threshold: Any = "median") -> pd.DataFrame:
    """Need against provision by place and theme, in quadrants, with the gaps ranked.

    Parameters
    ----------
    supply
        :func:`needskit.reports.resource_map.supply_by_place` by theme (``area_code``,
        ``theme``, ``supply_per_1000``).
    need
        :func:`need_by_theme` (``area_code``, ``theme``, ``need``).
    threshold
        As :func:`needskit.commissioning.gaps`.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.gaps` (``need`` against ``supply_per_1000`` within
    theme) plus ``area_name``, ``theme_name``, ``need_title`` and ``data_status``; themes that
    have both a need indicator and services; places with a withheld need value are left out
    (counted in ``attrs["left_out"]``). No rows when there are no services.
    ``attrs["need_unavailable"]`` keeps the themes whose need indicator is not available, and
    why (``need.attrs["unavailable"]``); ``attrs["unlocated"]`` the services whose source could
    not be located (``supply.attrs["unlocated"]``).
    """
    require_columns(supply, ["area_code", "theme", "supply_per_1000"], argument="supply")
    require_columns(need, ["area_code", "theme", "need", "need_title"], argument="need")
    merged = need.merge(
        supply[["area_code", "theme", "supply_per_1000", "data_status"]],
        on=["area_code", "theme"],
        how="inner",
    )
    left_out = merged[merged["need"].isna() | merged["supply_per_1000"].isna()]
    merged = merged.drop(left_out.index)
    if merged.empty:
        out = pd.DataFrame(
            columns=["area_code", "theme", "quadrant", "high_need", "high_provision", *_GAP_COLUMNS]
        )
    else:
        merged = merged.astype({"need": float, "supply_per_1000": float})
        out = gaps(merged, need="need", provision="supply_per_1000", theme="theme", threshold=threshold)
        extra = merged.set_index(["area_code", "theme"])[["area_name", "need_title", "data_status"]]
        keys = pd.MultiIndex.from_frame(out[["area_code", "theme"]])
        for column in ("area_name", "need_title", "data_status"):
            out[column] = extra[column].reindex(keys).to_numpy()
        out["theme_name"] = theme_names(out["theme"])
    out.attrs["left_out"] = len(left_out)
    out.attrs["need_unavailable"] = dict(need.attrs.get("unavailable", {}))
    out.attrs["unlocated"] = dict(supply.attrs.get("unlocated", {}))
    return out


def _not_compared(unavailable: Mapping[str, str]) -> str:
    """Themes whose need could not be measured, and why, as one sentence per theme."""
    return " ".join(
        f"{THEMES.get(theme, theme)} is not compared: {note}" for theme, note in unavailable.items()
    )


def gap_table(gaps: pd.DataFrame, *, top: int | None = 15) -> pd.DataFrame:
    """The ranked gaps (high need, low provision) across themes, largest first.

    Returns
    -------
    DataFrame: ``theme_name``, ``area_name``, ``need_title``, ``need``, ``supply_per_1000``,
    ``need_percentile``, ``provision_percentile``, ``gap_score``, ``gap_rank``, ``data_status``;
    at most ``top`` rows, ordered by gap score (no rows when there is no gap, and
    ``attrs["why_empty"]`` says why).
    """
    rows = gaps[gaps["quadrant"] == "gap"].sort_values(
        ["gap_score", "need_percentile"], ascending=False, kind="stable"
    )
    rows = rows[_GAP_COLUMNS]
    out = (rows.head(top) if top else rows).reset_index(drop=True)
    if out.empty:
        why_empty(
            out,
            "No place is a gap (high need, low provision) in any theme compared."
            if len(gaps)
            else "No gap to list: the register has no services here to set against need.",
        )
    return out


def gaps_sentence(gaps: pd.DataFrame, *, area_name: str) -> str:
    """How many places are gaps in each theme, and the largest one, from the data; why when the
    register has no services (its sources could not be located) and which themes' need could not
    be measured."""
    not_compared = _not_compared(gaps.attrs.get("need_unavailable", {}))
    if gaps.empty:
        return " ".join(
            part
            for part in (
                f"No provision to set against need in {area_name}: the register has no services here.",
                unlocated_sentence(gaps.attrs.get("unlocated", {})),
                not_compared,
            )
            if part
        )
    counts = gaps.groupby("theme_name").agg(
        n=("area_code", "size"), gaps=("quadrant", lambda q: int((q == "gap").sum()))
    )
    parts = [f"{theme}: {row.gaps} of {row.n}" for theme, row in counts.iterrows()]
    top = gaps[gaps["quadrant"] == "gap"].sort_values("gap_score", ascending=False)
    rule = gaps.attrs.get("needskit_gaps", {}).get("threshold_rule", "above the median within theme")
    text = (
        f"Places of {area_name} with high need and low provision (services per 1,000 residents), "
        f"where high means {rule}: " + "; ".join(parts) + "."
    )
    if len(top):
        row = top.iloc[0]
        text += (
            f" The largest gap is {row['area_name']} for {row['theme_name'].lower()} (need percentile "
            f"{row['need_percentile']:.2f}, provision percentile {row['provision_percentile']:.2f})."
        )
    if "data_status" in gaps and gaps["data_status"].astype(str).str.contains(ILLUSTRATIVE_LABEL).any():
        text += (
            f" Provision counts {ILLUSTRATIVE_LABEL} services: the gaps show the method, not real provision."
        )
    if gaps.attrs.get("left_out"):
        text += f" {gaps.attrs['left_out']} place-theme pairs with a withheld need value are left out."
    if not_compared:
        text += f" {not_compared}"
    return text


def duplication_in_area(
    register: ResourceRegister, *, ctx: ReportContext, min_partners: int = 2
) -> pd.DataFrame:
    """Neighbourhoods and themes of the area where two or more partners' service catchments overlap.

    Parameters
    ----------
    register
        The report's register: its services (with ``annual_cost_gbp``) and catchments (lists of
        LSOAs); services without a catchment (the NHS ones) do not take part.
    ctx
        Report context.
    min_partners
        Partners needed for a duplication.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.duplication` for the area's LSOAs:
    ``area_code``, ``area_name``, ``ward_name``, ``theme``, ``theme_name``, ``n_partners``,
    ``partners``, ``n_services``, ``service_ids``, ``spend_total``, ``spend_in_area``,
    ``data_status``; sorted by most partners, then most spend in the area. No rows when the
    register has no catchments (``attrs["why_empty"]`` says so). ``attrs`` count the services
    without a catchment
    (``services_without_catchment``, of them real: ``services_without_catchment_real``) and all
    services (``services_total``).
    """
    table = area_lsoas(ctx).set_index("lsoa")
    services = register.services
    made_up = set(services.loc[services["illustrative"].astype(bool), "service_id"])
    if services.empty or register.catchments.empty:
        dup = pd.DataFrame(columns=_DUP_COLUMNS)
        without = set(services["service_id"])
    else:
        spend = "annual_cost_gbp" if "annual_cost_gbp" in services.columns else None
        dup = duplication(services, catchment=register.catchments, spend=spend, min_partners=min_partners)
        without = set(dup.attrs.get("needskit_duplication", {}).get("services_without_catchment", []))
        added = ("area_name", "ward_name", "theme_name", "data_status")
        dup = dup[dup["area_code"].isin(table.index)].reindex(
            columns=[c for c in _DUP_COLUMNS if c not in added]
        )
        dup["data_status"] = [
            ILLUSTRATIVE_LABEL if any(s in made_up for s in ids.split("; ")) else "real"
            for ids in dup["service_ids"]
        ]
        dup.insert(1, "area_name", dup["area_code"].map(table["lsoa_name"]))
        dup.insert(2, "ward_name", dup["area_code"].map(table["ward_name"]))
        dup.insert(4, "theme_name", theme_names(dup["theme"]))
        dup = dup.sort_values(
            ["n_partners", "spend_in_area", "area_code"], ascending=[False, False, True], kind="stable"
        )
    dup = dup.reset_index(drop=True)
    if dup.empty:
        why_empty(
            dup,
            "No overlap to list: no service of the register has a catchment on record."
            if len(without) == len(services)
            else "No overlap to list.",
        )
    dup.attrs.update(
        {
            "services_without_catchment": len(without),
            "services_total": len(services),
            "services_without_catchment_real": len(without - made_up),
        }
    )
    return dup


def _no_overlap(ctx: ReportContext, *, total: int, without: int) -> str:
    text = (
        f"No neighbourhood of {ctx.area_name} is covered by two or more partners' services on the same theme."
    )
    if without == total:
        text += " No service of the register has a catchment on record, so none can be compared."
    return text


def duplication_summary(dup: pd.DataFrame) -> pd.DataFrame:
    """Duplication by theme: neighbourhoods, partners, services and spend involved.

    Returns
    -------
    DataFrame, one row per theme: ``theme_name``, ``neighbourhoods``, ``most_partners``,
    ``services`` (distinct services involved), ``spend_in_area`` (their spend shared over their
    catchments, summed over these neighbourhoods), ``data_status``.
    """
    require_columns(
        dup,
        ["theme_name", "area_code", "n_partners", "service_ids", "spend_in_area", "data_status"],
        argument="dup",
    )
    rows = []
    for theme, part in dup.groupby("theme_name", sort=True):
        services = {s for ids in part["service_ids"] for s in ids.split("; ")}
        rows.append(
            {
                "theme_name": theme,
                "neighbourhoods": part["area_code"].nunique(),
                "most_partners": int(part["n_partners"].max()),
                "services": len(services),
                "spend_in_area": float(part["spend_in_area"].sum()),
                "data_status": "; ".join(sorted(set(part["data_status"]))),
            }
        )
    out = pd.DataFrame(
        rows,
        columns=["theme_name", "neighbourhoods", "most_partners", "services", "spend_in_area", "data_status"],
    )
    if out.empty and dup.attrs.get("why_empty"):
        why_empty(out, str(dup.attrs["why_empty"]))
    return out


def duplication_sentence(dup: pd.DataFrame, *, ctx: ReportContext) -> str:
    """How much overlap there is, from the data; says ILLUSTRATIVE when made-up services are involved."""
    n_areas = len(area_lsoas(ctx))
    if dup.empty:
        return _no_overlap(
            ctx,
            total=int(dup.attrs.get("services_total", 0)),
            without=int(dup.attrs.get("services_without_catchment", 0)),
        )
    text = (
        f"In {dup['area_code'].nunique()} of {ctx.area_name}'s {n_areas} neighbourhoods, two or more "
        f"partners run services on the same theme whose catchments cover the neighbourhood ({len(dup)} "
        f"neighbourhood-theme pairs; at most {int(dup['n_partners'].max())} partners). The services' "
        f"running cost shared over their catchments comes to £{dup['spend_in_area'].sum():,.0f} a year "
        "in these neighbourhoods."
    )
    if (dup["data_status"] == ILLUSTRATIVE_LABEL).any():
        text += f" These services, catchments and costs are {ILLUSTRATIVE_LABEL}."
    if dup.attrs.get("services_without_catchment"):
        text += (
            f" {dup.attrs['services_without_catchment']} of the partnership's "
            f"{dup.attrs.get('services_total', '')} services have no catchment on record "
            f"({dup.attrs.get('services_without_catchment_real', 0)} of them real) and are not compared."
        )
    return text + (
        " Overlap is where to ask questions, not a verdict: partners may serve different people, "
        "or work jointly."
    )


def _spend_at(ctx: ReportContext, spend: pd.DataFrame, *, level: str) -> pd.Series:
    """The place of ``level`` each spend row's area lies in (spend rows are pooled at any level
    at or below it)."""
    table = ctx.hierarchy
    codes = spend["area_code"].astype(str)
    for source in LEVELS[: LEVELS.index(level) + 1]:
        if codes.isin(set(table[source])).all():
            return (
                codes
                if source == level
                else codes.map(table.drop_duplicates(source).set_index(source)[level])
            )
    raise SchemaError(
        f"has areas that are not {level}s or areas inside them",
        where="register table 'spend'",
        expected=f"LSOA, ward or {level} codes of the partnership",
        got=repr(sorted(set(codes))[:5]),
    )


def spend_against_need(
    register: ResourceRegister,
    *,
    ctx: ReportContext,
    level: str = "ward",
    theme_need: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Partners' spend per head by place and theme set against the theme's need indicator.

    Parameters
    ----------
    register
        The report's register (``spend``: spend by area, partner and theme).
    ctx
        Report context (published residents and indicators).
    level
        ``"ward"`` or ``"district"`` (a county only).
    theme_need
        ``theme -> indicator``; default :data:`THEME_NEED`.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.spend_vs_need` (``area_code``, ``theme``,
    ``need``, ``spend_gbp``, ``population``, ``spend_per_head``, percentiles, shares,
    ``need_proportional_spend`` ...) plus ``area_name``, ``theme_name``, ``need_title``,
    ``data_status``; no rows when the register has no spend in the area (``attrs["why_empty"]``
    says so). ``attrs["caveat"]`` is :data:`needskit.commissioning.SPEND_VS_NEED_CAVEAT`;
    ``attrs["need_unavailable"]`` the themes whose need indicator is not available, and why
    (their spend is not compared).
    """
    codes = place_codes(ctx, level)
    spend = register.spend
    spend = (
        spend.assign(place=_spend_at(ctx, spend, level=level))
        if len(spend)
        else spend.assign(place=pd.Series(dtype=str))
    )
    spend = spend[spend["place"].isin(codes)]
    nothing = "The register has no spend by area for this area, so nothing is compared."
    if spend.empty:
        out = pd.DataFrame(
            columns=[
                "area_code",
                "area_name",
                "theme",
                "theme_name",
                "need",
                "spend_gbp",
                "population",
                *[c for c in _SPEND_COLUMNS if c not in ("theme_name", "area_name", "need")],
            ]
        )
        out.attrs["caveat"] = SPEND_VS_NEED_CAVEAT
        return why_empty(out, nothing)
    by_theme = (
        spend.groupby(["place", "theme"], as_index=False)
        .agg(spend_gbp=("spend_gbp", "sum"), illustrative=("illustrative", "any"))
        .rename(columns={"place": "area_code"})
    )
    need = need_by_theme(ctx, level=level, themes=sorted(by_theme["theme"].unique()), theme_need=theme_need)
    frame = by_theme.merge(
        need[["area_code", "theme", "need", "need_title"]], on=["area_code", "theme"], how="left"
    )
    frame["population"] = frame["area_code"].map(residents(ctx, level=level))
    frame = frame[frame["need"].notna()].astype({"need": float})
    out = spend_vs_need(frame, need="need", spend="spend_gbp", population="population", theme="theme")
    keys = pd.MultiIndex.from_frame(out[["area_code", "theme"]])
    extra = frame.set_index(["area_code", "theme"])
    out["need_title"] = extra["need_title"].reindex(keys).to_numpy()
    out["data_status"] = np.where(
        extra["illustrative"].reindex(keys).to_numpy(dtype=bool), ILLUSTRATIVE_LABEL, "real"
    )
    out.insert(1, "area_name", out["area_code"].map(place_names(ctx, level)))
    out.insert(3, "theme_name", theme_names(out["theme"]))
    out.attrs["need_unavailable"] = dict(need.attrs.get("unavailable", {}))
    if out.empty:
        why_empty(out, f"{nothing} {_not_compared(out.attrs['need_unavailable'])}".strip())
    return out


def spend_sentence(table: pd.DataFrame) -> str:
    """The caveat every spend-against-need output must print, then what the data say, per theme."""
    caveat = table.attrs.get("caveat", SPEND_VS_NEED_CAVEAT)
    correlation = table.attrs.get("needskit_spend_vs_need", {}).get("spearman_need_vs_spend_per_head", {})
    parts = [
        f"{THEMES.get(theme, theme)}: {rho:+.2f}" for theme, rho in correlation.items() if np.isfinite(rho)
    ]
    text = f"**{caveat}**"
    if table.empty:
        return text + " The register has no spend by area for this area, so nothing is compared."
    if (table.get("data_status", pd.Series(dtype=str)) == ILLUSTRATIVE_LABEL).any():
        text += f" The spend is {ILLUSTRATIVE_LABEL} (made up), so these figures show the method only."
    if parts:
        text += (
            " Rank correlation (Spearman) between need and spend per head across places — "
            + "; ".join(parts)
            + "."
        )
    not_compared = _not_compared(table.attrs.get("need_unavailable", {}))
    return f"{text} {not_compared}" if not_compared else text


def spend_table(table: pd.DataFrame, *, top: int | None = 15) -> pd.DataFrame:
    """Places whose spend per head ranks furthest below their need, across themes.

    Returns
    -------
    DataFrame: ``theme_name``, ``area_name``, ``need_title``, ``need``, ``spend_per_head``,
    ``need_percentile``, ``spend_per_head_percentile``, ``percentile_difference``,
    ``spend_minus_need_proportional``, ``data_status``; most negative difference first, at most
    ``top`` rows.
    """
    require_columns(table, _SPEND_COLUMNS, argument="table")
    out = table.sort_values(
        ["percentile_difference", "need_percentile"], ascending=[True, False], kind="stable"
    )[_SPEND_COLUMNS]
    out = (out.head(top) if top else out).reset_index(drop=True)
    if out.empty and table.attrs.get("why_empty"):
        why_empty(out, str(table.attrs["why_empty"]))
    return out


def spend_chart(table: pd.DataFrame, *, title: str) -> ReportFigure:
    """Need percentile against spend-per-head percentile, one panel per theme (points above the
    diagonal get more spend per head than their need rank)."""
    themes = sorted(table["theme_name"].unique())
    cols = min(max(len(themes), 1), 3)
    rows = int(np.ceil(max(len(themes), 1) / cols))
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
    note = (
        f" ({ILLUSTRATIVE_LABEL} spend)"
        if illustrative
        else (" — no spend in the register" if table.empty else "")
    )
    fig.suptitle(title + note, fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    return fig
