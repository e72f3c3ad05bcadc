"""needskit.config.catalog: conf/catalog.yml — datasets, their register blocks and reference entries."""

from __future__ import annotations

import textwrap

import pytest

from needskit.config import load_catalog, load_partnership
from needskit.config.catalog import REFERENCE_FORMATS, RegisterSpec, parse_catalog
from needskit.errors import CatalogError
from needskit.workspace import init_workspace
from partner_files import CONF, RAW, ROOT, entry, write_catalog

TEXT = textwrap.dedent(
    """\
    name: Test catalogue
    defaults:
      licence: OGL-3.0
      sharing: open
    datasets:
      crimes:
        title: Crimes
        partner: Police
        theme: safer_stronger_communities
        path: data.csv
        format: csv
        geography: {kind: points, x: lon, y: lat, crs: "EPSG:4326"}
        period: {column: month, format: "%Y-%m"}
        record_id: id
        measures:
          - {name: crimes, count: rows, category: type}
        refresh: monthly
        last_updated: 2024-04-01
    reference:
      lookups:
        title: Lookups
        format: ons_lookups
        vintage: 2021
        path: lookups.csv
        publisher: ONS
        licence: OGL-3.0
    """
)


# ---------------------------------------------------------------------------------- the shipped catalogue


def test_shipped_catalogue_covers_every_raw_dataset(tmp_path):
    catalog = load_catalog(CONF / "catalog.yml")
    covered = {f.resolve() for spec in catalog for f in spec.files()}
    reference = {f.resolve() for ref in catalog.reference for f in ref.files()}
    # the national backbone: used by the catalogue `needskit init` writes for other partnerships
    template = load_catalog(
        init_workspace(tmp_path / "ws", areas=["E06000023"]).root / "conf" / "catalog.yml"
    )
    national = {f.resolve() for spec in template for f in spec.files()}
    national |= {f.resolve() for ref in template.reference for f in ref.files()}
    national.add((RAW / "lookups" / "retired_areas.csv.gz").resolve())  # read by needskit init
    shipped = {p.resolve() for p in RAW.rglob("*") if p.is_file() and p.name != "MANIFEST.csv"}
    assert shipped - covered - reference - national == set()
    assert all(spec.files() for spec in catalog), [spec.id for spec in catalog if not spec.files()]
    assert {spec.sharing for spec in catalog} <= {"open", "partner", "restricted"}
    assert all(spec.last_updated and spec.refresh and spec.licence for spec in catalog)
    assert all(spec.root == ROOT for spec in catalog)  # root: .. is the project folder
    assert {ref.format for ref in catalog.reference} <= set(REFERENCE_FORMATS)


def test_shipped_partnership_names_reference_entries_of_the_right_format():
    catalog = load_catalog(CONF / "catalog.yml")
    reference = load_partnership(CONF / "partnership.yml").reference
    for name in reference.lookups:
        spec = catalog.reference_entry(name)
        assert spec.format == "ons_lookups" and spec.vintage in (2011, 2021) and spec.files()
    assert catalog.reference_entry(reference.lsoa_changes).format == "ons_lsoa_changes"
    assert all(catalog.reference_entry(b).format == "area_layers" for b in reference.boundaries)
    assert reference.postcodes in catalog and all(d in catalog for d in reference.population.values())
    lookups = catalog.reference_entry("lookups_2021")
    assert (
        len(lookups.paths) == 6
        and [f.name for f in lookups.files()][0] == "lookup_lsoa21_ward24_ltla24.csv.gz"
    )


# ---------------------------------------------------------------------------------- malformed entries


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"theme": "leisure"}, "'theme' is not a known value"),
        ({"sharing": "secret"}, "'sharing' is not a known value"),
        ({"format": "sas"}, "'format' is not a known value"),
        ({"colour": "red"}, "unknown key"),
        ({"measures": []}, "has no measures"),
        ({"measures": [{"name": "x", "count": "rows", "column": "n"}]}, "exactly one of"),
        ({"measures": [{"name": "x", "count": "columns"}]}, "'count' can only be 'rows'"),
        ({"measures": [{"count": "rows"}]}, "a row-count measure needs a 'name'"),
        ({"measures": [{"name": "x", "column": "n", "kind": "class"}]}, "a 'class' measure needs 'category'"),
        (
            {"measures": [{"columns": "score[", "kind": "value", "aggregate": "none"}]},
            "not a valid regular expression",
        ),
        ({"measures": [{"column": "score", "kind": "value", "aggregate": "sum"}]}, "cannot be summed"),
        ({"measures": [{"column": "n", "aggregate": "median"}]}, "'aggregate' is not a known value"),
        ({"geography": {"kind": "points", "x": "lon"}}, "needs 'y'"),
        ({"geography": {"kind": "area_code", "column": "lsoa", "level": "lsoa"}}, "needs 'vintage'"),
        (
            {"geography": {"kind": "area_code", "column": "c", "level": "parish", "vintage": 2021}},
            "'level' is not a known",
        ),
        (
            {"geography": {"kind": "area_code", "column": "c", "level": "lsoa", "vintage": 2001}},
            "'vintage' is not a known",
        ),
        ({"geography": {"kind": "postcode"}}, "needs 'postcode'"),
        (
            {"geography": {"kind": "postcode", "postcode": "pc", "code": "LSOA code"}},
            r"'code' is for points \(the publisher's own LSOA code beside each point\), not kind 'postcode'",
        ),
        (
            {"geography": {"kind": "points", "x": "x", "y": "y", "crs": "EPSG:4326", "code": 5}},
            "'code' has the wrong type",
        ),
        ({"geography": {"kind": "hexagons"}}, "'kind' is not a known value"),
        ({"geography": "points"}, "is not a mapping"),
        ({"period": {"column": "m", "value": "2024"}}, "exactly one of 'column' or 'value'"),
        (
            {"period": {"column": "m", "range": ["2024-03", "2024-01"]}},
            r"period range must be \[first, last\]",
        ),
        ({"period": {"column": "m", "range": ["2024-01"]}}, r"period range must be \[first, last\]"),
        ({"sharing": "partner"}, "information-sharing agreement"),
        ({"sharing": "restricted"}, "information-sharing agreement"),
        ({"last_updated": "last week"}, "not a date"),
        ({"comparators": ["nation"]}, "unknown comparator level"),
        ({"role": "numerator"}, "'role' is not a known value"),
        ({"max_invalid": "a few"}, "'max_invalid' has the wrong type"),
        ({"illustrative": "yes"}, "'illustrative' has the wrong type"),
        ({"scope": [{"column": "type", "op": "in", "value": "Burglary"}]}, "needs a list value"),
        ({"scope": [{"column": "type", "op": "like", "value": "B"}]}, "'op' is not a known value"),
        ({"scope": [{"column": "type", "op": "matches", "value": "(B"}]}, "not a valid regular expression"),
        ({"register": {"table": "ledger"}}, "'table' is not a known value"),
        (
            {"register": {"table": "services", "columns": {"name": 5}}},
            "maps register columns to file columns",
        ),
        ({"register": "services"}, "is not a mapping"),
        ({"title": None}, "missing required key 'title'"),
    ],
)
def test_malformed_catalogue_entries_are_named(tmp_path, change, message):
    path = write_catalog(tmp_path, {"bad_entry": entry(**change)})
    with pytest.raises(CatalogError, match=message) as info:
        load_catalog(path)
    assert "datasets.bad_entry" in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "message", "key", "line"),
    [
        (
            "    theme: safer_stronger_communities",
            "    theme: leisure",
            "'theme' is not a known value",
            "crimes.theme",
            9,
        ),
        ("    format: csv", "    format: sas", "'format' is not a known value", "crimes.format", 11),
        (
            "    refresh: monthly",
            "    refresh: monthly\n    colour: red",
            r"unknown key \['colour'\]",
            "crimes.colour",
            18,
        ),
        (
            '    geography: {kind: points, x: lon, y: lat, crs: "EPSG:4326"}',
            "    geography: {kind: points, x: lon}",
            "needs 'y'",
            "crimes.geography",
            12,
        ),
        (
            '    period: {column: month, format: "%Y-%m"}',
            "    period: {column: month, value: 2024}",
            "exactly one of 'column' or 'value'",
            "crimes.period",
            13,
        ),
        (
            '    period: {column: month, format: "%Y-%m"}',
            "    period: {column: month, when: x}",
            r"unknown key \['when'\]",
            "crimes.period.when",
            13,
        ),
        (
            "    measures:\n      - {name: crimes, count: rows, category: type}",
            "    measures: []",
            "has no measures",
            "crimes.measures",
            15,
        ),
        (
            "      - {name: crimes, count: rows, category: type}",
            "      - {name: crimes, count: rows, column: n}",
            "exactly one of",
            "crimes.measures[0]",
            16,
        ),
        (
            "      - {name: crimes, count: rows, category: type}",
            "      - {column: n, kind: value, aggregate: sum}",
            "cannot be summed",
            "crimes.measures[0]",
            16,
        ),
        (
            "    refresh: monthly",
            "    sharing: partner\n    refresh: monthly",
            "information-sharing agreement",
            "crimes.sharing",
            17,
        ),
        ("    last_updated: 2024-04-01", "    last_updated: soon", "not a date", "crimes.last_updated", 18),
        ("  sharing: open", "  sharing: secret", "'sharing' is not a known value", "crimes.sharing", 4),
        (
            "    record_id: id",
            "    record_id: [id]",
            "'record_id' has the wrong type",
            "crimes.record_id",
            14,
        ),
        (
            "    record_id: id",
            "    record_id: id\n    register: {table: ledger}",
            "'table' is not a known value",
            "crimes.register.table",
            15,
        ),
        ("    vintage: 2021\n", "", "ONS lookups need the LSOA vintage", "reference.lookups", 21),
        (
            "    format: ons_lookups",
            "    format: shapefile",
            "'format' is not a known value",
            "lookups.format",
            22,
        ),
        ("    publisher: ONS\n", "", "missing required key 'publisher'", "reference.lookups", 21),
    ],
)
def test_mistakes_name_file_entry_key_and_line(tmp_path, old, new, message, key, line):
    assert old in TEXT
    path = write_catalog(tmp_path, {}, text=TEXT.replace(old, new, 1))
    with pytest.raises(CatalogError, match=message) as info:
        load_catalog(path)
    text = str(info.value)
    assert str(path) in text and key in text and f"(line {line})" in text, text
    assert text.count("(line ") == 1, text


def test_catalogue_file_problems(tmp_path):
    with pytest.raises(CatalogError, match="not found") as info:
        load_catalog(tmp_path / "nope.yml")
    assert "--catalog" in str(info.value)
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(write_catalog(tmp_path, {}, text="datasets: [unclosed"))
    with pytest.raises(CatalogError, match="missing required key 'datasets'"):
        load_catalog(write_catalog(tmp_path, {}, text="name: x\n"))
    with pytest.raises(CatalogError, match="'datasets' has the wrong type"):
        load_catalog(write_catalog(tmp_path, {}, text="datasets: [a, b]\n"))
    with pytest.raises(CatalogError, match="dataset ids are lower_snake_case"):
        load_catalog(write_catalog(tmp_path, {"Bad-Id": entry()}))
    with pytest.raises(CatalogError, match="an id is both a dataset and a reference entry"):
        reference = {"crimes": {"title": "x", "path": "x.csv", "publisher": "p", "licence": "l"}}
        load_catalog(write_catalog(tmp_path, {"crimes": entry()}, reference=reference))
    with pytest.raises(CatalogError, match="missing required key") as info:
        load_catalog(write_catalog(tmp_path, {}, text="datasets:\n  bare:\n"))  # an entry with no keys
    assert "datasets.bare" in str(info.value)


# ---------------------------------------------------------------------------------- valid entries


def test_a_valid_entry_with_defaults_and_root(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "data").mkdir()
    for name in ("b.csv", "a.csv", "c.txt"):
        (tmp_path / "data" / name).write_text("x\n")
    text = TEXT.replace("name: Test catalogue", "name: Test catalogue\nroot: ..").replace(
        "path: data.csv", "path: data/*.csv"
    )
    path = write_catalog(tmp_path / "conf", {}, text=text)
    catalog = load_catalog(path)
    assert catalog.name == "Test catalogue" and catalog.path == path and len(catalog) == 1
    spec = catalog["crimes"]
    assert spec.root == tmp_path.resolve() and [f.name for f in spec.files()] == ["a.csv", "b.csv"]
    assert (spec.licence, spec.sharing) == ("OGL-3.0", "open")  # from defaults
    assert spec.last_updated == "2024-04-01" and spec.role == "partner" and spec.max_invalid == 0.01
    assert spec.register is None and spec.measures[0].count_rows and spec.measures[0].aggregate == "sum"
    assert "crimes" in catalog and "burglary" not in catalog
    assert catalog.sharing() == {"crimes": "open"}
    assert catalog.select(None) is catalog and catalog.select(["crimes"]).datasets == (spec,)
    assert str(spec.source) == str(path)


def test_measure_kinds_and_aggregates():
    data = {
        "datasets": {
            "scores": entry(
                geography={"kind": "area_code", "column": "lsoa", "level": "lsoa", "vintage": 2021},
                period=2025,
                measures=[
                    {"columns": "score$|rank$", "kind": "value", "aggregate": "none"},
                    {"column": "rate", "kind": "value"},
                    {"name": "ruc", "count": "rows", "kind": "class", "category": "ruc_class"},
                    {"name": "n", "column": "n", "category": "age", "unit": "people"},
                ],
            )
        }
    }
    spec = parse_catalog(data, root=ROOT)["scores"]
    assert spec.period.value == "2025"  # a plain year is one fixed period
    assert [m.aggregate for m in spec.measures] == ["none", "none", "sum", "sum"]
    assert spec.measures[0].columns == "score$|rank$" and spec.measures[3].unit == "people"


def test_unknown_ids_are_clear_errors(tmp_path):
    catalog = load_catalog(write_catalog(tmp_path, {"crimes": entry()}))
    with pytest.raises(CatalogError, match="no such dataset") as info:
        catalog["burglary"]
    assert "['crimes']" in str(info.value)
    with pytest.raises(CatalogError, match="no such dataset"):
        catalog.select(["crimes", "burglary"])
    with pytest.raises(CatalogError, match="no such reference entry") as info:
        catalog.reference_entry("lookups")
    assert "conf/partnership.yml" in str(info.value)


# ---------------------------------------------------------------------------------- register: blocks


def test_register_block_values_and_columns(tmp_path):
    register = {
        "table": "services",
        "partner": "NHS primary care",
        "partner_sector": "nhs",
        "columns": {"name": "practice_name"},
        "title_case": ["name"],
    }
    catalog = load_catalog(write_catalog(tmp_path, {"gp": entry(register=register)}))
    spec = catalog["gp"].register
    assert isinstance(spec, RegisterSpec) and spec.table == "services"
    assert spec.columns == {"name": "practice_name"}
    assert spec.values == {"partner": "NHS primary care", "partner_sector": "nhs", "title_case": ["name"]}
    for table in ("spend", "catchments"):
        catalog = load_catalog(write_catalog(tmp_path, {"x": entry(register={"table": table})}))
        assert catalog["x"].register == RegisterSpec(table)
    with pytest.raises(CatalogError, match="missing required key 'table'"):
        load_catalog(write_catalog(tmp_path, {"x": entry(register={"partner": "x"})}))


# ---------------------------------------------------------------------------------- reference: entries


def _reference(**overrides) -> dict:
    spec = {
        "title": "Lookups",
        "format": "ons_lookups",
        "vintage": 2021,
        "path": "lookups.csv",
        "publisher": "ONS",
        "licence": "OGL-3.0",
    }
    spec.update(overrides)
    return {key: value for key, value in spec.items() if value is not None}


def test_reference_entries(tmp_path):
    for name in ("l1.csv", "l2.csv", "a.gpkg"):
        (tmp_path / name).write_text("x\n")
    reference = {
        "lookups": _reference(path=None, paths=["l2.csv", "l1.csv"]),
        "boundaries": _reference(format="area_layers", vintage=None, path="*.gpkg", attribution=["ONSGEO"]),
        "changes": _reference(format="ons_lsoa_changes", vintage=None, path="l1.csv"),
        "readme": _reference(format=None, vintage=None, path="README.md", notes="for provenance"),
    }
    catalog = load_catalog(write_catalog(tmp_path, {"crimes": entry()}, reference=reference))
    lookups = catalog.reference_entry("lookups")
    assert lookups.paths == ("l2.csv", "l1.csv") and [f.name for f in lookups.files()] == ["l2.csv", "l1.csv"]
    assert lookups.path == "l2.csv, l1.csv" and lookups.vintage == 2021
    boundaries = catalog.reference_entry("boundaries")
    assert boundaries.format == "area_layers" and [f.name for f in boundaries.files()] == ["a.gpkg"]
    assert boundaries.attribution == ("ONSGEO",)
    assert catalog.reference_entry("changes").format == "ons_lsoa_changes"
    readme = catalog.reference_entry("readme")
    assert readme.format == "other" and readme.files() == [] and readme.notes == "for provenance"


def test_a_postcode_directory_entry_is_a_folder_that_may_be_empty(tmp_path):
    assert "postcode_directory" in REFERENCE_FORMATS
    reference = {
        "postcode_tables": _reference(format="postcode_directory", vintage=None, path="data/raw/postcodes/*")
    }
    catalog = load_catalog(write_catalog(tmp_path, {"crimes": entry()}, reference=reference))
    tables = catalog.reference_entry("postcode_tables")
    assert tables.format == "postcode_directory" and tables.paths == ("data/raw/postcodes/*",)
    assert tables.files() == []  # nothing dropped yet: not an error in the catalogue
    (tmp_path / "data/raw/postcodes").mkdir(parents=True)
    for name in ("b_codepo_gb.zip", "a_onspd.csv.gz"):
        (tmp_path / "data/raw/postcodes" / name).write_bytes(b"")
    assert [f.name for f in tables.files()] == ["a_onspd.csv.gz", "b_codepo_gb.zip"]  # in name order
    with pytest.raises(CatalogError, match="'format' is not a known value.*postcode_directory"):
        load_catalog(
            write_catalog(
                tmp_path, {"crimes": entry()}, reference={"pc": _reference(format="postcodes", vintage=None)}
            )
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vintage": None}, "ONS lookups need the LSOA vintage"),
        ({"vintage": 2001}, "'vintage' is not a known value"),
        ({"format": "shapefile"}, "'format' is not a known value"),
        ({"path": None}, "missing required key 'paths'"),
        ({"path": 5}, "'path' has the wrong type"),
        ({"publisher": None}, "missing required key 'publisher'"),
        ({"licence": None}, "missing required key 'licence'"),
        ({"colour": "red"}, "unknown key"),
    ],
)
def test_malformed_reference_entries_are_named(tmp_path, change, message):
    path = write_catalog(tmp_path, {"crimes": entry()}, reference={"lookups": _reference(**change)})
    with pytest.raises(CatalogError, match=message) as info:
        load_catalog(path)
    assert "reference.lookups" in str(info.value) and str(path) in str(info.value)


def test_points_may_carry_the_publishers_own_lsoa_code(tmp_path):
    geography = {"kind": "points", "x": "Longitude", "y": "Latitude", "crs": "EPSG:4326", "code": "LSOA code"}
    spec = load_catalog(write_catalog(tmp_path, {"crimes": entry(geography=geography)}))["crimes"]
    assert spec.geography.code == "LSOA code" and spec.geography.kind == "points"
    assert load_catalog(write_catalog(tmp_path, {"crimes": entry()}))["crimes"].geography.code is None
    shipped = load_catalog(CONF / "catalog.yml")["police_street_crime"]
    assert (shipped.geography.code, shipped.period.range, shipped.path) == (
        "LSOA code",
        None,
        "data/raw/police/*",
    )
