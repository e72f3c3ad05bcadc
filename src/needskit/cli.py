"""The ``needskit`` command: parse, call the library, print.

Bad input never shows a Python traceback: a :class:`~needskit.errors.NeedskitError` becomes one
clear line on stderr and exit code 2. ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from needskit import __version__
from needskit.errors import NeedskitError


class _Context:
    debug: bool = False


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="needskit")
@click.option("--debug", is_flag=True, help="Show Python tracebacks (for developers).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """needskit: needs analysis and place-based commissioning for local partnerships.

    Pools partner data onto one neighbourhood geography, builds needs profiles and resource
    maps, and produces the regular needs analyses as HTML and PDF.
    """
    ctx.ensure_object(_Context)
    ctx.obj.debug = debug
    _Context.debug = debug


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
    """Write data/raw from the shared raw-data folder (copies, subsets, built boundaries)."""
    from needskit.partner_data.build import build_raw

    manifest = build_raw(source, dest, overwrite=overwrite)
    total = manifest["bytes"].sum() / 1e6
    click.echo(f"wrote {len(manifest)} files ({total:.1f} MB) to {dest}; see {dest / 'MANIFEST.csv'}")


def _load_places(path: Path | None):
    if path is None:
        return []
    from needskit.config.catalog import load_places

    return load_places(path)


@cli.command()
@click.option(
    "--catalog",
    "catalog_path",
    default="conf/catalog.yml",
    show_default=True,
    type=click.Path(path_type=Path),
)
@click.option(
    "--level",
    default="lsoa",
    show_default=True,
    type=click.Choice(["lsoa", "msoa", "ward", "district", "county"]),
)
@click.option(
    "--vintage", default=2021, show_default=True, type=click.Choice(["2011", "2021"]), help="LSOA vintage."
)
@click.option("--out", default="data/processed", show_default=True, type=click.Path(path_type=Path))
@click.option(
    "--places",
    "places_path",
    default=None,
    type=click.Path(path_type=Path),
    help="Custom places YAML (e.g. conf/places.yml).",
)
@click.option("--dataset", "datasets", multiple=True, help="Pool only this dataset (repeatable).")
@click.option(
    "--publish",
    default="internal",
    show_default=True,
    type=click.Choice(["internal", "partner", "public"]),
    help="Audience: public/partner outputs apply the disclosure rules and sharing levels.",
)
@click.option(
    "--rule", default="nhs_digital", show_default=True, help="Disclosure rule set for published outputs."
)
def pool(
    catalog_path: Path,
    level: str,
    vintage: str,
    out: Path,
    places_path: Path | None,
    datasets,
    publish: str,
    rule: str,
) -> None:
    """Pool every catalogue dataset into the needs profile, with its ledger."""
    from needskit.config.catalog import load_catalog
    from needskit.partner_data.pooling import pool_catalog, publish_result, summary_lines, write_pool

    catalog = load_catalog(catalog_path)
    result = pool_catalog(
        catalog,
        level=level,
        vintage=int(vintage),
        places=_load_places(places_path),
        datasets=list(datasets) or None,
    )
    if publish != "internal":
        result = publish_result(result, catalog=catalog, audience=publish, rule=rule)
    paths = write_pool(result, out, catalog_path=catalog_path)
    for line in summary_lines(result):
        click.echo(line)
    click.echo(f"wrote {paths['profile']}, {paths['gpkg']}, {paths['ledger']} and rejected/ in {out}")


@cli.command()
@click.option(
    "--catalog",
    "catalog_path",
    default="conf/catalog.yml",
    show_default=True,
    type=click.Path(path_type=Path),
)
@click.option("--dataset", "datasets", multiple=True, help="Check only this dataset (repeatable).")
@click.option("--info", is_flag=True, help="Also list rows outside the partnership's area or scope.")
def validate(catalog_path: Path, datasets, info: bool) -> None:
    """Check every catalogue dataset without pooling: one line per problem."""
    from needskit.config.catalog import load_catalog
    from needskit.partner_data.validate import validate_catalog

    catalog = load_catalog(catalog_path)
    problems = validate_catalog(catalog, datasets=list(datasets) or None)
    shown = [p for p in problems if info or p.severity != "info"]
    for problem in shown:
        click.echo(problem.line())
    errors = sum(p.severity == "error" for p in problems)
    warnings = sum(p.severity == "warning" for p in problems)
    n = len(catalog.select(list(datasets) or None))
    click.echo(f"{n} datasets checked: {errors} errors, {warnings} warnings")
    if errors:
        raise SystemExit(1)


@cli.command()
@click.option("--profile", "profile_path", default="data/processed/profile.parquet", show_default=True,
              type=click.Path(path_type=Path))
@click.option("--indicators", "indicators_path", default="conf/indicators.yml", show_default=True,
              type=click.Path(path_type=Path))
@click.option("--catalog", "catalog_path", default="conf/catalog.yml", show_default=True, type=click.Path(path_type=Path))
@click.option("--level", "levels", multiple=True, default=["lsoa", "ward", "district"], show_default=True,
              type=click.Choice(["lsoa", "msoa", "ward", "district", "county"]), help="Levels to compute (repeatable).")
@click.option("--comparator", default="parent", show_default=True, help="parent, county, england, or an area code.")
@click.option("--out", default="data/processed", show_default=True, type=click.Path(path_type=Path))
def indicators(profile_path: Path, indicators_path: Path, catalog_path: Path, levels, comparator: str, out: Path) -> None:
    """Compute every indicator for every area and period of the pooled profile, benchmarked."""
    from needskit.needs.indicators import write_indicators

    written = write_indicators(
        profile_path=profile_path, indicators_path=indicators_path, catalog_path=catalog_path,
        levels=list(levels), comparator=comparator, out=out,
    )
    for level, (path, n_rows, n_ind) in written.items():
        click.echo(f"{level}: {n_ind} indicators, {n_rows:,} rows -> {path}")


@cli.command()
@click.option(
    "--out", default=None, type=click.Path(path_type=Path), help="Output folder (default data/processed)."
)
@click.option("--reports", default=None, type=click.Path(path_type=Path), help="Reports folder (default reports/).")
def demo(out: Path | None, reports: Path | None) -> None:
    """Run the main job on the shipped Gloucestershire data and print where the results are."""
    from needskit.pipeline import run_demo

    run_demo(out=out, echo=click.echo, reports=reports)




@cli.command("report")
@click.argument("name")
@click.option("--area", required=True, help="Area code, e.g. E07000078 (Cheltenham) or E10000013 (Gloucestershire).")
@click.option("--period", default=None, help="Period YYYY-MM (default: the latest in the data).")
@click.option("--comparator", default=None, help="Area code to compare with (default: the notebook's).")
@click.option("--level", default=None, help="Level of --area (default: inferred from the code).")
@click.option(
    "--publish",
    default=None,
    type=click.Choice(["public", "partner", "internal"]),
    help="Sharing level of the output (default: the notebook's).",
)
@click.option("--format", "formats", default="html,pdf", show_default=True, help="Comma-separated: html, pdf.")
@click.option("--out", default="reports", show_default=True, type=click.Path(path_type=Path), help="Reports folder.")
@click.option("--each-district", is_flag=True, help="County chapter plus one chapter per district, in parallel, with index.html.")
@click.option("--if-changed", is_flag=True, help="Skip when parameters, inputs and code are unchanged since the last run.")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="Any other notebook parameter (repeatable).")
@click.option("--catalog", default=None, type=click.Path(path_type=Path), help="Catalogue listing the data sources (default conf/catalog.yml).")
@click.option("--partnership", default=None, help="Name on the cover (default: '<county> partnership').")
@click.option("--jobs", default=None, type=int, help="Parallel workers for --each-district (default: cores).")
def report(
    name: str,
    area: str,
    period: str | None,
    comparator: str | None,
    level: str | None,
    publish: str | None,
    formats: str,
    out: Path,
    each_district: bool,
    if_changed: bool,
    params: tuple[str, ...],
    catalog: Path | None,
    partnership: str | None,
    jobs: int | None,
) -> None:
    """Run report NAME (needs-profile, neighbourhood-profile, ... or a notebook path) into
    OUT/AREA/PERIOD/ as .ipynb, .html, .pdf and manifest.json."""
    from needskit.reports import report_command

    report_command(
        name,
        area=area,
        period=period,
        comparator=comparator,
        level=level,
        publish=publish,
        formats=formats,
        out=out,
        each_district=each_district,
        if_changed=if_changed,
        params=params,
        catalog=catalog,
        partnership=partnership,
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
