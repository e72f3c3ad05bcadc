"""Tests for needskit.disclosure: rule sets, secondary suppression (LP-audited), sharing levels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from needskit.disclosure import (
    AUDIENCES,
    RULE_SETS,
    SUPPRESSED,
    RuleSet,
    apply_rules,
    check_sharing,
    describe_rule,
    filter_for_audience,
    publication_marking,
    published_percentages,
)
from needskit.errors import DisclosureError, NeedskitWarning, SchemaError

TOTAL = "Total"


def quiet_apply(df: pd.DataFrame, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        return apply_rules(df, **kwargs)


def long_table(values: np.ndarray | list[list[int]], *, rows: str = "r", columns: str = "c") -> pd.DataFrame:
    v = np.asarray(values)
    return pd.DataFrame(
        [(f"r{i}", f"c{j}", int(v[i, j])) for i in range(v.shape[0]) for j in range(v.shape[1])],
        columns=[rows, columns, "value"],
    )


def grid(
    pub: pd.DataFrame, rows: str = "r", columns: str = "c", field: str = "value_published"
) -> pd.DataFrame:
    """Wide view with totals last."""
    wide = pub.pivot(index=rows, columns=columns, values=field)
    order_r = sorted(k for k in wide.index if k != TOTAL) + [k for k in wide.index if k == TOTAL]
    order_c = sorted(k for k in wide.columns if k != TOTAL) + [k for k in wide.columns if k == TOTAL]
    return wide.loc[order_r, order_c]


def withheld(pub: pd.DataFrame, rows: str = "r", columns: str = "c") -> set[tuple[str, str]]:
    sub = pub[pub["suppressed"]]
    return set(zip(sub[rows], sub[columns], strict=True))


# --------------------------------------------------------------------------------------------
# Independent auditors used by the secondary-suppression tests


def equations(
    labels_r: list[str], labels_c: list[str], totals: str
) -> list[tuple[list[tuple[str, str]], tuple]]:
    """Published-total equations of a table: (cells that sum, their total cell)."""
    eqs = []
    if totals in ("both", "rows"):
        eqs += [([(r, c) for c in labels_c], (r, TOTAL)) for r in labels_r]
    if totals in ("both", "columns"):
        eqs += [([(r, c) for r in labels_r], (TOTAL, c)) for c in labels_c]
    if totals == "both":
        eqs.append(([(TOTAL, c) for c in labels_c], (TOTAL, TOTAL)))
        eqs.append(([(r, TOTAL) for r in labels_r], (TOTAL, TOTAL)))
    return eqs


def feasible_ranges(
    pub: pd.DataFrame, *, totals: str = "both", rows: str = "r", columns: str = "c"
) -> dict[tuple[str, str], tuple[float, float]]:
    """For each withheld cell, min and max of its value over all non-negative tables that agree
    with every published figure and total (scipy linprog, HiGHS)."""
    cells = {
        (r, c): (bool(s), v)
        for r, c, s, v in zip(pub[rows], pub[columns], pub["suppressed"], pub["value_published"], strict=True)
    }
    inner = pub[~pub["is_total"]]
    labels_r = sorted(set(inner[rows]))
    labels_c = sorted(set(inner[columns]))
    unknown = [k for k, (s, _) in cells.items() if s]
    pos = {k: i for i, k in enumerate(unknown)}
    a_eq, b_eq = [], []
    for members, total in equations(labels_r, labels_c, totals):
        coef, rhs = np.zeros(len(unknown)), 0.0
        for k, sign in [(m, 1.0) for m in members] + [(total, -1.0)]:
            hidden, text = cells[k]
            if hidden:
                coef[pos[k]] += sign
            else:
                rhs -= sign * float(text)
        if coef.any():
            a_eq.append(coef)
            b_eq.append(rhs)
        else:
            assert abs(rhs) < 1e-9, "published figures contradict a published total"
    out = {}
    for k, i in pos.items():
        c = np.zeros(len(unknown))
        c[i] = 1.0
        kw = {
            "A_eq": np.array(a_eq) if a_eq else None,
            "b_eq": np.array(b_eq) if b_eq else None,
            "bounds": [(0, None)] * len(unknown),
            "method": "highs",
        }
        lo, hi = linprog(c, **kw), linprog(-c, **kw)
        assert lo.status == 0  # the true table is feasible
        out[k] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return out


def withheld_per_line(pub: pd.DataFrame, *, totals: str, rows: str = "r", columns: str = "c") -> list[int]:
    inner = pub[~pub["is_total"]]
    labels_r, labels_c = sorted(set(inner[rows])), sorted(set(inner[columns]))
    hidden = withheld(pub, rows, columns)
    return [
        sum((m in hidden) for m in [*members, total])
        for members, total in equations(labels_r, labels_c, totals)
    ]


def random_table(rng: np.random.Generator, n_rows: int, n_cols: int, kind: str) -> np.ndarray:
    shape = (n_rows, n_cols)
    if kind == "mixed":
        return np.where(rng.random(shape) < 0.35, rng.integers(0, 5, shape), rng.integers(5, 60, shape))
    if kind == "all_small":
        return rng.integers(0, 6, shape)
    if kind == "small_row_and_column":
        v = rng.integers(5, 60, shape)
        v[rng.integers(n_rows)] = rng.integers(1, 5, n_cols)
        v[:, rng.integers(n_cols)] = rng.integers(1, 5, n_rows)
        return v
    # zero-heavy
    u = rng.random(shape)
    return np.where(u < 0.5, 0, np.where(u < 0.8, rng.integers(1, 5, shape), rng.integers(5, 40, shape)))


# --------------------------------------------------------------------------------------------
# Rule sets and describe_rule


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
    assert "not zero and is not missing" in text


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


def test_fractional_counts_round_half_up() -> None:
    df = pd.DataFrame({"value": [0.3, 7.4, 7.5, 12.5, 17.4, 2.5, 0.0, 22.5]})
    pub, _ = quiet_apply(df, rule="nhs_digital", allow_fractional=True)
    # 0 < x < 7.5 withheld (0.3 is not a true zero); halves go up: 7.5 -> 10, 12.5 -> 15, 22.5 -> 25
    assert pub["value_published"].tolist() == ["*", "*", "10", "15", "15", "*", "0", "25"]
    assert np.round(12.5 / 5) * 5 == 10  # numpy's round-half-even would have given 10: not used


def test_non_integer_counts_raise_unless_allowed() -> None:
    with pytest.raises(SchemaError, match=r"column 'value': has non-integer counts.*allow_fractional=True"):
        apply_rules(pd.DataFrame({"value": [1.0, 7.5]}), rule="nhs_digital")


def test_nhs_digital_totals_from_exact_counts_then_rounded() -> None:
    df = long_table([[3, 40, 12], [25, 30, 9], [50, 2, 60]], rows="area_code", columns="category")
    df["area_name"] = df["area_code"].map({"r0": "Alpha", "r1": "Bravo", "r2": "Charlie"})
    pub, log = quiet_apply(df, rule="nhs_digital", rows="area_code", columns="category")
    g = grid(pub, "area_code", "category")
    # exact row totals 55, 64, 112 -> 55, 65, 110; column totals 78, 72, 81 -> 80, 70, 80; grand 231 -> 230
    assert g.loc["r0"].tolist() == ["*", "40", "10", "55"]
    assert g[TOTAL].tolist() == ["55", "65", "110", "230"]
    assert g.loc[TOTAL].tolist() == ["80", "70", "80", "230"]
    totals = pub[pub["is_total"]]
    assert len(totals) == 3 + 3 + 1
    # per-area totals keep the area's name; per-category totals and the grand total have none
    per_area = totals[totals["category"] == TOTAL].set_index("area_code")["area_name"]
    assert per_area[["r0", "r1", "r2"]].tolist() == ["Alpha", "Bravo", "Charlie"]
    assert per_area[[TOTAL]].isna().all()
    assert pub["category"].dtype == df["category"].dtype  # labels stay strings
    assert (log["is_total"] & (log["action"] == "rounded")).sum() == 7


def test_published_percentages_use_rounded_figures() -> None:
    df = long_table([[3, 40, 12], [0, 0, 0], [50, 20, 60]], rows="area_code", columns="category")
    pub, _ = quiet_apply(df, rule="nhs_digital", rows="area_code", columns="category", totals="rows")
    out = published_percentages(pub, within="area_code", dimension="category")
    pct = grid(out, "area_code", "category", "percent_published")
    assert pct.loc["r0"].tolist() == ["*", "72.7", "18.2", "100.0"]  # 40/55 and 10/55 (rounded 12 -> 10)
    assert pct.loc["r1"].tolist() == ["-", "-", "-", "-"]  # a zero total: undefined, not 0 and not withheld
    assert pct.loc["r2"].tolist() == ["38.5", "15.4", "46.2", "100.0"]  # 50/130, 20/130, 60/130
    two = published_percentages(pub, within=["area_code"], dimension="category", decimals=0)
    assert grid(two, "area_code", "category", "percent_published").loc["r2"].tolist() == [
        "38",
        "15",
        "46",
        "100",
    ]
    # a withheld denominator withholds every share of its group
    tiny = long_table([[1, 2]], rows="area_code", columns="category")
    pub2, _ = quiet_apply(tiny, rule="nhs_digital", rows="area_code", columns="category", totals="rows")
    shares = published_percentages(pub2, within="area_code", dimension="category")["percent_published"]
    assert shares.tolist() == [SUPPRESSED] * 3


def test_published_percentages_errors() -> None:
    df = long_table([[3, 40], [10, 20]], rows="area_code", columns="category")
    pub, _ = quiet_apply(df, rule="nhs_digital", rows="area_code", columns="category", totals="rows")
    with pytest.raises(SchemaError, match="has groups without a published total"):
        published_percentages(pub[pub["category"] != TOTAL], within="area_code", dimension="category")
    with pytest.raises(SchemaError, match="has more than one total per group"):
        published_percentages(pub, within=[], dimension="category")
    with pytest.raises(SchemaError, match="dimension: is also a within column"):
        published_percentages(pub, within=["area_code", "category"], dimension="category")
    with pytest.raises(SchemaError, match="decimals: is not a number of places"):
        published_percentages(pub, within="area_code", dimension="category", decimals=-1)
    with pytest.raises(
        SchemaError,
        match=r"published frame names columns that are not in the frame: \['value_published', 'suppressed'\]",
    ):
        published_percentages(df, within="area_code", dimension="category")
    with pytest.raises(SchemaError, match="within/dimension='ward' is not a column"):
        published_percentages(pub, within="ward", dimension="category")


# --------------------------------------------------------------------------------------------
# opensafely


def test_opensafely_redacts_zero_and_up_to_seven() -> None:
    pub, log = quiet_apply(pd.DataFrame({"value": [0, 5, 7, 8, 12, 13]}), rule="opensafely")
    assert pub["value_published"].tolist() == ["*", "*", "*", "10", "10", "15"]
    assert set(log.loc[log["action"] == "primary suppression", "reason"]) == {"primary: 0-7"}


def test_opensafely_totals_recomputed_from_redacted_cells() -> None:
    df = long_table([[3, 40, 12], [25, 30, 9], [50, 2, 60], [1, 2, 3]])
    pub, log = quiet_apply(df, rule="opensafely", rows="r", columns="c")
    g = grid(pub)
    # row totals from unredacted cells: 52 -> 50, 64 -> 65, 110 -> 110, 0 -> redacted
    assert g[TOTAL].tolist() == ["50", "65", "110", "*", "225"]
    # column totals: 75 -> 75, 70 -> 70, 81 -> 80; grand 226 -> 225
    assert g.loc[TOTAL].tolist() == ["75", "70", "80", "225"]
    notes = log.loc[log["is_total"] & (log["action"] == "rounded"), "reason"]
    assert set(notes) == {"total of unredacted cells, rounded to nearest 5"}


# --------------------------------------------------------------------------------------------
# lt5_secondary


def test_lt5_secondary_next_smallest_to_a_fixed_point() -> None:
    df = long_table([[3, 40, 12], [25, 30, 9], [50, 2, 60]], rows="area_code", columns="category")
    with pytest.warns(NeedskitWarning, match=r"6 of 16 cells withheld \(2 primary, 4 secondary\)"):
        pub, log = apply_rules(
            df, rule="lt5_secondary", value="value", rows="area_code", columns="category", totals=True
        )
    # rows first: r0 (lone 3) -> its smallest other, 12; r2 (lone 2) -> 50. Then columns: c1 (lone 2 in
    # r2) -> 30 (r1); c2 (lone 12 in r0) -> 9 (r1). Then every line holds 0 or 2 withheld figures.
    assert withheld(pub, "area_code", "category") == {
        ("r0", "c0"),
        ("r0", "c2"),
        ("r1", "c1"),
        ("r1", "c2"),
        ("r2", "c0"),
        ("r2", "c1"),
    }
    g = grid(pub, "area_code", "category")
    assert g[TOTAL].tolist() == ["55", "64", "112", "231"]  # exact totals, no rounding under this rule
    reasons = dict(zip(zip(log["area_code"], log["category"], strict=True), log["reason"], strict=True))
    assert reasons[("r0", "c0")] == "primary: 1-4"
    assert reasons[("r0", "c2")] == "secondary: protects area_code='r0', category='c0'"
    assert reasons[("r1", "c1")] == "secondary: protects area_code='r2', category='c1'"
    assert reasons[("r1", "c2")] == "secondary: protects area_code='r0', category='c2'"
    assert set(log["action"]) == {"primary suppression", "secondary suppression"}
    assert all(m[1] - m[0] > 0 for m in feasible_ranges(pub, rows="area_code", columns="category").values())


def test_small_totals_are_withheld_and_protected() -> None:
    # the middle row's total is 3: withheld, so the totals column must hide a second total
    df = long_table([[20, 30], [1, 2], [40, 15]])
    pub, _ = quiet_apply(df, rule="lt5_secondary", rows="r", columns="c")
    hidden = withheld(pub)
    assert {("r1", "c0"), ("r1", "c1"), ("r1", TOTAL)} <= hidden
    assert ("r0", TOTAL) in hidden  # 50 < 55: the next smallest of the totals column
    assert all(n in (0,) or n >= 2 for n in withheld_per_line(pub, totals="both"))
    assert all(hi - lo > 0 for lo, hi in feasible_ranges(pub).values())


def test_next_smallest_rule_alone_can_leave_a_cell_determined() -> None:
    """Two withheld 2x2 blocks joined by one withheld cell: every line holds 0, 2 or 3 withheld
    figures, yet the joining cell is fixed by the totals. apply_rules must go further."""
    v = np.array(
        [
            [2, 3, 40, 45, 50],
            [4, 1, 3, 60, 55],
            [70, 65, 2, 4, 35],
            [20, 80, 3, 1, 90],
            [75, 85, 95, 30, 100],
        ]
    )
    df = long_table(v)
    primary = {(f"r{i}", f"c{j}") for i in range(5) for j in range(5) if 1 <= v[i, j] <= 4}
    # audit the primary pattern alone with the same LP: cell (r1, c2) is pinned to its true value 3
    naive = quiet_apply(df, rule=RuleSet("lt5_primary", "primary only", threshold=4), rows="r", columns="c")[
        0
    ]
    assert withheld(naive) == primary
    assert all(n == 0 or n >= 2 for n in withheld_per_line(naive, totals="both"))
    ranges = feasible_ranges(naive)
    assert ranges[("r1", "c2")] == pytest.approx((3.0, 3.0))
    # apply_rules breaks the bridge with the smallest cell joining the two sides: (r3, c0) = 20
    pub, log = quiet_apply(df, rule="lt5_secondary", rows="r", columns="c")
    assert withheld(pub) == primary | {("r3", "c0")}
    reason = log.loc[(log["r"] == "r3") & (log["c"] == "c0"), "reason"].item()
    assert reason == "secondary: protects r='r1', c='c2'"
    assert all(hi - lo > 0 for lo, hi in feasible_ranges(pub).values())


SHAPES = [(1, 1), (1, 4), (4, 1), (2, 2), (2, 5), (3, 4), (5, 3), (6, 6)]
KINDS = ["mixed", "all_small", "small_row_and_column", "zero_heavy"]


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{r}x{c}" for r, c in SHAPES])
@pytest.mark.parametrize("kind", KINDS)
def test_no_withheld_cell_is_recoverable(shape: tuple[int, int], kind: str) -> None:
    rng = np.random.default_rng(1000 * shape[0] + 10 * shape[1] + KINDS.index(kind))
    for totals in ("both", "rows", "columns"):
        for _ in range(3):
            v = random_table(rng, *shape, kind)
            pub, _ = quiet_apply(long_table(v), rule="lt5_secondary", rows="r", columns="c", totals=totals)
            inner = pub[~pub["is_total"]]
            # primary rule honoured: every 1-4 withheld; every other figure published exactly
            small = {
                (f"r{i}", f"c{j}") for i in range(shape[0]) for j in range(shape[1]) if 1 <= v[i, j] <= 4
            }
            assert small <= withheld(pub)
            shown = ~inner["suppressed"].to_numpy()
            assert (
                inner["value_published"].to_numpy()[shown].astype(int).tolist() == v.ravel()[shown].tolist()
            )
            # every line with a published total holds 0 or >= 2 withheld figures
            assert all(n == 0 or n >= 2 for n in withheld_per_line(pub, totals=totals))
            # and no withheld figure is pinned to one value by the published figures and totals
            for cell, (lo, hi) in feasible_ranges(pub, totals=totals).items():
                assert hi - lo > 1e-6, (cell, lo, hi, v, totals)


def next_smallest_only(v: np.ndarray) -> pd.DataFrame:
    """An independent, deliberately simple implementation of the textbook rule (no bridge repair),
    on the table with all its totals, returned in the published-frame shape the LP auditor reads."""
    n_r, n_c = v.shape
    a = np.zeros((n_r + 1, n_c + 1))
    a[:n_r, :n_c], a[:n_r, n_c], a[n_r, :n_c], a[n_r, n_c] = v, v.sum(1), v.sum(0), v.sum()
    hidden = (a >= 1) & (a <= 4)
    changed = True
    while changed:
        changed = False
        for view_a, view_h in ((a, hidden), (a.T, hidden.T)):
            for i in range(view_a.shape[0]):
                if view_h[i].sum() == 1:
                    options = [(x == 0, x, j) for j, x in enumerate(view_a[i]) if not view_h[i, j]]
                    view_h[i, min(options)[2]] = True
                    changed = True
    labels_r = [f"r{i}" for i in range(n_r)] + [TOTAL]
    labels_c = [f"c{j}" for j in range(n_c)] + [TOTAL]
    return pd.DataFrame(
        [
            (labels_r[i], labels_c[j], f"{a[i, j]:.0f}", bool(hidden[i, j]), i == n_r or j == n_c)
            for i in range(n_r + 1)
            for j in range(n_c + 1)
        ],
        columns=["r", "c", "value_published", "suppressed", "is_total"],
    )


def test_random_tables_where_the_textbook_rule_fails_are_protected() -> None:
    """On seeded random tables the textbook next-smallest rule leaves some withheld figure pinned
    (the LP finds min == max); apply_rules leaves none."""
    rng = np.random.default_rng(20240611)
    textbook_failures = 0
    for shape, kind in [((4, 4), "zero_heavy")] * 30 + [((5, 5), "mixed")] * 30:
        v = random_table(rng, *shape, kind)
        naive = next_smallest_only(v)
        assert all(n == 0 or n >= 2 for n in withheld_per_line(naive, totals="both"))
        textbook_failures += any(hi - lo <= 1e-6 for lo, hi in feasible_ranges(naive).values())
        pub, _ = quiet_apply(long_table(v), rule="lt5_secondary", rows="r", columns="c")
        for cell, (lo, hi) in feasible_ranges(pub).items():
            assert hi - lo > 1e-6, (cell, v)
    assert textbook_failures >= 3


def test_tables_are_protected_separately_by_group() -> None:
    a = long_table([[3, 40], [25, 30]])
    a["measure"] = "crime"
    b = long_table([[30, 40], [25, 30]])
    b["measure"] = "asb"
    df = pd.concat([a, b], ignore_index=True)
    pub, _ = quiet_apply(df, rule="lt5_secondary", rows="r", columns="c", by="measure")
    assert not pub.loc[pub["measure"] == "asb", "suppressed"].any()
    crime = pub[pub["measure"] == "crime"]
    assert withheld(crime) == {("r0", "c0"), ("r0", "c1"), ("r1", "c0"), ("r1", "c1")}
    assert pub["is_total"].sum() == 2 * 5
    assert grid(pub[pub["measure"] == "asb"]).loc[TOTAL, TOTAL] == "125"


def test_row_totals_only_and_no_totals() -> None:
    df = long_table([[3, 40, 12], [25, 30, 9]])
    pub, _ = quiet_apply(df, rule="lt5_secondary", rows="r", columns="c", totals="rows")
    assert pub["is_total"].sum() == 2 and set(pub.loc[pub["is_total"], "c"]) == {TOTAL}
    assert withheld(pub) == {("r0", "c0"), ("r0", "c2")}
    pub, _ = quiet_apply(df, rule="lt5_secondary", rows="r", columns="c", totals="columns")
    assert set(pub.loc[pub["is_total"], "r"]) == {TOTAL}
    assert withheld(pub) == {("r0", "c0"), ("r1", "c0")}
    pub, log = quiet_apply(df, rule="lt5_secondary", rows="r", columns="c", totals=False)
    assert not pub["is_total"].any() and withheld(pub) == {("r0", "c0")}
    assert log["action"].tolist() == ["primary suppression"]


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


def test_incomplete_table_is_fine_without_secondary_suppression() -> None:
    df = pd.DataFrame({"r": ["a", "a", "b"], "c": ["x", "y", "x"], "value": [10, 20, 30]})
    pub, _ = quiet_apply(df, rule="nhs_digital", rows="r", columns="c")
    assert grid(pub).loc[TOTAL, TOTAL] == "60"


# --------------------------------------------------------------------------------------------
# Sharing levels


def test_check_sharing_allows_by_audience() -> None:
    used = {"police_crimes": "open", "gp_registers": "partner", "social_care": "restricted"}
    check_sharing(used, audience="internal")
    check_sharing({k: v for k, v in used.items() if v != "restricted"}, audience="partner")
    check_sharing({"police_crimes": "open"}, audience="public")


def test_check_sharing_refuses_restricted_in_publishable_outputs() -> None:
    used = {"police_crimes": "open", "social_care": "restricted", "gp_registers": "partner"}
    with pytest.raises(
        DisclosureError, match=r"audience='partner': restricted data .*'social_care' \(restricted\)"
    ):
        check_sharing(used, audience="partner")
    with pytest.raises(DisclosureError, match=r"restricted data.*'social_care'.*'gp_registers' \(partner\)"):
        check_sharing(used, audience="public")
    with pytest.raises(
        ValueError, match=r"partner-only data cannot be published for the public.*'gp_registers'"
    ):
        check_sharing({"gp_registers": "partner"}, audience="public")


def test_check_sharing_invalid_input() -> None:
    with pytest.raises(SchemaError, match="audience: is not a known option"):
        check_sharing({"a": "open"}, audience="everyone")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match=r"has unknown sharing levels.*'a': 'secret'"):
        check_sharing({"a": "secret"}, audience="public")
    with pytest.raises(SchemaError, match="datasets_used: is not a mapping"):
        check_sharing(["a"], audience="public")  # type: ignore[arg-type]


@pytest.fixture
def pooled() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_code": ["A", "A", "B", "B", "C"],
            "dataset": ["crimes", "gp", "crimes", "care", "gp"],
            "sharing": ["open", "partner", "open", "restricted", "partner"],
            "value": [12, 30, 8, 4, 25],
        }
    )


def test_filter_for_audience_drops_and_marks(pooled: pd.DataFrame) -> None:
    before = pooled.copy()
    with pytest.warns(
        NeedskitWarning, match=r"dropped 3 rows from 'gp' \(partner, 2 rows\), 'care' \(restricted, 1"
    ):
        public = filter_for_audience(pooled, audience="public")
    assert public["dataset"].tolist() == ["crimes", "crimes"] and public.index.tolist() == [0, 2]
    with pytest.warns(NeedskitWarning, match=r"dropped 1 rows from 'care'"):
        partner = filter_for_audience(pooled, audience="partner")
    assert set(partner["dataset"]) == {"crimes", "gp"}
    internal = filter_for_audience(pooled, audience="internal")
    assert len(internal) == 5 and internal["value"].tolist() == before["value"].tolist()
    assert "NOT FOR PUBLICATION" in internal.attrs["publication_marking"]
    assert public.attrs["audience"] == "public" and public.attrs[
        "publication_marking"
    ] == publication_marking("public")
    pd.testing.assert_frame_equal(pooled, before)


def test_filter_for_audience_with_a_mapping_and_raise(pooled: pd.DataFrame) -> None:
    frame = pooled.drop(columns="sharing")
    levels = {"crimes": "open", "gp": "partner", "care": "restricted"}
    with pytest.warns(NeedskitWarning):
        assert filter_for_audience(frame, audience="partner", sharing=levels)["dataset"].tolist() == [
            "crimes",
            "gp",
            "crimes",
            "gp",
        ]
    with pytest.raises(DisclosureError, match=r"restricted data cannot be written.*'care' \(restricted\)"):
        filter_for_audience(frame, audience="public", sharing=levels, errors="raise")


def test_filter_for_audience_invalid_input(pooled: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match=r"has datasets without a sharing level.*'care'"):
        filter_for_audience(pooled, audience="public", sharing={"crimes": "open", "gp": "partner"})
    bad = pooled.assign(sharing=["open", "partner", None, "restricted", "shared"])
    with pytest.raises(SchemaError, match=r"column 'sharing': has unknown or missing sharing levels"):
        filter_for_audience(bad, audience="public")
    with pytest.raises(SchemaError, match="sharing='tier' is not a column"):
        filter_for_audience(pooled, audience="public", sharing="tier")
    with pytest.raises(SchemaError, match="errors: is not a known option"):
        filter_for_audience(pooled, audience="public", errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="audience: is not a known option"):
        filter_for_audience(pooled, audience="press")  # type: ignore[arg-type]


def test_publication_markings() -> None:
    marks = {a: publication_marking(a) for a in AUDIENCES}
    assert len(set(marks.values())) == 3
    assert "NOT FOR PUBLICATION" in marks["internal"] and "exact figures" in marks["internal"]
    assert "PARTNERS ONLY" in marks["partner"] and "PUBLIC" in marks["public"]
    with pytest.raises(SchemaError, match="audience: is not a known option"):
        publication_marking("web")  # type: ignore[arg-type]
