"""The collapse detector flags crowded spaces and passes healthy ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.collapse import (
    CollapseReport,
    detect_collapse,
    effective_rank,
    mean_pairwise_cosine,
)


def test_healthy_random_space_is_not_collapsed():
    rng = np.random.default_rng(0)
    report = detect_collapse(rng.normal(size=(200, 32)))
    assert isinstance(report, CollapseReport)
    assert not report.collapsed and not report
    assert abs(report.mean_pairwise_cosine) < 0.05
    assert report.effective_rank > 25
    assert "healthy" in str(report)


def test_everything_near_one_point_is_collapsed():
    rng = np.random.default_rng(1)
    point = rng.normal(size=32)
    report = detect_collapse(point + 0.01 * rng.normal(size=(200, 32)))
    assert report.collapsed
    assert report.mean_pairwise_cosine > 0.99
    assert "mean pairwise cosine" in report.message and "learning rate" in report.message


def test_one_direction_with_both_signs_is_caught_by_the_effective_rank():
    rng = np.random.default_rng(2)
    direction = rng.normal(size=16)
    line = np.outer(rng.normal(size=100), direction)  # +/- the same direction: cosine ~ 0
    report = detect_collapse(line)
    assert report.collapsed
    assert report.effective_rank == pytest.approx(1.0, abs=1e-4)
    assert "effective rank" in report.message


def test_all_zero_embeddings_are_collapsed():
    report = detect_collapse(np.zeros((10, 4)))
    assert report.collapsed and "zero vectors" in report.message


def test_thresholds_are_respected():
    rng = np.random.default_rng(3)
    close = rng.normal(size=8) + 0.3 * rng.normal(size=(50, 8))
    cosine = mean_pairwise_cosine(close)
    assert detect_collapse(close, cosine_threshold=cosine - 0.01).collapsed
    assert not detect_collapse(close, cosine_threshold=min(1.0, cosine + 0.01),
                               min_effective_rank=1.0).collapsed


def test_mean_pairwise_cosine_matches_the_full_matrix():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 5))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    full = unit @ unit.T
    expected = (full.sum() - np.trace(full)) / (30 * 29)
    assert mean_pairwise_cosine(x) == pytest.approx(expected, abs=1e-6)
    assert effective_rank(np.eye(5)) == pytest.approx(5.0)


def test_tensors_are_accepted():
    assert not detect_collapse(torch.randn(50, 8, generator=torch.Generator().manual_seed(0)))


@pytest.mark.parametrize(
    ("embeddings", "kwargs", "error"),
    [
        (None, {}, TypeError),
        (np.ones(5), {}, ValueError),
        (np.ones((1, 5)), {}, ValueError),
        (np.full((4, 3), np.nan), {}, ValueError),
        (np.ones((4, 3)), {"cosine_threshold": 2.0}, ValueError),
        (np.ones((4, 3)), {"min_effective_rank": -1}, ValueError),
        (np.ones((4, 3)), {"cosine_threshold": "high"}, TypeError),
    ],
)
def test_bad_inputs_raise_clear_errors(embeddings, kwargs, error):
    with pytest.raises(error):
        detect_collapse(embeddings, **kwargs)


def test_pretrained_course_embeddings_are_healthy(model, sentences):
    from course_utils.data import load_course_data
    from course_utils.embedding import encode

    texts = load_course_data("test")["text"].tolist()[:60] + sentences
    report = detect_collapse(encode(texts, model, cache=False))
    assert not report.collapsed
    assert report.mean_pairwise_cosine < 0.5
    assert report.effective_rank > 20
