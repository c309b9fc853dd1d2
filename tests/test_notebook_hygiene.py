"""Notebook hygiene: committed notebooks are clean and follow docs/notebook_skeleton.md.

Static checks only (nothing is executed), so they run in a second:

* clean: valid nbformat, no outputs, no execution counts, no saved widget state, kernel python3;
* skeleton: title cell with learning goals, time and prerequisites; the setup cell first;
  numbered sections; Summary and References (from the checked list); slide metadata on every
  cell;
* exercises (notebooks 01-06): at least two, each stub -> solution -> checker call;
* student copies: no later cell reads a name that only a solution cell defines (a best-effort
  static check with ``ast``; tests/test_notebook_reruns.py executes the student copies).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from course_utils.cli.notebooks import NOTEBOOK_DIR, course_notebooks
from course_utils.paths import REPO_ROOT

NOTEBOOKS = course_notebooks()
IDS = [path.name for path in NOTEBOOKS]
# None continues the current slide ("-" in nbconvert; jupyterlab-slideshow hides "-" cells).
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", None}
SETUP_LINES = ("import course_utils as cu", "cu.setup(")
EXERCISE_HEADING = re.compile(r"^###\s+Exercise\b", re.MULTILINE)


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def number(path: Path) -> int:
    return int(path.name[:2])


def tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def slide_type(cell) -> str | None:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def where(index: int, cell) -> str:
    first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else "<empty>"
    return f"cell {index} ({cell.cell_type}: {first!r})"


# --- parsing code cells ---------------------------------------------------------------------


def parse_cell(source: str) -> ast.Module | None:
    """The cell as a Python AST; IPython syntax (%magics, !shell) is translated first."""
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return None


def _target_names(target: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(target) if isinstance(node, ast.Name)}


def bound_names(tree: ast.Module | None) -> set[str]:
    """Names a cell binds at notebook level (assignments, defs, imports, loop/with targets)."""
    names: set[str] = set()
    if tree is None:
        return names
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue  # their bodies are a scope of their own
        if isinstance(node, ast.Assign):
            for target in node.targets:
                names |= _target_names(target)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            names |= _target_names(node.target)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            names |= _target_names(node.target)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    names |= _target_names(item.optional_vars)
        names |= {n.target.id for n in ast.walk(node) if isinstance(n, ast.NamedExpr)}
        for field in ("body", "orelse", "finalbody", "handlers"):
            pending.extend(getattr(node, field, []) or [])
        if isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


class _GlobalReads(ast.NodeVisitor):
    """Names read from notebook level: skips names local to functions, lambdas, comprehensions."""

    def __init__(self) -> None:
        self.reads: set[str] = set()
        self.local_scopes: list[set[str]] = []

    def _scope(self, node: ast.AST, local: set[str]) -> None:
        self.local_scopes.append(local)
        self.generic_visit(node)
        self.local_scopes.pop()

    def _function(self, node) -> None:
        args = node.args
        params = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        assigned = {
            n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
        self._scope(node, params | assigned)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def _comprehension(self, node) -> None:
        targets: set[str] = set()
        for generator in node.generators:
            targets |= _target_names(generator.target)
        self._scope(node, targets)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and not any(node.id in s for s in self.local_scopes):
            self.reads.add(node.id)


def global_reads(tree: ast.Module | None) -> set[str]:
    if tree is None:
        return set()
    visitor = _GlobalReads()
    visitor.visit(tree)
    return visitor.reads


def solution_leaks(notebook) -> list[str]:
    """Names only a solution cell defines that a later cell reads (breaks the student copy)."""
    cells = notebook.cells
    trees = [parse_cell(c.source) if c.cell_type == "code" else None for c in cells]
    problems = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or "solution" not in tags(cell):
            continue
        defined_before = set()
        for earlier in range(index):
            if cells[earlier].cell_type == "code" and "solution" not in tags(cells[earlier]):
                defined_before |= bound_names(trees[earlier])
        only_here = bound_names(trees[index]) - defined_before
        redefined: set[str] = set()
        for later in range(index + 1, len(cells)):
            other = cells[later]
            if other.cell_type != "code" or "solution" in tags(other):
                continue
            binds = bound_names(trees[later])
            leaked = (global_reads(trees[later]) & only_here) - redefined - binds
            problems += [
                f"{where(later, other)} reads {name!r}, which only the solution "
                f"{where(index, cell)} defines" for name in sorted(leaked)
            ]
            redefined |= binds
    return problems


# --- clean files ----------------------------------------------------------------------------


def test_every_notebook_file_is_named_for_the_course_order():
    stray = [p.name for p in NOTEBOOK_DIR.glob("*.ipynb") if p not in NOTEBOOKS]
    assert not stray, f"name notebooks NN_title.ipynb (e.g. 02_embeddings.ipynb): {stray}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_valid_nbformat_and_kernel_python3(path):
    notebook = read(path)
    nbformat.validate(notebook)
    kernelspec = notebook.metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3", f"kernelspec is {kernelspec}; use python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    notebook = read(path)
    dirty = [
        where(i, cell) for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, (
        f"{path.name}: clear outputs and execution counts before committing (Edit > Clear "
        f"Outputs of All Cells, or `jupyter nbconvert --clear-output --inplace`): {dirty}"
    )
    assert "widgets" not in notebook.metadata, "saved widget state: clear it before committing"


# --- the skeleton ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_title_cell_has_goals_time_and_prerequisites(path):
    title = read(path).cells[0]
    assert title.cell_type == "markdown", "the first cell must be the markdown title cell"
    first_line = title.source.strip().splitlines()[0]
    assert re.match(rf"#\s+{path.name[:2]}\b", first_line), (
        f"the title should read '# {path.name[:2]} · Title', got {first_line!r}"
    )
    for part in ("Learning goals", "Time", "Prerequisites"):
        assert part.lower() in title.source.lower(), f"the title cell lacks '{part}'"
    assert slide_type(title) == "slide"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_is_the_setup_cell(path):
    code = [c for c in read(path).cells if c.cell_type == "code"]
    assert code, "the notebook has no code cells"
    setup = code[0]
    for line in SETUP_LINES:
        assert line in setup.source, f"the first code cell must contain {line!r} (the setup cell)"
    assert "setup" in tags(setup), "tag the setup cell 'setup'"
    assert slide_type(setup) == "skip", "the setup cell's slide type must be 'skip'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_numbered_sections_summary_and_references(path):
    markdown = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    numbers = [int(n) for n in re.findall(r"^##\s+(\d+)\.", markdown, re.MULTILINE)]
    assert numbers and numbers == list(range(1, len(numbers) + 1)), (
        f"sections must be numbered '## 1. ...', '## 2. ...' in order; found {numbers}"
    )
    for heading in ("## Summary", "## References"):
        assert re.search(rf"^{heading}\s*$", markdown, re.MULTILINE), f"missing '{heading}'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_cell_has_slide_metadata(path):
    missing = [
        f"{where(i, cell)}: {slide_type(cell)!r}" for i, cell in enumerate(read(path).cells)
        if slide_type(cell) not in SLIDE_TYPES
    ]
    assert not missing, f"set metadata.slideshow.slide_type to one of " \
        f"{sorted(map(str, SLIDE_TYPES))}: {missing}"


def checked_references() -> set[tuple[str, str]]:
    """(first author's surname, year) of every entry in the skeleton's checked list."""
    text = (REPO_ROOT / "docs" / "notebook_skeleton.md").read_text(encoding="utf-8")
    section = text.split("## References used in the course (checked)", 1)[1]
    entries = re.findall(r"^- ([^,(]+?),[^()]*\((\d{4})\)", section, re.MULTILINE)
    return {(surname.strip().lower(), year) for surname, year in entries}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_references_come_from_the_checked_list(path):
    cells = [c for c in read(path).cells if c.cell_type == "markdown"
             and re.search(r"^## References", c.source, re.MULTILINE)]
    assert cells, "missing '## References'"
    entries = [line for line in cells[0].source.split("## References", 1)[1].splitlines()
               if line.lstrip().startswith(("-", "*", "1", "2", "3", "4", "5", "6", "7", "8"))]
    known = checked_references()
    unknown = [
        entry.strip() for entry in entries
        if not any(name in entry.lower() and year in entry for name, year in known)
    ]
    assert not unknown, (
        "cite only the checked references in docs/notebook_skeleton.md (add new ones there "
        f"first, after checking them): {unknown}"
    )


# --- exercises ------------------------------------------------------------------------------

EXERCISE_NOTEBOOKS = [p for p in NOTEBOOKS if 1 <= number(p) <= 6]


def calls_a_checker(tree: ast.Module | None) -> bool:
    for node in ast.walk(tree) if tree is not None else []:
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name.startswith("check"):
                return True
    return False


@pytest.mark.parametrize("path", EXERCISE_NOTEBOOKS, ids=[p.name for p in EXERCISE_NOTEBOOKS])
def test_exercises_are_stub_solution_checker(path):
    cells = read(path).cells
    headings = sum(len(EXERCISE_HEADING.findall(c.source)) for c in cells
                   if c.cell_type == "markdown")
    solutions = [i for i, c in enumerate(cells) if c.cell_type == "code" and "solution" in tags(c)]
    assert headings >= 2 and len(solutions) >= 2, (
        f"notebooks 01-06 need at least two exercises ('### Exercise N: ...' + stub + solution "
        f"+ checker); found {headings} heading(s) and {len(solutions)} solution cell(s)"
    )
    module = f"nb{path.name[:2]}"
    assert (REPO_ROOT / "course_utils" / "checks" / f"{module}.py").exists(), (
        f"the checkers for {path.name} belong in course_utils/checks/{module}.py"
    )
    for index in solutions:
        solution = cells[index]
        assert slide_type(solution) == "skip", f"{where(index, solution)}: slide type 'skip'"
        stubs = [c for c in cells[:index] if c.cell_type == "code"]
        assert stubs and "exercise" in tags(stubs[-1]), (
            f"{where(index, solution)} must follow its stub, a code cell tagged 'exercise'"
        )
        after = cells[index + 1] if index + 1 < len(cells) else None
        assert after is not None and after.cell_type == "code" and calls_a_checker(
            parse_cell(after.source)), (
            f"{where(index, solution)} must be followed by a code cell calling a checker from "
            f"course_utils.checks.{module}"
        )
        assert module in after.source or any(
            module in c.source for c in cells[:index] if c.cell_type == "code"), (
            f"the checker after {where(index, solution)} should come from "
            f"course_utils.checks.{module}"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_later_cell_needs_a_name_only_a_solution_defines(path):
    leaks = solution_leaks(read(path))
    assert not leaks, (
        "the student copy (solutions removed) would fail with NameError. Let later cells use "
        "course_utils or recompute what they need:\n" + "\n".join(leaks)
    )


# --- the static checks themselves -----------------------------------------------------------


def _notebook(*cells):
    made = []
    for kind, source, cell_tags in cells:
        maker = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        made.append(maker(source, metadata={"tags": list(cell_tags)}))
    return nbformat.v4.new_notebook(cells=made)


def test_leak_check_flags_a_name_only_the_solution_defines():
    notebook = _notebook(
        ("code", "answer = None", ["exercise"]),
        ("code", "answer = 3\nhelper = lambda x: x", ["solution"]),
        ("code", "check(answer)", []),
        ("code", "print(helper(answer))", []),
    )
    leaks = solution_leaks(notebook)
    assert len(leaks) == 1 and "'helper'" in leaks[0]


def test_leak_check_allows_recomputed_local_and_magic_cells():
    notebook = _notebook(
        ("code", "%matplotlib inline\ndata = [1, 2]", []),
        ("code", "def f():\n    return None", ["exercise"]),
        ("code", "def f():\n    return sum(data)\nscaled = [x * 2 for x in data]",
         ["solution"]),
        ("code", "scaled = [x * 3 for x in data]\nprint(scaled, [scaled for scaled in data])",
         []),
        ("code", "def g(scaled):\n    return scaled\nprint(f(), g(1), data)", []),
    )
    assert solution_leaks(notebook) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_slides_use_the_offline_theme(path):
    """reveal.js's default theme for RISE ("simple") loads Google fonts; "white" ships its own."""
    rise = read(path).metadata.get("rise", {})
    assert rise.get("theme") == "white", (
        f"set the notebook metadata 'rise' to {{'theme': 'white', 'scroll': true}}; got {rise}")
