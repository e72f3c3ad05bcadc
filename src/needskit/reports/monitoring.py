"""Outcomes monitoring: the framework's indicators month by month as SPC charts, and who is accountable.

The outcomes-monitoring report (``notebooks/05-outcomes-monitoring.ipynb``): the monthly series
of the outcome indicators the store holds (:func:`outcome_series`), an optional ILLUSTRATIVE
synthetic history before them (:func:`synthetic_history`), an XmR chart per indicator with the
framework's targets (:func:`spc_results`), the board summary of variation and assurance icons
(:func:`board`), the charts (:func:`spc_panel`), the indicators without a monthly series and a
view per accountable partnership (:func:`partnership_view`). The charts are
:func:`needskit.commissioning.xmr` and friends (NHS England's Making Data Count).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from needskit._checks import require_columns
from needskit.commissioning.delivery_need import by_partnership
from needskit.commissioning.spc import xmr
from needskit.commissioning.spc_board import board_summary
from needskit.commissioning.spc_plot import COLOURS, plot_xmr
from needskit.commissioning.spc_rules import SpcRules
from needskit.commissioning.spc_segments import MIN_POINTS
from needskit.config import OutcomesFramework
from needskit.errors import NeedskitWarning, SchemaError
from needskit.needs.periods import is_month, months_in, period_kind
from needskit.reports.charts import ReportFigure
from needskit.reports.context import Note, ReportContext
from needskit.reports.contrast import text_colour
from needskit.reports.tables import ILLUSTRATIVE_LABEL, shorten, show_table, why_empty

__all__ = [
    "SpcCharts",
    "outcome_series",
    "series_note",
    "synthetic_history",
    "spc_results",
    "rules_text",
    "targets_sentence",
    "board",
    "board_table",
    "spc_panel",
    "untracked_indicators",
    "partnership_view",
]

_D2 = 1.128
"""d2 for moving ranges of two points: σ ≈ mean moving range / 1.128 (Wheeler 1993)."""
_VARIATION_TEXT = {
    "common_cause": "common cause",
    "improvement_high": "improving (high)",
    "improvement_low": "improving (low)",
    "concern_high": "concerning (high)",
    "concern_low": "concerning (low)",
    "neither_high": "special cause, high",
    "neither_low": "special cause, low",
}
_BOARD_COLUMNS = [
    "indicator_id",
    "indicator",
    "time",
    "value",
    "mean",
    "lower_limit",
    "upper_limit",
    "target",
    "polarity",
    "chart",
    "n_points",
    "variation",
    "variation_icon",
    "assurance",
    "assurance_icon",
    "outcome_ids",
    "accountable",
    "variation_text",
    "assurance_text",
    "data",
]
"""Columns of :func:`board` (also when it has no rows)."""
_ASSURANCE_TEXT = {
    "pass": "consistently meets target",
    "fail": "consistently fails target",
    "hit_or_miss": "hit and miss",
    "no_target": "no target",
}


class SpcCharts(dict[str, pd.DataFrame]):
    """What :func:`spc_results` returns: ``{indicator: xmr frame}``, and, when there is no chart,
    ``why_empty``, the sentence the board and the charts show instead (e.g. no outcome indicator
    has a monthly series, because no police data were given)."""

    why_empty: str = ""


def outcome_series(ctx: ReportContext, *, framework: OutcomesFramework) -> pd.DataFrame:
    """Monthly values of the framework's indicators for the area, as published.

    Only indicators with more than one monthly period in the store have a series (in the shipped
    example: the police.uk crime rates, 42 months). Months after the end of the report period
    (June for ``2025-H1``), and months whose value is withheld, are left out.

    Returns
    -------
    DataFrame, one row per indicator and month, sorted: ``indicator``, ``title``, ``polarity``,
    ``outcome_ids`` (``"; "``-joined), ``period`` (``YYYY-MM``), ``numerator``, ``denominator``,
    ``value``, ``multiplier``, ``illustrative`` (False), ``data`` (``"real"``), ``source``.
    ``attrs["unavailable"]`` holds, per reason, the sentence naming the framework's indicators
    that could not be made for the partnership for it (``ctx.unavailable``).
    """
    ids = framework.indicator_ids
    results = ctx.results
    rows = results[(results["area_code"] == ctx.area_code) & results["indicator"].isin(ids)]
    end = months_in(ctx.period)[-1] if period_kind(ctx.period) is not None else ctx.period
    rows = rows[rows["period"].map(is_month) & (rows["period"] <= end)]
    counts = rows.groupby("indicator")["period"].nunique()
    rows = rows[rows["indicator"].isin(counts[counts > 1].index) & rows["value"].notna()]
    outcomes = framework.indicators.groupby("indicator_id")["outcome_id"].agg(
        lambda s: "; ".join(dict.fromkeys(s))
    )
    out = pd.DataFrame(
        {
            "indicator": rows["indicator"],
            "title": rows["title"],
            "polarity": rows["polarity"],
            "outcome_ids": rows["indicator"].map(outcomes),
            "period": rows["period"],
            "numerator": rows["numerator"],
            "denominator": rows["denominator"],
            "value": rows["value"],
            "multiplier": rows["multiplier"],
            "illustrative": False,
            "data": "real",
            "source": rows["sources"],
        }
    )
    order = {i: k for k, i in enumerate(ids)}
    out = out.sort_values(
        ["indicator", "period"], key=lambda s: s.map(order) if s.name == "indicator" else s
    ).reset_index(drop=True)
    missing = [i for i in dict.fromkeys(ids) if i in ctx.unavailable and not ctx.available(i)]
    out.attrs["unavailable"] = {
        # one sentence per reason, naming the framework's indicators it stops
        reason: f"Not available ({reason}): "
        + "; ".join(ctx.unavailable[i]["title"] for i in missing if ctx.unavailable[i]["reason"] == reason)
        + "."
        for reason in dict.fromkeys(ctx.unavailable[i]["reason"] for i in missing)
    }
    return out


def _why_no_series(series: pd.DataFrame) -> str:
    """Why there is no monthly series: the sentence, with the framework's indicators that could
    not be made and why (``series.attrs["unavailable"]``)."""
    return " ".join(
        [
            "No outcome indicator has a monthly series in the data.",
            *series.attrs.get("unavailable", {}).values(),
        ]
    )


def series_note(series: pd.DataFrame) -> str:
    """How many real months each series has, and what that means for the limits (from the data);
    with no series, why (the framework's indicators that could not be made)."""
    real = series[~series["illustrative"].astype(bool)]
    if real.empty:
        return _why_no_series(series)
    n = real.groupby("indicator")["period"].nunique()
    counts = ", ".join(sorted({str(v) for v in n}))
    names = (
        real.groupby("indicator")["title"].first().reindex(n.index)
        if "title" in real
        else n.index.to_series()
    )
    text = (
        f"The data hold {counts} real months ({real['period'].min()} to {real['period'].max()}) "
        f"for {len(n)} outcome indicators: {'; '.join(names.fillna(n.index.to_series()).astype(str))}."
    )
    if n.max() < MIN_POINTS:
        text += (
            f" That is fewer than the {MIN_POINTS} points Making Data Count recommends before process "
            "limits are trusted: the real-data limits below are provisional and special causes should "
            "not be acted on yet."
        )
    synthetic = series[series["illustrative"].astype(bool)]
    if len(synthetic):
        m = synthetic.groupby("indicator")["period"].nunique().max()
        text += (
            f" To show how the charts read with more data, each series is preceded by {m} "
            f"{ILLUSTRATIVE_LABEL} synthetic months ({synthetic['period'].min()} to "
            f"{synthetic['period'].max()}), shaded in the charts and marked in the tables: they are not data."
        )
    return text


def synthetic_history(series: pd.DataFrame, *, months: int = 24, seed: int = 20240401) -> pd.DataFrame:
    """Prepend an ILLUSTRATIVE synthetic monthly history to each real series shorter than
    :data:`MIN_POINTS` months (for demonstration); a real series of 12 months or more is left as
    it is.

    Parameters
    ----------
    series
        :func:`outcome_series` (real months; ``numerator``, ``denominator``, ``multiplier``).
    months
        Synthetic months before each series' first real month (0: return the real series).
    seed
        Seed of the ``numpy.random.Generator`` (PCG64): the same seed gives the same history.

    Returns
    -------
    The real rows plus, per indicator, ``months`` rows with ``illustrative`` True and ``data``
    ``"ILLUSTRATIVE synthetic"``: ``numerator`` drawn as below, ``denominator`` the latest real
    one, ``value`` = numerator / denominator × multiplier.

    Raises
    ------
    SchemaError
        ``months`` negative, or missing columns.

    Notes
    -----
    Counts are gamma-Poisson (negative binomial) with mean μ = the real months' mean count and
    variance max(μ, σ²), σ = mean moving range of the real counts / 1.128 (the XmR estimate of
    the process spread), so the history varies about as much as the real months do; Poisson
    when σ² ≤ μ. A stable (common-cause) process by construction: a special cause the rules flag
    inside it is chance. It demonstrates the charts; it is not evidence about the area.
    """
    require_columns(
        series, ["indicator", "period", "numerator", "denominator", "multiplier"], argument="series"
    )
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 0:
        raise SchemaError(
            "is not a number of months", where="months", expected="a whole number ≥ 0", got=repr(months)
        )
    real = series[~series["illustrative"].astype(bool)]
    # only where no real series long enough for limits exists: a real series of 12+ months is
    # charted as it is
    n_real = real.groupby("indicator")["period"].nunique()
    short = real[real["indicator"].isin(n_real[n_real < MIN_POINTS].index)]
    if months == 0 or short.empty:
        return series.copy()  # keeps attrs
    ordered = short.sort_values(["indicator", "period"])
    ordered = ordered.assign(_mr=ordered.groupby("indicator")["numerator"].diff().abs())
    firsts = ordered.groupby("indicator", sort=False).agg(
        start=("period", "first"),
        mean_count=("numerator", "mean"),
        mean_mr=("_mr", "mean"),
        denominator=("denominator", "last"),
        multiplier=("multiplier", "first"),
        title=("title", "first"),
        polarity=("polarity", "first"),
        outcome_ids=("outcome_ids", "first"),
        source=("source", "first"),
    )
    mean = firsts["mean_count"].to_numpy(float)
    variance = np.maximum(mean, np.nan_to_num(firsts["mean_mr"].to_numpy(float) / _D2) ** 2)
    over = variance > mean
    shape = np.where(over, mean**2 / np.where(over, variance - mean, 1.0), 1.0)
    rng = np.random.default_rng(seed)
    gamma = rng.gamma(shape[:, None], (mean / shape)[:, None], size=(len(firsts), months))
    counts = rng.poisson(np.where(over[:, None], gamma, mean[:, None])).astype(float)
    starts = pd.PeriodIndex(firsts["start"], freq="M")
    periods = [pd.period_range(end=start - 1, periods=months, freq="M").strftime("%Y-%m") for start in starts]
    synthetic = pd.DataFrame(
        {
            "indicator": np.repeat(firsts.index.to_numpy(), months),
            "title": np.repeat(firsts["title"].to_numpy(), months),
            "polarity": np.repeat(firsts["polarity"].to_numpy(), months),
            "outcome_ids": np.repeat(firsts["outcome_ids"].to_numpy(), months),
            "period": np.concatenate(periods),
            "numerator": counts.ravel(),
            "denominator": np.repeat(firsts["denominator"].to_numpy(float), months),
        }
    )
    synthetic["multiplier"] = np.repeat(firsts["multiplier"].to_numpy(float), months)
    synthetic["value"] = synthetic["numerator"] / synthetic["denominator"] * synthetic["multiplier"]
    synthetic["illustrative"] = True
    synthetic["data"] = f"{ILLUSTRATIVE_LABEL} synthetic"
    synthetic["source"] = f"{ILLUSTRATIVE_LABEL}: synthetic_history(seed={seed})"
    out = pd.concat([synthetic[series.columns], series], ignore_index=True)
    return out.sort_values(["indicator", "period"], kind="stable").reset_index(drop=True)


def _monthly_targets(framework: OutcomesFramework, *, target_months: int) -> pd.Series:
    targets = framework.indicators.dropna(subset=["target_value"]).drop_duplicates("indicator_id")
    return targets.set_index("indicator_id")["target_value"].astype(float) / float(target_months)


def spc_results(
    series: pd.DataFrame,
    *,
    framework: OutcomesFramework,
    target_months: int = 12,
    rules: SpcRules | None = None,
) -> SpcCharts:
    """An XmR chart per indicator, with the framework's target read as a rate over ``target_months``.

    Parameters
    ----------
    series
        :func:`outcome_series` (optionally with :func:`synthetic_history`).
    framework
        Outcomes framework (targets and polarity).
    target_months
        Months a target covers: a monthly chart compares with target / ``target_months``
        (12: targets are yearly rates).
    rules
        :class:`~needskit.commissioning.SpcRules` (default Making Data Count's).

    Returns
    -------
    :class:`SpcCharts`: ``{indicator: xmr frame}`` in series order; each frame's
    ``attrs["needskit_report"]`` holds ``title``, ``n_real``, ``n_illustrative``, ``first_real``
    and ``warnings`` (the monitoring warnings, e.g. fewer than 12 points). With no series,
    empty, and its ``why_empty`` says why.

    Raises
    ------
    SchemaError
        ``target_months`` < 1; :func:`needskit.commissioning.xmr` errors (fewer than 2 points).
    """
    if (
        isinstance(target_months, bool)
        or not isinstance(target_months, int | np.integer)
        or target_months < 1
    ):
        raise SchemaError(
            "is not a number of months",
            where="target_months",
            expected="a whole number ≥ 1",
            got=repr(target_months),
        )
    targets = _monthly_targets(framework, target_months=target_months)
    polarity = framework.indicators.drop_duplicates("indicator_id").set_index("indicator_id")["polarity"]
    results = SpcCharts()
    if series.empty:
        results.why_empty = _why_no_series(series)
    for indicator, part in series.groupby("indicator", sort=False):
        frame = part.assign(month=pd.PeriodIndex(part["period"], freq="M"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NeedskitWarning)
            chart = xmr(
                frame,
                value="value",
                time="month",
                rules=rules,
                polarity=polarity.get(indicator, part["polarity"].iloc[0]),
                target=targets.get(indicator),
            )
        real = part[~part["illustrative"].astype(bool)]
        chart.attrs["needskit_report"] = {
            "title": str(part["title"].iloc[0]),
            "n_real": len(real),
            "n_illustrative": int(part["illustrative"].astype(bool).sum()),
            "first_real": str(real["period"].min()) if len(real) else None,
            "warnings": [str(w.message) for w in caught],
        }
        results[str(indicator)] = chart
    return results


def rules_text(rules: SpcRules | None = None) -> str:
    """The special-cause rules the charts use, as markdown (default Making Data Count's)."""
    return (rules or SpcRules()).describe()


def targets_sentence(framework: OutcomesFramework, *, series: pd.DataFrame, target_months: int = 12) -> str:
    """How the framework's targets are read on the monthly charts, indicator by indicator."""
    targets = (
        framework.indicators.dropna(subset=["target_value"])
        .drop_duplicates("indicator_id")
        .set_index("indicator_id")
    )
    charted = [i for i in dict.fromkeys(series["indicator"]) if i in targets.index]
    names = series.groupby("indicator")["title"].first().to_dict() if "title" in series else {}
    if series.empty:
        return "No indicator is charted, so no target is read on a chart."
    if not charted:
        return "None of the charted indicators has a target in the outcomes framework."
    made_up = bool(
        framework.indicators.loc[framework.indicators["indicator_id"].isin(charted), "illustrative"]
        .astype(bool)
        .any()
    )
    parts = "; ".join(
        f"{names.get(i, i)}: {targets.loc[i, 'target_value']:g} by {targets.loc[i, 'target_date']} → "
        f"{targets.loc[i, 'target_value'] / target_months:,.2f} a month"
        for i in charted
    )
    return (
        f"Targets {'(' + ILLUSTRATIVE_LABEL + ' in the outcomes framework) ' if made_up else ''}"
        f"are read as rates over {target_months} months, so the monthly charts compare with the target "
        f"divided by {target_months}: {parts}."
    )


def board(results: Mapping[str, pd.DataFrame], *, framework: OutcomesFramework) -> pd.DataFrame:
    """The board summary: one row per indicator with its latest month, icons and who is accountable.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.board_summary` plus ``indicator_id``,
    ``outcome_ids``, ``accountable`` (``"; "``-joined), ``variation_text``, ``assurance_text``
    and ``data`` (``"real (4 months)"`` or ``"ILLUSTRATIVE synthetic (24) + real (4)"``).

    With no results that say why (:class:`SpcCharts` ``why_empty``), no rows, with those
    columns, and ``attrs["why_empty"]``.

    Raises
    ------
    SchemaError
        No results, and no reason given for it.
    """
    if not results and isinstance(results, SpcCharts) and results.why_empty:
        return why_empty(pd.DataFrame(columns=_BOARD_COLUMNS), results.why_empty)
    if not results:
        raise SchemaError(
            "no charts to summarise", where="results", expected="spc_results(...) with one or more indicators"
        )
    ids = list(results)
    meta = [results[i].attrs.get("needskit_report", {}) for i in ids]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        out = board_summary(
            *results.values(), names=[m.get("title", i) for m, i in zip(meta, ids, strict=True)]
        )
    out.insert(0, "indicator_id", ids)
    grouped = framework.indicators.merge(
        framework.outcomes[["outcome_id", "accountable"]], on="outcome_id"
    ).groupby("indicator_id")
    out["outcome_ids"] = out["indicator_id"].map(
        grouped["outcome_id"].agg(lambda s: "; ".join(dict.fromkeys(s)))
    )
    out["accountable"] = out["indicator_id"].map(
        grouped["accountable"].agg(lambda s: "; ".join(dict.fromkeys(s)))
    )
    out["variation_text"] = out["variation_icon"].map(_VARIATION_TEXT)
    out["assurance_text"] = out["assurance_icon"].map(_ASSURANCE_TEXT)
    out["data"] = [
        f"{ILLUSTRATIVE_LABEL} synthetic ({m['n_illustrative']}) + real ({m['n_real']})"
        if m.get("n_illustrative")
        else f"real ({m.get('n_real', 0)} months)"
        for m in meta
    ]
    out["time"] = out["time"].astype(str)
    return out


def board_table(summary: pd.DataFrame):
    """The board summary as a coloured table (Making Data Count colours on variation and assurance).

    Returns
    -------
    pandas Styler: indicator, latest month, value, mean, limits, target, variation, assurance,
    points, data; a :class:`~needskit.reports.context.Note` saying why when the board has no
    rows and says why (``attrs["why_empty"]``).
    """
    if summary.empty and summary.attrs.get("why_empty"):
        return Note(str(summary.attrs["why_empty"]))
    columns = {
        "indicator": "Indicator",
        "time": "Latest month",
        "value": "Value",
        "mean": "Mean",
        "lower_limit": "Lower limit",
        "upper_limit": "Upper limit",
        "target": "Target (monthly)",
        "variation_text": "Variation",
        "assurance_text": "Assurance",
        "n_points": "Points",
        "data": "Data",
    }
    styler = show_table(summary, columns=columns)
    colours = {
        "common cause": COLOURS["common cause"],
        "improving": COLOURS["special cause improving"],
        "concerning": COLOURS["special cause concerning"],
        "special cause": COLOURS["special cause (no judgement)"],
    }

    assurance = {
        "consistently fails target": COLOURS["special cause concerning"],
        "consistently meets target": COLOURS["special cause improving"],
    }

    def paint(value: Any) -> str:  # Making Data Count colours; text black or white, at least AA
        colour = next((c for key, c in colours.items() if str(value).startswith(key)), None)
        colour = colour or assurance.get(str(value))
        return f"background-color: {colour}; color: {text_colour(colour)}" if colour else ""

    precise = ["Value", "Mean", "Lower limit", "Upper limit", "Target (monthly)"]
    return styler.format("{:,.2f}", subset=precise, na_rep="").map(paint, subset=["Variation", "Assurance"])


def spc_panel(results: Mapping[str, pd.DataFrame], *, title: str) -> ReportFigure | Note:
    """One XmR chart per indicator, stacked; ILLUSTRATIVE synthetic months shaded and labelled.

    Returns
    -------
    ReportFigure (drawn with :func:`needskit.commissioning.spc_plot.plot_xmr` on its axes); a
    short :class:`~needskit.reports.context.Note` when there is no chart and ``results`` says why
    (:class:`SpcCharts` ``why_empty``, shown in full by the board above it).

    Raises
    ------
    SchemaError
        No results, and no reason given for it.
    """
    if not results and isinstance(results, SpcCharts) and results.why_empty:
        return Note("No chart to draw: no outcome indicator has a monthly series in the data (see above).")
    if not results:
        raise SchemaError(
            "no charts to draw", where="results", expected="spc_results(...) with one or more indicators"
        )
    n = len(results)
    fig = ReportFigure(figsize=(9, 3.1 * n + 0.5))
    for i, (indicator, chart) in enumerate(results.items()):
        ax = fig.add_subplot(n, 1, i + 1)
        meta = chart.attrs.get("needskit_report", {})
        plot_xmr(
            chart, ax=ax, title=shorten(meta.get("title", indicator), width=80), ylabel="per 1,000 a month"
        )
        if meta.get("n_illustrative") and meta.get("first_real"):
            start = chart["month"].min().to_timestamp()
            end = pd.Period(meta["first_real"], freq="M").to_timestamp() - pd.Timedelta(days=15)
            ax.axvspan(
                start - pd.Timedelta(days=15),
                end,
                color="#f2e6ff",
                zorder=0,
                label=f"{ILLUSTRATIVE_LABEL} synthetic months",
            )
            ax.text(
                start,
                ax.get_ylim()[1],
                f" {ILLUSTRATIVE_LABEL}: synthetic history (not data)",
                va="top",
                fontsize=7,
                color="#490092",
            )
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=6, frameon=False)
        ax.title.set_fontsize(9)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def untracked_indicators(
    framework: OutcomesFramework, *, series: pd.DataFrame, ctx: ReportContext
) -> pd.DataFrame:
    """The framework's indicators that have no monthly chart, and why.

    Returns
    -------
    DataFrame: ``indicator_id``, ``outcome_ids``, ``target``, ``status`` (``"not defined in the
    indicator set"``, ``"not available: <why>"`` for one that could not be made for the
    partnership, e.g. no police data given, or ``"one period only in the data (…)"``).
    """
    links = framework.indicators[~framework.indicators["indicator_id"].isin(set(series["indicator"]))]
    grouped = links.groupby("indicator_id", sort=False).agg(
        outcome_ids=("outcome_id", lambda s: "; ".join(dict.fromkeys(s))), target=("target_value", "first")
    )
    own = ctx.results[ctx.results["area_code"] == ctx.area_code]
    periods = own.groupby("indicator")["period"].agg(lambda s: ", ".join(sorted(set(s))))
    out = grouped.reset_index()
    out["status"] = [
        f"one period only in the data ({periods[i]})"
        if i in periods.index
        else (
            f"not available: {ctx.unavailable[i]['reason']}"
            if i in ctx.unavailable
            else "not defined in the indicator set"
        )
        for i in out["indicator_id"]
    ]
    return out.sort_values(["status", "indicator_id"]).reset_index(drop=True)


def partnership_view(
    framework: OutcomesFramework, *, summary: pd.DataFrame, delivery: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per accountable partnership: its outcomes, what is delivered, and its indicators' icons.

    Parameters
    ----------
    framework
        Outcomes framework.
    summary
        :func:`board` (a row per charted indicator).
    delivery
        Delivery rows for the area (:func:`needskit.reports.delivery.delivery_in_area`),
        optional; activities listed with a question mark (``confirmed`` False) do not count.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.by_partnership` (``partnership``, ``reports_to``,
    ``n_outcomes``, ``outcome_ids``, ``leads``, ``n_indicators``, ``n_targets``, with delivery
    ``n_activities``, ``budget``, ``outcomes_without_delivery``) plus ``charted`` (indicators with
    a monthly chart), ``icons`` (their variation and assurance, e.g. ``"Burglary per 1,000 residents:
    common cause / consistently fails target"``) and ``data_status`` (``"ILLUSTRATIVE budgets"``
    when the delivery register's budgets are made up; that no delivery is recorded yet when the
    register is empty, ``delivery.attrs["recorded"]`` 0; else ``""``). When ``delivery`` is
    given but nothing (confirmed) is delivered in the area, ``budget`` is 0 and every outcome
    is without delivery.
    """
    rows = delivery if delivery is not None and len(delivery) else None
    if rows is not None and "confirmed" in rows:
        rows = rows[rows["confirmed"].astype(bool)]
        rows = rows if len(rows) else None
    out = by_partnership(framework, delivery=rows)
    if rows is None:
        out["n_activities"] = 0
        if delivery is not None:  # given, but nothing (confirmed) delivered in the area
            out["budget"] = 0.0
            out["outcomes_without_delivery"] = out["outcome_ids"]
    per = []
    for partnership in out["partnership"]:
        mine = summary[
            summary["accountable"].fillna("").str.split("; ").apply(lambda names, p=partnership: p in names)
        ]
        per.append(
            (
                len(mine),
                "; ".join(
                    f"{r.indicator}: {r.variation_text} / {r.assurance_text}" for r in mine.itertuples()
                ),
            )
        )
    out["charted"] = [n for n, _ in per]
    out["icons"] = [text for _, text in per]
    made_up = rows is not None and bool(rows["illustrative"].astype(bool).any())
    out["data_status"] = f"{ILLUSTRATIVE_LABEL} budgets" if made_up else ""
    if delivery is not None and delivery.attrs.get("recorded") == 0:
        source = delivery.attrs.get("source", "the delivery register")
        out["data_status"] = f"no delivery recorded in {source} yet"
    return out
