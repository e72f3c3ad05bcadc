"""What is already delivered against the outcomes, where, and whether it is where need is.

DataFrame in, DataFrame out: the delivery register read by :func:`needskit.config.load_delivery`
is located in the geography (:func:`locate_delivery`), then asked which outcomes have nothing
delivered (:func:`outcomes_without_delivery`), where delivery is (:func:`delivery_matrix`,
:func:`expand_places`), whether it is where need is highest (:func:`delivery_away_from_need`)
and what each partnership is accountable for (:mod:`.delivery_need`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame
from needskit.config.outcomes import OutcomesFramework
from needskit.errors import CatalogError, SchemaError, describe_values

__all__ = [
    "locate_delivery",
    "delivery_matrix",
    "outcomes_without_delivery",
    "expand_places",
    "outcome_table",
    "cell_shares",
]


def locate_delivery(delivery: pd.DataFrame, *, hierarchy: pd.DataFrame) -> pd.DataFrame:
    """Find the places of a delivery register (:func:`needskit.config.load_delivery`) in the geography.

    Parameters
    ----------
    delivery
        Rows with ``place`` (a ward, district or county code or name, as written), ``district``
        (where ward names are looked up, or missing) and ``where`` (file and entry). Not modified.
    hierarchy
        LSOA hierarchy with ``ward``, ``district``, ``county`` and their ``_name`` columns.

    Returns
    -------
    Copy of ``delivery`` with ``place_code``, ``place_name`` and ``place_level`` instead of
    ``place``, ``district`` and ``where``.

    Raises
    ------
    CatalogError
        A place that is not a ward, district or county code or name, or an ambiguous ward name
        (the message names the file and the activity).
    """
    require_frame(delivery, name="delivery")
    require_columns(delivery, ["place", "district", "where"], argument="delivery")
    table = hierarchy
    names: dict[str, tuple[str, str]] = {}  # code -> (name, level)
    for level in ("ward", "district", "county"):
        pairs = table[[level, f"{level}_name"]].dropna().drop_duplicates(level)
        names.update(
            {code: (name, level) for code, name in zip(pairs[level], pairs[f"{level}_name"], strict=True)}
        )
    codes = []
    for place, district, where in delivery[["place", "district", "where"]].itertuples(index=False):
        resolved = (
            None
            if district is None or pd.isna(district)
            else _resolve_district(str(district), table, where=where)
        )
        codes.append(_resolve_place(place, table, names, resolved, where=where))
    out = delivery.drop(columns=["place", "district", "where"]).copy()
    position = list(delivery.columns).index("place")
    out.insert(position, "place_level", [names[c][1] for c in codes])
    out.insert(position, "place_name", [names[c][0] for c in codes])
    out.insert(position, "place_code", codes)
    return out


def _resolve_district(value: str, table: pd.DataFrame, *, where: str) -> str:
    if (table["district"] == value).any():
        return value
    hit = table.loc[table["district_name"] == value, "district"].unique()
    if len(hit) == 1:
        return str(hit[0])
    raise CatalogError("is not a district code or name", where=where, got=repr(value))


def _resolve_place(
    value: Any, table: pd.DataFrame, names: Mapping[str, tuple[str, str]], district: str | None, *, where: str
) -> str:
    text = str(value).strip()
    if text in names:
        return text
    for level in ("district", "county"):
        hit = table.loc[table[f"{level}_name"] == text, level].unique()
        if len(hit) == 1:
            return str(hit[0])
    rows = table if district is None else table[table["district"] == district]
    hit = rows.loc[rows["ward_name"] == text, "ward"].unique()
    if len(hit) == 1:
        return str(hit[0])
    if len(hit) > 1:
        raise CatalogError(
            "is an ambiguous ward name",
            where=where,
            got=f"{text!r} is a ward in {len(hit)} districts",
            hint="give the ward code, or set district: at the top of the file",
        )
    raise CatalogError(
        "is not a known place",
        where=where,
        expected="a ward, district or county code or name" + (f" (wards of {district})" if district else ""),
        got=repr(text),
    )


def outcome_table(
    outcomes: OutcomesFramework | pd.DataFrame | Sequence[str] | None, outcome: str
) -> pd.DataFrame:
    if outcomes is None:
        return pd.DataFrame({outcome: []})
    if isinstance(outcomes, OutcomesFramework):
        return outcomes.outcomes.rename(columns={"outcome_id": outcome})
    if isinstance(outcomes, pd.DataFrame):
        require_columns(outcomes, [outcome], argument="outcomes")
        return outcomes
    return pd.DataFrame({outcome: [str(o) for o in outcomes]})


def cell_shares(
    df: pd.DataFrame, *, outcome: str, place: str | None, activity: str, budget: str | None
) -> pd.DataFrame:
    """One row per activity × outcome (× place) cell with the activity's budget shared equally over
    its cells."""
    require_frame(df, name="delivery")
    keys = [activity, outcome] + ([place] if place else [])
    require_columns(df, keys, argument="activity/outcome/place")
    missing = df[keys].isna().any(axis=1)
    if missing.any():
        raise SchemaError(
            "has rows without an activity, outcome or place",
            where="delivery",
            expected="a value in every key column",
            got=f"{int(missing.sum())} rows, e.g. {list(df.index[missing][:5])}",
        )
    cells = df.drop_duplicates(keys)
    out = cells[keys].copy()
    if budget is not None:
        require_columns(df, [budget], argument="budget")
        values = pd.to_numeric(df[budget], errors="coerce")
        if (values.isna() & df[budget].notna()).any():
            raise SchemaError("is not numeric", where=f"column {budget!r}", expected="£ amounts")
        if (values < 0).any():
            raise SchemaError("has negative values", where=f"column {budget!r}", expected="£ 0 or more")
        per_activity = values.groupby(df[activity]).agg(["min", "max", "count", "size"])
        known = per_activity["count"] > 0
        inconsistent = (known & (per_activity["min"] != per_activity["max"])) | (
            known & (per_activity["count"] < per_activity["size"])
        )
        if inconsistent.any():
            raise SchemaError(
                "differs between rows of the same activity",
                where=f"column {budget!r}",
                expected="the activity's whole budget repeated on each of its rows",
                got=describe_values(per_activity.index[inconsistent].tolist()),
            )
        n_cells = out.groupby(activity)[activity].transform("size").to_numpy(float)
        whole = out[activity].map(per_activity["max"]).to_numpy(float)
        out["budget_share"] = whole / n_cells
    return out


def delivery_matrix(
    df: pd.DataFrame,
    *,
    outcome: str = "outcome_id",
    place: str = "place_code",
    activity: str = "activity_id",
    budget: str | None = "budget_gbp",
    outcomes: OutcomesFramework | pd.DataFrame | Sequence[str] | None = None,
    places: Sequence[str] | None = None,
    values: Literal["n_activities", "budget"] | None = None,
) -> pd.DataFrame:
    """Outcome × place matrix of delivery: how many activities, and how much budget.

    Parameters
    ----------
    df
        Delivery register rows, one per activity, outcome and place (as :func:`load_delivery`
        returns). Not modified.
    outcome, place, activity
        Key columns.
    budget
        Column with each activity's whole budget (the same on all its rows; missing when not
        known), or ``None``.
    outcomes, places
        Every outcome (a framework, a frame with the ``outcome`` column, or ids) and place to
        show, so that cells without delivery appear with 0. Default: those in ``df``.
    values
        ``None`` for a long table; ``"n_activities"`` or ``"budget"`` for a wide matrix
        (outcomes as rows in framework order, places as columns, 0 where nothing is delivered).

    Returns
    -------
    Long (default): one row per outcome and place: ``outcome``, ``place``, ``n_activities``
    (activities serving that outcome there), ``budget`` (their budget shared as below; with
    ``budget``), ``n_budget_unknown`` (activities there without a budget). Wide: the matrix of
    ``values``, indexed by outcome.

    Raises
    ------
    SchemaError
        Missing columns or key values, a budget that is not numeric, negative, or differs
        between the rows of one activity, unknown ``values``.

    Notes
    -----
    An activity counts once in every outcome × place cell it serves, so counts do not add up
    across cells. Its budget is shared equally over its cells (an activity of £60,000 serving
    two outcomes in three wards puts £10,000 in each), so the budget column sums to the total
    known budget.

    Examples
    --------
    >>> delivery_matrix(delivery, outcomes=framework, values="n_activities")  # doctest: +SKIP
    """
    if values not in (None, "n_activities", "budget"):
        raise SchemaError(
            "is not a known option",
            where="values",
            expected="None, 'n_activities' or 'budget'",
            got=repr(values),
        )
    if values == "budget" and budget is None:
        raise SchemaError("needs a budget column", where="values='budget'", expected="budget='budget_gbp'")
    cells = cell_shares(df, outcome=outcome, place=place, activity=activity, budget=budget)
    known = cells["budget_share"].notna() if budget is not None else None
    grouped = cells.groupby([outcome, place], sort=False)
    out = grouped.size().rename("n_activities").to_frame()
    if known is not None:  # a budget column was given
        out["budget"] = grouped["budget_share"].sum(min_count=0)
        out["n_budget_unknown"] = (~known).groupby([cells[outcome], cells[place]], sort=False).sum()
    out = out.reset_index()
    outcome_order = list(
        dict.fromkeys([*outcome_table(outcomes, outcome)[outcome].astype(str), *out[outcome]])
    )
    place_order = list(dict.fromkeys([*(places or []), *sorted(out[place].astype(str))]))
    full = pd.MultiIndex.from_product([outcome_order, place_order], names=[outcome, place]).to_frame(
        index=False
    )
    out[outcome] = out[outcome].astype(str)
    out[place] = out[place].astype(str)
    out = full.merge(out, on=[outcome, place], how="left")
    out["n_activities"] = out["n_activities"].fillna(0).astype("int64")
    if budget is not None:
        out["budget"] = out["budget"].fillna(0.0).astype(float)
        out["n_budget_unknown"] = out["n_budget_unknown"].fillna(0).astype("int64")
    if values is None:
        return out
    wide = out.pivot(index=outcome, columns=place, values=values).reindex(
        index=outcome_order, columns=place_order
    )
    wide.columns.name = place
    return wide


def outcomes_without_delivery(
    outcomes: OutcomesFramework | pd.DataFrame,
    *,
    delivery: pd.DataFrame,
    outcome: str = "outcome_id",
    place: str = "place_code",
    activity: str = "activity_id",
    places: Sequence[str] | None = None,
    confirmed: str | None = None,
) -> pd.DataFrame:
    """Outcomes (or outcome × place pairs) with nothing being delivered.

    Parameters
    ----------
    outcomes
        The framework, or a frame with one row per outcome. Not modified.
    delivery
        Delivery rows (as :func:`load_delivery` returns). Not modified.
    outcome, place, activity
        Key columns.
    places
        When given, check every outcome in each of these places: an outcome delivered in some
        places but not in others is listed for the others.
    confirmed
        Name of a boolean column of ``delivery``: activities with False there (listed with a
        question mark) do not count as delivery.

    Returns
    -------
    DataFrame, in framework order: the outcome table's columns (``outcome_id``, ``aim_id``,
    ``outcome``, ``accountable``, ``lead`` ... for a framework) for outcomes without delivery;
    with ``places``, one row per outcome and place without delivery, plus ``place`` and
    ``n_activities_elsewhere`` (activities serving the outcome in other places).

    Raises
    ------
    SchemaError
        Missing columns, or activities naming outcomes the framework does not have.

    Examples
    --------
    >>> outcomes_without_delivery(framework, delivery=delivery, confirmed="confirmed")  # doctest: +SKIP
    """
    table = outcome_table(outcomes, outcome)
    require_frame(delivery, name="delivery")
    require_columns(delivery, [activity, outcome], argument="delivery columns")
    rows = delivery
    if confirmed is not None:
        require_columns(delivery, [confirmed], argument="confirmed")
        if not pd.api.types.is_bool_dtype(delivery[confirmed]):
            raise SchemaError("is not boolean", where=f"column {confirmed!r}", expected="True/False")
        rows = delivery[delivery[confirmed].to_numpy(dtype=bool)]
    ids = table[outcome].astype(str)
    unknown = ~delivery[outcome].astype(str).isin(ids)
    if unknown.any():
        raise SchemaError(
            "names outcomes the framework does not have",
            where=f"delivery column {outcome!r}",
            expected=f"ids among {ids.tolist()[:10]}",
            got=describe_values(delivery.loc[unknown, outcome].tolist()),
        )
    if places is None:
        delivered = set(rows[outcome].astype(str))
        return table[~ids.isin(delivered).to_numpy()].reset_index(drop=True)
    require_columns(delivery, [place], argument="place")
    per_cell = rows.groupby([rows[outcome].astype(str), rows[place].astype(str)])[activity].nunique()
    per_outcome = rows.groupby(rows[outcome].astype(str))[activity].nunique()
    grid = table.merge(pd.DataFrame({"place": [str(p) for p in places]}), how="cross")
    keys = pd.MultiIndex.from_arrays([grid[outcome].astype(str), grid["place"]])
    here = per_cell.reindex(keys).fillna(0).to_numpy()
    grid["n_activities_elsewhere"] = (
        grid[outcome].astype(str).map(per_outcome).fillna(0).astype("int64").to_numpy()
    )
    return grid[here == 0].reset_index(drop=True)


def expand_places(
    df: pd.DataFrame,
    *,
    to: Literal["ward", "district"] = "ward",
    hierarchy: pd.DataFrame,
    place: str = "place_code",
    within: str | None = None,
) -> pd.DataFrame:
    """Replace places above ``to`` (a district, the county) with the ``to`` areas inside them.

    Parameters
    ----------
    df
        Delivery rows with place codes (wards, districts, the county). Not modified.
    to
        ``"ward"`` or ``"district"``.
    hierarchy
        LSOA hierarchy (``ward``, ``ward_name``, ``district``, ``county`` ... columns), e.g. the
        store's or :meth:`needskit.place.Geography.hierarchy`.
    place
        Column of place codes.
    within
        A district or county code: keep only the ``to`` areas inside it (a county-wide
        activity then counts in the wards of this district only; rows for places outside it are
        dropped).

    Returns
    -------
    Copy of ``df`` where each row whose place is above ``to`` becomes one row per ``to`` area
    inside it; ``place`` holds the new code, ``place_name`` and ``place_level`` (when present)
    are updated, and ``expanded_from`` holds the original code (missing for rows unchanged).
    Budgets (the activity's whole budget on each row) are unchanged. No rows for no rows (a
    delivery register with nothing recorded yet).

    Raises
    ------
    SchemaError
        ``to`` unknown, or places below ``to`` (a ward when ``to="district"``) or unknown codes.

    Notes
    -----
    Lets a district-wide activity count as delivered in each of its wards, for
    :func:`delivery_matrix` and :func:`delivery_away_from_need` at ward level. Those functions
    share an activity's budget over the rows they are given, so after ``within`` a county-wide
    activity's whole budget is shared over the district's wards.

    Examples
    --------
    >>> expand_places(delivery, to="ward", within="E07000081")  # doctest: +SKIP
    """
    require_frame(df, name="delivery")
    require_columns(df, [place], argument="place")
    if to not in ("ward", "district"):
        raise SchemaError("is not a known level", where="to", expected="'ward' or 'district'", got=repr(to))
    table = hierarchy
    order = ["ward", "district", "county"]
    level_of: dict[str, str] = {}
    for level in order:
        level_of.update(dict.fromkeys(table[level].dropna().unique(), level))
    codes = df[place].astype(str)
    levels = codes.map(level_of)
    if levels.isna().any():
        raise SchemaError(
            "has codes that are not wards, districts or counties",
            where=f"column {place!r}",
            got=describe_values(codes[levels.isna()].tolist()),
        )
    below = levels.map(order.index) < order.index(to)
    if below.any():
        raise SchemaError(
            f"has places below {to!r} that cannot be expanded",
            where=f"column {place!r}",
            got=describe_values(codes[below].tolist()),
        )
    children = table[list(dict.fromkeys([to, f"{to}_name", "district", "county"]))].drop_duplicates(to)
    pieces = []
    for level in order[order.index(to) :]:
        part = df[(levels == level).to_numpy()]
        if part.empty:
            continue
        if level == to:
            pieces.append(part.assign(expanded_from=pd.NA))
            continue
        link = children[[level, to, f"{to}_name"]].rename(columns={level: "_parent"})
        merged = part.assign(_parent=part[place].astype(str), _order=np.arange(len(part))).merge(
            link, on="_parent", how="left"
        )
        merged = merged.sort_values(["_order", to], kind="stable")
        merged["expanded_from"] = merged["_parent"]
        merged[place] = merged[to]
        if "place_name" in merged.columns:
            merged["place_name"] = merged[f"{to}_name"]
        if "place_level" in merged.columns:
            merged["place_level"] = to
        pieces.append(merged.drop(columns=["_parent", "_order", to, f"{to}_name"], errors="ignore"))
    out = (
        pd.concat(pieces, ignore_index=False) if pieces else df.assign(expanded_from=pd.Series(dtype=object))
    )
    if within is not None:
        inside = None
        for level in ("district", "county"):
            if (table[level] == within).any():
                inside = set(table.loc[table[level] == within, to])
                break
        if inside is None:
            raise SchemaError("is not a district or county code", where="within", got=repr(within))
        out = out[out[place].astype(str).isin(inside).to_numpy()]
    return out.reset_index(drop=True)
