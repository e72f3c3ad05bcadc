"""Classification for choropleth maps: one set of classes, colours and labels for both renderings.

:func:`classify` (mapclassify) assigns each value a class; the interactive and the static map
(:mod:`needskit.reports.maps`) draw from the same :class:`Classes`, so the HTML and the PDF show
the same classes, colours and legend.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from needskit.errors import SchemaError

__all__ = ["SCHEMES", "MISSING_COLOUR", "WITHHELD_COLOUR", "Classes", "classify", "format_number"]

Scheme = Literal["quantiles", "natural_breaks", "equal_interval", "user_defined"]
SCHEMES: tuple[str, ...] = ("quantiles", "natural_breaks", "equal_interval", "user_defined")
"""Classification schemes: mapclassify ``Quantiles``, ``FisherJenks`` (natural breaks, exact and
deterministic), ``EqualInterval`` and ``UserDefined`` (with ``bins=``)."""

MISSING_COLOUR = "#d9d9d9"
"""Colour of the areas without a value (class -1, "No data")."""

WITHHELD_COLOUR = "#969696"
"""Colour of the areas whose value was withheld to protect small numbers (class -2, "Withheld")."""


@dataclass(frozen=True)
class Classes:
    """Result of :func:`classify`: class of each value, upper bounds, labels and colours."""

    scheme: str
    bins: np.ndarray
    labels: list[str]
    colours: list[str]
    class_of: np.ndarray  # -1 for missing values
    counts: list[int]


def format_number(value: float, fmt: str) -> str:
    """One number as a map shows it, in a legend label or a tooltip.

    Parameters
    ----------
    value
        The number.
    fmt
        A ``str.format`` pattern, e.g. ``"{:,.1f}"``.

    Returns
    -------
    str
    """
    return fmt.format(value)


def classify(
    values: pd.Series | Sequence[float],
    *,
    scheme: Scheme = "quantiles",
    k: int = 5,
    cmap: str = "YlOrRd",
    bins: Sequence[float] | None = None,
    fmt: str = "{:,.1f}",
) -> Classes:
    """Classify values for a choropleth with mapclassify; the classes both renderings share.

    Parameters
    ----------
    values
        Numbers; missing values get class -1 ("No data").
    scheme
        One of :data:`SCHEMES`. ``natural_breaks`` is Fisher-Jenks (exact, deterministic).
    k
        Number of classes (fewer when there are fewer distinct values).
    cmap
        A matplotlib colormap name, sampled at ``k`` evenly spaced colours.
    bins
        Upper bounds of the classes for ``scheme="user_defined"``.
    fmt
        Format of the numbers in the labels.

    Returns
    -------
    Classes
        ``bins`` (upper bounds), ``labels`` ("low – high"), ``colours`` (hex), ``class_of`` (class
        index per value, -1 when missing), ``counts`` (areas per class).

    Raises
    ------
    SchemaError
        Unknown scheme, ``k`` below 2, no finite value, or ``user_defined`` without ``bins``.

    Notes
    -----
    Quantiles put equal numbers of areas in each class; Fisher-Jenks minimises the within-class
    variance (Jenks 1977; Fisher 1958), as implemented by mapclassify (Rey et al.).

    Example
    -------
    >>> classify([1, 2, 3, 4, 5, 6], scheme="quantiles", k=3).counts
    [2, 2, 2]
    """
    import mapclassify
    import matplotlib

    if scheme not in SCHEMES:
        raise SchemaError(
            "unknown classification scheme",
            where="scheme",
            expected=f"one of {list(SCHEMES)}",
            got=repr(scheme),
        )
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 2:
        raise SchemaError("needs at least two classes", where="k", expected="an integer >= 2", got=repr(k))
    y = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").astype(float).to_numpy()
    finite = np.isfinite(y)
    if not finite.any():
        raise SchemaError(
            "has no numbers to map", where="column", expected="at least one finite value", got="all missing"
        )
    data = y[finite]
    distinct = np.unique(data).size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if scheme == "user_defined":
            if bins is None or len(bins) == 0:
                raise SchemaError(
                    "needs class bounds",
                    where="bins",
                    expected="upper bounds for scheme='user_defined'",
                    got="None",
                )
            classifier = mapclassify.UserDefined(data, bins=sorted(float(b) for b in bins))
        elif distinct == 1:
            classifier = mapclassify.UserDefined(data, bins=[float(data[0])])
        elif scheme == "quantiles":
            classifier = mapclassify.Quantiles(data, k=min(int(k), distinct))
        elif scheme == "natural_breaks":
            classifier = mapclassify.FisherJenks(data, k=min(int(k), distinct))
        else:
            classifier = mapclassify.EqualInterval(data, k=int(k))
    upper = np.asarray(classifier.bins, dtype=float)
    klass = np.full(y.shape, -1, dtype=int)
    klass[finite] = np.asarray(classifier.yb, dtype=int)
    n = len(upper)
    lows = np.concatenate([[data.min()], upper[:-1]])
    labels = [
        f"{format_number(lo, fmt)} \u2013 {format_number(hi, fmt)}"
        for lo, hi in zip(lows, upper, strict=True)
    ]
    colormap = matplotlib.colormaps[cmap]
    positions = np.linspace(0.15, 0.95, n) if n > 1 else np.array([0.6])
    colours = [matplotlib.colors.to_hex(colormap(p)) for p in positions]
    counts = [int((klass == i).sum()) for i in range(n)]
    return Classes(scheme, upper, labels, colours, klass, counts)
