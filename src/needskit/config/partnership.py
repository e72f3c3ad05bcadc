"""The partnership: who it is and where it works (``conf/partnership.yml``).

Nothing in needskit's code names a partnership, an area code or a file of one: a
:class:`Partnership` read from ``conf/partnership.yml`` is passed to the pipeline, the data build,
the register and the reports. Example::

    name: Gloucestershire Strategic Partnership
    area: [E10000013]              # ONS codes: a county, unitaries, districts, an ICB, a police force area
    chapters: district             # a level, or a list of codes; default: the next level down with >= 2 units
    comparators: [parent, england] # benchmarks the store holds: parent, region, england
    period: half-year              # the needs analysis period: half-year (default), quarter or year
    disclosure:
      rule: nhs_digital            # the one rule set `needskit publish` applies
      audiences: [public]          # the published stores it writes
    residents: {dataset: population_census2021, measure: usual_residents}
    deprivation: {dataset: iod2025_scores}
    reference:                     # catalogue entries the geography is built from
      lookups: [lookups_2021, lookups_2011]
      lsoa_changes: lsoa_changes
      boundaries: [boundaries]
      postcodes: postcodes
      population: {2021: population_census2021, 2011: population_mye2020}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from needskit.config.yamlfile import Entry, read_yaml
from needskit.errors import CatalogError

__all__ = [
    "Partnership",
    "DatasetRole",
    "ReferenceNames",
    "COMPARATOR_KINDS",
    "AUDIENCE_CHOICES",
    "RULE_CHOICES",
    "PERIOD_CHOICES",
    "load_partnership",
    "parse_partnership",
]

COMPARATOR_KINDS = ("parent", "region", "england")
"""Benchmarks the store can hold for every area: its parent area, its region, England."""
AUDIENCE_CHOICES = ("public", "partner")
"""Audiences a published store can be made for (the internal store is never 'published')."""
RULE_CHOICES = ("nhs_digital", "opensafely", "lt5_secondary")
"""Disclosure rule sets (defined in :mod:`needskit.disclosure`)."""
PERIOD_CHOICES = ("quarter", "half-year", "year")
"""What a needs analysis covers: monthly series are summed into these (:mod:`needskit.needs.periods`)."""
_CHAPTER_LEVELS = ("msoa", "ward", "district", "county")
_CODE = re.compile(r"^[EWSN]\d{8}$")


@dataclass(frozen=True)
class DatasetRole:
    """A catalogue dataset (and measure) that plays a standard part in reports."""

    dataset: str
    measure: str | None = None


@dataclass(frozen=True)
class ReferenceNames:
    """Catalogue entries the partnership's :class:`~needskit.place.Geography` is built from."""

    lookups: tuple[str, ...] = ("lookups_2021", "lookups_2011")
    lsoa_changes: str | None = "lsoa_changes"
    boundaries: tuple[str, ...] = ("boundaries",)
    postcodes: str | None = "postcodes"
    population: Mapping[int, str] = field(
        default_factory=lambda: {2021: "population_census2021", 2011: "population_mye2020"}
    )

    @property
    def ids(self) -> tuple[str, ...]:
        """Every entry named, in order."""
        names = [
            *self.lookups,
            self.lsoa_changes,
            *self.boundaries,
            self.postcodes,
            *self.population.values(),
        ]
        return tuple(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class Partnership:
    """A partnership, read from ``conf/partnership.yml`` (see the module docstring).

    Attributes
    ----------
    name
        The partnership's name, on every report's cover.
    areas
        ONS codes of the area it covers (any level or area type the lookups know).
    chapters
        ``None`` (derived: the next level down with at least two units), a level name, or
        explicit codes.
    comparators
        Benchmark kinds the store holds (:data:`COMPARATOR_KINDS`).
    vintage
        LSOA vintage of the profile.
    period
        The needs analysis period (:data:`PERIOD_CHOICES`): monthly series are summed into
        half-years (default), quarters or years, and a report covers one such period.
    disclosure_rule, audiences
        The rule set ``needskit publish`` applies, and the audiences it publishes for.
    residents, deprivation
        Datasets that play standard parts: residents per area (per-head figures, access) and
        the deprivation index (priority neighbourhoods, inequality).
    reference
        Catalogue entries the geography is built from.
    source
        The file it was read from.
    """

    name: str
    areas: tuple[str, ...]
    chapters: str | tuple[str, ...] | None = None
    comparators: tuple[str, ...] = ("parent", "england")
    vintage: int = 2021
    period: str = "half-year"
    disclosure_rule: str = "nhs_digital"
    audiences: tuple[str, ...] = ("public",)
    residents: DatasetRole = DatasetRole("population_census2021", "usual_residents")
    deprivation: DatasetRole | None = DatasetRole("iod2025_scores")
    reference: ReferenceNames = ReferenceNames()
    area_name: str | None = None
    source: str = "partnership"

    def describe(self) -> dict[str, Any]:
        """A plain-data summary (written into the store's manifest)."""
        return {
            "name": self.name,
            "areas": list(self.areas),
            "area_name": self.area_name,
            "chapters": self.chapters
            if isinstance(self.chapters, str) or self.chapters is None
            else list(self.chapters),
            "comparators": list(self.comparators),
            "vintage": self.vintage,
            "period": self.period,
            "disclosure_rule": self.disclosure_rule,
            "audiences": list(self.audiences),
            "residents": {"dataset": self.residents.dataset, "measure": self.residents.measure},
            "deprivation": None if self.deprivation is None else {"dataset": self.deprivation.dataset},
        }


def _role(data: Any, where: str, at: str, *, measure_required: bool) -> DatasetRole:
    """``where`` names the key (``conf/partnership.yml: residents``); ``at`` also gives its line."""
    if isinstance(data, str):
        if measure_required:
            raise CatalogError(
                "needs a dataset and a measure",
                where=at,
                expected="{dataset: ..., measure: ...}",
                got=repr(data),
            )
        return DatasetRole(data)
    entry = Entry(data, where)
    role = DatasetRole(
        dataset=entry.get("dataset", required=True, kind=str),
        measure=entry.get("measure", required=measure_required, kind=str),
    )
    entry.finish()
    return role


def _names(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
        raise CatalogError(
            "is not a list of catalogue entry ids", where=where, expected="[entry_id, ...]", got=repr(value)
        )
    return tuple(items)


def _reference(data: Any, where: str) -> ReferenceNames:
    if data is None:
        return ReferenceNames()
    entry = Entry(data, where)
    default = ReferenceNames()
    lookups = entry.get("lookups")
    boundaries = entry.get("boundaries")
    population = entry.get("population", None, kind=dict)
    if population is not None:
        bad = [k for k in population if k not in (2011, 2021) or not isinstance(population[k], str)]
        if bad:
            raise CatalogError(
                "population weights are named by LSOA vintage",
                where=entry.at("population"),
                expected="{2021: dataset_id, 2011: dataset_id}",
                got=repr(dict(population)),
            )
    names = ReferenceNames(
        lookups=default.lookups if lookups is None else _names(lookups, entry.at("lookups")),
        lsoa_changes=entry.get("lsoa_changes", default.lsoa_changes, kind=str),
        boundaries=default.boundaries if boundaries is None else _names(boundaries, entry.at("boundaries")),
        postcodes=entry.get("postcodes", default.postcodes, kind=str),
        population=default.population
        if population is None
        else {int(k): str(v) for k, v in population.items()},
    )
    entry.finish()
    return names


def parse_partnership(data: Any, *, source: str = "partnership") -> Partnership:
    """A :class:`Partnership` from loaded YAML (see :func:`load_partnership`)."""
    top = Entry(data, source)
    name = top.get("name", required=True, kind=str).strip()
    if not name:
        raise CatalogError("the partnership needs a name", where=top.at("name"), expected="name: <text>")
    areas_raw = top.get("area", required=True, kind=(str, list))
    areas = (areas_raw,) if isinstance(areas_raw, str) else tuple(areas_raw)
    bad = [a for a in areas if not isinstance(a, str) or not _CODE.match(a)]
    if not areas or bad:
        raise CatalogError(
            "is not a list of ONS area codes",
            where=top.at("area"),
            expected="codes like E10000013 (a county), E06000050 (a unitary), E54000008 (an ICB)",
            got=repr(bad[0]) if bad else "an empty list",
        )
    chapters_raw = top.get("chapters", None, kind=(str, list))
    if isinstance(chapters_raw, str) and chapters_raw not in _CHAPTER_LEVELS:
        raise CatalogError(
            "is not a level",
            where=top.at("chapters"),
            expected=f"one of {list(_CHAPTER_LEVELS)} or a list of codes",
            got=repr(chapters_raw),
        )
    if isinstance(chapters_raw, list) and not all(isinstance(c, str) and c for c in chapters_raw):
        raise CatalogError("is not a list of area codes", where=top.at("chapters"), got=repr(chapters_raw))
    comparators = tuple(top.get("comparators", list(Partnership.comparators), kind=list))
    unknown = [c for c in comparators if c not in COMPARATOR_KINDS]
    if unknown or not comparators:
        raise CatalogError(
            "unknown comparator",
            where=top.at("comparators"),
            expected=f"some of {list(COMPARATOR_KINDS)}",
            got=repr(unknown or comparators),
        )
    vintage = top.choice("vintage", (2011, 2021), 2021)
    period = top.choice("period", PERIOD_CHOICES, Partnership.period)
    disclosure = Entry(top.get("disclosure", {}, kind=dict), f"{source}: disclosure")
    rule = disclosure.choice("rule", RULE_CHOICES, "nhs_digital")
    audiences = tuple(disclosure.get("audiences", ["public"], kind=list))
    bad_aud = [a for a in audiences if a not in AUDIENCE_CHOICES]
    if bad_aud:
        raise CatalogError(
            "unknown audience",
            where=disclosure.at("audiences"),
            expected=f"some of {list(AUDIENCE_CHOICES)}",
            got=repr(bad_aud),
        )
    disclosure.finish()
    residents_raw = top.get("residents")
    deprivation_raw = top.get("deprivation")
    partnership = Partnership(
        name=name,
        areas=areas,
        area_name=top.get("area_name", None, kind=str),
        chapters=tuple(chapters_raw) if isinstance(chapters_raw, list) else chapters_raw,
        comparators=comparators,
        vintage=vintage,
        period=period,
        disclosure_rule=rule,
        audiences=audiences,
        residents=Partnership.residents
        if residents_raw is None
        else _role(residents_raw, f"{source}: residents", top.at("residents"), measure_required=True),
        deprivation=Partnership.deprivation
        if deprivation_raw is None
        else _role(deprivation_raw, f"{source}: deprivation", top.at("deprivation"), measure_required=False),
        reference=_reference(top.get("reference"), f"{source}: reference"),
        source=source,
    )
    top.finish()
    return partnership


def load_partnership(path: str | Path) -> Partnership:
    """Read and check ``conf/partnership.yml``.

    Raises
    ------
    CatalogError
        Missing file, invalid YAML, or a malformed key (file, key and line named).
    """
    data = read_yaml(
        path,
        what="partnership",
        hint="create conf/partnership.yml (see conf/README.md), or run `needskit init`",
    )
    return parse_partnership(data, source=str(path))
