"""A publisher's own LSOA codes beside its points (police.uk's ``LSOA code``): which LSOA each row
gets, and how often the code and the point agree.

police.uk puts every located crime in an LSOA itself and publishes the code with the anonymised
point. Taking that code is police.uk's own assignment (it agrees with police.uk by construction);
the point decides only where the code cannot. Codes change vintage inside police.uk's series
(2011 LSOAs until 2022-01, a mix of 2011 and 2021 codes in the same file until 2023-05, 2021
LSOAs since), so each row's code is looked up in both vintages:

* a code of the profile's vintage: that LSOA (``by_code``); an unchanged (U) LSOA has the same
  code in both vintages, so its 2011 code is one of these;
* a code of the other vintage that became exactly one LSOA of the profile's vintage (2011 → 2021:
  merged M): that LSOA, through the ONS lookup (``by_code_2011``);
* one that became several (split S), or changed irregularly (X): among the LSOAs it became, the
  one holding the row's point, or the nearest of them when the point lies in none
  (``split_by_point``);
* no code, or a code the geography does not know: the point alone (``within``, or ``nearest``
  within 100 m), as for datasets without codes.

Rows whose code (or point) places them outside the partnership's LSOAs are outside. The
agreement between code and point is still measured, per period: of the rows assigned by their
code that also have a point, how many points lie in (one of) the LSOA(s) the code stands for
(:func:`agreement_table`).

DataFrame in, DataFrame out: :func:`~needskit.partner_data.prepare.prepare_dataset` calls these.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from needskit._checks import BNG
from needskit.errors import GeographyError
from needskit.place.geography import Geography

__all__ = [
    "AGREEMENT_COLUMNS",
    "SPLIT",
    "code_lookup",
    "code_paths",
    "place_by_code",
    "codes_agree",
    "agreement_table",
]

SPLIT = "split_by_point"
AGREEMENT_COLUMNS = ["dataset", "period", "rows_compared", "rows_agreeing", "share"]
"""Columns of :func:`agreement_table` (``code_agreement.csv`` in the store)."""


def code_lookup(geography: Geography, *, vintage: int = 2021) -> pd.DataFrame:
    """Every LSOA code the geography knows, with the LSOA(s) of ``vintage`` it stands for.

    Parameters
    ----------
    geography
        The reference geography: its hierarchy of ``vintage`` and, to read codes of the other
        vintage, its LSOA change lookup (without one, only codes of ``vintage`` are usable).
    vintage
        The LSOA vintage of the profile.

    Returns
    -------
    ``code``, ``path`` (``by_code``, ``by_code_<other vintage>`` or ``split_by_point``) and
    ``lsoa`` (of ``vintage``): one row per code, except codes placed by point, which have one row
    per LSOA they became.

    Example
    -------
    >>> code_lookup(geography).query("code == 'E01022158'")  # doctest: +SKIP
             code            path       lsoa
    ...  E01022158  split_by_point  E01034777
    ...  E01022158  split_by_point  E01034778
    """
    own = pd.Series(geography.hierarchy(vintage, copy=False)["lsoa"].dropna().unique(), dtype="string")
    parts = [pd.DataFrame({"code": own, "path": "by_code", "lsoa": own})]
    other = 2011 if vintage == 2021 else 2021
    try:
        changes = geography.changes()
    except GeographyError:
        changes = None
    if changes is not None:
        src, dst = f"lsoa{str(other)[2:]}_code", f"lsoa{str(vintage)[2:]}_code"
        pairs = changes[[src, dst, "change_code"]].dropna(subset=[src, dst])
        pairs = pairs[~pairs[src].isin(set(own))].drop_duplicates([src, dst])
        became = pairs.groupby(src)[dst].transform("size")
        irregular = pairs["change_code"].eq("X").groupby(pairs[src]).transform("any")
        path = np.where((became == 1) & ~irregular, f"by_code_{other}", SPLIT)
        parts.append(
            pd.DataFrame(
                {"code": pairs[src].astype("string"), "path": path, "lsoa": pairs[dst].astype("string")}
            )
        )
    return pd.concat(parts, ignore_index=True)


def code_paths(codes: pd.Series, *, lookup: pd.DataFrame) -> pd.DataFrame:
    """Each row's code, how it will be assigned and, when the code alone decides, its LSOA.

    Returns
    -------
    Frame on ``codes``' index: ``code`` (stripped; missing when blank), ``path`` (as in
    :func:`code_lookup`; ``""`` when the code is missing or unknown to the geography: the point
    decides) and ``lsoa`` (missing for ``split_by_point`` and ``""``).
    """
    text = codes.astype("string").str.strip().replace("", pd.NA)
    first = lookup.drop_duplicates("code").set_index("code")
    path = text.map(first["path"]).astype("object").fillna("")
    lsoa = text.map(first["lsoa"]).astype("string").where(path != SPLIT)
    return pd.DataFrame({"code": text, "path": path, "lsoa": lsoa}, index=codes.index)


def place_by_code(
    paths: pd.DataFrame, *, x: np.ndarray, y: np.ndarray, areas: gpd.GeoDataFrame, lookup: pd.DataFrame
) -> pd.Series:
    """The LSOA each row's code gives, choosing by point among the LSOAs a split code became.

    Parameters
    ----------
    paths
        From :func:`code_paths`.
    x, y
        British National Grid coordinates of each row (NaN where it has none).
    areas
        The LSOAs rows may be assigned to (the partnership's), ``area_code`` and polygons.
    lookup
        From :func:`code_lookup`.

    Returns
    -------
    ``area_code`` on ``paths``' index: the code's LSOA, when ``areas`` has it; for a split code
    the LSOA it became that holds the point (on a shared edge the lowest code), else the nearest
    of them, as long as every LSOA it became is in ``areas`` (otherwise the point may lie in one
    outside them: missing). Missing for rows without a usable code, split codes without a point,
    and codes that place the row outside ``areas``.
    """
    inside = set(areas["area_code"])
    out = paths["lsoa"].where(paths["lsoa"].isin(inside)).astype("string")
    split = (paths["path"] == SPLIT).to_numpy() & np.isfinite(x) & np.isfinite(y)
    if not split.any():
        return out
    rows = pd.DataFrame({"code": paths["code"].to_numpy()[split], "_i": np.flatnonzero(split)})
    rows["x"], rows["y"] = x[split], y[split]
    pairs = rows.merge(lookup.loc[lookup["path"] == SPLIT, ["code", "lsoa"]], on="code")
    known = pairs["lsoa"].isin(inside)
    pairs["complete"] = (~known).groupby(pairs["_i"]).transform("sum").eq(0)
    pairs = pairs[known]
    polygons = (
        areas.to_crs(BNG) if areas.crs is not None and not areas.crs.equals(BNG) else areas
    ).set_index("area_code")
    pairs["distance"] = shapely.distance(
        shapely.points(pairs["x"].to_numpy(), pairs["y"].to_numpy()),
        polygons.geometry.loc[pairs["lsoa"]].to_numpy(),
    )
    best = pairs.sort_values(["_i", "distance", "lsoa"]).drop_duplicates("_i")
    best = best[(best["distance"] == 0) | best["complete"]]
    values = out.to_numpy(copy=True)
    values[best["_i"].to_numpy()] = best["lsoa"].to_numpy()
    return pd.Series(values, index=paths.index, dtype="string")


def codes_agree(paths: pd.DataFrame, point_lsoas: pd.Series, *, lookup: pd.DataFrame) -> pd.Series:
    """Whether each row's point lies in (one of) the LSOA(s) its code stands for.

    ``point_lsoas`` is the LSOA each point was located in (missing when it lies in none of the
    areas it was located among); rows without a usable code or without a point do not agree.
    """
    known = pd.Index(lookup["code"].astype("string") + "|" + lookup["lsoa"].astype("string"))
    keys = paths["code"].fillna("") + "|" + point_lsoas.astype("string").fillna("")
    return pd.Series(keys.isin(known).to_numpy(dtype=bool), index=paths.index)


def agreement_table(
    period: pd.Series, *, compared: pd.Series, agrees: pd.Series, dataset: str
) -> pd.DataFrame:
    """Per period: rows compared (assigned by their code and with a point), rows whose point lies
    in the code's LSOA, and the share (NaN when none was compared).

    Returns
    -------
    :data:`AGREEMENT_COLUMNS`, one row per period of ``period`` (sorted; 0 rows compared where
    no row was).
    """
    frame = pd.DataFrame(
        {
            "period": period.astype("string").fillna("unknown"),
            "compared": compared,
            "agrees": agrees & compared,
        }
    )
    out = frame.groupby("period", sort=True)[["compared", "agrees"]].sum().astype("int64").reset_index()
    out.columns = ["period", "rows_compared", "rows_agreeing"]
    out["share"] = (out["rows_agreeing"] / out["rows_compared"].where(out["rows_compared"] > 0)).astype(float)
    out.insert(0, "dataset", dataset)
    return out[AGREEMENT_COLUMNS]
