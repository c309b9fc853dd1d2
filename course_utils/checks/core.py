"""The building blocks of every exercise checker.

A :func:`checker` returns ``ok(...)`` or ``fail(...)`` with a hint; any exception while
inspecting the answer becomes a ``fail``, and the learner's functions it calls share one time
limit (:func:`course_utils.checks.student_code.shared_time_limit`). Strict mode
(``COURSE_STRICT_CHECKS=1``, set only when CI runs the solution notebooks; see docs/testing.md)
turns a "Not yet" into :class:`StrictCheckError`. The verdict type is re-exported from
:mod:`course_utils.claims`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from course_utils.checks.student_code import StudentCodeError, call_student, shared_time_limit
from course_utils.claims import CheckResult, describe, fail, ok

__all__ = ["STRICT_ENV", "CheckResult", "StrictCheckError", "as_index", "as_scalar", "check_array",
           "check_callable", "check_choice", "check_number", "checker", "describe", "fail", "ok",
           "strict_mode"]

#: The environment variable that switches strict mode on ("1"); see the module docstring.
STRICT_ENV = "COURSE_STRICT_CHECKS"


class StrictCheckError(AssertionError):
    """A checker answered "Not yet" in strict mode: the notebook's solution is wrong."""


def strict_mode() -> bool:
    """True when ``COURSE_STRICT_CHECKS`` is set to 1 (read on every call, so tests can flip it)."""
    return os.environ.get(STRICT_ENV, "").strip() == "1"


def checker(name: str) -> Callable[[Callable[..., CheckResult]], Callable[..., CheckResult]]:
    """Decorate a checker: set its display name, give the learner's functions it calls one
    shared time limit, and turn any exception into a hint (``SystemExit`` and ``GeneratorExit``
    from the learner's objects too; a real Ctrl-C still stops the cell); in strict mode a failed
    check raises :class:`StrictCheckError` instead of returning."""

    def wrap(function: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        @functools.wraps(function)
        def safe(*args: Any, **kwargs: Any) -> CheckResult:
            try:
                with shared_time_limit():
                    result = function(*args, **kwargs)
            except (Exception, SystemExit, GeneratorExit) as error:  # the learner's objects
                # (an answer's __eq__, __len__...) may raise anything
                result = fail(
                    f"checking your answer raised {type(error).__name__}: {error}. "
                    "Re-run your cell and look at the value you pass in.",
                )
            if not isinstance(result, CheckResult):
                result = fail("the checker could not reach a verdict (internal); tell us.")
            result = CheckResult(result.passed, result.message, name)
            if not result.passed and strict_mode():
                raise StrictCheckError(f"{STRICT_ENV}=1 and the check failed: {result}")
            return result

        return safe

    return wrap


def as_scalar(value: Any) -> Any:
    """``value`` as a plain Python number when it is one number in another type (a tensor with
    one element, ``requires_grad`` or not; a numpy scalar or one-element array); otherwise
    ``value`` unchanged. Checkers compare values, so the autograd graph is dropped."""
    if hasattr(value, "detach"):
        value = value.detach()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (int, float, str, bytes)) or not hasattr(value, "item"):
        return value
    size = value.numel() if hasattr(value, "numel") else getattr(value, "size", None)
    if size != 1:
        return value
    try:
        return value.item()
    except (TypeError, ValueError, RuntimeError):
        return value


def as_index(value: Any) -> int | None:
    """``value`` as a row or position index (an int, or a numpy/torch integer with one
    element), or None when it is not a whole number of an integer type (``2.4``, ``2.0``,
    ``True``, a string...): ``int()`` would silently cut ``2.4`` to ``2``."""
    value = as_scalar(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        return None
    return int(value)


def check_number(answer: Any, expected: float, *, tolerance: float = 1e-4,
                 what: str = "your value", hint: str = "", reveal: bool = True) -> CheckResult:
    """Is ``answer`` a finite number (a 0-d tensor or numpy scalar counts) within ``tolerance``
    of ``expected``? ``reveal=False``: a wrong number is not told the expected one (for an
    answer that is only that number), only ``hint``."""
    if answer is None:
        return fail(f"{what} is None; assign a number. {hint}".strip())
    answer = as_scalar(answer)
    if hasattr(answer, "shape") and hasattr(answer, "dtype"):
        return fail(f"{what} should be a single number, got {describe(answer)}. {hint}".strip())
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        return fail(f"{what} should be a number, got {describe(answer)}. {hint}".strip())
    if not np.isfinite(answer):
        return fail(f"{what} is {answer}; look for a division by zero. {hint}".strip())
    if abs(float(answer) - float(expected)) <= tolerance:
        return ok(f"{what} = {float(answer):.4g} matches.")
    if not reveal:
        return fail(f"{what} = {float(answer):.4g} is not it yet. {hint}".strip())
    return fail(f"expected about {float(expected):.4g}, got {float(answer):.4g}. {hint}".strip())


def check_array(answer: Any, expected: Any, *, tolerance: float = 1e-4,
                what: str = "your array", hint: str = "") -> CheckResult:
    """Does ``answer`` (numpy array or torch tensor) have the expected shape and values?"""
    expected = np.asarray(expected, dtype=float)
    if answer is None:
        return fail(f"{what} is None; assign the result. {hint}".strip())
    if hasattr(answer, "detach"):
        answer = answer.detach().cpu().numpy()
    try:
        array = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return fail(f"{what} should contain numbers, got {describe(answer)}. {hint}".strip())
    if array.shape != expected.shape:
        return fail(
            f"{what} has shape {array.shape}, expected {expected.shape}. {hint}".strip()
        )
    if not np.isfinite(array).all():
        return fail(f"{what} contains NaN or infinity. {hint}".strip())
    worst = float(np.max(np.abs(array - expected))) if array.size else 0.0
    if worst <= tolerance:
        return ok(f"{what} matches (largest difference {worst:.2g}).")
    return fail(f"{what} differs from the expected values by up to {worst:.3g}. {hint}".strip())


def check_choice(answer: Any, expected: Any, *, options: Iterable[Any] | None = None,
                 what: str = "your answer", hint: str = "") -> CheckResult:
    """Is ``answer`` equal to ``expected`` (strings compared case- and space-insensitively; a
    one-number tensor or numpy scalar counts as the number)?"""

    def norm(value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    if answer is None:
        return fail(f"{what} is None; pick one of the options. {hint}".strip())
    answer = as_scalar(answer)
    choices = [expected] if options is None else list(options)
    if not _same_kind(answer, choices):
        kind = "a string" if all(isinstance(c, str) for c in choices) else "a number"
        return fail(f"{what} should be {kind}, one of {choices}; got {describe(answer)}. "
                    f"{hint}".strip())
    if options is not None and norm(answer) not in {norm(o) for o in options}:
        return fail(f"{what} = {answer!r} is not one of {list(options)}. {hint}".strip())
    if norm(answer) == norm(expected):
        return ok(f"{what} = {answer!r}.")
    return fail(f"{what} = {answer!r} is not it. {hint}".strip())


def _same_kind(answer: Any, choices: Sequence[Any]) -> bool:
    """True when ``answer`` is a string and the choices are strings, or a number (not a bool)
    and they are numbers; a dict or a list never is (and cannot be compared as an option)."""
    def number(value: Any) -> bool:
        return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, (bool, np.bool_))

    if all(isinstance(choice, str) for choice in choices):
        return isinstance(answer, str)
    if all(number(choice) for choice in choices):
        return number(answer)
    return isinstance(answer, (str, int, float, np.integer, np.floating))


def check_callable(function: Any, cases: Sequence[tuple[tuple, Any]], *, tolerance: float = 1e-4,
                   what: str = "your function", hint: str = "") -> CheckResult:
    """Call ``function(*args)`` for each case and compare with the expected output."""
    if not callable(function):
        return fail(f"{what} should be a function, got {describe(function)}. {hint}".strip())
    for index, (args, expected) in enumerate(cases, start=1):
        try:
            got = call_student(function, *args)
        except StudentCodeError as error:
            return fail(f"{what} {error} on test case {index}. {hint}".strip())
        result = check_array(got, expected, tolerance=tolerance,
                             what=f"the output on test case {index}")
        if not result.passed:
            return fail(f"{result.message} {hint}".strip())
    return ok(f"{what} gives the expected output on all {len(cases)} test cases.")
