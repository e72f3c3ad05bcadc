"""Tests for needskit.disclosure.tables: the totals apply_rules publishes and the lines they make
equations."""

from __future__ import annotations

import pandas as pd

from .helpers import TOTAL, grid, long_table, quiet_apply, withheld


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


def test_incomplete_table_is_fine_without_secondary_suppression() -> None:
    df = pd.DataFrame({"r": ["a", "a", "b"], "c": ["x", "y", "x"], "value": [10, 20, 30]})
    pub, _ = quiet_apply(df, rule="nhs_digital", rows="r", columns="c")
    assert grid(pub).loc[TOTAL, TOTAL] == "60"
