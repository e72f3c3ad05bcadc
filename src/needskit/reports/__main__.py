"""``python -m needskit.reports NAME --area CODE ...``: the ``needskit report`` command on its own."""

import sys

from needskit.cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(["report", *sys.argv[1:]]))
