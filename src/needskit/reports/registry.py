"""Which notebook makes which report: the registry of report names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from needskit.errors import ReportError

__all__ = ["ReportSpec", "REPORTS", "register_report", "notebooks_dir", "resolve_report"]


@dataclass(frozen=True)
class ReportSpec:
    """A report: its name on the command line, its notebook and its title.

    Attributes
    ----------
    name
        Name used by ``needskit report NAME`` and in output file names (``NAME.html``).
    notebook
        The notebook file: a bare file name is looked up in the project's ``notebooks/`` folder.
    title
        Title used when the notebook has no level-1 heading.
    """

    name: str
    notebook: str
    title: str
    description: str = ""


REPORTS: dict[str, ReportSpec] = {}
"""Report name -> :class:`ReportSpec`. Extend with :func:`register_report`."""


def register_report(name: str, *, notebook: str, title: str, description: str = "") -> ReportSpec:
    """Add (or replace) a report in :data:`REPORTS` and return its spec.

    Example
    -------
    >>> register_report("needs-profile", notebook="01-needs-profile.ipynb", title="Needs profile").name
    'needs-profile'
    """
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ReportError(
            "is not a usable report name",
            where=f"register_report({name!r})",
            expected="letters, digits and hyphens, e.g. 'needs-profile'",
            got=repr(name),
        )
    spec = ReportSpec(name, notebook, title, description)
    REPORTS[name] = spec
    return spec


register_report(
    "needs-profile",
    notebook="01-needs-profile.ipynb",
    title="Needs profile",
    description="Population, deprivation and needs indicators of an area, benchmarked.",
)
register_report(
    "neighbourhood-profile",
    notebook="02-neighbourhood-profile.ipynb",
    title="Neighbourhood profile",
    description="The neighbourhoods (LSOAs) of an area: needs index, hot spots, inequality.",
)
register_report(
    "resource-map",
    notebook="03-resource-map.ipynb",
    title="Resource map",
    description="Partners' services and spend: supply per head, access, gaps, duplication, "
    "spend against need.",
)
register_report(
    "commissioning-priorities",
    notebook="04-commissioning-priorities.ipynb",
    title="Commissioning priorities",
    description="Priority places and themes, delivery against outcomes and need, a pot shared by need.",
)
register_report(
    "outcomes-monitoring",
    notebook="05-outcomes-monitoring.ipynb",
    title="Outcomes monitoring",
    description="Outcome indicators as SPC (XmR) charts: board icons, rules, targets, "
    "accountable partnerships.",
)


def notebooks_dir() -> Path:
    """The shipped report notebooks: ``notebooks/`` of the checkout holding the package."""
    return Path(__file__).resolve().parents[3] / "notebooks"


def resolve_report(report: str | Path, *, notebooks: Path | None = None) -> tuple[ReportSpec, Path]:
    """The spec and the notebook path of a report name, or of a notebook path given directly.

    Raises
    ------
    ReportError
        Unknown report name, or its notebook file does not exist.
    """
    text = str(report)
    if text.endswith(".ipynb") or isinstance(report, Path):
        path = Path(report)
        if not path.is_file():
            raise ReportError("notebook not found", where=str(path), expected="an existing .ipynb file")
        return ReportSpec(path.stem, path.name, path.stem.replace("-", " ").capitalize()), path.resolve()
    if text not in REPORTS:
        raise ReportError(
            "unknown report",
            where=f"report {text!r}",
            expected=f"one of {sorted(REPORTS)} or a path to a .ipynb notebook",
            got=repr(text),
        )
    spec = REPORTS[text]
    folder = (
        notebooks
        if notebooks is not None and (Path(notebooks) / spec.notebook).is_file()
        else notebooks_dir()
    )
    path = Path(spec.notebook) if Path(spec.notebook).is_absolute() else folder / spec.notebook
    if not path.is_file():
        raise ReportError(
            "the report's notebook does not exist yet",
            where=f"report {text!r}",
            expected=str(path),
            got="no such file",
            hint="write the notebook, or pass a notebook path instead of the report name",
        )
    return spec, path.resolve()
