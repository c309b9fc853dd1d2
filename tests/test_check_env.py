"""The environment check (``course_utils.environment``, printed by
``python -m course_utils.cli.check_env``) reads its pins and the Python range from the installed
package's metadata and reports a mismatch with the command that fixes it (all without a second
Python)."""

from __future__ import annotations

import importlib.metadata as metadata
import sys
import tomllib

import pytest

from course_utils import environment, notebook_setup
from course_utils.environment import (
    Pin,
    Requirement,
    check_pin,
    check_pins,
    check_python,
    parse_pins,
)
from course_utils.paths import REPO_ROOT

NUMPY = metadata.version("numpy")


def test_pins_are_read_with_their_extra():
    pins = parse_pins(["numba==0.68.1", 'pytest==9.2.0; extra == "dev"'])
    assert pins == [Pin("numba", "0.68.1"), Pin("pytest", "9.2.0", "dev")]


@pytest.mark.parametrize("loose", ["numba", "numba>=0.60", "numba~=0.68; extra == 'dev'"])
def test_a_loose_requirement_is_an_error_not_a_silent_skip(loose):
    with pytest.raises(ValueError, match="exact `name==version` pin"):
        parse_pins([loose])


def test_the_checked_pins_are_the_installed_packages_pins():
    # No list in the code: what the check checks is what pyproject.toml pins (numba included).
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    written = {dep.replace(" ", "") for dep in project["dependencies"]}
    written |= {f"{dep}[dev]" for dep in project["optional-dependencies"]["dev"]}
    read = {f"{p.name}=={p.version}" + (f"[{p.extra}]" if p.extra else "")
            for p in environment.installed_pins()}
    assert read == written, "the installed metadata is stale: run `make setup`"
    assert any(p.name == "numba" for p in environment.installed_pins())


def test_a_version_mismatch_names_both_versions_and_the_exact_fix():
    result = check_pin(Pin("numpy", "1.0.0"), find_module=False)
    assert not result.passed
    assert result.detail == f"{NUMPY} installed, 1.0.0 pinned"
    assert f'{sys.executable} -m pip install "numpy==1.0.0"' in result.fix
    assert "-> run `" in result.line()


def test_a_missing_package_is_reported_with_the_install_command():
    result = check_pin(Pin("no-such-course-package", "1.2.3"))
    assert not result.passed and result.detail == "not installed (1.2.3 pinned)"
    assert 'pip install "no-such-course-package==1.2.3"' in result.fix


def test_a_matching_pin_passes_and_a_build_label_is_ignored(monkeypatch):
    assert check_pin(Pin("numpy", NUMPY)).passed  # also finds the numpy module
    monkeypatch.setattr(environment.metadata, "version", lambda name: "2.13.0+cpu")
    assert check_pin(Pin("torch", "2.13.0"), find_module=False).passed


def test_an_install_without_its_module_fails_with_a_reinstall(monkeypatch):
    monkeypatch.setattr(environment, "_import_name", lambda dist: "no_such_module_here")
    result = check_pin(Pin("numpy", NUMPY))
    assert not result.passed and "module `no_such_module_here` is missing" in result.detail
    assert "--force-reinstall" in result.fix


def test_import_names_come_from_the_distribution():
    assert environment._import_name("umap-learn") == "umap"
    assert environment._import_name("scikit-learn") == "sklearn"
    assert environment._import_name("no-such-course-package") is None


def test_extra_pins_are_checked_only_when_installed():
    results = check_pins([Pin("no-such-dev-tool", "1.0", "dev"), Pin("numpy", "1.0.0", "dev")])
    assert [(r.name, r.passed) for r in results] == [("numpy [dev]", False)]


def test_a_course_package_that_is_not_installed_is_one_fail(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(environment.metadata, "requires", not_installed)
    [result] = environment.check_course_pins()
    assert not result.passed and "make setup" in result.fix


def test_python_is_checked_against_the_supported_range():
    old = check_python((3, 10, 13), ">=3.11,<3.14")
    assert not old.passed
    assert old.detail == "3.10.13 is not supported: the course works on Python 3.11, 3.12 or 3.13"
    assert "make setup PYTHON=python3.13" in old.fix
    assert check_python((3, 13, 0), ">=3.11,<3.14").passed
    assert not check_python((3, 14, 0), ">=3.11,<3.14").passed


def test_the_range_comes_from_the_installed_metadata():
    spec = metadata.metadata("course_utils")["Requires-Python"]
    assert environment.requires_python() == spec
    here = check_python()
    assert here.passed, here.line()
    assert here.detail.startswith(".".join(map(str, sys.version_info[:3])) + " (supported: 3.")


# ------------------------------------------------------------------ course variables
def test_a_wrong_thread_count_fails_here_not_first_in_setup(monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "abc")
    result = environment.check_threads()
    assert not result.passed
    assert "COURSE_THREADS='abc' is not a positive whole number" in result.detail
    assert "unset it" in result.detail and "run this check again" in result.fix
    monkeypatch.setenv("COURSE_THREADS", "3")
    assert environment.check_threads().detail == "3 torch threads (COURSE_THREADS)"
    monkeypatch.delenv("COURSE_THREADS")
    assert environment.check_threads().passed


@pytest.mark.parametrize(("setting", "hardware", "native", "detail"), [
    ("", "CPU has avx512_bf16", True, "bfloat16 (CPU has avx512_bf16)"),
    ("auto", None, False, "float32 (no native bfloat16 on this machine)"),
    ("float32", "CPU has avx512_bf16", True, "float32 (COURSE_PRECISION=float32)"),
    ("bf16", None, False, "bfloat16 (COURSE_PRECISION=bf16; emulated on this machine, so "
                          "slower than float32)"),
])
def test_the_check_says_which_precision_training_will_use(monkeypatch, setting, hardware,
                                                          native, detail):

    monkeypatch.setenv("COURSE_PRECISION", setting)
    monkeypatch.setattr(notebook_setup, "native_bf16", lambda: native)
    monkeypatch.setattr(environment, "_bf16_hardware", lambda: hardware)
    result = environment.check_precision()
    assert result.passed and result.detail == detail


def test_a_wrong_precision_fails_with_the_training_modules_message(monkeypatch):
    from course_utils import training

    monkeypatch.setenv("COURSE_PRECISION", "fp16")
    with pytest.raises(ValueError) as raised:
        training.precision_setting()
    result = environment.check_precision()
    assert not result.passed and result.detail == str(raised.value)
    assert "COURSE_PRECISION='fp16' is not one of auto, float32, bf16" in result.line()


def test_the_command_line_fails_on_a_wrong_variable_instead_of_all_passed(monkeypatch, capsys):
    from course_utils.cli import check_env

    for slow in ("check_course_pins", "check_model", "check_dataset"):  # not what this tests
        monkeypatch.setattr(environment, slow, lambda: Requirement("stub", True, "ok"))
    monkeypatch.setenv("COURSE_THREADS", "abc")
    monkeypatch.setenv("COURSE_PRECISION", "auto")
    assert check_env.main() == 1
    printed = capsys.readouterr().out
    assert "[FAIL] threads: COURSE_THREADS='abc'" in printed
    assert "All checks passed" not in printed and "Traceback" not in printed
    assert "[OK  ] training precision:" in printed
