"""Teaching metadata every course notebook follows: hidden solutions, checker fragments, slides.

The rules key on two cell tags, so they apply unchanged to any new notebook that uses them:

* a code cell tagged ``exercise`` is the stub the learner fills in;
* cells tagged ``solution`` follow it (removed from the student copies by ``make student``).

:func:`apply_teaching_metadata` makes a notebook follow the rules (idempotent):

1. every solution code cell is collapsed (``metadata.jupyter.source_hidden``) and skipped on
   slides, behind a small markdown cell "Solution" (also tagged ``solution``), so the answer is
   never in plain sight in ``notebooks/``;
2. the checker cell after an exercise is a slide *fragment*: presenting, the verdict appears
   only when the presenter advances, after the room has answered;
3. a cell marked ``"-"`` (continue the slide) loses its slide type: jupyterlab-slideshow knows
   only the other types (and none) and hides a ``"-"`` cell while presenting;
4. the notebook carries its slide style (font sizes for a projector, no prompts or active-cell
   bars) as ``@deathbeds/jupyterlab-fonts`` metadata, which jupyterlab-slideshow applies
   while presenting, with no file beside the notebook and nothing to load.

``python -m course_utils.cli.slides`` applies the rules to every notebook in ``notebooks/`` and
says which it changed; ``--check`` only reports (exit 1 if a notebook does not follow them).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

EXERCISE_TAG = "exercise"
SOLUTION_TAG = "solution"
SOLUTION_HEADING = (
    "#### Solution\n\n"
    "Collapsed on purpose: try the exercise first. Click the bar below (or the `⋯`) to read it."
)

#: jupyterlab-fonts metadata key; jupyterlab-slideshow styles a presenting notebook from it.
STYLE_KEY = "@deathbeds/jupyterlab-fonts"
#: A rule under this selector applies only while the notebook is presented (deck mode).
PRESENTING = "body[data-jp-deck-mode='presenting'] &"
#: Sizes for a hall: body text >= 18 px and code >= 16 px on a 1280x800 projector.
SLIDE_STYLE = {
    "--jp-content-font-size1": "20px",
    "--jp-content-font-size2": "24px",
    "--jp-content-font-size3": "28px",
    "--jp-content-font-size4": "32px",
    "--jp-code-font-size": "17px",
    "--jp-code-line-height": "1.35",
    "--jp-widgets-font-size": "17px",
    "--jp-widgets-inline-height": "32px",
    "& .jp-InputPrompt, & .jp-OutputPrompt, & .jp-Collapser": {"display": "none"},
    "& .jp-Cell.jp-mod-active .jp-Collapser-child, & .jp-Cell.jp-mod-selected": {
        "background": "transparent",
    },
    "& .jp-RenderedHTMLCommon table": {"font-size": "17px"},
    "& .jp-OutputArea-output img": {"max-height": "78vh", "width": "auto",
                                    "max-width": "100%"},
}


def tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def slide_type(cell: nbformat.NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def is_solution_heading(cell: nbformat.NotebookNode) -> bool:
    return (cell.cell_type == "markdown" and SOLUTION_TAG in tags(cell)
            and cell.source.lstrip().startswith("#### Solution"))


def solution_heading(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The "Solution" markdown cell for ``solution`` (its id derived, so re-runs are stable)."""
    heading = nbformat.v4.new_markdown_cell(SOLUTION_HEADING)
    if "id" in solution:
        heading.id = f"{solution.id}-heading"[:64]
    heading.metadata = {"slideshow": {"slide_type": "skip"}, "tags": [SOLUTION_TAG]}
    return heading


def checker_indices(cells: list) -> list[int]:
    """Index of the checker after each exercise: the first code cell after stub + solutions."""
    found = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or EXERCISE_TAG not in tags(cell):
            continue
        after = index + 1
        while after < len(cells) and SOLUTION_TAG in tags(cells[after]):
            after += 1
        if after < len(cells) and cells[after].cell_type == "code":
            found.append(after)
    return found


def apply_teaching_metadata(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` following the rules in this module's docstring."""
    notebook = copy.deepcopy(notebook)
    cells: list = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and SOLUTION_TAG in tags(cell):
            previous = cells[-1] if cells else None
            if previous is None or not (is_solution_heading(previous)
                                        or (previous.cell_type == "code"
                                            and SOLUTION_TAG in tags(previous))):
                cells.append(solution_heading(cell))
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
            cell.metadata.setdefault("slideshow", {})["slide_type"] = "skip"
        cells.append(cell)
    for cell in cells:
        if slide_type(cell) == "-":
            del cell.metadata["slideshow"]["slide_type"]
            if not cell.metadata["slideshow"]:
                del cell.metadata["slideshow"]
    for index in checker_indices(cells):
        if slide_type(cells[index]) is None:
            cells[index].metadata.setdefault("slideshow", {})["slide_type"] = "fragment"
    notebook.cells = cells
    style = notebook.metadata.setdefault(STYLE_KEY, {}).setdefault("styles", {})
    style.setdefault("", {})[PRESENTING] = copy.deepcopy(SLIDE_STYLE)
    return notebook


def main(argv: list[str] | None = None) -> int:
    from course_utils.paths import NOTEBOOK_DIR, course_notebooks

    parser = argparse.ArgumentParser(prog="python -m course_utils.cli.slides",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if needed")
    parser.add_argument("folder", nargs="?", type=Path, default=NOTEBOOK_DIR)
    args = parser.parse_args(argv)
    stale = []
    for path in course_notebooks(args.folder):
        notebook = nbformat.read(path, as_version=4)
        fixed = apply_teaching_metadata(notebook)
        if fixed == notebook:
            continue
        stale.append(path.name)
        if not args.check:
            nbformat.write(fixed, path)
    verb = "do not follow the teaching metadata rules" if args.check else "updated"
    print(f"{len(stale)} notebook(s) {verb}: {', '.join(stale) or '-'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
