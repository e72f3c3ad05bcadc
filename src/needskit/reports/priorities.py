"""Commissioning priorities: the most deprived neighbourhoods and their themes, and a pot shared by need.

The first and last parts of the commissioning-priorities report
(``notebooks/04-commissioning-priorities.ipynb``): priority neighbourhoods — those in the most
deprived national deciles of the partnership's deprivation dataset — with the themes where
their need shows (:func:`priority_places`), and how a small pot would be shared across places
under different measures of need (:func:`allocation_measures`, :func:`allocate_pot`). What is
already delivered is in :mod:`needskit.reports.delivery`. Every number comes from the store.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from needskit._checks import require_columns
from needskit.commissioning import allocation_scenarios
from needskit.config.catalog import THEMES
from needskit.errors import ReportError
from needskit.reports.charts import ReportFigure
from needskit.reports.context import Note, ReportContext
from needskit.reports.needs_profile import PRIORITY_DOMAINS, unavailable_facts
from needskit.reports.scope import area_lsoas, indicator_values, place_codes, place_names, residents
from needskit.reports.tables import theme_names, why_empty

__all__ = [
    "DOMAIN_THEMES",
    "ALLOCATION_NEEDS",
    "priority_places",
    "priority_matrix",
    "priority_sentence",
    "allocation_measures",
    "allocate_pot",
    "allocation_sentence",
    "allocation_table",
    "allocation_chart",
]

DOMAIN_THEMES: dict[str, str] = {
    "income": "economy_skills",
    "employment": "economy_skills",
    "education": "children_young_people",
    "health": "health_older_people",
    "crime": "safer_stronger_communities",
    "housing_and_services": "housing_environment",
    "environment": "housing_environment",
}
"""Deprivation domains (``<domain>_decile`` measures of the deprivation dataset) and the catalogue
theme each one speaks to (for priority places)."""

ALLOCATION_NEEDS: dict[str, tuple[str, str]] = {
    "imd": ("imd_people", "deprivation score × residents"),
    "income": ("income_deprived", "income-deprived residents (rate × residents)"),
    "crime": ("crimes", "recorded crimes"),
}
"""Allocation scenarios: ``label -> (column of allocation_measures, description)``."""

_PLACE_COLUMNS = [
    "area_code",
    "area_name",
    "ward_name",
    "imd_rank",
    "imd_decile",
    "theme",
    "theme_name",
    "n_signals",
    "evidence",
]


def priority_places(ctx: ReportContext, *, worst_decile: int = 2, worst_share: float = 0.2) -> pd.DataFrame:
    """The area's most deprived neighbourhoods and the themes where their need shows most.

    Parameters
    ----------
    ctx
        Report context (its store's indicators and the partnership's deprivation dataset,
        ``ctx.deprivation_dataset``, with ``imd_rank``, ``imd_decile`` and ``<domain>_decile``
        measures per LSOA).
    worst_decile
        Neighbourhoods in national deciles 1 to ``worst_decile`` are priorities; a deprivation
        domain in those deciles flags its theme (:data:`DOMAIN_THEMES`).
    worst_share
        An indicator flags its theme when the neighbourhood is in the worst ``worst_share`` of the
        area's neighbourhoods on it (by polarity; withheld values take no part).

    Returns
    -------
    DataFrame, one row per priority neighbourhood and theme (every catalogue theme but
    cross-cutting): ``area_code``, ``area_name``, ``ward_name``, ``imd_rank``, ``imd_decile``,
    ``theme``, ``theme_name``, ``n_signals`` (0 when nothing flags the theme), ``evidence``
    (``"; "``-joined). Sorted by IMD rank, then theme. No rows when the store has no deprivation
    deciles. ``attrs`` keep ``worst_decile`` and ``worst_share``.

    Raises
    ------
    ReportError
        Not a district or county; ``worst_decile`` not 1-10 or ``worst_share`` not in (0, 1).
    """
    if (
        isinstance(worst_decile, bool)
        or not isinstance(worst_decile, int | np.integer)
        or not 1 <= worst_decile <= 10
    ):
        raise ReportError(
            "is not a decile", where="worst_decile", expected="a whole number 1-10", got=repr(worst_decile)
        )
    if not isinstance(worst_share, int | float) or not 0 < worst_share < 1:
        raise ReportError(
            "is not a share", where="worst_share", expected="a number in (0, 1)", got=repr(worst_share)
        )
    table = area_lsoas(ctx).set_index("lsoa")
    profile = ctx.profile
    iod = profile[
        (profile["dataset"] == ctx.deprivation_dataset)
        & (profile["level"] == "lsoa")
        & profile["area_code"].isin(table.index)
    ]
    wide = iod.pivot_table(index="area_code", columns="measure", values="value", aggfunc="first")
    if "imd_decile" not in wide or "imd_rank" not in wide:
        out = pd.DataFrame(columns=_PLACE_COLUMNS)
        out.attrs.update({"worst_decile": int(worst_decile), "worst_share": float(worst_share)})
        return out
    priority = wide[wide["imd_decile"] <= worst_decile]
    themes = [t for t in THEMES if t != "cross_cutting"]
    # indicators in the worst share of the area's neighbourhoods
    rows = indicator_values(ctx, ctx.results["indicator"].unique(), level="lsoa", codes=table.index)
    rows = rows[
        rows["value"].notna()
        & rows["polarity"].isin(["high_is_bad", "high_is_good"])
        & rows["theme"].isin(themes)
    ]
    badness = np.where(rows["polarity"] == "high_is_good", -rows["value"], rows["value"])
    pct = pd.Series(badness, index=rows.index).groupby(rows["indicator"]).rank(method="average", pct=True)
    worst = rows[(pct > 1 - worst_share) & rows["area_code"].isin(priority.index)]
    signals = [
        pd.DataFrame(
            {
                "area_code": worst["area_code"],
                "theme": worst["theme"],
                "evidence": worst["title"] + f" (worst {worst_share:.0%} of {ctx.area_name})",
            }
        )
    ]
    # deprivation domains in the worst national deciles
    for key, theme in DOMAIN_THEMES.items():
        column = f"{key}_decile"
        if column in priority:
            hit = priority[priority[column] <= worst_decile]
            signals.append(
                pd.DataFrame(
                    {
                        "area_code": hit.index,
                        "theme": theme,
                        "evidence": [
                            f"{PRIORITY_DOMAINS.get(key, key)} deprivation domain, decile {int(d)}"
                            for d in hit[column]
                        ],
                    }
                )
            )
    found = pd.concat(signals, ignore_index=True)
    grouped = found.groupby(["area_code", "theme"]).agg(
        n_signals=("evidence", "size"), evidence=("evidence", "; ".join)
    )
    grid = pd.MultiIndex.from_product([priority.index, themes], names=["area_code", "theme"])
    out = grouped.reindex(grid).reset_index()
    out["n_signals"] = out["n_signals"].fillna(0).astype("int64")
    out["evidence"] = out["evidence"].fillna("")
    out["area_name"] = out["area_code"].map(table["lsoa_name"])
    out["ward_name"] = out["area_code"].map(table["ward_name"])
    out["imd_rank"] = out["area_code"].map(priority["imd_rank"]).astype("int64")
    out["imd_decile"] = out["area_code"].map(priority["imd_decile"]).astype("int64")
    out["theme_name"] = theme_names(out["theme"])
    order = {t: i for i, t in enumerate(themes)}
    out = out.sort_values(
        ["imd_rank", "theme"], key=lambda s: s.map(order) if s.name == "theme" else s, kind="stable"
    )
    out = out[_PLACE_COLUMNS].reset_index(drop=True)
    out.attrs.update({"worst_decile": int(worst_decile), "worst_share": float(worst_share)})
    return out


def priority_matrix(places: pd.DataFrame) -> pd.DataFrame:
    """Priority neighbourhoods × themes: the number of signals in each cell.

    Returns
    -------
    DataFrame, one row per priority neighbourhood (most deprived first): ``area_name``,
    ``ward_name``, ``imd_decile``, one column per theme name (signals; 0 = none) and
    ``n_themes`` (themes with at least one signal).
    """
    require_columns(
        places,
        ["area_code", "area_name", "ward_name", "imd_rank", "imd_decile", "theme_name", "n_signals"],
        argument="places",
    )
    if places.empty:
        return pd.DataFrame(columns=["area_name", "ward_name", "imd_decile", "n_themes"])
    wide = (
        places.pivot_table(
            index=["imd_rank", "area_code", "area_name", "ward_name", "imd_decile"],
            columns="theme_name",
            values="n_signals",
            aggfunc="sum",
            sort=False,
        )
        .fillna(0)
        .astype("int64")
    )
    wide["n_themes"] = (wide > 0).sum(axis=1)
    wide = wide.reset_index().sort_values("imd_rank").drop(columns=["imd_rank", "area_code"])
    wide.columns.name = None
    return wide.reset_index(drop=True)


def priority_sentence(places: pd.DataFrame, *, ctx: ReportContext) -> str:
    """How many priority neighbourhoods there are and which themes flag most often, and which
    indicators could not be made (so flag nothing) and why (``ctx.unavailable``)."""
    worst_decile = int(places.attrs.get("worst_decile", 2))
    n_all = len(area_lsoas(ctx))
    deciles = "decile 1" if worst_decile == 1 else f"deciles 1-{worst_decile}"
    n = places["area_code"].nunique()
    missing = unavailable_facts(ctx)
    unused = (
        " Indicators that could not be made are not used to flag themes. " + " ".join(missing)
        if missing
        else ""
    )
    if n == 0:
        return (
            f"None of {ctx.area_name}'s {n_all} neighbourhoods is in national deprivation (IMD) {deciles}."
            + unused
        )
    per_theme = (
        places[places["n_signals"] > 0]
        .groupby("theme_name")["area_code"]
        .nunique()
        .sort_values(ascending=False)
    )
    top = "; ".join(f"{theme} ({k} of them)" for theme, k in per_theme.head(3).items())
    wards = places.drop_duplicates("area_code")["ward_name"].value_counts()
    return (
        f"{n} of {ctx.area_name}'s {n_all} neighbourhoods are among the {worst_decile * 10}% most deprived "
        f"in England (IMD {deciles}), in {len(wards)} wards (most in {wards.index[0]}: {wards.iloc[0]})."
        + (f" The themes flagged most often: {top}." if top else "")
        + unused
    )


def allocation_measures(
    ctx: ReportContext,
    *,
    level: str = "ward",
    deprivation: str = "imd_score",
    income: str = "income_deprivation",
    crime: str = "crime_rate_all",
) -> pd.DataFrame:
    """Need measures per place for sharing a pot: deprivation, income deprivation and crime.

    Parameters
    ----------
    ctx
        Report context (published residents and indicators).
    level
        ``"ward"`` or ``"district"`` (a county only).
    deprivation, income, crime
        The store's indicators of a deprivation score, of the share of residents who are
        income-deprived (%), and of a count of crimes (its numerator, in the report's period).

    Returns
    -------
    DataFrame, one row per place of the area: ``area_code``, ``area_name``, ``population``
    (published residents), ``imd_score`` (the deprivation score), ``imd_people`` (score ×
    residents), ``income_deprivation`` (%), ``income_deprived`` (rate × residents, estimated
    people), ``crimes`` (the crime indicator's count as published; withheld = 0),
    ``crimes_withheld`` (bool), ``crime_period``. A measure whose indicator could not be made
    for the partnership (``ctx.unavailable``, e.g. crime with no police data given) is missing
    throughout, and ``attrs["unavailable"]`` maps its column (``imd_people``,
    ``income_deprived``, ``crimes``) to the sentence saying why.

    Raises
    ------
    ReportError
        An unusable level, or an indicator the store neither holds nor knows to be unavailable.
    """
    codes = place_codes(ctx, level)
    columns = {deprivation: "imd_people", income: "income_deprived", crime: "crimes"}
    unavailable = {
        columns[i]: ctx.unavailable_note(i)
        for i in (deprivation, income, crime)
        if i in ctx.unavailable and not ctx.available(i)
    }
    missing = [
        i
        for i in (deprivation, income, crime)
        if i not in set(ctx.results["indicator"]) and columns[i] not in unavailable
    ]
    if missing:
        raise ReportError(
            "names indicators the report does not compute",
            where=f"allocation measures {missing}",
            expected=f"ids of the store's indicators, e.g. {sorted(ctx.results['indicator'].unique())[:5]}",
        )
    values = indicator_values(ctx, [deprivation, income, crime], level=level, codes=codes)
    wide = values.pivot_table(index="area_code", columns="indicator", values="value", aggfunc="first")
    wide = wide.reindex(index=codes, columns=[deprivation, income])
    counts = values[values["indicator"] == crime].set_index("area_code")
    out = pd.DataFrame({"area_code": codes})
    out["area_name"] = out["area_code"].map(place_names(ctx, level))
    out["population"] = out["area_code"].map(residents(ctx, level=level)).to_numpy(float)
    out["imd_score"] = wide[deprivation].to_numpy(float)
    out["imd_people"] = out["imd_score"] * out["population"]
    out["income_deprivation"] = wide[income].to_numpy(float)
    out["income_deprived"] = out["income_deprivation"] / 100 * out["population"]
    crimes = out["area_code"].map(counts["numerator"]).astype(float)
    out["crimes_withheld"] = crimes.isna().to_numpy() & ("crimes" not in unavailable)
    out["crimes"] = crimes.fillna(0.0).to_numpy()
    out["crime_period"] = out["area_code"].map(counts["period"]).fillna("") if len(counts) else ""
    for column in unavailable:
        out[column] = np.nan
    out.attrs["unavailable"] = unavailable
    return out


def allocate_pot(
    measures: pd.DataFrame,
    *,
    pot: float,
    unit: float = 100,
    needs: Mapping[str, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Share a pot across the places under each need measure.

    Parameters
    ----------
    measures
        :func:`allocation_measures`.
    pot, unit
        The sum to share (£) and the whole units allocations come in (£100).
    needs
        ``label -> (column, description)``; default :data:`ALLOCATION_NEEDS`.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.allocation_scenarios` (``area_code``,
    ``allocation_<label>``, ``share_<label>``, ``difference_<label>``, ``range``) with
    ``area_name`` second, sorted by the first scenario's allocation (largest first).
    ``attrs["needs"]`` holds the descriptions, ``attrs["pot"]`` and ``attrs["unit"]``;
    ``attrs["not_shared"]`` the measures left out because their indicator could not be made
    (``measures.attrs["unavailable"]``), description to why. No rows when no measure is left
    (``attrs["why_empty"]`` says why).

    Raises
    ------
    SchemaError
        As :func:`needskit.commissioning.allocate` (pot not a whole number of units, a measure
        with missing values ...).
    """
    unavailable = measures.attrs.get("unavailable", {})
    wanted = dict(needs or ALLOCATION_NEEDS)
    chosen = {label: spec for label, spec in wanted.items() if spec[0] not in unavailable}
    not_shared = {text: unavailable[column] for column, text in wanted.values() if column in unavailable}
    if not chosen:
        out = pd.DataFrame(columns=["area_code", "area_name", "range"])
        out.attrs.update({"needs": {}, "pot": pot, "unit": unit, "not_shared": not_shared})
        return why_empty(
            out,
            f"The £{pot:,.0f} pot is not shared: no measure of need is available. {_not_shared(not_shared)}",
        )
    out = allocation_scenarios(
        measures, budget=pot, needs={label: column for label, (column, _) in chosen.items()}, unit=unit
    )
    out.insert(1, "area_name", out["area_code"].map(measures.set_index("area_code")["area_name"]))
    first = f"allocation_{next(iter(chosen))}"
    out = out.sort_values([first, "area_code"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.attrs.update(
        {
            "needs": {label: text for label, (_, text) in chosen.items()},
            "pot": pot,
            "unit": unit,
            "not_shared": not_shared,
        }
    )
    return out


def _not_shared(not_shared: Mapping[str, str]) -> str:
    """Measures of need left out of the allocation, and why."""
    return " ".join(f"Not shared by {text}: {why}" for text, why in not_shared.items())


def allocation_sentence(alloc: pd.DataFrame, *, measures: pd.DataFrame | None = None) -> str:
    """That each scenario sums to the pot (checked here, not assumed), how far they differ, and
    which measures of need are left out and why."""
    if alloc.empty and alloc.attrs.get("why_empty"):
        return str(alloc.attrs["why_empty"])
    pot, unit = alloc.attrs.get("pot"), alloc.attrs.get("unit")
    needs = alloc.attrs.get("needs", {})
    sums = {label: int(alloc[f"allocation_{label}"].sum()) for label in needs}
    exact = all(total == pot for total in sums.values())
    parts = "; ".join(f"{text}: £{sums[label]:,.0f}" for label, text in needs.items())
    text = (
        f"The £{pot:,.0f} pot is shared across {len(alloc)} places in units of £{unit:,.0f} "
        f"under {len(needs)} measures of need. "
        + ("Each scenario sums exactly to the pot" if exact else "NOT every scenario sums to the pot")
        + f" ({parts})."
    )
    widest = alloc.loc[alloc["range"].idxmax()]
    text += (
        f" The measures disagree most on {widest['area_name']}: £{widest['range']:,.0f} "
        "between its smallest and largest share."
    )
    if measures is not None and measures["crimes_withheld"].any():
        text += (
            f" {int(measures['crimes_withheld'].sum())} places have a withheld crime count "
            "and get no share under the crime measure."
        )
    not_shared = _not_shared(alloc.attrs.get("not_shared", {}))
    return f"{text} {not_shared}" if not_shared else text


def allocation_table(alloc: pd.DataFrame, *, top: int | None = 20) -> pd.DataFrame:
    """The allocations with readable headings: place, then £ and share under each measure, and the range.

    Returns
    -------
    DataFrame: ``place``, per measure ``<description> (£)`` and ``<description>: share``,
    ``range (£)`` (largest minus smallest allocation); at most ``top`` rows, in ``alloc`` order.
    """
    needs = alloc.attrs.get("needs", {})
    out = pd.DataFrame({"place": alloc["area_name"]})
    for label, text in needs.items():
        out[f"{text} (£)"] = alloc[f"allocation_{label}"]
        out[f"{text}: share"] = alloc[f"share_{label}"]
    out["range (£)"] = alloc["range"]
    out = (out.head(top) if top else out).reset_index(drop=True)
    if out.empty and alloc.attrs.get("why_empty"):
        why_empty(out, str(alloc.attrs["why_empty"]))
    return out


def allocation_chart(alloc: pd.DataFrame, *, title: str, top: int | None = 25) -> ReportFigure | Note:
    """Grouped bars of each place's allocation under each measure (the ``top`` places); a
    :class:`~needskit.reports.context.Note` saying why when no measure of need is available."""
    if alloc.empty and alloc.attrs.get("why_empty"):
        return Note(str(alloc.attrs["why_empty"]))
    needs = alloc.attrs.get("needs", {})
    shown = alloc.head(top) if top else alloc
    fig = ReportFigure(figsize=(8, 0.32 * len(shown) * max(len(needs), 1) / 2 + 1.8))
    ax = fig.add_subplot()
    height = 0.8 / max(len(needs), 1)
    y = np.arange(len(shown))
    for i, (label, text) in enumerate(needs.items()):
        ax.barh(y + i * height, shown[f"allocation_{label}"], height=height, label=text)
    ax.set_yticks(y + height * (len(needs) - 1) / 2, shown["area_name"], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("allocation, £")
    note = f" (top {len(shown)} of {len(alloc)})" if len(shown) < len(alloc) else ""
    ax.set_title(title + note, fontsize=10, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
