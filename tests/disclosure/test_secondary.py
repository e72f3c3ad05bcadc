"""Tests for needskit.disclosure.secondary: secondary suppression, audited by linear programming."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from needskit.disclosure import (
    RuleSet,
    apply_rules,
)
from needskit.errors import NeedskitWarning

from .helpers import TOTAL, grid, long_table, quiet_apply, withheld

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
