"""Notebook 07's checkers: right answers pass, usual mistakes get a specific hint, nothing
raises."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_utils.checks import nb07


def info_nce(anchor, positive, temperature):
    sim = F.normalize(anchor, dim=1) @ F.normalize(positive, dim=1).T / temperature
    return F.cross_entropy(sim, torch.arange(len(anchor)))


def test_info_nce_reference_passes():
    assert nb07.check_info_nce(info_nce).passed


def test_info_nce_mistakes_get_hints():
    def raw_dot(a, p, t):
        return F.cross_entropy(a @ p.T / t, torch.arange(len(a)))

    def times_t(a, p, t):
        return F.cross_entropy(F.normalize(a) @ F.normalize(p).T * t, torch.arange(len(a)))

    def summed(a, p, t):
        return F.cross_entropy(F.normalize(a) @ F.normalize(p).T / t, torch.arange(len(a)),
                               reduction="sum")

    def per_pair(a, p, t):
        return F.cross_entropy(F.normalize(a) @ F.normalize(p).T / t, torch.arange(len(a)),
                               reduction="none")

    def broken(a, p, t):
        raise RuntimeError("shape mismatch")

    cases = {raw_dot: "normalise", times_t: "divide by it", summed: "mean",
             per_pair: "one number", broken: "raised RuntimeError",
             (lambda a, p, t: None): "return"}
    for function, words in cases.items():
        result = nb07.check_info_nce(function)
        assert not result.passed and words in result.message, result.message
    assert not nb07.check_info_nce(None).passed
    assert "function" in nb07.check_info_nce(3).message


def test_an_unrecognised_mistake_gets_the_idea_not_the_solution():
    def mean_diagonal(a, p, t):  # no known slip: the fallback hint answers
        return -(F.normalize(a) @ F.normalize(p).T / t).diagonal().mean()

    result = nb07.check_info_nce(mean_diagonal)
    assert not result.passed and "multiple-choice" in result.message, result.message
    for solution_code in ("arange", "F.cross_entropy(", "normalize(anchor) @"):
        assert solution_code not in result.message, result.message


def test_flatter_temperature():
    assert nb07.check_flatter_temperature(0.5).passed
    text = nb07.check_flatter_temperature("0.5")  # a number is asked: text is refused
    assert not text.passed and "without quotes" in text.message
    assert not nb07.check_flatter_temperature(0.01).passed
    assert "one of" in nb07.check_flatter_temperature(2.0).message
    assert "None" in nb07.check_flatter_temperature(None).message
    assert not nb07.check_flatter_temperature("hot").passed


def test_false_negatives():
    def right(labels, anchor):
        return {j for j, label in enumerate(labels) if j != anchor and label == labels[anchor]}

    def with_self(labels, anchor):
        return {j for j, label in enumerate(labels) if label == labels[anchor]}

    def other_label(labels, anchor):
        return [j for j, label in enumerate(labels) if label != labels[anchor]]

    assert nb07.check_false_negatives(right).passed
    assert "anchor itself" in nb07.check_false_negatives(with_self).message
    assert "expected" in nb07.check_false_negatives(other_label).message
    assert "return the indices" in nb07.check_false_negatives(lambda labels, a: 3).message
    assert not nb07.check_false_negatives(None).passed
