"""needskit.commissioning (gaps and duplication): need versus provision, overlap, spend against need."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from needskit import commissioning as com
from needskit.errors import GeographyError, NeedskitWarning, SchemaError

X0, Y0 = 394_000, 222_000  # the conftest squares: C D over A B, 1 km each


# ============================================================================================
# gaps


def _six():
    """Six areas hand-built so that every quadrant occurs.

    need:      A 10, B 8, C 2, D 1, E 9, F 3   (median 5.5)
    provision: A 1,  B 9, C 7, D 0.5, E 2, F 8 (median 4.5)
    """
    return pd.DataFrame(
        {
            "area_code": list("ABCDEF"),
            "need": [10.0, 8.0, 2.0, 1.0, 9.0, 3.0],
            "provision": [1.0, 9.0, 7.0, 0.5, 2.0, 8.0],
        }
    )


def test_gaps_quadrants_thresholds_and_ranks_at_the_median():
    df = _six()
    before = df.copy()
    out = com.gaps(df, need="need", provision="provision")
    pd.testing.assert_frame_equal(df, before)
    assert out["area_code"].tolist() == ["A", "E", "D", "B", "F", "C"]
    quadrant = dict(zip(out["area_code"], out["quadrant"], strict=True))
    assert quadrant == {
        "A": "gap",
        "E": "gap",
        "B": "aligned high",
        "C": "possible over-provision",
        "F": "possible over-provision",
        "D": "aligned low",
    }
    assert (out["need_threshold"] == 5.5).all() and (out["provision_threshold"] == 4.5).all()
    assert set(out["threshold_rule"]) == {"above the median"}
    assert out["gap_rank"].tolist()[:2] == [1, 2] and out["gap_rank"].iloc[2:].isna().all()
    score = out.set_index("area_code")["gap_score"]
    assert score["A"] == pytest.approx(6 / 6 - 2 / 6) and score["E"] == pytest.approx(5 / 6 - 3 / 6)
    assert out.attrs["needskit_gaps"]["thresholds"]["all"] == {
        "need_threshold": 5.5,
        "provision_threshold": 4.5,
    }


def test_gaps_with_quantile_thresholds():
    out = com.gaps(_six(), need="need", provision="provision", threshold=0.75).set_index("area_code")
    # need: 75th percentile of 1,2,3,8,9,10 = 8.75; provision: of 0.5,1,2,7,8,9 = 7.75
    assert out["need_threshold"].iloc[0] == pytest.approx(8.75)
    assert out["provision_threshold"].iloc[0] == pytest.approx(7.75)
    assert out.loc[["A", "E"], "quadrant"].eq("gap").all()
    assert out.loc[["B", "F"], "quadrant"].eq("possible over-provision").all()
    assert out.loc[["C", "D"], "quadrant"].eq("aligned low").all()
    pair = com.gaps(_six(), need="need", provision="provision", threshold=(0.5, 0.75)).set_index("area_code")
    assert pair.loc["B", "quadrant"] == "aligned high"  # need 8 > 5.5, provision 9 > 7.75
    assert pair.loc["C", "quadrant"] == "aligned low"  # provision 7 < 7.75
    assert "need above the 0.5 quantile" in pair["threshold_rule"].iloc[0]


def test_gaps_within_themes_have_their_own_thresholds():
    a = _six().assign(theme="youth")
    b = _six().assign(
        theme="health", need=lambda d: d["need"] * 100, provision=lambda d: d["provision"][::-1].to_numpy()
    )
    out = com.gaps(pd.concat([a, b]), need="need", provision="provision", theme="theme")
    assert out["theme"].tolist() == ["health"] * 6 + ["youth"] * 6
    health = out[out["theme"] == "health"].set_index("area_code")
    assert health["need_threshold"].iloc[0] == 550
    assert health.loc["A", "quadrant"] == "aligned high"  # provision reversed: A now has 8
    assert health["gap_rank"].min() == 1 and out[out["theme"] == "youth"]["gap_rank"].min() == 1
    assert set(out.attrs["needskit_gaps"]["thresholds"]) == {"health", "youth"}
    assert out["threshold_rule"].iloc[0] == "above the median within theme"


def test_gaps_with_no_provision_anywhere_marks_high_need_as_gaps():
    df = pd.DataFrame({"area_code": list("ABC"), "need": [3.0, 1.0, 2.0], "provision": [0.0, 0.0, 0.0]})
    out = com.gaps(df, need="need", provision="provision")
    assert out["quadrant"].tolist() == ["gap", "aligned low", "aligned low"]
    assert out["area_code"].iloc[0] == "A"


@pytest.mark.parametrize(
    ("df", "kwargs", "message"),
    [
        (_six().iloc[:2], {}, "too few areas"),
        (pd.concat([_six(), _six().iloc[:1]]), {}, "repeats areas"),
        (_six().assign(need=[1.0, np.nan, 3, 4, 5, 6]), {}, "missing values"),
        (_six().assign(provision=list("abcdef")), {}, "not numeric"),
        (_six(), {"threshold": 1.5}, "not a usable threshold"),
        (_six(), {"threshold": "mean"}, "not a usable threshold"),
        (_six(), {"threshold": True}, "not a usable threshold"),
        (_six(), {"threshold": (0.5,)}, "not a usable threshold"),
        (_six(), {"theme": "theme"}, "is not a column"),
    ],
)
def test_gaps_errors(df, kwargs, message):
    with pytest.raises(SchemaError, match=message):
        com.gaps(df, need="need", provision="provision", **kwargs)


# ============================================================================================
# duplication


def _services():
    """y1 (County) serves A, B; y2 (Charity) B, C; y3 (County) C; a County library A-D; a
    Charity food bank D. Youth services: two partners in B and in C."""
    return pd.DataFrame(
        {
            "service_id": ["y1", "y2", "y3", "l1", "f1"],
            "service_type": ["youth_service", "youth_service", "youth_service", "library", "food_bank"],
            "theme": ["children", "children", "children", "economy", "economy"],
            "partner": ["County", "Charity", "County", "County", "Charity"],
            "cost": [100.0, 300.0, 40.0, 1000.0, 20.0],
        }
    )


def _catchments():
    return pd.DataFrame(
        {
            "service_id": ["y1", "y1", "y2", "y2", "y3", "l1", "l1", "l1", "l1", "f1"],
            "area_code": ["A", "B", "B", "C", "C", "A", "B", "C", "D", "D"],
        }
    )


def test_duplication_from_lists_of_areas_with_spend():
    services, catchments = _services(), _catchments()
    before = services.copy()
    out = com.duplication(services, catchment=catchments, spend="cost")
    pd.testing.assert_frame_equal(services, before)
    children = out[out["theme"] == "children"].set_index("area_code")
    assert sorted(children.index) == ["B", "C"]
    assert children.loc["B", "partners"] == "Charity; County"
    assert children.loc["B", "n_services"] == 2 and children.loc["B", "n_partners"] == 2
    assert (
        children.loc["B", "spend_total"] == 400 and children.loc["B", "spend_in_area"] == 200
    )  # 100/2 + 300/2
    assert children.loc["C", "spend_in_area"] == 190  # 300/2 + 40/1
    # same theme, different kinds of service: a library and a food bank "overlap" in D ...
    assert out[out["theme"] == "economy"]["area_code"].tolist() == ["D"]
    # ... but not like for like
    typed = com.duplication(services, catchment=catchments, theme="service_type")
    assert set(typed["service_type"]) == {"youth_service"}
    assert "spend_total" not in typed.columns
    assert com.duplication(services, catchment=catchments, min_partners=3).empty


def test_duplicate_pairs_from_lists_of_areas():
    pairs = com.duplicate_pairs(_services(), catchment=_catchments(), spend="cost")
    assert list(zip(pairs["service_a"], pairs["service_b"], strict=True)) == [
        ("y2", "y3"),
        ("y1", "y2"),
        ("f1", "l1"),
    ]
    got = {
        (a, b): row
        for a, b, row in zip(pairs["service_a"], pairs["service_b"], pairs.itertuples(), strict=True)
    }
    assert set(got) == {("y1", "y2"), ("y2", "y3"), ("f1", "l1")}  # y1-y3: same partner
    assert got[("y1", "y2")].shared_areas == 1 and got[("y1", "y2")].overlap_share == 0.5
    assert got[("y2", "y3")].overlap_share == 1.0  # y3's only area is in y2's catchment
    assert got[("f1", "l1")].areas_b == 4 and got[("f1", "l1")].spend_b == 1000
    assert pairs["theme"].tolist() == ["children", "children", "economy"]
    assert pairs["overlap_share"].tolist() == [1.0, 0.5, 1.0]  # sorted within theme
    typed = com.duplicate_pairs(_services(), catchment=_catchments(), theme="service_type")
    assert set(typed["service_type"]) == {"youth_service"} and len(typed) == 2


def _points(coords, squares_crs="EPSG:27700", **extra):
    frame = _services().iloc[: len(coords)].assign(**extra)
    return gpd.GeoDataFrame(frame, geometry=[Point(X0 + x, Y0 + y) for x, y in coords], crs=squares_crs)


def test_duplication_with_a_radius_around_each_service(squares):
    # y1 at the centre of A, y2 at the centre of B, y3 far away
    services = _points([(500, 500), (1500, 500), (20_000, 20_000)])
    wide = com.duplication(services, catchment=1100.0, areas=squares)
    # y1 reaches A, B, C (1,000 m) but not D (1,414 m); y2 reaches A, B, D
    assert wide["area_code"].tolist() == ["A", "B"]
    assert wide.attrs["needskit_duplication"]["services_without_catchment"] == ["y3"]
    assert com.duplication(services, catchment=900.0, areas=squares).empty
    # per-service radii from a column
    radii = services.assign(reach=[1100.0, 900.0, 10.0])
    assert com.duplication(radii, catchment="reach", areas=squares)["area_code"].tolist() == ["B"]
    # a service always serves the area it stands in
    placed = services.assign(area_code=["A", "B", "B"])  # y3 (County) far off, but recorded in B
    assert com.duplication(placed, catchment=900.0, areas=squares)["area_code"].tolist() == ["B"]
    pairs = com.duplicate_pairs(services, catchment=1100.0, areas=squares)
    assert pairs[["service_a", "service_b", "shared_areas", "areas_a", "areas_b"]].values.tolist() == [
        ["y1", "y2", 2, 3, 3]
    ]


def test_duplication_errors(squares):
    services, catchments = _services(), _catchments()
    with pytest.raises(SchemaError, match="not in the services frame"):
        com.duplication(services.iloc[1:], catchment=catchments)
    with pytest.raises(SchemaError, match="missing or repeated service ids"):
        com.duplication(pd.concat([services, services.iloc[:1]]), catchment=catchments)
    with pytest.raises(SchemaError, match="whole number ≥ 2"):
        com.duplication(services, catchment=catchments, min_partners=1)
    with pytest.raises(SchemaError, match="'spend'|spend"):
        com.duplication(services, catchment=catchments, spend="budget")
    with pytest.raises(SchemaError, match="negative"):
        com.duplication(services.assign(cost=-1.0), catchment=catchments, spend="cost")
    with pytest.raises(SchemaError, match="has missing values"):
        com.duplication(services.assign(partner=[None, "a", "b", "c", "d"]), catchment=catchments)
    with pytest.raises(SchemaError, match="catchment columns"):
        com.duplication(services, catchment=catchments.rename(columns={"area_code": "lsoa"}))
    with pytest.raises(GeographyError, match="not a GeoDataFrame"):
        com.duplication(services, catchment=1000.0)
    points = _points([(500, 500), (1500, 500)])
    with pytest.raises(SchemaError, match="not a positive distance"):
        com.duplication(points, catchment=-5.0, areas=squares)
    with pytest.raises(SchemaError, match="not a catchment"):
        com.duplication(points, catchment=["A"], areas=squares)
    with pytest.raises(GeographyError, match="not in the services' CRS"):
        com.duplication(points, catchment=1000.0, areas=squares.to_crs(4326))
    with pytest.raises(GeographyError, match="'area_code' column"):
        com.duplication(points, catchment=1000.0, areas=squares.rename(columns={"area_code": "code"}))
    with pytest.raises(GeographyError, match="geographic CRS"):
        com.duplication(points.to_crs(4326), catchment=1000.0, areas=squares)


def test_duplication_on_the_shipped_register():
    from needskit.resources import load_register

    register = load_register(nhs=False)
    out = com.duplication(
        register.services, catchment=register.catchments, theme="service_type", spend="annual_cost_gbp"
    )
    assert (out["n_partners"] >= 2).all()
    youth = out[out["service_type"] == "youth_service"]
    assert len(youth) > 0  # council and voluntary youth services overlap somewhere
    assert set(youth["partners"].str.split("; ").explode()) == {
        "Gloucestershire County Council",
        "Voluntary and community sector",
    }
    pairs = com.duplicate_pairs(register.services, catchment=register.catchments, theme="service_type")
    assert (pairs["partner_a"] != pairs["partner_b"]).all() and (pairs["overlap_share"] <= 1).all()
    assert set(pairs.loc[pairs["service_type"] == "youth_service", "service_a"]) <= set(
        youth["service_ids"].str.split("; ").explode()
    )


# ============================================================================================
# spend versus need


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
