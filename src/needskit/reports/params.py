"""Report parameters: read the notebook's ``parameters`` cell and check values before any kernel starts.

papermill only warns about a misspelt parameter and runs the notebook anyway; a report for an area
or period that does not exist fails minutes later in some cell. Here every value is checked first,
against the notebook's own ``parameters`` cell and against the data.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from needskit.errors import ReportError

__all__ = [
    "STANDARD_PARAMETERS",
    "ReportParameters",
    "notebook_parameters",
    "profile_periods",
    "latest_profile_period",
    "latest_of",
    "validate_parameters",
]

STANDARD_PARAMETERS: dict[str, str] = {
    "area": "area code the report is about, e.g. 'E07000078'",
    "period": "period of the data, 'YYYY-MM' (default: the latest in the data)",
    "comparator": "'parent', 'england', or an area code to compare with, e.g. 'E10000013'",
    "level": "neighbourhood level for maps and tables: lsoa, msoa, ward, district, county (not above `area`)",
    "publish": "sharing level of the output: public, partner or internal",
    "indicator_set": "name of the indicator set to show",
    "disclosure_rule": "small-number rule set (needskit.disclosure.RULE_SETS), required for public/partner",
    "seed": "random seed (integer) for anything random",
}
"""The parameters ``needskit report`` sets by name. A notebook declares the ones it uses."""

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
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
    """

    parameters: dict[str, Any]
    given: dict[str, Any]
    area: str
    area_name: str
    area_level: str
    period: str
    publish: str
    disclosure_rule: str | None
    comparator: str | None = None
    period_checked: bool = True
    notes: list[str] = field(default_factory=list)


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
        raise ReportError("cannot read the notebook", where=str(path), got=f"{type(exc).__name__}: {exc}") from exc
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


def _profile_path() -> Path:
    from needskit.config.project import data_dir

    return data_dir() / "processed" / "profile.parquet"


def profile_periods(*, path: str | Path | None = None) -> list[str]:
    """The report periods of the pooled profile (``data/processed/profile.parquet``), sorted; []
    if absent: the periods of its time series (datasets with more than one period, such as the
    monthly police data), or every period when it has no series. A one-off snapshot (a census,
    a postcode directory extract) does not move the report period."""
    path = Path(path) if path is not None else _profile_path()
    if not path.exists():
        return []
    import pandas as pd

    frame = pd.read_parquet(path, columns=["dataset", "period"]).dropna().astype(str).drop_duplicates()
    counts = frame.groupby("dataset")["period"].nunique()
    series = frame[frame["dataset"].isin(counts[counts > 1].index)]
    return sorted((series if len(series) else frame)["period"].unique())


def latest_of(periods: Iterable[str]) -> str | None:
    """The latest ``YYYY-MM`` period of ``periods`` (None if there is none)."""
    monthly = [str(p) for p in periods if _PERIOD.match(str(p))]
    return max(monthly) if monthly else None


def latest_profile_period(*, fallback: str | None = None, path: str | Path | None = None) -> str:
    """The latest ``YYYY-MM`` period in the pooled profile, else ``fallback``.

    Raises
    ------
    ReportError
        No profile (or no monthly period in it) and no fallback.

    Example
    -------
    >>> latest_profile_period(fallback="2024-04", path="/nonexistent.parquet")
    '2024-04'
    """
    latest = latest_of(profile_periods(path=path))
    if latest is not None:
        return latest
    if fallback is not None:
        return fallback
    raise ReportError(
        "no period given and none found in the data",
        where=str(path if path is not None else _profile_path()),
        expected="a pooled profile with a 'period' column of YYYY-MM values",
        got="no profile" if not Path(path if path is not None else _profile_path()).exists() else "no YYYY-MM period",
        hint="pass --period YYYY-MM, or pool the data first (`needskit pool`)",
    )


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


def _custom_place(code: str, places_file: str | Path | None) -> str | None:
    """The name of the custom place whose code (slug) is ``code``, if the places file has one."""
    from needskit.config.project import project_dir

    if places_file is None:
        project = project_dir()
        places_file = (project / "conf" / "places.yml") if project is not None else None
    if places_file is None or not Path(places_file).is_file():
        return None
    from needskit.config.catalog import load_places

    loaded = load_places(places_file)
    for places in loaded if isinstance(loaded, (list, tuple)) else [loaded]:
        hit = places.areas.loc[places.areas["area_code"] == code, "area_name"]
        if len(hit):
            return str(hit.iloc[0])
    return None


def _code_levels(code: str, frame) -> list[str]:
    return [level for level in _LEVEL_ORDER if (frame[level] == code).any()]


def validate_parameters(
    notebook: str | Path,
    parameters: Mapping[str, Any],
    *,
    latest_period: Callable[[], str],
    known_periods: Callable[[], Iterable[str]] | None = None,
    optional: Mapping[str, Any] | None = None,
    places_file: str | Path | None = None,
) -> ReportParameters:
    """Check a run's parameters against the notebook and the data, before any kernel starts.

    Parameters
    ----------
    notebook
        The report notebook (one cell tagged ``parameters``).
    parameters
        Values to set; ``None`` values are treated as not given. Text values are converted to the
        type of the notebook's default (as the command line passes text).
    latest_period
        Called when no period is given (the notebook's default period is not used: a report is
        for the latest data unless told otherwise). Pluggable; :func:`needskit.reports.run_report`
        passes :func:`latest_profile_period` or the latest of ``known_periods``.
    known_periods
        Periods the data has; the period must be one of them (skipped, and noted, when it returns
        nothing).
    optional
        Values set only if the notebook declares them (e.g. ``partnership``).
    places_file
        Custom places accepted as ``area`` (default ``<project>/conf/places.yml`` if it exists).

    Returns
    -------
    ReportParameters

    Raises
    ------
    ReportError
        No ``parameters`` cell; a parameter the notebook does not declare (with the closest name);
        a value of the wrong type; an area that is neither an ONS code nor a custom place, or
        has no shipped boundaries; a map ``level`` above the area's level; an unknown comparator; a period not in the data; an unknown sharing level or
        disclosure rule; a public or partner report without a disclosure rule.
    """
    from needskit.disclosure import AUDIENCES, RULE_SETS
    from needskit.place import geography as geo

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

    # ---- area (an ONS code or a custom place) and the map level
    area = values.get("area")
    if not isinstance(area, str) or not area:
        raise ReportError(
            "no area to report on",
            where=f"parameter 'area' ({path.name})",
            expected="an area code, e.g. 'E07000078'",
            got=repr(area),
            hint="pass --area CODE" if "area" in defaults else "declare `area` in the notebook's parameters cell",
        )
    frame = geo.hierarchy()
    levels = _code_levels(area, frame)
    if levels:
        area_level = levels[0]
        area_name = str(frame.loc[frame[area_level] == area, f"{area_level}_name"].iloc[0])
        if area_level in geo.BOUNDARY_LEVELS and not (geo.load_areas(area_level)["area_code"] == area).any():
            raise ReportError(
                "has no shipped boundaries or data",
                where=f"area {area!r} ({area_name})",
                expected=f"a {area_level} inside the shipped area (Gloucestershire)",
                got=repr(area),
            )
    else:
        place = _custom_place(area, places_file)
        if place is None:
            raise ReportError(
                "is not a known area code or place",
                where=f"area {area!r}",
                expected="an LSOA, MSOA, ward, district, county, region or country code in the ONS lookups, "
                "or a place of conf/places.yml (e.g. 'west-cheltenham')",
                got=repr(area),
                hint="districts of the shipped example: E07000078 … E07000083; county: E10000013",
            )
        area_level, area_name = "place", place
    level = values.get("level") if "level" in defaults else None
    if level is not None:
        if level not in geo.LEVELS:
            raise ReportError("unknown level", where="parameter 'level'", expected=f"one of {list(geo.LEVELS)}", got=repr(level))
        if area_level in geo.LEVELS and geo.LEVELS.index(level) > geo.LEVELS.index(area_level):
            raise ReportError(
                f"is above the area's level ({area_level})",
                where=f"level {level!r}",
                expected=f"a level the area {area} divides into: one of {list(geo.LEVELS[: geo.LEVELS.index(area_level) + 1])}",
                got=repr(level),
            )

    # ---- comparator
    comparator = values.get("comparator")
    if comparator is not None and comparator not in COMPARATOR_KEYWORDS:
        if not isinstance(comparator, str) or not _code_levels(comparator, frame):
            raise ReportError(
                "is not a known area code",
                where=f"comparator {comparator!r}",
                expected=f"one of {list(COMPARATOR_KEYWORDS)} or an area code, e.g. 'E10000013' or 'E92000001' (England)",
                got=repr(comparator),
            )

    # ---- period
    period = given.get("period")  # not the notebook's default: a report is for the latest data unless told
    if period is None:
        period = latest_period()
        if "period" in defaults:
            given["period"] = period
            values["period"] = period
    period = str(period)
    known = sorted({str(p) for p in (known_periods() if known_periods is not None else [])})
    period_checked = bool(known)
    if known and period not in known:
        monthly = [p for p in known if _PERIOD.match(p)]
        raise ReportError(
            "is not a period in the data",
            where=f"period {period!r}",
            expected=f"one of {monthly[-6:] or known[-6:]} (latest {max(monthly) if monthly else known[-1]!r})",
            got=repr(period),
        )
    if not known:
        notes.append("period not checked: no pooled profile to check it against")
    if not re.match(r"^[\w.-]+$", period):
        raise ReportError("cannot name a folder", where=f"period {period!r}", expected="e.g. '2024-04'", got=repr(period))

    # ---- sharing level and disclosure rule
    publish = values.get("publish", "internal") if "publish" in defaults else "internal"
    if publish not in AUDIENCES:
        raise ReportError(
            "unknown sharing level", where="parameter 'publish'", expected=f"one of {list(AUDIENCES)}", got=repr(publish)
        )
    rule = values.get("disclosure_rule") if "disclosure_rule" in defaults else None
    if rule is not None and rule not in RULE_SETS:
        raise ReportError(
            "unknown disclosure rule set",
            where="parameter 'disclosure_rule'",
            expected=f"one of {sorted(RULE_SETS)}",
            got=repr(rule),
        )
    if publish in ("public", "partner") and rule is None:
        raise ReportError(
            f"a {publish} report needs a disclosure rule",
            where=f"{path.name}",
            expected="a `disclosure_rule` parameter naming a rule set (e.g. 'nhs_digital')",
            got="none",
            hint="declare `disclosure_rule` in the notebook's parameters cell, or publish as internal",
        )
    return ReportParameters(
        parameters=values,
        given=given,
        area=area,
        area_name=area_name,
        area_level=area_level,
        period=period,
        publish=publish,
        disclosure_rule=rule,
        comparator=comparator,
        period_checked=period_checked,
        notes=notes,
    )
