"""Notebook 03's checkers: right answers pass, wrong ones get a specific hint, none raise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.checks import CheckResult
from course_utils.checks.nb03 import (
    check_library_style_loss,
    check_paying_pairs,
    claim_pull_and_push,
    paying_pairs_reference,
)

RIGHT_PAYS = [True, True, False, True, False, False]


def test_reference_answer_for_exercise_1():
    assert paying_pairs_reference() == RIGHT_PAYS


@pytest.mark.parametrize("answer", [RIGHT_PAYS, [1, 1, 0, 1, 0, 0], np.array(RIGHT_PAYS),
                                    torch.tensor(RIGHT_PAYS)])
def test_paying_pairs_accepts_right_answers(answer):
    assert check_paying_pairs(answer).passed


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ([True, True, True, True, False, False], "pair 2 is dissimilar with d = 1.4 >= margin"),
        ([True, True, False, False, False, False], "pair 3 is dissimilar with d = 0.3 < margin"),
        ([True, True, False, True, False, True], "pair 5 is similar with d = 0"),
        ([True] * 5, "has 5 entries"),
        (None, "None"),
        ("TTFTFF", "list of True/False"),
        (3, "list of True/False"),
        (["yes", "yes", "no", "yes", "no", "no"], "use True or False"),
    ],
)
def test_paying_pairs_hints(answer, fragment):
    result = check_paying_pairs(answer)
    assert isinstance(result, CheckResult) and not result.passed
    assert fragment in result.message, result.message


def library_style(a, b, y, margin):
    d = 1 - torch.nn.functional.cosine_similarity(a, b)
    return (0.5 * (y * d**2 + (1 - y) * torch.clamp(margin - d, min=0) ** 2)).mean()


def test_library_style_loss_accepts_the_right_function():
    result = check_library_style_loss(library_style)
    assert result.passed, result.message


@pytest.mark.parametrize(
    ("function", "fragment"),
    [
        (lambda a, b, y, m: 2 * library_style(a, b, y, m), "factor 0.5"),
        (lambda a, b, y, m: (0.5 * (y * torch.linalg.vector_norm(a - b, dim=1) ** 2 + (1 - y)
                                    * torch.clamp(m - torch.linalg.vector_norm(a - b, dim=1),
                                                  min=0) ** 2)).mean(), "euclidean distance"),
        (lambda a, b, y, m: library_style(a, b, 1 - y, m), "labels look swapped"),
        (lambda a, b, y, m: library_style(a, b, y, m) * len(a), "sum over the pairs"),
        (lambda a, b, y, m: library_style(a, b, y, m) + 0.123, "expected"),
        (lambda a, b, y, m: torch.zeros(len(a)), "return one number"),
        (lambda a, b, y, m: None, "returned None"),
        (lambda a, b, y, m: 1 / 0, "ZeroDivisionError"),
        (lambda a, b, y, m: torch.tensor(float("nan")), "nan"),
        (lambda a, b, y, m: "loss", "scalar tensor"),
        (lambda a, b: 0.0, "TypeError"),
        (None, "library_style is None"),
        (0.25, "pass your function itself"),
    ],
)
def test_library_style_loss_hints(function, fragment):
    result = check_library_style_loss(function)
    assert isinstance(result, CheckResult) and not result.passed
    assert fragment in result.message, result.message


def test_claim_checks_pass_quietly_and_fail_loudly():
    start = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    end = np.array([[0.0, 0.0], [0.001, 0.0], [0.0, 1.0]])
    pairs = np.array([[0, 1], [0, 2], [1, 2]])
    similar = np.array([1.0, 0.0, 0.0])
    claim_pull_and_push(start, end, pairs, similar, margin=1.0)
    with pytest.raises(AssertionError, match="margin 2"):
        claim_pull_and_push(start, end, pairs, similar, margin=2.0)
    with pytest.raises(AssertionError, match="shrink"):
        claim_pull_and_push(start, start, pairs, similar, margin=1.0)


def test_library_style_loss_refuses_the_course_and_library_implementations():
    from sentence_transformers.sentence_transformer.losses import ContrastiveLoss

    import course_utils as cu

    original = cu.losses.contrastive_loss
    course_call = lambda a, b, y, m: cu.losses.contrastive_loss(a, b, y, margin=m)  # noqa: E731
    alias = cu.losses

    def indirect(a, b, y, m):  # the name is hidden from the code object: the spy sees the call
        return getattr(alias, "contrastive" + "_loss")(a, b, y, margin=m)

    def library(a, b, y, m):
        return ContrastiveLoss(model=None, margin=m).compute_loss_from_embeddings([a, b], y)

    for function in (course_call, indirect, library):
        result = check_library_style_loss(function)
        assert not result.passed and "write it yourself" in result.message, result.message
    assert cu.losses.contrastive_loss is original  # the spy is gone after the check
    assert check_library_style_loss(library_style).passed


@pytest.mark.parametrize("convert", [lambda t: t.item(), float, lambda t: t.reshape(1),
                                     lambda t: t.numpy()])
def test_library_style_loss_insists_on_a_scalar_tensor(convert):
    result = check_library_style_loss(lambda a, b, y, m: convert(library_style(a, b, y, m)))
    assert not result.passed and "scalar torch tensor" in result.message, result.message
