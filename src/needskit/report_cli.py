"""The ``needskit report`` command, registered in :mod:`needskit.cli` with ``cli.add_command(report)``."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["report"]


@click.command("report")
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
    from .report import report_command

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
