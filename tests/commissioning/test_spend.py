"""needskit.commissioning.spend: spend per head against need (descriptive, not value for money)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needskit import commissioning as com
from needskit.errors import NeedskitWarning, SchemaError


def _spend():
    return pd.DataFrame(
        {
            "area_code": list("ABCD"),
            "need": [40.0, 30.0, 20.0, 10.0],
            "spend": [100.0, 400.0, 300.0, 200.0],
            "residents": [100, 100, 100, 100],
        }
    )


def test_spend_vs_need_hand_worked():
    df = _spend()
    before = df.copy()
    out = com.spend_vs_need(df, need="need", spend="spend", population="residents")
    pd.testing.assert_frame_equal(df, before)
    assert out["spend_per_head"].tolist() == [1.0, 4.0, 3.0, 2.0]
    assert out["need_percentile"].tolist() == [1.0, 0.75, 0.5, 0.25]
    assert out["spend_per_head_percentile"].tolist() == [0.25, 1.0, 0.75, 0.5]
    assert out["percentile_difference"].tolist() == [-0.75, 0.25, 0.25, 0.25]
    assert out["spend_share"].tolist() == pytest.approx([0.1, 0.4, 0.3, 0.2])
    assert out["need_share"].tolist() == pytest.approx([0.4, 0.3, 0.2, 0.1])
    assert out["need_proportional_spend"].tolist() == pytest.approx([400, 300, 200, 100])
    assert out["spend_minus_need_proportional"].tolist() == pytest.approx([-300, 100, 100, 100])
    assert out["spend_minus_need_proportional"].sum() == pytest.approx(0)
    assert out.attrs["caveat"] == com.SPEND_VS_NEED_CAVEAT
    assert "not a value-for-money judgement" in out.attrs["caveat"]
    rho = out.attrs["needskit_spend_vs_need"]["spearman_need_vs_spend_per_head"]["all"]
    assert rho == pytest.approx(1 - 6 * (9 + 1 + 1 + 1) / (4 * (16 - 1)))  # -0.2


def test_spend_vs_need_by_theme_zero_population_and_negative_need():
    a = _spend().assign(theme="t1")
    b = _spend().assign(theme="t2", residents=[100, 0, 100, 100])
    out = com.spend_vs_need(
        pd.concat([a, b]), need="need", spend="spend", population="residents", theme="theme"
    )
    t2 = out[out["theme"] == "t2"].set_index("area_code")
    assert np.isnan(t2.loc["B", "spend_per_head"])
    assert out.groupby("theme")["spend_share"].sum().tolist() == pytest.approx([1.0, 1.0])
    assert set(out.attrs["needskit_spend_vs_need"]["spearman_need_vs_spend_per_head"]) == {"t1", "t2"}
    with pytest.warns(NeedskitWarning, match="negative values"):
        z = com.spend_vs_need(
            _spend().assign(need=[1.0, -1.0, 0.5, 0.0]), need="need", spend="spend", population="residents"
        )
    assert z["need_share"].isna().all() and z["spend_per_head"].notna().all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"spend": [1.0, -1.0, 1.0, 1.0]}, "negative"),
        ({"residents": [1, 1, np.nan, 1]}, "missing values"),
        ({"need": list("abcd")}, "not numeric"),
        ({"area_code": list("AABC")}, "repeats areas"),
    ],
)
def test_spend_vs_need_errors(change, message):
    with pytest.raises(SchemaError, match=message):
        com.spend_vs_need(_spend().assign(**change), need="need", spend="spend", population="residents")
    with pytest.raises(SchemaError, match="is not a column"):
        com.spend_vs_need(_spend(), need="need", spend="budget", population="residents")
