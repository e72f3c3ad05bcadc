"""The outcomes framework and the delivery register (``conf/outcomes.yml``, ``conf/delivery.yml``).

A Sustainable Community Strategy sets **aims**, each with **outcomes** and the **actions** that
serve them. needskit holds it as an outcomes framework: every outcome has indicators (ids from
``conf/indicators.yml``) with a polarity and, where agreed, a target (value and date), the
partnership accountable for it and a lead organisation. A **delivery register** lists what is
"already being delivered": the activity, the partner, the outcomes it serves, the places it
serves (as written; :func:`needskit.commissioning.locate_delivery` finds them in the geography)
and its budget.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from needskit.config.catalog import THEMES
from needskit.config.yamlfile import Entry, read_yaml
from needskit.errors import CatalogError

__all__ = [
    "POLARITIES",
    "OutcomesFramework",
    "load_outcomes",
    "parse_outcomes",
    "load_delivery",
    "parse_delivery",
]

POLARITIES = ("high_is_good", "high_is_bad")
"""Whether a higher indicator value is better or worse (targets and RAG read it)."""

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_OUTCOME_FIELDS = ("indicators", "targets", "accountable", "lead", "theme", "actions")
_DELIVERY_FIELDS = ("activity", "partner", "outcomes", "places", "budget")


@dataclass(frozen=True)
class OutcomesFramework:
    """An outcomes framework as tables.

    Attributes
    ----------
    name, source, notes
        From the file.
    aims
        ``aim_id``, ``aim``, ``n_outcomes``, in file order.
    outcomes
        ``outcome_id``, ``aim_id``, ``aim``, ``outcome``, ``theme``, ``accountable``, ``lead``,
        ``n_actions``, ``n_indicators``, ``illustrative`` (True when any field is illustrative),
        ``illustrative_fields`` (which, ``"; "``-joined), in file order.
    actions
        ``outcome_id``, ``action_id`` (``"1.1.2"`` = outcome 1.1, action 2), ``action``.
    indicators
        ``outcome_id``, ``indicator_id``, ``polarity``, ``target_value``, ``target_date``,
        ``baseline_value``, ``baseline_date``, ``illustrative``.
    partnerships
        ``partnership``, ``description``, ``reports_to`` (declared partnerships, in file order;
        empty when the file declares none).
    path
        The file read, if any.
    """

    name: str
    aims: pd.DataFrame
    outcomes: pd.DataFrame
    actions: pd.DataFrame
    indicators: pd.DataFrame
    partnerships: pd.DataFrame
    source: str = ""
    notes: str = ""
    path: Path | None = None

    @property
    def indicator_ids(self) -> list[str]:
        """Every indicator id the framework uses, sorted, once."""
        return sorted(set(self.indicators["indicator_id"]))


def load_outcomes(path: str | Path) -> OutcomesFramework:
    """Read and check an outcomes framework (``conf/outcomes.yml``).

    Parameters
    ----------
    path
        The YAML file. Its layout::

            name: Gloucester Sustainable Community Strategy
            partnerships:                      # optional; when given, `accountable` must be one
              Positive Lives Partnership: {description: ..., reports_to: Strategic Leadership Group}
            aims:
              - id: "1"
                title: A place where the future matters
                outcomes:
                  - id: "1.1"
                    title: We have minimised Gloucester's contribution to climate change ...
                    theme: housing_environment           # optional, a catalogue theme key
                    accountable: Positive Development Group
                    lead: Gloucester City Council
                    actions: [Reduce the need to travel by car, ...]
                    indicators:
                      - {id: co2_emissions_per_head, polarity: high_is_bad,
                         target: {value: 4.0, date: 2030-03-31}}
                    illustrative: [indicators, targets, accountable, lead]

    Returns
    -------
    OutcomesFramework

    Raises
    ------
    CatalogError
        Missing file, invalid YAML, unknown keys, missing fields, a bad polarity, a target
        without a value or date, a date that is not YYYY-MM-DD, an id used twice, an
        accountable partnership that is not declared. The message names the file and the key
        (e.g. ``conf/outcomes.yml: aims[0].outcomes[1].indicators[0].target``).

    Examples
    --------
    >>> framework = load_outcomes("conf/outcomes.yml")  # doctest: +SKIP
    >>> framework.outcomes[["outcome_id", "accountable"]]  # doctest: +SKIP
    """
    path = Path(path)
    data = read_yaml(path, what="outcomes framework")
    framework = parse_outcomes(data, source=str(path))
    return OutcomesFramework(**{**framework.__dict__, "path": path})


def _date(value: Any, where: str, key: str) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and _DATE.match(value):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise CatalogError(f"{key!r} is not a date", where=where, expected="YYYY-MM-DD", got=repr(value))


def _number(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise CatalogError(f"{key!r} is not a number", where=where, expected="a number", got=repr(value))
    return float(value)


def _point(data: Any, where: str) -> tuple[float, str]:
    """A {value, date} pair (a target or a baseline)."""
    entry = Entry(data, where)
    value = entry.get("value", required=True)
    date = entry.get("date", required=True)
    entry.finish()
    return _number(value, where, "value"), _date(date, where, "date")


def _text_id(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CatalogError("'id' is not a text or number", where=where, got=repr(value))
    return str(value)


def _illustrative(value: Any, where: str, allowed: Sequence[str]) -> list[str]:
    if value is None or value is False:
        return []
    if value is True:
        return ["all"]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise CatalogError(
                "'illustrative' names unknown fields",
                where=where,
                expected=f"true, false or some of {list(allowed)}",
                got=repr(unknown),
            )
        return list(value)
    raise CatalogError(
        "'illustrative' has the wrong type",
        where=where,
        expected="true, false or a list of fields",
        got=repr(value),
    )


def parse_outcomes(data: Any, *, source: str = "outcomes") -> OutcomesFramework:
    """Build an :class:`OutcomesFramework` from already-loaded YAML data (checks as :func:`load_outcomes`)."""
    top = Entry(data, source)
    name = top.get("name", required=True, kind=str)
    src = top.get("source", "", kind=str)
    notes = top.get("notes", "", kind=str)
    partnerships_raw = top.get("partnerships", {}, kind=dict)
    aims_raw = top.get("aims", required=True, kind=list)
    top.finish()
    if not aims_raw:
        raise CatalogError("has no aims", where=f"{source}: aims", expected="at least one aim")

    partnerships = []
    for key, value in partnerships_raw.items():
        where = f"{source}: partnerships.{key}"
        entry = Entry(value or {}, where)
        partnerships.append(
            {
                "partnership": str(key),
                "description": entry.get("description", "", kind=str),
                "reports_to": entry.get("reports_to", None, kind=str),
            }
        )
        entry.finish()
    declared = {p["partnership"] for p in partnerships}
    for p in partnerships:
        if p["reports_to"] is not None and p["reports_to"] not in declared:
            raise CatalogError(
                "'reports_to' is not a declared partnership",
                where=f"{source}: partnerships.{p['partnership']}",
                expected=f"one of {sorted(declared)}",
                got=repr(p["reports_to"]),
            )

    aims, outcomes, actions, indicators = [], [], [], []
    seen_aims: set[str] = set()
    seen_outcomes: set[str] = set()
    for a, aim_raw in enumerate(aims_raw):
        where_aim = f"{source}: aims[{a}]"
        aim = Entry(aim_raw, where_aim)
        aim_id = _text_id(aim.get("id", required=True), where_aim)
        aim_title = aim.get("title", required=True, kind=str)
        aim.get("description", "", kind=str)
        outcomes_raw = aim.get("outcomes", required=True, kind=list)
        aim.finish()
        if aim_id in seen_aims:
            raise CatalogError("aim id is used twice", where=where_aim, got=repr(aim_id))
        seen_aims.add(aim_id)
        if not outcomes_raw:
            raise CatalogError(
                "has no outcomes", where=f"{where_aim}.outcomes", expected="at least one outcome"
            )
        aims.append({"aim_id": aim_id, "aim": aim_title, "n_outcomes": len(outcomes_raw)})
        for o, outcome_raw in enumerate(outcomes_raw):
            where = f"{where_aim}.outcomes[{o}]"
            entry = Entry(outcome_raw, where)
            outcome_id = _text_id(entry.get("id", required=True), where)
            title = entry.get("title", required=True, kind=str)
            theme = entry.choice("theme", THEMES)
            accountable = entry.get("accountable", required=True, kind=str)
            lead = entry.get("lead", required=True, kind=str)
            actions_raw = entry.get("actions", [], kind=list)
            indicators_raw = entry.get("indicators", required=True, kind=list)
            flagged = _illustrative(entry.get("illustrative"), where, _OUTCOME_FIELDS)
            entry.get("notes", "", kind=str)
            entry.finish()
            if outcome_id in seen_outcomes:
                raise CatalogError("outcome id is used twice", where=where, got=repr(outcome_id))
            seen_outcomes.add(outcome_id)
            if declared and accountable not in declared:
                raise CatalogError(
                    "'accountable' is not a declared partnership",
                    where=where,
                    expected=f"one of {sorted(declared)}",
                    got=repr(accountable),
                    hint="add it under partnerships:, or fix the spelling",
                )
            if not indicators_raw:
                raise CatalogError(
                    "has no indicators", where=f"{where}.indicators", expected="at least one indicator id"
                )
            for n, action_raw in enumerate(actions_raw, start=1):
                where_action = f"{where}.actions[{n - 1}]"
                if isinstance(action_raw, str):
                    action_id, action_text = f"{outcome_id}.{n}", action_raw
                else:
                    action = Entry(action_raw, where_action)
                    action_id = _text_id(action.get("id", f"{outcome_id}.{n}"), where_action)
                    action_text = action.get("title", required=True, kind=str)
                    action.finish()
                actions.append({"outcome_id": outcome_id, "action_id": action_id, "action": action_text})
            seen_indicators: set[str] = set()
            for i, indicator_raw in enumerate(indicators_raw):
                where_ind = f"{where}.indicators[{i}]"
                ind = Entry(indicator_raw, where_ind)
                indicator_id = ind.get("id", required=True, kind=str)
                polarity = ind.choice("polarity", POLARITIES, required=True)
                target = ind.get("target")
                baseline = ind.get("baseline")
                ind.get("title", "", kind=str)
                ind.get("notes", "", kind=str)
                ind_illustrative = ind.get("illustrative", False, kind=bool)
                ind.finish()
                if not _ID.match(indicator_id):
                    raise CatalogError(
                        "indicator ids are lower_snake_case", where=where_ind, got=repr(indicator_id)
                    )
                if indicator_id in seen_indicators:
                    raise CatalogError("indicator is listed twice", where=where_ind, got=repr(indicator_id))
                seen_indicators.add(indicator_id)
                t_value, t_date = (
                    _point(target, f"{where_ind}.target") if target is not None else (np.nan, None)
                )
                b_value, b_date = (
                    _point(baseline, f"{where_ind}.baseline") if baseline is not None else (np.nan, None)
                )
                indicators.append(
                    {
                        "outcome_id": outcome_id,
                        "indicator_id": indicator_id,
                        "polarity": polarity,
                        "target_value": t_value,
                        "target_date": t_date,
                        "baseline_value": b_value,
                        "baseline_date": b_date,
                        "illustrative": bool(
                            ind_illustrative or {"all", "indicators", "targets"} & set(flagged)
                        ),
                    }
                )
            outcomes.append(
                {
                    "outcome_id": outcome_id,
                    "aim_id": aim_id,
                    "aim": aim_title,
                    "outcome": title,
                    "theme": theme,
                    "accountable": accountable,
                    "lead": lead,
                    "n_actions": len(actions_raw),
                    "n_indicators": len(indicators_raw),
                    "illustrative": bool(flagged),
                    "illustrative_fields": "; ".join(flagged),
                }
            )
    return OutcomesFramework(
        name=name,
        aims=pd.DataFrame(aims, columns=["aim_id", "aim", "n_outcomes"]),
        outcomes=pd.DataFrame(outcomes),
        actions=pd.DataFrame(actions, columns=["outcome_id", "action_id", "action"]),
        indicators=pd.DataFrame(indicators).astype({"target_date": "string", "baseline_date": "string"}),
        partnerships=pd.DataFrame(partnerships, columns=["partnership", "description", "reports_to"]),
        source=src,
        notes=notes,
    )


def load_delivery(path: str | Path, *, outcomes: OutcomesFramework | None = None) -> pd.DataFrame:
    """Read and check a delivery register (``conf/delivery.yml``): what is already being delivered.

    Parameters
    ----------
    path
        The YAML file. Its layout::

            name: Gloucester Partnership — already being delivered (2010)
            district: E07000081        # optional: where ward names are looked up
            activities:
              - id: park_and_ride
                activity: Park and ride
                partner: Gloucester City Council
                programme: Climate Change Strategy        # optional
                outcomes: ["1.1"]
                places: [Gloucester]                       # district/ward/county codes or names
                budget: 850000                             # £ a year; optional
                confirmed: true                            # false: listed with a question mark
                illustrative: [places, budget]             # which fields are made up (or true)
                notes: ...

    outcomes
        The framework the activities serve: outcome ids that it does not have are an error.

    Returns
    -------
    DataFrame, one row per activity, outcome and place (an activity serving two outcomes in three
    places has six rows): ``activity_id``, ``activity``, ``partner``, ``programme``,
    ``outcome_id``, ``place`` (as written: a ward, district or county code or name),
    ``district`` (the file's ``district:``, where ward names are looked up), ``where`` (file and
    entry, for messages), ``budget_gbp`` (the
    activity's whole budget, repeated on each of its rows; missing when unknown),
    ``confirmed``, ``illustrative`` (True when any field is made up), ``illustrative_fields``,
    ``notes``.

    Raises
    ------
    CatalogError
        Missing file, invalid YAML, unknown keys, missing fields, unknown outcome ids, place
        a negative budget, an id used twice. (Place names are checked against the geography by
        :func:`needskit.commissioning.locate_delivery`.)

    Examples
    --------
    >>> delivery = load_delivery(
    ...     "conf/delivery.yml", outcomes=load_outcomes("conf/outcomes.yml")
    ... )  # doctest: +SKIP
    """
    path = Path(path)
    data = read_yaml(path, what="delivery register")
    return parse_delivery(data, source=str(path), outcomes=outcomes)


DELIVERY_COLUMNS = (
    "activity_id",
    "activity",
    "partner",
    "programme",
    "outcome_id",
    "place",
    "district",
    "where",
    "budget_gbp",
    "confirmed",
    "illustrative",
    "illustrative_fields",
    "notes",
)
"""Columns of the delivery table (empty, with these columns, when nothing is recorded yet)."""


def parse_delivery(
    data: Any, *, source: str = "delivery", outcomes: OutcomesFramework | None = None
) -> pd.DataFrame:
    """Build the delivery table from already-loaded YAML data (checks as :func:`load_delivery`)."""
    top = Entry(data, source)
    top.get("name", required=True, kind=str)
    top.get("source", "", kind=str)
    top.get("notes", "", kind=str)
    district = top.get("district", None, kind=str)
    activities_raw = top.get("activities", required=True, kind=list)
    top.finish()

    known_outcomes = set(outcomes.outcomes["outcome_id"]) if outcomes is not None else None

    rows = []
    seen: set[str] = set()
    for k, raw in enumerate(activities_raw):
        where = f"{source}: activities[{k}]"
        entry = Entry(raw, where)
        activity_id = entry.get("id", required=True, kind=str)
        activity = entry.get("activity", required=True, kind=str)
        partner = entry.get("partner", required=True, kind=str)
        programme = entry.get("programme", "", kind=str)
        outcome_ids = entry.get("outcomes", required=True, kind=list)
        places = entry.get("places", required=True, kind=list)
        budget = entry.get("budget")
        confirmed = entry.get("confirmed", True, kind=bool)
        flagged = _illustrative(entry.get("illustrative"), where, _DELIVERY_FIELDS)
        notes = entry.get("notes", "", kind=str)
        entry.finish()
        if not _ID.match(activity_id):
            raise CatalogError("activity ids are lower_snake_case", where=where, got=repr(activity_id))
        if activity_id in seen:
            raise CatalogError("activity id is used twice", where=where, got=repr(activity_id))
        seen.add(activity_id)
        if not outcome_ids:
            raise CatalogError(
                "serves no outcome", where=f"{where}.outcomes", expected="one or more outcome ids"
            )
        if not places:
            raise CatalogError("has no places", where=f"{where}.places", expected="one or more places")
        outcome_ids = [_text_id(o, f"{where}.outcomes") for o in outcome_ids]
        if known_outcomes is not None:
            unknown = [o for o in outcome_ids if o not in known_outcomes]
            if unknown:
                raise CatalogError(
                    "names outcomes the framework does not have",
                    where=f"{where}.outcomes",
                    expected=f"ids among {sorted(known_outcomes)}",
                    got=repr(unknown),
                )
        if budget is not None:
            budget = _number(budget, where, "budget")
            if budget < 0:
                raise CatalogError(
                    "'budget' is negative", where=where, expected="£ 0 or more", got=repr(budget)
                )
        written = [str(p).strip() for p in places]
        for outcome_id in dict.fromkeys(outcome_ids):
            for place in dict.fromkeys(written):
                rows.append(
                    {
                        "activity_id": activity_id,
                        "activity": activity,
                        "partner": partner,
                        "programme": programme,
                        "outcome_id": outcome_id,
                        "place": place,
                        "district": district,
                        "where": f"{where}.places",
                        "budget_gbp": np.nan if budget is None else budget,
                        "confirmed": confirmed,
                        "illustrative": bool(flagged),
                        "illustrative_fields": "; ".join(flagged),
                        "notes": notes,
                    }
                )
    return pd.DataFrame(rows, columns=DELIVERY_COLUMNS)
