"""The supported Python range: read once from requires-python; `make setup` stops early on
any other version with one line (tested with a fake pyproject, so no second Python needed)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from course_utils.paths import REPO_ROOT
from course_utils.python_support import (
    describe,
    spec_from_pyproject,
    supported_minors,
    verdict,
)

SCRIPT = REPO_ROOT / "course_utils" / "python_support.py"
HERE = sys.version_info


def _pyproject_without_this_python(folder):
    """A pyproject.toml whose range excludes the running Python (3.X+1 .. 3.X+2)."""
    path = folder / "pyproject.toml"
    path.write_text(f'[project]\nname = "x"\nrequires-python = ">=3.{HERE.minor + 1},'
                    f'<3.{HERE.minor + 3}"\n')
    return path


@pytest.mark.parametrize("spec", [">=3.11,<3.14", "<3.14,>=3.11", ">= 3.11 , < 3.14"])
def test_the_range_is_read_in_either_order(spec):
    # pip's metadata writes the bounds as "<3.14,>=3.11"
    assert supported_minors(spec) == range(11, 14)
    assert describe(supported_minors(spec)) == "3.11, 3.12 or 3.13"


@pytest.mark.parametrize("spec", [">=3.11", "~=3.11", ">=3.11,<4", ">=3.13,<3.11", ""])
def test_a_range_it_cannot_read_fails_loudly(spec):
    with pytest.raises(ValueError, match=r">=3\.X,<3\.Y"):
        supported_minors(spec)


def test_the_projects_range_includes_this_python():
    spec = spec_from_pyproject(REPO_ROOT / "pyproject.toml")
    supported, line = verdict(tuple(HERE), spec)
    assert supported, line


def test_an_old_python_gets_one_line_with_the_versions_and_how_to_get_one():
    supported, line = verdict((3, 10, 13, "final", 0), ">=3.11,<3.14")
    assert not supported
    assert "\n" not in line
    assert "Python 3.10.13 is not supported" in line and "3.11, 3.12 or 3.13" in line
    assert "make setup PYTHON=python3.13" in line and "pyenv install 3.13" in line
    assert not verdict((4, 11, 0), ">=3.11,<3.14")[0]


@pytest.mark.process  # runs a Python subprocess
def test_the_script_exits_1_with_one_line_on_an_unsupported_python(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT),
                             str(_pyproject_without_this_python(tmp_path))],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"Python {HERE.major}.{HERE.minor}.{HERE.micro} is not supported" in result.stderr


@pytest.mark.process  # runs a Python subprocess
def test_the_script_is_silent_on_a_supported_python():
    result = subprocess.run([sys.executable, str(SCRIPT), str(REPO_ROOT / "pyproject.toml")],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_setup_stops_before_pip_on_an_unsupported_python(tmp_path):
    # The real Makefile and checker, next to a pyproject whose range excludes this Python.
    shutil.copy(REPO_ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "course_utils").mkdir()
    shutil.copy(SCRIPT, tmp_path / "course_utils" / SCRIPT.name)
    _pyproject_without_this_python(tmp_path)
    result = subprocess.run(["make", "--no-print-directory", "setup",
                             f"PYTHON={sys.executable}", "VENV=venv"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert not (tmp_path / "venv").exists(), "a venv was created: the check ran too late"
    assert "pip" not in result.stdout
    said = result.stdout.strip().splitlines()
    assert len(said) == 1 and "is not supported: the course works on Python" in said[0], said


def test_make_setup_names_a_python_it_cannot_run(tmp_path):
    result = subprocess.run(["make", "--no-print-directory", "check-python",
                             "PYTHON=no-such-python3"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "no-such-python3 could not run the version check" in result.stdout
    assert "install one" in result.stdout


def test_the_readme_needs_line_names_exactly_the_supported_versions():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    needs = next(line for line in readme.splitlines() if line.startswith("Needs:"))
    named = sorted({int(minor) for minor in re.findall(r"\b3\.(\d+)\b", needs)})
    assert named == list(supported_minors(spec_from_pyproject(REPO_ROOT / "pyproject.toml")))


@pytest.mark.process  # runs a Python subprocess
def test_test_pythons_finds_this_python():
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    try:
        import run_pythons
    finally:
        sys.path.remove(str(REPO_ROOT / "tests"))
    found = run_pythons.find_python(HERE.minor)
    assert found is not None
    assert found[1].startswith(f"3.{HERE.minor}.")
    assert run_pythons.find_python(1) is None  # nobody has Python 3.1
