"""Real monthly series for statistical process control: recorded crime month by month for each
district of the area and for each crime group (every indicator the store holds as a monthly
series), as XmR charts with the Making Data Count rules and icons.

A series is charted only when it has at least :data:`MIN_POINTS` real months (Making Data Count's
minimum for limits); the report's ILLUSTRATIVE synthetic history is used only where no real
series exists (:func:`needskit.reports.monitoring.synthetic_history`).
"""

from __future__ import annotations

import warnings

import pandas as pd

from needskit.commissioning.spc import xmr
from needskit.errors import NeedskitWarning
from needskit.needs.periods import is_month, months_in, period_kind
from needskit.reports.changes import Sentences
from needskit.reports.context import Note, ReportContext

__all__ = ["MIN_POINTS", "by_crime_group", "by_district", "special_cause_sentences", "spc_charts"]

MIN_POINTS = 12
"""Real months a series needs before it is charted (Making Data Count: limits from 12+ points)."""

_COLUMNS = [
    "series",
    "title",
    "indicator",
    "area_code",
    "period",
    "numerator",
    "denominator",
    "value",
    "polarity",
]


def _end(ctx: ReportContext) -> str:
    return months_in(ctx.period)[-1] if period_kind(ctx.period) is not None else ctx.period


def _monthly(ctx: ReportContext, rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows[rows["period"].map(is_month) & (rows["period"] <= _end(ctx)) & rows["value"].notna()]
    return rows.sort_values("period")


def _series(rows: pd.DataFrame, *, names: pd.Series) -> pd.DataFrame:
    """Indicator rows in the columns of :data:`_COLUMNS`, each series named by ``names``."""
    return rows.assign(series=names)[_COLUMNS].reset_index(drop=True)


def by_district(ctx: ReportContext, *, indicator: str = "crime_rate_all") -> pd.DataFrame:
    """``indicator`` month by month for each district of the area (the area itself when it is a
    district or smaller). Columns: ``series`` (the district's name), ``title``, ``indicator``,
    ``area_code``, ``period``, ``numerator``, ``denominator``, ``value``, ``polarity``."""
    if not ctx.available(indicator):
        return pd.DataFrame(columns=_COLUMNS)
    hierarchy = ctx.hierarchy
    if ctx.members:  # a place of conf/places.yml (or the whole of a partnership of several codes)
        inside = hierarchy[hierarchy["lsoa"].isin(ctx.members)]
    elif ctx.area_level in hierarchy.columns:
        inside = hierarchy[hierarchy[ctx.area_level] == ctx.area_code]
    else:
        inside = hierarchy
    if ctx.area_level in ("district", "ward", "msoa", "lsoa"):
        inside = inside.iloc[0:0]
    codes = inside[["district", "district_name"]].drop_duplicates()
    if codes.empty:
        codes = pd.DataFrame({"district": [ctx.area_code], "district_name": [ctx.area_name]})
    names = dict(zip(codes["district"], codes["district_name"], strict=True))
    rows = ctx.results[(ctx.results["indicator"] == indicator) & ctx.results["area_code"].isin(names)]
    rows = _monthly(ctx, rows)
    return _series(rows, names=rows["area_code"].map(names))


def by_crime_group(ctx: ReportContext) -> pd.DataFrame:
    """Every indicator the store holds month by month for the area (in the shipped example the
    crime groups: all crime, violence, anti-social behaviour, burglary, theft, criminal damage),
    in the columns of :func:`by_district` (``series`` is the indicator's title)."""
    rows = _monthly(ctx, ctx.results[ctx.results["area_code"] == ctx.area_code])
    order = {i: k for k, i in enumerate(ctx.indicator_order)}
    rows = rows.assign(_order=rows["indicator"].map(order).fillna(len(order))).sort_values(
        ["_order", "period"]
    )
    return _series(rows, names=rows["title"])


def spc_charts(series: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """An XmR chart per series with at least :data:`MIN_POINTS` months, keyed by its name; each
    frame's ``attrs["needskit_report"]`` has ``title``, ``n_real``, ``n_illustrative`` (0) and
    ``first_real`` (as :func:`needskit.reports.monitoring.spc_panel` draws them)."""
    charts: dict[str, pd.DataFrame] = {}
    for name, part in series.groupby("series", sort=False):
        if len(part) < MIN_POINTS:
            continue
        frame = part.assign(month=pd.PeriodIndex(part["period"], freq="M"))
        polarity = str(part["polarity"].iloc[0]) if part["polarity"].notna().any() else "no_judgement"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NeedskitWarning)
            chart = xmr(frame, value="value", time="month", polarity=polarity)  # type: ignore[arg-type]
        chart.attrs["needskit_report"] = {
            "title": str(name),
            "n_real": len(part),
            "n_illustrative": 0,
            "first_real": str(part["period"].min()),
        }
        charts[str(name)] = chart
    return charts


def special_cause_sentences(charts: dict[str, pd.DataFrame], *, period: str, what: str) -> Sentences:
    """Which series show special-cause variation in the months of ``period``, improving or
    concerning (Making Data Count's rules), one sentence each; or one sentence saying none does."""
    if not charts:
        return Sentences([Note(f"No {what} has {MIN_POINTS} or more months of real data to chart.")])
    months = set(months_in(period)) if period_kind(period) is not None else {period}
    found = []
    for name, chart in charts.items():
        points = chart[chart["month"].astype(str).isin(months) & chart["special_cause"].astype(bool)]
        if points.empty:
            continue
        kinds = sorted(set(points["variation"].astype(str)))
        found.append(
            f"{name}: {' and '.join(kinds)} in {', '.join(sorted(points['month'].astype(str)))}"
            + (f" ({', '.join(sorted(set(points['direction'].dropna().astype(str))))} values)")
            + "."
        )
    if not found:
        return Sentences(
            [
                Note(
                    f"No {what} shows special-cause variation in {period}: "
                    "only common-cause (expected) variation."
                )
            ]
        )
    return Sentences(found)
