"""Small partner files written into a test's folder, and the shipped example's area and geography.

The partner-data tests write a catalogue entry and a few rows (real Cheltenham and Gloucester
points) into ``tmp_path`` and pool or validate them against the shipped Gloucestershire
geography (read once per test session, never written to).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from needskit.config.project import project_dir

ROOT: Path = project_dir() or Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
RAW = ROOT / "data" / "raw"

# real points (lon, lat) and the 2021 LSOA the first lies in
CHELTENHAM_POINT = (-2.087158, 51.916259)  # E01022163
GLOUCESTER_POINT = (-2.2436, 51.8651)


def entry(**overrides) -> dict:
    """A valid catalogue entry for a CSV of points (``data.csv``: id, month, lon, lat, type)."""
    spec = {
        "title": "Test dataset",
        "partner": "Test partner",
        "theme": "safer_stronger_communities",
        "path": "data.csv",
        "format": "csv",
        "geography": {"kind": "points", "x": "lon", "y": "lat", "crs": "EPSG:4326"},
        "period": {"column": "month", "format": "%Y-%m", "range": ["2024-01", "2024-03"]},
        "record_id": "id",
        "measures": [{"name": "incidents", "count": "rows", "category": "type"}],
        "licence": "OGL-3.0",
        "sharing": "open",
        "refresh": "monthly",
        "last_updated": "2024-04-01",
    }
    spec.update(overrides)
    return spec


def write_catalog(
    folder: Path, entries: dict, *, text: str | None = None, reference: dict | None = None
) -> Path:
    """Write ``catalog.yml`` into ``folder`` (paths in it are relative to ``folder``)."""
    path = folder / "catalog.yml"
    data: dict = {"datasets": entries}
    if reference:
        data["reference"] = reference
    path.write_text(text if text is not None else yaml.safe_dump(data), encoding="utf-8")
    return path


def points_csv(folder: Path, rows: list[tuple], name: str = "data.csv") -> Path:
    """Write rows of (id, month, lon, lat, type) as a CSV."""
    frame = pd.DataFrame(rows, columns=["id", "month", "lon", "lat", "type"])
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def good_rows(n: int = 20) -> list[tuple]:
    """``n`` burglaries at one Cheltenham point in January 2024."""
    lon, lat = CHELTENHAM_POINT
    return [(f"c{i}", "2024-01", lon, lat, "Burglary") for i in range(n)]


@dataclass(frozen=True)
class Place:
    """The shipped partnership's area and reference geography."""

    area: object
    geography: object
    partnership: object
    catalog: object


@functools.cache
def shipped_place() -> Place:
    """The shipped example's area and geography, read once (nothing is pooled or written)."""
    from needskit.config import load_catalog, load_partnership
    from needskit.partner_data.reference import load_geography
    from needskit.place.extent import resolve_area

    partnership = load_partnership(CONF / "partnership.yml")
    catalog = load_catalog(CONF / "catalog.yml")
    geography = load_geography(catalog, partnership)
    return Place(resolve_area(partnership, geography), geography, partnership, catalog)


def pool(catalog, **kwargs):
    """:func:`~needskit.partner_data.pooling.pool_catalog` on the shipped area and geography."""
    from needskit.partner_data.pooling import pool_catalog

    place = shipped_place()
    return pool_catalog(catalog, area=place.area, geography=place.geography, progress=False, **kwargs)


def prepare(spec, **kwargs):
    """:func:`~needskit.partner_data.prepare.prepare_dataset` on the shipped area and geography."""
    from needskit.partner_data.prepare import prepare_dataset

    place = shipped_place()
    return prepare_dataset(spec, area=place.area, geography=place.geography, **kwargs)


def validate(catalog, **kwargs):
    """:func:`~needskit.partner_data.validate.validate_catalog` on the shipped area and geography."""
    from needskit.partner_data.validate import validate_catalog

    place = shipped_place()
    return validate_catalog(catalog, area=place.area, geography=place.geography, **kwargs)


def mixed_rows() -> list[tuple]:
    """15 rows: 7 Cheltenham burglaries in January, 5 Gloucester robberies in February, one row
    without coordinates, one in Carmarthenshire and one outside the declared period."""
    lon, lat = CHELTENHAM_POINT
    glon, glat = GLOUCESTER_POINT
    return (
        [(f"a{i}", "2024-01", lon, lat, "Burglary") for i in range(7)]
        + [(f"b{i}", "2024-02", glon, glat, "Robbery") for i in range(5)]
        + [
            ("c0", "2024-02", None, None, "Robbery"),
            ("c1", "2024-03", -4.55, 51.93, "Robbery"),
            ("c2", "2024-09", lon, lat, "Burglary"),
        ]
    )


# ----------------------------------------------------------------------------- police.uk files

POLICE_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)
FORCE = "Gloucestershire Constabulary"


def police_text(month: str, rows: list[tuple], *, eol: str = "\n") -> str:
    """A police.uk street-level file: rows of (crime id or "", lon, lat, LSOA code or "", crime type);
    no coordinates make a "No Location" row. Anti-social behaviour rows have no crime id, as
    police.uk publishes them."""
    lines = [POLICE_HEADER]
    for crime_id, lon, lat, code, crime_type in rows:
        located = lon is not None
        lines.append(
            ",".join(
                [
                    crime_id,
                    month,
                    FORCE,
                    FORCE,
                    f"{lon}" if located else "",
                    f"{lat}" if located else "",
                    "On or near Parking Area" if located else "No Location",
                    code,
                    f"{code} name" if code else "",
                    crime_type,
                    "" if crime_type == "Anti-social behaviour" else "Under investigation",
                    "",
                ]
            )
        )
    return eol.join(lines) + eol


def police_file(folder: Path, month: str, rows: list[tuple], *, eol: str = "\n", gz: bool = False) -> Path:
    """Write ``<month>-gloucestershire-street.csv`` (``.csv.gz`` when ``gz``) into ``folder``."""
    import gzip

    folder.mkdir(parents=True, exist_ok=True)
    data = police_text(month, rows, eol=eol).encode("utf-8")
    name = f"{month}-gloucestershire-street.csv"
    path = folder / (name + ".gz" if gz else name)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def police_zip(folder: Path, name: str, members: dict[str, str]) -> Path:
    """A zip like the data.police.uk custom download: ``{member path: text}``."""
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, text in members.items():
            archive.writestr(member, text)
    return path


def police_entry(**overrides) -> dict:
    """The catalogue entry of police.uk files in ``police/`` (any file, periods from the data)."""
    spec = {
        "path": "police/*",
        "format": "police_uk",
        "geography": {
            "kind": "points",
            "x": "Longitude",
            "y": "Latitude",
            "crs": "EPSG:4326",
            "code": "LSOA code",
        },
        "period": {"column": "Month", "format": "%Y-%m"},
        "record_id": "Crime ID",
        "measures": [{"name": "crimes", "count": "rows", "category": "Crime type"}],
    }
    return entry(**{**spec, **overrides})
