"""Tests for needskit.disclosure.suppression: apply_rules cell by cell, its log, warnings and input checks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from needskit.disclosure import (
    SUPPRESSED,
    apply_rules,
)
from needskit.errors import NeedskitWarning, SchemaError

from .helpers import quiet_apply

# --------------------------------------------------------------------------------------------
# nhs_digital


def test_nhs_digital_cell_by_cell() -> None:
    df = pd.DataFrame({"area_code": list("ABCDEFGHIJ"), "value": [0, 1, 7, 8, 12, 13, 17, 18, 100, 2]})
    with pytest.warns(NeedskitWarning, match=r"3 of 10 cells withheld \(3 primary, 0 secondary\); 6 rounded"):
        pub, log = apply_rules(df, rule="nhs_digital")
    assert pub["value_published"].tolist() == ["0", "*", "*", "10", "10", "15", "15", "20", "100", "*"]
    assert pub["suppressed"].tolist() == [False, True, True] + [False] * 6 + [True]
    assert "value" not in pub.columns  # the exact counts do not travel with the published frame
    assert pub["disclosure_rule"].unique().tolist() == ["nhs_digital"]
    assert not pub["is_total"].any()
    assert log.columns.tolist() == ["area_code", "is_total", "rule", "action", "reason", "value_published"]
    primary = log[log["action"] == "primary suppression"]
    assert primary["area_code"].tolist() == ["B", "C", "J"]
    assert set(primary["reason"]) == {"primary: 1-7"}
    rounded = log[log["action"] == "rounded"]
    # every published figure but the zero, which stays 0, is rounded
    assert rounded["area_code"].tolist() == ["D", "E", "F", "G", "H", "I"]
    assert set(rounded["reason"]) == {"rounded to nearest 5"}


def test_withheld_is_never_zero_or_missing_and_input_untouched() -> None:
    df = pd.DataFrame({"area_code": ["A", "B", "C"], "value": [0, 3, np.nan]})
    before = df.copy()
    pub, _ = quiet_apply(df, rule="nhs_digital")
    pd.testing.assert_frame_equal(df, before)
    assert pub.loc[0, "value_published"] == "0" and not pub.loc[0, "suppressed"]
    assert pub.loc[1, "value_published"] == SUPPRESSED and pub.loc[1, "suppressed"]
    assert (
        pd.isna(pub.loc[2, "value_published"]) and not pub.loc[2, "suppressed"]
    )  # truly missing stays missing
    assert pd.to_numeric(pub["value_published"], errors="coerce").isna().tolist() == [False, True, True]


def test_no_warning_when_nothing_is_withheld() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pub, log = apply_rules(pd.DataFrame({"value": [0, 8, 23]}), rule="nhs_digital")
    assert pub["value_published"].tolist() == ["0", "10", "25"]
    assert (log["action"] == "rounded").sum() == 2


def test_non_integer_counts_raise_unless_allowed() -> None:
    with pytest.raises(SchemaError, match=r"column 'value': has non-integer counts.*allow_fractional=True"):
        apply_rules(pd.DataFrame({"value": [1.0, 7.5]}), rule="nhs_digital")


# --------------------------------------------------------------------------------------------
# opensafely


def test_opensafely_redacts_zero_and_up_to_seven() -> None:
    pub, log = quiet_apply(pd.DataFrame({"value": [0, 5, 7, 8, 12, 13]}), rule="opensafely")
    assert pub["value_published"].tolist() == ["*", "*", "*", "10", "10", "15"]
    assert set(log.loc[log["action"] == "primary suppression", "reason"]) == {"primary: 0-7"}


# --------------------------------------------------------------------------------------------
# Invalid input


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "message"),
    [
        ({"n": [1]}, {}, SchemaError, "value='value' is not a column"),
        (
            {"value": [1], "r": ["a"]},
            {"rows": "r", "columns": "cat"},
            SchemaError,
            "rows/columns='cat' is not a column",
        ),
        ({"value": [1]}, {"by": "period"}, SchemaError, "by='period' is not a column"),
        ({"value": [1], "r": ["a"]}, {"rows": "r"}, SchemaError, "rows/columns: needs both rows and columns"),
        (
            {"value": [1]},
            {"rule": "lt5_secondary"},
            SchemaError,
            "rule='lt5_secondary': needs both rows and columns",
        ),
        (
            {"value": [1], "r": ["a"]},
            {"rows": "r", "columns": "r"},
            SchemaError,
            "gives one column two roles",
        ),
        ({"value": [1], "suppressed": [True]}, {}, SchemaError, "already has columns apply_rules writes"),
        ({"value": [1, -2]}, {}, SchemaError, r"column 'value': has negative counts; .*-2"),
        ({"value": [1, np.inf]}, {}, SchemaError, "column 'value': has infinite counts"),
        ({"value": ["3", "five"]}, {}, SchemaError, "column 'value': is not numeric"),
        ({"value": [True, False]}, {}, SchemaError, "column 'value': is boolean"),
        ({"value": [1]}, {"totals": "margins"}, SchemaError, "totals: is not a known option"),
        (
            {"value": [1.0, np.nan], "r": ["a", "b"], "c": ["x", "x"]},
            {"rows": "r", "columns": "c"},
            SchemaError,
            "column 'value': has missing values",
        ),
        (
            {"value": [1, 2], "r": ["a", None], "c": ["x", "x"]},
            {"rows": "r", "columns": "c"},
            SchemaError,
            "column 'r': has missing labels",
        ),
        (
            {"value": [1, 2], "r": ["a", "Total"], "c": ["x", "x"]},
            {"rows": "r", "columns": "c"},
            SchemaError,
            "column 'r': already holds the total label 'Total'",
        ),
        (
            {"value": [1, 2], "r": ["a", "a"], "c": ["x", "x"]},
            {"rows": "r", "columns": "c"},
            SchemaError,
            r"has more than one row for some cells.*by=",
        ),
        (
            {"value": [1, 2, 3], "r": ["a", "a", "b"], "c": ["x", "y", "x"]},
            {"rows": "r", "columns": "c", "rule": "lt5_secondary"},
            SchemaError,
            r"is not a complete table.*3 cells for 2 rows x 2 columns.*value 0",
        ),
    ],
)
def test_invalid_input_raises(frame: dict, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        apply_rules(pd.DataFrame(frame), **kwargs)


def test_not_a_frame_raises() -> None:
    with pytest.raises(SchemaError, match="df: is not a DataFrame"):
        apply_rules([1, 2, 3])  # type: ignore[arg-type]
