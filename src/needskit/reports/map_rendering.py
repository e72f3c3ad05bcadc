"""The map object: one classified choropleth, rendered interactive (folium) or static (matplotlib).

:class:`Choropleth` holds the display frame (areas simplified as a coverage, so neighbours share
their edges), optional outlines of the areas above them (e.g. districts over LSOAs, dissolved
from the same simplified areas) and the shared :class:`~needskit.reports.classes.Classes`.
``_repr_mimebundle_`` carries both ``text/html`` (folium, Leaflet inlined from
``needskit/assets``, no tiles, no CDN; with its text description and a collapsed data table, see
:mod:`needskit.reports.map_text`) and ``image/png`` (matplotlib, from the same geometry), the
PNG with the description as its ``alt`` text. Build one with
:func:`needskit.reports.maps.choropleth`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from needskit.errors import ReportError
from needskit.reports.classes import MISSING_COLOUR, WITHHELD_COLOUR, Classes, format_number
from needskit.reports.map_text import MISSING_CLASS, WITHHELD_CLASS, data_table_html, ranked
from needskit.safe_text import escape_html

__all__ = ["ASSET_ATTRIBUTE", "EDGE_COLOUR", "OUTLINE_COLOUR", "Choropleth", "leaflet_assets"]

EDGE_COLOUR = "#ffffff"
"""Colour of the thin lines between areas."""
OUTLINE_COLOUR = "#1d1d1b"
"""Colour of the outlines drawn over the areas (e.g. district boundaries over LSOAs)."""
EDGE_WEIGHT = 0.35
"""Width of the lines between areas in the interactive map (CSS pixels)."""
OUTLINE_WEIGHT = 1.6
"""Width of the outlines in the interactive map (CSS pixels)."""
ASSET_ATTRIBUTE = "data-needskit-asset"
"""Attribute marking an inlined library in a map's HTML; the report export keeps one copy of each."""

_GLOBAL_STYLES = re.compile(r"<style>\s*(html,\s*body|#map)\s*\{[^}]*\}\s*</style>", re.IGNORECASE)
_VIEWPORT = re.compile(r"<meta\s+name=\"viewport\"[^>]*>\s*", re.IGNORECASE)
_SERIAL = itertools.count()
"""Maps made in this process, in order: with the map's data, its element id (folium's is random),
so a report run twice, or on another machine, writes the same HTML."""
"""folium's page-wide viewport (``user-scalable=no`` stops readers zooming: WCAG 1.4.4)."""


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
# The map object


def _display(value: Any, fmt: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return format_number(float(value), fmt)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    return str(value)


@dataclass
class Choropleth:
    """A choropleth that shows as an interactive map in HTML and a static map in print.

    Attributes
    ----------
    areas
        The display frame in EPSG:27700 (simplified as a coverage): the input's ``area_code``,
        ``name_column``, ``column`` and tooltip columns, plus ``map_class`` (0.. the classes,
        -1 no data, -2 withheld), ``map_colour`` and ``map_label``; ``attrs["simplified"]`` says
        how the geometry was simplified.
    lonlat
        The same in EPSG:4326, coordinates rounded: the geometry the interactive map embeds.
    column, title, legend
        The mapped column, the map's title and the legend's title (the unit).
    classes
        The shared classification (:class:`Classes`).
    tooltip, aliases
        Columns shown on hover or tap, and their labels.
    outlines, outlines_lonlat, outline_label
        Boundaries drawn over the areas (``area_code``, geometry; EPSG:27700 and EPSG:4326) and
        what they are, e.g. "District boundaries"; None when there are none.
    description
        The map's text alternative, built from the data (:func:`~needskit.reports.map_text.map_description`).
    caption
        What the map shows, its period and source, shown with it (default: the title): heads the
        interactive map; printed under the static map with the description (the PDF export reads
        it from the PNG's metadata, :func:`needskit.reports.export.print_html`).
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
    withheld_label: str = "Withheld"
    name_column: str | None = "area_name"
    outlines: gpd.GeoDataFrame | None = None
    outlines_lonlat: gpd.GeoDataFrame | None = None
    outline_label: str | None = None
    description: str = ""
    precision: int = 5
    dpi: int = 150
    caption: str = ""
    _png: bytes | None = field(default=None, repr=False)

    # ---------------------------------------------------------------- shared
    def _value_text(self, value: Any, klass: int) -> str:
        if klass == WITHHELD_CLASS:
            return "withheld"
        if klass == MISSING_CLASS:
            return "no data"
        return _display(value, self.fmt)

    def legend_rows(self) -> list[tuple[str, str, int]]:
        """``(colour, label, number of areas)`` of each legend row: the classes, then withheld and
        no data when some areas are."""
        rows = list(zip(self.classes.colours, self.classes.labels, self.classes.counts, strict=True))
        klass = self.areas["map_class"].to_numpy()
        for code, colour, label in (
            (WITHHELD_CLASS, WITHHELD_COLOUR, self.withheld_label),
            (MISSING_CLASS, MISSING_COLOUR, self.missing_label),
        ):
            n = int((klass == code).sum())
            if n:
                rows.append((colour, label, n))
        return rows

    def data_table(self) -> pd.DataFrame:
        """The map's data as a reader sees it: one row per area from the highest value, the
        tooltip columns (named by their labels, values formatted, "withheld" where a value was
        withheld) and the class."""
        order = ranked(self.areas, column=self.column, name_column=self.name_column)
        out = {}
        for name, alias in zip(self.tooltip, self.aliases, strict=True):
            if name == self.column:
                out[alias] = [
                    self._value_text(v, int(c)) for v, c in zip(order[name], order["map_class"], strict=True)
                ]
            else:
                out[alias] = [_display(v, self.fmt) for v in order[name]]
        if self.column not in self.tooltip:
            pairs = zip(order[self.column], order["map_class"], strict=True)
            out[self.legend or self.column] = [self._value_text(v, int(c)) for v, c in pairs]
        out["Class"] = order["map_label"].astype(str).tolist()
        return pd.DataFrame(out)

    # ---------------------------------------------------------------- interactive
    def _tooltip_values(self) -> list[list[str]]:
        klass = self.areas["map_class"].to_numpy()
        rows = []
        for i, row in enumerate(self.lonlat[self.tooltip].itertuples(index=False)):
            rows.append(
                [
                    self._value_text(value, int(klass[i]))
                    if name == self.column
                    else _display(value, self.fmt)
                    for name, value in zip(self.tooltip, row, strict=True)
                ]
            )
        return rows

    def geojson(self) -> dict[str, Any]:
        """The areas as a GeoJSON FeatureCollection (lon/lat, rounded): what the interactive map
        draws (it embeds the same coordinates encoded, see :meth:`payload`). Properties are the
        tooltip columns as shown (plain text), ``map_colour`` and ``map_label``."""
        features = []
        for i, (geom, values) in enumerate(zip(self.lonlat.geometry, self._tooltip_values(), strict=True)):
            props: dict[str, Any] = dict(zip(self.tooltip, values, strict=True))
            props["map_colour"] = self.areas["map_colour"].iat[i]
            props["map_label"] = self.areas["map_label"].iat[i]
            features.append(
                {
                    "type": "Feature",
                    "id": str(i),
                    "properties": props,
                    "geometry": shapely.geometry.mapping(geom),
                }
            )
        return {"type": "FeatureCollection", "features": features}

    def payload(self) -> dict[str, Any]:
        """What the interactive map embeds: each area's rings as encoded polylines
        (:func:`encode_ring`, about 4 characters a vertex instead of 20 in GeoJSON), its colour
        and its tooltip values; the tooltip labels; the outlines, encoded alike."""
        precision = self.precision
        return {
            "precision": precision,
            "labels": list(self.aliases),
            "areas": [
                {"g": _encode_polygons(geom, precision), "c": colour, "v": values}
                for geom, colour, values in zip(
                    self.lonlat.geometry, self.areas["map_colour"], self._tooltip_values(), strict=True
                )
            ],
            "outlines": [
                _encode_polygons(geom, precision)
                for geom in (self.outlines_lonlat.geometry if self.outlines_lonlat is not None else [])
            ],
        }

    def embedded_polygons(self) -> list[Any]:
        """The areas' polygons as the interactive map draws them (decoded from :meth:`payload`),
        in lon/lat."""
        return [_decode_polygons(area["g"], self.precision) for area in self.payload()["areas"]]

    def to_folium(self):
        """The folium ``Map`` (no tiles, no CDN links: Leaflet is inlined by :meth:`to_html`).

        The areas are drawn by a small script from :meth:`payload` (encoded rings, tooltips built
        as text nodes, never HTML), the outlines over them and not clickable."""
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
        payload = self.payload()
        m._id = hashlib.sha256(
            f"{next(_SERIAL)}\0{json.dumps(payload, sort_keys=True, default=str)}".encode()
        ).hexdigest()[:32]
        layer = MacroElement()
        layer._template = Template(_LAYER_SCRIPT)
        layer.payload = payload
        layer.alphabet = _ALPHABET
        layer.style = {"color": EDGE_COLOUR, "weight": EDGE_WEIGHT, "opacity": 0.9, "fillOpacity": 0.9}
        layer.highlight = {"weight": 2.5, "color": "#333333", "opacity": 1}
        layer.outline = {"color": OUTLINE_COLOUR, "weight": OUTLINE_WEIGHT, "opacity": 1, "fill": False}
        m.add_child(layer)
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
            f'<div><i style="background:{c}"></i>{escape_html(label)} ({n:,})</div>'
            for c, label, n in self.legend_rows()
        ]
        if self.outline_label and self.outlines is not None and len(self.outlines):
            rows.append(
                f'<div><i class="needskit-legend-line" style="border-color:{OUTLINE_COLOUR}"></i>'
                f"{escape_html(self.outline_label)}</div>"
            )
        title = f"<strong>{escape_html(self.legend)}</strong>" if self.legend else ""
        return title + "".join(rows)

    def to_html(self, *, include_assets: bool = True) -> str:
        """A self-contained HTML fragment (no iframe, no network): Leaflet inlined, then the map
        in a ``<figure>`` with its title, its description and its data table."""
        from folium import Figure

        m = self.to_folium()
        fig = Figure()
        m.add_to(fig)
        fig.render()
        head = []
        for name, child in fig.header._children.items():
            if name == "meta_http" or type(child).__name__ in ("JavascriptLink", "CssLink"):
                continue
            head.append(_VIEWPORT.sub("", _GLOBAL_STYLES.sub("", child.render())))
        ident = m.get_name()
        title = self.title or self.legend or self.column
        label = (
            f"Interactive map: {title}. Drag or use the arrow keys to move, + and - to zoom; "
            "the values are in the data table below the map."
        )
        html = fig.html.render()
        html, found = re.subn(
            rf'(<div class="folium-map" id="{ident}")',
            rf'\1 role="region" aria-label="{escape_html(label)}" aria-describedby="{ident}-about"',
            html,
            count=1,
        )
        if not found:  # folium changed its markup: fail loudly rather than lose the label
            raise ReportError(
                "could not label the interactive map",
                where=f"map {title!r}",
                expected=f'<div class="folium-map" id="{ident}"> in folium\'s HTML',
                got=html[:120],
                hint="folium's markup changed: update needskit.reports.map_rendering",
            )
        table = data_table_html(
            self.data_table(),
            caption=title,
            summary=f"Data table of this map ({len(self.areas):,} areas)",
            numeric=[a for n, a in zip(self.tooltip, self.aliases, strict=True) if n == self.column]
            or [self.legend or self.column],
            table_id=f"{ident}-data",
        )
        shown = self.caption or self.title
        caption = f'<figcaption id="{ident}-title">{escape_html(shown)}</figcaption>' if shown else ""
        labelled = f' aria-labelledby="{ident}-title"' if shown else ""
        assets = _asset_tags() if include_assets else ""
        return (
            f"{assets}{_STYLE}{''.join(head)}\n"
            f'<figure class="needskit-map"{labelled}>{caption}\n{html}\n'
            f'<p class="needskit-map-about" id="{ident}-about">{escape_html(self.description)}</p>\n'
            f"{table}\n</figure>\n<script>\n{fig.script.render()}\n</script>"
        )

    # ---------------------------------------------------------------- static
    def figure(self, *, figsize: tuple[float, float] = (7.0, 6.0)):
        """The static map as a matplotlib ``Figure`` (not registered with pyplot), drawn from the
        same simplified geometry as the interactive map."""
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
    def _repr_mimebundle_(self, include=None, exclude=None) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(data, metadata)``: the interactive and the static map; the static map's ``alt``
        text (nbconvert writes it on the ``<img>``, WeasyPrint into the tagged PDF) is the
        description, and its ``caption`` (the caption, or the title) and ``description`` are
        what the PDF prints under it."""
        bundle: dict[str, Any] = {}
        metadata: dict[str, Any] = {}
        wanted = lambda mime: (include is None or mime in include) and not (exclude and mime in exclude)  # noqa: E731
        if wanted("text/html"):
            bundle["text/html"] = self.to_html()
        if wanted("image/png"):
            bundle["image/png"] = base64.b64encode(self.to_png()).decode("ascii")
            metadata["image/png"] = {
                "alt": self.description,
                "caption": self.caption or self.title,
                "description": self.description,
            }
        bundle["text/plain"] = self.description or repr(self)
        return bundle, metadata

    def __repr__(self) -> str:
        return (
            f"<Choropleth {self.title or self.column!r}: {len(self.areas)} areas, "
            f"{self.classes.scheme}, {len(self.classes.labels)} classes>"
        )


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_INDEX = {char: i for i, char in enumerate(_ALPHABET)}


def encode_ring(coords: Any, precision: int = 5) -> str:
    """One ring of lon/lat coordinates as an encoded polyline.

    The polyline algorithm (as Google's): each coordinate's difference from the previous one, in
    ``precision`` decimals, zigzag-encoded in 5-bit groups with a continuation bit; written in the
    base64url alphabet rather than ASCII 63-126, so the text needs no escaping in JSON, HTML or
    the templates that folium renders (no ``\\``, ``{`` or ``<``). About 4 characters a vertex
    where GeoJSON takes 20.

    Example
    -------
    >>> encode_ring([(-2.0, 51.9), (-2.001, 51.9005)])
    '_zmMg348JnGkD'
    """
    ints = np.round(np.asarray(coords, dtype=float)[:, :2] * 10**precision).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    out = []
    for value in np.where(deltas < 0, ~(deltas << 1), deltas << 1).tolist():
        while value >= 0x20:
            out.append(_ALPHABET[0x20 | (value & 0x1F)])
            value >>= 5
        out.append(_ALPHABET[value])
    return "".join(out)


def decode_ring(text: str, precision: int = 5) -> np.ndarray:
    """The lon/lat coordinates of an encoded ring (:func:`encode_ring`), shape ``(n, 2)``."""
    values, value, shift = [], 0, 0
    for char in text:
        chunk = _INDEX[char]
        value |= (chunk & 0x1F) << shift
        shift += 5
        if chunk < 0x20:
            values.append(~(value >> 1) if value & 1 else value >> 1)
            value, shift = 0, 0
    return np.cumsum(np.asarray(values, dtype=np.int64).reshape(-1, 2), axis=0) / 10**precision


def _encode_polygons(geom: Any, precision: int) -> list[list[str]]:
    return [
        [encode_ring(np.asarray(ring.coords), precision) for ring in (part.exterior, *part.interiors)]
        for part in shapely.get_parts(geom)
        if part.geom_type == "Polygon" and not part.is_empty
    ]


def _decode_polygons(polygons: list[list[str]], precision: int) -> Any:
    parts = [
        shapely.Polygon(decode_ring(rings[0], precision), [decode_ring(r, precision) for r in rings[1:]])
        for rings in polygons
    ]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


_LAYER_SCRIPT = """{% macro script(this, kwargs) %}
(function () {
    var map = {{ this._parent.get_name() }};
    var data = {{ this.payload|tojson }};
    var scale = Math.pow(10, data.precision);
    var digits = {};
    {{ this.alphabet|tojson }}.split("").forEach(function (c, i) { digits[c] = i; });
    function ring(text) {  // an encoded polyline (needskit.reports.map_rendering.encode_ring)
        var out = [], i = 0, x = 0, y = 0;
        while (i < text.length) {
            var pair = [0, 0];
            for (var d = 0; d < 2; d++) {
                var shift = 0, value = 0, chunk;
                do {
                    chunk = digits[text.charAt(i++)];
                    value |= (chunk & 31) << shift;
                    shift += 5;
                } while (chunk >= 32);
                pair[d] = (value & 1) ? ~(value >> 1) : (value >> 1);
            }
            x += pair[0];
            y += pair[1];
            out.push([x / scale, y / scale]);
        }
        return out;
    }
    function shape(polygons, properties) {
        return {type: "Feature", properties: properties, geometry: {type: "MultiPolygon",
            coordinates: polygons.map(function (rings) { return rings.map(ring); })}};
    }
    function tip(values) {  // text nodes only: names from data are never markup
        var table = document.createElement("table");
        table.className = "needskit-tip";
        data.labels.forEach(function (label, i) {
            var row = table.insertRow(), head = document.createElement("th");
            head.textContent = label;
            row.appendChild(head);
            row.insertCell().textContent = values[i];
        });
        return table;
    }
    var base = {{ this.style|tojson }};
    var outlines = null;
    var areas = L.geoJson(data.areas.map(function (a) { return shape(a.g, a); }), {
        style: function (f) { return Object.assign({fillColor: f.properties.c}, base); },
        onEachFeature: function (f, layer) {
            layer.bindTooltip(function () { return tip(f.properties.v); }, {sticky: true});
            layer.on({
                mouseover: function (e) {
                    e.target.setStyle({{ this.highlight|tojson }});
                    e.target.bringToFront();
                    if (outlines) { outlines.bringToFront(); }
                },
                mouseout: function (e) { areas.resetStyle(e.target); }
            });
        }
    }).addTo(map);
    if (data.outlines.length) {
        outlines = L.geoJson(data.outlines.map(function (g) { return shape(g, {}); }),
            {interactive: false, style: {{ this.outline|tojson }}}).addTo(map);
    }
})();
{% endmacro %}"""


_STYLE = (
    "<style>.needskit-map{margin:0 0 1.5em 0}.needskit-map figcaption{font-weight:600;margin:.3em 0}"
    ".needskit-map .leaflet-container{background:#ffffff;font:12px/1.4 sans-serif}"
    ".needskit-map .leaflet-container:focus{outline:3px solid #005eb8;outline-offset:2px}"
    ".needskit-legend{background:rgba(255,255,255,.94);padding:6px 8px;border-radius:4px;"
    "box-shadow:0 0 4px rgba(0,0,0,.3);line-height:18px;color:#1d1d1b}"
    ".needskit-legend i{width:14px;height:14px;float:left;margin:2px 6px 0 0;"
    "border:1px solid rgba(0,0,0,.25);box-sizing:border-box}"
    ".needskit-legend i.needskit-legend-line{height:0;margin-top:9px;border:0;border-top:2px solid}"
    ".needskit-map-about{font-size:.9em;margin:.4em 0}"
    ".needskit-map-data summary{cursor:pointer;color:#005eb8;margin:.3em 0}"
    ".needskit-map-table th[scope=row]{font-weight:normal;text-align:left}"
    ".needskit-map-table .num{text-align:right;white-space:nowrap}"
    ".needskit-tip th{text-align:left;font-weight:600;padding-right:.6em}"
    ".needskit-tip td{text-align:left}</style>\n"
)


def _draw_static(chart: Choropleth, *, figsize: tuple[float, float]):
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig = Figure(figsize=figsize)
    ax = fig.add_subplot(1, 1, 1)
    chart.areas.plot(ax=ax, color=chart.areas["map_colour"].tolist(), edgecolor=EDGE_COLOUR, linewidth=0.15)
    has_outlines = chart.outlines is not None and len(chart.outlines) > 0
    if chart.outlines is not None and has_outlines:
        chart.outlines.boundary.plot(ax=ax, color=OUTLINE_COLOUR, linewidth=0.8)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if chart.title:
        ax.set_title(chart.title, loc="left", fontsize=12, fontweight="bold")
    handles: list[Any] = [
        Patch(facecolor=c, edgecolor="#999999", label=f"{label} ({n:,})")
        for c, label, n in chart.legend_rows()
    ]
    if has_outlines and chart.outline_label:
        handles.append(Line2D([], [], color=OUTLINE_COLOUR, linewidth=1.2, label=chart.outline_label))
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
