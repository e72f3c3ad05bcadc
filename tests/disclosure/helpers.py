"""Helpers shared by the disclosure tests: long tables in, wide views of the published frame out."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from needskit.disclosure import apply_rules
from needskit.errors import NeedskitWarning

TOTAL = "Total"


def quiet_apply(df: pd.DataFrame, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        return apply_rules(df, **kwargs)


def long_table(values: np.ndarray | list[list[int]], *, rows: str = "r", columns: str = "c") -> pd.DataFrame:
    v = np.asarray(values)
    return pd.DataFrame(
        [(f"r{i}", f"c{j}", int(v[i, j])) for i in range(v.shape[0]) for j in range(v.shape[1])],
        columns=[rows, columns, "value"],
    )


def grid(
    pub: pd.DataFrame, rows: str = "r", columns: str = "c", field: str = "value_published"
) -> pd.DataFrame:
    """Wide view with totals last."""
    wide = pub.pivot(index=rows, columns=columns, values=field)
    order_r = sorted(k for k in wide.index if k != TOTAL) + [k for k in wide.index if k == TOTAL]
    order_c = sorted(k for k in wide.columns if k != TOTAL) + [k for k in wide.columns if k == TOTAL]
    return wide.loc[order_r, order_c]


def withheld(pub: pd.DataFrame, rows: str = "r", columns: str = "c") -> set[tuple[str, str]]:
    sub = pub[pub["suppressed"]]
    return set(zip(sub[rows], sub[columns], strict=True))
