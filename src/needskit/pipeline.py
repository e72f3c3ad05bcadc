"""The main job on the shipped Gloucestershire data (``needskit demo`` / ``make demo``).

1. Pool every dataset of ``conf/catalog.yml`` (and the places of ``conf/places.yml``) into the
   needs profile, with its ledger, rejected rows and a QGIS GeoPackage, in ``data/processed/``.
2. Compute every indicator of ``conf/indicators.yml`` for Gloucestershire's LSOAs, wards,
   districts and the county, benchmarked against the parent area (``indicators_<level>.csv``).
3. Check the police.uk assignment against the LSOA police.uk publishes.
4. Produce the regular needs analysis: the Gloucestershire county chapter and one chapter per
   district (HTML + PDF + manifest, run in parallel), with an index, under ``reports/``.
5. Produce the resource map, commissioning priorities and outcomes monitoring reports for
   Gloucestershire and Cheltenham (the council, police and voluntary services in them are
   ILLUSTRATIVE: no open source has them).
"""

from __future__ import annotations

import glob
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from needskit.config.project import processed_dir, project_dir, raw_path


def police_crimes() -> pd.DataFrame:
    """All shipped police.uk street-level rows, in file order."""
    folder = raw_path("police")
    files = sorted(glob.glob(str(folder / "*-street.csv.gz")))
    return pd.concat([pd.read_csv(f, encoding="utf-8-sig") for f in files], ignore_index=True)


def police_agreement() -> tuple[float, int]:
    """Share of located county crimes whose assigned 2021 LSOA is the one police.uk publishes."""
    from needskit.place.geography import assign_points, load_areas

    lsoas = set(load_areas("lsoa", vintage=2021)["area_code"])
    crimes = police_crimes()
    located = assign_points(crimes, x="Longitude", y="Latitude", crs="EPSG:4326", level="lsoa", vintage=2021)
    county = located[located["LSOA code"].isin(lsoas) & located["Longitude"].notna()]
    return float((county["area_code"] == county["LSOA code"]).mean()), len(county)


def run_demo(*, out: Path | None = None, echo: Callable[[str], None] = print, reports: Path | None = None) -> dict:
    """Run the demo pipeline; return the headline figures it printed."""
    from needskit.config.catalog import load_catalog, load_places
    from needskit.partner_data.pooling import pool_catalog, summary_lines, write_pool

    started = time.perf_counter()
    out = Path(out) if out is not None else processed_dir()
    conf = (project_dir() or Path.cwd()) / "conf"
    catalog = load_catalog(conf / "catalog.yml")
    places = load_places(conf / "places.yml") if (conf / "places.yml").exists() else []
    echo(f"pooling {len(catalog)} datasets from {conf / 'catalog.yml'} ...")
    result = pool_catalog(catalog, places=places)
    paths = write_pool(result, out, catalog_path=conf / "catalog.yml")
    for line in summary_lines(result):
        echo(line)
    from needskit.needs.indicators import write_indicators

    written = write_indicators(
        profile_path=paths["profile"], indicators_path=conf / "indicators.yml", catalog_path=conf / "catalog.yml",
        levels=["lsoa", "ward", "district", "county"], out=out,
    )
    for level, (path, n_rows, n_ind) in written.items():
        echo(f"indicators ({level}): {n_ind} indicators, {n_rows:,} rows -> {path}")
    agreement, located = police_agreement()
    echo(f"police.uk check: {agreement:.1%} of {located:,} located county crimes get the LSOA police.uk publishes")
    echo(f"needs profile: {paths['profile']} ({len(result.profile):,} rows); QGIS layers: {paths['gpkg']}")
    echo(f"ledger: {paths['ledger']}; rejected rows: {out / 'rejected'}")
    from needskit.config.project import COUNTY_CODE
    from needskit.reports import report_command

    reports = Path(reports) if reports is not None else (project_dir() or Path.cwd()) / "reports"
    echo("producing the needs profile: Gloucestershire county chapter and six district chapters ...")
    report_command("needs-profile", area=COUNTY_CODE, each_district=True, out=reports, echo=echo, progress=False)
    echo("producing the resource map, commissioning priorities and outcomes monitoring for Gloucestershire and Cheltenham ...")
    for name in ("resource-map", "commissioning-priorities", "outcomes-monitoring"):
        for area in (COUNTY_CODE, "E07000078"):
            report_command(name, area=area, out=reports, echo=echo, progress=False)
    echo(f"done in {time.perf_counter() - started:.1f} s; open {reports / COUNTY_CODE} (index.html) to read the reports")
    return {"result": result, "paths": paths, "agreement": agreement, "reports": reports}
