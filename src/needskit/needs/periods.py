"""Analysis periods: the months of a monthly series grouped into quarters, half-years or years.

The regular needs analysis of a partnership covers a **period** (``conf/partnership.yml``
``period: half-year`` by default; ``quarter`` or ``year``). Monthly data (police.uk) is pooled
month by month; the indicators stage sums each series' months into the analysis periods with
:func:`to_analysis_periods`, and records which months each period holds (:func:`period_table`),
so a report can refuse (or mark provisional) a period whose months are not all there.

Labels sort in time order within a kind: ``2025-01`` (month), ``2025-Q1``, ``2025-H1``, ``2025``.

>>> period_of("2025-05", "half-year"), period_of("2025-05", "quarter"), period_of("2025-05", "year")
('2025-H1', '2025-Q2', '2025')
>>> months_in("2024-H2")[0], months_in("2024-H2")[-1]
('2024-07', '2024-12')
>>> previous_period("2025-H1"), year_earlier("2025-H1")
('2024-H2', '2024-H1')
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import pandas as pd

from needskit.errors import SchemaError

__all__ = [
    "PERIOD_KINDS",
    "is_month",
    "months_in",
    "period_kind",
    "period_of",
    "period_table",
    "previous_period",
    "series_datasets",
    "to_analysis_periods",
    "year_earlier",
]

PERIOD_KINDS = ("month", "quarter", "half-year", "year")
"""What an analysis period can be (``period:`` in ``conf/partnership.yml``)."""

_MONTHS_PER = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}
_PATTERNS = {
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "half-year": re.compile(r"^(\d{4})-H([12])$"),
    "year": re.compile(r"^(\d{4})$"),
}
_SUFFIX = {"quarter": "Q", "half-year": "H"}


def is_month(label: object) -> bool:
    """Whether ``label`` is a ``YYYY-MM`` month."""
    return bool(_PATTERNS["month"].match(str(label)))


def period_kind(label: object) -> str | None:
    """The kind of an analysis period label (``None`` for anything else, e.g. ``2024-01/2024-04``)."""
    return _kind(str(label))


@functools.lru_cache(maxsize=4096)
def _kind(text: str) -> str | None:  # reports map it over every row of the store: few labels, many rows
    for kind, pattern in _PATTERNS.items():
        if pattern.match(text):
            return kind
    return None


def _check_kind(kind: str) -> int:
    if kind not in _MONTHS_PER:
        raise SchemaError(
            "is not a kind of analysis period",
            where="period",
            expected=f"one of {list(PERIOD_KINDS)}",
            got=repr(kind),
        )
    return _MONTHS_PER[kind]


def period_of(month: str, kind: str) -> str:
    """The analysis period of ``kind`` that holds ``month`` (``YYYY-MM``)."""
    size = _check_kind(kind)
    found = _PATTERNS["month"].match(str(month))
    if not found:
        raise SchemaError("is not a month", where="period", expected="YYYY-MM", got=repr(month))
    year, number = found.group(1), int(found.group(2))
    if kind == "month":
        return f"{year}-{number:02d}"
    if kind == "year":
        return year
    return f"{year}-{_SUFFIX[kind]}{(number - 1) // size + 1}"


def _index(label: str) -> tuple[str, int, int]:
    """(kind, year, the period's number within the year, from 1)."""
    kind = period_kind(label)
    if kind is None:
        raise SchemaError(
            "is not an analysis period",
            where="period",
            expected="YYYY-MM, YYYY-Qn, YYYY-Hn or YYYY",
            got=repr(label),
        )
    found = _PATTERNS[kind].match(label)
    assert found is not None
    year = int(found.group(1))
    number = 1 if kind == "year" else int(found.group(2))
    return kind, year, number


def _label(kind: str, year: int, number: int) -> str:
    if kind == "month":
        return f"{year}-{number:02d}"
    if kind == "year":
        return str(year)
    return f"{year}-{_SUFFIX[kind]}{number}"


def months_in(period: str) -> list[str]:
    """The months (``YYYY-MM``) an analysis period covers, in order."""
    kind, year, number = _index(period)
    size = _MONTHS_PER[kind]
    first = (number - 1) * size + 1
    return [f"{year}-{m:02d}" for m in range(first, first + size)]


def previous_period(period: str, steps: int = 1) -> str:
    """The period ``steps`` periods of the same kind before ``period``."""
    kind, year, number = _index(period)
    per_year = 12 // _MONTHS_PER[kind]
    flat = year * per_year + (number - 1) - steps
    return _label(kind, flat // per_year, flat % per_year + 1)


def year_earlier(period: str) -> str:
    """The same period a year before (seasonality): ``2025-H1`` -> ``2024-H1``."""
    kind, _, _ = _index(period)
    return previous_period(period, 12 // _MONTHS_PER[kind])


def series_datasets(profile: pd.DataFrame) -> list[str]:
    """Datasets of the profile that are monthly series: every period a month, and more than one."""
    frame = profile[["dataset", "period"]].drop_duplicates().astype({"period": str})
    monthly = frame.assign(month=frame["period"].map(is_month))
    grouped = monthly.groupby("dataset")["month"].agg(["all", "size"])
    return sorted(grouped.index[grouped["all"] & (grouped["size"] > 1)])


def period_table(months: Iterable[str], *, kind: str) -> pd.DataFrame:
    """Which months of each analysis period are present.

    Returns
    -------
    DataFrame with ``period``, ``first``, ``last`` (the period's first and last month),
    ``months_present``, ``months_expected``, ``complete`` and ``missing`` (the absent months,
    comma-separated), one row per period that has at least one month, in time order.
    """
    _check_kind(kind)
    present = sorted({str(m) for m in months})
    rows = []
    for period in sorted({period_of(m, kind) for m in present}):
        expected = months_in(period)
        missing = [m for m in expected if m not in present]
        rows.append(
            {
                "period": period,
                "first": expected[0],
                "last": expected[-1],
                "months_present": len(expected) - len(missing),
                "months_expected": len(expected),
                "complete": not missing,
                "missing": ", ".join(missing),
            }
        )
    return pd.DataFrame(
        rows,
        columns=["period", "first", "last", "months_present", "months_expected", "complete", "missing"],
    )


def to_analysis_periods(profile: pd.DataFrame, *, kind: str, keep_months: bool = False) -> pd.DataFrame:
    """The profile with each monthly series summed into analysis periods of ``kind``.

    Rows of :func:`series_datasets` get one row per area, measure, category and period: counts
    are summed over the period's months (an incomplete period sums the months it has:
    :func:`period_table` says which); values (``kind`` other than ``count``) are averaged. The
    monthly rows are dropped, or kept beside the periods with ``keep_months`` (SPC charts are
    monthly). Every other row (a census, an index) is kept as it is. With ``kind="month"`` the
    profile is returned unchanged.
    """
    _check_kind(kind)
    series = series_datasets(profile)
    if kind == "month" or not series:
        return profile
    is_series = profile["dataset"].isin(series)
    monthly = profile[is_series].copy()
    monthly["period"] = monthly["period"].astype(str).map(lambda m: period_of(m, kind))
    keys = [c for c in profile.columns if c not in ("value", "period")] + ["period"]
    counts = monthly[monthly["kind"] == "count"] if "kind" in monthly.columns else monthly
    others = monthly[monthly["kind"] != "count"] if "kind" in monthly.columns else monthly.iloc[0:0]
    summed = counts.groupby(keys, as_index=False, sort=False, dropna=False)["value"].sum(min_count=1)
    averaged = others.groupby(keys, as_index=False, sort=False, dropna=False)["value"].mean()
    kept = profile if keep_months else profile[~is_series]
    out = pd.concat([kept, summed, averaged], ignore_index=True)
    return out[list(profile.columns)]
