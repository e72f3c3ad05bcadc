"""needskit.config.outcomes: the outcomes framework (conf/outcomes.yml) and the delivery register
(conf/delivery.yml), read and checked. Locating delivery places and the analyses are in
tests/commissioning/test_outcomes.py."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from needskit.config import OutcomesFramework, load_delivery, load_outcomes
from needskit.config.outcomes import parse_delivery, parse_outcomes
from needskit.errors import CatalogError
from partner_files import CONF, ROOT

OUTCOMES = CONF / "outcomes.yml"
DELIVERY = CONF / "delivery.yml"
PAPER = ROOT.parent / "shared" / "reference" / "papers" / "gloucester-2010-recommendations-to-the-board.txt"
GLOUCESTER = "E07000081"


@pytest.fixture(scope="module")
def framework():
    return load_outcomes(OUTCOMES)


@pytest.fixture(scope="module")
def delivery(framework):
    return load_delivery(DELIVERY, outcomes=framework)


# ============================================================================================
# The shipped Gloucester framework


def test_shipped_framework_has_the_four_aims_and_sixteen_outcomes(framework):
    assert isinstance(framework, OutcomesFramework)
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
    defined = yaml.safe_load((CONF / "indicators.yml").read_text(encoding="utf-8"))["indicators"]
    shared = framework.indicators[framework.indicators["indicator_id"].isin(list(defined))]
    assert len(shared) >= 10
    for row in shared.itertuples():
        assert defined[row.indicator_id]["polarity"] == row.polarity, row.indicator_id


def test_shipped_delivery_register_loads_against_the_framework(framework, delivery):
    assert delivery["activity_id"].nunique() == 40  # the paper's 40 bullet points
    assert set(delivery["outcome_id"]) == set(framework.outcomes["outcome_id"])
    assert delivery["budget_gbp"].notna().all() and (delivery["budget_gbp"] > 0).all()
    assert delivery["illustrative"].all()  # every budget is made up
    question_marks = delivery.loc[delivery["activity"].str.endswith("?"), "activity_id"].unique()
    unconfirmed = delivery.loc[~delivery["confirmed"], "activity_id"].unique()
    assert sorted(question_marks) == sorted(unconfirmed)
    # places are kept as written; needskit.commissioning.locate_delivery finds them in the geography
    assert {"place", "district", "where"} <= set(delivery.columns) and "place_code" not in delivery.columns
    assert "Gloucester" in set(delivery["place"])
    assert delivery["where"].str.startswith(f"{DELIVERY}: activities[").all()
    assert delivery["where"].str.endswith("].places").all()


# ============================================================================================
# Outcomes loader validation


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


def _write(tmp_path: Path, data, name: str = "outcomes.yml") -> Path:
    path = tmp_path / name
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
    assert framework.indicator_ids == ["crime_rate_all", "feel_safe"]


def test_yaml_dates_are_read_as_dates(tmp_path):
    path = tmp_path / "outcomes.yml"
    text = yaml.safe_dump(_valid()).replace("date: '2027-03-31'", "date: 2027-03-31")
    assert "date: 2027-03-31" in text
    path.write_text(text, encoding="utf-8")
    assert load_outcomes(path).indicators["target_date"].tolist()[0] == "2027-03-31"


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
        (_set(["colour"], "red"), r"outcomes.yml.colour \(line \d+\): unknown key \['colour'\]"),
        (_set([*_OUT, "owner"], "x"), r"aims\[0\].outcomes\[0\].owner \(line \d+\): unknown key \['owner'\]"),
        (
            _set([*_OUT, "lead"], _DELETE),
            r"aims\[0\].outcomes\[0\] \(line \d+\): missing required key 'lead'",
        ),
        (_set([*_OUT, "accountable"], _DELETE), "missing required key 'accountable'"),
        (_set([*_OUT, "indicators"], []), r"outcomes\[0\].indicators: has no indicators"),
        (
            _set([*_IND, "polarity"], "up"),
            r"indicators\[0\].polarity \(line \d+\): 'polarity' is not a known value",
        ),
        (_set([*_IND, "polarity"], _DELETE), "missing required key 'polarity'"),
        (
            _set([*_IND, "target", "date"], _DELETE),
            r"indicators\[0\].target \(line \d+\): missing required key 'date'",
        ),
        (_set([*_IND, "target", "value"], _DELETE), r"target \(line \d+\): missing required key 'value'"),
        (_set([*_IND, "target", "date"], "March 2027"), r"target: 'date' is not a date"),
        (_set([*_IND, "target", "date"], "2027-02-30"), r"'date' is not a date"),
        (_set([*_IND, "target", "value"], "five"), r"'value' is not a number"),
        (_set([*_IND, "target", "value"], True), r"'value' is not a number"),
        (_set([*_IND, "target", "when"], "2027"), r"target.when \(line \d+\): unknown key \['when'\]"),
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
        (
            _set([*_OUT, "actions"], [{"title": "x", "owner": "y"}]),
            r"actions\[0\].owner \(line \d+\): unknown key",
        ),
        (_set(["aims", 0], "an aim"), r"aims\[0\]: is not a mapping"),
    ],
)
def test_malformed_outcomes_are_named_with_file_key_and_line(tmp_path, change, message):
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
    with pytest.raises(CatalogError, match="is not valid YAML") as info:
        load_outcomes(bad)
    assert re.search(r"line \d+, column \d+", str(info.value))
    bad.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(CatalogError, match="not UTF-8"):
        load_outcomes(bad)


def test_without_declared_partnerships_any_accountable_body_is_accepted():
    data = _valid()
    del data["partnerships"]
    data["aims"][0]["outcomes"][0]["accountable"] = "Task and finish group on NEETs"
    framework = parse_outcomes(data)
    assert framework.partnerships.empty
    assert framework.outcomes["accountable"].tolist() == ["Task and finish group on NEETs"]


# ============================================================================================
# Delivery loader validation (places are kept as written)


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


def test_delivery_rows_keep_places_as_written(framework):
    out = parse_delivery(
        _delivery(places=[" Podsmead ", "Westgate", GLOUCESTER, "Westgate"], outcomes=["3.3", 3.4]),
        source="conf/delivery.yml",
        outcomes=framework,
    )
    assert len(out) == 6  # two outcomes x three places (repeats dropped)
    assert out["place"].tolist()[:3] == ["Podsmead", "Westgate", GLOUCESTER]
    assert out["outcome_id"].tolist() == ["3.3"] * 3 + ["3.4"] * 3
    assert set(out["district"]) == {"Gloucester"} and set(out["where"]) == {
        "conf/delivery.yml: activities[0].places"
    }
    assert out["budget_gbp"].tolist() == [100] * 6 and out["confirmed"].all()
    assert out["illustrative"].all() and set(out["illustrative_fields"]) == {"budget"}
    no_district = parse_delivery({"name": "t", "activities": _delivery()["activities"]})
    assert no_district["district"].isna().all()
    unknown_budget = parse_delivery(_delivery(budget=None, illustrative=True, confirmed=False))
    assert unknown_budget["budget_gbp"].isna().all() and not unknown_budget["confirmed"].any()
    assert set(unknown_budget["illustrative_fields"]) == {"all"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outcomes": ["9.9"]}, r"activities\[0\].outcomes: names outcomes the framework does not have"),
        ({"places": []}, "has no places"),
        ({"outcomes": []}, "serves no outcome"),
        ({"budget": -5}, "'budget' is negative"),
        ({"budget": "lots"}, "'budget' is not a number"),
        ({"colour": "red"}, r"unknown key \['colour'\]"),
        ({"id": "Street Games"}, "lower_snake_case"),
        ({"illustrative": ["colour"]}, "names unknown fields"),
        ({"confirmed": "maybe"}, "'confirmed' has the wrong type"),
        ({"places": "Podsmead"}, "'places' has the wrong type"),
        ({"activity": None}, "missing required key 'activity'"),
    ],
)
def test_malformed_delivery_is_named(framework, change, message):
    with pytest.raises(CatalogError, match=message) as info:
        parse_delivery(_delivery(**change), source="conf/delivery.yml", outcomes=framework)
    assert "conf/delivery.yml" in str(info.value)


def test_delivery_repeated_ids_and_files(tmp_path, framework):
    data = _delivery()
    data["activities"].append(copy.deepcopy(data["activities"][0]))
    with pytest.raises(CatalogError, match="activity id is used twice"):
        parse_delivery(data)
    empty = parse_delivery({"name": "t", "activities": []})  # a new partnership's register: nothing yet
    assert empty.empty and "budget_gbp" in empty.columns
    with pytest.raises(CatalogError, match="missing required key 'activities'"):
        parse_delivery({"name": "t"})
    with pytest.raises(CatalogError, match="'district' has the wrong type"):
        parse_delivery({**_delivery(), "district": ["Gloucester"]})
    path = _write(tmp_path, _delivery(), name="delivery.yml")
    loaded = load_delivery(path, outcomes=framework)
    assert len(loaded) == 3 and loaded["where"].str.startswith(f"{path}: activities[0]").all()
    with pytest.raises(CatalogError, match="delivery register file not found"):
        load_delivery(tmp_path / "nope.yml")
