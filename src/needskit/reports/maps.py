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
"""

from __future__ import annotations

import base64
import functools
import html
import io
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from needskit._checks import BNG, as_list, require_columns
from needskit.errors import GeographyError, SchemaError

__all__ = [
    "SCHEMES",
    "Choropleth",
    "choropleth",
    "classify",
    "static_map",
    "prepare_geometries",
    "leaflet_assets",
]

Scheme = Literal["quantiles", "natural_breaks", "equal_interval", "user_defined"]
SCHEMES: tuple[str, ...] = ("quantiles", "natural_breaks", "equal_interval", "user_defined")
"""Classification schemes: mapclassify ``Quantiles``, ``FisherJenks`` (natural breaks, exact and
deterministic), ``EqualInterval`` and ``UserDefined`` (with ``bins=``)."""

WGS84 = "EPSG:4326"
MISSING_COLOUR = "#d9d9d9"
EDGE_COLOUR = "#ffffff"
ASSET_ATTRIBUTE = "data-needskit-asset"
"""Attribute marking an inlined library in a map's HTML; the report export keeps one copy of each."""

_GLOBAL_STYLES = re.compile(
    r"<style>\s*(html,\s*body|#map)\s*\{[^}]*\}\s*</style>", re.IGNORECASE
)


# --------------------------------------------------------------------------------------------
# Vendored Leaflet


@functools.cache
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS, ready to inline: ``(js, css)``.

    The ``sourceMappingURL`` comment is dropped (it would make a browser look for a file) and
    the CSS images become ``data:`` URIs, so the map needs no file and no network.
    """
    root = resources.files("needskit") / "assets" / "leaflet"
    js = (root / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)
    css = (root / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        data = (root / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", inline, css)
    return js, css


def _asset_tags() -> str:
    js, css = leaflet_assets()
    return (
        f'<style {ASSET_ATTRIBUTE}="leaflet.css">{css}</style>\n'
        f'<script {ASSET_ATTRIBUTE}="leaflet.js">{js}</script>\n'
    )


# --------------------------------------------------------------------------------------------
# Checks and preparation


def _require_geoframe(gdf: Any, *, name: str = "gdf") -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(
            "is not a GeoDataFrame",
            where=name,
            expected="a geopandas GeoDataFrame with polygons (e.g. needskit.place.geography.load_areas('district'))",
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
# Classification


@dataclass(frozen=True)
class Classes:
    """Result of :func:`classify`: class of each value, upper bounds, labels and colours."""

    scheme: str
    bins: np.ndarray
    labels: list[str]
    colours: list[str]
    class_of: np.ndarray  # -1 for missing values
    counts: list[int]


def _format_number(value: float, fmt: str) -> str:
    return fmt.format(value)


def classify(
    values: pd.Series | Sequence[float],
    *,
    scheme: Scheme = "quantiles",
    k: int = 5,
    cmap: str = "YlOrRd",
    bins: Sequence[float] | None = None,
    fmt: str = "{:,.1f}",
) -> Classes:
    """Classify values for a choropleth with mapclassify; the classes both renderings share.

    Parameters
    ----------
    values
        Numbers; missing values get class -1 ("No data").
    scheme
        One of :data:`SCHEMES`. ``natural_breaks`` is Fisher-Jenks (exact, deterministic).
    k
        Number of classes (fewer when there are fewer distinct values).
    cmap
        A matplotlib colormap name, sampled at ``k`` evenly spaced colours.
    bins
        Upper bounds of the classes for ``scheme="user_defined"``.
    fmt
        Format of the numbers in the labels.

    Returns
    -------
    Classes
        ``bins`` (upper bounds), ``labels`` ("low – high"), ``colours`` (hex), ``class_of`` (class
        index per value, -1 when missing), ``counts`` (areas per class).

    Raises
    ------
    SchemaError
        Unknown scheme, ``k`` below 2, no finite value, or ``user_defined`` without ``bins``.

    Notes
    -----
    Quantiles put equal numbers of areas in each class; Fisher-Jenks minimises the within-class
    variance (Jenks 1977; Fisher 1958), as implemented by mapclassify (Rey et al.).

    Example
    -------
    >>> classify([1, 2, 3, 4, 5, 6], scheme="quantiles", k=3).counts
    [2, 2, 2]
    """
    import mapclassify
    import matplotlib

    if scheme not in SCHEMES:
        raise SchemaError(
            "unknown classification scheme", where="scheme", expected=f"one of {list(SCHEMES)}", got=repr(scheme)
        )
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 2:
        raise SchemaError("needs at least two classes", where="k", expected="an integer >= 2", got=repr(k))
    y = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").astype(float).to_numpy()
    finite = np.isfinite(y)
    if not finite.any():
        raise SchemaError(
            "has no numbers to map", where="column", expected="at least one finite value", got="all missing"
        )
    data = y[finite]
    distinct = np.unique(data).size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if scheme == "user_defined":
            if bins is None or len(bins) == 0:
                raise SchemaError(
                    "needs class bounds", where="bins", expected="upper bounds for scheme='user_defined'", got="None"
                )
            classifier = mapclassify.UserDefined(data, bins=sorted(float(b) for b in bins))
        elif distinct == 1:
            classifier = mapclassify.UserDefined(data, bins=[float(data[0])])
        elif scheme == "quantiles":
            classifier = mapclassify.Quantiles(data, k=min(int(k), distinct))
        elif scheme == "natural_breaks":
            classifier = mapclassify.FisherJenks(data, k=min(int(k), distinct))
        else:
            classifier = mapclassify.EqualInterval(data, k=int(k))
    upper = np.asarray(classifier.bins, dtype=float)
    klass = np.full(y.shape, -1, dtype=int)
    klass[finite] = np.asarray(classifier.yb, dtype=int)
    n = len(upper)
    lows = np.concatenate([[data.min()], upper[:-1]])
    labels = [f"{_format_number(lo, fmt)} \u2013 {_format_number(hi, fmt)}" for lo, hi in zip(lows, upper, strict=True)]
    colormap = matplotlib.colormaps[cmap]
    positions = np.linspace(0.15, 0.95, n) if n > 1 else np.array([0.6])
    colours = [matplotlib.colors.to_hex(colormap(p)) for p in positions]
    counts = [int((klass == i).sum()) for i in range(n)]
    return Classes(scheme, upper, labels, colours, klass, counts)


# --------------------------------------------------------------------------------------------
# The map object


def _json_value(value: Any, fmt: str) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (float, np.floating)):
        return _format_number(float(value), fmt)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    return str(value)


@dataclass
class Choropleth:
    """A choropleth that shows as an interactive map in HTML and a static map in print.

    Attributes
    ----------
    areas
        The display frame in EPSG:27700 (simplified): the input's ``code_column``, ``name_column``,
        ``column`` and tooltip columns, plus ``map_class`` (-1 = no data), ``map_colour`` and
        ``map_label``.
    title, legend
        Map title and legend title.
    classes
        The shared classification (:class:`Classes`).
    """

    areas: gpd.GeoDataFrame
    lonlat: gpd.GeoDataFrame
    column: str
    title: str
    legend: str
    classes: Classes
    tooltip: list[str]
    aliases: list[str]
    fmt: str = "{:,.1f}"
    height: int = 480
    missing_label: str = "No data"
    dpi: int = 150
    _png: bytes | None = field(default=None, repr=False)

    # ---------------------------------------------------------------- interactive
    def geojson(self) -> dict[str, Any]:
        """The FeatureCollection embedded in the map (lon/lat, rounded, display properties only)."""
        features = []
        columns = list(dict.fromkeys([*self.tooltip, self.column]))
        for i, (geom, row) in enumerate(zip(self.lonlat.geometry, self.lonlat[columns].itertuples(index=False), strict=True)):
            props = {name: _json_value(value, self.fmt) for name, value in zip(columns, row, strict=True)}
            props["map_colour"] = self.areas["map_colour"].iat[i]
            props["map_label"] = self.areas["map_label"].iat[i]
            features.append(
                {"type": "Feature", "id": str(i), "properties": props, "geometry": shapely.geometry.mapping(geom)}
            )
        return {"type": "FeatureCollection", "features": features}

    def to_folium(self):
        """The folium ``Map`` (no tiles, no CDN links: Leaflet is inlined by :meth:`to_html`)."""
        import folium
        from branca.element import MacroElement
        from jinja2 import Template

        minx, miny, maxx, maxy = self.lonlat.total_bounds
        m = folium.Map(
            location=[(miny + maxy) / 2, (minx + maxx) / 2],
            tiles=None,
            height=self.height,
            zoom_start=9,
            control_scale=True,
            zoom_snap=0.25,
        )
        m.default_js = []  # Leaflet is inlined; jQuery/Bootstrap/awesome-markers are not needed
        m.default_css = []
        fields = list(self.tooltip)
        tooltip = folium.GeoJsonTooltip(fields=fields, aliases=list(self.aliases), sticky=True) if fields else None
        folium.GeoJson(
            self.geojson(),
            name=self.title or self.column,
            style_function=lambda f: {
                "fillColor": f["properties"]["map_colour"],
                "color": "#ffffff",
                "weight": 0.8,
                "fillOpacity": 0.85,
            },
            highlight_function=lambda f: {"weight": 2.5, "color": "#333333"},
            tooltip=tooltip,
        ).add_to(m)
        m.fit_bounds([[miny, minx], [maxy, maxx]])

        legend = MacroElement()
        legend._template = Template(
            """{% macro script(this, kwargs) %}
            (function () {
                var legend = L.control({position: "bottomright"});
                legend.onAdd = function () {
                    var div = L.DomUtil.create("div", "needskit-legend");
                    div.innerHTML = {{ this.legend_html|tojson }};
                    return div;
                };
                legend.addTo({{ this._parent.get_name() }});
            })();
            {% endmacro %}"""
        )
        legend.legend_html = self._legend_html()
        m.add_child(legend)
        return m

    def _legend_html(self) -> str:
        rows = [
            f'<div><i style="background:{c}"></i>{html.escape(label)} ({n})</div>'
            for c, label, n in zip(self.classes.colours, self.classes.labels, self.classes.counts, strict=True)
        ]
        missing = int((self.classes.class_of < 0).sum())
        if missing:
            rows.append(f'<div><i style="background:{MISSING_COLOUR}"></i>{html.escape(self.missing_label)} ({missing})</div>')
        title = f"<strong>{html.escape(self.legend)}</strong>" if self.legend else ""
        return title + "".join(rows)

    def to_html(self, *, include_assets: bool = True) -> str:
        """A self-contained HTML fragment (no iframe, no network): Leaflet inlined, then the map."""
        from folium import Figure

        m = self.to_folium()
        fig = Figure()
        m.add_to(fig)
        fig.render()
        head = []
        for name, child in fig.header._children.items():
            if name == "meta_http" or type(child).__name__ in ("JavascriptLink", "CssLink"):
                continue
            head.append(_GLOBAL_STYLES.sub("", child.render()))
        style = (
            "<style>.needskit-map{margin:0 0 1em 0}.needskit-map figcaption{font-weight:600;margin:.3em 0}"
            ".needskit-map .leaflet-container{background:#ffffff;font:12px/1.4 sans-serif}"
            ".needskit-legend{background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;"
            "box-shadow:0 0 4px rgba(0,0,0,.3);line-height:18px;color:#222}"
            ".needskit-legend i{width:14px;height:14px;float:left;margin:2px 6px 0 0;opacity:.85}</style>"
        )
        caption = f"<figcaption>{html.escape(self.title)}</figcaption>" if self.title else ""
        assets = _asset_tags() if include_assets else ""
        return (
            f'<figure class="needskit-map">\n{assets}{style}{"".join(head)}{caption}\n'
            f"{fig.html.render()}\n<script>\n{fig.script.render()}\n</script>\n</figure>"
        )

    # ---------------------------------------------------------------- static
    def figure(self, *, figsize: tuple[float, float] = (7.0, 6.0)):
        """The static map as a matplotlib ``Figure`` (not registered with pyplot)."""
        return _draw_static(self, figsize=figsize)

    def to_png(self) -> bytes:
        """The static map as PNG bytes (cached)."""
        if self._png is None:
            fig = self.figure()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=self.dpi, bbox_inches="tight", facecolor="white")
            self._png = buffer.getvalue()
        return self._png

    # ---------------------------------------------------------------- display
    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        bundle: dict[str, Any] = {}
        wanted = lambda mime: (include is None or mime in include) and not (exclude and mime in exclude)  # noqa: E731
        if wanted("text/html"):
            bundle["text/html"] = self.to_html()
        if wanted("image/png"):
            bundle["image/png"] = base64.b64encode(self.to_png()).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return (
            f"<Choropleth {self.title or self.column!r}: {len(self.areas)} areas, "
            f"{self.classes.scheme}, {len(self.classes.labels)} classes>"
        )


def _draw_static(chart: Choropleth, *, figsize: tuple[float, float]):
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    fig = Figure(figsize=figsize)
    ax = fig.add_subplot(1, 1, 1)
    chart.areas.plot(ax=ax, color=chart.areas["map_colour"].tolist(), edgecolor=EDGE_COLOUR, linewidth=0.4)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if chart.title:
        ax.set_title(chart.title, loc="left", fontsize=12, fontweight="bold")
    handles = [
        Patch(facecolor=c, edgecolor="#999999", label=f"{label} ({n})")
        for c, label, n in zip(chart.classes.colours, chart.classes.labels, chart.classes.counts, strict=True)
    ]
    missing = int((chart.classes.class_of < 0).sum())
    if missing:
        handles.append(Patch(facecolor=MISSING_COLOUR, edgecolor="#999999", label=f"{chart.missing_label} ({missing})"))
    ax.legend(
        handles=handles,
        title=chart.legend or None,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=8,
        title_fontsize=9,
    )
    fig.tight_layout()
    return fig


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
            gdf, column=column, title=title, legend=legend, scheme=scheme, k=k, cmap=cmap, bins=bins,
            name_column=name_column, fmt=fmt, simplify=simplify,
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
