"""Building (anchor, positive, negative) triplets from labels, and grading them.

:func:`make_triplets` draws the negative at random, from the anchor's own group (so only the
label differs: a triplet only teaches what separates its positive from its negative) or as the
closest different-label row (``"hard"``); :func:`classify_triplets` grades triplets as easy /
semi-hard / hard (FaceNet); :func:`pairwise_distance` is shared with :mod:`course_utils.losses`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from course_utils.validation import (
    validate_embeddings,
    validate_same_shapes,
    validate_tensor,
    validate_whole_number,
)

DISTANCES = ("euclidean", "cosine")
NEGATIVE_STRATEGIES = ("random", "same_group", "hard")
POSITIVE_STRATEGIES = ("any", "other_group", "same_group")
TRIPLET_CLASSES = ("easy", "semi-hard", "hard")
#: The columns of what :func:`make_triplets` returns: the three texts training reads
#: (``training_presets.TRIPLET_COLUMNS``) plus where they came from.
MADE_TRIPLET_COLUMNS = (
    "anchor", "positive", "negative", "anchor_index", "positive_index", "negative_index", "group",
)

__all__ = [
    "DISTANCES",
    "NEGATIVE_STRATEGIES",
    "POSITIVE_STRATEGIES",
    "TRIPLET_CLASSES",
    "classify_triplets",
    "gather",
    "make_triplets",
    "pairwise_distance",
    "triplet_distances",
]


# --------------------------------------------------------------------------------------------
# Distances
# --------------------------------------------------------------------------------------------
def validate_distance(distance: Any) -> str:
    """Return ``distance`` if it is a supported name, else raise a ValueError that lists them."""
    if not isinstance(distance, str) or distance not in DISTANCES:
        raise ValueError(
            f"distance must be one of {DISTANCES}, got {distance!r}. Use 'euclidean' for the "
            "straight-line distance or 'cosine' for 1 - cosine similarity."
        )
    return distance


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "detach") and hasattr(value, "dim")


def pairwise_distance(x: Any, y: Any, distance: str = "euclidean", *,
                      validate: bool = True) -> Any:
    """Row-wise distance d(x[i], y[i]) for two (n, d) arrays -> shape (n,).

    ``"euclidean"``: ||x_i - y_i|| (not squared), as TripletLoss; ``"cosine"``: 1 - cos, 0..2.
    Torch tensors in -> a differentiable tensor out; else a float64 array. ``validate=False``
    skips the checks for tensors the caller has already checked.
    """
    validate_distance(distance)
    if _is_tensor(x) or _is_tensor(y):
        if not validate:
            return _torch_distance(x, y, distance)
        return _torch_pairwise_distance(x, y, distance)
    x_arr = validate_embeddings(x, name="x", dtype=np.float64)
    y_arr = validate_embeddings(y, name="y", dtype=np.float64)
    validate_same_shapes(x=x_arr, y=y_arr)
    if distance == "euclidean":
        return np.linalg.norm(x_arr - y_arr, axis=1)
    norms = np.linalg.norm(x_arr, axis=1) * np.linalg.norm(y_arr, axis=1)
    return 1.0 - np.sum(x_arr * y_arr, axis=1) / np.maximum(norms, 1e-8)


def _torch_pairwise_distance(x: Any, y: Any, distance: str) -> Any:
    if not (_is_tensor(x) and _is_tensor(y)):
        raise TypeError(
            "x and y must both be torch tensors or both be NumPy arrays; got "
            f"{type(x).__name__} and {type(y).__name__}. Convert with torch.as_tensor(...)."
        )
    x, y = validate_tensor(x, "x"), validate_tensor(y, "y")
    validate_same_shapes(x=x, y=y)
    return _torch_distance(x, y, distance)


def _torch_distance(x: Any, y: Any, distance: str) -> Any:
    """The row-wise distance of two checked (n, d) float tensors -> (n,) tensor."""
    import torch
    import torch.nn.functional as F

    if distance == "euclidean":
        # vector_norm has a zero (not NaN) gradient where two points coincide.
        return torch.linalg.vector_norm(x - y, dim=-1)
    return 1.0 - F.cosine_similarity(x, y, dim=-1)


def validate_margin(margin: Any) -> float:
    """``margin`` (a number, or a 0-d tensor/array) as a finite float >= 0, or a clear error."""
    if hasattr(margin, "item") and getattr(margin, "ndim", 1) == 0:
        margin = margin.item()
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.integer, np.floating)):
        raise TypeError(f"margin must be a number, got {type(margin).__name__}.")
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(
            f"margin must be a finite number >= 0, got {margin!r}. It is how much farther the "
            "negative must be than the positive (a distance, so never negative); try 0.5 "
            "(cosine) or 0.2-1.0 (euclidean on unit vectors)."
        )
    return float(margin)


# --------------------------------------------------------------------------------------------
# Grading triplets
# --------------------------------------------------------------------------------------------
def gather(rows: Any, triplets: pd.DataFrame) -> tuple[Any, Any, Any]:
    """``rows`` (embeddings or labels, one per sentence of the triplets' frame) picked for each
    triplet's anchor, positive and negative.

    Notebook 04 (section 2) shows it: ``embeddings[triplets["anchor_index"].tolist()]`` (a list,
    because torch warns when indexing with pandas' read-only arrays).
    """
    missing = [f"{role}_index" for role in ("anchor", "positive", "negative")
               if f"{role}_index" not in getattr(triplets, "columns", ())]
    if missing:
        raise ValueError(f"triplets lacks {missing}: pass the DataFrame make_triplets returned.")
    indices = triplets[[f"{role}_index" for role in ("anchor", "positive", "negative")]]
    if len(indices) and int(indices.to_numpy().max()) >= len(rows):
        raise ValueError(f"the triplets point at row {int(indices.to_numpy().max())}, but rows "
                         f"has {len(rows)}: pass the rows of the frame the triplets were made "
                         "from.")
    return tuple(rows[triplets[f"{role}_index"].tolist()]
                 for role in ("anchor", "positive", "negative"))


def triplet_distances(anchor: Any, positive: Any, negative: Any, *,
                      distance: str = "euclidean") -> tuple[np.ndarray, np.ndarray]:
    """d(a, p) and d(a, n) for (n, d) arrays of anchors, positives, negatives -> two (n,) arrays."""
    validate_distance(distance)
    a = validate_embeddings(anchor, name="anchor", dtype=np.float64)
    p = validate_embeddings(positive, name="positive", dtype=np.float64)
    n = validate_embeddings(negative, name="negative", dtype=np.float64)
    validate_same_shapes(anchor=a, positive=p, negative=n)
    return pairwise_distance(a, p, distance), pairwise_distance(a, n, distance)


def classify_distances(d_ap: Any, d_an: Any, *, margin: float) -> np.ndarray:
    """Grade triplets from their distances (FaceNet) -> (n,) strings: ``"hard"`` when
    d(a,n) < d(a,p), ``"semi-hard"`` when d(a,n) < d(a,p) + margin, else ``"easy"`` (zero loss)."""
    margin = validate_margin(margin)
    d_ap = np.asarray(d_ap, dtype=np.float64)
    d_an = np.asarray(d_an, dtype=np.float64)
    if d_ap.shape != d_an.shape or d_ap.ndim != 1:
        raise ValueError(
            f"d_ap and d_an must be 1-D arrays of the same length, got {d_ap.shape} and "
            f"{d_an.shape}."
        )
    labels = np.full(d_ap.shape, "semi-hard", dtype="<U9")
    labels[d_an < d_ap] = "hard"
    labels[d_an >= d_ap + margin] = "easy"
    return labels


def classify_triplets(anchor: Any, positive: Any, negative: Any, *, margin: float,
                      distance: str = "euclidean") -> np.ndarray:
    """Grade each (n, d) triplet row as "easy" / "semi-hard" / "hard" (see
    :func:`classify_distances`) -> (n,) strings; ``margin`` >= 0."""
    validate_margin(margin)
    d_ap, d_an = triplet_distances(anchor, positive, negative, distance=distance)
    return classify_distances(d_ap, d_an, margin=margin)


# --------------------------------------------------------------------------------------------
# Building triplets
# --------------------------------------------------------------------------------------------
def _validate_triplet_request(frame: Any, text_col: str, label_col: str, group_col: str | None,
                              negatives: str, positives: str, n_per_anchor: Any,
                              seed: Any) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}.")
    if frame.empty:
        raise ValueError("frame has no rows; there is nothing to build triplets from.")
    needed = [text_col, label_col] + ([group_col] if group_col is not None else [])
    missing = [col for col in needed if col not in frame.columns]
    if missing:
        raise ValueError(
            f"Missing column(s) {missing}; the frame has {list(frame.columns)}. Pass the right "
            "names, e.g. text_col='text', label_col='sentiment', group_col='topic'."
        )
    for col in needed:
        if frame[col].isna().any():
            raise ValueError(
                f"Column {col!r} has {int(frame[col].isna().sum())} missing value(s); fill or "
                "drop those rows first."
            )
    if negatives not in NEGATIVE_STRATEGIES:
        raise ValueError(
            f"negatives must be one of {NEGATIVE_STRATEGIES}, got {negatives!r}."
        )
    if positives not in POSITIVE_STRATEGIES:
        raise ValueError(f"positives must be one of {POSITIVE_STRATEGIES}, got {positives!r}.")
    if group_col is None and (negatives == "same_group" or positives != "any"):
        which = "negatives='same_group'" if negatives == "same_group" else f"{positives=}"
        raise ValueError(
            f"{which} needs group_col (the column that defines a group, e.g. "
            "group_col='topic'), or use negatives='random' / positives='any'."
        )
    validate_whole_number(n_per_anchor, "n_per_anchor")
    validate_whole_number(seed, "seed", minimum=0)


def _some(values: Sequence[Any], what: str, shown: int = 3) -> str:
    """"3 labels ['a', 'b', 'c']" or "440 labels, e.g. ['a', 'b', 'c']": a message never lists
    hundreds of values."""
    values = [str(value) for value in values]
    if len(values) <= shown:
        return f"{what.capitalize()}(s) {values}"
    return f"{len(values)} {what}s, e.g. {values[:shown]},"


def _validate_labels(labels: np.ndarray, groups: np.ndarray | None, label_col: str,
                     group_col: str | None, negatives: str) -> None:
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise ValueError(
            f"Column {label_col!r} has a single class ({classes[0]!r}); a triplet needs a "
            "negative with a different label. Use data with at least two labels."
        )
    lonely = classes[counts < 2]
    if len(lonely):
        raise ValueError(
            f"{_some(lonely, 'label')} in {label_col!r} have a single row, so those anchors "
            "have no positive (another row with the same label). Drop them or add examples"
            + (f"; or is {label_col!r} the wrong column? Most of its {len(classes)} labels are "
               "unique, as in a text column." if len(lonely) > len(classes) / 2 else ".")
        )
    if negatives == "same_group" and groups is not None:
        single = [g for g in np.unique(groups) if len(np.unique(labels[groups == g])) < 2]
        if single:
            raise ValueError(
                f"{_some(single, 'group')} in {group_col!r} contain a single {label_col!r} "
                "label, so there is no same-group negative for their anchors. Drop those "
                "groups, or use negatives='random'."
            )


def _validate_triplet_embeddings(embeddings: Any, n_rows: int, negatives: str) -> np.ndarray | None:
    if embeddings is None:
        if negatives == "hard":
            raise ValueError(
                "negatives='hard' needs embeddings (one row per frame row) to find the closest "
                "negative, e.g. embeddings=cu.embedding.encode(frame['text'].tolist())."
            )
        return None
    array = validate_embeddings(embeddings, name="embeddings", dtype=np.float64)
    if array.shape[0] != n_rows:
        raise ValueError(
            f"embeddings has {array.shape[0]} rows but the frame has {n_rows}; they must match "
            "one to one (same order). Encode frame[text_col] again."
        )
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.maximum(norms, 1e-12)


def _pick(rng: np.random.Generator, candidates: np.ndarray, size: int) -> np.ndarray:
    """``size`` candidates, distinct when there are enough of them."""
    return rng.choice(candidates, size=size, replace=len(candidates) < size)


def _positive_candidates(anchor: int, labels: np.ndarray, groups: np.ndarray | None,
                         positives: str, label_col: str, group_col: str | None) -> np.ndarray:
    same_label = labels == labels[anchor]
    same_label[anchor] = False
    if positives == "any" or groups is None:
        return np.flatnonzero(same_label)
    same_group = groups == groups[anchor]
    if positives == "other_group":
        other = np.flatnonzero(same_label & ~same_group)
        return other if len(other) else np.flatnonzero(same_label)
    inside = np.flatnonzero(same_label & same_group)
    if not len(inside):
        raise ValueError(
            f"Row {anchor} is the only {label_col}={labels[anchor]!r} row in {group_col}="
            f"{groups[anchor]!r}, so positives='same_group' finds no positive for it. Use "
            "positives='any' or add examples."
        )
    return inside


def make_triplets(
    frame: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "sentiment",
    group_col: str | None = None,
    negatives: str = "same_group",
    positives: str = "any",
    n_per_anchor: int = 1,
    seed: int = 0,
    embeddings: np.ndarray | None = None,
) -> pd.DataFrame:
    """Build triplets with every row as an anchor ``n_per_anchor`` times.

    Args:
        frame: the labelled texts; row positions (not the index) identify rows.
        group_col: a second label to control for (e.g. ``"topic"``), needed by
            ``negatives="same_group"`` and ``positives="other_group"/"same_group"``.
        negatives: ``"random"``, ``"same_group"`` (only ``label_col`` differs) or ``"hard"``
            (the closest different-label rows in ``embeddings``, cosine).
        positives: ``"any"`` same-label row, ``"other_group"`` (another group when one exists)
            or ``"same_group"``.
        seed: seed of the NumPy Generator; the same inputs and seed give the same triplets.
        embeddings: (len(frame), dim) array, required for ``"hard"`` only.

    Returns:
        A DataFrame with columns ``anchor, positive, negative`` (texts), ``*_index`` (row
        positions in ``frame``) and ``group``, ``len(frame) * n_per_anchor`` rows.
    """
    _validate_triplet_request(frame, text_col, label_col, group_col, negatives, positives,
                              n_per_anchor, seed)
    texts = frame[text_col].astype(str).to_numpy()
    labels = frame[label_col].astype(str).to_numpy()
    groups = frame[group_col].astype(str).to_numpy() if group_col is not None else None
    _validate_labels(labels, groups, label_col, group_col, negatives)
    unit = _validate_triplet_embeddings(embeddings, len(frame), negatives)
    similarity = unit @ unit.T if negatives == "hard" else None
    rng = np.random.default_rng(int(seed))
    rows: list[tuple[int, int, int]] = []
    for anchor in range(len(frame)):
        pos_pool = _positive_candidates(anchor, labels, groups, positives, label_col, group_col)
        chosen_neg = _choose_negatives(anchor, labels, groups, negatives, n_per_anchor, rng,
                                       similarity)
        chosen_pos = _pick(rng, pos_pool, n_per_anchor)
        rows.extend((anchor, int(p), int(n)) for p, n in zip(chosen_pos, chosen_neg, strict=True))
    return _triplet_frame(texts, groups, rows)


def _choose_negatives(anchor: int, labels: np.ndarray, groups: np.ndarray | None,
                      negatives: str, n_per_anchor: int, rng: np.random.Generator,
                      similarity: np.ndarray | None) -> np.ndarray:
    """``n_per_anchor`` different-label rows for ``anchor``, chosen as ``negatives`` says."""
    other_label = labels != labels[anchor]
    if negatives == "same_group":
        pool = np.flatnonzero(other_label & (groups == groups[anchor]))
    else:
        pool = np.flatnonzero(other_label)
    if negatives == "hard":  # the closest first, cycling when there are fewer than asked
        order = np.argsort(-similarity[anchor, pool], kind="stable")
        return pool[order[np.arange(n_per_anchor) % len(pool)]]
    return _pick(rng, pool, n_per_anchor)


def _triplet_frame(texts: np.ndarray, groups: np.ndarray | None,
                   rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    """The triplets' texts and row positions, one row per (anchor, positive, negative)."""
    index = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    return pd.DataFrame({
        "anchor": texts[index[:, 0]],
        "positive": texts[index[:, 1]],
        "negative": texts[index[:, 2]],
        "anchor_index": index[:, 0],
        "positive_index": index[:, 1],
        "negative_index": index[:, 2],
        "group": groups[index[:, 0]] if groups is not None else [None] * len(index),
    }, columns=list(MADE_TRIPLET_COLUMNS))
