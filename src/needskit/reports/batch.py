"""Run one report for a county and each of its districts in parallel, and link them, with every other
report of those areas and the period, from an index page."""

from __future__ import annotations

import datetime as dt
import functools
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from needskit._atomic import locked
from needskit.config.project import find_project
from needskit.errors import NeedskitError, ReportError
from needskit.partner_data.store import Store
from needskit.reports.context import open_store, whole_area
from needskit.reports.params import validate_parameters
from needskit.reports.registry import resolve_report
from needskit.reports.run import ReportResult, notebook_audience, parse_formats, run_report

__all__ = ["BatchResult", "run_batch", "run_reports", "chapters_of", "write_index"]


@dataclass
class BatchResult:
    """What a batch did: one :class:`ReportResult` per chapter that succeeded, errors by area."""

    report: str
    area: str
    period: str
    results: list[ReportResult] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    index: Path | None = None
    seconds: float = 0.0


def chapters_of(area: str, *, store: Store) -> list[str]:
    """The chapters of ``area``: the partnership's chapters (``conf/partnership.yml``) when
    ``area`` is the partnership's area, else the next level down inside ``area`` that has at
    least two units (the wards of a district, the districts of a county).

    Raises
    ------
    ReportError
        ``area`` is not in the store, or nothing divides it.
    """
    manifest = store.manifest()
    described = manifest.get("area", {})
    codes = described.get("codes", [])
    if (area in codes and len(codes) == 1) or (area == "partnership" and len(codes) > 1):
        return list(described.get("chapters", []))
    hierarchy = store.read_hierarchy()
    order = ("county", "district", "ward", "msoa", "lsoa")
    for level in order:
        if (hierarchy[level] == area).any():
            inside = hierarchy[hierarchy[level] == area]
            for below in order[order.index(level) + 1 :]:
                units = sorted(inside[below].dropna().unique())
                if len(units) >= 2:
                    return units
    raise ReportError(
        "has no chapters",
        where=f"--each-chapter with area {area!r}",
        expected=f"the partnership's area ({', '.join(described.get('codes', []))}) "
        "or an area inside it with smaller areas",
        got=repr(area),
    )


def _worker(kwargs: dict[str, Any]) -> ReportResult:
    return run_report(**kwargs)


def _context():
    """A fork server that imported papermill, nbconvert and WeasyPrint once; workers fork from it
    (no threads are copied, and the ~3 s of imports is paid once, not per worker). Spawn where
    there is no fork server (Windows, macOS default)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(
            ["needskit.reports.run", "papermill", "nbconvert", "weasyprint", "nbclient"]
        )
        return context
    return multiprocessing.get_context("spawn")


def _warm() -> None:  # import the heavy modules once per worker, before the first chapter
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401
    import weasyprint  # noqa: F401


def run_batch(
    report: str | Path,
    *,
    area: str,
    period: str | None = None,
    jobs: int | None = None,
    progress: bool = True,
    out: str | Path | None = None,
    store: str | Path | None = None,
    project: str | Path | None = None,
    formats: str | Sequence[str] = ("html", "pdf"),
    parameters: Mapping[str, Any] | None = None,
    history: bool = False,
    **kwargs: Any,
) -> BatchResult:
    """The area's report and one per chapter, run in parallel, with an ``index.html``.

    Parameters
    ----------
    report
        Report name or notebook path (as :func:`~needskit.reports.run_report`).
    area
        The partnership's area (its chapters come from the store: :func:`chapters_of`), or an
        area inside it (its next level down).
    period
        One period for every chapter (default: the latest in the store, resolved once).
    jobs
        Worker processes (default: the number of cores). Each worker runs one kernel at a time.
    progress
        Show a tqdm progress bar on stderr.
    out, store, project, formats, parameters, **kwargs
        Passed to :func:`~needskit.reports.run_report` for every chapter.
    history
        The index links the area's history page of every period (``needskit cycle`` writes it).

    Returns
    -------
    BatchResult
        ``index`` is ``<out>/<area>/<period>/index.html``, linking every report of each area and
        the period found in ``out`` (:func:`write_index`).

    Raises
    ------
    ReportError
        Before any kernel: bad parameters for any chapter. After: one or more chapters failed (the
        index is still written, linking every chapter that has a good report).
    """
    import time

    from tqdm import tqdm

    started = time.perf_counter()
    parse_formats(formats)
    proj = find_project(project)
    spec, nb_path = resolve_report(report, notebooks=kwargs.get("notebooks") or proj.notebooks)
    audience = str(kwargs.get("publish") or (parameters or {}).get("audience") or notebook_audience(nb_path))
    reading, internal = open_store(audience=audience, store=store, project=proj)
    reading.check_fresh(internal=internal if audience != "internal" else None)
    area = whole_area(area, reading.manifest())
    areas = [area, *chapters_of(area, store=reading)]
    out = Path(out) if out is not None else proj.reports
    # Check every chapter before any kernel starts (and resolve the period once).
    extra = dict(parameters or {})
    checked = validate_parameters(
        nb_path, {**extra, "area": area, "period": period, **_standard(kwargs)}, store=reading
    )
    resolved = checked.period
    for code in areas[1:]:
        validate_parameters(
            nb_path, {**extra, "area": code, "period": resolved, **_standard(kwargs)}, store=reading
        )
    common = {
        **kwargs,
        "period": resolved,
        "out": str(out),
        "store": str(store) if store else None,
        "project": str(proj.root),
        "formats": list(formats) if not isinstance(formats, str) else formats,
        "parameters": extra,
    }
    tasks = [{**common, "report": str(report), "area": code} for code in areas]
    result = BatchResult(spec.name, area, resolved)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
    bar = tqdm(total=len(tasks), desc=f"{spec.name} {area} {resolved}", unit="chapter", disable=not progress)
    try:
        if workers == 1:
            for task in tasks:
                _collect(result, task, functools.partial(_worker, task))
                bar.update(1)
        else:
            context = _context()
            with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_warm) as pool:
                futures = {pool.submit(_worker, task): task for task in tasks}
                for future in as_completed(futures):
                    _collect(result, futures[future], future.result)
                    bar.update(1)
    finally:
        bar.close()
    order = {code: i for i, code in enumerate(areas)}
    result.results.sort(key=lambda r: order[r.area])
    result.index = write_index(result, areas=areas, out=out, title=spec.title, store=reading, history=history)
    result.seconds = time.perf_counter() - started
    if result.errors:
        first_area, first_error = next(iter(result.errors.items()))
        raise ReportError(
            f"{len(result.errors)} of {len(areas)} chapters failed; first, {first_area}: {first_error}",
            where=f"report {spec.name!r} for {area} and its chapters, {resolved}",
            hint=f"the other chapters were published; index at {result.index}",
        )
    return result


def _standard(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    names = {"comparator": "comparator", "publish": "audience"}
    return {names[k]: kwargs[k] for k in names if kwargs.get(k) is not None}


def run_reports(
    tasks: Sequence[Mapping[str, Any]],
    *,
    jobs: int | None = None,
    on_done: Callable[[Mapping[str, Any]], object] | None = None,
) -> tuple[list[ReportResult], dict[str, str]]:
    """Several report runs (keyword arguments of :func:`~needskit.reports.run_report` each), on a
    pool of worker processes that import papermill, nbconvert and WeasyPrint once; ``on_done`` is
    called with each task as it finishes (a progress bar).

    Returns
    -------
    The results in the order of ``tasks`` (of those that succeeded) and, per failed task
    (``"<report> <area>"``), its error.
    """
    results: dict[int, ReportResult] = {}
    errors: dict[str, str] = {}
    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
    context = _context()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_warm) as pool:
        futures = {pool.submit(_worker, dict(task)): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except Exception as exc:  # one report's failure does not stop the others
                errors[f"{tasks[i]['report']} {tasks[i]['area']}"] = (
                    str(exc) if isinstance(exc, NeedskitError) else f"{type(exc).__name__}: {exc}"
                )
            if on_done is not None:
                on_done(tasks[i])
    return [results[i] for i in sorted(results)], errors


def _collect(result: BatchResult, task: Mapping[str, Any], get: Callable[[], ReportResult]) -> None:
    try:
        result.results.append(get())
    except NeedskitError as exc:
        result.errors[task["area"]] = str(exc)
    except Exception as exc:  # a worker died: record, keep the other chapters
        result.errors[task["area"]] = f"{type(exc).__name__}: {exc}"


def write_index(
    result: BatchResult,
    *,
    areas: Sequence[str],
    out: Path,
    title: str,
    store: Store,
    history: bool = False,
) -> Path:
    """Write ``<out>/<area>/<period>/index.html``: a row per area (``areas``, the area and its
    chapters), linking the HTML and PDF of **every** report of that area and period found in the
    reports folder (:func:`~needskit.reports.index_pages.published_reports`: needs profile,
    resource map, commissioning priorities, outcomes monitoring, ...), and the status of this
    batch's report. A chapter whose report failed in this run links its previous good report, if
    there is one, and says so. With ``history``, the page also links the area's history page
    (``<out>/<area>/index.html``, every period: :func:`~needskit.reports.cycle.write_history`).
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from needskit.reports.index_pages import published_reports, report_columns
    from needskit.reports.manifest import write_text_atomic

    frame = store.read_hierarchy()
    names = {}
    for level in ("lsoa", "msoa", "ward", "district", "county"):
        pairs = frame[[level, f"{level}_name"]].dropna().drop_duplicates(level)
        names.update(dict(zip(pairs[level], pairs[f"{level}_name"], strict=True)))
    partnership = str(store.manifest().get("partnership", {}).get("name", ""))
    folder = out / result.area / result.period
    folder.mkdir(parents=True, exist_ok=True)
    done = {r.area: r for r in result.results}
    found = {code: published_reports(out / code / result.period, relative_to=folder) for code in areas}
    columns = report_columns(list(found.values()))
    rows = []
    for code in areas:
        by_name = {report.name: report for report in found[code]}
        if code in done:
            status, text = done[code].status, "up to date" if done[code].status == "unchanged" else "written"
        else:
            status = "failed"
            text = "failed in this run" + ("; previous report shown" if result.report in by_name else "")
        rows.append(
            {
                "area": code,
                "area_name": names.get(code, code),
                "reports": [by_name.get(name) for name, _ in columns],
                "status": status,
                "status_text": text,
            }
        )
    env = Environment(
        loader=FileSystemLoader(str(resources.files("needskit") / "templates" / "report")),
        autoescape=select_autoescape(["html", "j2"]),
    )
    css = (resources.files("needskit") / "assets" / "report.css").read_text(encoding="utf-8")
    page = env.get_template("index.html.j2").render(
        title=title,
        area_name=names.get(result.area, result.area),
        period=result.period,
        date=f"{dt.date.today().day} {dt.date.today():%B %Y}",
        partnership=partnership,
        columns=columns,
        rows=rows,
        history="../index.html" if history else None,
        css=css,
    )
    path = folder / "index.html"
    with locked(folder, what="report folder", error=ReportError):  # not lost to a report's swap
        write_text_atomic(path, page)
    return path
