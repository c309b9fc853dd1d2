"""Checkers for notebook 06 (real data, other losses, the cost of specialising).

* :func:`check_false_negative_rate` - Exercise 1: how many of MultipleNegativesRankingLoss's
  in-batch "negatives" share the anchor's label.
* :func:`check_precision_at_k` - Exercise 2: retrieval precision@k, the number that shows what
  a specialised model forgot.

Each checker calls the learner's function on small cases with known answers, returns
"Correct" or a hint naming the case, the expected value and the learner's value, and never
raises.

The notebook's own claims ("the pretrained space follows domain more than sentiment") are
printed by :func:`check_organised_by` / :func:`check_at_least` / :func:`check_within` through
:func:`expect`, which
raises if a claim stops being true, so the prose can never silently disagree with the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course_utils.checks.core import CheckResult, checker, describe, fail, ok
from course_utils.checks.student_code import StudentCodeError, call_student

__all__ = [
    "check_at_least",
    "check_false_negative_rate",
    "check_organised_by",
    "check_precision_at_k",
    "check_within",
    "expect",
    "false_negative_rate_reference",
    "precision_at_k_reference",
]


# --------------------------------------------------------------------------------------------
# Reference answers (also used by the notebook's prose checks and the tests)
# --------------------------------------------------------------------------------------------


def false_negative_rate_reference(labels: Sequence[Any]) -> float:
    """Mean over anchors of the share of the *other* batch items with the anchor's label.

    With MultipleNegativesRankingLoss, anchor i treats every other positive in the batch as a
    negative; if that positive has the same label, it is a false negative.
    """
    labels = np.asarray(list(labels))
    if labels.ndim != 1 or len(labels) < 2:
        raise ValueError(f"labels must be a 1-D list of at least 2 labels, got {labels!r}.")
    same = labels[:, None] == labels[None, :]
    others = len(labels) - 1
    return float(((same.sum(axis=1) - 1) / others).mean())


def precision_at_k_reference(embeddings: Any, labels: Sequence[Any], k: int) -> float:
    """Mean over rows of the share of its k nearest *other* rows (cosine) with the same label."""
    array = np.asarray(embeddings, dtype=np.float64)
    labels = np.asarray(list(labels))
    if array.ndim != 2 or len(array) != len(labels):
        raise ValueError("embeddings must be (n, d) with one label per row.")
    if not isinstance(k, (int, np.integer)) or not 1 <= k < len(array):
        raise ValueError(f"k must be a whole number from 1 to n - 1, got {k!r}.")
    unit = array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    return float((labels[nearest] == labels[:, None]).mean())


# --------------------------------------------------------------------------------------------
# Checks of the notebook's own claims (not exercises): they print the numbers and fail loudly
# --------------------------------------------------------------------------------------------


def check_organised_by(report: Any, first: str, second: str) -> CheckResult:
    """Does ``first`` organise the space more than ``second``? (kNN and silhouette both higher)

    ``report`` is ``cu.evaluation.label_report``'s table (rows = labels).
    """
    try:
        knn_first = float(report.loc[first, "knn_accuracy"])
        knn_second = float(report.loc[second, "knn_accuracy"])
        sil_first = float(report.loc[first, "silhouette"])
        sil_second = float(report.loc[second, "silhouette"])
    except (KeyError, AttributeError, TypeError, ValueError) as error:
        return fail(f"the report lacks {error}; pass cu.evaluation.label_report's table with "
                    f"rows {first!r} and {second!r}.", name="organised by")
    numbers = (f"kNN {first} {knn_first:.3f} vs {second} {knn_second:.3f}; silhouette "
               f"{first} {sil_first:.3f} vs {second} {sil_second:.3f}")
    if knn_first > knn_second and sil_first > sil_second:
        return ok(f"neighbourhoods follow {first} more than {second}: {numbers}.",
                  name="organised by")
    return fail(f"{first} does not lead on both numbers: {numbers}.", name="organised by")


def check_at_least(value: Any, minimum: float, what: str) -> CheckResult:
    """Is ``value`` at least ``minimum``? The message names ``what`` and both numbers."""
    number = _as_float(value)
    if number is None:
        return fail(f"{what} is not a number ({describe(value)}).", name="claim")
    if number >= minimum:
        return ok(f"{what} = {number:.3f} (at least {minimum:g}).", name="claim")
    return fail(f"{what} = {number:.3f}, below {minimum:g}.", name="claim")


def check_within(value: float, interval: tuple[float, float], what: str) -> CheckResult:
    """Does ``interval`` (low, high) contain ``value``? For a prose claim such as "the gap's
    interval reaches 0: on this split the gap may be noise"."""
    number = _as_float(value)
    try:
        low, high = (float(end) for end in interval)
    except (TypeError, ValueError):
        return fail(f"{what}: the interval must be two numbers (low, high), got "
                    f"{describe(interval)}.", name="claim")
    if number is None:
        return fail(f"{what}: the value is not a number ({describe(value)}).", name="claim")
    span = f"{what} runs from {low:+.3f} to {high:+.3f}"
    if low <= number <= high:
        return ok(f"{span}: it contains {number:g}.", name="claim")
    return fail(f"{span}: it no longer contains {number:g}.", name="claim")


def expect(result: CheckResult) -> CheckResult:
    """Print ``result``; raise AssertionError if it failed (a claim in the prose broke)."""
    print(result)
    if not result.passed:
        raise AssertionError(
            f"{result.message} The notebook's text relies on this; re-run from the top, and if "
            "it still fails, tell the instructor (the data, model or settings changed)."
        )
    return result


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _as_float(value: Any) -> float | None:
    """``value`` as a finite float, or None if it is not a single finite number."""
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _call(function: Callable[..., Any], args: tuple, index: int) -> tuple[Any, CheckResult | None]:
    """Call the learner's function; a raised exception becomes a failing result."""
    try:
        return call_student(function, *args), None
    except StudentCodeError as error:
        return None, fail(
            f"your function {error} on test case {index}. Run it on that input in a cell of "
            "its own to see why."
        )


def first_wrong_number(function: Callable[..., Any], cases: Sequence[tuple], *,
                       arguments: Callable[..., tuple], expected: Callable[..., float],
                       tolerance: float, returns: str, describe_case: Callable[..., str],
                       hint: Callable[..., str]) -> CheckResult | None:
    """Call the learner's ``function(*arguments(*case))`` on every case and compare the one
    number it returns with ``expected(*case)``; the first failure, or None when all match.

    ``returns`` says what the number is (e.g. "the mean over rows"); ``describe_case(*case)``
    and ``hint(*case, value)`` word the failure.
    """
    for index, case in enumerate(cases, start=1):
        want = expected(*case)
        answer, error = _call(function, arguments(*case), index)
        if error is not None:
            return error
        if answer is None:
            return fail(f"on test case {index} your function returned None; did you forget "
                        "`return`?")
        value = _as_float(answer)
        if value is None:
            return fail(f"on test case {index} your function should return one number "
                        f"({returns}), got {describe(answer)}.")
        if abs(value - want) > tolerance:
            return fail(f"on test case {index} ({describe_case(*case)}) expected {want:.4f}, "
                        f"got {value:.4f}. {hint(*case, value)}")
    return None


# --------------------------------------------------------------------------------------------
# Exercise 1: false negatives among in-batch negatives
# --------------------------------------------------------------------------------------------

FALSE_NEGATIVE_CASES: tuple[tuple[str, ...], ...] = (
    ("positive", "negative", "positive", "negative"),
    ("positive", "positive", "positive", "positive"),
    ("positive", "negative"),
    ("a", "a", "b", "b", "b", "b"),
    ("positive", "negative") * 8,
)


def _false_negative_hint(labels: Sequence[str], got: float) -> str:
    """Name the usual mistake when the learner's number matches it."""
    labels = np.asarray(labels)
    same_with_self = (labels[:, None] == labels[None, :]).sum(axis=1)
    size = len(labels)
    if np.isclose(got, (same_with_self / size).mean()):
        return ("You counted the anchor as its own negative. Its own positive is the right "
                "answer, not a negative: leave it out (divide by batch size - 1).")
    if np.isclose(got, ((same_with_self - 1) / size).mean()):
        return ("Right count, wrong denominator: each anchor has batch size - 1 negatives, "
                "not batch size.")
    if np.isclose(got, 1 - false_negative_rate_reference(labels)):
        return "That is the share of true negatives (different label); the question asks for "\
               "the same-label share."
    return ("For each anchor, count the other items with the same label and divide by the "
            "number of other items; then average over anchors.")


@checker("Exercise 1: false negatives in the batch")
def check_false_negative_rate(function: Any) -> CheckResult:
    """Check ``false_negative_rate(labels) -> float`` on batches with known answers."""
    if function is None:
        return fail("false_negative_rate is None; define the function (replace the stub).")
    if not callable(function):
        return fail(f"false_negative_rate should be a function, got {describe(function)}.")
    for index, labels in enumerate(FALSE_NEGATIVE_CASES, start=1):
        expected = false_negative_rate_reference(labels)
        answer, error = _call(function, (list(labels),), index)
        if error is not None:
            return error
        if answer is None:
            return fail(
                f"on test case {index} ({list(labels)[:6]}...) your function returned None; "
                "did you forget `return`?"
            )
        value = _as_float(answer)
        if value is None:
            return fail(
                f"on test case {index} your function should return one number, got "
                f"{describe(answer)}."
            )
        if abs(value - expected) > 1e-6:
            shown = list(labels) if len(labels) <= 6 else f"{list(labels[:4])} ... ({len(labels)})"
            return fail(
                f"for the batch {shown} expected {expected:.4f}, got {value:.4f}. "
                f"{_false_negative_hint(labels, value)}"
            )
    balanced = false_negative_rate_reference(FALSE_NEGATIVE_CASES[-1])
    return ok(
        f"all {len(FALSE_NEGATIVE_CASES)} batches right. In a balanced two-class batch of 16, "
        f"{balanced:.0%} of each anchor's in-batch negatives share its label."
    )


# --------------------------------------------------------------------------------------------
# Exercise 2: precision@k
# --------------------------------------------------------------------------------------------


def _precision_cases() -> list[tuple[np.ndarray, list[str], int]]:
    """Small embeddings whose nearest neighbours have no ties."""
    two_clusters = np.array([[1.0, 0.05], [0.98, 0.2], [0.9, 0.35], [0.05, 1.0], [0.2, 0.97],
                             [0.4, 0.9]])
    rng = np.random.default_rng(6)
    mixed = rng.normal(size=(12, 5))
    mixed_labels = ["x", "y", "z"] * 4
    return [
        (two_clusters, ["a", "a", "a", "b", "b", "b"], 1),
        (two_clusters, ["a", "a", "a", "b", "b", "b"], 2),
        (two_clusters, ["a", "b", "a", "b", "a", "b"], 2),
        (two_clusters * np.array([[3.0], [0.5], [2.0], [1.0], [4.0], [0.2]]),
         ["a", "a", "a", "b", "b", "b"], 3),
        (mixed, mixed_labels, 3),
    ]


def _precision_hint(embeddings: np.ndarray, labels: list[str], k: int, got: float) -> str:
    labels_arr = np.asarray(labels)
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    with_self = np.argsort(-(unit @ unit.T), axis=1, kind="stable")[:, :k]
    if np.isclose(got, float((labels_arr[with_self] == labels_arr[:, None]).mean())):
        return ("Each row found itself as its nearest neighbour: exclude the row itself "
                "(e.g. set the diagonal of the similarity matrix to -inf).")
    raw = embeddings @ embeddings.T
    np.fill_diagonal(raw, -np.inf)
    dot = np.argsort(-raw, axis=1, kind="stable")[:, :k]
    if np.isclose(got, float((labels_arr[dot] == labels_arr[:, None]).mean())):
        return ("These rows are not unit length: normalise them first, so the dot product is "
                "the cosine similarity.")
    far = np.argsort(raw, axis=1, kind="stable")[:, :k]
    if np.isclose(got, float((labels_arr[far] == labels_arr[:, None]).mean())):
        return "You took the k *least* similar rows; sort by similarity in descending order."
    return ("For each row: cosine similarity to every other row, the k most similar, the share "
            "with the row's label; then the mean over rows.")


@checker("Exercise 2: precision@k")
def check_precision_at_k(function: Any) -> CheckResult:
    """Check ``precision_at_k(embeddings, labels, k) -> float`` on cases with known answers."""
    if function is None:
        return fail("precision_at_k is None; define the function (replace the stub).")
    if not callable(function):
        return fail(f"precision_at_k should be a function, got {describe(function)}.")
    wrong = first_wrong_number(
        function, _precision_cases(),
        arguments=lambda embeddings, labels, k: (embeddings.copy(), list(labels), k),
        expected=precision_at_k_reference, tolerance=1e-6, returns="the mean over rows",
        describe_case=lambda embeddings, labels, k: f"{len(labels)} rows, k={k}",
        hint=lambda embeddings, labels, k, value: _precision_hint(embeddings, list(labels), k,
                                                                  value))
    if wrong is not None:
        return wrong
    return ok(f"all {len(_precision_cases())} cases right.")
