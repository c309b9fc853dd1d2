"""Notebook execution with nbval is wired into the test suite, and it really catches failures.

The notebooks themselves are executed by nbval, configured in pyproject.toml's
``[tool.pytest.ini_options]``: ``notebooks`` is a test path and ``--nbval-lax
--nbval-current-env --nbval-cell-timeout=...`` are default options, so plain
``python -m pytest`` runs every cell of every notebook (outputs are not compared; stripped
notebooks have nothing to compare) in this environment's kernel, under the offline guard.
tests/conftest.py marks those cells ``slow``.

These tests check that wiring by its behaviour: plain ``pytest`` collects every notebook cell
and marks it slow, a single test file does not drag the notebooks in, nbval under this
configuration runs cells in this environment without comparing outputs and fails on an error
and on a hanging cell, and the solution notebooks run in strict mode (``COURSE_STRICT_CHECKS=1``,
set by tests/conftest.py for nbval's kernels): a wrong solution fails its checker cell.
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest

from course_utils.cli.notebooks import course_notebooks
from course_utils.paths import REPO_ROOT


def run_pytest(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout,
    )


@pytest.mark.process
def test_a_single_test_file_does_not_collect_the_notebooks():
    result = run_pytest("--collect-only", "-q", "tests/test_checks_core.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ".ipynb" not in result.stdout
    assert "test_checks_core.py::" in result.stdout


@pytest.mark.process
@pytest.mark.skipif(not course_notebooks(), reason="no notebooks in notebooks/ yet")
def test_plain_pytest_collects_every_notebook_cell_by_cell_and_marks_it_slow():
    slow = run_pytest("--collect-only", "-q", "-m", "slow")  # no paths: pyproject's testpaths
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
    this_environment = f"import sys; assert sys.prefix == {sys.prefix!r}, sys.prefix"
    cells = {
        "good": [this_environment, "print(1 + 1)"],
        "error": ["x = 1", "raise ValueError('the demo cell is broken')", "print('after')"],
        "hang": ["import time", "time.sleep(60)"],
    }
    for name, sources in cells.items():
        notebook = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(s) for s in sources],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}},
        )
        if name == "good":  # a stale stored output: lax mode must not compare it
            notebook.cells[1].execution_count = 1
            notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="3\n")]
        nbformat.write(notebook, tmp_path / f"{name}.ipynb")
    result = run_pytest("--rootdir", str(REPO_ROOT), "-c", str(REPO_ROOT / "pyproject.toml"),
                        "--nbval-cell-timeout=5", "-q", str(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "the demo cell is broken" in output and "Timeout of 5 seconds exceeded" in output
    assert "FAILED error.ipynb::Cell 1" in output and "FAILED hang.ipynb::Cell 1" in output
    assert "2 failed" in output, output


def first_exercise(notebook: nbformat.NotebookNode) -> tuple[int, int, int] | None:
    """(stub, solution, checker) cell positions of the notebook's first exercise, or None."""
    for index, cell in enumerate(notebook.cells):
        # the solution's code cell (its "#### Solution" heading is tagged too, but markdown)
        if "solution" in cell.metadata.get("tags", []) and cell.cell_type == "code":
            code = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
            stub = max(i for i in code if i < index)
            checker = min(i for i in code if i > index)
            return stub, index, checker
    return None


@pytest.mark.slow
def test_a_wrong_solution_fails_the_strict_solutions_run(tmp_path):
    """The solutions run is strict: leaving a solution wrong (here: the stub's placeholder)
    makes its checker cell fail, and only that cell (the cells before it, setup included,
    pass; the real solution passes in the full run's strict execution of the notebook)."""
    found = [(path, nb, first_exercise(nb)) for path in course_notebooks()
             for nb in [nbformat.read(path, as_version=4)] if first_exercise(nb)]
    if not found:
        pytest.skip("no notebook with an exercise yet")
    path, notebook, (stub, solution, checker) = found[0]
    notebook.cells = notebook.cells[:checker + 1]  # up to the first checker call
    notebook.cells[solution].source = notebook.cells[stub].source
    nbformat.write(notebook, tmp_path / "wrong.ipynb")
    # tests/offline_guard (no tests in it) makes pytest load tests/conftest.py, as `make test`
    result = run_pytest("-q", "tests/offline_guard", str(tmp_path), timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    failed = re.findall(r"^FAILED (\S+::Cell \d+)", output, re.MULTILINE)
    assert len(failed) == 1 and "wrong.ipynb::" in failed[0], output
    assert "StrictCheckError" in output and "Not yet" in output, output
    last = sum(c.cell_type == "code" for c in notebook.cells) - 1
    assert failed[0].endswith(f"::Cell {last}"), (
        f"{path.name}: the checker cell (the last one) should be the one that fails:\n{output}")
