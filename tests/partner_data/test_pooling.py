"""Pooling, validation and the ledger: small partner files written here, then the shipped catalogue."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

from needskit.cli import main
from needskit.config.catalog import load_catalog, load_places
from needskit.config.project import project_dir
from needskit.errors import CatalogError, DataError
from needskit.partner_data.pooling import pool_catalog, prepare_dataset, write_pool
from needskit.partner_data.validate import validate_catalog

ROOT = project_dir()
CONF = ROOT / "conf" / "catalog.yml"

# three real Cheltenham points (lon, lat) and their 2021 LSOAs
CHELTENHAM_POINT = (-2.087158, 51.916259)  # E01022163
GLOUCESTER_POINT = (-2.2436, 51.8651)


def _entry(**overrides) -> dict:
    entry = {
        "title": "Test dataset",
        "partner": "Test partner",
        "theme": "safer_stronger_communities",
        "path": "data.csv",
        "format": "csv",
        "geography": {"kind": "points", "x": "lon", "y": "lat", "crs": "EPSG:4326"},
        "period": {"column": "month", "format": "%Y-%m", "range": ["2024-01", "2024-03"]},
        "record_id": "id",
        "measures": [{"name": "incidents", "count": "rows", "category": "type"}],
        "licence": "OGL-3.0",
        "sharing": "open",
        "refresh": "monthly",
        "last_updated": "2024-04-01",
    }
    entry.update(overrides)
    return entry


def _catalog(tmp_path: Path, entries: dict, *, text: str | None = None) -> Path:
    path = tmp_path / "catalog.yml"
    path.write_text(text if text is not None else yaml.safe_dump({"datasets": entries}), encoding="utf-8")
    return path


def _points_csv(tmp_path: Path, rows: list[tuple], name: str = "data.csv") -> Path:
    frame = pd.DataFrame(rows, columns=["id", "month", "lon", "lat", "type"])
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


# ---------------------------------------------------------------------------------- catalogue


def test_shipped_catalogue_covers_every_raw_dataset():
    catalog = load_catalog(CONF)
    raw = ROOT / "data" / "raw"
    covered = {f.resolve() for spec in catalog for f in spec.files()}
    reference = {p.resolve() for ref in catalog.reference for p in (ROOT).glob(ref.path)}
    shipped = {p.resolve() for p in raw.rglob("*") if p.is_file() and p.name not in ("MANIFEST.csv",)}
    assert shipped - covered - reference == set()
    assert {spec.sharing for spec in catalog} <= {"open", "partner", "restricted"}
    assert all(spec.last_updated and spec.refresh and spec.licence for spec in catalog)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"theme": "leisure"}, "'theme' is not a known value"),
        ({"sharing": "secret"}, "'sharing' is not a known value"),
        ({"format": "sas"}, "'format' is not a known value"),
        ({"colour": "red"}, "unknown key"),
        ({"measures": []}, "has no measures"),
        ({"measures": [{"name": "x", "count": "rows", "column": "n"}]}, "exactly one of"),
        ({"geography": {"kind": "points", "x": "lon"}}, "needs 'y'"),
        ({"period": {"column": "m", "value": "2024"}}, "exactly one of 'column' or 'value'"),
        ({"sharing": "partner"}, "information-sharing agreement"),
        ({"last_updated": "last week"}, "not a date"),
        ({"measures": [{"column": "score", "kind": "value", "aggregate": "sum"}]}, "cannot be summed"),
    ],
)
def test_malformed_catalogue_entries_are_named(tmp_path, change, message):
    path = _catalog(tmp_path, {"bad_entry": _entry(**change)})
    with pytest.raises(CatalogError, match=message) as info:
        load_catalog(path)
    assert "datasets.bad_entry" in str(info.value)


def test_catalogue_file_problems(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "nope.yml")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(_catalog(tmp_path, {}, text="datasets: [unclosed"))
    with pytest.raises(CatalogError, match="missing required key 'datasets'"):
        load_catalog(_catalog(tmp_path, {}, text="name: x\n"))


# ---------------------------------------------------------------------------------- adapters on real files


def _shipped(dataset_id: str):
    return load_catalog(CONF)[dataset_id]


def test_police_uk_keeps_unlocated_rows_and_rejects_outside():
    prepared = prepare_dataset(_shipped("police_street_crime"))
    status = prepared.rows["status"].value_counts().to_dict()
    assert sum(status.values()) == 19_869
    assert status == {"assigned": 19_058, "unlocated": 717, "outside": 94}
    assert set(prepared.rows.loc[prepared.rows["status"] == "unlocated", "reason"]) == {"no coordinates"}


def test_ods_extracts_named_and_closed_filtered():
    gp = prepare_dataset(_shipped("gp_practices"))
    reasons = gp.rows.loc[gp.rows["status"] == "outside", "reason"].value_counts()
    assert any("closed" in r for r in reasons.index)
    assert (gp.rows["status"] == "assigned").sum() == 65  # active GP practices (setting 4) in the county
    pharmacies = prepare_dataset(_shipped("pharmacies"))
    assert (pharmacies.rows["status"] == "assigned").sum() == 106
    assert pharmacies.rows.loc[pharmacies.rows["status"] == "assigned", "how"].eq("by_postcode").all()


def test_ons_tables_bom_thousands_and_single_years():
    from needskit.partner_data.ingest import read_file

    raw = ROOT / "data" / "raw"
    file1 = read_file(raw / "imd2019/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz", "ons_table")
    assert file1.columns[2] == "lsoa_code_2011"  # the BOM did not stick to the first header
    assert file1.loc[0, "index_of_multiple_deprivation_imd_rank"] == "29199"  # "29,199" without separator
    mye = read_file(raw / "population/mye2020_lsoa11_persons_syoa.csv.gz", "ons_mye")
    assert len(mye) == 34_753 * 19
    published = pd.read_csv(raw / "population/mye2020_lsoa11_persons_syoa.csv.gz")["total_population"].sum()
    assert mye["population"].sum() == published == 59_719_724


def test_generic_table_adapters_with_column_mapping(tmp_path):
    from needskit.partner_data.ingest import read_file

    frame = pd.DataFrame({"Area": ["E01022163"], "Visits": ["12"]})
    frame.to_parquet(tmp_path / "t.parquet")
    out = read_file(tmp_path / "t.parquet", "parquet", {"columns": {"Area": "area", "Visits": "visits"}})
    assert list(out.columns) == ["_file", "_row", "area", "visits"]
    with pytest.raises(DataError, match="lacks"):
        read_file(tmp_path / "t.parquet", "parquet", {"columns": {"Ward": "ward"}})
    import geopandas as gpd
    from shapely.geometry import Point

    gpd.GeoDataFrame({"name": ["hub"]}, geometry=[Point(394_619, 222_461)], crs="EPSG:27700").to_file(tmp_path / "s.gpkg")
    points = read_file(tmp_path / "s.gpkg", "gpkg")
    assert points.loc[0, "_x"] == 394_619


# ---------------------------------------------------------------------------------- validation errors


def _problems(tmp_path, entry, rows=None, *, content: bytes | None = None):
    if content is not None:
        (tmp_path / "data.csv").write_bytes(content)
    elif rows is not None:
        _points_csv(tmp_path, rows)
    catalog = load_catalog(_catalog(tmp_path, {"test": entry}))
    return validate_catalog(catalog)


def _good_rows():
    lon, lat = CHELTENHAM_POINT
    return [(f"c{i}", "2024-01", lon, lat, "Burglary") for i in range(20)]


def test_clean_file_has_no_problems(tmp_path):
    assert _problems(tmp_path, _entry(), _good_rows()) == []


@pytest.mark.parametrize(
    ("mutate", "what", "severity"),
    [
        (lambda r: r.__setitem__(3, ("c3", "2024-01", "east", 51.9, "Burglary")), "coordinate is not a number", "warning"),
        (lambda r: r.__setitem__(4, ("c4", "2024-07", -2.08, 51.91, "Burglary")), "period outside the declared range", "warning"),
        (lambda r: r.__setitem__(5, ("c5", "Jan 24", -2.08, 51.91, "Burglary")), "period is not a date", "warning"),
        (lambda r: r.__setitem__(6, ("c1", "2024-01", -2.08, 51.91, "Burglary")), "duplicated record id", "warning"),
        (lambda r: r.__setitem__(7, ("c7", "2024-01", 2.35, 48.85, "Burglary")), "coordinates outside Great Britain", "warning"),
        (lambda r: r.__setitem__(8, ("c8", "2024-01", None, None, "Burglary")), "no coordinates", "warning"),
    ],
)
def test_row_problems_are_reported_with_line_numbers(tmp_path, mutate, what, severity):
    rows = _good_rows()
    mutate(rows)
    problems = [p for p in _problems(tmp_path, _entry(max_invalid=0.5), rows) if p.severity != "info"]
    assert [p.what for p in problems] == [what]
    problem = problems[0]
    assert problem.severity == severity and problem.count == 1 and len(problem.rows) == 1
    line = problem.line()
    assert line.startswith("WARNING test: data.csv: line ") and what in line


def test_too_many_invalid_rows_is_an_error(tmp_path):
    rows = [(f"c{i}", "2024-09", -2.08, 51.91, "Burglary") for i in range(5)] + _good_rows()
    problems = _problems(tmp_path, _entry(), rows)
    assert any(p.severity == "error" and p.what == "too many invalid rows" for p in problems)


def test_swapped_coordinates_are_an_error_for_the_dataset(tmp_path):
    lon, lat = CHELTENHAM_POINT
    rows = [(f"c{i}", "2024-01", lat, lon, "Burglary") for i in range(10)]
    problems = _problems(tmp_path, _entry(), rows)
    assert len(problems) == 1 and problems[0].severity == "error" and "swapped" in problems[0].what


def test_structural_file_problems(tmp_path):
    cases = [
        (b"", "file is empty"),
        ("id,month,lon,lat,type\nc1,2024-01,-2.08,51.91,Caf\xe9\n".encode("cp1252"), "is not utf-8 text"),
        (b"id,month,longitude,lat,type\nc1,2024-01,-2.08,51.91,Burglary\n", "missing column"),
        (b"id,month,lon,lat,type\n", "no data rows"),
    ]
    for content, what in cases:
        problems = _problems(tmp_path, _entry(), content=content)
        assert len(problems) == 1 and problems[0].severity == "error", content
        assert what in problems[0].what.lower(), (what, problems[0].what)
    renamed = _problems(tmp_path, _entry(), content=b"ID,Month,lon,lat,type\nc1,2024-01,-2.08,51.91,B\n")
    assert "renamed?" in (renamed[0].hint or "")
    ods = _problems(tmp_path, _entry(format="ods"), content=b"A,B,C\n1,2,3\n")
    assert ods[0].what == "is not an ODS standard extract"
    (tmp_path / "data.csv.gz").write_bytes(b"not gzip at all")
    gz = validate_catalog(load_catalog(_catalog(tmp_path, {"test": _entry(path="data.csv.gz")})))
    assert "not gzip" in gz[0].what
    missing = validate_catalog(load_catalog(_catalog(tmp_path, {"test": _entry(path="nothing*.csv")})))
    assert "no file matches" in missing[0].what


def test_area_code_problems_negative_counts_and_numbers(tmp_path):
    frame = pd.DataFrame(
        {
            "lsoa": ["E01022163", "E01022164", "E01022165", "E01034777", "E01000001", "NOTACODE"],
            "n": ["5", "-2", "seven", "4", "3", "1"],
        }
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    entry = _entry(
        geography={"kind": "area_code", "column": "lsoa", "level": "lsoa", "vintage": 2011},
        period="2020", record_id=None, measures=[{"name": "n", "column": "n"}], max_invalid=0.9,
    )
    problems = {p.what: p for p in _problems(tmp_path, entry)}
    assert problems["negative count"].count == 1
    assert problems["value is not a number"].got == "'seven'"
    code = problems["not a lsoa code of the 2011 geography"]
    assert code.count == 2 and "vintage=2021" in code.hint  # E01034777 is a 2021 LSOA
    assert problems["outside the partnership area"].severity == "info"  # E01000001 is in London


def test_postcode_problems(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "pc": ["GL50 3PP", "gl503pq", "SW1A 1AA", "banana"]})
    frame.to_csv(tmp_path / "data.csv", index=False)
    entry = _entry(geography={"kind": "postcode", "postcode": "pc"}, period="2024-01",
                   measures=[{"name": "services", "count": "rows"}], max_invalid=0.5)
    problems = {p.what: p for p in _problems(tmp_path, entry)}
    assert problems["postcode not in the shipped postcode directory"].got == "'SW1A 1AA'"
    assert problems["not a postcode"].got == "'banana'"


# ---------------------------------------------------------------------------------- pooling invariants


def test_pool_conserves_rows_and_counts_on_a_partner_file(tmp_path):
    lon, lat = CHELTENHAM_POINT
    glon, glat = GLOUCESTER_POINT
    rows = (
        [(f"a{i}", "2024-01", lon, lat, "Burglary") for i in range(7)]
        + [(f"b{i}", "2024-02", glon, glat, "Robbery") for i in range(5)]
        + [("c0", "2024-02", None, None, "Robbery"), ("c1", "2024-03", -4.55, 51.93, "Robbery"), ("c2", "2024-09", lon, lat, "Burglary")]
    )
    _points_csv(tmp_path, rows)
    catalog = load_catalog(_catalog(tmp_path, {"test": _entry(max_invalid=0.5)}))
    result = pool_catalog(catalog, progress=False)
    ledger = result.ledger.set_index("period")
    assert ledger["read"].sum() == len(rows) == 15
    assert (ledger["read"] == ledger["assigned"] + ledger["unlocated"] + ledger["rejected"]).all()
    assert ledger.loc["2024-01", "assigned_within"] == 7
    assert ledger["unlocated"].sum() == 1 and ledger["rejected_outside"].sum() == 1 and ledger["rejected_invalid"].sum() == 1
    lsoa = result.profile[result.profile["level"] == "lsoa"]
    assert lsoa["value"].sum() == 12
    for level in ("msoa", "ward", "district", "county"):
        assert result.profile.loc[result.profile["level"] == level, "value"].sum() == 12
    assert lsoa.loc[lsoa["area_code"] == "E01022163", "value"].sum() == 7
    paths = write_pool(result, tmp_path / "out")
    rejected = pd.read_csv(tmp_path / "out" / "rejected" / "test.csv.gz")
    assert sorted(rejected["reason"]) == ["no coordinates", "outside the partnership area", "period outside the declared range"]
    assert pd.read_parquet(paths["profile"]).shape == result.profile.shape


def test_pool_converts_2011_lsoas_and_conserves(tmp_path):
    frame = pd.DataFrame({"lsoa": ["E01022158", "E01022100", "E01022101"], "n": [101, 7, 3]})
    frame.to_csv(tmp_path / "data.csv", index=False)
    entry = _entry(geography={"kind": "area_code", "column": "lsoa", "level": "lsoa", "vintage": 2011},
                   period="2020", record_id=None, measures=[{"name": "n", "column": "n"}])
    result = pool_catalog(load_catalog(_catalog(tmp_path, {"test": entry})), progress=False)
    lsoa = result.profile[result.profile["level"] == "lsoa"].set_index("area_code")["value"]
    assert lsoa.sum() == 111
    assert lsoa.loc[["E01034777", "E01034778"]].sum() == 101  # the split parent's children
    ledger = result.ledger.iloc[0]
    assert ledger["assigned_apportioned"] == 1 and ledger["assigned_by_code"] == 2
    assert result.measure_ledger["conserved"].all()


def test_shipped_catalogue_pools_cleanly_and_conserves(tmp_path):
    catalog = load_catalog(CONF)
    result = pool_catalog(catalog, progress=False, places=load_places(ROOT / "conf" / "places.yml"))
    assert not result.errors
    ledger = result.ledger
    assert (ledger["read"] == ledger["assigned"] + ledger["unlocated"] + ledger["rejected"]).all()
    assert result.measure_ledger["conserved"].all()
    profile = result.profile
    assert set(profile["level"]) >= {"lsoa", "msoa", "ward", "district", "county", "country", "partnership places"}
    # counts add up the hierarchy
    crimes = profile[(profile["dataset"] == "police_street_crime")]
    totals = crimes.groupby("level")["value"].sum()
    assert totals["lsoa"] == totals["district"] == totals["county"] == 19_058
    # denominators by age band for every LSOA
    pop = profile[(profile["dataset"] == "population_mye2020") & (profile["level"] == "lsoa")]
    assert pop["area_code"].nunique() == 393 and pop["category"].nunique() == 19
    assert pop["value"].sum() == 640_650
    england = profile[(profile["dataset"] == "population_mye2020") & (profile["area_code"] == "E92000001")]
    assert england["value"].sum() == pytest.approx(56_550_138)
    places = profile[profile["level"] == "partnership places"]
    assert set(places["area_name"]) == {"West Cheltenham", "Gloucester inner city", "Cheltenham town centre"}
    write_pool(result, tmp_path)
    import pyogrio

    layers = [name for name, _ in pyogrio.list_layers(tmp_path / "profile.gpkg")]
    assert layers == ["lsoa_2021", "msoa_2021", "ward_2021", "district_2021", "county_2021"]


def test_cli_validate_and_pool(tmp_path, capsys):
    assert main(["validate", "--catalog", str(CONF), "--dataset", "police_street_crime"]) == 0
    out = capsys.readouterr().out
    assert "1 datasets checked: 0 errors, 1 warnings" in out
    _points_csv(tmp_path, [("c1", "2024-01", 51.9, -2.08, "Burglary")] * 3)
    bad = _catalog(tmp_path, {"test": _entry()})
    assert main(["validate", "--catalog", str(bad)]) == 1
    assert "ERROR test" in capsys.readouterr().out
    assert main(["validate", "--catalog", str(tmp_path / "missing.yml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("needskit: error:") and "Traceback" not in err
    code = main(["pool", "--catalog", str(CONF), "--dataset", "police_street_crime", "--out", str(tmp_path / "p")])
    assert code == 0 and (tmp_path / "p" / "ledger.csv").exists()


def test_places_file_errors(tmp_path):
    bad = tmp_path / "places.yml"
    bad.write_text(textwrap.dedent("""
        places:
          Nowhere:
            wards: ["Atlantis"]
    """))
    with pytest.raises(CatalogError, match="unknown ward"):
        load_places(bad)
    bad.write_text("places:\n  Both:\n    lsoas: [E01022163]\n    postcodes: [GL50 3PP]\n")
    with pytest.raises(CatalogError, match="exactly one of"):
        load_places(bad)


def test_prepare_refuses_unknown_geography_kind(tmp_path):
    _points_csv(tmp_path, _good_rows())
    catalog = load_catalog(_catalog(tmp_path, {"test": _entry(geography={"kind": "polygons"})}))
    with pytest.raises(Exception, match="polygon"):
        prepare_dataset(catalog["test"])


# ---------------------------------------------------------------------------------- publishing


def _three_sharing_levels(tmp_path):
    lon, lat = CHELTENHAM_POINT
    glon, glat = GLOUCESTER_POINT
    rows = [(f"a{i}", "2024-01", lon, lat, "Burglary") for i in range(3)] + [
        (f"b{i}", "2024-01", glon, glat, "Robbery") for i in range(23)
    ]
    _points_csv(tmp_path, rows)
    entries = {
        "open_data": _entry(),
        "partner_data": _entry(sharing="partner", isa="ISA-2024-07 Gloucestershire data sharing protocol"),
        "restricted_data": _entry(sharing="restricted", isa="ISA-2024-09 safeguarding"),
    }
    catalog = load_catalog(_catalog(tmp_path, entries))
    return catalog, pool_catalog(catalog, progress=False)


def test_sharing_levels_decide_what_each_audience_gets(tmp_path):
    from needskit.partner_data.pooling import publish_result

    catalog, result = _three_sharing_levels(tmp_path)
    assert set(result.profile["dataset"]) == {"open_data", "partner_data", "restricted_data"}  # internal keeps all
    public = publish_result(result, catalog=catalog, audience="public")
    partner = publish_result(result, catalog=catalog, audience="partner")
    assert set(public.profile["dataset"]) == {"open_data"}
    assert set(partner.profile["dataset"]) == {"open_data", "partner_data"}
    assert "restricted_data" not in set(partner.profile["dataset"])
    paths = write_pool(public, tmp_path / "public")
    written = pd.read_parquet(paths["profile"])
    assert set(written["dataset"]) == {"open_data"}
    assert not (tmp_path / "public" / "rejected").exists() or not any((tmp_path / "public" / "rejected").iterdir())
    import json

    manifest = json.loads(paths["manifest"].read_text())
    assert manifest["audience"] == "public" and manifest["disclosure_rule"] == "nhs_digital"


def test_published_counts_follow_the_rule(tmp_path):
    from needskit.partner_data.pooling import publish_result

    catalog, result = _three_sharing_levels(tmp_path)
    public = publish_result(result, catalog=catalog, audience="public", rule="nhs_digital").profile
    lsoa = public[public["level"] == "lsoa"].set_index(["area_code", "category"])
    assert lsoa.loc[("E01022163", "Burglary"), "value_published"] == "*"  # 3 crimes
    assert lsoa.loc[("E01022163", "Burglary"), "suppressed"]
    counts = public["value"].dropna()
    assert (counts % 5 == 0).all() and not counts.between(1, 7).any()
    internal = result.profile
    exact = internal[(internal["level"] == "lsoa") & (internal["dataset"] == "open_data")]
    assert exact["value"].sum() == 26  # the internal profile keeps exact numbers
    secondary = publish_result(result, catalog=catalog, audience="public", rule="lt5_secondary")
    assert secondary.disclosure_log["action"].str.contains("secondary").any()


def test_generic_adapters_pool_and_conserve(tmp_path):
    """Excel and Parquet partner files with a column mapping pool like any other, nothing lost."""
    frame = pd.DataFrame(
        {"Postcode": ["GL50 3PP", "GL50 3PQ", "GL1 1AA", "SW1A 1AA"], "Sessions": [12, 3, 40, 7], "Service": ["youth", "youth", "debt", "debt"]}
    )
    frame.to_excel(tmp_path / "sessions.xlsx", index=False)
    frame.to_parquet(tmp_path / "sessions.parquet")
    base = _entry(
        geography={"kind": "postcode", "postcode": "postcode"}, period="2024-03", record_id=None,
        measures=[{"name": "sessions", "column": "sessions", "category": "service"}],
        options={"columns": {"Postcode": "postcode", "Sessions": "sessions", "Service": "service"}},
    )
    entries = {"excel_sessions": {**base, "path": "sessions.xlsx", "format": "excel"},
               "parquet_sessions": {**base, "path": "sessions.parquet", "format": "parquet"}}
    result = pool_catalog(load_catalog(_catalog(tmp_path, entries)), progress=False)
    for dataset in entries:
        ledger = result.ledger[result.ledger["dataset"] == dataset].iloc[0]
        assert (ledger["read"], ledger["assigned_by_postcode"], ledger["unlocated"]) == (4, 3, 1)
        values = result.measure_ledger[result.measure_ledger["dataset"] == dataset].iloc[0]
        assert (values["read"], values["assigned"], values["unlocated"], values["in_profile"]) == (62, 55, 7, 55)
        county = result.profile[(result.profile["dataset"] == dataset) & (result.profile["level"] == "county")]
        assert county["value"].sum() == 55
