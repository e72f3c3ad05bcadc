"""An attacker against published counts: what an outsider can deduce about each withheld count
from everything else that is published, and the complementary withholding that defeats it.

What the attacker knows of each count
    A withheld count lies in the rule's withheld range (``1..threshold``, ``0..threshold`` when
    zeros are withheld); a count withheld to protect another (secondary) could be anything
    ``>= 0``; a published count ``v`` rounded to base ``b`` lies in ``[v - b/2, v + b/2)`` and
    outside the withheld range (a published ``0`` under NHS Digital's rule is exactly 0); an
    unrounded published count is exact (:func:`count_bounds`; real bounds, as counts apportioned
    to custom places are fractional).
What the attacker combines
    Relations ``total = part_1 + ... + part_k`` between true counts, e.g. a half-year's count and
    its six months' counts (:func:`period_relations`). Interval propagation
    (:func:`tighten`) narrows every count from every relation it is in, repeatedly, until nothing
    changes: the differencing attack (total minus the other parts) and its chains.
Recovered
    A withheld count whose interval holds at most one whole number (:func:`recovered`).

:func:`protect` withholds, for each relation in which a withheld count is recovered, the
smallest published part (or the total when no part is left) and attacks again, until nothing is
recovered. :func:`needskit.disclosure.publish.publish_indicators` applies it to the periods of a
published monthly series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from needskit.disclosure.rules import RuleSet, resolve_rule
from needskit.errors import DisclosureError
from needskit.needs.periods import months_in, period_kind

__all__ = [
    "UNBOUNDED",
    "Relations",
    "count_bounds",
    "period_relations",
    "protect",
    "recovered",
    "tighten",
]

UNBOUNDED = 1e15
"""The upper bound of a count the attacker knows nothing about."""


@dataclass(frozen=True)
class Relations:
    """Relations ``cells[total[r]] == sum(cells[part_cell[i]] for i where part_rel[i] == r)``
    between the true counts of a table's rows (positions)."""

    total: np.ndarray
    part_rel: np.ndarray
    part_cell: np.ndarray

    @property
    def size(self) -> int:
        return len(self.total)

    @staticmethod
    def empty() -> Relations:
        none = np.array([], dtype=np.int64)
        return Relations(none, none, none)


def count_bounds(
    values: np.ndarray,
    *,
    rule: str | RuleSet,
    secondary: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """What an attacker knows of each true count from its published form under ``rule``.

    Counts may be fractional (apportioned to custom places), so the bounds are real: a count is
    withheld when it rounds into the withheld range (``[0.5, threshold + 0.5)``, from ``0`` when
    zeros are withheld); a published ``v`` rounded to base ``b`` lies in ``[v - b/2, v + b/2)``
    and outside the withheld range.

    Parameters
    ----------
    values
        Published counts, ``NaN`` where withheld.
    secondary
        Flags of counts withheld to protect others (not small themselves): ``[0, UNBOUNDED]``.

    Returns
    -------
    The lower and upper bounds (closed) of each true count.
    """
    rs = resolve_rule(rule)
    v = np.asarray(values, dtype=float)
    withheld = np.isnan(v)
    w_lo, w_hi = (0.0 if rs.suppress_zero else 0.5), rs.threshold + 0.5
    lo, hi = v.copy(), v.copy()
    if rs.rounding_base:
        half = rs.rounding_base / 2
        lo, hi = np.maximum(v - half, 0.0), v + half
        lo = np.where((lo >= w_lo) & (lo < w_hi), w_hi, lo)  # it was published, so not small
        hi = np.where((lo < w_lo) & (hi <= w_hi), w_lo, hi)  # a published 0: below the withheld range
    lo = np.where(withheld, w_lo, lo)
    hi = np.where(withheld, w_hi, hi)
    if secondary is not None:
        flag = np.asarray(secondary, dtype=bool) & withheld
        lo, hi = np.where(flag, 0.0, lo), np.where(flag, UNBOUNDED, hi)
    return lo, hi


def tighten(
    lo: np.ndarray, hi: np.ndarray, relations: Relations, *, rounds: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """Interval propagation through ``relations`` until nothing changes (or ``rounds``): each
    total lies within the sums of its parts' bounds, each part within the total minus the other
    parts. Returns new bounds (the inputs are not changed)."""
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    if relations.size == 0:
        return lo, hi
    rel, cell, total = relations.part_rel, relations.part_cell, relations.total
    for _ in range(rounds):
        before_lo, before_hi = lo.copy(), hi.copy()
        sum_lo = np.bincount(rel, weights=lo[cell], minlength=relations.size)
        sum_hi = np.bincount(rel, weights=hi[cell], minlength=relations.size)
        np.maximum.at(lo, total, sum_lo)
        np.minimum.at(hi, total, sum_hi)
        part_lo = lo[total][rel] - (sum_hi[rel] - hi[cell])
        part_hi = hi[total][rel] - (sum_lo[rel] - lo[cell])
        np.maximum.at(lo, cell, part_lo)
        np.minimum.at(hi, cell, part_hi)
        if np.array_equal(lo, before_lo) and np.array_equal(hi, before_hi):
            break
    return lo, hi


def recovered(withheld: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Flags of withheld counts the attacker pins down: at most one whole number lies within
    their bounds (for a fractional count: known to within one)."""
    eps = 1e-9
    return np.asarray(withheld, dtype=bool) & (np.floor(hi + eps) - np.ceil(lo - eps) <= 0)


def period_relations(table: pd.DataFrame, *, keys: list[str]) -> Relations:
    """Each multi-month period's row (quarter, half-year, year) as the sum of its months' rows of
    the same ``keys`` (e.g. indicator and area), where every one of its months is a row.

    ``table`` needs ``period`` and ``keys`` columns; positions are its row positions.
    """
    if table.empty:
        return Relations.empty()
    frame = table[keys + ["period"]].reset_index(drop=True).astype({"period": str})
    kinds = frame["period"].map(period_kind)
    months = frame[kinds == "month"]
    position = pd.Series(months.index.to_numpy(), index=pd.MultiIndex.from_frame(months[keys + ["period"]]))
    position = position[~position.index.duplicated()]
    totals: list[int] = []
    rels: list[int] = []
    cells: list[int] = []
    wholes = frame[kinds.isin(["quarter", "half-year", "year"])]
    for label, group in wholes.groupby("period", sort=True):
        inside = months_in(str(label))
        wanted = [pd.MultiIndex.from_frame(group[keys].assign(period=month)) for month in inside]
        found = np.column_stack([position.reindex(w).to_numpy(dtype=float) for w in wanted])
        complete = ~np.isnan(found).any(axis=1)
        for row, parts in zip(
            group.index.to_numpy()[complete], found[complete].astype(np.int64), strict=True
        ):
            r = len(totals)
            totals.append(row)
            rels.extend([r] * len(parts))
            cells.extend(parts.tolist())
    if not totals:
        return Relations.empty()
    return Relations(
        np.array(totals, dtype=np.int64), np.array(rels, dtype=np.int64), np.array(cells, dtype=np.int64)
    )


def protect(
    values: np.ndarray,
    relations: Relations,
    *,
    rule: str | RuleSet,
    secondary: np.ndarray | None = None,
    rounds: int = 50,
) -> np.ndarray:
    """Complementary withholding: flags of the counts to withhold besides those already withheld
    (``NaN`` in ``values``) so that the attacker recovers none.

    In each relation in which a withheld count is recovered, the smallest published part is
    withheld (the total when every part is withheld), and the attack is repeated.
    """
    v = np.asarray(values, dtype=float).copy()
    extra = np.zeros(len(v), dtype=bool) if secondary is None else np.asarray(secondary, dtype=bool).copy()
    for _ in range(rounds):
        lo, hi = count_bounds(v, rule=rule, secondary=extra)
        lo, hi = tighten(lo, hi, relations)
        pinned = recovered(np.isnan(v), lo, hi)
        if not pinned.any():
            return extra if secondary is None else extra & ~np.asarray(secondary, dtype=bool)
        order = np.argsort(relations.part_rel, kind="stable")
        starts = np.searchsorted(relations.part_rel[order], np.arange(relations.size + 1))
        hit = np.unique(
            np.concatenate(
                [relations.part_rel[pinned[relations.part_cell]], np.flatnonzero(pinned[relations.total])]
            )
        )
        for r in hit:
            parts = relations.part_cell[order[starts[r] : starts[r + 1]]]
            open_parts = parts[~np.isnan(v[parts])]
            if open_parts.size:
                chosen = open_parts[np.argmin(v[open_parts])]
            elif not np.isnan(v[relations.total[r]]):
                chosen = relations.total[r]
            else:
                continue
            v[chosen] = np.nan
            extra[chosen] = True
    raise DisclosureError(
        "complementary withholding did not converge",
        where="disclosure.attack.protect",
        expected=f"no recovered count after {rounds} rounds",
        got=f"{int(pinned.sum())} still recovered",
    )
