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
  copies into ``build/student/``; ``... student DEST [--instructor]`` writes them straight into
  DEST (and the instructor copies into DEST/instructor/), also from a regular install.

Student copies are where learners work (``make lab`` opens them), so ``student`` never
overwrites a learner's edits. "Edited" means what a learner can change: the cells' types and
sources, in order (:func:`learner_cells`); opening a copy (Jupyter adds metadata) or running it
(outputs) is not an edit. Each copy records the hash of the cells it was written with, in its
own metadata and in ``build/student/.written.json``; a copy whose cells no longer match either
record, nor the course's current student version, is kept as it is, with a line saying so
(delete or rename it to get a fresh copy). Unedited copies are rewritten only when the course
notebook changed, so outputs of a copy the learner ran stay until then.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
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
#: The student copy's own record of the cells it was written with (notebook metadata).
COPY_METADATA_KEY = "course_student_copy"


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


def learner_cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """What a learner can change in a notebook: each cell's type and source, in order (not
    metadata, which opening a notebook changes, nor outputs, which running it changes)."""
    return [(cell.cell_type, cell.source if isinstance(cell.source, str) else "".join(cell.source))
            for cell in notebook.cells]


def cells_hash(notebook: nbformat.NotebookNode) -> str:
    """A hash of :func:`learner_cells`: equal for two notebooks a learner would call the same."""
    text = json.dumps(learner_cells(notebook), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(path: Path) -> dict[str, str] | None:
    """The record of the copies written (file name -> hash), or None when it is missing or
    damaged (not JSON, not a mapping of names to hashes)."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in manifest.items()):
        return None
    return manifest


def _read_copy(target: Path) -> nbformat.NotebookNode | None:
    """The learner's copy as a notebook, or None when it is not one nbformat can read."""
    try:
        return nbformat.read(target, as_version=4)
    except Exception:  # not JSON, not a notebook: the learner's file, whatever it is
        return None


def is_unedited(copy: nbformat.NotebookNode, recorded: str | None, fresh_hash: str) -> bool:
    """Whether a learner left ``copy``'s cells as written: they match the hash recorded in the
    manifest (``recorded``; a whole-file hash from older course versions also counts), the hash
    the copy carries in its own metadata, or the course's current student version."""
    now = cells_hash(copy)
    own = copy.metadata.get(COPY_METADATA_KEY, {})
    own = own.get("cells_sha256") if isinstance(own, dict) else None
    return now in (recorded, own, fresh_hash)


def make_student_copies(out_dir: Path | None = None, *, into: Path | None = None) -> list[Path]:
    """Write student copies (solutions removed) of every notebook into ``<out>/student/``.

    A copy whose cells a learner edited is kept, never overwritten (see the module docstring);
    an unedited copy is rewritten when the course's student version changed. A missing or
    damaged ``.written.json`` is no reason to keep a copy: its cells are compared with the
    record in the copy itself and with the course's student version. Returns the paths written.
    """
    out_dir = into or (out_dir or build_dir()) / "student"  # into: that folder itself
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / WRITTEN_MANIFEST
    manifest = read_manifest(manifest_path)
    no_record = manifest is None and any((out_dir / p.name).exists() for p in course_notebooks())
    manifest = manifest or {}
    written, current, kept = [], [], []
    for path in course_notebooks():
        target = out_dir / path.name
        fresh = student_copy(nbformat.read(path, as_version=4))
        fresh_hash = cells_hash(fresh)
        if target.exists():
            copy = _read_copy(target)
            recorded = manifest.get(path.name)
            old_style = recorded is not None and recorded == file_hash(target)
            if copy is None or not (old_style or is_unedited(copy, recorded, fresh_hash)):
                kept.append(target)  # edited by a learner (or not a notebook): keep it
                continue
            if cells_hash(copy) == fresh_hash:  # nothing new: keep its outputs and metadata
                manifest[path.name] = fresh_hash
                current.append(target)
                continue
        fresh.metadata[COPY_METADATA_KEY] = {"cells_sha256": fresh_hash}
        nbformat.write(fresh, target)
        manifest[path.name] = fresh_hash
        written.append(target)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    up_to_date = f" ({len(current)} already up to date)" if current else ""
    print(f"Wrote {len(written)} student notebook(s) to {out_dir}/{up_to_date}")
    if no_record:
        print(f"Note: the record {manifest_path.name} was missing or damaged, so each copy's "
              "cells were compared with the record inside the copy and with the course's "
              "student version instead.")
    again = "`make student`" if into is None else (
        f"`python -m course_utils.cli.notebooks student {shlex.quote(str(into))}`")
    for target in kept:
        print(f"Kept {target.name}: it has your edits (its cells differ from the copy written "
              "and from the course's student version). For a fresh copy, rename or delete it "
              f"and run {again} again.")
    return written


def write_instructor_copies(folder: Path) -> list[Path]:
    """The course notebooks as committed (solutions collapsed, not removed) into ``folder``.
    A copy already there is never overwritten: delete it to get the current one."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in course_notebooks():
        target = folder / path.name
        if not target.exists():
            target.write_bytes(path.read_bytes())
            written.append(target)
        elif target.read_bytes() != path.read_bytes():
            print(f"Kept {target}: it differs from the course's copy (your edits?). For a "
                  "fresh copy, rename or delete it and run this again.")
    print(f"Wrote {len(written)} instructor notebook(s) to {folder}/")
    return written


def copy_notebooks(dest: Path, *, instructor: bool = False) -> list[Path]:
    """Student copies straight into ``dest`` (edited ones kept, as in ``make student``); with
    ``instructor``, the instructor copies into ``dest/instructor/`` too. Works from a checkout
    and from a regular install (a JupyterHub, Colab, a laptop without git): the notebooks come
    from the package, and they find the data through it, so they run from any folder."""
    written = make_student_copies(into=dest)
    if instructor:
        written += write_instructor_copies(dest / "instructor")
    return written


def writable_folder_error(folder: Path, named: str | None = None) -> str | None:
    """Why ``folder`` cannot take the build outputs, in one line; None if it can. ``named`` is
    how the learner chose it (default ``--out <folder>``; e.g. ``COURSE_BUILD_DIR=<folder>``)."""
    named = named or f"--out {folder}"
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == folder and not folder.is_dir():
        return f"{named} is a file, not a folder: give a folder (it is created if needed)."
    if existing != folder and not existing.is_dir():
        return f"{named}: {existing} is a file, so the folder cannot be created there."
    if not os.access(existing, os.W_OK | os.X_OK):
        return (f"{named}: no permission to write in {existing}; choose a folder you own, e.g. "
                "--out ~/course-build or COURSE_BUILD_DIR=~/course-build.")
    return None


def _named_output(out: Path | None) -> tuple[Path, str]:
    """The output folder and how the learner chose it, for messages: ``--out``, the
    ``COURSE_BUILD_DIR`` variable, or the default ``build/``."""
    if out is not None:
        return out, f"--out {out}"
    folder = build_dir()
    if os.environ.get("COURSE_BUILD_DIR", "").strip():
        return folder, f"COURSE_BUILD_DIR={folder}"
    return folder, f"the build folder {folder}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.cli.notebooks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["course", "student"])
    parser.add_argument("--out", type=Path, default=None, help="output folder (default build/)")
    parser.add_argument("dest", nargs="?", type=Path, default=None,
                        help="student: write the copies straight into this folder (e.g. "
                             "~/why-p-not-q on a hub) instead of <out>/student/")
    parser.add_argument("--instructor", action="store_true",
                        help="student DEST: also write the instructor copies to DEST/instructor/")
    args = parser.parse_args(argv)
    if (args.dest or args.instructor) and args.command != "student":
        parser.error("DEST and --instructor go with `student` only")
    if args.instructor and not args.dest:
        parser.error("--instructor needs DEST (the folder to write into)")
    args.out = args.out.expanduser() if args.out else None
    args.dest = args.dest.expanduser() if args.dest else None
    folder, named = (args.dest, f"DEST {args.dest}") if args.dest else _named_output(args.out)
    problem = writable_folder_error(folder, named)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        if args.command == "course":
            return run_course(folder)
        if args.dest:
            copy_notebooks(args.dest, instructor=args.instructor)
        else:
            make_student_copies(folder)
    except OSError as error:  # e.g. the disk filled or a file in the way: one line
        print(f"error: could not write into {named}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
