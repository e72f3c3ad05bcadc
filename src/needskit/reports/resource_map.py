"""The resource map: what partners have and where, and services per head by place.

The first part of the resource-map report (``notebooks/03-resource-map.ipynb``): the resource
register built from the store (:func:`register`), the service points inside the report's area
(:func:`area_services`), their map and summary, and services per 1,000 residents by ward or
district (:func:`supply_by_place`). Access, gaps, duplication and spend follow in
:mod:`needskit.reports.service_access` and :mod:`needskit.reports.provision`.

Register rows carry ``illustrative``: anything built on made-up services says ILLUSTRATIVE. A
store with no services at all gives empty tables and says so (the register's notes include
:data:`needskit.resources.NO_REGISTER_NOTE`) rather than failing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame
from needskit.errors import SchemaError, describe_values
from needskit.place import BNG, load_areas
from needskit.reports.charts import ReportFigure
from needskit.reports.context import ReportContext
from needskit.reports.maps import Choropleth, choropleth, with_parent
from needskit.reports.scope import (
    area_lsoas,
    check_place_level,
    default_place_level,
    place_codes,
    residents,
    residents_by_age,
)
from needskit.reports.tables import (
    ILLUSTRATIVE_LABEL,
    data_label,
    in_words,
    theme_names,
    unlocated_sentence,
    why_empty,
)
from needskit.resources import REGISTER_COLUMNS, ResourceRegister, build_register, supply_per_head

__all__ = [
    "register",
    "register_notes",
    "area_services",
    "services_summary",
    "assets_map",
    "supply_by_place",
    "supply_map_frame",
    "supply_map",
    "supply_wide",
    "supply_chart",
]

_NUMERIC = {
    "services": ("easting", "northing", "capacity", "hours_per_week", "annual_cost_gbp"),
    "spend": ("spend_gbp",),
    "catchments": (),
}
_SUPPLY_COLUMNS = ["n_records", "supply", "population", "supply_per_head", "supply_per_1000", "data_status"]


def _numbers(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Register columns that hold numbers, as numbers (a file's columns are pooled as text)."""
    out = frame.copy()
    for column in _NUMERIC[table]:
        if column not in out.columns:
            continue
        values = pd.to_numeric(out[column], errors="coerce")
        bad = values.isna() & out[column].notna() & (out[column].astype(str).str.strip() != "")
        if bad.any():
            raise SchemaError(
                f"has values that are not numbers in register table {table!r}",
                where=f"column {column!r}",
                expected="numbers",
                got=describe_values(out.loc[bad, column].tolist()),
            )
        out[column] = values.astype(float)
    return out


def register(ctx: ReportContext) -> ResourceRegister:
    """The resource register of the report's store, with its residents.

    Parameters
    ----------
    ctx
        The report's context: ``ctx.store`` holds the register tables the pipeline pooled from
        the catalogue datasets with a ``register:`` block (for public and partner reports, only
        the rows of datasets that may reach the audience).

    Returns
    -------
    ResourceRegister
        ``services`` (every service point of the partnership, EPSG:27700), ``spend``,
        ``catchments`` and ``population`` (residents per LSOA by age group from ``ctx.profile``:
        :func:`needskit.reports.scope.residents_by_age`), with ``notes`` (register sources none
        of whose rows could be located, and why; illustrative rows, missing NHS list sizes, no
        register of the partnership's own). ``services.attrs["unlocated"]`` maps each service
        type whose source gave no located row to ``title``, ``reason`` and ``hint`` (e.g. GP
        practices when no postcode directory was given), for the sentences that say why a type
        is missing.

    Raises
    ------
    SchemaError
        As :func:`needskit.resources.build_register`; numeric register columns holding text.
    """
    tables = {table: _numbers(ctx.store.read_register(table), table) for table in _NUMERIC}
    built = build_register(
        services=tables["services"],
        spend=tables["spend"],
        catchments=tables["catchments"],
        population=residents_by_age(ctx),
    )
    unlocated = _unlocated_sources(ctx)
    built.services.attrs["unlocated"] = {
        str(known["service_type"]): {k: str(known.get(k, "")) for k in ("title", "reason", "hint")}
        for known in unlocated.values()
        if known.get("table") == "services" and known.get("service_type")
    }
    if not unlocated:
        return built
    return dataclasses.replace(built, notes=(*_unlocated_notes(unlocated), *built.notes))


def _unlocated_sources(ctx: ReportContext) -> dict[str, dict[str, Any]]:
    """The register's source datasets (that the report's audience may see: those of its ledger)
    none of whose rows was located in the partnership's area, with why (the store's pool record)."""
    sources = ctx.store.register_sources()
    if not sources:
        return {}
    ledger = ctx.store.read_ledger()
    visible = set(ledger["dataset"]) if "dataset" in ledger.columns else set()
    return {
        dataset: known
        for dataset, known in sources.items()
        if dataset in visible and not known.get("located") and known.get("reason")
    }


def _unlocated_notes(unlocated: dict[str, dict[str, Any]]) -> list[str]:
    """One sentence per reason: which register sources could not be located, why, and what to do."""
    groups: dict[tuple[str, str], list[str]] = {}
    for known in unlocated.values():
        key = (str(known.get("reason", "")), str(known.get("hint", "") or ""))
        groups.setdefault(key, []).append(str(known.get("title", "")))
    return [
        f"{' and '.join(titles)} could not be located, so the register has none of "
        f"{'them' if len(titles) > 1 else 'its rows'}: {reason}" + (f" ({hint})" if hint else "") + "."
        for (reason, hint), titles in groups.items()
    ]


def register_notes(register: ResourceRegister, *, services: pd.DataFrame | None = None) -> str:
    """What the resource register is, as a markdown list: the ILLUSTRATIVE warning first.

    Parameters
    ----------
    register
        The report's :class:`~needskit.resources.ResourceRegister` (:func:`register`).
    services
        The services the report shows (:func:`area_services`); adds how many are real and how
        many illustrative, or that there are none.

    Returns
    -------
    str
        Markdown bullets built from ``register.notes`` and the ``illustrative`` flags.
    """
    lines = []
    if services is not None and len(services):
        made_up = int(services["illustrative"].astype(bool).sum())
        genuine = services[~services["illustrative"].astype(bool)]
        kinds = sorted(genuine["service_type"].astype(str).str.replace("_", " ").unique())
        sources = sorted(genuine["source"].dropna().astype(str).unique()) if "source" in genuine else []
        lines.append(
            f"{len(services)} service points are mapped: {len(genuine)} real ({', '.join(kinds) or 'none'}"
            f"{'; ' + ', '.join(sources) if sources else ''}) and "
            f"**{made_up} {ILLUSTRATIVE_LABEL}** (made up, not real services)."
        )
    elif services is not None:
        lines.append("No service point of the register lies in this area.")
    for note in register.notes:
        text = str(note)
        if text.startswith(ILLUSTRATIVE_LABEL):
            text = f"**{ILLUSTRATIVE_LABEL}**" + text[len(ILLUSTRATIVE_LABEL) :]
        lines.append(text)
    if register.illustrative and not any(ILLUSTRATIVE_LABEL in line for line in lines):
        lines.insert(0, f"**{ILLUSTRATIVE_LABEL}**: some rows of this register are made up.")
    return "\n".join(f"- {line}" for line in lines)


def area_services(register: ResourceRegister, *, ctx: ReportContext) -> gpd.GeoDataFrame:
    """The register's service points inside the report's area, with their ward and data status.

    Parameters
    ----------
    register
        The report's register (:func:`register`).
    ctx
        Report context (a district or a county).

    Returns
    -------
    GeoDataFrame (EPSG:27700): the register's columns (every one of
    :data:`~needskit.resources.REGISTER_COLUMNS`, missing where the register has no such
    column) for services whose LSOA is in the area, plus ``ward_code``, ``ward_name``,
    ``district_code``, ``district_name`` (from the LSOA) and ``data_status``
    (``"ILLUSTRATIVE"`` or ``"real"``), sorted by service type and id. Empty when the register
    has no services there.

    Raises
    ------
    ReportError
        Not a district or county report.
    """
    table = area_lsoas(ctx).set_index("lsoa")
    services = register.services
    missing = [c for c in REGISTER_COLUMNS if c not in services.columns]
    if missing:
        services = services.assign(**dict.fromkeys(missing, pd.NA))
    inside = services[services["area_code"].isin(table.index)]
    out = inside.assign(
        ward_code=inside["area_code"].map(table["ward"]),
        ward_name=inside["area_code"].map(table["ward_name"]),
        district_code=inside["area_code"].map(table["district"]),
        district_name=inside["area_code"].map(table["district_name"]),
        data_status=np.where(inside["illustrative"].astype(bool), ILLUSTRATIVE_LABEL, "real"),
    )
    return out.sort_values(["service_type", "service_id"], kind="stable").reset_index(drop=True)


def _no_services(frame: pd.DataFrame, what: str) -> str:
    """The sentence "No service point of the register lies in this area, so <what>." and why,
    when the register's sources could not be located (``attrs["unlocated"]``)."""
    text = f"No service point of the register lies in this area, so {what}."
    return f"{text} {unlocated_sentence(frame.attrs.get('unlocated', {}))}".strip()


def services_summary(services: pd.DataFrame) -> pd.DataFrame:
    """Services by type and sector: how many, run by whom, real or ILLUSTRATIVE.

    Returns
    -------
    DataFrame, one row per ``service_type`` and ``partner_sector``: ``service_type``,
    ``theme_name``, ``partner_sector``, ``partners`` (``"; "``-joined), ``n_services``,
    ``data_status``; sorted by theme then type (no rows when there are no services, and
    ``attrs["why_empty"]`` says so).
    """
    require_frame(services)
    require_columns(
        services, ["service_type", "partner_sector", "partner", "theme", "data_status"], argument="services"
    )
    columns = ["service_type", "theme_name", "partner_sector", "partners", "n_services", "data_status"]
    if services.empty:
        return why_empty(pd.DataFrame(columns=columns), _no_services(services, "nothing to summarise"))
    grouped = (
        pd.DataFrame(services)
        .groupby(["theme", "service_type", "partner_sector"], as_index=False, dropna=False)
        .agg(
            partners=("partner", lambda s: "; ".join(sorted(set(s.astype(str))))),
            n_services=("service_id", "size"),
            data_status=("data_status", lambda s: "; ".join(sorted(set(s)))),
        )
    )
    grouped["theme_name"] = theme_names(grouped["theme"])
    grouped["service_type"] = in_words(grouped["service_type"].astype(str))
    grouped["partner_sector"] = in_words(grouped["partner_sector"])
    return grouped[columns]


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
        Map title ("ILLUSTRATIVE" is added when any point is illustrative; "no services in the
        register" when there are none).

    Returns
    -------
    ReportFigure
    """
    import matplotlib
    from matplotlib.lines import Line2D

    fig = ReportFigure(figsize=(8, 8.6))
    ax = fig.add_subplot()
    areas.to_crs(BNG).plot(ax=ax, facecolor="#f4f4f4", edgecolor="#9a9a9a", linewidth=0.5)
    points = services.to_crs(BNG) if len(services) else services
    palette = matplotlib.colormaps["tab20"]
    handles = []
    for i, kind in enumerate(sorted(points["service_type"].astype(str).unique()) if len(points) else []):
        part = points[points["service_type"] == kind]
        made_up = bool(part["illustrative"].astype(bool).all())
        colour = palette(i % 20)
        ax.scatter(
            part.geometry.x,
            part.geometry.y,
            s=22,
            marker="o" if made_up else "^",
            color=colour,
            edgecolors="black",
            linewidths=0.3,
            zorder=3,
        )
        label = kind.replace("_", " ") + (f" ({ILLUSTRATIVE_LABEL})" if made_up else " (real)")
        handles.append(
            Line2D(
                [],
                [],
                marker="o" if made_up else "^",
                linestyle="",
                color=colour,
                markeredgecolor="black",
                markeredgewidth=0.3,
                label=f"{label}: {len(part)}",
            )
        )
    if handles:
        ax.legend(
            handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=7, frameon=False
        )
    ax.set_axis_off()
    ax.set_aspect("equal")
    if not len(points):
        title += " — no services in the register"
    elif points["illustrative"].astype(bool).any():
        title += f" — circles are {ILLUSTRATIVE_LABEL} (made-up) services"
    ax.set_title(title, fontsize=10, loc="left")
    fig.tight_layout()
    return fig


def supply_by_place(
    services: pd.DataFrame, *, ctx: ReportContext, level: str = "ward", by: str = "theme"
) -> pd.DataFrame:
    """Services per 1,000 residents by ward (or district) and theme.

    Parameters
    ----------
    services
        Services of the area (:func:`area_services`).
    ctx
        Report context: residents are its published counts (:func:`needskit.reports.scope.residents`).
    level
        ``"ward"`` or ``"district"`` (a county only).
    by
        Column to keep apart (``"theme"``, ``"service_type"``).

    Returns
    -------
    DataFrame from :func:`needskit.resources.supply_per_head` (``area_code``, ``area_name``,
    ``level``, ``by``, ``n_records``, ``supply``, ``population``, ``supply_per_head``,
    ``supply_per_1000``) plus ``theme_name`` when ``by="theme"`` and ``data_status`` (the
    group's services: ``"ILLUSTRATIVE"``, ``"real"`` or both). Every place × group, 0 where none;
    no rows when there are no services (``attrs["unlocated"]`` then carries the services' own,
    see :func:`register`). ``attrs["level"]`` is ``level``.

    Raises
    ------
    ReportError
        Not a district or county, or an unusable level.
    """
    check_place_level(ctx, level)
    if len(services) == 0:
        named = ["theme_name"] if by == "theme" else []
        out = pd.DataFrame(columns=["area_code", "area_name", "level", by, *named, *_SUPPLY_COLUMNS])
        out.attrs["unlocated"] = dict(services.attrs.get("unlocated", {}))
    else:
        status = pd.DataFrame(services).groupby(by)["data_status"].agg(lambda s: "; ".join(sorted(set(s))))
        out = supply_per_head(
            services, population=residents(ctx, level="lsoa"), by=by, to=level, geography=ctx.geography
        )
        if by == "theme":
            out.insert(out.columns.get_loc("theme") + 1, "theme_name", theme_names(out["theme"]))
        out["data_status"] = out[by].map(status)
    out.attrs["level"] = level
    return out


def supply_map_frame(supply: pd.DataFrame, *, ctx: ReportContext) -> gpd.GeoDataFrame:
    """All services per 1,000 residents by place, joined to the places' polygons (for a choropleth).

    Returns
    -------
    GeoDataFrame, one row per place of the area: ``area_code``, ``area_name``, ``n_services``
    (0 where none), ``population``, ``services_per_1000``, geometry.
    """
    require_columns(supply, ["area_code", "n_records", "population", "level"], argument="supply")
    level = supply.attrs.get("level") or (
        str(supply["level"].iloc[0]) if len(supply) else default_place_level(ctx)
    )
    codes = place_codes(ctx, level)
    if len(supply):  # the residents supply per head was worked out with
        people = supply.groupby("area_code")["population"].first().reindex(codes).astype(float)
    else:
        people = residents(ctx, level=level).reindex(codes)
    counts = supply.groupby("area_code")["n_records"].sum().reindex(codes).fillna(0)
    totals = pd.DataFrame({"n_services": counts.astype("int64"), "population": people})
    totals.index.name = "area_code"
    totals["services_per_1000"] = np.where(
        totals["population"] > 0, 1000 * totals["n_services"] / totals["population"], np.nan
    )
    areas = load_areas(level, geography=ctx.geography)
    areas = areas[areas["area_code"].isin(codes)]
    return areas[["area_code", "area_name", "geometry"]].merge(
        totals.reset_index(), on="area_code", how="left"
    )


def supply_map(supply: pd.DataFrame, *, ctx: ReportContext) -> Choropleth:
    """A map of all services per 1,000 residents by place (:func:`supply_map_frame`), its title
    saying ILLUSTRATIVE when made-up services are counted, and that the register has none when
    there are no services."""
    frame = supply_map_frame(supply, ctx=ctx)
    level = supply.attrs.get("level") or default_place_level(ctx)
    frame = with_parent(frame, hierarchy=ctx.hierarchy, level=level)
    title = f"Services per 1,000 residents by {level}{data_label(supply)}" + (
        "" if len(supply) else " — no services in the register"
    )
    register_sources = "; ".join(
        str(known["title"])
        for known in ctx.store.register_sources().values()
        if known.get("table") == "services" and known.get("located")
    )
    caption = (
        f"{title}, {ctx.period}. Sources: {register_sources or 'the resource register'}; residents: "
        f"{ctx.source_text(ctx.residents_dataset)}."
    )
    return choropleth(
        frame,
        column="services_per_1000",
        caption=caption,
        legend="services per 1,000 residents",
        area_label=str(level).capitalize(),
        outline_by="parent_code",
        outline_label="District boundaries",
        title=title,
    )


def supply_wide(supply: pd.DataFrame) -> pd.DataFrame:
    """Supply per head by place as one row per place: all services, then each theme per 1,000.

    Returns
    -------
    DataFrame, one row per place, most services per 1,000 residents first: ``area_name``,
    ``population``, ``n_services``, ``services_per_1000``, one column per theme name (services
    per 1,000), ``data_status``; no rows when there are no services (``attrs["why_empty"]`` says
    so).
    """
    require_columns(
        supply,
        ["area_code", "area_name", "theme_name", "n_records", "population", "supply_per_1000", "data_status"],
        argument="supply",
    )
    if supply.empty:
        return why_empty(
            pd.DataFrame(
                columns=["area_name", "population", "n_services", "services_per_1000", "data_status"]
            ),
            _no_services(supply, "there is no supply per head to show"),
        )
    wide = supply.pivot_table(
        index="area_code", columns="theme_name", values="supply_per_1000", aggfunc="sum"
    )
    totals = supply.groupby("area_code").agg(
        area_name=("area_name", "first"), population=("population", "first"), n_services=("n_records", "sum")
    )
    totals["services_per_1000"] = np.where(
        totals["population"] > 0, 1000 * totals["n_services"] / totals["population"], np.nan
    )
    status = "; ".join(
        sorted({part for text in supply["data_status"].dropna() for part in str(text).split("; ")})
    )
    out = totals.join(wide).sort_values("services_per_1000", ascending=False).reset_index(drop=True)
    out["data_status"] = status
    out.columns.name = None
    return out


def supply_chart(supply: pd.DataFrame, *, title: str, top: int | None = 25) -> ReportFigure:
    """Stacked bars of services per 1,000 residents by place and theme (the ``top`` places by total).

    Returns
    -------
    ReportFigure (saying so when there are no services)
    """
    import matplotlib

    require_columns(supply, ["area_name", "theme_name", "supply_per_1000"], argument="supply")
    wide = supply.pivot_table(
        index="area_name", columns="theme_name", values="supply_per_1000", aggfunc="sum"
    ).fillna(0.0)
    wide = wide.loc[wide.sum(axis=1).sort_values(ascending=False).index]
    shown = wide.head(top) if top else wide
    fig = ReportFigure(figsize=(8, 0.28 * len(shown) + 1.6))
    ax = fig.add_subplot()
    left = np.zeros(len(shown))
    palette = matplotlib.colormaps["tab10"]
    for i, theme in enumerate(shown.columns):
        ax.barh(np.arange(len(shown)), shown[theme].to_numpy(), left=left, color=palette(i), label=theme)
        left += shown[theme].to_numpy()
    ax.set_yticks(np.arange(len(shown)), shown.index, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("services per 1,000 residents")
    note = f" (top {len(shown)} of {len(wide)})" if len(shown) < len(wide) else ""
    ax.set_title(
        title + note + ("" if len(wide) else " — no services in the register"), fontsize=10, loc="left"
    )
    if len(shown.columns):
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
