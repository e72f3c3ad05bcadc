"""Tests for needskit.needs.index: the composite needs index (IoD method).

The fixtures ``iod_ranks`` and ``imd2019`` (the IMD 2019 rebuilt from its published domain ranks)
are in conftest.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from needskit.errors import NeedskitWarning, SchemaError
from needskit.needs.index import IOD2019, combine_domains
from shipped import raw_path

N_LSOA11 = 32_844
# Published IMD scores have 3 decimals; MHCLG's own arithmetic differs from exact double precision
# by up to ~4e-6 (measured: max |difference| 0.0005036), so the score tolerance is 0.0005 + 5e-6.
SCORE_TOLERANCE = 0.0005 + 5e-6


def exp_transform(r):
    """The IoD exponential transform, written out from the technical report for the tests."""
    return -23.0 * np.log(1.0 - np.asarray(r, dtype=float) * (1.0 - math.exp(-100.0 / 23.0)))


def random_domains(rng: np.random.Generator, n: int, d: int, *, ties: bool = False) -> pd.DataFrame:
    values = rng.integers(0, 5, size=(n, d)).astype(float) if ties else rng.normal(size=(n, d))
    frame = pd.DataFrame(values, columns=[f"d{i}" for i in range(d)])
    frame.insert(0, "code", [f"E{i:08d}" for i in rng.permutation(n)])
    return frame


def random_weights(rng: np.random.Generator, d: int) -> dict[str, float]:
    w = rng.uniform(0.1, 1.0, size=d)
    return {f"d{i}": float(x) for i, x in enumerate(w / w.sum())}


# --------------------------------------------------------------------------------------------
# The key test: the published IMD 2019 from the published domain ranks


@pytest.mark.slow
def test_iod2019_reproduces_every_published_imd_score(imd2019):
    assert len(imd2019) == N_LSOA11
    assert imd2019["imd_score"].notna().all()
    diff = (imd2019["score"] - imd2019["imd_score"]).abs()
    assert diff.max() <= SCORE_TOLERANCE, imd2019.loc[diff.idxmax(), ["area_code", "score", "imd_score"]]


@pytest.mark.slow
def test_iod2019_reproduces_every_published_decile(imd2019):
    assert (imd2019["decile"] == imd2019["imd_decile"]).all()


@pytest.mark.slow
def test_iod2019_ranks_differ_only_within_published_precision(imd2019):
    """Ranks agree except where scores agree to MHCLG's precision (they publish some as ties)."""
    mine = imd2019["rank"].to_numpy()
    published = imd2019["imd_rank"].to_numpy()
    assert np.abs(mine - published).max() <= 1
    mismatched = np.flatnonzero(mine != published)
    assert len(mismatched) <= 40  # measured: 30 of 32,844, all in the near-ties below
    score = imd2019["score"].to_numpy()
    for i in mismatched:
        # the area ranked next to it in the published order (its tie partner or swap partner)
        neighbours = np.flatnonzero(np.abs(published - published[i]) <= 1)
        neighbours = neighbours[neighbours != i]
        gap = np.abs(score[neighbours] - score[i]).min()
        assert gap < 1e-5, (imd2019.loc[i, "area_code"], gap)


def test_mean_rank_for_tied_domain_ranks_is_what_reproduces_the_imd(iod_ranks):
    """The IoD ranks ties at their mean: with 'min' ranks some published scores are missed."""
    published = pd.read_csv(raw_path("imd2019/imd2019_lsoa11_imd_score.csv.gz"))
    score_min = sum(
        w * exp_transform((N_LSOA11 - iod_ranks[d].to_numpy() + 1) / N_LSOA11) for d, w in IOD2019.items()
    )
    diff_min = np.abs(score_min - published.set_index("lsoa_code").loc[iod_ranks["area_code"], "imd_score"])
    assert (diff_min > SCORE_TOLERANCE).sum() > 0


def test_iod2019_preset():
    assert IOD2019 == {
        "income": 0.225,
        "employment": 0.225,
        "education": 0.135,
        "health": 0.135,
        "crime": 0.093,
        "barriers": 0.093,
        "living_environment": 0.093,
    }


def test_local_ranks_within_districts(imd2019):
    for _, group in imd2019.groupby("lad_code"):
        n = len(group)
        assert sorted(group["local_rank"]) == list(range(1, n + 1))
        ordered = group.sort_values("local_rank")
        assert ordered["score"].is_monotonic_decreasing
        assert (ordered["local_decile"] == np.ceil(ordered["local_rank"] * 10 / n)).all()
        assert (ordered["local_quintile"] == np.ceil(ordered["local_rank"] * 5 / n)).all()


# --------------------------------------------------------------------------------------------
# The method on small hand-worked frames


def test_exponential_transform_by_hand():
    df = pd.DataFrame({"a": [40.0, 30.0, 20.0, 10.0]}, index=list("wxyz"))
    out = combine_domains(df, domains=["a"], weights={"a": 1.0})
    # ranks 1..4, R = 1, 3/4, 1/2, 1/4; the most deprived scores exactly 100
    assert out["a_transformed"].tolist() == pytest.approx(exp_transform([1, 0.75, 0.5, 0.25]).tolist())
    assert out.loc["w", "a_transformed"] == pytest.approx(100.0)
    assert out["rank"].tolist() == [1, 2, 3, 4]
    assert list(out.index) == list("wxyz")


def test_weighted_sum_without_transform_by_hand():
    df = pd.DataFrame({"a": [3.0, 2.0, 1.0, 0.0], "b": [0.0, 1.0, 2.0, 3.0]})
    out = combine_domains(df, domains=["a", "b"], weights={"a": 0.75, "b": 0.25}, transform="none")
    r_a = np.array([4, 3, 2, 1]) / 4
    r_b = np.array([1, 2, 3, 4]) / 4
    assert out["score"].to_numpy() == pytest.approx(0.75 * r_a + 0.25 * r_b)
    assert out["a_transformed"].to_numpy() == pytest.approx(r_a)
    assert out["rank"].tolist() == [1, 2, 3, 4]


def test_tied_domain_values_share_the_mean_rank():
    df = pd.DataFrame({"a": [5.0, 5.0, 1.0]})
    out = combine_domains(df, domains=["a"], weights={"a": 1.0}, transform="none")
    # ranks 1.5, 1.5, 3 -> R = (3 - 1.5 + 1)/3 for both tied areas
    assert out["a_transformed"].tolist() == pytest.approx([2.5 / 3, 2.5 / 3, 1 / 3])


def test_direction_false_equals_negated_scores_and_mapping_per_domain():
    rng = np.random.default_rng(1)
    df = random_domains(rng, 50, 3)
    w = {"d0": 0.5, "d1": 0.3, "d2": 0.2}
    base = combine_domains(df, domains=list(w), weights=w)
    flipped = df.assign(d1=-df["d1"])
    mapped = combine_domains(
        flipped, domains=list(w), weights=w, higher_is_more_deprived={"d0": True, "d1": False, "d2": True}
    )
    assert mapped["score"].to_numpy() == pytest.approx(base["score"].to_numpy())
    all_flipped = df.assign(**{c: -df[c] for c in w})
    out = combine_domains(all_flipped, domains=list(w), weights=w, higher_is_more_deprived=False)
    assert (out["rank"] == base["rank"]).all()


def test_published_ranks_need_lower_is_more_deprived():
    ranks = pd.DataFrame({"a": [1, 2, 3], "b": [1, 3, 2]}, index=["p", "q", "r"])
    out = combine_domains(
        ranks, domains=["a", "b"], weights={"a": 0.5, "b": 0.5}, higher_is_more_deprived=False
    )
    assert out.loc["p", "rank"] == 1 and out.loc["p", "score"] == pytest.approx(100.0)


def test_zscore_plain_sum_and_exponential_equivalence():
    rng = np.random.default_rng(2)
    df = random_domains(rng, 40, 2)
    w = {"d0": 0.6, "d1": 0.4}
    out = combine_domains(df, domains=list(w), weights=w, standardise="zscore", transform="none")
    z = (df[["d0", "d1"]] - df[["d0", "d1"]].mean()) / df[["d0", "d1"]].std(ddof=0)
    assert out["score"].to_numpy() == pytest.approx((0.6 * z["d0"] + 0.4 * z["d1"]).to_numpy())
    assert out["d0_transformed"].mean() == pytest.approx(0.0, abs=1e-12)
    assert out["d0_transformed"].std(ddof=0) == pytest.approx(1.0)
    low = combine_domains(
        df, domains=list(w), weights=w, standardise="zscore", transform="none", higher_is_more_deprived=False
    )
    assert low["score"].to_numpy() == pytest.approx(-out["score"].to_numpy())
    exp_z = combine_domains(df, domains=list(w), weights=w, standardise="zscore")
    exp_r = combine_domains(df, domains=list(w), weights=w, standardise="rank")
    pd.testing.assert_frame_equal(exp_z, exp_r)


def test_ties_in_score_are_broken_by_code_then_deterministic():
    df = pd.DataFrame({"code": ["C", "A", "B"], "a": [1.0, 1.0, 1.0]})
    out = combine_domains(df, domains=["a"], weights={"a": 1.0}, code_col="code")
    assert dict(zip(out["code"], out["rank"], strict=True)) == {"A": 1, "B": 2, "C": 3}
    by_index = combine_domains(df.set_index("code"), domains=["a"], weights={"a": 1.0})
    assert by_index.loc[["A", "B", "C"], "rank"].tolist() == [1, 2, 3]


def test_output_schema_and_input_untouched():
    df = pd.DataFrame({"code": ["x", "y"], "g": ["G", "G"], "a": [1.0, 2.0], "b": [2, 1]}, index=[10, 20])
    before = df.copy()
    out = combine_domains(
        df, domains=["a", "b"], weights={"a": 0.5, "b": 0.5}, code_col="code", rank_within="g"
    )
    pd.testing.assert_frame_equal(df, before)
    assert list(out.columns) == [
        "code",
        "g",
        "score",
        "rank",
        "decile",
        "quintile",
        "local_rank",
        "local_decile",
        "local_quintile",
        "a_transformed",
        "b_transformed",
    ]
    assert list(out.index) == [10, 20]
    assert out["rank"].dtype == np.int64 and out["decile"].dtype == np.int64


def test_decile_rule_and_single_area():
    df = pd.DataFrame({"a": np.arange(25, dtype=float)})
    out = combine_domains(df, domains=["a"], weights={"a": 1.0})
    expected = [math.ceil(r / (25 / 10)) for r in out["rank"]]
    assert out["decile"].tolist() == expected
    one = combine_domains(pd.DataFrame({"a": [3.0]}), domains=["a"], weights={"a": 1.0})
    # ceil(rank / (N/10)) with N = 1: a lone area is in decile 10 (fewer than 10 areas cannot fill decile 1)
    assert one[["rank", "decile", "quintile"]].iloc[0].tolist() == [1, 10, 5]
    assert one["score"].iloc[0] == pytest.approx(100.0)


# --------------------------------------------------------------------------------------------
# Weights


def test_weights_not_summing_to_one_are_rescaled_with_a_warning():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    with pytest.warns(NeedskitWarning, match="rescaled to sum to 1"):
        raw = combine_domains(df, domains=["a", "b"], weights={"a": 3, "b": 1})
    normalised = combine_domains(df, domains=["a", "b"], weights={"a": 0.75, "b": 0.25})
    pd.testing.assert_frame_equal(raw, normalised)


def test_rounded_published_weights_are_used_as_given():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = combine_domains(df, domains=["a", "b"], weights={"a": 0.5, "b": 0.499}, transform="none")
    assert out["score"].iloc[2] == pytest.approx(0.5 * 1.0 + 0.499 * (2 / 3))


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([0.5, 0.5], "is not a mapping"),
        ({"a": 1.0}, "lacks a weight"),
        ({"a": 0.5, "b": 0.3, "c": 0.2}, "not in domains"),
        ({"a": 1.0, "b": 0.0}, "not positive and finite"),
        ({"a": 1.0, "b": -0.5}, "not positive and finite"),
        ({"a": 1.0, "b": float("nan")}, "not positive and finite"),
        ({"a": 1.0, "b": float("inf")}, "not positive and finite"),
        ({"a": 1.0, "b": "heavy"}, "not a number"),
    ],
)
def test_bad_weights_raise(weights, match):
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 1.0]})
    with pytest.raises(SchemaError, match=match):
        combine_domains(df, domains=["a", "b"], weights=weights)


# --------------------------------------------------------------------------------------------
# Error branches of combine_domains


def _small() -> pd.DataFrame:
    return pd.DataFrame(
        {"code": ["a1", "a2", "a3"], "g": ["x", "x", "y"], "a": [1.0, 2.0, 3.0], "b": [3, 2, 1]}
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"domains": []}, "names no domain"),
        ({"domains": ["a", "a"], "weights": {"a": 1.0}}, "more than once"),
        ({"domains": ["a", "zz"], "weights": {"a": 0.5, "zz": 0.5}}, "domains='zz' is not a column"),
        ({"domains": ["a", "code"], "weights": {"a": 0.5, "code": 0.5}}, "is not numeric"),
        ({"higher_is_more_deprived": "ranks"}, "neither a bool nor a mapping"),
        ({"higher_is_more_deprived": {"a": True}}, "exactly the domains"),
        ({"higher_is_more_deprived": {"a": True, "b": 1}}, "not True or False"),
        ({"transform": "log"}, "is not a known option"),
        ({"standardise": "minmax"}, "is not a known option"),
        ({"code_col": "nope"}, "code_col='nope' is not a column"),
        ({"rank_within": "nope"}, "is not a column"),
    ],
)
def test_combine_domains_errors(kwargs, match):
    args = {"domains": ["a", "b"], "weights": {"a": 0.5, "b": 0.5}} | kwargs
    with pytest.raises(SchemaError, match=match):
        combine_domains(_small(), **args)


def test_not_a_frame_and_empty_frame():
    with pytest.raises(SchemaError, match="is not a DataFrame"):
        combine_domains({"a": [1]}, domains=["a"], weights={"a": 1.0})
    with pytest.raises(SchemaError, match="has no rows"):
        combine_domains(pd.DataFrame({"a": pd.Series([], dtype=float)}), domains=["a"], weights={"a": 1.0})


def test_missing_domain_values_name_rows_with_count_and_five_examples():
    df = pd.DataFrame({"code": [f"E{i}" for i in range(10)], "a": [np.nan] * 7 + [1.0, 2.0, 3.0], "b": 1.0})
    with pytest.raises(
        SchemaError,
        match=r"\['a'\]: domain values are missing.*7 rows with missing values, "
        r"e\.g\. \['E0', 'E1', 'E2', 'E3', 'E4'\]",
    ) as info:
        combine_domains(df, domains=["a", "b"], weights={"a": 0.5, "b": 0.5}, code_col="code")
    assert "E5" not in str(info.value)
    with pytest.raises(SchemaError, match=r"1 row with missing values, e\.g\. \[2\]"):
        combine_domains(pd.DataFrame({"a": [1.0, 2.0, None]}), domains=["a"], weights={"a": 1.0})


def test_infinite_domain_values_raise():
    with pytest.raises(SchemaError, match="infinite"):
        combine_domains(pd.DataFrame({"a": [1.0, np.inf]}), domains=["a"], weights={"a": 1.0})


def test_code_col_must_be_unique_and_complete():
    df = _small().assign(code=["a1", "a1", "a3"])
    with pytest.raises(SchemaError, match="duplicate area codes"):
        combine_domains(df, domains=["a"], weights={"a": 1.0}, code_col="code")
    with pytest.raises(SchemaError, match="missing area codes"):
        combine_domains(
            _small().assign(code=["a1", None, "a3"]), domains=["a"], weights={"a": 1.0}, code_col="code"
        )


def test_rank_within_missing_groups_raise():
    with pytest.raises(SchemaError, match="rank_within='g'.*1 missing"):
        combine_domains(
            _small().assign(g=["x", None, "y"]), domains=["a"], weights={"a": 1.0}, rank_within="g"
        )


def test_output_name_clash_raises():
    df = _small().rename(columns={"g": "a_transformed"})
    with pytest.raises(SchemaError, match="overwritten by an output column"):
        combine_domains(df, domains=["a"], weights={"a": 1.0}, rank_within="a_transformed")
    with pytest.raises(SchemaError, match="overwritten by an output column"):
        combine_domains(
            _small().rename(columns={"g": "rank"}), domains=["a"], weights={"a": 1.0}, rank_within="rank"
        )


def test_zscore_of_a_constant_domain_raises():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]})
    with pytest.raises(SchemaError, match="cannot be z-scored: every area has the same value"):
        combine_domains(df, domains=["a", "b"], weights={"a": 0.5, "b": 0.5}, standardise="zscore")
    with pytest.raises(SchemaError, match="single area"):
        combine_domains(
            df.iloc[:1], domains=["a"], weights={"a": 1.0}, standardise="zscore", transform="none"
        )


# --------------------------------------------------------------------------------------------
# Properties (seeded random cases; hypothesis is not installed)

CASES = [
    (seed, n, d, ties)
    for seed, (n, d, ties) in enumerate(
        [
            (1, 1, False),
            (2, 2, True),
            (7, 3, False),
            (10, 1, True),
            (11, 4, False),
            (37, 2, True),
            (99, 5, False),
            (100, 7, True),
            (253, 3, False),
            (1001, 7, False),
            (1000, 2, True),
            (64, 6, True),
        ]
    )
]


@pytest.mark.parametrize(("seed", "n", "d", "ties"), CASES)
@pytest.mark.parametrize(
    ("standardise", "transform"), [("rank", "exponential"), ("rank", "none"), ("zscore", "none")]
)
def test_rank_is_a_permutation_and_deciles_are_balanced(seed, n, d, ties, standardise, transform):
    rng = np.random.default_rng(seed)
    df = random_domains(rng, n, d, ties=ties)
    kwargs = dict(
        domains=list(df.columns[1:]),
        weights=random_weights(rng, d),
        standardise=standardise,
        transform=transform,
        code_col="code",
    )
    if standardise == "zscore" and (df.iloc[:, 1:].std(ddof=0) == 0).any():
        with pytest.raises(SchemaError, match="cannot be z-scored"):
            combine_domains(df, **kwargs)
        return
    out = combine_domains(df, **kwargs)
    assert sorted(out["rank"]) == list(range(1, n + 1))
    assert (np.diff(out.sort_values("rank")["score"].to_numpy()) <= 0).all()
    counts = out["decile"].value_counts().reindex(range(1, 11), fill_value=0)
    if n >= 10:
        assert ((counts >= math.floor(n / 10)) & (counts <= math.ceil(n / 10))).all()
    assert out["decile"].between(1, 10).all() and out["quintile"].between(1, 5).all()
    assert (out["decile"] == np.ceil(out["rank"] * 10 / n)).all()
    assert (out["quintile"] == np.ceil(out["rank"] * 5 / n)).all()


@pytest.mark.parametrize(("seed", "n", "d", "ties"), CASES)
def test_shuffling_rows_gives_the_same_result_per_area(seed, n, d, ties):
    rng = np.random.default_rng(seed)
    df = random_domains(rng, n, d, ties=ties)
    df["group"] = rng.integers(0, 3, size=n).astype(str)
    kwargs = dict(
        domains=list(df.columns[1:-1]), weights=random_weights(rng, d), code_col="code", rank_within="group"
    )
    out = combine_domains(df, **kwargs).set_index("code").sort_index()
    shuffled = combine_domains(df.sample(frac=1, random_state=seed), **kwargs).set_index("code").sort_index()
    pd.testing.assert_frame_equal(out, shuffled)


@pytest.mark.parametrize(("seed", "n", "d", "ties"), [c for c in CASES if c[1] >= 2])
@pytest.mark.parametrize("transform", ["exponential", "none"])
def test_more_deprived_in_one_domain_never_lowers_an_areas_score(seed, n, d, ties, transform):
    rng = np.random.default_rng(seed + 1000)
    df = random_domains(rng, n, d, ties=ties)
    kwargs = dict(
        domains=list(df.columns[1:]), weights=random_weights(rng, d), code_col="code", transform=transform
    )
    before = combine_domains(df, **kwargs)
    for _ in range(5):
        row = int(rng.integers(n))
        domain = f"d{rng.integers(d)}"
        worse = df.copy()
        worse.loc[row, domain] += float(rng.uniform(0, 3))
        after = combine_domains(worse, **kwargs)
        assert after.loc[row, "score"] >= before.loc[row, "score"] - 1e-12
        assert after.loc[row, "rank"] <= before.loc[row, "rank"]
