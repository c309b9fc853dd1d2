"""Calling a learner's function from a checker, safely: the one place that does it.

:func:`call_student` turns an exception, a run over the time limit (a timer, Unix main thread
only) or a flood of output (capped) into a :class:`StudentCodeError` that completes "your
function ..."; :func:`call_or_fail` and :func:`check_number_cases` build on it.
"""

from __future__ import annotations

import contextlib
import io
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from course_utils.claims import CheckResult, as_number, describe, fail, ok

#: Seconds (wall clock) a learner's function may run per call before the checker gives up:
#: generous, since a first call may import a library on a busy shared machine.
TIME_LIMIT_S = 30.0
#: Characters of the learner's printed output shown in the cell; the rest is counted.
MAX_OUTPUT_CHARS = 2_000
#: Characters of an exception's message quoted in a hint.
MAX_MESSAGE_CHARS = 300


class StudentCodeError(Exception):
    """The learner's function raised, or ran out of time; ``str()`` says which, briefly."""


class _OutOfTime(BaseException):
    """Raised inside the learner's code by the timer; a BaseException so that an
    ``except Exception`` in their loop cannot swallow it."""


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


class _CappedText(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit, self.kept, self.dropped = limit, [], 0
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = self.limit - self.size
        if room > 0:
            self.kept.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        hidden = (f"\n[... {self.dropped:,} more characters of output hidden]\n"
                  if self.dropped else "")
        return "".join(self.kept) + hidden


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_OutOfTime` in this thread after ``seconds`` (if the platform allows)."""
    usable = (hasattr(signal, "setitimer") and seconds > 0
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def out_of_time(signum, frame):  # noqa: ARG001 - signal handler signature
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call_student(function: Callable[..., Any], *args: Any, time_limit: float = TIME_LIMIT_S,
                 **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` with a time limit and capped output; raises
    :class:`StudentCodeError` if it raised or ran too long. At most :data:`MAX_OUTPUT_CHARS` of
    what it printed reaches ``sys.stdout``.
    """
    captured = _CappedText(MAX_OUTPUT_CHARS)
    try:
        with (_time_limit(time_limit), contextlib.redirect_stdout(captured),
              contextlib.redirect_stderr(captured)):
            return function(*args, **kwargs)
    except _OutOfTime:
        raise StudentCodeError(
            f"did not finish within {time_limit:g} s (an endless loop? a `while` whose "
            "condition never changes?)") from None
    except Exception as error:  # the learner's code may raise anything
        raise StudentCodeError(
            f"raised {type(error).__name__}: {shorten(error)}") from None
    finally:
        if captured.size or captured.dropped:
            sys.stdout.write(captured.text())


def call_or_fail(function: Callable[..., Any], args: tuple, index: int
                 ) -> tuple[Any, CheckResult | None]:
    """``(answer, None)``, or ``(None, a failing verdict)`` when test case ``index`` raised or
    ran too long."""
    try:
        return call_student(function, *args), None
    except StudentCodeError as error:
        return None, fail(f"your function {error} on test case {index}. Run it on that input in "
                          "a cell of its own to see why.")


def check_number_cases(function: Any, cases: Sequence[tuple[tuple, float, str]], *,
                       what: str, tolerance: float, returns: str,
                       hint: Callable[[int, float], str], passed: str) -> CheckResult:
    """Call the learner's ``function(*arguments)`` for each case ``(arguments, expected,
    description)`` and compare the number it returns with ``expected``.

    The first failure names the case, both values and ``hint(case_number, value)``; ``returns``
    says what the number is. All cases right: ``ok(passed)``.
    """
    if function is None:
        return fail(f"{what} is None; define the function (replace the stub).")
    if not callable(function):
        return fail(f"{what} should be a function: pass your function itself (no brackets), "
                    f"got {describe(function)}.")
    for index, (arguments, want, description) in enumerate(cases, start=1):
        answer, error = call_or_fail(function, arguments, index)
        if error is not None:
            return error
        if answer is None:
            return fail(f"on test case {index} your function returned None; did you forget "
                        "`return`?")
        value = as_number(answer)
        if value is None and _not_finite(answer):
            return fail(f"on test case {index} your function returned {float(answer)}; look for "
                        "a division by zero or a square root of 0.")
        if value is None:
            return fail(f"on test case {index} your function should return one number "
                        f"({returns}), got {describe(answer)}.")
        if abs(value - want) > tolerance:
            return fail(f"on test case {index} ({description}) expected {want:.4f}, got "
                        f"{value:.4f}. {hint(index, value)}")
    return ok(passed)


def likely_slip(got: float, slips: dict[str, Any], otherwise: str,
                tolerance: float = 1e-4) -> str:
    """The hint of the first slip whose value (what that mistake would return) is within
    ``tolerance`` of the learner's ``got``; ``otherwise`` when none is."""
    for hint, value in slips.items():
        if abs(float(value) - got) < tolerance:
            return hint
    return otherwise


def _not_finite(answer: Any) -> bool:
    """True for a number (or one-element tensor) that is NaN or infinite."""
    try:
        return not isinstance(answer, (str, bytes)) and not math.isfinite(float(answer))
    except (TypeError, ValueError, RuntimeError):
        return False
