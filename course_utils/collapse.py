"""Spotting collapse: all embeddings squeezed into one point or direction, or each class into
its own blob (class collapse, notebook 05).

:func:`detect_collapse` uses the mean pairwise cosine of the unit rows (are they all nearly the same
vector?) and the effective rank of their variation around the mean (does it use more than one
direction?); a narrow cone alone (anisotropy) is reported, not called collapse;
:func:`detect_class_collapse` adds the share of variation left inside the classes and whether a
second label (topic) is still readable inside them. Measured (seed 0, benchmarks/experiments.py):
variation left inside the sentiments / topic kNN inside a sentiment (chance 0.20): pretrained
99% / 0.88, notebook 05's model 43% / 0.26 (class-collapsed), the same at lr 5e-5 72% / 0.39.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from course_utils.embedding import validate_embeddings
from course_utils.validation import validate_whole_number

#: Collapsed: rows this similar on average are within ~0.14 of each other (for unit rows,
#: d^2 = 2(1 - cos)), far below any margin the course uses.
DEFAULT_COSINE_THRESHOLD = 0.99
#: Above this mean cosine (but not collapsed) the report notes a narrow cone: many models are
#: anisotropic and still keep their neighbourhoods, so this alone is no collapse.
NARROW_CONE_COSINE = 0.9
DEFAULT_MIN_EFFECTIVE_RANK = 1.5
#: :func:`detect_class_collapse` calls a space class-collapsed when less than this share of its
#: variation is left inside the classes (the rest only says which class a row is in) ...
DEFAULT_MAX_WITHIN_FRACTION = 0.5
#: ... or, given a second label, when that label is read inside the classes barely better than
#: by chance (kNN accuracy minus chance below this).
DEFAULT_MIN_SUBGROUP_GAIN = 0.15

__all__ = [
    "ClassCollapseReport",
    "CollapseReport",
    "detect_class_collapse",
    "detect_collapse",
    "effective_rank",
    "mean_pairwise_cosine",
    "subgroup_knn_within_classes",
    "within_class_fraction",
    "within_class_spread",
]


@dataclass(frozen=True)
class CollapseReport:
    """What :func:`detect_collapse` found. ``bool(report)`` is True when collapsed."""

    collapsed: bool
    mean_pairwise_cosine: float
    effective_rank: float
    mean_std: float
    n_rows: int
    dim: int
    message: str

    def __bool__(self) -> bool:
        return self.collapsed

    def __str__(self) -> str:
        verdict = "COLLAPSED" if self.collapsed else "healthy"
        return (
            f"{verdict}: mean pairwise cosine {self.mean_pairwise_cosine:.3f}, effective rank of "
            f"the variation {self.effective_rank:.1f} of {min(self.n_rows, self.dim)}, mean std "
            "per dimension "
            f"{self.mean_std:.4f} ({self.n_rows} rows x {self.dim} dims). {self.message}"
        )


def _unit_rows(embeddings: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float64); all-zero rows are dropped."""
    rows = np.asarray(embeddings, dtype=np.float64)
    norms = np.linalg.norm(rows, axis=1)
    keep = norms > 1e-12
    return rows[keep] / norms[keep, None]


def mean_pairwise_cosine(embeddings: Any) -> float:
    """Mean cosine similarity over all pairs of different rows of an (n, d) array, n >= 2.

    Computed as (||sum of unit rows||^2 - n) / (n (n - 1)): O(n d), no (n, n) matrix.
    """
    unit = _unit_rows(validate_embeddings(embeddings))
    if len(unit) < 2:
        raise ValueError(f"mean_pairwise_cosine needs at least 2 non-zero rows, got {len(unit)}; "
                         "pass more embeddings.")
    return _mean_cosine(unit)


def _mean_cosine(unit: np.ndarray) -> float:
    """The mean pairwise cosine of at least two unit rows."""
    n = len(unit)
    total = unit.sum(axis=0)
    return float((total @ total - n) / (n * (n - 1)))


def effective_rank(embeddings: Any) -> float:
    """exp(entropy of the normalised singular values) of the unit rows: ~directions in use.

    1.0 when all rows point along one line; at most min(n, d).
    """
    return _effective_rank(_unit_rows(validate_embeddings(embeddings)))


def _effective_rank(unit: np.ndarray) -> float:
    """The effective rank of unit rows (0.0 when there are none)."""
    if len(unit) == 0:
        return 0.0
    # Singular values via the eigenvalues of the smaller Gram matrix: same numbers, faster.
    gram = unit.T @ unit if unit.shape[1] <= unit.shape[0] else unit @ unit.T
    return _entropy_rank(np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0.0, None)))


def _entropy_rank(singular: np.ndarray) -> float:
    """exp(entropy of the normalised singular values): Roy & Vetterli's effective rank."""
    weights = singular / singular.sum()
    weights = weights[weights > 0]
    return float(np.exp(-(weights * np.log(weights)).sum()))


def _validate_threshold(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}.")
    if not low <= float(value) <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value!r}.")
    return float(value)


def detect_collapse(embeddings: Any, *, cosine_threshold: float = DEFAULT_COSINE_THRESHOLD,
                    min_effective_rank: float = DEFAULT_MIN_EFFECTIVE_RANK) -> CollapseReport:
    """Is this (n, d) embedding space collapsed into one point or direction?

    Args:
        embeddings: (n, d) array (or tensor) of embeddings, n >= 2.
        cosine_threshold: flag when the mean pairwise cosine is above this (default 0.99: every
            row within about 0.14 of every other).
        min_effective_rank: flag when the effective rank of the rows' variation around their
            mean is below this (default 1.5, i.e. they vary along about one direction).

    Returns:
        A :class:`CollapseReport`; its ``message`` says what was seen and what to try.
    """
    array = validate_embeddings(embeddings)
    return _detect_collapse(array, _unit_rows(array), cosine_threshold=cosine_threshold,
                            min_effective_rank=min_effective_rank)


def _detect_collapse(array: np.ndarray, unit: np.ndarray, *,
                     cosine_threshold: float = DEFAULT_COSINE_THRESHOLD,
                     min_effective_rank: float = DEFAULT_MIN_EFFECTIVE_RANK) -> CollapseReport:
    """:func:`detect_collapse` on a checked array and its unit rows."""
    if len(array) < 2:
        raise ValueError(
            f"detect_collapse needs at least 2 embeddings to compare, got {len(array)}."
        )
    cosine_threshold = _validate_threshold(cosine_threshold, "cosine_threshold", -1.0, 1.0)
    min_effective_rank = _validate_threshold(min_effective_rank, "min_effective_rank", 0.0,
                                          float(min(array.shape)))
    n_rows, dim = array.shape
    mean_std = float(unit.std(axis=0).mean()) if len(unit) else 0.0
    if len(unit) < 2:
        return CollapseReport(True, 1.0, 0.0, 0.0, n_rows, dim,
                              "All (or all but one) embeddings are zero vectors: the model "
                              "outputs nothing. Check the learning rate and the loss.")
    cosine = _mean_cosine(unit)
    rank = _effective_rank(unit - unit.mean(axis=0))  # the variation, not the common direction
    reasons = []
    if cosine > cosine_threshold:
        reasons.append(f"mean pairwise cosine {cosine:.3f} > {cosine_threshold}")
    if rank < min_effective_rank:
        reasons.append(f"effective rank of the variation {rank:.2f} < {min_effective_rank}")
    if reasons:
        message = (
            "The embeddings crowd into one point or direction (" + "; ".join(reasons) + "). "
            "Try a smaller learning rate or fewer steps, a margin the distances can reach, and "
            "negatives that really differ."
        )
    elif cosine > NARROW_CONE_COSINE:
        message = (f"The embeddings sit in a narrow cone (mean pairwise cosine {cosine:.3f}) but "
                   f"still vary along about {rank:.0f} directions: anisotropic, not collapsed. "
                   "Neighbours can be intact; distances are small, so a fixed margin is harder "
                   "to reach.")
    else:
        message = "The embeddings spread over many directions; no sign of collapse."
    return CollapseReport(bool(reasons), cosine, rank, mean_std, n_rows, dim, message)


# --------------------------------------------------------------------------------------------
# Class collapse: each class squeezed to its own point
# --------------------------------------------------------------------------------------------
def _class_labels(labels: Any, n_rows: int) -> np.ndarray:
    """``labels`` as a 1-D string array with one entry per row, or a clear error."""
    if labels is None:
        raise TypeError("labels is None; pass one label per embedding row.")
    array = np.asarray(labels)
    if array.ndim != 1 or len(array) != n_rows:
        raise ValueError(
            f"labels must be 1-D with one label per embedding row ({n_rows}), got shape "
            f"{array.shape}."
        )
    if pd.isna(array).any():
        raise ValueError("labels has missing values; fill or drop those rows first.")
    return array.astype(str)


def _unit_rows_and_labels(array: np.ndarray, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """The unit rows of a checked array and one label per row; zero rows are refused."""
    classes = _class_labels(labels, len(array))
    norms = np.linalg.norm(array.astype(np.float64), axis=1)
    if (norms <= 1e-12).any():
        raise ValueError("embeddings has all-zero rows; they have no direction to compare.")
    return _unit_rows(array), classes


def _centred_effective_rank(rows: np.ndarray) -> float:
    """Effective rank of ``rows`` minus their mean: how many directions the variation uses."""
    centred = rows - rows.mean(axis=0)
    if len(rows) < 2 or not np.abs(centred).max() > 1e-12:
        return 0.0
    return _entropy_rank(np.linalg.svd(centred, compute_uv=False))


def within_class_spread(embeddings: Any, labels: Any) -> pd.DataFrame:
    """How much room each class still takes up: one row per class (sorted by name), on unit rows.

    Columns ``n``, ``spread`` (mean distance to the class centroid: 0 for a point, ~1 for the
    whole sphere) and ``effective_rank`` of the centred rows (a tiny round blob still ranks high:
    read it with ``spread``).
    """
    return _class_spread(*_unit_rows_and_labels(validate_embeddings(embeddings), labels))


def _class_spread(unit: np.ndarray, classes: np.ndarray) -> pd.DataFrame:
    rows = []
    for name in np.unique(classes):
        members = unit[classes == name]
        distances = np.linalg.norm(members - members.mean(axis=0), axis=1)
        rows.append({"class": name, "n": len(members), "spread": float(distances.mean()),
                     "effective_rank": _centred_effective_rank(members)})
    return pd.DataFrame(rows).set_index("class")


def within_class_fraction(embeddings: Any, labels: Any) -> float:
    """Share (0..1) of the total variation that lies inside the classes; needs two classes or more.

    0: every class is a single point; about 1: the labels explain none of the layout.
    """
    return _within_fraction(*_unit_rows_and_labels(validate_embeddings(embeddings), labels))


def _within_fraction(unit: np.ndarray, classes: np.ndarray) -> float:
    names = np.unique(classes)
    if len(names) < 2:
        raise ValueError(f"labels has a single class ({names[0]!r}); pass at least two classes.")
    total = float(((unit - unit.mean(axis=0)) ** 2).sum())
    if total <= 1e-12:
        return 0.0  # every row in one point: nothing varies anywhere
    within = sum(float(((unit[classes == name] - unit[classes == name].mean(axis=0)) ** 2).sum())
                 for name in names)
    return within / total


def subgroup_knn_within_classes(embeddings: Any, labels: Any, subgroups: Any, *,
                                k: int = 5) -> tuple[float, float]:
    """Is a second label (e.g. topic) still readable *inside* each class (e.g. sentiment)?

    Leave-one-out kNN (cosine) among the rows of the same class; returns (accuracy, chance), where
    chance always guesses each class's commonest subgroup.
    """
    unit, classes = _unit_rows_and_labels(validate_embeddings(embeddings), labels)
    return _subgroup_knn(unit, classes, _class_labels(subgroups, len(unit)), k)


def _subgroup_knn(unit: np.ndarray, classes: np.ndarray, groups: np.ndarray,
                  k: int) -> tuple[float, float]:
    validate_whole_number(k, "k")
    correct, majority = 0, 0
    for name in np.unique(classes):
        rows = np.flatnonzero(classes == name)
        if len(rows) < 2:
            raise ValueError(f"class {name!r} has a single row; a row needs neighbours.")
        similarity = unit[rows] @ unit[rows].T
        np.fill_diagonal(similarity, -np.inf)  # a row is not its own neighbour
        nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :min(k, len(rows) - 1)]
        for row, neighbours in zip(rows, nearest, strict=True):
            values, counts = np.unique(groups[rows[neighbours]], return_counts=True)
            correct += values[counts.argmax()] == groups[row]
        majority += np.unique(groups[rows], return_counts=True)[1].max()
    return correct / len(unit), majority / len(unit)


@dataclass(frozen=True)
class ClassCollapseReport:
    """What :func:`detect_class_collapse` found.

    ``kind`` is ``"collapsed"``, ``"class-collapsed"`` or ``"spread"``; ``subgroup_knn`` and
    ``subgroup_chance`` are NaN unless subgroups were given.
    """

    kind: str
    within_fraction: float
    per_class: pd.DataFrame
    overall: CollapseReport
    subgroup_knn: float
    subgroup_chance: float
    message: str

    def __str__(self) -> str:
        subgroup = ("" if np.isnan(self.subgroup_knn) else
                    f"; subgroup kNN inside the classes {self.subgroup_knn:.3f} (chance "
                    f"{self.subgroup_chance:.3f})")
        return (f"{self.kind}: {self.within_fraction:.0%} of the variation is left inside the "
                f"classes; mean spread around the class centroids "
                f"{self.per_class['spread'].mean():.3f}{subgroup}. {self.message}")


def detect_class_collapse(embeddings: Any, labels: Any, subgroups: Any = None, *,
                          max_within_fraction: float = DEFAULT_MAX_WITHIN_FRACTION,
                          min_subgroup_gain: float = DEFAULT_MIN_SUBGROUP_GAIN,
                          **collapse_thresholds: float) -> ClassCollapseReport:
    """Is this space collapsed, class-collapsed or spread? (notebook 05)

    Args:
        embeddings: (n, d) array or tensor, one row per text.
        labels: the class of each row (e.g. sentiment), at least two classes.
        subgroups: optional second label (e.g. topic) that used to vary inside the classes.
        max_within_fraction: class-collapsed below this :func:`within_class_fraction`.
        min_subgroup_gain: with ``subgroups``, class-collapsed when the subgroup kNN beats chance
            by less than this.
        **collapse_thresholds: passed to :func:`detect_collapse`, whose test comes first.
    """
    max_within_fraction = _validate_threshold(max_within_fraction, "max_within_fraction", 0.0, 1.0)
    min_subgroup_gain = _validate_threshold(min_subgroup_gain, "min_subgroup_gain", 0.0, 1.0)
    array = validate_embeddings(embeddings)  # checked and normalised once, for every measure
    unit, classes = _unit_rows_and_labels(array, labels)
    overall = _detect_collapse(array, unit, **collapse_thresholds)
    fraction = _within_fraction(unit, classes)
    per_class = _class_spread(unit, classes)
    knn, chance = (float("nan"), float("nan")) if subgroups is None else \
        _subgroup_knn(unit, classes, _class_labels(subgroups, len(unit)), 5)
    reasons = []
    if fraction < max_within_fraction:
        reasons.append(f"only {fraction:.0%} of the variation is left inside the classes")
    if subgroups is not None and knn - chance < min_subgroup_gain:
        reasons.append(f"inside a class the subgroup is guessed about as well as by chance "
                       f"(kNN {knn:.2f} vs {chance:.2f})")
    if overall.collapsed:
        kind, message = "collapsed", "Every row is in one point or direction; " + overall.message
    elif reasons:
        kind = "class-collapsed"
        message = ("The classes separate, but " + " and ".join(reasons) + ": what varied inside "
                   "a class is mostly gone. A lower learning rate, fewer steps or positives that "
                   "share more than the label keep more of it.")
    else:
        kind, message = "spread", "The classes keep room, and structure, inside them."
    return ClassCollapseReport(kind, fraction, per_class, overall, knn, chance, message)
