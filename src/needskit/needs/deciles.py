"""Local deprivation deciles (or quintiles) of a set of areas, 1 = most deprived.

:func:`local_deciles` ranks a set of areas - the LSOAs of a county, or of each district - on an
IMD (or domain) score or rank, for when the national IMD deciles are too coarse. Its output
column feeds :func:`needskit.needs.deprivation.by_deprivation` like a national decile does.
Quantile 1 is the **most deprived**, quantile ``q`` the least deprived (as the IMD deciles).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from needskit._checks import (
    require_choice,
    require_column,
    require_frame,
    require_group_keys,
    require_numeric,
)
from needskit.errors import NeedskitWarning, SchemaError

__all__ = ["local_deciles"]


def local_deciles(
    df: pd.DataFrame,
    *,
    score_or_rank: str,
    q: int = 10,
    by: str | Sequence[str] | None = None,
    kind: Literal["score", "rank"] = "score",
    name: str | None = None,
) -> pd.DataFrame:
    """Local deprivation deciles (or quintiles) of a set of areas, 1 = most deprived.

    Parameters
    ----------
    df
        One row per area, e.g. the LSOAs of a county with their IMD score.
    score_or_rank
        Column to rank: an IMD (or domain) score or a national rank.
    q
        Number of quantiles: 10 for deciles, 5 for quintiles (any whole number from 2).
    by
        Compute quantiles separately within each group (e.g. per district).
    kind
        ``"score"``: a higher value is more deprived (IMD score). ``"rank"``: 1 is the most
        deprived (IMD rank).
    name
        Output column; default ``local_decile`` (q = 10), ``local_quintile`` (q = 5) or
        ``local_quantile``.

    Returns
    -------
    DataFrame
        A copy of ``df`` (same index) with one nullable integer column ``name``: the local
        quantile, 1 = most deprived. It is missing where ``score_or_rank`` is missing or the
        group has fewer than ``q`` values (a :class:`NeedskitWarning` says how many).

    Raises
    ------
    SchemaError
        Missing or non-numeric column, ``q`` below 2, an unknown ``kind``, or a ``name`` that
        already is a column.

    Notes
    -----
    Fingertips' "quantiles within a group" (PHEindicatormethods ``phe_quantile``): with N
    non-missing values ranked ascending (ties take the lowest rank; a score is ranked on its
    negative so that the most deprived ranks first), the quantile is
    ``floor((q + 1) − ceiling(((N + 1) − rank) / (N / q)))`` with 0 set to 1. Applied to the
    national IMD ranks it reproduces the published IMD deciles except for a handful of areas at
    decile boundaries (the IoD uses ``ceiling(rank / (N / 10))``).

    Examples
    --------
    >>> frame = pd.DataFrame({"lsoa": list("ABCDE"), "imd_score": [40.0, 5.0, 22.0, 12.0, 30.0]})
    >>> local_deciles(frame, score_or_rank="imd_score", q=5)["local_quintile"].tolist()
    [1, 5, 3, 4, 2]
    """
    require_frame(df)
    column = require_column(df, score_or_rank, argument="score_or_rank")
    require_numeric(df, [column])
    require_choice(kind, ["score", "rank"], argument="kind")
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 2:
        raise SchemaError(
            "is not a number of quantiles",
            where="q",
            expected="a whole number from 2 (10, 5 ...)",
            got=repr(q),
        )
    keys = require_group_keys(df, by, used=[column])
    out_name = name or {10: "local_decile", 5: "local_quintile"}.get(int(q), "local_quantile")
    if out_name in df.columns:
        raise SchemaError(
            "is already a column of the frame",
            where=f"name={out_name!r}",
            expected="a new column name",
            hint="pass name= or drop the column first",
        )

    values = df[column].astype(float)
    ordered = -values if kind == "score" else values
    if keys:
        grouped = ordered.groupby([df[k] for k in keys], dropna=False, observed=True, sort=False)
        rank = grouped.rank(method="min")
        n_valid = grouped.transform("count")
    else:
        rank = ordered.rank(method="min")
        n_valid = pd.Series(float(ordered.notna().sum()), index=df.index)
    r = rank.to_numpy(dtype=float)
    n = n_valid.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        quantile = np.floor((q + 1) - np.ceil(((n + 1) - r) / (n / q)))
    quantile = np.where(quantile == 0, 1, quantile)
    small = n < q
    quantile = np.where(small | np.isnan(r), np.nan, quantile)

    missing_value = int(values.isna().sum())
    small_rows = int((small & ~np.isnan(r)).sum())
    if missing_value or small_rows:
        parts = []
        if missing_value:
            parts.append(f"{missing_value} rows have no {column}")
        if small_rows:
            parts.append(f"{small_rows} rows are in groups with fewer than {q} values")
        warnings.warn(
            f"local_deciles: {out_name} is missing where " + " and ".join(parts),
            NeedskitWarning,
            stacklevel=2,
        )
    out = df.copy()
    out[out_name] = pd.array(np.where(np.isnan(quantile), pd.NA, quantile), dtype="Int64")
    return out
