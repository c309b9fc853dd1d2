"""Checkers call a learner's function safely: an endless loop, a flood of output or a huge
exception message never hangs or floods the cell (course_utils.checks.student_code)."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time

import pytest
import torch

from course_utils.checks import core, nb02, nb03, nb04, nb05, nb06, nb07, student_code
from course_utils.checks.student_code import (
    MAX_MESSAGE_CHARS,
    MAX_OUTPUT_CHARS,
    StudentCodeError,
    call_student,
)


def loops_forever(*args):
    while True:
        try:
            time.sleep(0.01)
        except Exception:  # noqa: S112 - a learner's catch-all must not swallow the limit
            continue


def prints_a_flood(*args):
    for _ in range(100_000):
        print("x" * 100)  # 10 MB
    return 0.0


def raises_a_huge_message(*args):
    raise ValueError("y" * 1_000_000)


def test_call_student_returns_the_value_and_passes_short_output_on(capsys):
    assert call_student(lambda a, b: (print("hello"), a + b)[1], 2, 3) == 5
    assert capsys.readouterr().out == "hello\n"


def test_an_endless_loop_is_stopped_by_the_time_limit():
    start = time.perf_counter()
    with pytest.raises(StudentCodeError, match=r"did not finish within 0\.5 s \(an endless loop"):
        call_student(loops_forever, time_limit=0.5)
    assert time.perf_counter() - start < 30  # stopped, not hung (generous: a loaded machine)


def test_a_flood_of_output_is_capped(capsys):
    assert call_student(prints_a_flood) == 0.0
    out = capsys.readouterr().out
    assert len(out) < MAX_OUTPUT_CHARS + 200
    assert "more characters of output hidden]" in out


def test_a_huge_exception_message_is_cut():
    with pytest.raises(StudentCodeError) as raised:
        call_student(raises_a_huge_message)
    message = str(raised.value)
    assert message.startswith("raised ValueError: yyy")
    assert len(message) < MAX_MESSAGE_CHARS + 100 and "more characters)" in message


CHECKERS = {
    "nb03 library-style loss": nb03.check_library_style_loss,
    "nb04 grade triplet": nb04.check_grade_triplet,
    "nb04 cosine triplet loss": nb04.check_cosine_triplet_loss,
    "nb06 false-negative rate": nb06.check_false_negative_rate,
    "nb06 precision at k": nb06.check_precision_at_k,
    "nb07 info_nce": nb07.check_info_nce,
    "core check_callable": lambda f: core.check_callable(f, [((1.0,), 1.0)]),
}


@pytest.mark.parametrize("name", list(CHECKERS))
def test_every_checker_survives_hostile_student_code(name, monkeypatch, capsys):
    from course_utils.checks import student_code

    monkeypatch.setattr(student_code, "TIME_LIMIT_S", 0.5)
    monkeypatch.setattr(student_code.call_student, "__defaults__", None)
    monkeypatch.setattr(student_code.call_student, "__kwdefaults__", {"time_limit": 0.5})
    check = CHECKERS[name]
    for hostile, says in ((loops_forever, "did not finish within"),
                          (raises_a_huge_message, "more characters)"),
                          (prints_a_flood, "")):
        result = check(hostile)
        assert not result.passed, (name, hostile.__name__)
        assert says in result.message and len(result.message) < 1_000, result.message[:300]
    assert len(capsys.readouterr().out) < 3 * (MAX_OUTPUT_CHARS + 200) + 10_000


# --------------------------------------------------------------------------------------------
# Issue 29: a bare `except:` cannot hang a checker; program-ending exceptions become verdicts
# --------------------------------------------------------------------------------------------


def busy_loop_swallowing_everything(*args):
    total = 0
    while True:
        try:
            total += sum(range(10))
        except:  # noqa: E722 - the case: a bare except swallows the stop request
            pass


@pytest.fixture
def sleepy_loop_swallowing_everything():
    """A loop that sleeps inside a bare ``except`` (the stop request always lands inside the
    ``try``); the fixture ends it after the test so no thread outlives the test."""
    done = threading.Event()

    def sleepy(*args):
        while not done.is_set():
            try:
                time.sleep(0.01)
            except:  # noqa: E722, S110 - the case
                pass

    yield sleepy
    done.set()


def test_a_bare_except_cannot_swallow_the_time_limit():
    start = time.perf_counter()
    with pytest.raises(StudentCodeError, match=r"did not finish within 0\.5 s \(an endless"):
        call_student(busy_loop_swallowing_everything, time_limit=0.5)
    assert time.perf_counter() - start < 0.5 + student_code.STOP_GRACE_S + 3
    assert not [t for t in threading.enumerate() if t.name == "course-student-code"], \
        "the busy loop was stopped, not left running"


def test_a_loop_that_cannot_be_stopped_still_gets_its_verdict_on_time(
        sleepy_loop_swallowing_everything):
    start = time.perf_counter()
    with pytest.raises(StudentCodeError) as raised:
        call_student(sleepy_loop_swallowing_everything, time_limit=0.5)
    assert time.perf_counter() - start < 0.5 + student_code.STOP_GRACE_S + 3
    message = str(raised.value)
    assert "still running in the background" in message and "restart the kernel" in message
    assert "bare `except:`" in message


def exits(*args):
    sys.exit(3)


def raises_generator_exit(*args):
    raise GeneratorExit


def raises_keyboard_interrupt(*args):
    raise KeyboardInterrupt("from the learner's code")


@pytest.mark.parametrize(("function", "says"), [
    (exits, "raised SystemExit: 3 (sys.exit() and exit() end the whole program"),
    (raises_generator_exit, "raised GeneratorExit (it is meant for closing generators"),
    (raises_keyboard_interrupt, "raised KeyboardInterrupt: from the learner's code"),
])
def test_program_ending_exceptions_from_student_code_become_verdicts(function, says):
    with pytest.raises(StudentCodeError, match=re.escape(says)):
        call_student(function)
    for check in CHECKERS.values():
        result = check(function)
        assert not result.passed and says.split(" (")[0] in result.message, result.message


def test_program_ending_exceptions_from_an_answer_object_become_verdicts():
    class Exits:
        def __eq__(self, other):
            sys.exit(0)

        __hash__ = None

    check = core.checker("demo")(lambda answer: core.ok() if answer == 1 else core.fail("no"))
    verdict = check(Exits())  # the comparison calls the answer's __eq__, which exits
    assert not verdict.passed and "SystemExit" in verdict.message


def test_a_real_interrupt_stops_the_check_and_the_cell(sleepy_loop_swallowing_everything):
    """Ctrl-C (or Jupyter's interrupt, SIGINT) reaches the waiting checker, not the learner's
    loop, so it is not swallowed: the KeyboardInterrupt goes on and stops the cell."""
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        nb06.check_false_negative_rate(sleepy_loop_swallowing_everything)
    assert time.perf_counter() - start < 20  # not swallowed (generous: a loaded machine)
    timer.join()


def test_the_calls_of_one_check_share_one_time_limit(monkeypatch):
    """nb02's cosine check calls the function twice (a slip test, then the cases): one limit."""
    monkeypatch.setattr(student_code, "TIME_LIMIT_S", 1.0)
    start = time.perf_counter()
    result = nb02.check_cosine_similarity(busy_loop_swallowing_everything)
    elapsed = time.perf_counter() - start
    assert not result.passed
    assert "within the 1 s this check allows for all its calls together" in result.message
    assert elapsed < 1.0 + student_code.STOP_GRACE_S + 0.9, elapsed  # not two limits


def test_the_shared_limit_counts_only_the_learner_code(monkeypatch):
    monkeypatch.setattr(student_code, "TIME_LIMIT_S", 0.6)

    def naps(*args):
        time.sleep(0.25)
        return 1.0

    with student_code.shared_time_limit():
        call_student(naps)
        call_student(naps)
        time.sleep(0.3)  # the checker's own work is not charged
        with pytest.raises(StudentCodeError, match="for all its calls together"):
            call_student(naps)


def test_student_code_runs_under_the_callers_grad_mode():
    with torch.no_grad():
        assert call_student(torch.is_grad_enabled) is False
    assert call_student(torch.is_grad_enabled) is True


def test_nb05_checker_gives_a_verdict_for_sys_exit():
    import pandas as pd

    frame = pd.DataFrame({"topic": ["a", "a", "b", "b"], "sentiment": ["p", "n", "p", "n"]})
    result = nb05.check_same_topic_negative(exits, frame)
    assert not result.passed and "raised SystemExit" in result.message
