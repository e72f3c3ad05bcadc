"""The ``needskit`` command: parse, call the library, print.

Bad input never shows a Python traceback: a :class:`~needskit.errors.NeedskitError` becomes one
clear line on stderr and exit code 2; error-level data problems exit 1. ``--debug`` shows the
traceback. Every command works on the project found from the working folder (or ``--project``,
or ``NEEDSKIT_PROJECT``), as cron runs it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from needskit import __version__
from needskit.errors import NeedskitError


class _Context:
    debug: bool = False
    project: Path | None = None


def _workspace(store: Path | None = None):  # noqa: ANN202 - the Workspace type lives in needskit.pipeline
    from needskit.pipeline import open_workspace

    return open_workspace(_Context.project, store=store)


_store_option = click.option(
    "--store",
    type=click.Path(path_type=Path),
    default=None,
    help="Internal store folder (default data/processed).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="needskit")
@click.option("--debug", is_flag=True, help="Show Python tracebacks (for developers).")
@click.option(
    "--project",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Project folder (default: found from the working folder, or NEEDSKIT_PROJECT).",
)
def cli(debug: bool, project: Path | None) -> None:
    """needskit: needs analysis and place-based commissioning for local partnerships.

    Pools partner data onto one neighbourhood geography (pool), computes the needs profile
    (indicators), applies disclosure control once per audience (publish), and produces the
    regular needs analyses as HTML and PDF (report). `needskit run` does the first three.
    """
    _Context.debug = debug
    _Context.project = project


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--area",
    "areas",
    multiple=True,
    required=True,
    help="ONS code of the partnership's area: county, unitary, district, borough, ICB, police force "
    "area or community safety partnership (repeatable).",
)
@click.option("--name", default=None, help="The partnership's name (default: '<area> partnership').")
def init(folder: Path, areas: tuple[str, ...], name: str | None) -> None:
    """Create a workspace for a partnership anywhere in England, from the national data shipped
    with needskit: then `needskit run` and `needskit report needs-profile --area CODE` inside it."""
    from needskit.workspace import init_workspace

    created = init_workspace(folder, areas=list(areas), name=name)
    for line in created.summary():
        click.echo(line)


@cli.group()
def data() -> None:
    """Build and inspect the shipped data."""


@data.command("build")
@click.option(
    "--from", "source", required=True, type=click.Path(path_type=Path), help="Shared raw-data folder."
)
@click.option("--to", "dest", default="data/raw", show_default=True, type=click.Path(path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace existing raw files whose content would change.")
def data_build(source: Path, dest: Path, overwrite: bool) -> None:
    """Write data/raw from the shared raw-data folder (conf/databuild.yml says what)."""
    from needskit.config import find_project, load_partnership
    from needskit.config.databuild import load_build_plan
    from needskit.errors import DataError
    from needskit.partner_data.build import build_raw

    if not source.is_dir():
        raise DataError(
            "source folder does not exist",
            where=str(source),
            expected="the shared raw-data folder",
            got="no such folder",
            hint="pass --from ../shared/data/raw",
        )
    project = find_project(_Context.project)
    plan = load_build_plan(project.conf / "databuild.yml")
    partnership = load_partnership(project.partnership_file)
    manifest = build_raw(
        source, project.resolve(dest), plan=plan, areas=partnership.areas, overwrite=overwrite
    )
    total = manifest["bytes"].sum() / 1e6
    click.echo(f"wrote {len(manifest)} files ({total:.1f} MB) to {dest}; see {dest / 'MANIFEST.csv'}")


@cli.command()
@click.option("--dataset", "datasets", multiple=True, help="Check only this dataset (repeatable).")
@click.option("--info", is_flag=True, help="Also list rows outside the partnership's area or scope.")
def validate(datasets: tuple[str, ...], info: bool) -> None:
    """Check every catalogue dataset without pooling: one line per problem."""
    from needskit.partner_data.validate import validate_catalog

    ws = _workspace()
    problems = validate_catalog(
        ws.catalog, area=ws.area, geography=ws.geography, datasets=list(datasets) or None
    )
    for problem in problems:
        if info or problem.severity != "info":
            click.echo(problem.line())
    errors = sum(p.severity == "error" for p in problems)
    warnings = sum(p.severity == "warning" for p in problems)
    n = len(ws.catalog.select(list(datasets) or None))
    click.echo(f"{n} datasets checked: {errors} errors, {warnings} warnings")
    if errors:
        raise SystemExit(1)


def _pool(ws: Any, places: Path | None, datasets: tuple[str, ...]) -> int:
    from needskit.pipeline import pool as run_pool

    result = run_pool(ws, places_file=places, datasets=list(datasets) or None, echo=click.echo)
    click.echo(
        f"wrote the pool stage of the store {ws.store.path} "
        "(profile, ledger, rejected/, geography/, register/)"
    )
    for problem in result.problems:  # warnings stay warnings, each with its dataset and file
        if problem.severity == "warning":
            click.echo(f"needskit: warning: {problem.line()}", err=True)
    for problem in result.errors:
        click.echo(f"needskit: error: {problem.line()}", err=True)
    return 1 if result.errors else 0


@cli.command()
@_store_option
@click.option(
    "--places", type=click.Path(path_type=Path), default=None, help="Places file (default conf/places.yml)."
)
@click.option("--dataset", "datasets", multiple=True, help="Pool only this dataset (repeatable).")
def pool(store: Path | None, places: Path | None, datasets: tuple[str, ...]) -> None:
    """Pool every catalogue dataset into the store: profile, ledger, rejected rows, register."""
    code = _pool(_workspace(store), places, datasets)
    if code:
        raise SystemExit(code)


@cli.command()
@_store_option
@click.option(
    "--indicators",
    "indicators_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Indicator definitions (default conf/indicators.yml).",
)
def indicators(store: Path | None, indicators_file: Path | None) -> None:
    """Compute every indicator for every area and period of the store, benchmarked."""
    from needskit.pipeline import compute

    for level, (path, n_rows, n_ind) in compute(_workspace(store), indicators_file=indicators_file).items():
        click.echo(f"{level}: {n_ind} indicators, {n_rows:,} rows -> {path}")


@cli.command()
@_store_option
@click.option(
    "--audience",
    "audiences",
    multiple=True,
    type=click.Choice(["public", "partner"]),
    help="Publish for this audience (default: disclosure.audiences of conf/partnership.yml).",
)
def publish(store: Path | None, audiences: tuple[str, ...]) -> None:
    """Apply the partnership's disclosure rule once per audience: the published stores."""
    from needskit.pipeline import publish as run_publish

    ws = _workspace(store)
    for audience, target in run_publish(ws, audiences=list(audiences) or None).items():
        click.echo(f"published for {audience} under {ws.partnership.disclosure_rule}: {target.path}")


@cli.command()
@_store_option
@click.option(
    "--audience",
    default="public",
    show_default=True,
    type=click.Choice(["public", "partner"]),
    help="The published store to attack.",
)
def audit(store: Path | None, audience: str) -> None:
    """Attack a published store as an outsider would: add and subtract its figures (areas and
    their neighbourhoods, places and their members, periods and their months, indicators and their
    categories), knowing which withheld figures are small, and report any withheld count that can
    be worked out. Exits 1 if further withholding could have protected one; counts that the rule
    itself gives away (every figure of a sum withheld) are reported as a warning."""
    from needskit.pipeline import audit as run_audit

    cells, found = run_audit(_workspace(store), audience=audience)
    frame = cells.frame
    click.echo(
        f"audit ({audience}): {len(frame):,} published counts, {int(frame['withheld'].sum()):,} withheld, "
        f"{cells.relations.size:,} ways of adding them up"
    )
    by_rule = found[found["inherent"].to_numpy(dtype=bool)]
    found = found[~found["inherent"].to_numpy(dtype=bool)]
    if len(by_rule):
        click.echo(
            f"warning: {len(by_rule):,} withheld counts are given away by the rule itself: every figure of a "
            "sum they are in is withheld or 0, and the rule's range pins them (e.g. seven neighbourhoods "
            "withheld under an area of at most seven had one each). No further withholding can protect "
            "them; a rule that also withholds zeros can (disclosure: rule: opensafely).",
            err=True,
        )
        _echo_cells(by_rule)
    if found.empty:
        other = " other" if len(by_rule) else ""
        click.echo(f"no{other} withheld count can be worked out from the published figures")
        return
    click.echo(f"{len(found):,} withheld counts can be worked out, e.g.:", err=True)
    _echo_cells(found)
    raise SystemExit(1)


def _echo_cells(found: Any) -> None:
    """Up to ten cells the audit worked out, one line each (to standard error)."""
    for _, row in found.head(10).iterrows():
        what = row["dataset"] if row["table"] == "profile" else row["indicator"]
        click.echo(
            f"  {row['table']} {what} {row['level']} {row['area_code']} {row['period']}: "
            f"{row['found_from']:g} to {row['found_to']:g}",
            err=True,
        )


@cli.group()
def export() -> None:
    """Export a published store for other tools."""


@export.command("gpkg")
@_store_option
@click.option(
    "--audience",
    default="public",
    show_default=True,
    type=click.Choice(["public", "partner"]),
    help="The published store to export.",
)
@click.option(
    "--out",
    default=None,
    type=click.Path(path_type=Path),
    help="GeoPackage file or folder (default reports/geopackage/indicators-<audience>-<period>.gpkg).",
)
@click.option(
    "--period", default=None, help="Analysis period, e.g. 2025-H1 (default: the latest complete one)."
)
def export_gpkg(store: Path | None, audience: str, out: Path | None, period: str | None) -> None:
    """A QGIS-ready GeoPackage of the published store: a layer per level and the places, with each
    indicator's value, interval, counts, comparison and withheld flag; a field dictionary; a
    graduated style per layer in layer_styles (QGIS opens each layer classified)."""
    from needskit.pipeline import export_geopackage

    path, content = export_geopackage(_workspace(store), audience=audience, out=out, period=period)
    layers = ", ".join(f"{name} ({len(frame):,})" for name, frame in content.layers.items())
    click.echo(
        f"wrote {path} ({audience}, {content.period}): layers {layers}; "
        f"{len(content.dictionary):,} fields in field_dictionary; {len(content.styles)} layer styles"
    )


@cli.command()
@_store_option
@click.option(
    "--places", type=click.Path(path_type=Path), default=None, help="Places file (default conf/places.yml)."
)
def run(store: Path | None, places: Path | None) -> None:
    """pool, indicators and publish in turn: the store brought up to date."""
    from needskit.pipeline import compute
    from needskit.pipeline import publish as run_publish

    ws = _workspace(store)
    code = _pool(ws, places, ())
    for level, (path, n_rows, n_ind) in compute(ws).items():
        click.echo(f"indicators ({level}): {n_ind} indicators, {n_rows:,} rows -> {path}")
    for audience, target in run_publish(ws).items():
        click.echo(f"published for {audience} under {ws.partnership.disclosure_rule}: {target.path}")
    if code:
        raise SystemExit(code)


@cli.command()
@_store_option
@click.option(
    "--reports", default=None, type=click.Path(path_type=Path), help="Reports folder (default reports/)."
)
def demo(store: Path | None, reports: Path | None) -> None:
    """Run the main job on the project's data (the shipped example) and print where the results are."""
    from needskit.demo import run_demo

    run_demo(_workspace(store), reports=reports, echo=click.echo)


@cli.command()
@_store_option
@click.option(
    "--reports", default=None, type=click.Path(path_type=Path), help="Reports folder (default reports/)."
)
@click.option(
    "--audience",
    default="public",
    show_default=True,
    type=click.Choice(["public", "partner", "internal"]),
    help="Who the analyses are for (public and partner read the published store).",
)
@click.option("--jobs", type=int, default=None, help="Worker processes (default: the number of cores).")
def cycle(store: Path | None, reports: Path | None, audience: str, jobs: int | None) -> None:
    """Bring the store up to date and produce every needs analysis that is due, and nothing else.

    Idempotent: an analysis already produced is never run again. Exit 1 with one line per failure.
    """
    from needskit.reports.cycle import run_cycle

    result = run_cycle(_workspace(store), out=reports, audience=audience, jobs=jobs, echo=click.echo)
    produced = ", ".join(result.produced) or "nothing new"
    click.echo(
        f"cycle: {result.area}: {produced}" + ("; store brought up to date" if result.store_updated else "")
    )
    for line in result.failures:
        click.echo(f"needskit: error: {line}", err=True)
    if result.failures:
        raise SystemExit(1)


@cli.command("report")
@click.argument("name")
@click.option(
    "--area",
    default="",
    help="Area code (a chapter, a ward, an LSOA) or a place code (default: the partnership's "
    "whole area; 'partnership' for an area of several codes).",
)
@click.option(
    "--period",
    default=None,
    help="Analysis period, e.g. 2025-H1 (default: the latest complete one in the store).",
)
@click.option("--comparator", default=None, help="Comparator kind the store holds: parent, england, region.")
@click.option(
    "--level", default=None, help="Neighbourhood level of maps and tables (default: the notebook's)."
)
@click.option(
    "--audience",
    "--publish",
    "audience",
    default=None,
    type=click.Choice(["public", "partner", "internal"]),
    help="Who the report is for (default: the notebook's); public and partner read the published store.",
)
@click.option(
    "--format", "formats", default="html,pdf", show_default=True, help="Comma-separated: html, pdf."
)
@click.option(
    "--out", default=None, type=click.Path(path_type=Path), help="Reports folder (default <project>/reports)."
)
@click.option(
    "--each-chapter",
    "--each-district",
    "each_chapter",
    is_flag=True,
    help="The area's report plus one per chapter, in parallel, with index.html.",
)
@click.option(
    "--each",
    default=None,
    metavar="LEVEL",
    help="Run the report for every area of LEVEL (district, ward, ...) within --within, with index.html.",
)
@click.option(
    "--within",
    default=None,
    metavar="CODE",
    help="With --each: the area whose LEVEL areas are run (default: the partnership's whole area).",
)
@click.option(
    "--engine",
    default=None,
    type=click.Choice(["local", "dask"]),
    help="Where many areas run: local process pool (default) or a Dask LocalCluster.",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="A running Dask scheduler to run the areas on (docs/distributed.md).",
)
@click.option(
    "--if-changed",
    is_flag=True,
    help="Skip when parameters, inputs and code are unchanged since the last run.",
)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Any other notebook parameter (repeatable).",
)
@_store_option
@click.option(
    "--jobs", default=None, type=int, help="Parallel workers for --each-chapter and --each (default: cores)."
)
def report(
    name: str,
    area: str,
    period: str | None,
    comparator: str | None,
    level: str | None,
    audience: str | None,
    formats: str,
    out: Path | None,
    each_chapter: bool,
    each: str | None,
    within: str | None,
    engine: str | None,
    scheduler: str | None,
    if_changed: bool,
    params: tuple[str, ...],
    store: Path | None,
    jobs: int | None,
) -> None:
    """Run report NAME (needs-profile, neighbourhood-profile, ... or a notebook path) into
    OUT/AREA/PERIOD/ as .ipynb, .html, .pdf and manifest.json, from the store."""
    from needskit.reports import report_command

    report_command(
        name,
        area=area,
        period=period,
        comparator=comparator,
        level=level,
        publish=audience,
        formats=formats,
        out=out,
        each_chapter=each_chapter,
        each=each,
        within=within,
        engine=engine,
        scheduler=scheduler,
        if_changed=if_changed,
        params=params,
        store=store,
        project=_Context.project,
        jobs=jobs,
        echo=click.echo,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and turn needskit errors into one clear line."""
    try:
        code = cli.main(args=argv, prog_name="needskit", standalone_mode=False)
        if isinstance(code, int) and code:
            return code
    except click.exceptions.Abort:
        click.echo("needskit: aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0)
    except NeedskitError as exc:
        if _Context.debug:
            raise
        click.echo(f"needskit: error: {exc}", err=True)
        return 2
    except Exception as exc:  # an unexpected failure: still one line, traceback on --debug
        if _Context.debug:
            raise
        click.echo(
            f"needskit: internal error: {type(exc).__name__}: {exc} (rerun with --debug and report it)",
            err=True,
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
