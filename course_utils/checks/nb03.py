"""Notebook 03 (contrastive loss from scratch): checkers for Exercises 1-2
(:func:`check_paying_pairs`, :func:`check_library_style_loss`) and :func:`claim_pull_and_push`."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from course_utils.checks.core import CheckResult, checker, describe, fail, ok
from course_utils.checks.student_code import check_number_cases, likely_slip
from course_utils.claims import claim

__all__ = [
    "EXERCISE1_DISTANCES",
    "EXERCISE1_MARGIN",
    "EXERCISE1_SIMILAR",
    "check_library_style_loss",
    "check_paying_pairs",
    "claim_pull_and_push",
    "paying_pairs_reference",
]

#: Exercise 1's pairs: their distances, labels (1 = similar) and the margin.
EXERCISE1_DISTANCES = (0.2, 0.9, 1.4, 0.3, 1.1, 0.0)
EXERCISE1_SIMILAR = (1, 1, 0, 0, 0, 1)
EXERCISE1_MARGIN = 1.0


# --------------------------------------------------------------------------------------------
# The claim
# --------------------------------------------------------------------------------------------
def claim_pull_and_push(start: Any, end: Any, pairs: Any, similar: Any, margin: float, *,
                        tolerance: float = 0.02) -> None:
    """Similar pairs ended closer than they started; dissimilar pairs at least ``margin`` apart.

    ``start``, ``end``: (n, 2) points before and after descent; ``pairs`` (m, 2); ``similar`` (m,).
    """
    from course_utils.toy import pair_distances

    before = pair_distances(start, pairs)
    after = pair_distances(end, pairs)
    is_similar = np.asarray(similar, dtype=float) > 0.5
    sim_before, sim_after = before[is_similar].mean(), after[is_similar].mean()
    closest_dissimilar = after[~is_similar].min()
    claim(sim_after < 0.1 * sim_before and closest_dissimilar >= margin - tolerance,
          f"similar pairs: mean distance {sim_before:.2f} -> {sim_after:.3f}; dissimilar pairs: "
          f"the closest is now {closest_dissimilar:.3f} apart (margin {margin:g})",
          problem=f"expected similar pairs to shrink to under 10% of {sim_before:.2f} and every "
                  f"dissimilar pair to reach the margin {margin:g}",
          name="pull and push", remedy="Run more steps or check the learning rate.")


# --------------------------------------------------------------------------------------------
# Exercise 1: which pairs pay?
# --------------------------------------------------------------------------------------------
def paying_pairs_reference(distances=EXERCISE1_DISTANCES, similar=EXERCISE1_SIMILAR,
                           margin: float = EXERCISE1_MARGIN) -> list[bool]:
    """True where a pair's contrastive loss is above zero: similar and d > 0, or dissimilar
    and d < margin."""
    d = np.asarray(distances, dtype=float)
    s = np.asarray(similar, dtype=float) > 0.5
    return [bool(x) for x in np.where(s, d > 0, d < margin)]


def _why(index: int) -> str:
    d, s = EXERCISE1_DISTANCES[index], EXERCISE1_SIMILAR[index]
    if s:
        return (f"pair {index} is similar with d = {d:g}: it pays d^2 = {d * d:.2g}, "
                f"{'so it pays' if d > 0 else 'which is 0 - it already sits on its partner'}")
    if d < EXERCISE1_MARGIN:
        return (f"pair {index} is dissimilar with d = {d:g} < margin {EXERCISE1_MARGIN:g}: it "
                f"pays (margin - d)^2 = {(EXERCISE1_MARGIN - d) ** 2:.2g}")
    return (f"pair {index} is dissimilar with d = {d:g} >= margin {EXERCISE1_MARGIN:g}: "
            "max(0, margin - d) = 0, so it pays nothing")


@checker("Exercise 1: which pairs still pay")
def check_paying_pairs(answer: Any) -> CheckResult:
    """``answer``: one True/False (or 1/0) per pair of Exercise 1, True where the loss > 0."""
    expected = paying_pairs_reference()
    if answer is None:
        return fail("`pays` is None; set it to a list of True/False, one per pair "
                    f"({len(expected)} pairs).")
    if hasattr(answer, "detach"):
        answer = answer.detach().cpu().numpy()
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        return fail(f"`pays` should be a list of True/False, got {describe(answer)}.")
    values = list(np.asarray(answer).reshape(-1)) if hasattr(answer, "shape") else list(answer)
    if len(values) != len(expected):
        return fail(f"`pays` has {len(values)} entries; there are {len(expected)} pairs, one "
                    "True/False each.")
    for index, (got, want) in enumerate(zip(values, expected, strict=True)):
        if isinstance(got, (bool, np.bool_)) or got in (0, 1):
            if bool(got) != want:
                return fail(f"entry {index} is {bool(got)}, but {_why(index)}.")
        else:
            return fail(f"entry {index} is {got!r}; use True or False.")
    return ok(f"{sum(expected)} of {len(expected)} pairs pay; the dissimilar pairs beyond the "
              "margin and the similar pair at distance 0 cost nothing.")


# --------------------------------------------------------------------------------------------
# Exercise 2: the library's convention
# --------------------------------------------------------------------------------------------
def _loss_cases() -> list[tuple[Any, Any, Any, float]]:
    import torch

    generator = torch.Generator().manual_seed(3)
    cases = []
    for n, dim, margin in ((6, 4, 0.5), (8, 16, 0.8), (5, 3, 0.3)):
        a = torch.randn(n, dim, generator=generator)
        b = torch.randn(n, dim, generator=generator)
        labels = torch.tensor([1.0, 0.0] * (n // 2) + [0.0] * (n % 2))
        cases.append((a, b, labels, margin))
    return cases


def _convention_hint(case: tuple, got: float) -> str:
    """Name the likely slip: factor 2, euclidean distance, sum, flipped labels."""
    from course_utils.losses import contrastive_loss

    a, b, labels, margin = case
    slips = {
        "You are missing the factor 0.5 the library applies (scale=0.5)":
            contrastive_loss(a, b, labels, margin=margin, scale=1.0),
        "This is the euclidean distance; the library's default is the cosine distance "
        "1 - cos(a, b)": contrastive_loss(a, b, labels, margin=margin, distance="euclidean"),
        "This looks like euclidean distance without the 0.5; use 0.5 * (...) with the cosine "
        "distance 1 - cos(a, b)":
            contrastive_loss(a, b, labels, margin=margin, distance="euclidean", scale=1.0),
        "This is the sum over the pairs; the library takes the mean":
            contrastive_loss(a, b, labels, margin=margin, reduction="sum"),
        "The labels look swapped: 1 means similar (pull together), 0 dissimilar (push apart)":
            contrastive_loss(a, b, 1 - labels, margin=margin),
    }
    return likely_slip(got, slips, "Compare your code line by line with "
                       "0.5 * (y * d**2 + (1 - y) * max(0, margin - d)**2) and d = 1 - cos")


#: Names whose call would hand the exercise to a finished implementation -> how to name it.
_SHORTCUT_NAMES = {"contrastive_loss": "the course's cu.losses.contrastive_loss",
                   "ContrastiveLoss": "the library's ContrastiveLoss",
                   "compute_loss_from_embeddings": "the library's ContrastiveLoss"}


def _names_used(code: Any) -> set[str]:
    """Every global and attribute name a code object (and the functions nested in it) uses."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if hasattr(constant, "co_names"):
            names |= _names_used(constant)
    return names


@contextlib.contextmanager
def _watch_shortcuts(used: list[str]) -> Iterator[None]:
    """While the check runs, ``cu.losses.contrastive_loss`` and the library's
    ``ContrastiveLoss`` note in ``used`` that the learner's code called them (the checker's own
    thread, which computes the expected values, is not noted); they still answer."""
    from course_utils import losses

    checker_thread = threading.get_ident()

    patched: list[tuple[Any, str, Any]] = [(losses, "contrastive_loss", losses.contrastive_loss)]
    library = sys.modules.get("sentence_transformers.sentence_transformer.losses")
    if library is not None and hasattr(library, "ContrastiveLoss"):
        patched.append((library.ContrastiveLoss, "compute_loss_from_embeddings",
                        library.ContrastiveLoss.compute_loss_from_embeddings))

    def spy(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != checker_thread:
                used.append(name)
            return original(*args, **kwargs)
        return call

    try:
        for owner, attribute, original in patched:
            setattr(owner, attribute, spy(attribute, original))
        yield
    finally:
        for owner, attribute, original in patched:
            setattr(owner, attribute, original)


_SHORTCUT_MESSAGE = ("your function calls {name}, a finished implementation. Nice find - but "
                     "the exercise is to write it yourself from torch operations: the cosine "
                     "distance, the two terms, the factor 0.5 and the mean.")


@checker("Exercise 2: the library's convention")
def check_library_style_loss(function: Any) -> CheckResult:
    """``function(emb_a, emb_b, label_similar, margin)`` -> a scalar tensor (shape ()), equal to
    the library's ``ContrastiveLoss``, written without calling the course's or the library's
    implementation (both are watched while the check runs)."""
    from course_utils.losses import contrastive_loss

    code = getattr(function, "__code__", None)
    shortcut = next((name for name in _SHORTCUT_NAMES
                     if code is not None and name in _names_used(code)), None)
    if shortcut is not None:
        return fail(_SHORTCUT_MESSAGE.format(name=_SHORTCUT_NAMES[shortcut]))
    cases = _loss_cases()
    graded = [((a.clone(), b.clone(), labels.clone(), margin),
               float(contrastive_loss(a, b, labels, margin=margin)), f"margin {margin}")
              for a, b, labels, margin in cases]
    returned: list[Any] = []
    used: list[str] = []

    def recorded(*args: Any) -> Any:
        value = function(*args)
        returned.append(value)
        return value

    with _watch_shortcuts(used):
        result = check_number_cases(
            recorded if callable(function) else function, graded, what="library_style",
            tolerance=1e-4, returns="a scalar tensor: the mean over the pairs, `.mean()`",
            hint=lambda index, got: _convention_hint(cases[index - 1], got) + ".",
            passed=f"matches sentence-transformers' ContrastiveLoss on all {len(cases)} test "
                   "cases.")
    if used:
        return fail(_SHORTCUT_MESSAGE.format(name=_SHORTCUT_NAMES[used[0]]))
    if not result.passed:
        return result
    import torch

    odd = next((value for value in returned
                if not (isinstance(value, torch.Tensor) and value.dim() == 0)), None)
    if odd is not None:
        return fail(f"the numbers are right, but a loss should come back as a scalar torch "
                    f"tensor (shape ()), so that `.backward()` can follow it; you returned "
                    f"{describe(odd)}. Keep the torch operations to the end (no `.item()` or "
                    "`float(...)`), and finish with `.mean()`.")
    return result
