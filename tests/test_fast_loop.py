"""`make test-fast` stays fast: a test that starts a kernel or `python -m` must say so.

tests/conftest.py watches ``subprocess`` in every test not marked ``process`` or ``slow``;
these tests run a copy of that conftest on two tiny test files in a separate pytest.
"""

from __future__ import annotations

import sys

import pytest

from course_utils.paths import REPO_ROOT

pytest_plugins = ["pytester"]

STARTS_PYTHON = """
import subprocess, sys
import pytest

def test_unmarked():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

@pytest.mark.process
def test_marked():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

def test_a_small_system_helper_is_fine():
    subprocess.run(["true"], check=True)
"""


@pytest.mark.process
def test_an_unmarked_test_that_starts_python_fails(pytester):
    conftest = (REPO_ROOT / "tests" / "conftest.py").read_text()
    guard = 'Path(__file__).resolve().parent / "offline_guard"'
    assert guard in conftest
    pytester.makeconftest(conftest.replace(guard, repr(str(REPO_ROOT / "tests" / "offline_guard"))
                                           .join(("Path(", ")"))))
    pytester.makeini("[pytest]\nmarkers =\n    process: starts a process\n    slow: slow\n"
                     "    browser: browser\n")
    pytester.makepyfile(test_demo=STARTS_PYTHON)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*Failed: this test started*mark it @pytest.mark.process*",
                                 "ERROR test_demo.py::test_unmarked*"])


def test_what_counts_as_starting_a_process():
    from conftest import _is_heavy

    assert _is_heavy([sys.executable, "-m", "ipykernel_launcher"])
    assert _is_heavy("jupyter lab --no-browser")
    assert _is_heavy(["/usr/bin/chromium", "--headless"])
    assert not _is_heavy(["fc-list", "--format=%{file}"])
    assert not _is_heavy("/sbin/ldconfig -p")
