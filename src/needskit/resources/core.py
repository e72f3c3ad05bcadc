"""Resources: what a partnership has, where it is, and how far people are from it.

Sections
--------
- Access — :func:`nearest_service` (straight-line distance from each area to its nearest
  service, per type), :func:`two_step_fca` (two-step floating catchment accessibility: supply
  per person within reach) and :func:`population_weighted_centres` (an area's centre weighted
  by where its people live, e.g. from postcode points).
- Resource register — :func:`load_register` (partners' services, area spend and catchments:
  the real NHS GP practices and pharmacies plus the ILLUSTRATIVE council, police and voluntary
  register of ``data/raw/illustrative/``), :func:`service_points`, :func:`supply_per_head`.

All distances are straight lines in metres in British National Grid (EPSG:27700).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
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

__all__ = ["nearest_service", "two_step_fca", "population_weighted_centres", "gaussian_decay"]


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
            f"({describe_values(unreached.tolist())}); supply {sup[~reached].sum():g} of {sup.sum():g} is left out",
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
    >>> population_weighted_centres(postcodes, area_col="lsoa21_code", weight_col="residents")  # doctest: +SKIP
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
            f"{int(empty.sum())} area(s) have a total weight of zero; their centre is the plain mean of their points "
            f"({describe_values(list(uniques[empty]))})",
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


# ============================================================================================
# Resource register
# ============================================================================================

# Imports used only by this section (kept here so the section can be read on its own).
import dataclasses as _dataclasses  # noqa: E402
from pathlib import Path  # noqa: E402

from needskit.config.catalog import THEMES as _THEMES  # noqa: E402
from needskit.config.project import COUNTY_CODE as _COUNTY_CODE  # noqa: E402
from needskit.errors import DataError  # noqa: E402
from needskit.place import geography as _geo  # noqa: E402

__all__ += [
    "ResourceRegister",
    "load_register",
    "service_points",
    "supply_per_head",
    "nhs_services",
    "REGISTER_COLUMNS",
    "ILLUSTRATIVE_NOTE",
    "NO_LIST_SIZE_NOTE",
]

ILLUSTRATIVE_NOTE = (
    "ILLUSTRATIVE: the council, police, NHS-community and voluntary-sector services, spend and "
    "catchments are made up (scripts/build_illustrative_register.py); they describe no real service."
)
"""The line every output built on the shipped illustrative register must carry."""

NO_LIST_SIZE_NOTE = (
    "NHS ODS extracts (epraccur, edispensary) carry no registered-list size or opening hours: "
    "GP practice and pharmacy capacity is missing."
)

REGISTER_COLUMNS: dict[str, str] = {
    "service_id": "unique id of the service (ODS code for NHS services)",
    "name": "name of the service",
    "service_type": "kind of service (childrens_centre, library, gp_practice ...)",
    "partner": "organisation that provides or funds it",
    "partner_sector": "council, police, nhs, voluntary, central_government",
    "theme": "catalogue theme key (needskit.config.catalog.THEMES)",
    "postcode": "postcode of the service",
    "easting": "British National Grid easting (EPSG:27700), metres",
    "northing": "British National Grid northing (EPSG:27700), metres",
    "capacity": "capacity in capacity_unit (missing when unknown)",
    "capacity_unit": "what capacity counts (families registered, visits per week ...)",
    "opening_hours": "opening hours, OpenStreetMap syntax",
    "hours_per_week": "hours open per week",
    "annual_cost_gbp": "annual running cost, £",
    "source": "where the row comes from",
    "illustrative": "True for made-up rows",
}
"""The register's columns. ``service_id``, ``service_type``, ``partner``, ``theme`` and the
coordinates are required by :func:`service_points`; the others are optional."""

_ILLUSTRATIVE_FILES = {"services": "services.csv", "spend": "spend.csv", "catchments": "catchments.csv"}
_NHS_FILES = {"gp_practice": "nhs/epraccur.csv.gz", "pharmacy": "nhs/edispensary.csv.gz"}


@_dataclasses.dataclass(frozen=True)
class ResourceRegister:
    """Partners' assets and services, their spend by area, catchments and the residents to read them against.

    Attributes
    ----------
    services
        GeoDataFrame (EPSG:27700), one row per service point, :data:`REGISTER_COLUMNS` plus
        ``area_code`` (2021 LSOA), ``match`` and point geometry (see :func:`service_points`).
    spend
        Area-level spend: ``ward_code``, ``ward_name``, ``district_code``, ``partner``,
        ``partner_sector``, ``theme``, ``financial_year``, ``spend_gbp``, ``illustrative``.
    catchments
        Service catchments as lists of areas, one row per service and area: ``service_id``,
        ``area_code`` (2021 LSOA), ``partner``, ``theme``, ``illustrative``.
    population
        Census 2021 usual residents of the county's LSOAs: ``area_code``, ``age_group``,
        ``usual_residents``.
    notes
        What every output built on the register must say (illustrative data, missing list sizes,
        services dropped or outside the county).
    """

    services: gpd.GeoDataFrame
    spend: pd.DataFrame
    catchments: pd.DataFrame
    population: pd.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def illustrative(self) -> bool:
        """True when any service, spend or catchment row is illustrative (made up)."""
        return any(
            bool(frame["illustrative"].astype(bool).any())
            for frame in (self.services, self.spend, self.catchments)
            if "illustrative" in frame.columns and len(frame)
        )

    def residents(self, age_groups: str | list[str] | None = None) -> pd.Series:
        """Usual residents per LSOA (all ages, or the sum of the named Census age groups).

        Age groups are the Census 2021 six bands, e.g. ``"Aged 15 years and under"``,
        ``"Aged 65 years and over"``.
        """
        frame = self.population
        if age_groups is not None:
            wanted = [age_groups] if isinstance(age_groups, str) else list(age_groups)
            known = set(frame["age_group"])
            unknown = [a for a in wanted if a not in known]
            if unknown:
                raise SchemaError(
                    "names unknown age groups",
                    where="age_groups",
                    expected=f"some of {sorted(known)}",
                    got=repr(unknown),
                )
            frame = frame[frame["age_group"].isin(wanted)]
        return frame.groupby("area_code")["usual_residents"].sum().rename("population").astype(float)


def load_register(
    directory: str | Path | None = None,
    *,
    nhs: bool = True,
    keep_outside: bool = False,
    within: str = _COUNTY_CODE,
) -> ResourceRegister:
    """Read a resource register (by default the shipped illustrative one plus the real NHS services).

    The only function of the register section that reads files.

    Parameters
    ----------
    directory
        Folder holding ``services.csv``, ``spend.csv`` and ``catchments.csv`` in the shipped
        layout (see ``data/raw/illustrative/README.md``); default the shipped **illustrative**
        register in ``data/raw/illustrative/``.
    nhs
        Add the real NHS GP practices and dispensaries of the shipped ODS extracts (active,
        GL postcodes; GP practices with prescribing setting 4), geocoded with the shipped
        postcode directory, ``illustrative=False`` (see :func:`nhs_services`).
    keep_outside
        Keep NHS services whose postcode lies outside the county (GL postcodes reach into
        neighbouring counties), with a missing ``area_code``: useful for access near the border.
        By default they are dropped, as the pool drops them, and counted in ``notes``.
    within
        County (or district) code whose residents are read into ``population``.

    Returns
    -------
    ResourceRegister
        ``services`` (GeoDataFrame, EPSG:27700, with ``area_code``), ``spend``, ``catchments``
        (``lsoa21_code`` renamed ``area_code``), ``population`` and ``notes``.

    Raises
    ------
    DataError
        A register file is missing or lacks a required column.
    GeographyError
        ``within`` is not a county or district code.
    SchemaError
        As :func:`service_points` (repeated ids, unknown themes, negative capacity ...).

    Notes
    -----
    The shipped register is ILLUSTRATIVE (made up from real anchors by
    ``scripts/build_illustrative_register.py``); ``register.illustrative`` is then True and
    ``register.notes`` starts with :data:`ILLUSTRATIVE_NOTE`, which reports must print.

    Examples
    --------
    >>> register = load_register()  # doctest: +SKIP
    >>> register.services.groupby("service_type").size()  # doctest: +SKIP
    """
    from needskit.config.project import data_dir
    from needskit.partner_data.ingest import ods

    folder = Path(directory) if directory is not None else data_dir() / "raw" / "illustrative"
    frames: dict[str, pd.DataFrame] = {}
    for key, name in _ILLUSTRATIVE_FILES.items():
        path = folder / name
        if not path.exists():
            raise DataError(
                "register file is missing",
                where=str(path),
                expected=f"{', '.join(_ILLUSTRATIVE_FILES.values())} in {folder}",
                hint="rebuild the shipped one with `python scripts/build_illustrative_register.py`",
            )
        frames[key] = pd.read_csv(
            path,
            dtype={
                "postcode": "string",
                "district_code": "string",
                "ward_code": "string",
                "lsoa21_code": "string",
                "lsoa": "string",
                "service_id": "string",
            },
        )
    needed = {
        "services": ["service_id", "service_type", "partner", "theme", "easting", "northing"],
        "spend": ["ward_code", "partner", "theme", "spend_gbp"],
        "catchments": ["service_id", "lsoa21_code"],
    }
    for key, columns in needed.items():
        missing = [c for c in columns if c not in frames[key].columns]
        if missing:
            raise DataError(
                "lacks register columns",
                where=str(folder / _ILLUSTRATIVE_FILES[key]),
                expected=f"columns {columns}",
                got=f"missing {missing}",
            )
    for frame in frames.values():
        if "illustrative" not in frame.columns:
            frame["illustrative"] = False
    services = frames["services"].drop(columns=[c for c in ("lsoa",) if c in frames["services"]])
    if "source" not in services.columns:
        services["source"] = "illustrative register"
    notes: list[str] = []
    if services["illustrative"].astype(bool).any():
        notes.append(ILLUSTRATIVE_NOTE)
    if nhs:
        pieces = []
        for service_type, relative in _NHS_FILES.items():
            path = data_dir() / "raw" / relative
            if not path.exists():
                raise DataError("shipped NHS extract is missing", where=str(path), hint="run make data-build")
            pieces.append(nhs_services(ods.read(path, {}), service_type=service_type))
        extra = pd.concat(pieces, ignore_index=True)
        located = _geo.geocode_postcodes(extra, postcode_col="postcode")
        lost = located["postcode_status"] != "found"
        if lost.any():
            notes.append(
                f"{int(lost.sum())} NHS service(s) dropped: postcode not located "
                f"({describe_values(located.loc[lost, 'service_id'].tolist())})"
            )
        located = located[~lost].drop(columns=["postcode_clean", "postcode_status"])
        services = pd.concat([services, located], ignore_index=True)
        notes.append(NO_LIST_SIZE_NOTE)
    points = service_points(services)
    outside = points["area_code"].isna()
    if outside.any():
        if keep_outside:
            notes.append(f"{int(outside.sum())} service(s) lie outside the county and have no area_code")
        else:
            notes.append(
                f"{int(outside.sum())} service(s) outside the county dropped "
                f"({describe_values(points.loc[outside, 'service_id'].tolist())})"
            )
            points = points[~outside].reset_index(drop=True)

    residents_path = data_dir() / "raw" / "census" / "census2021_lsoa21_age6_usual_residents.csv.gz"
    residents = pd.read_csv(residents_path, dtype={"lsoa21_code": "string"})
    table = _geo.hierarchy(vintage=2021)
    levels = [lv for lv in ("county", "district") if (table[lv] == within).any()]
    if not levels:
        raise GeographyError("is not a county or district code", where=f"within={within!r}", got=repr(within))
    keep = set(table.loc[table[levels[0]] == within, "lsoa"])
    residents = residents[residents["lsoa21_code"].isin(keep)]
    population = residents.rename(columns={"lsoa21_code": "area_code"})[
        ["area_code", "age_group", "usual_residents"]
    ]

    catchments = frames["catchments"].rename(columns={"lsoa21_code": "area_code"})
    return ResourceRegister(
        services=points,
        spend=frames["spend"],
        catchments=catchments,
        population=population.reset_index(drop=True),
        notes=tuple(notes),
    )


def nhs_services(df: pd.DataFrame, *, service_type: str) -> pd.DataFrame:
    """Rows of an NHS ODS standard extract (``epraccur``, ``edispensary``) as register rows.

    Parameters
    ----------
    df
        The extract as read by :func:`needskit.partner_data.ingest.ods.read` (``organisation_code``,
        ``name``, ``postcode``, ``status_code``, ``prescribing_setting`` ...). Not modified.
    service_type
        ``"gp_practice"`` (keeps prescribing setting 4, GP practices) or ``"pharmacy"``.

    Returns
    -------
    DataFrame in the register's columns (:data:`REGISTER_COLUMNS` without coordinates):
    active organisations with a GL postcode only; ``partner`` ``"NHS primary care"``,
    ``partner_sector`` ``"nhs"``, ``theme`` ``"health_older_people"``, ``capacity`` missing
    (``capacity_unit`` says why), ``illustrative`` False.

    Raises
    ------
    SchemaError
        Missing ODS columns or an unknown ``service_type``.

    Notes
    -----
    The ODS standard extracts carry **no registered-list size** (NHS Digital publishes
    "Patients registered at a GP practice" separately); GP capacity is therefore missing, and
    supply is best counted as practices, or taken from that publication.
    """
    require_frame(df)
    kinds = {"gp_practice": "NHS ODS epraccur", "pharmacy": "NHS ODS edispensary"}
    if service_type not in kinds:
        raise SchemaError(
            "is not a known NHS service type",
            where="service_type",
            expected=f"one of {list(kinds)}",
            got=repr(service_type),
        )
    needed = ["organisation_code", "name", "postcode", "status_code"] + (
        ["prescribing_setting"] if service_type == "gp_practice" else []
    )
    require_columns(df, needed, argument="ODS columns")
    keep = (df["status_code"].astype("string") == "A") & df["postcode"].astype("string").str.startswith(
        "GL"
    ).fillna(False)
    if service_type == "gp_practice":
        keep &= df["prescribing_setting"].astype("string").str.strip() == "4"
    rows = df[keep.to_numpy(dtype=bool)]
    out = pd.DataFrame(
        {
            "service_id": rows["organisation_code"].astype("string").to_numpy(),
            "name": rows["name"].astype("string").str.title().to_numpy(),
            "service_type": service_type,
            "partner": "NHS primary care",
            "partner_sector": "nhs",
            "theme": "health_older_people",
            "postcode": rows["postcode"].astype("string").to_numpy(),
            "capacity": np.nan,
            "capacity_unit": "registered patients (not in the ODS extract)"
            if service_type == "gp_practice"
            else "not in the ODS extract",
            "source": kinds[service_type],
            "illustrative": False,
        }
    )
    return out


def service_points(
    df: pd.DataFrame,
    *,
    x: str = "easting",
    y: str = "northing",
    crs: Any = "EPSG:27700",
    service_id: str = "service_id",
    service_type: str = "service_type",
    partner: str = "partner",
    theme: str = "theme",
    level: str = "lsoa",
    vintage: int = 2021,
    areas: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Register rows → service points in EPSG:27700, each with the area it lies in.

    Parameters
    ----------
    df
        One row per service with coordinates and at least ``service_id``, ``service_type``,
        ``partner`` and ``theme`` (see :data:`REGISTER_COLUMNS`). Not modified.
    x, y, crs
        Coordinate columns and their CRS (eastings/northings in EPSG:27700 by default).
    service_id, service_type, partner, theme
        Column names. ``theme`` values must be catalogue theme keys.
    level, vintage, areas
        Where to assign the points (passed to :func:`needskit.place.geography.assign_points`).

    Returns
    -------
    GeoDataFrame (EPSG:27700), same rows and order: the input columns plus ``area_code``
    (missing for a point outside every area), ``match`` (``within`` / ``nearest`` /
    ``unmatched``) and point geometry.

    Raises
    ------
    SchemaError
        Missing columns, repeated or missing service ids, unknown themes, negative or
        non-numeric ``capacity``, ``hours_per_week`` or ``annual_cost_gbp``, an existing
        ``area_code``/``match`` column.
    GeographyError
        Services without coordinates (geocode or drop them first), or coordinates that do not
        fit ``crs``.

    Notes
    -----
    Point-in-polygon through :func:`needskit.place.geography.assign_points` (STRtree, boundary
    points to the lowest code, a 100 m tolerance for points just outside).

    Examples
    --------
    >>> services = pd.read_csv("data/raw/illustrative/services.csv")  # doctest: +SKIP
    >>> service_points(services.drop(columns="lsoa")).plot()  # doctest: +SKIP
    """
    require_frame(df)
    require_columns(df, [service_id, service_type, partner, theme], argument="register columns")
    require_columns(df, [x, y], argument="x/y")
    require_unique_ids(df[service_id], argument="service_id")
    for column in (service_type, partner, theme):
        if df[column].isna().any():
            raise SchemaError(
                "has missing values",
                where=f"column {column!r}",
                expected="a value for every service",
                got=f"{int(df[column].isna().sum())} services, e.g. {df.loc[df[column].isna(), service_id].tolist()[:5]}",
            )
    bad_theme = ~df[theme].isin(list(_THEMES))
    if bad_theme.any():
        raise SchemaError(
            "has values that are not catalogue themes",
            where=f"column {theme!r}",
            expected=f"one of {list(_THEMES)}",
            got=describe_values(df.loc[bad_theme, theme].tolist()),
        )
    numeric = [c for c in ("capacity", "hours_per_week", "annual_cost_gbp") if c in df.columns]
    require_numeric(df, numeric)
    require_non_negative(df, numeric)
    xs = pd.to_numeric(df[x], errors="coerce")
    ys = pd.to_numeric(df[y], errors="coerce")
    unlocated = xs.isna() | ys.isna()
    if unlocated.any():
        raise GeographyError(
            "has services without coordinates",
            where=f"x={x!r}, y={y!r}",
            expected="coordinates for every service",
            got=f"{int(unlocated.sum())} services, e.g. {df.loc[unlocated, service_id].tolist()[:5]}",
            hint="geocode postcodes first (geography.geocode_postcodes), or drop the unlocated rows",
        )
    located = _geo.assign_points(df, x=x, y=y, crs=crs, level=level, vintage=vintage, areas=areas)
    geometry = gpd.points_from_xy(xs.to_numpy(float), ys.to_numpy(float), crs=crs)
    out = gpd.GeoDataFrame(located, geometry=geometry, crs=crs)
    if not CRS.from_user_input(crs).equals(BNG):
        out = out.to_crs(BNG)
    return out


def supply_per_head(
    df: pd.DataFrame,
    *,
    population: pd.Series | pd.DataFrame,
    value: str | None = None,
    area: str = "area_code",
    by: str | list[str] | None = None,
    to: str | None = None,
    from_level: str | None = None,
    vintage: int = 2021,
    population_col: str = "population",
) -> pd.DataFrame:
    """Capacity, spend or number of services per head and per 1,000 residents, by area.

    Parameters
    ----------
    df
        Services (one row each, e.g. ``register.services``) or area-level spend/activity (one row
        per area and key, e.g. ``register.spend``), with an area code column. Not modified.
    population
        The relevant population, e.g. Census 2021 usual residents (or children, or people
        aged 65+) by LSOA: a Series indexed by area code, or a DataFrame with ``area`` and
        ``population_col``. Its areas define the output's areas, so pass the study area's
        population only (e.g. ``register.residents()``), not England's.
    value
        Column to add up (``capacity``, ``annual_cost_gbp``, ``spend_gbp``); ``None`` counts rows
        (services). When a ``<value>_unit`` column exists (``capacity_unit``), every group must
        have one unit.
    area
        Column of ``df`` with the area codes.
    by
        Columns to keep apart (``theme``, ``service_type``, ``partner`` ...).
    to
        Level to aggregate both supply and population to (``"ward"``, ``"district"`` ...), through
        :func:`needskit.place.geography.aggregate`; ``None`` keeps the codes as they are (then
        population must use the same codes).
    from_level, vintage
        Level of the codes (inferred when omitted) and LSOA vintage, for ``to``.
    population_col
        Value column of a population DataFrame.

    Returns
    -------
    DataFrame, one row per area (every area of the population, at ``to`` when given) and ``by``
    group present in ``df``, sorted by area then group: ``area_code`` (whatever ``area`` was
    called), ``area_name`` and ``level`` (when ``to`` is given), the ``by`` columns,
    ``n_records`` (rows of ``df``: services, for a register), ``supply`` (sum of ``value``; the
    row count when ``value`` is None), ``n_missing`` (rows whose ``value`` is
    missing, not in ``supply``; with ``value``), ``population``, ``supply_per_head``
    (supply / population) and ``supply_per_1000``. Areas without supply have 0, not a gap in
    the table; areas with no population have missing rates.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, negative values, a group mixing units, areas of ``df``
        that the population does not cover, a population repeating areas.
    GeographyError
        Codes that are not of the level or vintage, or a ``to`` below the data's level.

    Warns
    -----
    NeedskitWarning
        Rows without an area (outside every area) or with a missing ``value`` are left out of
        ``supply`` and counted.

    Notes
    -----
    supply_per_1000 = 1,000 × Σ value / Σ population over the area's parts (a ratio of sums, not
    a mean of rates). For spend this is £ per 1,000 residents; ``supply_per_head`` is £ per
    resident. Crude: no age standardisation, and people use services outside their own area
    (see :func:`two_step_fca` for supply within reach).

    Examples
    --------
    >>> reg = load_register()  # doctest: +SKIP
    >>> supply_per_head(reg.services, population=reg.residents(), by="theme", to="district")  # doctest: +SKIP
    >>> supply_per_head(reg.spend, population=reg.residents(), value="spend_gbp", area="ward_code",
    ...                 by="theme")  # doctest: +SKIP
    """
    require_frame(df)
    by_cols = [by] if isinstance(by, str) else list(by or [])
    require_columns(df, [area, *by_cols], argument="area/by")
    frame = pd.DataFrame(df.drop(columns="geometry") if isinstance(df, gpd.GeoDataFrame) else df)
    if value is not None:
        require_columns(frame, [value], argument="value")
        require_numeric(frame, [value])
        require_non_negative(frame, [value])
        unit = f"{value}_unit"
        if unit in frame.columns:
            units = (
                frame.groupby(by_cols, dropna=False)[unit].nunique()
                if by_cols
                else pd.Series([frame[unit].nunique()])
            )
            if (units > 1).any():
                raise SchemaError(
                    f"adds up {value!r} in different units",
                    where=f"column {unit!r}",
                    expected="one unit per group",
                    got=f"{sorted(frame[unit].dropna().unique().tolist())[:5]}",
                    hint="group by service_type (by='service_type'), or select one kind of service",
                )
    pop = _population_series(population, area=area, population_col=population_col)

    no_area = frame[area].isna()
    if no_area.any():
        warnings.warn(
            f"{int(no_area.sum())} row(s) have no area (outside every area) and are left out",
            NeedskitWarning,
            stacklevel=2,
        )
        frame = frame[~no_area]
    work = frame[[area, *by_cols]].copy()
    work["n_records"] = 1
    if value is not None:
        values = pd.to_numeric(frame[value]).astype(float)
        work["supply"] = values.fillna(0.0).to_numpy()
        work["n_missing"] = values.isna().astype(int).to_numpy()
        if work["n_missing"].any():
            warnings.warn(
                f"{int(work['n_missing'].sum())} row(s) have no {value!r}; they are counted in n_records "
                "and n_missing but not in supply",
                NeedskitWarning,
                stacklevel=2,
            )
    else:
        work["supply"] = 1.0
    sums = ["n_records", "supply"] + (["n_missing"] if value is not None else [])
    grouped = work.groupby([area, *by_cols], dropna=False, as_index=False)[sums].sum()

    pop_frame = pd.DataFrame({area: pop.index.astype("string"), "population": pop.to_numpy(float)})
    if to is not None:
        data_level = from_level or _geo.infer_level(grouped[area], vintage=vintage)
        pop_level = _geo.infer_level(pop_frame[area], vintage=vintage)
        for name, lvl in (("df", data_level), ("population", pop_level)):
            if _geo.LEVELS.index(lvl) > _geo.LEVELS.index(to):
                raise GeographyError(
                    f"{name} is at {lvl} level, above to={to!r}",
                    where="to",
                    expected=f"a level at or above {lvl!r}",
                    got=repr(to),
                    hint="supply cannot be split down the hierarchy; use geography.apportion",
                )
        if data_level != to:
            grouped = _geo.aggregate(
                grouped,
                to=to,
                code_col=area,
                value_cols=sums,
                vintage=vintage,
                from_level=data_level,
                by=by_cols,
            ).drop(columns=["area_name", "level"])
        if pop_level != to:
            pop_frame = _geo.aggregate(
                pop_frame,
                to=to,
                code_col=area,
                value_cols="population",
                vintage=vintage,
                from_level=pop_level,
                by=[],
            )[[area, "population"]]
    grouped[area] = grouped[area].astype("string")
    pop_frame[area] = pop_frame[area].astype("string")

    unknown = ~grouped[area].isin(pop_frame[area])
    if unknown.any():
        raise SchemaError(
            "has areas the population does not cover",
            where=f"df column {area!r}",
            expected="a population for every area with supply",
            got=describe_values(grouped.loc[unknown, area].tolist()),
            hint="pass the population of every area, at the same level (or give to=)",
        )
    groups = grouped[by_cols].drop_duplicates() if by_cols else pd.DataFrame(index=[0])
    full = pop_frame[[area]].merge(groups, how="cross") if by_cols else pop_frame[[area]]
    out = full.merge(grouped, on=[area, *by_cols], how="left")
    for column in sums:
        out[column] = out[column].fillna(0).astype(float if column == "supply" else "int64")
    out = out.merge(pop_frame, on=area, how="left")
    people = out["population"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_head = np.where(people > 0, out["supply"].to_numpy(float) / people, np.nan)
    out["supply_per_head"] = per_head
    out["supply_per_1000"] = per_head * 1_000
    out = out.rename(columns={area: "area_code"})
    if to is not None:
        names = _area_names(to, vintage)
        out.insert(1, "area_name", out["area_code"].map(names).astype("string"))
        out.insert(2, "level", to)
    return out.sort_values(["area_code", *by_cols], kind="stable").reset_index(drop=True)


def _population_series(population: Any, *, area: str, population_col: str) -> pd.Series:
    if isinstance(population, pd.DataFrame):
        require_columns(population, [area], argument="population area column")
        require_columns(population, [population_col], argument="population_col")
        series = pd.Series(population[population_col].to_numpy(), index=population[area].to_numpy())
    elif isinstance(population, pd.Series):
        series = population
    else:
        raise SchemaError(
            "is not a Series or DataFrame",
            where="population",
            expected="residents by area: a Series indexed by area code, or a DataFrame",
            got=type(population).__name__,
        )
    if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        raise SchemaError(
            "is not numeric", where="population", expected="numbers", got=f"dtype {series.dtype}"
        )
    values = series.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(values).any() or (values < 0).any():
        raise SchemaError(
            "has missing or negative values",
            where="population",
            expected="0 or more residents for every area",
            got=f"{int(np.isnan(values).sum())} missing, {int((values < 0).sum())} negative",
        )
    if series.index.has_duplicates or series.index.hasnans:
        raise SchemaError(
            "repeats areas or has missing area codes",
            where="population",
            expected="one value per area",
            got=describe_values(series.index[series.index.duplicated()].tolist()),
            hint="add the age groups up per area first (groupby(area).sum())",
        )
    return series


def _area_names(level: str, vintage: int) -> pd.Series:
    table = _geo.hierarchy(vintage=vintage)
    if level not in table.columns:
        return pd.Series(dtype="string")
    return table[[level, f"{level}_name"]].drop_duplicates(level).set_index(level)[f"{level}_name"]
