"""The attacker against a whole published store, and the complementary withholding that defeats it.

Every count a published store holds is a cell: each count of the profile (dataset, measure,
category, period, area) and each indicator's numerator (indicator, period, area). An attacker
knows each cell's published form (:func:`needskit.disclosure.attack.count_bounds`) and how
cells add up (:class:`needskit.disclosure.attack.Relations`):

* **parent - children**: an area (MSOA, ward, district, county, ...) is the sum of its
  neighbourhoods (LSOAs); a partnership's own place is the weighted sum of the neighbourhoods
  apportioned to it (**place - members**);
* **period - period**: a quarter, half-year or year is the sum of its months;
* **table - table**: an indicator's numerator is the sum of the profile's categories it is made
  of (all crime but anti-social behaviour; the four thefts), in the same area and month;
* **rate x denominator**: an indicator's value is made from its published, rounded numerator
  (:func:`needskit.disclosure.publish.publish_indicators`), so it tells nothing more.

Relations are proposed from the store's structure (its hierarchy, places and indicator
definitions) and kept only where they hold in the internal data, so the attacker uses only true
arithmetic. :func:`attack_store` lists the withheld counts the attacker pins down;
:func:`protect_store` withholds more (the smallest published figure of the smallest relation a
recovered count is in) until it pins down none. The attacker is assumed to know which withheld
figures are small (in the rule's withheld range) and which protect others (they could be
anything): outputs do not say, but guessing that every withheld figure is small is right for
most of them (:func:`store_cells`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from needskit.disclosure.attack import (
    Relations,
    count_bounds,
    inherent,
    period_relations,
    protect,
    recovered,
    tighten,
)
from needskit.disclosure.rules import RuleSet, resolve_rule

__all__ = [
    "Cells",
    "attack_store",
    "membership",
    "protect_store",
    "store_cells",
]


_PROFILE_KEYS = ["dataset", "measure", "category", "period", "vintage", "level", "area_code"]
_INDICATOR_KEYS = ["indicator", "period", "level", "area_code"]
_COUNTED = ["proportion", "crude_rate", "dsr", "isr"]


@dataclass
class Cells:
    """The counts of a published store as one table (``table``: ``profile`` or ``indicators``;
    ``row``: the first row of the table holding it; ``value``: published, ``NaN`` withheld;
    ``secondary``: withheld to protect others) and the relations between them."""

    frame: pd.DataFrame
    relations: Relations

    @property
    def values(self) -> np.ndarray:
        return self.frame["value"].to_numpy(dtype=float, na_value=np.nan)

    @property
    def secondary(self) -> np.ndarray:
        return self.frame["secondary"].to_numpy(dtype=bool)

    @property
    def sensitive(self) -> np.ndarray:
        """Withheld because small (the figures the rule protects)."""
        return self.frame["small"].to_numpy(dtype=bool)

    @property
    def fractional(self) -> np.ndarray:
        return self.frame["fractional"].to_numpy(dtype=bool)


def membership(hierarchy: pd.DataFrame, places: pd.DataFrame | None = None) -> pd.DataFrame:
    """Which neighbourhoods (LSOAs) make up each area: ``level``, ``area_code``, ``lsoa_code``,
    ``weight`` (1, or a place's share of an apportioned neighbourhood)."""
    parts = []
    if hierarchy is not None and len(hierarchy) and "lsoa" in hierarchy:
        for level in [c for c in hierarchy.columns if c != "lsoa" and not c.endswith("_name")]:
            codes = hierarchy[["lsoa", level]].dropna()
            parts.append(
                pd.DataFrame(
                    {
                        "level": level,
                        "area_code": codes[level].astype(str),
                        "lsoa_code": codes["lsoa"].astype(str),
                    }
                ).assign(weight=1.0)
            )
    if places is not None and len(places):
        parts.append(
            places[["level", "area_code", "lsoa_code", "weight"]].astype(
                {"level": str, "area_code": str, "lsoa_code": str, "weight": float}
            )
        )
    if not parts:
        return pd.DataFrame(columns=["level", "area_code", "lsoa_code", "weight"])
    return pd.concat(parts, ignore_index=True).drop_duplicates(["level", "area_code", "lsoa_code"])


def _group_ids(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    return frame.groupby(keys, sort=False, observed=True, dropna=False).ngroup().to_numpy()


def _hierarchy_relations(cells: pd.DataFrame, *, keys: list[str], members: pd.DataFrame) -> Relations:
    """Each non-neighbourhood cell as the (weighted) sum of its neighbourhoods' cells with the same
    ``keys``, where every one of them is a cell."""
    if cells.empty or members.empty:
        return Relations.empty()
    table = _group_ids(cells, keys)
    frame = pd.DataFrame({"node": np.arange(len(cells)), "table": table, "level": cells["level"].to_numpy()})
    frame["area_code"] = cells["area_code"].astype(str).to_numpy()
    lsoa = frame[frame["level"] == "lsoa"]
    found = pd.Series(lsoa["node"].to_numpy(), index=pd.MultiIndex.from_frame(lsoa[["table", "area_code"]]))
    found = found[~found.index.duplicated()]
    parents = frame[frame["level"] != "lsoa"].merge(members, on=["level", "area_code"], how="inner")
    if parents.empty:
        return Relations.empty()
    wanted = pd.MultiIndex.from_arrays([parents["table"].to_numpy(), parents["lsoa_code"].to_numpy()])
    part = found.reindex(wanted).to_numpy(dtype=float)
    parents = parents.assign(part=part)
    incomplete = parents.loc[parents["part"].isna(), "node"].unique()
    parents = parents[~parents["node"].isin(incomplete)]
    if parents.empty:
        return Relations.empty()
    rel = parents.groupby("node", sort=True).ngroup().to_numpy()
    totals = parents.drop_duplicates("node").sort_values("node")["node"].to_numpy()
    return Relations(
        totals.astype(np.int64),
        rel.astype(np.int64),
        parents["part"].to_numpy(dtype=np.int64),
        parents["weight"].to_numpy(dtype=float),
    )


def _category_relations(cells: pd.DataFrame, *, specs: Sequence) -> Relations:
    """Each indicator numerator as the sum of the profile categories it is made of, in the same
    area, level and period (``specs``: :class:`needskit.config.indicators.IndicatorSpec`)."""
    profile = cells[cells["table"] == "profile"]
    indicators = cells[cells["table"] == "indicators"]
    if profile.empty or indicators.empty:
        return Relations.empty()
    totals: list[int] = []
    rels: list[np.ndarray] = []
    parts: list[np.ndarray] = []
    place = ["area_code", "level", "period"]
    for spec in specs:
        term = getattr(spec, "numerator", None)
        if term is None or spec.statistic not in _COUNTED:
            continue
        own = indicators[indicators["indicator"] == spec.id]
        if own.empty:
            continue
        rows = profile[profile["dataset"].isin(term.datasets) & (profile["measure"] == term.measure)]
        if term.categories is not None:
            rows = rows[rows["category"].isin(term.categories)]
        elif term.exclude:
            rows = rows[~rows["category"].isin(term.exclude)]
        if rows.empty:
            continue
        # per area the first dataset that has it, as the indicators stage does
        rank = rows["dataset"].map({d: i for i, d in enumerate(term.datasets)})
        first = rank.groupby([rows[k] for k in place], observed=True).transform("min")
        rows = rows[(rank == first).to_numpy(dtype=bool)]
        joined = (
            own[place]
            .reset_index()
            .merge(rows[place].reset_index(), on=place, how="inner", suffixes=("_total", "_part"))
        )
        if joined.empty:
            continue
        base = len(totals)
        ids = joined.groupby("index_total", sort=True).ngroup().to_numpy()
        totals.extend(
            joined.drop_duplicates("index_total").sort_values("index_total")["index_total"].tolist()
        )
        rels.append(ids + base)
        parts.append(joined["index_part"].to_numpy())
    if not totals:
        return Relations.empty()
    return Relations(
        np.array(totals, dtype=np.int64),
        np.concatenate(rels).astype(np.int64),
        np.concatenate(parts).astype(np.int64),
    )


def _true(relations: Relations, truth: np.ndarray) -> Relations:
    """The relations that hold for the true counts (to within rounding error)."""
    if relations.size == 0:
        return relations
    w = relations.weights
    sums = np.bincount(
        relations.part_rel, weights=w * np.nan_to_num(truth[relations.part_cell]), minlength=relations.size
    )
    missing = np.bincount(
        relations.part_rel,
        weights=np.isnan(truth[relations.part_cell]).astype(float),
        minlength=relations.size,
    )
    total = truth[relations.total]
    ok = (missing == 0) & ~np.isnan(total) & (np.abs(total - sums) <= 1e-6 * np.maximum(1.0, np.abs(total)))
    return relations.select(ok)


def _keyed(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``table`` with its key columns as text categories (fast to filter, group and match)."""
    present = [k for k in keys if k in table.columns]
    if table.empty or not present:
        return table
    return table.assign(**{k: table[k].astype(str).astype("category") for k in present})


def store_cells(
    profile: pd.DataFrame,
    indicators: pd.DataFrame,
    *,
    members: pd.DataFrame,
    specs: Sequence = (),
    truth_profile: pd.DataFrame,
    truth_indicators: pd.DataFrame,
    rule: str | RuleSet,
    knows_small: bool = True,
) -> Cells:
    """The counts of a published ``profile`` and ``indicators`` and the relations between them
    that hold in the internal data (``truth_*``: the internal tables they were published from).

    What the attacker knows of a withheld figure (``secondary`` in the result: any value
    ``>= 0``; otherwise the ``rule``'s withheld range): needskit's outputs do not say why a figure
    was withheld, but an attacker who guesses that every withheld figure is small guesses right
    for most of them, and is then as strong as one who is told. So by default
    (``knows_small``) the attacker knows which withheld figures are small (their true value
    lies in the rule's withheld range) and that the others could be anything; with
    ``knows_small=False`` every withheld figure could be anything. Either way only the small
    ones (``small`` in the result) must not be worked out: a figure withheld to protect another
    may be, as long as what it protects cannot.
    """
    frames = []
    truths = []
    profile, truth_profile = (_keyed(t, _PROFILE_KEYS + ["kind"]) for t in (profile, truth_profile))
    indicators, truth_indicators = (_keyed(t, _INDICATOR_KEYS) for t in (indicators, truth_indicators))
    if len(profile):
        counts = profile[profile["kind"] != "value"]
        frame = (
            counts[_PROFILE_KEYS]
            .astype(str)
            .assign(
                table="profile",
                row=counts.index.to_numpy(),
                value=counts["value"].to_numpy(dtype=float, na_value=np.nan),
                withheld=counts["suppressed"].fillna(False).to_numpy(dtype=bool),
                secondary=False,
            )
        )
        frames.append(frame)
        true = truth_profile[truth_profile["kind"] != "value"]
        index = pd.MultiIndex.from_frame(true[_PROFILE_KEYS])
        by_key = pd.Series(true["value"].to_numpy(dtype=float), index=index)
        by_key = by_key[~by_key.index.duplicated()]
        # a profile count with no internal row is a zero added to complete its table
        truths.append(
            np.nan_to_num(
                by_key.reindex(pd.MultiIndex.from_frame(frame[_PROFILE_KEYS])).to_numpy(dtype=float), nan=0.0
            )
        )
    if len(indicators):
        reason = indicators["suppressed_reason"].fillna("").astype(str)
        counted = indicators["statistic"].isin(_COUNTED) & (indicators["numerator"].notna() | (reason != ""))
        rows = indicators[counted.to_numpy(dtype=bool)].drop_duplicates(_INDICATOR_KEYS)
        why = rows["suppressed_reason"].fillna("").astype(str)
        frame = (
            rows[_INDICATOR_KEYS]
            .astype(str)
            .assign(
                table="indicators",
                row=rows.index.to_numpy(),
                value=rows["numerator"].to_numpy(dtype=float, na_value=np.nan),
                withheld=(why != "").to_numpy(dtype=bool) & rows["numerator"].isna().to_numpy(dtype=bool),
                secondary=False,
            )
        )
        frames.append(frame)
        true = truth_indicators.drop_duplicates(_INDICATOR_KEYS)
        by_key = pd.Series(
            true["numerator"].to_numpy(dtype=float, na_value=np.nan),
            index=pd.MultiIndex.from_frame(true[_INDICATOR_KEYS]),
        )
        truths.append(by_key.reindex(pd.MultiIndex.from_frame(frame[_INDICATOR_KEYS])).to_numpy(dtype=float))
    if not frames:
        return Cells(
            pd.DataFrame(columns=["table", "row", "value", "withheld", "secondary", "small", "fractional"]),
            Relations.empty(),
        )
    cells = pd.concat(frames, ignore_index=True)
    # withheld cells that were never counted (no data) are not cells
    truth = np.concatenate(truths)
    keep = ~(cells["withheld"].to_numpy() & np.isnan(truth))
    cells, truth = cells[keep].reset_index(drop=True), truth[keep]
    for column in set(_PROFILE_KEYS + _INDICATOR_KEYS) & set(cells.columns):
        cells[column] = cells[column].astype("category")
    apportioned = members.loc[members["weight"] < 1, "level"].unique() if len(members) else []
    # a count may be fractional where its level is apportioned, or where its dataset (or
    # indicator) has fractional counts at its level (figures converted between LSOA vintages)
    for column in ("dataset", "indicator"):
        if column not in cells:
            cells[column] = pd.Series(pd.NA, index=cells.index, dtype="category")
    is_profile_rows = cells["table"] == "profile"
    source = cells["dataset"].astype(object).where(is_profile_rows, cells["indicator"].astype(object))
    uneven = (
        pd.Series(np.abs(truth - np.round(truth)) > 1e-9)
        .groupby([source.to_numpy(), cells["level"].astype(str).to_numpy()])
        .transform("any")
    )
    cells["fractional"] = cells["level"].isin(list(apportioned)).to_numpy(dtype=bool) | uneven.to_numpy(
        dtype=bool
    )
    withheld = cells["withheld"].to_numpy(dtype=bool)
    rs = resolve_rule(rule)
    small = (truth >= (0.0 if rs.suppress_zero else 0.5)) & (truth < rs.threshold + 0.5)
    # a fractional count (apportioned to a place) below 1 is withheld as small too
    small |= cells["fractional"].to_numpy(dtype=bool) & (truth > 0) & (truth < rs.threshold + 0.5)
    cells["small"] = withheld & small
    cells["secondary"] = withheld & ~small if knows_small else withheld
    is_profile = (cells["table"] == "profile").to_numpy()
    profile_keys = ["dataset", "measure", "category", "period", "vintage"]
    relations = [
        _hierarchy_relations(cells[is_profile], keys=profile_keys, members=members),
        _hierarchy_relations(cells[~is_profile], keys=["indicator", "period"], members=members),
        period_relations(
            cells[is_profile], keys=["dataset", "measure", "category", "vintage", "level", "area_code"]
        ),
        period_relations(cells[~is_profile], keys=["indicator", "level", "area_code"]),
        _category_relations(cells, specs=specs),
    ]
    offsets = [0, int(is_profile.sum()), 0, int(is_profile.sum()), 0]
    shifted = [
        Relations(r.total + off, r.part_rel, r.part_cell + off, r.part_weight) if r.size else r
        for r, off in zip(relations, offsets, strict=True)
    ]
    return Cells(cells, _true(Relations.concat(shifted), truth))


def attack_store(cells: Cells, *, rule: str | RuleSet) -> pd.DataFrame:
    """The withheld cells the attacker pins down (their keys), with the value it finds and
    whether the rule alone gives it away (``inherent``: :func:`needskit.disclosure.attack.inherent`)."""
    bounds = count_bounds(cells.values, rule=rule, secondary=cells.secondary, fractional=cells.fractional)
    lo, hi = tighten(*bounds, cells.relations, whole=~cells.fractional)
    pinned = recovered(cells.sensitive, lo, hi)
    given_away = inherent(
        cells.values, cells.relations, rule=rule, secondary=cells.secondary, fractional=cells.fractional
    )
    return cells.frame[pinned].assign(found_from=lo[pinned], found_to=hi[pinned], inherent=given_away[pinned])


def protect_store(cells: Cells, *, rule: str | RuleSet) -> pd.DataFrame:
    """The cells to withhold as well so that :func:`attack_store` pins down none but those the
    rule itself gives away, and an attacker who is not told which withheld figures are small
    (so cannot use that a small one is at least 1) pins down none at all."""
    extra = np.zeros(len(cells.frame), dtype=bool)
    # the rule's give-aways are the informed attacker's; one who must allow for any withheld
    # figure being anything finds them another way, where withholding more does help; and what
    # that withholds can change what the rule alone gives away: take turns until neither adds
    for _ in range(5):
        values = np.where(extra, np.nan, cells.values)
        informed = protect(
            values,
            cells.relations,
            rule=rule,
            secondary=cells.secondary | extra,
            fractional=cells.fractional,
            sensitive=cells.sensitive,
        )
        values = np.where(informed, np.nan, values)
        blind = protect(
            values,
            cells.relations,
            rule=rule,
            secondary=np.isnan(values),
            fractional=cells.fractional,
            sensitive=cells.sensitive,
        )
        if not (informed | blind).any():
            break
        extra |= informed | blind
    return cells.frame[extra]
