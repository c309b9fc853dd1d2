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


def test_knn_hits_are_the_rows_behind_knn_accuracy():
    x, frame = clustered()
    labels = frame["sentiment"].to_numpy()
    hits = evaluation.knn_hits(x, labels, x, labels, k=3)
    assert hits.dtype == bool and hits.shape == (len(x),)
    assert hits.mean() == evaluation.knn_accuracy(x, labels, x, labels, k=3)


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_rows():
    rng = np.random.default_rng(1)
    small = rng.random(40) < 0.8  # e.g. kNN hits: 80 % right
    low, high = evaluation.bootstrap_interval(small)
    assert low < small.mean() < high and 0 <= low and high <= 1
    assert (low, high) == evaluation.bootstrap_interval(small), "seeded: the same every time"
    big = rng.random(4000) < 0.8
    big_low, big_high = evaluation.bootstrap_interval(big)
    assert big_high - big_low < (high - low) / 5  # ~ 1 / sqrt(rows)
    assert big_low < 0.8 < big_high
    constant = evaluation.bootstrap_interval(np.ones(10))
    assert constant == (1.0, 1.0)


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ([1.0], {}, "at least 2"),
        ([1.0, np.nan], {}, "NaN"),
        ([1.0, 0.0], {"confidence": 95}, "confidence"),
        ([1.0, 0.0], {"n_resamples": 10}, "n_resamples"),
    ],
)
def test_bootstrap_interval_explains_bad_input(values, kwargs, message):
    with pytest.raises(ValueError, match=message):
        evaluation.bootstrap_interval(values, **kwargs)


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


# ------------------------------------------------------------------ retrieval (notebook 07)
def labelled(n_per: int, prefix: str) -> pd.DataFrame:
    rows = [{"text": f"{prefix} {topic} {mood} {i}", "topic": topic, "sentiment": mood}
            for topic in ("hotels", "movies") for mood in ("positive", "negative")
            for i in range(n_per)]
    return pd.DataFrame(rows)


def test_retrieval_task_relevance_is_the_same_labels():
    from course_utils.evaluation import retrieval_task

    task = retrieval_task(labelled(2, "q"), labelled(5, "d"), per_label=3)
    assert len(task.queries) == 8 and len(task.corpus) == 12
    for query_id, relevant in task.relevant.items():
        topic, mood = task.queries[query_id].split()[1:3]
        assert len(relevant) == 3
        assert all(task.corpus[d].split()[1:3] == [topic, mood] for d in relevant)
    assert "8 queries, a corpus of 12 sentences, 3 relevant" in task.describe()
    assert retrieval_task(labelled(2, "q"), labelled(5, "d"), per_label=3).corpus == task.corpus
    assert len(retrieval_task(labelled(1, "q"), labelled(5, "d"), per_label=None).corpus) == 20


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"per_label": 9}, "per_label=9"),
        ({"per_label": 0}, "per_label"),
        ({"label_cols": ("colour",)}, "colour"),
    ],
)
def test_retrieval_task_explains_bad_input(kwargs, message):
    from course_utils.evaluation import retrieval_task

    with pytest.raises(ValueError, match=message):
        retrieval_task(labelled(1, "q"), labelled(5, "d"), **kwargs)


def test_the_task_feeds_the_library_evaluator_as_notebook_07_builds_it(model):
    """The evaluator built on a RetrievalTask's dicts (notebook 07, section 5) gives the
    recall and MRR of a hand-computed ranking."""
    from sentence_transformers.sentence_transformer.evaluation import (
        InformationRetrievalEvaluator,
    )

    from course_utils.embedding import encode
    from course_utils.evaluation import RetrievalTask

    corpus = {"d0": "The hotel room was spotless.", "d1": "The film was a bore.",
              "d2": "The pasta was delicious.", "d3": "My phone screen cracked."}
    queries = {"q0": "A very clean hotel room.", "q1": "A dull movie."}
    relevant = {"q0": {"d0", "d2"}, "q1": {"d3"}}
    task = RetrievalTask(queries, corpus, relevant)
    evaluator = InformationRetrievalEvaluator(
        queries=task.queries, corpus=task.corpus, relevant_docs=task.relevant, name="test",
        mrr_at_k=[2], ndcg_at_k=[2], accuracy_at_k=[2], precision_recall_at_k=[2],
        map_at_k=[2], write_csv=False)
    scores = evaluator(model)
    q = encode(list(queries.values()), model, cache=False)
    d = encode(list(corpus.values()), model, cache=False)
    ranking = np.argsort(-(q @ d.T), axis=1)[:, :2]
    ids = list(corpus)
    recalls, reciprocal = [], []
    for row, query_id in zip(ranking, queries, strict=True):
        found = [ids[j] in relevant[query_id] for j in row]
        recalls.append(sum(found) / len(relevant[query_id]))
        reciprocal.append(next((1 / (r + 1) for r, hit in enumerate(found) if hit), 0.0))
    assert scores["test_cosine_recall@2"] == pytest.approx(np.mean(recalls))
    assert scores["test_cosine_mrr@2"] == pytest.approx(np.mean(reciprocal))


# ------------------------------------------------------------------ reports and checks
def _report(topic_knn, sentiment_knn, topic_sil, sentiment_sil):
    return pd.DataFrame({
        "knn_accuracy": [topic_knn, sentiment_knn], "silhouette": [topic_sil, sentiment_sil],
        "probe_accuracy": [0.5, 0.5], "chance": [0.2, 0.5],
    }, index=pd.Index(["topic", "sentiment"], name="label"))


def test_before_after_report_accepts_reports():
    before, after = _report(0.86, 0.52, 0.08, 0.01), _report(0.3, 0.93, -0.1, 0.4)
    table = evaluation.before_after_report(before, after, pd.DataFrame(), pd.DataFrame())
    assert table.loc["sentiment", ("knn_accuracy", "after")] == 0.93
    assert table.loc["topic", ("knn_accuracy", "change")] == pytest.approx(-0.56)


def test_claim_shift_prints_when_it_holds_and_raises_when_not(capsys):
    before = _report(0.86, 0.52, 0.08, 0.01)
    evaluation.claim_shift(evaluation.compare_reports(before, _report(0.3, 0.93, -0.1, 0.4)))
    assert "\u2714 shift: the space now follows sentiment" in capsys.readouterr().out
    weak = evaluation.compare_reports(before, _report(0.6, 0.8, 0.05, 0.04))
    with pytest.raises(AssertionError) as raised:
        evaluation.claim_shift(weak)
    for part in ("0.520 -> 0.800", "sentiment kNN accuracy is 0.800",
                 "topic kNN accuracy is still 0.600", "silhouette 0.040 is not above",
                 "more steps"):
        assert part in str(raised.value)
    with pytest.raises(ValueError, match="before_after_report"):
        evaluation.claim_shift(pd.DataFrame())


def test_embedding_report_validates_frames(model):
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['text'\]"):
        evaluation.embedding_report(model, pd.DataFrame({"x": ["a"]}), pd.DataFrame({"x": ["a"]}))
    with pytest.raises(TypeError, match="DataFrame"):
        evaluation.embedding_report(model, ["a"], pd.DataFrame({"text": ["a"]}))


def test_snapshot_metrics_see_clusters():
    rng = np.random.default_rng(0)
    labels = np.repeat(["a", "b"], 20)
    centres = {"a": np.eye(8)[0], "b": np.eye(8)[1]}
    vectors = np.stack([centres[label] for label in labels]) + 0.1 * rng.normal(size=(40, 8))
    noise = rng.permutation(np.repeat(["x", "y"], 20))
    metrics = evaluation.snapshot_metrics(vectors, {"clustered": labels, "noise": noise})
    assert metrics["clustered kNN"] == 1.0 and metrics["clustered silhouette"] > 0.5
    assert metrics["noise kNN"] < 0.8 and abs(metrics["noise silhouette"]) < 0.1
    with pytest.raises(ValueError, match="match one to one"):
        evaluation.snapshot_metrics(vectors, {"short": labels[:5]})
    with pytest.raises(TypeError, match="dict"):
        evaluation.snapshot_metrics(vectors, labels)
