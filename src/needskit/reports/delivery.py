"""What is already delivered against the outcomes framework, where, and whether it is where need is.

The middle of the commissioning-priorities report (and the accountable-partnership view of the
outcomes-monitoring report): the outcomes framework and delivery register of the project
(:func:`outcomes_framework`, :func:`delivery_register`, read by :mod:`needskit.config` and
located in the store's hierarchy), the activities serving the report's area
(:func:`delivery_in_area`), the outcome × place matrix, the outcomes with nothing delivered and
delivery set against need (:func:`delivery_vs_need`). The analyses are
:mod:`needskit.commissioning.delivery` and :mod:`~needskit.commissioning.delivery_need`.
Made-up parts of the framework and the register are labelled ILLUSTRATIVE (:func:`framework_note`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from needskit.commissioning import (
    delivery_away_from_need,
    delivery_matrix,
    expand_places,
    locate_delivery,
    outcomes_without_delivery,
)
from needskit.config import OutcomesFramework, find_project, load_delivery, load_outcomes
from needskit.reports.context import ReportContext
from needskit.reports.scope import (
    AREA_LEVELS,
    area_lsoas,
    check_place_level,
    default_place_level,
    indicator_values,
    place_codes,
    place_names,
)
from needskit.reports.tables import ILLUSTRATIVE_LABEL, theme_names, why_empty

__all__ = [
    "outcomes_framework",
    "delivery_register",
    "framework_note",
    "delivery_in_area",
    "delivery_sentence",
    "delivery_gap_matrix",
    "undelivered_outcomes",
    "outcome_need",
    "delivery_vs_need",
    "delivery_need_sentence",
]

_AGAINST_NEED = [
    "activity_id",
    "outcome_id",
    "n_places",
    "n_high_need_places",
    "share_high_need",
    "mean_need_percentile",
    "budget_high_need",
    "budget_share_high_need",
    "activity",
    "partner",
    "away_from_need",
    "need_indicator",
    "need_title",
    "illustrative",
]


def outcomes_framework(
    outcomes_file: str | Path | None = None, *, project: str | Path = ""
) -> OutcomesFramework:
    """The project's outcomes framework.

    Parameters
    ----------
    outcomes_file
        The framework's file, relative to the project folder (or absolute); default the
        project's (:attr:`needskit.config.Project.outcomes_file`).
    project
        The project folder (``""``: found from the working folder, as
        :func:`needskit.config.find_project` finds it).

    Returns
    -------
    OutcomesFramework

    Raises
    ------
    CatalogError
        As :func:`needskit.config.load_outcomes` (the message names the file and the key).
    """
    proj = find_project(project or None)
    return load_outcomes(proj.resolve(outcomes_file) if outcomes_file else proj.outcomes_file)


def delivery_register(
    ctx: ReportContext,
    *,
    framework: OutcomesFramework,
    delivery_file: str | Path | None = None,
    project: str | Path = "",
) -> pd.DataFrame:
    """The project's delivery register, its places found in the store's hierarchy.

    Parameters
    ----------
    ctx
        Report context (``ctx.hierarchy`` locates the places).
    framework
        The outcomes framework the activities serve (:func:`outcomes_framework`).
    delivery_file, project
        The register's file, relative to the project folder (default the project's,
        :attr:`needskit.config.Project.delivery_file`), and the project (as
        :func:`outcomes_framework`).

    Returns
    -------
    DataFrame from :func:`needskit.config.load_delivery` with ``place_code``, ``place_name`` and
    ``place_level`` (:func:`needskit.commissioning.locate_delivery`); no rows when nothing is
    recorded yet. ``attrs["source"]`` is the register's file (relative to the project when it
    is inside it), for the sentences that say nothing is recorded.

    Raises
    ------
    CatalogError
        As :func:`needskit.config.load_delivery`; a place that is not a ward, district or county
        of the partnership.
    """
    proj = find_project(project or None)
    path = Path(proj.resolve(delivery_file) if delivery_file else proj.delivery_file)
    rows = load_delivery(path, outcomes=framework)
    out = locate_delivery(rows, hierarchy=ctx.hierarchy)
    try:
        out.attrs["source"] = path.resolve().relative_to(Path(proj.root).resolve()).as_posix()
    except ValueError:
        out.attrs["source"] = str(path)
    return out


def _nothing_recorded(delivery: pd.DataFrame) -> str:
    """The sentence for a delivery register with no activity recorded yet."""
    source = delivery.attrs.get("source", "the delivery register")
    return (
        f"No delivery is recorded in {source} yet: list the partners' activities there (what, who, "
        "the outcomes and places they serve, the budget) to see them against the outcomes and need."
    )


def framework_note(framework: OutcomesFramework, *, delivery: pd.DataFrame | None = None) -> str:
    """Which parts of the outcomes framework (and delivery register) are made up, as markdown.

    Returns
    -------
    str
        E.g. "**ILLUSTRATIVE**: the indicators, targets ... of 19 of the 19 outcomes are made up ...",
        built from the ``illustrative_fields`` the files declare, and that no delivery is recorded
        when ``delivery`` has no rows; "" when there is nothing to say.
    """
    lines = []
    outcomes = framework.outcomes
    flagged = outcomes[outcomes["illustrative"].astype(bool)]
    if len(flagged):
        fields = sorted({f for text in flagged["illustrative_fields"] for f in str(text).split("; ") if f})
        if "all" in fields:  # illustrative: true, every part made up (a starter framework)
            lines.append(
                f"**{ILLUSTRATIVE_LABEL}**: {len(flagged)} of the {len(outcomes)} outcomes in "
                f"'{framework.name}' are made up in full (aims, outcomes, indicators, targets and "
                "who is accountable), an example of the format to be replaced by the partnership's own."
            )
        else:
            lines.append(
                f"**{ILLUSTRATIVE_LABEL}**: the {', '.join(fields)} of {len(flagged)} of the "
                f"{len(outcomes)} outcomes in '{framework.name}' are made up to show the method "
                "(the aims, outcomes and actions are the source's)."
            )
    if delivery is not None and not len(delivery):
        lines.append(_nothing_recorded(delivery))
    if delivery is not None and len(delivery) and "illustrative" in delivery:
        acts = delivery.drop_duplicates("activity_id")
        made = acts[acts["illustrative"].astype(bool)]
        counts = pd.Series(
            [f for text in made["illustrative_fields"] for f in str(text).split("; ") if f]
        ).value_counts()
        if len(counts):
            parts = ", ".join(f"{field} of {n}" for field, n in counts.items())
            lines.append(
                f"**{ILLUSTRATIVE_LABEL}** delivery register entries (of {len(acts)} activities): "
                f"{parts} are made up."
            )
    return "\n".join(f"- {line}" for line in lines)


def delivery_in_area(delivery: pd.DataFrame, *, ctx: ReportContext, level: str | None = None) -> pd.DataFrame:
    """Delivery register rows for the area's places: wide places expanded, others dropped.

    Parameters
    ----------
    delivery
        :func:`delivery_register` rows (``place_code`` at ward, district or county level).
    ctx
        Report context.
    level
        ``"ward"`` or ``"district"``; default ward for a district, district for a county.

    Returns
    -------
    Rows as :func:`needskit.commissioning.expand_places` returns them (``place_code`` at
    ``level``, ``expanded_from`` the original wide place), for places inside the area only; at
    district level a ward activity counts once in its district. ``attrs["recorded"]`` is the
    number of activities of the whole register and ``attrs["source"]`` its file; with no rows,
    ``attrs["why_empty"]`` says why (nothing recorded yet, or nothing in the area).
    """
    level = default_place_level(ctx, level)
    check_place_level(ctx, level)
    # the whole area of several codes is every place of the hierarchy
    within = ctx.area_code if ctx.area_level in AREA_LEVELS else None
    rows = expand_places(delivery, to="ward", hierarchy=ctx.hierarchy, within=within)
    rows = rows[rows["place_code"].isin(set(area_lsoas(ctx)["ward"]))]
    if level == "district":
        table = area_lsoas(ctx).drop_duplicates("ward").set_index("ward")
        rows = (
            rows.assign(
                expanded_from=rows["expanded_from"].fillna(rows["place_code"]),
                place_code=rows["place_code"].map(table["district"]),
                place_name=rows["place_code"].map(table["district_name"]),
                place_level="district",
            )
            .drop_duplicates(["activity_id", "outcome_id", "place_code"])
            .reset_index(drop=True)
        )
    rows = rows.reset_index(drop=True)
    recorded = int(delivery["activity_id"].nunique()) if len(delivery) else 0
    rows.attrs.update({"recorded": recorded, "source": delivery.attrs.get("source", "the delivery register")})
    if rows.empty:
        why_empty(
            rows,
            _nothing_recorded(delivery)
            if recorded == 0
            else f"None of the {recorded} activities of the delivery register serves a place in "
            f"{ctx.area_name}.",
        )
    return rows


def delivery_sentence(delivery: pd.DataFrame, rows: pd.DataFrame, *, ctx: ReportContext) -> str:
    """What the delivery register covers in the area, from the data."""
    total = delivery["activity_id"].nunique()
    here = rows["activity_id"].nunique()
    if total == 0:
        return _nothing_recorded(delivery)
    if here == 0:
        return f"The delivery register lists {total} activities; none serves a place in {ctx.area_name}."
    origin = rows.drop_duplicates("activity_id")["expanded_from"].fillna("")
    county_wide = int(origin.isin(set(ctx.hierarchy["county"])).sum())
    district_wide = int(origin.isin(set(ctx.hierarchy["district"]) - set(ctx.hierarchy["county"])).sum())
    local = here - county_wide - district_wide
    text = (
        f"The delivery register lists {total} activities; {here} of them serve places in {ctx.area_name}: "
        f"{county_wide} county-wide, {district_wide} district-wide and {local} in named wards. "
        "Wide activities count in every place they cover."
    )
    if rows["illustrative"].astype(bool).any():
        text += f" Budgets and some places are {ILLUSTRATIVE_LABEL}."
    return text


def delivery_gap_matrix(
    rows: pd.DataFrame, *, framework: OutcomesFramework, ctx: ReportContext, level: str | None = None
) -> pd.DataFrame:
    """Place × outcome: how many activities serve each outcome in each place (0 = a delivery gap).

    Returns
    -------
    DataFrame with a first row ``"whole area"`` (distinct activities serving the outcome anywhere
    in the area) and then one row per place of the area: ``place``, one column per outcome id of
    the framework (in its order), and ``outcomes_delivered`` (outcomes with at least one activity
    there; for the first row, anywhere). No rows when the delivery register records nothing at
    all (``rows.attrs["recorded"]`` 0): ``attrs["why_empty"]`` says so.
    """
    level = default_place_level(ctx, level)
    codes = place_codes(ctx, level)
    ids = framework.outcomes["outcome_id"].astype(str).tolist()
    if rows.empty and rows.attrs.get("recorded") == 0:  # nothing recorded: no matrix of zeros
        return why_empty(
            pd.DataFrame(columns=["place", *ids, "outcomes_delivered"]),
            "No delivery to set out by place and outcome: nothing is recorded in "
            f"{rows.attrs.get('source', 'the delivery register')} yet.",
        )
    if rows.empty:
        wide = pd.DataFrame(0, index=ids, columns=codes)
    else:
        wide = delivery_matrix(rows, outcomes=framework, places=codes, values="n_activities")[codes]
    per_outcome = (
        rows.groupby("outcome_id")["activity_id"].nunique() if len(rows) else pd.Series(dtype="int64")
    )
    total = pd.DataFrame(
        [[int(per_outcome.get(o, 0)) for o in wide.index]], columns=wide.index, index=["whole area"]
    )
    body = wide.T.rename(index=place_names(ctx, level))
    out = pd.concat([total, body]).astype("int64")
    out["outcomes_delivered"] = (out[list(wide.index)] > 0).sum(axis=1)
    out.columns.name = None
    return out.rename_axis("place").reset_index()


def undelivered_outcomes(framework: OutcomesFramework, rows: pd.DataFrame) -> pd.DataFrame:
    """Outcomes with no confirmed activity in the area (activities listed with a question mark do not count).

    Returns
    -------
    DataFrame: ``outcome_id``, ``outcome``, ``theme_name``, ``accountable``, ``lead``,
    ``illustrative_fields``.
    """
    if rows.empty:
        rows = pd.DataFrame(
            {
                "activity_id": pd.Series(dtype=str),
                "outcome_id": pd.Series(dtype=str),
                "confirmed": pd.Series(dtype=bool),
            }
        )
    missing = outcomes_without_delivery(framework, delivery=rows, confirmed="confirmed")
    missing = missing.assign(theme_name=theme_names(missing["theme"]))
    return missing[
        ["outcome_id", "outcome", "theme_name", "accountable", "lead", "illustrative_fields"]
    ].reset_index(drop=True)


def outcome_need(
    ctx: ReportContext, *, framework: OutcomesFramework, level: str | None = None, fallback: str = "imd_score"
) -> pd.DataFrame:
    """Need per outcome and place: the outcome's first indicator with a value in every place.

    An outcome whose indicators are not in the store for every place (not yet defined, or
    withheld) falls back to ``fallback`` (a deprivation score). ``high_is_good`` indicators are
    negated so that higher is always more need.

    Returns
    -------
    DataFrame, one row per outcome and place: ``outcome_id``, ``place_code``, ``place_name``,
    ``need``, ``need_indicator`` and its title as readers know it, ``need_title``.
    """
    level = default_place_level(ctx, level)
    codes = place_codes(ctx, level)
    links = framework.indicators[["outcome_id", "indicator_id", "polarity"]]
    values = indicator_values(ctx, sorted(set(links["indicator_id"]) | {fallback}), level=level, codes=codes)
    wide = values.pivot_table(
        index="indicator", columns="area_code", values="value", aggfunc="first"
    ).reindex(columns=codes)
    complete = wide.index[wide.notna().all(axis=1)]
    usable = links[links["indicator_id"].isin(complete)].drop_duplicates("outcome_id")
    chosen = framework.outcomes[["outcome_id"]].merge(usable, on="outcome_id", how="left")
    chosen["indicator_id"] = chosen["indicator_id"].fillna(fallback)
    chosen["polarity"] = chosen["polarity"].fillna("high_is_bad")
    grid = chosen.merge(pd.DataFrame({"place_code": codes}), how="cross")
    stacked = wide.stack()
    grid["need"] = stacked.reindex(pd.MultiIndex.from_frame(grid[["indicator_id", "place_code"]])).to_numpy(
        float
    )
    grid["need"] = np.where(grid["polarity"] == "high_is_good", -grid["need"], grid["need"])
    grid["place_name"] = grid["place_code"].map(place_names(ctx, level))
    titles = ctx.results.drop_duplicates("indicator").set_index("indicator")["title"]
    grid["need_title"] = grid["indicator_id"].map(titles).fillna(grid["indicator_id"])
    return grid.rename(columns={"indicator_id": "need_indicator"})[
        ["outcome_id", "place_code", "place_name", "need", "need_indicator", "need_title"]
    ]


def delivery_vs_need(rows: pd.DataFrame, *, need: pd.DataFrame, top: float = 0.2) -> pd.DataFrame:
    """Each activity's places against the highest-need places for its outcome.

    Returns
    -------
    DataFrame from :func:`needskit.commissioning.delivery_away_from_need` (``activity_id``,
    ``outcome_id``, ``n_places``, ``n_high_need_places``, ``share_high_need``,
    ``mean_need_percentile``, ``budget_high_need``, ``budget_share_high_need``, ``activity``,
    ``partner``, ``away_from_need``) plus ``need_indicator``, ``need_title`` and ``illustrative``
    (the activity's register entry has made-up fields); empty (same columns, and ``rows``' ``attrs``, with
    ``why_empty``) when nothing is delivered in the area.
    """
    if rows.empty:
        out = pd.DataFrame(columns=_AGAINST_NEED)
        out.attrs.update(rows.attrs)
        if rows.attrs.get("recorded") == 0:
            why_empty(
                out,
                "No delivery to compare with need: nothing is recorded in "
                f"{rows.attrs.get('source', 'the delivery register')} yet.",
            )
        elif rows.attrs.get("why_empty"):
            why_empty(out, f"{rows.attrs['why_empty']} Nothing is compared with need.")
        return out
    out = delivery_away_from_need(rows, need=need[["outcome_id", "place_code", "need"]], top=top)
    chosen = need.drop_duplicates("outcome_id").set_index("outcome_id")
    out["need_indicator"] = out["outcome_id"].map(chosen["need_indicator"])
    out["need_title"] = (
        out["outcome_id"].map(chosen["need_title"]) if "need_title" in chosen else out["need_indicator"]
    )
    out["illustrative"] = (
        out["activity_id"].map(rows.groupby("activity_id")["illustrative"].any()).fillna(False).astype(bool)
    )
    return out[_AGAINST_NEED]


def delivery_need_sentence(table: pd.DataFrame, *, ctx: ReportContext) -> str:
    """How much delivery sits away from the highest-need places."""
    if table.empty and table.attrs.get("recorded") == 0:
        source = table.attrs.get("source", "the delivery register")
        return f"No delivery is recorded in {source} yet, so none can be compared with need."
    if table.empty:
        return (
            f"No activity of the delivery register serves a place in {ctx.area_name}, "
            "so none can be compared with need."
        )
    away = table[table["away_from_need"]]
    text = (
        f"{len(away)} of {len(table)} activity-outcome pairs in {ctx.area_name} serve none of the "
        "highest-need fifth of places for their outcome"
    )
    if len(away):
        text += (
            " ("
            + "; ".join(
                f"{a} → {o}"
                for a, o in zip(away["activity"].head(5), away["outcome_id"].head(5), strict=True)
            )
            + ")"
        )
    budget = table["budget_share_high_need"].dropna()
    if len(budget):
        made_up = f" ({ILLUSTRATIVE_LABEL})" if table["illustrative"].astype(bool).any() else ""
        text += (
            f"; on average {budget.mean():.0%} of an activity's{made_up} budget falls in highest-need places"
        )
    return text + "."
