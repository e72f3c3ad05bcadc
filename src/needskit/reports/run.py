"""Run a report: check parameters, execute the notebook with papermill, export, publish atomically.

One run writes ``<out>/<area>/<period>/<report>.ipynb|.html|.pdf`` and its entry in
``<out>/<area>/<period>/manifest.json`` (with each output's SHA-256). Everything is first written
to a working folder under ``<out>/.tmp/`` (those of killed runs are removed by the next run);
when every format succeeded, a new report folder is made beside the old one and swapped in with
one atomic rename under the folder's lock, so a failing or killed run never leaves a new HTML
beside an old PDF or manifest; the failed executed notebook is kept under
``<out>/_failed/<area>/<period>/`` for debugging.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from needskit._atomic import locked, recover, scratch, staged_folder
from needskit.config.project import Project, find_project
from needskit.errors import ReportError
from needskit.partner_data.store import Store
from needskit.reports.context import open_store
from needskit.reports.export import ExportContext, export_html, export_pdf
from needskit.reports.manifest import (
    MANIFEST_NAME,
    git_commit,
    hash_inputs,
    input_files,
    manifest_entry,
    package_versions,
    read_manifest,
    sha256_file,
    unchanged,
    write_json_atomic,
)
from needskit.reports.params import ReportParameters, validate_parameters
from needskit.reports.registry import ReportSpec, resolve_report

__all__ = ["FORMATS", "ReportResult", "run_report", "parse_formats", "Constant", "kernel_for_reports"]

FORMATS: tuple[str, ...] = ("ipynb", "html", "pdf")
"""Output formats; the executed ``.ipynb`` is always kept."""
FAILED_DIR = "_failed"
TMP_DIR = ".tmp"


@dataclass
class ReportResult:
    """What one report run did.

    Attributes
    ----------
    report, area, area_name, period
        The report and its area and period.
    status
        ``"written"`` or ``"unchanged"`` (skipped by ``if_changed``).
    folder
        ``<out>/<area>/<period>``.
    files
        Format -> path of each output (for ``"unchanged"``, the existing files).
    seconds
        Wall time of the run.
    manifest
        The manifest entry of the run.
    """

    report: str
    area: str
    area_name: str
    period: str
    status: str
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    manifest: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Constant:
    """A picklable callable returning a fixed value (a period or a list of periods for workers)."""

    value: Any

    def __call__(self) -> Any:
        return self.value


def parse_formats(formats: str | Sequence[str]) -> list[str]:
    """``"html,pdf"`` or ``["html", "pdf"]`` -> ``["ipynb", "html", "pdf"]`` (checked, ordered).

    Raises
    ------
    ReportError
        Unknown format.
    """
    given = formats.split(",") if isinstance(formats, str) else list(formats)
    given = [f for f in given if f and f.strip()]
    unknown = [f for f in given if f.strip().lower().removeprefix(".") not in FORMATS]
    if unknown:
        raise ReportError(
            "unknown output format",
            where="--format",
            expected=f"some of {list(FORMATS)}, e.g. 'html,pdf'",
            got=repr(unknown[0]),  # as given, never a cleaned-up version of it
        )
    items = [f.strip().lower().removeprefix(".") for f in given]
    return [f for f in FORMATS if f == "ipynb" or f in items]


@functools.cache
def kernel_for_reports() -> str:
    """The Jupyter kernel reports run in: ``needskit`` if registered (``make install`` does), else
    ``python3``."""
    from jupyter_client.kernelspec import KernelSpecManager

    return "needskit" if "needskit" in KernelSpecManager().find_kernel_specs() else "python3"


def _now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def _today() -> str:
    today = dt.date.today()
    return f"{today.day} {today:%B %Y}"


def notebook_audience(notebook: Path) -> str:
    """The audience a notebook reports for by default (its ``audience`` parameter; internal if none)."""
    from needskit.reports.params import notebook_parameters

    return str(notebook_parameters(notebook).get("audience") or "internal")


def _relative(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def _failing_cell(nb_path: Path, error: Any) -> tuple[int, str]:
    """Index (in the report's own notebook) and first source line of the cell that failed."""
    import nbformat

    source = str(getattr(error, "source", "") or "")
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    try:
        original = nbformat.read(nb_path, as_version=4)
    except Exception:  # the index in the executed notebook is still useful
        return int(getattr(error, "cell_index", -1)), first
    matches = [
        i
        for i, c in enumerate(original.cells)
        if c.get("cell_type") == "code" and c.get("source", "") == source
    ]
    if matches:
        guess = int(getattr(error, "cell_index", matches[0]))
        return min(matches, key=lambda i: abs(i - (guess - 1))), first
    return int(getattr(error, "cell_index", -1)), first


def _keep_failed(executed: Path, failed: Path) -> Path | None:
    if not executed.exists():
        return None
    failed.parent.mkdir(parents=True, exist_ok=True)
    os.replace(executed, failed)
    return failed


def run_report(
    report: str | Path,
    *,
    area: str,
    period: str | None = None,
    comparator: str | None = None,
    level: str | None = None,
    publish: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    formats: str | Sequence[str] = ("html", "pdf"),
    out: str | Path | None = None,
    if_changed: bool = False,
    store: str | Path | None = None,
    project: Project | str | Path | None = None,
    extra_inputs: Sequence[str | Path] = (),
    notebooks: Path | None = None,
    kernel_name: str | None = None,
    timeout: int | None = None,
) -> ReportResult:
    """Execute a report notebook with papermill and publish its HTML, PDF and manifest.

    Parameters
    ----------
    report
        A name in :data:`~needskit.reports.REPORTS` (``"needs-profile"``) or a path to a notebook.
    area, period, comparator, level, publish
        The standard parameters (:data:`~needskit.reports.params.STANDARD_PARAMETERS`); ``None`` =
        not given: the notebook's default, except ``period``: the latest period in the store, never
        the notebook's default. ``level`` is the notebook's map level (not above the area's);
        ``publish`` is the audience (the notebook's ``audience``).
    parameters
        Any other parameters of the notebook (text values are converted to the default's type).
    formats
        ``"html,pdf"``, ``"html"``, ``"pdf"`` ...; the executed notebook is always kept.
    out
        Reports folder (default ``<project>/reports``); output goes to ``<out>/<area>/<period>/``.
    if_changed
        Skip the run when ``manifest.json`` shows the same parameters, notebook, input hashes,
        needskit version and commit, and the outputs exist.
    store, project
        The internal store's folder (default ``<project>/data/processed``) and the project
        (default: found from the working folder); public and partner reports read the store
        published for them. Both are passed to the notebook.
    extra_inputs
        More files to hash into the manifest (e.g. the outcomes framework).
    notebooks
        Folder of the registered notebooks (default ``<project>/notebooks``).
    kernel_name
        Jupyter kernel (default :func:`kernel_for_reports`).
    timeout
        Seconds one cell may run (default: no limit).

    Returns
    -------
    ReportResult

    Raises
    ------
    ReportError
        Before any kernel starts: unknown report or format, bad parameters (see
        :func:`~needskit.reports.params.validate_parameters`). After: a cell failed (message names
        the cell index, its first line and ``ename: evalue``; the executed notebook is kept under
        ``<out>/_failed/<area>/<period>/``), or an export failed. The previous report is untouched.

    Notes
    -----
    Inputs recorded: every file of the store the report reads (whose own manifest records the
    raw files it was made from) and ``extra_inputs``, each with its SHA-256 (papermill records
    parameters; the manifest adds the data, the code version and the disclosure rule, so a
    published figure can be traced).

    Example
    -------
    >>> run_report("needs-profile", area="E07000078", period="2024-04")  # doctest: +SKIP
    """
    started_clock = time.perf_counter()
    started = _now()
    wanted = parse_formats(formats)
    if not if_changed:  # the kernel's imports run while the parameters are checked and inputs hashed
        _warm_kernel(kernel_name or kernel_for_reports())
    proj = project if isinstance(project, Project) else find_project(project)
    spec, nb_path = resolve_report(report, notebooks=notebooks if notebooks is not None else proj.notebooks)
    given = dict(parameters or {})
    for key, value in (
        ("area", area),
        ("period", period),
        ("comparator", comparator),
        ("level", level),
        ("audience", publish),
    ):
        if value is not None:
            given[key] = value
    audience = str(given.get("audience") or notebook_audience(nb_path))
    reading, internal = open_store(audience=audience, store=store, project=proj)
    if audience != "internal" and not reading.exists():
        reading.manifest()  # raises: no store, with the command to run
    reading.check_fresh(internal=internal if audience != "internal" else None)
    if audience != "internal":
        internal.check_fresh()
    checked = validate_parameters(
        nb_path,
        given,
        store=reading,
        optional={"project": str(proj.root), "store": str(store) if store else None},
    )
    out = Path(out) if out is not None else proj.reports
    folder = out / checked.area / checked.period
    entry = _draft_entry(
        spec, nb_path, checked, wanted, extra_inputs, kernel_name, store=reading, project=proj
    )

    with locked(folder, what="report folder", error=ReportError):
        recover(folder)  # a publish a crash interrupted: the old folder back, temporary ones removed
    if if_changed:
        previous = manifest_entry(folder, spec.name)
        if previous is not None and unchanged(previous, entry, folder=folder):
            files = {fmt: folder / previous["files"][fmt] for fmt in wanted}
            return ReportResult(
                spec.name,
                checked.area,
                checked.area_name,
                checked.period,
                "unchanged",
                folder,
                files,
                time.perf_counter() - started_clock,
                previous,
            )

    failed = out / FAILED_DIR / checked.area / checked.period / f"{spec.name}.ipynb"
    # a private working folder, removed afterwards; those of runs that were killed are removed too
    with scratch(out / TMP_DIR, f"{checked.area}-{checked.period}-{spec.name}") as tmp:
        executed = tmp / f"{spec.name}.ipynb"
        _execute(
            nb_path, executed, checked, spec, failed, kernel=entry["kernel"], timeout=timeout, cwd=proj.root
        )
        executed_at = _now()
        entry["started"] = started
        entry["executed"] = executed_at
        manifest = reading.manifest()
        files = _export(
            executed,
            tmp,
            spec,
            checked,
            entry,
            wanted,
            failed,
            sources=pd.DataFrame(manifest.get("sources", [])),
            partnership=str(manifest.get("partnership", {}).get("name", "")),
        )
        entry["finished"] = _now()
        entry["seconds"] = round(time.perf_counter() - started_clock, 2)
        entry["files"] = {fmt: path.name for fmt, path in files.items()}
        entry["bytes"] = {fmt: path.stat().st_size for fmt, path in files.items()}
        entry["sha256"] = {fmt: sha256_file(path) for fmt, path in files.items()}
        published = _publish(folder, files, spec.name, entry, checked)
    if failed.exists():
        failed.unlink()
    return ReportResult(
        spec.name,
        checked.area,
        checked.area_name,
        checked.period,
        "written",
        folder,
        published,
        time.perf_counter() - started_clock,
        entry,
    )


def _draft_entry(
    spec: ReportSpec,
    nb_path: Path,
    checked: ReportParameters,
    wanted: list[str],
    extra_inputs: Sequence[str | Path],
    kernel_name: str | None,
    *,
    store: Store,
    project: Project,
) -> dict[str, Any]:
    from needskit.disclosure import describe_rule

    inputs = hash_inputs(input_files(store.path, extra=extra_inputs), root=project.root)
    combined = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode("utf-8")).hexdigest()
    versions = package_versions()
    checkout = Path(__file__).resolve().parents[3]
    git = git_commit(str(checkout) if (checkout / ".git").exists() else None)
    return {
        "report": spec.name,
        "title": spec.title,
        "area": checked.area,
        "area_name": checked.area_name,
        "area_level": checked.area_level,
        "period": checked.period,
        "notebook": _relative(nb_path, project.root),
        "notebook_sha256": sha256_file(nb_path),
        "parameters": checked.parameters,
        "parameters_given": checked.given,
        "period_checked": checked.period_checked,
        "notes": list(checked.notes),
        "publish": checked.publish,
        "disclosure_rule": checked.disclosure_rule,
        "disclosure_rule_text": describe_rule(checked.disclosure_rule) if checked.disclosure_rule else None,
        "formats": wanted,
        "kernel": kernel_name or kernel_for_reports(),
        "needskit_version": versions.get("needskit"),
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "versions": versions,
        "inputs_sha256": combined,
        "inputs": inputs,
    }


def _warm_kernel(kernel: str) -> type | None:
    """Start (or find) the warm template of ``kernel`` and return the kernel manager class that forks
    from it (:mod:`needskit.reports.kernels`), or None: the kernel is started the ordinary way."""
    from needskit.reports import kernels

    if not kernels.fork_enabled():
        return None
    interpreter = kernels.interpreter_of(kernel)
    if interpreter is None:
        return None
    kernels.template_for(interpreter)
    return kernels.ForkingKernelManager


def _execute(
    nb_path: Path,
    executed: Path,
    checked: ReportParameters,
    spec: ReportSpec,
    failed: Path,
    *,
    kernel: str,
    timeout: int | None,
    cwd: Path,
) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    manager = _warm_kernel(kernel)
    try:
        papermill.execute_notebook(
            str(nb_path),
            str(executed),
            parameters=checked.given,
            kernel_name=kernel,
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,  # one write at the end, not one per cell
            cwd=str(cwd),
            execution_timeout=timeout,
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],  # no start-up chatter on the terminal
            **({"kernel_manager_class": manager} if manager is not None else {}),
        )
    except PapermillExecutionError as exc:
        index, first = _failing_cell(nb_path, exc)
        kept = _keep_failed(executed, failed)
        raise ReportError(
            f"cell {index} ({first!r}) failed: {exc.ename}: {exc.evalue}",
            where=f"report {spec.name!r} for {checked.area} {checked.period} ({nb_path.name})",
            hint=(f"the executed notebook is kept at {kept}; " if kept else "")
            + "the previous report, if any, is unchanged",
        ) from exc
    except Exception as exc:  # kernel missing or dead, timeout, unreadable notebook
        kept = _keep_failed(executed, failed)
        raise ReportError(
            f"the notebook could not be run: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}",
            where=f"report {spec.name!r} for {checked.area} {checked.period} ({nb_path.name})",
            hint=(f"the executed notebook is kept at {kept}; " if kept else "")
            + "is the `needskit` kernel installed? (`make install`)",
        ) from exc


def _export(
    executed: Path,
    tmp: Path,
    spec: ReportSpec,
    checked: ReportParameters,
    entry: dict[str, Any],
    wanted: list[str],
    failed: Path,
    *,
    sources: pd.DataFrame | None,
    partnership: str,
) -> dict[str, Path]:
    import nbformat

    from needskit.reports.export import prepare_notebook

    nb = nbformat.read(executed, as_version=4)
    _, _, stderr = prepare_notebook(nb)
    entry["warnings"] = [text.strip()[:2000] for text in stderr if text.strip()][:50]
    record = {**entry, "finished": entry.get("executed")}
    ctx = ExportContext(
        title=spec.title,
        report=spec.name,
        area=checked.area,
        area_name=checked.area_name,
        period=checked.period,
        publish=checked.publish,
        disclosure_rule=checked.disclosure_rule,
        partnership=partnership,
        date=_today(),
        sources=sources,
        inputs=entry["inputs"],
        record=record,
        provisional=checked.provisional,
    )
    files = {"ipynb": executed}
    try:
        if "html" in wanted:
            path = tmp / f"{spec.name}.html"
            path.write_text(export_html(nb, ctx), encoding="utf-8")
            files["html"] = path
        if "pdf" in wanted:
            path = tmp / f"{spec.name}.pdf"
            entry["pdf_pages"] = export_pdf(nb, ctx, path)
            files["pdf"] = path
    except Exception as exc:
        kept = _keep_failed(executed, failed)
        what = exc.what if isinstance(exc, ReportError) else f"{type(exc).__name__}: {exc}"
        raise ReportError(
            f"export failed: {what}",
            where=f"report {spec.name!r} for {checked.area} {checked.period}",
            hint=(f"the executed notebook is kept at {kept}; " if kept else "")
            + "the previous report is unchanged",
        ) from exc
    return files


def _publish(
    folder: Path,
    files: Mapping[str, Path],
    name: str,
    entry: dict[str, Any],
    checked: ReportParameters,
) -> dict[str, Path]:
    """Put the outputs and the manifest entry in place: a new folder is made beside ``folder``
    (links to its other reports, these outputs, the updated manifest) and swapped in with one
    atomic rename, under the folder's lock, so a crash leaves the old folder or the new one and
    two runs never lose each other's manifest entry."""
    with (
        locked(folder, what="report folder", error=ReportError),
        staged_folder(
            folder, keep=lambda entry_name: entry_name not in {p.name for p in files.values()}
        ) as new,
    ):
        for path in files.values():
            os.replace(path, new / path.name)
        manifest = read_manifest(new)
        manifest.update(
            {
                "manifest_version": 1,
                "area": checked.area,
                "area_name": checked.area_name,
                "period": checked.period,
            }
        )
        manifest["reports"][name] = entry
        write_json_atomic(new / MANIFEST_NAME, manifest)
    return {fmt: folder / path.name for fmt, path in files.items()}
