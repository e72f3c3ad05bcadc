"""The map object: one classified choropleth, rendered interactive (folium) or static (matplotlib).

:class:`Choropleth` holds the display frame and the shared :class:`~needskit.reports.classes.Classes`;
``_repr_mimebundle_`` carries both ``text/html`` (folium, Leaflet inlined from
``needskit/assets``, no tiles, no CDN) and ``image/png`` (matplotlib). Build one with
:func:`needskit.reports.maps.choropleth`.
"""

from __future__ import annotations

import base64
import functools
import io
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from needskit.reports.classes import MISSING_COLOUR, Classes, format_number
from needskit.safe_text import escape_html

__all__ = ["ASSET_ATTRIBUTE", "EDGE_COLOUR", "Choropleth", "leaflet_assets"]

EDGE_COLOUR = "#ffffff"
ASSET_ATTRIBUTE = "data-needskit-asset"
"""Attribute marking an inlined library in a map's HTML; the report export keeps one copy of each."""

_GLOBAL_STYLES = re.compile(r"<style>\s*(html,\s*body|#map)\s*\{[^}]*\}\s*</style>", re.IGNORECASE)


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


def _escaped(value: Any) -> Any:
    return escape_html(value) if isinstance(value, str) else value


def _json_value(value: Any, fmt: str) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
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
        for i, (geom, row) in enumerate(
            zip(self.lonlat.geometry, self.lonlat[columns].itertuples(index=False), strict=True)
        ):
            # Leaflet's tooltip puts these into innerHTML: every value is escaped text
            props = {
                name: _escaped(_json_value(value, self.fmt)) for name, value in zip(columns, row, strict=True)
            }
            props["map_colour"] = self.areas["map_colour"].iat[i]
            props["map_label"] = escape_html(self.areas["map_label"].iat[i])
            features.append(
                {
                    "type": "Feature",
                    "id": str(i),
                    "properties": props,
                    "geometry": shapely.geometry.mapping(geom),
                }
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
        tooltip = (
            folium.GeoJsonTooltip(fields=fields, aliases=[escape_html(a) for a in self.aliases], sticky=True)
            if fields
            else None
        )
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
            f'<div><i style="background:{c}"></i>{escape_html(label)} ({n})</div>'
            for c, label, n in zip(
                self.classes.colours, self.classes.labels, self.classes.counts, strict=True
            )
        ]
        missing = int((self.classes.class_of < 0).sum())
        if missing:
            rows.append(
                f'<div><i style="background:{MISSING_COLOUR}"></i>'
                f"{escape_html(self.missing_label)} ({missing})</div>"
            )
        title = f"<strong>{escape_html(self.legend)}</strong>" if self.legend else ""
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
        caption = f"<figcaption>{escape_html(self.title)}</figcaption>" if self.title else ""
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
        handles.append(
            Patch(facecolor=MISSING_COLOUR, edgecolor="#999999", label=f"{chart.missing_label} ({missing})")
        )
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
