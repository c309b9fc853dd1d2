"""The package's shape: `cu.<Tab>` works in a fresh kernel, and no modules import each other.

The package and its ``plots`` / ``widgets`` / ``checks`` sub-packages import their modules
plainly, so IPython's completer (the one JupyterLab's Tab uses) finds every name in a fresh
kernel; ``import course_utils`` stays light because the heavy libraries are imported inside
functions (tests/test_environment.py checks that none is loaded by the import).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

import course_utils as cu


@pytest.mark.parametrize(
    ("typed", "offered"),
    [("cu.da", "data"), ("cu.tr", "training"), ("cu.plots.proj", "project_2d"),
     ("cu.widgets.mar", "margin_explorer"), ("cu.se", "setup"), ("cu.checks.nb0", "nb05"),
     ("cu.cl", "claims"), ("cu.va", "vader")],
)
def test_tab_completion_offers_every_module_and_function(typed, offered):
    from IPython.core.completer import IPCompleter, provisionalcompleter

    completer = IPCompleter(namespace={"cu": cu}, global_namespace={})
    with provisionalcompleter():
        texts = [c.text for c in completer.completions(typed, len(typed))]
    assert offered in texts, f"{typed}<Tab> offered {texts}"


def test_every_listed_name_resolves():
    for package in (cu, cu.plots, cu.widgets, cu.checks):
        for name in dir(package):
            getattr(package, name)  # AttributeError if Tab offered a name that is not there


# ------------------------------------------------------------------ import graph
PACKAGE = Path(cu.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_names(tree: ast.AST, package: str) -> set[str]:
    """Every ``import`` anywhere in the module: inside functions too (a lazy import is still a
    dependency) and under ``if TYPE_CHECKING:`` (a type named there ties the two modules as
    much: ``TrainingConfig`` once lived in the module its helpers served, hidden that way)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x / from .sub import y
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """course_utils module -> the course_utils modules it imports (parsed, nothing imported)."""
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for target in _imported_names(ast.parse(path.read_text(encoding="utf-8")), package):
            while target and target not in paths:  # from pkg.mod import function -> pkg.mod
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle as a path a -> b -> ... -> a (depth-first search, one per back edge)."""
    cycles, state, path = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_import_cycles_are_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c", "a"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    graph = import_graph()
    assert "course_utils.data" in graph["course_utils.vader"]  # the walk sees real imports
    cycles = [" -> ".join(cycle) for cycle in import_cycles(graph)]
    assert not cycles, "course_utils modules import each other: " + "; ".join(cycles)


def test_claims_sit_below_evaluation_and_the_checkers():
    """The verdict type and the claims import no other course module, so evaluation (middle)
    and the checkers (top) can both use them without evaluation importing checks."""
    graph = import_graph()
    assert not {name for name in graph["course_utils.claims"] if name.startswith("course_utils")}
    assert "course_utils.claims" in graph["course_utils.evaluation"]
    assert not [name for name in graph["course_utils.evaluation"] if ".checks" in name]


# ------------------------------------------------------------------ layering
#: docs/architecture.md's two lowest levels: content and maths, and the bottom.
CONTENT_AND_BELOW = {f"course_utils.{name}" for name in (
    "data", "vader", "vader_files", "triplets", "toy", "paths", "notebook_setup",
    "python_support", "validation", "claims")}


def test_checkers_import_no_widgets_plots_or_training():
    """A checker stands on the check framework and the content and maths below it, never on
    what shows or trains (checks.nb01 once took `weighted_distance` from a widget, checks.nb03
    its toy points from a figure module)."""
    above = ("course_utils.widgets", "course_utils.plots", "course_utils.training",
             "course_utils.cli")
    upward = {name: sorted(t for t in targets if t.startswith(above))
              for name, targets in import_graph().items()
              if name.startswith("course_utils.checks")}
    offenders = {name: targets for name, targets in upward.items() if targets}
    assert not offenders, f"checkers import modules above their level: {offenders}"


def test_the_toy_content_imports_only_content_and_below():
    assert import_graph()["course_utils.toy"] <= CONTENT_AND_BELOW


#: Every module's level (docs/architecture.md, "Layers"): a module imports only modules of its
#: own level or below. Bottom: no course imports; content and maths; embedding; measuring and
#: training; what shows; what checks a learner; command lines (``course_utils.cli``); the
#: packages' front doors.
LEVELS = {
    0: ("paths", "validation", "claims", "python_support"),
    1: ("safe_output", "notebook_setup", "data", "vader_files", "experiments"),
    2: ("vader", "triplets", "toy", "models", "losses"),
    3: ("embedding",),
    4: ("collapse", "evaluation", "training", "training_presets", "multitask", "environment"),
    5: ("plots.figures", "plots.scatter", "plots.projection", "plots.experiments", "plots.toy",
        "plots.training", "plots.batch", "plots.zoom"),
    6: ("widgets.explorer", "widgets.contrast", "widgets.descent", "widgets.hover",
        "widgets.margin", "widgets.search", "widgets.temperature", "widgets.timeline",
        "checks.student_code", "checks.core", "checks.nb01", "checks.nb02", "checks.nb03",
        "checks.nb04", "checks.nb05", "checks.nb06", "checks.nb07", "checks.nb08"),
    7: ("cli.train", "cli.check_env", "cli.notebooks", "cli.slides", "cli.vader"),
    8: ("", "plots", "widgets", "checks", "cli"),
}


def test_every_module_imports_only_its_level_and_below():
    level = {f"course_utils.{name}".rstrip("."): rank
             for rank, names in LEVELS.items() for name in names}
    graph = import_graph()
    assert set(graph) == set(level), ("give each module a level in LEVELS (and in "
                                      f"docs/architecture.md): {sorted(set(graph) ^ set(level))}")
    upward = {f"{name} ({level[name]})": sorted(f"{t} ({level[t]})" for t in targets
                                                if level[t] > level[name])
              for name, targets in graph.items()}
    offenders = {name: targets for name, targets in upward.items() if targets}
    assert not offenders, f"modules import from above their level: {offenders}"


# ------------------------------------------------------------------ the command lines stay apart
def test_no_module_outside_the_cli_package_imports_it():
    """``course_utils.cli`` holds the command lines; the library (and ``import course_utils``)
    never reaches up into them."""
    offenders = {name: sorted(t for t in targets if t.startswith("course_utils.cli"))
                 for name, targets in import_graph().items()
                 if not (name == "course_utils.cli" or name.startswith("course_utils.cli."))}
    offenders = {name: targets for name, targets in offenders.items() if targets}
    assert not offenders, f"modules outside course_utils.cli import it: {offenders}"


#: ``course_utils.cli`` named in Python code: imported, or reached as an attribute.
CLI_IN_CODE = re.compile(r"\bcourse_utils\.cli\b|\bcu\.cli\b|"
                         r"\bfrom\s+course_utils\s+import\s+(?:\(?[\w\s,]*,\s*)?cli\b")


def cli_uses(source: str) -> list[str]:
    """The lines of a code cell that import or call into ``course_utils.cli``; a shell command
    (``!python -m course_utils.cli.train ...``) runs it as a command line and is allowed."""
    return [line.strip() for line in source.splitlines()
            if not line.lstrip().startswith("!") and CLI_IN_CODE.search(line)]


def test_cli_uses_are_found():
    assert cli_uses("from course_utils.cli import train") == ["from course_utils.cli import train"]
    assert cli_uses("import course_utils.cli.notebooks as nt")
    assert cli_uses("cu.cli.train.main([])")
    assert cli_uses("from course_utils import data, cli")
    assert not cli_uses("!python -m course_utils.cli.train --help")
    assert not cli_uses("from course_utils import claims\nimport course_utils as cu")


def test_no_notebook_imports_the_command_lines():
    from course_utils.paths import NOTEBOOK_DIR, course_notebooks

    found = {}
    for path in course_notebooks(NOTEBOOK_DIR):
        notebook = nbformat.read(path, as_version=4)
        lines = [line for cell in notebook.cells if cell.cell_type == "code"
                 for line in cli_uses(cell.source)]
        if lines:
            found[path.name] = lines
    assert not found, ("notebooks use course_utils.cli (command lines only; use the library "
                       f"module, or `!python -m ...`): {found}")
