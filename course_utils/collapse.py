"""Spotting collapse: when training has squeezed all embeddings into one point or direction.

A collapsed model maps every text to (nearly) the same vector. Its triplet or contrastive loss
can look calm - e.g. exactly ``margin`` per triplet, because d(a, p) = d(a, n) = 0 - while the
embeddings have become useless. Two numbers show it, computed on the unit-length rows:

* **mean pairwise cosine**: the average cosine similarity over all pairs of different rows.
  About 0.0-0.5 for a healthy sentence-embedding space; close to 1 when everything points the
  same way.
* **effective rank** (Roy & Vetterli's entropy of the normalised singular values): roughly how
  many directions the embeddings really use. 1 means a single direction.

:func:`detect_collapse` flags a space when the mean cosine exceeds ``cosine_threshold`` or the
effective rank falls below ``min_effective_rank``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from course_utils.embedding import check_embeddings

DEFAULT_COSINE_THRESHOLD = 0.95
DEFAULT_MIN_EFFECTIVE_RANK = 1.5

__all__ = ["CollapseReport", "detect_collapse", "effective_rank", "mean_pairwise_cosine"]


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
            f"{verdict}: mean pairwise cosine {self.mean_pairwise_cosine:.3f}, effective rank "
            f"{self.effective_rank:.1f} of {min(self.n_rows, self.dim)}, mean std per dimension "
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
    unit = _unit_rows(check_embeddings(embeddings))
    n = len(unit)
    if n < 2:
        raise ValueError(
            f"mean_pairwise_cosine needs at least 2 non-zero rows, got {n}; pass more embeddings."
        )
    total = unit.sum(axis=0)
    return float((total @ total - n) / (n * (n - 1)))


def effective_rank(embeddings: Any) -> float:
    """exp(entropy of the normalised singular values) of the unit rows: ~directions in use.

    1.0 when all rows point along one line; at most min(n, d).
    """
    unit = _unit_rows(check_embeddings(embeddings))
    if len(unit) == 0:
        return 0.0
    # Singular values via the eigenvalues of the smaller Gram matrix: same numbers, faster.
    gram = unit.T @ unit if unit.shape[1] <= unit.shape[0] else unit @ unit.T
    singular = np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0.0, None))
    weights = singular / singular.sum()
    weights = weights[weights > 0]
    return float(np.exp(-(weights * np.log(weights)).sum()))


def _check_threshold(value: Any, name: str, low: float, high: float) -> float:
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
        cosine_threshold: flag when the mean pairwise cosine is above this (default 0.95).
        min_effective_rank: flag when the effective rank is below this (default 1.5, i.e.
            about one direction).

    Returns:
        A :class:`CollapseReport`; its ``message`` says what was seen and what to try.
    """
    if hasattr(embeddings, "detach"):
        embeddings = embeddings.detach().cpu().numpy()
    array = check_embeddings(embeddings)
    if len(array) < 2:
        raise ValueError(
            f"detect_collapse needs at least 2 embeddings to compare, got {len(array)}."
        )
    cosine_threshold = _check_threshold(cosine_threshold, "cosine_threshold", -1.0, 1.0)
    min_effective_rank = _check_threshold(min_effective_rank, "min_effective_rank", 0.0,
                                          float(min(array.shape)))
    n_rows, dim = array.shape
    unit = _unit_rows(array)
    mean_std = float(unit.std(axis=0).mean()) if len(unit) else 0.0
    if len(unit) < 2:
        return CollapseReport(True, 1.0, 0.0, 0.0, n_rows, dim,
                              "All (or all but one) embeddings are zero vectors: the model "
                              "outputs nothing. Check the learning rate and the loss.")
    cosine = mean_pairwise_cosine(unit)
    rank = effective_rank(unit)
    reasons = []
    if cosine > cosine_threshold:
        reasons.append(f"mean pairwise cosine {cosine:.3f} > {cosine_threshold}")
    if rank < min_effective_rank:
        reasons.append(f"effective rank {rank:.2f} < {min_effective_rank}")
    if reasons:
        message = (
            "The embeddings crowd into one point or direction (" + "; ".join(reasons) + "). "
            "Try a smaller learning rate or fewer steps, a margin the distances can reach, and "
            "negatives that really differ."
        )
    else:
        message = "The embeddings spread over many directions; no sign of collapse."
    return CollapseReport(bool(reasons), cosine, rank, mean_std, n_rows, dim, message)
