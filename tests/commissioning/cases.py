"""Inputs shared by the commissioning tests: places with need, and monthly series for SPC charts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from needskit.commissioning.spc import xmr
from needskit.errors import NeedskitWarning

# Twelve points alternating 10, 12: mean 11, every moving range 2, so limits 11 ± 5.32 = 5.68 - 16.32
# and the 2-sigma lines 11 ± 3.5467 = 7.4533 - 14.5467. Used as a fixed baseline (baseline=12).
BASE = [10.0, 12.0] * 6


def places(need, **columns):
    """One row per place ``P00``, ``P01``, ... with a ``need`` column and any other columns given."""
    return pd.DataFrame({"area_code": [f"P{i:02d}" for i in range(len(need))], "need": need, **columns})


def monthly(values, *, start="2022-01-01"):
    """A monthly series: ``month`` (month starts from ``start``) and ``v``."""
    return pd.DataFrame({"month": pd.date_range(start, periods=len(values), freq="MS"), "v": values})


def quiet_xmr(values, **kwargs):
    """:func:`~needskit.commissioning.spc.xmr` of :func:`monthly` values, short-baseline warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        return xmr(monthly(values), value="v", time="month", **kwargs)


def flagged(result, column):
    """Positions of the rows where the boolean ``column`` holds."""
    return list(np.flatnonzero(result[column].to_numpy()))
