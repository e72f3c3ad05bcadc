"""``python -m needskit.report NAME --area CODE ...``: the ``needskit report`` command on its own."""

from ..report_cli import report

if __name__ == "__main__":  # pragma: no cover
    report(prog_name="python -m needskit.report")
