"""Duplication: several partners' services covering the same place and theme.

:func:`duplication` lists the areas and themes covered by services of two or more partners, with
the spend involved; :func:`duplicate_pairs` lists the overlapping pairs of services. Both start
from one incidence table (service x area) built from catchment lists or radii.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from needskit._checks import (
    point_coordinates,
    require_columns,
    require_frame,
    require_non_negative,
    require_numeric,
)
from needskit.errors import GeographyError, SchemaError, describe_values

__all__ = ["duplication", "duplicate_pairs"]


def duplication(
    services: pd.DataFrame,
    *,
    catchment: pd.DataFrame | float | str,
    theme: str = "theme",
    partner: str = "partner",
    service_id: str = "service_id",
    spend: str | None = None,
    area: str = "area_code",
    catchment_area: str = "area_code",
    areas: gpd.GeoDataFrame | None = None,
    min_partners: int = 2,
) -> pd.DataFrame:
    """Areas and themes where several partners' services overlap, with the spend involved.

    Parameters
    ----------
    services
        One row per service with its theme, partner and (optionally) spend. A GeoDataFrame of
        points in EPSG:27700 when ``catchment`` is a radius. Not modified.
    catchment
        Each service's catchment, as either a table of (``service_id``, ``catchment_area``) rows
        (a list of areas per service, e.g. ``register.catchments``), a radius in metres for every
        service, or the name of a column of ``services`` holding each service's radius. With a
        radius, an area is covered when its point (its representative point, or pass
        population-weighted centres) is within the radius, and a service always covers the area
        it stands in (its ``area`` column, when present).
    theme
        Column of what must match for services to duplicate each other: ``"theme"`` for the
        same theme, ``"service_type"`` for like-for-like services.
    partner, service_id
        Columns naming the provider and the service.
    spend
        Column of the services' annual cost or spend (£), optional.
    area
        Column of ``services`` with the area each service stands in (used with a radius).
    catchment_area
        Column of a catchment table holding the area codes.
    areas
        Areas for radius catchments (points or polygons, ``area_code``, same CRS), e.g.
        ``load_areas("lsoa", geography=...)``; required with a radius.
    min_partners
        How many different partners make a duplication (2 or more).

    Returns
    -------
    DataFrame, one row per area and theme covered by at least ``min_partners`` partners, sorted
    by theme, then most partners, then most services, then area: ``area_code``, the ``theme``
    column (named as the argument, e.g. ``service_type``),
    ``n_partners``, ``partners`` (sorted, ``"; "``-joined), ``n_services``, ``service_ids``,
    ``spend_total`` (full spend of the services involved) and ``spend_in_area`` (each service's
    spend shared equally over the areas of its catchment, summed). Spend columns only with
    ``spend``. ``result.attrs["needskit_duplication"]`` records the method and how many services
    had no catchment.

    Raises
    ------
    SchemaError
        Missing columns or values, repeated service ids, catchment rows naming unknown services,
        a non-positive radius, negative spend, ``min_partners`` < 2.
    GeographyError
        Radius catchments without point services in EPSG:27700 or without areas, or areas in
        another CRS.

    Notes
    -----
    Overlap is counted on areas: two services overlap where their catchments share an area.
    An incidence table (service × area) is joined to the services and grouped by area and theme
    (number of distinct partners). Overlap is not by itself waste: partners may serve different
    people in the same place, or work jointly. Treat the list as where to ask, not as a verdict.

    Examples
    --------
    >>> duplication(reg.services, catchment=reg.catchments, theme="service_type",
    ...             spend="annual_cost_gbp")  # doctest: +SKIP
    """
    if isinstance(min_partners, bool) or not isinstance(min_partners, int | np.integer) or min_partners < 2:
        raise SchemaError(
            "is not a number of partners",
            where="min_partners",
            expected="a whole number ≥ 2",
            got=repr(min_partners),
        )
    pairs, info = _covered(
        services,
        catchment=catchment,
        theme=theme,
        partner=partner,
        service_id=service_id,
        spend=spend,
        area=area,
        catchment_area=catchment_area,
        areas=areas,
    )
    pairs = pairs.sort_values(["theme", "area_code", "partner", "service_id"], kind="stable")
    pairs["share"] = pairs["spend"] / pairs["n_areas"].where(pairs["n_areas"] > 0)
    grouped = pairs.groupby(["area_code", "theme"], sort=False)
    out = grouped.agg(
        n_partners=("partner", "nunique"),
        n_services=("service_id", "size"),
        spend_total=("spend", "sum"),
        spend_in_area=("share", "sum"),
    ).reset_index()
    out = out[out["n_partners"] >= min_partners]
    keep = pairs.set_index(["area_code", "theme"]).index.isin(out.set_index(["area_code", "theme"]).index)
    chosen = pairs[keep]
    text = chosen.groupby(["area_code", "theme"], sort=False).agg(
        partners=("partner", lambda s: "; ".join(sorted(set(s)))),
        service_ids=("service_id", lambda s: "; ".join(s)),
    )
    out = out.merge(text.reset_index(), on=["area_code", "theme"], how="left")
    columns = ["area_code", "theme", "n_partners", "partners", "n_services", "service_ids"]
    if spend is not None:
        columns += ["spend_total", "spend_in_area"]
    out = out.sort_values(
        ["theme", "n_partners", "n_services", "area_code"],
        ascending=[True, False, False, True],
        kind="stable",
    )[columns].reset_index(drop=True)
    out = out.rename(columns={"theme": theme})
    out.attrs["needskit_duplication"] = {
        "catchment": "table of areas" if isinstance(catchment, pd.DataFrame) else f"radius {catchment}",
        "match_on": theme,
        "min_partners": min_partners,
        "services_without_catchment": info.loc[info["n_areas"] == 0, "service_id"].tolist(),
    }
    return out


def duplicate_pairs(
    services: pd.DataFrame,
    *,
    catchment: pd.DataFrame | float | str,
    theme: str = "theme",
    partner: str = "partner",
    service_id: str = "service_id",
    spend: str | None = None,
    area: str = "area_code",
    catchment_area: str = "area_code",
    areas: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Pairs of services of different partners, matching on ``theme``, whose catchments overlap.

    Parameters
    ----------
    services, catchment, theme, partner, service_id, spend, area, catchment_area, areas
        As :func:`duplication`.

    Returns
    -------
    DataFrame, one row per overlapping pair (each pair once, ``service_a`` < ``service_b``),
    sorted by theme, descending ``overlap_share``, then ``shared_areas``: the ``theme`` column
    (named as the argument),
    ``service_a``, ``partner_a``, ``service_b``, ``partner_b``, ``shared_areas``, ``areas_a``,
    ``areas_b``, ``overlap_share`` (shared areas / the smaller catchment: 1 when one catchment
    lies inside the other), and with ``spend``: ``spend_a``, ``spend_b``.

    Raises
    ------
    SchemaError, GeographyError
        As :func:`duplication`.

    Notes
    -----
    Shared areas for every pair come from one sparse product of the service × area incidence
    matrix with itself (``M Mᵀ``), per theme.

    Examples
    --------
    >>> duplicate_pairs(reg.services, catchment=reg.catchments, theme="service_type")  # doctest: +SKIP
    """
    pairs, info = _covered(
        services,
        catchment=catchment,
        theme=theme,
        partner=partner,
        service_id=service_id,
        spend=spend,
        area=area,
        catchment_area=catchment_area,
        areas=areas,
    )
    info = info.assign(_sid=info["service_id"].astype(str))
    position = pd.Series(np.arange(len(info)), index=info["service_id"])
    area_codes, area_index = np.unique(pairs["area_code"].to_numpy(dtype=str), return_inverse=True)
    rows = position.loc[pairs["service_id"]].to_numpy()
    incidence = sparse.csr_matrix(
        (np.ones(len(pairs)), (rows, area_index)), shape=(len(info), max(len(area_codes), 1))
    )
    same_theme = info["theme"].to_numpy()
    shared = (incidence @ incidence.T).tocoo()
    i, j, n = shared.row, shared.col, shared.data
    sid = info["_sid"].to_numpy()
    partners = info["partner"].to_numpy()
    keep = (sid[i] < sid[j]) & (same_theme[i] == same_theme[j]) & (partners[i] != partners[j]) & (n > 0)
    i, j, n = i[keep], j[keep], n[keep]
    sizes = info["n_areas"].to_numpy()
    out = pd.DataFrame(
        {
            "theme": same_theme[i],
            "service_a": info["service_id"].to_numpy()[i],
            "partner_a": partners[i],
            "service_b": info["service_id"].to_numpy()[j],
            "partner_b": partners[j],
            "shared_areas": n.astype(int),
            "areas_a": sizes[i],
            "areas_b": sizes[j],
        }
    )
    out["overlap_share"] = out["shared_areas"] / np.minimum(out["areas_a"], out["areas_b"])
    if spend is not None:
        out["spend_a"] = info["spend"].to_numpy()[i]
        out["spend_b"] = info["spend"].to_numpy()[j]
    out = out.sort_values(
        ["theme", "overlap_share", "shared_areas", "service_a", "service_b"],
        ascending=[True, False, False, True, True],
        kind="stable",
    ).reset_index(drop=True)
    return out.rename(columns={"theme": theme})


def _covered(
    services: pd.DataFrame,
    *,
    catchment: Any,
    theme: str,
    partner: str,
    service_id: str,
    spend: str | None,
    area: str,
    catchment_area: str,
    areas: gpd.GeoDataFrame | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    require_frame(services, name="services")
    require_columns(services, [service_id, theme, partner], argument="service_id/theme/partner")
    if spend is not None:
        require_columns(services, [spend], argument="spend")
        require_numeric(services, [spend])
        require_non_negative(services, [spend])
    for column in (theme, partner):
        if services[column].isna().any():
            raise SchemaError(
                "has missing values", where=f"column {column!r}", expected="a value for every service"
            )
    pairs = _incidence(
        services,
        catchment=catchment,
        service_id=service_id,
        area=area,
        catchment_area=catchment_area,
        areas=areas,
    )
    info = pd.DataFrame(
        {
            "service_id": services[service_id].to_numpy(),
            "theme": services[theme].astype(str).to_numpy(),
            "partner": services[partner].astype(str).to_numpy(),
            "spend": services[spend].to_numpy(dtype=float, na_value=np.nan) if spend else np.nan,
        }
    )
    size = pairs.groupby("service_id").size()
    info["n_areas"] = info["service_id"].map(size).fillna(0).astype(int)
    pairs = pairs.merge(info, on="service_id", how="left")
    return pairs, info


def _incidence(
    services: pd.DataFrame,
    *,
    catchment: pd.DataFrame | float | str,
    service_id: str,
    area: str,
    catchment_area: str,
    areas: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    """(service_id, area_code) pairs: which areas each service's catchment covers."""
    ids = services[service_id]
    if ids.isna().any() or ids.duplicated().any():
        raise SchemaError(
            "has missing or repeated service ids",
            where=f"column {service_id!r}",
            expected="one row per service",
            got=describe_values(ids[ids.isna() | ids.duplicated(keep=False)].astype(str).tolist()),
        )
    if isinstance(catchment, pd.DataFrame):
        require_columns(catchment, [service_id, catchment_area], argument="catchment columns")
        pairs = catchment[[service_id, catchment_area]].dropna().drop_duplicates()
        unknown = ~pairs[service_id].isin(ids)
        if unknown.any():
            raise SchemaError(
                "names services that are not in the services frame",
                where="catchment",
                expected="service ids of `services`",
                got=describe_values(pairs.loc[unknown, service_id].tolist()),
                hint="filter the catchments to the services you pass",
            )
        return pd.DataFrame(
            {
                "service_id": pairs[service_id].to_numpy(),
                "area_code": pairs[catchment_area].astype(str).to_numpy(),
            }
        )
    # buffers: a radius in metres, one for all or a column of radii
    if not isinstance(services, gpd.GeoDataFrame):
        raise GeographyError(
            "is not a GeoDataFrame",
            where="services",
            expected="service points (EPSG:27700) when the catchment is a radius",
            got=type(services).__name__,
            hint="build them with needskit.resources.service_points, or pass catchments as a table of areas",
        )
    if isinstance(catchment, str):
        require_columns(services, [catchment], argument="catchment")
        require_numeric(services, [catchment], allow_missing=False)
        radii = services[catchment].to_numpy(dtype=float)
    elif isinstance(catchment, int | float | np.number) and not isinstance(catchment, bool):
        radii = np.full(len(services), float(catchment))
    else:
        raise SchemaError(
            "is not a catchment",
            where="catchment",
            expected="a table of (service, area) rows, a radius in metres, or a column of radii",
            got=type(catchment).__name__,
        )
    if not np.isfinite(radii).all() or (radii <= 0).any():
        raise SchemaError(
            "is not a positive distance", where="catchment", expected="metres > 0", got=repr(catchment)
        )

    sx, sy = point_coordinates(services, argument="services")
    if areas is None:
        raise GeographyError(
            "needs the areas a radius catchment covers",
            where="areas",
            expected="areas (points or polygons with 'area_code', EPSG:27700) when the catchment is a radius",
            got="None",
            hint="pass areas=needskit.place.load_areas('lsoa', geography=...)",
        )
    if not isinstance(areas, gpd.GeoDataFrame) or "area_code" not in areas.columns:
        raise GeographyError("is not a GeoDataFrame with an 'area_code' column", where="areas")
    if areas.crs is None or not areas.crs.equals(services.crs):
        raise GeographyError(
            "is not in the services' CRS",
            where="areas",
            expected=str(services.crs),
            got=str(areas.crs),
            hint="reproject with .to_crs('EPSG:27700')",
        )
    geoms = areas.geometry
    points = geoms if (geoms.geom_type == "Point").all() else geoms.representative_point()
    tree = cKDTree(np.column_stack([points.x.to_numpy(), points.y.to_numpy()]))
    hits = tree.query_ball_point(np.column_stack([sx, sy]), r=radii)
    lengths = np.fromiter((len(h) for h in hits), dtype=int, count=len(hits))
    flat = np.concatenate([np.asarray(h, dtype=int) for h in hits]) if lengths.sum() else np.zeros(0, int)
    pairs = pd.DataFrame(
        {
            "service_id": np.repeat(ids.to_numpy(), lengths),
            "area_code": areas["area_code"].astype(str).to_numpy()[flat],
        }
    )
    if area in services.columns:  # a service always serves the area it stands in
        own = pd.DataFrame(
            {"service_id": ids.to_numpy(), "area_code": services[area].astype("string").to_numpy()}
        )
        pairs = pd.concat([pairs, own.dropna()], ignore_index=True).drop_duplicates()
    return pairs
