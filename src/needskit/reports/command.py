"""``needskit report``: what the command does, apart from parsing (see :mod:`needskit.cli`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from needskit.errors import ReportError
from needskit.reports.batch import run_batch
from needskit.reports.run import ReportResult, run_report

__all__ = ["report_command", "parse_params"]


def parse_params(pairs: Sequence[tuple[str, str]] | Sequence[str]) -> dict[str, str]:
    """``[("seed", "7")]`` or ``["seed=7"]`` -> ``{"seed": "7"}`` (values converted later, by the
    notebook's types).

    Raises
    ------
    ReportError
        A ``NAME=VALUE`` item without ``=``.
    """
    out: dict[str, str] = {}
    for item in pairs:
        if isinstance(item, str):
            if "=" not in item:
                raise ReportError(
                    "is not NAME=VALUE", where=f"--param {item!r}", expected="e.g. seed=7", got=repr(item)
                )
            name, value = item.split("=", 1)
        else:
            name, value = item
        out[name.strip()] = value
    return out


def _describe(result: ReportResult) -> str:
    shown = ", ".join(str(p) for fmt, p in result.files.items() if fmt != "ipynb")
    if result.status == "unchanged":
        return f"unchanged (--if-changed): {result.report} {result.area} {result.period}: {shown}"
    return f"wrote {shown} ({result.seconds:.1f} s)"


def report_command(
    report: str,
    *,
    area: str,
    period: str | None = None,
    comparator: str | None = None,
    level: str | None = None,
    publish: str | None = None,
    formats: str = "html,pdf",
    out: str | Path | None = None,
    each_chapter: bool = False,
    each: str | None = None,
    within: str | None = None,
    engine: str | None = None,
    scheduler: str | None = None,
    if_changed: bool = False,
    params: Sequence[str] | Sequence[tuple[str, str]] = (),
    store: str | Path | None = None,
    project: str | Path | None = None,
    jobs: int | None = None,
    progress: bool = True,
    echo: Callable[[str], Any] = print,
) -> int:
    """Run ``needskit report`` and print one line per output; returns the exit code (0).

    ``each`` (a level) runs the report for every area of that level within ``within`` (default:
    the partnership's whole area) on ``engine`` (``local`` process pool, the default, or ``dask``;
    ``scheduler`` = a running Dask scheduler's address): :mod:`needskit.reports.fanout`.
    ``each_chapter`` with an engine or scheduler runs the area and its chapters there.

    Errors are raised as :class:`~needskit.errors.ReportError` or
    :class:`~needskit.errors.StoreError` (the CLI prints one line, exit 2).
    """
    extra = parse_params(params)
    common: dict[str, Any] = {
        "comparator": comparator,
        "publish": publish,
        "parameters": extra,
        "formats": formats,
        "out": out,
        "if_changed": if_changed,
        "store": store,
        "project": project,
    }
    _check_fanout_options(each_chapter, each, within, engine, scheduler)
    if each or ((engine or scheduler) and each_chapter):
        return _fanout(
            report,
            echo=echo,
            each=each,
            within=within,
            area=area,
            engine=engine,
            scheduler=scheduler,
            period=period,
            jobs=jobs,
            progress=progress,
            level=level,
            **common,
        )
    if each_chapter:
        batch = run_batch(
            report, area=area, period=period, jobs=jobs, progress=progress, level=level, **common
        )
        for result in batch.results:
            echo(_describe(result))
        echo(f"index: {batch.index} ({len(batch.results)} reports, {batch.seconds:.1f} s)")
        return 0
    result = run_report(report, area=area, period=period, level=level, **common)
    echo(_describe(result))
    return 0


def _check_fanout_options(
    each_chapter: bool, each: str | None, within: str | None, engine: str | None, scheduler: str | None
) -> None:
    if each and each_chapter:
        raise ReportError(
            "--each and --each-chapter cannot be combined",
            where=f"--each {each} --each-chapter",
            hint="--each LEVEL --within CODE runs every area of LEVEL in CODE; --each-chapter the chapters",
        )
    if within and not each:
        raise ReportError(
            "--within needs --each LEVEL",
            where=f"--within {within}",
            expected="e.g. --each district --within E12000009",
        )
    if (engine or scheduler) and not (each or each_chapter):
        option = f"--scheduler {scheduler}" if scheduler else f"--engine {engine}"
        raise ReportError(
            "an engine runs many areas: give --each LEVEL (or --each-chapter)",
            where=option,
            expected="e.g. --each district --within E12000009 " + option,
        )


def _fanout(report: str, *, echo: Callable[[str], Any], **options: Any) -> int:
    from needskit.reports.fanout import failed_areas, run_each

    batch = run_each(report, raise_errors=False, **options)
    for result in batch.results:
        echo(_describe(result))
    for code, error in batch.errors.items():
        echo(f"failed {code}: {error}")
    echo(f"index: {batch.index} ({len(batch.results)} reports, {batch.seconds:.1f} s)")
    if batch.errors:
        raise failed_areas(batch)
    return 0
