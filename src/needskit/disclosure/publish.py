"""The one publish step: the internal store made fit for an audience, under one rule set.

:func:`publish` takes the internal profile, indicators, ledger and register and returns what a
published store holds for ``public`` or ``partner`` readers:

* datasets whose sharing level may not reach the audience are left out everywhere (profile,
  indicators made from them, ledger, register);
* every count (kinds ``count`` and ``class``) goes through the disclosure rule as one table per
  dataset, measure, level and period (areas × categories), so that no suppressed cell can be
  recovered from the totals of that table; ``value`` then holds the published number (missing
  where withheld), ``value_published`` the text (``"*"``), ``suppressed`` the flag;
* indicators whose count numerator would be withheld are withheld too (value, limits and
  counts), with the reason; published counts are rounded as the rule rounds them;
* the whole published store is attacked as an outsider would (:mod:`needskit.disclosure.audit`:
  parent - children, place - members, period - period, indicator - categories, rate x
  population) and more figures are withheld until no withheld count can be worked out; the
  published log counts what the rule did per table without saying which figure is which;
* rejected rows, problems and other row-level partner records are never published.

Reports for an audience read only the published store.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from needskit.disclosure import RULE_SETS, apply_rules, filter_for_audience
from needskit.disclosure.sharing import Audience
from needskit.errors import DisclosureError, NeedskitWarning

__all__ = ["Published", "publish", "publish_indicators", "allowed_datasets", "withheld_reason"]

_TABLE_KEYS = ["dataset", "measure", "level", "period", "vintage", "kind", "sharing"]


@dataclass
class Published:
    """What a published store holds (see :func:`publish`)."""

    profile: pd.DataFrame
    indicators: pd.DataFrame
    ledger: pd.DataFrame
    register: dict[str, pd.DataFrame]
    log: pd.DataFrame
    withheld_datasets: list[str]


def allowed_datasets(sharing: Mapping[str, str], *, audience: str) -> set[str]:
    """Datasets whose sharing level may reach ``audience`` (``open`` for public; ``open`` and
    ``partner`` for partners)."""
    levels = {"public": {"open"}, "partner": {"open", "partner"}}
    if audience not in levels:
        raise DisclosureError(
            "is not an audience a store is published for",
            where="audience",
            expected="'public' or 'partner'",
            got=repr(audience),
        )
    return {d for d, level in sharing.items() if level in levels[audience]}


def publish_indicators(results: pd.DataFrame, *, rule: str) -> pd.DataFrame:
    """Indicators fit for publication: where a count numerator would be withheld under the
    disclosure rule, the value, limits and counts are withheld too, with the reason; the counts
    shown are rounded as the rule rounds, and values and limits are made from the rounded counts;
    comparator values are the comparators' published values."""
    if results.empty:
        return results
    rs = RULE_SETS[rule]
    out = results.copy()
    counted = (
        out["statistic"].isin(["proportion", "crude_rate", "dsr", "isr", "life_expectancy"])
        & out["numerator"].notna()
    )
    rounded = np.floor(out["numerator"].fillna(0) + 0.5)
    small = counted & (rounded > 0) & (rounded <= rs.threshold)
    if rs.suppress_zero:
        small |= counted & (rounded == 0)
    _withhold(out, small.to_numpy(dtype=bool), rule=rule)
    if rs.rounding_base:
        base = rs.rounding_base
        exact = out["numerator"].to_numpy(dtype=float, na_value=np.nan, copy=True)
        for column in ("numerator", "denominator"):
            out.loc[counted & ~small, column] = (
                np.floor(out.loc[counted & ~small, column] / base + 0.5) * base
            )
        out = _from_published_counts(out, (counted & ~small).to_numpy(dtype=bool), exact=exact)
    out = _protect_periods(out, counted=counted.to_numpy(dtype=bool), rule=rule)
    return _published_comparators(out)


def withheld_reason(rule: str) -> str:
    """The one reason a published indicator gives for being withheld, whether it was small or
    withheld to protect a small one: readers (and attackers) are not told which."""
    rs = RULE_SETS[rule]
    low = 0 if rs.suppress_zero else 1
    return f"small number withheld ({rule}: {low}-{rs.threshold}, or a figure that would reveal one)"


def _protect_periods(out: pd.DataFrame, *, counted: np.ndarray, rule: str) -> pd.DataFrame:
    """Withhold, where the months of a series and their period's total would give a withheld
    count back by subtraction, the smallest other month (see :func:`needskit.disclosure.attack.protect`)."""
    from needskit.disclosure.attack import period_relations, protect

    keys = ["indicator", "area_code", "period"]
    if not set(keys) <= set(out.columns) or not counted.any():
        return out
    withheld = (out["suppressed_reason"].fillna("") == withheld_reason(rule)).to_numpy(dtype=bool)
    cells = out[counted | withheld].drop_duplicates(keys)
    relations = period_relations(cells, keys=["indicator", "area_code"])
    if relations.size == 0:
        return out
    values = cells["numerator"].to_numpy(dtype=float, na_value=np.nan)
    # readers are not told which withheld figure is small: any could be of any size
    extra = protect(values, relations, rule=rule, secondary=np.isnan(values))
    if not extra.any():
        return out
    hidden = pd.MultiIndex.from_frame(cells.loc[extra, keys])
    _withhold(out, pd.MultiIndex.from_frame(out[keys]).isin(hidden), rule=rule)
    return out


def _withhold(out: pd.DataFrame, rows: np.ndarray, *, rule: str) -> None:
    """Withhold the indicators of ``rows`` in place: value, count and limits, with the one reason;
    a withheld value is not compared or ranked either (its significance would hint at it)."""
    limit_cols = [c for c in out.columns if c.startswith(("lower_", "upper_"))]
    out.loc[rows, ["value", "numerator"] + limit_cols] = np.nan
    out.loc[rows, "suppressed_reason"] = withheld_reason(rule)
    if "comparison" in out:
        out.loc[rows, "comparison"] = "not_compared"
    if "quintile" in out:
        out.loc[rows, "quintile"] = pd.NA


def _published_comparators(out: pd.DataFrame) -> pd.DataFrame:
    """Each row's comparator value is the comparator's own published value (withheld where it is
    withheld), never the internal one."""
    keys = ["indicator", "area_code", "period"]
    if not {"comparator_code", "comparator_value", *keys} <= set(out.columns):
        return out
    own = out.drop_duplicates(keys).set_index(keys)["value"]
    wanted = pd.MultiIndex.from_arrays([out["indicator"], out["comparator_code"], out["period"]])
    found = wanted.isin(own.index)
    out.loc[found, "comparator_value"] = own.reindex(wanted[found]).to_numpy()
    return out


def _from_published_counts(out: pd.DataFrame, rows: np.ndarray, *, exact: np.ndarray) -> pd.DataFrame:
    """Values and limits made from the published (rounded) counts, as published percentages are
    (:func:`needskit.disclosure.published_percentages`), so that neither value × denominator nor
    the width of an interval gives back a count that rounding hid.

    Proportions (Wilson) and crude rates (Poisson) are recomputed from the published numerator
    and denominator; indirectly standardised ratios and rates from the published observed count
    (the expected count is not a count of people); directly standardised rates are scaled to the
    published count with Dobson limits around it. Life expectancy is not made from one count and
    is left as it is.
    """
    from needskit.needs.statistics.limits import byars_limits, poisson_limits, poisson_method, wilson_limits

    x = out["numerator"].to_numpy(dtype=float, na_value=np.nan)
    n = out["denominator"].to_numpy(dtype=float, na_value=np.nan)
    m = out["multiplier"].to_numpy(dtype=float, na_value=np.nan) if "multiplier" in out else np.ones(len(out))
    value = out["value"].to_numpy(dtype=float, na_value=np.nan, copy=True)
    statistic = out["statistic"].to_numpy(dtype=object)
    ratio = rows & np.isin(statistic, ["proportion", "crude_rate"]) & ~np.isnan(value)
    no_denominator = ratio & ~(n > 0)
    proportion = ratio & (n > 0) & (statistic == "proportion")
    rate = ratio & (n > 0) & (statistic == "crude_rate")
    scaled = rows & np.isin(statistic, ["isr", "dsr"]) & (exact > 0) & ~np.isnan(value)
    isr, dsr = scaled & (statistic == "isr"), scaled & (statistic == "dsr")
    new = value.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        new[proportion | rate] = (x / n * m)[proportion | rate]
        new[scaled] = (value * x / exact)[scaled]
        for lower_col in [c for c in out.columns if c.startswith("lower_")]:
            upper_col = "upper_" + lower_col.removeprefix("lower_")
            if upper_col not in out:
                continue
            try:
                level = float(lower_col.removeprefix("lower_").replace("_", ".")) / 100
            except ValueError:  # not a confidence limit
                continue
            lower = out[lower_col].to_numpy(dtype=float, na_value=np.nan, copy=True)
            upper = out[upper_col].to_numpy(dtype=float, na_value=np.nan, copy=True)
            w_lower, w_upper = wilson_limits(x, np.where(n > 0, n, np.nan), level)
            p_lower, p_upper = poisson_limits(np.nan_to_num(x), level)
            b_lower, b_upper = byars_limits(np.nan_to_num(x), level)
            e_lower, _ = byars_limits(np.nan_to_num(exact), level)
            spread = (value - lower) / (
                exact - e_lower
            )  # Dobson: √(var/O) x multiplier, from the exact limits
            lower[proportion], upper[proportion] = (w_lower * m)[proportion], (w_upper * m)[proportion]
            lower[rate], upper[rate] = (p_lower / n * m)[rate], (p_upper / n * m)[rate]
            lower[isr], upper[isr] = (value * p_lower / exact)[isr], (value * p_upper / exact)[isr]
            lower[dsr], upper[dsr] = (new + spread * (b_lower - x))[dsr], (new + spread * (b_upper - x))[dsr]
            lower[no_denominator], upper[no_denominator] = np.nan, np.nan
            out[lower_col], out[upper_col] = lower, upper
    new[no_denominator] = np.nan
    out["value"] = new
    if "method" in out:
        recount = rate | isr
        out.loc[recount, "method"] = poisson_method(x)[recount]
    out.loc[no_denominator, "suppressed_reason"] = "the published denominator rounds to 0"
    return out


def _complete_tables(counts: pd.DataFrame) -> pd.DataFrame:
    """Every table of counts (areas x categories per dataset, measure, level, period) made complete:
    a category an area has no row for is a true zero (a class no neighbourhood of a region is in,
    a crime type with no crime) and is added as 0, so that secondary suppression sees the whole
    table and the zero is published like any other figure."""
    if counts.empty:
        return counts
    table = counts.groupby(_TABLE_KEYS, sort=False, observed=True, dropna=False).ngroup()
    frame = counts.assign(_table=table.to_numpy())
    areas = frame[["_table", "area_code"]].drop_duplicates()
    categories = frame[["_table", "category"]].drop_duplicates()
    full = areas.merge(categories, on="_table")
    if len(full) == len(frame):
        return counts
    keys = frame.drop_duplicates("_table").set_index("_table")[_TABLE_KEYS]
    present = pd.MultiIndex.from_frame(frame[["_table", "area_code", "category"]])
    absent = full[~pd.MultiIndex.from_frame(full).isin(present)]
    added = absent.join(keys, on="_table").drop(columns="_table").assign(value=0.0)
    if "area_name" in counts.columns:
        names = counts.drop_duplicates("area_code").set_index("area_code")["area_name"]
        added["area_name"] = added["area_code"].map(names)
    return pd.concat([counts, added.reindex(columns=counts.columns)], ignore_index=True)


def _publish_profile(profile: pd.DataFrame, *, rule: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    counts = profile[profile["kind"] != "value"]
    values = profile[profile["kind"] == "value"]
    if RULE_SETS[rule].secondary:
        counts = _complete_tables(counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        published, log = apply_rules(
            counts[["area_code", "category", "value"] + _TABLE_KEYS].reset_index(drop=True),
            rule=rule,
            rows="area_code",
            columns="category",
            by=_TABLE_KEYS,
            totals="both" if rule == "lt5_secondary" else False,
            allow_fractional=True,
        )
    published = published[~published["is_total"]].copy()
    published["value"] = pd.to_numeric(published["value_published"], errors="coerce").astype(float)
    if "area_name" in profile.columns:
        names = profile.drop_duplicates("area_code").set_index("area_code")["area_name"]
        published["area_name"] = published["area_code"].map(names)
    values = values.assign(
        value_published=values["value"].map(lambda v: f"{v:g}"),
        suppressed=False,
        disclosure_rule="none (not a count)",
    )
    columns = list(profile.columns) + ["value_published", "suppressed", "disclosure_rule"]
    out = pd.concat([published.reindex(columns=columns), values.reindex(columns=columns)], ignore_index=True)
    return out.sort_values(
        ["dataset", "level", "area_code", "measure", "category", "period"], ignore_index=True
    ), log


def _protect_store(
    profile: pd.DataFrame,
    indicators: pd.DataFrame,
    log: pd.DataFrame,
    *,
    members: pd.DataFrame,
    specs: Sequence,
    truth_profile: pd.DataFrame,
    truth_indicators: pd.DataFrame,
    rule: str,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Withhold, across the whole published store, the figures that would give a withheld
    count back (see :mod:`needskit.disclosure.audit`); each is logged as a secondary suppression."""
    from needskit.disclosure.audit import protect_store, store_cells

    cells = store_cells(
        profile,
        indicators,
        members=members,
        specs=specs,
        truth_profile=truth_profile,
        truth_indicators=truth_indicators,
        rule=rule,
    )
    extra = protect_store(cells, rule=rule)
    if extra.empty:
        return profile, indicators, log
    profile, indicators = profile.copy(), indicators.copy()
    rows = extra.loc[extra["table"] == "profile", "row"].to_numpy()
    profile.loc[rows, ["value"]] = np.nan
    profile.loc[rows, "value_published"] = "*"
    profile.loc[rows, "suppressed"] = True
    added = profile.loc[rows, [c for c in log.columns if c in profile.columns]].assign(
        action="secondary suppression",
        reason="secondary: a figure that would reveal a withheld count across levels, periods or tables",
        rule=rule,
        is_total=False,
    )
    log = pd.concat([log, added.reindex(columns=log.columns)], ignore_index=True)
    keys = ["indicator", "period", "level", "area_code"]
    hidden = extra[extra["table"] == "indicators"]
    if len(hidden):
        wanted = pd.MultiIndex.from_frame(hidden[keys].astype(str))
        _withhold(indicators, pd.MultiIndex.from_frame(indicators[keys].astype(str)).isin(wanted), rule=rule)
        indicators = _published_comparators(indicators)
    return profile, indicators, log


def publish(
    *,
    profile: pd.DataFrame,
    indicators: pd.DataFrame,
    ledger: pd.DataFrame,
    register: Mapping[str, pd.DataFrame],
    sharing: Mapping[str, str],
    audience: str,
    rule: str,
    members: pd.DataFrame | None = None,
    specs: Sequence = (),
) -> Published:
    """The internal store's content made fit for ``audience`` under ``rule`` (see the module docstring).

    Parameters
    ----------
    profile, indicators, ledger, register
        The internal store's profile, indicators (all comparators), ledger and register tables.
    sharing
        Dataset id -> sharing level (``open``, ``partner``, ``restricted``), from the catalogue.
    audience
        ``"public"`` or ``"partner"``.
    rule
        A rule set of :data:`needskit.disclosure.RULE_SETS`.
    members, specs
        Which neighbourhoods make up each area (:func:`needskit.disclosure.audit.membership`)
        and the indicator definitions: when given, the whole published store is attacked
        (parent - children, place - members, period - period, indicator - categories) and
        more figures are withheld until no withheld count can be worked out
        (:func:`needskit.disclosure.audit.protect_store`).

    Returns
    -------
    Published

    Raises
    ------
    DisclosureError
        Unknown audience or rule set.
    """
    if rule not in RULE_SETS:
        raise DisclosureError(
            "unknown disclosure rule set",
            where="rule",
            expected=f"one of {sorted(RULE_SETS)}",
            got=repr(rule),
        )
    allowed = allowed_datasets(sharing, audience=audience)
    withheld = sorted(set(sharing) - allowed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        visible = filter_for_audience(
            profile.assign(sharing=profile["dataset"].map(sharing).fillna(profile["sharing"])),
            audience=cast(Audience, audience),  # allowed_datasets checked it
        )
    published_profile, log = _publish_profile(visible, rule=rule)
    sources = indicators["sources"].fillna("").str.split(", ") if len(indicators) else pd.Series(dtype=object)
    usable = (
        sources.map(lambda names: all(n in allowed for n in names if n))
        if len(indicators)
        else pd.Series(dtype=bool)
    )
    published_indicators = publish_indicators(
        indicators[usable.to_numpy(dtype=bool)] if len(indicators) else indicators, rule=rule
    )
    if members is not None:
        published_profile, published_indicators, log = _protect_store(
            published_profile,
            published_indicators,
            log,
            members=members,
            specs=specs,
            truth_profile=visible,
            truth_indicators=indicators,
            rule=rule,
        )
    published_ledger = ledger[ledger["dataset"].isin(allowed)].reset_index(drop=True)
    published_register = {
        table: frame[frame["dataset"].isin(allowed)].reset_index(drop=True)
        for table, frame in register.items()
        if len(frame)
    }
    return Published(
        profile=published_profile,
        indicators=published_indicators.reset_index(drop=True),
        ledger=published_ledger,
        register=published_register,
        log=_log_summary(log),
        withheld_datasets=withheld,
    )


def _log_summary(log: pd.DataFrame) -> pd.DataFrame:
    """What the rule did, per published table and action, without naming cells: a published log
    that said which withheld figure was small and which protects it would tell an attacker the
    former lies in the withheld range."""
    if log.empty or "action" not in log:
        return log
    keys = [c for c in ["dataset", "measure", "level", "period", "rule", "action"] if c in log.columns]
    return log.groupby(keys, dropna=False, observed=True).size().rename("cells").reset_index()
