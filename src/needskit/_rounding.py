"""Whole numbers that add up: the largest-remainder method, used wherever needskit splits a count.

Two places need it: moving counts between LSOA vintages (a split LSOA's count shared among its
children so that the children add up exactly to the parent) and needs-based allocation (a budget
shared in whole units that add up exactly to the pot, within floors and caps). One implementation
serves both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["largest_remainder"]

_SNAP = 1e-7  # an exact share this close to a whole number is that whole number (float noise)


def largest_remainder(
    exact: np.ndarray,
    *,
    totals: np.ndarray | float | int,
    groups: np.ndarray | None = None,
    floors: np.ndarray | None = None,
    caps: np.ndarray | None = None,
    tie_break: Sequence[np.ndarray] = (),
) -> np.ndarray:
    """Round ``exact`` shares to whole numbers whose sum in each group is that group's total.

    Parameters
    ----------
    exact
        The exact (fractional) shares, one per part.
    totals
        The whole number each group must add up to: a scalar (one group), or an array indexed by
        the group codes ``0 .. groups.max()``.
    groups
        Integer group code of each part (``0 .. n_groups - 1``); ``None`` for one group.
    floors, caps
        Optional per-part bounds: no part goes below its floor or above its cap.
    tie_break
        Arrays ordering parts with equal remainders (each ascending, the first decisive); parts
        still tied go in input order.

    Returns
    -------
    numpy.ndarray of floats holding whole numbers: each part is ``floor(exact)`` or one more
    (clipped to its bounds), and the parts with the largest remainders get the extra units.

    Notes
    -----
    Hamilton's method. Remainders are compared to 9 decimal places, so that shares equal up to
    floating-point noise are tied and then broken by ``tie_break`` and input order, which makes
    the result reproducible across platforms.

    Example
    -------
    >>> largest_remainder(np.array([2.5, 2.5, 5.0]), totals=10).tolist()
    [3.0, 2.0, 5.0]
    """
    exact = np.asarray(exact, dtype=float)
    n = len(exact)
    codes = np.zeros(n, dtype=np.intp) if groups is None else np.asarray(groups, dtype=np.intp)
    n_groups = int(codes.max()) + 1 if n else 0
    target = (
        np.broadcast_to(np.asarray(totals, dtype=float), (n_groups,))
        if np.ndim(totals) == 0
        else np.asarray(totals, dtype=float)
    )
    snapped = np.where(np.abs(exact - np.round(exact)) < _SNAP, np.round(exact), exact)
    base = np.floor(snapped)
    upper = np.full(n, np.inf) if caps is None else np.where(np.isfinite(caps), np.round(caps), np.inf)
    if floors is not None:
        base = np.maximum(base, np.round(floors))
    base = np.minimum(base, upper)
    remainder = np.round(snapped - base, 9)
    remainder = np.where(base + 1 <= upper, remainder, -np.inf)
    short = np.rint(target - np.bincount(codes, weights=base, minlength=n_groups)).astype(np.int64)
    keys = [np.arange(n)] + [np.asarray(k) for k in reversed(list(tie_break))] + [-remainder, codes]
    order = np.lexsort(keys)
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, np.arange(n_groups))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[sorted_codes]
    return base + (rank < short[codes]).astype(float)
