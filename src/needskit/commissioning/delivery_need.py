"""Delivery against need, and what each accountable partnership holds.

:func:`delivery_away_from_need` finds delivery that is not where need is highest;
:func:`by_partnership` summarises outcomes, activities, budgets and gaps per accountable
partnership. DataFrame in, DataFrame out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from needskit._checks import require_columns
from needskit.commissioning.delivery import cell_shares
from needskit.config.outcomes import OutcomesFramework
from needskit.errors import SchemaError, describe_values

__all__ = ["delivery_away_from_need", "by_partnership"]


def delivery_away_from_need(
    df: pd.DataFrame,
    *,
    need: pd.Series | pd.DataFrame,
    place: str = "place_code",
    activity: str = "activity_id",
    outcome: str = "outcome_id",
    budget: str | None = "budget_gbp",
    need_col: str = "need",
    top: float = 0.2,
) -> pd.DataFrame:
    """Delivery that is not located where need is highest.

    Parameters
    ----------
    df
        Delivery rows, one per activity, outcome and place, at the level of the need scores
        (use :func:`expand_places` first for district-wide activities). Not modified.
    need
        Need per place (higher = more need): a Series indexed by place code, or a DataFrame with
        ``place`` and ``need_col`` columns, and optionally ``outcome`` for a need per outcome
        (crime for community safety, health deprivation for health ...).
    place, activity, outcome
        Key columns of ``df``.
    budget
        Column with each activity's whole budget, or ``None``.
    need_col
        Value column of a need DataFrame.
    top
        Share of places that count as "highest need" (0.2: the top fifth of places, by need
        rank within the outcome).

    Returns
    -------
    DataFrame, one row per activity and outcome, sorted with the activities furthest from need
    first: ``activity``, ``outcome``, ``n_places``, ``n_high_need_places``,
    ``share_high_need`` (of its places), ``mean_need_percentile`` (of its places: 1 = the
    highest need), ``budget_high_need`` and ``budget_share_high_need`` (its budget shared
    equally over its places; with ``budget``), ``activity`` and ``partner`` (when ``df`` has
    those columns), ``away_from_need`` (True when none of its places
    is among the highest-need places). ``result.attrs["needskit_need"]`` holds ``top``, and the
    high-need places per outcome.

    Raises
    ------
    SchemaError
        Missing columns, places without a need score (expand district-wide activities first),
        missing need values, ``top`` outside (0, 1).

    Notes
    -----
    Need percentile = rank / n over all places scored (ties averaged); a place is high need when
    its percentile is above 1 − ``top``. An activity's places are compared with that set. This
    says where delivery is, not whether it reaches people in need: an activity in a town centre
    may serve the neighbourhoods around it.

    Examples
    --------
    >>> ward_need = ward_imd.set_index("area_code")["imd_score"]  # doctest: +SKIP
    >>> delivery_away_from_need(expand_places(delivery), need=ward_need)  # doctest: +SKIP
    """
    if isinstance(top, bool) or not isinstance(top, int | float) or not 0 < top < 1:
        raise SchemaError(
            "is not a share of places", where="top", expected="a number in (0, 1)", got=repr(top)
        )
    cells = cell_shares(df, outcome=outcome, place=place, activity=activity, budget=budget)
    cells = cells.assign(**{place: cells[place].astype(str), outcome: cells[outcome].astype(str)})
    if isinstance(need, pd.Series):
        scores = pd.DataFrame(
            {place: need.index.astype(str), "_need": need.to_numpy(dtype=float, na_value=np.nan)}
        )
        per_outcome = False
    elif isinstance(need, pd.DataFrame):
        require_columns(need, [place, need_col], argument="need columns")
        per_outcome = outcome in need.columns
        scores = pd.DataFrame(
            {
                place: need[place].astype(str).to_numpy(),
                "_need": pd.to_numeric(need[need_col], errors="coerce"),
            }
        )
        if per_outcome:
            scores[outcome] = need[outcome].astype(str).to_numpy()
    else:
        raise SchemaError(
            "is not a Series or DataFrame", where="need", expected="need per place", got=type(need).__name__
        )
    if scores["_need"].isna().any():
        raise SchemaError(
            "has missing or non-numeric values", where="need", expected="a need score per place"
        )
    key = [outcome, place] if per_outcome else [place]
    if scores.duplicated(key).any():
        raise SchemaError("repeats places", where="need", expected="one score per place (per outcome)")
    group = scores[outcome] if per_outcome else pd.Series(0, index=scores.index)
    scores["_pct"] = scores["_need"].groupby(group).rank(method="average", pct=True)
    scores["_high"] = scores["_pct"] > 1 - top
    merged = cells.merge(scores, on=key, how="left")
    lost = merged["_pct"].isna()
    if lost.any():
        raise SchemaError(
            "has places without a need score",
            where=f"delivery column {place!r}",
            expected="a need score for every place delivered in",
            got=describe_values(merged.loc[lost, place].tolist()),
            hint="expand district- or county-wide activities with expand_places(...), or score those places",
        )
    grouped = merged.groupby([activity, outcome], sort=False)
    out = grouped.agg(
        n_places=(place, "nunique"),
        n_high_need_places=("_high", "sum"),
        mean_need_percentile=("_pct", "mean"),
    ).reset_index()
    out["share_high_need"] = out["n_high_need_places"] / out["n_places"]
    if budget is not None:
        merged["_high_budget"] = merged["budget_share"].where(merged["_high"], 0.0)
        sums = merged.groupby([activity, outcome], sort=False)[["_high_budget", "budget_share"]].sum(
            min_count=1
        )
        out["budget_high_need"] = sums["_high_budget"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            total = sums["budget_share"].to_numpy(float)
            out["budget_share_high_need"] = np.where(
                total > 0, out["budget_high_need"].to_numpy(float) / total, np.nan
            )
    out["away_from_need"] = out["n_high_need_places"] == 0
    out["n_high_need_places"] = out["n_high_need_places"].astype("int64")
    columns = [activity, outcome, "n_places", "n_high_need_places", "share_high_need", "mean_need_percentile"]
    columns += ["budget_high_need", "budget_share_high_need"] if budget is not None else []
    for text in ("activity", "partner"):
        if text in df.columns and text not in (activity, outcome):
            labels = df.drop_duplicates(activity).set_index(activity)[text]
            out[text] = out[activity].map(labels)
            columns.append(text)
    out = out.sort_values(
        ["away_from_need", "share_high_need", "mean_need_percentile", activity, outcome],
        ascending=[False, True, True, True, True],
        kind="stable",
    )[[*columns, "away_from_need"]].reset_index(drop=True)
    high = scores[scores["_high"]]
    out.attrs["needskit_need"] = {
        "top": float(top),
        "high_need_places": (
            {k: sorted(v) for k, v in high.groupby(outcome)[place]}
            if per_outcome
            else {"all": sorted(high[place])}
        ),
    }
    return out


def by_partnership(
    framework: OutcomesFramework,
    *,
    delivery: pd.DataFrame | None = None,
    outcome: str = "outcome_id",
    place: str | None = "place_code",
    activity: str = "activity_id",
    budget: str | None = "budget_gbp",
) -> pd.DataFrame:
    """What each partnership is accountable for, and what is delivered towards it.

    Parameters
    ----------
    framework
        The outcomes framework.
    delivery
        Delivery rows (as :func:`load_delivery` returns), optional.
    outcome, place, activity, budget
        Columns of ``delivery`` (``place`` and ``budget`` may be ``None``).

    Returns
    -------
    DataFrame, one row per partnership (declared ones first, in file order, then any others
    named as accountable): ``partnership``, ``reports_to``, ``n_outcomes``, ``outcome_ids``
    (``"; "``-joined), ``leads`` (lead organisations, ``"; "``-joined), ``n_indicators``,
    ``n_targets`` (indicators with a target), and with ``delivery``: ``n_activities``
    (activities serving its outcomes), ``budget`` (their budget shared over outcomes and places
    as in :func:`delivery_matrix`, summed over its outcomes), ``outcomes_without_delivery``.

    Raises
    ------
    SchemaError
        As :func:`delivery_matrix`.

    Examples
    --------
    >>> by_partnership(framework, delivery=delivery)  # doctest: +SKIP
    """
    outcomes = framework.outcomes
    indicators = framework.indicators.merge(outcomes[["outcome_id", "accountable"]], on="outcome_id")
    names = list(
        dict.fromkeys(
            [*framework.partnerships["partnership"].astype(str), *outcomes["accountable"].astype(str)]
        )
    )
    grouped = outcomes.groupby("accountable", sort=False)
    out = pd.DataFrame({"partnership": names})
    reports = dict(
        zip(framework.partnerships["partnership"], framework.partnerships["reports_to"], strict=True)
    )
    out["reports_to"] = out["partnership"].map(reports).astype("string")
    out["n_outcomes"] = out["partnership"].map(grouped.size()).fillna(0).astype("int64")
    ids = grouped["outcome_id"].agg("; ".join).to_dict()
    leads = grouped["lead"].agg(lambda s: "; ".join(dict.fromkeys(s))).to_dict()
    out["outcome_ids"] = [ids.get(p, "") for p in out["partnership"]]
    out["leads"] = [leads.get(p, "") for p in out["partnership"]]
    per = indicators.groupby("accountable")
    out["n_indicators"] = out["partnership"].map(per.size()).fillna(0).astype("int64")
    out["n_targets"] = out["partnership"].map(per["target_value"].count()).fillna(0).astype("int64")
    if delivery is None:
        return out
    cells = cell_shares(delivery, outcome=outcome, place=place, activity=activity, budget=budget)
    cells = cells.assign(**{outcome: cells[outcome].astype(str)}).merge(
        outcomes[["outcome_id", "accountable"]].rename(columns={"outcome_id": outcome}),
        on=outcome,
        how="left",
    )
    if cells["accountable"].isna().any():
        raise SchemaError(
            "names outcomes the framework does not have",
            where=f"delivery column {outcome!r}",
            got=describe_values(cells.loc[cells["accountable"].isna(), outcome].tolist()),
        )
    per_delivery = cells.groupby("accountable")
    out["n_activities"] = out["partnership"].map(per_delivery[activity].nunique()).fillna(0).astype("int64")
    if budget is not None:
        out["budget"] = out["partnership"].map(per_delivery["budget_share"].sum()).fillna(0.0).astype(float)
    delivered = set(cells[outcome])
    missing = (
        outcomes[~outcomes["outcome_id"].isin(delivered)].groupby("accountable")["outcome_id"].agg("; ".join)
    )
    missing_ids = missing.to_dict()
    out["outcomes_without_delivery"] = [missing_ids.get(p, "") for p in out["partnership"]]
    return out
