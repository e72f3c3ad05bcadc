"""Writing the store, one stage at a time: pool, indicators, publish
(see :mod:`~needskit.partner_data.store`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from needskit.config.catalog import DatasetSpec
from needskit.partner_data.pooling import PoolResult
from needskit.partner_data.problems import problems_frame
from needskit.partner_data.store import STORE_VERSION, Store, file_record, now_iso
from needskit.safe_text import write_csv

__all__ = [
    "write_pool_stage",
    "write_indicators_stage",
    "write_published_stage",
    "wide_layers",
    "source_table",
]

POOL_OUTPUTS = (
    "profile.parquet",
    "profile.gpkg",
    "ledger.csv",
    "ledger_measures.csv",
    "code_agreement.csv",
    "problems.csv",
    "rejected",
    "geography",
    "register",
)
"""What the pool stage alone writes: a new pool drops the old pool's files it does not write again
(the rejected rows of a dataset no longer pooled, the places of a place file now empty)."""

SOURCE_COLUMNS = [
    "dataset",
    "title",
    "partner",
    "period",
    "last_updated",
    "licence",
    "sharing",
    "attribution",
    "illustrative",
]


def source_table(datasets: Sequence[DatasetSpec], *, ledger: pd.DataFrame | None = None) -> pd.DataFrame:
    """The data sources of a store, for report appendices: one row per dataset.

    A dataset's period is its fixed value, its declared range or, when its periods come from the
    data, the first and last period the ``ledger`` holds for it (else the period column's name).
    """
    pooled: dict[str, list[str]] = {}
    if ledger is not None and len(ledger):
        known = ledger[ledger["period"].astype(str) != "unknown"]
        pooled = {str(d): sorted(g["period"].astype(str)) for d, g in known.groupby("dataset")}
    rows = []
    for spec in datasets:
        seen = pooled.get(spec.id)
        if spec.period.value:
            period = spec.period.value
        elif spec.period.range:
            period = f"{spec.period.range[0]} to {spec.period.range[1]}"
        elif seen:
            period = seen[0] if seen[0] == seen[-1] else f"{seen[0]} to {seen[-1]}"
        else:
            period = spec.period.column or ""
        rows.append(
            {
                "dataset": spec.id,
                "title": spec.title,
                "partner": spec.partner,
                "period": str(period),
                "last_updated": str(spec.last_updated),
                "licence": spec.licence,
                "sharing": spec.sharing,
                "attribution": ", ".join(spec.attribution),
                "illustrative": bool(spec.illustrative),
            }
        )
    return pd.DataFrame(rows, columns=SOURCE_COLUMNS)


def register_sources(result: PoolResult) -> dict[str, dict[str, Any]]:
    """The datasets that feed the resource register, for the pool stage's record: per dataset its
    ``title``, register ``table``, ``service_type`` (services), ``located`` (rows placed in the
    area) and, when none was, ``reason`` (the commonest problem, e.g. "no postcode directory
    given") and ``hint`` (what to do), so a report can say why the register has none of them."""
    ledger = result.ledger
    problems = problems_frame(result.problems)
    out: dict[str, dict[str, Any]] = {}
    for spec in result.datasets:
        if spec.register is None:
            continue
        rows = ledger[ledger["dataset"] == spec.id] if len(ledger) else ledger
        located = int(rows["assigned"].sum()) if len(rows) else 0
        record: dict[str, Any] = {
            "title": spec.title,
            "table": spec.register.table,
            "service_type": str(spec.register.values.get("service_type", "") or ""),
            "located": located,
            "reason": "",
            "hint": "",
        }
        if located == 0:
            found = problems[(problems["dataset"] == spec.id) & (problems["severity"] != "info")]
            if len(found):
                top = found.sort_values("count", ascending=False, kind="stable").iloc[0]
                record["reason"] = str(top["what"])
                record["hint"] = str(top["hint"]) if isinstance(top["hint"], str) else ""
            else:
                record["reason"] = "no row lies in the partnership's area"
        out[spec.id] = record
    return out


def boundary_sources(lsoas: gpd.GeoDataFrame | None) -> dict[str, object] | None:
    """A data-sources row saying which LSOA outlines the store holds: detailed outlines where the
    partnership has them, ONS super-generalised (200 m) ones elsewhere (``boundary_source``)."""
    if lsoas is None or "boundary_source" not in lsoas.columns or not len(lsoas):
        return None
    text = lsoas["boundary_source"].astype(str)
    kinds = text.where(~text.str.contains("detailed"), "detailed outlines (ONS boundaries, full resolution)")
    kinds = kinds.where(~text.str.contains("super-generalised"), "super-generalised outlines (ONS, 200 m)")
    counts = kinds.value_counts()
    summary = "; ".join(f"{n:,} {kind}" for kind, n in counts.items())
    return {
        "dataset": "boundaries",
        "title": f"LSOA 2021 boundaries: {summary}",
        "partner": "Office for National Statistics (Open Geography Portal)",
        "period": "2021",
        "last_updated": "",
        "licence": "OGL-3.0",
        "sharing": "open",
        "attribution": "ONSGEO",
        "illustrative": False,
    }


def wide_layers(profile: pd.DataFrame, areas: Mapping[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """One wide layer per level with boundaries: a column per dataset, measure and category of
    the latest period (QGIS-friendly names, at most 63 characters)."""
    layers = {}
    for level, polygons in areas.items():
        part = profile[profile["level"] == level]
        if part.empty:
            continue
        latest = part.groupby(["dataset", "measure"])["period"].transform("max")
        part = part[part["period"] == latest]
        names = (
            part["dataset"]
            + "__"
            + part["measure"]
            + np.where(part["category"] == "all", "", "__" + part["category"])
        ).str.lower()
        names = names.str.replace(r"[^a-z0-9_]+", "_", regex=True).str.strip("_").str.slice(0, 63)
        wide = part.assign(column=names).pivot_table(
            index="area_code", columns="column", values="value", aggfunc="first"
        )
        layers[level] = polygons[["area_code", "area_name", "geometry"]].merge(
            wide, left_on="area_code", right_index=True, how="left"
        )
    return layers


def _write_gpkg(path: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    for name, layer in layers.items():
        layer.to_file(path, layer=name, driver="GPKG", engine="pyogrio")


def write_pool_stage(
    store: Store,
    result: PoolResult,
    *,
    areas: Mapping[str, gpd.GeoDataFrame],
    centres: gpd.GeoDataFrame | None,
    partnership: Mapping[str, Any],
    config_files: Sequence[Path],
    patterns: Sequence[str],
) -> None:
    """Write the pool stage: profile, QGIS layers, ledgers, code agreement, problems, rejected rows,
    the partnership's geography and the resource register."""
    root = store.root
    with store.transaction("pool", owns=POOL_OUTPUTS) as tmp:
        profile = result.profile.copy()
        profile.attrs = {}
        profile.to_parquet(tmp / "profile.parquet", index=False)
        _write_gpkg(tmp / "profile.gpkg", wide_layers(result.profile, areas))
        write_csv(result.ledger, tmp / "ledger.csv")
        write_csv(result.measure_ledger, tmp / "ledger_measures.csv")
        write_csv(result.agreement, tmp / "code_agreement.csv")
        write_csv(problems_frame(result.problems), tmp / "problems.csv")
        rejected = tmp / "rejected"
        rejected.mkdir()
        for dataset, frame in result.rejected.items():
            write_csv(frame, rejected / f"{dataset}.csv.gz", compression={"method": "gzip", "mtime": 0})
        geography = tmp / "geography"
        geography.mkdir()
        layers = dict(areas)
        if result.places:
            layers["places"] = pd.concat(
                [place.areas.assign(level=place.name) for place in result.places], ignore_index=True
            )
        _write_gpkg(geography / "areas.gpkg", layers)
        result.area.hierarchy.to_parquet(geography / "hierarchy.parquet", index=False)
        members = [p.members.assign(level=p.name) for p in result.places]
        if members:
            pd.concat(members, ignore_index=True).to_parquet(geography / "places.parquet", index=False)
        if centres is not None:
            centres.to_parquet(geography / "centres.parquet", index=False)
        register = tmp / "register"
        register.mkdir()
        for table, frame in result.register.items():
            frame.to_parquet(register / f"{table}.parquet", index=False)
        record = {
            "seconds": round(result.seconds, 2),
            "inputs": [file_record(p, root=root) for p in result.inputs],
            "config": [file_record(p, root=root) for p in config_files if p.exists()],
            "patterns": list(patterns),
            "rows": int(len(result.profile)),
            "levels": sorted(result.profile["level"].unique().tolist()),
            "places": [p.name for p in result.places],
            "errors": len(result.errors),
            "missing": dict(result.missing),
            "register": register_sources(result),
        }
        manifest = store.updated_manifest(
            "pool",
            record,
            audience="internal",
            partnership=dict(partnership),
            area=result.area.describe(),
            sources=source_table(result.datasets, ledger=result.ledger).to_dict("records")
            + [row for row in [boundary_sources(areas.get("lsoa"))] if row],
        )
        store.write_manifest(tmp, manifest)


def write_indicators_stage(
    store: Store,
    indicators: pd.DataFrame,
    *,
    config_files: Sequence[Path],
    levels: Sequence[str],
    order: Sequence[str],
    unavailable: Mapping[str, Mapping[str, str]] | None = None,
    periods: Mapping[str, object] | None = None,
) -> dict[str, tuple[Path, int, int]]:
    """Write the indicators stage (``indicators.parquet`` and ``indicators_<level>.csv``); return
    ``{level: (csv path, rows, indicators)}`` for the levels asked. ``unavailable`` lists the
    indicators that could not be made (id to ``title``, ``theme``, ``reason``); ``periods`` the
    analysis periods (``kind``, the monthly ``series`` summed into them, and per period which
    months it holds: :func:`needskit.needs.periods.period_table`)."""
    pool = store.stage("pool")
    written = {}
    with store.transaction("indicators") as tmp:
        indicators.to_parquet(tmp / "indicators.parquet", index=False)
        first = (
            indicators[indicators["comparator"] == indicators["comparator"].iloc[0]]
            if len(indicators)
            else indicators
        )
        for level in levels:
            part = first[first["level"] == level]
            write_csv(part, tmp / f"indicators_{level}.csv")
            written[level] = (
                store.path / f"indicators_{level}.csv",
                len(part),
                int(part["indicator"].nunique()),
            )
        record = {
            "pool_finished": pool.get("finished"),
            "config": [file_record(p, root=store.root) for p in config_files if p.exists()],
            "rows": int(len(indicators)),
            "indicators": [i for i in order if i in set(indicators["indicator"])],
            "comparators": sorted(indicators["comparator"].unique().tolist()) if len(indicators) else [],
            "unavailable": {k: dict(v) for k, v in (unavailable or {}).items()},
            "periods": dict(periods or {}),
        }
        store.write_manifest(tmp, store.updated_manifest("indicators", record))
    return written


def write_published_stage(
    target: Store,
    *,
    source: Store,
    profile: pd.DataFrame,
    indicators: pd.DataFrame,
    ledger: pd.DataFrame,
    register: Mapping[str, pd.DataFrame],
    sources: pd.DataFrame,
    disclosure_log: pd.DataFrame,
    audience: str,
    rule: str,
    rule_text: str,
    marking: str,
) -> None:
    """Write a published store from the internal one: published profile and indicators, the
    geography (open boundaries), the register rows the audience may see, the ledger of the
    datasets it may see, and the disclosure log. Nothing row-level from partners is copied."""
    manifest = source.manifest()
    with target.transaction("publish", owns=("*",)) as tmp:
        profile.to_parquet(tmp / "profile.parquet", index=False)
        indicators.to_parquet(tmp / "indicators.parquet", index=False)
        write_csv(ledger, tmp / "ledger.csv")
        write_csv(disclosure_log, tmp / "disclosure_log.csv")
        geography = tmp / "geography"
        geography.mkdir()
        for name in ("areas.gpkg", "hierarchy.parquet", "places.parquet", "centres.parquet"):
            path = source.path / "geography" / name
            if path.exists():
                (geography / name).write_bytes(path.read_bytes())
        folder = tmp / "register"
        folder.mkdir()
        for table, frame in register.items():
            frame.to_parquet(folder / f"{table}.parquet", index=False)
        stamps = {k: source.stage(k).get("finished") for k in ("pool", "indicators")}
        stages = {
            "pool": {
                **manifest["stages"]["pool"],
                "inputs": [],
                "config": [],
                "patterns": [],
                # the register's datasets the audience may see (those of its ledger)
                "register": {
                    k: v
                    for k, v in manifest["stages"]["pool"].get("register", {}).items()
                    if k in set(ledger["dataset"])
                },
            },
            "indicators": {**manifest["stages"]["indicators"], "config": []},
            "publish": {"from": stamps, "rule": rule, "audience": audience},
        }
        published = {
            **{k: v for k, v in manifest.items() if k not in ("stages", "sources")},
            "audience": audience,
            "disclosure_rule": rule,
            "disclosure_rule_text": rule_text,
            "publication_marking": marking,
            "sources": sources.to_dict("records"),
            "stages": stages,
        }
        stages["publish"]["finished"] = now_iso()
        target.write_manifest(tmp, {**published, "store_version": STORE_VERSION})
