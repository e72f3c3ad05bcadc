"""Resources: what partners provide and spend where, and how far residents are from it.

- :mod:`.register` — the resource register (services, spend, catchments) built from the store;
- :mod:`.access` — nearest service, two-step floating catchment accessibility, centres;
- :mod:`.supply` — services, capacity or spend per head by area.
"""

from needskit.resources.access import (
    gaussian_decay,
    lsoa_centres,
    nearest_service,
    population_weighted_centres,
    two_step_fca,
)
from needskit.resources.register import (
    ILLUSTRATIVE_NOTE,
    NO_LIST_SIZE_NOTE,
    NO_REGISTER_NOTE,
    REGISTER_COLUMNS,
    ResourceRegister,
    build_register,
    service_points,
)
from needskit.resources.supply import supply_per_head

__all__ = [
    "nearest_service",
    "two_step_fca",
    "gaussian_decay",
    "population_weighted_centres",
    "lsoa_centres",
    "ResourceRegister",
    "build_register",
    "service_points",
    "supply_per_head",
    "REGISTER_COLUMNS",
    "ILLUSTRATIVE_NOTE",
    "NO_LIST_SIZE_NOTE",
    "NO_REGISTER_NOTE",
]
