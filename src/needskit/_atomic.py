"""Whole-folder atomic writes under a lock (the store's stages and the report folders).

A writer builds the new folder beside the old one (``.<name>.tmp-<id>``), puts it in place with
one atomic exchange of the two folders (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two
renames, and a crash between them is undone by the next writer), then removes the old one. A
crash therefore leaves the old folder or the new one, complete, never a mixture. Writers of the
same folder are serialised by an ``fcntl`` lock on ``.<name>.lock`` beside it (outside the
folder, so that swapping the folder never swaps the lock); a second writer waits up to
``NEEDSKIT_LOCK_WAIT`` seconds (default 600) and then fails with one line.

Only :mod:`needskit.partner_data.store` and :mod:`needskit.reports.run` use this module.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from needskit.errors import NeedskitError, StoreError

__all__ = [
    "LOCK_WAIT_ENV",
    "locked",
    "recover",
    "staged_folder",
    "swap_in",
    "link_tree",
    "scratch",
    "clean_scratch",
]

LOCK_WAIT_ENV = "NEEDSKIT_LOCK_WAIT"
"""Environment variable: seconds a run waits for another run writing the same folder (default 600)."""
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_OWNER = ".owner"


def lock_path(target: Path) -> Path:
    """The lock file of ``target``: ``.<name>.lock`` beside it."""
    return target.parent / f".{target.name}.lock"


@contextlib.contextmanager
def locked(
    target: Path,
    *,
    what: str = "folder",
    wait: float | None = None,
    error: type[NeedskitError] = StoreError,
) -> Iterator[None]:
    """Hold the exclusive lock of ``target`` (a folder that may not exist yet).

    Raises
    ------
    NeedskitError (``error``)
        Another run held the lock for longer than ``wait`` seconds (default ``NEEDSKIT_LOCK_WAIT``,
        else 600): one line naming the folder and the other run's process id.
    """
    if wait is None:
        try:
            wait = float(os.environ.get(LOCK_WAIT_ENV, "600"))
        except ValueError:
            wait = 600.0
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                    raise error(
                        f"another needskit run is writing this {what}",
                        where=str(target),
                        expected="one run at a time",
                        got=f"locked by process {holder} (lock file {path.name}) for over {wait:g} s",
                        hint=f"wait for it to finish and run again, or set {LOCK_WAIT_ENV} to wait longer",
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step; False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def swap_in(new: Path, target: Path) -> None:
    """Put the folder ``new`` (a sibling of ``target``) in place of ``target``, atomically, and
    remove the old folder. Call it holding :func:`locked` of ``target``."""
    if not target.exists():
        os.replace(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # now the old folder
        return
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    os.replace(target, old)
    os.replace(new, target)  # a crash before this line is undone by recover()
    shutil.rmtree(old, ignore_errors=True)


def recover(target: Path) -> None:
    """Undo a swap a crash interrupted (the old folder back when ``target`` is gone) and remove
    stale temporary folders beside ``target``. Call it holding :func:`locked` of ``target``."""
    parent = target.parent
    if not parent.is_dir():
        return
    olds = sorted(parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not target.exists() and olds:
        os.replace(olds.pop(), target)
    for stale in [*olds, *parent.glob(f".{target.name}.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def link_tree(source: Path, destination: Path) -> None:
    """Copy a file or folder by hard links (copies where links are impossible). The writer never
    writes into a linked file: it writes new files and the swap drops the old folder."""
    if source.is_dir():
        shutil.copytree(source, destination, copy_function=_link_or_copy, symlinks=True)
    else:
        _link_or_copy(str(source), str(destination))


@contextlib.contextmanager
def staged_folder(target: Path, *, keep: Callable[[str], bool] = lambda _name: True) -> Iterator[Path]:
    """Yield a new folder beside ``target`` holding links to the entries of ``target`` that
    ``keep(name)`` accepts; on success it replaces ``target`` atomically, on failure it is removed
    and ``target`` is untouched. Call it holding :func:`locked` of ``target``."""
    recover(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    new = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    new.mkdir()
    try:
        if target.is_dir():
            for entry in sorted(target.iterdir()):
                if keep(entry.name):
                    link_tree(entry, new / entry.name)
        yield new
        swap_in(new, target)
    finally:
        if new.exists():
            shutil.rmtree(new, ignore_errors=True)


@contextlib.contextmanager
def scratch(parent: Path, name: str) -> Iterator[Path]:
    """A private working folder ``parent/<name>-<id>`` owned by this process while it runs (an
    ``fcntl`` lock on its ``.owner`` file), removed afterwards; :func:`clean_scratch` removes
    the folders of runs that died."""
    parent.mkdir(parents=True, exist_ok=True)
    clean_scratch(parent)
    folder = parent / f"{name}-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    fd = os.open(folder / _OWNER, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield folder
    finally:
        os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            parent.rmdir()


def clean_scratch(parent: Path, *, grace: float = 3600.0) -> list[Path]:
    """Remove the working folders under ``parent`` whose run is gone (their ``.owner`` lock is
    free, or they have none and are older than ``grace`` seconds); return what was removed."""
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for folder in parent.iterdir():
        if not folder.is_dir():
            continue
        owner = folder / _OWNER
        if owner.exists():
            try:
                fd = os.open(owner, os.O_RDWR)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live run
            finally:
                os.close(fd)
        elif time.time() - folder.stat().st_mtime < grace:
            continue  # being created, or made by an older version just now
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed
