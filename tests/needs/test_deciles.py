"""needskit.needs.deciles: local deprivation deciles (or quintiles) of a set of areas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needskit.errors import NeedskitWarning, SchemaError
from needskit.needs.deciles import local_deciles
from shipped import raw_path


def test_local_deciles_fingertips_formula_with_ties():
    # N = 10, q = 5, N/q = 2; ranks of -score (ties "min"): 1,1,3,4,...,10
    # quantile = floor(6 - ceil((11 - rank) / 2)) -> 1,1,2,2,3,3,4,4,5,5
    frame = pd.DataFrame({"area": list("ABCDEFGHIJ"), "score": [9, 9, 8, 7, 6, 5, 4, 3, 2, 1]})
    out = local_deciles(frame, score_or_rank="score", q=5)
    assert out["local_quintile"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert str(out["local_quintile"].dtype) == "Int64"
    assert "local_quintile" not in frame.columns  # input untouched


def test_local_deciles_rank_kind_and_equal_sizes():
    rng = np.random.default_rng(1)
    score = rng.permutation(np.arange(50.0))
    frame = pd.DataFrame({"score": score, "rank": pd.Series(-score).rank(method="min")})
    by_score = local_deciles(frame, score_or_rank="score")["local_decile"]
    by_rank = local_deciles(frame, score_or_rank="rank", kind="rank")["local_decile"]
    assert by_score.tolist() == by_rank.tolist()
    assert by_score.value_counts().sort_index().tolist() == [5] * 10
    # most deprived (highest score) is decile 1
    assert by_score[np.argmax(score)] == 1 and by_score[np.argmin(score)] == 10


def test_local_deciles_by_group_small_group_and_missing_warn():
    frame = pd.DataFrame(
        {"district": ["X"] * 5 + ["Y"] * 3, "score": [5.0, 4.0, np.nan, 2.0, 1.0, 3.0, 2.0, 1.0]}
    )
    with pytest.warns(NeedskitWarning, match="fewer than 4 values"):
        out = local_deciles(frame, score_or_rank="score", q=4, by="district", name="quartile")
    # district X: N = 4 non-missing, N/q = 1: quartile = 5 - (5 - rank) = rank
    assert out["quartile"].iloc[:5].tolist() == [1, 2, pd.NA, 3, 4]
    assert out["quartile"].iloc[5:].isna().all()  # Y has 3 < 4 values


def test_local_deciles_on_national_ranks_matches_published_imd_deciles():
    imd = pd.read_csv(
        raw_path("imd2025/iod2025_lsoa21_scores_ranks_deciles.csv.gz"), usecols=["IMD_rank", "IMD_decile"]
    )
    out = local_deciles(imd, score_or_rank="IMD_rank", kind="rank")
    diff = (out["local_decile"].astype(int) - imd["IMD_decile"]).abs()
    # Fingertips' formula and the IoD's ceiling(rank / (N/10)) differ only at decile boundaries
    assert (diff == 0).mean() > 0.999
    assert diff.max() <= 1


def test_local_deciles_agree_with_indicators_quantiles():
    from needskit.needs.statistics import quantiles

    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {"district": rng.choice(["A", "B", "C"], 200), "score": np.round(rng.gamma(2, 10, 200), 1)}
    )
    ours = local_deciles(frame, score_or_rank="score", by="district")["local_decile"]
    theirs = quantiles(frame, value="score", by="district", q=10, polarity="high_is_bad")["quantile"]
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"score_or_rank": "nope"}, "score_or_rank='nope' is not a column"),
        ({"score_or_rank": "score", "q": 1}, "not a number of quantiles"),
        ({"score_or_rank": "score", "kind": "level"}, "kind: is not a known option"),
        ({"score_or_rank": "score", "name": "score"}, "already a column"),
        ({"score_or_rank": "label"}, "is not numeric"),
    ],
)
def test_local_deciles_errors(kwargs, match):
    frame = pd.DataFrame({"score": [1.0, 2.0], "label": ["a", "b"]})
    with pytest.raises(SchemaError, match=match):
        local_deciles(frame, **kwargs)
