"""The student copies: what a student actually runs, run once and then re-run cell by cell.

For each notebook: remove the cells tagged ``solution`` (the student copy, as ``make student``
writes it) and execute it top to bottom in a fresh kernel in friendly mode (no
``COURSE_STRICT_CHECKS``). Every exercise checker must then answer "Not yet" to the stub the
student starts with (the placeholder is rejected, without an exception), and no later cell may
need a solution's variables.

Then, in the same kernel, every code cell is executed a second time, as a student does when
re-running cells. This re-run pass is where re-run safety is proven, and it is bounded so the
whole suite executes each notebook at most twice (nbval's strict solutions run, and this one):
each cell gets at most ``RERUN_BUDGET_S`` seconds. A cell that finishes within it is re-run
completely; a longer one (training) is stopped there, as a student pressing the stop button
would, and counts as having survived its re-run start: the errors a re-run meets (a consumed
iterator, a name defined later, a model trained in place, a changed shape) show up before the
long loop. Later cells then see the state the first run left. Any error fails the test with
the pass, the cell and the error.
"""

from __future__ import annotations

import os
import textwrap

import nbformat
import pytest
from conftest import notebook_kernel_env

from course_utils.checks.core import STRICT_ENV
from course_utils.cli.notebooks import (
    NOTEBOOK_DIR,
    SOLUTION_TAG,
    course_notebooks,
    notebook_client,
    student_copy,
)

NOTEBOOKS = course_notebooks()
# A hang, not a slow cell: the slowest cell (training, ~60 s on 2 idle cores) gets 10x headroom,
# because a busy or slow machine makes torch's threads fight (3-20x slower).
CELL_TIMEOUT_S = 1200
STARTUP_TIMEOUT_S = 120
NOTEBOOK_TIMEOUT_S = 3600  # pytest-timeout for one notebook (the default is 600 s)
#: Seconds each cell may run in the re-run pass before it is stopped (see the module docstring).
RERUN_BUDGET_S: float | None = 10
BUDGET_ERROR = "RerunBudgetReached"

#: Run once in the kernel before the re-run pass: a SIGALRM handler that stops the running cell
#: as the stop button does, with a KeyboardInterrupt (library code catching Exception cannot
#: swallow it; IPython's event callbacks catch it instead of dying), armed by IPython's
#: pre_run_cell event and disarmed first thing in post_execute (before matplotlib draws the
#: cell's figures) and again in post_run_cell. Outside a cell an alarm does nothing.
_BUDGET_SETUP = textwrap.dedent(f"""
    def _course_rerun_budget(seconds):
        import signal
        from IPython import get_ipython

        class {BUDGET_ERROR}(KeyboardInterrupt):
            pass

        running = [False]

        def alarm(signum, frame):
            if running[0]:
                running[0] = False
                raise {BUDGET_ERROR}(f"stopped after {{seconds}} s (the re-run budget)")

        def arm(info):
            running[0] = True
            signal.setitimer(signal.ITIMER_REAL, seconds)

        def disarm(result):
            running[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)

        signal.signal(signal.SIGALRM, alarm)
        events = get_ipython().events
        events.register("pre_run_cell", arm)
        events.callbacks["post_execute"].insert(0, lambda: disarm(None))
        events.register("post_run_cell", disarm)

    _course_rerun_budget({{budget}})
    del _course_rerun_budget
""")


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


def run_then_rerun(notebook: nbformat.NotebookNode, *, timeout: int = CELL_TIMEOUT_S,
                   budget: float | None = RERUN_BUDGET_S) -> tuple[list[str], list[int]]:
    """Execute all code cells, then re-run each (at most ``budget`` s) in the same kernel.

    Returns (failures (at most one), the indices of the cells stopped at the budget). The
    kernel starts in friendly mode whatever this process's environment says.
    """
    from nbclient.exceptions import CellExecutionError

    # nbclient imitates a frontend for ipywidgets' Output widget by sending comm messages to
    # the kernel while it reads the replies; with an Output widget that redraws a figure
    # (notebook 03's descent slider) that intermittently stalls a cell until the timeout
    # (observed in ~1 of 4 runs). Outputs are not checked here, so turn the imitation off.
    client = notebook_client(notebook, NOTEBOOK_DIR, timeout=timeout,
                             startup_timeout=STARTUP_TIMEOUT_S, widget_comms=False)
    code_cells = [(i, c) for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    friendly = notebook_kernel_env({k: v for k, v in os.environ.items() if k != STRICT_ENV})
    stopped: list[int] = []
    with client.setup_kernel(env=friendly):
        for index, cell in code_cells:
            try:
                client.execute_cell(cell, index)
            except Exception as error:  # CellExecutionError, timeout, dead kernel ...
                return [describe_failure(1, index, cell, error)], stopped
        first_outputs = {index: cell.outputs for index, cell in code_cells}
        if budget is not None:  # None: re-run every cell to its end
            budget_cell = nbformat.v4.new_code_cell(
                _BUDGET_SETUP.replace("{budget}", repr(float(budget))))
            notebook.cells.append(budget_cell)  # nbclient writes a cell back by its position
            client.execute_cell(budget_cell, len(notebook.cells) - 1)
            notebook.cells.pop()
        for index, cell in code_cells:
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                if error.ename == BUDGET_ERROR:
                    stopped.append(index)
                    continue
                return [describe_failure(2, index, cell, error)], stopped
            except Exception as error:  # timeout, dead kernel ...
                return [describe_failure(2, index, cell, error)], stopped
        for index, cell in code_cells:  # report the first run's outputs, not the re-run's
            cell.outputs = first_outputs[index]
    return [], stopped


def checker_cells(notebook: nbformat.NotebookNode) -> list[str]:
    """Ids of the code cells that follow a solution cell: the exercise checkers' calls."""
    ids = []
    for index, cell in enumerate(notebook.cells):
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            later = [c for c in notebook.cells[index + 1:] if c.cell_type == "code"]
            if later and SOLUTION_TAG not in later[0].metadata.get("tags", []):
                ids.append(later[0].get("id"))
    return ids


def verdicts(cell) -> str:
    """Everything a cell displayed, as text (HTML included)."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        for kind in ("text/plain", "text/html"):
            parts.append(str(output.get("data", {}).get(kind, "")))
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.timeout(NOTEBOOK_TIMEOUT_S)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_student_copy_runs_rejects_every_stub_and_survives_a_rerun(path):
    original = nbformat.read(path, as_version=4)
    notebook = student_copy(original)
    failures, stopped = run_then_rerun(notebook)
    assert not failures, f"{path.name} (student copy):\n{failures[0]}"
    print(f"{path.name}: re-run stopped at the {RERUN_BUDGET_S} s budget in cells {stopped}")
    by_id = {cell.get("id"): cell for cell in notebook.cells}
    for cell_id in checker_cells(original):
        shown = verdicts(by_id[cell_id])
        rejected = "[Not yet]" in shown or "&#10008; Not yet" in shown
        accepted = "[Correct]" in shown or "&#10004; Correct" in shown
        assert rejected and not accepted, (
            f"{path.name}: the checker in cell {cell_id!r} should answer 'Not yet' to the "
            f"student's blank stub; it showed:\n{shown[:2000]}\n--- source ---\n"
            f"{by_id[cell_id].source}")


def _notebook(*sources: str, solution: int | None = None) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell(s) for s in sources]
    if solution is not None:
        cells[solution].metadata["tags"] = [SOLUTION_TAG]
    return nbformat.v4.new_notebook(cells=cells)


@pytest.mark.process
def test_the_harness_catches_errors_on_the_rerun():
    """A notebook that works once but not twice (a consumed iterator) must fail here."""
    notebook = _notebook("items = iter([1])", "first = next(items)", "print('solution')",
                         solution=2)
    copy = student_copy(notebook)
    assert len(copy.cells) == 2, "student_copy should drop the solution cell"
    copy.cells[0].source = "items = iter([1]) if 'items' not in globals() else items"
    failures, _ = run_then_rerun(copy, timeout=60)
    assert len(failures) == 1
    assert "re-run" in failures[0] and "StopIteration" in failures[0]
    assert "first = next(items)" in failures[0]


@pytest.mark.process
def test_a_long_cell_is_stopped_at_the_budget_and_the_rerun_goes_on():
    """The re-run pass stops a long cell after the budget (even one that catches Exception)
    and goes on; a short cell after it is re-run, and an error there is still caught."""
    notebook = _notebook(
        "import time\nruns = globals().get('runs', 0) + 1",
        "t0 = time.time()\nwhile time.time() - t0 < (0.1 if runs == 1 else 60):\n"
        "    try:\n        time.sleep(0.05)\n    except Exception:\n        pass",
        "assert runs == 1 or time.time() - t0 < 30, 'the long cell was not stopped'\n"
        "assert runs == 1, 'this re-run must fail'",
    )
    failures, stopped = run_then_rerun(notebook, timeout=120, budget=2)
    assert stopped == [1]
    assert len(failures) == 1 and "re-run" in failures[0] and "this re-run must fail" in (
        failures[0])


@pytest.mark.process
def test_the_student_run_is_friendly_even_when_strict_mode_is_set(monkeypatch):
    """A stub's checker answers "Not yet" in the student run even if strict mode leaked in."""
    monkeypatch.setenv(STRICT_ENV, "1")
    notebook = _notebook(
        "from course_utils.checks.core import checker, fail\n"
        "check = checker('demo')(lambda answer: fail('not yet.'))",
        "answer = None", "answer = 1", "check(answer)", solution=2)
    copy = student_copy(notebook)
    failures, _ = run_then_rerun(copy, timeout=120)
    assert not failures, failures
    assert "Not yet" in verdicts(copy.cells[-1])


def test_checker_cells_are_the_code_cells_right_after_a_solution():
    notebook = _notebook("x = None", "x = 1", "check(x)", "y = None", "y = 2", "check(y)",
                         "print('no exercise here')")
    for solution in (1, 4):
        notebook.cells[solution].metadata["tags"] = [SOLUTION_TAG]
    notebook.cells.insert(3, nbformat.v4.new_markdown_cell("## next"))
    assert checker_cells(notebook) == [notebook.cells[2].id, notebook.cells[6].id]
