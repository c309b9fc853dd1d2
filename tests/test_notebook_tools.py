"""`make student` (student copies without solutions) and the one notebook-execution helper."""

from __future__ import annotations

import nbformat
import pytest

from course_utils.cli.notebooks import (
    NOTEBOOK_DIR,
    course_notebooks,
    execute_notebook,
    make_student_copies,
    notebook_client,
)


def test_student_copies_have_no_solutions_and_keep_the_slide_style(tmp_path, capsys):
    written = make_student_copies(tmp_path)
    assert [path.name for path in written] == [path.name for path in course_notebooks()]
    for path in written:
        cells = nbformat.read(path, as_version=4).cells
        tags = [tag for cell in cells for tag in cell.get("metadata", {}).get("tags", [])]
        assert "solution" not in tags, f"{path.name} still has a solution cell"
        original = nbformat.read(NOTEBOOK_DIR / path.name, as_version=4).cells
        assert len(cells) == len(original) - sum(
            "solution" in cell.get("metadata", {}).get("tags", []) for cell in original)
    assert f"Wrote {len(written)} student notebook(s)" in capsys.readouterr().out


def test_the_client_runs_in_the_notebooks_folder_with_the_courses_settings(tmp_path):
    notebook = nbformat.v4.new_notebook()
    client = notebook_client(notebook, tmp_path, timeout=42, startup_timeout=7)
    assert client.resources["metadata"]["path"] == str(tmp_path)
    assert (client.timeout, client.startup_timeout, client.kernel_name) == (42, 7, "python3")
    assert client.widget_registry  # nbclient's default: Output widgets are followed
    assert notebook_client(notebook, tmp_path, widget_comms=False).widget_registry == {}


@pytest.mark.process
def test_a_notebook_executes_in_its_own_folder(tmp_path):
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os; print(os.getcwd())")]), path)
    executed, seconds = execute_notebook(path, timeout=120)
    assert executed.cells[0].outputs[0]["text"].strip() == str(tmp_path)
    assert seconds > 0
