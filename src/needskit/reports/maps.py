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

import hashlib
import warnings
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from needskit._checks import BNG, as_list, require_columns
from needskit.errors import GeographyError, NeedskitWarning, SchemaError
from needskit.reports.classes import MISSING_COLOUR, SCHEMES, WITHHELD_COLOUR, Scheme, classify
from needskit.reports.classes import Classes as Classes  # re-export: maps.Classes
from needskit.reports.map_rendering import (
    ASSET_ATTRIBUTE as ASSET_ATTRIBUTE,  # re-export: maps.ASSET_ATTRIBUTE
)
from needskit.reports.map_rendering import EDGE_COLOUR as EDGE_COLOUR  # re-export: maps.EDGE_COLOUR
from needskit.reports.map_rendering import Choropleth, leaflet_assets
from needskit.reports.map_text import MISSING_CLASS, WITHHELD_CLASS, map_description

__all__ = [
    "SCHEMES",
    "Choropleth",
    "choropleth",
    "classify",
    "static_map",
    "prepare_geometries",
    "simplify_coverage",
    "dissolve_outlines",
    "with_parent",
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


def _wkb_key(geoms: np.ndarray, *args: float) -> tuple:
    digest = hashlib.sha1(usedforsecurity=False)
    for blob in shapely.to_wkb(geoms, hex=False):
        digest.update(blob if blob is not None else b"")
    return (digest.hexdigest(), len(geoms), *args)


_COVERAGE_CACHE: dict[tuple, tuple[np.ndarray, str]] = {}
_COVERAGE_CACHE_SIZE = 8


def simplify_coverage(
    geoms: Sequence[Any] | np.ndarray, *, tolerance: float, gap_width: float = 1.0
) -> tuple[np.ndarray, str]:
    """Simplify polygons that tile an area so that neighbours keep one shared edge (no gaps).

    Parameters
    ----------
    geoms
        Polygons in a projected CRS (metres), e.g. LSOAs in EPSG:27700.
    tolerance
        Simplification tolerance in metres (Visvalingam-Whyatt: about the square root of the
        area of the triangles removed); 0 cleans without simplifying.
    gap_width
        Gaps narrower than this (metres) between neighbours are closed and overlaps as thin are
        given to one neighbour, when the polygons are not an exact coverage.

    Returns
    -------
    tuple
        ``(polygons, how)``: the simplified polygons in the same order, and how they were made:
        ``"coverage"`` (an exact coverage, simplified with ``shapely.coverage_simplify``),
        ``"cleaned coverage"`` (made exact first with ``shapely.coverage_clean``), or
        ``"one by one: <reason>"`` when the polygons do not tile (overlapping places, points,
        lines): each polygon is then simplified alone and neighbours may show slivers.

    Notes
    -----
    Published boundaries (ONS LSOAs, wards) are meant to tile but their neighbours rarely share
    vertices exactly (thousands of slivers of a few square centimetres), so a shared edge
    simplified from both sides drifts apart and the map shows white gaps. A valid coverage
    (no overlaps, identical vertices on shared edges; GEOS ``CoverageValidator``) is simplified
    edge by edge, once for both neighbours (GEOS ``CoverageSimplifier``). Cleaning
    (GEOS ``CoverageCleaner``) snaps vertices, gives each overlap to the neighbour with the
    longest shared border, merges gaps narrower than ``gap_width`` and drops zero-width spikes; it
    is kept only when no polygon gains or loses more than a strip ``gap_width`` wide along its
    boundary (symmetric difference against ``gap_width`` x perimeter), so polygons that really
    overlap are never cut. The last results are cached: a report draws many maps of the same
    neighbourhoods.

    Example
    -------
    >>> from shapely import box
    >>> polygons, how = simplify_coverage([box(0, 0, 1, 1), box(1, 0, 2, 1)], tolerance=0.1)
    >>> how
    'coverage'
    """
    geoms = np.asarray(geoms, dtype=object)
    key = _wkb_key(geoms, float(tolerance), float(gap_width))
    if key in _COVERAGE_CACHE:
        cached, how = _COVERAGE_CACHE[key]
        return cached.copy(), how
    out, how = _simplify_coverage(geoms, tolerance=tolerance, gap_width=gap_width)
    if len(_COVERAGE_CACHE) >= _COVERAGE_CACHE_SIZE:
        _COVERAGE_CACHE.pop(next(iter(_COVERAGE_CACHE)))
    _COVERAGE_CACHE[key] = (out, how)
    return out.copy(), how


def _one_by_one(geoms: np.ndarray, tolerance: float, reason: str) -> tuple[np.ndarray, str]:
    out = shapely.simplify(geoms, tolerance, preserve_topology=True) if tolerance > 0 else geoms.copy()
    return out, f"one by one: {reason}"


def _simplify_coverage(geoms: np.ndarray, *, tolerance: float, gap_width: float) -> tuple[np.ndarray, str]:
    kinds = set(shapely.get_type_id(geoms).tolist())
    if not kinds <= {3, 6} or shapely.is_empty(geoms).any():  # Polygon, MultiPolygon
        return _one_by_one(geoms, tolerance, "not all areas are polygons")
    if not shapely.is_valid(geoms).all():
        geoms = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
        if not set(shapely.get_type_id(geoms).tolist()) <= {3, 6}:
            return _one_by_one(geoms, tolerance, "some areas are invalid polygons")
    how = "coverage"
    try:
        if not bool(shapely.coverage_is_valid(geoms)):
            cleaned = shapely.coverage_clean(geoms, gap_width=gap_width)
            moved = shapely.area(shapely.symmetric_difference(geoms, cleaned))
            band = np.maximum(gap_width, 0.01) * shapely.length(geoms)  # a strip along the boundary
            if shapely.is_empty(cleaned).any() or (moved > band).any():
                worst = int(np.argmax(moved / band))
                return _one_by_one(
                    geoms,
                    tolerance,
                    f"the areas overlap or leave gaps wider than {gap_width:g} m (making them tile "
                    f"would change area {worst + 1} by {moved[worst]:,.0f} m\u00b2)",
                )
            if not bool(shapely.coverage_is_valid(cleaned)):
                return _one_by_one(geoms, tolerance, "the areas could not be made to tile")
            geoms, how = cleaned, "cleaned coverage"
        simplified = shapely.coverage_simplify(geoms, tolerance) if tolerance > 0 else geoms
    except (shapely.errors.GEOSException, ValueError) as error:
        return _one_by_one(geoms, tolerance, f"GEOS could not treat them as a coverage ({error})")
    if shapely.is_empty(simplified).any():
        return _one_by_one(geoms, tolerance, "coverage simplification emptied an area")
    return np.asarray(simplified, dtype=object), how


def prepare_geometries(
    gdf: gpd.GeoDataFrame, *, simplify: float = 20.0, precision: int = 5, gap_width: float = 1.0
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Simplify polygons in British National Grid and return them projected and in lon/lat.

    Parameters
    ----------
    gdf
        Areas in any CRS.
    simplify
        Tolerance in metres (0 keeps every vertex). Areas that tile (like LSOAs, wards and
        districts) are simplified as a coverage, so neighbours keep one shared edge
        (:func:`simplify_coverage`); anything else polygon by polygon, with a
        :class:`~needskit.errors.NeedskitWarning` saying why.
    precision
        Decimal places kept in the lon/lat coordinates (5 places is about 1 m). Vertices that
        neighbours share stay shared: they round alike.
    gap_width
        Gaps and overlaps narrower than this (metres) between neighbours are cleaned away.

    Returns
    -------
    tuple of GeoDataFrame
        ``(in EPSG:27700, in EPSG:4326)``, same rows and columns as ``gdf``; the input is not
        changed. ``attrs["simplified"]`` of both says how (see :func:`simplify_coverage`).
    """
    _require_geoframe(gdf)
    projected = gdf.to_crs(BNG) if not gdf.crs.equals(BNG) else gdf.copy()
    geoms, how = simplify_coverage(
        projected.geometry.values, tolerance=max(float(simplify), 0.0), gap_width=gap_width
    )
    if how.startswith("one by one"):
        warnings.warn(
            f"map areas simplified {how}; neighbouring areas may show thin gaps",
            NeedskitWarning,
            stacklevel=3,
        )
    projected = projected.set_geometry(gpd.GeoSeries(geoms, index=projected.index, crs=BNG))
    lonlat = _rounded(projected.to_crs(WGS84), precision)
    projected.attrs["simplified"] = lonlat.attrs["simplified"] = how
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
    area_label: str = "Area",
    withheld: str | None = None,
    outline_by: str | None = None,
    outline_label: str | None = None,
    fmt: str = "{:,.1f}",
    simplify: float = 20.0,
    precision: int = 5,
    height: int = 480,
    missing_label: str = "No data",
    withheld_label: str = "Withheld",
    caption: str = "",
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
        Columns shown when hovering or tapping an area, and their labels (default: ``name_column``
        if present and ``column``, labelled ``area_label`` and ``legend``). They are also the
        columns of the map's data table.
    name_column, area_label
        Column naming each area, and what an area is called in the tooltip and the data table
        (e.g. "Neighbourhood").
    withheld
        Column saying why a value was withheld (e.g. ``suppressed_reason``): an area without a
        value and with a reason shows "withheld" (tooltip, table, legend, description) rather
        than "no data".
    outline_by, outline_label
        Column holding the code of the area each area lies in (e.g. its district): their
        boundaries, dissolved from the same simplified areas so they fall exactly on the areas'
        edges, are drawn over the map; and what the legend calls them (e.g. "District boundaries").
    fmt
        Number format in the legend and tooltips.
    simplify, precision
        Simplification tolerance in metres and decimals kept in lon/lat (:func:`prepare_geometries`).
    height
        Height of the interactive map in pixels.
    missing_label, withheld_label
        Legend labels of areas without a value and of areas whose value was withheld.
    caption
        The visible caption: what the map shows, its period and its source (default: the
        title). It heads the interactive map and is printed under the static map with the
        description.

    Returns
    -------
    Choropleth
        Displays as both ``text/html`` (interactive, with a description and a data table) and
        ``image/png`` (static, the description as its alt text). Its ``areas`` frame has the mapped
        columns plus ``map_class`` (int, -1 = no data, -2 = withheld), ``map_colour`` (hex) and
        ``map_label`` (class label); ``description`` is its text alternative.

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
    classes. Tiles are not used: the map draws with no network. Geometries are simplified as a
    coverage in EPSG:27700 (neighbours keep one shared edge: no white gaps between them,
    :func:`simplify_coverage`) and rounded in EPSG:4326 before they are embedded; the static map
    draws the same simplified geometry.

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
    legend_text = column if legend is None else legend
    default_tips = not tips
    if default_tips:
        tips = ([name_column] if name_column in gdf.columns else []) + [column]
    require_columns(gdf, tips, argument="tooltip")
    if aliases is not None:
        labels = list(aliases)
    elif default_tips:
        labels = [area_label if t == name_column else (legend_text or column) for t in tips]
    else:
        labels = list(tips)
    if len(labels) != len(tips):
        raise SchemaError(
            "needs one label per tooltip column",
            where="aliases",
            expected=f"{len(tips)} labels",
            got=f"{len(labels)}",
        )
    extra = [c for c in (withheld, outline_by) if c is not None]
    require_columns(gdf, extra, argument="withheld/outline_by")
    classes = classify(values, scheme=scheme, k=k, cmap=cmap, bins=bins, fmt=fmt)
    klass = classes.class_of.copy()
    if withheld is not None:
        reason = gdf[withheld].astype("string").fillna("").str.strip().ne("").to_numpy(dtype=bool)
        klass[(klass == MISSING_CLASS) & reason] = WITHHELD_CLASS
    keep = list(
        dict.fromkeys([c for c in ("area_code", name_column) if c in gdf.columns] + tips + [column] + extra)
    )
    frame = gpd.GeoDataFrame(gdf[keep].copy(), geometry=gdf.geometry.values, crs=gdf.crs)
    colours = np.array([*classes.colours, WITHHELD_COLOUR, MISSING_COLOUR])
    class_labels = np.array([*classes.labels, withheld_label, missing_label], dtype=object)
    frame["map_class"] = klass
    frame["map_colour"] = colours[klass]  # -2 and -1 index the two last entries
    frame["map_label"] = class_labels[klass]
    projected, lonlat = prepare_geometries(frame, simplify=simplify, precision=precision)
    outlines = outlines_lonlat = None
    if outline_by is not None:
        outlines = dissolve_outlines(projected, by=outline_by)
        outlines_lonlat = _rounded(outlines.to_crs(WGS84), precision)
    has_names = name_column in frame.columns
    areas = projected.reset_index(drop=True)
    description = map_description(
        areas,
        column=column,
        classes=areas["map_class"],
        labels=classes.labels,
        counts=classes.counts,
        title=title,
        legend=legend_text,
        name_column=name_column if has_names else None,
        fmt=fmt,
        outline_label=outline_label if outlines is not None else None,
    )
    return Choropleth(
        areas=areas,
        lonlat=lonlat.reset_index(drop=True),
        column=column,
        title=title,
        legend=legend_text,
        classes=classes,
        tooltip=tips,
        aliases=labels,
        fmt=fmt,
        height=int(height),
        missing_label=missing_label,
        withheld_label=withheld_label,
        name_column=name_column if has_names else None,
        outlines=outlines,
        outlines_lonlat=outlines_lonlat,
        outline_label=outline_label if outlines is not None else None,
        description=description,
        precision=int(precision),
        caption=caption,
    )


def dissolve_outlines(areas: gpd.GeoDataFrame, *, by: str) -> gpd.GeoDataFrame:
    """The areas merged by ``by`` (e.g. LSOAs into their districts), for outlines drawn over a map.

    Parameters
    ----------
    areas
        Polygons that tile (as :func:`prepare_geometries` returns them).
    by
        Column holding the code of the area each polygon lies in; rows without one are left out.

    Returns
    -------
    GeoDataFrame
        ``area_code`` and geometry, one row per code, in the CRS of ``areas``. Merged with
        ``shapely.coverage_union_all`` when the areas are a coverage, so the outlines run
        exactly along the areas' shared edges.
    """
    require_columns(areas, [by], argument="by")
    exact = not str(areas.attrs.get("simplified", "")).startswith("one by one")
    codes, geoms = [], []
    for code, group in areas[areas[by].notna()].groupby(by, sort=True):
        parts = group.geometry.values
        merged = shapely.coverage_union_all(parts) if exact else shapely.union_all(parts)
        codes.append(code)
        geoms.append(merged)
    return gpd.GeoDataFrame({"area_code": codes}, geometry=geoms, crs=areas.crs)


def with_parent(
    gdf: gpd.GeoDataFrame,
    *,
    hierarchy: pd.DataFrame,
    level: str,
    parent: str = "district",
    column: str = "parent_code",
    code_column: str = "area_code",
) -> gpd.GeoDataFrame:
    """``gdf`` with the code of the area each of its areas lies in (for ``choropleth(outline_by=)``).

    Parameters
    ----------
    gdf
        Areas of ``level`` with their codes in ``code_column``.
    hierarchy
        The partnership's LSOAs and the areas they lie in (``ReportContext.hierarchy``): one
        column of codes per level.
    level, parent
        The areas' level (e.g. ``"lsoa"``, ``"ward"``) and the level to outline (``"district"``).
    column, code_column
        The new column, and the column of the areas' codes.

    Returns
    -------
    GeoDataFrame
        A copy with ``column``: the parent's code, missing where the area is not in the
        hierarchy, where ``level`` is not below ``parent`` or an area lies in two parents (so
        no outline is drawn that would be wrong).
    """
    require_columns(gdf, [code_column], argument="code_column")
    out = gdf.copy()
    out[column] = pd.Series(pd.NA, index=out.index, dtype="string")
    if level == parent or level not in hierarchy.columns or parent not in hierarchy.columns:
        return out
    pairs = hierarchy[[level, parent]].dropna().drop_duplicates()
    single = pairs.drop_duplicates(level, keep=False)  # an area split between parents: no outline
    lookup = single.set_index(level)[parent].astype("string")
    out[column] = out[code_column].astype("string").map(lookup)
    return out


def _rounded(gdf: gpd.GeoDataFrame, precision: int) -> gpd.GeoDataFrame:
    rounded = shapely.transform(gdf.geometry.values, lambda xy: np.round(xy, precision))
    return gdf.set_geometry(gpd.GeoSeries(rounded, index=gdf.index, crs=gdf.crs))


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
