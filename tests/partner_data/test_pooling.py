"""needskit.partner_data.pooling: partner files onto the partnership's LSOAs, up the hierarchy,
totals conserved."""

from __future__ import annotations

import pandas as pd
import pyogrio
import pytest

from needskit.config import load_catalog, load_places
from needskit.errors import DataError
from needskit.partner_data.pooling import PROFILE_COLUMNS, PoolResult, name_case, summary_lines
from needskit.place import build_places
from partner_files import (
    CHELTENHAM_POINT,
    CONF,
    entry,
    mixed_rows,
    points_csv,
    police_entry,
    police_file,
    pool,
    shipped_place,
    write_catalog,
)

LEVELS = ("lsoa", "msoa", "ward", "district", "county")


def _pool_entries(tmp_path, entries: dict, **kwargs) -> PoolResult:
    return pool(load_catalog(write_catalog(tmp_path, entries)), **kwargs)


def test_pool_conserves_rows_and_counts_on_a_partner_file(tmp_path):
    points_csv(tmp_path, mixed_rows())
    result = _pool_entries(tmp_path, {"test": entry(max_invalid=0.5)})
    assert isinstance(result, PoolResult) and not result.errors
    assert list(result.profile.columns) == PROFILE_COLUMNS
    lsoa = result.profile[result.profile["level"] == "lsoa"]
    assert lsoa["value"].sum() == 12
    for level in LEVELS[1:]:
        assert result.profile.loc[result.profile["level"] == level, "value"].sum() == 12, level
    assert lsoa.loc[lsoa["area_code"] == "E01022163", "value"].sum() == 7
    county = result.profile[result.profile["level"] == "county"].set_index(["period", "category"])["value"]
    assert county.to_dict() == {("2024-01", "Burglary"): 7, ("2024-02", "Robbery"): 5}
    assert set(result.profile["sharing"]) == {"open"} and set(result.profile["kind"]) == {"count"}
    assert result.profile.loc[result.profile["area_code"] == "E10000013", "area_name"].unique().tolist() == [
        "Gloucestershire"
    ]
    assert result.inputs == [tmp_path / "data.csv"] and [d.id for d in result.datasets] == ["test"]


def test_true_zeros_complete_every_table(tmp_path):
    """An LSOA with no burglaries has a count of 0, not a missing row."""
    points_csv(tmp_path, mixed_rows())
    result = _pool_entries(tmp_path, {"test": entry(max_invalid=0.5)})
    area = shipped_place().area
    for level in LEVELS:
        part = result.profile[result.profile["level"] == level]
        n = len(area.codes_at(level))
        assert len(part) == 2 * n, level  # every area x (January burglaries, February robberies)
        assert part.groupby(["period", "category"])["area_code"].nunique().eq(n).all()
    lsoa = result.profile[result.profile["level"] == "lsoa"].set_index(["area_code", "period", "category"])[
        "value"
    ]
    assert lsoa[("E01022164", "2024-01", "Burglary")] == 0


def test_pool_converts_2011_lsoas_and_conserves(tmp_path):
    frame = pd.DataFrame({"lsoa": ["E01022158", "E01022100", "E01022101"], "n": [101, 7, 3]})
    frame.to_csv(tmp_path / "data.csv", index=False)
    spec = entry(
        geography={"kind": "area_code", "column": "lsoa", "level": "lsoa", "vintage": 2011},
        period="2020",
        record_id=None,
        measures=[{"name": "n", "column": "n"}],
    )
    result = _pool_entries(tmp_path, {"test": spec})
    lsoa = result.profile[result.profile["level"] == "lsoa"].set_index("area_code")["value"]
    assert lsoa.sum() == 111 and set(result.profile["vintage"].astype(int)) == {2021}
    assert lsoa.loc[["E01034777", "E01034778"]].sum() == 101  # the split parent's children
    ledger = result.ledger.iloc[0]
    assert ledger["assigned_apportioned"] == 1 and ledger["assigned_by_code"] == 2
    assert ledger["vintage_from"] == 2011
    assert result.measure_ledger["conserved"].all()


def test_comparators_sum_every_row_of_the_country(tmp_path):
    frame = pd.DataFrame({"lsoa": ["E01022163", "E01022164", "E01000001"], "n": [5, 6, 100]})
    frame.to_csv(tmp_path / "data.csv", index=False)
    spec = entry(
        geography={"kind": "area_code", "column": "lsoa", "level": "lsoa", "vintage": 2021},
        period="2021",
        record_id=None,
        measures=[{"name": "n", "column": "n"}],
        comparators=["region", "country"],
    )
    result = _pool_entries(tmp_path, {"test": spec})
    profile = result.profile.set_index(["level", "area_code"])["value"]
    assert profile[("county", "E10000013")] == 11
    assert profile[("country", "E92000001")] == 111  # the London LSOA counts for England
    assert profile[("region", "E12000009")] == 11  # the South West; London is another region
    assert result.ledger.iloc[0]["rejected_outside"] == 1


def test_values_are_carried_and_averaged_by_their_rule(tmp_path):
    frame = pd.DataFrame({"lsoa": ["E01022163", "E01022164"], "score": [10.0, 30.0], "rank": [5, 7]})
    frame.to_csv(tmp_path / "data.csv", index=False)
    spec = entry(
        geography={"kind": "area_code", "column": "lsoa", "level": "lsoa", "vintage": 2021},
        period="2025",
        record_id=None,
        measures=[
            {"column": "score", "kind": "value", "aggregate": "mean"},
            {"column": "rank", "kind": "value", "aggregate": "none"},
        ],
    )
    result = _pool_entries(tmp_path, {"test": spec})
    profile = result.profile
    assert set(profile.loc[profile["measure"] == "rank", "level"]) == {"lsoa"}  # ranks are not aggregated
    score = profile[profile["measure"] == "score"].set_index(["level", "area_code"])["value"]
    assert score[("ward", "E05015721")] == 20  # Swindon Village: the mean of its two LSOAs with a score
    assert score[("district", "E07000078")] == score[("county", "E10000013")] == 20
    assert set(profile["kind"]) == {"value"}
    assert (
        result.measure_ledger.empty and result.ledger["balanced"].all()
    )  # values only: no counts to conserve


def test_only_the_datasets_asked_for_are_pooled(tmp_path):
    points_csv(tmp_path, mixed_rows())
    entries = {
        "first": entry(max_invalid=0.5),
        "second": entry(max_invalid=0.5, sharing="partner", isa="ISA-1"),
    }
    result = _pool_entries(tmp_path, entries, datasets=["second"])
    assert set(result.profile["dataset"]) == set(result.ledger["dataset"]) == {"second"}
    assert set(result.profile["sharing"]) == {"partner"}


def test_structural_problems_stop_the_pool(tmp_path):
    (tmp_path / "data.csv").write_text(
        "id,month,longitude,lat,type\nc1,2024-01,-2.08,51.91,Burglary\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match="missing column"):
        _pool_entries(tmp_path, {"test": entry()})


def test_generic_adapters_pool_and_conserve(tmp_path):
    """Excel and Parquet partner files with a column mapping pool like any other, nothing lost."""
    frame = pd.DataFrame(
        {
            "Postcode": ["GL50 3PP", "GL50 3PQ", "GL1 1AA", "SW1A 1AA"],
            "Sessions": [12, 3, 40, 7],
            "Service": ["youth", "youth", "debt", "debt"],
        }
    )
    frame.to_excel(tmp_path / "sessions.xlsx", index=False)
    frame.to_parquet(tmp_path / "sessions.parquet")
    base = entry(
        geography={"kind": "postcode", "postcode": "postcode"},
        period="2024-03",
        record_id=None,
        measures=[{"name": "sessions", "column": "sessions", "category": "service"}],
        options={"columns": {"Postcode": "postcode", "Sessions": "sessions", "Service": "service"}},
    )
    entries = {
        "excel_sessions": {**base, "path": "sessions.xlsx", "format": "excel"},
        "parquet_sessions": {**base, "path": "sessions.parquet", "format": "parquet"},
    }
    result = _pool_entries(tmp_path, entries)
    for dataset in entries:
        ledger = result.ledger[result.ledger["dataset"] == dataset].iloc[0]
        assert (ledger["read"], ledger["assigned_by_postcode"], ledger["unlocated"]) == (4, 3, 1)
        values = result.measure_ledger[result.measure_ledger["dataset"] == dataset].iloc[0]
        assert (values["read"], values["assigned"], values["unlocated"], values["in_profile"]) == (
            62,
            55,
            7,
            55,
        )
        county = result.profile[
            (result.profile["dataset"] == dataset) & (result.profile["level"] == "county")
        ]
        assert county["value"].sum() == 55


def test_partnership_places_are_pooled_like_levels(tmp_path):
    points_csv(tmp_path, mixed_rows())
    places = [build_places(load_places(CONF / "places.yml"), geography=shipped_place().geography)]
    result = _pool_entries(tmp_path, {"test": entry(max_invalid=0.5)}, places=places)
    part = result.profile[result.profile["level"] == "partnership places"]
    assert set(part["area_name"]) == {"West Cheltenham", "Gloucester inner city", "Cheltenham town centre"}
    assert len(part) == 3 * 2  # every place x (January burglaries, February robberies), zeros included
    assert result.places[0].name == "partnership places"


# ---------------------------------------------------------------------------------- the resource register


def test_names_in_capitals_are_cased_as_people_write_them():
    names = pd.Series(["GEORGE'S PRACTICE", "O'BRIEN SURGERY", "ROSS-ON-WYE MEDICAL CENTRE", None])
    assert name_case(names).tolist()[:3] == [
        "George's Practice",
        "O'Brien Surgery",
        "Ross-on-Wye Medical Centre",
    ]
    assert name_case(names).isna().tolist() == [False, False, False, True]
    assert name_case(pd.Series(["THE CHURCH OF ENGLAND SCHOOL"])).tolist() == ["The Church of England School"]


def test_a_register_block_gives_the_located_rows_to_the_register(tmp_path):
    frame = pd.DataFrame(
        {
            "ref": ["S1", "S2", "S3"],
            "practice_name": ["HESTERS WAY SURGERY", "the hub", "far away"],
            "postcode": ["GL50 3PP", "GL1 1AA", "SW1A 1AA"],
            "kind": ["gp", "hub", "hub"],
        }
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    register = {
        "table": "services",
        "partner": "NHS primary care",
        "partner_sector": "nhs",
        "columns": {"name": "practice_name", "service_type": "kind"},
        "title_case": ["name"],
    }
    spec = entry(
        geography={"kind": "postcode", "postcode": "postcode"},
        period="2025",
        record_id="ref",
        measures=[{"name": "services", "count": "rows", "category": "kind"}],
        register=register,
        illustrative=True,
        max_invalid=0.5,
    )
    result = _pool_entries(tmp_path, {"services_test": spec})
    assert list(result.register) == ["services"]
    services = result.register["services"]
    assert services["service_id"].tolist() == ["S1", "S2"]  # the London postcode is not located
    assert services["name"].tolist() == ["Hesters Way Surgery", "The Hub"]
    assert services["service_type"].tolist() == ["gp", "hub"] and set(services["partner"]) == {
        "NHS primary care"
    }
    assert set(services["partner_sector"]) == {"nhs"} and set(services["theme"]) == {
        "safer_stronger_communities"
    }
    assert services[["easting", "northing"]].notna().all().all()
    assert (
        services["easting"].between(380_000, 400_000).all()
    )  # Cheltenham and Gloucester, British National Grid
    assert set(services["area_code"]) <= shipped_place().area.lsoas()
    assert set(services["dataset"]) == {"services_test"} and set(services["sharing"]) == {"open"}
    assert services["illustrative"].all() and set(services["source"]) == {"Test dataset"}
    assert not any(c.startswith("_") for c in services.columns)


def test_spend_and_catchments_feed_their_register_tables(tmp_path):
    frame = pd.DataFrame(
        {"lsoa21_code": ["E01022163", "E01022164"], "spend_gbp": [100, 250], "service_id": ["S1", "S1"]}
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    area = {"kind": "area_code", "column": "lsoa21_code", "level": "lsoa", "vintage": 2021}
    entries = {
        "spend": entry(
            geography=area,
            period="2024/25",
            record_id=None,
            register={"table": "spend", "theme": "x"},
            measures=[{"name": "spend", "column": "spend_gbp"}],
        ),
        "catchments": entry(
            geography=area,
            period="2024/25",
            record_id=None,
            register={"table": "catchments"},
            measures=[{"name": "catchments", "count": "rows"}],
        ),
    }
    result = _pool_entries(tmp_path, entries)
    assert sorted(result.register) == ["catchments", "spend"]
    assert result.register["spend"]["spend_gbp"].astype(float).sum() == 350
    assert set(result.register["spend"]["theme"]) == {"x"}
    assert result.register["catchments"]["area_code"].tolist() == ["E01022163", "E01022164"]
    assert "easting" not in result.register["catchments"].columns


# ---------------------------------------------------------------------------------- the shipped example


def test_shipped_catalogue_pools_cleanly_and_conserves(shipped_store):
    manifest = shipped_store.manifest()
    assert manifest["stages"]["pool"]["errors"] == 0
    problems = pd.read_csv(shipped_store.path / "problems.csv")
    assert not (problems["severity"] == "error").any()
    profile = shipped_store.read_profile()
    assert set(profile["level"]) >= {
        "lsoa",
        "msoa",
        "ward",
        "district",
        "county",
        "country",
        "partnership places",
    }
    # counts add up the hierarchy
    crimes = profile[profile["dataset"] == "police_street_crime"]
    totals = crimes.groupby("level")["value"].sum()
    assert (
        totals["lsoa"]
        == totals["msoa"]
        == totals["ward"]
        == totals["district"]
        == totals["county"]
        == 204_527
    )
    # denominators by age band for every LSOA
    pop = profile[(profile["dataset"] == "population_mye2020") & (profile["level"] == "lsoa")]
    assert pop["area_code"].nunique() == 393 and pop["category"].nunique() == 19
    assert pop["value"].sum() == pytest.approx(640_650)
    england = profile[(profile["dataset"] == "population_mye2020") & (profile["area_code"] == "E92000001")]
    assert england["value"].sum() == pytest.approx(56_550_138)
    places = profile[profile["level"] == "partnership places"]
    assert set(places["area_name"]) == {"West Cheltenham", "Gloucester inner city", "Cheltenham town centre"}
    assert profile["area_name"].ne("nan").all()
    layers = [name for name, _ in pyogrio.list_layers(shipped_store.path / "profile.gpkg")]
    assert layers == ["lsoa", "msoa", "ward", "district", "county"]


def test_the_agreement_of_published_codes_and_points_is_pooled_and_summarised(tmp_path):
    lon, lat = CHELTENHAM_POINT
    in_h = (-2.088629, 51.902886)  # in Cheltenham 007H (E01034778)
    rows = [
        ("a1", lon, lat, "E01022163", "Burglary"),
        ("a2", *in_h, "E01022163", "Burglary"),
        ("", None, None, "", "Anti-social behaviour"),
    ]
    police_file(tmp_path / "police", "2024-01", rows)
    police_file(tmp_path / "police", "2024-02", [("b1", lon, lat, "E01022163", "Burglary")], gz=True)
    points_csv(tmp_path, mixed_rows())  # a dataset without codes has no agreement rows
    result = _pool_entries(tmp_path, {"crimes": police_entry(), "test": entry(max_invalid=0.5)})
    assert result.agreement.values.tolist() == [
        ["crimes", "2024-01", 2, 1, 0.5],
        ["crimes", "2024-02", 1, 1, 1.0],
    ]
    ledger = result.ledger.set_index(["dataset", "period"])
    assert ledger.loc[("crimes", "2024-01"), "assigned_by_code"] == 2
    assert ledger.loc[("test", "2024-01"), "assigned_by_code"] == 0
    crimes = result.profile[(result.profile["dataset"] == "crimes") & (result.profile["level"] == "lsoa")]
    assert crimes.loc[crimes["value"] > 0, "area_code"].unique().tolist() == ["E01022163"]  # by code
    lines = summary_lines(result)
    assert (
        "crimes: the point lies in the LSOA of the published code for 66.7% of 3 rows assigned by code "
        "(code_agreement.csv; by period 50.0% to 100.0%)"
    ) in lines
    assert lines[-1].startswith("ledger balances") and sum("code_agreement" in line for line in lines) == 1


def test_a_path_only_some_datasets_take_gets_a_ledger_column_of_zeros_for_the_others(tmp_path, monkeypatch):
    from needskit.partner_data import pooling

    points_csv(tmp_path, mixed_rows())
    real = pooling.dataset_ledger

    def other_vintage(prepared):  # as a 2011 profile converting 2021 codes would label them
        if prepared.spec.id == "b":
            prepared.rows["how"] = prepared.rows["how"].replace("within", "by_code_2021")
        return real(prepared)

    monkeypatch.setattr(pooling, "dataset_ledger", other_vintage)
    result = _pool_entries(tmp_path, {"a": entry(max_invalid=0.5), "b": entry(max_invalid=0.5)})
    ledger = result.ledger.set_index(["dataset", "period"])
    assert ledger.loc[("b", "2024-01"), "assigned_by_code_2021"] == 7
    assert ledger.loc[("a", "2024-01"), "assigned_by_code_2021"] == 0
    assert ledger["assigned_by_code_2021"].dtype == "int64"
