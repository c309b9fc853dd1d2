"""Student copies keep a learner's edits, and a bad --out is one clear line (issue 17, 2 + 17).

Also: every course notebook follows the teaching metadata rules of course_utils.cli.slides
(solutions collapsed behind a "Solution" heading, checkers as slide fragments, slide style).
"""

from __future__ import annotations

import json
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


def test_rerun_keeps_an_edited_copy_and_leaves_the_others_up_to_date(tmp_path, capsys):
    first = make_student_copies(tmp_path)
    edited = first[1]
    notebook = nbformat.read(edited, as_version=4)
    notebook.cells[0].source += "\n\nMy own note."
    nbformat.write(notebook, edited)
    capsys.readouterr()
    second = make_student_copies(tmp_path)
    assert second == []  # the course did not change: nothing to rewrite
    assert "My own note." in nbformat.read(edited, as_version=4).cells[0].source
    out = capsys.readouterr().out
    assert f"Kept {edited.name}: it has your edits" in out
    assert f"({len(first) - 1} already up to date)" in out


# --- what counts as an edit, on a one-notebook course ---------------------------------------

def _course(folder, text: str):
    """A one-notebook course in ``folder``: a markdown cell saying ``text``, an exercise stub
    and its solution (which the student copy drops)."""
    folder.mkdir(exist_ok=True)
    cells = [nbformat.v4.new_markdown_cell(text), nbformat.v4.new_code_cell("answer = None"),
             nbformat.v4.new_code_cell("answer = 3")]
    cells[2].metadata["tags"] = [SOLUTION_TAG]
    path = folder / "01_tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


@pytest.fixture
def tiny_course(tmp_path, monkeypatch):
    """Student copies of a one-notebook course; returns (course notebook, student copy)."""
    course = _course(tmp_path / "course", "Version 1.")
    monkeypatch.setattr(notebook_tools, "course_notebooks", lambda: [course])
    make_student_copies(tmp_path / "build")
    return course, tmp_path / "build" / "student" / course.name


def _open_and_run(copy):
    """What JupyterLab does to a copy a learner only opened and ran: metadata and outputs."""
    notebook = nbformat.read(copy, as_version=4)
    notebook.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="ran\n")]
    notebook.cells[1].execution_count = 1
    nbformat.write(notebook, copy)


def test_a_copy_only_opened_and_run_is_not_edited(tiny_course, capsys):
    course, copy = tiny_course
    _open_and_run(copy)
    capsys.readouterr()
    assert make_student_copies(copy.parent.parent) == []  # nothing new: outputs stay
    assert nbformat.read(copy, as_version=4).cells[1].outputs
    assert "Kept" not in capsys.readouterr().out
    _course(course.parent, "Version 2.")  # a course update reaches it
    assert make_student_copies(copy.parent.parent) == [copy]
    assert nbformat.read(copy, as_version=4).cells[0].source == "Version 2."
    assert "Kept" not in capsys.readouterr().out


@pytest.mark.parametrize("edit", ["source", "cell type", "new cell"])
def test_a_copy_with_edited_cells_is_kept_through_a_course_update(tiny_course, capsys, edit):
    course, copy = tiny_course
    notebook = nbformat.read(copy, as_version=4)
    if edit == "source":
        notebook.cells[1].source = "answer = 4"
    elif edit == "cell type":
        notebook.cells[1] = nbformat.v4.new_markdown_cell("answer = None")
    else:
        notebook.cells.append(nbformat.v4.new_code_cell("print('mine')"))
    nbformat.write(notebook, copy)
    _course(course.parent, "Version 2.")
    capsys.readouterr()
    assert make_student_copies(copy.parent.parent) == []
    assert nbformat.read(copy, as_version=4).cells[0].source == "Version 1."
    assert f"Kept {copy.name}: it has your edits" in capsys.readouterr().out


@pytest.mark.parametrize("damage", [None, "", "{not json", "[]", '{"01_tiny.ipynb": 1}'])
def test_a_missing_or_damaged_record_does_not_make_copies_edited(tiny_course, capsys, damage):
    course, copy = tiny_course
    record = copy.parent / notebook_tools.WRITTEN_MANIFEST
    if damage is None:
        record.unlink()
    else:
        record.write_text(damage)
    _open_and_run(copy)
    _course(course.parent, "Version 2.")
    capsys.readouterr()
    assert make_student_copies(copy.parent.parent) == [copy]
    out = capsys.readouterr().out
    assert "Kept" not in out and "was missing or damaged" in out
    assert nbformat.read(copy, as_version=4).cells[0].source == "Version 2."


def test_an_older_copy_without_any_record_matches_the_course_version(tmp_path, monkeypatch,
                                                                     capsys):
    """Written before copies carried their own record, and .written.json lost: the copy's cells
    equal the course's student version, so it is up to date, not 'edited'."""
    course = _course(tmp_path / "course", "Version 1.")
    monkeypatch.setattr(notebook_tools, "course_notebooks", lambda: [course])
    copy = tmp_path / "build" / "student" / course.name
    copy.parent.mkdir(parents=True)
    nbformat.write(notebook_tools.student_copy(nbformat.read(course, as_version=4)), copy)
    _open_and_run(copy)
    assert make_student_copies(tmp_path / "build") == []
    out = capsys.readouterr().out
    assert "Kept" not in out and "1 already up to date" in out
    _course(course.parent, "Version 2.")  # now recorded, so the next update reaches it
    assert make_student_copies(tmp_path / "build") == [copy]


def test_an_old_whole_file_record_still_counts(tmp_path, monkeypatch):
    """.written.json from before this change holds whole-file hashes."""
    course = _course(tmp_path / "course", "Version 1.")
    monkeypatch.setattr(notebook_tools, "course_notebooks", lambda: [course])
    copy = tmp_path / "build" / "student" / course.name
    copy.parent.mkdir(parents=True)
    nbformat.write(notebook_tools.student_copy(nbformat.read(course, as_version=4)), copy)
    (copy.parent / notebook_tools.WRITTEN_MANIFEST).write_text(
        json.dumps({course.name: notebook_tools.file_hash(copy)}))
    _course(course.parent, "Version 2.")
    assert make_student_copies(tmp_path / "build") == [copy]


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


def test_a_build_dir_variable_naming_a_file_is_one_line_and_exit_2(tmp_path, capsys,
                                                                  monkeypatch):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    monkeypatch.setenv("COURSE_BUILD_DIR", str(a_file))
    assert notebook_tools.main(["student"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: COURSE_BUILD_DIR={a_file} is a file, not a folder: give a folder "
                   "(it is created if needed).")


def test_a_read_only_build_dir_variable_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setattr(notebook_tools.os, "access", lambda *args: False)
    assert notebook_tools.main(["student"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"COURSE_BUILD_DIR={tmp_path / 'build'}: no permission" in err
    assert "COURSE_BUILD_DIR=~/course-build" in err


def test_a_write_that_fails_midway_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(notebook_tools, "make_student_copies", full_disk)
    assert notebook_tools.main(["student", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "No space left on device" in err


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
