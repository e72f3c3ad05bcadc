"""Priority flags: the most deprived 10% and 20% of areas, and double disadvantage.

:func:`priority_flags` marks the most deprived 10% and 20% of areas nationally and locally (the
"deprived 20%" and "most disadvantaged neighbourhoods" of partnership papers), and
:func:`double_disadvantage` marks areas in the worst decile of two indices at once. Local deciles
follow the rule of :func:`needskit.needs.index.combine_domains`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from needskit._checks import require_columns, require_frame, require_numeric
from needskit.errors import SchemaError, describe_values
from needskit.needs.index import quantile_of_rank

__all__ = ["priority_flags", "double_disadvantage"]


# --------------------------------------------------------------------------------------------
# Priority flags


def priority_flags(
    df: pd.DataFrame,
    *,
    national_decile: str | None = None,
    local_rank: str | None = None,
    within: str | None = None,
) -> pd.DataFrame:
    """Flag the most deprived 10% and 20% of areas nationally and locally.

    Parameters
    ----------
    df
        One row per area.
    national_decile
        Column of national deciles, 1 = most deprived 10% of areas in England (e.g.
        ``"imd_decile"`` from :func:`~needskit.partner_data.ingest.iod.read_iod2019_domain_ranks`,
        or ``"decile"`` from :func:`~needskit.needs.index.combine_domains` run on all of England).
        Integers 1-10.
    local_rank
        Column ordering the areas by need, lower = more deprived (a rank where 1 = most deprived:
        a national IMD rank, or ``"rank"`` from a local
        :func:`~needskit.needs.index.combine_domains`). The areas are
        re-ranked among the rows of ``df`` (or within each ``within`` group), so national ranks
        of a county's areas give the county's own most deprived 10% and 20%.
    within
        Optional group column (e.g. district) for local flags per group instead of over the frame.

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with boolean columns added: ``most_deprived_10pct_national`` (decile 1)
        and ``most_deprived_20pct_national`` (deciles 1-2) when ``national_decile`` is given;
        ``most_deprived_10pct_local`` and ``most_deprived_20pct_local`` when ``local_rank`` is.

    Raises
    ------
    SchemaError
        Neither column given; a column is missing, not numeric or has missing values; a national
        decile is not an integer 1-10; ``within`` is given without ``local_rank``; an output
        column already exists.

    Notes
    -----
    Local position k among n areas (ties share the better position, so tied areas are flagged
    together); local decile = ceil(10 k / n), the same rule as
    :func:`~needskit.needs.index.combine_domains`; the 10% flag is local decile 1 and the 20% flag
    deciles 1-2. A group of fewer than 10 areas has no area in its local decile 1 (the 10% of a
    handful of areas is less than one).

    Examples
    --------
    >>> df = pd.DataFrame({"imd_decile": [1, 2, 5, 9], "imd_rank": [100, 5000, 15000, 30000]})
    >>> priority_flags(df, national_decile="imd_decile")["most_deprived_20pct_national"].tolist()
    [True, True, False, False]
    """
    df = require_frame(df)
    if national_decile is None and local_rank is None:
        raise SchemaError(
            "no index to flag from",
            where="priority_flags",
            expected="national_decile and/or local_rank",
            got="neither",
        )
    if within is not None and local_rank is None:
        raise SchemaError(
            "groups local flags but no local_rank was given",
            where=f"within={within!r}",
            expected="local_rank as well",
            got="local_rank=None",
        )
    used = [c for c in (national_decile, local_rank, within) if c is not None]
    require_columns(df, used, argument="national_decile/local_rank/within")
    new = []
    if national_decile is not None:
        new += ["most_deprived_10pct_national", "most_deprived_20pct_national"]
    if local_rank is not None:
        new += ["most_deprived_10pct_local", "most_deprived_20pct_local"]
    _refuse_existing(df, new)
    out = df.copy()
    if national_decile is not None:
        decile = _check_deciles(df, national_decile, argument="national_decile")
        out["most_deprived_10pct_national"] = decile == 1
        out["most_deprived_20pct_national"] = decile <= 2
    if local_rank is not None:
        require_numeric(df, [local_rank], allow_missing=False)
        if within is not None and df[within].isna().any():
            rows = df.index[df[within].isna()].tolist()
            raise SchemaError(
                "has missing values",
                where=f"within={within!r}",
                expected="a group for every area",
                got=f"{len(rows)} missing, e.g. at rows {rows[:5]}",
            )
        values = df[local_rank].to_numpy(dtype=float)
        groups = pd.factorize(df[within])[0] if within is not None else np.zeros(len(df), dtype=np.int64)
        position, sizes = _min_rank_within_groups(groups, values)
        local_decile = quantile_of_rank(position, sizes, 10)
        out["most_deprived_10pct_local"] = local_decile == 1
        out["most_deprived_20pct_local"] = local_decile <= 2
    return out


def _min_rank_within_groups(groups: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank ascending within groups, ties sharing the lowest rank ("min"), with group sizes."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.ones(0, dtype=np.int64)
    order = np.lexsort((values, groups))
    g, v = groups[order], values[order]
    new_group = np.r_[True, g[1:] != g[:-1]]
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.r_[starts, n])
    position = np.arange(n) - np.repeat(starts, sizes) + 1
    # Within a run of equal values, every member takes the first member's position.
    new_value = new_group | np.r_[True, v[1:] != v[:-1]]
    first_of_run = np.maximum.accumulate(np.where(new_value, np.arange(n), 0))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = position[first_of_run]
    group_size = np.empty(n, dtype=np.int64)
    group_size[order] = np.repeat(sizes, sizes)
    return ranks, group_size


def double_disadvantage(
    df: pd.DataFrame,
    *,
    first: str,
    second: str,
    worst: int = 1,
    column: str = "double_disadvantage",
) -> pd.DataFrame:
    """Flag areas in the worst deciles of two indices at once.

    Parameters
    ----------
    df
        One row per area.
    first, second
        Decile columns of the two indices, 1 = most deprived 10% (e.g. ``"imd_decile"`` and the
        ``"decile"`` of a local health index).
    worst
        How many of the worst deciles count: 1 (default) = the most deprived 10% of both,
        2 = the most deprived 20% of both.
    column
        Name of the flag column.

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with the boolean column ``column`` (default ``double_disadvantage``):
        True where ``first <= worst`` and ``second <= worst``.

    Raises
    ------
    SchemaError
        A column is missing, not numeric or has missing values; a decile is not an integer 1-10;
        ``first`` equals ``second``; ``worst`` is not an integer 1-10; ``column`` already exists.

    Examples
    --------
    >>> df = pd.DataFrame({"imd_decile": [1, 1, 2], "health_decile": [1, 3, 1]})
    >>> double_disadvantage(df, first="imd_decile", second="health_decile")["double_disadvantage"].tolist()
    [True, False, False]
    """
    df = require_frame(df)
    if first == second:
        raise SchemaError(
            "compares an index with itself",
            where="first/second",
            expected="two different decile columns",
            got=f"first={first!r}, second={second!r}",
        )
    if (
        isinstance(worst, (bool, np.bool_))
        or not isinstance(worst, (int, np.integer))
        or not 1 <= worst <= 10
    ):
        raise SchemaError(
            "is not a number of deciles", where="worst", expected="an integer from 1 to 10", got=repr(worst)
        )
    require_columns(df, [first, second], argument="first/second")
    _refuse_existing(df, [column])
    a = _check_deciles(df, first, argument="first")
    b = _check_deciles(df, second, argument="second")
    out = df.copy()
    out[column] = (a <= worst) & (b <= worst)
    return out


def _check_deciles(df: pd.DataFrame, column: str, *, argument: str) -> np.ndarray:
    require_numeric(df, [column], allow_missing=False)
    values = df[column].to_numpy(dtype=float)
    bad = ~np.isin(values, np.arange(1, 11))
    if bad.any():
        raise SchemaError(
            "holds values that are not deciles",
            where=f"{argument}={column!r}",
            expected="integers 1-10, 1 = most deprived",
            got=f"{describe_values(values[bad].tolist())} at rows {df.index[bad][:5].tolist()}",
        )
    return values.astype(np.int64)


def _refuse_existing(df: pd.DataFrame, columns: list[str]) -> None:
    existing = [c for c in columns if c in df.columns]
    if existing:
        raise SchemaError(
            "output columns already exist",
            where=f"{existing}",
            expected="new column names",
            got=f"columns {existing} in the frame",
            hint="drop them first, or pass a different name",
        )
