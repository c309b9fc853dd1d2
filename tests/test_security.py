"""Security hygiene: no code from model repositories, no pickle, safetensors weights.

A static scan (``ast``, so comments and strings do not count) of course_utils/, benchmarks/
and the notebooks' code cells refuses:

* ``trust_remote_code=True`` (runs Python shipped inside a model repository);
* ``pickle.load``/``loads`` (and dill / joblib / cloudpickle / pandas ``read_pickle``):
  loading a pickle runs arbitrary code;
* ``torch.load`` without ``weights_only=True``;
* ``allow_pickle=True`` (NumPy would unpickle object arrays from a cache file).

It also checks that models load from safetensors: ``course_utils/models.py`` passes
``use_safetensors`` and ``trust_remote_code=False``, any other ``SentenceTransformer(...)`` in
course_utils does the same, and a saved model is written as safetensors. ``pip check`` and
ruff run in tests/test_environment.py.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from course_utils.paths import REPO_ROOT

PICKLE_LOADERS = {
    ("pickle", "load"), ("pickle", "loads"), ("cPickle", "load"), ("cPickle", "loads"),
    ("dill", "load"), ("dill", "loads"), ("joblib", "load"), ("cloudpickle", "load"),
    ("cloudpickle", "loads"), ("pd", "read_pickle"), ("pandas", "read_pickle"),
}


def python_sources() -> Iterator[tuple[str, str]]:
    """(label, source) for every .py file in course_utils/ and benchmarks/ and every code cell."""
    for folder in ("course_utils", "benchmarks"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            yield str(path.relative_to(REPO_ROOT)), path.read_text(encoding="utf-8")
    for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                yield f"notebooks/{path.name} cell {index}", cell.source


TIMING_MAGIC = re.compile(r"^(\s*)%{1,2}(?:time|timeit|prun)\b(?:\s+-\S+(?:\s+\d+)?)*\s*",
                          re.MULTILINE)


def parse(source: str) -> ast.AST | None:
    """The AST of a file or cell; code behind %time / %timeit / %%time is scanned too."""
    source = TIMING_MAGIC.sub(r"\1", source)
    try:
        return ast.parse(source)
    except SyntaxError:
        from IPython.core.inputtransformer2 import TransformerManager

        try:
            return ast.parse(TransformerManager().transform_cell(source))
        except SyntaxError:
            return None


def dotted(node: ast.AST) -> tuple[str, ...]:
    """``a.b.c`` -> ("a", "b", "c"); anything else -> ()."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return tuple(reversed(parts))
    return ()


def keyword_value(call: ast.Call, name: str) -> object:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value.value if isinstance(keyword.value, ast.Constant) else "<expr>"
    return None


def unsafe_calls(source: str) -> list[str]:
    """What is unsafe in ``source``, one line per finding."""
    tree = parse(source)
    if tree is None:
        return []
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "trust_remote_code" and not (
            isinstance(node.value, ast.Constant) and node.value.value is False
        ):
            problems.append(f"line {node.value.lineno}: trust_remote_code must be False")
        if isinstance(node, ast.keyword) and node.arg == "allow_pickle" and not (
            isinstance(node.value, ast.Constant) and node.value.value is False
        ):
            problems.append(f"line {node.value.lineno}: allow_pickle must stay False")
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name[-2:] in PICKLE_LOADERS:
                problems.append(f"line {node.lineno}: {'.'.join(name)} runs code from the file;"
                                " store arrays with np.save / safetensors instead")
            if name[-2:] == ("torch", "load") and keyword_value(node, "weights_only") is not True:
                problems.append(f"line {node.lineno}: torch.load needs weights_only=True")
    return problems


def test_no_remote_code_no_pickle_in_course_code_and_notebooks():
    findings = []
    for label, source in python_sources():
        findings += [f"{label}: {problem}" for problem in unsafe_calls(source)]
    assert not findings, "unsafe loading found:\n" + "\n".join(findings)


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("SentenceTransformer(p, trust_remote_code=True)", "trust_remote_code"),
        ("AutoModel.from_pretrained(p, trust_remote_code=flag)", "trust_remote_code"),
        ("import pickle\nx = pickle.load(open(p, 'rb'))", "pickle.load"),
        ("x = pd.read_pickle(p)", "read_pickle"),
        ("x = torch.load(p)", "weights_only"),
        ("x = torch.load(p, weights_only=False)", "weights_only"),
        ("x = np.load(p, allow_pickle=True)", "allow_pickle"),
        ("%time x = torch.load(p)", "weights_only"),
        ("%%timeit -n 1\nx = pickle.loads(b)", "pickle.loads"),
    ],
)
def test_the_scan_finds_unsafe_code(source, found):
    problems = unsafe_calls(source)
    assert problems and found in problems[0]


@pytest.mark.parametrize(
    "source",
    [
        "x = torch.load(p, weights_only=True)",
        "x = np.load(p, allow_pickle=False)",
        "SentenceTransformer(p, trust_remote_code=False)",
        "# pickle.load(f) in a comment\ntext = 'torch.load(p)'",
    ],
)
def test_the_scan_allows_safe_code(source):
    assert unsafe_calls(source) == []


def sentence_transformer_calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and dotted(node.func)[-1:] == ("SentenceTransformer",)]


def uses_safetensors(call: ast.Call) -> bool:
    for keyword in call.keywords:
        if keyword.arg == "model_kwargs" and isinstance(keyword.value, ast.Dict):
            for key, value in zip(keyword.value.keys, keyword.value.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "use_safetensors" and \
                        isinstance(value, ast.Constant) and value.value is True:
                    return True
    return False


def test_models_load_from_safetensors_without_remote_code():
    calls = sentence_transformer_calls(REPO_ROOT / "course_utils" / "models.py")
    assert calls, "course_utils/models.py should construct the SentenceTransformer"
    for call in calls:
        assert uses_safetensors(call), "pass model_kwargs={'use_safetensors': True}"
        assert keyword_value(call, "trust_remote_code") is False, "pass trust_remote_code=False"


def test_other_modules_load_models_through_load_model_or_safetensors():
    offenders = []
    for path in sorted((REPO_ROOT / "course_utils").rglob("*.py")):
        if path.name == "models.py":
            continue
        for call in sentence_transformer_calls(path):
            if not uses_safetensors(call) or keyword_value(call, "trust_remote_code") is not False:
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{call.lineno}")
    assert not offenders, (
        "load models with course_utils.models.load_model (safetensors only, no remote code): "
        f"{offenders}"
    )


def test_the_bundled_model_ships_safetensors_only():
    from course_utils.models import bundled_model_path

    folder = bundled_model_path()
    assert (folder / "model.safetensors").is_file()
    pickled = [p.name for p in folder.rglob("*") if p.suffix in (".bin", ".pt", ".pth", ".pkl")]
    assert not pickled, f"pickled weights next to the model: {pickled}"


@pytest.mark.slow
def test_a_saved_model_is_written_as_safetensors(model, tmp_path):
    training = pytest.importorskip("course_utils.training")
    folder = training.save_model(model, tmp_path / "saved")
    assert (folder / "model.safetensors").is_file()
    assert not list(folder.rglob("*.bin")) and not list(folder.rglob("*.pkl"))
