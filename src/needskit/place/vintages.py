"""Moving counts between 2011 and 2021 LSOAs with the ONS best-fit change codes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from needskit._checks import as_list, isin, require_columns, require_frame, require_numeric
from needskit._rounding import largest_remainder
from needskit.errors import GeographyError, SchemaError, describe_values
from needskit.place.aggregate import key_columns
from needskit.place.areas import check_codes
from needskit.place.geography import Geography, check_vintage

__all__ = ["convert_vintage"]

# --------------------------------------------------------------------------------------------
# 2011 <-> 2021 LSOAs


def convert_vintage(
    df: pd.DataFrame,
    *,
    code_col: str,
    value_cols: str | Sequence[str],
    geography: Geography,
    from_vintage: int = 2011,
    to_vintage: int = 2021,
    weights: Literal["population", "area", "equal"] | pd.Series = "population",
    path_col: str | None = "conversion",
    by: str | Sequence[str] | None = None,
    intensive: bool | str | Sequence[str] = False,
) -> pd.DataFrame:
    """Move counts between 2011 and 2021 LSOAs with the ONS best-fit change codes.

    ``U`` (unchanged) rows are copied; ``S`` (a 2011 LSOA split into several 2021 LSOAs) are
    apportioned to the new LSOAs by ``weights``; ``M`` (several merged into one) are summed; ``X``
    (irregular, many-to-many) are apportioned then summed. Converting 2021 → 2011 reverses the roles.

    Parameters
    ----------
    df
        One row per LSOA and key (text columns such as ``period``; see ``by``).
    geography
        The reference geography: its LSOA change lookup, populations and boundaries.
    weights
        ``"population"`` (the geography's residents of the target LSOAs: Census 2021 usual
        residents, or mid-2020 estimates for 2011 targets), ``"area"`` (where the geography has
        boundaries of the target vintage), ``"equal"``, or a Series of weights indexed by target
        LSOA code.
    path_col
        Name of an output column saying which path each row took (``U``, ``S``, ``M``, ``X``);
        ``None`` to leave it out.
    by
        Grouping keys besides the LSOA; default: every text, category, boolean or date column.
    intensive
        Value columns that are rates, scores or classes rather than counts (``True`` for all):
        the children of a split inherit the parent's value; a merged LSOA takes the mean of its
        parents weighted by their population (``weights="population"``) or equally otherwise.

    Returns
    -------
    DataFrame on the target LSOAs with the same columns (plus ``path_col``). Integer columns stay
    integers: splits use the largest-remainder method, so every source row's parts add up to it
    exactly and totals are conserved exactly. ``result.attrs["conversion_report"]`` counts rows
    in and out by path: ``{"U": {"rows_in": 354, "rows_out": 354}, "S": {...}, ...}``.

    Raises
    ------
    GeographyError
        Codes not of ``from_vintage``, or a vintage pair that is not 2011/2021.
    """
    require_frame(df)
    value_cols = as_list(value_cols)
    require_columns(df, [code_col], argument="code_col")
    require_columns(df, value_cols, argument="value_cols")
    require_numeric(df, value_cols)
    check_vintage(from_vintage)
    check_vintage(to_vintage)
    if from_vintage == to_vintage:
        raise GeographyError(
            "from and to vintages are the same",
            where="to_vintage",
            expected="2011 -> 2021 or 2021 -> 2011",
            got=str(to_vintage),
        )
    keys = key_columns(df, code_col, value_cols, by)
    if path_col and path_col in df.columns:
        raise SchemaError(
            "output column already exists", where=f"path_col={path_col!r}", hint="pass another name"
        )
    check_codes(df[code_col], "lsoa", from_vintage, geography=geography)

    change = geography.changes()
    src, dst = ("lsoa11_code", "lsoa21_code") if from_vintage == 2011 else ("lsoa21_code", "lsoa11_code")
    pairs = (
        change[[src, dst, "change_code"]]
        .drop_duplicates()
        .rename(columns={src: "__nk_src", dst: "__nk_dst", "change_code": "__nk_path"})
    )
    if from_vintage == 2021:
        pairs["__nk_path"] = pairs["__nk_path"].map({"U": "U", "S": "M", "M": "S", "X": "X"})
    pairs = pairs[isin(pairs["__nk_src"], set(df[code_col]))]

    if isinstance(weights, pd.Series):
        w = weights.astype(float)
    elif weights == "population":
        w = geography.population(to_vintage)
    elif weights == "area":
        w = geography.boundaries("lsoa", to_vintage).set_index("area_code").geometry.area
    elif weights == "equal":
        w = pd.Series(1.0, index=pairs["__nk_dst"].unique())
    else:
        raise GeographyError(
            "unknown weights",
            where="weights",
            expected="'population', 'area', 'equal' or a Series",
            got=repr(weights),
        )
    pairs["__nk_w"] = pairs["__nk_dst"].map(w)
    missing = pairs.loc[pairs["__nk_w"].isna(), "__nk_dst"]
    if len(missing):
        raise GeographyError(
            "no weight for target LSOAs",
            where="weights",
            expected="a weight for every target LSOA",
            got=describe_values(missing.tolist()),
            hint="area weights exist only where the geography has boundaries; use weights='population'",
        )
    total = pairs.groupby("__nk_src")["__nk_w"].transform("sum")
    n_targets = pairs.groupby("__nk_src")["__nk_dst"].transform("size")
    pairs["__nk_share"] = np.where(total > 0, pairs["__nk_w"] / total.where(total > 0, 1.0), 1.0 / n_targets)

    joined = df.merge(pairs, left_on=code_col, right_on="__nk_src", how="left", validate="many_to_many")
    # a left merge keeps the input order, so each input row's targets are contiguous
    targets_per_row = df[code_col].map(pairs.groupby("__nk_src").size()).to_numpy().astype(int)
    source_row = np.repeat(np.arange(len(df)), targets_per_row)
    if intensive is True:
        intensive_cols = set(value_cols)
    else:
        intensive_cols = set(as_list(intensive or None))
    unknown = intensive_cols - set(value_cols)
    if unknown:
        raise SchemaError(
            "names columns that are not value columns", where="intensive", got=str(sorted(unknown))
        )
    if intensive_cols:
        source_weight = (
            joined["__nk_src"].map(geography.population(from_vintage)).fillna(0.0).to_numpy()
            if isinstance(weights, str) and weights == "population"
            else np.ones(len(joined))
        )
        # inheritance weight: a split child sees only its parent; a merge weighs its parents
        joined["__nk_iw"] = np.where(
            joined["__nk_path"].isin(["M", "X"]), source_weight * joined["__nk_share"].to_numpy(), 1.0
        )
    for column in value_cols:
        values = joined[column].to_numpy(dtype=float)
        if column in intensive_cols:
            present = ~np.isnan(values)
            joined[column] = np.where(present, values * joined["__nk_iw"].to_numpy(), 0.0)
            joined[f"__nk_iw_{column}"] = np.where(present, joined["__nk_iw"].to_numpy(), 0.0)
            continue
        if pd.api.types.is_integer_dtype(df[column]):
            whole = np.nan_to_num(values)
            totals = np.zeros(len(df))
            totals[source_row] = whole  # each source row's parts add up to the source row
            split = largest_remainder(
                whole * joined["__nk_share"].to_numpy(), totals=totals, groups=source_row
            )
            joined[column] = split.astype(np.int64)
        else:
            joined[column] = values * joined["__nk_share"].to_numpy()
    joined[code_col] = joined["__nk_dst"]
    agg = {column: "sum" for column in value_cols}
    agg.update({f"__nk_iw_{column}": "sum" for column in intensive_cols})
    grouped = joined.groupby([code_col] + keys, dropna=False, sort=True)
    out = grouped.agg(agg)
    # a target reached by several paths (possible only with irregular changes) is "X"
    out["__nk_path"] = grouped["__nk_path"].first().where(grouped["__nk_path"].nunique() == 1, "X")
    out = out.reset_index()
    for column in value_cols:
        if column in intensive_cols:
            total = out.pop(f"__nk_iw_{column}")
            out[column] = np.where(total > 0, out[column] / total.where(total > 0, 1.0), np.nan)
        elif pd.api.types.is_integer_dtype(df[column]):
            out[column] = out[column].astype(df[column].dtype)
    path_of_source = pairs.drop_duplicates("__nk_src").set_index("__nk_src")["__nk_path"]
    report = pd.DataFrame({"path": ["U", "S", "M", "X"]})
    report["rows_in"] = (
        report["path"].map(df[code_col].map(path_of_source).value_counts()).fillna(0).astype(int)
    )
    report["rows_out"] = report["path"].map(out["__nk_path"].value_counts()).fillna(0).astype(int)
    if path_col:
        out = out.rename(columns={"__nk_path": path_col})
    else:
        out = out.drop(columns="__nk_path")
    out = out[[code_col] + keys + value_cols + ([path_col] if path_col else [])]
    # a plain dict: DataFrames in attrs break pd.concat of the results
    out.attrs["conversion_report"] = report.set_index("path").to_dict("index")
    return out
