"""needskit.partner_data.build: the raw-data build copies faithfully and never silently changes raw data."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pandas as pd
import pyogrio
import pytest

from needskit.config import load_partnership
from needskit.config.databuild import BuildPlan, load_build_plan
from needskit.config.project import sha256_file
from needskit.errors import DataError
from needskit.partner_data.build import build_raw
from partner_files import CONF, RAW, ROOT

SHARED = ROOT.parent / "shared" / "data" / "raw"
PLAN = load_build_plan(CONF / "databuild.yml")
AREAS = load_partnership(CONF / "partnership.yml").areas
POLICE = "police/2024-01-gloucestershire-street.csv.gz"


def _needs_shared() -> None:
    if not (SHARED / "PROVENANCE.md").exists():
        pytest.skip(
            f"the shared raw-data folder is not beside this checkout ({SHARED}); "
            "`needskit data build` needs it"
        )


def test_manifest_matches_the_shipped_files():
    manifest = pd.read_csv(RAW / "MANIFEST.csv")
    assert manifest["file"].is_unique
    for row in manifest.itertuples():
        assert (RAW / row.file).stat().st_size == row.bytes, row.file
        assert sha256_file(RAW / row.file) == row.sha256, row.file
    listed = set(manifest["file"]) | {"MANIFEST.csv"}
    plan_files = set(PLAN.copy) | {PLAN.boundaries_target, PLAN.national_target, PLAN.retired_target}
    assert plan_files <= listed
    total = sum(p.stat().st_size for p in RAW.rglob("*") if p.is_file())
    assert total < 110e6  # data/ stays under about 110 MB, the national backbone included


def test_copy_is_byte_identical_and_refuses_to_change_raw(tmp_path):
    dest = tmp_path / "raw"
    manifest = build_raw(RAW, dest, plan=PLAN, areas=AREAS, files=[POLICE])
    assert (dest / POLICE).read_bytes() == (RAW / POLICE).read_bytes()
    assert manifest["how"].tolist() == ["copied"] and manifest["sha256"].tolist() == [
        sha256_file(RAW / POLICE)
    ]
    assert not (dest / "MANIFEST.csv").exists()  # a partial build does not write the manifest
    build_raw(RAW, dest, plan=PLAN, areas=AREAS, files=[POLICE])  # re-running is harmless
    (dest / POLICE).write_bytes(gzip.compress(b"changed"))
    with pytest.raises(DataError, match="already exists with different content") as info:
        build_raw(RAW, dest, plan=PLAN, areas=AREAS, files=[POLICE])
    assert "never to be modified" in str(info.value) and "--overwrite" in str(info.value)
    assert gzip.decompress((dest / POLICE).read_bytes()) == b"changed"  # refused, not replaced
    assert not list(dest.rglob("*.tmp"))
    build_raw(RAW, dest, plan=PLAN, areas=AREAS, files=[POLICE], overwrite=True)  # deliberately
    assert (dest / POLICE).read_bytes() == (RAW / POLICE).read_bytes()


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="source folder does not exist") as info:
        build_raw(tmp_path / "nope", tmp_path / "raw", plan=PLAN, areas=AREAS)
    assert "--from ../shared/data/raw" in str(info.value)
    (tmp_path / "src").mkdir()
    with pytest.raises(DataError, match="source file is missing"):
        build_raw(tmp_path / "src", tmp_path / "raw", plan=PLAN, areas=AREAS, files=["police/missing.csv.gz"])
    with pytest.raises(DataError, match="source file is missing") as info:
        build_raw(tmp_path / "src", tmp_path / "raw", plan=PLAN, areas=AREAS)  # the plan's first copy
    assert PLAN.copy[0] in str(info.value)


def test_an_area_outside_the_shared_lookups_is_refused(tmp_path):
    _needs_shared()
    plan = BuildPlan(
        copy=(),
        census_subsets=(),
        subset_suffix="x",
        boundaries_source=PLAN.boundaries_source,
        detailed_2011_layer=PLAN.detailed_2011_layer,
        generalised_2021_layer=PLAN.generalised_2021_layer,
        boundaries_target="boundaries/x.gpkg",
    )
    with pytest.raises(DataError, match="no 2021 LSOA lies in the partnership's area"):
        build_raw(SHARED, tmp_path / "raw", plan=plan, areas=("E99999999",))


@pytest.mark.slow
def test_a_full_build_from_the_shared_folder_reproduces_the_shipped_raw_data(tmp_path):
    _needs_shared()
    dest = tmp_path / "raw"
    manifest = build_raw(SHARED, dest, plan=PLAN, areas=AREAS)
    shipped = pd.read_csv(RAW / "MANIFEST.csv").set_index("file")
    built = pd.read_csv(dest / "MANIFEST.csv").set_index("file")
    assert set(built.index) == set(shipped.index) == set(manifest["file"])
    kind = built["how"].str.split(":").str[0]  # copied, subset, constructed (the wording has changed since)
    assert (kind == shipped.loc[built.index, "how"].str.split(":").str[0]).all()
    differ = [f for f in built.index if built.loc[f, "sha256"] != shipped.loc[f, "sha256"]]
    # GeoPackages embed the time they were written
    assert sorted(differ) == sorted([PLAN.boundaries_target, PLAN.national_target])
    for target in (PLAN.boundaries_target, PLAN.national_target):
        for layer, _ in pyogrio.list_layers(RAW / target):
            ours = pyogrio.read_dataframe(dest / target, layer=layer)
            theirs = pyogrio.read_dataframe(RAW / target, layer=layer)
            assert ours["area_code"].tolist() == theirs["area_code"].tolist(), layer
            assert np.allclose(ours.geometry.area, theirs.geometry.area, rtol=1e-9), layer
    # building over the shipped raw data changes nothing, and is refused where it would
    copy = tmp_path / "shipped"
    shutil.copytree(RAW, copy)
    build_raw(SHARED, copy, plan=PLAN, areas=AREAS)
    again = pd.read_csv(copy / "MANIFEST.csv").set_index("file")["sha256"]
    assert again.to_dict() == shipped["sha256"].to_dict()  # the shipped GeoPackage was kept: its areas agree
    census = copy / f"census/{PLAN.census_subsets[0]}_{PLAN.subset_suffix}.csv.gz"
    census.write_bytes(gzip.compress(b"lsoa21_code,n\n"))
    with pytest.raises(DataError, match="already exists with different content"):
        build_raw(SHARED, copy, plan=PLAN, areas=AREAS)
