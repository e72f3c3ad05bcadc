"""Percentages from published figures: each cell's share of its published total.

:func:`published_percentages` works on the frame :func:`~needskit.disclosure.suppression.apply_rules`
publishes, never on exact counts, so no percentage can reveal a figure rounding or suppression hid.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from needskit._checks import as_list, require_columns, require_frame
from needskit.disclosure.rules import SUPPRESSED
from needskit.errors import SchemaError

__all__ = ["published_percentages"]


def published_percentages(
    published: pd.DataFrame,
    *,
    within: str | Sequence[str],
    dimension: str,
    total_label: str = "Total",
    decimals: int = 1,
) -> pd.DataFrame:
    """Percentages recomputed from published (rounded) figures, as NHS Digital requires.

    Each cell is divided by the published total of its group: the cell of the same ``within``
    values whose ``dimension`` is ``total_label`` (e.g. within ``["area_code", "measure",
    "period"]``, dimension ``"category"``: each category's share of the area's total).

    Parameters
    ----------
    published
        First element returned by :func:`apply_rules` run with totals on ``dimension``.
    within
        Columns that identify a group sharing one denominator.
    dimension
        The column holding ``total_label`` on the denominator row.
    total_label
        Label of the total cell.
    decimals
        Decimal places of the published percentage.

    Returns
    -------
    pandas.DataFrame
        A copy of ``published`` with ``percent_published`` (str): the percentage to ``decimals``
        places, ``"*"`` when the cell or its total is withheld, ``"-"`` when the total is 0
        (undefined), missing when the cell itself is missing.

    Raises
    ------
    SchemaError
        Missing columns, a frame that is not a published frame, a group without its total or
        with more than one, or ``decimals`` below 0.

    Notes
    -----
    Computing from the rounded figures keeps every published percentage consistent with the
    published counts and cannot reveal a figure that rounding hid (NHS Digital, Hospital
    Episode Statistics analysis guide).

    Example
    -------
    >>> from needskit.disclosure import apply_rules
    >>> t = pd.DataFrame({"area_code": ["A", "A", "A"], "category": ["x", "y", "z"], "value": [3, 40, 12]})
    >>> pub, _ = apply_rules(t, rule="nhs_digital", rows="area_code", columns="category", totals="rows")
    >>> published_percentages(pub, within="area_code", dimension="category")["percent_published"].tolist()
    ['*', '72.7', '18.2', '100.0']
    """
    published = require_frame(published, name="published")
    keys = as_list(within)
    require_columns(published, [*keys, dimension], argument="within/dimension")
    require_columns(published, ["value_published", "suppressed"], argument="published frame")
    if dimension in keys:
        raise SchemaError("is also a within column", where="dimension", got=repr(dimension))
    if not isinstance(decimals, int | np.integer) or decimals < 0:
        raise SchemaError(
            "is not a number of places", where="decimals", expected="an integer >= 0", got=repr(decimals)
        )
    frame = published if keys else published.assign(_one_group=0)
    keys = keys or ["_one_group"]
    is_den = (frame[dimension].astype(str) == str(total_label)).to_numpy()
    den = frame.loc[is_den, [*keys, "value_published", "suppressed"]]
    dup = den.duplicated(keys, keep=False)
    if dup.any():
        raise SchemaError(
            "has more than one total per group",
            where=f"within={keys!r}",
            expected=f"one {dimension}={total_label!r} row per group",
            got=f"{int(dup.sum())} total rows share their group, "
            f"e.g. {den.loc[dup, keys].head(3).to_dict('records')}",
            hint="add the columns that separate tables (measure, period) to within=",
        )
    den = den.rename(columns={"value_published": "_den_text", "suppressed": "_den_suppressed"})
    merged = frame[keys].merge(den, on=keys, how="left", sort=False)
    lacking = merged["_den_text"].isna() & merged["_den_suppressed"].isna()
    if lacking.any():
        raise SchemaError(
            "has groups without a published total",
            where=f"dimension={dimension!r}",
            expected=f"a {dimension}={total_label!r} row in every group",
            got=f"{int(lacking.sum())} cells, "
            f"e.g. {frame.loc[lacking.to_numpy(), keys].head(3).to_dict('records')}",
            hint="run apply_rules with totals covering this dimension",
        )
    num_sup = published["suppressed"].to_numpy(dtype=bool)
    den_sup = merged["_den_suppressed"].to_numpy(dtype=bool)
    num = pd.to_numeric(published["value_published"].where(~num_sup), errors="coerce").to_numpy(dtype=float)
    den_v = pd.to_numeric(merged["_den_text"].where(~den_sup), errors="coerce").to_numpy(dtype=float)
    out_text = np.full(len(published), None, dtype=object)
    withheld = num_sup | den_sup
    out_text[withheld] = SUPPRESSED
    zero = ~withheld & (den_v == 0) & ~np.isnan(num)
    out_text[zero] = "-"
    ok = ~withheld & ~zero & ~np.isnan(num) & ~np.isnan(den_v)
    out_text[ok] = np.char.mod(f"%.{int(decimals)}f", 100.0 * num[ok] / den_v[ok])
    out = published.copy()
    out["percent_published"] = pd.Series(out_text, index=out.index, dtype="str")
    return out
