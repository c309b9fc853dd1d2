"""`make student`: student copies without solutions, with the slide style next to them."""

from __future__ import annotations

import nbformat

from course_utils.notebook_tools import NOTEBOOK_DIR, course_notebooks, make_student_copies


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
