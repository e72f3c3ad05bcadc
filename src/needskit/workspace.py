"""``needskit init``: a new partnership's workspace for any set of English areas.

:func:`init_workspace` checks the area codes against the national lookups shipped with needskit
(:func:`check_area_codes`: unknown codes, Welsh, Scottish and Northern Irish codes, codes of a
level too small to be a partnership, overlapping codes, and retired codes with their successor
named), then writes the workspace from ``needskit/templates/workspace``:

* ``conf/partnership.yml`` (the area, comparators parent, region and England, default chapters),
  ``conf/catalog.yml`` (the national datasets, used where needskit ships them, and the drop
  folders), ``conf/indicators.yml``, an empty ``conf/places.yml``, a starter
  ``conf/outcomes.yml`` marked illustrative and an empty ``conf/delivery.yml``;
* the drop folders ``data/raw/police/``, ``data/raw/postcodes/`` and ``data/raw/partner/``, each
  with a README saying what to put there;
* ``notebooks/`` (the report notebooks, to open in JupyterLab), ``reports/``, a README and a
  ``.gitignore``.

Inside the workspace, ``needskit run`` then ``needskit report needs-profile --area CODE`` make a
baseline needs profile from national open data alone, offline.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from needskit.config.project import needskit_home
from needskit.errors import CatalogError
from needskit.partner_data.reference import read_ons_lookups
from needskit.place.extent import CHAPTER_ORDER, join_names

__all__ = ["AreaCode", "check_area_codes", "init_workspace", "WorkspaceCreated", "AREA_LEVELS"]

TEMPLATE = Path(__file__).resolve().parent / "templates" / "workspace"
AREA_LEVELS = ("district", "county", "region", "icb", "pfa", "csp")
"""Levels and area types a partnership's area can be made of (in the national lookups)."""
_LEVEL_WORDS = {
    "district": "district, unitary or borough",
    "county": "county or unitary",
    "region": "region",
    "icb": "integrated care board",
    "pfa": "police force area",
    "csp": "community safety partnership",
}
_NATIONS = {"W": "Welsh", "S": "Scottish", "N": "Northern Irish"}
_GSS = re.compile(r"[A-Z]\d{8}")
_LOOKUPS_2021 = (
    "lookup_lsoa21_ward24_ltla24",
    "lookup_lsoa21_msoa21",
    "lookup_ltla23_utla23",
    "lookup_ltla24_region24",
    "lookup_lsoa21_icb24",
    "lookup_ltla24_csp24_pfa24",
)
_CHAPTER_WORDS = {
    "county": "counties and unitaries",
    "district": "districts",
    "ward": "wards",
    "msoa": "MSOAs",
}
_SMALL = {"lsoa": "an LSOA", "msoa": "an MSOA", "ward": "a ward"}
_WRITTEN = (
    "conf/partnership.yml",
    "conf/catalog.yml",
    "conf/indicators.yml",
    "conf/places.yml",
    "conf/outcomes.yml",
    "conf/delivery.yml",
)


@dataclass(frozen=True)
class AreaCode:
    """An area code checked against the national lookups: its level, name and LSOAs."""

    code: str
    level: str
    name: str
    lsoas: frozenset[str]


@dataclass(frozen=True)
class WorkspaceCreated:
    """What :func:`init_workspace` made."""

    root: Path
    name: str
    areas: tuple[AreaCode, ...]
    chapter_level: str
    chapters: int
    lsoas: int
    files: tuple[Path, ...]

    def summary(self) -> list[str]:
        """The lines ``needskit init`` prints."""
        names = ", ".join(f"{a.code} {a.name} ({_LEVEL_WORDS[a.level]})" for a in self.areas)
        return [
            f"created the needskit workspace {self.root} for {self.name}",
            f"area: {names}: {self.lsoas:,} LSOAs (2021); "
            f"chapters: {self.chapters} {_CHAPTER_WORDS.get(self.chapter_level, self.chapter_level)}; "
            "comparators: parent, region, England",
            "drop police.uk street-level files into data/raw/police/ and postcode tables (ONSPD, NSPL "
            "or Code-Point Open) into data/raw/postcodes/; until then those figures say they are not "
            "available",
            f"next: cd {self.root} && needskit run && needskit report needs-profile",
        ]


@functools.cache
def _national() -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = needskit_home() / "data" / "raw"
    files = [raw / "lookups" / f"{stem}.csv.gz" for stem in _LOOKUPS_2021]
    table = read_ons_lookups(files, vintage=2021, where="the national lookups shipped with needskit")
    retired_file = raw / "lookups" / "retired_areas.csv.gz"
    retired = (
        pd.read_csv(retired_file, dtype=str)
        if retired_file.is_file()
        else pd.DataFrame(columns=["code", "name", "level", "successor_codes", "successor_names"])
    )
    return table, retired.set_index("code")


def check_area_codes(codes: Sequence[str]) -> tuple[AreaCode, ...]:
    """The codes of ``--area`` checked against England's 2021 lookups.

    Raises
    ------
    CatalogError
        One line per kind of mistake: no code, not an ONS code, a Welsh, Scottish or Northern
        Irish code, a retired code (its successors named), an unknown code, an LSOA, MSOA or
        ward code, a code given twice or inside another.

    Example
    -------
    >>> [a.name for a in check_area_codes(["E06000023"])]  # doctest: +SKIP
    ['Bristol, City of']
    """
    if not codes:
        raise CatalogError(
            "needs at least one area",
            where="--area",
            expected="ONS codes such as E06000023 (a unitary) or E10000013 (a county)",
        )
    table, retired = _national()
    out: list[AreaCode] = []
    for raw in codes:
        code = str(raw).strip().upper()
        where = f"--area {raw}"
        if not _GSS.fullmatch(code):
            raise CatalogError(
                "is not an ONS area code",
                where=where,
                expected="a nine-character GSS code such as E06000023 or E10000013",
                got=repr(raw),
            )
        if code[0] in _NATIONS:
            raise CatalogError(
                f"is a {_NATIONS[code[0]]} code: needskit covers England",
                where=where,
                expected="an English code (E...)",
                got=code,
                hint="the shipped lookups, deprivation indices and boundaries are England's",
            )
        if code in retired.index:
            row = retired.loc[code]
            successors = str(row["successor_codes"]).split("; ")
            names = str(row["successor_names"]).split("; ")
            now = " and ".join(f"{c} {n}" for c, n in zip(successors, names, strict=False))
            raise CatalogError(
                f"is a retired code ({row['name']}): its area is now {now}",
                where=where,
                expected="a code of the 2024 geography",
                got=code,
                hint=f"pass --area {' --area '.join(successors)}",
            )
        levels = [
            lv for lv in ("lsoa", "msoa", "ward") + AREA_LEVELS if lv in table and (table[lv] == code).any()
        ]
        if not levels:
            raise CatalogError(
                "is not an area code the 2021 lookups know",
                where=where,
                expected="a county (E10), unitary (E06), district (E07), metropolitan or London borough "
                "(E08/E09), region (E12), ICB (E54), police force area (E23) or community safety "
                "partnership (E22) of England",
                got=code,
            )
        if levels[0] in _SMALL:
            raise CatalogError(
                f"is {_SMALL[levels[0]]} code: a partnership's area is a district or larger",
                where=where,
                expected="the districts, unitaries or county the partnership covers",
                got=code,
                hint="name neighbourhoods as places in conf/places.yml once the workspace exists",
            )
        level = levels[0]
        rows = table[table[level] == code]
        out.append(AreaCode(code, level, str(rows[f"{level}_name"].iloc[0]), frozenset(rows["lsoa"])))
    for i, first in enumerate(out):
        for second in out[i + 1 :]:
            if first.code == second.code:
                raise CatalogError("is given twice", where=f"--area {first.code}", got=first.code)
            if first.lsoas & second.lsoas:
                inner, outer = sorted((first, second), key=lambda a: len(a.lsoas))
                relation = "lies inside" if inner.lsoas <= outer.lsoas else "overlaps"
                raise CatalogError(
                    f"{relation} {outer.code} {outer.name}",
                    where=f"--area {inner.code}",
                    expected="areas that do not overlap",
                    got=f"{inner.code} {inner.name}",
                    hint=f"give {outer.code} alone (name {inner.code} as a chapter in conf/partnership.yml)",
                )
    return tuple(out)


def _default_chapters(rows: pd.DataFrame) -> tuple[str, int]:
    for level in CHAPTER_ORDER:
        units = rows[level].dropna().nunique()
        if units >= 2:
            return level, int(units)
    return "msoa", int(rows["msoa"].dropna().nunique())


def _yaml_string(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _area_name(areas: Sequence[AreaCode]) -> str:
    return join_names([a.name for a in areas])


def init_workspace(
    target: str | Path,
    *,
    areas: Sequence[str],
    name: str | None = None,
    today: dt.date | None = None,
) -> WorkspaceCreated:
    """Create a needskit workspace for ``areas`` in ``target``.

    Parameters
    ----------
    target
        The folder to create (it may exist, but must not already hold any file this writes).
    areas
        ONS codes of the partnership's area (see :func:`check_area_codes`).
    name
        The partnership's name (default: "<area names> partnership").
    today
        The date written into the configuration (default: today).

    Raises
    ------
    CatalogError
        A bad area code, or a folder that is already a workspace.
    """
    checked = check_area_codes(areas)
    root = Path(target).expanduser().resolve()
    clashes = [f for f in _WRITTEN if (root / f).exists()]
    if clashes:
        raise CatalogError(
            "already holds a needskit workspace",
            where=str(root),
            expected="a new or empty folder",
            got=", ".join(clashes),
            hint="choose another folder, or edit the files that are there",
        )
    table, _ = _national()
    rows = table[table["lsoa"].isin(set().union(*(a.lsoas for a in checked)))]
    level, n_chapters = _default_chapters(rows)
    area_name = _area_name(checked)
    title = name.strip() if name and name.strip() else f"{area_name} partnership"
    forces = sorted(rows["pfa_name"].dropna().unique()) if "pfa_name" in rows else []
    police = (
        f"{' and '.join(forces)} police force{'s' if len(forces) > 1 else ''} (police.uk)"
        if forces
        else "the police force (police.uk)"
    )
    date = (today or dt.date.today()).isoformat()
    values = {
        "name": _yaml_string(title),
        "title": title,
        "catalog_name": _yaml_string(f"{title} catalogue"),
        "delivery_name": _yaml_string(f"{title}: already being delivered"),
        "police_force": _yaml_string(police),
        "area": ", ".join(a.code for a in checked),
        "area_names": "; ".join(f"{a.name} ({_LEVEL_WORDS[a.level]})" for a in checked),
        "chapters_note": f"here the {n_chapters} {_CHAPTER_WORDS.get(level, level)}",
        "date": date,
    }
    written: list[Path] = []
    for source in sorted(p for p in TEMPLATE.rglob("*") if p.is_file()):
        relative = source.relative_to(TEMPLATE)
        text = source.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        destination = root / relative
        if destination.exists():
            continue  # a README or .gitignore the user already has is kept
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
        written.append(destination)
    notebooks = needskit_home() / "notebooks"
    for notebook in sorted(notebooks.glob("*.ipynb")):
        destination = root / "notebooks" / notebook.name
        if not destination.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(notebook, destination)
            written.append(destination)
    _check_written(root)
    return WorkspaceCreated(
        root=root,
        name=title,
        areas=checked,
        chapter_level=level,
        chapters=n_chapters,
        lsoas=int(rows["lsoa"].nunique()),
        files=tuple(written),
    )


def _check_written(root: Path) -> None:
    """Every configuration file written loads (a template that does not is needskit's bug)."""
    from needskit.config import load_catalog, load_indicators, load_partnership, load_places
    from needskit.config.outcomes import load_delivery, load_outcomes

    conf = root / "conf"
    load_partnership(conf / "partnership.yml")
    catalog = load_catalog(conf / "catalog.yml")
    load_indicators(conf / "indicators.yml", catalog=catalog)
    load_places(conf / "places.yml")
    framework = load_outcomes(conf / "outcomes.yml")
    load_delivery(conf / "delivery.yml", outcomes=framework)
