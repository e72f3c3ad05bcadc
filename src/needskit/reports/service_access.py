"""Access to services in the resource map: how far residents live from the nearest service.

Distances are measured from each neighbourhood's centre — where its people live, the
postcode-weighted centre the pipeline keeps in the store (:func:`neighbourhood_centres`) — to
the nearest service point of each type (:func:`access_table`), and GP accessibility is the
two-step floating catchment area method (:func:`gp_accessibility`). Every LSOA and service of
the partnership takes part (the nearest service may be over a district boundary); tables keep
the report's area. Service types the register lacks are left out and said so; a register with no
services at all gives empty tables rather than an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from needskit._checks import require_columns
from needskit.errors import NeedskitWarning, SchemaError
from needskit.place import BNG
from needskit.reports.context import ReportContext
from needskit.reports.maps import Choropleth, choropleth, with_parent
from needskit.reports.scope import area_lsoas, residents
from needskit.reports.tables import ILLUSTRATIVE_LABEL, unlocated_sentence, why_empty
from needskit.resources import lsoa_centres, nearest_service, two_step_fca

__all__ = [
    "ACCESS_TYPES",
    "neighbourhood_centres",
    "access_table",
    "access_summary",
    "access_sentence",
    "furthest",
    "gp_accessibility",
    "gp_access_map",
    "accessibility_sentence",
]

ACCESS_TYPES: tuple[str, ...] = ("gp_practice", "pharmacy", "library")
"""Service types whose nearest point is measured by default."""

_FCA_COLUMNS = [
    "area_code",
    "area_name",
    "ward_name",
    "population",
    "accessibility",
    "practices_per_100k",
    "services_in_catchment",
    "geometry",
]


def neighbourhood_centres(ctx: ReportContext) -> gpd.GeoDataFrame:
    """Every LSOA of the partnership as a point where its people live, with its residents.

    The centres are the store's (``ctx.store.read_centres()``): the mean position of each LSOA's
    postcodes, or its polygon's representative point when no postcode falls in it (or when the
    pipeline had no postcode directory).

    Returns
    -------
    GeoDataFrame (EPSG:27700), one row per LSOA of the partnership, sorted by code:
    ``area_code``, ``area_name``, ``ward_name``, ``in_area`` (inside the report's area),
    ``n_postcodes``, ``centre_method`` (``"postcode-weighted"`` or ``"representative point (no
    postcodes)"``), ``population`` (published residents), point geometry.

    Raises
    ------
    ReportError
        Not a district or county report.
    """
    inside = set(area_lsoas(ctx)["lsoa"])
    table = ctx.hierarchy.drop_duplicates("lsoa").set_index("lsoa")
    centres = ctx.store.read_centres()
    if centres is None:
        centres = lsoa_centres(ctx.store.read_areas("lsoa"), postcodes=None)
    centres = centres.to_crs(BNG)
    centres = centres[centres["area_code"].isin(table.index)]
    out = gpd.GeoDataFrame(
        {
            "area_code": centres["area_code"].astype(str).to_numpy(),
            "area_name": centres["area_code"].map(table["lsoa_name"]).to_numpy(),
            "ward_name": centres["area_code"].map(table["ward_name"]).to_numpy(),
            "in_area": centres["area_code"].isin(inside).to_numpy(),
            "n_postcodes": centres["n_postcodes"].fillna(0).astype("int64").to_numpy(),
            "centre_method": centres["centre_method"].astype(str).to_numpy(),
        },
        geometry=centres.geometry.to_numpy(),
        crs=BNG,
    )
    out["population"] = (
        out["area_code"].map(residents(ctx, level="lsoa", scope="partnership")).fillna(0.0).to_numpy()
    )
    return out.sort_values("area_code").reset_index(drop=True)


def access_table(
    centres: gpd.GeoDataFrame, *, services: gpd.GeoDataFrame, service_types: Sequence[str] = ACCESS_TYPES
) -> pd.DataFrame:
    """Straight-line distance from each of the area's neighbourhoods to its nearest service of each type.

    Parameters
    ----------
    centres
        :func:`neighbourhood_centres` (the whole partnership: the nearest service may be over a
        district boundary).
    services
        Service points of the whole partnership (``register.services``), EPSG:27700.
    service_types
        Types to measure (default :data:`ACCESS_TYPES`); types the register does not have are
        left out and listed in ``attrs["absent_types"]``.

    Returns
    -------
    DataFrame, one row per LSOA of the area (``centres.in_area``), sorted by code:
    ``area_code``, ``area_name``, ``ward_name``, ``population``, ``centre_method``, then per
    measured type ``<type>_m`` (metres) and ``<type>_nearest`` (the service's name).
    ``attrs["data_status"]`` says per type whether its points are ``"real"`` or
    ``"ILLUSTRATIVE"``; ``attrs["absent_types"]`` lists the types not in the register, and
    ``attrs["unlocated"]`` those of them whose source could not be located (from
    ``services.attrs``, see :func:`needskit.reports.resource_map.register`).

    Raises
    ------
    SchemaError
        The register has services but none of the types asked for;
        :func:`needskit.resources.nearest_service` errors.
    """
    require_columns(centres, ["area_code", "in_area", "population"], argument="centres")
    known = set(services["service_type"].dropna().astype(str)) if len(services) else set()
    present = [t for t in service_types if t in known]
    if known and not present:
        raise SchemaError(
            "names service types the register does not have",
            where="service_types",
            expected=f"some of {sorted(known)}",
            got=repr(list(service_types)),
        )
    out = pd.DataFrame(
        centres.loc[
            centres["in_area"], ["area_code", "area_name", "ward_name", "population", "centre_method"]
        ]
    )
    out.attrs["absent_types"] = [t for t in service_types if t not in known]
    unlocated = services.attrs.get("unlocated", {})
    out.attrs["unlocated"] = {t: dict(unlocated[t]) for t in out.attrs["absent_types"] if t in unlocated}
    if not present:
        out.attrs["data_status"] = {}
        return out.sort_values("area_code").reset_index(drop=True)
    chosen = services[services["service_type"].isin(present)]
    nearest = nearest_service(centres, services=chosen, service_type="service_type")
    nearest["name"] = nearest["service_id"].map(chosen.set_index("service_id")["name"])
    made_up = chosen.groupby("service_type")["illustrative"].agg(lambda s: bool(s.astype(bool).all()))
    out.attrs["data_status"] = {
        kind: ILLUSTRATIVE_LABEL if made_up.get(kind, False) else "real" for kind in present
    }
    for kind in present:
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
    ``far_m``, ``data_status`` (from ``access.attrs``; ``"real"`` when unknown). No rows when
    the register has none of the types (``attrs["why_empty"]`` says so);
    ``attrs["absent_types"]`` and ``attrs["unlocated"]`` as the access table's.

    Raises
    ------
    SchemaError
        No ``<type>_m`` columns in a table that is not from an empty register, or a
        non-positive ``far_m``.
    """
    require_columns(access, ["population"], argument="access")
    kinds = [c[:-2] for c in access.columns if c.endswith("_m")]
    if not kinds and not access.attrs.get("absent_types"):
        raise SchemaError(
            "has no distance columns", where="access", expected="columns named <type>_m (access_table)"
        )
    if not far_m > 0:
        raise SchemaError("is not a positive distance", where="far_m", expected="metres > 0", got=repr(far_m))
    distances = access[[f"{k}_m" for k in kinds]].to_numpy(float).reshape(len(access), len(kinds))
    people = access["population"].to_numpy(float)[:, None]
    total = people.sum()
    beyond = ((distances > far_m) * people).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a type with no distance at all
        out = pd.DataFrame(
            {
                "service_type": [k.replace("_", " ") for k in kinds],
                "median_m": np.nanmedian(distances, axis=0) if kinds else [],
                "p90_m": np.nanpercentile(distances, 90, axis=0) if kinds else [],
                "max_m": np.nanmax(distances, axis=0) if kinds else [],
                "mean_per_resident_m": (distances * people).sum(axis=0) / total if total else np.nan,
                "residents_beyond": beyond,
                "share_residents_beyond": beyond / total if total else np.nan,
                "far_m": float(far_m),
                "data_status": [access.attrs.get("data_status", {}).get(k, "real") for k in kinds],
            }
        )
    out.attrs["absent_types"] = list(access.attrs.get("absent_types", []))
    out.attrs["unlocated"] = dict(access.attrs.get("unlocated", {}))
    if out.empty:
        why_empty(out, "No distance is measured: the register has none of the service types asked for.")
    return out


def access_sentence(summary: pd.DataFrame, *, area_name: str) -> str:
    """One sentence per service type on how far residents are from the nearest one, and which
    types asked for the register does not have (``summary.attrs["absent_types"]``) and why, when
    their source could not be located (``summary.attrs["unlocated"]``).

    Parameters
    ----------
    summary
        :func:`access_summary`.
    area_name
        The report's area.
    """
    absent = summary.attrs.get("absent_types", [])
    parts = []
    for row in summary.itertuples(index=False):
        label = row.service_type + (
            f" ({ILLUSTRATIVE_LABEL} locations)" if row.data_status == ILLUSTRATIVE_LABEL else ""
        )
        parts.append(
            f"{label}: half of {area_name}'s neighbourhoods are within {row.median_m / 1000:,.1f} km "
            f"and the furthest is {row.max_m / 1000:,.1f} km away; {row.residents_beyond:,.0f} residents "
            f"({row.share_residents_beyond:.1%}) live in neighbourhoods more than {row.far_m / 1000:,.1f} km "
            "from one"
        )
    missing = (
        f"The register has no {', '.join(t.replace('_', ' ') for t in absent)}: not measured."
        if absent
        else ""
    )
    why = unlocated_sentence(summary.attrs.get("unlocated", {}), service_types=absent)
    missing = f"{missing} {why}".strip()
    if not parts:
        return (
            "The register has no services of the types measured, so distances are not measured. " + missing
        ).strip()
    text = (
        "Straight-line distance from where each neighbourhood's people live to the nearest service. "
        + "; ".join(parts)
        + "."
    )
    return f"{text} {missing}".strip()


def furthest(access: pd.DataFrame, *, service_type: str | None = None, top: int | None = 15) -> pd.DataFrame:
    """The neighbourhoods furthest from a service type (default the first measured), furthest first.

    Returns
    -------
    DataFrame: ``area_name``, ``ward_name``, ``population``, every ``<type>_m`` and the chosen
    type's ``<type>_nearest``; sorted by ``<service_type>_m`` descending, at most ``top`` rows
    (no rows when nothing was measured, and ``attrs["why_empty"]`` says so).

    Raises
    ------
    SchemaError
        The service type was not measured.
    """
    kinds = [c[:-2] for c in access.columns if c.endswith("_m")]
    if not kinds and service_type is None:
        return why_empty(
            pd.DataFrame(columns=["area_name", "ward_name", "population"]),
            "No distance is measured, so no neighbourhood is listed as furthest from a service.",
        )
    kind = service_type or kinds[0]
    require_columns(access, [f"{kind}_m", f"{kind}_nearest"], argument="service_type")
    out = access.sort_values([f"{kind}_m", "area_code"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )
    out = out[["area_name", "ward_name", "population", *[f"{k}_m" for k in kinds], f"{kind}_nearest"]]
    return out.head(top) if top else out


def gp_accessibility(
    centres: gpd.GeoDataFrame,
    *,
    services: gpd.GeoDataFrame,
    ctx: ReportContext,
    catchment_m: float = 3000.0,
    decay: Literal["gaussian"] | None = None,
    service_type: str = "gp_practice",
) -> gpd.GeoDataFrame:
    """Two-step floating catchment accessibility to GP practices for the area's neighbourhoods.

    The whole partnership's neighbourhoods and practices take part (demand from over the
    district boundary counts); the result keeps the area's neighbourhoods, with their polygons.

    Parameters
    ----------
    centres
        :func:`neighbourhood_centres`.
    services
        The partnership's service points (``register.services``).
    ctx
        Report context (the LSOA polygons of the store).
    catchment_m, decay
        As :func:`needskit.resources.two_step_fca` (straight-line metres; ``None`` = classic 2SFCA).
    service_type
        The service type to measure.

    Returns
    -------
    GeoDataFrame of the area's LSOA polygons: ``area_code``, ``area_name``, ``ward_name``,
    ``population``, ``accessibility`` (practices per resident within reach),
    ``practices_per_100k`` (× 100,000), ``services_in_catchment``; ``attrs["needskit_access"]``
    from :func:`~needskit.resources.two_step_fca` plus ``supply`` (what one unit is). When the
    register has no services of ``service_type`` (none at all, or a partnership without NHS
    data): every neighbourhood, accessibility missing, and ``attrs["needskit_access"]["absent"]``
    True (``["why"]``: why, when it can say).

    Notes
    -----
    Supply is one per practice: the NHS ODS extract carries no registered-list size, so a small
    and a large practice weigh the same.
    """
    polygons = ctx.store.read_areas("lsoa").to_crs(BNG)
    practices = services[services["service_type"] == service_type] if len(services) else services
    supply = f"1 per {service_type.replace('_', ' ')} (no list sizes)"
    if practices.empty:
        why = unlocated_sentence(services.attrs.get("unlocated", {}), service_types=[service_type])
        if len(services):  # a partnership whose register holds no GP practices (no NHS ODS data)
            kinds = ", ".join(sorted({str(k).replace("_", " ") for k in services["service_type"]}))
            why = f"It holds {kinds}, and no {service_type.replace('_', ' ')}."
        here = pd.DataFrame(
            centres.loc[centres["in_area"], ["area_code", "area_name", "ward_name", "population"]]
        )
        fca = here.assign(accessibility=np.nan, practices_per_100k=np.nan, services_in_catchment=0)
        meta = {
            "method": "2SFCA",
            "catchment_m": float(catchment_m),
            "absent": True,
            "why": why,
        }
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NeedskitWarning)  # unreached practices are in attrs
            fca = two_step_fca(
                centres,
                services=practices.assign(_supply=1.0),
                population="population",
                supply="_supply",
                catchment_m=catchment_m,
                decay=decay,
            )
        meta = dict(fca.attrs.get("needskit_access", {}))
        fca = fca.merge(
            pd.DataFrame(centres[["area_code", "area_name", "ward_name", "in_area"]]), on="area_code"
        )
        fca = fca[fca["in_area"]].drop(columns="in_area")
        fca["practices_per_100k"] = fca["accessibility"] * 100_000
    out = polygons[["area_code", "geometry"]].merge(fca, on="area_code", how="inner")
    out = (
        gpd.GeoDataFrame(out[_FCA_COLUMNS], geometry="geometry", crs=BNG)
        .sort_values("area_code")
        .reset_index(drop=True)
    )
    out.attrs["needskit_access"] = {**meta, "supply": supply}
    return out


def gp_access_map(fca: gpd.GeoDataFrame, *, ctx: ReportContext | None = None) -> Choropleth:
    """A map of GP practices per 100,000 residents within reach (:func:`gp_accessibility`); when the
    register has no services, the practices within reach (none) under a title that says so. With
    ``ctx``, the district boundaries are drawn over the neighbourhoods."""
    outline_by = outline_label = None
    caption = ""
    absent = fca.attrs.get("needskit_access", {}).get("absent")
    title = (
        "GP practices within reach: the register has no GP practices"
        if absent
        else "GP practices per 100,000 residents within reach (2SFCA)"
    )
    if ctx is not None:
        fca = with_parent(fca, hierarchy=ctx.hierarchy, level="lsoa")
        outline_by, outline_label = "parent_code", "District boundaries"
        practices = "; ".join(
            str(known["title"])
            for known in ctx.store.register_sources().values()
            if known.get("service_type") == "gp_practice"
        )
        caption = (
            f"{title}, {ctx.period}. Sources: {practices or 'the resource register'}; "
            f"residents: {ctx.source_text(ctx.residents_dataset)}."
        )
    if absent:
        return choropleth(
            fca,
            column="services_in_catchment",
            legend="practices",
            caption=caption,
            title=title,
            area_label="Neighbourhood",
            outline_by=outline_by,
            outline_label=outline_label,
        )
    return choropleth(
        fca,
        column="practices_per_100k",
        caption=caption,
        title=title,
        legend="practices per 100,000 residents",
        tooltip=["area_name", "ward_name", "practices_per_100k"],
        aliases=["Neighbourhood", "Ward", "Practices per 100,000"],
        outline_by=outline_by,
        outline_label=outline_label,
    )


def accessibility_sentence(fca: pd.DataFrame, *, area_name: str) -> str:
    """What the 2SFCA map shows, from the data."""
    meta = fca.attrs.get("needskit_access", {})
    if meta.get("absent"):
        return (
            f"The register has no GP practices, so GP accessibility in {area_name} is not measured. "
            + str(meta.get("why", ""))
        ).strip()
    none = fca[fca["services_in_catchment"] == 0]
    reached = fca[fca["services_in_catchment"] > 0]
    text = (
        f"GP accessibility ({meta.get('method', '2SFCA')}, "
        f"catchment {meta.get('catchment_m', float('nan')) / 1000:,.1f} km "
        f"in a straight line, {meta.get('supply', 'one unit per practice')}): "
        f"{area_name}'s neighbourhoods reach between "
        f"{reached['practices_per_100k'].min() if len(reached) else 0:,.1f} and "
        f"{fca['practices_per_100k'].max():,.1f} "
        f"practices per 100,000 residents"
    )
    if len(none):
        text += (
            f"; {len(none)} neighbourhoods ({none['population'].sum():,.0f} residents) "
            "have no practice within the catchment"
        )
    unreached = meta.get("unreached_services", [])
    if unreached:
        text += f"; {len(unreached)} practice(s) of the partnership have no resident within it"
    return text + "."
