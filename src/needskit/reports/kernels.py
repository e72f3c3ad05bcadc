"""Report kernels forked from a warm template: a fresh kernel per report, never a cold one.

A report's kernel spends most of its first second or three importing pandas, geopandas, pyarrow,
matplotlib, scipy.stats and needskit's report modules, and that is paid again for every chapter
of a batch. Here a **template** process (``python -m needskit.reports.kernels``, started with the
kernel's own interpreter and flags) imports those modules once, while the report process does its
own checks; every report then gets a new kernel **forked** from it. The kernel is a new process
each time (no variable, cache or open file of one report reaches the next: the template never
runs report code, it only imports), started in milliseconds, with its imports already done.

:class:`ForkingKernelManager` is the jupyter_client kernel manager that does this (papermill and
nbclient use it as any other: ``kernel_manager_class=``). It forks only a kernel it can fork
faithfully: a Python kernel spec run as ``<python> [flags] -m ipykernel_launcher -f <file>`` by
the same interpreter; anything else (another language, a container, Windows, no ``fork``) is
started the ordinary way, as is every kernel when ``NEEDSKIT_FORK_KERNELS=0``.

The template runs no Python thread but its own when it forks (it refuses to fork otherwise: a lock
another thread held would stay held in the kernel). The native threads that imports start (the
OpenBLAS pool, Arrow's jemalloc background thread) are idle, and both libraries reset themselves in
a forked child (``pthread_atfork``).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

__all__ = [
    "WARM_MODULES",
    "ForkingKernelManager",
    "KernelTemplate",
    "fork_enabled",
    "template_for",
    "stop_templates",
]

WARM_MODULES: tuple[str, ...] = (
    "pandas",
    "pyarrow.parquet",
    "pyarrow.dataset",
    "geopandas",
    "shapely",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "PIL.PngImagePlugin",
    "scipy.stats",
    "needskit.reports",
    "needskit.reports.charts",
    "needskit.reports.maps",
    "needskit.reports.needs_profile",
    "needskit.reports.changes",
    "needskit.needs",
    "needskit.needs.statistics",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
)
"""What the template imports before it forks (a module that is missing is skipped). The report
modules a notebook calls and the libraries they need; a library only one part of one report
uses (folium for the HTML map, esda for hot spots) is left to be imported when used."""

ENV_SWITCH = "NEEDSKIT_FORK_KERNELS"


def fork_enabled() -> bool:
    """Whether kernels may be forked from a template (Unix with ``fork``; ``NEEDSKIT_FORK_KERNELS``
    not ``0``)."""
    return hasattr(os, "fork") and os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "no", "false")


def _launcher_index(cmd: Sequence[str]) -> int | None:
    """Index of ``ipykernel_launcher`` in ``<python> [flags] -m ipykernel_launcher ...``, else None."""
    for i in range(1, len(cmd) - 1):
        if cmd[i] == "-m" and cmd[i + 1] == "ipykernel_launcher":
            return i + 1
        if not cmd[i].startswith("-"):
            return None
    return None


# ------------------------------------------------------------------------------ the template (parent side)


class KernelTemplate:
    """A template process that imports :data:`WARM_MODULES` once and forks kernels on request.

    Parameters
    ----------
    interpreter
        The kernel spec's command up to ``-m`` (the Python and its flags).
    modules
        Modules to import before forking.
    """

    def __init__(self, interpreter: Sequence[str], modules: Sequence[str] = WARM_MODULES) -> None:
        self.interpreter = list(interpreter)
        env = dict(os.environ)
        env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel sets it
        self._process = subprocess.Popen(
            [*self.interpreter, "-m", "needskit.reports.kernels", *modules],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,  # stderr is ours, as an ordinary kernel's is
            start_new_session=True,  # a Ctrl-C in the terminal is for the report process
        )
        self._lock = threading.Lock()

    def alive(self) -> bool:
        return self._process.poll() is None

    def fork(self, cmd: Sequence[str], *, env: dict[str, str], cwd: str) -> int:
        """A new kernel running ``cmd``'s ipykernel arguments in ``cwd`` with ``env``; its pid.

        Raises
        ------
        OSError
            The template is gone or did not fork.
        """
        index = _launcher_index(cmd)
        if index is None:
            raise OSError(f"not an ipykernel command: {list(cmd)[:4]}")
        request = {"argv": ["ipykernel_launcher", *cmd[index + 1 :]], "env": env, "cwd": cwd}
        with self._lock:
            if not self.alive() or self._process.stdin is None or self._process.stdout is None:
                raise OSError("the kernel template is not running")
            self._process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            self._process.stdin.flush()
            answer = self._process.stdout.readline()
        if not answer:
            raise OSError("the kernel template ended")
        reply = json.loads(answer)
        if "pid" not in reply:
            raise OSError(f"the kernel template could not fork: {reply.get('error')}")
        return int(reply["pid"])

    def stop(self) -> None:
        """End the template at once (it holds nothing but imports; kernels it forked are their own
        sessions and end with their reports)."""
        if self.alive():
            self._process.kill()
        self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()


_TEMPLATES: dict[tuple[str, ...], KernelTemplate] = {}
_TEMPLATES_LOCK = threading.Lock()


def template_for(interpreter: Sequence[str]) -> KernelTemplate:
    """The process's template for ``interpreter`` (started now if there is none or it died). Start it
    early (before a report's own checks) so its imports overlap them."""
    key = tuple(interpreter)
    with _TEMPLATES_LOCK:
        template = _TEMPLATES.get(key)
        if template is None or not template.alive():
            if not _TEMPLATES:
                atexit.register(stop_templates)
            template = _TEMPLATES[key] = KernelTemplate(interpreter)
        return template


def stop_templates() -> None:
    """Stop every template of this process (also done at exit)."""
    with _TEMPLATES_LOCK:
        for template in _TEMPLATES.values():
            template.stop()
        _TEMPLATES.clear()


def interpreter_of(kernel_name: str) -> list[str] | None:
    """The command up to ``-m ipykernel_launcher`` of kernel ``kernel_name``, if it is a Python kernel
    this module can fork (the spec's Python can import needskit), else None."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        return None
    argv = list(spec.argv)
    index = _launcher_index(argv)
    custom = bool(spec.env) or bool(spec.metadata.get("kernel_provisioner"))
    if index is None or spec.language.lower() != "python" or custom:
        return None
    python = argv[0]
    if os.path.basename(python).startswith("python") and not os.path.isabs(python):
        python = shutil.which(python) or python
    return [python, *argv[1 : index - 1]]


# ------------------------------------------------------------------------------ jupyter_client side


class _Forked:
    """The ``Popen`` face of a kernel forked by a template (whose process reaps it)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0  # reaped by the template; its status is not ours to read
            except PermissionError:  # pragma: no cover - the pid was reused by another user
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkProvisioner(LocalProvisioner):
    """Launches the kernel by forking the template of its interpreter; falls back to ``Popen``."""

    forked = False

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        interpreter = None
        index = _launcher_index(cmd)
        if index is not None:
            interpreter = cmd[: index - 1]
        if interpreter is None or not fork_enabled():
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        template = template_for(interpreter)
        try:
            pid = await asyncio.get_running_loop().run_in_executor(
                None, lambda: template.fork(cmd, env=env, cwd=cwd)
            )
        except OSError:
            return await super().launch_kernel(cmd, **kwargs)  # an ordinary kernel, never none
        self.process = _Forked(pid)  # type: ignore[assignment]
        self.pid = self.pgid = pid  # the kernel leads its own session, as Popen's would
        self.cwd = cwd
        self.forked = True
        return self.connection_info


class ForkingKernelManager(AsyncKernelManager):
    """An :class:`~jupyter_client.AsyncKernelManager` whose kernels are forked from a warm template
    (:class:`ForkProvisioner`)."""

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None:
            import uuid

            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)


# ------------------------------------------------------------------------------ the template (its own side)


def _serve(modules: Sequence[str]) -> None:  # pragma: no cover - runs in the template process
    import importlib

    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher does; the kernel's shell puts its own cwd back
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that will not import is the kernel's to report
            pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped as they end
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    for line in requests:
        try:
            request = json.loads(line)
            threads = threading.active_count()
            if threads > 1:  # a lock another Python thread holds would stay held in the child forever
                raise RuntimeError(f"the template has {threads} threads; a kernel is started instead")
            pid = os.fork()
        except Exception as exc:  # noqa: BLE001 - told to the report process, which starts a kernel itself
            replies.write((json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n").encode())
            replies.flush()
            continue
        if pid == 0:
            _become_kernel(request, requests.fileno(), replies.fileno())
        replies.write((json.dumps({"pid": pid}) + "\n").encode())
        replies.flush()


def _become_kernel(request: dict[str, Any], *pipes: int) -> None:  # pragma: no cover - forked child
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)  # as Popen's kernel: its output goes to iopub, not to a pipe of ours
        for fd in (null, *pipes):
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    _serve(sys.argv[1:])
