"""needskit.partner_data.prepare: every row of a dataset assigned, unlocated or rejected, with its reason."""

from __future__ import annotations

import pandas as pd
import pytest

from needskit.config import load_catalog
from needskit.errors import DataError, SchemaError
from needskit.partner_data.ingest import read_dataset
from needskit.partner_data.prepare import (
    ASSIGNED_HOW,
    Prepared,
    parse_period,
    partnership_codes,
    partnership_lsoas,
)
from partner_files import (
    CHELTENHAM_POINT,
    CONF,
    entry,
    good_rows,
    points_csv,
    prepare,
    shipped_place,
    write_catalog,
)

STATUSES = {"assigned", "unlocated", "invalid", "outside"}


@pytest.fixture(scope="module")
def shipped():
    return load_catalog(CONF / "catalog.yml")


# ---------------------------------------------------------------------------------- real files


def test_police_uk_keeps_unlocated_rows_and_rejects_outside(shipped):
    prepared = prepare(shipped["police_street_crime"])
    status = prepared.rows["status"].value_counts().to_dict()
    assert sum(status.values()) == 19_869
    assert status == {"assigned": 19_058, "unlocated": 717, "outside": 94}
    assert set(prepared.rows.loc[prepared.rows["status"] == "unlocated", "reason"]) == {"no coordinates"}
    outside = prepared.rows[prepared.rows["status"] == "outside"]
    assert set(outside["reason"]) == {"outside the partnership area"} and outside["area_code"].isna().all()
    assigned = prepared.rows[prepared.rows["status"] == "assigned"]
    assert set(assigned["area_code"]) <= shipped_place().area.lsoas()
    assert set(assigned["how"]) <= {"within", "nearest"}
    assert set(prepared.rows["period"]) == {"2024-01", "2024-02", "2024-03", "2024-04"}
    # one record per assigned row and the crime type as its category
    assert len(prepared.records) == 19_058 and prepared.records["value"].sum() == 19_058
    assert prepared.records["category"].nunique() == 14


def test_ods_extracts_named_and_closed_filtered(shipped):
    gp = prepare(shipped["gp_practices"])
    reasons = gp.rows.loc[gp.rows["status"] == "outside", "reason"].value_counts()
    assert any("closed" in r for r in reasons.index)
    assert reasons["outside scope: not a GL postcode (outside the partnership's postcode area)"] == 16_452
    assert reasons["outside the partnership area"] == 1  # a GL postcode outside the county
    assert (gp.rows["status"] == "assigned").sum() == 65  # active GP practices (setting 4) in the county
    pharmacies = prepare(shipped["pharmacies"])
    assert (pharmacies.rows["status"] == "assigned").sum() == 106
    assert pharmacies.rows.loc[pharmacies.rows["status"] == "assigned", "how"].eq("by_postcode").all()


def test_area_coded_2011_data_is_kept_for_conversion(shipped):
    prepared = prepare(shipped["population_mye2020"])
    rows = prepared.rows
    assert (rows["level"] == "lsoa").all() and (rows["vintage"] == 2011).all()
    assigned = rows[rows["status"] == "assigned"]
    assert assigned["_row"].nunique() == 373 and set(assigned["area_code"]) <= shipped_place().area.lsoas(
        2011
    )
    assert set(rows.loc[rows["status"] == "outside", "reason"]) == {"outside the partnership area"}
    assert prepared.comparator_records is not None  # every English LSOA, for the England comparator


def test_the_frame_and_lsoas_can_be_given(shipped):
    spec = shipped["pharmacies"]
    place = shipped_place()
    frame = read_dataset(spec)
    lsoas = partnership_lsoas(place.area, place.geography)
    assert len(lsoas) == 393 and set(lsoas["area_code"]) == place.area.lsoas()
    given = prepare(spec, frame=frame, lsoas=lsoas)
    read_here = prepare(spec)
    pd.testing.assert_frame_equal(given.rows, read_here.rows)
    # only datasets that feed the resource register keep coordinates, and every assigned row has them
    assigned = (given.rows["status"] == "assigned").to_numpy()
    assert given.coords is not None and given.coords[assigned].notna().all().all() and assigned.sum() == 106
    assert prepare(shipped["police_street_crime"]).coords is None


# ---------------------------------------------------------------------------------- small files


def _prepared(tmp_path, spec_entry, rows=None) -> Prepared:
    if rows is not None:
        points_csv(tmp_path, rows)
    return prepare(load_catalog(write_catalog(tmp_path, {"test": spec_entry}))["test"])


def test_every_row_has_exactly_one_fate(tmp_path):
    lon, lat = CHELTENHAM_POINT
    rows = good_rows(5) + [
        ("u1", "2024-01", None, None, "Burglary"),
        ("x1", "2024-01", "east", lat, "Burglary"),
        ("x2", "2024-07", lon, lat, "Burglary"),
        ("c0", "2024-01", lon, lat, "Burglary"),  # a duplicated id
        ("o1", "2024-02", -4.55, 51.93, "Robbery"),  # Carmarthenshire
    ]
    prepared = _prepared(tmp_path, entry(max_invalid=0.9), rows)
    out = prepared.rows
    assert len(out) == len(rows) and set(out["status"]) <= STATUSES
    assert out["_row"].tolist() == list(
        range(2, len(rows) + 2)
    )  # line numbers of the file (header is line 1)
    by_id = dict(
        zip(
            pd.read_csv(tmp_path / "data.csv")["id"],
            zip(out["status"], out["reason"], strict=True),
            strict=False,
        )
    )
    assert by_id["u1"] == ("unlocated", "no coordinates")
    assert by_id["x1"] == ("invalid", "coordinate is not a number")
    assert by_id["x2"] == ("invalid", "period outside the declared range")
    assert by_id["o1"] == ("outside", "outside the partnership area")
    assert (out["status"] == "invalid").sum() == 3  # x1, x2 and the second c0
    assigned = out[out["status"] == "assigned"]
    assert len(assigned) == 5 and set(assigned["area_code"]) == {"E01022163"}
    assert (assigned["reason"] == "").all() and set(assigned["how"]) <= set(ASSIGNED_HOW)
    assert (out.loc[out["status"] != "assigned", "how"] == "").all()
    assert prepared.records["value"].sum() == 5


def test_scope_filters_reject_rows_as_outside_with_the_reason(tmp_path):
    rows = good_rows(4) + [("r1", "2024-01", *CHELTENHAM_POINT, "Robbery")]
    scope = [{"column": "type", "op": "not_in", "value": ["Robbery"], "reason": "not a burglary"}]
    prepared = _prepared(tmp_path, entry(scope=scope), rows)
    assert prepared.rows["status"].tolist() == ["assigned"] * 4 + ["outside"]
    assert prepared.rows["reason"].iloc[-1] == "outside scope: not a burglary"
    assert [p.severity for p in prepared.problems] == ["info"]


def test_measures_from_columns_and_patterns(tmp_path):
    frame = pd.DataFrame(
        {
            "lsoa": ["E01022163", "E01022164"],
            "visits": ["3", "4"],
            "a_score": ["1.5", "2.5"],
            "b_score": ["7", "8"],
        }
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    spec_entry = entry(
        geography={"kind": "area_code", "column": "lsoa", "level": "lsoa", "vintage": 2021},
        period="2024",
        record_id=None,
        measures=[
            {"name": "visits", "column": "visits"},
            {"columns": "_score$", "kind": "value", "aggregate": "none"},
        ],
    )
    prepared = _prepared(tmp_path, spec_entry)
    records = prepared.records
    assert sorted(records["measure"].unique()) == ["a_score", "b_score", "visits"]
    assert records.loc[records["measure"] == "visits", "value"].sum() == 7
    assert set(records.loc[records["measure"] == "a_score", "kind"]) == {"value"}
    assert (prepared.rows["how"] == "by_code").all() and (prepared.rows["period"] == "2024").all()
    bad = entry(
        geography=spec_entry["geography"],
        period="2024",
        record_id=None,
        measures=[{"columns": "^nothing", "kind": "value", "aggregate": "none"}],
    )
    with pytest.raises(DataError, match="measure pattern matches no column"):
        _prepared(tmp_path, bad)


def test_missing_columns_are_structural_errors_with_a_hint(tmp_path):
    (tmp_path / "data.csv").write_text("ID,Month,lon,lat,type\nc1,2024-01,-2.08,51.91,B\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"missing columns \['month', 'id'\]") as info:
        _prepared(tmp_path, entry())
    assert "renamed? {'month': 'Month', 'id': 'ID'}" in str(info.value)


def test_prepare_refuses_unknown_geography_kind(tmp_path):
    with pytest.raises(SchemaError, match="polygon datasets are not pooled yet"):
        _prepared(tmp_path, entry(geography={"kind": "polygons"}), good_rows())


def test_parse_period():
    values = pd.Series(["2024-01", " 2024-02 ", "Jan 24", None])
    text, bad = parse_period(values, "%Y-%m")
    assert text.tolist()[:2] == ["2024-01", "2024-02"] and bad.tolist() == [False, False, True, True]
    years, _ = parse_period(pd.Series(["2021"]), "%Y")
    assert years.tolist() == ["2021"]
    days, _ = parse_period(pd.Series(["01/03/2024"]), "%d/%m/%Y")
    assert days.tolist() == ["2024-03-01"]
    free, bad = parse_period(pd.Series(["2024/25", None]), None)
    assert free.tolist()[0] == "2024/25" and bad.tolist() == [False, True]


def test_partnership_codes_of_each_level_and_vintage():
    place = shipped_place()
    assert len(partnership_codes(place.area, place.geography, level="lsoa", vintage=2021)) == 393
    assert len(partnership_codes(place.area, place.geography, level="lsoa", vintage=2011)) == 373
    assert partnership_codes(place.area, place.geography, level="county", vintage=2021) == {"E10000013"}
    assert len(partnership_codes(place.area, place.geography, level="district", vintage=2021)) == 6
