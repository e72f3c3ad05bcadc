"""needskit._atomic: whole-folder swaps under a lock, working folders of killed runs removed."""

from __future__ import annotations

import fcntl
import os

from needskit._atomic import clean_scratch, locked, recover, scratch, staged_folder


def test_a_staged_folder_replaces_the_old_one_or_leaves_it(tmp_path):
    target = tmp_path / "folder"
    target.mkdir()
    (target / "a.txt").write_text("old a")
    (target / "b.txt").write_text("old b")
    with locked(target), staged_folder(target, keep=lambda name: name != "a.txt") as new:
        assert sorted(p.name for p in new.iterdir()) == ["b.txt"]
        (new / "a.txt").write_text("new a")
    assert (target / "a.txt").read_text() == "new a" and (target / "b.txt").read_text() == "old b"
    try:
        with locked(target), staged_folder(target) as new:
            (new / "c.txt").write_text("half")
            raise RuntimeError("disk full")
    except RuntimeError:
        pass
    assert sorted(p.name for p in target.iterdir()) == ["a.txt", "b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".folder.lock", "folder"]


def test_recover_puts_back_the_old_folder_a_crash_moved_aside(tmp_path):
    target = tmp_path / "folder"
    old = tmp_path / ".folder.old-1234abcd"
    old.mkdir()
    (old / "a.txt").write_text("old")
    (tmp_path / ".folder.tmp-5678abcd").mkdir()  # the new folder, never swapped in
    recover(target)
    assert (target / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_working_folders_of_killed_runs_are_removed_and_live_ones_kept(tmp_path):
    dead = tmp_path / "E07000078-2025-H1-report-deadbeef"
    dead.mkdir()
    (dead / ".owner").write_text("")  # its run was killed: nobody holds the lock
    (dead / "report.html").write_text("half")
    with scratch(tmp_path, "E07000078-2025-H1-report") as live:
        assert not dead.exists() and live.is_dir()
        assert clean_scratch(tmp_path) == []  # this run is alive
        fd = os.open(live / ".owner", os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                raise AssertionError("the live run's lock was free")
            except BlockingIOError:
                pass
        finally:
            os.close(fd)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())
