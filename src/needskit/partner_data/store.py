"""The store: what the pipeline makes, written once per stage, read by reports and notebooks.

One folder (``data/processed/`` by default) holds everything a report needs, so that reports
and notebooks never pool, compute an indicator or apply disclosure themselves::

    store.json                  manifest: partnership, area, chapters, sources, stages with their inputs
    profile.parquet             the pooled long profile (every level, period, dataset, measure)
    profile.gpkg                the same for QGIS: one wide layer per level (latest period)
    ledger.csv  ledger_measures.csv  problems.csv  rejected/<dataset>.csv.gz
    code_agreement.csv          per dataset and period: rows assigned by the publisher's own LSOA code
                                (police.uk) that have a point, and how many points lie in that LSOA
    geography/areas.gpkg        the partnership's areas: one layer per level, and its places
    geography/hierarchy.parquet the partnership's LSOAs and the areas they lie in
    geography/places.parquet    how LSOAs make up the partnership's own places
    geography/centres.parquet   population-weighted centre of each LSOA (postcode points)
    register/<table>.parquet    resource register: services, spend, catchments
    indicators.parquet          every indicator, area, period and comparator (+ indicators_<level>.csv)

A published store (``data/published/<audience>/``, written by ``needskit publish``) has the same
layout with disclosure control applied and nothing row-level, and ``indicators.gpkg`` for QGIS
(:mod:`needskit.reports.geopackage`). Each stage writes a new store
folder beside the old one and swaps it in with one atomic rename, under a lock beside the store
(``.processed.lock``): a stage that fails or crashes leaves the previous store complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import functools
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from needskit._atomic import link_tree, lock_path, locked, recover, staged_folder
from needskit.config.project import data_files, expand_path, sha256_file
from needskit.errors import StoreError
from needskit.place.geography import BOUNDARY_LEVELS, Geography

__all__ = ["Store", "STORE_VERSION", "file_record", "now_iso"]

STORE_VERSION = 1
MANIFEST = "store.json"


def now_iso() -> str:
    """The time now, ISO 8601 with the local offset (stage stamps).

    Microseconds, not seconds: the stamps also say which pool the indicators were computed from
    and which stages a published store was made from, and two stages can finish within a second.
    """
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="microseconds")


def file_record(path: Path, *, root: Path | None = None) -> dict[str, Any]:
    """What the manifest records of an input file: path (relative to ``root``), size, mtime, SHA-256."""
    stat = path.stat()
    name = path.resolve().as_posix()
    if root is not None:
        with contextlib.suppress(ValueError):
            name = path.resolve().relative_to(root.resolve()).as_posix()
    return {"file": name, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256_file(path)}


class Store:
    """A store folder: read what the pipeline wrote; write a stage atomically.

    Parameters
    ----------
    path
        The folder (``data/processed`` or ``data/published/<audience>``).
    root
        The project folder, against which input paths in the manifest are relative.
    """

    def __init__(self, path: str | Path, *, root: str | Path | None = None) -> None:
        self.path = Path(path)
        self.root = Path(root) if root is not None else None

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # ------------------------------------------------------------------ manifest

    def exists(self) -> bool:
        return (self.path / MANIFEST).is_file()

    def manifest(self) -> dict[str, Any]:
        """The store's manifest (``store.json``).

        Raises
        ------
        StoreError
            No store here (with the command that makes one).
        """
        path = self.path / MANIFEST
        if not self.path.exists() and any(self.path.parent.glob(f".{self.path.name}.old-*")):
            with locked(self._real(), what="store"):  # a swap a crash interrupted: the old store back
                recover(self._real())
        if not path.is_file():
            raise StoreError(
                "no store here",
                where=str(self.path),
                expected=f"{MANIFEST} written by the pipeline",
                hint="run `needskit run` (pool, indicators, publish) in the project folder",
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("store_version") != STORE_VERSION:
            raise StoreError(
                "was written by another version of needskit",
                where=str(path),
                expected=f"store_version {STORE_VERSION}",
                got=repr(data.get("store_version")),
                hint="run `needskit run` to rebuild it",
            )
        return data

    @property
    def audience(self) -> str:
        return str(self.manifest().get("audience", "internal"))

    def stage(self, name: str) -> dict[str, Any]:
        """A stage's record (``pool``, ``indicators``, ``publish``), or raise naming the command to run."""
        stages = self.manifest().get("stages", {})
        if name not in stages:
            command = {
                "pool": "needskit pool",
                "indicators": "needskit indicators",
                "publish": "needskit publish",
            }[name]
            raise StoreError(
                f"has no {name} stage", where=str(self.path), hint=f"run `{command}` (or `needskit run`)"
            )
        return dict(stages[name])

    # ------------------------------------------------------------------ reading

    def missing_datasets(self) -> dict[str, str]:
        """Optional datasets the pool found no files for: dataset id to the reason."""
        return dict(self.stage("pool").get("missing", {}))

    def register_sources(self) -> dict[str, dict[str, Any]]:
        """The datasets that feed the resource register: dataset id to ``title``, ``table``,
        ``service_type``, ``located`` (rows placed in the area) and, when none was, ``reason``
        and ``hint`` (e.g. no postcode directory given, and where to drop one)."""
        return {k: dict(v) for k, v in self.stage("pool").get("register", {}).items()}

    def unavailable_indicators(self) -> dict[str, dict[str, str]]:
        """Indicators that could not be made: id to ``title``, ``theme`` and ``reason`` (e.g.
        "no police.uk street-level crime data given: drop the files into data/raw/police/ ...")."""
        return {k: dict(v) for k, v in self.stage("indicators").get("unavailable", {}).items()}

    def _file(self, relative: str, *, stage: str) -> Path:
        path = self.path / relative
        if not path.exists():
            self.stage(stage)  # names the command when the stage never ran
            raise StoreError(
                "is missing from the store", where=str(path), hint="run `needskit run` to rebuild the store"
            )
        return path

    def read_profile(
        self, *, levels: Sequence[str] | None = None, datasets: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The pooled profile (optionally only some levels or datasets)."""
        filters: list[tuple[str, str, Any]] = []
        if levels is not None:
            filters.append(("level", "in", list(levels)))
        if datasets is not None:
            filters.append(("dataset", "in", list(datasets)))
        return pd.read_parquet(self._file("profile.parquet", stage="pool"), filters=filters or None)

    def read_indicators(
        self,
        *,
        levels: Sequence[str] | None = None,
        comparator: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Every indicator for every area, period and comparator kind (or one comparator kind;
        only some ``columns``)."""
        filters: list[tuple[str, str, Any]] = []
        if levels is not None:
            filters.append(("level", "in", list(levels)))
        if comparator is not None:
            filters.append(("comparator", "==", comparator))
        return pd.read_parquet(
            self._file("indicators.parquet", stage="indicators"),
            filters=filters or None,
            columns=list(columns) if columns is not None else None,
        )

    def read_ledger(self) -> pd.DataFrame:
        return pd.read_csv(self._file("ledger.csv", stage="pool"))

    def read_problems(self) -> pd.DataFrame:
        """What the pool found (``dataset``, ``severity``, ``what``, ``count``, ``hint`` ...)."""
        return pd.read_csv(self._file("problems.csv", stage="pool"), dtype={"hint": "string"})

    def read_agreement(self) -> pd.DataFrame:
        """Code against point, per dataset and period (``dataset``, ``period``, ``rows_compared``,
        ``rows_agreeing``, ``share``; no rows when no dataset has a code column)."""
        return pd.read_csv(self._file("code_agreement.csv", stage="pool"), dtype={"period": str})

    def read_hierarchy(self) -> pd.DataFrame:
        """The partnership's LSOAs and the code and name of every area they lie in."""
        return pd.read_parquet(self._file("geography/hierarchy.parquet", stage="pool"))

    def read_place_members(self) -> pd.DataFrame:
        """How LSOAs make up the partnership's own places: ``lsoa_code``, ``area_code``, ``weight``,
        ``level``."""
        path = self.path / "geography" / "places.parquet"
        if not path.exists():
            return pd.DataFrame(columns=["lsoa_code", "area_code", "weight", "level"])
        return pd.read_parquet(path)

    def area_levels(self) -> list[str]:
        """Layers of ``geography/areas.gpkg`` (levels with boundaries, and ``places``)."""
        path = self._file("geography/areas.gpkg", stage="pool")
        return [str(name) for name, _ in pyogrio.list_layers(path)]

    def read_areas(self, level: str) -> gpd.GeoDataFrame:
        """The partnership's areas of ``level`` (or ``"places"``): ``area_code``, ``area_name``, geometry."""
        path = self._file("geography/areas.gpkg", stage="pool")
        layers = self.area_levels()
        if level not in layers:
            raise StoreError(
                f"has no {level} boundaries",
                where=str(path),
                expected=f"one of {layers}",
                hint="name boundaries of that level under reference.boundaries in conf/partnership.yml",
            )
        return pyogrio.read_dataframe(path, layer=level)

    def read_centres(self) -> gpd.GeoDataFrame | None:
        """Population-weighted centres of the partnership's LSOAs, if the pipeline could make them."""
        path = self.path / "geography" / "centres.parquet"
        return gpd.read_parquet(path) if path.exists() else None

    def read_register(self, table: str) -> pd.DataFrame:
        """A resource-register table (``services``, ``spend``, ``catchments``); empty when no dataset
        feeds it."""
        path = self.path / "register" / f"{table}.parquet"
        if not path.exists():
            self.stage("pool")
            return pd.DataFrame()
        return pd.read_parquet(path)

    def geography(self) -> Geography:
        """The partnership's geography as the store holds it: its LSOAs' hierarchy and the
        boundaries of its areas, for aggregating and mapping in reports (no national lookups)."""
        vintage = int(self.manifest().get("area", {}).get("vintage", 2021))
        layers = set(self.area_levels())
        return Geography(
            hierarchies={vintage: self.read_hierarchy},
            boundaries={
                (level, vintage): functools.partial(self.read_areas, level)
                for level in BOUNDARY_LEVELS
                if level in layers
            },
            sources={"store": str(self.path)},
        )

    def periods(self) -> list[str]:
        """The report periods: the analysis periods the indicators stage summed the monthly
        series into (``2024-H2``, ``2025-H1``; :meth:`period_table`), or, before that stage or
        with no series, the periods of the profile."""
        table = self.period_table()
        if len(table):
            return table["period"].tolist()
        frame = pd.read_parquet(self._file("profile.parquet", stage="pool"), columns=["dataset", "period"])
        frame = frame.dropna().astype(str).drop_duplicates()
        counts = frame.groupby("dataset")["period"].nunique()
        series = frame[frame["dataset"].isin(counts[counts > 1].index)]
        return sorted((series if len(series) else frame)["period"].unique())

    def period_table(self) -> pd.DataFrame:
        """The analysis periods of the monthly series, with the months each holds (``period``,
        ``first``, ``last``, ``months_present``, ``months_expected``, ``complete``, ``missing``);
        no rows when the store has no monthly series (or no indicators stage yet)."""
        record = self.manifest().get("stages", {}).get("indicators", {}).get("periods", {})
        columns = ["period", "first", "last", "months_present", "months_expected", "complete", "missing"]
        return pd.DataFrame(record.get("table", []), columns=columns)

    def period_kind(self) -> str | None:
        """``half-year``, ``quarter`` or ``year``: what the analysis periods are (None before the
        indicators stage)."""
        record = self.manifest().get("stages", {}).get("indicators", {}).get("periods", {})
        return record.get("kind")

    # ------------------------------------------------------------------ freshness

    def check_fresh(self, *, internal: Store | None = None) -> None:
        """Refuse a store older than its inputs, in one line with the command to run.

        Checks that every input and config file the pool and indicator stages read is unchanged
        (size and time, then SHA-256), that no new file matches a dataset's path, that the
        indicators were computed from this pool, and, for a published store, that it was
        published from the internal store as it is now.

        Raises
        ------
        StoreError
            The store is missing, or stale (what changed and the command to run).
        """
        manifest = self.manifest()
        stages = manifest.get("stages", {})
        for name in ("pool", "indicators"):
            if name not in stages:
                self.stage(name)
        errors = int(stages["pool"].get("errors", 0) or 0)
        if errors:
            raise StoreError(
                f"its pool recorded {errors} error-level problem{'s' if errors > 1 else ''} "
                "(data would be missing from every figure)",
                where=str(self.path),
                expected="a pool without errors",
                hint="see problems.csv (or `needskit validate`), fix the files and run `needskit run`",
            )
        if manifest.get("audience", "internal") != "internal":
            source = stages.get("publish", {}).get("from", {})
            if internal is not None and internal.exists():
                current = {k: internal.stage(k).get("finished") for k in ("pool", "indicators")}
                if current != source:
                    raise StoreError(
                        "is older than the internal store it was published from",
                        where=str(self.path),
                        hint="run `needskit publish` (or `needskit run`)",
                    )
            return
        if stages["indicators"].get("pool_finished") != stages["pool"].get("finished"):
            raise StoreError(
                "holds indicators of an earlier pool",
                where=str(self.path),
                hint="run `needskit indicators` (or `needskit run`)",
            )
        for name, command in (("pool", "needskit pool"), ("indicators", "needskit indicators")):
            for record in stages[name].get("inputs", []) + stages[name].get("config", []):
                changed = self._changed(record)
                if changed:
                    raise StoreError(
                        f"is older than its inputs: {record['file']} {changed} since `{command}` ran "
                        f"({stages[name].get('finished')})",
                        where=str(self.path),
                        hint="run `needskit run` to bring the store up to date",
                    )
        known = {r["file"] for r in stages["pool"].get("inputs", [])}
        for pattern in stages["pool"].get("patterns", []):
            for found in data_files(expand_path(pattern, self.root)):
                name = self._relative(Path(found))
                if name not in known:
                    raise StoreError(
                        f"is older than its inputs: {name} is new since `needskit pool` ran",
                        where=str(self.path),
                        hint="run `needskit run` to bring the store up to date",
                    )

    def _relative(self, path: Path) -> str:
        if self.root is not None:
            with contextlib.suppress(ValueError):
                return path.resolve().relative_to(self.root.resolve()).as_posix()
        return path.resolve().as_posix()

    def _changed(self, record: Mapping[str, Any]) -> str | None:
        path = Path(record["file"])
        if not path.is_absolute() and self.root is not None:
            path = self.root / path
        if not path.exists():
            return "is gone"
        stat = path.stat()
        if stat.st_size == record.get("bytes") and stat.st_mtime_ns == record.get("mtime_ns"):
            return None
        return None if sha256_file(path) == record.get("sha256") else "has changed"

    # ------------------------------------------------------------------ writing

    @property
    def lock_path(self) -> Path:
        """The lock file of the store's writers: ``.<folder name>.lock`` beside the folder."""
        return lock_path(self._real())

    def _real(self) -> Path:
        return Path(os.path.realpath(self.path))

    @contextlib.contextmanager
    def transaction(self, stage: str, *, owns: Sequence[str] = ()) -> Iterator[Path]:
        """Write a stage: yields an empty temporary folder for the stage's files.

        On success a new store folder is made beside the old one (the stage's files, and links to
        the old store's other entries except those the stage ``owns``: names or glob patterns it
        alone writes, dropped even when it writes them no more) and swapped in with one atomic
        rename, so a crash leaves the old store or the new one, complete. On failure the store is
        untouched. Runs that write the same store are serialised by a lock beside it (a second
        run waits, then fails with one line); temporary folders of crashed runs are removed.
        """
        target = self._real()
        with locked(target, what="store"):
            with staged_folder(target, keep=lambda _name: False) as new:
                yield new
                written = {item.name for item in new.iterdir()}
                if target.is_dir():
                    for entry in sorted(target.iterdir()):
                        if (
                            entry.name in written
                            or entry.name.startswith(".tmp-")
                            or any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in owns)
                        ):
                            continue
                        link_tree(entry, new / entry.name)

    def updated_manifest(self, stage: str, record: Mapping[str, Any], **top: Any) -> dict[str, Any]:
        """The manifest with ``stage`` set to ``record`` (and its finish time) and top-level keys set."""
        current: dict[str, Any] = {}
        if (self.path / MANIFEST).is_file():
            try:
                current = self.manifest()
            except StoreError:
                current = {}
        stages = dict(current.get("stages", {}))
        stages[stage] = {**record, "finished": now_iso()}
        return {**current, **top, "store_version": STORE_VERSION, "stages": stages}

    @staticmethod
    def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
