"""Notebook 07 (in-batch negatives, temperature, hard negatives, retrieval): checkers for
Exercises 1-3 (:func:`check_info_nce`, :func:`check_flatter_temperature`,
:func:`check_false_negatives`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course_utils.checks.core import (
    CheckResult,
    as_index,
    check_choice,
    checker,
    describe,
    fail,
    ok,
)
from course_utils.checks.student_code import call_or_fail, check_number_cases, likely_slip

__all__ = [
    "EXERCISE2_OPTIONS",
    "check_false_negatives",
    "check_flatter_temperature",
    "check_info_nce",
    "false_negatives_reference",
]


# --------------------------------------------------------------------------------------------
# Exercise 1: InfoNCE from the similarity matrix
# --------------------------------------------------------------------------------------------
def _info_nce_cases() -> list[tuple[Any, Any, float]]:
    """(anchor, positive, temperature) cases: random batches, unnormalised rows on purpose."""
    import torch

    generator = torch.Generator().manual_seed(7)
    cases = []
    for n, dim, temperature in ((4, 3, 0.05), (6, 5, 0.5), (3, 8, 1.0), (8, 4, 0.1)):
        anchor, positive = torch.randn(2, n, dim, generator=generator).unbind(0)
        cases.append((anchor * 2.0, positive * 0.5, temperature))
    return cases


def _info_nce_hint(anchor: Any, positive: Any, temperature: float, got: float) -> str:
    """Name the usual mistake when the learner's number matches it."""
    import torch
    import torch.nn.functional as F

    targets = torch.arange(len(anchor))
    unit = F.normalize(anchor, dim=1) @ F.normalize(positive, dim=1).T
    raw = anchor @ positive.T
    mistakes = {
        "You used the dot product of the raw rows; normalise them first (F.normalize), so the "
        "similarity is the cosine.": F.cross_entropy(raw / temperature, targets),
        "You multiplied by the temperature; divide by it (scale = 1 / temperature).":
            F.cross_entropy(unit * temperature, targets),
        "The temperature is missing: divide the similarities by it.":
            F.cross_entropy(unit, targets),
        "That is the sum over anchors; the loss is the mean.":
            F.cross_entropy(unit / temperature, targets, reduction="sum"),
        "The rows and columns are swapped, or the targets are: anchor i's right answer is "
        "column i of sim(anchors, positives).": F.cross_entropy(unit.T / temperature,
                                                                targets.flip(0)),
    }
    return likely_slip(got, mistakes, "Think of row i of the (B, B) similarity matrix as anchor "
                       "i's multiple-choice question: which column holds its right answer, and "
                       "which torch loss takes a row of scores plus the index of the right "
                       "answer? The cosine needs unit-length rows first.")


@checker("Exercise 1: InfoNCE from the similarity matrix")
def check_info_nce(function: Any) -> CheckResult:
    """Check ``info_nce(anchor, positive, temperature) -> scalar tensor`` against the course's
    :func:`course_utils.losses.info_nce_loss` on random batches."""
    from course_utils.losses import info_nce_loss

    cases = _info_nce_cases()
    graded = [((anchor.clone(), positive.clone(), temperature),
               float(info_nce_loss(anchor, positive, temperature=temperature)),
               f"{len(anchor)} pairs, temperature {temperature:g}")
              for anchor, positive, temperature in cases]
    return check_number_cases(
        function, graded, what="info_nce", tolerance=1e-4, returns="the mean over anchors",
        hint=lambda index, got: _info_nce_hint(*cases[index - 1], got),
        passed=f"all {len(cases)} batches match the course's info_nce_loss (and so "
               "sentence-transformers' MultipleNegativesRankingLoss).")


# --------------------------------------------------------------------------------------------
# Exercise 2: which temperature gives the flatter softmax?
# --------------------------------------------------------------------------------------------
#: The temperatures the learner chooses from.
EXERCISE2_OPTIONS = (0.01, 0.05, 0.5)


@checker("Exercise 2: the flatter softmax")
def check_flatter_temperature(answer: Any) -> CheckResult:
    """Which of :data:`EXERCISE2_OPTIONS` spreads the softmax (and the gradient) most evenly?"""
    flattest = max(EXERCISE2_OPTIONS)
    if isinstance(answer, str):  # a number is asked: '0.5' in quotes is text, not a temperature
        return fail(f"flatter_temperature is the text {answer!r}; write the number itself, "
                    f"one of {', '.join(f'{t:g}' for t in EXERCISE2_OPTIONS)}, without quotes.")
    result = check_choice(answer, flattest, options=EXERCISE2_OPTIONS, what="your temperature",
                          hint="Dividing by a small temperature stretches the gaps between "
                               "similarities; which one shrinks them?")
    if result.passed:
        return ok(f"temperature {flattest:g}: dividing by a larger number shrinks the gaps "
                  "between the logits, so the softmax (and the push on the negatives) spreads "
                  "out.")
    return result


# --------------------------------------------------------------------------------------------
# Exercise 3: spot the false negatives
# --------------------------------------------------------------------------------------------
def false_negatives_reference(labels: Sequence[Any], anchor: int) -> set[int]:
    """The positions of the in-batch negatives of ``anchor`` that share its label (false
    negatives)."""
    labels = list(labels)
    if not 0 <= anchor < len(labels):
        raise ValueError(f"anchor must be an index from 0 to {len(labels) - 1}, got {anchor!r}.")
    return {j for j, label in enumerate(labels) if j != anchor and label == labels[anchor]}


FALSE_NEGATIVE_CASES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("hotels/positive", "movies/negative", "hotels/positive", "hotels/negative"), 0),
    (("hotels/positive", "movies/negative", "hotels/positive", "hotels/negative"), 3),
    (("a", "b", "a", "a", "c", "a"), 2),
    (("a", "b", "c"), 1),
)


def _index_set(answer: Any) -> set[int] | str:
    """The learner's positions as a set of ints, or a hint (str) saying why they are not."""
    try:
        values = list(np.asarray(list(answer), dtype=object).reshape(-1))
    except (TypeError, ValueError):
        return f"return the indices (e.g. a set or list of ints), got {describe(answer)}."
    indices = [as_index(value) for value in values]
    wrong = [value for value, position in zip(values, indices, strict=True) if position is None]
    if wrong:
        return (f"the indices must be whole numbers (ints), but {wrong[0]!r} is not: return "
                "the positions j themselves (0, 1, 2, ..., e.g. from enumerate(labels)).")
    return set(indices)


@checker("Exercise 3: spot the false negatives")
def check_false_negatives(function: Any) -> CheckResult:
    """Check ``false_negatives(labels, anchor) -> set of indices`` on batches with known
    answers."""
    if function is None:
        return fail("false_negatives is None; define the function (replace the stub).")
    if not callable(function):
        return fail(f"false_negatives should be a function, got {describe(function)}.")
    for index, (labels, anchor) in enumerate(FALSE_NEGATIVE_CASES, start=1):
        expected = false_negatives_reference(labels, anchor)
        answer, error = call_or_fail(function, (list(labels), anchor), index)
        if error is not None:
            return error
        if answer is None:
            return fail(f"on test case {index} your function returned None; did you forget "
                        "`return`?")
        got = _index_set(answer)
        if isinstance(got, str):
            return fail(f"on test case {index} {got}")
        if got == expected:
            continue
        if got == expected | {anchor}:
            return fail(f"on test case {index} your answer includes the anchor itself ({anchor})"
                        ": its own positive is the right answer, not a negative.")
        return fail(f"for labels {list(labels)} and anchor {anchor} expected "
                    f"{sorted(expected)}, got {sorted(got)}. A false negative is another pair "
                    "with the anchor's label.")
    return ok(f"all {len(FALSE_NEGATIVE_CASES)} batches right.")
