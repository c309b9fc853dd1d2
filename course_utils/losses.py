"""Readable reference implementations of the contrastive, triplet and InfoNCE losses (torch),
following sentence-transformers' conventions so that notebooks 03 and 04 can compare them one
to one with the library's losses. Distances come from
:func:`course_utils.triplets.pairwise_distance`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from course_utils.triplets import pairwise_distance, validate_distance, validate_margin
from course_utils.validation import validate_same_shapes, validate_tensor

if TYPE_CHECKING:  # pragma: no cover
    import torch

REDUCTIONS = ("mean", "sum", "none")
#: MultipleNegativesRankingLoss's default ``scale`` (= 1 / temperature, so temperature 0.05);
#: notebook 07 compares :func:`info_nce_loss` with the library's loss in view.
LIBRARY_MNRL_SCALE = 20.0

__all__ = [
    "LIBRARY_MNRL_SCALE",
    "contrastive_loss",
    "info_nce_loss",
    "triplet_loss",
]


# --------------------------------------------------------------------------------------------
# Input checks (shared by both losses)
# --------------------------------------------------------------------------------------------
def _checked_tensors(**values: Any) -> list[torch.Tensor]:
    """Each value as a checked float tensor (None values are left out); all the same shape."""
    tensors = {name: validate_tensor(value, name) for name, value in values.items()
               if value is not None or name != "negative"}
    validate_same_shapes(**tensors)
    return list(tensors.values())


def _reduce(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _validate_reduction(reduction: Any) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction must be one of {REDUCTIONS}, got {reduction!r}: 'mean' (one number, "
            "as the library), 'sum', or 'none' (one loss per pair/triplet)."
        )
    return reduction


def _similar_labels(label_similar: Any, n_rows: int, like: torch.Tensor) -> torch.Tensor:
    """0/1 labels as a float (n,) tensor on ``like``'s device and dtype."""
    import torch

    if label_similar is None:
        raise TypeError("label_similar is None; pass one 0/1 label per pair (1 = similar).")
    try:
        labels = torch.as_tensor(label_similar)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(
            f"label_similar must be a sequence of 0/1 labels, got {type(label_similar).__name__}."
        ) from None
    labels = labels.reshape(-1)
    if labels.numel() != n_rows:
        raise ValueError(
            f"label_similar has {labels.numel()} labels but there are {n_rows} pairs; give one "
            "label per pair (1 = similar, 0 = dissimilar)."
        )
    labels = labels.to(dtype=like.dtype, device=like.device)
    if not ((labels == 0) | (labels == 1)).all():
        raise ValueError(
            f"label_similar must contain only 0 and 1 (1 = similar), got values "
            f"{sorted(set(labels.tolist()))[:6]}."
        )
    return labels


# --------------------------------------------------------------------------------------------
# The losses
# --------------------------------------------------------------------------------------------
def contrastive_loss(emb_a: torch.Tensor, emb_b: torch.Tensor, label_similar: Any, *,
                     margin: float = 0.5, distance: str = "cosine",
                     reduction: str = "mean", scale: float = 0.5) -> torch.Tensor:
    """Margin-based contrastive loss for pairs (Hadsell et al. 2006): similar pairs pay d**2,
    dissimilar pairs max(0, margin - d)**2, times ``scale``.

    Args:
        emb_a, emb_b: float tensors (n, dim); row i of each forms pair i.
        label_similar: (n,) 0/1 labels, 1 = similar (the library's convention; the paper's 0).
        distance: ``"cosine"`` (1 - cos, the library's default) or ``"euclidean"``.
        reduction: ``"mean"`` (as the library), ``"sum"`` or ``"none"`` (shape (n,)).
        scale: 0.5 as the paper and the library, 1.0 to drop it.
    """
    validate_distance(distance)
    _validate_reduction(reduction)
    margin = validate_margin(margin)
    a, b = _checked_tensors(emb_a=emb_a, emb_b=emb_b)
    labels = _similar_labels(label_similar, a.shape[0], a)
    d = pairwise_distance(a, b, distance, validate=False)     # (n,)
    pull = labels * d.pow(2)                                  # similar: shrink d
    push = (1 - labels) * (margin - d).clamp(min=0).pow(2)    # dissimilar: grow d up to margin
    return _reduce(float(scale) * (pull + push), reduction)


def triplet_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, *,
                 margin: float, distance: str = "euclidean",
                 reduction: str = "mean") -> torch.Tensor:
    """Triplet loss max(0, d(a, p) - d(a, n) + margin) (Schroff et al. 2015).

    Args:
        anchor, positive, negative: float tensors (n, dim); row i of each forms triplet i.
        margin: the required gap; the library's default 5 exceeds the largest euclidean distance
            2 between unit vectors (notebook 04).
        distance: ``"euclidean"`` (plain, not squared; the library's default) or ``"cosine"``.
        reduction: ``"mean"`` (as the library), ``"sum"`` or ``"none"`` (shape (n,)).
    """
    validate_distance(distance)
    _validate_reduction(reduction)
    margin = validate_margin(margin)
    a, p, n = _checked_tensors(anchor=anchor, positive=positive, negative=negative)
    d_ap = pairwise_distance(a, p, distance, validate=False)   # (n,)
    d_an = pairwise_distance(a, n, distance, validate=False)   # (n,)
    return _reduce((d_ap - d_an + margin).clamp(min=0), reduction)


def _validate_temperature(temperature: Any) -> float:
    import math

    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError(f"temperature must be a number, got {type(temperature).__name__}.")
    if not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(
            f"temperature must be a finite number above 0, got {temperature!r}; the library's "
            f"default is 0.05 (its scale {LIBRARY_MNRL_SCALE:g} = 1 / temperature)."
        )
    return float(temperature)


def info_nce_loss(anchor: torch.Tensor, positive: torch.Tensor,
                  negative: torch.Tensor | None = None, *, temperature: float = 0.05,
                  reduction: str = "mean") -> torch.Tensor:
    """InfoNCE with in-batch negatives (van den Oord et al. 2018): cross-entropy of a softmax over
    cosine similarities / ``temperature``, the right answer on the diagonal.

    ``MultipleNegativesRankingLoss`` computes the same with ``scale = 1 / temperature``.

    Args:
        anchor, positive: float tensors (n, dim); row i of each forms pair i.
        negative: optional (n, dim) hard negatives; they join *every* anchor's candidates.
        reduction: ``"mean"`` (as the library), ``"sum"`` or ``"none"`` (shape (n,)).
    """
    import torch
    import torch.nn.functional as F

    _validate_reduction(reduction)
    temperature = _validate_temperature(temperature)
    a, *docs = _checked_tensors(anchor=anchor, positive=positive, negative=negative)
    docs = torch.cat(docs)  # the positives, then any extra negatives
    logits = F.normalize(a, dim=1) @ F.normalize(docs, dim=1).T / temperature
    targets = torch.arange(len(a), device=a.device)      # pair i's positive sits in column i
    return _reduce(F.cross_entropy(logits, targets, reduction="none"), reduction)
