"""needskit.commissioning (delivery, delivery_need): locating the delivery register and the delivery
analyses. Reading conf/outcomes.yml and conf/delivery.yml is tested in tests/config/test_outcomes.py."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from needskit.commissioning import (
    by_partnership,
    delivery_away_from_need,
    delivery_matrix,
    expand_places,
    locate_delivery,
    outcomes_without_delivery,
)
from needskit.config import load_delivery, load_outcomes
from needskit.config.outcomes import parse_delivery, parse_outcomes
from needskit.errors import CatalogError, SchemaError
from partner_files import CONF, RAW, shipped_place

GLOUCESTER = "E07000081"


@pytest.fixture(scope="module")
def hierarchy():
    """The shipped geography's 2021 LSOA hierarchy (every English and Welsh LSOA)."""
    return shipped_place().geography.hierarchy()


@pytest.fixture(scope="module")
def framework():
    return load_outcomes(CONF / "outcomes.yml")


@pytest.fixture(scope="module")
def delivery(framework, hierarchy):
    return locate_delivery(load_delivery(CONF / "delivery.yml", outcomes=framework), hierarchy=hierarchy)


# ============================================================================================
# The shipped Gloucester register, located


def test_shipped_delivery_register_is_located_in_the_geography(framework, delivery):
    assert delivery["activity_id"].nunique() == 40  # the paper's 40 bullet points
    assert set(delivery["outcome_id"]) == set(framework.outcomes["outcome_id"])
    assert delivery["place_level"].isin(["ward", "district", "county"]).all()
    assert set(delivery.loc[delivery["place_name"] == "Gloucester", "place_code"]) == {GLOUCESTER}
    wards = delivery[delivery["place_level"] == "ward"]
    assert (wards["place_code"].str.startswith("E05")).all()
    assert not {"place", "district", "where"} & set(delivery.columns)


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


def test_without_declared_partnerships_each_accountable_body_is_a_partnership():
    data = {
        "name": "t",
        "aims": [
            {
                "id": 1,
                "title": "An aim",
                "outcomes": [
                    {
                        "id": "1.1",
                        "title": "An outcome",
                        "accountable": "Task and finish group on NEETs",
                        "lead": "Council",
                        "indicators": [{"id": "neet", "polarity": "high_is_bad"}],
                    }
                ],
            }
        ],
    }
    assert by_partnership(parse_outcomes(data))["partnership"].tolist() == ["Task and finish group on NEETs"]


# ============================================================================================
# locate_delivery


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
    rows = parse_delivery(_delivery(), outcomes=framework)
    before = rows.copy()
    out = locate_delivery(rows, hierarchy=hierarchy)
    pd.testing.assert_frame_equal(rows, before)  # not modified
    assert out["place_code"].tolist() == ["E05010963", "E05010967", GLOUCESTER]
    assert out["place_name"].tolist() == ["Podsmead", "Westgate", "Gloucester"]
    assert out["place_level"].tolist() == ["ward", "ward", "district"]
    assert out["budget_gbp"].tolist() == [100, 100, 100] and out["confirmed"].all()
    assert list(out.columns[:6]) == [
        "activity_id",
        "activity",
        "partner",
        "programme",
        "outcome_id",
        "place_code",
    ]
    county = locate_delivery(parse_delivery(_delivery(places=["Gloucestershire"])), hierarchy=hierarchy)
    assert county["place_code"].tolist() == ["E10000013"] and county["place_level"].tolist() == ["county"]


def test_unknown_places_are_named_with_file_and_activity(framework, hierarchy):
    rows = parse_delivery(_delivery(places=["Atlantis"]), source="conf/delivery.yml", outcomes=framework)
    with pytest.raises(CatalogError, match=r"activities\[0\].places: is not a known place") as info:
        locate_delivery(rows, hierarchy=hierarchy)
    assert "conf/delivery.yml" in str(info.value) and "(wards of E07000081)" in str(info.value)
    with pytest.raises(SchemaError, match="place"):
        locate_delivery(rows.drop(columns="where"), hierarchy=hierarchy)


def test_delivery_ambiguous_ward_names(hierarchy):
    data = _delivery(places=["Abbey"])
    del data["district"]
    with pytest.raises(CatalogError, match="ambiguous ward name") as info:
        locate_delivery(parse_delivery(data), hierarchy=hierarchy)
    assert "set district:" in str(info.value)
    data["district"] = "Cotswold"
    assert locate_delivery(parse_delivery(data), hierarchy=hierarchy)["place_code"].tolist() == ["E05010696"]
    with pytest.raises(CatalogError, match="is not a district code or name"):
        locate_delivery(parse_delivery({**_delivery(), "district": "Atlantis"}), hierarchy=hierarchy)
    by_code = copy.deepcopy(_delivery(places=["Podsmead"]))
    by_code["district"] = GLOUCESTER
    assert locate_delivery(parse_delivery(by_code), hierarchy=hierarchy)["place_code"].tolist() == [
        "E05010963"
    ]


# ============================================================================================
# delivery_matrix, outcomes_without_delivery


def _hand_delivery() -> pd.DataFrame:
    """a1 serves o1 in P1 and P2 (£100); a2 serves o1 and o2 in P1 (£60); a3 serves o2 in P3
    (unknown budget)."""
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
    inside = expand_places(rows, to="ward", hierarchy=hierarchy, within=GLOUCESTER)
    assert inside.groupby("activity_id").size().to_dict() == {
        "business_link": 18,
        "park_and_ride": 2,
        "travel_plans": 18,
    }
    districts = expand_places(
        rows[rows["activity_id"] != "park_and_ride"], to="district", hierarchy=hierarchy
    )
    assert districts.groupby("activity_id").size().to_dict() == {"business_link": 6, "travel_plans": 1}
    with pytest.raises(SchemaError, match="below 'district'"):
        expand_places(rows, to="district", hierarchy=hierarchy)
    with pytest.raises(SchemaError, match="not wards, districts or counties"):
        expand_places(rows.assign(place_code="E01022100"), hierarchy=hierarchy)
    with pytest.raises(SchemaError, match="not a known level"):
        expand_places(rows, to="lsoa", hierarchy=hierarchy)
    with pytest.raises(SchemaError, match="not a district or county code"):
        expand_places(rows, hierarchy=hierarchy, within="E99999999")


def test_expand_places_of_an_empty_register(delivery, hierarchy):
    """A delivery register with nothing recorded yet (``activities: []``) expands to no rows."""
    empty = expand_places(delivery.iloc[0:0], to="ward", hierarchy=hierarchy, within=GLOUCESTER)
    assert empty.empty and "expanded_from" in empty.columns
    assert list(empty.columns) == [*delivery.columns, "expanded_from"]


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


def test_delivery_away_from_need_on_the_shipped_register(delivery, hierarchy):
    table = hierarchy
    ward_of = table[table["district"] == GLOUCESTER].set_index("lsoa")["ward"]
    imd = pd.read_csv(RAW / "imd2025" / "iod2025_lsoa21_scores_ranks_deciles.csv.gz")
    imd = imd[imd["lsoa21_code"].isin(ward_of.index)]
    need = imd.groupby(imd["lsoa21_code"].map(ward_of))["IMD_score"].mean()
    wards = expand_places(delivery, to="ward", hierarchy=hierarchy, within=GLOUCESTER)
    out = delivery_away_from_need(wards, need=need)
    away = set(out.loc[out["away_from_need"], "activity_id"])
    assert "change_for_life" in away  # placed in the least deprived wards
    assert "streetgames_play_rangers" not in away  # placed in the most deprived wards
    assert out["n_places"].max() == 18
