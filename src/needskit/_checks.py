"""Shared input checks: validate first, once, and say what arrived."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from needskit.errors import GeographyError, SchemaError, describe_values

BNG = "EPSG:27700"
"""British National Grid: the CRS every area, point and distance in needskit is held in."""
GB_BNG_EXTENT = (0.0, 0.0, 700_000.0, 1_300_000.0)
"""Great Britain, generously, in British National Grid metres (min x, min y, max x, max y)."""
GB_LONLAT_EXTENT = (-8.8, 49.8, 2.0, 61.0)
"""The same box in longitude/latitude degrees."""


def as_list(value: str | Sequence[str] | None) -> list[str]:
    """Normalise a column argument that may be one name, several names or None."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def require_frame(df: Any, *, name: str = "df") -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(
            "is not a DataFrame", where=name, expected="a pandas DataFrame", got=type(df).__name__
        )
    return df


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, argument: str = "columns") -> None:
    """Raise SchemaError naming the argument and the frame's columns if any column is missing."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        shown = list(df.columns)[:12]
        more = "" if len(df.columns) <= 12 else f" and {len(df.columns) - 12} more"
        raise SchemaError(
            f"{argument}={missing[0]!r} is not a column of the frame"
            if len(missing) == 1
            else f"{argument} names columns that are not in the frame: {missing}",
            expected="existing column names",
            got=f"columns {shown}{more}",
            hint="check the spelling, or rename the column first",
        )


def require_numeric(df: pd.DataFrame, columns: Iterable[str], *, allow_missing: bool = True) -> None:
    for column in columns:
        series = df[column]
        if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            coerced = pd.to_numeric(series, errors="coerce")
            bad = series[coerced.isna() & series.notna()]
            raise SchemaError(
                "is not numeric",
                where=f"column {column!r}",
                expected="numbers",
                got=describe_values(bad.astype(str)) if len(bad) else f"dtype {series.dtype}",
                hint="convert it with pd.to_numeric, or fix the source file",
            )
        if not allow_missing and series.isna().any():
            rows = list(series.index[series.isna()])
            raise SchemaError(
                "has missing values",
                where=f"column {column!r}",
                expected="a value in every row",
                got=f"{len(rows)} missing, e.g. at rows {rows[:5]}",
            )


def require_non_negative(df: pd.DataFrame, columns: Iterable[str]) -> None:
    for column in columns:
        values = df[column]
        bad = values[values < 0]
        if len(bad):
            raise SchemaError(
                "has negative values",
                where=f"column {column!r}",
                expected="counts of zero or more",
                got=f"{describe_values(bad.tolist())} at rows {list(bad.index[:5])}",
            )


def require_choice(value: Any, choices: Sequence[Any], *, argument: str) -> None:
    if value not in choices:
        raise SchemaError(
            "is not a known option", where=argument, expected=f"one of {list(choices)}", got=repr(value)
        )


def require_projected_crs(crs: Any, *, argument: str) -> None:
    """Distances and areas are measured in a projected CRS (British National Grid in needskit)."""
    if crs is None:
        raise GeographyError(
            "has no CRS",
            where=argument,
            expected="a GeoDataFrame with a CRS (EPSG:27700 for England)",
            got="crs=None",
            hint="set it with .set_crs('EPSG:27700') if you know the coordinates are British National Grid",
        )


def finite(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values)


def isin(values, universe) -> np.ndarray:
    """Fast membership test for codes: a boolean array, missing values never members.

    pandas' ``Series.isin`` on large string arrays is slow (a Python-level loop with the
    pyarrow-backed string dtype); pyarrow's hash-based ``is_in`` is one vectorised call.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    left = pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)
    right = pa.array(np.asarray(list(universe), dtype=object), type=pa.string(), from_pandas=True)
    return pc.is_in(left, value_set=right, skip_nulls=True).to_numpy(zero_copy_only=False).astype(bool)


def point_coordinates(gdf: Any, *, argument: str, require_bng: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Check a GeoDataFrame of points in British National Grid (or, with ``require_bng=False``, any
    projected CRS) and return its x and y coordinates.

    Raises
    ------
    GeographyError
        Not a GeoDataFrame, no CRS, a geographic CRS, another CRS when BNG is required, missing
        or empty geometries, or geometries that are not points.
    """
    require_frame(gdf, name=argument)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise GeographyError(
            "is not a GeoDataFrame",
            where=argument,
            expected="a GeoDataFrame of points",
            got=type(gdf).__name__,
            hint="build one with gpd.points_from_xy(easting, northing, crs='EPSG:27700')",
        )
    crs = gdf.crs
    if crs is None:
        raise GeographyError(
            "has no CRS",
            where=argument,
            expected="EPSG:27700 (British National Grid)",
            got="crs=None",
            hint="set it with .set_crs('EPSG:27700') if the coordinates are eastings and northings",
        )
    if crs.is_geographic:
        raise GeographyError(
            "is in a geographic CRS: distances in degrees are meaningless",
            where=argument,
            expected="EPSG:27700 (British National Grid, metres)",
            got=crs.to_string(),
            hint="reproject first with .to_crs('EPSG:27700')",
        )
    if require_bng and not crs.equals(BNG):
        raise GeographyError(
            "is not in British National Grid",
            where=argument,
            expected="EPSG:27700",
            got=crs.to_string(),
            hint="reproject first with .to_crs('EPSG:27700')",
        )
    geoms = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise GeographyError(
            "has missing or empty geometries",
            where=argument,
            expected="a point in every row",
            got=f"{int(missing.sum())} rows, e.g. {list(gdf.index[missing][:5])}",
        )
    not_point = shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    if not_point.any():
        raise GeographyError(
            "has geometries that are not points",
            where=argument,
            expected="points",
            got=describe_values(pd.Series(gdf.geometry.geom_type[not_point]).tolist()),
            hint="use population_weighted_centres(...) or .representative_point() for areas",
        )
    return shapely.get_x(geoms), shapely.get_y(geoms)


def require_unique_ids(values: pd.Series, *, argument: str) -> None:
    """Refuse missing or repeated ids (``argument`` names the table they belong to)."""
    if values.isna().any():
        raise SchemaError(
            "has missing values",
            where=f"{argument} column {values.name!r}",
            expected="an id in every row",
            got=f"{int(values.isna().sum())} missing",
        )
    repeated = values.duplicated(keep=False)
    if repeated.any():
        raise SchemaError(
            "repeats values",
            where=f"{argument} column {values.name!r}",
            expected="one row per id",
            got=describe_values(values[repeated].tolist()),
        )


def require_column(df: pd.DataFrame, name: object, *, argument: str) -> str:
    """Check that ``name`` (the value of ``argument``) is a string naming a column, and return it.

    Raises
    ------
    SchemaError
        ``name`` is not a string, or not a column of ``df``.
    """
    if not isinstance(name, str):
        raise SchemaError("is not a column name", where=argument, expected="a string", got=repr(name))
    require_columns(df, [name], argument=argument)
    return name


def require_group_keys(df: pd.DataFrame, by: str | Sequence[str] | None, *, used: Sequence[str]) -> list[str]:
    """Check the grouping columns ``by`` and return them as a list (empty for None).

    Raises
    ------
    SchemaError
        A column is missing, repeated, or also one of the input columns ``used``.
    """
    keys = as_list(by)
    require_columns(df, keys, argument="by")
    clash = [k for k in keys if k in used]
    if clash:
        raise SchemaError(
            "groups by a column that is also an input",
            where="by",
            expected="grouping columns distinct from the value, count and quantile columns",
            got=repr(clash),
        )
    if len(set(keys)) != len(keys):
        raise SchemaError("repeats a column", where="by", got=repr(keys))
    return keys
