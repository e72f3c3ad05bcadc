"""commissioning"""

from needskit.commissioning.allocation import allocate, allocation_scenarios
from needskit.commissioning.duplication import duplicate_pairs, duplication
from needskit.commissioning.gaps import QUADRANTS, gaps
from needskit.commissioning.spend import SPEND_VS_NEED_CAVEAT, spend_vs_need

__all__ = [
    "allocate",
    "allocation_scenarios",
    "gaps",
    "duplication",
    "duplicate_pairs",
    "spend_vs_need",
    "SPEND_VS_NEED_CAVEAT",
    "QUADRANTS",
]
