"""What ``needskit data build`` writes into ``data/raw`` (``conf/databuild.yml``, maintainers only)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from needskit.config.yamlfile import Entry, read_yaml
from needskit.errors import CatalogError

__all__ = ["BuildPlan", "load_build_plan", "parse_build_plan"]


@dataclass(frozen=True)
class BuildPlan:
    """Files to copy, Census tables to subset to the partnership's LSOAs, the partnership's detailed
    boundaries to build, and the national backbone: England's area layers dissolved from the
    national LSOA outlines, and the retired area codes with their successors."""

    copy: tuple[str, ...]
    census_subsets: tuple[str, ...]
    subset_suffix: str
    boundaries_source: str
    detailed_2011_layer: str
    generalised_2021_layer: str
    boundaries_target: str
    national_lsoa_2021: str | None = None
    national_target: str | None = None
    retired_source: str | None = None
    retired_target: str | None = None
    source: str = "databuild"


def _paths(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v and not Path(v).is_absolute() for v in value
    ):
        raise CatalogError(
            "is not a list of relative paths",
            where=where,
            expected="[folder/file.csv.gz, ...]",
            got=repr(value),
        )
    return tuple(value)


def parse_build_plan(data: Any, *, source: str = "databuild") -> BuildPlan:
    """A :class:`BuildPlan` from loaded YAML (see :func:`load_build_plan`)."""
    top = Entry(data, source)
    boundaries = Entry(top.get("boundaries", required=True, kind=dict), f"{source}: boundaries")
    plan = BuildPlan(
        copy=_paths(top.get("copy", [], kind=list), top.at("copy")),
        census_subsets=_paths(top.get("census_subsets", [], kind=list), top.at("census_subsets")),
        subset_suffix=top.get("subset_suffix", required=True, kind=str),
        boundaries_source=boundaries.get("source", required=True, kind=str),
        detailed_2011_layer=boundaries.get("detailed_2011_layer", required=True, kind=str),
        generalised_2021_layer=boundaries.get("generalised_2021_layer", required=True, kind=str),
        boundaries_target=boundaries.get("target", required=True, kind=str),
        source=source,
    )
    boundaries.finish()
    national = Entry(top.get("national", {}, kind=dict), f"{source}: national")
    retired = Entry(top.get("retired", {}, kind=dict), f"{source}: retired")
    plan = BuildPlan(
        **{
            **plan.__dict__,
            "national_lsoa_2021": national.get("lsoa_2021", None, kind=str),
            "national_target": national.get("target", None, kind=str),
            "retired_source": retired.get("source", None, kind=str),
            "retired_target": retired.get("target", None, kind=str),
        }
    )
    national.finish()
    retired.finish()
    if (plan.national_lsoa_2021 is None) != (plan.national_target is None):
        raise CatalogError("national needs both lsoa_2021 and target", where=f"{source}: national")
    if (plan.retired_source is None) != (plan.retired_target is None):
        raise CatalogError("retired needs both source and target", where=f"{source}: retired")
    top.finish()
    return plan


def load_build_plan(path: str | Path) -> BuildPlan:
    """Read and check ``conf/databuild.yml``."""
    return parse_build_plan(read_yaml(path, what="data build plan"), source=str(path))
