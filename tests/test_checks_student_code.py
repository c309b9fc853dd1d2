"""Checkers call a learner's function safely: an endless loop, a flood of output or a huge
exception message never hangs or floods the cell (course_utils.checks.student_code)."""

from __future__ import annotations

import time

import pytest

from course_utils.checks import core, nb03, nb04, nb06, nb07
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
