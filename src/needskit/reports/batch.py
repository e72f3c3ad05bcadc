"""Run one report for a county and each of its districts in parallel, and link them from an index page."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from needskit.errors import NeedskitError, ReportError
from needskit.reports.params import profile_periods, validate_parameters
from needskit.reports.registry import resolve_report
from needskit.reports.run import Constant, ReportResult, default_latest, parse_formats, run_report

__all__ = ["BatchResult", "run_batch", "districts_of", "write_index"]


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


def districts_of(county: str) -> list[str]:
    """Codes of the districts in a county (or unitary area), sorted, from the ONS lookups.

    Raises
    ------
    ReportError
        ``county`` is not a county code.
    """
    from needskit.place import geography as geo

    frame = geo.hierarchy()
    codes = sorted(frame.loc[frame["county"] == county, "district"].dropna().unique().tolist())
    if not codes:
        raise ReportError(
            "is not a county code",
            where=f"--each-district with area {county!r}",
            expected="a county or unitary authority code, e.g. 'E10000013' (Gloucestershire)",
            got=repr(county),
        )
    return codes


def _worker(kwargs: dict[str, Any]) -> ReportResult:
    return run_report(**kwargs)


def _context():
    """A fork server that imported papermill, nbconvert and WeasyPrint once; workers fork from it
    (no threads are copied, and the ~3 s of imports is paid once, not per worker). Spawn where
    there is no fork server (Windows, macOS default)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["needskit.reports.run", "papermill", "nbconvert", "weasyprint", "nbclient"])
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
    latest_period: Callable[[], str] | None = None,
    known_periods: Callable[[], Iterable[str]] | None = None,
    out: str | Path = "reports",
    formats: str | Sequence[str] = ("html", "pdf"),
    parameters: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> BatchResult:
    """The county chapter and one chapter per district, run in parallel, with an ``index.html``.

    Parameters
    ----------
    report
        Report name or notebook path (as :func:`~needskit.reports.run_report`).
    area
        County code; its districts come from the ONS lookups (:func:`districts_of`).
    period
        One period for every chapter (default: the latest in the data, resolved once).
    jobs
        Worker processes (default: the number of cores). Each worker runs one kernel at a time.
    progress
        Show a tqdm progress bar on stderr.
    latest_period, known_periods, out, formats, parameters, **kwargs
        Passed to :func:`~needskit.reports.run_report` for every chapter (``level`` is set per
        chapter: ``county`` then ``district``).

    Returns
    -------
    BatchResult
        ``index`` is ``<out>/<county>/<period>/index.html``.

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
    spec, nb_path = resolve_report(report, notebooks=kwargs.get("notebooks"))
    areas = [area, *districts_of(area)]
    latest = latest_period or default_latest(known_periods)
    known = known_periods or profile_periods
    resolved = str(period) if period is not None else str(latest())
    known_list = sorted({str(p) for p in known()})
    # Check every chapter before any kernel starts.
    extra = dict(parameters or {})
    for code in areas:
        validate_parameters(
            nb_path,
            {**extra, "area": code, "period": resolved, **_standard(kwargs)},
            latest_period=Constant(resolved),
            known_periods=Constant(known_list),
        )
    common = {
        **kwargs,
        "period": resolved,
        "latest_period": Constant(resolved),
        "known_periods": Constant(known_list),
        "out": str(out),
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
                _collect(result, task, lambda t=task: _worker(t))
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
    result.index = write_index(result, areas=areas, out=Path(out), formats=parse_formats(formats), title=spec.title)
    result.seconds = time.perf_counter() - started
    if result.errors:
        first_area, first_error = next(iter(result.errors.items()))
        raise ReportError(
            f"{len(result.errors)} of {len(areas)} chapters failed; first, {first_area}: {first_error}",
            where=f"report {spec.name!r} for {area} and its districts, {resolved}",
            hint=f"the other chapters were published; index at {result.index}",
        )
    return result


def _standard(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: kwargs[k] for k in ("comparator", "publish") if kwargs.get(k) is not None}


def _collect(result: BatchResult, task: Mapping[str, Any], get: Callable[[], ReportResult]) -> None:
    try:
        result.results.append(get())
    except NeedskitError as exc:
        result.errors[task["area"]] = str(exc)
    except Exception as exc:  # a worker died: record, keep the other chapters
        result.errors[task["area"]] = f"{type(exc).__name__}: {exc}"


def write_index(result: BatchResult, *, areas: Sequence[str], out: Path, formats: Sequence[str], title: str) -> Path:
    """Write ``<out>/<county>/<period>/index.html`` linking every chapter's HTML and PDF.

    A chapter that failed in this run links its previous good report, if there is one, and says so.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from needskit.place import geography as geo
    from needskit.reports.manifest import write_text_atomic

    frame = geo.hierarchy()
    names = {}
    for level in ("county", "district"):
        names.update(dict(zip(frame[level], frame[f"{level}_name"], strict=True)))
    folder = out / result.area / result.period
    folder.mkdir(parents=True, exist_ok=True)
    done = {r.area: r for r in result.results}
    rows = []
    for code in areas:
        chapter = out / code / result.period
        links = []
        for fmt in ("html", "pdf"):
            if fmt in formats:
                target = chapter / f"{result.report}.{fmt}"
                if target.exists():
                    links.append((fmt, os.path.relpath(target, folder).replace(os.sep, "/")))
        if code in done:
            status, text = done[code].status, "up to date" if done[code].status == "unchanged" else "written"
        else:
            status = "failed"
            text = "failed in this run" + ("; previous report shown" if links else "")
        rows.append({"area": code, "area_name": names.get(code, code), "links": links, "status": status, "status_text": text})
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
        partnership=f"{names.get(result.area, result.area)} partnership",
        rows=rows,
        css=css,
    )
    path = folder / "index.html"
    write_text_atomic(path, page)
    return path
