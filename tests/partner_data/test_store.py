"""needskit.partner_data.store: the read API, atomic stage writes under a lock, and freshness."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time

import pandas as pd
import pytest

from needskit.errors import StoreError
from needskit.partner_data import stages
from needskit.partner_data.published_codes import AGREEMENT_COLUMNS
from needskit.partner_data.store import STORE_VERSION, Store, file_record
from needskit.pipeline import compute, pool, publish


def _snapshot(store: Store) -> dict[str, bytes]:
    """Every file of a store (except the lock) and its bytes."""
    return {
        p.relative_to(store.path).as_posix(): p.read_bytes()
        for p in sorted(store.path.rglob("*"))
        if p.is_file()
    }


def _leftovers(store: Store) -> list[str]:
    """Temporary and old folders of a store's writers left beside it."""
    parent = store.path.parent
    return sorted(p.name for p in parent.glob(f".{store.path.name}.*") if not p.name.endswith(".lock"))


# ---------------------------------------------------------------------------------- reading


def test_the_read_api(squares_built):
    store = Store(squares_built / "data" / "processed", root=squares_built)
    assert store.exists() and store.audience == "internal" and repr(store).startswith("Store(")
    manifest = store.manifest()
    assert (
        manifest["store_version"] == STORE_VERSION
        and manifest["partnership"]["name"] == "Squares Community Partnership"
    )
    assert set(manifest["stages"]) == {"pool", "indicators"}
    lsoa = store.read_profile(levels=["lsoa"])
    assert set(lsoa["level"]) == {"lsoa"} and set(lsoa["area_code"]) == {
        "E01999901",
        "E01999902",
        "E01999903",
        "E01999904",
    }
    crimes = store.read_profile(datasets=["crimes"])
    assert set(crimes["dataset"]) == {"crimes"} and len(store.read_profile()) > len(crimes)
    assert len(store.read_ledger()) == 10  # crimes in three months, seven datasets in one period
    agreement = store.read_agreement()  # the squares' points carry no published codes
    assert agreement.empty and list(agreement.columns) == AGREEMENT_COLUMNS
    assert store.read_hierarchy()["lsoa"].tolist() == ["E01999901", "E01999902", "E01999903", "E01999904"]
    members = store.read_place_members()
    assert set(members["lsoa_code"]) == {"E01999901", "E01999902"} and set(members["level"]) == {
        "squares places"
    }
    assert store.area_levels() == ["lsoa", "msoa", "ward", "district", "county", "places"]
    wards = store.read_areas("ward")
    assert set(wards["area_name"]) == {"West Ward", "East Ward"}
    with pytest.raises(StoreError, match="has no region boundaries") as info:
        store.read_areas("region")
    assert "reference.boundaries" in str(info.value)
    assert len(store.read_centres()) == 4
    services = store.read_register("services")
    assert services["service_id"].tolist() == ["S1", "S2", "S3"]
    assert store.read_register("spend").empty
    assert store.periods() == ["2024-Q1"]  # the analysis periods (quarters) of the time series
    table = store.period_table()
    assert table[["period", "first", "last", "months_present", "complete"]].values.tolist() == [
        ["2024-Q1", "2024-01", "2024-03", 3, True]
    ]
    assert store.period_kind() == "quarter"
    geography = store.geography()
    assert len(geography.hierarchy()) == 4 and geography.has_boundaries("ward")
    england = store.read_indicators(comparator="england", levels=["county"])
    assert set(england["comparator"]) == {"england"} and set(england["level"]) == {"county"}


def test_no_store_and_missing_stages_name_the_command(tmp_path, squares_ws):
    empty = Store(tmp_path / "nothing")
    assert not empty.exists()
    with pytest.raises(StoreError, match="no store here") as info:
        empty.read_profile()
    assert "`needskit run`" in str(info.value)
    with pytest.raises(StoreError, match="no store here"):
        empty.check_fresh()
    # a store that was pooled but never had its indicators computed
    ws = squares_ws
    ws.store = Store(ws.project.root / "data" / "fresh", root=ws.project.root)
    pool(ws, progress=False)
    with pytest.raises(StoreError, match="has no indicators stage") as info:
        ws.store.read_indicators()
    assert "run `needskit indicators` (or `needskit run`)" in str(info.value)
    with pytest.raises(StoreError, match="has no indicators stage"):
        ws.store.check_fresh()
    (ws.store.path / "profile.parquet").unlink()
    with pytest.raises(StoreError, match="is missing from the store") as info:
        ws.store.read_profile()
    assert "profile.parquet" in str(info.value)


def test_a_store_of_another_version_is_refused(squares_ws):
    store = squares_ws.store
    manifest = json.loads((store.path / "store.json").read_text())
    (store.path / "store.json").write_text(json.dumps({**manifest, "store_version": 0}))
    with pytest.raises(StoreError, match="was written by another version of needskit") as info:
        store.check_fresh()
    assert "store_version 1" in str(info.value) and "got 0" in str(info.value)


# ---------------------------------------------------------------------------------- atomic writes


def test_a_failing_transaction_leaves_the_previous_stage(squares_ws):
    store = squares_ws.store
    before = _snapshot(store)
    with pytest.raises(RuntimeError, match="disk full"):
        with store.transaction("pool") as tmp:
            assert tmp.parent == store.path.parent and tmp.name.startswith(".processed.tmp-")
            pd.DataFrame({"x": [1]}).to_parquet(tmp / "profile.parquet")
            (tmp / "store.json").write_text("{}")
            raise RuntimeError("disk full")
    assert _snapshot(store) == before
    assert not _leftovers(store)


def test_a_failing_stage_write_leaves_the_previous_stage(squares_ws, monkeypatch):
    ws = squares_ws
    before = _snapshot(ws.store)

    def broken(path, layers):
        raise OSError("no space left on device")

    monkeypatch.setattr(stages, "_write_gpkg", broken)  # fails after profile.parquet is written
    with pytest.raises(OSError, match="no space left"):
        pool(ws, progress=False)
    assert _snapshot(ws.store) == before
    monkeypatch.undo()
    with pytest.raises(KeyError):
        stages.write_indicators_stage(
            ws.store, pd.DataFrame({"x": [1]}), config_files=[], levels=["lsoa"], order=[]
        )
    assert _snapshot(ws.store) == before
    ws.store.check_fresh()  # still the complete, fresh store


def test_a_successful_stage_replaces_files_and_folders_and_writes_the_manifest_last(squares_ws):
    store = squares_ws.store
    finished = store.stage("pool")["finished"]
    with store.transaction("pool") as tmp:
        (tmp / "register").mkdir()
        (tmp / "register" / "spend.parquet").write_bytes(b"new")
        (tmp / "notes.txt").write_text("hello")
        store.write_manifest(tmp, store.updated_manifest("pool", {"rows": 0}, audience="internal"))
    assert [p.name for p in (store.path / "register").iterdir()] == [
        "spend.parquet"
    ]  # the folder was replaced
    assert (store.path / "notes.txt").read_text() == "hello"
    assert store.stage("pool")["finished"] > finished and store.stage("pool")["rows"] == 0
    assert "indicators" in store.manifest()["stages"]  # other stages are kept
    assert not _leftovers(store)


def test_writers_of_one_store_are_serialised_by_a_lock(tmp_path):
    store = Store(tmp_path / "store")
    events: list[str] = []
    with store.transaction("pool"):
        with open(store.lock_path, "w") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process could not write now

        def second() -> None:
            with store.transaction("indicators"):
                events.append("second writes")

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        events.append("first finishes")
    thread.join(timeout=10)
    assert events == ["first finishes", "second writes"]
    with open(store.lock_path, "w") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again


# ---------------------------------------------------------------------------------- freshness


def _assert_one_line(error: pytest.ExceptionInfo, *parts: str) -> None:
    message = str(error.value)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, (part, message)


def test_a_fresh_store_passes_and_touching_a_file_is_not_a_change(squares_ws):
    store = squares_ws.store
    store.check_fresh()
    crimes = squares_ws.project.raw / "partner" / "crimes.csv"
    crimes.write_bytes(crimes.read_bytes())  # a new time, the same content
    store.check_fresh()


def test_a_changed_input_is_named_with_the_command(squares_ws):
    crimes = squares_ws.project.raw / "partner" / "crimes.csv"
    crimes.write_text(crimes.read_text() + "extra,2024-03,394100,222500,Burglary\n")
    with pytest.raises(StoreError, match="is older than its inputs") as info:
        squares_ws.store.check_fresh()
    _assert_one_line(
        info, "data/raw/partner/crimes.csv has changed since `needskit pool` ran", "run `needskit run`"
    )


def test_a_new_file_is_named(squares_ws):
    new = squares_ws.project.raw / "partner" / "crimes_2024-04.csv"
    new.write_text("crime_id,month,x,y,crime_type\n")
    with pytest.raises(StoreError) as info:
        squares_ws.store.check_fresh()
    _assert_one_line(
        info, "data/raw/partner/crimes_2024-04.csv is new since `needskit pool` ran", "`needskit run`"
    )


def test_a_gone_input_and_changed_config_are_named(squares_ws):
    conf = squares_ws.project.indicators_file
    conf.write_text(conf.read_text() + "\n# a comment\n")
    with pytest.raises(StoreError) as info:
        squares_ws.store.check_fresh()
    _assert_one_line(info, "conf/indicators.yml has changed since `needskit indicators` ran")
    squares_ws.project.places_file.write_text("places:\n  X: {lsoas: [E01999901]}\n")
    with pytest.raises(StoreError, match="conf/places.yml has changed since `needskit pool` ran"):
        squares_ws.store.check_fresh()
    (squares_ws.project.raw / "health" / "deaths_esp.csv").unlink()
    with pytest.raises(StoreError) as info:
        squares_ws.store.check_fresh()
    _assert_one_line(info, "data/raw/health/deaths_esp.csv is gone since `needskit pool` ran")


def test_indicators_of_an_earlier_pool_are_stale(squares_ws):
    pool(squares_ws, progress=False)
    with pytest.raises(StoreError, match="holds indicators of an earlier pool") as info:
        squares_ws.store.check_fresh()
    _assert_one_line(info, "run `needskit indicators` (or `needskit run`)")
    compute(squares_ws)
    squares_ws.store.check_fresh()


def test_a_published_store_is_fresh_while_the_internal_store_is_unchanged(squares_ws):
    ws = squares_ws
    published = ws.published("public")
    assert published.path == ws.project.root / "data" / "published" / "public"
    assert published.audience == "public"
    published.check_fresh(internal=ws.store)
    published.check_fresh()  # without the internal store there is nothing to compare
    pool(ws, progress=False)
    compute(ws)
    with pytest.raises(StoreError, match="is older than the internal store it was published from") as info:
        published.check_fresh(internal=ws.store)
    _assert_one_line(info, "run `needskit publish` (or `needskit run`)")
    publish(ws)
    published.check_fresh(internal=ws.store)


def test_stamps_tell_apart_stages_written_within_a_second(tmp_path):
    store = Store(tmp_path / "store")
    stamps = []
    for _ in range(3):
        with store.transaction("pool") as tmp:
            store.write_manifest(tmp, store.updated_manifest("pool", {}))
        stamps.append(store.stage("pool")["finished"])
    assert len(set(stamps)) == 3


def test_file_records(tmp_path):
    path = tmp_path / "data" / "x.csv"
    path.parent.mkdir()
    path.write_text("a\n1\n")
    record = file_record(path, root=tmp_path)
    assert record["file"] == "data/x.csv" and record["bytes"] == 4 and len(record["sha256"]) == 64
    assert file_record(path, root=tmp_path / "elsewhere")["file"] == path.resolve().as_posix()


def test_the_code_agreement_of_the_shipped_police_months(shipped_store):
    agreement = shipped_store.read_agreement()
    assert agreement["dataset"].unique().tolist() == ["police_street_crime"]
    assert len(agreement) == 42 and agreement["period"].iloc[[0, -1]].tolist() == ["2022-01", "2025-06"]
    assert agreement["rows_compared"].sum() == 204_527 and agreement["rows_agreeing"].sum() == 198_760
    assert (
        (agreement["rows_agreeing"] / agreement["rows_compared"]).round(9).equals(agreement["share"].round(9))
    )


class _Crash(BaseException):
    """A process killed mid-write: no exception handler and no clean-up runs."""


@pytest.mark.parametrize("at", [1, 2, 3])
def test_a_pool_killed_at_any_rename_leaves_the_old_store_complete(squares_ws, monkeypatch, at):
    import os
    import shutil

    from needskit import _atomic

    ws = squares_ws
    before = _snapshot(ws.store)
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == at:
            raise _Crash
        return real_replace(src, dst)

    # the portable path (two renames), where a crash can fall between them
    monkeypatch.setattr(_atomic, "_exchange", lambda a, b: False, raising=False)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(shutil, "rmtree", lambda *a, **k: None)  # killed: nothing is cleaned up
    try:
        pool(ws, progress=False)
        crashed = False
    except _Crash:
        crashed = True
    monkeypatch.undo()
    ws.store.manifest()  # reading the store finishes or undoes the swap a crash interrupted
    after = _snapshot(ws.store)
    # the old store, or the new one complete (a pool writes the same files again)
    assert after == before if crashed else set(after) == set(before)
    if crashed:
        ws.store.check_fresh()
    pool(ws, progress=False)  # the next run cleans what the killed one left
    assert not _leftovers(ws.store)
    assert set(_snapshot(ws.store)) == set(before)


def test_a_second_writer_fails_with_one_line_when_the_wait_runs_out(tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    monkeypatch.setenv("NEEDSKIT_LOCK_WAIT", "0")
    with store.transaction("pool"):
        with pytest.raises(StoreError, match="another needskit run is writing this store") as info:
            with store.transaction("indicators"):
                pass
    message = str(info.value)
    assert "\n" not in message and f"process {os.getpid()}" in message and "NEEDSKIT_LOCK_WAIT" in message
