"""The outcomes framework and delivery register (needskit.config.outcomes) and the delivery analyses
(needskit.commissioning.delivery, delivery_need); places are located in the shipped store's hierarchy."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from needskit.commissioning import (
    by_partnership,
    delivery_away_from_need,
    delivery_matrix,
    expand_places,
    locate_delivery,
    outcomes_without_delivery,
)
from needskit.config.outcomes import load_delivery, load_outcomes, parse_delivery, parse_outcomes
from needskit.errors import CatalogError, SchemaError

ROOT = Path(__file__).resolve().parents[2]
OUTCOMES = ROOT / "conf" / "outcomes.yml"
DELIVERY = ROOT / "conf" / "delivery.yml"
PAPER = ROOT.parent / "shared" / "reference" / "papers" / "gloucester-2010-recommendations-to-the-board.txt"
GLOUCESTER = "E07000081"


@pytest.fixture(scope="module")
def framework():
    return load_outcomes(OUTCOMES)


@pytest.fixture(scope="module")
def hierarchy(shipped_store):
    """The partnership's LSOAs and the areas they lie in, as the shipped store holds them."""
    return shipped_store.read_hierarchy()


@pytest.fixture(scope="module")
def delivery(framework, hierarchy):
    return locate_delivery(load_delivery(DELIVERY, outcomes=framework), hierarchy=hierarchy)


def _located(data, hierarchy, **options):
    """A delivery register parsed and its places located (place names are checked when located)."""
    return locate_delivery(parse_delivery(data, **options), hierarchy=hierarchy)


# ============================================================================================
# The shipped Gloucester framework


def test_shipped_framework_has_the_four_aims_and_sixteen_outcomes(framework):
    assert framework.aims["aim_id"].tolist() == ["1", "2", "3", "4"]
    assert framework.aims["aim"].tolist() == [
        "A place where the future matters",
        "A place where communities matter and people want to live",
        "A place where all people matter and we ‘narrow the gap’ in health, poverty and social exclusion.",
        "A place that thrives",
    ]
    # the appendix: aim one has outcomes 1.1-1.3, aim two 2.1-2.4, aim three 3.1-3.5, aim four 4.1-4.4
    assert framework.outcomes.groupby("aim_id", sort=True).size().tolist() == [3, 4, 5, 4]
    actions = framework.actions.groupby("outcome_id").size()
    expected = {
        "1.1": 3,
        "1.2": 2,
        "1.3": 1,
        "2.1": 1,
        "2.2": 1,
        "2.3": 3,
        "2.4": 1,
        "3.1": 2,
        "3.2": 3,
        "3.3": 4,
    }
    expected.update({"3.4": 4, "3.5": 1, "4.1": 3, "4.2": 1, "4.3": 2, "4.4": 2})
    assert actions.to_dict() == expected
    assert framework.outcomes[["accountable", "lead"]].notna().all().all()
    assert (framework.outcomes["n_indicators"] >= 1).all()
    assert framework.outcomes["illustrative"].all()  # indicators, targets, leads are not in the paper
    assert framework.indicators["illustrative"].all()
    assert framework.path == OUTCOMES
    assert "crime_rate_violence" in framework.indicator_ids


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_shipped_aims_outcomes_and_actions_are_the_papers_words(framework):
    if not PAPER.exists():
        pytest.skip(f"the partnership papers are not beside this checkout ({PAPER})")
    paper = _normalise(PAPER.read_text(encoding="utf-8"))
    texts = [*framework.aims["aim"], *framework.outcomes["outcome"], *framework.actions["action"]]
    missing = [t for t in texts if _normalise(t) not in paper]
    assert missing == []
    for outcome_id in framework.outcomes["outcome_id"]:
        assert f"Outcome {outcome_id}" in paper


def test_shipped_indicator_polarities_agree_with_the_indicator_definitions(framework):
    path = ROOT / "conf" / "indicators.yml"
    if not path.exists():
        pytest.skip("conf/indicators.yml is not there")
    defined = yaml.safe_load(path.read_text(encoding="utf-8")).get("indicators", {})
    shared = framework.indicators[framework.indicators["indicator_id"].isin(list(defined))]
    assert len(shared) >= 10
    for row in shared.itertuples():
        assert defined[row.indicator_id]["polarity"] == row.polarity, row.indicator_id


def test_shipped_delivery_register_loads_against_the_framework(framework, delivery):
    assert delivery["activity_id"].nunique() == 40  # the paper's 40 bullet points
    assert set(delivery["outcome_id"]) == set(framework.outcomes["outcome_id"])
    assert delivery["place_level"].isin(["ward", "district", "county"]).all()
    assert set(delivery.loc[delivery["place_name"] == "Gloucester", "place_code"]) == {GLOUCESTER}
    assert delivery["budget_gbp"].notna().all() and (delivery["budget_gbp"] > 0).all()
    assert delivery["illustrative"].all()  # every budget is made up
    question_marks = delivery.loc[delivery["activity"].str.endswith("?"), "activity_id"].unique()
    unconfirmed = delivery.loc[~delivery["confirmed"], "activity_id"].unique()
    assert sorted(question_marks) == sorted(unconfirmed)
    wards = delivery[delivery["place_level"] == "ward"]
    assert (wards["place_code"].str.startswith("E05")).all()


def test_only_outcome_3_5_lacks_confirmed_delivery_in_the_paper(framework, delivery):
    assert outcomes_without_delivery(framework, delivery=delivery).empty
    unconfirmed = outcomes_without_delivery(framework, delivery=delivery, confirmed="confirmed")
    assert unconfirmed["outcome_id"].tolist() == ["3.5"]
    assert unconfirmed["accountable"].tolist() == ["Positive Lives Partnership"]


def test_by_partnership_on_the_shipped_example(framework, delivery):
    out = by_partnership(framework, delivery=delivery)
    assert out["partnership"].tolist()[:4] == [
        "Strategic Leadership Group",
        "Positive Participation Partnership",
        "Positive Lives Partnership",
        "Positive Development Group",
    ]
    assert out["n_outcomes"].sum() == 16
    assert out["n_indicators"].sum() == len(framework.indicators)
    assert out["n_targets"].sum() == framework.indicators["target_value"].notna().sum()
    total = delivery.drop_duplicates("activity_id")["budget_gbp"].sum()
    assert out["budget"].sum() == pytest.approx(total)  # every pound counted once
    plain = by_partnership(framework)
    assert "budget" not in plain.columns and plain["n_outcomes"].tolist() == out["n_outcomes"].tolist()


# ============================================================================================
# Loader validation


def _valid() -> dict:
    return {
        "name": "Test strategy",
        "partnerships": {"Board": {"description": "top"}, "Group": {"reports_to": "Board"}},
        "aims": [
            {
                "id": 1,
                "title": "An aim",
                "outcomes": [
                    {
                        "id": "1.1",
                        "title": "An outcome",
                        "theme": "safer_stronger_communities",
                        "accountable": "Group",
                        "lead": "Council",
                        "actions": ["Do one thing", {"id": "x2", "title": "Do another"}],
                        "indicators": [
                            {
                                "id": "crime_rate_all",
                                "polarity": "high_is_bad",
                                "target": {"value": 5, "date": "2027-03-31"},
                            },
                            {
                                "id": "feel_safe",
                                "polarity": "high_is_good",
                                "baseline": {"value": 70, "date": "2024-03-31"},
                            },
                        ],
                        "illustrative": ["targets"],
                    }
                ],
            }
        ],
    }


def _write(tmp_path: Path, data) -> Path:
    path = tmp_path / "outcomes.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_valid_file_loads_into_tables(tmp_path):
    framework = load_outcomes(_write(tmp_path, _valid()))
    assert framework.aims.to_dict("records") == [{"aim_id": "1", "aim": "An aim", "n_outcomes": 1}]
    assert framework.actions["action_id"].tolist() == ["1.1.1", "x2"]
    ind = framework.indicators.set_index("indicator_id")
    assert (
        ind.loc["crime_rate_all", "target_value"] == 5
        and ind.loc["crime_rate_all", "target_date"] == "2027-03-31"
    )
    assert np.isnan(ind.loc["feel_safe", "target_value"]) and ind.loc["feel_safe", "baseline_value"] == 70
    assert ind["illustrative"].all()  # the outcome flags its targets as illustrative
    assert framework.outcomes.loc[0, "illustrative_fields"] == "targets"
    assert framework.partnerships["reports_to"].isna().tolist() == [True, False]
    assert framework.partnerships["reports_to"].iloc[1] == "Board"


def _set(path: list, value):
    def change(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        return data

    return change


_DELETE = object()
_OUT = ["aims", 0, "outcomes", 0]
_IND = [*_OUT, "indicators", 0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(["colour"], "red"), r"outcomes.yml\.colour \(line \d+\): unknown key \['colour'\]"),
        (_set([*_OUT, "owner"], "x"), r"aims\[0\]\.outcomes\[0\]\.owner \(line \d+\): unknown key \['owner'\]"),
        (_set([*_OUT, "lead"], _DELETE), r"aims\[0\]\.outcomes\[0\] \(line \d+\): missing required key 'lead'"),
        (_set([*_OUT, "accountable"], _DELETE), "missing required key 'accountable'"),
        (_set([*_OUT, "indicators"], []), r"outcomes\[0\].indicators: has no indicators"),
        (_set([*_IND, "polarity"], "up"), r"indicators\[0\]\.polarity \(line \d+\): 'polarity' is not a known value"),
        (_set([*_IND, "polarity"], _DELETE), "missing required key 'polarity'"),
        (_set([*_IND, "target", "date"], _DELETE), r"indicators\[0\]\.target \(line \d+\): missing required key 'date'"),
        (_set([*_IND, "target", "value"], _DELETE), r"target \(line \d+\): missing required key 'value'"),
        (_set([*_IND, "target", "date"], "March 2027"), r"target: 'date' is not a date"),
        (_set([*_IND, "target", "date"], "2027-02-30"), r"'date' is not a date"),
        (_set([*_IND, "target", "value"], "five"), r"'value' is not a number"),
        (_set([*_IND, "target", "when"], "2027"), r"target\.when \(line \d+\): unknown key \['when'\]"),
        (_set([*_IND, "id"], "Crime Rate"), "lower_snake_case"),
        (_set([*_OUT, "accountable"], "Nobody"), "'accountable' is not a declared partnership"),
        (_set([*_OUT, "theme"], "leisure"), "'theme' is not a known value"),
        (_set([*_OUT, "illustrative"], ["budget"]), "'illustrative' names unknown fields"),
        (_set(["aims"], []), "has no aims"),
        (_set(["aims", 0, "outcomes"], []), "has no outcomes"),
        (_set(["name"], _DELETE), "missing required key 'name'"),
        (
            _set(["partnerships", "Group", "reports_to"], "Council"),
            "'reports_to' is not a declared partnership",
        ),
        (_set([*_OUT, "id"], ["1.1"]), "'id' is not a text or number"),
        (_set([*_OUT, "illustrative"], "yes"), "'illustrative' has the wrong type"),
        (_set([*_OUT, "actions"], [{"title": "x", "owner": "y"}]), r"actions\[0\]\.owner \(line \d+\): unknown key"),
        (_set(["aims", 0], "an aim"), r"aims\[0\]: is not a mapping"),
    ],
)
def test_malformed_outcomes_are_named_with_file_and_key(tmp_path, change, message):
    path = _write(tmp_path, change(copy.deepcopy(_valid())))
    with pytest.raises(CatalogError, match=message) as info:
        load_outcomes(path)
    assert str(path) in str(info.value)


def test_repeated_ids_and_unreadable_files(tmp_path):
    data = _valid()
    data["aims"][0]["outcomes"].append(copy.deepcopy(data["aims"][0]["outcomes"][0]))
    with pytest.raises(CatalogError, match="outcome id is used twice"):
        load_outcomes(_write(tmp_path, data))
    data = _valid()
    data["aims"][0]["outcomes"][0]["indicators"].append({"id": "crime_rate_all", "polarity": "high_is_bad"})
    with pytest.raises(CatalogError, match="indicator is listed twice"):
        load_outcomes(_write(tmp_path, data))
    data = _valid()
    data["aims"].append(copy.deepcopy(data["aims"][0]))
    with pytest.raises(CatalogError, match="aim id is used twice"):
        load_outcomes(_write(tmp_path, data))
    with pytest.raises(CatalogError, match="outcomes framework file not found"):
        load_outcomes(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("aims: [\n  - id: 1\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="is not valid YAML"):
        load_outcomes(bad)
    bad.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(CatalogError, match="not UTF-8"):
        load_outcomes(bad)


def test_without_declared_partnerships_any_accountable_body_is_accepted():
    data = _valid()
    del data["partnerships"]
    data["aims"][0]["outcomes"][0]["accountable"] = "Task and finish group on NEETs"
    framework = parse_outcomes(data)
    assert framework.partnerships.empty
    assert by_partnership(framework)["partnership"].tolist() == ["Task and finish group on NEETs"]


# ============================================================================================
# Delivery loader validation


def _delivery(**change) -> dict:
    activity = {
        "id": "streetgames",
        "activity": "Streetgames",
        "partner": "City Council",
        "outcomes": ["3.3"],
        "places": ["Podsmead", "Westgate", GLOUCESTER],
        "budget": 100,
        "illustrative": ["budget"],
    }
    activity.update(change)
    return {"name": "t", "district": "Gloucester", "activities": [activity]}


def test_delivery_places_resolve_by_name_and_code(framework, hierarchy):
    out = _located(_delivery(), hierarchy, outcomes=framework)
    assert out["place_code"].tolist() == ["E05010963", "E05010967", GLOUCESTER]
    assert out["place_level"].tolist() == ["ward", "ward", "district"]
    assert out["budget_gbp"].tolist() == [100, 100, 100] and out["confirmed"].all()
    county = _located(_delivery(places=["Gloucestershire"]), hierarchy)
    assert county["place_code"].tolist() == ["E10000013"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outcomes": ["9.9"]}, r"activities\[0\].outcomes: names outcomes the framework does not have"),
        ({"places": ["Atlantis"]}, r"activities\[0\].places: is not a known place"),
        ({"places": []}, "has no places"),
        ({"outcomes": []}, "serves no outcome"),
        ({"budget": -5}, "'budget' is negative"),
        ({"budget": "lots"}, "'budget' is not a number"),
        ({"colour": "red"}, r"unknown key \['colour'\]"),
        ({"id": "Street Games"}, "lower_snake_case"),
        ({"illustrative": ["colour"]}, "names unknown fields"),
        ({"confirmed": "maybe"}, "'confirmed' has the wrong type"),
    ],
)
def test_malformed_delivery_is_named(framework, hierarchy, change, message):
    with pytest.raises(CatalogError, match=message):
        _located(_delivery(**change), hierarchy, source="conf/delivery.yml", outcomes=framework)


def test_delivery_ambiguous_ward_names_and_repeated_ids(tmp_path, framework, hierarchy):
    data = _delivery(places=["Abbey"])
    del data["district"]
    # no two wards of the partnership share a name: add an "Abbey" ward in a district elsewhere
    elsewhere = hierarchy[hierarchy["ward_name"] == "Abbey"].assign(
        lsoa="E01999999", ward="E05999999", district="E07999999", district_name="Elsewhere")  # fmt: skip
    wider = pd.concat([hierarchy, elsewhere], ignore_index=True)
    with pytest.raises(CatalogError, match="ambiguous ward name"):
        _located(data, wider)
    data["district"] = "Cotswold"
    assert _located(data, wider)["place_code"].tolist() == ["E05010696"]
    data = _delivery()
    data["activities"].append(copy.deepcopy(data["activities"][0]))
    with pytest.raises(CatalogError, match="activity id is used twice"):
        parse_delivery(data)
    with pytest.raises(CatalogError, match="is not a district code or name"):
        _located({**_delivery(), "district": "Atlantis"}, hierarchy)
    with pytest.raises(CatalogError, match="has no activities"):
        parse_delivery({"name": "t", "activities": []})
    with pytest.raises(CatalogError, match="missing required key 'activities'"):
        parse_delivery({"name": "t"})
    path = tmp_path / "delivery.yml"
    path.write_text(yaml.safe_dump(_delivery()), encoding="utf-8")
    assert len(load_delivery(path, outcomes=framework)) == 3
    with pytest.raises(CatalogError, match="delivery register file not found"):
        load_delivery(tmp_path / "nope.yml")


# ============================================================================================
# delivery_matrix, outcomes_without_delivery


def _hand_delivery() -> pd.DataFrame:
    """a1 serves o1 in P1 and P2 (£100); a2 serves o1 and o2 in P1 (£60); a3 serves o2 in P3 (unknown budget)."""
    return pd.DataFrame(
        {
            "activity_id": ["a1", "a1", "a2", "a2", "a3"],
            "outcome_id": ["o1", "o1", "o1", "o2", "o2"],
            "place_code": ["P1", "P2", "P1", "P1", "P3"],
            "budget_gbp": [100.0, 100.0, 60.0, 60.0, np.nan],
            "confirmed": [True, True, True, True, False],
        }
    )


def test_delivery_matrix_counts_and_budget():
    df = _hand_delivery()
    before = df.copy()
    long = delivery_matrix(df, outcomes=["o1", "o2", "o3"], places=["P1", "P2", "P3", "P4"])
    pd.testing.assert_frame_equal(df, before)
    assert len(long) == 12
    cell = long.set_index(["outcome_id", "place_code"])
    assert cell.loc[("o1", "P1"), "n_activities"] == 2 and cell.loc[("o1", "P1"), "budget"] == 80  # 50 + 30
    assert cell.loc[("o1", "P2"), "budget"] == 50 and cell.loc[("o2", "P1"), "budget"] == 30
    assert cell.loc[("o2", "P3"), "n_activities"] == 1 and cell.loc[("o2", "P3"), "budget"] == 0
    assert cell.loc[("o2", "P3"), "n_budget_unknown"] == 1
    assert (
        cell.loc["o3", "n_activities"].sum() == 0 and cell.loc[(slice(None), "P4"), "n_activities"].sum() == 0
    )
    assert long["budget"].sum() == 160  # the known budget, each pound once
    wide = delivery_matrix(
        df, outcomes=["o1", "o2", "o3"], places=["P1", "P2", "P3", "P4"], values="n_activities"
    )
    assert wide.index.tolist() == ["o1", "o2", "o3"] and wide.columns.tolist() == ["P1", "P2", "P3", "P4"]
    assert wide.to_numpy().tolist() == [[2, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    money = delivery_matrix(df, values="budget")
    assert money.loc["o1"].tolist() == [80, 50, 0]
    counts_only = delivery_matrix(df.drop(columns="budget_gbp"), budget=None)
    assert "budget" not in counts_only.columns and counts_only["n_activities"].sum() == 5


def test_delivery_matrix_errors():
    df = _hand_delivery()
    with pytest.raises(SchemaError, match="differs between rows of the same activity"):
        delivery_matrix(df.assign(budget_gbp=[100.0, 90.0, 60.0, 60.0, np.nan]))
    with pytest.raises(SchemaError, match="differs between rows of the same activity"):
        delivery_matrix(df.assign(budget_gbp=[100.0, np.nan, 60.0, 60.0, np.nan]))
    with pytest.raises(SchemaError, match="negative"):
        delivery_matrix(df.assign(budget_gbp=-1.0))
    with pytest.raises(SchemaError, match="not numeric"):
        delivery_matrix(df.assign(budget_gbp="lots"))
    with pytest.raises(SchemaError, match="without an activity, outcome or place"):
        delivery_matrix(df.assign(place_code=["P1", None, "P1", "P1", "P3"]))
    with pytest.raises(SchemaError, match="not a known option"):
        delivery_matrix(df, values="money")
    with pytest.raises(SchemaError, match="needs a budget column"):
        delivery_matrix(df, budget=None, values="budget")
    with pytest.raises(SchemaError, match="'outcome' is not a column"):
        delivery_matrix(df, outcome="outcome")


def test_outcomes_without_delivery_overall_by_place_and_confirmed():
    outcomes = pd.DataFrame({"outcome_id": ["o1", "o2", "o3"], "accountable": ["G", "G", "H"]})
    df = _hand_delivery()
    assert outcomes_without_delivery(outcomes, delivery=df)["outcome_id"].tolist() == ["o3"]
    only_o2_unconfirmed = df[df["activity_id"] != "a2"]
    out = outcomes_without_delivery(outcomes, delivery=only_o2_unconfirmed, confirmed="confirmed")
    assert out["outcome_id"].tolist() == ["o2", "o3"]
    cells = outcomes_without_delivery(outcomes, delivery=df, places=["P1", "P2", "P3"])
    pairs = list(zip(cells["outcome_id"], cells["place"], strict=True))
    assert pairs == [("o1", "P3"), ("o2", "P2"), ("o3", "P1"), ("o3", "P2"), ("o3", "P3")]
    assert cells.set_index(["outcome_id", "place"]).loc[("o1", "P3"), "n_activities_elsewhere"] == 2
    assert cells.set_index(["outcome_id", "place"]).loc[("o3", "P1"), "n_activities_elsewhere"] == 0
    with pytest.raises(SchemaError, match="names outcomes the framework does not have"):
        outcomes_without_delivery(outcomes.iloc[:1], delivery=df)
    with pytest.raises(SchemaError, match="not boolean"):
        outcomes_without_delivery(outcomes, delivery=df.assign(confirmed="yes"), confirmed="confirmed")


# ============================================================================================
# expand_places, delivery_away_from_need


def test_expand_places_to_wards_and_districts(delivery, hierarchy):
    rows = delivery[delivery["activity_id"].isin(["travel_plans", "business_link", "park_and_ride"])]
    wards = expand_places(rows, to="ward", hierarchy=hierarchy)
    travel = wards[wards["activity_id"] == "travel_plans"]
    assert len(travel) == 18 and travel["place_code"].str.startswith("E05").all()
    assert set(travel["expanded_from"]) == {GLOUCESTER} and (travel["place_level"] == "ward").all()
    assert (wards[wards["activity_id"] == "business_link"]["expanded_from"] == "E10000013").sum() == 137
    park = wards[wards["activity_id"] == "park_and_ride"]
    assert len(park) == 2 and park["expanded_from"].isna().all()
    inside = expand_places(rows, to="ward", within=GLOUCESTER, hierarchy=hierarchy)
    assert inside.groupby("activity_id").size().to_dict() == {
        "business_link": 18,
        "park_and_ride": 2,
        "travel_plans": 18,
    }
    districts = expand_places(rows[rows["activity_id"] != "park_and_ride"], to="district", hierarchy=hierarchy)
    assert districts.groupby("activity_id").size().to_dict() == {"business_link": 6, "travel_plans": 1}
    with pytest.raises(SchemaError, match="below 'district'"):
        expand_places(rows, to="district", hierarchy=hierarchy)
    with pytest.raises(SchemaError, match="not wards, districts or counties"):
        expand_places(rows.assign(place_code="E01022100"), hierarchy=hierarchy)
    with pytest.raises(SchemaError, match="not a known level"):
        expand_places(rows, to="lsoa", hierarchy=hierarchy)
    with pytest.raises(SchemaError, match="not a district or county code"):
        expand_places(rows, within="E99999999", hierarchy=hierarchy)


def _need():
    return pd.Series([5.0, 4.0, 3.0, 2.0, 1.0], index=["P1", "P2", "P3", "P4", "P5"])


def _placed():
    return pd.DataFrame(
        {
            "activity_id": ["a1", "a1", "a2", "a2"],
            "activity": ["Near need", "Near need", "Far from need", "Far from need"],
            "outcome_id": ["o1", "o1", "o1", "o1"],
            "place_code": ["P1", "P2", "P4", "P5"],
            "budget_gbp": [100.0, 100.0, 40.0, 40.0],
        }
    )


def test_delivery_away_from_need_hand_worked():
    df = _placed()
    before = df.copy()
    out = delivery_away_from_need(df, need=_need())
    pd.testing.assert_frame_equal(df, before)
    assert out["activity_id"].tolist() == ["a2", "a1"]
    row = out.set_index("activity_id")
    assert row.loc["a2", "away_from_need"] and not row.loc["a1", "away_from_need"]
    assert row.loc["a1", "n_high_need_places"] == 1 and row.loc["a1", "share_high_need"] == 0.5
    assert row.loc["a1", "budget_high_need"] == 50 and row.loc["a1", "budget_share_high_need"] == 0.5
    assert row.loc["a1", "mean_need_percentile"] == pytest.approx(0.9)
    assert row.loc["a2", "mean_need_percentile"] == pytest.approx(0.3)
    assert row.loc["a1", "activity"] == "Near need"
    assert out.attrs["needskit_need"]["high_need_places"] == {"all": ["P1"]}
    wider = delivery_away_from_need(df, need=_need(), top=0.4).set_index("activity_id")
    assert wider.loc["a1", "n_high_need_places"] == 2


def test_delivery_away_from_need_per_outcome_need():
    need = pd.DataFrame(
        {
            "outcome_id": ["o1"] * 5,
            "place_code": ["P1", "P2", "P3", "P4", "P5"],
            "need": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    out = delivery_away_from_need(_placed(), need=need).set_index("activity_id")
    assert out.loc["a1", "away_from_need"] and not out.loc["a2", "away_from_need"]
    assert out.attrs["needskit_need"]["high_need_places"] == {"o1": ["P5"]}


def test_delivery_away_from_need_errors():
    df = _placed()
    with pytest.raises(SchemaError, match="places without a need score"):
        delivery_away_from_need(df.assign(place_code=["P1", "P2", "P4", GLOUCESTER]), need=_need())
    with pytest.raises(SchemaError, match="not a share of places"):
        delivery_away_from_need(df, need=_need(), top=1.5)
    with pytest.raises(SchemaError, match="not a Series or DataFrame"):
        delivery_away_from_need(df, need={"P1": 1})
    with pytest.raises(SchemaError, match="repeats places"):
        delivery_away_from_need(df, need=pd.concat([_need(), _need()]))
    with pytest.raises(SchemaError, match="missing or non-numeric"):
        delivery_away_from_need(df, need=_need().replace(5.0, np.nan))


def test_delivery_away_from_need_on_the_shipped_register(delivery, hierarchy, shipped_store):
    ward_of = hierarchy[hierarchy["district"] == GLOUCESTER].set_index("lsoa")["ward"]
    profile = shipped_store.read_profile(levels=["lsoa"], datasets=["iod2025_scores"])
    imd = profile[(profile["measure"] == "imd_score") & profile["area_code"].isin(ward_of.index)]
    need = imd.groupby(imd["area_code"].map(ward_of))["value"].mean()
    wards = expand_places(delivery, to="ward", within=GLOUCESTER, hierarchy=hierarchy)
    out = delivery_away_from_need(wards, need=need)
    away = set(out.loc[out["away_from_need"], "activity_id"])
    assert "change_for_life" in away  # placed in the least deprived wards
    assert "streetgames_play_rangers" not in away  # placed in the most deprived wards
    assert out["n_places"].max() == 18
