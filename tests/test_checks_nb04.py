"""Notebook 04's checkers: right answers pass, wrong ones get a specific hint, none raise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.checks import CheckResult
from course_utils.checks.nb04 import (
    check_cosine_triplet_loss,
    check_grade_triplet,
    check_lowest_loss,
    claim_collapse_flagged,
    claim_margin_unreachable,
    claim_negatives_matter,
)
from course_utils.collapse import detect_collapse


def grade(d_ap, d_an, margin):
    if d_an < d_ap:
        return "hard"
    if d_an < d_ap + margin:
        return "semi-hard"
    return "easy"


def test_grade_triplet_accepts_the_right_function():
    assert check_grade_triplet(grade).passed
    assert check_grade_triplet(lambda *args: grade(*args).upper()).passed


@pytest.mark.parametrize(
    ("function", "fragment"),
    [
        (lambda ap, an, m: "hard" if an <= ap else grade(ap, an, m),
         "inside the margin, so 'semi-hard'"),
        (lambda ap, an, m: "semi-hard" if an <= ap + m and an >= ap else grade(ap, an, m),
         "the loss is 0"),
        (lambda ap, an, m: "easy", "the negative is closer"),
        (lambda ap, an, m: None, "returned None"),
        (lambda ap, an, m: 1, "return one of the strings"),
        (lambda ap, an, m: "medium", "return one of the strings"),
        (lambda ap, an: "easy", "TypeError"),
        (lambda ap, an, m: [][0], "IndexError"),
        ("easy", "pass your function itself"),
    ],
)
def test_grade_triplet_hints(function, fragment):
    result = check_grade_triplet(function)
    assert isinstance(result, CheckResult) and not result.passed
    assert any(part in result.message for part in fragment.split("|")), result.message


def cosine_loss(a, p, n, margin):
    d_ap = 1 - torch.nn.functional.cosine_similarity(a, p)
    d_an = 1 - torch.nn.functional.cosine_similarity(a, n)
    return torch.clamp(d_ap - d_an + margin, min=0).mean()


def test_cosine_triplet_loss_accepts_the_right_function():
    result = check_cosine_triplet_loss(cosine_loss)
    assert result.passed, result.message


def _euclidean(a, p, n, margin):
    d_ap = torch.linalg.vector_norm(a - p, dim=1)
    d_an = torch.linalg.vector_norm(a - n, dim=1)
    return torch.clamp(d_ap - d_an + margin, min=0).mean()


def _no_hinge(a, p, n, margin):
    cos = torch.nn.functional.cosine_similarity
    return ((1 - cos(a, p)) - (1 - cos(a, n)) + margin).mean()


@pytest.mark.parametrize(
    ("function", "fragment"),
    [
        (_euclidean, "euclidean distance"),
        (_no_hinge, "hinge is missing"),
        (lambda a, p, n, m: cosine_loss(a, n, p, m), "sign is flipped"),
        (lambda a, p, n, m: cosine_loss(a, p, n, m) * len(a), "the sum"),
        (lambda a, p, n, m: cosine_loss(a, p, n, m) + 1.0, "expected"),
        (lambda a, p, n, m: torch.zeros(len(a)), "return one number"),
        (lambda a, p, n, m: None, "returned None"),
        (lambda a, p, n, m: a @ p, "RuntimeError"),
        (lambda a, p, n, m: float("inf"), "inf"),
        (lambda a, p, n, m: object(), "scalar tensor"),
        (42, "pass your function itself"),
    ],
)
def test_cosine_triplet_loss_hints(function, fragment):
    result = check_cosine_triplet_loss(function)
    assert isinstance(result, CheckResult) and not result.passed
    assert fragment in result.message, result.message


def test_lowest_loss():
    assert check_lowest_loss(3.0).passed
    assert check_lowest_loss(np.float64(3.0)).passed
    assert check_lowest_loss(torch.tensor(3.0)).passed
    for wrong, fragment in ((5, "may be farther"), (0, "at most 2 apart"),
                            (7.0, "largest loss"), (2.5, "is not it yet"), (None, "None"),
                            ("3", "should be a number"), ([3.0], "should be a number")):
        result = check_lowest_loss(wrong)
        assert not result.passed and fragment in result.message, (wrong, result.message)
        if isinstance(wrong, (int, float)):  # the hint leads, it does not tell the number
            assert "3" not in result.message, result.message


def test_claims(capsys):
    claim_negatives_matter({"random": 0.82, "same_group": 0.55})
    assert "82% of the random-negative triplets, 55% of the same-topic" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="60% of the random"):
        claim_negatives_matter({"random": 0.6, "same_group": 0.55})
    claim_margin_unreachable(torch.tensor([3.0, 3.5, 4.2]), 5.0)
    with pytest.raises(AssertionError, match="expected every loss >= -1.5"):
        claim_margin_unreachable(np.array([0.0, 0.2]), 0.5)
    rng = np.random.default_rng(0)
    healthy = detect_collapse(rng.normal(size=(50, 16)))
    collapsed = detect_collapse(np.ones((50, 16)) + 1e-3 * rng.normal(size=(50, 16)))
    claim_collapse_flagged(healthy, collapsed)
    with pytest.raises(AssertionError, match="got True and False"):
        claim_collapse_flagged(collapsed, healthy)
