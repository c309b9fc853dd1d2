"""Shared fixtures and the suite-wide gates.

* Fixtures: the bundled model (loaded once per session), a few sentences, a private cache.
* Offline proof: at import time this file turns on the network guard in
  ``tests/offline_guard/`` for the pytest process and, through ``PYTHONPATH``, for every Python
  process the tests start (nbval and nbclient kernels, JupyterLab, ``python -m ...``). Any
  connection outside loopback is refused and logged; the session fails at the end, listing
  each attempt and who made it.
* Notebook cells collected by nbval (``notebooks/`` is in pyproject's testpaths) are marked
  ``slow``, and their kernels start in strict mode (``COURSE_STRICT_CHECKS=1``): these are the
  solution notebooks, so a checker that says "Not yet" there raises and fails the cell.
  Everything else (unit tests, the student-copy run) sees the friendly checkers.
* ``make test-fast`` runs ``-m "not slow and not process"``: a test that starts another
  process (a kernel, ``python -m``, JupyterLab, a browser) must be marked ``process`` (or
  ``slow``); an unmarked one that does fails, so the fast loop stays fast.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from course_utils.checks.core import STRICT_ENV

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# As cu.setup() does: UMAP's compiled code cached under the course cache (before numba loads).
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache"
                                             / "numba"))

GUARD_DIR = Path(__file__).resolve().parent / "offline_guard"
GUARD_LOG_ENV = "COURSE_OFFLINE_GUARD_LOG"
_created_log: Path | None = None  # the log this session made (removed at the end if empty)


def _load_guard_module():
    spec = importlib.util.spec_from_file_location(
        "course_offline_guard", GUARD_DIR / "course_offline_guard.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules.setdefault("course_offline_guard", module)  # tests import it by name
    return sys.modules["course_offline_guard"]


def _turn_on_offline_guard():
    """Guard this process and (via PYTHONPATH + sitecustomize) every child Python process.

    A pytest started by another test inherits the parent's log, so attempts reach the parent.
    """
    global _created_log
    if not os.environ.get(GUARD_LOG_ENV):
        handle, log_path = tempfile.mkstemp(prefix="course-offline-guard-", suffix=".jsonl")
        os.close(handle)
        os.environ[GUARD_LOG_ENV] = log_path
        _created_log = Path(log_path)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(GUARD_DIR) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(GUARD_DIR), *paths])
    guard = _load_guard_module()
    guard.install()
    return guard


offline_guard = _turn_on_offline_guard()
TRAINING_CACHE_ENV = "COURSE_TRAINING_CACHE"  # read by offline_guard/training_replay.py

#: Where this session keeps finished training runs (offline_guard/training_replay.py): notebook
#: kernels (nbval's, the student-copy run's, the browser tests') share it, so each notebook's
#: model is trained once per session although every notebook runs twice. Unit tests never see
#: it (``_unit_tests_always_train``), so the tests of training itself always train.
SUITE_TRAINING_CACHE = tempfile.mkdtemp(prefix="course-training-cache-")
os.environ[TRAINING_CACHE_ENV] = SUITE_TRAINING_CACHE


def notebook_kernel_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a notebook kernel or JupyterLab server the suite starts: with the shared
    training cache."""
    return {**env, TRAINING_CACHE_ENV: SUITE_TRAINING_CACHE}


@pytest.fixture(autouse=True)
def _unit_tests_always_train(monkeypatch):
    monkeypatch.delenv(TRAINING_CACHE_ENV, raising=False)


def guard_log_path() -> Path:
    return Path(os.environ[GUARD_LOG_ENV])


#: pytest-timeout's limit for one nbval cell is nbval's own --nbval-cell-timeout (set in
#: pyproject.toml) plus this margin, so a hanging cell is reported by nbval with its source
#: rather than killed blind by pytest-timeout.
NBVAL_TIMEOUT_MARGIN_S = 300


def pytest_collection_modifyitems(config, items):
    cell_timeout = config.getoption("nbval_cell_timeout", default=None)
    for item in items:
        if type(item).__name__ == "IPyNbCell":  # a notebook cell executed by nbval
            item.add_marker(pytest.mark.slow)
            if cell_timeout:
                item.add_marker(pytest.mark.timeout(int(cell_timeout) + NBVAL_TIMEOUT_MARGIN_S))
            start_kernel_in_strict_mode(item.parent)


@contextlib.contextmanager
def environment_variable(name: str, value: str):
    """Set ``name`` in this process's environment for the block, then restore it."""
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def start_kernel_in_strict_mode(notebook) -> None:
    """Make nbval start ``notebook``'s kernel with ``COURSE_STRICT_CHECKS=1``.

    nbval starts the kernel in the notebook item's ``setup()``; the kernel copies this
    process's environment then, so the variable is set only around that call (a conftest's
    ``pytest_runtest_setup`` would not be called for items outside ``tests/``).
    """
    if getattr(notebook, "_course_strict", False):
        return
    original_setup = notebook.setup

    def setup():
        with environment_variable(STRICT_ENV, "1"):
            original_setup()

    notebook.setup = setup
    notebook._course_strict = True


def pytest_sessionfinish(session, exitstatus):
    attempts = offline_guard.read_attempts(guard_log_path())
    if attempts and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    _report_browser_tests(terminalreporter)
    attempts = offline_guard.read_attempts(guard_log_path())
    if attempts:
        terminalreporter.section("offline guard: network access attempted", red=True)
        terminalreporter.write_line(
            f"{len(attempts)} connection attempt(s) outside loopback were refused during this "
            "run; the course must work offline. Find the code below and make it use local "
            "files (log: " + str(guard_log_path()) + "):"
        )
        terminalreporter.write_line(offline_guard.format_attempts(attempts))


def _report_browser_tests(terminalreporter) -> None:
    """One line per real-browser test with its outcome, so a CI log shows they ran."""
    lines = []
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            # a test's outcome is its call phase, or its setup phase when that did not pass
            counts = report.when == "call" or (report.when == "setup" and outcome != "passed")
            if counts and "browser" in getattr(report, "keywords", {}):
                lines.append(f"{outcome.upper()} {report.nodeid}")
    if lines:
        terminalreporter.section("real-browser tests (Chromium)")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_unconfigure(config):
    import shutil

    shutil.rmtree(SUITE_TRAINING_CACHE, ignore_errors=True)
    if _created_log is not None and not offline_guard.read_attempts(_created_log):
        _created_log.unlink(missing_ok=True)


#: Programs that make a test a ``process`` test: Python (kernels, ``python -m``, pip),
#: JupyterLab and browsers. Small system helpers a library may call (``fc-list``, ``ldconfig``)
#: do not count.
_HEAVY_PROGRAMS = ("python", "jupyter", "chrom", "node", "playwright")


def _is_heavy(args) -> bool:
    """Does this command (a Popen ``args``) start Python, Jupyter or a browser?"""
    if isinstance(args, (str, bytes, os.PathLike)):
        words = os.fsdecode(args).split()
    else:
        words = [os.fsdecode(word) for word in args]
    program = words[0] if words else ""
    name = Path(program).name.lower()
    return program == sys.executable or any(heavy in name for heavy in _HEAVY_PROGRAMS)


@pytest.fixture(autouse=True)
def _processes_only_in_marked_tests(request, monkeypatch):
    """Fail an unmarked test that starts a heavy process (``make test-fast`` must not)."""
    if request.node.get_closest_marker("process") or request.node.get_closest_marker("slow"):
        yield
        return
    started: list[str] = []
    execute_child = subprocess.Popen._execute_child

    def record(self, args, *rest, **kwargs):
        if _is_heavy(args):
            started.append(str(args)[:200])
        return execute_child(self, args, *rest, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "_execute_child", record)
    yield
    if started:
        pytest.fail(f"this test started {started[0]}; mark it @pytest.mark.process so that "
                    "`make test-fast` (no kernels or subprocesses) leaves it out.")


@pytest.fixture(scope="session")
def model():
    from course_utils.models import load_model
    from course_utils.notebook_setup import set_torch_threads

    set_torch_threads(2)
    return load_model()


@pytest.fixture()
def sentences():
    return [
        "The pasta arrived cold and the waiter never came back.",
        "Our table by the window had a lovely view and fresh bread.",
        "The battery died before lunch on the second day.",
        "This laptop boots in seconds and stays cool on my knees.",
    ]


@pytest.fixture()
def tmp_cache(tmp_path, monkeypatch):
    """A private cache folder so tests never touch the user's .cache/."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("COURSE_CACHE_DIR", str(folder))
    return folder
