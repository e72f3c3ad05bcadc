"""needskit.needs.periods: months grouped into quarters, half-years and years."""

from __future__ import annotations

import pandas as pd
import pytest

from needskit.errors import SchemaError
from needskit.needs.periods import (
    is_month,
    months_in,
    period_kind,
    period_of,
    period_table,
    previous_period,
    series_datasets,
    to_analysis_periods,
    year_earlier,
)


@pytest.mark.parametrize(
    ("month", "kind", "period"),
    [
        ("2025-01", "half-year", "2025-H1"),
        ("2025-06", "half-year", "2025-H1"),
        ("2025-07", "half-year", "2025-H2"),
        ("2025-03", "quarter", "2025-Q1"),
        ("2025-04", "quarter", "2025-Q2"),
        ("2025-12", "quarter", "2025-Q4"),
        ("2025-12", "year", "2025"),
        ("2025-12", "month", "2025-12"),
    ],
)
def test_the_period_of_a_month(month, kind, period):
    assert period_of(month, kind) == period
    assert month in months_in(period)
    assert period_kind(period) == kind


def test_months_previous_and_year_earlier():
    assert months_in("2024-H2") == [f"2024-{m:02d}" for m in range(7, 13)]
    assert months_in("2024-Q4") == ["2024-10", "2024-11", "2024-12"]
    assert len(months_in("2023")) == 12
    assert previous_period("2025-H1") == "2024-H2" and previous_period("2024-H2") == "2024-H1"
    assert previous_period("2025-Q1") == "2024-Q4" and previous_period("2025-H1", 4) == "2023-H1"
    assert previous_period("2025-01") == "2024-12" and previous_period("2025") == "2024"
    assert year_earlier("2025-H1") == "2024-H1" and year_earlier("2025-Q3") == "2024-Q3"
    assert year_earlier("2025-02") == "2024-02"
    # labels of one kind sort in time order
    labels = [period_of(f"{y}-{m:02d}", "half-year") for y in (2022, 2023) for m in range(1, 13)]
    assert labels == sorted(labels)


@pytest.mark.parametrize("bad", ["2025-13", "2025-H3", "25-01", "2024-01/2024-04", ""])
def test_what_is_not_a_period(bad):
    assert period_kind(bad) is None or bad == ""
    with pytest.raises(SchemaError, match="is not an analysis period"):
        months_in(bad)
    assert not is_month(bad)


def test_unknown_kind_and_not_a_month():
    with pytest.raises(SchemaError, match=r"is not a kind of analysis period.*'fortnight'"):
        period_of("2025-01", "fortnight")
    with pytest.raises(SchemaError, match="is not a month"):
        period_of("2025-H1", "half-year")


def test_the_months_each_period_holds():
    months = [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01", "2025-02", "2025-04"]
    table = period_table(months, kind="half-year")
    assert table["period"].tolist() == ["2024-H1", "2024-H2", "2025-H1"]
    assert table["complete"].tolist() == [True, True, False]
    last = table.iloc[-1]
    assert (last["months_present"], last["months_expected"], last["missing"]) == (
        3,
        6,
        "2025-03, 2025-05, 2025-06",
    )
    assert (last["first"], last["last"]) == ("2025-01", "2025-06")
    assert period_table([], kind="quarter").empty


def _profile() -> pd.DataFrame:
    rows = []
    for month, n in [("2024-01", 3), ("2024-02", 4), ("2024-07", 10), ("2024-08", 1)]:
        for area in ("A", "B"):
            rows.append(("crimes", area, month, "count", n if area == "A" else 0))
    rows.append(("census", "A", "2021", "count", 100))
    rows.append(("census", "B", "2021", "count", 80))
    rows += [("score", "A", "2024-01", "value", 2.0), ("score", "A", "2024-02", "value", 4.0)]
    frame = pd.DataFrame(rows, columns=["dataset", "area_code", "period", "kind", "value"])
    return frame.assign(level="lsoa", measure="m", category="all")


def test_monthly_series_are_summed_into_periods():
    profile = _profile()
    assert series_datasets(profile) == ["crimes", "score"]
    halves = to_analysis_periods(profile, kind="half-year")
    crimes = halves[halves["dataset"] == "crimes"].set_index(["area_code", "period"])["value"]
    assert crimes.to_dict() == {
        ("A", "2024-H1"): 7,
        ("B", "2024-H1"): 0,
        ("A", "2024-H2"): 11,
        ("B", "2024-H2"): 0,
    }
    score = halves[halves["dataset"] == "score"]
    assert score[["period", "value"]].values.tolist() == [["2024-H1", 3.0]]  # values are averaged
    census = halves[halves["dataset"] == "census"]
    assert census["period"].tolist() == ["2021", "2021"]  # not a series: kept as it is
    # counts are conserved, and the months can be kept beside the periods
    months = profile[profile["dataset"] == "crimes"]["value"].sum()
    assert crimes.sum() == months
    both = to_analysis_periods(profile, kind="half-year", keep_months=True)
    assert len(both) == len(profile) + len(halves) - 2  # census rows once
    assert to_analysis_periods(profile, kind="month") is profile
