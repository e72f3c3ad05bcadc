"""needskit.resources (register): the illustrative register, its builder, the register the pipeline
pools into the store, service points and supply per head."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml

from needskit import resources as res
from needskit.config.catalog import THEMES, parse_catalog
from needskit.errors import GeographyError, NeedskitWarning, SchemaError
from needskit.place import hierarchy, load_areas
from shipped import RAW

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_illustrative_register.py"
SHIPPED = RAW / "illustrative"
X0, Y0 = 394_000, 222_000  # the conftest squares
# the built-in example's county and districts (test data, not code)
COUNTY_CODE = "E10000013"
DISTRICT_CODES = {
    "E07000078": "Cheltenham",
    "E07000079": "Cotswold",
    "E07000080": "Forest of Dean",
    "E07000081": "Gloucester",
    "E07000082": "Stroud",
    "E07000083": "Tewkesbury",
}


def _builder():
    spec = importlib.util.spec_from_file_location("build_illustrative_register", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def builder():
    return _builder()


@pytest.fixture(scope="module")
def built(builder):
    return builder.build(builder.SEED)


def _residents(store) -> pd.DataFrame:
    profile = store.read_profile(levels=["lsoa"], datasets=["population_census2021"])
    rows = profile[profile["measure"] == "usual_residents"]
    return rows.rename(columns={"category": "age_group", "value": "usual_residents"})[
        ["area_code", "age_group", "usual_residents"]
    ]


@pytest.fixture(scope="module")
def register(shipped_store):
    return res.build_register(
        services=shipped_store.read_register("services"),
        spend=shipped_store.read_register("spend"),
        catchments=shipped_store.read_register("catchments"),
        population=_residents(shipped_store),
    )


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(
        SHIPPED / name, dtype={"postcode": str, "lsoa": str, "lsoa21_code": str, "ward_code": str}
    )


# ============================================================================================
# The builder: deterministic, reproduces the shipped files


def test_same_seed_gives_byte_identical_files_and_reproduces_the_shipped_ones(builder, built):
    again = builder.build(builder.SEED)
    assert set(built) == {"services.csv", "spend.csv", "catchments.csv", "README.md"}
    for name, data in built.items():
        assert again[name] == data, name
        assert (SHIPPED / name).read_bytes() == data, f"shipped {name} is not what the script makes"


def test_another_seed_gives_another_register(builder, built):
    other = builder.build(builder.SEED + 1)
    assert other["services.csv"] != built["services.csv"]
    assert other["spend.csv"] != built["spend.csv"]


def test_writing_refuses_to_change_existing_files_unless_forced(builder, built, tmp_path):
    assert builder.write(built, tmp_path) == []
    assert builder.write(built, tmp_path) == []  # identical files: nothing to refuse
    changed = dict(built, **{"spend.csv": b"changed\n"})
    with pytest.raises(SystemExit, match="already exist with different contents"):
        builder.write(changed, tmp_path)
    assert (tmp_path / "spend.csv").read_bytes() == built["spend.csv"]
    assert builder.write(changed, tmp_path, force=True) == ["spend.csv"]
    assert (tmp_path / "spend.csv").read_bytes() == b"changed\n"


# ============================================================================================
# The shipped illustrative files


def test_shipped_register_is_small_and_labelled_illustrative_everywhere():
    sizes = sum(p.stat().st_size for p in SHIPPED.iterdir() if p.is_file())
    assert sizes < 1_000_000
    for name in ("services.csv", "spend.csv", "catchments.csv"):
        frame = _read(name)
        assert len(frame) > 0
        assert frame["illustrative"].dtype == bool and frame["illustrative"].all(), name
    readme = (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert "ILLUSTRATIVE" in readme and "NOT REAL DATA" in readme
    assert f"seed **{_builder().SEED}**" in readme
    services = _read("services.csv")
    assert services["name"].str.endswith("(illustrative)").all()


def test_services_sit_at_real_postcodes_in_their_own_district(shipped_geography):
    from needskit.place import assign_points, normalise_postcode

    services = _read("services.csv")
    onspd = pd.read_csv(RAW / "lookups" / "onspd_nov2025_GL_postcodes.csv.gz", dtype=str)
    onspd["postcode"] = onspd["pcds"].map(normalise_postcode)
    directory = onspd.drop_duplicates("postcode").set_index("postcode")
    assert services["postcode"].isin(directory.index).all()
    at = directory.loc[services["postcode"]]
    assert (at["oseast1m"].astype(float).to_numpy() == services["easting"].to_numpy()).all()
    assert (at["osnrth1m"].astype(float).to_numpy() == services["northing"].to_numpy()).all()
    assert (at["laua"].to_numpy() == services["district_code"].to_numpy()).all()
    # and the point lies in that district's boundary
    located = assign_points(
        services, x="easting", y="northing", crs="EPSG:27700", level="district", geography=shipped_geography
    )
    assert (located["area_code"] == services["district_code"]).all()
    assert (services["district_name"] == services["district_code"].map(DISTRICT_CODES)).all()


def test_services_have_the_required_types_themes_and_plausible_values():
    services = _read("services.csv")
    assert services["service_id"].is_unique
    wanted = {
        "childrens_centre",
        "library",
        "community_centre",
        "youth_service",
        "food_bank",
        "debt_advice",
        "neighbourhood_policing_team",
    }
    assert wanted <= set(services["service_type"])
    assert set(services["theme"]) <= set(THEMES) - {"cross_cutting"}
    assert {"council", "police", "voluntary", "nhs"} <= set(services["partner_sector"])
    assert (services["capacity"] > 0).all() and (services["annual_cost_gbp"] > 0).all()
    assert services["opening_hours"].notna().all() and (services["hours_per_week"] > 0).all()
    assert (services.groupby("service_type")["capacity_unit"].nunique() == 1).all()
    # every district has a policing team and a housing advice service
    for kind in ("neighbourhood_policing_team", "housing_advice"):
        assert set(services.loc[services["service_type"] == kind, "district_code"]) == set(DISTRICT_CODES)
    # two partners run youth services: the duplication example
    assert services.loc[services["service_type"] == "youth_service", "partner"].nunique() == 2


def test_catchments_are_county_lsoas_and_policing_areas_tile_each_district(shipped_geography):
    services = _read("services.csv")
    catchments = _read("catchments.csv")
    table = hierarchy(geography=shipped_geography)
    county = table[table["county"] == COUNTY_CODE]
    assert catchments["service_id"].isin(services["service_id"]).all()
    assert catchments["lsoa21_code"].isin(county["lsoa"]).all()
    assert not catchments.duplicated(["service_id", "lsoa21_code"]).any()
    own = services.set_index("service_id")["lsoa"]
    radius = services.loc[services["catchment"].str.startswith("LSOAs within"), "service_id"]
    pairs = set(zip(catchments["service_id"], catchments["lsoa21_code"], strict=True))
    assert all((sid, own[sid]) in pairs for sid in radius)  # a service serves its own LSOA
    teams = services.loc[
        services["service_type"] == "neighbourhood_policing_team", ["service_id", "district_code"]
    ]
    covered = catchments.merge(teams, on="service_id")
    assert covered["lsoa21_code"].is_unique  # each LSOA has one team
    assert set(covered["lsoa21_code"]) == set(county["lsoa"])
    district_of = county.set_index("lsoa")["district"]
    assert (covered["lsoa21_code"].map(district_of) == covered["district_code"]).all()


def test_spend_covers_every_county_ward_with_non_negative_amounts(shipped_geography):
    spend = _read("spend.csv")
    wards = set(load_areas("ward", geography=shipped_geography)["area_code"])
    assert set(spend["ward_code"]) == wards
    assert (spend["spend_gbp"] >= 0).all() and (spend["spend_gbp"] % 100 == 0).all()
    assert set(spend["theme"]) <= set(THEMES)
    assert not spend.duplicated(["ward_code", "partner", "theme"]).any()


CATALOG_ENTRIES = """
name: illustrative register entries
root: .
datasets:
  illustrative_services:
    title: ILLUSTRATIVE partner services register
    partner: Illustrative — Gloucestershire partners (made-up data)
    theme: cross_cutting
    path: data/raw/illustrative/services.csv
    format: csv
    geography: {kind: points, x: easting, y: northing, crs: "EPSG:27700"}
    period: "2024/25"
    record_id: service_id
    measures:
      - {name: services, count: rows, category: service_type}
      - {name: service_annual_cost_gbp, column: annual_cost_gbp, category: service_type, unit: GBP}
    licence: MIT (made-up values); anchors OGL-3.0
    sharing: open
    refresh: on demand
    last_updated: 2025-06-01
    illustrative: true
  illustrative_spend:
    title: ILLUSTRATIVE partner spend by ward and theme, 2024/25
    partner: Illustrative — Gloucestershire partners (made-up data)
    theme: cross_cutting
    path: data/raw/illustrative/spend.csv
    format: csv
    geography: {kind: area_code, column: ward_code, level: ward, vintage: 2021}
    period: "2024/25"
    measures:
      - {name: spend_gbp_by_theme, column: spend_gbp, category: theme, unit: GBP}
    licence: MIT (made-up values); anchors OGL-3.0
    sharing: open
    refresh: on demand
    last_updated: 2025-06-01
    illustrative: true
  illustrative_catchments:
    title: ILLUSTRATIVE service catchments
    partner: Illustrative — Gloucestershire partners (made-up data)
    theme: cross_cutting
    path: data/raw/illustrative/catchments.csv
    format: csv
    geography: {kind: area_code, column: lsoa21_code, level: lsoa, vintage: 2021}
    period: "2024/25"
    measures:
      - {name: catchments_covering, count: rows, category: theme}
    licence: MIT (made-up values); anchors OGL-3.0
    sharing: open
    refresh: on demand
    last_updated: 2025-06-01
    illustrative: true
"""


def test_catalogue_entries_parse_and_pool_every_row(shipped_workspace):
    from needskit.partner_data.pooling import pool_catalog

    catalog = parse_catalog(yaml.safe_load(CATALOG_ENTRIES), root=ROOT)
    assert all(spec.illustrative for spec in catalog)
    result = pool_catalog(
        catalog, area=shipped_workspace.area, geography=shipped_workspace.geography, progress=False
    )
    ledger = result.ledger.set_index("dataset")
    for dataset, name in [
        ("illustrative_services", "services.csv"),
        ("illustrative_spend", "spend.csv"),
        ("illustrative_catchments", "catchments.csv"),
    ]:
        assert ledger.loc[dataset, "read"] == ledger.loc[dataset, "assigned"] == len(_read(name))
    profile = result.profile
    cost = profile[(profile["measure"] == "service_annual_cost_gbp") & (profile["level"] == "county")]
    assert cost["value"].sum() == _read("services.csv")["annual_cost_gbp"].sum()


# ============================================================================================
# Loading the register


def test_the_store_register_holds_illustrative_and_real_nhs_services(register):
    services = register.services
    assert isinstance(services, gpd.GeoDataFrame) and services.crs.to_epsg() == 27700
    assert services["service_id"].is_unique and services["area_code"].notna().all()
    assert register.illustrative
    assert register.notes[0] == res.ILLUSTRATIVE_NOTE
    assert res.NO_LIST_SIZE_NOTE in register.notes and res.NO_REGISTER_NOTE not in register.notes
    nhs = services[~services["illustrative"].astype(bool)]
    assert set(nhs["service_type"]) == {"gp_practice", "pharmacy"}
    assert nhs["capacity"].isna().all()  # the ODS extracts have no list size
    assert nhs["name"].str.istitle().mean() > 0.8  # ODS names title-cased by the catalogue's register block
    assert services[services["illustrative"].astype(bool)].shape[0] == len(_read("services.csv"))
    # LSOAs assigned by the pool are those the builder recorded
    own = _read("services.csv").set_index("service_id")["lsoa"]
    ill = services[services["illustrative"].astype(bool)].set_index("service_id")["area_code"]
    assert (ill.astype(str) == own.loc[ill.index]).all()
    assert set(register.catchments.columns) >= {"service_id", "area_code", "theme", "partner"}
    assert register.residents().sum() == register.population["usual_residents"].sum()
    assert len(register.residents()) == 393


def test_gp_practices_are_the_catalogue_scope_and_the_ledger_counts_the_rest(register, shipped_store):
    from needskit.partner_data.ingest import ods

    raw = ods.read(RAW / "nhs" / "epraccur.csv.gz", {})
    scope = raw[
        (raw["status_code"] == "A")
        & raw["postcode"].str.startswith("GL")
        & (raw["prescribing_setting"] == "4")
    ]
    gps = register.services[register.services["service_type"] == "gp_practice"]
    assert set(gps["service_id"]) <= set(scope["organisation_code"])
    ledger = shipped_store.read_ledger().set_index("dataset")
    assert ledger.loc["gp_practices", "assigned"] == len(gps) == 65  # one place says how many: the pool
    assert (
        ledger.loc["gp_practices", "read"]
        == ledger.loc["gp_practices", ["assigned", "unlocated", "rejected"]].sum()
    )


def test_a_register_without_services_says_so():
    empty = res.build_register(
        services=pd.DataFrame(),
        spend=pd.DataFrame(),
        catchments=pd.DataFrame(),
        population=pd.DataFrame(columns=["area_code", "age_group", "usual_residents"]),
    )
    assert len(empty.services) == 0 and not empty.illustrative
    assert res.NO_REGISTER_NOTE in empty.notes
    with pytest.raises(SchemaError, match="not catalogue themes"):
        res.build_register(
            services=pd.DataFrame(
                {
                    "service_id": ["a"],
                    "service_type": ["x"],
                    "partner": ["p"],
                    "theme": ["astrology"],
                    "easting": [1.0],
                    "northing": [1.0],
                    "area_code": ["A"],
                }
            ),
            spend=pd.DataFrame(),
            catchments=pd.DataFrame(),
            population=pd.DataFrame(),
        )


def test_residents_by_age_group(register):
    children = register.residents("Aged 15 years and under")
    assert (children <= register.residents().loc[children.index]).all()
    assert children.sum() < register.residents().sum()
    with pytest.raises(SchemaError, match="unknown age groups"):
        register.residents(["Aged 0 to 4"])


# ============================================================================================
# service_points


def _services(**extra):
    data = {
        "service_id": ["s1", "s2", "s3"],
        "service_type": ["library", "library", "youth_service"],
        "partner": ["County", "County", "Charity"],
        "theme": ["economy_skills", "economy_skills", "children_young_people"],
        "easting": [X0 + 500, X0 + 1500, X0 + 600],
        "northing": [Y0 + 500, Y0 + 500, Y0 + 1500],
        "capacity": [100.0, 300.0, 40.0],
    }
    data.update(extra)
    return pd.DataFrame(data)


def test_service_points_assigns_areas_and_builds_points(squares):
    df = _services()
    before = df.copy()
    out = res.service_points(df, areas=squares)
    pd.testing.assert_frame_equal(df, before)
    assert isinstance(out, gpd.GeoDataFrame) and out.crs.to_epsg() == 27700
    assert out["area_code"].tolist() == ["A", "B", "C"]
    assert out["match"].tolist() == ["within"] * 3
    assert out.geometry.x.tolist() == [X0 + 500, X0 + 1500, X0 + 600]
    far = res.service_points(_services(easting=[X0 + 500, X0 + 1500, X0 + 50_000]), areas=squares)
    assert far["area_code"].isna().tolist() == [False, False, True]
    assert far["match"].iloc[2] == "unmatched"


def test_service_points_reprojects_longitude_latitude(squares):
    lonlat = gpd.GeoSeries(
        gpd.points_from_xy(_services()["easting"], _services()["northing"]), crs=27700
    ).to_crs(4326)
    df = _services(easting=lonlat.x.to_numpy(), northing=lonlat.y.to_numpy())
    out = res.service_points(df, crs="EPSG:4326", areas=squares)
    assert out.crs.to_epsg() == 27700
    assert out["area_code"].tolist() == ["A", "B", "C"]
    assert np.allclose(out.geometry.x, _services()["easting"], atol=0.01)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"service_id": ["s1", "s1", "s3"]}, SchemaError, "repeats values"),
        ({"theme": ["economy_skills", "leisure", "economy_skills"]}, SchemaError, "not catalogue themes"),
        ({"partner": ["County", None, "Charity"]}, SchemaError, "has missing values"),
        ({"capacity": [1.0, -2.0, 3.0]}, SchemaError, "negative"),
        ({"capacity": ["a", "b", "c"]}, SchemaError, "not numeric"),
        ({"easting": [X0, np.nan, X0]}, GeographyError, "without coordinates"),
    ],
)
def test_service_points_errors(squares, change, error, message):
    with pytest.raises(error, match=message):
        res.service_points(_services(**change), areas=squares)


def test_service_points_needs_the_register_columns(squares):
    with pytest.raises(SchemaError, match="'partner' is not a column"):
        res.service_points(_services().drop(columns="partner"), areas=squares)
    with pytest.raises(SchemaError, match="already exists"):
        res.service_points(_services(area_code=["A", "B", "C"]), areas=squares)


# ============================================================================================
# supply_per_head


def test_supply_per_head_counts_and_sums_per_area_with_zeros():
    df = pd.DataFrame(
        {
            "area_code": ["A", "A", "B", "C"],
            "theme": ["t1", "t2", "t1", "t1"],
            "capacity": [10.0, 5.0, 20.0, 30.0],
        }
    )
    population = pd.Series({"A": 1000, "B": 2000, "C": 500, "D": 4000})
    before = df.copy()
    out = res.supply_per_head(df, population=population, value="capacity", by="theme")
    pd.testing.assert_frame_equal(df, before)
    assert len(out) == 8  # every area x every theme
    row = out.set_index(["area_code", "theme"])
    assert row.loc[("A", "t1"), "supply"] == 10 and row.loc[("A", "t1"), "supply_per_1000"] == 10
    assert row.loc[("B", "t1"), "supply_per_1000"] == 10
    assert row.loc[("C", "t1"), "supply_per_head"] == pytest.approx(0.06)
    assert row.loc[("D", "t1"), "supply"] == 0 and row.loc[("D", "t1"), "n_records"] == 0
    assert row.loc[("D", "t2"), "supply_per_1000"] == 0
    assert out["supply"].sum() == df["capacity"].sum()  # conserved
    counts = res.supply_per_head(df, population=population)
    assert counts.set_index("area_code")["supply"].to_dict() == {"A": 2, "B": 1, "C": 1, "D": 0}
    assert counts.set_index("area_code").loc["A", "supply_per_1000"] == 2


def test_supply_per_head_population_frame_zero_population_and_missing_values():
    df = pd.DataFrame({"ward": ["A", "B", "B"], "cost": [100.0, np.nan, 50.0]})
    population = pd.DataFrame({"ward": ["A", "B", "C"], "people": [10, 5, 0]})
    with pytest.warns(NeedskitWarning, match="1 row\\(s\\) have no 'cost'"):
        out = res.supply_per_head(
            df, population=population, value="cost", area="ward", population_col="people"
        )
    out = out.set_index("area_code")
    assert out.loc["B", "supply"] == 50 and out.loc["B", "n_missing"] == 1 and out.loc["B", "n_records"] == 2
    assert np.isnan(out.loc["C", "supply_per_head"])
    assert out.loc["A", "supply_per_head"] == 10


def test_supply_per_head_aggregates_to_a_level(shipped_geography):
    table = hierarchy(geography=shipped_geography)
    county = table[table["county"] == COUNTY_CODE]
    lsoas = county["lsoa"].to_numpy()
    population = pd.Series(np.arange(len(lsoas)) + 100.0, index=lsoas)
    df = pd.DataFrame({"area_code": lsoas[:50], "capacity": 2.0, "capacity_unit": "places"})
    out = res.supply_per_head(
        df, population=population, value="capacity", to="district", geography=shipped_geography
    )
    assert len(out) == 6 and set(out["level"]) == {"district"}
    assert out["population"].sum() == population.sum()
    assert out["supply"].sum() == 100
    by_district = county.set_index("lsoa")["district"]
    expected = population.groupby(by_district).sum()
    assert dict(zip(out["area_code"], out["population"], strict=True)) == expected.to_dict()
    assert out["area_name"].isin(list(DISTRICT_CODES.values())).all()
    with pytest.raises(GeographyError, match="above to='lsoa'"):
        res.supply_per_head(
            out.assign(area_code=out["area_code"]),
            population=population,
            to="lsoa",
            geography=shipped_geography,
        )
    with pytest.raises(GeographyError, match="needs a geography"):
        res.supply_per_head(df, population=population, value="capacity", to="district")


def test_supply_per_head_on_the_shipped_spend_by_ward(register, shipped_geography):
    out = res.supply_per_head(
        register.spend[["ward_code", "theme", "spend_gbp"]],
        population=register.residents(),
        value="spend_gbp",
        area="ward_code",
        by="theme",
        to="district",
        geography=shipped_geography,
    )
    assert out["supply"].sum() == register.spend["spend_gbp"].sum()
    assert out.groupby("theme")["population"].sum().eq(register.residents().sum()).all()
    assert (out["supply_per_head"] > 0).all()


def test_supply_per_head_errors():
    df = pd.DataFrame(
        {"area_code": ["A", "B"], "capacity": [1.0, 2.0], "capacity_unit": ["places", "visits"]}
    )
    population = pd.Series({"A": 10.0, "B": 20.0})
    with pytest.raises(SchemaError, match="different units"):
        res.supply_per_head(df, population=population, value="capacity")
    assert len(res.supply_per_head(df, population=population, value="capacity", by="capacity_unit")) == 4
    with pytest.raises(SchemaError, match="population does not cover"):
        res.supply_per_head(df, population=pd.Series({"A": 10.0}))
    with pytest.raises(SchemaError, match="repeats areas"):
        res.supply_per_head(df, population=pd.Series([1.0, 2.0], index=["A", "A"]))
    with pytest.raises(SchemaError, match="missing or negative"):
        res.supply_per_head(df, population=pd.Series({"A": -1.0, "B": 2.0}))
    with pytest.raises(SchemaError, match="not a Series or DataFrame"):
        res.supply_per_head(df, population=[1, 2])
    with pytest.raises(SchemaError, match="not numeric"):
        res.supply_per_head(df, population=pd.Series({"A": "x", "B": "y"}))
    with pytest.raises(SchemaError, match="'nope' is not a column"):
        res.supply_per_head(df, population=population, value="nope")
    with pytest.raises(SchemaError, match="negative"):
        res.supply_per_head(
            df.assign(capacity=[-1.0, 1.0]), population=population, value="capacity", by="capacity_unit"
        )
    with pytest.warns(NeedskitWarning, match="no area"):
        out = res.supply_per_head(df.assign(area_code=["A", None]), population=population)
    assert out["n_records"].sum() == 1
