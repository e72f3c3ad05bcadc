"""Run one report for many areas (every district of a region, say) on a local process pool or on
a Dask distributed cluster, and link them from an index page.

``needskit report NAME --each district --within E12000009`` resolves the districts from the
store's hierarchy (:func:`areas_within`) and fans the runs out:

* ``local`` (the default): a pool of worker processes on this machine
  (:func:`~needskit.reports.batch.run_reports`);
* ``dask``: a Dask ``LocalCluster`` of single-threaded worker processes on this machine, or, with
  ``scheduler="tcp://HOST:8786"``, the workers of a running Dask scheduler (``dask scheduler`` /
  ``dask worker``, see ``docs/distributed.md``). Workers read the same store and write the same
  reports folder, so every machine must see the project, the store and the reports folder at the
  same paths (a shared drive) and run the same version of needskit.

Each run is :func:`~needskit.reports.run_report` with the same arguments whichever engine runs it,
so the outputs are the same (their manifest's hashes differ only by the dates and times written
into them). A failure of one area is captured where it happens and reported; the other areas
carry on and are published.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from needskit.config.project import find_project
from needskit.errors import NeedskitError, ReportError
from needskit.partner_data.store import Store
from needskit.reports.batch import BatchResult, chapters_of, run_reports, write_index
from needskit.reports.context import open_store, whole_area
from needskit.reports.params import validate_parameters
from needskit.reports.registry import resolve_report
from needskit.reports.run import ReportResult, notebook_audience, parse_formats, run_report

__all__ = [
    "ENGINES",
    "EACH_LEVELS",
    "GROUPINGS",
    "areas_within",
    "failed_areas",
    "run_areas",
    "run_each",
    "run_tasks",
]

Engine = Literal["local", "dask"]
ENGINES: tuple[str, ...] = ("local", "dask")
EACH_LEVELS: tuple[str, ...] = ("lsoa", "msoa", "ward", "district", "county", "region")
"""Nested levels of the store's hierarchy, smallest first (``--each``; ``region`` where the store has it)."""
GROUPINGS: tuple[str, ...] = ("icb", "pfa", "csp")
"""Other areas of the hierarchy ``--within`` takes (ICB, police force area, community safety
partnership): made of districts or parts of them, so ``--each`` is at most ``district`` there."""
CONNECT_TIMEOUT = 20
"""Seconds to wait for a Dask scheduler to answer and for its first worker to join."""


# ------------------------------------------------------------------------------- which areas


def areas_within(each: str, within: str | None, *, store: Store) -> list[str]:
    """The codes of every ``each`` area (``district``, ``ward`` ...) inside ``within``, from the
    store's hierarchy, sorted.

    Parameters
    ----------
    each
        A level of the hierarchy: one of :data:`EACH_LEVELS` the store has.
    within
        An area code of the store (a region, county, district, ward, or an ICB, police force
        area or community safety partnership: :data:`GROUPINGS`), or ``None``/``""``/
        ``"partnership"`` or the partnership's own code for the partnership's whole area.
    store
        The store whose hierarchy is read.

    Raises
    ------
    ReportError
        Unknown level; ``within`` is not an area of the store; ``each`` is not below ``within``'s
        level; nothing lies within.

    Example
    -------
    >>> areas_within("district", "E10000013", store=store)  # doctest: +SKIP
    ['E07000078', 'E07000079', 'E07000080', 'E07000081', 'E07000082', 'E07000083']
    """
    hierarchy = store.read_hierarchy()
    levels = [lv for lv in EACH_LEVELS if lv in hierarchy.columns]
    if each not in levels:
        raise ReportError(
            "is not a level of the store's hierarchy",
            where="--each",
            expected=f"one of {', '.join(levels)}",
            got=repr(each),
        )
    described = store.manifest().get("area", {})
    codes = [str(c) for c in described.get("codes", [])]
    whole = within in (None, "", "partnership") or (within in codes and len(codes) == 1)
    inside = hierarchy
    where = "the partnership's area"
    if not whole:
        groupings = [lv for lv in GROUPINGS if lv in hierarchy.columns]
        found = [lv for lv in [*reversed(levels), *groupings] if (hierarchy[lv] == within).any()]
        if not found:
            raise ReportError(
                "is not an area of the store",
                where="--within",
                expected=f"the partnership's area ({', '.join(codes) or 'partnership'}) or an area "
                f"inside it ({', '.join(levels[1:])})",
                got=repr(within),
            )
        level = found[0]
        below = levels[: levels.index(level)] if level in levels else levels[: levels.index("district") + 1]
        if each not in below:
            raise ReportError(
                f"{each} areas do not lie within a {level}",
                where=f"--each {each} --within {within}",
                expected=f"a level below {level}: {', '.join(below)}",
                got=repr(each),
            )
        inside = hierarchy[hierarchy[level] == within]
        where = f"{level} {within}"
    units = sorted(str(code) for code in inside[each].dropna().unique())
    if not units:
        raise ReportError(
            f"no {each} lies within {where}",
            where=f"--each {each} --within {within or 'partnership'}",
            hint="the store's hierarchy has no codes at that level there",
        )
    return units


# ------------------------------------------------------------------------------- engines


def _run_captured(task: Mapping[str, Any]) -> tuple[ReportResult | None, str | None]:
    """One report run in a worker: its result, or its error as text (never raised, so one area's
    failure is reported and the others carry on)."""
    try:
        return run_report(**task), None
    except NeedskitError as exc:
        return None, str(exc)
    except Exception as exc:  # a bug or a dead kernel: still this area's error, not the batch's
        return None, f"{type(exc).__name__}: {exc}"


def _warm() -> None:  # import the heavy modules once per worker, before the first area
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401
    import weasyprint  # noqa: F401


def _worker_sees(paths: Sequence[str]) -> dict[str, Any]:
    """What a Dask worker can see: needskit's version and which of ``paths`` it lacks."""
    from needskit import __version__

    return {"needskit": __version__, "missing": [p for p in paths if not Path(p).exists()]}


def run_tasks(
    tasks: Sequence[Mapping[str, Any]],
    *,
    engine: Engine | None = None,
    scheduler: str | None = None,
    jobs: int | None = None,
    on_done: Callable[[Mapping[str, Any]], object] | None = None,
) -> tuple[list[ReportResult], dict[str, str]]:
    """Run many reports (keyword arguments of :func:`~needskit.reports.run_report` each) on an
    engine.

    Parameters
    ----------
    tasks
        One mapping per run; its ``area`` keys the errors.
    engine
        ``"local"``: a process pool on this machine (the default); ``"dask"`` (the default with a
        ``scheduler``): Dask distributed, a ``LocalCluster`` of ``jobs`` single-threaded worker
        processes unless ``scheduler`` is given.
    scheduler
        Address of a running Dask scheduler (``tcp://HOST:8786``); implies ``engine="dask"``.
    jobs
        Worker processes of the local pool or LocalCluster (default: the cores, at most one per
        task); not used with ``scheduler`` (the cluster has its workers).
    on_done
        Called with each task as it finishes (a progress bar).

    Returns
    -------
    The results of the runs that succeeded and, per failed run, its area and error, both in the
    order of ``tasks``.

    Raises
    ------
    ReportError
        Unknown engine; ``scheduler`` with ``engine="local"``; the scheduler cannot be reached or
        has no workers; a worker lacks the project, store or reports folder, runs another version
        of needskit, or runs more than one thread. Never for one run's failure.
    """
    engine = _check_engine(engine, scheduler)
    if not tasks:
        return [], {}
    if engine == "local" and not scheduler:
        done, failed = run_reports(tasks, jobs=jobs, on_done=on_done)
        errors = {key.rsplit(" ", 1)[-1]: error for key, error in failed.items()}
    else:
        done, errors = _run_dask(tasks, scheduler=scheduler, jobs=jobs, on_done=on_done)
    order = [str(task["area"]) for task in tasks]
    return done, {code: errors[code] for code in order if code in errors}


def _check_engine(engine: str | None, scheduler: str | None) -> Engine:
    chosen = engine or ("dask" if scheduler else "local")
    if chosen not in ENGINES:
        raise ReportError("unknown engine", where="--engine", expected=" or ".join(ENGINES), got=repr(engine))
    if scheduler and chosen == "local":
        raise ReportError(
            "a scheduler needs the dask engine",
            where=f"--scheduler {scheduler}",
            expected="--engine dask (or no --engine)",
            got="--engine local",
        )
    return "dask" if chosen == "dask" else "local"


def _run_dask(
    tasks: Sequence[Mapping[str, Any]],
    *,
    scheduler: str | None,
    jobs: int | None,
    on_done: Callable[[Mapping[str, Any]], object] | None,
) -> tuple[list[ReportResult], dict[str, str]]:
    from contextlib import ExitStack

    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # a dependency, but say so rather than fail obscurely
        raise ReportError(
            "the dask engine needs the `distributed` package",
            where="--engine dask",
            got=f"ImportError: {exc}",
            hint="pip install -c constraints.txt distributed",
        ) from exc

    with ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(_connect(Client, scheduler))
        else:
            workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,  # papermill changes the working folder: one run per process
                    processes=True,
                    dashboard_address=":0",  # no fixed port: several clusters may run at once
                    memory_limit=0,  # as the local pool: the kernels' memory is theirs, not the worker's
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))
        _check_workers(client, tasks, scheduler=scheduler)
        client.run(_warm)
        keys = [f"needskit-report-{i}-{task['area']}-{time.time_ns()}" for i, task in enumerate(tasks)]
        futures = client.map(_run_captured, [dict(task) for task in tasks], key=keys, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        results: dict[int, ReportResult] = {}
        errors: dict[str, str] = {}
        for future in as_completed(futures, loop=client.loop):
            i = index[future.key]
            try:
                result, error = future.result()
            except Exception as exc:  # the worker died (KilledWorker) or the task could not be sent
                result, error = None, f"{type(exc).__name__}: {exc}"
            if result is not None:
                results[i] = result
            else:
                errors[str(tasks[i]["area"])] = str(error)
            if on_done is not None:
                on_done(tasks[i])
    return [results[i] for i in sorted(results)], errors


def _connect(client_class: Any, scheduler: str) -> Any:
    try:
        return client_class(scheduler, timeout=f"{CONNECT_TIMEOUT}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ReportError(
            "could not reach the Dask scheduler",
            where=f"--scheduler {scheduler}",
            got=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            hint="start it with `dask scheduler` on that machine (port 8786) and pass "
            "tcp://HOST:8786; see docs/distributed.md",
        ) from exc


def _check_workers(client: Any, tasks: Sequence[Mapping[str, Any]], *, scheduler: str | None) -> None:
    """Every worker sees the project, store and reports folder, runs this needskit, one thread."""
    from needskit import __version__

    where = f"--scheduler {scheduler}" if scheduler else "--engine dask"
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except TimeoutError as exc:
        raise ReportError(
            f"no Dask worker joined the scheduler in {CONNECT_TIMEOUT} s",
            where=where,
            hint=f"start workers with `dask worker {scheduler or 'tcp://HOST:8786'} --nthreads 1` "
            "on machines that see the project folder; see docs/distributed.md",
        ) from exc
    first = tasks[0]
    paths = [str(first[key]) for key in ("project", "store") if first.get(key)]
    if first.get("out"):
        paths.append(str(Path(str(first["out"])).parent))  # the reports folder itself is made
    threads = {addr: info.get("nthreads", 1) for addr, info in client.scheduler_info()["workers"].items()}
    several = {addr: n for addr, n in threads.items() if n != 1}
    if several:
        addr, n = next(iter(several.items()))
        raise ReportError(
            f"{len(several)} Dask worker(s) run several threads; first, {addr}: {n}",
            where=where,
            expected="one thread per worker (papermill changes the process's working folder)",
            hint="start workers with `dask worker ADDRESS --nthreads 1 --nworkers N`",
        )
    seen = client.run(_worker_sees, paths)
    for addr, info in seen.items():
        if info["needskit"] != __version__:
            raise ReportError(
                f"Dask worker {addr} runs needskit {info['needskit']}",
                where=where,
                expected=f"needskit {__version__}, as here",
                hint="install the same needskit on every worker machine",
            )
        if info["missing"]:
            raise ReportError(
                f"Dask worker {addr} cannot see {info['missing'][0]}",
                where=where,
                expected="the project, store and reports folders at the same paths on every machine",
                hint="mount the shared folder at the same path on the workers; see docs/distributed.md",
            )


# ------------------------------------------------------------------------------- many areas


def run_areas(
    report: str | Path,
    *,
    areas: Sequence[str],
    within: str,
    engine: Engine | None = None,
    scheduler: str | None = None,
    jobs: int | None = None,
    period: str | None = None,
    progress: bool = True,
    out: str | Path | None = None,
    store: str | Path | None = None,
    project: str | Path | None = None,
    formats: str | Sequence[str] = ("html", "pdf"),
    parameters: Mapping[str, Any] | None = None,
    history: bool = False,
    raise_errors: bool = True,
    **kwargs: Any,
) -> BatchResult:
    """One report for each of ``areas`` on an engine (:func:`run_tasks`), with an index page.

    Parameters
    ----------
    report
        Report name or notebook path (as :func:`~needskit.reports.run_report`).
    areas
        The area codes (e.g. from :func:`areas_within`, or an area and its chapters).
    within
        The area the index page is for (``<out>/<within>/<period>/index.html``).
    engine, scheduler, jobs
        Where the runs go (see :func:`run_tasks`).
    period
        One period for every area (default: the latest in the store, resolved once).
    progress
        Show a tqdm progress bar on stderr.
    out, store, project, formats, parameters, **kwargs
        Passed to :func:`~needskit.reports.run_report` for every area.
    history
        The index links the area's history page of every period.
    raise_errors
        Raise when an area failed (after the others were published and the index written);
        ``False``: the caller reads ``errors`` (and raises, see :func:`failed_areas`).

    Returns
    -------
    BatchResult
        ``area`` is ``within``; ``results`` in the order of ``areas``; ``errors`` by area.

    Raises
    ------
    ReportError
        Before any kernel: no areas, bad parameters for any area, or an engine that cannot run
        (see :func:`run_tasks`). After, with ``raise_errors``: one or more areas failed (the
        others are published and the index is written, linking every area that has a good
        report).
    """
    from tqdm import tqdm

    started = time.perf_counter()
    if not areas:
        raise ReportError("no areas to run", where=f"report {report} within {within or 'partnership'}")
    _check_engine(engine, scheduler)
    parse_formats(formats)
    proj = find_project(project)
    spec, nb_path = resolve_report(report, notebooks=kwargs.get("notebooks") or proj.notebooks)
    audience = str(kwargs.get("publish") or (parameters or {}).get("audience") or notebook_audience(nb_path))
    reading, internal = open_store(audience=audience, store=store, project=proj)
    reading.check_fresh(internal=internal if audience != "internal" else None)
    within = whole_area(within, reading.manifest())
    out = Path(out) if out is not None else proj.reports
    extra = dict(parameters or {})
    standard = {
        name: kwargs[key]
        for key, name in (("comparator", "comparator"), ("publish", "audience"))
        if kwargs.get(key) is not None
    }
    resolved = period
    for code in areas:  # every area checked before any kernel starts; the period resolved once
        checked = validate_parameters(
            nb_path, {**extra, "area": code, "period": resolved, **standard}, store=reading
        )
        resolved = checked.period
    common = {
        **kwargs,
        "period": resolved,
        "out": str(out.resolve()),
        "store": str(Path(store).resolve()) if store else None,
        "project": str(proj.root.resolve()),
        "formats": list(formats) if not isinstance(formats, str) else formats,
        "parameters": extra,
    }
    tasks = [{**common, "report": str(report), "area": code} for code in areas]
    result = BatchResult(spec.name, within, str(resolved))
    label = f"{spec.name} {within} {resolved}" + (f" on {scheduler}" if scheduler else f" ({engine})")
    bar = tqdm(total=len(tasks), desc=label, unit="area", disable=not progress)
    try:
        done, failed = run_tasks(
            tasks, engine=engine, scheduler=scheduler, jobs=jobs, on_done=lambda _: bar.update(1)
        )
    finally:
        bar.close()
    order = {code: i for i, code in enumerate(areas)}
    result.results = sorted(done, key=lambda r: order[r.area])
    result.errors = dict(sorted(failed.items(), key=lambda item: order.get(item[0], len(order))))
    result.index = write_index(
        result, areas=list(areas), out=out, title=spec.title, store=reading, history=history
    )
    result.seconds = time.perf_counter() - started
    if result.errors and raise_errors:
        raise failed_areas(result)
    return result


def failed_areas(result: BatchResult) -> ReportError:
    """The error of a batch some of whose areas failed: how many, which, and the first's error."""
    total = len(result.results) + len(result.errors)
    first_area, first_error = next(iter(result.errors.items()))
    codes = ", ".join(list(result.errors)[:5]) + (", ..." if len(result.errors) > 5 else "")
    return ReportError(
        f"{len(result.errors)} of {total} areas failed ({codes}); first, {first_area}: {first_error}",
        where=f"report {result.report!r} within {result.area}, {result.period}",
        hint=f"the other areas were published; index at {result.index}",
    )


def run_each(
    report: str | Path,
    *,
    each: str | None,
    within: str | None = None,
    area: str = "",
    engine: Engine | None = None,
    scheduler: str | None = None,
    store: str | Path | None = None,
    project: str | Path | None = None,
    parameters: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> BatchResult:
    """``needskit report NAME --each LEVEL --within CODE``: the report for every ``each`` area
    within ``within`` (:func:`areas_within`), or, with ``each=None``, for ``area`` and its
    chapters as ``--each-chapter`` (:func:`~needskit.reports.batch.chapters_of`), on ``engine``
    (default ``local``, or ``dask`` when a ``scheduler`` is given): :func:`run_areas`, whose
    other arguments ``kwargs`` are.

    Raises
    ------
    ReportError
        As :func:`areas_within`, :func:`~needskit.reports.batch.chapters_of` and :func:`run_areas`.
    """
    proj = find_project(project)
    _, nb_path = resolve_report(report, notebooks=kwargs.get("notebooks") or proj.notebooks)
    audience = str(kwargs.get("publish") or (parameters or {}).get("audience") or notebook_audience(nb_path))
    reading, _ = open_store(audience=audience, store=store, project=proj)
    if each:
        areas = areas_within(each, within, store=reading)
        index_area = within or ""
    else:
        whole = whole_area(area, reading.manifest())
        areas = [whole, *chapters_of(whole, store=reading)]
        index_area = whole
    return run_areas(
        report,
        areas=areas,
        within=index_area,
        engine=engine,
        scheduler=scheduler,
        store=store,
        project=project,
        parameters=parameters,
        **kwargs,
    )
