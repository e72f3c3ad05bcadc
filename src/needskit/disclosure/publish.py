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
* rejected rows, problems and other row-level partner records are never published.

Reports for an audience read only the published store.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from needskit.disclosure import RULE_SETS, apply_rules, filter_for_audience
from needskit.errors import DisclosureError, NeedskitWarning

__all__ = ["Published", "publish", "publish_indicators", "allowed_datasets"]

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
        raise DisclosureError("is not an audience a store is published for", where="audience",
                              expected="'public' or 'partner'", got=repr(audience))  # fmt: skip
    return {d for d, level in sharing.items() if level in levels[audience]}


def publish_indicators(results: pd.DataFrame, *, rule: str) -> pd.DataFrame:
    """Indicators fit for publication: where a count numerator would be withheld under the
    disclosure rule, the value, limits and counts are withheld too, with the reason; the counts
    shown are rounded as the rule rounds."""
    if results.empty:
        return results
    rs = RULE_SETS[rule]
    out = results.copy()
    counted = out["statistic"].isin(["proportion", "crude_rate", "dsr", "isr", "life_expectancy"]) & out["numerator"].notna()
    rounded = np.floor(out["numerator"].fillna(0) + 0.5)
    small = counted & (rounded > 0) & (rounded <= rs.threshold)
    if rs.suppress_zero:
        small |= counted & (rounded == 0)
    limit_cols = [c for c in out.columns if c.startswith(("lower_", "upper_"))]
    out.loc[small, ["value", "numerator"] + limit_cols] = np.nan
    out.loc[small, "suppressed_reason"] = f"small number withheld ({rule}: 1-{rs.threshold})"
    if "comparison" in out:  # a withheld value is not compared either (its significance would hint at it)
        out.loc[small, "comparison"] = "not_compared"
    if "quintile" in out:
        out.loc[small, "quintile"] = pd.NA
    if rs.rounding_base:
        base = rs.rounding_base
        for column in ("numerator", "denominator"):
            out.loc[counted & ~small, column] = np.floor(out.loc[counted & ~small, column] / base + 0.5) * base
    return out


def _publish_profile(profile: pd.DataFrame, *, rule: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    counts = profile[profile["kind"] != "value"]
    values = profile[profile["kind"] == "value"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        published, log = apply_rules(
            counts[["area_code", "category", "value"] + _TABLE_KEYS].reset_index(drop=True),
            rule=rule, rows="area_code", columns="category", by=_TABLE_KEYS,
            totals="both" if rule == "lt5_secondary" else False, allow_fractional=True,
        )  # fmt: skip
    published = published[~published["is_total"]].copy()
    published["value"] = pd.to_numeric(published["value_published"], errors="coerce").astype(float)
    if "area_name" in profile.columns:
        names = profile.drop_duplicates("area_code").set_index("area_code")["area_name"]
        published["area_name"] = published["area_code"].map(names)
    values = values.assign(
        value_published=values["value"].map(lambda v: f"{v:g}"), suppressed=False, disclosure_rule="none (not a count)"
    )
    columns = list(profile.columns) + ["value_published", "suppressed", "disclosure_rule"]
    out = pd.concat([published.reindex(columns=columns), values.reindex(columns=columns)], ignore_index=True)
    return out.sort_values(["dataset", "level", "area_code", "measure", "category", "period"], ignore_index=True), log


def publish(
    *,
    profile: pd.DataFrame,
    indicators: pd.DataFrame,
    ledger: pd.DataFrame,
    register: Mapping[str, pd.DataFrame],
    sharing: Mapping[str, str],
    audience: str,
    rule: str,
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

    Returns
    -------
    Published

    Raises
    ------
    DisclosureError
        Unknown audience or rule set.
    """
    if rule not in RULE_SETS:
        raise DisclosureError("unknown disclosure rule set", where="rule", expected=f"one of {sorted(RULE_SETS)}", got=repr(rule))
    allowed = allowed_datasets(sharing, audience=audience)
    withheld = sorted(set(sharing) - allowed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NeedskitWarning)
        visible = filter_for_audience(profile.assign(sharing=profile["dataset"].map(sharing).fillna(profile["sharing"])), audience=audience)
    published_profile, log = _publish_profile(visible, rule=rule)
    sources = indicators["sources"].fillna("").str.split(", ") if len(indicators) else pd.Series(dtype=object)
    usable = sources.map(lambda names: all(n in allowed for n in names if n)) if len(indicators) else pd.Series(dtype=bool)
    published_indicators = publish_indicators(indicators[usable.to_numpy(dtype=bool)] if len(indicators) else indicators, rule=rule)
    published_ledger = ledger[ledger["dataset"].isin(allowed)].reset_index(drop=True)
    published_register = {
        table: frame[frame["dataset"].isin(allowed)].reset_index(drop=True) for table, frame in register.items() if len(frame)
    }
    return Published(
        profile=published_profile,
        indicators=published_indicators.reset_index(drop=True),
        ledger=published_ledger,
        register=published_register,
        log=log,
        withheld_datasets=withheld,
    )
