"""Aggregation up the hierarchy (LSOA → ward → district → county ...) or onto custom places."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from needskit._checks import as_list, require_columns, require_frame, require_numeric
from needskit.errors import GeographyError, SchemaError
from needskit.place.areas import check_codes, infer_level, lookup
from needskit.place.geography import CustomPlaces, Geography, check_level, check_vintage

__all__ = ["aggregate", "key_columns", "NON_ADDITIVE"]

NON_ADDITIVE = re.compile(
    r"(rate|ratio|score|rank|decile|quintile|percent|pct|prop|proportion|share|mean|median|average|index|per_)",
    re.IGNORECASE,
)
_AGG_METHODS = ("sum", "min", "max", "mean")


def key_columns(
    df: pd.DataFrame, code_col: str, value_cols: list[str], by: str | Sequence[str] | None
) -> list[str]:
    """Grouping keys of a long frame besides the area code (shared by aggregate, convert_vintage, apportion).

    ``by=None``: every text, categorical, boolean or date column is a key (``period``,
    ``category``, ``dataset`` ...). A numeric column that is neither a value nor named in ``by``
    is refused rather than silently used as a key or dropped.
    """
    if by is not None:
        keys = as_list(by)
        require_columns(df, keys, argument="by")
        return [k for k in keys if k != code_col]
    keys = [c for c in df.columns if c != code_col and c not in value_cols]
    numeric = [
        c for c in keys if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
    ]
    if numeric:
        raise SchemaError(
            "has numeric columns that are neither values nor keys",
            where=f"columns {numeric[:5]}" + (f" and {len(numeric) - 5} more" if len(numeric) > 5 else ""),
            expected="counts listed in value_cols, or keys named in by=",
            got=f"{len(numeric)} unlisted numeric column(s)",
            hint="add them to value_cols, name the keys with by=[...], or drop them first",
        )
    return keys


def aggregate(
    df: pd.DataFrame,
    *,
    to: str | CustomPlaces,
    geography: Geography,
    code_col: str = "area_code",
    value_cols: str | Sequence[str],
    vintage: int = 2021,
    from_level: str | None = None,
    how: Mapping[str, str] | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sum counts up the hierarchy (LSOA → ward → district → county ...) or onto custom places.

    Parameters
    ----------
    df
        One row per area and key (e.g. ``period`` or ``category``).
    to
        Target level, or a :class:`CustomPlaces`.
    geography
        The partnership's reference geography (its lookups say which area lies in which).
    code_col
        Column holding the area codes.
    value_cols
        Columns to aggregate. They are summed; a column whose name says it is not a count
        (rate, ratio, score, rank, decile, proportion, share, mean, index ...) is refused unless
        ``how`` says what to do with it.
    from_level
        Level of ``code_col``; inferred from the codes when omitted.
    how
        Per column ``"sum"``, ``"min"``, ``"max"``, ``"mean"`` or ``"mean:<weight column>"``
        (population-weighted mean).
    by
        Grouping keys besides the area; default: every text, category, boolean or date column.

    Returns
    -------
    DataFrame with ``code_col`` (the target codes), ``area_name``, ``level``, the key columns and
    the value columns.

    Raises
    ------
    SchemaError, GeographyError
        Missing columns, non-additive columns without ``how``, unknown codes, non-nesting levels.

    Examples
    --------
    >>> aggregate(crimes, to="district", value_cols="n")  # doctest: +SKIP
    """
    require_frame(df)
    value_cols = as_list(value_cols)
    how = dict(how or {})
    require_columns(df, [code_col], argument="code_col")
    require_columns(df, value_cols, argument="value_cols")
    unknown_how = [c for c in how if c not in value_cols]
    if unknown_how:
        raise SchemaError("names columns that are not in value_cols", where="how", got=str(unknown_how))
    weights_needed = []
    for column in value_cols:
        method = how.get(column)
        if method is None and NON_ADDITIVE.search(column):
            raise SchemaError(
                "looks non-additive and cannot simply be summed",
                where=f"value column {column!r}",
                expected="a count, or how={column!r: 'mean:<population column>'} (or 'min'/'max'/'sum')",
                got="no aggregation method",
                hint="rates and scores are recomputed from summed numerators and denominators",
            )
        if method is not None:
            base, _, weight = method.partition(":")
            if base not in _AGG_METHODS or (weight and base != "mean"):
                raise SchemaError(
                    "unknown method",
                    where=f"how[{column!r}]",
                    expected="sum, min, max, mean or mean:<col>",
                    got=repr(method),
                )
            if weight:
                require_columns(df, [weight], argument=f"how[{column!r}] weight")
                weights_needed.append(weight)
    require_numeric(df, value_cols + weights_needed)
    keys = key_columns(df, code_col, value_cols + [w for w in weights_needed if w not in value_cols], by)

    if isinstance(to, CustomPlaces):
        if from_level not in (None, "lsoa"):
            raise GeographyError(
                "custom places are built from LSOAs",
                where="from_level",
                expected="'lsoa'",
                got=repr(from_level),
            )
        check_codes(df[code_col], "lsoa", to.vintage, geography=geography)
        mapping = to.members.rename(
            columns={"lsoa_code": "__nk_from", "area_code": "__nk_to", "weight": "__nk_share"}
        )
        names = to.areas.set_index("area_code")["area_name"]
        level_name = to.name
    else:
        check_level(to, argument="to")
        check_vintage(vintage)
        from_level = from_level or infer_level(df[code_col], geography=geography, vintage=vintage)
        check_codes(df[code_col], from_level, vintage, geography=geography)
        if from_level == to:
            mapping = pd.DataFrame(
                {"__nk_from": df[code_col].unique(), "__nk_to": df[code_col].unique(), "__nk_share": 1.0}
            )
        else:
            table = lookup(from_level, to, geography=geography, vintage=vintage)
            mapping = table.rename(columns={f"{from_level}_code": "__nk_from", f"{to}_code": "__nk_to"})[
                ["__nk_from", "__nk_to"]
            ]
            mapping["__nk_share"] = 1.0
        names = geography.hierarchy(vintage, copy=False).drop_duplicates(to).set_index(to)[f"{to}_name"]
        level_name = to

    joined = df.merge(mapping, left_on=code_col, right_on="__nk_from", how="inner", validate="many_to_many")
    fractional = (joined["__nk_share"] != 1.0).any()
    pieces = []
    group_keys = ["__nk_to"] + keys
    for column in value_cols:
        base, _, weight = how.get(column, "sum").partition(":")
        if base == "sum":
            values = joined[column] * joined["__nk_share"] if fractional else joined[column]
            pieces.append(
                values.groupby([joined[k] for k in group_keys], dropna=False).sum(min_count=1).rename(column)
            )
        elif base in ("min", "max"):
            pieces.append(joined.groupby(group_keys, dropna=False)[column].agg(base))
        elif weight:
            w = joined[weight] * joined["__nk_share"]
            num = (joined[column] * w).groupby([joined[k] for k in group_keys], dropna=False).sum()
            den = w.where(joined[column].notna()).groupby([joined[k] for k in group_keys], dropna=False).sum()
            pieces.append((num / den.replace(0, np.nan)).rename(column))
        else:
            pieces.append(joined.groupby(group_keys, dropna=False)[column].mean())
    out = pd.concat(pieces, axis=1).reset_index().rename(columns={"__nk_to": code_col})
    out.insert(1, "area_name", out[code_col].map(names))
    out.insert(2, "level", level_name)
    return out.sort_values([code_col] + keys, ignore_index=True)
