"""The QGIS-ready GeoPackage of a published store: layers, field dictionary, styles, disclosure.

The GeoPackage is written by the publish step of the session's shipped store
(``shipped_workspace``); these tests open it as QGIS users would, with no new pipeline run.
"""

from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pyogrio
import pytest

from needskit.cli import main
from needskit.disclosure.publish import withheld_reason
from needskit.errors import StoreError
from needskit.reports.geopackage import GEOPACKAGE, MAX_FIELD, geopackage_content, short_names

SPATIAL = ["lsoa", "msoa", "ward", "district", "county", "places"]
# the columns of the table QGIS reads layer styles from (QgsOgrProviderMetadata::saveStyle)
QGIS_STYLE_COLUMNS = [
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
]


@pytest.fixture(scope="module")
def published(shipped_workspace):
    return shipped_workspace.published("public")


@pytest.fixture(scope="module")
def gpkg(published):
    return published.path / GEOPACKAGE


@pytest.fixture(scope="module")
def dictionary(gpkg):
    return pyogrio.read_dataframe(gpkg, layer="field_dictionary")


@pytest.fixture(scope="module")
def styles(gpkg):
    with sqlite3.connect(gpkg) as con:
        frame = pd.read_sql("SELECT * FROM layer_styles", con)
    con.close()
    return frame


def test_publish_writes_a_geopackage_with_a_layer_per_level_and_the_tables(gpkg):
    layers = dict(pyogrio.list_layers(gpkg))
    for name in SPATIAL:
        assert layers.get(name) in ("MultiPolygon", "Polygon"), name
    for table in ("field_dictionary", "layer_styles", "sources"):
        assert table in layers and layers[table] is None  # non-spatial tables GDAL and QGIS list
    assert pyogrio.read_info(gpkg, layer="lsoa")["features"] > 300  # every LSOA of the county


def test_every_field_is_documented_short_and_unique(gpkg, dictionary):
    assert set(dictionary.columns) >= {"layer", "field", "title", "unit", "source", "period", "statistic"}
    for name in SPATIAL:
        info = pyogrio.read_info(gpkg, layer=name)
        fields = [str(f) for f in info["fields"]]
        lowered = [f.lower() for f in fields]
        assert len(set(lowered)) == len(lowered), name  # no repeat, even ignoring case
        assert max(len(f) for f in fields) <= MAX_FIELD
        documented = dictionary[dictionary["layer"] == name]
        assert set(fields) | {info["geometry_name"]} == set(documented["field"]), name
        assert documented["title"].str.len().gt(0).all()
        values = documented[documented["statistic"].str.startswith("value")]
        assert len(values) >= 10 and values["period"].str.len().gt(0).all()
        assert values["source"].str.len().gt(0).all()
        assert {"_lo", "_hi", "_wh", "_cp"} <= {f[-3:] for f in fields}  # intervals, flags, comparisons


def test_withheld_figures_are_empty_and_flagged_never_the_internal_value(
    gpkg, dictionary, published, shipped_workspace
):
    rule = published.manifest()["disclosure_rule"]
    lsoa = pyogrio.read_dataframe(gpkg, layer="lsoa", read_geometry=False).set_index("area_code")
    rows = dictionary[(dictionary["layer"] == "lsoa") & dictionary["statistic"].str.startswith("value")]
    internal = shipped_workspace.store.read_indicators(levels=["lsoa"], comparator="parent")
    public = published.read_indicators(levels=["lsoa"], comparator="parent")
    checked = 0
    for row in rows.itertuples():
        stem, indicator, period = row.field, row.indicator, row.period
        flags = lsoa[f"{stem}_wh"].fillna(False).astype(bool)
        shown = public[(public["indicator"] == indicator) & (public["period"] == period)].set_index(
            "area_code"
        )
        withheld = shown["suppressed_reason"].fillna("").eq(withheld_reason(rule))
        assert set(flags[flags].index) == set(withheld[withheld].index), stem
        for suffix in ("", "_lo", "_hi", "_n"):
            if f"{stem}{suffix}" in lsoa:
                assert lsoa.loc[flags, f"{stem}{suffix}"].isna().all(), (stem, suffix)
        truth = internal[(internal["indicator"] == indicator) & (internal["period"] == period)]
        truth = truth.set_index("area_code")["value"]
        hidden = flags[flags].index
        checked += int(truth.reindex(hidden).notna().sum())  # the internal store has these figures
        # figures not withheld are the published ones (rounded counts), as in the published store
        open_codes = flags[~flags].index
        np.testing.assert_allclose(
            lsoa.loc[open_codes, stem].astype(float), shown["value"].reindex(open_codes).astype(float)
        )
    assert checked > 0  # some LSOA figures are withheld for the public: the test can fail


def test_layer_styles_is_the_qgis_table_with_a_graduated_default_per_layer(gpkg, styles, dictionary):
    assert [c for c in styles.columns if c != "id"] == QGIS_STYLE_COLUMNS
    assert set(styles["f_table_name"]) == set(SPATIAL)
    for style in styles.itertuples():
        info = pyogrio.read_info(gpkg, layer=style.f_table_name)
        # QGIS looks a layer's default style up by schema '', table and geometry column
        assert style.f_table_schema == "" and style.f_geometry_column == info["geometry_name"]
        assert style.useAsDefault == 1
        root = ET.fromstring(style.styleQML.split("\n", 1)[1])
        renderer = root.find("renderer-v2")
        assert renderer is not None and renderer.get("type") == "graduatedSymbol"
        named = re.findall(r'"([a-z0-9_]+)"', renderer.get("attr", "")) or [renderer.get("attr")]
        assert named[0] in set(info["fields"]), style.f_table_name
        assert len(renderer.findall("ranges/range")) == len(renderer.findall("symbols/symbol")) >= 1
        aliases = {a.get("field"): a.get("name") for a in root.findall("aliases/alias")}
        titles = dictionary[dictionary["layer"] == style.f_table_name].set_index("field")["title"]
        assert {f: titles[f] for f in info["fields"]} == aliases
        ET.fromstring(style.styleSLD.encode())  # valid XML too


def test_the_lsoa_map_has_five_quantile_classes_and_grey_for_withheld(styles):
    qml = styles.set_index("f_table_name").loc["lsoa", "styleQML"]
    renderer = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
    assert renderer is not None
    labels = [r.get("label") for r in renderer.findall("ranges/range")]
    assert len([x for x in labels if x != "Withheld or not available"]) == 5


def test_metadata_and_sources_carry_the_marking_and_attribution(gpkg, published):
    info = pyogrio.read_info(gpkg, layer="lsoa")
    meta = info["dataset_metadata"]
    assert meta["AUDIENCE"] == "public" and "Open Government Licence" in meta["ATTRIBUTION"]
    assert meta["PUBLICATION_MARKING"] == published.manifest()["publication_marking"]
    sources = pyogrio.read_dataframe(gpkg, layer="sources")
    assert "police_street_crime" in set(sources["dataset"]) and sources["attribution"].str.len().gt(0).any()


def test_the_internal_store_is_refused(shipped_store):
    with pytest.raises(StoreError, match="is the internal store"):
        geopackage_content(shipped_store)


def test_short_names_never_collide_once_cut():
    ids = [
        "crime_rate_all",
        "crime_rate_all_x",
        "crime_rate_allx",
        "crime_rate_al",
        "2019_score",
        "area_code",
    ]
    stems = short_names(ids, reserved=["area_code", "area_name"])
    assert len(set(stems.values())) == len(ids)
    assert all(len(s) <= MAX_FIELD - 4 and s[0].isalpha() for s in stems.values())
    assert stems["crime_rate_all"] == "crrall" and "area_code" not in stems.values()


def test_export_command_writes_a_file_and_refuses_a_bad_name(shipped_workspace, tmp_path, capsys):
    root, store = str(shipped_workspace.project.root), str(shipped_workspace.store.path)
    out = tmp_path / "public.gpkg"
    assert main(["--project", root, "export", "gpkg", "--store", store, "--out", str(out)]) == 0
    assert "layer styles" in capsys.readouterr().out
    assert {"lsoa", "layer_styles"} <= {name for name, _ in pyogrio.list_layers(out)}
    assert not list(tmp_path.glob(".*tmp*"))  # written beside, renamed into place
    code = main(["--project", root, "export", "gpkg", "--store", store, "--out", str(tmp_path / "x.shp")])
    err = capsys.readouterr().err
    assert code == 2 and "is not a GeoPackage file name" in err and len(err.strip().splitlines()) == 1
    code = main(["--project", root, "export", "gpkg", "--store", store, "--period", "1999-H1"])
    err = capsys.readouterr().err
    assert code == 2 and "1999-H1: is not an analysis period of the store" in err
