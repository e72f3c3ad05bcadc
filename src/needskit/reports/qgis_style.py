"""QGIS layer styles for the GeoPackage export: a graduated renderer as QML and as SLD.

:func:`graduated_style` classifies one field of a layer with mapclassify (quantiles by default)
on a colour-blind-safe ramp (viridis, light to dark as the value rises) and returns the style
twice: as QGIS's own QML (what QGIS reads from a GeoPackage's ``layer_styles`` table when it
opens the layer) and as OGC SLD 1.1 (for other readers). Areas without a value (withheld by
the disclosure rule, or not available) are drawn grey in a class of their own, so that a map
never shows a hole where a figure was withheld. Field titles become QGIS aliases, and the
area's name is the layer's display expression and map tip.

Text from data or configuration is only ever an XML attribute or text node written through
:mod:`xml.etree.ElementTree` (escaped), never markup.
"""

from __future__ import annotations

import html
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from needskit.errors import SchemaError

__all__ = ["LayerStyle", "graduated_style", "NO_DATA_COLOUR", "NO_DATA_LABEL", "RAMP"]

RAMP = "viridis_r"
"""Colour ramp (matplotlib name): viridis is perceptually uniform and readable with the common
colour-vision deficiencies and in greyscale; reversed, darker means a higher value."""
NO_DATA_COLOUR = "#d9d9d9"
NO_DATA_LABEL = "Withheld or not available"
NO_DATA_VALUE = -999_999_999.0
"""What the renderer's expression gives a missing value, so that it falls in the grey class."""
_OUTLINE = "110,110,110,255"
_QGIS_METHODS = {"quantiles": "Quantile", "natural_breaks": "Jenks", "equal_interval": "EqualInterval"}
_SE = "http://www.opengis.net/se"
_OGC = "http://www.opengis.net/ogc"
_SLD = "http://www.opengis.net/sld"


@dataclass(frozen=True)
class LayerStyle:
    """A layer's style: ``qml`` and ``sld`` text, the field classified, the class bounds,
    labels and colours (hex), and a one-line ``description``."""

    layer: str
    field: str
    qml: str
    sld: str
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    labels: tuple[str, ...]
    colours: tuple[str, ...]
    description: str


def _rgba(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4)) + ",255"


def _tip_text(text: str) -> str:
    """Text from configuration in a QGIS map tip (HTML in which ``[% ... %]`` is evaluated):
    escaped, and never an expression."""
    return html.escape(str(text)).replace("[%", "[&#37;")


def _fmt(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def _decimals(values: np.ndarray) -> int:
    """Decimals the legend needs: none for large values, two for small ones."""
    span = float(np.nanmax(np.abs(values))) if values.size else 0.0
    return 0 if span >= 1000 else 1 if span >= 10 else 2


def _classes(values: np.ndarray, *, scheme: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the classes of ``values`` (finite only), by mapclassify."""
    import mapclassify

    distinct = np.unique(values).size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if distinct == 1:
            upper = np.array([float(values[0])])
        elif scheme == "quantiles":
            upper = np.asarray(mapclassify.Quantiles(values, k=min(k, distinct)).bins, dtype=float)
        elif scheme == "natural_breaks":
            upper = np.asarray(mapclassify.FisherJenks(values, k=min(k, distinct)).bins, dtype=float)
        else:
            upper = np.asarray(mapclassify.EqualInterval(values, k=k).bins, dtype=float)
    upper = np.unique(upper)  # quantiles of tied values can repeat a bound
    lower = np.concatenate([[float(values.min())], upper[:-1]])
    return lower, upper


def _option_map(parent: ET.Element, props: Mapping[str, str]) -> None:
    """Symbol-layer properties both as QGIS 3.26+ writes them (``Option`` map) and as earlier
    QGIS 3 versions read them (``prop`` elements)."""
    options = ET.SubElement(parent, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(options, "Option", name=key, type="QString", value=value)
    for key, value in props.items():
        ET.SubElement(parent, "prop", k=key, v=value)


def _fill_symbol(parent: ET.Element, name: str, colour: str, *, outline_width: str) -> None:
    symbol = ET.SubElement(
        parent,
        "symbol",
        type="fill",
        name=name,
        alpha="1",
        clip_to_extent="1",
        force_rhr="0",
        is_animated="0",
        frame_rate="10",
    )
    ET.SubElement(symbol, "data_defined_properties")
    layer = ET.SubElement(
        symbol, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"}
    )
    _option_map(
        layer,
        {
            "border_width_map_unit_scale": "3x:0,0,0,0,0,0",
            "color": _rgba(colour),
            "joinstyle": "bevel",
            "offset": "0,0",
            "offset_map_unit_scale": "3x:0,0,0,0,0,0",
            "offset_unit": "MM",
            "outline_color": _OUTLINE,
            "outline_style": "solid",
            "outline_width": outline_width,
            "outline_width_unit": "MM",
            "style": "solid",
        },
    )
    ET.SubElement(layer, "data_defined_properties")


def _qml(
    *,
    field: str,
    lower: Sequence[float],
    upper: Sequence[float],
    labels: Sequence[str],
    colours: Sequence[str],
    no_data: bool,
    scheme: str,
    decimals: int,
    aliases: Mapping[str, str],
    fields: Sequence[str],
    display: str,
    map_tip: str,
    outline_width: str,
) -> str:
    root = ET.Element("qgis", version="3.28.0", styleCategories="AllStyleCategories")
    attr = f'coalesce("{field}", {NO_DATA_VALUE:.0f})' if no_data else field
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        type="graduatedSymbol",
        attr=attr,
        graduatedMethod="GraduatedColor",
        symbollevels="0",
        forceraster="0",
        enableorderby="0",
        referencescale="-1",
    )
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    entries: list[tuple[float, float, str, str]] = []
    if no_data:
        entries.append((NO_DATA_VALUE, NO_DATA_VALUE, NO_DATA_LABEL, NO_DATA_COLOUR))
    entries += list(zip(lower, upper, labels, colours, strict=True))
    for i, (lo, hi, label, colour) in enumerate(entries):
        ET.SubElement(
            ranges,
            "range",
            lower=repr(float(lo)),
            upper=repr(float(hi)),
            symbol=str(i),
            label=label,
            render="true",
            uuid=f"{{needskit-class-{i}}}",
        )
        _fill_symbol(symbols, str(i), colour, outline_width=outline_width)
    source = ET.SubElement(renderer, "source-symbol")
    _fill_symbol(source, "0", colours[0], outline_width=outline_width)
    ramp = ET.SubElement(renderer, "colorramp", type="gradient", name="[source]")
    _option_map(
        ramp,
        {
            "color1": _rgba(colours[0]),
            "color2": _rgba(colours[-1]),
            "discrete": "0",
            "rampType": "gradient",
            "stops": ";".join(
                f"{i / (len(colours) - 1):.4f};{_rgba(c)}" for i, c in enumerate(colours[1:-1], start=1)
            ),
        },
    )
    method = ET.SubElement(renderer, "classificationMethod", id=_QGIS_METHODS.get(scheme, "Quantile"))
    ET.SubElement(method, "symmetricMode", enabled="0", symmetrypoint="0", astride="0")
    ET.SubElement(
        method, "labelFormat", format="%1 \u2013 %2", labelprecision=str(decimals), trimtrailingzeroes="0"
    )
    ET.SubElement(method, "parameters")
    ET.SubElement(method, "extraInformation")
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")
    alias_el = ET.SubElement(root, "aliases")
    for index, name in enumerate(fields):
        ET.SubElement(alias_el, "alias", field=name, index=str(index), name=aliases.get(name, ""))
    ET.SubElement(root, "previewExpression").text = display
    ET.SubElement(root, "mapTip", enabled="1").text = map_tip
    ET.SubElement(root, "layerGeometryType").text = "2"  # polygons
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )


def _sld(
    *,
    layer: str,
    field: str,
    lower: Sequence[float],
    upper: Sequence[float],
    labels: Sequence[str],
    colours: Sequence[str],
    no_data: bool,
) -> str:
    ET.register_namespace("se", _SE)
    ET.register_namespace("ogc", _OGC)
    ET.register_namespace("sld", _SLD)
    root = ET.Element(f"{{{_SLD}}}StyledLayerDescriptor", version="1.1.0")
    named = ET.SubElement(root, f"{{{_SLD}}}NamedLayer")
    ET.SubElement(named, f"{{{_SE}}}Name").text = layer
    style = ET.SubElement(named, f"{{{_SLD}}}UserStyle")
    ET.SubElement(style, f"{{{_SE}}}Name").text = layer
    fts = ET.SubElement(style, f"{{{_SE}}}FeatureTypeStyle")

    def rule(title: str, colour: str, condition: ET.Element | None) -> None:
        el = ET.SubElement(fts, f"{{{_SE}}}Rule")
        ET.SubElement(el, f"{{{_SE}}}Name").text = title
        desc = ET.SubElement(el, f"{{{_SE}}}Description")
        ET.SubElement(desc, f"{{{_SE}}}Title").text = title
        if condition is not None:
            el.append(condition)
        poly = ET.SubElement(el, f"{{{_SE}}}PolygonSymbolizer")
        fill = ET.SubElement(poly, f"{{{_SE}}}Fill")
        ET.SubElement(fill, f"{{{_SE}}}SvgParameter", name="fill").text = colour
        stroke = ET.SubElement(poly, f"{{{_SE}}}Stroke")
        ET.SubElement(stroke, f"{{{_SE}}}SvgParameter", name="stroke").text = "#6e6e6e"
        ET.SubElement(stroke, f"{{{_SE}}}SvgParameter", name="stroke-width").text = "0.5"

    def compare(op: str, value: float) -> ET.Element:
        el = ET.Element(f"{{{_OGC}}}{op}")
        ET.SubElement(el, f"{{{_OGC}}}PropertyName").text = field
        ET.SubElement(el, f"{{{_OGC}}}Literal").text = repr(float(value))
        return el

    if no_data:
        flt = ET.Element(f"{{{_OGC}}}Filter")
        null = ET.SubElement(flt, f"{{{_OGC}}}PropertyIsNull")
        ET.SubElement(null, f"{{{_OGC}}}PropertyName").text = field
        rule(NO_DATA_LABEL, NO_DATA_COLOUR, flt)
    for i, (lo, hi, label, colour) in enumerate(zip(lower, upper, labels, colours, strict=True)):
        flt = ET.Element(f"{{{_OGC}}}Filter")
        both = ET.SubElement(flt, f"{{{_OGC}}}And")
        both.append(compare("PropertyIsGreaterThanOrEqualTo" if i == 0 else "PropertyIsGreaterThan", lo))
        both.append(compare("PropertyIsLessThanOrEqualTo", hi))
        rule(label, colour, flt)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def graduated_style(
    frame: pd.DataFrame,
    *,
    layer: str,
    field: str,
    aliases: Mapping[str, str] | None = None,
    display: str = "area_name",
    title: str = "",
    unit: str = "",
    scheme: Literal["quantiles", "natural_breaks", "equal_interval"] = "quantiles",
    k: int = 5,
    cmap: str = RAMP,
) -> LayerStyle:
    """A graduated style for ``layer`` classified on ``field``.

    Parameters
    ----------
    frame
        The layer's attributes (its columns are the layer's fields, in order).
    layer
        The layer's name (the SLD's ``NamedLayer``).
    field
        The numeric field to classify.
    aliases
        Field name -> title, written as QGIS aliases (attribute table and forms).
    display
        The field QGIS names a feature by (identify results, map tips).
    title, unit
        What ``field`` holds, for the map tip and the style's description.
    scheme, k
        mapclassify scheme (``Quantiles``, ``FisherJenks``, ``EqualInterval``) and number of
        classes (fewer with fewer distinct values).
    cmap
        A matplotlib colour map; the default is colour-blind safe (:data:`RAMP`).

    Returns
    -------
    LayerStyle

    Raises
    ------
    SchemaError
        ``field`` is not a column, or has no finite value to classify.

    Example
    -------
    >>> import pandas as pd
    >>> style = graduated_style(pd.DataFrame({"area_name": list("abcd"), "v": [1.0, 2, 3, None]}),
    ...                         layer="lsoa", field="v", k=2)
    >>> style.labels[0], 'type="graduatedSymbol"' in style.qml
    ('1.00 – 1.50', True)
    """
    import matplotlib

    if field not in frame.columns:
        raise SchemaError(
            "is not a field of the layer", where=f"field={field!r}", expected=f"one of {list(frame.columns)}"
        )
    values = pd.to_numeric(frame[field], errors="coerce").astype(float).to_numpy()
    finite = values[np.isfinite(values)]
    if not finite.size:
        raise SchemaError(
            "has no value to classify", where=f"layer {layer!r}, field {field!r}", got="all missing"
        )
    if finite.min() <= NO_DATA_VALUE:
        raise SchemaError(
            "holds values below the renderer's no-data marker",
            where=f"layer {layer!r}, field {field!r}",
            got=f"minimum {finite.min():g}",
        )
    low, high = _classes(finite, scheme=scheme, k=k)
    lower, upper = [float(v) for v in low], [float(v) for v in high]
    decimals = _decimals(finite)
    labels = [
        f"{_fmt(lo, decimals)} \u2013 {_fmt(hi, decimals)}" for lo, hi in zip(lower, upper, strict=True)
    ]
    colormap = matplotlib.colormaps[cmap]
    positions = np.linspace(0.1, 0.9, len(upper)) if len(upper) > 1 else np.array([0.5])
    colours = [matplotlib.colors.to_hex(colormap(p)) for p in positions]
    no_data = bool(np.isnan(values).any())
    columns = [str(c) for c in frame.columns if c != "geometry"]
    shown = f'format_number("{field}", {decimals})'
    # the unit after the value ("12.3%", "36.3 score"), unless the title already says it
    after = "" if not unit or unit.lower() in (title or "").lower() else unit if unit == "%" else f" {unit}"
    suffix = f" || '{_tip_text(after)}'" if after else ""  # escaped: no quote ends the literal
    map_tip = (
        f'<b>[% "{display}" %]</b><br>{_tip_text(title or field)}: '
        f"[% if(\"{field}\" IS NULL, '{NO_DATA_LABEL.lower()}', {shown}{suffix}) %]"
    )
    outline = "0.1" if len(frame) > 100 else "0.26"
    qml = _qml(
        field=field,
        lower=lower,
        upper=upper,
        labels=labels,
        colours=colours,
        no_data=no_data,
        scheme=scheme,
        decimals=decimals,
        aliases=aliases or {},
        fields=columns,
        display=f'"{display}"',
        map_tip=map_tip,
        outline_width=outline,
    )
    sld = _sld(
        layer=layer, field=field, lower=lower, upper=upper, labels=labels, colours=colours, no_data=no_data
    )
    what = f"{title} ({unit})" if title and unit else title or field
    description = (
        f"{what}: {len(upper)} classes ({scheme.replace('_', ' ')}, mapclassify), viridis colours"
        + (f"; {NO_DATA_LABEL.lower()} in grey" if no_data else "")
    )
    return LayerStyle(
        layer=layer,
        field=field,
        qml=qml,
        sld=sld,
        lower=tuple(float(v) for v in lower),
        upper=tuple(float(v) for v in upper),
        labels=tuple(labels),
        colours=tuple(colours),
        description=description,
    )
