"""needskit.partner_data.stages: what each stage writes into the store, and its manifest record."""

from __future__ import annotations

import gzip

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from needskit.config import load_catalog
from needskit.config.project import sha256_file
from needskit.partner_data.pooling import pool_catalog
from needskit.partner_data.stages import (
    register_sources,
    source_table,
    wide_layers,
    write_indicators_stage,
    write_pool_stage,
    write_published_stage,
)
from needskit.partner_data.store import Store
from needskit.pipeline import _boundaries, compute
from partner_files import entry, write_catalog

POOL_FILES = {
    "store.json",
    "profile.parquet",
    "profile.gpkg",
    "ledger.csv",
    "ledger_measures.csv",
    "code_agreement.csv",
    "problems.csv",
    "rejected/crimes.csv.gz",
    "rejected/residents.csv.gz",
    "geography/areas.gpkg",
    "geography/hierarchy.parquet",
    "geography/places.parquet",
    "register/services.parquet",
}


def _files(store: Store) -> set[str]:
    return {
        p.relative_to(store.path).as_posix()
        for p in store.path.rglob("*")
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture
def pooled(squares_ws, tmp_path):
    """The squares partnership pooled (nothing written yet) and an empty store for it."""
    ws = squares_ws
    result = pool_catalog(
        ws.catalog, area=ws.area, geography=ws.geography, places=ws.places(), progress=False
    )
    return ws, result, Store(tmp_path / "store", root=ws.project.root)


def test_the_pool_stage(pooled):
    ws, result, store = pooled
    config = [ws.project.partnership_file, ws.project.catalog_file, ws.project.places_file]
    write_pool_stage(
        store,
        result,
        areas=_boundaries(ws),
        centres=None,
        partnership=ws.partnership.describe(),
        config_files=config,
        patterns=["data/raw/partner/crimes*.csv"],
    )
    assert _files(store) >= POOL_FILES and "geography/centres.parquet" not in _files(store)
    pd.testing.assert_frame_equal(store.read_profile(), result.profile)
    assert store.read_ledger()["read"].sum() == result.ledger["read"].sum()
    rejected = pd.read_csv(store.path / "rejected" / "crimes.csv.gz")
    assert sorted(rejected["reason"].unique()) == ["no coordinates", "outside the partnership area"]
    with gzip.open(
        store.path / "rejected" / "crimes.csv.gz"
    ) as handle:  # reproducible: no time in the header
        assert handle.read()
    assert (store.path / "rejected" / "crimes.csv.gz").read_bytes()[4:8] == b"\x00\x00\x00\x00"
    layers = [name for name, _ in pyogrio.list_layers(store.path / "profile.gpkg")]
    assert layers == ["lsoa", "msoa", "ward", "district", "county"]
    record = store.stage("pool")
    inputs = {r["file"]: r for r in record["inputs"]}
    assert "data/raw/partner/crimes.csv" in inputs and not any(f.startswith("/") for f in inputs)
    crimes = ws.project.raw / "partner" / "crimes.csv"
    assert inputs["data/raw/partner/crimes.csv"]["sha256"] == sha256_file(crimes)
    assert inputs["data/raw/partner/crimes.csv"]["bytes"] == crimes.stat().st_size
    assert [r["file"] for r in record["config"]] == [
        "conf/partnership.yml",
        "conf/catalog.yml",
        "conf/places.yml",
    ]
    assert record["patterns"] == ["data/raw/partner/crimes*.csv"]
    assert (
        record["rows"] == len(result.profile)
        and record["errors"] == 0
        and record["places"] == ["squares places"]
    )
    assert "squares places" in record["levels"] and "lsoa" in record["levels"]
    assert record["register"] == register_sources(result) and store.register_sources() == record["register"]
    assert record["register"] and all(
        r["located"] > 0 and r["reason"] == "" for r in record["register"].values()
    )
    manifest = store.manifest()
    assert (
        manifest["audience"] == "internal"
        and manifest["partnership"]["name"] == "Squares Community Partnership"
    )
    assert manifest["area"]["lsoas"] == 4 and manifest["area"]["codes"] == ["E10999901"]
    assert [s["dataset"] for s in manifest["sources"]] == [spec.id for spec in ws.catalog]


def test_the_indicators_stage(squares_ws):
    ws = squares_ws
    pool_finished = ws.store.stage("pool")["finished"]
    written = compute(ws)
    record = ws.store.stage("indicators")
    assert record["pool_finished"] == pool_finished
    assert record["indicators"] == [
        "crime_rate",
        "older_people",
        "mortality_dsr",
        "mortality_smr",
        "life_expectancy",
        "deprivation_mean",
        "imd_score",
    ]  # file order
    assert record["comparators"] == ["england", "parent"]
    assert [r["file"] for r in record["config"]] == ["conf/indicators.yml"]
    assert set(written) == {"lsoa", "ward", "district", "county"}
    path, rows, n = written["ward"]
    assert path == ws.store.path / "indicators_ward.csv" and path.exists()
    ward = pd.read_csv(path)
    assert len(ward) == rows and ward["indicator"].nunique() == n and set(ward["level"]) == {"ward"}
    assert ward["comparator"].nunique() == 1  # the analysts' CSV has one comparator
    frame = ws.store.read_indicators()
    assert len(frame) == record["rows"] and set(frame["comparator"]) == {"england", "parent"}
    empty = write_indicators_stage(ws.store, frame.iloc[0:0], config_files=[], levels=["lsoa"], order=[])
    assert empty["lsoa"][1:] == (0, 0) and ws.store.stage("indicators")["comparators"] == []


def test_the_published_stage(squares_ws, tmp_path):
    ws = squares_ws
    target = Store(tmp_path / "published", root=ws.project.root)
    profile = ws.store.read_profile()
    write_published_stage(
        target,
        source=ws.store,
        profile=profile.head(10),
        indicators=ws.store.read_indicators().head(5),
        ledger=ws.store.read_ledger(),
        register={"services": ws.store.read_register("services")},
        sources=source_table(list(ws.catalog)),
        disclosure_log=pd.DataFrame({"action": ["none"]}),
        audience="partner",
        rule="nhs_digital",
        rule_text="the rule in words",
        marking="PARTNERS ONLY",
    )
    files = _files(target)
    assert files == {
        "store.json",
        "profile.parquet",
        "indicators.parquet",
        "ledger.csv",
        "disclosure_log.csv",
        "geography/areas.gpkg",
        "geography/hierarchy.parquet",
        "geography/places.parquet",
        "geography/centres.parquet",
        "register/services.parquet",
    }
    assert not any(f.startswith("rejected") or f.startswith("problems") for f in files)  # nothing row-level
    for name in ("areas.gpkg", "hierarchy.parquet"):
        assert (target.path / "geography" / name).read_bytes() == (
            ws.store.path / "geography" / name
        ).read_bytes()
    manifest = target.manifest()
    assert manifest["audience"] == "partner" == target.audience
    assert (manifest["disclosure_rule"], manifest["disclosure_rule_text"]) == (
        "nhs_digital",
        "the rule in words",
    )
    assert manifest["publication_marking"] == "PARTNERS ONLY"
    publish = manifest["stages"]["publish"]
    assert publish["from"] == {k: ws.store.stage(k)["finished"] for k in ("pool", "indicators")}
    assert (publish["rule"], publish["audience"]) == ("nhs_digital", "partner") and publish["finished"]
    assert manifest["stages"]["pool"]["inputs"] == [] and manifest["stages"]["pool"]["config"] == []
    assert manifest["stages"]["indicators"]["config"] == []
    assert manifest["partnership"] == ws.store.manifest()["partnership"]
    assert len(manifest["sources"]) == len(ws.catalog)
    assert target.register_sources() == ws.store.register_sources()  # the ledger holds them all
    target.check_fresh(internal=ws.store)


def test_wide_layers_one_column_per_measure_of_the_latest_period():
    profile = pd.DataFrame(
        {
            "area_code": ["A", "A", "A", "B", "A"],
            "level": ["ward"] * 5,
            "dataset": ["crimes", "crimes", "crimes", "crimes", "Very Long Dataset Name " * 4],
            "measure": ["crimes"] * 4 + ["n"],
            "category": ["Burglary", "Burglary", "all", "Burglary", "all"],
            "period": ["2024-01", "2024-02", "2024-02", "2024-02", "2021"],
            "value": [1.0, 2.0, 5.0, 3.0, 9.0],
        }
    )
    areas = gpd.GeoDataFrame(
        {"area_code": ["A", "B"], "area_name": ["Alpha", "Bravo"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs="EPSG:27700",
    )
    layers = wide_layers(profile, {"ward": areas, "district": areas})
    assert list(layers) == ["ward"]  # no district rows, no layer
    ward = layers["ward"].set_index("area_code")
    assert (
        ward.loc["A", "crimes__crimes__burglary"] == 2.0 and ward.loc["B", "crimes__crimes__burglary"] == 3.0
    )
    assert ward.loc["A", "crimes__crimes"] == 5.0  # category "all" has no suffix
    long = [c for c in ward.columns if c.startswith("very_long")]
    assert len(long) == 1 and len(long[0]) <= 63 and long[0] == long[0].lower()


def test_source_table_describes_each_period(tmp_path):
    entries = {
        "fixed": entry(period="2021", attribution=["ONS"], illustrative=True),
        "ranged": entry(),
        "open_ended": entry(period={"column": "month", "format": "%Y-%m"}),
    }
    datasets = list(load_catalog(write_catalog(tmp_path, entries)))
    table = source_table(datasets)
    assert table["period"].tolist() == ["2021", "month", "2024-01 to 2024-03"]  # fixed, open_ended, ranged
    # periods that come from the data are those pooled (the ledger's), not the column's name
    ledger = pd.DataFrame(
        {
            "dataset": ["open_ended", "open_ended", "open_ended", "ranged", "fixed"],
            "period": ["2024-02", "2022-01", "unknown", "2024-01", "2021"],
        }
    )
    assert source_table(datasets, ledger=ledger)["period"].tolist() == [
        "2021",
        "2022-01 to 2024-02",
        "2024-01 to 2024-03",
    ]
    one = ledger[ledger["period"] == "2024-02"]
    assert source_table(datasets, ledger=one)["period"].tolist()[1] == "2024-02"
    assert table.loc[0, "attribution"] == "ONS" and bool(table.loc[0, "illustrative"])
    assert list(table.columns) == [
        "dataset",
        "title",
        "partner",
        "period",
        "last_updated",
        "licence",
        "sharing",
        "attribution",
        "illustrative",
    ]


def test_the_register_sources_say_how_many_rows_located_and_why_none(tmp_path):
    """A register whose postcodes the directory does not hold locates nothing, and says why (as
    the NHS registers of a workspace with no postcode directory yet)."""
    from partner_files import pool

    pd.DataFrame(
        {
            "ref": ["S1", "S2"],
            "name": ["Hesters Way Surgery", "Far Away"],
            "postcode": ["GL50 3PP", "SW1A 1AA"],
        }
    ).to_csv(tmp_path / "near.csv", index=False)
    pd.DataFrame(
        {"ref": ["F1", "F2"], "name": ["Far", "Further"], "postcode": ["SW1A 1AA", "SW1A 2AA"]}
    ).to_csv(tmp_path / "far.csv", index=False)
    register = {"table": "services", "service_type": "gp_practice", "partner": "NHS", "partner_sector": "nhs"}
    spec = {
        "geography": {"kind": "postcode", "postcode": "postcode"},
        "period": "2025",
        "record_id": "ref",
        "measures": [{"name": "services", "count": "rows"}],
        "register": register,
        "max_invalid": 1.0,
    }
    entries = {
        "near": entry(title="Near practices", path="near.csv", **spec),
        "far": entry(title="Far practices", path="far.csv", **spec),
        "plain": entry(),  # no register: block
    }
    points_csv = tmp_path / "data.csv"
    pd.DataFrame(
        {"id": ["x"], "month": ["2024-01"], "lon": [-2.087158], "lat": [51.916259], "type": ["a"]}
    ).to_csv(points_csv, index=False)
    result = pool(load_catalog(write_catalog(tmp_path, entries)))
    sources = register_sources(result)
    assert set(sources) == {"near", "far"}
    assert sources["near"] == {
        "title": "Near practices",
        "table": "services",
        "service_type": "gp_practice",
        "located": 1,
        "reason": "",
        "hint": "",
    }
    far = sources["far"]
    assert far["located"] == 0 and far["reason"] == "postcode not in the postcode directory"
    assert "add its postcode table" in far["hint"]


def test_the_published_stage_names_only_the_register_sources_of_its_ledger(squares_ws, tmp_path):
    ws = squares_ws
    sources = ws.store.register_sources()
    hidden = next(iter(sources))
    ledger = ws.store.read_ledger()
    target = Store(tmp_path / "published", root=ws.project.root)
    write_published_stage(
        target,
        source=ws.store,
        profile=ws.store.read_profile().head(10),
        indicators=ws.store.read_indicators().head(5),
        ledger=ledger[ledger["dataset"] != hidden],  # a dataset the audience may not see
        register={},
        sources=source_table(list(ws.catalog)),
        disclosure_log=pd.DataFrame({"action": ["none"]}),
        audience="public",
        rule="nhs_digital",
        rule_text="the rule in words",
        marking="PUBLIC",
    )
    assert target.register_sources() == {k: v for k, v in sources.items() if k != hidden}


def test_the_pool_stage_csvs_are_safe_to_open_in_a_spreadsheet(pooled):
    ws, result, store = pooled
    crimes = result.rejected["crimes"].copy()
    text = next(c for c in crimes.columns if pd.api.types.is_string_dtype(crimes[c]))
    crimes[text] = crimes[text].astype(object)
    crimes.loc[crimes.index[0], text] = '=HYPERLINK("http://x","open")'
    crimes.loc[crimes.index[-1], text] = "-12.5"
    result.rejected["crimes"] = crimes
    write_pool_stage(
        store,
        result,
        areas=_boundaries(ws),
        centres=None,
        partnership=ws.partnership.describe(),
        config_files=[ws.project.partnership_file],
        patterns=[],
    )
    written = pd.read_csv(store.path / "rejected" / "crimes.csv.gz", dtype=str, keep_default_na=False)
    assert written[text].iat[0] == '\'=HYPERLINK("http://x","open")'
    assert written[text].iat[-1] == "-12.5"  # a number is not a formula
    for name in ("ledger.csv", "problems.csv", "code_agreement.csv", "ledger_measures.csv"):
        cells = pd.read_csv(store.path / name, dtype=str, keep_default_na=False).to_numpy().ravel()
        assert not [c for c in cells if c[:1] in ("=", "@", "\t", "\r")], name
