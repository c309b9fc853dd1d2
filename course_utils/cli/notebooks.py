"""Executing notebooks headless and making student copies (used by make course / student).

* :func:`notebook_client` builds the nbclient client with the course's settings (kernel,
  per-cell timeout, the notebook's folder as working folder); the course runner, the test
  suite and the benchmarks all use it. :func:`execute_code_cells` runs a started kernel's code
  cells one by one for callers that time or inspect each cell.
* :func:`execute_notebook` runs a notebook top to bottom in a fresh kernel and returns the
  executed notebook and its wall time.
* :func:`student_copy` removes the cells tagged ``solution`` (nbconvert's
  TagRemovePreprocessor), so the exercise cells stay with their blank stubs.
* ``python -m course_utils.cli.notebooks course`` executes every notebook in order and writes
  executed copies, HTML and a timing summary into ``build/``; ``... student`` writes student
  copies into ``build/student/``.

Student copies are where learners work (``make lab`` opens them), so ``student`` never
overwrites a learner's edits: it remembers the hash of every copy it wrote
(``build/student/.written.json``); a copy whose file no longer has that hash was edited and is
kept as it is, with a line saying so (delete or rename it to get a fresh copy). Unedited copies
are refreshed when the course notebook changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from course_utils.cli.slides import SOLUTION_TAG
from course_utils.paths import NOTEBOOK_DIR, build_dir, course_notebooks

if TYPE_CHECKING:
    from nbclient import NotebookClient

WRITTEN_MANIFEST = ".written.json"


def notebook_client(notebook: nbformat.NotebookNode, cwd: Path, *, timeout: int = 600,
                    startup_timeout: int = 60, kernel_name: str = "python3",
                    widget_comms: bool = True) -> NotebookClient:
    """The one way the course builds an nbclient client (course runner, tests, benchmarks).

    The kernel is ``kernel_name`` and runs in ``cwd`` (normally the notebook's own folder, so
    relative paths resolve as in JupyterLab); ``timeout`` is per cell. The kernel's environment
    is this process's unless the caller passes ``env=`` to ``client.setup_kernel``.
    ``widget_comms=False`` stops nbclient imitating a frontend for ipywidgets' Output widget:
    that imitation intermittently stalls a cell whose Output widget redraws a figure, and
    callers that do not keep outputs do not need it.
    """
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook,
        timeout=timeout,
        startup_timeout=startup_timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(cwd)}},
    )
    if not widget_comms:
        client.widget_registry = {}
    return client


def execute_code_cells(client: NotebookClient, notebook: nbformat.NotebookNode,
                       ) -> Iterator[tuple[int, nbformat.NotebookNode]]:
    """Execute ``notebook``'s code cells in order in ``client``'s started kernel.

    Yields ``(index, cell)`` after each cell has run, so a caller can time or inspect it (the
    benchmarks record the first plot this way). A failing cell raises nbclient's error.
    """
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            client.execute_cell(cell, index)
            yield index, cell


def execute_notebook(path: Path, *, timeout: int = 600, cwd: Path | None = None,
                     kernel_name: str = "python3") -> tuple[nbformat.NotebookNode, float]:
    """Run ``path`` in a fresh kernel (working folder ``cwd``, default: its own folder).

    Returns the executed notebook and the wall time in seconds. Raises
    ``nbclient.exceptions.CellExecutionError`` (with the failing cell) if a cell fails.
    """
    notebook = nbformat.read(path, as_version=4)
    client = notebook_client(notebook, cwd or path.parent, timeout=timeout,
                             kernel_name=kernel_name)
    start = time.perf_counter()
    client.execute()
    return notebook, time.perf_counter() - start


def student_copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without the cells tagged ``solution`` (and without outputs)."""
    from nbconvert.preprocessors import ClearOutputPreprocessor, TagRemovePreprocessor

    remover = TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG}, enabled=True)
    notebook, _ = remover.preprocess(nbformat.from_dict(notebook), {})
    notebook, _ = ClearOutputPreprocessor().preprocess(notebook, {})
    return notebook


def write_html(notebook: nbformat.NotebookNode, target: Path) -> None:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(notebook)
    target.write_text(body, encoding="utf-8")


def run_course(out_dir: Path | None = None, *, html: bool = True) -> int:
    """Execute every notebook in order; write build/executed, build/html, build/summary.md."""
    out_dir = out_dir or build_dir()
    notebooks = course_notebooks()
    if not notebooks:
        print(f"No notebooks found in {NOTEBOOK_DIR}; nothing to run.")
        return 0
    (out_dir / "executed").mkdir(parents=True, exist_ok=True)
    (out_dir / "html").mkdir(parents=True, exist_ok=True)
    rows, failures = [], 0
    for path in notebooks:
        print(f"running {path.name} ...", end=" ", flush=True)
        try:
            executed, seconds = execute_notebook(path)
        except Exception as error:  # report and continue with the next notebook
            failures += 1
            first_line = str(error).strip().splitlines()[-1] if str(error).strip() else error
            print(f"FAILED ({type(error).__name__}: {first_line})")
            rows.append((path.name, "FAILED", ""))
            continue
        nbformat.write(executed, out_dir / "executed" / path.name)
        if html:
            write_html(executed, out_dir / "html" / path.with_suffix(".html").name)
        print(f"{seconds:.1f} s")
        rows.append((path.name, "ok", f"{seconds:.1f}"))
    total = sum(float(r[2]) for r in rows if r[2])
    lines = ["# Course run", "", f"Machine CPUs available: {len(os.sched_getaffinity(0))}", "",
             "| notebook | status | seconds |", "|---|---|---|"]
    lines += [f"| {name} | {status} | {secs} |" for name, status, secs in rows]
    lines += [f"| **total** | {len(rows) - failures}/{len(rows)} ok | {total:.1f} |", ""]
    (out_dir / "summary.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    print(f"Executed notebooks and HTML are in {out_dir}/")
    return 1 if failures else 0


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_student_copies(out_dir: Path | None = None) -> list[Path]:
    """Write student copies (solutions removed) of every notebook into ``<out>/student/``.

    A copy a learner has edited (its hash differs from the one recorded when it was written)
    is kept, never overwritten. Returns the paths written now.
    """
    out_dir = (out_dir or build_dir()) / "student"
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / WRITTEN_MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    written, kept = [], []
    for path in course_notebooks():
        target = out_dir / path.name
        if target.exists() and manifest.get(path.name) != file_hash(target):
            kept.append(target)  # edited by a learner (or written by someone else): keep it
            continue
        nbformat.write(student_copy(nbformat.read(path, as_version=4)), target)
        manifest[path.name] = file_hash(target)
        written.append(target)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    print(f"Wrote {len(written)} student notebook(s) to {out_dir}/")
    for target in kept:
        print(f"Kept {target.name}: it has your edits. For a fresh copy, rename or delete it "
              "and run `make student` again.")
    return written


def writable_folder_error(folder: Path) -> str | None:
    """Why ``folder`` cannot take the build outputs, in one line; None if it can."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == folder and not folder.is_dir():
        return f"--out {folder} is a file, not a folder: give a folder (it is created if needed)."
    if existing != folder and not existing.is_dir():
        return f"--out {folder}: {existing} is a file, so the folder cannot be created there."
    if not os.access(existing, os.W_OK | os.X_OK):
        return (f"--out {folder}: no permission to write in {existing}; choose a folder you "
                "own, e.g. --out ~/course-build.")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.cli.notebooks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["course", "student"])
    parser.add_argument("--out", type=Path, default=None, help="output folder (default build/)")
    args = parser.parse_args(argv)
    args.out = args.out.expanduser() if args.out else None
    problem = writable_folder_error(args.out) if args.out else None
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.command == "course":
        return run_course(args.out)
    make_student_copies(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
