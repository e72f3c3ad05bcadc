"""needskit.disclosure.publish: the one publish step — what each audience may see, under one rule set.

Restricted and partner datasets never reach a public store (profile, indicators made from them,
ledger, register); counts go through the rule (withheld 1-7, rounded to 5 under nhs_digital);
indicators on small numbers are withheld; publishing never touches the internal store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from needskit.config import load_catalog
from needskit.disclosure.publish import Published, allowed_datasets, publish, publish_indicators
from needskit.errors import DisclosureError
from needskit.pipeline import open_workspace, run
from needskit.pipeline import publish as publish_stores
from partner_files import CHELTENHAM_POINT, GLOUCESTER_POINT, entry, points_csv, pool, write_catalog
from squares import write_squares_project

COUNTED = ["proportion", "crude_rate", "dsr", "isr", "life_expectancy"]


# ----------------------------------------------------------------------------- one partner file, three levels


@pytest.fixture
def three_levels(tmp_path):
    """The same 26 crimes (3 in one Cheltenham LSOA, 23 in Gloucester) as an open, a partner and a
    restricted dataset, each feeding the register."""
    lon, lat = CHELTENHAM_POINT
    glon, glat = GLOUCESTER_POINT
    rows = [(f"a{i}", "2024-01", lon, lat, "Burglary") for i in range(3)] + [
        (f"b{i}", "2024-01", glon, glat, "Robbery") for i in range(23)
    ]
    points_csv(tmp_path, rows)
    register = {"table": "services"}
    entries = {
        "open_data": entry(register=register),
        "partner_data": entry(
            sharing="partner", isa="ISA-2024-07 Gloucestershire data sharing protocol", register=register
        ),
        "restricted_data": entry(sharing="restricted", isa="ISA-2024-09 safeguarding", register=register),
    }
    catalog = load_catalog(write_catalog(tmp_path, entries))
    return catalog, pool(catalog)


def _publish(catalog, result, **kwargs) -> Published:
    options = {"indicators": pd.DataFrame(), "audience": "public", "rule": "nhs_digital", **kwargs}
    return publish(
        profile=result.profile,
        ledger=result.ledger,
        register=result.register,
        sharing=catalog.sharing(),
        **options,
    )


def test_sharing_levels_decide_what_each_audience_gets(three_levels):
    catalog, result = three_levels
    assert set(result.profile["dataset"]) == {
        "open_data",
        "partner_data",
        "restricted_data",
    }  # internal keeps all
    public = _publish(catalog, result, audience="public")
    partner = _publish(catalog, result, audience="partner")
    assert set(public.profile["dataset"]) == {"open_data"}
    assert set(partner.profile["dataset"]) == {"open_data", "partner_data"}
    assert public.withheld_datasets == ["partner_data", "restricted_data"]
    assert partner.withheld_datasets == ["restricted_data"]
    assert set(public.ledger["dataset"]) == {"open_data"} and set(partner.ledger["dataset"]) == {
        "open_data",
        "partner_data",
    }
    assert set(public.register["services"]["dataset"]) == {"open_data"}
    assert set(partner.register["services"]["dataset"]) == {"open_data", "partner_data"}
    assert allowed_datasets(catalog.sharing(), audience="public") == {"open_data"}
    assert allowed_datasets(catalog.sharing(), audience="partner") == {"open_data", "partner_data"}


def test_published_counts_follow_the_rule(three_levels):
    catalog, result = three_levels
    before = result.profile.copy()
    public = _publish(catalog, result, audience="public", rule="nhs_digital").profile
    pd.testing.assert_frame_equal(result.profile, before)  # the internal profile is not modified
    lsoa = public[public["level"] == "lsoa"].set_index(["area_code", "category"])
    assert lsoa.loc[("E01022163", "Burglary"), "value_published"] == "*"  # 3 crimes
    assert lsoa.loc[("E01022163", "Burglary"), "suppressed"]
    assert np.isnan(lsoa.loc[("E01022163", "Burglary"), "value"])
    counts = public["value"].dropna()
    assert (counts % 5 == 0).all() and not counts.between(1, 7).any()
    county = public[public["level"] == "county"].set_index("category")["value"]
    assert county["Robbery"] == 25  # 23 rounded to the nearest 5
    internal = result.profile
    exact = internal[(internal["level"] == "lsoa") & (internal["dataset"] == "open_data")]
    assert exact["value"].sum() == 26  # the internal profile keeps exact numbers
    assert set(public.columns) >= {"value_published", "suppressed", "disclosure_rule"}
    secondary = _publish(catalog, result, audience="public", rule="lt5_secondary")
    assert secondary.log["action"].str.contains("secondary").any()
    assert (secondary.profile["value"].dropna() % 1 == 0).all()  # no rounding under lt5_secondary


def test_values_are_carried_and_counts_of_zero_shown(three_levels):
    catalog, result = three_levels
    public = _publish(catalog, result).profile
    zeros = public[(public["level"] == "lsoa") & (public["value_published"] == "0")]
    assert len(zeros) > 0 and not zeros["suppressed"].any()  # nhs_digital shows true zeros
    opensafely = _publish(catalog, result, rule="opensafely").profile
    assert (opensafely.loc[opensafely["level"] == "lsoa", "value"].fillna(0) != 0).sum() <= 1
    values = pd.DataFrame(
        {
            "area_code": ["E01022163"],
            "area_name": ["x"],
            "level": ["lsoa"],
            "vintage": [2021],
            "dataset": ["open_data"],
            "measure": ["score"],
            "category": ["all"],
            "period": ["2025"],
            "value": [3.25],
            "kind": ["value"],
            "sharing": ["open"],
        }
    )
    carried = publish(
        profile=values,
        indicators=pd.DataFrame(),
        ledger=result.ledger,
        register={},
        sharing=catalog.sharing(),
        audience="public",
        rule="nhs_digital",
    ).profile
    assert carried.loc[0, "value"] == 3.25 and carried.loc[0, "value_published"] == "3.25"
    assert carried.loc[0, "disclosure_rule"] == "none (not a count)" and not carried.loc[0, "suppressed"]


def test_unknown_audiences_and_rules_are_refused(three_levels):
    catalog, result = three_levels
    with pytest.raises(DisclosureError, match="is not an audience a store is published for"):
        _publish(catalog, result, audience="internal")
    with pytest.raises(DisclosureError, match="unknown disclosure rule set") as info:
        _publish(catalog, result, rule="k_anonymity")
    assert "nhs_digital" in str(info.value)


# ---------------------------------------------------------------------------------- indicators


def _indicators() -> pd.DataFrame:
    """Internal indicators as compute_indicators makes them (exact counts, values and limits)."""
    x = np.array([3.0, 12.0, 0.0, np.nan, np.nan, 38.0, 23.0, 9.0])
    n = np.array([1000.0, 2003.0, 50.0, np.nan, np.nan, 5111.0, 7706.0, 120.0])
    m = np.array([1000.0, 1000.0, 100.0, 1.0, 1.0, 100_000.0, 100.0, 100.0])
    frame = pd.DataFrame(
        {
            "indicator": ["a", "b", "c", "d", "e", "f", "g", "h"],
            "statistic": [
                "crude_rate",
                "crude_rate",
                "proportion",
                "mean",
                "value",
                "dsr",
                "isr",
                "proportion",
            ],
            "area_code": ["A"] * 8,
            "period": ["2024"] * 8,
            "numerator": x,
            "denominator": n,
            "multiplier": m,
            "value": [3.0, 12 / 2003 * 1000, 0.0, 21.5, 7.0, 812.3, 104.5, 7.5],
            "lower_95": [0.6, 3.1, 0.0, 20.0, np.nan, 560.0, 66.2, 3.6],
            "upper_95": [8.8, 10.5, 7.1, 23.0, np.nan, 1064.0, 156.8, 13.7],
            "suppressed_reason": [""] * 8,
            "comparison": ["higher"] * 8,
            "quintile": [5] * 8,
            "sources": ["crimes, residents"] * 8,
        }
    )
    return frame


def test_small_number_indicators_are_withheld():
    results = _indicators()
    out = publish_indicators(results, rule="nhs_digital").set_index("indicator")
    pd.testing.assert_frame_equal(results, _indicators())  # not modified
    a = out.loc["a"]
    assert (
        np.isnan(a["value"])
        and np.isnan(a["numerator"])
        and np.isnan(a["lower_95"])
        and np.isnan(a["upper_95"])
    )
    assert (
        a["suppressed_reason"]
        == "small number withheld (nhs_digital: 1-7, or a figure that would reveal one)"
    )
    assert a["comparison"] == "not_compared" and pd.isna(a["quintile"])  # significance would hint at it
    assert a["denominator"] == 1000  # the denominator alone reveals nothing
    assert out.loc["c", "value"] == 0 and out.loc["c", "suppressed_reason"] == ""  # zeros are shown
    assert out.loc["d", "value"] == 21.5 and out.loc["e", "value"] == 7.0  # means and values are not counts
    assert out.loc["d", "lower_95"] == 20.0
    opensafely = publish_indicators(results, rule="opensafely").set_index("indicator")
    assert np.isnan(opensafely.loc["c", "value"])  # OpenSAFELY withholds zeros too
    lt5 = publish_indicators(results, rule="lt5_secondary").set_index("indicator")
    assert np.isnan(lt5.loc["a", "value"]) and lt5.loc["h", "value"] == 7.5  # 9 is above 4
    assert lt5.loc["b", "numerator"] == 12 and lt5.loc["b", "value"] == results.loc[1, "value"]  # no rounding
    assert publish_indicators(results.iloc[0:0], rule="nhs_digital").empty


def test_published_rates_are_made_from_the_published_counts():
    """The attacker: value x denominator, or the shape of an interval, must not give back a count
    that rounding hid (12 crimes are published as 10)."""
    from needskit.needs.statistics import crude_rate, proportion
    from needskit.needs.statistics.limits import poisson_limits

    out = publish_indicators(_indicators(), rule="nhs_digital").set_index("indicator")
    b = out.loc["b"]
    assert (b["numerator"], b["denominator"]) == (10.0, 2005.0)
    assert b["value"] * b["denominator"] / b["multiplier"] == pytest.approx(10.0)  # not 12
    expected = crude_rate(
        pd.DataFrame({"x": [10.0], "n": [2005.0]}), count="x", population="n", multiplier=1000
    )
    assert (b["lower_95"], b["upper_95"]) == pytest.approx(
        (expected.loc[0, "lower_95"], expected.loc[0, "upper_95"])
    )
    h = out.loc["h"]  # 9 of 120 -> 10 of 120
    expected = proportion(pd.DataFrame({"x": [10.0], "n": [120.0]}), numerator="x", denominator="n")
    assert h["value"] == pytest.approx(10 / 120 * 100)
    assert (h["lower_95"], h["upper_95"]) == pytest.approx(
        (expected.loc[0, "lower_95"], expected.loc[0, "upper_95"])
    )
    g = out.loc["g"]  # an SMR: 23 observed deaths published as 25; the expected count is kept
    assert g["numerator"] == 25 and g["value"] == pytest.approx(104.5 * 25 / 23)
    lower, upper = poisson_limits(25.0, 0.95)
    assert g["upper_95"] / g["value"] == pytest.approx(float(upper) / 25)  # the interval of 25, not of 23
    assert g["lower_95"] / g["value"] == pytest.approx(float(lower) / 25)
    f = out.loc["f"]  # a DSR: 38 events published as 40
    assert f["numerator"] == 40 and f["value"] == pytest.approx(812.3 * 40 / 38)
    assert f["lower_95"] < f["value"] < f["upper_95"]
    assert (f["upper_95"] - f["value"]) / (f["value"] - f["lower_95"]) != pytest.approx(
        (1064.0 - 812.3) / (812.3 - 560.0), rel=1e-3
    )  # the asymmetry of the interval is that of 40 events


def test_denominators_that_round_to_zero():
    frame = pd.DataFrame(
        {
            "indicator": ["p", "q"],
            "statistic": ["proportion", "crude_rate"],
            "area_code": ["A", "B"],
            "period": ["2024"] * 2,
            "numerator": [0.0, 9.0],
            "denominator": [2.0, 0.0],
            "multiplier": [100.0, 1000.0],
            "value": [0.0, np.nan],
            "lower_95": [0.0, np.nan],
            "upper_95": [65.8, np.nan],
            "suppressed_reason": ["", "denominator is zero"],
        }
    )
    out = publish_indicators(frame, rule="nhs_digital").set_index("indicator")
    assert np.isnan(out.loc["p", "value"]) and np.isnan(out.loc["p", "upper_95"])
    assert out.loc["p", "suppressed_reason"] == "the published denominator rounds to 0"
    assert np.isnan(out.loc["q", "value"]) and out.loc["q", "suppressed_reason"] == "denominator is zero"


def test_comparator_values_are_the_comparators_published_values():
    frame = pd.DataFrame(
        {
            "indicator": ["r"] * 3,
            "statistic": ["crude_rate"] * 3,
            "area_code": ["W1", "W2", "D1"],
            "period": ["2024"] * 3,
            "numerator": [20.0, 30.0, 4.0],
            "denominator": [1000.0, 1000.0, 500.0],
            "multiplier": [1000.0] * 3,
            "value": [20.0, 30.0, 8.0],
            "lower_95": [12.2, 20.2, 2.2],
            "upper_95": [30.9, 42.8, 20.5],
            "suppressed_reason": [""] * 3,
            "comparator_code": ["D1", "D1", "C1"],
            "comparator_value": [8.0, 8.0, 9.9],
        }
    )
    out = publish_indicators(frame, rule="lt5_secondary").set_index("area_code")
    assert np.isnan(out.loc["D1", "value"])  # 4 events: withheld
    assert out.loc[["W1", "W2"], "comparator_value"].isna().all()  # and not shown as the wards' comparator
    assert out.loc["D1", "comparator_value"] == 9.9  # C1 is not in the frame: its value is kept
    rounded = publish_indicators(frame.assign(numerator=[20.0, 30.0, 12.0]), rule="nhs_digital").set_index(
        "area_code"
    )
    assert (
        rounded.loc["W1", "comparator_value"] == rounded.loc["D1", "value"] == pytest.approx(10 / 500 * 1000)
    )


def test_indicators_made_from_withheld_datasets_are_left_out(three_levels):
    catalog, result = three_levels
    indicators = _indicators().assign(
        sources=[
            "open_data",
            "open_data, partner_data",
            "restricted_data",
            "open_data",
            "partner_data",
            "",
            "restricted_data, open_data",
            "partner_data",
        ]
    )
    public = _publish(catalog, result, indicators=indicators).indicators
    assert public["indicator"].tolist() == ["a", "d", "f"]
    partner = _publish(catalog, result, indicators=indicators, audience="partner").indicators
    assert partner["indicator"].tolist() == ["a", "b", "d", "e", "f", "h"]


# ---------------------------------------------------------------------------------- the published stores


def _restrict(root) -> None:
    """Deaths become restricted and the services register partner-only; publish for both audiences."""
    path = root / "conf" / "catalog.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["datasets"]["deaths"].update(sharing="restricted", isa="ISA-SQ-1 mortality (restricted)")
    data["datasets"]["services"].update(sharing="partner", isa="ISA-SQ-2 partner services")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    conf = root / "conf" / "partnership.yml"
    conf.write_text(
        conf.read_text().replace("audiences: [public]", "audiences: [public, partner]"), encoding="utf-8"
    )


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = write_squares_project(tmp_path_factory.mktemp("restricted"))
    _restrict(root)
    ws = open_workspace(root)
    run(ws, progress=False)
    return ws


def test_restricted_and_partner_data_never_reach_the_public_store(stores):
    ws = stores
    public = ws.published("public")
    assert public.manifest()["audience"] == "public"
    profile = public.read_profile()
    assert "deaths" not in set(profile["dataset"]) and "services" not in set(profile["dataset"])
    indicators = public.read_indicators()
    assert not {"mortality_dsr", "mortality_smr"} & set(indicators["indicator"])  # made from deaths
    assert {"crime_rate", "older_people", "life_expectancy"} <= set(indicators["indicator"])
    assert not {"deaths", "services"} & set(public.read_ledger()["dataset"])
    assert public.read_register("services").empty
    assert not {"deaths", "services"} & {s["dataset"] for s in public.manifest()["sources"]}
    for path in public.path.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".csv"):
            text = path.read_text(encoding="utf-8")
            assert "ISA-SQ" not in text and "Deaths by ESP 2013 band" not in text, path
    assert not (public.path / "rejected").exists() and not (public.path / "problems.csv").exists()


def test_the_partner_store_holds_partner_data_but_not_restricted(stores):
    partner = stores.published("partner")
    assert partner.manifest()["audience"] == "partner"
    assert "services" in set(partner.read_profile()["dataset"])
    assert "deaths" not in set(partner.read_profile()["dataset"])
    assert partner.read_register("services")["service_id"].tolist() == ["S1", "S2", "S3"]
    assert not {"mortality_dsr", "mortality_smr"} & set(partner.read_indicators()["indicator"])
    internal = stores.store
    assert {"deaths", "services"} <= set(
        internal.read_profile()["dataset"]
    )  # the internal store has everything
    assert {"mortality_dsr", "mortality_smr"} <= set(internal.read_indicators()["indicator"])


def test_published_counts_are_rounded_and_small_numbers_withheld(stores):
    public = stores.published("public")
    manifest = public.manifest()
    assert manifest["disclosure_rule"] == "nhs_digital" and "7" in manifest["disclosure_rule_text"]
    assert manifest["publication_marking"] and manifest["stages"]["publish"]["rule"] == "nhs_digital"
    profile = public.read_profile()
    counts = profile.loc[profile["kind"] != "value", "value"].dropna()
    assert (counts % 5 == 0).all() and not counts.between(1, 7).any()
    assert profile["suppressed"].any()  # the squares have LSOAs with a handful of crimes
    indicators = public.read_indicators()
    counted = indicators[indicators["statistic"].isin(COUNTED)]
    assert not counted["numerator"].between(0.5, 7.5).any()
    withheld = counted[counted["suppressed_reason"].fillna("").str.startswith("small number withheld")]
    assert len(withheld) > 0 and withheld["value"].isna().all()
    assert withheld[[c for c in withheld.columns if c.startswith(("lower_", "upper_"))]].isna().all().all()
    shown = counted[counted["numerator"].notna()]
    assert (shown["numerator"] % 5 == 0).all()
    # the attacker: rate x denominator gives back the published count, not the exact one
    simple = shown[shown["statistic"].isin(["crude_rate", "proportion"]) & shown["value"].notna()]
    assert len(simple) > 0
    recovered = simple["value"] * simple["denominator"] / simple["multiplier"]
    assert np.allclose(recovered, simple["numerator"])
    # and every comparator value is a published value
    own = indicators.drop_duplicates(["indicator", "area_code", "period"]).set_index(
        ["indicator", "area_code", "period"]
    )
    keys = pd.MultiIndex.from_arrays(
        [indicators["indicator"], indicators["comparator_code"], indicators["period"]]
    )
    inside = keys.isin(own.index)
    assert inside.any()
    np.testing.assert_array_equal(
        indicators.loc[inside, "comparator_value"].to_numpy(dtype=float),
        own["value"].reindex(keys[inside]).to_numpy(dtype=float),
    )
    internal = stores.store.read_profile()
    exact = internal.loc[internal["kind"] != "value", "value"]
    assert (exact % 5 != 0).any() and exact.between(1, 7).any()  # the internal store keeps exact counts


def test_publishing_never_touches_the_internal_store(stores):
    ws = stores
    internal = ws.store

    def snapshot():
        return {
            p.relative_to(internal.path).as_posix(): p.read_bytes()
            for p in sorted(internal.path.rglob("*"))
            if p.is_file()
        }

    before = snapshot()
    written = publish_stores(ws, audiences=["public"], rule="lt5_secondary")
    assert snapshot() == before
    public = written["public"]
    assert public.path == ws.project.published("public") and public.path != internal.path
    assert public.manifest()["disclosure_rule"] == "lt5_secondary"
    log = pd.read_csv(public.path / "disclosure_log.csv")
    assert log["action"].str.contains("secondary").any()
    public.check_fresh(internal=internal)
