"""Verdicts and claims: what every check returns, and a sentence of the prose, checked.

:class:`CheckResult` is a checker's verdict (``passed`` and a message). The ``claim*`` functions
print ``✔ claim: <sentence>`` and raise AssertionError in every mode, strict or not, when the
number behind the sentence stops supporting it. Imports no other course module.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: What a failed claim tells the reader to do, unless the claim says something more specific.
RERUN = ("The notebook's text relies on this; re-run from the top, and if it still fails, tell "
         "the instructor (the data, model or settings changed).")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check: ``passed`` and a message (the hint when it failed)."""

    passed: bool
    message: str
    name: str = "check"

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = "Correct" if self.passed else "Not yet"
        return f"[{mark}] {self.name}: {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour, border, mark = (
            ("#e7f5ee", "#009E73", "&#10004; Correct") if self.passed
            else ("#fdf0e6", "#D55E00", "&#10008; Not yet")
        )
        return (
            f'<div style="background:{colour};border-left:4px solid {border};padding:6px 10px;'
            f'margin:4px 0"><b>{mark}</b> &mdash; {html.escape(self.name)}: '
            f"{html.escape(self.message)}</div>"
        )


def ok(message: str = "well done.", name: str = "check") -> CheckResult:
    return CheckResult(True, message, name)


def fail(hint: str, name: str = "check") -> CheckResult:
    return CheckResult(False, hint, name)


def describe(value: Any) -> str:
    """A short description of a value for messages: type, shape, a preview."""
    if value is None:
        return "None (did the cell forget to `return` or assign the answer?)"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):  # torch tensors
        return f"a {type(value).__name__} of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    return f"{type(value).__name__} {text[:80] + '...' if len(text) > 80 else text}"


def as_number(value: Any) -> float | None:
    """``value`` (a number, numpy scalar or one-element tensor) as a finite float, or None."""
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    value = float(value)
    return value if np.isfinite(value) else None


# --------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------


def claim(holds: bool, sentence: str, *, problem: str = "", name: str = "claim",
          remedy: str = RERUN) -> None:
    """State ``sentence`` (with its numbers) and check it: print ``✔ name: sentence`` when
    ``holds``, else raise AssertionError with the sentence, ``problem`` (what number broke
    it) and ``remedy`` (what to do)."""
    sentence = sentence.rstrip(".")
    if not _truth(holds, sentence):
        broke = f" - {problem.rstrip('.')}" if problem else ""
        raise AssertionError(f"{name} no longer true: {sentence}{broke}. {remedy}")
    print(f"\u2714 {name}: {sentence}")


def _truth(holds: Any, sentence: str) -> bool:
    """``holds`` as True or False; anything else raises TypeError naming the sentence. A NaN
    must never pass: ``claim(nan, ...)`` once printed its tick because only ``not nan`` was
    asked (and ``not nan`` is False)."""
    if hasattr(holds, "item") and not isinstance(holds, (bool, np.bool_)):
        try:  # a 0-d array or one-element tensor from a comparison
            holds = holds.item()
        except (ValueError, RuntimeError):
            pass
    if isinstance(holds, (bool, np.bool_)):
        return bool(holds)
    broken = isinstance(holds, (int, float, np.number)) and as_number(holds) is None
    why = (" A NaN or infinity means a number behind the sentence is missing or broken: find "
           "it before stating the claim." if broken else "")
    raise TypeError(f"whether {sentence!r} holds must be True or False (a comparison such as "
                    f"`a > b`), got {describe(holds)}.{why}")


def _number(value: Any, what: str) -> float:
    number = as_number(value)
    if number is None:
        raise TypeError(f"{what} must be one finite number, got {describe(value)}.")
    return number


def _interval(low: Any, high: Any, what: str) -> tuple[float, float]:
    """(low, high) as finite numbers in order; NaN, infinite or reversed ends raise, naming
    ``what``, since every comparison with a NaN end is False and reads as a broken claim."""
    low = _number(low, f"{what}: the interval's low end")
    high = _number(high, f"{what}: the interval's high end")
    if low > high:
        raise ValueError(f"{what}: the interval runs from {low:g} down to {high:g}; give its "
                         "ends as (low, high) with low <= high.")
    return low, high


def claim_at_least(value: Any, minimum: float, what: str) -> None:
    """"``what`` is at least ``minimum``": ``value`` is a number, array scalar or 0-d tensor."""
    number = _number(value, what)
    claim(number >= minimum, f"{what} = {number:.3f} (at least {minimum:g})",
          problem=f"it is below {minimum:g}")


def claim_within(value: Any, interval: Sequence[float], what: str) -> None:
    """"``interval`` (low, high) contains ``value``", e.g. "the gap's 95% interval reaches 0:
    on this split the gap may be noise"."""
    number = _number(value, f"{what}: the value")
    try:
        low, high = interval
    except (TypeError, ValueError):
        raise TypeError(f"{what}: the interval must be two numbers (low, high), got "
                        f"{describe(interval)}.") from None
    low, high = _interval(low, high, what)
    claim(low <= number <= high,
          f"{what} runs from {low:+.3f} to {high:+.3f}: it contains {number:g}",
          problem=f"it no longer contains {number:g}")


def claim_equal(ours: Any, theirs: Any, *, what: str = "the two losses",
                tolerance: float = 1e-5) -> None:
    """"``what`` agree": two numbers (or 0-d tensors) within ``tolerance`` of each other."""
    a, b = _number(ours, f"{what}: the first value"), _number(theirs, f"{what}: the second value")
    claim(abs(a - b) <= tolerance,
          f"{what} agree: {a:.6f} vs {b:.6f} (difference {abs(a - b):.1e})",
          problem=f"they differ by more than {tolerance:g}", name="same value")


#: A difference's direction -> (whether its 95% interval supports it, what went wrong if not).
_DIRECTIONS = {
    "greater": (lambda low, high: low > 0, "it does not lie above 0"),
    "less": (lambda low, high: high < 0, "it does not lie below 0"),
    "unresolved": (lambda low, high: low <= 0 <= high,
                   "it excludes 0: the seeds now resolve this difference"),
}


def claim_difference(difference: Any, what: str, *, direction: str = "greater") -> None:
    """Claim "A is larger (or smaller) than B" from ``cu.experiments.paired_difference`` (A - B):
    its 95% interval lies above 0 (``"greater"``), below 0 (``"less"``), or contains 0
    (``"unresolved"``).
    """
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {list(_DIRECTIONS)}, got {direction!r}.")
    try:
        mean, low, high, n = (float(difference[key]) for key in ("mean", "low", "high", "n"))
    except (KeyError, TypeError, ValueError):
        raise TypeError("difference must come from cu.experiments.paired_difference(...), got "
                        f"{describe(difference)}.") from None
    seeds = ("; paired_difference gives NaN when the two runs share fewer than 2 seeds with "
             "values (check the results with cu.experiments.load_results())")
    try:
        n = _number(n, f"{what}: the number of seeds n")
        mean = _number(mean, f"{what}: the mean difference")
        low, high = _interval(low, high, what)
    except TypeError as error:  # NaN or infinite
        raise TypeError(f"{str(error).rstrip('.')}{seeds}.") from None
    supported, problem = _DIRECTIONS[direction]
    claim(supported(low, high),
          f"{what}: {mean:+.3f}, 95% interval {low:+.3f} to {high:+.3f} over {n:.0f} seeds",
          problem=problem, remedy="The text relies on this; the committed results "
                                  "(assets/results/) no longer support it.")
