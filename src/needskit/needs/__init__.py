"""Needs analysis: DataFrame in, DataFrame out.

Modules exported here: :mod:`.deciles` (local deprivation deciles), :mod:`.deprivation` (an
indicator by deprivation quantile, the gap between the ends), :mod:`.slope_index` (SII and RII),
:mod:`.index` (the IoD-style composite needs index) and :mod:`.priorities` (priority flags).
Indicators and their benchmarks, hot spots and the indicator statistics are imported from their
own modules: :mod:`.indicators`, :mod:`.benchmarking`, :mod:`.hotspots`, :mod:`.statistics`.
"""

from needskit.needs.deciles import local_deciles
from needskit.needs.deprivation import DIRECTIONS, by_deprivation, gap
from needskit.needs.index import IOD2019, combine_domains
from needskit.needs.priorities import double_disadvantage, priority_flags
from needskit.needs.slope_index import sii

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
