"""Access: how far residents are from services, and how much service is within their reach.

:func:`nearest_service` (straight-line distance from each area to its nearest service, per
type), :func:`two_step_fca` (two-step floating catchment accessibility: supply per person within
reach), :func:`population_weighted_centres` (an area's centre weighted by where its people live,
e.g. from postcode points) and :func:`lsoa_centres` (every LSOA's centre, from postcodes where it
has them). All distances are straight lines in metres in British National Grid (EPSG:27700).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from needskit._checks import (
    BNG,
    point_coordinates,
    require_columns,
    require_frame,
    require_non_negative,
    require_numeric,
    require_unique_ids,
)
from needskit.errors import GeographyError, NeedskitWarning, SchemaError, describe_values

__all__ = ["nearest_service", "gaussian_decay", "two_step_fca", "population_weighted_centres", "lsoa_centres"]

# ============================================================================================
# Access
# ============================================================================================


def nearest_service(
    origins: gpd.GeoDataFrame,
    *,
    services: gpd.GeoDataFrame,
    origin_code: str = "area_code",
    service_id: str = "service_id",
    service_type: str | None = None,
    k: int = 1,
    max_distance: float | None = None,
) -> pd.DataFrame:
    """Straight-line distance from each area's point to its nearest service(s), per service type.

    Parameters
    ----------
    origins
        Points, one per area (e.g. each LSOA's population-weighted centre, see
        :func:`population_weighted_centres`), in EPSG:27700. Not modified.
    services
        Service points (GP practices, pharmacies, libraries ...) in EPSG:27700. Not modified.
    origin_code
        Column of ``origins`` naming the areas (unique).
    service_id
        Column of ``services`` identifying each service (unique).
    service_type
        Column of ``services`` with the kind of service: the nearest of each kind is found.
    k
        How many nearest services to return per area (and type).
    max_distance
        Services further than this (metres) are not looked for; an area with none within it
        gets a missing ``service_id`` and ``distance_m``.

    Returns
    -------
    DataFrame, one row per area (per type, per rank), areas in input order: ``origin_code``,
    ``service_type`` (when given), ``rank`` (1 = nearest), ``service_id``, ``distance_m``.

    Raises
    ------
    GeographyError
        A frame without a CRS, in a geographic CRS (longitude/latitude) or another CRS than
        EPSG:27700, non-point or empty geometries.
    SchemaError
        Missing columns, repeated area codes or service ids, missing service types,
        ``k`` < 1, ``max_distance`` ≤ 0, no services.

    Notes
    -----
    A k-d tree (``scipy.spatial.cKDTree``) over the service points answers every area at once:
    O((n + m) log m). Distances are Euclidean in British National Grid metres, a straight line,
    not a road or travel-time distance. Equidistant services are returned in the tree's order.

    Examples
    --------
    >>> nearest_service(lsoa_centres, services=pharmacies, service_id="ods_code")  # doctest: +SKIP
    """
    ox, oy = point_coordinates(origins, argument="origins")
    sx, sy = point_coordinates(services, argument="services")
    require_columns(origins, [origin_code], argument="origin_code")
    require_columns(services, [service_id], argument="service_id")
    require_unique_ids(origins[origin_code], argument="origin_code")
    require_unique_ids(services[service_id], argument="service_id")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise SchemaError(
            "is not a usable number of services", where="k", expected="a whole number ≥ 1", got=repr(k)
        )
    if max_distance is not None and not (np.isfinite(max_distance) and max_distance > 0):
        raise SchemaError(
            "is not a positive distance",
            where="max_distance",
            expected="metres > 0, or None",
            got=repr(max_distance),
        )
    if len(services) == 0:
        raise SchemaError("has no services", where="services", expected="at least one service point")
    if service_type is not None:
        require_columns(services, [service_type], argument="service_type")
        types = services[service_type]
        if types.isna().any():
            raise SchemaError(
                "has missing values",
                where=f"column {service_type!r}",
                expected="a type for every service",
                got=f"{int(types.isna().sum())} services without one",
            )
        kinds = sorted(pd.unique(types), key=str)
        groups = [(kind, (types == kind).to_numpy()) for kind in kinds]
    else:
        groups = [(None, np.ones(len(services), dtype=bool))]

    origin_xy = np.column_stack([ox, oy])
    ids = services[service_id].reset_index(drop=True).array
    n = len(origins)
    pieces = []
    for kind, mask in groups:
        tree = cKDTree(np.column_stack([sx[mask], sy[mask]]))
        bound = np.inf if max_distance is None else float(max_distance)
        distance, index = tree.query(origin_xy, k=k, distance_upper_bound=bound)
        distance, index = distance.reshape(n, k), index.reshape(n, k)
        found = np.isfinite(distance)
        positions = np.flatnonzero(mask)
        global_index = np.where(found, positions[np.minimum(index, len(positions) - 1)], -1)
        piece = pd.DataFrame({origin_code: np.repeat(origins[origin_code].to_numpy(), k)})
        if service_type is not None:
            piece[service_type] = kind
        piece["rank"] = np.tile(np.arange(1, k + 1), n)
        piece["service_id"] = pd.api.extensions.take(ids, global_index.ravel(), allow_fill=True)
        piece["distance_m"] = np.where(found, distance, np.nan).ravel()
        piece["_origin"] = np.repeat(np.arange(n), k)
        pieces.append(piece)
    out = pd.concat(pieces, ignore_index=True)
    out = out.sort_values(["_origin"], kind="stable").drop(columns="_origin").reset_index(drop=True)
    return out


def gaussian_decay(distance: np.ndarray, catchment_m: float) -> np.ndarray:
    """Dai's (2010) Gaussian weight: 1 at the point, 0 at the edge of the catchment.

    w(d) = (exp(−½ (d/d₀)²) − exp(−½)) / (1 − exp(−½)) for d ≤ d₀, else 0.
    """
    d = np.asarray(distance, dtype=float) / float(catchment_m)
    edge = np.exp(-0.5)
    return np.where(d <= 1, (np.exp(-0.5 * d**2) - edge) / (1 - edge), 0.0)


def two_step_fca(
    origins: gpd.GeoDataFrame,
    *,
    services: gpd.GeoDataFrame,
    population: str,
    supply: str,
    catchment_m: float,
    decay: Literal["gaussian"] | Callable[[np.ndarray], np.ndarray] | None = None,
    origin_code: str = "area_code",
    service_id: str = "service_id",
) -> pd.DataFrame:
    """Two-step floating catchment accessibility: supply within reach per person, by area.

    Parameters
    ----------
    origins
        One point per area with its population (e.g. population-weighted LSOA centres), in
        EPSG:27700. Not modified.
    services
        Service points with their supply (GP FTEs, appointments, places) in EPSG:27700.
    population
        Column of ``origins`` with the people served (≥ 0).
    supply
        Column of ``services`` with the supply (≥ 0).
    catchment_m
        Catchment radius in metres (d₀): an area and a service reach each other when their
        straight-line distance is at most this.
    decay
        ``None`` (every pair within the catchment counts fully: the classic 2SFCA), ``"gaussian"``
        (:func:`gaussian_decay`, Dai 2010: weight falls from 1 at the service to 0 at d₀, as in
        enhanced 2SFCA) or a function of distances in metres returning weights ≥ 0.
    origin_code, service_id
        Columns naming areas and services (each unique).

    Returns
    -------
    DataFrame, one row per area in input order: ``origin_code``, ``population``,
    ``accessibility`` (supply per person, Aᵢ), ``accessibility_per_1000`` (Aᵢ × 1,000),
    ``services_in_catchment`` (services within d₀ with a positive weight).
    ``result.attrs["needskit_access"]`` records the catchment, the decay, ``supply_total``,
    ``supply_reached`` and ``unreached_services`` (ids of services no population reaches).

    Raises
    ------
    GeographyError
        As :func:`nearest_service`.
    SchemaError
        Missing, non-numeric, negative or missing population or supply; ``catchment_m`` ≤ 0;
        an unknown decay, or a decay function returning the wrong shape or negative values.

    Warns
    -----
    NeedskitWarning
        Services that no population reaches: their supply is in nobody's accessibility.

    Notes
    -----
    Step 1, for each service j: Rⱼ = Sⱼ / Σₖ Pₖ·w(dₖⱼ) over areas k with dₖⱼ ≤ d₀. Step 2, for
    each area i: Aᵢ = Σⱼ Rⱼ·w(dᵢⱼ) over services with dᵢⱼ ≤ d₀; w ≡ 1 without decay (Luo and
    Wang 2003; with decay Luo and Qi 2009, Dai 2010). Supply is conserved: Σᵢ Pᵢ·Aᵢ = Σⱼ Sⱼ
    over the services some population reaches. The pairs within d₀ come from a k-d tree
    (``cKDTree.sparse_distance_matrix``) and both steps are sparse matrix products.

    Examples
    --------
    >>> two_step_fca(lsoa_centres, services=gps, population="residents", supply="gp_fte",
    ...              catchment_m=2_000, service_id="ods_code")  # doctest: +SKIP
    """
    ox, oy = point_coordinates(origins, argument="origins")
    sx, sy = point_coordinates(services, argument="services")
    require_columns(origins, [origin_code], argument="origin_code")
    require_columns(origins, [population], argument="population")
    require_columns(services, [service_id], argument="service_id")
    require_columns(services, [supply], argument="supply")
    require_numeric(origins, [population], allow_missing=False)
    require_numeric(services, [supply], allow_missing=False)
    require_non_negative(origins, [population])
    require_non_negative(services, [supply])
    require_unique_ids(origins[origin_code], argument="origin_code")
    require_unique_ids(services[service_id], argument="service_id")
    if (
        isinstance(catchment_m, bool)
        or not isinstance(catchment_m, int | float | np.number)
        or not np.isfinite(catchment_m)
        or catchment_m <= 0
    ):
        raise SchemaError(
            "is not a positive distance", where="catchment_m", expected="metres > 0", got=repr(catchment_m)
        )
    if decay is not None and decay != "gaussian" and not callable(decay):
        raise SchemaError(
            "is not a known decay",
            where="decay",
            expected="None, 'gaussian' or a function of distance",
            got=repr(decay),
        )

    n_o, n_s = len(origins), len(services)
    pop = origins[population].to_numpy(dtype=float)
    sup = services[supply].to_numpy(dtype=float)
    if n_s:
        pairs = cKDTree(np.column_stack([ox, oy])).sparse_distance_matrix(
            cKDTree(np.column_stack([sx, sy])), float(catchment_m), output_type="ndarray"
        )
        rows, cols, dist = pairs["i"], pairs["j"], pairs["v"]
    else:
        rows = cols = np.zeros(0, dtype=int)
        dist = np.zeros(0)
    weight = _decay_weights(dist, decay, float(catchment_m))
    keep = weight > 0
    w = sparse.csr_matrix((weight[keep], (rows[keep], cols[keep])), shape=(n_o, n_s))

    demand = w.T @ pop  # Σ_k P_k w(d_kj), per service
    reached = demand > 0
    ratio = np.divide(sup, demand, out=np.zeros(n_s), where=reached)
    access = w @ ratio

    out = pd.DataFrame({origin_code: origins[origin_code].to_numpy()})
    out["population"] = pop
    out["accessibility"] = access
    out["accessibility_per_1000"] = access * 1_000
    out["services_in_catchment"] = np.diff(w.indptr)
    unreached = services[service_id].to_numpy()[~reached]
    if len(unreached):
        warnings.warn(
            f"{len(unreached)} service(s) have no population within {catchment_m:g} m and count for nobody "
            f"({describe_values(unreached.tolist())}); "
            f"supply {sup[~reached].sum():g} of {sup.sum():g} is left out",
            NeedskitWarning,
            stacklevel=2,
        )
    out.attrs["needskit_access"] = {
        "method": "2SFCA" if decay is None else "E2SFCA",
        "catchment_m": float(catchment_m),
        "decay": decay if decay is None or isinstance(decay, str) else getattr(decay, "__name__", "custom"),
        "supply_total": float(sup.sum()),
        "supply_reached": float(sup[reached].sum()),
        "unreached_services": unreached.tolist(),
    }
    return out


def population_weighted_centres(
    points: gpd.GeoDataFrame,
    *,
    area_col: str,
    weight_col: str | None = None,
) -> gpd.GeoDataFrame:
    """The (weighted) mean position of the points in each area, e.g. postcodes per LSOA.

    Parameters
    ----------
    points
        Points assigned to areas (e.g. postcode centroids with their LSOA code and resident
        count), in a projected CRS. Not modified.
    area_col
        Column with each point's area.
    weight_col
        Column of weights (e.g. residents or addresses per postcode, ≥ 0); default equal weights.

    Returns
    -------
    GeoDataFrame, one row per area sorted by ``area_col``: ``area_col``, ``n_points``,
    ``weight`` (sum of weights; when ``weight_col`` is given), point geometry in the input CRS.

    Raises
    ------
    GeographyError
        No CRS or a geographic CRS, non-point or empty geometries, points without an area.
    SchemaError
        Missing columns; missing, non-numeric or negative weights.

    Warns
    -----
    NeedskitWarning
        Areas whose weights add up to zero: their centre is the unweighted mean of their points.

    Notes
    -----
    x̄ = Σ wᵢxᵢ / Σ wᵢ and ȳ likewise, per area, computed with ``np.bincount``. This is how ONS
    builds population-weighted centroids from smaller units (Output Area centroids weighted by
    population). The centre of a crescent-shaped area may lie outside it.

    Examples
    --------
    >>> population_weighted_centres(
    ...     postcodes, area_col="lsoa21_code", weight_col="residents"
    ... )  # doctest: +SKIP
    """
    x, y = point_coordinates(points, argument="points", require_bng=False)
    require_columns(points, [area_col], argument="area_col")
    areas = points[area_col]
    if areas.isna().any():
        raise GeographyError(
            "has points without an area",
            where=f"column {area_col!r}",
            expected="an area for every point",
            got=f"{int(areas.isna().sum())} points, e.g. rows {list(points.index[areas.isna()][:5])}",
            hint="assign the points first (geography.assign_points), or drop the unassigned ones",
        )
    if len(points) == 0:
        raise SchemaError("has no points", where="points", expected="one or more points")
    codes, uniques = pd.factorize(areas, sort=True)
    n_areas = len(uniques)
    counts = np.bincount(codes, minlength=n_areas)
    if weight_col is None:
        weights = np.ones(len(points))
    else:
        require_columns(points, [weight_col], argument="weight_col")
        require_numeric(points, [weight_col], allow_missing=False)
        require_non_negative(points, [weight_col])
        weights = points[weight_col].to_numpy(dtype=float)
    total = np.bincount(codes, weights=weights, minlength=n_areas)
    empty = total <= 0
    if empty.any():
        warnings.warn(
            f"{int(empty.sum())} area(s) have a total weight of zero; their centre is the plain mean "
            f"of their points ({describe_values(list(uniques[empty]))})",
            NeedskitWarning,
            stacklevel=2,
        )
        weights = np.where(empty[codes], 1.0, weights)
        total = np.bincount(codes, weights=weights, minlength=n_areas)
    cx = np.bincount(codes, weights=weights * x, minlength=n_areas) / total
    cy = np.bincount(codes, weights=weights * y, minlength=n_areas) / total
    data: dict[str, Any] = {area_col: np.asarray(uniques), "n_points": counts}
    if weight_col is not None:
        data["weight"] = np.bincount(
            codes, weights=points[weight_col].to_numpy(dtype=float), minlength=n_areas
        )
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(cx, cy), crs=points.crs)


def _decay_weights(distance: np.ndarray, decay: Any, catchment_m: float) -> np.ndarray:
    if decay is None:
        return np.ones(len(distance))
    if decay == "gaussian":
        return gaussian_decay(distance, catchment_m)
    weights = np.asarray(decay(distance.copy()), dtype=float)
    if weights.shape != distance.shape:
        raise SchemaError(
            "returned the wrong shape",
            where="decay",
            expected=f"{distance.shape} weights",
            got=f"shape {weights.shape}",
        )
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise SchemaError("returned negative or non-finite weights", where="decay", expected="weights ≥ 0")
    return weights


def lsoa_centres(lsoas: gpd.GeoDataFrame, *, postcodes: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """Where the people of each LSOA live: the mean position of its postcodes.

    Parameters
    ----------
    lsoas
        LSOA polygons (``area_code``, geometry) in EPSG:27700.
    postcodes
        A postcode directory (``easting``, ``northing`` in EPSG:27700; every postcode counted
        once), or None when the partnership has none.

    Returns
    -------
    GeoDataFrame (EPSG:27700), one row per LSOA sorted by code: ``area_code``, ``n_postcodes``,
    ``centre_method`` (``"postcode-weighted"``, or ``"representative point (no postcodes)"`` for
    an LSOA without postcode points) and point geometry.

    Notes
    -----
    The postcode mean stands in for a population-weighted centroid (see
    :func:`population_weighted_centres`).
    """
    from needskit.place.points import assign_points

    require_frame(lsoas, name="lsoas")
    require_columns(lsoas, ["area_code"], argument="lsoas")
    codes = lsoas["area_code"].astype(str).to_numpy()
    centres = None
    if postcodes is not None and len(postcodes):
        points = postcodes.dropna(subset=["easting", "northing"])
        located = assign_points(points, x="easting", y="northing", crs=BNG, areas=lsoas, tolerance=0)
        located = located[located["area_code"].notna()]
        if len(located):
            gdf = gpd.GeoDataFrame(
                located[["area_code"]],
                geometry=gpd.points_from_xy(
                    located["easting"].to_numpy(float), located["northing"].to_numpy(float)
                ),
                crs=BNG,
            )
            centres = population_weighted_centres(gdf, area_col="area_code").set_index("area_code")
    known = (
        np.isin(codes, centres.index.to_numpy()) if centres is not None else np.zeros(len(codes), dtype=bool)
    )
    fallback = lsoas.geometry.representative_point().to_numpy()
    geometry = (
        np.where(known, centres.geometry.reindex(codes).to_numpy(), fallback)
        if centres is not None
        else fallback
    )
    n_points = (
        centres["n_points"].reindex(codes).fillna(0).astype("int64").to_numpy() if centres is not None else 0
    )
    out = gpd.GeoDataFrame(
        {
            "area_code": codes,
            "n_postcodes": n_points,
            "centre_method": np.where(known, "postcode-weighted", "representative point (no postcodes)"),
        },
        geometry=gpd.GeoSeries(geometry, crs=BNG).to_numpy(),
        crs=BNG,
    )
    return out.sort_values("area_code", ignore_index=True)
