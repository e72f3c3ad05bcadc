"""Maps for reports: one choropleth, two renderings (interactive folium in HTML, static in PDF).

A report map must work in two places. In the HTML report it is an interactive Leaflet map
(folium, no tiles, no CDN: Leaflet is inlined from ``needskit/assets``); in the PDF it is a static
matplotlib picture. :func:`choropleth` returns a :class:`Choropleth` whose
``_repr_mimebundle_`` carries both ``text/html`` (the folium map) and ``image/png`` (the static
map), classified once with mapclassify so both show the same classes, colours and legend. The
HTML export prefers ``text/html``; the PDF export prefers ``image/png``
(:mod:`needskit.reports.export`).

Geometries are simplified in British National Grid (metres) and coordinates rounded before they
are embedded, so that a county map of LSOAs stays small (see the field's trap: "LSOA-level
GeoJSON makes huge notebooks and crashes browsers").

Modules: :mod:`.classes` (classification, shared by both renderings), :mod:`.map_rendering`
(the :class:`Choropleth` object, its folium and matplotlib renderings, vendored Leaflet) and this
one (geometry preparation and the entry points :func:`choropleth` and :func:`static_map`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from needskit._checks import BNG, as_list, require_columns
from needskit.errors import GeographyError, SchemaError
from needskit.reports.classes import MISSING_COLOUR, SCHEMES, Scheme, classify
from needskit.reports.classes import Classes as Classes  # re-export: maps.Classes
from needskit.reports.map_rendering import (
    ASSET_ATTRIBUTE as ASSET_ATTRIBUTE,  # re-export: maps.ASSET_ATTRIBUTE
)
from needskit.reports.map_rendering import EDGE_COLOUR as EDGE_COLOUR  # re-export: maps.EDGE_COLOUR
from needskit.reports.map_rendering import Choropleth, leaflet_assets

__all__ = [
    "SCHEMES",
    "Choropleth",
    "choropleth",
    "classify",
    "static_map",
    "prepare_geometries",
    "leaflet_assets",
]

WGS84 = "EPSG:4326"


# --------------------------------------------------------------------------------------------
# Checks and preparation


def _require_geoframe(gdf: Any, *, name: str = "gdf") -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(
            "is not a GeoDataFrame",
            where=name,
            expected="a geopandas GeoDataFrame with polygons "
            "(e.g. needskit.place.geography.load_areas('district'))",
            got=type(gdf).__name__,
        )
    if gdf.crs is None:
        raise GeographyError(
            "has no CRS",
            where=name,
            expected="a CRS, e.g. EPSG:27700",
            got="crs=None",
            hint="set it with gdf.set_crs('EPSG:27700') if the coordinates are British National Grid",
        )
    if gdf.empty:
        raise SchemaError("has no rows", where=name, expected="at least one area", got="an empty frame")
    return gdf


def prepare_geometries(
    gdf: gpd.GeoDataFrame, *, simplify: float = 20.0, precision: int = 5
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Simplify polygons in British National Grid and return them projected and in lon/lat.

    Parameters
    ----------
    gdf
        Areas in any CRS.
    simplify
        Tolerance in metres (0 keeps every vertex). Shared edges stay shared: a valid coverage
        (areas that tile without overlaps, like the shipped boundaries) is simplified with
        ``shapely.coverage_simplify``; anything else polygon by polygon.
    precision
        Decimal places kept in the lon/lat coordinates (5 places is about 1 m).

    Returns
    -------
    tuple of GeoDataFrame
        ``(in EPSG:27700, in EPSG:4326)``, same rows and columns as ``gdf``; the input is not changed.
    """
    _require_geoframe(gdf)
    projected = gdf.to_crs(BNG) if not gdf.crs.equals(BNG) else gdf.copy()
    if simplify > 0:
        geoms = projected.geometry.values
        simplified = None
        try:
            if bool(shapely.coverage_is_valid(geoms)):
                simplified = shapely.coverage_simplify(geoms, simplify)
        except (shapely.errors.GEOSException, ValueError):  # not a coverage: fall back below
            simplified = None
        if simplified is None or shapely.is_empty(simplified).any():
            simplified = shapely.simplify(geoms, simplify, preserve_topology=True)
        projected = projected.set_geometry(gpd.GeoSeries(simplified, index=projected.index, crs=BNG))
    lonlat = projected.to_crs(WGS84)
    rounded = shapely.transform(lonlat.geometry.values, lambda xy: np.round(xy, precision))
    lonlat = lonlat.set_geometry(gpd.GeoSeries(rounded, index=lonlat.index, crs=WGS84))
    return projected, lonlat


# --------------------------------------------------------------------------------------------
# Entry points


def choropleth(
    gdf: gpd.GeoDataFrame,
    *,
    column: str,
    title: str = "",
    legend: str | None = None,
    scheme: Scheme = "quantiles",
    k: int = 5,
    cmap: str = "YlOrRd",
    bins: Sequence[float] | None = None,
    tooltip: str | Sequence[str] | None = None,
    aliases: Sequence[str] | None = None,
    name_column: str = "area_name",
    fmt: str = "{:,.1f}",
    simplify: float = 20.0,
    precision: int = 5,
    height: int = 480,
    missing_label: str = "No data",
) -> Choropleth:
    """A choropleth map of ``column``: interactive (folium) in HTML reports, static (matplotlib) in PDF.

    Parameters
    ----------
    gdf
        Areas (any CRS) with the value to map, e.g. ``load_areas("lsoa")`` merged with a profile.
    column
        Numeric column to map.
    title, legend
        Map title and legend title (``legend`` defaults to ``column``).
    scheme, k, cmap, bins
        Classification (:func:`classify`): ``"quantiles"`` (default), ``"natural_breaks"``
        (Fisher-Jenks), ``"equal_interval"`` or ``"user_defined"`` with ``bins``; ``k`` classes;
        a matplotlib colormap name.
    tooltip, aliases
        Columns shown when hovering an area, and their labels (default: ``name_column`` if present
        and ``column``).
    name_column
        Column naming each area.
    fmt
        Number format in the legend and tooltips.
    simplify, precision
        Simplification tolerance in metres and decimals kept in lon/lat (:func:`prepare_geometries`).
    height
        Height of the interactive map in pixels.
    missing_label
        Legend label of areas without a value.

    Returns
    -------
    Choropleth
        Displays as both ``text/html`` (interactive) and ``image/png`` (static). Its ``areas`` frame
        has the mapped columns plus ``map_class`` (int, -1 = no data), ``map_colour`` (hex) and
        ``map_label`` (class label).

    Raises
    ------
    SchemaError
        Not a GeoDataFrame, empty, missing or non-numeric ``column``, unknown tooltip columns,
        unknown scheme or colormap, ``aliases`` of the wrong length.
    GeographyError
        The frame has no CRS.

    Notes
    -----
    One classification (mapclassify) feeds both renderings, so the PDF and the HTML show the same
    classes. Tiles are not used: the map draws with no network. Geometries are simplified in
    EPSG:27700 and rounded in EPSG:4326 before they are embedded.

    Example
    -------
    >>> from needskit.place.geography import load_areas
    >>> areas = load_areas("district").assign(area_km2=lambda d: d.area / 1e6)
    >>> chart = choropleth(areas, column="area_km2", title="Area (km²)", k=3)
    >>> sorted(chart.classes.counts)
    [2, 2, 2]
    """
    import matplotlib

    _require_geoframe(gdf)
    require_columns(gdf, [column], argument="column")
    values = gdf[column]
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise SchemaError(
            "is not numeric",
            where=f"column={column!r}",
            expected="numbers to classify",
            got=f"dtype {values.dtype}",
            hint="convert it with pd.to_numeric first",
        )
    if cmap not in matplotlib.colormaps:
        raise SchemaError(
            "unknown colormap",
            where="cmap",
            expected="a matplotlib colormap name such as 'YlOrRd', 'Blues', 'viridis'",
            got=repr(cmap),
        )
    tips = as_list(tooltip)
    if not tips:
        tips = ([name_column] if name_column in gdf.columns else []) + [column]
    require_columns(gdf, tips, argument="tooltip")
    labels = list(aliases) if aliases is not None else list(tips)
    if len(labels) != len(tips):
        raise SchemaError(
            "needs one label per tooltip column",
            where="aliases",
            expected=f"{len(tips)} labels",
            got=f"{len(labels)}",
        )
    classes = classify(values, scheme=scheme, k=k, cmap=cmap, bins=bins, fmt=fmt)
    keep = list(dict.fromkeys([c for c in ("area_code", name_column) if c in gdf.columns] + tips + [column]))
    frame = gpd.GeoDataFrame(gdf[keep].copy(), geometry=gdf.geometry.values, crs=gdf.crs)
    colours = np.array([*classes.colours, MISSING_COLOUR])
    class_labels = np.array([*classes.labels, missing_label], dtype=object)
    frame["map_class"] = classes.class_of
    frame["map_colour"] = colours[classes.class_of]
    frame["map_label"] = class_labels[classes.class_of]
    projected, lonlat = prepare_geometries(frame, simplify=simplify, precision=precision)
    return Choropleth(
        areas=projected.reset_index(drop=True),
        lonlat=lonlat.reset_index(drop=True),
        column=column,
        title=title,
        legend=column if legend is None else legend,
        classes=classes,
        tooltip=tips,
        aliases=labels,
        fmt=fmt,
        height=int(height),
        missing_label=missing_label,
    )


def static_map(
    gdf: gpd.GeoDataFrame,
    *,
    column: str | None = None,
    title: str = "",
    legend: str | None = None,
    scheme: Scheme = "quantiles",
    k: int = 5,
    cmap: str = "YlOrRd",
    bins: Sequence[float] | None = None,
    name_column: str = "area_name",
    fmt: str = "{:,.1f}",
    simplify: float = 0.0,
    figsize: tuple[float, float] = (7.0, 6.0),
):
    """A plain static map (matplotlib ``Figure``): a choropleth of ``column``, or outlines if None.

    Parameters
    ----------
    gdf
        Areas in any CRS (drawn in EPSG:27700).
    column
        Numeric column to classify and colour (as :func:`choropleth`); ``None`` draws outlines.
    title, legend, scheme, k, cmap, bins, name_column, fmt
        As :func:`choropleth`.
    simplify
        Tolerance in metres (default 0: every vertex).
    figsize
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with pyplot, so it is shown once, where the notebook returns it.

    Raises
    ------
    SchemaError, GeographyError
        As :func:`choropleth`.

    Example
    -------
    >>> from needskit.place.geography import load_areas
    >>> fig = static_map(load_areas("district"), title="Districts")
    >>> fig.axes[0].get_title(loc="left")
    'Districts'
    """
    if column is not None:
        chart = choropleth(
            gdf,
            column=column,
            title=title,
            legend=legend,
            scheme=scheme,
            k=k,
            cmap=cmap,
            bins=bins,
            name_column=name_column,
            fmt=fmt,
            simplify=simplify,
        )
        return chart.figure(figsize=figsize)
    from matplotlib.figure import Figure

    _require_geoframe(gdf)
    projected, _ = prepare_geometries(gdf, simplify=simplify)
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot(1, 1, 1)
    projected.plot(ax=ax, facecolor="#f0f0f0", edgecolor="#555555", linewidth=0.5)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    fig.tight_layout()
    return fig
