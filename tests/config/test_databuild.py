"""needskit.config.databuild: conf/databuild.yml, what `needskit data build` writes into data/raw."""

from __future__ import annotations

import pytest

from needskit.config.databuild import BuildPlan, load_build_plan
from needskit.errors import CatalogError
from partner_files import CONF

VALID = """\
copy: [police/2024-01.csv.gz]
census_subsets: [census2021_ts011_household_deprivation_lsoa21]
subset_suffix: squareshire
boundaries:
  source: boundaries/source.gpkg
  detailed_2011_layer: lsoa11
  generalised_2021_layer: lsoa21
  target: boundaries/areas.gpkg
"""


def test_the_shipped_plan_loads():
    plan = load_build_plan(CONF / "databuild.yml")
    assert isinstance(plan, BuildPlan) and len(plan.copy) == 80 and len(plan.census_subsets) == 7
    police = [f for f in plan.copy if f.startswith("police/")]
    assert len(police) == 42 and police[0] == "police/2022-01-gloucestershire-street.csv.gz"  # ... 2025-06
    assert plan.subset_suffix == "gloucestershire"
    assert plan.boundaries_target == "boundaries/gloucestershire_areas.gpkg"
    assert plan.national_target == "national/england_areas_2021.gpkg"
    assert plan.retired_target == "lookups/retired_areas.csv.gz"


def test_national_and_retired_sections_need_both_keys(tmp_path):
    path = tmp_path / "databuild.yml"
    path.write_text(VALID + "national:\n  target: national/x.gpkg\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="national needs both lsoa_2021 and target"):
        load_build_plan(path)
    path.write_text(VALID + "retired:\n  source: lookups/oa.csv.gz\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="retired needs both source and target"):
        load_build_plan(path)
    path.write_text(
        VALID + "national:\n  lsoa_2021: a.gpkg\n  target: b.gpkg\n  extra: 1\n", encoding="utf-8"
    )
    with pytest.raises(CatalogError, match=r"unknown key \['extra'\]"):
        load_build_plan(path)


def test_a_small_plan(tmp_path):
    path = tmp_path / "databuild.yml"
    path.write_text(VALID, encoding="utf-8")
    plan = load_build_plan(path)
    assert plan.copy == ("police/2024-01.csv.gz",) and plan.detailed_2011_layer == "lsoa11"
    assert plan.source == str(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("copy: [police/2024-01.csv.gz]", "copy: [/abs/path.csv]", "is not a list of relative paths"),
        ("copy: [police/2024-01.csv.gz]", "copy: police.csv", "'copy' has the wrong type"),
        ("subset_suffix: squareshire\n", "", "missing required key 'subset_suffix'"),
        ("  target: boundaries/areas.gpkg\n", "", "missing required key 'target'"),
        ("  target: boundaries/areas.gpkg", "  target: x\n  layers: y", r"unknown key \['layers'\]"),
        ("subset_suffix: squareshire", "subset_suffix: squareshire\nextra: 1", r"unknown key \['extra'\]"),
    ],
)
def test_malformed_plans_are_named(tmp_path, old, new, message):
    path = tmp_path / "databuild.yml"
    path.write_text(VALID.replace(old, new), encoding="utf-8")
    with pytest.raises(CatalogError, match=message) as info:
        load_build_plan(path)
    assert str(path) in str(info.value) and "(line " in str(info.value)
