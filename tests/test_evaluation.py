"""kNN accuracy, silhouette, probe and the report on synthetic clusters with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils import evaluation


def clustered(n_per=20, seed=0):
    """Points in 4 clusters: topic decides the cluster, sentiment is noise."""
    rng = np.random.default_rng(seed)
    centres = np.eye(8)[:4] * 5
    rows, topics, sentiments = [], [], []
    for t, centre in enumerate(centres):
        for i in range(n_per):
            rows.append(centre + rng.normal(scale=0.3, size=8))
            topics.append(f"t{t}")
            sentiments.append("positive" if i % 2 else "negative")
    frame = pd.DataFrame({"topic": topics, "sentiment": sentiments})
    return np.array(rows, dtype=np.float32), frame


def test_report_sees_topic_structure_and_no_sentiment_structure():
    train_x, train_f = clustered(seed=0)
    test_x, test_f = clustered(seed=1)
    report = evaluation.label_report(train_x, train_f, test_x, test_f)
    assert report.loc["topic", "knn_accuracy"] == 1.0
    assert report.loc["topic", "silhouette"] > 0.8
    assert report.loc["sentiment", "knn_accuracy"] < 0.75
    assert abs(report.loc["sentiment", "silhouette"]) < 0.1
    assert report.loc["topic", "chance"] == pytest.approx(0.25)
    both = evaluation.compare_reports(report, report)
    assert (both[("knn_accuracy", "change")] == 0).all()


def test_probe_and_knn_agree_on_easy_data():
    x, frame = clustered()
    assert evaluation.probe_accuracy(x, frame["topic"], x, frame["topic"]) == 1.0
    assert evaluation.knn_accuracy(x, frame["topic"], x, frame["topic"], k=3) == 1.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x, y: evaluation.knn_accuracy(x, y[:-1], x, y), "match one to one"),
        (lambda x, y: evaluation.knn_accuracy(x, ["a"] * len(y), x, y), "single class"),
        (lambda x, y: evaluation.knn_accuracy(x, y, x[:, :3], y), "differ in size"),
        (lambda x, y: evaluation.knn_accuracy(x, y, x, y, k=0), "k must be"),
        (lambda x, y: evaluation.silhouette(np.where(x > 4, np.nan, x), y), "NaN"),
        (lambda x, y: evaluation.silhouette(x, None), "None"),
        (lambda x, y: evaluation.probe_accuracy([], y, x, y), "non-empty 2-D"),
    ],
)
def test_bad_inputs_are_explained(call, message):
    x, frame = clustered()
    with pytest.raises((ValueError, TypeError), match=message):
        call(x, frame["topic"].to_numpy())


def test_compare_reports_needs_the_same_labels():
    x, frame = clustered()
    a = evaluation.label_report(x, frame, x, frame, label_cols=["topic"])
    b = evaluation.label_report(x, frame, x, frame, label_cols=["sentiment"])
    with pytest.raises(ValueError, match="different labels"):
        evaluation.compare_reports(a, b)
