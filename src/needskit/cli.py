"""The ``needskit`` command: parse, call the library, print.

Bad input never shows a Python traceback: a :class:`~needskit.errors.NeedskitError` becomes one
clear line on stderr and exit code 2. ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import NeedskitError


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
@click.option("--from", "source", required=True, type=click.Path(path_type=Path), help="Shared raw-data folder.")
@click.option("--to", "dest", default="data/raw", show_default=True, type=click.Path(path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace existing raw files whose content would change.")
def data_build(source: Path, dest: Path, overwrite: bool) -> None:
    """Write data/raw from the shared raw-data folder (copies, subsets, built boundaries)."""
    from .databuild import build_raw

    manifest = build_raw(source, dest, overwrite=overwrite)
    total = manifest["bytes"].sum() / 1e6
    click.echo(f"wrote {len(manifest)} files ({total:.1f} MB) to {dest}; see {dest / 'MANIFEST.csv'}")


@cli.command()
@click.option("--out", default=None, type=click.Path(path_type=Path), help="Output folder (default data/processed).")
def demo(out: Path | None) -> None:
    """Run the main job on the shipped Gloucestershire data and print where the results are."""
    from .demo import run_demo

    run_demo(out=out, echo=click.echo)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and turn needskit errors into one clear line."""
    try:
        cli.main(args=argv, prog_name="needskit", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("needskit: aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
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
