"""Needs analysis: DataFrame in, DataFrame out.

Modules exported here: :mod:`.deciles` (local deprivation deciles), :mod:`.deprivation` (an
indicator by deprivation quantile, the gap between the ends), :mod:`.slope_index` (SII and RII),
:mod:`.index` (the IoD-style composite needs index) and :mod:`.priorities` (priority flags).
Indicators and their benchmarks, hot spots and the indicator statistics are imported from their
own modules: :mod:`.indicators`, :mod:`.benchmarking`, :mod:`.hotspots`, :mod:`.statistics`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from needskit.needs.deciles import local_deciles
    from needskit.needs.deprivation import DIRECTIONS, by_deprivation, gap
    from needskit.needs.index import IOD2019, combine_domains
    from needskit.needs.priorities import double_disadvantage, priority_flags
    from needskit.needs.slope_index import sii

# Imported when first used (PEP 562): importing a submodule such as needskit.needs.periods, as the
# report machinery does, must not import scipy.stats through the statistics.
_WHERE = {
    "local_deciles": "deciles",
    "by_deprivation": "deprivation",
    "gap": "deprivation",
    "DIRECTIONS": "deprivation",
    "sii": "slope_index",
    "combine_domains": "index",
    "IOD2019": "index",
    "priority_flags": "priorities",
    "double_disadvantage": "priorities",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"needskit.needs.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'needskit.needs' has no attribute {name!r}")


__all__ = [
    "local_deciles",
    "by_deprivation",
    "gap",
    "DIRECTIONS",
    "sii",
    "combine_domains",
    "IOD2019",
    "priority_flags",
    "double_disadvantage",
]


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
