"""Checkers of notebook 06: right answers pass; wrong, broken and odd answers get a hint."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import nb06

# ---------------------------------------------------------------------------- Exercise 1


def right_rate(labels):
    labels = np.asarray(labels)
    same = (labels[:, None] == labels[None, :]).sum(axis=1) - 1
    return float(np.mean(same / (len(labels) - 1)))


def loop_rate(labels):
    shares = []
    for i, label in enumerate(labels):
        others = [other for j, other in enumerate(labels) if j != i]
        shares.append(sum(other == label for other in others) / len(others))
    return sum(shares) / len(shares)


def test_false_negative_reference_values():
    assert nb06.false_negative_rate_reference(["p", "n", "p", "n"]) == pytest.approx(1 / 3)
    assert nb06.false_negative_rate_reference(["p", "n"] * 8) == pytest.approx(7 / 15)
    with pytest.raises(ValueError, match="at least 2"):
        nb06.false_negative_rate_reference(["p"])


@pytest.mark.parametrize("function", [right_rate, loop_rate, lambda labels: np.float32(
    right_rate(labels))])
def test_false_negative_rate_accepts_right_answers(function):
    result = nb06.check_false_negative_rate(function)
    assert result.passed, result.message
    assert "47%" in result.message and str(result).startswith("[Correct]")


def _with_self(labels):
    labels = np.asarray(labels)
    return float(((labels[:, None] == labels[None, :]).sum(axis=1) / len(labels)).mean())


def _over_batch_size(labels):
    labels = np.asarray(labels)
    return float((((labels[:, None] == labels[None, :]).sum(axis=1) - 1) / len(labels)).mean())


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (None, "is None; define the function"),
        (0.47, "should be a function"),
        (lambda labels: None, "returned None"),
        (lambda labels: [0.5, 0.5], "one number"),
        (lambda labels: float("nan"), "returned nan; look for a division by zero"),
        (lambda labels: 0.5, "expected 0.3333, got 0.5000"),
        (lambda labels: 1 / 0, "raised ZeroDivisionError"),
        (lambda: 0.5, "raised TypeError"),
        (_with_self, "own negative"),
        (_over_batch_size, "wrong denominator"),
        (lambda labels: 1 - right_rate(labels), "true negatives"),
    ],
)
def test_false_negative_rate_wrong_answers_get_a_specific_hint(answer, hint):
    result = nb06.check_false_negative_rate(answer)
    assert not result.passed
    assert hint in result.message, result.message
    assert str(result).startswith("[Not yet] Exercise 1")


# ---------------------------------------------------------------------------- Exercise 2


def right_precision(embeddings, labels, k):
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    labels = np.asarray(labels)
    return (labels[nearest] == labels[:, None]).mean()


def sklearn_precision(embeddings, labels, k):
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(embeddings)
    _, nearest = index.kneighbors(embeddings)
    labels = np.asarray(labels)
    return float((labels[nearest[:, 1:]] == labels[:, None]).mean())


def test_precision_reference_values():
    points = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    assert nb06.precision_at_k_reference(points, ["a", "a", "b", "b"], 1) == 1.0
    assert nb06.precision_at_k_reference(points, ["a", "b", "a", "b"], 1) == 0.0
    with pytest.raises(ValueError, match="k must be"):
        nb06.precision_at_k_reference(points, ["a", "a", "b", "b"], 4)


@pytest.mark.parametrize("function", [right_precision, sklearn_precision])
def test_precision_accepts_right_answers(function):
    result = nb06.check_precision_at_k(function)
    assert result.passed, result.message


def _with_self_precision(embeddings, labels, k):
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    nearest = np.argsort(-(unit @ unit.T), axis=1)[:, :k]
    labels = np.asarray(labels)
    return (labels[nearest] == labels[:, None]).mean()


def _unnormalised(embeddings, labels, k):
    similarity = embeddings @ embeddings.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    labels = np.asarray(labels)
    return (labels[nearest] == labels[:, None]).mean()


def _least_similar(embeddings, labels, k):
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(similarity, axis=1)[:, :k]
    labels = np.asarray(labels)
    return (labels[nearest] == labels[:, None]).mean()


def _per_row(embeddings, labels, k):
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    labels = np.asarray(labels)
    return (labels[nearest] == labels[:, None]).mean(axis=1)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (None, "is None; define the function"),
        ("precision", "should be a function"),
        (lambda e, labels, k: None, "returned None"),
        (_per_row, "one number"),
        (lambda e, labels, k: 0.5, "expected 1.0000, got 0.5000"),
        (lambda e, labels, k: e[99], "raised IndexError"),
        (_with_self_precision, "found itself"),
        (_unnormalised, "not unit length"),
        (_least_similar, "least"),
    ],
)
def test_precision_wrong_answers_get_a_specific_hint(answer, hint):
    result = nb06.check_precision_at_k(answer)
    assert not result.passed
    assert hint in result.message, result.message
    assert str(result).startswith("[Not yet] Exercise 2")


def test_a_function_that_edits_its_input_does_not_break_later_cases():
    def destructive(embeddings, labels, k):
        value = right_precision(embeddings, labels, k)
        embeddings[:] = 0
        return value

    assert nb06.check_precision_at_k(destructive).passed


# ---------------------------------------------------------------------------- claim checks


def _report(domain_knn, sentiment_knn, domain_sil, sentiment_sil):
    import pandas as pd

    return pd.DataFrame({"knn_accuracy": [domain_knn, sentiment_knn],
                         "silhouette": [domain_sil, sentiment_sil]},
                        index=pd.Index(["domain", "sentiment"], name="label"))


def test_organised_by_needs_both_numbers_to_lead(capsys):
    nb06.claim_organised_by(_report(0.84, 0.78, 0.07, 0.03), "domain", "sentiment")
    assert "\u2714 organised by: neighbourhoods follow domain" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="silhouette domain 0.010 vs sentiment 0.030"):
        nb06.claim_organised_by(_report(0.84, 0.78, 0.01, 0.03), "domain", "sentiment")
    with pytest.raises(ValueError, match="lacks 'topic'"):
        nb06.claim_organised_by(_report(0.8, 0.7, 0.1, 0.0), "topic", "sentiment")
    with pytest.raises(ValueError, match="label_report"):
        nb06.claim_organised_by(None, "domain", "sentiment")
