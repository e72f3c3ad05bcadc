"""needskit.commissioning.gaps: need versus provision, quadrants and ranked gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needskit import commissioning as com
from needskit.errors import SchemaError


def _six():
    """Six areas hand-built so that every quadrant occurs.

    need:      A 10, B 8, C 2, D 1, E 9, F 3   (median 5.5)
    provision: A 1,  B 9, C 7, D 0.5, E 2, F 8 (median 4.5)
    """
    return pd.DataFrame(
        {
            "area_code": list("ABCDEF"),
            "need": [10.0, 8.0, 2.0, 1.0, 9.0, 3.0],
            "provision": [1.0, 9.0, 7.0, 0.5, 2.0, 8.0],
        }
    )


def test_gaps_quadrants_thresholds_and_ranks_at_the_median():
    df = _six()
    before = df.copy()
    out = com.gaps(df, need="need", provision="provision")
    pd.testing.assert_frame_equal(df, before)
    assert out["area_code"].tolist() == ["A", "E", "D", "B", "F", "C"]
    quadrant = dict(zip(out["area_code"], out["quadrant"], strict=True))
    assert quadrant == {
        "A": "gap",
        "E": "gap",
        "B": "aligned high",
        "C": "possible over-provision",
        "F": "possible over-provision",
        "D": "aligned low",
    }
    assert (out["need_threshold"] == 5.5).all() and (out["provision_threshold"] == 4.5).all()
    assert set(out["threshold_rule"]) == {"above the median"}
    assert out["gap_rank"].tolist()[:2] == [1, 2] and out["gap_rank"].iloc[2:].isna().all()
    score = out.set_index("area_code")["gap_score"]
    assert score["A"] == pytest.approx(6 / 6 - 2 / 6) and score["E"] == pytest.approx(5 / 6 - 3 / 6)
    assert out.attrs["needskit_gaps"]["thresholds"]["all"] == {
        "need_threshold": 5.5,
        "provision_threshold": 4.5,
    }


def test_gaps_with_quantile_thresholds():
    out = com.gaps(_six(), need="need", provision="provision", threshold=0.75).set_index("area_code")
    # need: 75th percentile of 1,2,3,8,9,10 = 8.75; provision: of 0.5,1,2,7,8,9 = 7.75
    assert out["need_threshold"].iloc[0] == pytest.approx(8.75)
    assert out["provision_threshold"].iloc[0] == pytest.approx(7.75)
    assert out.loc[["A", "E"], "quadrant"].eq("gap").all()
    assert out.loc[["B", "F"], "quadrant"].eq("possible over-provision").all()
    assert out.loc[["C", "D"], "quadrant"].eq("aligned low").all()
    pair = com.gaps(_six(), need="need", provision="provision", threshold=(0.5, 0.75)).set_index("area_code")
    assert pair.loc["B", "quadrant"] == "aligned high"  # need 8 > 5.5, provision 9 > 7.75
    assert pair.loc["C", "quadrant"] == "aligned low"  # provision 7 < 7.75
    assert "need above the 0.5 quantile" in pair["threshold_rule"].iloc[0]


def test_gaps_within_themes_have_their_own_thresholds():
    a = _six().assign(theme="youth")
    b = _six().assign(
        theme="health", need=lambda d: d["need"] * 100, provision=lambda d: d["provision"][::-1].to_numpy()
    )
    out = com.gaps(pd.concat([a, b]), need="need", provision="provision", theme="theme")
    assert out["theme"].tolist() == ["health"] * 6 + ["youth"] * 6
    health = out[out["theme"] == "health"].set_index("area_code")
    assert health["need_threshold"].iloc[0] == 550
    assert health.loc["A", "quadrant"] == "aligned high"  # provision reversed: A now has 8
    assert health["gap_rank"].min() == 1 and out[out["theme"] == "youth"]["gap_rank"].min() == 1
    assert set(out.attrs["needskit_gaps"]["thresholds"]) == {"health", "youth"}
    assert out["threshold_rule"].iloc[0] == "above the median within theme"


def test_gaps_with_no_provision_anywhere_marks_high_need_as_gaps():
    df = pd.DataFrame({"area_code": list("ABC"), "need": [3.0, 1.0, 2.0], "provision": [0.0, 0.0, 0.0]})
    out = com.gaps(df, need="need", provision="provision")
    assert out["quadrant"].tolist() == ["gap", "aligned low", "aligned low"]
    assert out["area_code"].iloc[0] == "A"


@pytest.mark.parametrize(
    ("df", "kwargs", "message"),
    [
        (_six().iloc[:2], {}, "too few areas"),
        (pd.concat([_six(), _six().iloc[:1]]), {}, "repeats areas"),
        (_six().assign(need=[1.0, np.nan, 3, 4, 5, 6]), {}, "missing values"),
        (_six().assign(provision=list("abcdef")), {}, "not numeric"),
        (_six(), {"threshold": 1.5}, "not a usable threshold"),
        (_six(), {"threshold": "mean"}, "not a usable threshold"),
        (_six(), {"threshold": True}, "not a usable threshold"),
        (_six(), {"threshold": (0.5,)}, "not a usable threshold"),
        (_six(), {"theme": "theme"}, "is not a column"),
    ],
)
def test_gaps_errors(df, kwargs, message):
    with pytest.raises(SchemaError, match=message):
        com.gaps(df, need="need", provision="provision", **kwargs)
