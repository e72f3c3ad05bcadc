"""The SPC API the outcomes-monitoring report uses lives in its own modules (no ``monitoring`` facade)."""

from __future__ import annotations

import importlib

import pytest

import needskit.commissioning as com
from needskit.commissioning import spc, spc_board, spc_plot, spc_rules, spc_segments


def test_the_spc_api_is_exported_by_its_modules_and_the_package():
    assert com.xmr is spc.xmr and com.p_chart is spc.p_chart
    assert com.board_summary is spc_board.board_summary and com.SpcRules is spc_rules.SpcRules
    assert callable(spc_plot.plot_xmr) and {"common cause", "special cause improving"} <= set(
        spc_plot.COLOURS
    )
    assert spc_segments.MIN_POINTS == 12 and (spc.XMR_CONSTANT, spc.SCREEN_CONSTANT) == (2.66, 3.267)
    assert set(spc_rules.POLARITIES) and set(spc_rules.VARIATIONS) and set(spc_rules.ASSURANCES)


def test_the_monitoring_facade_is_gone():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("needskit.commissioning.monitoring")
