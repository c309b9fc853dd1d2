"""The checker building blocks never raise and give specific hints (except in strict mode)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.checks import (
    STRICT_ENV,
    CheckResult,
    StrictCheckError,
    check_array,
    check_callable,
    check_choice,
    check_number,
    checker,
    fail,
    ok,
)


def test_check_number_right_wrong_and_broken():
    assert check_number(0.5, 0.5).passed
    assert check_number(torch.tensor(0.5), 0.5).passed
    assert check_number(np.float32(0.5), 0.5).passed
    wrong = check_number(0.7, 0.5)
    assert not wrong.passed and "expected about 0.5" in wrong.message and "0.7" in wrong.message
    hidden = check_number(0.7, 0.5, reveal=False, hint="Think about the ends.")
    assert not hidden.passed and "0.5" not in hidden.message and "0.7" in hidden.message
    assert "Think about the ends." in hidden.message
    for broken in (None, "0.5", [0.5], float("nan"), torch.ones(3), True):
        result = check_number(broken, 0.5)
        assert isinstance(result, CheckResult) and not result.passed


def test_check_array_reports_shape_and_values():
    assert check_array(torch.tensor([1.0, 2.0]), [1, 2]).passed
    assert "shape (3,)" in check_array(np.ones(3), [1, 2]).message
    assert "differs" in check_array([1.0, 2.5], [1, 2]).message
    assert not check_array(None, [1]).passed
    assert not check_array(["a", "b"], [1, 2]).passed
    assert not check_array([np.nan, 1.0], [1, 2]).passed


def test_check_choice_is_forgiving_about_case_and_spaces():
    assert check_choice(" Semi-Hard ", "semi-hard").passed
    assert not check_choice("hard", "semi-hard").passed
    assert "not one of" in check_choice("medium", "easy", options=["easy", "hard"]).message
    assert not check_choice(None, "easy").passed


def test_check_callable_catches_exceptions_in_learner_code():
    def broken(x):
        raise ZeroDivisionError("oops")

    result = check_callable(broken, [((1,), 1)])
    assert not result.passed and "ZeroDivisionError" in result.message
    assert check_callable(lambda x: x * 2, [((1,), 2), ((2,), 4)]).passed
    assert not check_callable(lambda x: None, [((1,), 2)]).passed
    assert not check_callable("not a function", [((1,), 2)]).passed


def test_checker_decorator_turns_crashes_into_hints():
    @checker("demo")
    def check_demo(answer):
        return ok() if answer["key"] == 1 else ok()

    result = check_demo(None)
    assert not result.passed and result.name == "demo" and "TypeError" in result.message
    html = result._repr_html_()
    assert "Not yet" in html and "demo" in html
    assert "Correct" in check_demo({"key": 1})._repr_html_()


@pytest.mark.parametrize("value", [None, 1, "x", object()])
def test_checker_that_forgets_to_return_is_reported(value):
    @checker("silent")
    def check_silent(answer):
        return None

    assert not check_silent(value).passed


@checker("strict demo")
def check_is_one(answer):
    return ok("it is one.") if answer == 1 else fail(f"expected 1, got {answer!r}.")


@pytest.mark.parametrize("setting", [None, "", "0"])
def test_friendly_mode_answers_not_yet(monkeypatch, setting):
    if setting is None:
        monkeypatch.delenv(STRICT_ENV, raising=False)
    else:
        monkeypatch.setenv(STRICT_ENV, setting)
    result = check_is_one(None)
    assert not result.passed and "got None" in result.message
    assert check_is_one(1).passed


def test_strict_mode_raises_where_a_checker_would_say_not_yet(monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    assert check_is_one(1).passed, "a right answer must still pass in strict mode"
    with pytest.raises(StrictCheckError, match=r"strict demo: expected 1, got 2"):
        check_is_one(2)
    crashing = checker("crashing")(lambda answer: answer["key"])
    with pytest.raises(StrictCheckError, match="TypeError"):  # a crash while checking fails too
        crashing(None)


def test_the_test_process_runs_checkers_in_friendly_mode():
    """tests/conftest.py switches strict mode on only for the solution notebooks' kernels."""
    assert not check_is_one(None).passed  # no exception: unit tests see the student behaviour


# --------------------------------------------------------------------------------------------
# Issue 29: answers in other types are read as what they are; wrong types are named
# --------------------------------------------------------------------------------------------


def test_a_right_answer_with_requires_grad_passes():
    from course_utils.checks import nb02

    def cosine_in_torch(a, b):
        a = torch.tensor(a, requires_grad=True)
        b = torch.tensor(b)
        return a @ b / (a.norm() * b.norm())

    result = nb02.check_cosine_similarity(cosine_in_torch)
    assert result.passed, result.message
    assert check_number(torch.tensor(0.5, requires_grad=True), 0.5).passed


@pytest.mark.parametrize("wrap", [torch.tensor, np.array, np.float32,
                                  lambda x: torch.tensor([x], requires_grad=True)])
def test_a_number_in_another_type_counts_as_the_number(wrap):
    from course_utils.checks import nb05

    anchor = np.zeros((10, 2))
    positive = np.ones((10, 2)) * np.linspace(0, 1, 10)[:, None]
    negative = np.ones((10, 2)) * 0.45
    expected = nb05.active_fraction(anchor, positive, negative, 0.5)
    assert 0 < expected < 1
    result = nb05.check_active_fraction(wrap(expected), anchor, positive, negative)
    assert result.passed, result.message


def test_indices_must_be_whole_numbers_not_truncated_floats():
    from course_utils.checks import nb07

    def shifted(labels, anchor):
        return [j + 0.4 for j in nb07.false_negatives_reference(labels, anchor)]

    result = nb07.check_false_negatives(shifted)
    assert not result.passed and "must be whole numbers" in result.message, result.message

    def as_tensor(labels, anchor):
        return torch.tensor(sorted(nb07.false_negatives_reference(labels, anchor)),
                            dtype=torch.long)

    assert nb07.check_false_negatives(as_tensor).passed


@pytest.mark.parametrize("answer", [{"same_group": 1}, ["same_group"], 3])
def test_a_choice_of_the_wrong_type_says_what_was_expected(answer):
    result = check_choice(answer, "same_group", options=("random", "same_group"))
    assert not result.passed
    assert "should be a string, one of ['random', 'same_group']" in result.message, result.message
    assert "unhashable" not in result.message
