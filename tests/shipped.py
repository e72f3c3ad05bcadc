"""Paths of the shipped example's raw files, for tests that read them directly."""

from __future__ import annotations

from pathlib import Path

from needskit.config.project import project_dir

ROOT: Path = project_dir() or Path(__file__).resolve().parents[1]
RAW: Path = ROOT / "data" / "raw"


def raw_path(relative: str) -> Path:
    """A shipped raw file (``data/raw/<relative>``)."""
    return RAW / relative
