"""needskit.reports.commissioning_report on the shipped data: Cheltenham (E07000078) published for the public."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from needskit.commissioning import SPEND_VS_NEED_CAVEAT
from needskit.commissioning.outcomes import load_delivery, load_outcomes
from needskit.config.project import project_dir
from needskit.errors import ReportError, SchemaError
from needskit.place import geography as geo
from needskit.reports import commissioning_report as cr
from needskit.reports import needs_profile as analysis
from needskit.reports.charts import ReportFigure
from needskit.resources import load_register

CHELTENHAM = "E07000078"
COUNTY = "E10000013"
CONF = project_dir() / "conf"


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def ctx():
    return analysis.load_context(area=CHELTENHAM, period="2024-04", publish="public", rule="nhs_digital", level="ward")


@pytest.fixture(scope="module")
def county_ctx():
    return analysis.load_context(area=COUNTY, period="2024-04", publish="public", rule="nhs_digital", level="ward")


@pytest.fixture(scope="module")
def register():
    return load_register()


@pytest.fixture(scope="module")
def services(register, ctx):
    return cr.area_services(register, ctx=ctx)


@pytest.fixture(scope="module")
def framework():
    return load_outcomes(CONF / "outcomes.yml")


@pytest.fixture(scope="module")
def delivery(framework):
    return load_delivery(CONF / "delivery.yml", outcomes=framework)


@pytest.fixture(scope="module")
def centres(ctx):
    return cr.neighbourhood_centres(ctx)


@pytest.fixture(scope="module")
def access(centres, register):
    return cr.access_table(centres, services=register.services)


@pytest.fixture(scope="module")
def series(ctx, framework):
    return cr.outcome_series(ctx, framework=framework)


def _lsoas(code: str) -> set[str]:
    table = geo.hierarchy()
    level = "county" if code == COUNTY else "district"
    return set(table.loc[table[level] == code, "lsoa"])


def _wards(code: str) -> list[str]:
    table = geo.hierarchy()
    return sorted(table.loc[table["district"] == code, "ward"].unique())


# ------------------------------------------------------------------------------ common


def test_report_title_names_area_report_period_and_audience(ctx):
    title = cr.report_title(ctx, report="resource map", partnership="Test Partnership")
    assert title.startswith("## Cheltenham: resource map, 2024-04")
    assert "Test Partnership" in title and "for publication" in title and "nhs_digital" in title


def test_residents_are_published_counts_for_the_area(ctx):
    lsoa = cr.residents(ctx, level="lsoa")
    assert set(lsoa.index) == _lsoas(CHELTENHAM) and len(lsoa) == 77
    assert (lsoa > 0).all()
    # public nhs_digital: each age-band cell is rounded to 5, so every total is a multiple of 5
    assert (lsoa % 5 == 0).all()
    wards = cr.residents(ctx, level="ward")
    assert list(wards.index) == _wards(CHELTENHAM)
    assert abs(wards.sum() - lsoa.sum()) / lsoa.sum() < 0.01  # rounding cell by cell, not a different population
    county = cr.residents(ctx, level="lsoa", scope="county")
    assert len(county) == len(_lsoas(COUNTY)) and set(lsoa.index) <= set(county.index)


def test_reports_refuse_areas_that_are_not_a_district_or_county(ctx):
    lsoa_ctx = dataclasses.replace(ctx, area_code="E01022147", area_level="lsoa")
    with pytest.raises(ReportError, match="district or a county"):
        cr.residents(lsoa_ctx)


def test_levels_for_places_are_checked(ctx, county_ctx):
    with pytest.raises(ReportError, match="not a level for places"):
        cr.allocation_measures(ctx, level="lsoa")
    with pytest.raises(ReportError, match="one district"):
        cr.allocation_measures(ctx, level="district")
    assert len(cr.allocation_measures(county_ctx, level="district")) == 6


def test_register_notes_say_illustrative_and_count_real_and_made_up(register, services):
    notes = cr.register_notes(register, services=services)
    made_up = int(services["illustrative"].sum())
    assert f"**{made_up} ILLUSTRATIVE**" in notes
    assert f"{len(services) - made_up} real (gp practice, pharmacy; NHS ODS edispensary, NHS ODS epraccur)" in notes
    assert notes.count("ILLUSTRATIVE") >= 2 and "no registered-list size" in notes


def test_framework_note_flags_made_up_fields(framework, delivery):
    note = cr.framework_note(framework, delivery=delivery)
    n = len(framework.outcomes)
    assert f"of {n} of the {n} outcomes" in note and "ILLUSTRATIVE" in note
    assert f"budget of {delivery['activity_id'].nunique()}" in note  # every budget is made up


def test_data_label(services):
    assert "ILLUSTRATIVE" in cr.data_label(services)
    assert cr.data_label(services[~services["illustrative"]]) == ""


def test_show_table_formats_money_shares_and_counts():
    frame = pd.DataFrame({"area_name": ["A", "B"], "spend_gbp": [1234.0, -50.0], "share_x": [0.25, 0.5], "population": [100.0, 5.0],
                          "gp_practice_m": [1200.4, 80.0], "Ward Name": ["x", "y"]})
    html = cr.show_table(frame).to_html()
    assert "£1,234" in html and "−£50" in html and "25.0%" in html and ">100<" in html and "1,200" in html
    assert "Area name" in html and "Gp practice (m)" in html and "Ward Name" in html
    assert cr.show_table(frame, columns={"area_name": "Place"}, top=1).to_html().count("<tr") == 2
    with pytest.raises(SchemaError, match="not in frame|nope"):
        cr.show_table(frame, columns=["nope"])


@pytest.mark.parametrize(
    "call",
    [
        lambda f: cr.services_summary(f),
        lambda f: cr.supply_map_frame(f, ctx=None),
        lambda f: cr.supply_wide(f),
        lambda f: cr.supply_chart(f, title="x"),
        lambda f: cr.provision_gaps(f, f),
        lambda f: cr.duplication_summary(f),
        lambda f: cr.spend_table(f),
        lambda f: cr.priority_matrix(f),
        lambda f: cr.synthetic_history(f),
    ],
)
def test_table_functions_name_the_missing_columns(call):
    with pytest.raises(SchemaError, match="not a column of the frame|not in the frame"):
        call(pd.DataFrame({"area_code": ["A"], "unrelated": [1]}))


def test_methods_text_for_each_report_and_unknown():
    for report in ("resource-map", "commissioning-priorities", "outcomes-monitoring"):
        assert len(cr.methods_text(report)) > 200
    assert "ILLUSTRATIVE" in cr.methods_text("resource-map")
    with pytest.raises(ReportError, match="no methods text"):
        cr.methods_text("needs-profile")


# ------------------------------------------------------------------------------ resource map


def test_area_services_are_inside_the_area_and_labelled(services, register):
    assert set(services["area_code"]) <= _lsoas(CHELTENHAM)
    assert (services["district_code"] == CHELTENHAM).all()
    assert set(services["data_status"]) == {"ILLUSTRATIVE", "real"}
    assert (services.loc[services["data_status"] == "real", "service_type"].isin(["gp_practice", "pharmacy"])).all()
    inside = register.services["area_code"].isin(_lsoas(CHELTENHAM))
    assert len(services) == int(inside.sum())


def test_services_summary_adds_up(services):
    summary = cr.services_summary(services)
    assert summary["n_services"].sum() == len(services)
    assert summary.loc[summary["service_type"] == "gp practice", "data_status"].tolist() == ["real"]


def test_assets_map_is_a_figure_labelled_illustrative(services, ctx):
    fig = cr.assets_map(services, areas=ctx.neighbourhoods, title="Service points")
    assert isinstance(fig, ReportFigure)
    assert "ILLUSTRATIVE" in fig.axes[0].get_title(loc="left")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("gp practice (real)" in t for t in labels) and any("(ILLUSTRATIVE)" in t for t in labels)
    assert fig._repr_png_()[:4] == b"\x89PNG"


def test_supply_by_ward_counts_every_service_once(services, ctx):
    supply = cr.supply_by_place(services, ctx=ctx, level="ward")
    themes = services["theme"].nunique()
    assert len(supply) == 20 * themes
    assert supply["n_records"].sum() == len(services)
    expected = 1000 * supply["supply"] / supply["population"]
    assert np.allclose(supply["supply_per_1000"], expected)
    frame = cr.supply_map_frame(supply, ctx=ctx)
    assert len(frame) == 20 and frame["n_services"].sum() == len(services)
    wide = cr.supply_wide(supply)
    assert wide["n_services"].sum() == len(services)
    assert wide["services_per_1000"].is_monotonic_decreasing
    assert isinstance(cr.supply_chart(supply, title="Supply", top=5), ReportFigure)


def test_neighbourhood_centres_cover_every_county_lsoa(centres):
    assert len(centres) == len(_lsoas(COUNTY)) and centres["area_code"].is_unique
    assert int(centres["in_area"].sum()) == 77
    assert centres.crs.to_epsg() == 27700
    fallback = centres["centre_method"] != "postcode-weighted"
    assert (centres.loc[fallback, "n_postcodes"] == 0).all()
    assert (centres.loc[~fallback, "n_postcodes"] > 0).all()
    polygons = geo.load_areas("lsoa", within=COUNTY).set_index("area_code").geometry
    own = polygons.reindex(centres["area_code"]).reset_index(drop=True)
    gap = centres.geometry.reset_index(drop=True).distance(own)
    # the mean of an LSOA's postcodes lies in it, or just outside a concave (crescent-shaped) one
    assert (gap == 0).mean() > 0.9 and gap.max() < 300


def test_access_table_has_one_row_per_lsoa_and_true_nearest_distances(access, centres, register):
    assert len(access) == 77 and access["area_code"].is_unique
    assert set(access["area_code"]) == _lsoas(CHELTENHAM)
    assert access.attrs["data_status"] == {"gp_practice": "real", "pharmacy": "real", "library": "ILLUSTRATIVE"}
    # brute force: every centre against every GP practice of the county
    gps = register.services[register.services["service_type"] == "gp_practice"]
    here = centres.set_index("area_code").loc[access["area_code"]]
    dx = here.geometry.x.to_numpy()[:, None] - gps.geometry.x.to_numpy()[None, :]
    dy = here.geometry.y.to_numpy()[:, None] - gps.geometry.y.to_numpy()[None, :]
    assert np.allclose(access["gp_practice_m"].to_numpy(), np.sqrt(dx**2 + dy**2).min(axis=1))
    assert access["library_nearest"].str.contains("illustrative").all()


def test_access_summary_and_sentence(access):
    summary = cr.access_summary(access, far_m=2000)
    library = summary.set_index("service_type").loc["library"]
    far = access["library_m"] > 2000
    assert library["residents_beyond"] == access.loc[far, "population"].sum()
    assert library["max_m"] == access["library_m"].max()
    assert library["data_status"] == "ILLUSTRATIVE"
    sentence = cr.access_sentence(summary, area_name="Cheltenham")
    assert "library (ILLUSTRATIVE locations)" in sentence and "gp practice (ILLUSTRATIVE" not in sentence
    assert f"{library['residents_beyond']:,.0f} residents" in sentence
    with pytest.raises(SchemaError, match="no distance columns"):
        cr.access_summary(access[["area_code", "population"]])
    with pytest.raises(SchemaError, match="positive distance"):
        cr.access_summary(access, far_m=0)


def test_access_errors_and_furthest(centres, register, access):
    with pytest.raises(SchemaError, match="service types the register does not have"):
        cr.access_table(centres, services=register.services, service_types=["swimming_pool"])
    top = cr.furthest(access, service_type="pharmacy", top=5)
    assert len(top) == 5 and top["pharmacy_m"].is_monotonic_decreasing
    assert top["pharmacy_m"].iloc[0] == access["pharmacy_m"].max()
    with pytest.raises(SchemaError, match="service_type"):
        cr.furthest(access, service_type="swimming_pool")


def test_gp_accessibility_for_the_area(centres, register):
    fca = cr.gp_accessibility(centres, services=register.services, catchment_m=3000)
    assert len(fca) == 77 and set(fca["area_code"]) == _lsoas(CHELTENHAM)
    assert np.allclose(fca["practices_per_100k"], fca["accessibility"] * 100_000)
    assert (fca.loc[fca["services_in_catchment"] == 0, "accessibility"] == 0).all()
    assert fca.attrs["needskit_access"]["catchment_m"] == 3000.0
    assert "no list sizes" in fca.attrs["needskit_access"]["supply"]
    sentence = cr.accessibility_sentence(fca, area_name="Cheltenham")
    assert "3.0 km" in sentence and "2SFCA" in sentence
    with pytest.raises(SchemaError, match="service types"):
        cr.gp_accessibility(centres, services=register.services, service_type="dentist")


def test_need_by_theme_and_its_errors(ctx):
    need = cr.need_by_theme(ctx, level="ward")
    assert len(need) == 20 * len(cr.THEME_NEED)
    crime = need[need["theme"] == "safer_stronger_communities"]
    assert (crime["need_indicator"] == "crime_rate_all").all() and (crime["need_period"] == "2024-01/2024-04").all()
    with pytest.raises(ReportError, match="has no need indicator"):
        cr.need_by_theme(ctx, themes=["culture"])
    with pytest.raises(ReportError, match="does not compute"):
        cr.need_by_theme(ctx, theme_need={"economy_skills": "happiness_index"})


def test_provision_gaps_are_high_need_low_provision(ctx, services):
    supply = cr.supply_by_place(services, ctx=ctx, level="ward")
    gaps = cr.provision_gaps(supply, cr.need_by_theme(ctx, level="ward"))
    assert set(gaps["theme"]) == set(services["theme"])
    rows = gaps[gaps["quadrant"] == "gap"]
    assert (rows["high_need"] & ~rows["high_provision"]).all()
    table = cr.gap_table(gaps, top=None)
    assert len(table) == len(rows) and table["gap_score"].is_monotonic_decreasing
    sentence = cr.gaps_sentence(gaps, area_name="Cheltenham")
    for theme, part in gaps.groupby("theme_name"):
        assert f"{theme}: {int((part['quadrant'] == 'gap').sum())} of {len(part)}" in sentence
    assert "ILLUSTRATIVE" in sentence


def test_duplication_in_area(register, ctx):
    dup = cr.duplication_in_area(register, ctx=ctx)
    assert len(dup) and set(dup["area_code"]) <= _lsoas(CHELTENHAM)
    assert (dup["n_partners"] >= 2).all() and (dup["data_status"] == "ILLUSTRATIVE").all()
    assert dup["partners"].str.split("; ").map(len).equals(dup["n_partners"])
    summary = cr.duplication_summary(dup)
    assert summary["neighbourhoods"].sum() == len(dup)  # one row per neighbourhood and theme
    assert np.isclose(summary["spend_in_area"].sum(), dup["spend_in_area"].sum())
    sentence = cr.duplication_sentence(dup, ctx=ctx)
    assert f"In {dup['area_code'].nunique()} of Cheltenham's 77 neighbourhoods" in sentence and "ILLUSTRATIVE" in sentence
    assert cr.duplication_sentence(dup.iloc[0:0], ctx=ctx).startswith("No neighbourhood")


def test_spend_against_need_keeps_the_spend_and_prints_the_caveat(register, ctx):
    spend = cr.spend_against_need(register, ctx=ctx, level="ward")
    expected = register.spend.loc[register.spend["ward_code"].isin(_wards(CHELTENHAM)), "spend_gbp"].sum()
    assert spend["spend_gbp"].sum() == expected
    assert spend.attrs["caveat"] == SPEND_VS_NEED_CAVEAT
    assert (spend["data_status"] == "ILLUSTRATIVE").all()
    sentence = cr.spend_sentence(spend)
    assert SPEND_VS_NEED_CAVEAT in sentence and "ILLUSTRATIVE" in sentence
    table = cr.spend_table(spend, top=10)
    assert len(table) == 10 and table["percentile_difference"].is_monotonic_increasing
    fig = cr.spend_chart(spend, title="Spend")
    assert "ILLUSTRATIVE" in fig._suptitle.get_text()


def test_spend_and_supply_by_district_for_the_county(register, county_ctx):
    spend = cr.spend_against_need(register, ctx=county_ctx, level="district")
    assert set(spend["area_code"]) == set(geo.hierarchy().query("county == @COUNTY")["district"])
    assert spend["spend_gbp"].sum() == register.spend["spend_gbp"].sum()


# ------------------------------------------------------------------------------ commissioning priorities


def test_priority_places_are_the_most_deprived_with_their_themes(ctx):
    places = cr.priority_places(ctx, worst_decile=2)
    assert (places["imd_decile"] <= 2).all()
    n = places["area_code"].nunique()
    iod = ctx.profile[(ctx.profile["dataset"] == "iod2025_scores") & (ctx.profile["measure"] == "imd_decile")
                      & ctx.profile["area_code"].isin(_lsoas(CHELTENHAM))]
    assert n == int((iod["value"] <= 2).sum())
    assert len(places) == n * 5  # every priority neighbourhood × the five non-cross-cutting themes
    assert ((places["n_signals"] > 0) == (places["evidence"] != "")).all()
    matrix = cr.priority_matrix(places)
    assert len(matrix) == n and (matrix["n_themes"] <= 5).all()
    sentence = cr.priority_sentence(places, ctx=ctx)
    assert sentence.startswith(f"{n} of Cheltenham's 77 neighbourhoods")
    fewer = cr.priority_places(ctx, worst_decile=1)
    assert set(fewer["area_code"]) < set(places["area_code"])
    assert "10% most deprived in England (IMD 2025 decile 1)" in cr.priority_sentence(fewer, ctx=ctx)
    with pytest.raises(ReportError, match="decile"):
        cr.priority_places(ctx, worst_decile=11)
    with pytest.raises(ReportError, match="share"):
        cr.priority_places(ctx, worst_share=1.5)


def test_delivery_in_cheltenham_is_county_wide_only(delivery, ctx, framework):
    rows = cr.delivery_in_area(delivery, ctx=ctx)
    wide = set(delivery.loc[delivery["place_code"] == COUNTY, "activity_id"])
    assert set(rows["activity_id"]) == wide
    assert set(rows["place_code"]) == set(_wards(CHELTENHAM))
    sentence = cr.delivery_sentence(delivery, rows, ctx=ctx)
    assert f"{len(wide)} of them serve places in Cheltenham: {len(wide)} county-wide" in sentence
    matrix = cr.delivery_gap_matrix(rows, framework=framework, ctx=ctx).set_index("place")
    ids = framework.outcomes["outcome_id"].tolist()
    assert len(matrix) == 1 + 20 and list(matrix.columns) == ids + ["outcomes_delivered"]
    per_outcome = rows.groupby("outcome_id")["activity_id"].nunique()
    assert matrix.loc["whole area", ids].sum() == per_outcome.sum()
    assert matrix.loc["whole area", "outcomes_delivered"] == len(per_outcome)
    assert (matrix.drop(index="whole area")[list(per_outcome.index)] == 1).all().all()  # county-wide: every ward


def test_delivery_at_district_level_for_the_county(delivery, county_ctx, framework):
    rows = cr.delivery_in_area(delivery, ctx=county_ctx)
    assert set(rows["place_level"]) == {"district"}
    assert not rows.duplicated(["activity_id", "outcome_id", "place_code"]).any()
    assert set(rows["activity_id"]) == set(delivery["activity_id"])
    matrix = cr.delivery_gap_matrix(rows, framework=framework, ctx=county_ctx).set_index("place")
    assert len(matrix) == 1 + 6
    assert matrix.loc["Gloucester", "outcomes_delivered"] > matrix.loc["Cheltenham", "outcomes_delivered"]


def test_undelivered_outcomes_ignore_unconfirmed_activities(delivery, ctx, framework):
    rows = cr.delivery_in_area(delivery, ctx=ctx)
    missing = cr.undelivered_outcomes(framework, rows)
    confirmed = set(rows.loc[rows["confirmed"], "outcome_id"])
    assert set(missing["outcome_id"]) == set(framework.outcomes["outcome_id"]) - confirmed
    assert "3.5" in set(missing["outcome_id"])  # only an unconfirmed activity ("older people assembly?")
    assert len(cr.undelivered_outcomes(framework, rows.iloc[0:0])) == len(framework.outcomes)


def test_outcome_need_and_delivery_against_need(delivery, ctx, framework):
    need = cr.outcome_need(ctx, framework=framework)
    assert len(need) == len(framework.outcomes) * 20
    chosen = need.drop_duplicates("outcome_id").set_index("outcome_id")["need_indicator"]
    assert chosen["2.3"] == "crime_rate_all" and chosen["1.1"] == "imd_score"
    assert need["need"].notna().all()
    rows = cr.delivery_in_area(delivery, ctx=ctx)
    table = cr.delivery_vs_need(rows, need=need)
    assert len(table) == len(rows.drop_duplicates(["activity_id", "outcome_id"]))
    assert (table["n_places"] == 20).all() and not table["away_from_need"].any()  # county-wide reaches every ward
    empty = cr.delivery_vs_need(rows.iloc[0:0], need=need)
    assert empty.empty and "away_from_need" in empty.columns
    assert "none can be compared" in cr.delivery_need_sentence(empty, ctx=ctx)


def test_allocation_sums_exactly_to_the_pot(ctx):
    measures = cr.allocation_measures(ctx, level="ward")
    assert len(measures) == 20 and not measures["crimes_withheld"].any()
    assert (measures["crimes"] % 5 == 0).all()  # published (rounded) counts
    assert np.allclose(measures["income_deprived"], measures["income_deprivation"] / 100 * measures["population"])
    shares = cr.allocate_pot(measures, pot=50_000, unit=100)
    for label in cr.ALLOCATION_NEEDS:
        assert shares[f"allocation_{label}"].sum() == 50_000
        assert (shares[f"allocation_{label}"] % 100 == 0).all()
    sentence = cr.allocation_sentence(shares, measures=measures)
    assert "Each scenario sums exactly to the pot" in sentence and "£50,000 pot" in sentence
    table = cr.allocation_table(shares, top=None)
    assert table.filter(like="(£)").drop(columns="range (£)").sum().eq(50_000).all()
    assert isinstance(cr.allocation_chart(shares, title="Pot"), ReportFigure)
    with pytest.raises(SchemaError, match="unit|whole"):
        cr.allocate_pot(measures, pot=50_050, unit=100)


# ------------------------------------------------------------------------------ outcomes monitoring


def test_outcome_series_are_the_published_monthly_crime_rates(series):
    assert sorted(series["indicator"].unique()) == ["crime_rate_all", "crime_rate_asb", "crime_rate_burglary", "crime_rate_violence"]
    assert (series.groupby("indicator")["period"].nunique() == 4).all()
    assert (series["numerator"] % 5 == 0).all()  # counts as published (nhs_digital rounds to 5)
    assert not series["illustrative"].any() and (series["data"] == "real").all()
    note = cr.series_note(series)
    assert "4 real months (2024-01 to 2024-04)" in note and "fewer than the 12 points" in note


def test_synthetic_history_is_labelled_seeded_and_before_the_real_months(series):
    extended = cr.synthetic_history(series, months=24, seed=7)
    made_up = extended[extended["illustrative"]]
    assert len(made_up) == 24 * series["indicator"].nunique()
    assert (made_up["data"] == "ILLUSTRATIVE synthetic").all() and made_up["source"].str.startswith("ILLUSTRATIVE").all()
    assert made_up["period"].max() < series["period"].min()
    assert made_up.groupby("indicator")["period"].agg(lambda s: list(s) == sorted(s)).all()
    assert made_up["period"].min() == "2022-01"
    real = extended[~extended["illustrative"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(real[series.columns], series.reset_index(drop=True), check_dtype=False)
    assert cr.synthetic_history(series, months=24, seed=7).equals(extended)
    assert not cr.synthetic_history(series, months=24, seed=8).equals(extended)
    assert np.allclose(made_up["value"], made_up["numerator"] / made_up["denominator"] * made_up["multiplier"])
    assert "24 ILLUSTRATIVE synthetic months" in cr.series_note(extended)
    assert cr.synthetic_history(series, months=0).equals(series)
    with pytest.raises(SchemaError, match="number of months"):
        cr.synthetic_history(series, months=-1)


def test_spc_results_read_targets_per_month_and_keep_warnings(series, framework):
    results = cr.spc_results(series, framework=framework, target_months=12)
    assert list(results) == list(dict.fromkeys(series["indicator"]))
    target = framework.indicators.set_index("indicator_id").loc["crime_rate_all", "target_value"]
    assert np.allclose(results["crime_rate_all"]["target"], target / 12)
    assert results["crime_rate_burglary"]["target"].isna().all()
    assert any("fewer than 12" in w for w in results["crime_rate_all"].attrs["needskit_report"]["warnings"])
    with pytest.raises(SchemaError, match="number of months"):
        cr.spc_results(series, framework=framework, target_months=0)


def test_board_and_panel_label_illustrative_history(series, framework):
    real = cr.board(cr.spc_results(series, framework=framework), framework=framework)
    assert (real["data"] == "real (4 months)").all() and (real["n_points"] == 4).all()
    assert (real["accountable"] == "Positive Lives Partnership").all()
    extended = cr.synthetic_history(series, months=24)
    charts = cr.spc_results(extended, framework=framework)
    summary = cr.board(charts, framework=framework)
    assert summary["data"].str.startswith("ILLUSTRATIVE synthetic (24) + real (4)").all()
    assert (summary["n_points"] == 28).all()
    assert summary["variation_text"].notna().all() and summary["assurance_text"].notna().all()
    assert "ILLUSTRATIVE" in cr.board_table(summary).to_html()
    fig = cr.spc_panel(charts, title="Charts")
    assert isinstance(fig, ReportFigure) and len(fig.axes) == len(charts)
    assert all(any("ILLUSTRATIVE" in t.get_text() for t in ax.texts) for ax in fig.axes)
    with pytest.raises(SchemaError, match="no charts"):
        cr.board({}, framework=framework)
    with pytest.raises(SchemaError, match="no charts"):
        cr.spc_panel({}, title="x")


def test_targets_untracked_and_partnership_view(series, framework, ctx, delivery):
    sentence = cr.targets_sentence(framework, series=series, target_months=12)
    assert "crime_rate_all: 40 by 2027-03-31 → 3.33 a month" in sentence and "ILLUSTRATIVE" in sentence
    untracked = cr.untracked_indicators(framework, series=series, ctx=ctx)
    assert not set(untracked["indicator_id"]) & set(series["indicator"])
    status = untracked.set_index("indicator_id")["status"]
    assert status["imd_score"] == "one period only in the data (2025)"
    assert status["fuel_poverty"] == "not defined in the indicator set"
    summary = cr.board(cr.spc_results(series, framework=framework), framework=framework)
    rows = cr.delivery_in_area(delivery, ctx=ctx)
    view = cr.partnership_view(framework, summary=summary, delivery=rows).set_index("partnership")
    assert view.loc["Positive Lives Partnership", "charted"] == 4 and view["charted"].sum() == 4
    # the unconfirmed "Gloucestershire first?" does not count as delivery for the Strategic Leadership Group
    assert view.loc["Strategic Leadership Group", "n_activities"] == 0
    assert (view["data_status"] == "ILLUSTRATIVE budgets").all()
    bare = cr.partnership_view(framework, summary=summary)
    assert (bare["n_activities"] == 0).all() and (bare["data_status"] == "").all()
