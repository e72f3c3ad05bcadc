"""needskit.partner_data.ledger: every line read is assigned, unlocated or rejected, with a reason."""

from __future__ import annotations

import pandas as pd
import pytest

from needskit.config import load_catalog
from needskit.errors import DataError
from needskit.partner_data import pooling
from needskit.partner_data.ledger import line_status
from needskit.partner_data.pooling import summary_lines
from partner_files import entry, mixed_rows, points_csv, pool, write_catalog


@pytest.fixture
def pooled(tmp_path):
    points_csv(tmp_path, mixed_rows())
    return pool(load_catalog(write_catalog(tmp_path, {"test": entry(max_invalid=0.5)})))


def test_lines_read_are_assigned_unlocated_or_rejected_per_period(pooled):
    ledger = pooled.ledger.set_index("period")
    assert ledger.index.tolist() == ["2024-01", "2024-02", "2024-03", "2024-09"]
    assert ledger["read"].sum() == len(mixed_rows()) == 15
    assert (ledger["read"] == ledger["assigned"] + ledger["unlocated"] + ledger["rejected"]).all()
    assert ledger["balanced"].all() and (ledger["dataset"] == "test").all()
    assert ledger.loc["2024-01", "assigned_within"] == 7 and ledger.loc["2024-02", "assigned_within"] == 5
    assert ledger["assigned"].sum() == 12
    assert (
        ledger["unlocated"].sum() == 1
        and ledger["rejected_outside"].sum() == 1
        and ledger["rejected_invalid"].sum() == 1
    )
    assert (ledger["rejected"] == ledger["rejected_invalid"] + ledger["rejected_outside"]).all()
    assert ledger.loc["2024-02", "reasons"] == "no coordinates: 1"
    assert ledger.loc["2024-03", "reasons"] == "outside the partnership area: 1"
    assert ledger.loc["2024-09", "reasons"] == "period outside the declared range: 1"
    assert ledger.loc["2024-01", "reasons"] == ""
    assert ledger["vintage_from"].isna().all()  # points have no LSOA vintage


def test_count_values_are_conserved(pooled):
    measures = pooled.measure_ledger
    assert len(measures) == 4 and measures["conserved"].all()
    totals = measures[["read", "assigned", "unlocated", "rejected", "in_profile"]].sum()
    assert totals.to_dict() == {"read": 15, "assigned": 12, "unlocated": 1, "rejected": 2, "in_profile": 12}
    for level in ("lsoa", "msoa", "ward", "district", "county"):
        assert pooled.profile.loc[pooled.profile["level"] == level, "value"].sum() == 12, level


def test_rejected_and_unlocated_lines_are_kept_with_their_reasons(pooled):
    rejected = pooled.rejected["test"]
    assert sorted(rejected["reason"]) == [
        "no coordinates",
        "outside the partnership area",
        "period outside the declared range",
    ]
    by_reason = rejected.set_index("reason")
    assert by_reason.loc["no coordinates", "status"] == "unlocated"
    assert by_reason.loc["period outside the declared range", "status"] == "rejected"
    # invalid and unlocated lines keep every column (someone must fix them); lines simply outside
    # the area keep only where they are and why
    assert by_reason.loc["period outside the declared range", "type"] == "Burglary"
    outside = by_reason.loc["outside the partnership area"]
    assert outside["status"] == "rejected" and pd.isna(outside["type"]) and pd.isna(outside["month"])
    assert outside["id"] == "c1" and outside["lon"] == "-4.55"
    assert rejected["_row"].tolist() == [14, 15, 16]


def test_a_line_split_into_several_records_counts_once_with_its_worst_status():
    rows = pd.DataFrame(
        {
            "_file": ["a.csv"] * 4 + ["b.csv"],
            "_row": [2, 2, 3, 3, 2],
            "status": ["assigned", "invalid", "assigned", "assigned", "unlocated"],
        }
    )
    lines = line_status(rows)
    assert len(lines) == 3
    assert lines.set_index(["_file", "_row"])["status"].to_dict() == {
        ("a.csv", 2): "invalid",
        ("a.csv", 3): "assigned",
        ("b.csv", 2): "unlocated",
    }
    unique = rows.drop_duplicates(["_file", "_row"])
    assert line_status(unique) is unique


def test_age_bands_of_one_line_are_one_line_of_the_ledger(tmp_path):
    """The ONS mid-year estimates: one line per LSOA, 19 age bands each."""
    frame = pd.DataFrame(
        {"lsoa": ["E01022163", "E01022164", "E01000001"], "age_0_4": [10, 20, 30], "age_5_9": [1, 2, 3]}
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    spec = entry(
        geography={"kind": "area_code", "column": "lsoa", "level": "lsoa", "vintage": 2011},
        period="2020",
        record_id=None,
        measures=[{"columns": "^age_", "kind": "count"}],
    )
    result = pool(load_catalog(write_catalog(tmp_path, {"test": spec})))
    ledger = result.ledger.iloc[0]
    assert (ledger["read"], ledger["assigned"], ledger["rejected_outside"]) == (3, 2, 1)
    values = result.measure_ledger.set_index("measure")
    assert values.loc["age_0_4", "read"] == 60 and values.loc["age_0_4", "assigned"] == 30
    assert values["conserved"].all()


def test_summary_lines(tmp_path):
    points_csv(tmp_path, mixed_rows())
    catalog = load_catalog(write_catalog(tmp_path, {"test": entry(max_invalid=0.5)}))
    echoed: list[str] = []
    result = pool(catalog, echo=echoed.append)
    lines = summary_lines(result)
    assert echoed == lines
    assert lines[0].startswith("pooled 1 datasets onto lsoa 2021 in ")
    assert lines[0].endswith(f"(profile of {len(result.profile):,} rows)")
    assert lines[2].split() == ["test", "15", "12", "1", "1", "1"]
    assert lines[-1] == "ledger balances for every dataset and period; 2 warnings (see problems.csv)"


def test_pooling_refuses_a_ledger_that_does_not_balance(tmp_path, monkeypatch):
    points_csv(tmp_path, mixed_rows())
    catalog = load_catalog(write_catalog(tmp_path, {"test": entry(max_invalid=0.5)}))
    real = pooling.dataset_ledger
    monkeypatch.setattr(pooling, "dataset_ledger", lambda prepared: real(prepared).assign(balanced=False))
    with pytest.raises(DataError, match="ledger does not balance") as info:
        pool(catalog)
    assert "'dataset': 'test'" in str(info.value)
    monkeypatch.setattr(pooling, "dataset_ledger", real)
    measures = pooling.measure_ledger
    monkeypatch.setattr(pooling, "measure_ledger", lambda *a: measures(*a).assign(conserved=False))
    with pytest.raises(DataError, match="a count measure's total changed while pooling"):
        pool(catalog)


# ---------------------------------------------------------------------------------- the shipped example


def test_shipped_ledger_balances_for_every_dataset_and_period(shipped_store):
    ledger = shipped_store.read_ledger()
    assert len(ledger) >= 36 and ledger["dataset"].nunique() == 36
    assert (ledger["read"] == ledger["assigned"] + ledger["unlocated"] + ledger["rejected"]).all()
    assert ledger["balanced"].all()
    police = ledger[ledger["dataset"] == "police_street_crime"]
    months = [f"{y}-{m:02d}" for y in (2022, 2023, 2024, 2025) for m in range(1, 13)][:42]
    assert police["period"].tolist() == months  # 2022-01 ... 2025-06, one 2021-LSOA series
    totals = police[
        ["read", "assigned", "unlocated", "rejected", "rejected_outside", "rejected_invalid"]
    ].sum()
    assert totals.to_dict() == {
        "read": 221_034,
        "assigned": 204_527,
        "unlocated": 15_296,
        "rejected": 1_211,
        "rejected_outside": 1_211,
        "rejected_invalid": 0,
    }
    # each crime goes to the LSOA police.uk publishes for it; the 2011 codes of the 19 LSOAs split
    # in 2021 (2022-01 ... 2023-05, mixed with 2021 codes from 2022-02) go by the point among the
    # LSOAs they became; no row needs its point alone
    by = police.set_index("period")
    assert by[["assigned_by_code", "assigned_split_by_point"]].sum().tolist() == [195_812, 8_715]
    assert (by.loc["2023-06":, "assigned_split_by_point"] == 0).all()
    assert (by.loc[:"2023-05", "assigned_split_by_point"] > 0).all()
    paths = [c for c in police.columns if c.startswith("assigned_")]
    others = [c for c in paths if c not in ("assigned_by_code", "assigned_split_by_point")]
    assert police[others].sum().sum() == 0
    assert police.loc[police["period"] == "2024-01", "read"].item() == 5_000  # the truncated January file
    measures = pd.read_csv(shipped_store.path / "ledger_measures.csv")
    assert measures["conserved"].all()
    assert (
        measures["read"] - measures["assigned"] - measures["unlocated"] - measures["rejected"]
    ).abs().max() < 1e-6
    crimes = measures[measures["dataset"] == "police_street_crime"]
    assert crimes["in_profile"].sum() == crimes["assigned"].sum() == 204_527
