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
    A withheld count whose interval holds at most one whole number (:func:`recovered`). Some are
    given away by the rule alone (:func:`inherent`): under a rule that publishes zeros, an area of
    at most 7 whose 7 neighbourhoods are all withheld had one in each.

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
    "inherent",
    "period_relations",
    "protect",
    "recovered",
    "tighten",
]

UNBOUNDED = 1e15
"""The upper bound of a count the attacker knows nothing about."""


@dataclass(frozen=True)
class Relations:
    """Relations ``cells[total[r]] == sum(w[i] * cells[part_cell[i]] for i where part_rel[i] == r)``
    between true counts (positions in a table of counts); the weights ``w`` (``part_weight``,
    all 1 when ``None``) are positive: an area's share of a neighbourhood apportioned to a place."""

    total: np.ndarray
    part_rel: np.ndarray
    part_cell: np.ndarray
    part_weight: np.ndarray | None = None

    @property
    def size(self) -> int:
        return len(self.total)

    @property
    def weights(self) -> np.ndarray:
        return np.ones(len(self.part_cell)) if self.part_weight is None else self.part_weight

    def select(self, keep: np.ndarray) -> Relations:
        """The relations flagged in ``keep`` (by relation), renumbered."""
        keep = np.asarray(keep, dtype=bool)
        new_id = np.cumsum(keep) - 1
        parts = keep[self.part_rel]
        return Relations(
            self.total[keep], new_id[self.part_rel[parts]], self.part_cell[parts], self.weights[parts]
        )

    @staticmethod
    def empty() -> Relations:
        none = np.array([], dtype=np.int64)
        return Relations(none, none, none)

    @staticmethod
    def concat(parts: list[Relations]) -> Relations:
        """Several sets of relations over the same cells as one."""
        parts = [r for r in parts if r.size]
        if not parts:
            return Relations.empty()
        offsets = np.cumsum([0] + [r.size for r in parts[:-1]])
        return Relations(
            np.concatenate([r.total for r in parts]),
            np.concatenate([r.part_rel + off for r, off in zip(parts, offsets, strict=True)]),
            np.concatenate([r.part_cell for r in parts]),
            np.concatenate([r.weights for r in parts]),
        )


def count_bounds(
    values: np.ndarray,
    *,
    rule: str | RuleSet,
    secondary: np.ndarray | None = None,
    fractional: np.ndarray | None = None,
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
    fractional
        Flags of counts that may be fractional (apportioned to places): a withheld one is any
        value above 0 (the rule withholds what rounds to ``1..threshold`` and what lies
        between 0 and 1).

    Returns
    -------
    The lower and upper bounds (closed) of each true count.
    """
    rs = resolve_rule(rule)
    v = np.asarray(values, dtype=float)
    withheld = np.isnan(v)
    w_lo, w_hi = (0.0 if rs.suppress_zero else 0.5), rs.threshold + 0.5
    slack = 5e-6 * np.abs(v) + 1e-9  # published text keeps six significant figures
    lo, hi = v - slack, v + slack
    if rs.rounding_base:
        half = rs.rounding_base / 2
        lo, hi = np.maximum(v - half, 0.0), v + half
        lo = np.where((lo >= w_lo) & (lo < w_hi), w_hi, lo)  # it was published, so not small
        hi = np.where((lo < w_lo) & (hi <= w_hi), w_lo, hi)  # a published 0: below the withheld range
    lo = np.where(withheld, w_lo, lo)
    hi = np.where(withheld, w_hi, hi)
    if fractional is not None:
        lo = np.where(withheld & np.asarray(fractional, dtype=bool), 0.0, lo)
    if secondary is not None:
        flag = np.asarray(secondary, dtype=bool) & withheld
        lo, hi = np.where(flag, 0.0, lo), np.where(flag, UNBOUNDED, hi)
    return lo, hi


def _reducer(index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort order, group starts and targets for reducing values onto ``index`` (``reduceat``)."""
    order = np.argsort(index, kind="stable")
    ordered = index[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(ordered) else ordered
    return order, starts, ordered[starts] if len(ordered) else ordered


def _scatter(op: np.ufunc, target: np.ndarray, reducer: tuple, values: np.ndarray) -> None:
    order, starts, targets = reducer
    if len(order):
        target[targets] = op(target[targets], op.reduceat(values[order], starts))


def tighten(
    lo: np.ndarray,
    hi: np.ndarray,
    relations: Relations,
    *,
    whole: np.ndarray | None = None,
    rounds: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Interval propagation through ``relations`` until nothing moves by more than 0.001 (or
    ``rounds``): each total lies within the sums of its parts' bounds, each part within the total
    minus the other parts; counts flagged ``whole`` (whole numbers) are narrowed to whole numbers
    each round. Returns new bounds (the inputs are not changed); an unknown upper bound is ``inf``."""
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    hi[hi >= UNBOUNDED] = np.inf
    snap = np.zeros(len(lo), dtype=bool) if whole is None else np.asarray(whole, dtype=bool)
    if relations.size == 0:
        return lo, hi
    by_total, by_cell = _reducer(relations.total), _reducer(relations.part_cell)
    n = relations.size
    with np.errstate(all="ignore"):  # infinite bounds meet in sums and differences
        return _propagate(lo, hi, relations, snap, by_total, by_cell, n, rounds)


def _propagate(
    lo: np.ndarray,
    hi: np.ndarray,
    relations: Relations,
    snap: np.ndarray,
    by_total: tuple,
    by_cell: tuple,
    n: int,
    rounds: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The rounds of :func:`tighten`."""
    rel, cell, total, w = relations.part_rel, relations.part_cell, relations.total, relations.weights
    for _ in range(rounds):
        before_lo, before_hi = lo.copy(), hi.copy()
        part_hi = hi[cell]
        infinite = np.isinf(part_hi)
        sum_lo = np.bincount(rel, weights=w * lo[cell], minlength=n)
        sum_hi = np.bincount(rel, weights=np.where(infinite, 0.0, w * part_hi), minlength=n)
        n_inf = np.bincount(rel, weights=infinite.astype(float), minlength=n)
        # float sums of many parts drift: every derived bound is loosened by a relative 1e-9
        scale = 1e-9 * (sum_lo + np.where(n_inf > 0, 0.0, sum_hi)) + 1e-12
        _scatter(np.maximum, lo, by_total, sum_lo - scale)
        _scatter(np.minimum, hi, by_total, np.where(n_inf > 0, np.inf, sum_hi + scale))
        others_inf = (n_inf[rel] - infinite) > 0
        others_hi = np.where(others_inf, np.inf, sum_hi[rel] - np.where(infinite, 0.0, w * part_hi))
        new_lo = (lo[total][rel] - others_hi - scale[rel]) / w
        new_hi = (hi[total][rel] - (sum_lo[rel] - w * lo[cell]) + scale[rel]) / w
        _scatter(np.maximum, lo, by_cell, np.where(np.isnan(new_lo), -np.inf, new_lo))
        _scatter(np.minimum, hi, by_cell, np.where(np.isnan(new_hi), np.inf, new_hi))
        lo[snap] = np.ceil(lo[snap] - 1e-6)
        hi[snap] = np.floor(hi[snap] + 1e-6)
        moved = (lo - before_lo > 1e-3) | (before_hi - hi > 1e-3)  # creeping by less is no news
        if not moved.any():
            break
    return lo, hi


def recovered(withheld: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Flags of withheld counts the attacker pins down: at most one whole number lies within
    their bounds (for a fractional count: known to within one)."""
    eps = 1e-9
    with np.errstate(all="ignore"):
        return np.asarray(withheld, dtype=bool) & (np.floor(hi + eps) - np.ceil(lo - eps) <= 0)


def period_relations(table: pd.DataFrame, *, keys: list[str]) -> Relations:
    """Each multi-month period's row (quarter, half-year, year) as the sum of its months' rows of
    the same ``keys`` (e.g. indicator and area), where every one of its months is a row.

    ``table`` needs ``period`` and ``keys`` columns; positions are its row positions.
    """
    if table.empty:
        return Relations.empty()
    group = table.groupby(keys, sort=False, observed=True, dropna=False).ngroup().to_numpy()
    labels = table["period"].astype(str).to_numpy()
    kinds = pd.Series(labels).map({label: period_kind(label) for label in set(labels)}).to_numpy()
    is_month = kinds == "month"
    position = pd.Series(
        np.flatnonzero(is_month), index=pd.MultiIndex.from_arrays([group[is_month], labels[is_month]])
    )
    position = position[~position.index.duplicated()]
    totals: list[np.ndarray] = []
    rels: list[np.ndarray] = []
    cells: list[np.ndarray] = []
    count = 0
    whole = np.isin(kinds, ["quarter", "half-year", "year"])
    for label in sorted(set(labels[whole])):
        rows = np.flatnonzero(whole & (labels == label))
        found = np.column_stack(
            [
                position.reindex(
                    pd.MultiIndex.from_arrays([group[rows], np.full(len(rows), month)])
                ).to_numpy(dtype=float)
                for month in months_in(label)
            ]
        )
        complete = ~np.isnan(found).any(axis=1)
        totals.append(rows[complete])
        rels.append(np.repeat(np.arange(count, count + int(complete.sum())), found.shape[1]))
        cells.append(found[complete].astype(np.int64).ravel())
        count += int(complete.sum())
    if count == 0:
        return Relations.empty()
    return Relations(
        np.concatenate(totals).astype(np.int64),
        np.concatenate(rels).astype(np.int64),
        np.concatenate(cells).astype(np.int64),
    )


def _sums(lo: np.ndarray, hi: np.ndarray, relations: Relations) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per relation: the weighted sums of its parts' lower and finite upper bounds, and how many
    parts have no upper bound."""
    rel, cell, w, n = relations.part_rel, relations.part_cell, relations.weights, relations.size
    infinite = np.isinf(hi[cell])
    sum_lo = np.bincount(rel, weights=w * lo[cell], minlength=n)
    sum_hi = np.bincount(rel, weights=np.where(infinite, 0.0, w * hi[cell]), minlength=n)
    return sum_lo, sum_hi, np.bincount(rel, weights=infinite.astype(float), minlength=n)


def _binding(
    pinned: np.ndarray, lo: np.ndarray, hi: np.ndarray, relations: Relations
) -> tuple[np.ndarray, np.ndarray]:
    """The relations that pin a recovered count: those that give a pinned part its upper bound
    (broken by withholding a part that is known to be above 0) and those that give a pinned part
    its lower bound or a pinned total either bound (broken by withholding any part)."""
    rel, cell, total, w = relations.part_rel, relations.part_cell, relations.total, relations.weights
    sum_lo, sum_hi, n_inf = _sums(lo, hi, relations)
    infinite = np.isinf(hi[cell])
    others_hi = np.where(
        (n_inf[rel] - infinite) > 0, np.inf, sum_hi[rel] - np.where(infinite, 0.0, w * hi[cell])
    )
    with np.errstate(invalid="ignore", over="ignore"):
        implied_hi = (hi[total][rel] - (sum_lo[rel] - w * lo[cell])) / w
        implied_lo = (lo[total][rel] - others_hi) / w
    tol = 1e-6 * np.maximum(1.0, np.abs(hi[cell]))
    part = pinned[cell]
    from_above = np.unique(rel[part & (np.floor(implied_hi + tol) <= np.floor(hi[cell] + tol))])
    from_below = np.unique(rel[part & (np.ceil(implied_lo - tol) >= np.ceil(lo[cell] - tol))])
    totals = np.flatnonzero(pinned[total])
    return from_above, np.union1d(from_below, totals)


def inherent(
    values: np.ndarray,
    relations: Relations,
    *,
    rule: str | RuleSet,
    secondary: np.ndarray | None = None,
    fractional: np.ndarray | None = None,
) -> np.ndarray:
    """Flags of withheld counts given away by relations whose every figure is withheld or a
    published zero: the rule's withheld range alone pins them (seven neighbourhoods of one count
    each under an area of at most seven), so no further withholding can protect them; only a rule
    that also withholds zeros can."""
    v = np.asarray(values, dtype=float)
    if relations.size == 0:
        return np.zeros(len(v), dtype=bool)
    published = ~np.isnan(v)
    positive = published & (np.nan_to_num(v) > 0)
    open_parts = np.bincount(
        relations.part_rel, weights=positive[relations.part_cell], minlength=relations.size
    )
    closed = relations.select((open_parts == 0) & ~published[relations.total])
    # only the counts in those sums matter: attack them alone
    used = np.unique(np.concatenate([closed.total, closed.part_cell]))
    local = Relations(
        np.searchsorted(used, closed.total),
        closed.part_rel,
        np.searchsorted(used, closed.part_cell),
        closed.weights,
    )
    frac = None if fractional is None else np.asarray(fractional, dtype=bool)[used]
    sec = None if secondary is None else np.asarray(secondary, dtype=bool)[used]
    whole = np.ones(len(used), dtype=bool) if frac is None else ~frac
    lo, hi = tighten(*count_bounds(v[used], rule=rule, secondary=sec, fractional=frac), local, whole=whole)
    flags = np.zeros(len(v), dtype=bool)
    flags[used] = recovered(~published[used], lo, hi)
    return flags


def _around(flags: np.ndarray, relations: Relations) -> np.ndarray:
    """The relations that hold a flagged count, as a part or as the total."""
    return np.union1d(relations.part_rel[flags[relations.part_cell]], np.flatnonzero(flags[relations.total]))


def _widen(
    pinned: np.ndarray,
    v: np.ndarray,
    extra: np.ndarray,
    relations: Relations,
    *,
    order: np.ndarray,
    starts: np.ndarray,
) -> bool:
    """Withhold one figure (the smallest published part above 0, else the published total) in
    every relation around the pinned counts and the withheld counts they share a relation with:
    for a count pinned through a chain of withheld figures (a withheld area's bound from its own
    parent). Returns whether anything was withheld."""
    near = _around(pinned, relations)
    members = np.zeros(len(v), dtype=bool)
    members[relations.part_cell[np.isin(relations.part_rel, near)]] = True
    members[relations.total[near]] = True
    changed = False
    for r in _around(members & np.isnan(v), relations):
        pick = _complement(r, v, relations, order=order, starts=starts, positive=True)
        if pick is not None:
            v[pick], extra[pick], changed = np.nan, True, True
    return changed


def _complement(
    r: int, v: np.ndarray, relations: Relations, *, order: np.ndarray, starts: np.ndarray, positive: bool
) -> int | None:
    """The figure to withhold to open relation ``r``: its smallest published part (above 0 when
    ``positive``), else its published total, else none."""
    parts = relations.part_cell[order[starts[r] : starts[r + 1]]]
    usable = parts[~np.isnan(v[parts]) & ((v[parts] > 0) if positive else True)]
    if usable.size:
        return int(usable[np.argmin(v[usable])])
    if not np.isnan(v[relations.total[r]]):
        return int(relations.total[r])
    return None


def protect(
    values: np.ndarray,
    relations: Relations,
    *,
    rule: str | RuleSet,
    secondary: np.ndarray | None = None,
    fractional: np.ndarray | None = None,
    sensitive: np.ndarray | None = None,
    rounds: int = 100,
) -> np.ndarray:
    """Complementary withholding: flags of the counts to withhold besides those already withheld
    (``NaN`` in ``values``; ``secondary`` flags those already withheld to protect others) so that
    the attacker recovers none but those the rule itself gives away (:func:`inherent`).
    Only ``sensitive`` counts need protecting (by default those withheld on entry): a figure
    withheld to protect another may be worked out, as long as what it protects cannot.

    In each relation that pins a recovered count (:func:`_binding`), the smallest published part
    that breaks it is withheld, or the relation's total when no part can; then the attack is
    repeated.
    """
    v = np.asarray(values, dtype=float).copy()
    given = np.zeros(len(v), dtype=bool) if secondary is None else np.asarray(secondary, dtype=bool)
    extra = given.copy()
    whole = np.ones(len(v), dtype=bool) if fractional is None else ~np.asarray(fractional, dtype=bool)
    order = np.argsort(relations.part_rel, kind="stable")
    starts = np.searchsorted(relations.part_rel[order], np.arange(relations.size + 1))
    pinned = np.zeros(len(v), dtype=bool)
    guarded = np.isnan(v) if sensitive is None else np.asarray(sensitive, dtype=bool) & np.isnan(v)
    for _ in range(rounds):
        lo, hi = tighten(
            *count_bounds(v, rule=rule, secondary=extra, fractional=fractional), relations, whole=whole
        )
        pinned = recovered(guarded, lo, hi)
        if pinned.any():  # what the rule alone gives away, which withholding more cannot help
            pinned &= ~inherent(v, relations, rule=rule, secondary=extra, fractional=fractional)
        if not pinned.any():
            return extra & ~given
        from_above, any_part = _binding(pinned, lo, hi, relations)
        changed = False
        handled: set[int] = set()
        for relation_ids, positive in ((from_above, True), (any_part, False)):
            for r in relation_ids:
                if r in handled:  # one more withheld figure per relation and round
                    continue
                pick = _complement(r, v, relations, order=order, starts=starts, positive=positive)
                if pick is None:
                    continue
                handled.add(int(r))
                v[pick], extra[pick], changed = np.nan, True, True
        if not changed:  # the bound comes through withheld figures: open the sums around them
            changed = _widen(pinned, v, extra, relations, order=order, starts=starts)
        if not changed:
            break
    raise DisclosureError(
        "complementary withholding could not protect every withheld count",
        where="disclosure.attack.protect",
        expected=f"no recovered count after at most {rounds} rounds",
        got=f"{int(pinned.sum())} still recovered",
        hint="report this: a published table whose every figure is withheld still gives a count away",
    )
