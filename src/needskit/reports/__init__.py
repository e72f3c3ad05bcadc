"""Reports: parameterised notebooks run by papermill, exported to HTML and PDF, with a manifest.

``needskit report NAME --area CODE`` runs the notebook registered as ``NAME``
(:data:`REPORTS`), checks its parameters before a kernel starts, executes it, exports a
self-contained HTML page (interactive maps, no network) and an A4 PDF (WeasyPrint: cover,
contents, page numbers, static maps, methods-and-provenance appendix), and publishes them
atomically to ``reports/<area>/<period>/`` with ``manifest.json``.

Modules: :mod:`.registry` (names -> notebooks), :mod:`.params` (checks), :mod:`.run` (one report),
:mod:`.batch` (county + districts in parallel), :mod:`.export` (HTML, PDF), :mod:`.manifest`
(hashes, versions), :mod:`.appendix` (methods notes and provenance), :mod:`.command` (the CLI's work).

Notebooks import only :func:`methods_note` from here; it is cheap (no papermill, no nbconvert).
"""

from __future__ import annotations

from needskit.reports.appendix import METHODS, MethodsNote, catalog_sources, methods_note
from needskit.reports.batch import BatchResult, districts_of, run_batch
from needskit.reports.command import report_command
from needskit.reports.params import (
    STANDARD_PARAMETERS,
    latest_profile_period,
    notebook_parameters,
    profile_periods,
    validate_parameters,
)
from needskit.reports.registry import REPORTS, ReportSpec, register_report, resolve_report
from needskit.reports.run import FORMATS, ReportResult, run_report

__all__ = [
    "REPORTS",
    "ReportSpec",
    "register_report",
    "resolve_report",
    "STANDARD_PARAMETERS",
    "notebook_parameters",
    "validate_parameters",
    "latest_profile_period",
    "profile_periods",
    "FORMATS",
    "ReportResult",
    "run_report",
    "BatchResult",
    "run_batch",
    "districts_of",
    "report_command",
    "METHODS",
    "MethodsNote",
    "methods_note",
    "catalog_sources",
]
