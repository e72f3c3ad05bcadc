"""Reports: parameterised notebooks run by papermill, exported to HTML and PDF, with a manifest.

``needskit report NAME --area CODE`` runs the notebook registered as ``NAME``
(:data:`REPORTS`), checks its parameters before a kernel starts, executes it, exports a
self-contained HTML page (interactive maps, no network) and an A4 PDF (WeasyPrint: cover,
contents, page numbers, static maps, methods-and-provenance appendix), and publishes them
atomically to ``reports/<area>/<period>/`` with ``manifest.json``.

Report content (what notebooks call, one function per cell): :mod:`.context` (the area's slice
of the store), :mod:`.needs_profile`; for the commissioning reports :mod:`.scope` (the area's
places and residents), :mod:`.resource_map`, :mod:`.service_access` and :mod:`.provision` (the
resource map), :mod:`.priorities` and :mod:`.delivery` (commissioning priorities),
:mod:`.monitoring` (outcomes monitoring); with :mod:`.tables`, :mod:`.charts` and :mod:`.maps`.

Machinery: :mod:`.registry` (names -> notebooks), :mod:`.params` (checks), :mod:`.run` (one
report), :mod:`.batch` (an area and its chapters in parallel), :mod:`.export` (HTML, PDF),
:mod:`.manifest` (hashes, versions), :mod:`.appendix` (methods notes and provenance),
:mod:`.command` (the CLI's work). Importing this package does not import papermill or nbconvert.
"""

from __future__ import annotations

from needskit.reports.appendix import METHODS, MethodsNote, methods_note
from needskit.reports.batch import BatchResult, chapters_of, run_batch
from needskit.reports.command import report_command
from needskit.reports.context import ReportContext, load_context
from needskit.reports.params import STANDARD_PARAMETERS, notebook_parameters, validate_parameters
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
    "ReportContext",
    "load_context",
    "FORMATS",
    "ReportResult",
    "run_report",
    "BatchResult",
    "run_batch",
    "chapters_of",
    "report_command",
    "METHODS",
    "MethodsNote",
    "methods_note",
]
