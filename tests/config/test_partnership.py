"""needskit.config.partnership: conf/partnership.yml, checked key by key with file, key and line."""

from __future__ import annotations

import textwrap

import pytest

from needskit.config import Partnership, load_partnership
from needskit.config.partnership import DatasetRole, ReferenceNames, parse_partnership
from needskit.errors import CatalogError
from partner_files import CONF

VALID = textwrap.dedent(
    """\
    name: Test Partnership
    area: [E10000013]
    chapters: district
    comparators: [parent, england]
    vintage: 2021
    disclosure:
      rule: nhs_digital
      audiences: [public]
    residents: {dataset: population_census2021, measure: usual_residents}
    deprivation: {dataset: iod2025_scores}
    reference:
      lookups: [lookups_2021, lookups_2011]
      lsoa_changes: lsoa_changes
      boundaries: [boundaries]
      postcodes: postcodes
      population: {2021: population_census2021, 2011: population_mye2020}
    """
)


def _write(tmp_path, text: str):
    path = tmp_path / "partnership.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_partnership_loads():
    partnership = load_partnership(CONF / "partnership.yml")
    assert partnership.name == "Gloucestershire Strategic Partnership"
    assert partnership.areas == ("E10000013",)
    assert partnership.chapters == "district"
    assert partnership.comparators == ("parent", "england")
    assert (partnership.disclosure_rule, partnership.audiences) == ("nhs_digital", ("public",))
    assert partnership.residents == DatasetRole("population_census2021", "usual_residents")
    assert partnership.deprivation == DatasetRole("iod2025_scores")
    assert partnership.reference.lookups == ("lookups_2021", "lookups_2011")
    assert partnership.reference.population == {2021: "population_census2021", 2011: "population_mye2020"}
    assert partnership.reference.ids == (
        "lookups_2021",
        "lookups_2011",
        "lsoa_changes",
        "boundaries",
        "postcodes",
        "population_census2021",
        "population_mye2020",
    )
    assert partnership.source == str(CONF / "partnership.yml")
    described = partnership.describe()
    assert described["areas"] == ["E10000013"] and described["disclosure_rule"] == "nhs_digital"
    assert described["residents"] == {"dataset": "population_census2021", "measure": "usual_residents"}


def test_a_valid_file_and_its_defaults(tmp_path):
    assert load_partnership(_write(tmp_path, VALID)).name == "Test Partnership"
    minimal = load_partnership(_write(tmp_path, "name: Small\narea: E06000025\n"))
    assert minimal.areas == ("E06000025",)  # one code may be given without a list
    assert minimal.chapters is None and minimal.vintage == 2021
    assert minimal.comparators == ("parent", "england")
    assert (minimal.disclosure_rule, minimal.audiences) == ("nhs_digital", ("public",))
    assert minimal.reference == ReferenceNames()
    assert minimal.residents == Partnership.residents
    several = load_partnership(
        _write(tmp_path, VALID.replace("chapters: district", "chapters: [E07000078, E07000081]"))
    )
    assert several.chapters == ("E07000078", "E07000081")
    assert several.describe()["chapters"] == ["E07000078", "E07000081"]
    partner = load_partnership(
        _write(tmp_path, VALID.replace("audiences: [public]", "audiences: [public, partner]"))
    )
    assert partner.audiences == ("public", "partner")
    one = parse_partnership({"name": "x", "area": ["E10000013"], "reference": {"lookups": "lookups_2021"}})
    assert one.reference.lookups == ("lookups_2021",)


@pytest.mark.parametrize(
    ("old", "new", "message", "key", "line"),
    [
        ("name: Test Partnership", "name: '  '", "the partnership needs a name", "name", 1),
        ("name: Test Partnership", "name: [a, b]", "'name' has the wrong type", "name", 1),
        ("area: [E10000013]", "area: [Gloucestershire]", "is not a list of ONS area codes", "area", 2),
        ("area: [E10000013]", "area: []", "is not a list of ONS area codes", "area", 2),
        ("area: [E10000013]", "area: 10000013", "'area' has the wrong type", "area", 2),
        ("chapters: district", "chapters: parish", "is not a level", "chapters", 3),
        ("chapters: district", "chapters: [1, '']", "is not a list of area codes", "chapters", 3),
        (
            "comparators: [parent, england]",
            "comparators: [parent, nation]",
            "unknown comparator",
            "comparators",
            4,
        ),
        ("comparators: [parent, england]", "comparators: []", "unknown comparator", "comparators", 4),
        (
            "comparators: [parent, england]",
            "comparators: england",
            "'comparators' has the wrong type",
            "comparators",
            4,
        ),
        ("vintage: 2021", "vintage: 2001", "'vintage' is not a known value", "vintage", 5),
        ("  rule: nhs_digital", "  rule: secret", "'rule' is not a known value", "disclosure.rule", 7),
        ("  audiences: [public]", "  audiences: [press]", "unknown audience", "disclosure.audiences", 8),
        (
            "  audiences: [public]",
            "  audience: [public]",
            r"unknown key \['audience'\]",
            "disclosure.audience",
            8,
        ),
        (
            "residents: {dataset: population_census2021, measure: usual_residents}",
            "residents: population",
            "needs a dataset and a measure",
            "residents",
            9,
        ),
        (
            "residents: {dataset: population_census2021, measure: usual_residents}",
            "residents: {dataset: population}",
            "missing required key 'measure'",
            "residents",
            9,
        ),
        (
            "deprivation: {dataset: iod2025_scores}",
            "deprivation: {dataset: iod, colour: red}",
            r"unknown key \['colour'\]",
            "deprivation.colour",
            10,
        ),
        (
            "deprivation: {dataset: iod2025_scores}",
            "deprivation: {dataset: 5}",
            "'dataset' has the wrong type",
            "deprivation.dataset",
            10,
        ),
        (
            "  lookups: [lookups_2021, lookups_2011]",
            "  lookups: [lookups_2021, 7]",
            "is not a list of catalogue entry ids",
            "reference.lookups",
            12,
        ),
        (
            "  lsoa_changes: lsoa_changes",
            "  lsoa_changes: [a, b]",
            "'lsoa_changes' has the wrong type",
            "reference.lsoa_changes",
            13,
        ),
        (
            "  boundaries: [boundaries]",
            "  boundaries: {a: b}",
            "is not a list of catalogue entry ids",
            "reference.boundaries",
            14,
        ),
        (
            "  postcodes: postcodes",
            "  postcode: postcodes",
            r"unknown key \['postcode'\]",
            "reference.postcode",
            15,
        ),
        (
            "  population: {2021: population_census2021, 2011: population_mye2020}",
            "  population: {2001: census}",
            "population weights are named by LSOA vintage",
            "reference.population",
            16,
        ),
        (
            "  population: {2021: population_census2021, 2011: population_mye2020}",
            "  population: [census]",
            "'population' has the wrong type",
            "reference.population",
            16,
        ),
        ("disclosure:\n", "disclosure: public\nx:\n", "'disclosure' has the wrong type", "disclosure", 6),
        (
            "name: Test Partnership",
            "name: Test Partnership\ncolour: red",
            r"unknown key \['colour'\]",
            "colour",
            2,
        ),
    ],
)
def test_every_malformed_key_names_file_key_and_line(tmp_path, old, new, message, key, line):
    assert old in VALID
    path = _write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(CatalogError, match=message) as info:
        load_partnership(path)
    text = str(info.value)
    assert str(path) in text, text
    assert key in text and f"(line {line})" in text, text
    assert text.count("(line ") == 1, text  # one line number, not repeated


def test_missing_keys_and_files(tmp_path):
    with pytest.raises(CatalogError, match="missing required key 'area'") as info:
        load_partnership(_write(tmp_path, "name: x\n"))
    assert "(line 1)" in str(info.value)
    with pytest.raises(CatalogError, match="missing required key 'name'"):
        load_partnership(_write(tmp_path, "area: [E10000013]\n"))
    with pytest.raises(CatalogError, match="partnership file not found") as info:
        load_partnership(tmp_path / "nope.yml")
    assert "needskit init" in str(info.value)
    with pytest.raises(CatalogError, match="is not a mapping"):
        load_partnership(_write(tmp_path, "- name: x\n"))
    with pytest.raises(CatalogError, match="is not valid YAML") as info:
        load_partnership(_write(tmp_path, "name: x\narea: [E10000013\n"))
    assert "line 3, column 1" in str(info.value)
