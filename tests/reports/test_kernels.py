"""Kernels forked from a warm template: a new process per report, imports already done, nothing of
one report left in the next, and the ordinary start when forking is switched off."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from needskit.reports import kernels
from needskit.reports.run import kernel_for_reports

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="kernels are forked only where fork exists")


@pytest.fixture(autouse=True)
def _absolute_path(monkeypatch):
    """Templates and kernels start in the report's folder: a relative PYTHONPATH (``src``) would
    name another folder there, for them as for any kernel."""
    paths = [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    kernels.stop_templates()
    yield
    kernels.stop_templates()


def _run(*sources: str) -> tuple[nbformat.NotebookNode, NotebookClient]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    client = NotebookClient(
        nb,
        kernel_name=kernel_for_reports(),
        kernel_manager_class=kernels.ForkingKernelManager,
        timeout=120,
        shutdown_kernel="graceful",
    )
    client.execute()
    return nb, client


def _text(cell) -> str:
    return "".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)


def test_launcher_index_finds_ipykernel_launcher():
    assert (
        kernels._launcher_index(["/py", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "c"]) == 3
    )
    assert kernels._launcher_index(["/py", "-m", "ipykernel_launcher", "-f", "c"]) == 2
    assert kernels._launcher_index(["/py", "-m", "other_kernel", "-f", "c"]) is None
    assert kernels._launcher_index(["/bin/R", "--slave", "-e", "IRkernel::main()"]) is None


def test_interpreter_of_a_python_kernel_is_its_command_before_m():
    interpreter = kernels.interpreter_of(kernel_for_reports())
    assert interpreter is not None and os.path.isabs(interpreter[0])
    assert "-m" not in interpreter
    assert kernels.interpreter_of("no-such-kernel-needskit") is None


def test_each_report_gets_a_new_warm_kernel_with_nothing_of_the_last(tmp_path, monkeypatch):
    monkeypatch.setenv(kernels.ENV_SWITCH, "1")
    monkeypatch.chdir(tmp_path)
    probe = (
        "import os, sys\n"
        "print(os.getpid(), 'needskit.reports.needs_profile' in sys.modules, os.getcwd(), "
        "'leak' in globals(), os.environ.get('NEEDSKIT_PROBE'))"
    )
    monkeypatch.setenv("NEEDSKIT_PROBE", "first")
    first, client = _run(probe, "leak = 1\nimport needskit.reports.maps as maps\nmaps.__name__")
    assert client.km is None or not client.km.has_kernel  # shut down after the notebook
    monkeypatch.setenv(
        "NEEDSKIT_PROBE", "second"
    )  # the kernel's environment is the report's, not the template's
    second, _ = _run(probe)
    pid1, warm1, cwd1, leak1, env1 = _text(first.cells[0]).split()
    pid2, warm2, cwd2, leak2, env2 = _text(second.cells[0]).split()
    assert pid1 != pid2 and pid1 != str(os.getpid())
    assert warm1 == warm2 == "True"  # imported by the template, before the first cell
    assert cwd1 == cwd2 == str(tmp_path)
    assert leak1 == leak2 == "False"  # the second kernel never saw the first one's variables
    assert (env1, env2) == ("first", "second")
    assert "needskit.reports.maps" in _text(first.cells[1])
    assert first.cells[0].execution_count == 1  # the template's imports are not a cell of the notebook


def test_a_forked_kernel_is_gone_after_the_report(monkeypatch):
    monkeypatch.setenv(kernels.ENV_SWITCH, "1")
    nb, _ = _run("import os\nprint(os.getpid())")
    pid = int(_text(nb.cells[0]).strip())
    process = kernels._Forked(pid)
    assert process.wait(timeout=30) == 0


def test_switched_off_the_kernel_is_started_the_ordinary_way(monkeypatch):
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")
    assert not kernels.fork_enabled()
    nb, _ = _run("import sys\nprint('needskit.reports.needs_profile' in sys.modules)")
    assert _text(nb.cells[0]).strip() == "False"  # a cold kernel imported nothing of needskit's


def test_a_template_that_is_gone_falls_back_to_an_ordinary_kernel(monkeypatch):
    monkeypatch.setenv(kernels.ENV_SWITCH, "1")
    interpreter = kernels.interpreter_of(kernel_for_reports())
    assert interpreter is not None
    template = kernels.template_for(interpreter)
    template._process.kill()
    template._process.wait()
    with pytest.raises(OSError, match="not running"):
        template.fork([*interpreter, "-m", "ipykernel_launcher", "-f", "x.json"], env={}, cwd=".")
    nb, _ = _run("print(6 * 7)")  # a new template is started for the next report
    assert _text(nb.cells[0]).strip() == "42"


def test_a_template_with_a_thread_refuses_to_fork(tmp_path, monkeypatch):
    # a module whose import starts a thread (as a library with a background pool might): forking
    # then could copy a lock another thread holds, so the template says no and the report starts
    # an ordinary kernel instead
    (tmp_path / "starts_a_thread.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    interpreter = kernels.interpreter_of(kernel_for_reports())
    assert interpreter is not None
    template = kernels.KernelTemplate(interpreter, modules=["starts_a_thread"])
    try:
        with pytest.raises(OSError, match="2 threads"):
            template.fork([*interpreter, "-m", "ipykernel_launcher", "-f", "x.json"], env={}, cwd=".")
    finally:
        template.stop()
