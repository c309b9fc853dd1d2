"""Numbers that say how an embedding space is organised.

Three views, each computed for every label column (topic, sentiment, ...):

* **kNN accuracy** - fit a k-nearest-neighbour classifier (cosine) on the train embeddings and
  score it on held-out test embeddings: "are my neighbours of the same label?"
* **silhouette** (cosine) on the test embeddings: how compact and separated the label's
  clusters are, from -1 to 1 (0 = no cluster structure for that label).
* **linear-probe accuracy** - a logistic regression on train, scored on test: "is the label
  linearly readable?", even when it does not shape the neighbourhoods.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from course_utils.embedding import check_embeddings

DEFAULT_K = 5


def _labels(labels: object, n_rows: int, name: str) -> np.ndarray:
    if labels is None:
        raise TypeError(f"{name} is None; pass one label per embedding row.")
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per row), got shape {array.shape}.")
    if len(array) != n_rows:
        raise ValueError(
            f"{name} has {len(array)} labels but the embeddings have {n_rows} rows; they must "
            "match one to one (same order)."
        )
    if pd.isna(array).any():
        raise ValueError(f"{name} has missing labels; fill or drop those rows first.")
    return array.astype(str)


def _at_least_two_classes(labels: np.ndarray, name: str) -> None:
    if len(set(labels)) < 2:
        raise ValueError(
            f"{name} has a single class ({labels[0]!r}); this score compares classes, so it "
            "needs at least two."
        )


def knn_accuracy(train_embeddings, train_labels, test_embeddings, test_labels,
                 k: int = DEFAULT_K) -> float:
    """Accuracy of a cosine k-nearest-neighbour classifier fit on train, scored on test."""
    from sklearn.neighbors import KNeighborsClassifier

    train = check_embeddings(train_embeddings, name="train_embeddings")
    test = check_embeddings(test_embeddings, name="test_embeddings")
    y_train = _labels(train_labels, len(train), "train_labels")
    y_test = _labels(test_labels, len(test), "test_labels")
    _at_least_two_classes(y_train, "train_labels")
    if train.shape[1] != test.shape[1]:
        raise ValueError(
            f"train and test embeddings differ in size ({train.shape[1]} vs {test.shape[1]}); "
            "encode both with the same model."
        )
    if not isinstance(k, int) or k < 1 or k > len(train):
        raise ValueError(f"k must be a whole number between 1 and {len(train)}, got {k!r}.")
    classifier = KNeighborsClassifier(n_neighbors=k, metric="cosine")
    classifier.fit(train, y_train)
    return float((classifier.predict(test) == y_test).mean())


def silhouette(embeddings, labels) -> float:
    """Cosine silhouette of ``labels`` in ``embeddings``: -1..1, higher = tighter clusters."""
    from sklearn.metrics import silhouette_score

    array = check_embeddings(embeddings)
    y = _labels(labels, len(array), "labels")
    _at_least_two_classes(y, "labels")
    if len(set(y)) >= len(y):
        raise ValueError("silhouette needs at least one label shared by two or more rows.")
    return float(silhouette_score(array, y, metric="cosine"))


def probe_accuracy(train_embeddings, train_labels, test_embeddings, test_labels,
                   seed: int = 0) -> float:
    """Accuracy of a logistic-regression probe fit on train, scored on test."""
    from sklearn.linear_model import LogisticRegression

    train = check_embeddings(train_embeddings, name="train_embeddings")
    test = check_embeddings(test_embeddings, name="test_embeddings")
    y_train = _labels(train_labels, len(train), "train_labels")
    y_test = _labels(test_labels, len(test), "test_labels")
    _at_least_two_classes(y_train, "train_labels")
    probe = LogisticRegression(max_iter=2000, random_state=seed)
    probe.fit(train, y_train)
    return float((probe.predict(test) == y_test).mean())


def label_report(train_embeddings, train_frame: pd.DataFrame, test_embeddings,
                 test_frame: pd.DataFrame, label_cols: Sequence[str] = ("topic", "sentiment"),
                 k: int = DEFAULT_K) -> pd.DataFrame:
    """One row per label column: kNN accuracy, silhouette, probe accuracy and chance level.

    Put topic and sentiment side by side to see which one organises the space.
    """
    train = check_embeddings(train_embeddings, name="train_embeddings", n_rows=len(train_frame))
    test = check_embeddings(test_embeddings, name="test_embeddings", n_rows=len(test_frame))
    rows = []
    for col in label_cols:
        for frame, which in ((train_frame, "train_frame"), (test_frame, "test_frame")):
            if col not in frame.columns:
                raise ValueError(
                    f"{which} has no column {col!r}; columns are {list(frame.columns)}."
                )
        y_train, y_test = train_frame[col].to_numpy(), test_frame[col].to_numpy()
        majority = pd.Series(y_test).value_counts(normalize=True).iloc[0]
        rows.append({
            "label": col,
            "knn_accuracy": knn_accuracy(train, y_train, test, y_test, k=k),
            "silhouette": silhouette(test, y_test),
            "probe_accuracy": probe_accuracy(train, y_train, test, y_test),
            "chance": float(majority),
        })
    return pd.DataFrame(rows).set_index("label")


def compare_reports(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Before and after side by side: columns (metric, before/after/change), rows = labels."""
    if list(before.index) != list(after.index):
        raise ValueError(
            f"The reports cover different labels ({list(before.index)} vs "
            f"{list(after.index)}); build both with the same label_cols."
        )
    metrics = [m for m in ("knn_accuracy", "silhouette", "probe_accuracy") if m in before]
    parts = {}
    for metric in metrics:
        parts[(metric, "before")] = before[metric]
        parts[(metric, "after")] = after[metric]
        parts[(metric, "change")] = after[metric] - before[metric]
    return pd.DataFrame(parts).round(3)
