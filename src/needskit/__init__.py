"""needskit: needs analysis and place-based commissioning for local strategic partnerships.

The small public API (everything else lives in the subpackages named after the steps of the
commissioning cycle: :mod:`~needskit.config`, :mod:`~needskit.place`,
:mod:`~needskit.partner_data`, :mod:`~needskit.needs`, :mod:`~needskit.disclosure`,
:mod:`~needskit.resources`, :mod:`~needskit.commissioning`, :mod:`~needskit.reports`):

``open_workspace(project=None)``
    The project's partnership, catalogue, geography and store (:class:`~needskit.pipeline.Workspace`).
``load_partnership(path)``, ``Partnership``
    ``conf/partnership.yml``: who and where.
``load_profile(audience=..., store=None)``, ``load_indicators(audience=..., comparator=None)``
    What the pipeline wrote: the pooled profile and the benchmarked indicators (the internal
    store, or the store published for ``public`` or ``partner``).
``load_context(area=..., ...)``
    One area's slice of the store, as the reports read it.
``Store``, ``Geography``
    The store folder and the reference geography.

Example
-------
>>> import needskit as nk
>>> ws = nk.open_workspace()                      # doctest: +SKIP
>>> nk.load_indicators(comparator="england")      # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("needskit")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "__version__",
    "open_workspace",
    "load_partnership",
    "Partnership",
    "load_profile",
    "load_indicators",
    "load_context",
    "Store",
    "Geography",
]

_LAZY = {
    "open_workspace": ("needskit.pipeline", "open_workspace"),
    "load_partnership": ("needskit.config.partnership", "load_partnership"),
    "Partnership": ("needskit.config.partnership", "Partnership"),
    "load_context": ("needskit.reports.context", "load_context"),
    "Store": ("needskit.partner_data.store", "Store"),
    "Geography": ("needskit.place.geography", "Geography"),
}


def __getattr__(name: str) -> Any:  # imported on first use: `import needskit` stays cheap for the CLI
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'needskit' has no attribute {name!r}")


def _store(audience: str, store: str | Path | None, project: str | Path | None):  # noqa: ANN202
    from needskit.config.project import find_project
    from needskit.reports.context import open_store

    reading, internal = open_store(audience=audience, store=store, project=find_project(project))
    reading.check_fresh(internal=internal if audience != "internal" else None)
    return reading


def load_profile(
    *, audience: str = "internal", store: str | Path | None = None, project: str | Path | None = None
) -> pd.DataFrame:
    """The pooled profile from the store (``internal``) or a published store (``public``, ``partner``).

    Raises
    ------
    StoreError
        No store, or a store older than its inputs (with the command to run).
    """
    return _store(audience, store, project).read_profile()


def load_indicators(
    *,
    audience: str = "internal",
    comparator: str | None = None,
    store: str | Path | None = None,
    project: str | Path | None = None,
) -> pd.DataFrame:
    """Every indicator for every area and period from the store, benchmarked against each
    comparator kind (or only ``comparator``: ``parent``, ``england``, ``region``).

    Raises
    ------
    StoreError
        No store, or a store older than its inputs (with the command to run).
    """
    return _store(audience, store, project).read_indicators(comparator=comparator)
