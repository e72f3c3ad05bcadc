"""Hot spots: where high (or low) values of an indicator cluster among neighbouring areas.

:func:`hot_spots` runs PySAL's local statistics on a GeoDataFrame of areas — Local Moran's I
(``esda.Moran_Local``) or Getis–Ord Gi* (``esda.G_Local`` with ``star=True``) — with seeded
conditional permutations, an optional false-discovery-rate correction, and explicit handling
of areas without neighbours. needskit does not re-implement the statistics; it chooses the
weights, validates, labels and records.

Decisions (documented here and in the docstring):

* **Neighbours** are queen contiguity (areas sharing an edge or a corner). Real boundary files
  often do not share vertices exactly (the shipped Gloucestershire LSOAs have hairline gaps),
  so by default areas whose boundaries come within ``tolerance`` = 1 metre are neighbours
  (``libpysal.graph.Graph.build_fuzzy_contiguity`` with a buffer of half the tolerance). With
  ``tolerance=0`` the exact vertex-based queen rule of ``libpysal.weights.Queen`` is used.
* **CRS**: contiguity itself needs none, but a tolerance in metres does; so a projected CRS is
  required when ``tolerance > 0`` (EPSG:27700 in needskit) and no CRS check is made otherwise.
* **Missing values** are refused (SchemaError): dropping an area would silently turn its
  neighbours' neighbourhoods into different ones. Drop or impute them first, explicitly.
* **Areas with no neighbour** keep their value in the global mean and variance and in the pool
  that permutations draw from (as GeoDa and esda do), but get no statistic of their own:
  ``cluster = "no neighbours"``, statistic and p-value missing, and a :class:`NeedskitWarning`
  names them. They are left out of the FDR count.
* **p-values** are esda 2.x's ``p_sim``: the folded ("directed") one-sided pseudo p-value,
  ``(min(larger, smaller) + 1) / (permutations + 1)``. esda announces that a future major
  release will default to two-sided p-values (about double); esda 2.9's local statistics do not
  let us pin the alternative, so check this module's tests when upgrading esda.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
from libpysal.graph import Graph
from pyproj import CRS

from needskit._checks import require_choice, require_columns, require_frame, require_numeric
from needskit.errors import GeographyError, NeedskitWarning, SchemaError, describe_values

__all__ = ["hot_spots", "MORAN_CLUSTERS", "GI_CLUSTERS", "NO_NEIGHBOURS"]

Method = Literal["moran", "getis_ord"]
MORAN_CLUSTERS: tuple[str, ...] = ("high-high", "low-low", "high-low", "low-high", "not significant")
GI_CLUSTERS: tuple[str, ...] = ("hot spot", "cold spot", "not significant")
NO_NEIGHBOURS = "no neighbours"
_METHOD_NAMES = {"moran": "Local Moran's I", "getis_ord": "Getis-Ord Gi*"}
# esda's quadrant codes: 1 HH, 2 LH, 3 LL, 4 HL
_QUADRANTS = np.array(["", "high-high", "low-high", "low-low", "high-low"], dtype=object)
_OUTPUTS = (
    "hotspot_statistic",
    "p_value",
    "p_threshold",
    "neighbours",
    "cluster",
    "method",
    "alpha",
    "fdr",
    "permutations",
)


def _check_geometry(gdf: gpd.GeoDataFrame) -> None:
    geometry = gdf.geometry
    missing = geometry.isna().to_numpy() | geometry.is_empty.to_numpy()
    if missing.any():
        raise GeographyError(
            "has areas without a geometry",
            where="gdf.geometry",
            expected="a polygon for every area",
            got=f"{int(missing.sum())} missing or empty, e.g. at rows {list(gdf.index[missing][:5])}",
        )
    kinds = geometry.geom_type
    bad = ~kinds.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if bad.any():
        raise GeographyError(
            "has geometries that are not polygons",
            where="gdf.geometry",
            expected="Polygon or MultiPolygon areas (contiguity needs boundaries)",
            got=describe_values(kinds[bad].tolist()),
            hint="points need distance-based weights; build a libpysal Graph and pass it as weights=",
        )


def _graph(gdf: gpd.GeoDataFrame, weights: Any, tolerance: float) -> Graph:
    """Queen contiguity (exact or with a tolerance), or the caller's W / Graph checked for alignment."""
    n = len(gdf)
    geoms = gdf.geometry.reset_index(drop=True)
    if isinstance(weights, str):
        require_choice(weights, ["queen"], argument="weights")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # libpysal warns about islands; we report them ourselves
            if tolerance > 0:
                return Graph.build_fuzzy_contiguity(geoms, buffer=tolerance / 2)
            return Graph.from_W(
                libpysal.weights.Queen.from_dataframe(gpd.GeoDataFrame(geometry=geoms), use_index=False)
            )
    if isinstance(weights, libpysal.weights.W):
        ids = list(weights.id_order)
        graph = Graph.from_W(weights)
    elif isinstance(weights, Graph):
        ids = list(weights.unique_ids)
        graph = weights
    else:
        raise SchemaError(
            "is not a kind of weights",
            where="weights",
            expected="'queen', a libpysal.weights.W or a libpysal.graph.Graph",
            got=type(weights).__name__,
        )
    if ids != list(range(n)) and ids != list(gdf.index):
        raise GeographyError(
            "is not aligned with the frame",
            where="weights",
            expected=f"ids equal to the frame's index or to 0..{n - 1}, in row order",
            got=f"{len(ids)} ids, e.g. {ids[:5]}",
            hint="build the weights from this very frame",
        )
    return graph


def hot_spots(
    gdf: gpd.GeoDataFrame,
    *,
    value: str,
    method: Method = "moran",
    permutations: int = 999,
    seed: int | None = 20_240_401,
    alpha: float = 0.05,
    fdr: bool = False,
    weights: Literal["queen"] | libpysal.weights.W | Graph = "queen",
    tolerance: float = 1.0,
) -> gpd.GeoDataFrame:
    """Local hot spots and clusters of an indicator among neighbouring areas.

    Parameters
    ----------
    gdf
        GeoDataFrame of areas (e.g. LSOAs) with polygon geometries and the indicator column.
    value
        Numeric column to test; no missing values.
    method
        ``"moran"``: Local Moran's I (LISA) clusters and outliers. ``"getis_ord"``: Getis–Ord
        Gi* hot and cold spots (the value must be zero or more, e.g. a rate or a count).
    permutations
        Number of conditional permutations for the pseudo p-values (at least 99).
    seed
        Seed passed to esda, so the same data and seed give the same p-values. ``None`` for
        fresh randomness.
    alpha
        Significance level, in (0, 0.5].
    fdr
        Control the false discovery rate over the areas (Benjamini–Hochberg, via ``esda.fdr``)
        instead of testing each area at ``alpha``.
    weights
        ``"queen"`` (default) or a prebuilt ``libpysal.weights.W`` / ``libpysal.graph.Graph``
        whose ids are the frame's index (or 0..n−1) in row order.
    tolerance
        For ``"queen"``: areas whose boundaries come within this many CRS units (metres) are
        neighbours; 0 for the exact shared-vertex rule. Needs a projected CRS when above 0.

    Returns
    -------
    GeoDataFrame
        A copy of ``gdf`` (same index, CRS and columns) plus: ``hotspot_statistic`` (local I for
        Moran; the Gi* z-score for Getis–Ord); ``p_value`` (esda's folded one-sided pseudo
        p-value, ``p_sim``); ``p_threshold`` (``alpha``, or the FDR cut-off); ``neighbours``
        (count); ``cluster`` (Moran: ``"high-high"``, ``"low-low"``, ``"high-low"``,
        ``"low-high"``, ``"not significant"``; Gi*: ``"hot spot"``, ``"cold spot"``,
        ``"not significant"``; either: ``"no neighbours"``); ``method`` (``"Local Moran's I"`` or
        ``"Getis-Ord Gi*"``); ``alpha``; ``fdr``; ``permutations``.

    Raises
    ------
    SchemaError
        Missing, non-numeric or constant ``value``; negative values for Gi*; fewer than 3
        areas; unknown options; output columns already present.
    GeographyError
        Not a GeoDataFrame; missing, empty or non-polygon geometries; ``tolerance > 0`` without
        a projected CRS; weights not aligned with the frame; no area with a neighbour.

    Notes
    -----
    Local Moran's I (Anselin 1995) with row-standardised weights; the cluster is the
    Moran-scatterplot quadrant (esda's ``q``: value above/below the mean, spatial lag above/below
    the mean) of an area whose pseudo p-value is below the threshold. Getis–Ord Gi* (Ord &
    Getis 1995) with binary weights including the area itself (``G_Local(star=True,
    transform="B")``); a significant area is a hot spot when its z-score is positive and a cold
    spot when negative. Pseudo p-values come from ``permutations`` conditional permutations,
    seeded and run in one process so that results are reproducible; significance is
    ``p_value < p_threshold`` (as esda's own cluster labels). With ``fdr=True`` the threshold is
    ``esda.fdr(p, alpha)``: the Benjamini–Hochberg step-up cut-off, or the Bonferroni bound
    ``alpha / n`` when no area passes. With 999 permutations the smallest p-value is 0.001, so
    an FDR over many areas may find nothing; that is the honest answer.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cells = [box(x, y, x + 100, y + 100) for y in range(0, 500, 100) for x in range(0, 500, 100)]
    >>> grid = gpd.GeoDataFrame({"rate": [10.0 if (x < 200 and y < 200) else 1.0
    ...                                    for y in range(0, 500, 100) for x in range(0, 500, 100)]},
    ...                         geometry=cells, crs="EPSG:27700")
    >>> out = hot_spots(grid, value="rate", method="getis_ord")
    >>> out.loc[0, "cluster"]
    'hot spot'
    """
    require_frame(gdf, name="gdf")
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise GeographyError(
            "is not a GeoDataFrame",
            where="gdf",
            expected="a GeoDataFrame of area polygons",
            got=type(gdf).__name__,
            hint="join the indicator to needskit.place.geography.load_areas(...) first",
        )
    if not isinstance(value, str):
        raise SchemaError("is not a column name", where="value", expected="a string", got=repr(value))
    require_columns(gdf, [value], argument="value")
    require_choice(method, list(_METHOD_NAMES), argument="method")
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) or permutations < 99:
        raise SchemaError(
            "is too small",
            where="permutations",
            expected="a whole number of at least 99 (999 is usual)",
            got=repr(permutations),
        )
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 0.5:
        raise SchemaError(
            "is not a significance level",
            where="alpha",
            expected="a number in (0, 0.5], e.g. 0.05",
            got=repr(alpha),
        )
    if not isinstance(fdr, bool):
        raise SchemaError("is not True or False", where="fdr", got=repr(fdr))
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance >= 0:
        raise SchemaError(
            "is not a distance",
            where="tolerance",
            expected="metres, 0 or more (default 1)",
            got=repr(tolerance),
        )
    clash = [c for c in _OUTPUTS if c in gdf.columns]
    if clash:
        raise SchemaError(
            "the frame already has columns that hot_spots() writes",
            expected=f"none of {list(_OUTPUTS)}",
            got=repr(clash),
            hint="rename or drop those columns first",
        )
    if isinstance(weights, str) and tolerance > 0:
        crs = gdf.crs
        if crs is None or not CRS.from_user_input(crs).is_projected:
            raise GeographyError(
                "needs a projected CRS for a tolerance in metres",
                where="gdf.crs",
                expected="a projected CRS such as EPSG:27700",
                got="no CRS" if crs is None else f"{CRS.from_user_input(crs).name} (geographic)",
                hint="gdf.to_crs('EPSG:27700'), or tolerance=0 for exact shared-vertex contiguity",
            )
    _check_geometry(gdf)
    require_numeric(gdf, [value], allow_missing=False)
    y = gdf[value].to_numpy(dtype=float)
    if len(y) < 3:
        raise SchemaError("has too few areas", where="gdf", expected="at least 3 areas", got=f"{len(y)}")
    if np.nanstd(y) == 0:
        raise SchemaError(
            "has no variation",
            where=f"column {value!r}",
            expected="values that differ between areas",
            got=f"every value is {y[0]:g}",
        )
    if method == "getis_ord" and (y < 0).any():
        bad = gdf[value][y < 0]
        raise SchemaError(
            "has negative values, which Getis-Ord G does not allow",
            where=f"column {value!r}",
            expected="values of zero or more (counts, rates, proportions)",
            got=f"{describe_values(bad.tolist())} at rows {list(bad.index[:5])}",
            hint="use method='moran' for scores that can be negative",
        )

    graph = _graph(gdf, weights, float(tolerance))
    neighbours = graph.cardinalities.to_numpy()
    island = neighbours == 0
    if island.all():
        raise GeographyError(
            "no area has a neighbour",
            where="weights",
            expected="areas that share boundaries",
            got=f"{len(gdf)} areas, none touching",
            hint="raise tolerance= if the boundaries have small gaps",
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # esda's island notices and 0/0 in island z-scores
        if method == "moran":
            local = esda.Moran_Local(
                y, graph, transformation="r", permutations=int(permutations), n_jobs=1, seed=seed
            )
            statistic = np.asarray(local.Is, dtype=float)
        else:
            local = esda.G_Local(
                y, graph, transform="B", star=True, permutations=int(permutations), n_jobs=1, seed=seed
            )
            statistic = np.asarray(local.Zs, dtype=float)
    p_value = np.asarray(local.p_sim, dtype=float).copy()
    statistic = np.where(island, np.nan, statistic)
    p_value[island] = np.nan

    threshold = float(esda.fdr(p_value[~island], alpha)) if fdr else float(alpha)
    significant = ~island & (p_value < threshold)
    if method == "moran":
        cluster = np.where(significant, _QUADRANTS[np.asarray(local.q, dtype=int)], "not significant")
    else:
        cluster = np.where(significant, np.where(statistic > 0, "hot spot", "cold spot"), "not significant")
    cluster = np.where(island, NO_NEIGHBOURS, cluster).astype(object)

    if island.any():
        warnings.warn(
            f"hot_spots: {int(island.sum())} areas have no neighbour and are reported as "
            f"{NO_NEIGHBOURS!r}: {describe_values(gdf.index[island].tolist())}",
            NeedskitWarning,
            stacklevel=2,
        )
    out = gdf.copy()
    out["hotspot_statistic"] = statistic
    out["p_value"] = p_value
    out["p_threshold"] = threshold
    out["neighbours"] = neighbours.astype(int)
    out["cluster"] = pd.array(cluster, dtype=object)
    out["method"] = _METHOD_NAMES[method]
    out["alpha"] = float(alpha)
    out["fdr"] = fdr
    out["permutations"] = int(permutations)
    return out
