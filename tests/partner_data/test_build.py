"""needskit.partner_data.build: the raw-data build copies faithfully and never silently changes raw data."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from needskit.config.project import data_dir
from needskit.errors import DataError
from needskit.partner_data.build import build_raw


def test_manifest_matches_the_shipped_files():
    raw = data_dir() / "raw"
    manifest = pd.read_csv(raw / "MANIFEST.csv")
    assert manifest["file"].is_unique
    for row in manifest.itertuples():
        assert (raw / row.file).stat().st_size == row.bytes, row.file
    total = sum(p.stat().st_size for p in raw.rglob("*") if p.is_file())
    assert total < 40e6  # data/ stays under 40 MB


def test_copy_is_byte_identical_and_refuses_to_change_raw(tmp_path):
    source = data_dir() / "raw"
    relative = "police/2024-01-gloucestershire-street.csv.gz"
    dest = tmp_path / "raw"
    manifest = build_raw(source, dest, files=[relative])
    assert (dest / relative).read_bytes() == (source / relative).read_bytes()
    assert manifest["how"].tolist() == ["copied"]
    build_raw(source, dest, files=[relative])  # re-running is harmless
    (dest / relative).write_bytes(gzip.compress(b"changed"))
    with pytest.raises(DataError, match="never to be modified"):
        build_raw(source, dest, files=[relative])


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="source folder does not exist"):
        build_raw(tmp_path / "nope", tmp_path / "raw")
    (tmp_path / "src").mkdir()
    with pytest.raises(DataError, match="source file is missing"):
        build_raw(tmp_path / "src", tmp_path / "raw", files=["police/missing.csv.gz"])
