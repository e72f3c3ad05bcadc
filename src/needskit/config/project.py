"""Where a needskit project is, and where its configuration, data, store and reports live.

A project is a folder holding ``conf/partnership.yml`` (who and where), ``conf/catalog.yml``
(datasets) and the other config files, ``data/raw/`` (the data as delivered, never modified),
the store ``data/processed/`` (what the pipeline makes), published stores under
``data/published/<audience>/``, ``notebooks/`` and ``reports/``.

:func:`find_project` finds it the same way from the command line, from papermill in any folder,
and from a JupyterLab kernel started in ``notebooks/``: the ``NEEDSKIT_PROJECT`` environment
variable; else the nearest folder at or above the starting folder (the working folder by
default) that holds ``conf/partnership.yml``; else the checkout holding the installed package.
"""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from needskit.errors import CatalogError

__all__ = [
    "Project",
    "find_project",
    "project_dir",
    "needskit_home",
    "expand_path",
    "data_files",
    "sha256_file",
    "PARTNERSHIP_FILE",
    "HOME_TOKEN",
]

PARTNERSHIP_FILE = Path("conf") / "partnership.yml"
"""The file that marks a folder as a needskit project."""
HOME_TOKEN = "{needskit}"
"""Written at the start of a path in ``conf/`` for the data shipped with needskit (the national
backbone), e.g. ``{needskit}/data/raw/imd2025/iod2025_lsoa21_scores_ranks_deciles.csv.gz``: a
workspace made by ``needskit init`` uses the shipped files where they are, without copying."""


@dataclass(frozen=True)
class Project:
    """The folders and files of one project (a partnership's workspace).

    Attributes
    ----------
    root
        The project folder. Every relative path in ``conf/`` is relative to it.
    """

    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "conf"

    @property
    def partnership_file(self) -> Path:
        return self.root / PARTNERSHIP_FILE

    @property
    def catalog_file(self) -> Path:
        return self.conf / "catalog.yml"

    @property
    def indicators_file(self) -> Path:
        return self.conf / "indicators.yml"

    @property
    def places_file(self) -> Path:
        return self.conf / "places.yml"

    @property
    def outcomes_file(self) -> Path:
        return self.conf / "outcomes.yml"

    @property
    def delivery_file(self) -> Path:
        return self.conf / "delivery.yml"

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def store(self) -> Path:
        """The internal store (``data/processed``): what ``needskit pool`` and ``indicators`` write."""
        return self.root / "data" / "processed"

    def published(self, audience: str) -> Path:
        """The published store for ``audience`` (``data/published/<audience>``)."""
        return self.root / "data" / "published" / audience

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    def resolve(self, path: str | Path) -> Path:
        """``path`` as given if absolute, else relative to the project folder."""
        path = Path(path)
        return path if path.is_absolute() else self.root / path

    def relative(self, path: str | Path) -> str:
        """``path`` relative to the project folder when inside it, else ``{needskit}/...`` when
        it is shipped with needskit (for manifests and messages)."""
        resolved = Path(path).resolve()
        try:
            return resolved.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            pass
        home = _home_or_none()
        if home is not None:
            try:
                return f"{HOME_TOKEN}/{resolved.relative_to(home.resolve()).as_posix()}"
            except ValueError:
                pass
        return Path(path).as_posix()


def project_dir() -> Path | None:
    """The checkout holding this package (``<checkout>/src/needskit``), if it is a project."""
    candidate = Path(__file__).resolve().parents[3]
    if (candidate / PARTNERSHIP_FILE).is_file():
        return candidate
    return None


def _home_or_none() -> Path | None:
    env = os.environ.get("NEEDSKIT_HOME")
    if env:
        return Path(env).expanduser()
    candidate = Path(__file__).resolve().parents[3]
    if (candidate / "data" / "raw" / "MANIFEST.csv").is_file():
        return candidate
    return None


def needskit_home() -> Path:
    """The folder holding the data shipped with needskit (``data/raw``): ``NEEDSKIT_HOME`` if
    set, else the checkout this package is installed from.

    Raises
    ------
    CatalogError
        Neither holds ``data/raw/MANIFEST.csv``.
    """
    home = _home_or_none()
    if home is None or not (home / "data" / "raw" / "MANIFEST.csv").is_file():
        raise CatalogError(
            "cannot find the data shipped with needskit",
            where=f"NEEDSKIT_HOME={os.environ.get('NEEDSKIT_HOME', '')!s}" if home else str(Path(__file__)),
            expected="a needskit checkout holding data/raw/MANIFEST.csv",
            hint="install needskit from its checkout (pip install -e .), or set NEEDSKIT_HOME to it",
        )
    return home


def expand_path(pattern: str, root: Path | None) -> str:
    """A path or glob of ``conf/`` as a full path: ``{needskit}/...`` under :func:`needskit_home`,
    absolute as given, else relative to ``root`` (the project folder)."""
    if pattern.startswith(HOME_TOKEN):
        return str(needskit_home() / pattern[len(HOME_TOKEN) :].lstrip("/"))
    if Path(pattern).is_absolute() or root is None:
        return pattern
    return str(root / pattern)


def data_files(pattern: str) -> list[Path]:
    """The paths a full glob matches, sorted, where the name has a wildcard without hidden files
    and ``README*`` files (a drop folder's README says what to put there; it is not data). A
    folder a wildcard matches is kept, so the reader says it is not a data file rather than
    skipping it silently. A path without wildcards names its file, whatever it is called."""
    if not glob.has_magic(pattern):
        return [Path(pattern)] if Path(pattern).is_file() else []
    found = (Path(p) for p in sorted(glob.glob(pattern)))
    return [p for p in found if not p.name.startswith(".") and not p.name.upper().startswith("README")]


def find_project(start: str | Path | None = None) -> Project:
    """The project to work in.

    Parameters
    ----------
    start
        Folder to search upwards from (default: the working folder). A notebook's kernel runs in
        ``notebooks/``, so the project above it is found.

    Raises
    ------
    CatalogError
        No ``conf/partnership.yml`` in ``NEEDSKIT_PROJECT``, above ``start``, or in the checkout.

    Example
    -------
    >>> find_project().partnership_file  # doctest: +SKIP
    PosixPath('/home/analyst/needskit/conf/partnership.yml')
    """
    env = os.environ.get("NEEDSKIT_PROJECT")
    if env:
        root = Path(env).expanduser().resolve()
        if not (root / PARTNERSHIP_FILE).is_file():
            raise CatalogError(
                "is not a needskit project",
                where=f"NEEDSKIT_PROJECT={env}",
                expected=f"a folder holding {PARTNERSHIP_FILE}",
                hint="point NEEDSKIT_PROJECT at the folder `needskit init` made, or unset it",
            )
        return Project(root)
    here = Path(start).expanduser().resolve() if start is not None else Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / PARTNERSHIP_FILE).is_file():
            return Project(folder)
    checkout = project_dir()
    if checkout is not None:
        return Project(checkout)
    raise CatalogError(
        "no needskit project here",
        where=str(here),
        expected=f"this folder or one above it to hold {PARTNERSHIP_FILE}",
        hint="run from inside a project, pass --project DIR, or set NEEDSKIT_PROJECT",
    )


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (manifests of raw data, stores and reports)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
