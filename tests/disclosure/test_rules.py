"""Tests for needskit.disclosure.rules: the rule-set registry, describe_rule, primary suppression
and rounding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needskit.disclosure import (
    RULE_SETS,
    RuleSet,
    apply_rules,
    describe_rule,
)
from needskit.errors import SchemaError

from .helpers import quiet_apply


def test_registry_holds_the_three_rule_sets() -> None:
    assert set(RULE_SETS) == {"nhs_digital", "opensafely", "lt5_secondary"}
    assert RULE_SETS["nhs_digital"].primary_reason == "primary: 1-7"
    assert RULE_SETS["opensafely"].primary_reason == "primary: 0-7"
    assert RULE_SETS["lt5_secondary"].primary_reason == "primary: 1-4"
    with pytest.raises(TypeError):
        RULE_SETS["mine"] = RULE_SETS["nhs_digital"]  # read-only registry


@pytest.mark.parametrize(
    ("name", "phrases"),
    [
        ("nhs_digital", ["NHS Digital", "from 1 to 7", "nearest 5", "zeros are shown as 0", "Percentages"]),
        ("opensafely", ["OpenSAFELY", "7 or fewer, including zero", "nearest 5", "recalculated"]),
        ("lt5_secondary", ["from 1 to 4", "next smallest", "worked out exactly"]),
    ],
)
def test_describe_rule_is_one_plain_paragraph(name: str, phrases: list[str]) -> None:
    text = describe_rule(name)
    assert "\n" not in text and text.endswith(".")
    for phrase in phrases:
        assert phrase in text
    assert "is not missing" in text and "which of the two is not said" in text


def test_describe_rule_describes_a_custom_rule_set() -> None:
    house = RuleSet("lt10_secondary", "county house", threshold=9, secondary=True)
    text = describe_rule(house)
    assert "county house" in text and "from 1 to 9" in text and "nearest" not in text


def test_unknown_rule_name_raises() -> None:
    with pytest.raises(SchemaError, match=r"rule: is not a known option.*nhs_digital"):
        describe_rule("nhs_england")
    with pytest.raises(SchemaError, match="rule: is not a known option"):
        apply_rules(pd.DataFrame({"value": [1]}), rule="lt3")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": -1}, "RuleSet.threshold: is not a count"),
        ({"threshold": 4.5}, "RuleSet.threshold: is not a count"),
        ({"threshold": 7, "rounding_base": 0}, "RuleSet.rounding_base: is not a rounding base"),
        ({"threshold": 4, "secondary": True, "suppress_zero": True}, "withholds zeros and uses secondary"),
        ({"threshold": 4, "secondary": True, "totals_from_redacted": True}, "combines secondary suppression"),
    ],
)
def test_invalid_rule_set_raises(kwargs: dict, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        RuleSet("bad", "bad", **kwargs)


# --------------------------------------------------------------------------------------------
# Primary suppression and rounding of fractional counts


def test_fractional_counts_round_half_up() -> None:
    df = pd.DataFrame({"value": [0.3, 7.4, 7.5, 12.5, 17.4, 2.5, 0.0, 22.5]})
    pub, _ = quiet_apply(df, rule="nhs_digital", allow_fractional=True)
    # 0 < x < 7.5 withheld (0.3 is not a true zero); halves go up: 7.5 -> 10, 12.5 -> 15, 22.5 -> 25
    assert pub["value_published"].tolist() == ["*", "*", "10", "15", "15", "*", "0", "25"]
    assert np.round(12.5 / 5) * 5 == 10  # numpy's round-half-even would have given 10: not used
