"""The course's toy content and the maths the first notebooks do on it: notebook 01's animal
table and feature weights learned from triplets, the teaser sentences (notebooks 01, 02 and 08),
and notebook 03's 2-D points with labelled pairs. Figures: :mod:`course_utils.plots.toy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FAMILY_TRIPLETS",
    "MAX_TOY_GROUPS",
    "PET_TRIPLETS",
    "PET_WEIGHTS",
    "TEASER_IDS",
    "ToyPairs",
    "animal_table",
    "discriminating_features",
    "distances_from",
    "learn_feature_weights",
    "make_toy_pairs",
    "nearest",
    "pair_distances",
    "teaser_sentences",
    "triplet_table",
    "validate_feature_table",
    "validate_feature_weights",
    "validate_pairs",
    "validate_points",
    "validate_similar",
    "weighted_distance",
]

# --------------------------------------------------------------------------------------------
# Notebook 01: the animal feature table
# --------------------------------------------------------------------------------------------
_ANIMALS = ("dog", "cat", "wolf", "lion", "horse", "eagle")
_FEATURES = {
    #                   dog cat wolf lion horse eagle
    "has_tail":          (1, 1, 1, 1, 1, 1),
    "four_legs":         (1, 1, 1, 1, 1, 0),
    "fur":               (1, 1, 1, 1, 1, 0),
    "barks":             (1, 0, 0, 0, 0, 0),
    "retractable_claws": (0, 1, 0, 1, 0, 0),
    "domesticated":      (1, 1, 0, 0, 1, 0),
    "lives_in_group":    (1, 0, 1, 1, 1, 0),
    "size":              (2, 1, 3, 4, 5, 1),  # 1 = cat-sized ... 5 = horse-sized
}

#: "For a pet shop": what you can keep at home goes together.
PET_TRIPLETS = (("dog", "cat", "wolf"), ("cat", "dog", "lion"),
                ("wolf", "lion", "dog"), ("lion", "wolf", "cat"))
#: "For a biologist": dogs belong with wolves, cats with lions.
FAMILY_TRIPLETS = (("dog", "wolf", "cat"), ("cat", "lion", "dog"),
                   ("wolf", "dog", "lion"), ("lion", "cat", "wolf"))
#: Hand-picked weights for the pet-shop purpose: only "domesticated" and "size" count.
PET_WEIGHTS = {"domesticated": 1.0, "size": 1.0}

#: Teaser: A and B share a topic but not a sentiment; C and D share a sentiment, not a topic.
TEASER_IDS = {
    "A": "restaurants-pos-003",
    "B": "restaurants-neg-003",
    "C": "hotels-pos-005",
    "D": "movies-pos-003",
}


def animal_table() -> pd.DataFrame:
    """The feature table: one row per animal, one column per feature (a fresh copy)."""
    return pd.DataFrame(_FEATURES, index=pd.Index(_ANIMALS, name="animal"))


def teaser_sentences() -> pd.DataFrame:
    """The four teaser sentences (columns: id, text, topic, sentiment), indexed A-D."""
    from course_utils.data import load_course_data

    frame = load_course_data().set_index("id")
    missing = [i for i in TEASER_IDS.values() if i not in frame.index]
    if missing:
        raise KeyError(f"teaser ids {missing} are not in the course dataset any more.")
    rows = frame.loc[list(TEASER_IDS.values()), ["text", "topic", "sentiment"]]
    rows.insert(0, "id", rows.index)
    rows.index = pd.Index(list(TEASER_IDS), name="sentence")
    return rows


def validate_feature_table(table: object) -> pd.DataFrame:
    """``table`` as floats: things in rows (unique names), numeric features in columns."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"table must be a pandas DataFrame (rows = things, columns = features), got "
            f"{type(table).__name__}."
        )
    if len(table) < 2 or table.shape[1] < 1:
        raise ValueError(
            f"table needs at least 2 rows and 1 feature column, got shape {table.shape}."
        )
    non_numeric = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if non_numeric:
        raise ValueError(
            f"every feature must be numeric (0/1 or a number); these are not: {non_numeric}."
        )
    if not table.index.is_unique:
        raise ValueError("the table's row names (its index) must be unique.")
    return table.astype(float)


def validate_feature_weights(table: pd.DataFrame,
                             weights: Mapping[str, float] | None) -> np.ndarray:
    """One weight per column of ``table``: 1 each for ``None``, else 0 for a feature not named."""
    if weights is None:
        return np.ones(table.shape[1])
    unknown = sorted(set(weights) - set(table.columns))
    if unknown:
        raise ValueError(f"unknown feature(s) in weights: {unknown}; features are "
                         f"{list(table.columns)}.")
    vector = np.array([float(weights.get(c, 0.0)) for c in table.columns])
    if (vector < 0).any() or not np.isfinite(vector).all():
        raise ValueError("weights must be finite and not negative.")
    return vector


def discriminating_features(table: pd.DataFrame, p: str, q: str) -> list[str]:
    """The features whose values differ between rows ``p`` and ``q`` (in column order)."""
    frame = validate_feature_table(table)
    for name in (p, q):
        if name not in frame.index:
            raise KeyError(f"{name!r} is not a row of the table; rows are {list(frame.index)}.")
    differs = frame.loc[p] != frame.loc[q]
    return [str(c) for c in frame.columns[differs.to_numpy()]]


def weighted_distance(table: pd.DataFrame, p: str, q: str,
                      weights: Mapping[str, float] | None = None) -> float:
    """Weighted Euclidean distance sqrt(sum_f w_f (p_f - q_f)^2); missing weights count 0,
    ``weights=None`` weighs every feature 1."""
    frame = validate_feature_table(table)
    w = validate_feature_weights(frame, weights)
    diff = frame.loc[p].to_numpy() - frame.loc[q].to_numpy()
    return float(np.sqrt(np.sum(w * diff**2)))


def distances_from(table: pd.DataFrame, name: str, weights=None) -> dict[str, float]:
    """The weighted distance from row ``name`` to every other row, in the table's order."""
    return {other: weighted_distance(table, name, other, weights)
            for other in table.index if other != name}


def nearest(table: pd.DataFrame, name: str, weights=None) -> tuple[str, float]:
    """The row closest to ``name`` (weighted distance) and that distance; first row on ties."""
    distances = distances_from(table, name, weights)
    best = min(distances, key=distances.__getitem__)
    return best, distances[best]


def triplet_table(table: pd.DataFrame, triplets: Iterable[Sequence[str]],
                  weights=None) -> pd.DataFrame:
    """One row per (anchor, positive, negative): both distances and whether it is satisfied."""
    rows = []
    for anchor, positive, negative in triplets:
        d_pos = weighted_distance(table, anchor, positive, weights)
        d_neg = weighted_distance(table, anchor, negative, weights)
        rows.append({"anchor": anchor, "positive": positive, "negative": negative,
                     "d(anchor, positive)": round(d_pos, 3),
                     "d(anchor, negative)": round(d_neg, 3),
                     "satisfied": bool(d_pos < d_neg)})
    return pd.DataFrame(rows)


def learn_feature_weights(table: pd.DataFrame, triplets: Iterable[Sequence[str]], *,
                          margin: float = 1.0, steps: int = 200,
                          learning_rate: float = 0.05) -> pd.Series:
    """Learn one non-negative weight per feature from triplets (a tiny "contrastive model").

    Hinge loss on the weighted squared distance, gradient descent from all weights 1, clipped at
    0; deterministic. A feature no triplet varies keeps its starting weight.
    """
    frame = table.astype(float)
    triplets = [tuple(t) for t in triplets]
    if not triplets:
        raise ValueError("pass at least one (anchor, positive, negative) triplet.")
    weights = np.ones(frame.shape[1])
    for _ in range(steps):
        gradient = np.zeros_like(weights)
        for anchor, positive, negative in triplets:
            d_pos = (frame.loc[anchor] - frame.loc[positive]).to_numpy() ** 2
            d_neg = (frame.loc[anchor] - frame.loc[negative]).to_numpy() ** 2
            if weights @ d_pos - weights @ d_neg + margin > 0:  # the triplet is still active
                gradient += d_pos - d_neg
        weights = np.maximum(weights - learning_rate * gradient / len(triplets), 0.0)
    return pd.Series(np.round(weights, 3), index=frame.columns, name="learned weight")


# --------------------------------------------------------------------------------------------
# Notebook 03: 2-D points in groups, every pair labelled
# --------------------------------------------------------------------------------------------
#: At most this many groups: the toy figures give each its own colour and marker.
MAX_TOY_GROUPS = 5


@dataclass(frozen=True)
class ToyPairs:
    """Toy points and their labelled pairs.

    Attributes:
        points: float32 (n, 2) start positions.
        groups: (n,) group names ("A", "B", ...).
        pairs: int64 (m, 2) row indices; every pair i < j once.
        similar: float32 (m,) 1.0 where both points are in the same group.
    """

    points: np.ndarray
    groups: np.ndarray
    pairs: np.ndarray
    similar: np.ndarray


def make_toy_pairs(n_groups: int = 3, n_per_group: int = 3, *, seed: int = 0,
                   spread: float = 1.0) -> ToyPairs:
    """Points in ``n_groups`` groups, mixed at random in a square of side ``2 * spread``, every
    pair labelled similar (same group) or not; mixed on purpose, so a loss has to sort them."""
    for name, value, low in (("n_groups", n_groups, 2), ("n_per_group", n_per_group, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}.")
    if n_groups > MAX_TOY_GROUPS:
        raise ValueError(f"n_groups can be at most {MAX_TOY_GROUPS}, got {n_groups}.")
    if not isinstance(spread, (int, float)) or not spread > 0:
        raise ValueError(f"spread must be a positive number, got {spread!r}.")
    rng = np.random.default_rng(seed)
    n = n_groups * n_per_group
    points = rng.uniform(-spread, spread, size=(n, 2)).astype(np.float32)
    groups = np.repeat(np.array([chr(ord("A") + g) for g in range(n_groups)]), n_per_group)
    first, second = np.triu_indices(n, k=1)
    pairs = np.stack([first, second], axis=1).astype(np.int64)
    similar = (groups[first] == groups[second]).astype(np.float32)
    return ToyPairs(points, groups, pairs, similar)


def pair_distances(points: Any, pairs: Any) -> np.ndarray:
    """Euclidean distance of every pair: points (n, 2), pairs (m, 2) -> (m,) float64."""
    points = validate_points(points)
    pairs = validate_pairs(pairs, len(points))
    return np.linalg.norm(points[pairs[:, 0]] - points[pairs[:, 1]], axis=1)


def validate_points(points: Any, name: str = "points") -> np.ndarray:
    """2-D toy points (an array or a tensor) as a finite float64 (n, 2) array."""
    if hasattr(points, "detach"):
        points = points.detach().cpu().numpy()
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise ValueError(
            f"{name} must be 2-D toy points of shape (n, 2), got shape {array.shape}."
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contain NaN or infinity; did the descent diverge (lr too big)?")
    return array


def validate_pairs(pairs: Any, n_points: int) -> np.ndarray:
    """Pairs as an integer (m, 2) array of row indices into ``n_points`` points."""
    array = np.asarray(pairs)
    if array.ndim != 2 or array.shape[1] != 2 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"pairs must be an integer array of shape (m, 2), got {array.shape}.")
    if array.size and (array.min() < 0 or array.max() >= n_points):
        raise ValueError(f"pairs index points 0..{n_points - 1}; got indices outside that.")
    return array


def validate_similar(similar: Any, n_pairs: int) -> np.ndarray:
    """One 0/1 label per pair, as a boolean mask (True = similar)."""
    array = np.asarray(similar, dtype=float).reshape(-1)
    if len(array) != n_pairs:
        raise ValueError(f"similar needs one 0/1 label per pair ({n_pairs}), got {len(array)}.")
    return array > 0.5
