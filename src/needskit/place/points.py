"""Putting points in areas: coordinates checked, reprojected, located once per distinct point."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from needskit._checks import BNG, GB_BNG_EXTENT, GB_LONLAT_EXTENT, require_columns, require_frame
from needskit.errors import GeographyError, SchemaError, describe_values
from needskit.place.areas import load_areas
from needskit.place.geography import CustomPlaces, Geography

__all__ = ["assign_points", "locate", "check_coordinates", "to_bng", "MATCH_LABELS"]


def check_coordinates(x: np.ndarray, y: np.ndarray, crs: CRS, *, x_name: str, y_name: str) -> None:
    """Refuse longitude/latitude that cannot be British: swapped, grid metres given as degrees,
    or mostly outside Great Britain (a missing CRS is refused by the caller)."""
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return
    xs, ys = x[ok], y[ok]
    if crs.is_geographic:
        lon0, lat0, lon1, lat1 = GB_LONLAT_EXTENT
        inside = (xs >= lon0) & (xs <= lon1) & (ys >= lat0) & (ys <= lat1)
        swapped = (ys >= lon0) & (ys <= lon1) & (xs >= lat0) & (xs <= lat1)
        looks_bng = (np.abs(xs) > 1000) | (np.abs(ys) > 1000)
        if inside.mean() < 0.5:
            if swapped.mean() >= 0.5:
                raise GeographyError(
                    "longitude and latitude look swapped",
                    where=f"x={x_name!r}, y={y_name!r}",
                    expected="x = longitude (about -6 to 2 in England), y = latitude (about 50 to 56)",
                    got=f"x like {xs[0]:.4f}, y like {ys[0]:.4f}",
                    hint=f"pass x={y_name!r}, y={x_name!r}",
                )
            if looks_bng.mean() >= 0.5:
                raise GeographyError(
                    "coordinates look like British National Grid metres, not degrees",
                    where=f"crs={crs.to_string()!r}",
                    expected="longitude/latitude in degrees",
                    got=f"x like {xs[0]:.0f}, y like {ys[0]:.0f}",
                    hint="pass crs='EPSG:27700'",
                )
            raise GeographyError(
                "most coordinates are outside Great Britain",
                where=f"x={x_name!r}, y={y_name!r}",
                expected=f"longitude {GB_LONLAT_EXTENT[0]}..{GB_LONLAT_EXTENT[2]}, "
                f"latitude {GB_LONLAT_EXTENT[1]}..{GB_LONLAT_EXTENT[3]}",
                got=f"{int((~inside).sum())} of {len(xs)} outside, e.g. ({xs[~inside][0]}, {ys[~inside][0]})",
                hint="check the columns and the CRS",
            )


def to_bng(x: np.ndarray, y: np.ndarray, crs: object) -> tuple[np.ndarray, np.ndarray, CRS]:
    """Coordinates in ``crs`` reprojected to British National Grid, and the source CRS."""
    if crs is None:
        raise GeographyError(
            "no CRS given for the coordinates",
            where="crs",
            expected="e.g. 'EPSG:4326' (lon/lat) or 'EPSG:27700'",
            got="None",
            hint="police.uk and most web data are EPSG:4326; ONS grid references are EPSG:27700",
        )
    try:
        source = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises CRSError
        raise GeographyError("is not a CRS pyproj understands", where="crs", got=repr(crs)) from exc
    if source == CRS.from_epsg(27700):
        return x, y, source
    transformer = Transformer.from_crs(source, BNG, always_xy=True)
    bx, by = transformer.transform(x, y)
    missing = ~(np.isfinite(x) & np.isfinite(y))  # pyproj turns NaN into inf: keep missing missing
    bx = np.where(missing, np.nan, np.asarray(bx, dtype=float))
    by = np.where(missing, np.nan, np.asarray(by, dtype=float))
    return bx, by, source


def assign_points(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    crs="EPSG:4326",
    level: str | CustomPlaces = "lsoa",
    vintage: int = 2021,
    geography: Geography | None = None,
    areas: gpd.GeoDataFrame | None = None,
    tolerance: float = 100.0,
    out_col: str = "area_code",
) -> pd.DataFrame:
    """Put each point in the area that contains it.

    Parameters
    ----------
    df
        Any frame with coordinate columns; it is not modified.
    x, y
        Coordinate columns (longitude/latitude for EPSG:4326, easting/northing for EPSG:27700).
    crs
        CRS of the coordinates.
    level, vintage, geography
        Areas to use: the boundaries of ``level`` in the reference geography (ignored when
        ``areas`` is given).
    areas
        Any GeoDataFrame with ``area_code`` and polygons (a partnership's own areas, national
        boundaries) to use instead of the geography's.
    tolerance
        Metres: a point outside every area but within this distance of one (typically just off
        the coast or across a generalised edge) goes to the nearest area with ``match="nearest"``.
    out_col
        Name of the output code column.

    Returns
    -------
    Copy of ``df`` (same rows, same order) with ``out_col`` (missing where unmatched) and
    ``match`` in {``within``, ``nearest``, ``unmatched``}. Rows without coordinates are
    ``unmatched``; nothing is dropped.

    Notes
    -----
    Points are reprojected to EPSG:27700. Identical coordinates are located once (police.uk snaps
    many crimes to the same point), through a shapely STRtree with prepared polygons. A point on
    a boundary shared by several areas goes to the one with the **lowest area code** (so it is
    counted exactly once, the same way every run).
    """
    require_frame(df)
    require_columns(df, [x, y], argument="x/y")
    if out_col in df.columns or "match" in df.columns:
        raise SchemaError(
            "output column already exists",
            where=f"out_col={out_col!r}" if out_col in df.columns else "'match'",
            hint="pass out_col= another name, or drop the column first",
        )
    for column in (x, y):
        series = df[column]
        if not pd.api.types.is_numeric_dtype(series):
            coerced = pd.to_numeric(series, errors="coerce")
            bad = series[coerced.isna() & series.notna()]
            if len(bad):
                raise SchemaError(
                    "is not numeric",
                    where=f"column {column!r}",
                    expected="coordinates as numbers",
                    got=describe_values(bad.astype(str).tolist()),
                )
    xs = pd.to_numeric(df[x], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(df[y], errors="coerce").to_numpy(dtype=float)

    bx, by, source_crs = to_bng(xs, ys, crs)  # refuses a missing or unknown CRS
    if source_crs.is_geographic:
        check_coordinates(xs, ys, source_crs, x_name=x, y_name=y)
    else:
        finite = np.isfinite(bx) & np.isfinite(by)
        inside = (
            (bx >= GB_BNG_EXTENT[0])
            & (bx <= GB_BNG_EXTENT[2])
            & (by >= GB_BNG_EXTENT[1])
            & (by <= GB_BNG_EXTENT[3])
        )
        if finite.any() and inside[finite].mean() < 0.5:
            hint = (
                "these look like longitude/latitude: pass crs='EPSG:4326'"
                if (np.abs(bx[finite]) < 90).mean() > 0.5
                else "check the CRS"
            )
            raise GeographyError(
                "most coordinates are outside Great Britain",
                where=f"x={x!r}, y={y!r}, crs={crs!r}",
                expected="British National Grid eastings 0..700000 and northings 0..1300000",
                got=f"e.g. ({bx[finite][0]}, {by[finite][0]})",
                hint=hint,
            )

    if areas is None:
        if geography is None:
            raise GeographyError(
                "no areas to assign the points to",
                where="assign_points",
                expected="geography= (the partnership's reference geography) or areas= (polygons)",
                got="neither",
            )
        areas = load_areas(level, geography=geography, vintage=vintage)
    else:
        if not isinstance(areas, gpd.GeoDataFrame) or "area_code" not in areas.columns:
            raise GeographyError("is not a GeoDataFrame with an 'area_code' column", where="areas")
        if areas.crs is None:
            raise GeographyError(
                "has no CRS", where="areas", expected="a CRS (EPSG:27700 preferred)", got="None"
            )
        areas = areas.to_crs(BNG) if CRS.from_user_input(areas.crs) != CRS.from_epsg(27700) else areas
    codes, match = locate(bx, by, areas, tolerance=tolerance)
    out = df.copy()
    out[out_col] = pd.array(codes, dtype="string")
    out["match"] = match
    return out


def locate(
    bx: np.ndarray, by: np.ndarray, areas: gpd.GeoDataFrame, *, tolerance: float
) -> tuple[pd.api.extensions.ExtensionArray, pd.api.extensions.ExtensionArray]:
    """Vectorised point-in-polygon on unique coordinates; returns codes and match labels.

    Each distinct coordinate is located once; the per-row answers are then two integer takes
    from small arrays (area codes, the three labels), never a loop or an object array of the
    input's length. Codes come back as a ``"string"`` array (missing where unmatched), labels
    with the dtype pandas gives a column of Python strings.
    """
    n = len(bx)
    row_area = np.full(n, -1, dtype=np.intp)  # index into the areas sorted by code
    row_match = np.zeros(n, dtype=np.int8)  # index into MATCH_LABELS
    finite = np.isfinite(bx) & np.isfinite(by)
    ordered = areas.sort_values("area_code", kind="stable")
    area_codes = ordered["area_code"].astype(str).to_numpy(dtype=object)
    if finite.any() and len(areas):
        unique_area, unique_match, inverse = _locate_unique(
            bx[finite], by[finite], ordered.geometry.values, tolerance=tolerance
        )
        row_area[finite] = unique_area[inverse]
        row_match[finite] = unique_match[inverse]
    return _take_strings(area_codes, row_area, dtype="string"), _take_strings(MATCH_LABELS, row_match)


MATCH_LABELS = np.array(["unmatched", "within", "nearest"], dtype=object)


def _locate_unique(
    xs: np.ndarray, ys: np.ndarray, geoms: np.ndarray, *, tolerance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Locate each distinct (x, y) once among ``geoms`` (sorted by code).

    Returns, per distinct coordinate, the index of its area (-1 none; on a shared boundary the
    lowest index) and of its match label, and, per input point, the index of its coordinate.
    """
    inverse, uniques = pd.factorize(xs + 1j * ys)
    tree = shapely.STRtree(geoms)
    points = shapely.points(uniques.real, uniques.imag)
    hit_point, hit_area = tree.query(points, predicate="intersects")
    unique_area = np.full(len(points), -1, dtype=np.intp)
    if len(hit_point):
        order = np.lexsort((hit_area, hit_point))  # lowest tree index = lowest code wins a tie
        first = np.unique(hit_point[order], return_index=True)[1]
        unique_area[hit_point[order][first]] = hit_area[order][first]
    unique_match = np.where(unique_area >= 0, 1, 0).astype(np.int8)
    missing = np.flatnonzero(unique_area < 0)
    if len(missing) and tolerance > 0:
        near_point, near_area = tree.query_nearest(points[missing], max_distance=tolerance, all_matches=True)
        if len(near_point):
            order = np.lexsort((near_area, near_point))
            first = np.unique(near_point[order], return_index=True)[1]
            idx = missing[near_point[order][first]]
            unique_area[idx] = near_area[order][first]
            unique_match[idx] = 2
    return unique_area, unique_match, inverse


def _take_strings(
    labels: np.ndarray, index: np.ndarray, *, dtype: str | None = None
) -> pd.api.extensions.ExtensionArray:
    """``labels[index]`` (missing where ``index`` is -1) as a pandas string array, built by one
    take from the small array of labels, not from a Python string per row."""
    if dtype is None:  # the dtype pandas infers for a column of Python strings (str or object)
        small = pd.Series(labels if len(index) else labels[:0], dtype=None, copy=False).array
    else:
        small = pd.array(labels, dtype=dtype)
    if len(small) == 0:
        small = pd.array([None], dtype=small.dtype)
    return small.take(index, allow_fill=True)
