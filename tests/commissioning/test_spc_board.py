"""needskit.commissioning.spc_board: one row per indicator with Making Data Count's icons."""

from __future__ import annotations

import pandas as pd
import pytest

from commissioning.cases import BASE, monthly, quiet_xmr
from needskit.commissioning.spc import xmr
from needskit.commissioning.spc_board import board_summary
from needskit.errors import NeedskitWarning, SchemaError


def test_board_summary_one_row_per_indicator_with_icons():
    admissions = quiet_xmr(BASE + [17.0], baseline=12, polarity="high_is_bad", target=20.0)
    screening = quiet_xmr(BASE, target=11.0)
    areas = pd.concat(
        [monthly(BASE).assign(area="A"), monthly(BASE[:-1] + [4.0]).assign(area="B")], ignore_index=True
    )
    with pytest.warns(NeedskitWarning, match="2 segment"):
        by_area = xmr(areas, value="v", time="month", by="area", baseline=11)
    out = board_summary(admissions, screening, by_area, names=["Admissions", "Screening", "Falls"])
    assert out["indicator"].tolist() == ["Admissions", "Screening", "Falls", "Falls"]
    assert out["area"].tolist()[2:] == ["A", "B"]
    assert out["value"].tolist() == [17.0, 12.0, 12.0, 4.0]
    assert out["variation_icon"].tolist() == ["concern_high", "common_cause", "common_cause", "concern_low"]
    assert out["assurance_icon"].tolist() == ["pass", "hit_or_miss", "no_target", "no_target"]
    assert out["assurance"].iloc[0] == "consistently meets target"  # 20 is above the upper limit 16.32
    assert out["n_points"].tolist() == [13, 12, 12, 12]
    assert out["time"].iloc[0] == pd.Timestamp("2023-01-01")


def test_board_summary_neither_icon_and_default_names():
    out = board_summary(quiet_xmr(BASE + [4.0], baseline=12, polarity="no_judgement"))
    assert out["indicator"].tolist() == ["v"]
    assert out["variation_icon"].tolist() == ["neither_low"]


def test_board_summary_errors():
    with pytest.raises(SchemaError, match="no charts given"):
        board_summary()
    with pytest.raises(SchemaError, match="does not name every result"):
        board_summary(quiet_xmr(BASE), names=["a", "b"])
    with pytest.raises(SchemaError, match="is not an SPC chart"):
        board_summary(pd.DataFrame({"value": [1.0]}))
