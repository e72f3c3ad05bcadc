"""needskit.config.indicators: conf/indicators.yml — every statistic reachable from YAML, every
mistake named."""

from __future__ import annotations

import copy

import pytest
import yaml

from needskit.config import load_catalog, load_indicators
from needskit.config.indicators import STATISTICS, IndicatorSpec, TermSpec, parse_indicators
from needskit.errors import CatalogError
from partner_files import CONF
from squares import write_squares_project

CRIMES = {"dataset": "crimes", "measure": "crimes"}
RESIDENTS = {"dataset": "residents", "measure": "usual_residents"}
DEATHS = {"dataset": "deaths", "measure": "deaths"}
ESP = {"dataset": "residents_esp", "measure": "population"}
SCORE = {"dataset": "deprivation", "measure": "imd_score"}


def _base(statistic: str, **terms) -> dict:
    return {
        "title": f"A {statistic}",
        "theme": "cross_cutting",
        "statistic": statistic,
        "polarity": "high_is_bad",
        **terms,
    }


ONE_OF_EACH = {
    "a_proportion": _base(
        "proportion", numerator={**RESIDENTS, "category": "Aged 65 years and over"}, denominator=RESIDENTS
    ),
    "a_crude_rate": _base(
        "crude_rate", numerator=CRIMES, denominator=RESIDENTS, multiplier=1000, combine_periods=True
    ),
    "a_mean": _base("mean", value=SCORE),
    "a_dsr": _base("dsr", numerator=DEATHS, denominator=ESP),
    "an_isr": _base("isr", numerator=DEATHS, denominator=ESP, reference="E92000001", kind="rate"),
    "a_life_expectancy": _base(
        "life_expectancy",
        numerator={"dataset": "life_table", "measure": "life_deaths"},
        denominator={"dataset": "life_table", "measure": "life_population"},
        at_age=65,
    ),
    "a_value": _base("value", value=SCORE, unit="score", notes="carried as published"),
}


def _write(tmp_path, indicators: dict, **top):
    path = tmp_path / "indicators.yml"
    path.write_text(yaml.safe_dump({**top, "indicators": indicators}, sort_keys=False), encoding="utf-8")
    return path


def test_every_statistic_is_reachable_from_yaml(tmp_path):
    specs = load_indicators(_write(tmp_path, ONE_OF_EACH))
    by_id = {s.id: s for s in specs}
    assert [s.id for s in specs] == list(ONE_OF_EACH)  # file order
    assert {s.statistic for s in specs} == set(STATISTICS)
    assert by_id["a_proportion"].multiplier == 100 and by_id["a_proportion"].numerator.categories == (
        "Aged 65 years and over",
    )
    assert by_id["a_crude_rate"].multiplier == 1000 and by_id["a_crude_rate"].combine_periods
    assert by_id["a_dsr"].multiplier == 100_000 and by_id["a_dsr"].by_age
    isr = by_id["an_isr"]
    assert (isr.reference, isr.kind, isr.multiplier, isr.by_age) == ("E92000001", "rate", 1.0, True)
    le = by_id["a_life_expectancy"]
    assert le.at_age == 65 and le.by_age and le.sources == ("life_table",)
    assert by_id["a_mean"].value == TermSpec(("deprivation",), "imd_score") and not by_id["a_mean"].by_age
    assert by_id["a_value"].unit == "score" and by_id["a_value"].notes == "carried as published"
    assert by_id["a_crude_rate"].sources == ("crimes", "residents")
    assert isinstance(specs[0], IndicatorSpec)


def test_terms_list_datasets_categories_exclusions_and_periods(tmp_path):
    numerator = {
        "dataset": ["census_lsoa", "census_lad"],
        "measure": "n",
        "exclude": ["Not applicable"],
        "period": 2021,
    }
    specs = load_indicators(
        _write(
            tmp_path,
            {
                "x": _base(
                    "proportion",
                    numerator=numerator,
                    denominator={"dataset": "census_lsoa", "measure": "n", "category": ["a", 2]},
                )
            },
        )
    )
    term = specs[0].numerator
    assert term.datasets == ("census_lsoa", "census_lad") and term.exclude == ("Not applicable",)
    assert term.period == "2021" and term.categories is None
    assert specs[0].denominator.categories == ("a", "2")
    assert specs[0].sources == ("census_lsoa", "census_lad")


def test_the_shipped_and_the_squares_indicators_load_against_their_catalogues(tmp_path):
    shipped = load_indicators(CONF / "indicators.yml", catalog=load_catalog(CONF / "catalog.yml"))
    assert len(shipped) == 21 and len({s.id for s in shipped}) == 21
    assert {s.statistic for s in shipped} >= {"proportion", "crude_rate", "mean", "value"}
    root = write_squares_project(tmp_path)
    squares = load_indicators(
        root / "conf" / "indicators.yml", catalog=load_catalog(root / "conf" / "catalog.yml")
    )
    assert {s.statistic for s in squares} == set(STATISTICS)  # the squares partnership uses every statistic


def _broken(indicator: str, change: dict, drop: tuple[str, ...] = ()) -> dict:
    data = copy.deepcopy(ONE_OF_EACH[indicator])
    data.update(change)
    for key in drop:
        del data[key]
    return {indicator: data}


@pytest.mark.parametrize(
    ("indicators", "message"),
    [
        (_broken("a_dsr", {}, drop=("denominator",)), "a 'dsr' indicator needs numerator and denominator"),
        (
            _broken("a_proportion", {}, drop=("numerator",)),
            "a 'proportion' indicator needs numerator and denominator",
        ),
        (_broken("a_crude_rate", {"value": SCORE}), "needs numerator and denominator"),
        (_broken("a_mean", {"numerator": CRIMES}), "a 'mean' indicator needs value"),
        (_broken("a_value", {}, drop=("value",)), "a 'value' indicator needs value"),
        (
            _broken("a_life_expectancy", {}, drop=("numerator",)),
            "a 'life_expectancy' indicator needs numerator",
        ),
        (_broken("an_isr", {}, drop=("reference",)), "an 'isr' indicator needs the reference area"),
        (_broken("a_dsr", {"reference": "E92000001"}), "'reference' is only for isr indicators"),
        (_broken("a_dsr", {"statistic": "median"}), "'statistic' is not a known value"),
        (_broken("a_dsr", {"polarity": "up"}), "'polarity' is not a known value"),
        (_broken("a_dsr", {"theme": "leisure"}), "'theme' is not a known value"),
        (_broken("an_isr", {"kind": "difference"}), "'kind' is not a known value"),
        (_broken("a_dsr", {"multiplier": "lots"}), "'multiplier' has the wrong type"),
        (_broken("a_dsr", {"colour": "red"}), r"unknown key \['colour'\]"),
        (_broken("a_dsr", {}, drop=("title",)), "missing required key 'title'"),
        (_broken("a_dsr", {"numerator": {"dataset": "deaths"}}), "missing required key 'measure'"),
        (_broken("a_dsr", {"numerator": {"measure": "deaths"}}), "missing required key 'dataset'"),
        (_broken("a_dsr", {"numerator": "deaths"}), "is not a mapping"),
        (
            _broken("a_dsr", {"numerator": {**DEATHS, "category": "a", "exclude": ["b"]}}),
            "give 'category' or 'exclude'",
        ),
        (_broken("a_dsr", {"numerator": {**DEATHS, "colour": "red"}}), r"unknown key \['colour'\]"),
        ({"Bad-Id": ONE_OF_EACH["a_dsr"]}, "indicator ids are lower_snake_case"),
    ],
)
def test_malformed_indicators_are_named(tmp_path, indicators, message):
    path = _write(tmp_path, indicators)
    with pytest.raises(CatalogError, match=message) as info:
        load_indicators(path)
    text = str(info.value)
    assert str(path) in text and f"indicators.{next(iter(indicators))}" in text, text
    assert text.count("(line ") <= 1, text


def test_errors_carry_the_line_of_the_indicator_or_key(tmp_path):
    path = _write(tmp_path, {"ok": ONE_OF_EACH["a_value"], **_broken("an_isr", {}, drop=("reference",))})
    with pytest.raises(CatalogError) as info:
        load_indicators(path)
    lines = path.read_text().splitlines()
    first_key = next(i for i, line in enumerate(lines, start=1) if line.startswith("  an_isr:")) + 1
    assert f"indicators.an_isr (line {first_key})" in str(info.value)
    path = _write(tmp_path, _broken("a_dsr", {"polarity": "up"}))
    with pytest.raises(CatalogError) as info:
        load_indicators(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), start=1) if "polarity" in text)
    assert f"indicators.a_dsr.polarity (line {line})" in str(info.value)


def test_with_a_catalogue_every_source_dataset_must_exist(tmp_path):
    root = write_squares_project(tmp_path / "squares")
    catalog = load_catalog(root / "conf" / "catalog.yml")
    assert len(load_indicators(_write(tmp_path, ONE_OF_EACH), catalog=catalog)) == 7
    missing = _broken("a_crude_rate", {"numerator": {"dataset": ["crimes", "burglaries"], "measure": "n"}})
    with pytest.raises(CatalogError, match="names datasets that are not in the catalogue") as info:
        load_indicators(_write(tmp_path, missing), catalog=catalog)
    assert "['burglaries']" in str(info.value) and "a_crude_rate" in str(info.value)


def test_indicator_file_problems(tmp_path):
    with pytest.raises(CatalogError, match="indicator definitions file not found") as info:
        load_indicators(tmp_path / "nope.yml")
    assert "--indicators" in str(info.value)
    with pytest.raises(CatalogError, match="missing required key 'indicators'"):
        parse_indicators({"name": "x"})
    with pytest.raises(CatalogError, match="'indicators' has the wrong type"):
        parse_indicators({"indicators": ["a", "b"]})
    with pytest.raises(CatalogError, match=r"unknown key \['colour'\]"):
        parse_indicators({"indicators": {}, "colour": "red"})
    assert parse_indicators({"name": "none yet", "indicators": {}}) == ()
