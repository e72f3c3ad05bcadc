"""Indicator definitions (``conf/indicators.yml``): every statistic the library has, from pooled data.

Each indicator names a statistic and the pooled measures it is made of. A *term* is a dataset's
measure summed over categories (or some of them); ``dataset`` may list several datasets in order
of preference (per area, the first that has it: an LSOA table, then national district sums).

==================  ==========================================================================
statistic           terms and options
==================  ==========================================================================
``proportion``      ``numerator``, ``denominator`` (Wilson limits); ``multiplier`` 100
``crude_rate``      ``numerator``, ``denominator`` (exact Poisson / Byar); ``multiplier``
``mean``            ``value`` at LSOA level: each area's mean of its neighbourhoods (Student t)
``dsr``             ``numerator``, ``denominator`` split by ``age_band`` categories (ESP 2013 bands)
``isr``             as ``dsr``, plus ``reference`` (the area whose age-specific rates are expected,
                    e.g. ``E92000001``); ``kind: ratio`` or ``rate``
``life_expectancy`` ``numerator`` (deaths) and ``denominator`` by the 20 life-table age bands
``value``           ``value``: a published value carried as it is (an index score, a rank)
==================  ==========================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from needskit.config.catalog import THEMES, Catalog
from needskit.config.yamlfile import Entry, read_yaml
from needskit.errors import CatalogError

__all__ = [
    "STATISTICS",
    "POLARITIES",
    "TermSpec",
    "IndicatorSpec",
    "parse_indicators",
    "load_indicators",
]

STATISTICS = ("proportion", "crude_rate", "mean", "dsr", "isr", "life_expectancy", "value")
POLARITIES = ("high_is_bad", "high_is_good", "no_judgement")
_NEEDS = {
    "proportion": ("numerator", "denominator"),
    "crude_rate": ("numerator", "denominator"),
    "dsr": ("numerator", "denominator"),
    "isr": ("numerator", "denominator"),
    "life_expectancy": ("numerator", "denominator"),
    "mean": ("value",),
    "value": ("value",),
}
_DEFAULT_MULTIPLIER = {
    "proportion": 100.0,
    "crude_rate": 100.0,
    "dsr": 100_000.0,
    "isr": 1.0,
    "life_expectancy": 1.0,
    "mean": 1.0,
    "value": 1.0,
}


@dataclass(frozen=True)
class TermSpec:
    """A numerator, denominator or value: pooled measures added up.

    ``datasets`` lists datasets in order of preference: for each area the first dataset that
    has it is used (e.g. the LSOA table, then national district sums for England).
    """

    datasets: tuple[str, ...]
    measure: str
    categories: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    period: str | None = None


@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator of ``conf/indicators.yml`` (see the module docstring for the statistics)."""

    id: str
    title: str
    theme: str
    statistic: str
    polarity: str
    numerator: TermSpec | None = None
    denominator: TermSpec | None = None
    value: TermSpec | None = None
    multiplier: float = 100.0
    combine_periods: bool = False
    notes: str = ""
    unit: str = ""
    reference: str | None = None
    kind: Literal["ratio", "rate"] = "ratio"
    at_age: int = 0

    @property
    def sources(self) -> tuple[str, ...]:
        """Datasets the indicator is made from, in order."""
        terms = [t for t in (self.numerator, self.denominator, self.value) if t is not None]
        return tuple(dict.fromkeys(d for t in terms for d in t.datasets))

    @property
    def by_age(self) -> bool:
        """True for statistics computed from age bands (categories of the terms)."""
        return self.statistic in ("dsr", "isr", "life_expectancy")


def _term(data: Any, where: str) -> TermSpec:
    entry = Entry(data, where)
    datasets = entry.get("dataset", required=True, kind=(str, list))
    categories = entry.get("category", None, kind=(str, list))
    spec = TermSpec(
        datasets=(datasets,) if isinstance(datasets, str) else tuple(datasets),
        measure=entry.get("measure", required=True, kind=str),
        categories=None
        if categories is None
        else ((categories,) if isinstance(categories, str) else tuple(str(c) for c in categories)),
        exclude=tuple(str(c) for c in entry.get("exclude", [], kind=list)),
        period=None if entry.get("period") is None else str(entry.get("period")),
    )
    entry.finish()
    if spec.categories is not None and spec.exclude:
        raise CatalogError("give 'category' or 'exclude', not both", where=entry.where)
    return spec


def _indicator(key: str, value: Any, where: str) -> IndicatorSpec:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
        raise CatalogError("indicator ids are lower_snake_case", where=where, got=repr(key))
    entry = Entry(value, where)
    statistic = entry.choice("statistic", STATISTICS, required=True)
    terms = {name: entry.get(name) for name in ("numerator", "denominator", "value")}
    spec = IndicatorSpec(
        id=key,
        title=entry.get("title", required=True, kind=str),
        theme=entry.choice("theme", THEMES, required=True),
        statistic=statistic,
        polarity=entry.choice("polarity", POLARITIES, required=True),
        numerator=None if terms["numerator"] is None else _term(terms["numerator"], f"{where}.numerator"),
        denominator=None
        if terms["denominator"] is None
        else _term(terms["denominator"], f"{where}.denominator"),
        value=None if terms["value"] is None else _term(terms["value"], f"{where}.value"),
        multiplier=float(entry.get("multiplier", _DEFAULT_MULTIPLIER[statistic], kind=(int, float))),
        combine_periods=bool(entry.get("combine_periods", False, kind=bool)),
        notes=entry.get("notes", "", kind=str),
        unit=entry.get("unit", "", kind=str),
        reference=entry.get("reference", None, kind=str),
        kind=entry.choice("kind", ("ratio", "rate"), "ratio"),
        at_age=int(entry.get("at_age", 0, kind=int)),
    )
    entry.finish()
    needed = _NEEDS[statistic]
    given = [name for name, term in terms.items() if term is not None]
    if sorted(given) != sorted(needed):
        raise CatalogError(
            f"a {statistic!r} indicator needs {' and '.join(needed)}",
            where=entry.where,
            expected=f"{', '.join(needed)} (and no other term)",
            got=f"{', '.join(given) or 'no terms'}",
        )
    if statistic == "isr" and not spec.reference:
        raise CatalogError(
            "an 'isr' indicator needs the reference area whose rates are expected",
            where=entry.where,
            expected="reference: E92000001 (England) or another area code in the profile",
        )
    if spec.reference and statistic != "isr":
        raise CatalogError("'reference' is only for isr indicators", where=entry.at("reference"))
    return spec


def parse_indicators(
    data: Any, *, source: str = "indicators", catalog: Catalog | None = None
) -> tuple[IndicatorSpec, ...]:
    """Indicator definitions from loaded YAML; with ``catalog``, every source dataset must exist."""
    top = Entry(data, source)
    top.get("name", "", kind=str)
    raw = top.get("indicators", required=True, kind=dict)
    top.finish()
    specs = []
    for key, value in raw.items():
        spec = _indicator(str(key), value, f"{source}: indicators.{key}")
        if catalog is not None:
            missing = [d for d in spec.sources if d not in catalog]
            if missing:
                raise CatalogError(
                    "names datasets that are not in the catalogue",
                    where=f"{source}: indicators.{key}",
                    got=str(missing),
                    expected=f"dataset ids of {catalog.path or catalog.name}",
                )
        specs.append(spec)
    return tuple(specs)


def load_indicators(path: str | Path, *, catalog: Catalog | None = None) -> tuple[IndicatorSpec, ...]:
    """Read and check ``conf/indicators.yml``.

    Raises
    ------
    CatalogError
        Missing file, invalid YAML, a malformed indicator (file, indicator, key and line named),
        or, with ``catalog``, a dataset the catalogue does not have.
    """
    data = read_yaml(path, what="indicator definitions", hint="pass --indicators conf/indicators.yml")
    return parse_indicators(data, source=str(path), catalog=catalog)
