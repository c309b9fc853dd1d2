"""Notebook 05's checkers: right answers pass; wrong and broken answers get a specific hint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.checks import nb05


@pytest.fixture()
def frame() -> pd.DataFrame:
    rows = []
    for topic in ("hotels", "movies", "fitness"):
        for sentiment in ("positive", "negative"):
            for i in range(3):
                rows.append({"text": f"{topic} {sentiment} {i}", "topic": topic,
                             "sentiment": sentiment})
    return pd.DataFrame(rows)


def right_negative(frame, anchor):
    row = frame.iloc[anchor]
    candidates = np.flatnonzero((frame["topic"] == row["topic"])
                                & (frame["sentiment"] != row["sentiment"]))
    return int(candidates[0])


def test_same_topic_negative_accepts_a_right_function(frame):
    result = nb05.check_same_topic_negative(right_negative, frame)
    assert result.passed, result.message
    assert "Correct" in str(result)


def test_same_topic_negative_runs_on_the_course_data_by_default():
    assert nb05.check_same_topic_negative(right_negative).passed


@pytest.mark.parametrize(
    ("function", "expected_hint"),
    [
        (lambda f, a: None, "returned None"),
        (lambda f, a: a, "the anchor itself"),
        (lambda f, a: f.iloc[right_negative(f, a)]["text"], "return the row position"),
        (lambda f, a: f.iloc[[right_negative(f, a)]], "pandas object"),
        (lambda f, a: 10_000, "only has rows"),
        (lambda f, a: 2.5, "one whole number"),
        (lambda f, a: 1 / 0, "ZeroDivisionError"),
        # same sentiment, same topic: a positive, not a negative
        (lambda f, a: int(np.flatnonzero((f.topic == f.topic[a]) & (f.sentiment == f.sentiment[a])
                                         & (f.index != a))[0]), "same sentiment"),
        # other sentiment but another topic: a random negative
        (lambda f, a: int(np.flatnonzero((f.topic != f.topic[a])
                                         & (f.sentiment != f.sentiment[a]))[0]), "Keep the topic"),
    ],
)
def test_same_topic_negative_hints(frame, function, expected_hint):
    result = nb05.check_same_topic_negative(function, frame)
    assert not result.passed
    assert expected_hint in result.message
    assert "Not yet" in str(result)


def test_same_topic_negative_rejects_a_non_function(frame):
    for value in (None, 3, "right_negative"):
        result = nb05.check_same_topic_negative(value, frame)
        assert not result.passed and "function" in result.message


def test_same_topic_negative_survives_a_broken_frame():
    result = nb05.check_same_topic_negative(right_negative, pd.DataFrame({"x": [1, 2]}))
    assert not result.passed  # reported, not raised


@pytest.fixture()
def vectors():
    rng = np.random.default_rng(0)
    a, p, n = (rng.normal(size=(50, 8)) for _ in range(3))
    p, n = a + 0.3 * p, a + 0.35 * n  # a mix of solved, semi-hard and hard triplets
    return a, p, n


def test_active_fraction_right_answer(vectors):
    a, p, n = vectors
    d_ap, d_an = np.linalg.norm(a - p, axis=1), np.linalg.norm(a - n, axis=1)
    answer = np.mean(d_ap - d_an + 0.5 > 0)  # a NumPy scalar is fine
    assert 0 < answer < 1
    assert nb05.check_active_fraction(answer, a, p, n, margin=0.5).passed
    assert nb05.check_active_fraction(float(answer), a, p, n, margin=0.5).passed


def test_active_fraction_specific_hints(vectors):
    a, p, n = vectors
    d_ap, d_an = np.linalg.norm(a - p, axis=1), np.linalg.norm(a - n, axis=1)
    right = float(np.mean(d_ap - d_an + 0.5 > 0))
    cases = {
        int(np.sum(d_ap - d_an + 0.5 > 0)): "count",
        1 - right: "solved (easy)",
        float(np.mean(d_an < d_ap)): "only the hard",
        float(np.mean(d_ap - d_an + 5 > 0)): "margin 5",
        0.987654: "np.linalg.norm",
    }
    for answer, hint in cases.items():
        result = nb05.check_active_fraction(answer, a, p, n, margin=0.5)
        assert not result.passed, answer
        assert hint in result.message, (answer, result.message)
        assert f"{right:.3f}" not in result.message  # leads, does not tell the answer


@pytest.mark.parametrize("answer", [None, "0.4", [0.1, 0.2], np.array([0.1, 0.2]), True])
def test_active_fraction_broken_answers(vectors, answer):
    result = nb05.check_active_fraction(answer, *vectors)
    assert not result.passed
    assert result.message


def test_active_fraction_survives_broken_vectors():
    result = nb05.check_active_fraction(0.5, None, None, None)
    assert not result.passed


def test_hard_share_estimate():
    right = nb05.check_hard_share_estimate(0.8, 0.73, 0.2)
    assert right.passed and "73%" in right.message and "same_group" in right.message
    assert nb05.check_hard_share_estimate(np.float64(1.0), 0.73, 0.2).passed
    low = nb05.check_hard_share_estimate(0.2, 0.73, 0.2)
    assert not low.passed and "*nearest*" in low.message and "73" not in low.message
    for wrong, hint in ((None, "is None"), ("0.7", "one number"), (70, "between 0 and 1"),
                        (True, "one number"), ([0.7], "one number")):
        result = nb05.check_hard_share_estimate(wrong, 0.73, 0.2)
        assert not result.passed and hint in result.message, (wrong, result.message)
        assert "73" not in result.message  # the measurement is told only to a right estimate


def test_recipe_keeps_topic_refuses_what_is_not_a_run():
    frame = pd.DataFrame({"text": ["a", "b"], "topic": ["x", "y"], "sentiment": ["positive",
                                                                              "negative"]})
    blank = nb05.check_recipe_keeps_topic(None, frame, frame)
    assert not blank.passed and "my_run is None" in blank.message
    wrong = nb05.check_recipe_keeps_topic("a model name", frame, frame)
    assert not wrong.passed and "fine_tune returned" in wrong.message


@pytest.mark.parametrize(("topic", "sentiment", "passed", "hint"), [
    (0.93, 0.86, True, "topic survives"),
    (0.93, 0.60, False, "sentiment was not learned"),
    (0.28, 0.90, False, "topic is lost"),
])
def test_recipe_keeps_topic_reads_the_held_out_numbers(monkeypatch, topic, sentiment, passed,
                                                       hint):
    from course_utils import evaluation

    report = pd.DataFrame({"knn_accuracy": {"topic": topic, "sentiment": sentiment}})
    monkeypatch.setattr(evaluation, "embedding_report", lambda *args, **kwargs: report)

    class Run:
        model = type("Model", (), {"encode": None})()

    result = nb05.check_recipe_keeps_topic(Run(), None, None)
    assert result.passed == passed and hint in result.message
    assert f"topic kNN {topic:.2f}" in result.message
