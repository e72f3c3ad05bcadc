"""needskit.commissioning.monitoring: the SPC API under one name, as the commissioning report uses it."""

from __future__ import annotations

from needskit.commissioning import monitoring as mon
from needskit.commissioning import spc, spc_board, spc_plot, spc_rules, spc_segments


def test_monitoring_gathers_the_spc_api_under_one_name():
    public = {"SpcRules", "POLARITIES", "VARIATIONS", "ASSURANCES", "COLOURS", "xmr", "p_chart", "board_summary", "plot_xmr"}
    assert len(mon.__all__) == len(public) and set(mon.__all__) == public
    assert mon.xmr is spc.xmr and mon.p_chart is spc.p_chart
    assert mon.board_summary is spc_board.board_summary
    assert mon.plot_xmr is spc_plot.plot_xmr and mon.COLOURS is spc_plot.COLOURS
    assert mon.SpcRules is spc_rules.SpcRules and mon.Polarity is spc_rules.Polarity
    assert (mon.POLARITIES, mon.VARIATIONS, mon.ASSURANCES) == (
        spc_rules.POLARITIES,
        spc_rules.VARIATIONS,
        spc_rules.ASSURANCES,
    )
    assert mon.MIN_POINTS is spc_segments.MIN_POINTS
    assert (mon.XMR_CONSTANT, mon.SCREEN_CONSTANT) == (spc.XMR_CONSTANT, spc.SCREEN_CONSTANT)
