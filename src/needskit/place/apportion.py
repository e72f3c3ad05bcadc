"""Areal interpolation: counts of one set of polygons shared onto another by area or by points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS

from needskit._checks import as_list, require_columns, require_frame, require_non_negative, require_numeric
from needskit.errors import GeographyError, describe_values
from needskit.place.aggregate import key_columns
from needskit.place.points import locate

__all__ = ["apportion", "overlap_shares"]


def overlap_shares(
    sources: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, *, points: gpd.GeoDataFrame | None = None
) -> pd.DataFrame:
    """Share of each source polygon inside each target polygon: by area, or by weighted points
    where a source has any. Columns ``source``, ``target``, ``area``, ``share``, ``method``."""
    src_geom = sources.geometry.values
    tgt_geom = targets.geometry.values
    tree = shapely.STRtree(tgt_geom)
    si, ti = tree.query(src_geom, predicate="intersects")
    inter = shapely.area(shapely.intersection(src_geom[si], tgt_geom[ti]))
    frame = pd.DataFrame(
        {
            "source": sources["area_code"].to_numpy()[si],
            "target": targets["area_code"].to_numpy()[ti],
            "area": inter,
        }
    )
    frame = frame[frame["area"] > 0]
    src_area = pd.Series(shapely.area(src_geom), index=sources["area_code"].to_numpy())
    frame["share"] = frame["area"] / frame["source"].map(src_area)
    frame["method"] = "area"
    if points is not None and len(points):
        require_columns(points, ["weight"], argument="weights points")
        located_src = locate(
            points.geometry.x.to_numpy(), points.geometry.y.to_numpy(), sources, tolerance=0
        )[0]
        located_tgt = locate(
            points.geometry.x.to_numpy(), points.geometry.y.to_numpy(), targets, tolerance=0
        )[0]
        pw = pd.DataFrame(
            {"source": located_src, "target": located_tgt, "w": points["weight"].to_numpy(dtype=float)}
        )
        pw = pw[pw["source"].notna()]
        by_source = pw.groupby("source")["w"].sum()
        by_pair = pw[pw["target"].notna()].groupby(["source", "target"])["w"].sum()
        has_points = frame["source"].isin(by_source[by_source > 0].index)
        pair_index = pd.MultiIndex.from_frame(frame[["source", "target"]])
        point_share = pd.Series(by_pair.reindex(pair_index).fillna(0).to_numpy(), index=frame.index) / frame[
            "source"
        ].map(by_source)
        frame.loc[has_points, "share"] = point_share[has_points]
        frame.loc[has_points, "method"] = "points"
        # targets that hold a source's points but do not overlap it cannot happen (points are inside both)
    return frame[frame["share"] > 0].reset_index(drop=True)


def apportion(
    df: pd.DataFrame,
    *,
    source_areas: gpd.GeoDataFrame,
    target_areas: gpd.GeoDataFrame,
    value_cols: str | Sequence[str],
    weights: Literal["area"] | gpd.GeoDataFrame = "area",
    code_col: str = "area_code",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Areal interpolation of counts from source polygons onto target polygons.

    Parameters
    ----------
    df
        Counts per source area (``code_col`` matches ``source_areas.area_code``), one row per
        area and key (text columns such as ``period``; or name them in ``by``).
    source_areas, target_areas
        GeoDataFrames with ``area_code`` and polygons, in the **same projected CRS**.
    weights
        ``"area"``: a source's count is shared by the share of its area in each target.
        A GeoDataFrame of points with a ``weight`` column (e.g. postcode points, UPRNs with
        population): shared by the weight of the source's points falling in each target; a
        source with no points falls back to area.

    Returns
    -------
    DataFrame with ``code_col`` (target codes), the key columns and the value columns.
    ``attrs["outside"]`` holds, per value column, the amount that fell outside every target
    (zero when targets cover the sources, in which case totals are conserved exactly up to
    floating-point rounding). ``attrs["method"]`` counts sources by weighting method.

    Raises
    ------
    GeographyError
        Missing CRS, different CRSs, geographic (degree) CRS, unknown source codes.
    """
    require_frame(df)
    value_cols = as_list(value_cols)
    require_columns(df, [code_col], argument="code_col")
    require_columns(df, value_cols, argument="value_cols")
    require_numeric(df, value_cols)
    require_non_negative(df, value_cols)
    for name, frame in (("source_areas", source_areas), ("target_areas", target_areas)):
        if not isinstance(frame, gpd.GeoDataFrame) or "area_code" not in frame.columns:
            raise GeographyError("is not a GeoDataFrame with an 'area_code' column", where=name)
        if frame.crs is None:
            raise GeographyError(
                "has no CRS", where=name, expected="a projected CRS such as EPSG:27700", got="None"
            )
    if CRS.from_user_input(source_areas.crs) != CRS.from_user_input(target_areas.crs):
        raise GeographyError(
            "source and target CRS differ",
            where="source_areas/target_areas",
            expected="the same CRS",
            got=f"{source_areas.crs.to_string()} and {target_areas.crs.to_string()}",
            hint="reproject one with .to_crs(other.crs) (EPSG:27700 for England)",
        )
    if CRS.from_user_input(source_areas.crs).is_geographic:
        raise GeographyError(
            "areas are in degrees",
            where="source_areas",
            expected="a projected CRS in metres (EPSG:27700)",
            got=source_areas.crs.to_string(),
            hint="reproject both with .to_crs('EPSG:27700')",
        )
    points = None
    if isinstance(weights, gpd.GeoDataFrame):
        if weights.crs is None or CRS.from_user_input(weights.crs) != CRS.from_user_input(source_areas.crs):
            raise GeographyError(
                "weight points must share the areas' CRS", where="weights", got=str(weights.crs)
            )
        points = weights
    elif weights != "area":
        raise GeographyError(
            "unknown weights",
            where="weights",
            expected="'area' or a GeoDataFrame of points",
            got=repr(weights),
        )
    unknown = pd.unique(df.loc[~df[code_col].isin(source_areas["area_code"]), code_col])
    if len(unknown):
        raise GeographyError(
            "codes not among the source areas",
            where=f"column {code_col!r}",
            got=describe_values(list(unknown)),
        )
    keys = key_columns(df, code_col, value_cols, by)
    shares = overlap_shares(source_areas, target_areas, points=points)
    joined = df.merge(shares[["source", "target", "share"]], left_on=code_col, right_on="source", how="left")
    outside = {}
    for column in value_cols:
        joined[column] = joined[column] * joined["share"]
    for column in value_cols:
        outside[column] = float(df[column].sum() - joined[column].sum())
    joined = joined[joined["target"].notna()]
    out = joined.groupby(["target"] + keys, as_index=False, dropna=False)[value_cols].sum()
    out = out.rename(columns={"target": code_col})
    out.attrs["outside"] = outside
    out.attrs["method"] = shares.drop_duplicates("source")["method"].value_counts().to_dict()
    return out
