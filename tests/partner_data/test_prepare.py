"""needskit.partner_data.prepare: every row of a dataset assigned, unlocated or rejected, with its reason."""

from __future__ import annotations

import pandas as pd
import pytest

from needskit.config import load_catalog
from needskit.errors import DataError, SchemaError
from needskit.partner_data.ingest import read_dataset
from needskit.partner_data.ledger import dataset_ledger
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
    GLOUCESTER_POINT,
    RAW,
    entry,
    good_rows,
    points_csv,
    police_entry,
    police_file,
    police_text,
    police_zip,
    prepare,
    shipped_place,
    write_catalog,
)

STATUSES = {"assigned", "unlocated", "invalid", "outside"}


@pytest.fixture(scope="module")
def shipped():
    return load_catalog(CONF / "catalog.yml")


# ---------------------------------------------------------------------------------- real files


def test_police_uk_is_assigned_by_its_own_lsoa_codes(shipped):
    """The 42 shipped months, 2022-01 ... 2025-06: 2011 codes in 2022-01, 2011 and 2021 codes mixed
    in the same files from 2022-02 to 2023-05, 2021 codes from 2023-06."""
    import pandas as pd

    prepared = prepare(shipped["police_street_crime"])
    status = prepared.rows["status"].value_counts().to_dict()
    assert sum(status.values()) == 221_034
    assert status == {"assigned": 204_527, "unlocated": 15_296, "outside": 1_211}
    assert set(prepared.rows.loc[prepared.rows["status"] == "unlocated", "reason"]) == {"no coordinates"}
    outside = prepared.rows[prepared.rows["status"] == "outside"]
    assert set(outside["reason"]) == {"outside the partnership area"} and outside["area_code"].isna().all()
    assigned = prepared.rows[prepared.rows["status"] == "assigned"]
    assert set(assigned["area_code"]) <= shipped_place().area.lsoas()  # 2021 LSOAs only
    frame = read_dataset(shipped["police_street_crime"])
    published = frame.loc[assigned.index, "LSOA code"]
    by_code = assigned["how"] == "by_code"
    # a code of the target vintage (a 2021 code, or a 2011 code unchanged in 2021) is police.uk's own
    # assignment; a split 2011 code goes to the LSOA it became that holds the point
    assert (assigned.loc[by_code, "area_code"] == published[by_code]).all()
    changes = pd.read_csv(RAW / "lookups" / "lookup_lsoa11_lsoa21_ltla22.csv.gz", dtype=str)
    children = changes[changes["change_code"] == "S"].groupby("lsoa11_code")["lsoa21_code"].agg(set)
    split = assigned[~by_code]
    assert set(split["how"]) == {"split_by_point"} and len(split) == 8_715
    assert all(a in children[p] for a, p in zip(split["area_code"], published[~by_code], strict=True))
    assert published[~by_code].nunique() == 19  # the 19 Gloucestershire LSOAs split in 2021
    assert split["period"].max() == "2023-05" and split["period"].nunique() == 17
    months = sorted(prepared.rows["period"].unique())
    assert len(months) == 42 and (months[0], months[-1]) == ("2022-01", "2025-06")
    # one record per assigned row and the crime type as its category
    assert len(prepared.records) == 204_527 and prepared.records["value"].sum() == 204_527
    assert prepared.records["category"].nunique() == 14
    # the agreement of code and point is still measured, month by month: 97.2 % in all
    agreement = prepared.agreement
    assert agreement is not None and agreement["period"].tolist() == months
    assert agreement["rows_compared"].sum() == 204_527 and agreement["rows_agreeing"].sum() == 198_760
    assert agreement["share"].between(0.96, 0.985).all()


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


# ------------------------------------------------------------- police.uk codes of both vintages

# Real LSOAs of the shipped geography (ONS LSOA 2011 -> 2021 lookup) and points inside them
U = "E01022163"  # Cheltenham 001A, unchanged (U); CHELTENHAM_POINT lies in it
PARENT = "E01022158"  # Cheltenham 007F (2011), split (S) into
CHILD_G, CHILD_H = "E01034777", "E01034778"  # Cheltenham 007G and 007H (2021)
IN_G, IN_H = (-2.089044, 51.905734), (-2.088629, 51.902886)
WELSH = "W01000624"  # Carmarthenshire, a row of the force outside the county
CARMARTHENSHIRE = (-4.55, 51.93)
SOUTH_GLOS = "E01014861"  # South Gloucestershire 005A: English, outside the county
ASB = "Anti-social behaviour"


def _id(n: int) -> str:
    return f"{n:064x}"


def _police_months(folder):
    """2022-01 with 2011 codes only (CRLF, .csv); 2023-02 mixing 2011 and 2021 codes (.csv.gz);
    2024-01 with 2021 codes inside a zip with its outcomes and stop-and-search files."""
    lon, lat = CHELTENHAM_POINT
    police_file(
        folder,
        "2022-01",
        [
            (_id(1), lon, lat, U, "Burglary"),  # by code
            (_id(2), *IN_G, PARENT, "Burglary"),  # split: in 007G
            (_id(3), *IN_H, PARENT, "Vehicle crime"),  # split: in 007H
            (_id(4), lon, lat, PARENT, "Burglary"),  # split: in neither child, the nearest is 007G
            ("", lon, lat, U, ASB),
            ("", None, None, "", ASB),  # No Location
            (_id(5), *CARMARTHENSHIRE, WELSH, "Shoplifting"),
        ],
        eol="\r\n",
    )
    police_file(
        folder,
        "2023-02",
        [
            (_id(6), *IN_H, PARENT, "Burglary"),  # a 2011 code ...
            (_id(7), *IN_G, CHILD_G, "Burglary"),  # ... and 2021 codes in the same file
            (_id(8), *IN_H, CHILD_G, "Robbery"),  # the code says 007G, the point lies in 007H
            (_id(9), lon, lat, U, "Burglary"),
            ("", *IN_H, CHILD_H, ASB),
            (_id(10), -2.45, 51.60, SOUTH_GLOS, "Burglary"),
            ("", None, None, "", ASB),
        ],
        gz=True,
    )
    police_zip(
        folder,
        "9f86d081884c.zip",
        {
            "2024-01/2024-01-gloucestershire-street.csv": police_text(
                "2024-01",
                [
                    (_id(11), *IN_H, CHILD_H, "Burglary"),
                    (_id(12), lon, lat, U, "Burglary"),
                    (_id(13), *GLOUCESTER_POINT, "", "Burglary"),  # a point and no code: by point
                    ("", None, None, "", ASB),
                    (_id(14), *CARMARTHENSHIRE, WELSH, ASB),
                ],
            ),
            "2024-01/2024-01-gloucestershire-outcomes.csv": "Crime ID,Month\nab,2024-01\n",
            "2024-01/2024-01-gloucestershire-stop-and-search.csv": "Type,Date\nPerson search,2024-01-09\n",
        },
    )


def _prepared_police(tmp_path, **overrides) -> Prepared:
    _police_months(tmp_path / "police")
    return prepare(load_catalog(write_catalog(tmp_path, {"crimes": police_entry(**overrides)}))["crimes"])


def test_police_files_of_both_vintages_pool_into_one_2021_series(tmp_path):
    prepared = _prepared_police(tmp_path)
    rows = prepared.rows.assign(crime_id=read_dataset(prepared.spec)["Crime ID"].fillna("").str[-2:])
    assert len(rows) == 19 and set(rows["status"]) == {"assigned", "unlocated", "outside"}
    assert (rows["vintage"] == 2021).all() and (rows["level"] == "lsoa").all()
    assigned = rows[rows["status"] == "assigned"]
    assert set(assigned["area_code"]) <= shipped_place().area.lsoas()  # 2021 codes only: never PARENT
    ids = {int(c, 16): (a, h) for c, a, h in assigned[["crime_id", "area_code", "how"]].values if c}
    assert ids == {
        1: (U, "by_code"),
        2: (CHILD_G, "split_by_point"),
        3: (CHILD_H, "split_by_point"),
        4: (CHILD_G, "split_by_point"),  # the nearest of the LSOAs the code became
        6: (CHILD_H, "split_by_point"),
        7: (CHILD_G, "by_code"),
        8: (CHILD_G, "by_code"),  # police.uk's code wins over the point
        9: (U, "by_code"),
        11: (CHILD_H, "by_code"),
        12: (U, "by_code"),
        13: ("E01032937", "within"),
    }
    assert rows.loc[rows["status"] == "unlocated", "reason"].tolist() == ["no coordinates"] * 3
    assert rows.loc[rows["status"] == "outside", "crime_id"].map(lambda c: int(c, 16)).tolist() == [5, 10, 14]
    assert rows["_file"].iloc[-1] == "9f86d081884c.zip:2024-01/2024-01-gloucestershire-street.csv"
    assert not any("unknown to the geography" in p.what for p in prepared.problems)
    # the ledger says which path each row took, and balances per period
    ledger = dataset_ledger(prepared).set_index("period")
    columns = [
        "read",
        "assigned_by_code",
        "assigned_by_code_2011",
        "assigned_split_by_point",
        "assigned_within",
        "assigned_nearest",
        "unlocated",
        "rejected_outside",
        "rejected_invalid",
    ]
    assert ledger[columns].to_dict("index") == {
        "2022-01": dict(zip(columns, [7, 2, 0, 3, 0, 0, 1, 1, 0], strict=True)),
        "2023-02": dict(zip(columns, [7, 4, 0, 1, 0, 0, 1, 1, 0], strict=True)),
        "2024-01": dict(zip(columns, [5, 2, 0, 0, 1, 0, 1, 1, 0], strict=True)),
    }
    assert ledger["balanced"].all() and (ledger["assigned"] == [5, 5, 3]).all()
    # code against point, by hand: crime 4 (point in 001A, code 007F) and crime 8 (point in 007H,
    # code 007G) disagree; rows by point or outside are not compared
    agreement = prepared.agreement
    assert agreement is not None
    assert agreement.drop(columns="share").values.tolist() == [
        ["crimes", "2022-01", 5, 4],
        ["crimes", "2023-02", 5, 4],
        ["crimes", "2024-01", 2, 2],
    ]
    assert agreement["share"].tolist() == [0.8, 0.8, 1.0]
    # one record per assigned row, on 2021 LSOAs
    assert prepared.records["value"].sum() == 13 and set(prepared.records["vintage"]) == {2021}


def test_without_a_code_column_the_same_files_go_by_point(tmp_path):
    geography = {"kind": "points", "x": "Longitude", "y": "Latitude", "crs": "EPSG:4326"}
    prepared = _prepared_police(tmp_path, geography=geography)
    rows = prepared.rows
    assert prepared.agreement is None
    assert set(rows.loc[rows["status"] == "assigned", "how"]) == {"within"}
    # crime 8 now goes where its point is (007H), crime 4 to the LSOA holding its point (001A)
    assert rows.loc[9, "area_code"] == CHILD_H and rows.loc[3, "area_code"] == U  # lines of crimes 8 and 4
    assert (rows["status"] == "assigned").sum() == 13 and (rows["status"] == "outside").sum() == 3


def test_a_code_the_geography_does_not_know_leaves_the_row_to_its_point(tmp_path):
    lon, lat = CHELTENHAM_POINT
    police_file(
        tmp_path / "police",
        "2024-01",
        [(_id(1), lon, lat, "E01999999", "Burglary"), (_id(2), lon, lat, U, "Burglary")],
    )
    prepared = prepare(load_catalog(write_catalog(tmp_path, {"crimes": police_entry()}))["crimes"])
    assert prepared.rows[["area_code", "how"]].values.tolist() == [[U, "within"], [U, "by_code"]]
    (problem,) = [p for p in prepared.problems if "unknown to the geography" in p.what]
    assert (problem.severity, problem.count, problem.got, problem.rows) == ("info", 1, "'E01999999'", (2,))
    assert prepared.agreement is not None and prepared.agreement["rows_compared"].tolist() == [1]


def test_a_split_2011_code_without_coordinates_is_unlocated(tmp_path):
    police_file(
        tmp_path / "police",
        "2022-01",
        [
            (_id(1), None, None, PARENT, "Burglary"),
            (_id(2), None, None, U, "Burglary"),
            ("", None, None, "", ASB),
        ],
    )
    prepared = prepare(load_catalog(write_catalog(tmp_path, {"crimes": police_entry()}))["crimes"])
    rows = prepared.rows
    assert rows["status"].tolist() == ["unlocated", "assigned", "unlocated"]
    assert (
        rows["reason"].iloc[0]
        == "LSOA code split between vintages and no coordinates to choose among its LSOAs"
    )
    assert (rows["area_code"].iloc[1], rows["how"].iloc[1]) == (U, "by_code")  # a code needs no point
    assert prepared.agreement is not None and prepared.agreement["rows_compared"].tolist() == [0]


def test_a_file_whose_every_row_is_invalid_is_an_error_though_the_dataset_share_is_small(tmp_path):
    lon, lat = CHELTENHAM_POINT
    points_csv(tmp_path, [(f"a{i}", "2024-01", lon, lat, "Burglary") for i in range(200)], "data-01.csv")
    points_csv(tmp_path, [(f"b{i}", "2024-02", lon, lat, "Burglary") for i in range(200)], "data-02.csv")
    # March with latitude and longitude swapped: 3 of 403 rows, under max_invalid (1%)
    points_csv(tmp_path, [(f"c{i}", "2024-03", lat, lon, "Burglary") for i in range(3)], "data-03.csv")
    catalog = load_catalog(write_catalog(tmp_path, {"crimes": entry(path="data-*.csv")}))
    prepared = prepare(catalog["crimes"])
    errors = [p for p in prepared.problems if p.severity == "error"]
    assert len(errors) == 1, [p.line() for p in prepared.problems]
    line = errors[0].line()
    assert "data-03.csv" in line and "no row of the file is usable" in line
    assert "coordinates outside Great Britain" in line and "\n" not in line


def test_an_area_coded_table_with_a_repeated_area_and_category_is_not_added_up_silently(tmp_path):
    """A row sent twice would be summed into one figure without a word: it is rejected with an
    error-level problem; rows for the same LSOA and category that differ elsewhere (one per
    partner) are added up, and a warning says so."""
    (tmp_path / "visits.csv").write_text(
        "lsoa,year,service,partner,visits\n"
        "E01022163,2024,gp,NHS,12\n"
        "E01022163,2024,gp,NHS,12\n"  # sent twice
        "E01022163,2024,dentist,NHS,3\n"
        "E01022164,2024,gp,NHS,7\n"
        "E01022164,2024,gp,Council,2\n",  # another partner's part of the same figure
        encoding="utf-8",
    )
    spec = load_catalog(
        write_catalog(
            tmp_path,
            {
                "visits": entry(
                    path="visits.csv",
                    geography={"kind": "area_code", "column": "lsoa", "level": "lsoa", "vintage": 2021},
                    period={"column": "year", "format": "%Y", "range": ["2024", "2024"]},
                    record_id=None,
                    measures=[{"name": "visits", "column": "visits", "category": "service"}],
                )
            },
        )
    )["visits"]
    prepared = prepare(spec)
    rows = prepared.rows
    assert rows["status"].tolist() == ["assigned", "invalid", "assigned", "assigned", "assigned"]
    assert rows.loc[1, "reason"] == "the same row appears twice"
    twice = [p for p in prepared.problems if p.what == "the same row appears twice"][0]
    assert twice.severity == "error" and "E01022163 / 2024 / gp" in str(twice.got)
    shared = [p for p in prepared.problems if "added up" in p.what][0]
    assert shared.severity == "warning" and shared.count == 2 and "E01022164 / 2024 / gp" in str(shared.got)
