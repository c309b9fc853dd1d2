"""Calling a learner's function from a checker, safely: the one place that does it.

:func:`call_student` runs the function in a helper thread while the checker waits at most
:data:`TIME_LIMIT_S`; whatever the function does (an endless loop, a bare ``except:`` that
swallows every stop request, ``sys.exit()``), the checker gets its verdict back on time. An
exception of any kind (``SystemExit``, ``GeneratorExit`` and ``KeyboardInterrupt`` included), a
run over the time limit or a flood of output (capped) becomes a :class:`StudentCodeError` that
completes "your function ..."; :func:`call_or_fail` and :func:`check_number_cases` build on it.

The calls one check makes share a single time limit (:func:`shared_time_limit`, which
:func:`course_utils.checks.core.checker` opens), so a slow function costs a check one limit,
not one per test case.

A function that ran out of time is asked to stop (an exception raised inside it, repeated for
:data:`STOP_GRACE_S`); one that catches even that keeps running in the background, and the
verdict says to restart the kernel. A real interrupt (Ctrl-C, Jupyter's "Interrupt the kernel")
reaches the waiting checker, not the learner's loop: the learner's function is asked to stop and
the ``KeyboardInterrupt`` goes on, so the cell (and a "Run All") stops as usual.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import io
import math
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from course_utils.claims import CheckResult, as_number, describe, fail, ok

#: Seconds (wall clock) a learner's function may run before the checker gives up, per call and
#: for all the calls of one check together: generous, since a first call may import a library
#: on a busy shared machine.
TIME_LIMIT_S = 30.0
#: Seconds the checker keeps asking a function that ran out of time to stop before it leaves it
#: running in the background and says so.
STOP_GRACE_S = 2.0
#: Seconds between two looks at the learner's thread (and between two stop requests).
_POLL_S = 0.005
#: Characters of the learner's printed output shown in the cell; the rest is counted.
MAX_OUTPUT_CHARS = 2_000
#: Characters of an exception's message quoted in a hint.
MAX_MESSAGE_CHARS = 300


class StudentCodeError(Exception):
    """The learner's function raised, or ran out of time; ``str()`` says which, briefly."""


class _OutOfTime(BaseException):
    """Raised inside the learner's code to stop it after the time limit; a BaseException so
    that an ``except Exception`` in their loop does not swallow it."""


#: Advice added when the learner's code raised one of the exceptions that end a program.
_PROGRAM_ENDING = {
    SystemExit: "sys.exit() and exit() end the whole program; `return` the value instead",
    KeyboardInterrupt: "it stops a program by hand; raise ValueError (or return) instead",
    GeneratorExit: "it is meant for closing generators; raise ValueError (or return) instead",
}


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


class _Budget:
    """The seconds left to the learner's code in one check (see :func:`shared_time_limit`)."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.left = seconds, seconds


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "course_student_budget", default=None)


@contextlib.contextmanager
def shared_time_limit(seconds: float | None = None) -> Iterator[None]:
    """Let every :func:`call_student` inside share one limit of ``seconds`` (default
    :data:`TIME_LIMIT_S`): the time the learner's code runs, added up over the calls. Nested
    uses keep the outer limit."""
    if _BUDGET.get() is not None:
        yield
        return
    token = _BUDGET.set(_Budget(TIME_LIMIT_S if seconds is None else seconds))
    try:
        yield
    finally:
        _BUDGET.reset(token)


class _StudentThread(threading.Thread):
    """Runs ``function(*args, **kwargs)`` once and keeps its value or the exception it raised
    (any BaseException: nothing the learner raises escapes into the checker)."""

    def __init__(self, function: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        super().__init__(name="course-student-code", daemon=True)
        self.call = (function, args, kwargs)
        self.context = contextvars.copy_context()  # e.g. numpy's errstate, the time budget
        self.grad_enabled = _torch_grad_enabled()
        self.value: Any = None
        self.error: BaseException | None = None
        self.running = True

    def run(self) -> None:
        function, args, kwargs = self.call
        try:
            if self.grad_enabled is not None:  # torch's grad mode is per thread: copy the caller's
                sys.modules["torch"].set_grad_enabled(self.grad_enabled)
            self.value = self.context.run(function, *args, **kwargs)
        except BaseException as error:  # noqa: BLE001 - the learner's code may raise anything
            self.error = error
        self.running = False  # a plain store: no stop request can land after it


def _torch_grad_enabled() -> bool | None:
    """The caller's torch grad mode, or None when torch is not imported."""
    torch = sys.modules.get("torch")
    return None if torch is None else bool(torch.is_grad_enabled())


def _raise_in(thread: _StudentThread, exception: type[BaseException] | None) -> None:
    """Make ``exception`` raise inside ``thread`` at its next bytecode boundary (None clears a
    pending one); only while the learner's function is still running."""
    if thread.running or exception is None:
        pending = None if exception is None else ctypes.py_object(exception)
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), pending)


def _stop(thread: _StudentThread, grace: float | None = None) -> bool:
    """Ask the learner's function to stop, again and again for ``grace`` seconds (default
    :data:`STOP_GRACE_S`; a bare ``except:`` swallows one request, rarely all of them); True
    when it stopped."""
    give_up = time.monotonic() + (STOP_GRACE_S if grace is None else grace)
    while thread.running and time.monotonic() < give_up:
        _raise_in(thread, _OutOfTime)
        thread.join(_POLL_S)
    if not thread.running:
        _raise_in(thread, None)
    return not thread.running


def _wait(thread: _StudentThread, seconds: float | None) -> bool:
    """Wait up to ``seconds`` (None: no limit) for the function to return; True when it did.

    Short waits keep a real Ctrl-C prompt: it arrives here, in the checker's thread; the
    learner's function is then stopped and the ``KeyboardInterrupt`` goes on.
    """
    end = None if seconds is None else time.monotonic() + seconds
    try:
        while thread.running:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return False
            thread.join(0.1 if left is None else min(0.1, left))
    except BaseException:  # Ctrl-C: stop the learner's code briefly, let the interrupt go on
        _stop(thread, grace=min(STOP_GRACE_S, 0.5))
        raise
    return True


def _out_of_time(seconds: float, shared: bool, stopped: bool) -> StudentCodeError:
    """The verdict for a function that ran out of time (and, maybe, would not stop)."""
    within = (f"within the {seconds:g} s this check allows for all its calls together"
              if shared else f"within {seconds:g} s")
    if stopped:
        return StudentCodeError(f"did not finish {within} (an endless loop? a `while` whose "
                                "condition never changes?)")
    return StudentCodeError(
        f"did not finish {within} and is still running in the background: it catches the "
        "request to stop (a bare `except:` or `except BaseException:` in a loop?). Catch only "
        "the errors you expect (e.g. `except ValueError:`), then restart the kernel "
        "(Kernel > Restart) to stop the old run")


def _raised(error: BaseException) -> StudentCodeError:
    """The verdict for a function that raised ``error``."""
    message = f"raised {type(error).__name__}"
    if str(error):
        message += f": {shorten(error)}"
    advice = next((text for kind, text in _PROGRAM_ENDING.items() if isinstance(error, kind)),
                  None)
    return StudentCodeError(f"{message} ({advice})" if advice else message)


def _limit_now(time_limit: float | None) -> tuple[float | None, bool]:
    """The seconds this call may run (None: no limit) and whether the check's shared limit,
    rather than the per-call one, sets it."""
    per_call = TIME_LIMIT_S if time_limit is None else time_limit
    per_call = per_call if per_call > 0 else None
    budget = _BUDGET.get()
    if budget is None or (per_call is not None and per_call <= budget.left):
        return per_call, False
    return max(budget.left, 0.0), True


def call_student(function: Callable[..., Any], *args: Any, time_limit: float | None = None,
                 **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` with a time limit and capped output; raises
    :class:`StudentCodeError` if it raised (anything, ``SystemExit`` included) or ran too long.

    ``time_limit``: seconds for this call (default :data:`TIME_LIMIT_S`; 0 or less: none),
    shortened to what is left of the check's :func:`shared_time_limit`. At most
    :data:`MAX_OUTPUT_CHARS` of what the function printed reaches ``sys.stdout``. A returned
    tensor comes back detached.
    """
    limit, shared = _limit_now(time_limit)
    budget = _BUDGET.get()
    if shared and limit <= 0:
        raise _out_of_time(budget.seconds, shared=True, stopped=True)
    captured = _CappedText(MAX_OUTPUT_CHARS)
    thread = _StudentThread(function, args, kwargs)
    started = time.monotonic()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            thread.start()
            finished = _wait(thread, limit)
            stopped = finished or _stop(thread)
    finally:
        if budget is not None:
            budget.left -= time.monotonic() - started
        if captured.size or captured.dropped:
            sys.stdout.write(captured.text())
    if not finished:
        raise _out_of_time(budget.seconds if shared else limit, shared=shared, stopped=stopped)
    if thread.error is not None:
        raise _raised(thread.error)
    return _detached(thread.value)


def _detached(value: Any) -> Any:
    """A returned tensor without its autograd graph (``requires_grad`` would make numpy refuse
    it); checkers compare values and never backpropagate. Anything else unchanged."""
    return value.detach() if hasattr(value, "detach") and hasattr(value, "requires_grad") \
        else value


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
