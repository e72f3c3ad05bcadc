"""Commissioning: outcomes and delivery, gaps, duplication, spend against need, allocation, SPC.

- :mod:`.delivery`, :mod:`.delivery_need` — what is delivered against the outcomes framework,
  where, and whether it is where need is;
- :mod:`.gaps`, :mod:`.duplication`, :mod:`.spend` — need against provision, several partners
  in one place and theme, spend per head against need;
- :mod:`.allocation` — needs-based allocation of a budget in whole units;
- :mod:`.spc` (and :mod:`.spc_rules`, :mod:`.spc_board`, :mod:`.spc_plot`) — monitoring with
  statistical process control (NHS England's Making Data Count).
"""

from needskit.commissioning.allocation import allocate, allocation_scenarios
from needskit.commissioning.delivery import (
    delivery_matrix,
    expand_places,
    locate_delivery,
    outcomes_without_delivery,
)
from needskit.commissioning.delivery_need import by_partnership, delivery_away_from_need
from needskit.commissioning.duplication import duplicate_pairs, duplication
from needskit.commissioning.gaps import QUADRANTS, gaps
from needskit.commissioning.spc import p_chart, xmr
from needskit.commissioning.spc_board import board_summary
from needskit.commissioning.spc_rules import SpcRules
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
    "locate_delivery",
    "delivery_matrix",
    "outcomes_without_delivery",
    "expand_places",
    "delivery_away_from_need",
    "by_partnership",
    "SpcRules",
    "xmr",
    "p_chart",
    "board_summary",
]
