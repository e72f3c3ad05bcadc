"""The chapter "What changed since the last analysis": this period against the previous one and
the same period a year earlier, tested (:mod:`needskit.needs.change`), in sentences built from
the data; the neighbourhoods that entered or left the highest fifth; and whether the gap between
the most and least deprived fifth is narrowing.

Everything is read from the store the report reads (for a public report, the published one: its
counts are the published, disclosure-controlled counts, so no comparison rebuilds a withheld
figure).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from needskit.needs.change import compare_periods, gap_change
from needskit.needs.periods import period_kind, previous_period, year_earlier
from needskit.reports.context import Note, ReportContext
from needskit.reports.tables import figures

__all__ = ["Sentences", "comparison_periods", "gap_over_time", "highest_fifth_changes", "what_changed"]


class Sentences:
    """Sentences built from the data, shown as a list (every text escaped, never markup)."""

    def __init__(self, items: Sequence[str | Note]) -> None:
        self.items = [str(item) for item in items]

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def _repr_html_(self) -> str:
        import html

        return "<ul>" + "".join(f"<li>{html.escape(t, quote=False)}</li>" for t in self.items) + "</ul>"

    def _repr_markdown_(self) -> str:
        from needskit.safe_text import escape_markdown

        return "\n".join(f"- {escape_markdown(t)}" for t in self.items)


def _ci(x: float) -> str:
    """Two decimals, three when two would round a limit onto the null value (1.00)."""
    text = f"{x:.2f}"
    return f"{x:.3f}" if text == "1.00" and x != 1 else text


def comparison_periods(ctx: ReportContext) -> dict[str, str]:
    """The periods this one is compared with, when the store has them: ``{"the previous
    analysis": "2024-H2", "the same period a year earlier": "2024-H1"}`` (a yearly analysis has one)."""
    if period_kind(ctx.period) in (None, "month"):
        return {}
    known = set(ctx.store.periods())
    wanted = {
        "the previous analysis": previous_period(ctx.period),
        "the same period a year earlier": year_earlier(ctx.period),
    }
    out: dict[str, str] = {}
    for label, period in wanted.items():
        if period in known and period not in out.values():
            out[label] = period
    return out


def _fmt(value: float) -> str:
    return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def _sentence(row: pd.Series, *, title: str, unit: str, label: str) -> str:
    change = (
        f"{_fmt(row['value_before'])} to {_fmt(row['value'])} {unit}".strip()
        if row["measure"] != "difference"
        else f"{_fmt(row['value_before'])}% to {_fmt(row['value'])}%"
    )
    if _fmt(row["value"]) == _fmt(row["value_before"]):
        head = (
            f"{title}: {_fmt(row['value'])}{'%' if row['measure'] == 'difference' else ' ' + unit} "
            f"now, as in {label} ({row['against']})"
        )
    else:
        verb = "rose" if row["value"] > row["value_before"] else "fell"
        head = f"{title}: {verb} from {change} since {label} ({row['against']})"
    if row["measure"] == "rate ratio":
        test = f"rate ratio {_ci(row['change'])}, 95% CI {_ci(row['lower'])} to {_ci(row['upper'])}"
    elif row["measure"] == "difference":
        test = (
            f"difference {100 * row['change']:+.1f} percentage points, "
            f"95% CI {100 * row['lower']:+.1f} to {100 * row['upper']:+.1f}"
        )
    else:
        return head + " (not tested: no test for this statistic)."
    if row["direction"] == "no significant change":
        verdict = "not a significant change"
    else:
        verdict = f"a significant {row['direction']}" + (
            f", {row['judgement']}" if row["judgement"] in ("better", "worse") else ""
        )
    return f"{head}: {verdict} ({test})."


def what_changed(ctx: ReportContext) -> tuple[pd.DataFrame, Sentences]:
    """Every indicator of the area with data in this period and an earlier one, compared.

    Returns
    -------
    A table (indicator title, compared with, before, now, change and interval, judgement) and
    one sentence per indicator and comparison, significant changes first.
    """
    periods = comparison_periods(ctx)
    if not periods:
        return pd.DataFrame(), Sentences(
            [Note(f"No earlier analysis period is in the data to compare {ctx.period} with.")]
        )
    own = ctx.results[ctx.results["area_code"] == ctx.area_code]
    parts, sentences = [], []
    for label, against in periods.items():
        compared = compare_periods(own, period=ctx.period, against=against)
        if compared.empty:
            continue
        for _, row in compared.iterrows():
            spec = ctx.info(row["indicator"])
            sentences.append(
                (
                    row["direction"] in ("no significant change", "not tested"),
                    _sentence(row, title=spec["title"], unit=spec["unit"], label=label),
                )
            )
        parts.append(compared.assign(compared_with=label))
    if not parts:
        return pd.DataFrame(), Sentences(
            [
                Note(
                    f"No indicator has data for both {ctx.period} and {' or '.join(periods.values())}: "
                    "only monthly series (police.uk) change between analyses."
                )
            ]
        )
    table = pd.concat(parts, ignore_index=True)
    titles = table["indicator"].map(lambda i: ctx.info(i)["title"])
    shown = pd.DataFrame(
        {
            "Indicator": titles,
            "Against": table["against"]
            + table["compared_with"].map(
                {"the previous analysis": " (previous)", "the same period a year earlier": " (year before)"}
            ),
            "Before": table["value_before"].round(1),
            "Now": table["value"].round(1),
            "Change (95% CI)": [
                "not tested"
                if m == "not tested"
                else (
                    f"× {_ci(c)} ({_ci(lo)} to {_ci(hi)})"
                    if m == "rate ratio"
                    else f"{100 * c:+.1f} pp ({100 * lo:+.1f} to {100 * hi:+.1f})"
                )
                for m, c, lo, hi in table[["measure", "change", "lower", "upper"]].itertuples(index=False)
            ],
            "Judgement": table["judgement"],
        }
    )
    ordered = [text for _, text in sorted(sentences, key=lambda pair: pair[0])]
    return figures(shown, ["Change (95% CI)"]), Sentences(ordered)


def highest_fifth_changes(ctx: ReportContext, *, indicator: str = "crime_rate_all") -> Sentences:
    """Neighbourhoods that entered or left the highest fifth of the area for ``indicator``
    between the previous analysis and this one (published values; withheld ones are not ranked).
    The deprivation priority list (IMD) is fixed between indices and does not change."""
    if not ctx.available(indicator):
        return Sentences([ctx.unavailable_note(indicator)])
    periods = comparison_periods(ctx)
    if "the previous analysis" not in periods:
        return Sentences([Note("No previous analysis period is in the data.")])
    before = periods["the previous analysis"]
    rows = ctx.results[
        (ctx.results["indicator"] == indicator)
        & (ctx.results["level"] == ctx.level)
        & ctx.results["area_code"].isin(ctx.neighbourhoods["area_code"])
    ]

    def top(period: str) -> set[str]:
        values = rows.loc[rows["period"] == period].dropna(subset=["value"]).set_index("area_code")["value"]
        if values.empty:
            return set()
        cut = values.quantile(0.8)
        return set(values.index[values >= cut])

    now_top, before_top = top(ctx.period), top(before)
    title = ctx.info(indicator)["title"]
    if not now_top or not before_top:
        return Sentences(
            [Note(f"{title}: not enough published neighbourhood values in both periods to rank.")]
        )
    names = ctx.neighbourhoods.set_index("area_code")["area_name"]

    def listed(codes: set[str]) -> str:
        return ", ".join(sorted(str(names.get(c, c)) for c in codes)) or "none"

    return Sentences(
        [
            Note(
                f"{title}: of the highest fifth of neighbourhoods in {ctx.period} ({len(now_top)}), "
                f"{len(now_top & before_top)} were also in the highest fifth in {before}."
            ),
            Note(f"Entered the highest fifth: {listed(now_top - before_top)}."),
            Note(f"Left the highest fifth: {listed(before_top - now_top)}."),
            Note(
                "The priority neighbourhoods by deprivation (IMD 2025) are fixed until the next Indices "
                "of Deprivation and do not change between analyses."
            ),
        ]
    )


def gap_over_time(ctx: ReportContext, *, indicator: str = "crime_rate_all") -> tuple[pd.DataFrame, Sentences]:
    """The slope index of inequality (most minus least deprived fifth) of ``indicator`` for this
    period and the ones it is compared with, and "is the gap narrowing?" answered by a test of
    the change in the SII against the previous analysis."""
    from needskit.needs.deprivation import by_deprivation
    from needskit.needs.slope_index import sii
    from needskit.reports.needs_profile import deprivation, neighbourhood_indicator

    if not ctx.available(indicator):
        return pd.DataFrame(), Sentences([ctx.unavailable_note(indicator)])
    spec = ctx.info(indicator)
    iod = deprivation(ctx)
    if iod.empty or "imd_decile" not in iod:
        return pd.DataFrame(), Sentences(
            [Note("No deprivation index in the store: the gap is not calculated.")]
        )
    periods = {"this analysis": ctx.period, **comparison_periods(ctx)}
    rows = []
    for label, period in periods.items():
        values = neighbourhood_indicator(dataclasses.replace(ctx, period=period), indicator)
        values = values.assign(imd_decile=values["area_code"].map(iod["imd_decile"]))
        values = values[
            values["numerator"].notna() & values["denominator"].notna() & values["imd_decile"].notna()
        ]
        values = values[values["period"] == period]
        if values.empty:
            continue
        statistic: Literal["proportion", "rate"] = (
            "proportion" if spec["statistic"] == "proportion" else "rate"
        )
        groups = by_deprivation(
            pd.DataFrame(values.drop(columns="geometry")).assign(imd_decile=values["imd_decile"].astype(int)),
            numerator="numerator",
            denominator="denominator",
            decile="imd_decile",
            q=5,
            statistic=statistic,
            multiplier=spec["multiplier"],
        )
        result = sii(
            groups.assign(quintile=np.arange(1, len(groups) + 1)),
            numerator="numerator",
            denominator="denominator",
            population="denominator",
            quantile="quintile",
            statistic=statistic,
            multiplier=spec["multiplier"],
            q=5,
            direction="most_minus_least",
            seed=ctx.seed,
        ).iloc[0]
        rows.append({"compared": label, "period": period, **result.to_dict()})
    if not rows:
        return pd.DataFrame(), Sentences(
            [Note(f"{spec['title']}: not enough published data to measure the gap.")]
        )
    table = pd.DataFrame(rows)
    shown = table[
        ["compared", "period", "sii", "sii_lower_95", "sii_upper_95", "rii", "rii_lower_95", "rii_upper_95"]
    ]
    notes: list[str | Note] = []
    usable = table[table["suppressed_reason"].fillna("") == ""].set_index("compared")
    if "this analysis" in usable.index and "the previous analysis" in usable.index:
        now, before = usable.loc["this analysis"], usable.loc["the previous analysis"]
        test = gap_change(before, now)
        answer = {
            "narrowing": "Yes: the gap narrowed significantly",
            "widening": "No: the gap widened significantly",
            "no significant change": "Not significantly: the gap neither narrowed nor widened beyond chance",
        }[str(test["verdict"])]
        notes.append(
            f"Is the gap narrowing? {answer}. {spec['title']}: the slope index of inequality (most minus "
            f"least deprived) was {_fmt(before['sii'])} in {before['period']} and {_fmt(now['sii'])} in "
            f"{now['period']} {spec['unit']} (change in its size {test['difference']:+.1f}, 95% CI "
            f"{test['lower']:+.1f} to {test['upper']:+.1f}; p = {test['p']:.2f})."
        )
    else:
        notes.append(Note(f"{spec['title']}: the gap cannot be compared with the previous analysis."))
    return shown.reset_index(drop=True), Sentences(notes)
