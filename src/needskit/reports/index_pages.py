"""What the index pages link: every report of an area and period, read from the reports folder.

A reports folder is laid out as ``<out>/<area>/<period>/`` with one ``manifest.json`` per folder
listing each report made there and its files (:mod:`needskit.reports.manifest`). The two index
pages are built from those manifests, so they link every report on disk, whichever command made
it — not only the one the last command ran:

* the **period index** ``<out>/<area>/<period>/index.html``
  (:func:`needskit.reports.batch.write_index`): a row per area (the area and its chapters), a
  column per report (needs profile, resource map, commissioning priorities, outcomes monitoring,
  ...), each cell linking that report's HTML and PDF;
* the **history page** ``<out>/<area>/index.html`` (:func:`needskit.reports.cycle.write_history`):
  a row per period (the 6-monthly cycle's, newest first), linking every report of the area in
  that period and the period's index.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from needskit.reports.manifest import read_manifest
from needskit.reports.registry import REPORTS

__all__ = ["PublishedReport", "published_reports", "report_columns", "periods_with_reports"]

FORMATS = (("html", "HTML"), ("pdf", "PDF"))
"""The files an index links, in this order, with their link text."""


@dataclass(frozen=True)
class PublishedReport:
    """One report in a report folder: its ``name`` (``needs-profile``), ``title`` (``Needs
    profile``) and ``links``: ``(format label, href)`` of its HTML and PDF that exist."""

    name: str
    title: str
    links: tuple[tuple[str, str], ...]


def _order(name: str) -> tuple[int, str]:
    names = list(REPORTS)
    return (names.index(name) if name in names else len(names), name)


def published_reports(folder: Path, *, relative_to: Path) -> list[PublishedReport]:
    """The reports of ``folder`` (one area and period) that have an HTML or PDF file: the
    registry's reports first, in its order, then any other (a notebook given by path) by name.

    Parameters
    ----------
    folder
        ``<out>/<area>/<period>``.
    relative_to
        The folder of the page that links them: hrefs are relative to it, with ``/``.

    Returns
    -------
    list of PublishedReport
        Empty when the folder has no manifest or no report file.
    """
    found = []
    for name, entry in read_manifest(folder)["reports"].items():
        files = entry.get("files", {}) if isinstance(entry, dict) else {}
        links = []
        for fmt, label in FORMATS:
            target = folder / str(files.get(fmt, ""))
            if fmt in files and target.is_file():
                links.append((label, os.path.relpath(target, relative_to).replace(os.sep, "/")))
        if links:
            title = str(entry.get("title") or (REPORTS[name].title if name in REPORTS else name))
            found.append(PublishedReport(name, title, tuple(links)))
    return sorted(found, key=lambda r: _order(r.name))


def report_columns(rows: list[list[PublishedReport]]) -> list[tuple[str, str]]:
    """``(name, title)`` of every report found in any of ``rows``, in the registry's order."""
    seen: dict[str, str] = {}
    for reports in rows:
        for report in reports:
            seen.setdefault(report.name, report.title)
    return sorted(seen.items(), key=lambda item: _order(item[0]))


def periods_with_reports(folder: Path) -> list[str]:
    """The period folders of an area's folder that hold at least one report, newest first."""
    if not folder.is_dir():
        return []
    found = [
        here.name
        for here in folder.iterdir()
        if here.is_dir() and published_reports(here, relative_to=folder)
    ]
    return sorted(found, reverse=True)
