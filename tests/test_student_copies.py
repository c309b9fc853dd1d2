"""Student copies keep a learner's edits, and a bad --out is one clear line (issue 17, 2 + 17).

Also: every course notebook follows the teaching metadata rules of course_utils.cli.slides
(solutions collapsed behind a "Solution" heading, checkers as slide fragments, slide style).
"""

from __future__ import annotations

import os
import stat

import nbformat
import pytest

from course_utils.cli import notebooks as notebook_tools
from course_utils.cli.notebooks import NOTEBOOK_DIR, course_notebooks, make_student_copies
from course_utils.cli.slides import (
    PRESENTING,
    SOLUTION_TAG,
    STYLE_KEY,
    apply_teaching_metadata,
    checker_indices,
)
from course_utils.cli.slides import (
    main as slides_main,
)


def test_rerun_keeps_an_edited_copy_and_refreshes_the_others(tmp_path, capsys):
    first = make_student_copies(tmp_path)
    edited = first[1]
    notebook = nbformat.read(edited, as_version=4)
    notebook.cells[0].source += "\n\nMy own note."
    nbformat.write(notebook, edited)
    untouched = first[0]
    capsys.readouterr()
    second = make_student_copies(tmp_path)
    assert edited not in second and untouched in second
    assert "My own note." in nbformat.read(edited, as_version=4).cells[0].source
    out = capsys.readouterr().out
    assert f"Kept {edited.name}: it has your edits" in out


def test_a_copy_never_recorded_is_kept(tmp_path):
    """A file already there when the manifest has no hash for it (e.g. copied in by hand)."""
    folder = tmp_path / "student"
    folder.mkdir()
    mine = folder / course_notebooks()[0].name
    mine.write_text("{}")
    make_student_copies(tmp_path)
    assert mine.read_text() == "{}"


@pytest.mark.parametrize("command", ["student", "course"])
def test_out_pointing_at_a_file_is_one_line_and_exit_2(tmp_path, capsys, command):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    assert notebook_tools.main([command, "--out", str(a_file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is a file" in err and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_out_in_a_read_only_folder_is_one_line_and_exit_2(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert notebook_tools.main(["student", "--out", str(locked / "build")]) == 2
    finally:
        locked.chmod(stat.S_IRWXU)
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no permission" in err


def test_read_only_check_itself(tmp_path, monkeypatch):
    """The permission branch, also when the tests run as root (os.access is what decides)."""
    monkeypatch.setattr(notebook_tools.os, "access", lambda *args: False)
    assert "no permission" in notebook_tools.writable_folder_error(tmp_path / "new")
    monkeypatch.undo()
    assert notebook_tools.writable_folder_error(tmp_path / "new" / "deeper") is None


# --- teaching metadata --------------------------------------------------------------------

def tiny_notebook():
    cells = [nbformat.v4.new_markdown_cell("### Exercise 1: x"),
             nbformat.v4.new_code_cell("answer = None"),
             nbformat.v4.new_code_cell("answer = 3"),
             nbformat.v4.new_code_cell("check(answer)"),
             nbformat.v4.new_markdown_cell("More prose.")]
    cells[1].metadata["tags"] = ["exercise"]
    cells[2].metadata["tags"] = [SOLUTION_TAG]
    return nbformat.v4.new_notebook(cells=cells)


def test_rules_hide_the_solution_behind_a_heading_and_make_the_checker_a_fragment():
    fixed = apply_teaching_metadata(tiny_notebook())
    kinds = [(c.cell_type, c.metadata.get("tags", [])) for c in fixed.cells]
    assert kinds[2] == ("markdown", [SOLUTION_TAG]) and "Solution" in fixed.cells[2].source
    assert fixed.cells[3].metadata["jupyter"]["source_hidden"] is True
    assert fixed.cells[3].metadata["slideshow"]["slide_type"] == "skip"
    assert checker_indices(fixed.cells) == [4]
    assert fixed.cells[4].metadata["slideshow"]["slide_type"] == "fragment"
    assert PRESENTING in fixed.metadata[STYLE_KEY]["styles"][""]
    assert apply_teaching_metadata(fixed) == fixed  # idempotent: one heading, not two


def test_every_course_notebook_follows_the_rules(capsys):
    assert slides_main(["--check", str(NOTEBOOK_DIR)]) == 0, (
        "run `python -m course_utils.cli.slides` to apply the teaching metadata rules")
    for path in course_notebooks():
        cells = nbformat.read(path, as_version=4).cells
        for index, cell in enumerate(cells):
            if cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", []):
                assert cell.metadata["jupyter"]["source_hidden"], f"{path.name} cell {index}"
