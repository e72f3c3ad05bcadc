"""QGIS graduated styles: mapclassify classes, a grey class for withheld areas, valid QML and SLD."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from needskit.errors import SchemaError
from needskit.reports.qgis_style import NO_DATA_COLOUR, NO_DATA_LABEL, graduated_style


def _frame(values):
    return pd.DataFrame({"area_code": [f"A{i}" for i in range(len(values))], "area_name": "x", "v": values})


def test_quantile_classes_of_mapclassify_and_a_ramp_of_distinct_colours():
    style = graduated_style(_frame([float(v) for v in range(1, 11)]), layer="lsoa", field="v", k=5)
    assert style.upper == pytest.approx((2.8, 4.6, 6.4, 8.2, 10.0))  # mapclassify.Quantiles(1..10, k=5)
    assert style.lower[0] == 1.0 and style.lower[1:] == style.upper[:-1]
    assert len(set(style.colours)) == 5 and NO_DATA_COLOUR not in style.colours
    root = ET.fromstring(style.qml.split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer is not None and renderer.get("type") == "graduatedSymbol"
    assert renderer.get("attr") == "v"  # no missing value: the field itself
    ranges = renderer.findall("ranges/range")
    assert [r.get("label") for r in ranges] == list(style.labels)
    assert len(renderer.findall("symbols/symbol")) == len(ranges)


def test_missing_values_are_a_grey_class_not_a_hole():
    style = graduated_style(_frame([1.0, 2.0, np.nan, 4.0]), layer="ward", field="v", k=2)
    renderer = ET.fromstring(style.qml.split("\n", 1)[1]).find("renderer-v2")
    assert renderer is not None
    assert renderer.get("attr", "").startswith('coalesce("v"')
    first = renderer.findall("ranges/range")[0]
    assert first.get("label") == NO_DATA_LABEL
    assert float(first.get("lower", "0")) < 1.0  # below every value
    sld = ET.fromstring(style.sld.encode())
    assert sld.find(".//{http://www.opengis.net/ogc}PropertyIsNull") is not None
    assert len(sld.findall(".//{http://www.opengis.net/se}Rule")) == len(style.labels) + 1


def test_text_from_configuration_is_escaped_in_the_map_tip_and_aliases():
    hostile = 'Crime <script>alert(1)</script> [% @layer_id %] "q"'
    style = graduated_style(
        _frame([1.0, 2.0, 3.0]),
        layer="lsoa",
        field="v",
        title=hostile,
        unit="it's [% 1 %]",
        aliases={"v": hostile},
        k=2,
    )
    root = ET.fromstring(style.qml.split("\n", 1)[1])
    tip = root.findtext("mapTip") or ""
    assert "<script>" not in tip and "[% @layer_id" not in tip and "[% 1" not in tip
    assert "it's" not in tip  # a quote would end the expression's string literal
    alias = root.find("aliases/alias[@field='v']")
    assert alias is not None and alias.get("name") == hostile  # an attribute, escaped by the writer


def test_a_single_value_is_one_class():
    style = graduated_style(_frame([24.1]), layer="county", field="v")
    assert style.upper == (24.1,) and len(style.labels) == 1


def test_errors_name_the_field_and_layer():
    with pytest.raises(SchemaError, match="is not a field of the layer"):
        graduated_style(_frame([1.0]), layer="lsoa", field="nope")
    with pytest.raises(SchemaError, match="layer 'lsoa', field 'v': has no value to classify"):
        graduated_style(_frame([np.nan, np.nan]), layer="lsoa", field="v")
