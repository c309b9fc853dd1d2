"""Notebook 06 (real data, other losses, the cost of specialising): checkers for Exercise 1
(:func:`check_false_negative_rate`) and Exercise 2 (:func:`check_precision_at_k`), and the claim
:func:`claim_organised_by`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course_utils.checks.core import CheckResult, checker
from course_utils.checks.student_code import check_number_cases
from course_utils.claims import claim

__all__ = [
    "check_false_negative_rate",
    "check_precision_at_k",
    "claim_organised_by",
    "false_negative_rate_reference",
    "precision_at_k_reference",
]


# --------------------------------------------------------------------------------------------
# Reference answers (also used by the notebook's prose checks and the tests)
# --------------------------------------------------------------------------------------------


def false_negative_rate_reference(labels: Sequence[Any]) -> float:
    """Mean over anchors of the share of the *other* batch items with the anchor's label (false
    negatives for MultipleNegativesRankingLoss)."""
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
# The notebook's own claim (not an exercise): it prints the numbers and fails loudly
# --------------------------------------------------------------------------------------------


def claim_organised_by(report: Any, first: str, second: str) -> None:
    """``first`` organises the space more than ``second``: kNN and silhouette both higher in
    ``report`` (``cu.evaluation.label_report``'s table)."""
    try:
        knn_first = float(report.loc[first, "knn_accuracy"])
        knn_second = float(report.loc[second, "knn_accuracy"])
        sil_first = float(report.loc[first, "silhouette"])
        sil_second = float(report.loc[second, "silhouette"])
    except (KeyError, AttributeError, TypeError, ValueError) as error:
        raise ValueError(f"the report lacks {error}; pass cu.evaluation.label_report's table "
                         f"with rows {first!r} and {second!r}.") from None
    claim(knn_first > knn_second and sil_first > sil_second,
          f"neighbourhoods follow {first} more than {second}: kNN {first} {knn_first:.3f} vs "
          f"{second} {knn_second:.3f}; silhouette {first} {sil_first:.3f} vs {second} "
          f"{sil_second:.3f}", problem=f"{first} does not lead on both numbers",
          name="organised by")


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
    balanced = false_negative_rate_reference(FALSE_NEGATIVE_CASES[-1])
    graded = [((list(labels),), false_negative_rate_reference(labels), _batch(labels))
              for labels in FALSE_NEGATIVE_CASES]
    return check_number_cases(
        function, graded, what="false_negative_rate", tolerance=1e-6,
        returns="the mean over anchors",
        hint=lambda index, got: _false_negative_hint(FALSE_NEGATIVE_CASES[index - 1], got),
        passed=f"all {len(FALSE_NEGATIVE_CASES)} batches right. In a balanced two-class batch of "
               f"16, {balanced:.0%} of each anchor's in-batch negatives share its label.")


def _batch(labels: Sequence[str]) -> str:
    shown = list(labels) if len(labels) <= 6 else f"{list(labels[:4])} ... ({len(labels)})"
    return f"the batch {shown}"


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
    cases = _precision_cases()
    graded = [((embeddings.copy(), list(labels), k),
               precision_at_k_reference(embeddings, labels, k), f"{len(labels)} rows, k={k}")
              for embeddings, labels, k in cases]
    return check_number_cases(
        function, graded, what="precision_at_k", tolerance=1e-6, returns="the mean over rows",
        hint=lambda index, got: _precision_hint(*cases[index - 1], got),
        passed=f"all {len(cases)} cases right.")
