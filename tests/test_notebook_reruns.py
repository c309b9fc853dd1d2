"""Re-run safety of the student copies: what a student actually runs, run twice.

For each notebook: remove the cells tagged ``solution`` (the student copy, as ``make student``
writes it), execute it top to bottom in a fresh kernel, then execute every code cell a second
time in the same kernel, as a student does when re-running cells. Any error fails the test
with the pass, the cell and the error. Exercise stubs are left blank, so checkers must answer
"Not yet" rather than crash, and later cells must not need a solution's variables.
"""

from __future__ import annotations

import nbformat
import pytest

from course_utils.notebook_tools import NOTEBOOK_DIR, course_notebooks, student_copy

NOTEBOOKS = course_notebooks()
# A hang, not a slow cell: the slowest cell (training, ~60 s on 2 idle cores) gets 10x headroom,
# because a busy or slow machine makes torch's threads fight (3-20x slower).
CELL_TIMEOUT_S = 1200
STARTUP_TIMEOUT_S = 120
NOTEBOOK_TIMEOUT_S = 3600  # pytest-timeout for one notebook run twice (the default is 600 s)


def describe_failure(pass_number: int, index: int, cell, error: BaseException) -> str:
    source = cell.source.strip()
    lines = source.splitlines()
    shown = "\n".join(lines[:25]) + (f"\n... ({len(lines) - 25} more lines)" if len(lines) > 25
                                     else "")
    stage = "first run" if pass_number == 1 else "re-run of every cell (same kernel)"
    detail = str(error).strip()
    if len(detail) > 4000:
        detail = "...\n" + detail[-4000:]
    return (
        f"{stage}: code cell {index} (tags {cell.metadata.get('tags', [])}) failed with "
        f"{type(error).__name__}.\n--- cell source ---\n{shown}\n--- error ---\n{detail}"
    )


def run_twice(notebook: nbformat.NotebookNode, *, timeout: int = CELL_TIMEOUT_S) -> list[str]:
    """Execute all code cells, then all of them again, in one kernel. Returns failures (<=1)."""
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook,
        timeout=timeout,
        startup_timeout=STARTUP_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    # nbclient imitates a frontend for ipywidgets' Output widget by sending comm messages to
    # the kernel while it reads the replies; with an Output widget that redraws a figure
    # (notebook 03's descent slider) that intermittently stalls a cell until the timeout
    # (observed in ~1 of 4 runs). Outputs are not checked here, so turn the imitation off.
    client.widget_registry = {}
    code_cells = [(i, c) for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    with client.setup_kernel():
        for pass_number in (1, 2):
            for index, cell in code_cells:
                try:
                    client.execute_cell(cell, index)
                except Exception as error:  # CellExecutionError, timeout, dead kernel ...
                    return [describe_failure(pass_number, index, cell, error)]
    return []


@pytest.mark.slow
@pytest.mark.timeout(NOTEBOOK_TIMEOUT_S)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_student_copy_runs_and_survives_a_rerun(path):
    notebook = student_copy(nbformat.read(path, as_version=4))
    failures = run_twice(notebook)
    assert not failures, f"{path.name} (student copy):\n{failures[0]}"


@pytest.mark.process
def test_the_harness_catches_errors_on_the_rerun():
    """A notebook that works once but not twice (a consumed iterator) must fail here."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("items = iter([1])"),
        nbformat.v4.new_code_cell("first = next(items)"),
        nbformat.v4.new_code_cell("print('solution')", metadata={"tags": ["solution"]}),
    ])
    copy = student_copy(notebook)
    assert len(copy.cells) == 2, "student_copy should drop the solution cell"
    copy.cells[0].source = "items = iter([1]) if 'items' not in globals() else items"
    failures = run_twice(copy, timeout=60)
    assert len(failures) == 1
    assert "re-run" in failures[0] and "StopIteration" in failures[0]
    assert "first = next(items)" in failures[0]
