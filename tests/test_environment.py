"""The environment files agree, and the one-line setup works."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from course_utils.paths import REPO_ROOT
from course_utils.python_support import supported_minors


def load_pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def test_every_runtime_dependency_is_pinned_exactly():
    project = load_pyproject()["project"]
    everything = project["dependencies"] + project["optional-dependencies"]["dev"]
    loose = [dep for dep in everything if "==" not in dep]
    assert not loose, f"pin these with ==: {loose}"


def test_environment_yml_delegates_to_pyproject_and_lists_no_second_pins():
    text = (REPO_ROOT / "environment.yml").read_text()
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    entries = [line[2:].strip() for line in lines if line.startswith("- ")]
    assert "-e ." in entries, "environment.yml must install the course package from pyproject"
    # Binder / conda take torch's CPU build (pyproject's pin, from PyTorch's CPU index), not CUDA
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in entries
    pip_options = [e for e in entries if e.startswith("--")]
    assert all("==" not in e for e in pip_options), pip_options  # no second pin hidden there
    conda_packages = [e for e in entries if e not in ("-e .", "conda-forge", "pip")
                      and not e.startswith(("pip:", "--"))]
    assert [e.split("=")[0] for e in conda_packages] == ["python"], conda_packages
    # The Python conda installs must be one the course supports (requires-python).
    version = re.search(r"python=3\.(\d+)\b", text)
    assert version, "environment.yml must pin a python minor version"
    spec = load_pyproject()["project"]["requires-python"]
    assert int(version.group(1)) in supported_minors(spec), (version.group(0), spec)


@pytest.mark.process
def test_importing_course_utils_has_no_side_effects():
    code = (
        "import os, sys; before = dict(os.environ); import course_utils as cu; "
        "heavy = [m for m in ('torch', 'matplotlib', 'sentence_transformers', 'umap', "
        "'sklearn', 'scipy', 'ipywidgets', 'jscatter', 'nbformat') "
        "if m in sys.modules]; "
        "assert not heavy, heavy; assert dict(os.environ) == before, 'environment changed'; "
        "cli = [m for m in sys.modules if m.startswith('course_utils.cli')]; "
        "assert not cli, f'import course_utils imported the command lines: {cli}'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.process
@pytest.mark.parametrize("command", [["vader", "status"], ["train", "--help"],
                                     ["notebooks", "--help"], ["slides", "--help"]])
def test_command_lines_start_without_runpy_warnings(command):
    # runpy warns when `python -m course_utils.cli.X` finds X already imported by a package.
    result = subprocess.run([sys.executable, "-m", f"course_utils.cli.{command[0]}",
                             *command[1:]],
                            capture_output=True, text=True, timeout=120)
    assert "RuntimeWarning" not in result.stderr, result.stderr


@pytest.mark.process
def test_check_env_passes_in_the_installed_environment():
    result = subprocess.run([sys.executable, "-m", "course_utils.cli.check_env"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[FAIL]" not in result.stdout
    assert "bundled model" in result.stdout and "course dataset" in result.stdout


@pytest.mark.process
def test_pip_check_is_clean():
    result = subprocess.run([sys.executable, "-m", "pip", "check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout


@pytest.mark.process
def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "course_utils", "tests", "benchmarks",
         "assets/data"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
