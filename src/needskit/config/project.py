"""The data needskit ships: where it lives and what each file is called.

The project's ``data/raw/`` holds real open data for the built-in example (Gloucestershire and
its six districts) plus the national tables used for England comparators. It is written once by
``needskit data build`` (see :mod:`needskit.partner_data.build`) and never modified afterwards; derived
files go to ``data/processed/``.

The data folder is found, in order, from the ``NEEDSKIT_DATA`` environment variable, from the
project checkout that holds the installed package (``src/needskit`` → ``data/``), or from
``./data`` in the working directory.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from needskit.errors import DataError

__all__ = [
    "COUNTY_CODE",
    "DISTRICT_CODES",
    "data_dir",
    "raw_path",
    "processed_dir",
    "project_dir",
    "AREAS_FILE",
    "ATTRIBUTION",
    "sha256_file",
]

COUNTY_CODE = "E10000013"
"""Gloucestershire county council area (upper tier), the built-in example."""

DISTRICT_CODES = {
    "E07000078": "Cheltenham",
    "E07000079": "Cotswold",
    "E07000080": "Forest of Dean",
    "E07000081": "Gloucester",
    "E07000082": "Stroud",
    "E07000083": "Tewkesbury",
}

AREAS_FILE = "boundaries/gloucestershire_areas.gpkg"
"""GeoPackage with one layer per ``<level>_<vintage>`` (EPSG:27700), built by needskit.partner_data.build."""

# Attribution lines the Open Government Licence requires; every report reproduces them.
ATTRIBUTION = {
    "MHCLG": (
        "Contains public sector information licensed under the Open Government Licence v3.0. "
        "Source: English Indices of Deprivation 2019 / 2025, Ministry of Housing, Communities and "
        "Local Government."
    ),
    "ONS": "Source: Office for National Statistics licensed under the Open Government Licence v.3.0.",
    "ONSGEO": (
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
        "Contains OS data © Crown copyright and database right 2021-2024."
    ),
    "ONSPD": (
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
        "Contains OS data © Crown copyright and database right 2025. Contains Royal Mail data © Royal "
        "Mail copyright and database right 2025. Contains GeoPlace data © Local Government Information "
        "House Limited copyright and database right 2025."
    ),
    "POLICE": (
        "Contains public sector information licensed under the Open Government Licence v3.0. "
        "Source: data.police.uk (Gloucestershire Constabulary)."
    ),
    "NHS": (
        "Contains public sector information licensed under the Open Government Licence v3.0. "
        "Source: NHS England Organisation Data Service (ODS)."
    ),
}


def project_dir() -> Path | None:
    """The checkout holding this package (``<project>/src/needskit``), if there is one."""
    here = Path(__file__).resolve().parent.parent
    candidate = here.parent.parent
    if (candidate / "pyproject.toml").exists() and (candidate / "data").is_dir():
        return candidate
    return None


def data_dir() -> Path:
    """The project's ``data/`` folder."""
    env = os.environ.get("NEEDSKIT_DATA")
    if env:
        return Path(env)
    project = project_dir()
    if project is not None:
        return project / "data"
    return Path.cwd() / "data"


def raw_path(relative: str) -> Path:
    """Path of a shipped raw file; raises DataError with a hint when it is missing."""
    path = data_dir() / "raw" / relative
    if not path.exists():
        raise DataError(
            "shipped data file is missing",
            where=str(path),
            expected="the file written by `needskit data build`",
            got="no such file",
            hint="run `make data-build` from a checkout that has ../shared/data/raw, "
            "or set NEEDSKIT_DATA to the folder that holds raw/",
        )
    return path


def processed_dir() -> Path:
    """``data/processed/`` (git-ignored), created on demand."""
    path = data_dir() / "processed"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (manifests of raw data, pooled inputs and reports)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
