"""The resource register: partners' services, spend by area and catchments, with residents.

The pipeline pools every catalogue dataset with a ``register:`` block (the real NHS GP practices
and pharmacies of the ODS extracts, a partnership's own services, spend and catchments) and
keeps their located rows in the store; :func:`build_register` makes a :class:`ResourceRegister`
of them for the resource-map and commissioning reports. :func:`service_points` locates a
register of one's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from needskit._checks import (
    BNG,
    require_columns,
    require_frame,
    require_non_negative,
    require_numeric,
    require_unique_ids,
)
from needskit.config.catalog import THEMES
from needskit.errors import GeographyError, SchemaError, describe_values
from needskit.place.geography import Geography
from needskit.place.points import assign_points

__all__ = [
    "ResourceRegister",
    "build_register",
    "service_points",
    "REGISTER_COLUMNS",
    "ILLUSTRATIVE_NOTE",
    "NO_LIST_SIZE_NOTE",
    "NO_REGISTER_NOTE",
]

ILLUSTRATIVE_NOTE = (
    "ILLUSTRATIVE: some services, spend or catchments in this register are made up "
    "(flagged in the data); they describe no real service."
)
"""The line every output built on an illustrative register must carry."""

NO_LIST_SIZE_NOTE = (
    "NHS ODS extracts (epraccur, edispensary) carry no registered-list size or opening hours: "
    "GP practice and pharmacy capacity is missing."
)

NO_REGISTER_NOTE = (
    "The partnership has no register of its own services yet: only the national NHS registers "
    "(GP practices, pharmacies) are used. To add partners' services, spend or catchments, drop their "
    "files into data/raw/partner/ and list them in conf/catalog.yml as datasets with a register: "
    "block, then run `needskit run`."
)

REGISTER_COLUMNS: dict[str, str] = {
    "service_id": "unique id of the service (ODS code for NHS services)",
    "name": "name of the service",
    "service_type": "kind of service (childrens_centre, library, gp_practice ...)",
    "partner": "organisation that provides or funds it",
    "partner_sector": "council, police, nhs, voluntary, central_government",
    "theme": "catalogue theme key (needskit.config.THEMES)",
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
coordinates are required; the others are optional."""


@dataclass(frozen=True)
class ResourceRegister:
    """Partners' assets and services, their spend by area, catchments and the residents to read them against.

    Attributes
    ----------
    services
        GeoDataFrame (EPSG:27700), one row per service point, :data:`REGISTER_COLUMNS` plus
        ``area_code`` (2021 LSOA), ``dataset``, ``sharing`` and point geometry.
    spend
        Area-level spend: ``ward_code``, ``ward_name``, ``district_code``, ``partner``,
        ``partner_sector``, ``theme``, ``financial_year``, ``spend_gbp``, ``illustrative``.
    catchments
        Service catchments as lists of areas, one row per service and area: ``service_id``,
        ``area_code`` (2021 LSOA), ``partner``, ``theme``, ``illustrative``.
    population
        Residents of the partnership's LSOAs: ``area_code``, ``age_group``, ``usual_residents``.
    notes
        What every output built on the register must say (illustrative data, missing list sizes,
        no register of the partnership's own).
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


def build_register(
    *,
    services: pd.DataFrame,
    spend: pd.DataFrame,
    catchments: pd.DataFrame,
    population: pd.DataFrame,
) -> ResourceRegister:
    """A :class:`ResourceRegister` from the store's register tables and residents.

    Parameters
    ----------
    services
        Located service rows (``service_id``, ``service_type``, ``partner``, ``theme``,
        ``easting``, ``northing``, ``area_code`` ...), as the pool keeps them.
    spend, catchments
        Spend by area and service catchments (may be empty).
    population
        Residents per LSOA: ``area_code``, ``age_group``, ``usual_residents``.

    Returns
    -------
    ResourceRegister with its notes: :data:`ILLUSTRATIVE_NOTE` when any row is made up,
    :data:`NO_LIST_SIZE_NOTE` when NHS services have no capacity, :data:`NO_REGISTER_NOTE` when
    every service is an NHS one.

    Raises
    ------
    SchemaError
        Missing register columns, repeated service ids, unknown themes.
    """
    require_frame(services, name="services")
    columns = ["service_id", "service_type", "partner", "theme", "easting", "northing", "area_code"]
    if len(services):
        require_columns(services, columns, argument="services")
        require_unique_ids(services["service_id"], argument="service_id")
        bad = ~services["theme"].isin(list(THEMES))
        if bad.any():
            raise SchemaError(
                "has values that are not catalogue themes",
                where="services column 'theme'",
                expected=f"one of {list(THEMES)}",
                got=describe_values(services.loc[bad, "theme"].tolist()),
            )
    frame = services if len(services) else pd.DataFrame(columns=columns)
    points = gpd.GeoDataFrame(
        frame.reset_index(drop=True),
        geometry=gpd.points_from_xy(
            pd.to_numeric(frame["easting"]), pd.to_numeric(frame["northing"]), crs=BNG
        ),
        crs=BNG,
    )
    if "illustrative" not in points.columns:
        points["illustrative"] = False
    spend = (
        spend
        if len(spend)
        else pd.DataFrame(columns=["ward_code", "partner", "theme", "spend_gbp", "illustrative"])
    )
    catchments = (
        catchments if len(catchments) else pd.DataFrame(columns=["service_id", "area_code", "illustrative"])
    )
    notes: list[str] = []
    register = ResourceRegister(
        services=points,
        spend=spend.reset_index(drop=True),
        catchments=catchments.reset_index(drop=True),
        population=population,
        notes=(),
    )
    if register.illustrative:
        notes.append(ILLUSTRATIVE_NOTE)
    nhs = points.get("partner_sector", pd.Series(dtype=object)).astype("string") == "nhs"
    if nhs.any():
        notes.append(NO_LIST_SIZE_NOTE)
    if len(points) == 0 or nhs.all():
        notes.append(NO_REGISTER_NOTE)
    return ResourceRegister(register.services, register.spend, register.catchments, population, tuple(notes))


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
    geography: Geography | None = None,
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
    level, vintage, geography, areas
        Where to assign the points (passed to :func:`needskit.place.assign_points`).

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
    >>> service_points(services, geography=geography).plot()  # doctest: +SKIP
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
                got=f"{int(df[column].isna().sum())} services, "
                f"e.g. {df.loc[df[column].isna(), service_id].tolist()[:5]}",
            )
    bad_theme = ~df[theme].isin(list(THEMES))
    if bad_theme.any():
        raise SchemaError(
            "has values that are not catalogue themes",
            where=f"column {theme!r}",
            expected=f"one of {list(THEMES)}",
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
    located = assign_points(
        df, x=x, y=y, crs=crs, level=level, vintage=vintage, geography=geography, areas=areas
    )
    geometry = gpd.points_from_xy(xs.to_numpy(float), ys.to_numpy(float), crs=crs)
    out = gpd.GeoDataFrame(located, geometry=geometry, crs=crs)
    if not CRS.from_user_input(crs).equals(BNG):
        out = out.to_crs(BNG)
    return out
