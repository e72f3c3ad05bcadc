"""The main job on a project's data (``needskit demo`` / ``make demo``): the built-in example end to end.

1. ``needskit run``: pool every catalogue dataset (and the places of ``conf/places.yml``) into
   the store, compute and benchmark every indicator, publish for each audience;
2. for datasets assigned by their publisher's own LSOA codes (police.uk), report how often a row's
   point lies in that LSOA (the pool measured it: ``code_agreement.csv``);
3. produce the resource map, commissioning priorities and outcomes monitoring for the area and
   its first chapter (in parallel, one worker per core);
4. produce the regular needs analysis: the partnership's area and each chapter (HTML + PDF +
   manifest, in parallel), for the public, with the period's index, which links every report
   of every area (so it is written last).

Nothing here names a partnership: everything follows from the project's ``conf/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from needskit.errors import ReportError
from needskit.partner_data.checks import agreement_by_dataset
from needskit.pipeline import Workspace, run
from needskit.reports.batch import run_batch, run_reports
from needskit.reports.run import ReportResult

__all__ = ["run_demo", "COMMISSIONING_REPORTS"]

COMMISSIONING_REPORTS = ("resource-map", "commissioning-priorities", "outcomes-monitoring")


def _wrote(results: Sequence[ReportResult], echo: Callable[[str], None]) -> None:
    for report in results:
        shown = ", ".join(str(path) for fmt, path in report.files.items() if fmt != "ipynb")
        echo(f"wrote {shown} ({report.seconds:.1f} s)")


def run_demo(ws: Workspace, *, reports: Path | None = None, echo: Callable[[str], None] = print) -> dict:
    """Run the demo; return the headline figures it printed."""
    started = time.perf_counter()
    echo(f"pooling {len(ws.catalog)} datasets for {ws.partnership.name} ({ws.area.area_name}) ...")
    result = run(ws, echo=echo)
    agreement = agreement_by_dataset(result.agreement)  # measured by the pool, as code_agreement.csv
    for spec in ws.catalog:
        share, n = agreement.get(spec.id, (float("nan"), 0))
        if n:
            publisher = "police.uk" if spec.format == "police_uk" else spec.partner
            echo(
                f"{publisher} check ({spec.id}): {n:,} located rows are placed by the LSOA {publisher} "
                f"publishes; the point lies in it for {share:.1%}"
            )
    out = Path(reports) if reports is not None else ws.project.reports
    area = ws.partnership.areas[0]
    store = ws.store.path if ws.store.path != ws.project.store else None
    first = ws.area.chapters[0] if ws.area.chapters else area
    echo(
        "producing the resource map, commissioning priorities and outcomes monitoring "
        f"for {area} and {first} ..."
    )
    tasks = [
        {"report": name, "area": code, "out": str(out), "store": store, "project": str(ws.project.root)}
        for name in COMMISSIONING_REPORTS
        for code in dict.fromkeys((area, first))
    ]
    done, failed = run_reports(tasks)
    _wrote(done, echo)
    echo(
        f"producing the needs profile: {ws.area.area_name} and its {len(ws.area.chapters)} "
        f"{ws.area.chapter_level} chapters, and the index of every report ..."
    )
    batch = run_batch(
        "needs-profile", area=area, progress=False, out=out, store=store, project=ws.project.root
    )
    _wrote(batch.results, echo)
    if failed:
        name, error = next(iter(failed.items()))
        raise ReportError(
            f"{len(failed)} of {len(tasks)} reports failed; first, {name}: {error}", where="demo"
        )
    echo(f"done in {time.perf_counter() - started:.1f} s; open {batch.index} to read every report")
    return {"result": result, "agreement": agreement, "reports": out}
