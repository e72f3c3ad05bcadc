"""Gaps: need against provision per area (and theme), by quadrant, with a ranked list of gaps."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame, require_numeric
from needskit.errors import SchemaError, describe_values

__all__ = ["gaps", "QUADRANTS"]

QUADRANTS = ("gap", "possible over-provision", "aligned high", "aligned low")
"""Need versus provision: high need & low provision, low need & high provision, both high, both low."""


def gaps(
    df: pd.DataFrame,
    *,
    need: str,
    provision: str,
    area: str = "area_code",
    theme: str | None = None,
    threshold: Literal["median"] | float | tuple[float, float] = "median",
) -> pd.DataFrame:
    """Need versus provision per area (and theme): quadrants and a ranked list of gaps.

    Parameters
    ----------
    df
        One row per area (per theme) with a need measure (higher = more need, e.g. an IMD score
        or a rate of the problem) and a provision measure (higher = more provision, e.g.
        ``supply_per_1000`` from :func:`needskit.resources.supply_per_head`, or spend per head).
        Areas without provision must be present with 0. Not modified.
    need, provision
        The two numeric columns.
    area
        Column naming the areas (unique within a theme).
    theme
        Column to compare within (each theme has its own thresholds and ranks); ``None`` for one
        comparison over all rows.
    threshold
        Where "high" starts, as a quantile within the theme: ``"median"`` (0.5), a quantile in
        (0, 1) for both measures (0.75: high means the top quarter), or a pair ``(need_q,
        provision_q)``. A value is high when it is strictly above the threshold value.

    Returns
    -------
    DataFrame, one row per input row: ``area``, ``theme`` (when given), ``need``, ``provision``
    (the input columns), ``need_percentile`` and ``provision_percentile`` (rank / n within the
    theme, ties averaged), ``need_threshold`` and ``provision_threshold`` (the values high must
    exceed), ``threshold_rule`` (e.g. ``"above the median within theme"``), ``high_need``,
    ``high_provision``, ``quadrant`` (one of :data:`QUADRANTS`), ``gap_score``
    (need_percentile − provision_percentile) and ``gap_rank`` (1 = the largest gap in its theme;
    missing unless the quadrant is ``"gap"``). Sorted by theme, then gaps by rank, then the other
    rows by descending ``gap_score``. ``result.attrs["needskit_gaps"]`` holds the rule and the
    thresholds per theme.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, missing values, areas repeated within a theme, fewer than
        three areas in a theme, a threshold outside (0, 1).

    Notes
    -----
    The quadrant method of need-versus-supply mapping (a scatter of need against provision cut
    at the medians): "gap" = high need and low provision; "possible over-provision" = low need and
    high provision; otherwise "aligned high" or "aligned low". Gaps are ranked by how much higher
    an area stands on need than on provision (difference of percentiles), ties broken by higher
    need and then by area code. Thresholds are relative (quantiles within the study area): a
    "gap" is a gap compared with the other areas, not against a standard. "Possible
    over-provision" may be deliberate (a town-centre service used by surrounding areas).

    Examples
    --------
    >>> gaps(table, need="imd_score", provision="supply_per_1000", theme="theme")  # doctest: +SKIP
    """
    require_frame(df)
    group_cols = [theme] if theme is not None else []
    require_columns(df, [area, need, provision, *group_cols], argument="area/need/provision/theme")
    require_numeric(df, [need, provision], allow_missing=False)
    q_need, q_prov, rule = _quantiles(threshold)
    keys = [*group_cols, area]
    repeated = df.duplicated(keys, keep=False)
    if repeated.any():
        raise SchemaError(
            "repeats areas" + (" within a theme" if theme else ""),
            where=f"area={area!r}",
            expected="one row per area" + (" and theme" if theme else ""),
            got=describe_values(df.loc[repeated, area].tolist()),
        )
    out = df[[area, *group_cols, need, provision]].reset_index(drop=True)
    group = out[theme] if theme is not None else pd.Series(0, index=out.index)
    sizes = group.map(group.value_counts())
    if (sizes < 3).any():
        raise SchemaError(
            "has too few areas to compare",
            where=f"theme={theme!r}" if theme else "df",
            expected="three or more areas per theme",
            got=describe_values(group[sizes < 3].astype(str).tolist()),
        )
    grouped_need = out[need].astype(float).groupby(group)
    grouped_prov = out[provision].astype(float).groupby(group)
    out["need_percentile"] = grouped_need.rank(method="average", pct=True)
    out["provision_percentile"] = grouped_prov.rank(method="average", pct=True)
    out["need_threshold"] = group.map(grouped_need.quantile(q_need)).astype(float)
    out["provision_threshold"] = group.map(grouped_prov.quantile(q_prov)).astype(float)
    out["threshold_rule"] = rule + (" within theme" if theme else "")
    out["high_need"] = out[need].astype(float) > out["need_threshold"]
    out["high_provision"] = out[provision].astype(float) > out["provision_threshold"]
    hn, hp = out["high_need"].to_numpy(), out["high_provision"].to_numpy()
    out["quadrant"] = np.select([hn & ~hp, ~hn & hp, hn & hp], list(QUADRANTS[:3]), default=QUADRANTS[3])
    # from the ranks, so that equal differences tie exactly (no floating-point noise)
    need_rank, prov_rank = grouped_need.rank(method="average"), grouped_prov.rank(method="average")
    out["gap_score"] = (need_rank - prov_rank) / sizes.astype(float)
    is_gap = out["quadrant"].to_numpy() == "gap"
    order_key = out.assign(
        _gap=~is_gap, _score=-out["gap_score"], _need=-out[need].astype(float), _group=group.to_numpy()
    ).sort_values(["_group", "_gap", "_score", "_need", area], kind="stable")
    ranks = pd.Series(np.nan, index=out.index)
    gap_rows = order_key[~order_key["_gap"]]
    ranks.loc[gap_rows.index] = gap_rows.groupby("_group").cumcount().to_numpy() + 1
    out["gap_rank"] = ranks.astype("Int64")
    out = out.loc[order_key.index].reset_index(drop=True)
    thresholds = (
        out.groupby(theme if theme else (lambda _: "all"))[["need_threshold", "provision_threshold"]]
        .first()
        .to_dict("index")
    )
    out.attrs["needskit_gaps"] = {
        "threshold_rule": rule + (" within theme" if theme else ""),
        "need_quantile": q_need,
        "provision_quantile": q_prov,
        "thresholds": thresholds,
    }
    return out


def _quantiles(threshold: Any) -> tuple[float, float, str]:
    if threshold == "median":
        return 0.5, 0.5, "above the median"
    pair = threshold if isinstance(threshold, tuple) else (threshold, threshold)
    ok = len(pair) == 2 and all(
        isinstance(q, int | float | np.floating) and not isinstance(q, bool) and 0 < q < 1 for q in pair
    )
    if not ok:
        raise SchemaError(
            "is not a usable threshold",
            where="threshold",
            expected="'median', a quantile in (0, 1), or a pair (need_quantile, provision_quantile)",
            got=repr(threshold),
        )
    q_need, q_prov = float(pair[0]), float(pair[1])
    if q_need == q_prov:
        return q_need, q_prov, f"above the {q_need:g} quantile"
    return q_need, q_prov, f"need above the {q_need:g} quantile, provision above the {q_prov:g} quantile"
