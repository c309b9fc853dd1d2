"""Notebook 04 (triplet loss from scratch): checkers for Exercises 1-3
(:func:`check_grade_triplet`, :func:`check_cosine_triplet_loss`, :func:`check_lowest_loss`) and
the claims next to the prose (:func:`claim_negatives_matter`, :func:`claim_margin_unreachable`,
:func:`claim_collapse_flagged`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from course_utils.checks.core import (
    CheckResult,
    as_scalar,
    check_number,
    checker,
    describe,
    fail,
    ok,
)
from course_utils.checks.student_code import (
    StudentCodeError,
    call_student,
    check_number_cases,
    likely_slip,
)
from course_utils.claims import claim

__all__ = [
    "check_cosine_triplet_loss",
    "check_grade_triplet",
    "check_lowest_loss",
    "claim_collapse_flagged",
    "claim_margin_unreachable",
    "claim_negatives_matter",
]


# --------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------
def claim_negatives_matter(right_order: Mapping[str, float]) -> None:
    """``right_order``: share of triplets with d(a,n) > d(a,p), keyed "random" / "same_group".
    Claim: most random-negative triplets are already in order, same-topic ones near a coin flip."""
    rand, same = float(right_order["random"]), float(right_order["same_group"])
    claim(rand >= 0.7 and same <= 0.65 and rand - same >= 0.15,
          f"already in the right order: {rand:.0%} of the random-negative triplets, "
          f"{same:.0%} of the same-topic ones",
          problem="expected >= 70% (random) vs <= 65% (same topic), 15 points apart",
          name="negatives decide")


def claim_margin_unreachable(losses: Any, margin: float, max_distance: float = 2.0) -> None:
    """Every per-triplet loss is at least ``margin - max_distance`` > 0: nothing is ever done."""
    values = np.asarray(losses.detach() if hasattr(losses, "detach") else losses, dtype=float)
    floor = margin - max_distance
    claim(floor > 0 and bool((values >= floor - 1e-6).all()),
          f"margin {margin:g}: all {values.size} triplets active, none below the floor "
          f"margin - {max_distance:g} (Exercise 3)",
          problem=f"expected every loss >= {floor:g}", name="margin too large")


def claim_collapse_flagged(healthy: Any, collapsed: Any) -> None:
    """``healthy`` and ``collapsed``: CollapseReports; the first passes, the second is flagged."""
    claim((not healthy.collapsed) and collapsed.collapsed,
          f"pretrained: healthy (mean cosine {healthy.mean_pairwise_cosine:.2f}); simulated: "
          f"flagged (mean cosine {collapsed.mean_pairwise_cosine:.2f})",
          problem=f"expected healthy then collapsed, got {healthy.collapsed} and "
                  f"{collapsed.collapsed}", name="collapse detector")


# --------------------------------------------------------------------------------------------
# Exercise 1: grade a triplet
# --------------------------------------------------------------------------------------------
#: (d_ap, d_an, margin, expected) - boundaries included on purpose.
GRADE_CASES = (
    (1.0, 0.6, 0.2, "hard"),
    (1.0, 1.1, 0.2, "semi-hard"),
    (1.0, 1.5, 0.2, "easy"),
    (0.5, 0.5, 0.3, "semi-hard"),   # d(a,n) == d(a,p): not closer, so not hard
    (0.5, 0.8, 0.3, "easy"),        # exactly on the margin: loss 0, easy
    (0.4, 0.3, 0.0, "hard"),
    (0.4, 0.4, 0.0, "easy"),        # margin 0: no semi-hard band at all
)


def _grade_hint(d_ap: float, d_an: float, margin: float, want: str) -> str:
    rules = {
        "hard": f"d(a,n) = {d_an:g} < d(a,p) = {d_ap:g}: the negative is closer, so 'hard'",
        "semi-hard": (f"d(a,p) = {d_ap:g} <= d(a,n) = {d_an:g} < d(a,p) + margin = "
                      f"{d_ap + margin:g}: right order but inside the margin, so 'semi-hard'"),
        "easy": (f"d(a,n) = {d_an:g} >= d(a,p) + margin = {d_ap + margin:g}: the loss is 0, "
                 "so 'easy'"),
    }
    return rules[want]


@checker("Exercise 1: easy, semi-hard or hard")
def check_grade_triplet(function: Any) -> CheckResult:
    """``function(d_ap, d_an, margin)`` -> "easy" / "semi-hard" / "hard"."""
    if not callable(function):
        return fail(f"pass your function itself (no brackets), got {describe(function)}.")
    for index, (d_ap, d_an, margin, want) in enumerate(GRADE_CASES, start=1):
        try:
            got = call_student(function, d_ap, d_an, margin)
        except StudentCodeError as error:
            return fail(f"grade_triplet({d_ap}, {d_an}, {margin}) {error}.")
        if got is None:
            return fail("your function returned None; return one of 'easy', 'semi-hard', "
                        "'hard'.")
        if not isinstance(got, str) or got.strip().lower() not in {"easy", "semi-hard", "hard"}:
            return fail(f"grade_triplet({d_ap}, {d_an}, {margin}) returned {describe(got)}; "
                        "return one of the strings 'easy', 'semi-hard', 'hard'.")
        if got.strip().lower() != want:
            return fail(f"case {index}: grade_triplet({d_ap}, {d_an}, {margin}) returned "
                        f"{got!r}, but {_grade_hint(d_ap, d_an, margin, want)}.")
    return ok(f"all {len(GRADE_CASES)} cases right, boundaries included.")


# --------------------------------------------------------------------------------------------
# Exercise 2: triplet loss with the cosine distance
# --------------------------------------------------------------------------------------------
def _triplet_cases() -> list[tuple[Any, Any, Any, float]]:
    import torch

    generator = torch.Generator().manual_seed(4)
    cases = []
    for n, dim, margin in ((6, 4, 0.3), (10, 16, 0.1), (4, 3, 1.5)):
        a, p, n_ = torch.randn(3, n, dim, generator=generator).unbind(0)
        cases.append((a, p, n_, margin))
    return cases


def _triplet_hint(case: tuple, got: float) -> str:
    from course_utils.losses import triplet_loss
    from course_utils.triplets import pairwise_distance

    a, p, n, margin = case
    gap = pairwise_distance(a, p, "cosine") - pairwise_distance(a, n, "cosine") + margin
    slips = {
        "This is the euclidean distance; use the cosine distance 1 - cos(x, y)":
            triplet_loss(a, p, n, margin=margin, distance="euclidean"),
        "The hinge is missing: clamp each triplet's value at 0 (torch.clamp(..., min=0)) "
        "before averaging": gap.mean(),
        "The sign is flipped: either positive and negative are swapped, or you used the cosine "
        "similarity where the distance 1 - cos(x, y) belongs; the loss is "
        "max(0, d(a,p) - d(a,n) + margin)": triplet_loss(a, n, p, margin=margin, distance="cosine"),
        "This is the sum; take the mean over the triplets":
            triplet_loss(a, p, n, margin=margin, distance="cosine", reduction="sum"),
    }
    return likely_slip(got, slips,
                       "Compare with mean(max(0, d(a,p) - d(a,n) + margin)) with d = 1 - cos")


@checker("Exercise 2: triplet loss with the cosine distance")
def check_cosine_triplet_loss(function: Any) -> CheckResult:
    """``function(anchor, positive, negative, margin)`` -> scalar tensor, as TripletLoss(COSINE)."""
    from course_utils.losses import triplet_loss

    cases = _triplet_cases()
    graded = [((a.clone(), p.clone(), n.clone(), margin),
               float(triplet_loss(a, p, n, margin=margin, distance="cosine")), f"margin {margin}")
              for a, p, n, margin in cases]
    return check_number_cases(
        function, graded, what="cosine_triplet", tolerance=1e-4,
        returns="a scalar tensor: the mean over the triplets, `.mean()`",
        hint=lambda index, got: _triplet_hint(cases[index - 1], got) + ".",
        passed=f"matches TripletLoss with TripletDistanceMetric.COSINE on all {len(cases)} test "
               "cases.")


# --------------------------------------------------------------------------------------------
# Exercise 3: the floor that margin 5 puts under the loss
# --------------------------------------------------------------------------------------------
@checker("Exercise 3: the smallest loss with margin 5")
def check_lowest_loss(answer: Any) -> CheckResult:
    """``answer``: the smallest per-triplet loss possible with margin 5, euclidean, unit vectors."""
    answer = as_scalar(answer)
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        if abs(answer - 5.0) < 1e-6:
            return fail("5 is the loss when d(a,p) = d(a,n). The negative may be farther "
                        "than the positive: how much farther, at most, for vectors of length 1?")
        if abs(answer) < 1e-6:
            return fail("0 needs d(a,n) >= d(a,p) + 5, but two unit vectors are at most 2 "
                        "apart.")
        if abs(answer - 7.0) < 1e-6:
            return fail("7 is the largest loss (positive as far, negative as close as "
                        "possible); the smallest is the other way round.")
    return check_number(answer, 3.0, tolerance=1e-6, what="`lowest_loss`", reveal=False,
                        hint="The loss is max(0, d(a,p) - d(a,n) + 5). How small can d(a,p) "
                             "be, and how large can d(a,n) be, for two vectors of length 1?")
