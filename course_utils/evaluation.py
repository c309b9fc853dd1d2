"""Numbers that say how an embedding space is organised: kNN accuracy, silhouette and
linear-probe accuracy per label column, bootstrap intervals, a retrieval task (notebook 07),
and reports for a model before and after training (notebooks 05-08, the training command).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from course_utils.claims import claim
from course_utils.embedding import encode, validate_embeddings

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

DEFAULT_K = 5

#: The acceptance thresholds of notebook 05 on the course test split (see docs/training.md).
MIN_SENTIMENT_KNN = 0.88
MAX_TOPIC_KNN = 0.45


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


def _train_test(train_embeddings, train_labels, test_embeddings, test_labels
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validated (train, y_train, test, y_test) for a classifier fit on train, scored on test."""
    train = validate_embeddings(train_embeddings, name="train_embeddings")
    test = validate_embeddings(test_embeddings, name="test_embeddings")
    y_train = _labels(train_labels, len(train), "train_labels")
    y_test = _labels(test_labels, len(test), "test_labels")
    _at_least_two_classes(y_train, "train_labels")
    if train.shape[1] != test.shape[1]:
        raise ValueError(
            f"train and test embeddings differ in size ({train.shape[1]} vs {test.shape[1]}); "
            "encode both with the same model."
        )
    return train, y_train, test, y_test


def knn_accuracy(train_embeddings, train_labels, test_embeddings, test_labels,
                 k: int = DEFAULT_K) -> float:
    """Accuracy of a cosine k-nearest-neighbour classifier fit on train, scored on test."""
    return float(knn_hits(train_embeddings, train_labels, test_embeddings, test_labels, k).mean())


def knn_hits(train_embeddings, train_labels, test_embeddings, test_labels,
             k: int = DEFAULT_K) -> np.ndarray:
    """One bool per test row: does the vote of its ``k`` nearest training rows (cosine) give
    its label? The mean is :func:`knn_accuracy`; the rows feed :func:`bootstrap_interval`."""
    from sklearn.neighbors import KNeighborsClassifier

    train, y_train, test, y_test = _train_test(train_embeddings, train_labels, test_embeddings,
                                               test_labels)
    if not isinstance(k, int) or k < 1 or k > len(train):
        raise ValueError(f"k must be a whole number between 1 and {len(train)}, got {k!r}.")
    classifier = KNeighborsClassifier(n_neighbors=k, metric="cosine")
    classifier.fit(train, y_train)
    return classifier.predict(test) == y_test


def bootstrap_interval(values, *, confidence: float = 0.95, n_resamples: int = 2000,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval for the mean of ``values`` (one number per test row), seeded.

    For a difference on the same rows, pass the per-row differences (``hits_a - hits_b``).
    """
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size < 2 or not np.isfinite(array).all():
        raise ValueError(f"values must be at least 2 finite numbers (one per test row), got "
                         f"{array.size} value(s){'' if np.isfinite(array).all() else ' with NaN'}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}.")
    if not isinstance(n_resamples, int) or isinstance(n_resamples, bool) or n_resamples < 100:
        raise ValueError(f"n_resamples must be a whole number of at least 100, got "
                         f"{n_resamples!r}.")
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // array.size)  # resamples at a time: at most ~16 MB of indices
    means = np.concatenate([
        array[rng.integers(0, array.size, size=(min(chunk, n_resamples - start), array.size))]
        .mean(axis=1) for start in range(0, n_resamples, chunk)])
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def silhouette(embeddings, labels) -> float:
    """Cosine silhouette of ``labels`` in ``embeddings``: -1..1, higher = tighter clusters."""
    from sklearn.metrics import silhouette_score

    array = validate_embeddings(embeddings)
    y = _labels(labels, len(array), "labels")
    _at_least_two_classes(y, "labels")
    if len(set(y)) >= len(y):
        raise ValueError("silhouette needs at least one label shared by two or more rows.")
    return float(silhouette_score(array, y, metric="cosine"))


def probe_accuracy(train_embeddings, train_labels, test_embeddings, test_labels,
                   seed: int = 0) -> float:
    """Accuracy of a logistic-regression probe fit on train, scored on test."""
    from sklearn.linear_model import LogisticRegression

    train, y_train, test, y_test = _train_test(train_embeddings, train_labels, test_embeddings,
                                               test_labels)
    probe = LogisticRegression(max_iter=2000, random_state=seed)
    probe.fit(train, y_train)
    return float((probe.predict(test) == y_test).mean())


def _require_columns(frames: dict[str, pd.DataFrame], columns: Sequence[str]) -> None:
    """Raise (naming the frame) unless each is a non-empty DataFrame with all of ``columns``."""
    for name, frame in frames.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name} must be a DataFrame, got {type(frame).__name__}.")
        if frame.empty:
            raise ValueError(f"{name} has no rows.")
        missing = [col for col in columns if col not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {missing}; its columns are "
                             f"{list(frame.columns)}.")


def label_report(train_embeddings, train_frame: pd.DataFrame, test_embeddings,
                 test_frame: pd.DataFrame, label_cols: Sequence[str] = ("topic", "sentiment"),
                 k: int = DEFAULT_K) -> pd.DataFrame:
    """One row per label column: kNN accuracy, silhouette, probe accuracy and chance level.

    Put topic and sentiment side by side to see which one organises the space.
    """
    _require_columns({"train_frame": train_frame, "test_frame": test_frame}, label_cols)
    train = validate_embeddings(train_embeddings, name="train_embeddings", n_rows=len(train_frame))
    test = validate_embeddings(test_embeddings, name="test_embeddings", n_rows=len(test_frame))
    rows = []
    for col in label_cols:
        y_train, y_test = train_frame[col].to_numpy(), test_frame[col].to_numpy()
        rows.append({
            "label": col,
            "knn_accuracy": knn_accuracy(train, y_train, test, y_test, k=k),
            "silhouette": silhouette(test, y_test),
            "probe_accuracy": probe_accuracy(train, y_train, test, y_test),
            "chance": float(pd.Series(y_test).value_counts(normalize=True).iloc[0]),
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
    parts = {(metric, part): values for metric in metrics for part, values in
             (("before", before[metric]), ("after", after[metric]),
              ("change", after[metric] - before[metric]))}
    return pd.DataFrame(parts).round(3)


# --------------------------------------------------------------------------------------------
# Retrieval: queries -> relevant sentences (notebook 07)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetrievalTask:
    """Queries, a corpus and relevance: the three dicts of ``InformationRetrievalEvaluator``
    (``queries`` id -> text, ``corpus`` id -> text, ``relevant`` query id -> set of corpus ids)."""

    queries: dict[str, str]
    corpus: dict[str, str]
    relevant: dict[str, set[str]]

    def describe(self) -> str:
        """One line: how many queries, corpus sentences and relevant sentences per query."""
        per_query = np.mean([len(ids) for ids in self.relevant.values()])
        return (f"{len(self.queries)} queries, a corpus of {len(self.corpus)} sentences, "
                f"{per_query:.0f} relevant per query on average")


def retrieval_task(query_frame: pd.DataFrame, corpus_frame: pd.DataFrame, *,
                   label_cols: Sequence[str] = ("topic", "sentiment"), text_col: str = "text",
                   per_label: int | None = 10, seed: int = 0) -> RetrievalTask:
    """A retrieval task from labelled sentences: relevant = the same value in every label column.

    Every row of ``query_frame`` is a query; the corpus is ``per_label`` seeded rows of
    ``corpus_frame`` per label combination (``None``: all rows).
    """
    label_cols = list(label_cols)
    _require_columns({"query_frame": query_frame, "corpus_frame": corpus_frame},
                     [text_col, *label_cols])
    if per_label is not None and (isinstance(per_label, bool) or not isinstance(per_label, int)
                                  or per_label < 1):
        raise ValueError(f"per_label must be a whole number >= 1 or None, got {per_label!r}.")
    corpus_rows = corpus_frame.reset_index(drop=True)
    if per_label is not None:
        groups = corpus_rows.groupby(label_cols, sort=True, group_keys=False)
        smallest = int(groups.size().min())
        if smallest < per_label:
            raise ValueError(
                f"per_label={per_label} but some label combination has only {smallest} corpus "
                f"rows; pass per_label={smallest} or less."
            )
        corpus_rows = groups.sample(n=per_label, random_state=seed).sort_index()

    def key(row: pd.Series) -> tuple[str, ...]:
        return tuple(str(row[col]) for col in label_cols)

    corpus = {f"d{i}": str(text) for i, text in zip(corpus_rows.index, corpus_rows[text_col],
                                                     strict=True)}
    by_label: dict[tuple[str, ...], set[str]] = {}
    for i, row in corpus_rows.iterrows():
        by_label.setdefault(key(row), set()).add(f"d{i}")
    queries, relevant = {}, {}
    for i, row in query_frame.reset_index(drop=True).iterrows():
        ids = by_label.get(key(row))
        if ids:  # a query with nothing to find cannot be scored
            queries[f"q{i}"] = str(row[text_col])
            relevant[f"q{i}"] = set(ids)
    if not queries:
        raise ValueError("No query shares its labels with any corpus sentence; check label_cols.")
    return RetrievalTask(queries, corpus, relevant)


def embedding_report(model: SentenceTransformer, train_frame: pd.DataFrame,
                     test_frame: pd.DataFrame, *, text_col: str = "text",
                     label_cols: Sequence[str] = ("topic", "sentiment"),
                     cache: bool = True, prompt: str | None = None) -> pd.DataFrame:
    """``cu.evaluation.label_report`` for ``model``, the texts encoded through the on-disk cache
    (keyed by the weights), each with ``prompt`` in front when given (notebook 08)."""
    _require_columns({"train_frame": train_frame, "test_frame": test_frame}, [text_col])
    train = encode(train_frame[text_col].tolist(), model, cache=cache, prompt=prompt)
    test = encode(test_frame[text_col].tolist(), model, cache=cache, prompt=prompt)
    return label_report(train, train_frame, test, test_frame, label_cols=label_cols)


def before_after_report(before: SentenceTransformer | pd.DataFrame,
                        after: SentenceTransformer | pd.DataFrame,
                        train_frame: pd.DataFrame, test_frame: pd.DataFrame, *,
                        text_col: str = "text",
                        label_cols: Sequence[str] = ("topic", "sentiment")) -> pd.DataFrame:
    """The held-out report before and after training, side by side; ``before`` and ``after``
    are models or :func:`embedding_report` results."""
    reports = [value if isinstance(value, pd.DataFrame) else
               embedding_report(value, train_frame, test_frame, text_col=text_col,
                                label_cols=label_cols) for value in (before, after)]
    return compare_reports(*reports)


def claim_shift(comparison: pd.DataFrame, *, target: str = "sentiment", other: str = "topic",
                min_target_knn: float = MIN_SENTIMENT_KNN,
                max_other_knn: float = MAX_TOPIC_KNN) -> None:
    """Claim (:func:`course_utils.claims.claim`) that training moved the space from ``other`` to
    ``target``: target kNN >= ``min_target_knn``, other kNN <= ``max_other_knn``, and target
    silhouette above the other's, in :func:`before_after_report`'s table.
    """
    try:
        knn, sil = comparison["knn_accuracy"], comparison["silhouette"]
        t_before, t_after = float(knn.loc[target, "before"]), float(knn.loc[target, "after"])
        o_before, o_after = float(knn.loc[other, "before"]), float(knn.loc[other, "after"])
        ts, os_ = float(sil.loc[target, "after"]), float(sil.loc[other, "after"])
    except (KeyError, TypeError) as error:
        raise ValueError(f"the table lacks {error}; pass the output of before_after_report()."
                         ) from None
    problems = []
    if t_after < min_target_knn:
        problems.append(f"{target} kNN accuracy is {t_after:.3f} (< {min_target_knn})")
    if o_after > max_other_knn:
        problems.append(f"{other} kNN accuracy is still {o_after:.3f} (> {max_other_knn})")
    if ts <= os_:
        problems.append(f"{target} silhouette {ts:.3f} is not above {other}'s {os_:.3f}")
    claim(not problems, f"the space now follows {target}, not {other}: {target} kNN "
          f"{t_before:.3f} -> {t_after:.3f}; {other} kNN {o_before:.3f} -> {o_after:.3f}; "
          f"silhouette after: {target} {ts:.3f} vs {other} {os_:.3f}",
          problem="; ".join(problems), name="shift",
          remedy="Try more steps or a higher learning rate, and negatives from the same group "
                 "(negatives='same_group').")


def snapshot_metrics(embeddings: np.ndarray, labels: dict[str, Sequence], *, k: int = 5
                     ) -> dict[str, float]:
    """Per label: silhouette and leave-one-out kNN accuracy within one snapshot's texts,
    e.g. ``{"topic silhouette": 0.08, "topic kNN": 0.86, ...}``."""
    from sklearn.neighbors import KNeighborsClassifier

    array = validate_embeddings(embeddings)
    if not isinstance(labels, dict) or not labels:
        raise TypeError("labels must be a dict like {'topic': [...], 'sentiment': [...]}.")
    metrics: dict[str, float] = {}
    for name, values in labels.items():
        y = _labels(values, len(array), f"labels[{name!r}]")
        metrics[f"{name} silhouette"] = silhouette(array, y)
        neighbours = KNeighborsClassifier(n_neighbors=min(k + 1, len(y)), metric="cosine")
        neighbours.fit(array, y)
        index = neighbours.kneighbors(array, return_distance=False)[:, 1:]  # drop self
        votes = [pd.Series(y[row]).value_counts().index[0] for row in index]
        metrics[f"{name} kNN"] = float(np.mean(np.asarray(votes) == y))
    return metrics
