"""Monitoring: statistical process control as NHS England's *Making Data Count* does it, under one name.

``from needskit.commissioning import monitoring as mon; mon.xmr(...)`` is how the commissioning
report uses it. How a chart is read — centre line, process limits, special-cause rules,
variation and assurance — is told in :mod:`needskit.commissioning.spc`.

- :func:`xmr` — XmR (individuals) chart for any measure.
- :func:`p_chart` — p chart for a proportion with a numerator and denominator per period.
- :func:`board_summary` — one row per indicator with the latest value and the variation and
  assurance icons, the table a partnership board reads.
- :func:`plot_xmr` — the chart, coloured as Making Data Count colours it.
- :class:`SpcRules` — the house rules (run lengths, which tests), printable in a report.

The code lives in :mod:`needskit.commissioning.spc` (the charts),
:mod:`~needskit.commissioning.spc_rules` (rules and labels),
:mod:`~needskit.commissioning.spc_segments` (series, segments, argument checks),
:mod:`~needskit.commissioning.spc_board` (the board table) and
:mod:`~needskit.commissioning.spc_plot` (the drawing).

References
----------
NHS England and NHS Improvement (2019, updated 2021), *Making Data Count: Getting started* and
*Strengthening your decisions*. NHS-R Community, NHSRplotthedots (R package), ``ptd_spc``.
Wheeler, D. J. (1993), *Understanding Variation*.
"""

from needskit.commissioning.spc import SCREEN_CONSTANT as SCREEN_CONSTANT
from needskit.commissioning.spc import XMR_CONSTANT as XMR_CONSTANT
from needskit.commissioning.spc import p_chart, xmr
from needskit.commissioning.spc_board import board_summary
from needskit.commissioning.spc_plot import COLOURS, plot_xmr
from needskit.commissioning.spc_rules import ASSURANCES, POLARITIES, VARIATIONS, SpcRules
from needskit.commissioning.spc_rules import Polarity as Polarity
from needskit.commissioning.spc_segments import MIN_POINTS as MIN_POINTS

__all__ = [
    "SpcRules",
    "POLARITIES",
    "VARIATIONS",
    "ASSURANCES",
    "COLOURS",
    "xmr",
    "p_chart",
    "board_summary",
    "plot_xmr",
]
