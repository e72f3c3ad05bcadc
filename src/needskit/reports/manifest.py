"""The manifest of a report run: parameters, input files with SHA-256, versions, commit, times.

Every report folder ``reports/<area>/<period>/`` holds one ``manifest.json`` with an entry per
report made there (``{"reports": {"needs-profile": {...}}}``). ``--if-changed`` compares a new run's
parameters, input hashes, notebook hash, needskit version and commit with that entry.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = [
    "PACKAGES",
    "MANIFEST_NAME",
    "sha256_file",
    "input_files",
    "hash_inputs",
    "package_versions",
    "git_commit",
    "read_manifest",
    "manifest_entry",
    "unchanged",
    "write_json_atomic",
    "write_text_atomic",
]

MANIFEST_NAME = "manifest.json"
PACKAGES = (
    "needskit",
    "pandas",
    "numpy",
    "geopandas",
    "shapely",
    "mapclassify",
    "folium",
    "matplotlib",
    "papermill",
    "nbconvert",
    "nbformat",
    "ipykernel",
    "weasyprint",
)
_COMPARED = ("parameters", "notebook_sha256", "inputs", "needskit_version", "git_commit", "formats")


@functools.cache
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    from needskit.config.project import sha256_file as digest

    return digest(path)


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file (cached per process on path, size and modification time)."""
    stat = os.stat(path)
    return _sha256_cached(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


def input_files(store: Path, *, extra: Iterable[str | Path] = ()) -> list[Path]:
    """The files a report run is recorded as reading: every file of the store it reads (the
    store's manifest records in turn what the store was made from).

    ``extra`` files (e.g. an outcomes framework) are added; missing ones are ignored.
    """
    files: list[Path] = []
    if store.is_dir():
        files.extend(
            p
            for p in sorted(store.rglob("*"))
            if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(store).parts)
            and "rejected" not in p.relative_to(store).parts
        )
    files += [Path(e) for e in extra if Path(e).is_file()]
    return files


def hash_inputs(files: Iterable[Path], *, root: Path | None = None) -> list[dict[str, Any]]:
    """``[{"file", "sha256", "bytes"}]``, paths relative to ``root`` when they are inside it."""
    out = []
    for path in files:
        shown = path
        if root is not None:
            try:
                shown = path.resolve().relative_to(root.resolve())
            except ValueError:
                shown = path
        out.append({"file": shown.as_posix(), "sha256": sha256_file(path), "bytes": path.stat().st_size})
    return out


@functools.cache
def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages a report depends on (``"not installed"`` if absent)."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


@functools.cache
def git_commit(folder: str | None) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the git checkout at ``folder``."""
    if folder is None:
        return {"commit": None, "dirty": None}
    try:
        commit = subprocess.run(
            ["git", "-C", folder, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", folder, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": bool(status.strip())}


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest, or an empty one (``{"reports": {}}``) when absent or unreadable."""
    path = folder / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"manifest_version": 1, "reports": {}}
    if not isinstance(data, dict) or not isinstance(data.get("reports"), dict):
        return {"manifest_version": 1, "reports": {}}
    return data


def manifest_entry(folder: Path, report: str) -> dict[str, Any] | None:
    """The manifest entry of ``report`` in ``folder``, if any."""
    return read_manifest(folder)["reports"].get(report)


def unchanged(previous: Mapping[str, Any] | None, current: Mapping[str, Any], *, folder: Path) -> bool:
    """True when ``previous`` (from the manifest) ran with the same inputs and every output is the
    file it recorded.

    Compared: the parameters, the notebook's and every input file's SHA-256, the needskit version
    and the git commit, the formats asked for, and each output's SHA-256 against the manifest's
    (an entry without output hashes, from an older version, is never unchanged).
    """
    if not previous:
        return False
    for key in _COMPARED:
        if key == "formats":
            if not set(current.get("formats", [])) <= set(previous.get("formats", [])):
                return False
            continue
        if _canonical(previous.get(key)) != _canonical(current.get(key)):
            return False
    files = previous.get("files", {})
    hashes = previous.get("sha256", {})
    for fmt in current.get("formats", []):
        path = folder / files.get(fmt, "\0")
        if not path.is_file() or fmt not in hashes or sha256_file(path) != hashes[fmt]:
            return False  # missing, or not the file the manifest describes (a crash, an edit)
    return True


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def write_text_atomic(path: Path, text: str) -> None:
    """Write text to ``path`` through a temporary file in the same folder and an atomic rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON to ``path`` atomically (see :func:`write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
