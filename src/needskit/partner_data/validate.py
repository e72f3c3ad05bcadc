"""``needskit validate``: check every dataset of a catalogue without pooling."""

from __future__ import annotations

from needskit.config.catalog import Catalog
from needskit.errors import NeedskitError
from needskit.partner_data.prepare import partnership_lsoas, prepare_dataset
from needskit.partner_data.problems import Problem, problem_from_error
from needskit.place.extent import PartnershipArea
from needskit.place.geography import Geography

__all__ = ["validate_catalog"]


def validate_catalog(
    catalog: Catalog, *, area: PartnershipArea, geography: Geography, datasets: list[str] | None = None
) -> list[Problem]:
    """Check every dataset of a catalogue without pooling; return the problems found.

    A dataset that cannot be read as declared gives one error-level problem; otherwise its row
    problems (warnings for rejected or unlocated rows, info for rows outside the partnership's
    area or scope) and an error when more than ``max_invalid`` of its rows are invalid.
    """
    problems: list[Problem] = []
    lsoas = partnership_lsoas(area, geography)
    for spec in catalog.select(datasets):
        if spec.optional and not spec.files():
            problems.append(
                Problem(spec.id, "info", spec.missing_reason(), expected=f"files matching {spec.path}")
            )
            continue
        try:
            prepared = prepare_dataset(spec, area=area, geography=geography, lsoas=lsoas)
        except NeedskitError as exc:
            problems.append(problem_from_error(spec.id, exc))
            continue
        problems += prepared.problems
    return problems
