"""Notebook execution with nbval is wired into the test suite, and it really catches failures.

The notebooks themselves are executed by nbval, configured in pyproject.toml's
``[tool.pytest.ini_options]``: ``notebooks`` is a test path and ``--nbval-lax
--nbval-current-env --nbval-cell-timeout=...`` are default options, so plain
``python -m pytest`` runs every cell of every notebook (outputs are not compared; stripped
notebooks have nothing to compare) in this environment's kernel, under the offline guard.
tests/conftest.py marks those cells ``slow``.

These tests check that wiring: the configuration, that a single test file does not drag the
notebooks in, that each notebook's cells are collected and marked slow, and that nbval under
this configuration fails on an error and on a hanging cell (so a green run means something).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib

import nbformat
import pytest

from course_utils.notebook_tools import course_notebooks
from course_utils.paths import REPO_ROOT


def pytest_options() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"]


def run_pytest(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout,
    )


def test_pytest_runs_the_notebooks_with_nbval_by_default():
    options = pytest_options()
    assert options["testpaths"] == ["tests", "notebooks"]
    addopts = shlex.split(options["addopts"])
    assert "--nbval-lax" in addopts and "--nbval-current-env" in addopts
    timeouts = [int(o.split("=")[1]) for o in addopts if o.startswith("--nbval-cell-timeout=")]
    assert timeouts and 0 < timeouts[0] <= 1200, "a per-cell timeout must catch hanging cells"
    assert "timeout" in options, "pytest-timeout must stop a hanging test too"


def test_a_single_test_file_does_not_collect_the_notebooks():
    result = run_pytest("--collect-only", "-q", "tests/test_checks_core.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ".ipynb" not in result.stdout
    assert "test_checks_core.py::" in result.stdout


@pytest.mark.skipif(not course_notebooks(), reason="no notebooks in notebooks/ yet")
def test_every_notebook_is_collected_cell_by_cell_and_marked_slow():
    slow = run_pytest("--collect-only", "-q", "-m", "slow", "tests/test_offline.py", "notebooks")
    assert slow.returncode == 0, slow.stdout + slow.stderr
    for path in course_notebooks():
        cells = sum(c.cell_type == "code" for c in nbformat.read(path, as_version=4).cells)
        collected = len(re.findall(rf"^notebooks/{re.escape(path.name)}::", slow.stdout,
                                   re.MULTILINE))
        assert collected == cells, f"{path.name}: {collected} cells collected, {cells} expected"
    fast = run_pytest("--collect-only", "-q", "-m", "not slow", "tests/test_offline.py",
                      "notebooks")
    assert ".ipynb::" not in fast.stdout, "notebook cells must be deselected by -m 'not slow'"


@pytest.mark.slow
def test_nbval_under_this_configuration_fails_on_errors_and_hangs(tmp_path):
    cells = {
        "good": ["x = 1", "print(x + 1)"],
        "error": ["x = 1", "raise ValueError('the demo cell is broken')", "print('after')"],
        "hang": ["import time", "time.sleep(60)"],
    }
    for name, sources in cells.items():
        notebook = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(s) for s in sources],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}},
        )
        nbformat.write(notebook, tmp_path / f"{name}.ipynb")
    result = run_pytest("--rootdir", str(REPO_ROOT), "-c", str(REPO_ROOT / "pyproject.toml"),
                        "--nbval-cell-timeout=5", "-q", str(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "the demo cell is broken" in output and "Timeout of 5 seconds exceeded" in output
    assert "FAILED error.ipynb::Cell 1" in output and "FAILED hang.ipynb::Cell 1" in output
    assert "2 failed" in output, output
