"""The main job on the shipped Gloucestershire data (``needskit demo`` / ``make demo``).

Today it loads the shipped areas, assigns every police.uk street crime (January-April 2024)
to a 2021 LSOA, checks the result against the LSOA police.uk publishes, accounts for every
record, and writes the LSOA counts. Later stages (pooled profile, indicators, reports) extend it.
"""

from __future__ import annotations

import glob
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .geography import aggregate, assign_points, load_areas
from .shipped import COUNTY_CODE, processed_dir, raw_path


def police_crimes() -> pd.DataFrame:
    """All shipped police.uk street-level rows, in file order."""
    folder = raw_path("police")
    files = sorted(glob.glob(str(folder / "*-street.csv.gz")))
    return pd.concat([pd.read_csv(f, encoding="utf-8-sig") for f in files], ignore_index=True)


def run_demo(*, out: Path | None = None, echo: Callable[[str], None] = print) -> dict:
    """Run the demo pipeline; return the headline figures it printed."""
    started = time.perf_counter()
    out = Path(out) if out is not None else processed_dir()
    out.mkdir(parents=True, exist_ok=True)
    lsoas = load_areas("lsoa", vintage=2021)
    echo(f"areas: {len(lsoas)} LSOAs (2021) in Gloucestershire {COUNTY_CODE}")

    crimes = police_crimes()
    located = assign_points(crimes, x="Longitude", y="Latitude", crs="EPSG:4326", level="lsoa", vintage=2021)
    counts = located["match"].value_counts()
    no_location = int(crimes["Longitude"].isna().sum())
    within = int(counts.get("within", 0))
    nearest = int(counts.get("nearest", 0))
    unmatched = int(counts.get("unmatched", 0))
    outside = unmatched - no_location
    assert within + nearest + unmatched == len(crimes)  # every record accounted for

    published = located["LSOA code"].isin(lsoas["area_code"]) & located["Longitude"].notna()
    agreement = float((located.loc[published, "area_code"] == located.loc[published, "LSOA code"]).mean())

    assigned = located[located["area_code"].notna()]
    by_lsoa = (
        assigned.groupby(["area_code", "Month", "Crime type"]).size().rename("crimes").reset_index()
        .rename(columns={"Month": "period", "Crime type": "category"})
    )
    by_district = aggregate(by_lsoa.drop(columns=["period", "category"]), to="district", value_cols="crimes", by=[])
    path = out / "police_crimes_lsoa.csv"
    by_lsoa.to_csv(path, index=False)

    echo(f"police.uk rows read: {len(crimes):,} (Jan-Apr 2024)")
    echo(f"  assigned within an LSOA: {within:,}; nearest LSOA within 100 m: {nearest:,}")
    echo(f"  unlocated (no coordinates): {no_location:,}; outside Gloucestershire: {outside:,}")
    echo(f"  agreement with the LSOA police.uk publishes: {agreement:.1%} of {int(published.sum()):,} located county crimes")
    echo("crimes by district:")
    for row in by_district.itertuples():
        echo(f"  {row.area_name:<15} {row.crimes:>6,}")
    echo(f"wrote {path} ({len(by_lsoa):,} rows) in {time.perf_counter() - started:.1f} s")
    return {
        "read": len(crimes), "within": within, "nearest": nearest, "no_location": no_location,
        "outside": outside, "agreement": agreement, "path": path,
    }
