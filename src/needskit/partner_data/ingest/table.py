"""Generic tables: CSV, Excel, GeoPackage and Parquet, with a column mapping in the catalogue.

``options`` in the catalogue entry:

* ``columns``: ``{name in the file: name to use}`` (renames; other columns are kept);
* ``sheet`` (Excel), ``layer`` (GeoPackage), ``encoding`` and ``thousands`` (CSV).

GeoPackage geometries are kept as a ``geometry`` column (for polygon datasets) plus ``_x``/``_y``
representative-point coordinates in the layer's CRS when they are points.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from needskit.errors import DataError
from needskit.partner_data.ingest.reading import number_rows, read_csv_text


def _rename(frame: pd.DataFrame, options: dict, path: Path) -> pd.DataFrame:
    mapping = options.get("columns") or {}
    missing = [c for c in mapping if c not in frame.columns]
    if missing:
        raise DataError(
            f"column mapping names columns the file lacks: {missing}",
            where=str(path),
            got=f"columns {list(frame.columns)[:15]}",
            hint="fix options.columns in the catalogue",
        )
    return frame.rename(columns=mapping)


def read_csv(path: Path, options: dict) -> pd.DataFrame:
    frame = read_csv_text(path, encoding=options.get("encoding", "utf-8"), thousands=options.get("thousands"))
    return number_rows(_rename(frame, options, path), path)


def read_excel(path: Path, options: dict) -> pd.DataFrame:
    try:
        frame = pd.read_excel(path, sheet_name=options.get("sheet", 0), dtype=str)
    except ValueError as exc:
        raise DataError("cannot be read as Excel", where=str(path), got=str(exc)) from exc
    except ImportError as exc:  # openpyxl is optional
        raise DataError(
            "needs the openpyxl package to read .xlsx", where=str(path), hint="pip install openpyxl"
        ) from exc
    if frame.empty:
        raise DataError("sheet has no data rows", where=str(path))
    return number_rows(_rename(frame, options, path), path)


def read_parquet(path: Path, options: dict) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types
        raise DataError("is not a Parquet file", where=str(path), got=type(exc).__name__) from exc
    if frame.empty:
        raise DataError("has no rows", where=str(path))
    return number_rows(_rename(frame, options, path), path)


def read_gpkg(path: Path, options: dict) -> pd.DataFrame:
    import geopandas as gpd
    import pyogrio

    try:
        frame = pyogrio.read_dataframe(path, layer=options.get("layer"))
    except Exception as exc:
        raise DataError("is not a readable GeoPackage", where=str(path), got=str(exc)) from exc
    if frame.empty:
        raise DataError("layer has no features", where=str(path))
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.notna().any():
        if frame.crs is None:
            raise DataError(
                "layer has no CRS", where=str(path), hint="set the layer CRS in QGIS and save again"
            )
        if (frame.geom_type == "Point").all():
            frame["_x"] = frame.geometry.x
            frame["_y"] = frame.geometry.y
        frame.attrs["crs"] = frame.crs.to_string()
    return number_rows(_rename(frame, options, path), path)
