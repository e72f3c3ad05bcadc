"""Configuration: the only reader of ``conf/`` — partnership, catalogue, indicators, places, outcomes.

Every reader checks what it reads and names the file, the entry, the key and the line of a
mistake. Library functions elsewhere receive the values these return, never paths to config.
"""

from needskit.config.attribution import ATTRIBUTION
from needskit.config.catalog import THEMES, Catalog, DatasetSpec, ReferenceSpec, load_catalog
from needskit.config.indicators import IndicatorSpec, load_indicators
from needskit.config.outcomes import OutcomesFramework, load_delivery, load_outcomes
from needskit.config.partnership import Partnership, load_partnership
from needskit.config.places import PlaceSet, load_places
from needskit.config.project import Project, find_project

__all__ = [
    "ATTRIBUTION",
    "THEMES",
    "Catalog",
    "DatasetSpec",
    "ReferenceSpec",
    "IndicatorSpec",
    "OutcomesFramework",
    "Partnership",
    "PlaceSet",
    "Project",
    "find_project",
    "load_catalog",
    "load_delivery",
    "load_indicators",
    "load_outcomes",
    "load_partnership",
    "load_places",
]
