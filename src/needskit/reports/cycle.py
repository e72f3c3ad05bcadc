"""The regular needs analysis, run by itself (``needskit cycle``, from cron or systemd).

One idempotent step: bring the store up to date from ``data/raw`` (only when it is older than its
inputs), produce every analysis that is **due and not yet produced** — for the partnership's area
and each chapter, HTML + PDF + manifest, with the period's index of every report and chapter —
and write the area's history page (``reports/<area>/index.html``: every period, each with every
report of the area in it). Nothing else is written: an analysis already produced is never
run again, so it stays byte-identical, and the history page is rewritten only when its content
changes. A failure is reported (one line each, exit non-zero from the CLI) and leaves every
earlier analysis untouched (each report is written to a temporary folder and moved into place).

**Due**: the complete analysis periods (every month of the half-year in the data; see
:mod:`needskit.needs.periods`) after the latest one already produced for the area, or, the first
time, the latest complete period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from needskit.errors import NeedskitError, ReportError, StoreError

__all__ = ["CycleResult", "due_periods", "history_rows", "run_cycle", "write_history"]


@dataclass
class CycleResult:
    """What one cycle did: ``store_updated``, the ``produced`` periods, the ``failures`` (one
    line each) and the ``history`` page (None when it was already up to date)."""

    area: str
    store_updated: bool = False
    produced: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    history: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


def _produced(out: Path, area: str, report: str) -> list[str]:
    """Periods with the area's report already in ``out`` (listed in the folder's manifest)."""
    import json

    folder = out / area
    if not folder.is_dir():
        return []
    found = []
    for here in folder.iterdir():
        manifest = here / "manifest.json"
        if here.is_dir() and manifest.exists():
            try:
                reports = json.loads(manifest.read_text(encoding="utf-8")).get("reports", {})
            except (OSError, ValueError):
                continue
            if report in reports:
                found.append(here.name)
    return sorted(found)


def due_periods(complete: Sequence[str], produced: Sequence[str]) -> list[str]:
    """The complete periods after the latest produced one (the latest complete one the first time).

    >>> due_periods(["2024-H1", "2024-H2", "2025-H1"], [])
    ['2025-H1']
    >>> due_periods(["2024-H1", "2024-H2", "2025-H1"], ["2024-H1"])
    ['2024-H2', '2025-H1']
    >>> due_periods(["2024-H1", "2024-H2"], ["2024-H2"])
    []
    """
    complete = sorted(complete)
    if not complete:
        return []
    if not produced:
        return [complete[-1]]
    last = max(produced)
    return [p for p in complete if p > last]


def history_rows(
    store: Any, *, out: Path, area: str, report: str, indicator: str | None = None
) -> list[dict]:
    """One row per period with any report of the area in ``out``, newest first: the period, the
    links of every report of the area in that period (``reports``: the needs profile, resource
    map, commissioning priorities, outcomes monitoring, ... that are there, each its HTML and
    PDF), the period's index of every report and chapter (``index``, when there is one), and what
    changed since the previous period in one line (``changed``, on ``report``'s indicator)."""
    from needskit.needs.change import compare_periods
    from needskit.needs.periods import previous_period
    from needskit.reports.index_pages import periods_with_reports, published_reports

    results = store.read_indicators(comparator=store.manifest()["stages"]["indicators"]["comparators"][0])
    own = results[results["area_code"] == area]
    series = own[own["period"].str.match(r"^\d{4}-(H|Q)\d$")]
    wanted = indicator or (str(series["indicator"].iloc[0]) if len(series) else None)
    rows = []
    folder = out / area
    for period in periods_with_reports(folder):
        here = folder / period
        reports = published_reports(here, relative_to=folder)
        index = f"{period}/index.html" if (here / "index.html").is_file() else None
        line = "no earlier analysis to compare with"
        if wanted is not None:
            before = previous_period(period)
            compared = compare_periods(own[own["indicator"] == wanted], period=period, against=before)
            if len(compared):
                row = compared.iloc[0]
                title = str(own.loc[own["indicator"] == wanted, "title"].iloc[0])
                verdict = {
                    "better": "significantly better",
                    "worse": "significantly worse",
                }.get(str(row["judgement"]), "no significant change")
                ratio = f"rate ratio {row['change']:.2f}; " if row["measure"] == "rate ratio" else ""
                line = (
                    f"{title}: {row['value']:,.1f} against {row['value_before']:,.1f} in {before} "
                    f"({ratio}{verdict})"
                )
        rows.append({"period": period, "reports": reports, "index": index, "changed": line})
    return rows


def write_history(
    store: Any, *, out: Path, area: str, area_name: str, partnership: str, report: str = "needs-profile"
) -> Path | None:
    """Write ``<out>/<area>/index.html`` (every analysis of the area by period, newest first);
    returns its path, or None when the page on disk is already the same."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from needskit.reports.manifest import write_text_atomic

    rows = history_rows(store, out=out, area=area, report=report)
    env = Environment(
        loader=FileSystemLoader(str(resources.files("needskit") / "templates" / "report")),
        autoescape=select_autoescape(["html", "j2"]),
    )
    css = (resources.files("needskit") / "assets" / "report.css").read_text(encoding="utf-8")
    page = env.get_template("history.html.j2").render(
        area_name=area_name, area=area, partnership=partnership, rows=rows, css=css, report=report
    )
    path = out / area / "index.html"
    if path.exists() and path.read_text(encoding="utf-8") == page:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, page)
    return path


def run_cycle(
    ws: Any,
    *,
    out: str | Path | None = None,
    report: str = "needs-profile",
    audience: str = "public",
    formats: Sequence[str] = ("html", "pdf"),
    jobs: int | None = None,
    parameters: dict[str, Any] | None = None,
    echo: Callable[[str], None] | None = None,
) -> CycleResult:
    """Bring the store up to date and produce every due analysis (see the module docstring).

    Parameters
    ----------
    ws
        The workspace (:func:`needskit.open_workspace`).
    out
        Reports folder (default ``<project>/reports``).
    report, audience, formats, jobs, parameters
        The analysis produced for the area and each chapter (``run_batch``), with these notebook
        parameters.

    Returns
    -------
    CycleResult
        ``failures`` lists one line per failed step; the CLI exits 1 when there is any.
    """
    from needskit import pipeline
    from needskit.reports.batch import run_batch
    from needskit.reports.context import whole_area
    from needskit.reports.registry import resolve_report

    say = echo or (lambda _line: None)
    target = Path(out) if out is not None else ws.project.root / "reports"
    manifest: dict[str, Any] = {}
    result = CycleResult(area="")
    try:
        ws.store.manifest()
        ws.store.check_fresh()
        for name in ws.partnership.audiences:
            ws.published(name).check_fresh(internal=ws.store)
    except StoreError as stale:
        say(f"store out of date ({stale.what if hasattr(stale, 'what') else stale}): running the pipeline")
        try:
            pooled = pipeline.run(ws, echo=None)
        except NeedskitError as error:
            result.failures.append(f"pipeline: {error}")
            return result
        if pooled.errors:  # no analysis from a pool that lost data (a month, a file)
            result.failures += [f"pool: {problem.line()}" for problem in pooled.errors]
            return result
        result.store_updated = True
    store = ws.published(audience) if audience != "internal" else ws.store
    manifest = store.manifest()
    area = whole_area("", manifest)
    result.area = area
    table = store.period_table()
    complete = table.loc[table["complete"].astype(bool), "period"].tolist() if len(table) else store.periods()
    try:  # a report name, or a notebook path: its outputs are named by the notebook's stem
        name = resolve_report(report, notebooks=ws.project.root / "notebooks")[0].name
    except ReportError as error:
        result.failures.append(f"{report}: {error}")
        return result
    due = due_periods(complete, _produced(target, area, name))
    if not due:
        say(
            f"nothing due: every complete period of {area} has its analysis "
            f"({complete[-1] if complete else 'none'})"
        )
    for period in due:
        try:
            batch = run_batch(
                report,
                area=area,
                period=period,
                jobs=jobs,
                progress=False,
                out=target,
                project=ws.project.root,
                formats=formats,
                parameters={**(parameters or {}), "audience": audience},
                history=True,
            )
            result.produced.append(period)
            say(f"produced {report} {area} {period}: {len(batch.results)} reports, index {batch.index}")
        except ReportError as error:
            result.failures.append(f"{report} {area} {period}: {error}")
    names = manifest.get("area", {})
    try:
        result.history = write_history(
            store,
            out=target,
            area=area,
            area_name=str(names.get("area_name") or area),
            partnership=str(manifest.get("partnership", {}).get("name", "")),
            report=name,
        )
    except (NeedskitError, OSError) as error:
        result.failures.append(f"history page {target / area / 'index.html'}: {error}")
    if result.history is not None:
        say(f"history page: {result.history}")
    return result
