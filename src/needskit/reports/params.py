"""Report parameters: read the notebook's ``parameters`` cell and check values before any kernel starts.

papermill only warns about a misspelt parameter and runs the notebook anyway; a report for an area
or period that does not exist fails minutes later in some cell. Here every value is checked first,
against the notebook's own ``parameters`` cell and against the data.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from needskit.errors import ReportError
from needskit.needs.periods import period_kind
from needskit.partner_data.store import Store
from needskit.reports.context import AUDIENCES, whole_area

if TYPE_CHECKING:
    from needskit.disclosure.sharing import Audience

__all__ = [
    "STANDARD_PARAMETERS",
    "ReportParameters",
    "notebook_parameters",
    "latest_of",
    "validate_parameters",
]

STANDARD_PARAMETERS: dict[str, str] = {
    "area": "area code the report is about, e.g. 'E07000078', or a place of conf/places.yml",
    "period": "period of the data, 'YYYY-MM' (default: the latest in the store)",
    "comparator": "comparator kind the store holds: 'parent', 'england' or 'region'",
    "level": "neighbourhood level for maps and tables: lsoa, msoa, ward, district, county (not above `area`)",
    "audience": "who the report is for: public, partner or internal "
    "(public and partner read the published store)",
    "store": "folder of the internal store ('' = the project's data/processed)",
    "project": "project folder ('' = found from the working folder)",
    "seed": "random seed (integer) for anything random",
}
"""The parameters ``needskit report`` sets by name. A notebook declares the ones it uses."""

_LEVEL_ORDER = ("district", "county", "lsoa", "msoa", "ward", "region", "country")
COMPARATOR_KEYWORDS = ("parent", "england")
"""Comparator values that are not codes: the area's parent (district -> county -> England), England."""


@dataclass(frozen=True)
class ReportParameters:
    """Checked parameters of one run.

    Attributes
    ----------
    parameters
        Every parameter of the notebook with the value the run uses (defaults filled in).
    given
        The values passed to papermill (the ones that differ from, or were set over, the defaults).
    area, area_name, area_level, period, publish, disclosure_rule
        The resolved standard values: ``area_level`` is the level the area code belongs to
        (``"place"`` for a custom place of ``conf/places.yml``); ``publish`` is ``"internal"``
        when the notebook has no ``publish`` parameter.
    period_checked
        False when there was no data to check the period against.
    provisional
        Empty, or why the period is provisional (months of it not yet in the data): an internal
        report of such a period says so on every page; a published one is refused.
    """

    parameters: dict[str, Any]
    given: dict[str, Any]
    area: str
    area_name: str
    area_level: str
    period: str
    publish: Audience
    disclosure_rule: str | None
    comparator: str | None = None
    period_checked: bool = True
    notes: list[str] = field(default_factory=list)
    provisional: str = ""


# --------------------------------------------------------------------------------------------
# Notebook side


def notebook_parameters(notebook: str | Path) -> dict[str, Any]:
    """The notebook's parameters and their default values, read without starting a kernel.

    Parameters
    ----------
    notebook
        Path of a notebook with one cell tagged ``parameters``.

    Returns
    -------
    dict
        Name -> default value (a Python literal; an expression that is not a literal is kept as its
        source text).

    Raises
    ------
    ReportError
        No cell is tagged ``parameters``, or the notebook cannot be read.
    """
    import nbformat
    import papermill

    path = Path(notebook)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several types for unreadable files
        raise ReportError(
            "cannot read the notebook", where=str(path), got=f"{type(exc).__name__}: {exc}"
        ) from exc
    if not any("parameters" in cell.get("metadata", {}).get("tags", []) for cell in nb.cells):
        raise ReportError(
            "has no cell tagged 'parameters'",
            where=str(path),
            expected="one code cell tagged `parameters` holding plain values",
            hint="in JupyterLab: select the cell, open the property inspector, add the tag `parameters`",
        )
    found = papermill.inspect_notebook(str(path))
    defaults: dict[str, Any] = {}
    for name, info in found.items():
        text = info.get("default")
        try:
            defaults[name] = ast.literal_eval(text) if text is not None else None
        except (ValueError, SyntaxError):
            defaults[name] = text
    return defaults


# --------------------------------------------------------------------------------------------
# Data side: periods


def latest_of(periods: Iterable[str]) -> str | None:
    """The latest analysis period (``2025-H1``, ``2025-Q2``, ``2025``) or month (``YYYY-MM``) of
    ``periods`` (None if there is none); a span such as ``2024-01/2024-04`` is not a period."""
    kinds = [str(p) for p in periods if period_kind(p) is not None]
    return max(kinds) if kinds else None


# --------------------------------------------------------------------------------------------
# Checks


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Convert a text value (from the command line) to the type of the notebook's default."""
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    try:
        if isinstance(default, bool):
            lowered = value.strip().lower()
            if lowered in ("true", "yes", "1"):
                return True
            if lowered in ("false", "no", "0"):
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, (list, tuple, dict)):
            parsed = ast.literal_eval(value)
            if not isinstance(parsed, type(default)):
                raise ValueError(value)
            return parsed
    except (ValueError, SyntaxError) as exc:
        raise ReportError(
            "has the wrong type",
            where=f"parameter {name!r}",
            expected=f"{type(default).__name__} like the notebook's default {default!r}",
            got=repr(value),
        ) from exc
    return value


def _code_levels(code: str, frame: Any) -> list[str]:
    return [level for level in _LEVEL_ORDER if level in frame.columns and (frame[level] == code).any()]


def validate_parameters(
    notebook: str | Path,
    parameters: Mapping[str, Any],
    *,
    store: Store,
    optional: Mapping[str, Any] | None = None,
) -> ReportParameters:
    """Check a run's parameters against the notebook and the store, before any kernel starts.

    Parameters
    ----------
    notebook
        The report notebook (one cell tagged ``parameters``).
    parameters
        Values to set; ``None`` values are treated as not given. Text values are converted to the
        type of the notebook's default (as the command line passes text).
    store
        The store the report will read (the audience's): its areas, places, periods and
        comparators are what the values are checked against.
    optional
        Values set only if the notebook declares them.

    Returns
    -------
    ReportParameters

    Raises
    ------
    ReportError
        No ``parameters`` cell; a parameter the notebook does not declare (with the closest name);
        a value of the wrong type; an area that is not in the store; a map ``level`` above the
        area's level; a comparator the store does not hold; a period not in the store; an
        unknown audience.
    StoreError
        No store.
    """
    path = Path(notebook)
    defaults = notebook_parameters(path)
    given = {k: v for k, v in parameters.items() if v is not None}
    given.update({k: v for k, v in (optional or {}).items() if v is not None and k in defaults})
    unknown = [k for k in given if k not in defaults]
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, list(defaults), n=1)
        raise ReportError(
            "is not a parameter of the notebook",
            where=f"parameter {name!r} ({path.name})",
            expected=f"one of {sorted(defaults)}",
            got=repr(name) if len(unknown) == 1 else repr(unknown),
            hint=f"did you mean {close[0]!r}?" if close else "add it to the notebook's `parameters` cell",
        )
    given = {k: _coerce(k, v, defaults[k]) for k, v in given.items()}
    values = {**defaults, **given}
    notes: list[str] = []
    manifest = store.manifest()

    # ---- area (an area of the partnership or one of its places) and the map level
    area = values.get("area")
    if area in ("", "partnership"):
        area = values["area"] = whole_area(area, manifest)
    if not isinstance(area, str) or not area:
        raise ReportError(
            "no area to report on",
            where=f"parameter 'area' ({path.name})",
            expected="an area code, e.g. 'E07000078'",
            got=repr(area),
            hint="pass --area CODE"
            if "area" in defaults
            else "declare `area` in the notebook's parameters cell",
        )
    hierarchy = store.read_hierarchy()
    levels = _code_levels(area, hierarchy)
    if levels:
        area_level = levels[-1]  # a unitary (a district and a county) is reported as the county
        area_name = str(hierarchy.loc[hierarchy[area_level] == area, f"{area_level}_name"].iloc[0])
    else:
        places = store.read_place_members()
        hit = places[places["area_code"] == area]
        if hit.empty:
            chapters = manifest.get("area", {}).get("chapters", [])
            raise ReportError(
                "is not an area of the partnership or one of its places",
                where=f"area {area!r}",
                expected="a code of an area inside "
                f"{manifest.get('area', {}).get('area_name', 'the partnership')} "
                "(its LSOAs, MSOAs, wards, districts, counties) or a place of conf/places.yml",
                got=repr(area),
                hint=f"the partnership's area: {', '.join(manifest.get('area', {}).get('codes', []))}; "
                f"chapters: {', '.join(chapters)}",
            )
        outlines = store.read_areas("places")
        area_level = "place"
        area_name = str(outlines.loc[outlines["area_code"] == area, "area_name"].iloc[0])
    level = values.get("level") if "level" in defaults else None
    if level is not None:
        order = ("lsoa", "msoa", "ward", "district", "county", "region", "country")
        if level not in order:
            raise ReportError(
                "unknown level", where="parameter 'level'", expected=f"one of {list(order)}", got=repr(level)
            )
        if area_level in order and order.index(level) > order.index(area_level):
            raise ReportError(
                f"is above the area's level ({area_level})",
                where=f"level {level!r}",
                expected=f"a level the area {area} divides into: "
                f"one of {list(order[: order.index(area_level) + 1])}",
                got=repr(level),
            )

    # ---- comparator
    comparator = values.get("comparator")
    stored = manifest.get("stages", {}).get("indicators", {}).get("comparators", [])
    if comparator is not None and comparator not in stored:
        raise ReportError(
            "is not a comparator the store holds",
            where=f"comparator {comparator!r}",
            expected=f"one of {stored}",
            hint="add it to comparators: in conf/partnership.yml and run `needskit run`",
        )

    # ---- period
    period = given.get("period")  # not the notebook's default: a report is for the latest data unless told
    known = store.periods()
    table = store.period_table()
    complete = table.loc[table["complete"].astype(bool), "period"].tolist()
    if period is None or period == "latest":
        period = latest_of(complete) or latest_of(known) or (known[-1] if known else None)
        if period is None:
            raise ReportError("no period in the store", where=str(store.path), hint="run `needskit run`")
        if "period" in defaults:
            given["period"] = period
            values["period"] = period
    period = str(period)
    if known and period not in known:
        listed = [p for p in known if period_kind(p) is not None] or known
        raise ReportError(
            "is not a period in the data",
            where=f"period {period!r}",
            expected=f"one of {listed[-6:]} (latest {latest_of(listed) or listed[-1]!r})",
            got=repr(period),
            hint="a needs analysis covers a period of conf/partnership.yml (period: half-year by "
            "default): e.g. 2025-H1",
        )
    if not re.match(r"^[\w.-]+$", period):
        raise ReportError(
            "cannot name a folder", where=f"period {period!r}", expected="e.g. '2024-04'", got=repr(period)
        )

    # ---- audience (the store's)
    audience = values.get("audience", "internal") if "audience" in defaults else "internal"
    provisional = _provisional(table, period)
    if provisional and audience != "internal":
        raise ReportError(
            f"is not complete: {provisional}",
            where=f"period {period!r}",
            expected="a period with every month in the data, for a published report",
            got=repr(period),
            hint=f"publish {latest_of(complete)!r}, or run an internal report (marked PROVISIONAL)"
            if complete
            else "drop the missing months into the data folder and run `needskit run`",
        )
    if audience not in AUDIENCES:
        raise ReportError(
            "unknown audience",
            where="parameter 'audience'",
            expected=f"one of {list(AUDIENCES)}",
            got=repr(audience),
        )
    if manifest.get("audience", "internal") != audience:
        raise ReportError(
            f"is not the {audience} store",
            where=str(store.path),
            expected=f"the store published for {audience}",
            got=f"a store for {manifest.get('audience', 'internal')}",
        )
    return ReportParameters(
        parameters=values,
        given=given,
        area=area,
        area_name=area_name,
        area_level=area_level,
        period=period,
        publish=cast("Audience", audience),  # checked against AUDIENCES above
        disclosure_rule=manifest.get("disclosure_rule"),
        comparator=comparator,
        period_checked=bool(known),
        notes=notes,
        provisional=provisional,
    )


def _provisional(table: pd.DataFrame, period: str) -> str:
    """Why ``period`` is provisional (its months missing from the data), or ``""``."""
    row = table[table["period"] == period]
    if row.empty or bool(row["complete"].iloc[0]):
        return ""
    have, want = int(row["months_present"].iloc[0]), int(row["months_expected"].iloc[0])
    return f"{have} of its {want} months are in the data (missing {row['missing'].iloc[0]})"
