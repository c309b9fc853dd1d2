"""The course's losses equal sentence-transformers' and behave as the notebooks say."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_utils.losses import contrastive_loss, triplet_loss
from course_utils.triplets import pairwise_distance

DISTANCES = ("euclidean", "cosine")
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def library_loss(tensors, labels, *, margin, distance):
    """sentence-transformers' ContrastiveLoss (two tensors) or TripletLoss (three) on
    embeddings, built with model=None as notebooks 03 and 04 build them."""
    from sentence_transformers.sentence_transformer import losses

    if len(tensors) == 2:
        metric = {"cosine": losses.SiameseDistanceMetric.COSINE_DISTANCE,
                  "euclidean": losses.SiameseDistanceMetric.EUCLIDEAN}[distance]
        loss = losses.ContrastiveLoss(model=None, distance_metric=metric, margin=margin)
    else:
        metric = {"cosine": losses.TripletDistanceMetric.COSINE,
                  "euclidean": losses.TripletDistanceMetric.EUCLIDEAN}[distance]
        loss = losses.TripletLoss(model=None, distance_metric=metric, triplet_margin=margin)
    return loss.compute_loss_from_embeddings(list(tensors), labels)


def random_embeddings(n: int = 12, dim: int = 8, seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return list(torch.randn(3, n, dim, generator=generator).unbind(0))


# ------------------------------------------------------------------------------------------
# Equal to the library on the same tensors
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("margin", [0.5, 2.0, 5.0])
def test_contrastive_equals_sentence_transformers(distance, margin):
    a, b, _ = random_embeddings(seed=1)
    labels = torch.tensor([1, 0] * 6)
    ours = contrastive_loss(a, b, labels, margin=margin, distance=distance)
    theirs = library_loss([a, b], labels, margin=margin, distance=distance)
    assert abs(ours.item() - theirs.item()) < 1e-5


@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("margin", [0.1, 1.0, 5.0])
def test_triplet_equals_sentence_transformers(distance, margin):
    a, p, n = random_embeddings(seed=2)
    ours = triplet_loss(a, p, n, margin=margin, distance=distance)
    theirs = library_loss([a, p, n], None, margin=margin, distance=distance)
    assert abs(ours.item() - theirs.item()) < 1e-5


def test_library_helpers_use_the_library_objects_directly():
    from sentence_transformers.sentence_transformer.losses import (
        ContrastiveLoss,
        TripletDistanceMetric,
        TripletLoss,
    )

    a, p, n = random_embeddings(seed=3)
    direct = TripletLoss(model=None, distance_metric=TripletDistanceMetric.EUCLIDEAN)
    assert direct.triplet_margin == 5  # the library default the notebooks talk about
    assert torch.isclose(direct.compute_loss_from_embeddings([a, p, n], None),
                         triplet_loss(a, p, n, margin=5.0))
    assert ContrastiveLoss(model=None).margin == 0.5


def test_scale_and_reduction():
    a, b, _ = random_embeddings(seed=4)
    labels = torch.tensor([1, 0] * 6)
    half = contrastive_loss(a, b, labels, reduction="none")
    full = contrastive_loss(a, b, labels, reduction="none", scale=1.0)
    assert half.shape == (12,)
    assert torch.allclose(full, 2 * half)
    assert torch.isclose(contrastive_loss(a, b, labels, reduction="sum"), half.sum())
    per_triplet = triplet_loss(a, b, b.flip(0), margin=1.0, reduction="none")
    assert per_triplet.shape == (12,) and (per_triplet >= 0).all()


def test_hand_computed_values():
    a = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    b = torch.tensor([[3.0, 4.0], [0.3, 0.4]])  # distances 5 and 0.5
    labels = torch.tensor([1, 0])
    losses = contrastive_loss(a, b, labels, margin=2.0, distance="euclidean", reduction="none",
                              scale=1.0)
    assert torch.allclose(losses, torch.tensor([25.0, 1.5**2]))
    p = torch.tensor([[1.0, 0.0]])
    n = torch.tensor([[0.0, 2.0]])
    anchor = torch.zeros(1, 2)
    assert triplet_loss(anchor, p, n, margin=0.5).item() == pytest.approx(0.0)
    assert triplet_loss(anchor, p, n, margin=1.5).item() == pytest.approx(0.5)
    assert triplet_loss(anchor, n, p, margin=0.5).item() == pytest.approx(1.5)


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------
def vectors(n: int = 4, dim: int = 3):
    return arrays(np.float64, (n, dim), elements=st.floats(-3, 3, allow_nan=False, width=32))


def _well_defined(*arrays_: np.ndarray) -> bool:
    """Rows not close to zero (cosine is undefined there) and pairs not coinciding."""
    return all(np.linalg.norm(x, axis=1).min() > 0.1 for x in arrays_)


@FAST
@given(a=vectors(), p=vectors(), n=vectors(), margin=st.floats(0, 5),
       distance=st.sampled_from(DISTANCES))
def test_triplet_loss_is_non_negative_and_zero_when_margin_is_met(a, p, n, margin, distance):
    assume(_well_defined(a, p, n))
    a_t, p_t, n_t = (torch.tensor(x) for x in (a, p, n))
    losses = triplet_loss(a_t, p_t, n_t, margin=margin, distance=distance, reduction="none")
    assert (losses >= 0).all()
    gap = pairwise_distance(a, n, distance) - pairwise_distance(a, p, distance)
    satisfied = torch.tensor(gap >= margin)
    assert torch.all(losses[satisfied] <= 1e-9)
    clearly_active = torch.tensor(gap < margin - 1e-6)
    assert torch.all(losses[clearly_active] > 0)


@FAST
@given(a=vectors(), b=vectors(), labels=arrays(np.int64, 4, elements=st.integers(0, 1)),
       margin=st.floats(0, 3), distance=st.sampled_from(DISTANCES))
def test_contrastive_loss_is_non_negative_and_zero_when_margin_is_met(a, b, labels, margin,
                                                                     distance):
    assume(_well_defined(a, b))
    losses = contrastive_loss(torch.tensor(a), torch.tensor(b), labels, margin=margin,
                              distance=distance, reduction="none")
    assert (losses >= 0).all()
    far_enough = torch.tensor((pairwise_distance(a, b, distance) >= margin) & (labels == 0))
    assert torch.all(losses[far_enough] == 0)


@FAST
@given(a=vectors(1, 3), p=vectors(1, 3), n=vectors(1, 3), distance=st.sampled_from(DISTANCES))
def test_a_gradient_step_pulls_the_positive_in_and_pushes_the_negative_away(a, p, n, distance):
    assume(_well_defined(a, p, n))
    # Away from the stationary points: coinciding points, and opposite directions for cosine.
    for d in (pairwise_distance(a, p, distance)[0], pairwise_distance(a, n, distance)[0]):
        assume(1e-2 < d < (1.99 if distance == "cosine" else np.inf))
    anchor = torch.tensor(a)
    positive = torch.tensor(p, requires_grad=True)
    negative = torch.tensor(n, requires_grad=True)
    margin = 10.0  # large enough that the triplet is active whatever the points
    triplet_loss(anchor, positive, negative, margin=margin, distance=distance).backward()
    step = 1e-3
    with torch.no_grad():
        new_p = positive - step * positive.grad
        new_n = negative - step * negative.grad
    before_p = pairwise_distance(anchor, positive.detach(), distance).item()
    before_n = pairwise_distance(anchor, negative.detach(), distance).item()
    assert pairwise_distance(anchor, new_p, distance).item() < before_p
    assert pairwise_distance(anchor, new_n, distance).item() > before_n


@FAST
@given(a=vectors(2, 3), direction=vectors(2, 3), distance=st.sampled_from(DISTANCES))
def test_contrastive_gradient_pulls_similar_and_pushes_dissimilar(a, direction, distance):
    assume(_well_defined(a, direction))
    # b close to a (distance < margin 1), so that the dissimilar pair is inside the margin.
    unit = direction / np.linalg.norm(direction, axis=1, keepdims=True)
    b = a + 0.3 * np.linalg.norm(a, axis=1, keepdims=True).clip(max=1.0) * unit
    before = pairwise_distance(a, b, distance)
    assume(before.min() > 1e-3)
    anchor = torch.tensor(a)
    other = torch.tensor(b, requires_grad=True)
    labels = torch.tensor([1, 0])  # pair 0 similar, pair 1 dissimilar (inside margin 1)
    contrastive_loss(anchor, other, labels, margin=1.0, distance=distance).backward()
    with torch.no_grad():
        after = pairwise_distance(anchor, other - 1e-3 * other.grad, distance)
    assert after[0].item() < before[0]
    assert after[1].item() > before[1]


def test_gradient_is_finite_when_points_coincide():
    a = torch.zeros(2, 2, requires_grad=True)
    b = torch.zeros(2, 2)
    contrastive_loss(a, b, [1, 0], margin=1.0, distance="euclidean").backward()
    assert torch.isfinite(a.grad).all()


# ------------------------------------------------------------------------------------------
# Bad inputs
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"positive": torch.randn(5, 8)}, ValueError, "same shape"),
        ({"negative": torch.randn(12, 4)}, ValueError, "same shape"),
        ({"anchor": torch.full((12, 8), float("nan"))}, ValueError, "NaN"),
        ({"anchor": torch.ones(12, 8, dtype=torch.int64)}, TypeError, "floating-point"),
        ({"anchor": [[1.0, 2.0]]}, TypeError, "torch tensor"),
        ({"anchor": None}, TypeError, "None"),
        ({"anchor": torch.randn(8)}, ValueError, "2-D"),
        ({"distance": "manhattan"}, ValueError, "distance must be one of"),
        ({"margin": -1.0}, ValueError, "margin must be"),
        ({"margin": float("inf")}, ValueError, "margin must be"),
        ({"margin": "5"}, TypeError, "margin must be a number"),
        ({"reduction": "avg"}, ValueError, "reduction must be one of"),
    ],
)
def test_triplet_loss_rejects_bad_inputs(change, error, message):
    a, p, n = random_embeddings()
    kwargs = {"anchor": a, "positive": p, "negative": n, "margin": 1.0, **change}
    with pytest.raises(error, match=message):
        triplet_loss(**kwargs)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"emb_b": torch.randn(3, 8)}, ValueError, "same shape"),
        ({"label_similar": [1, 0]}, ValueError, "one label per pair"),
        ({"label_similar": [2] * 12}, ValueError, "only 0 and 1"),
        ({"label_similar": None}, TypeError, "None"),
        ({"emb_a": torch.full((12, 8), float("inf"))}, ValueError, "NaN or infinite"),
        ({"distance": "dot"}, ValueError, "distance must be one of"),
        ({"margin": -0.5}, ValueError, "margin must be"),
    ],
)
def test_contrastive_loss_rejects_bad_inputs(change, error, message):
    a, b, _ = random_embeddings()
    kwargs = {"emb_a": a, "emb_b": b, "label_similar": [1, 0] * 6, **change}
    with pytest.raises(error, match=message):
        contrastive_loss(**kwargs)


def test_numpy_float_arrays_are_accepted():
    a, b, _ = (x.numpy() for x in random_embeddings())
    assert contrastive_loss(a, b, np.ones(12)).item() >= 0


# ------------------------------------------------------------------------------------------
# InfoNCE (notebook 07) equals MultipleNegativesRankingLoss with scale = 1 / temperature
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("temperature", [0.05, 0.2, 1.0])
@pytest.mark.parametrize("with_negatives", [False, True])
def test_info_nce_equals_multiple_negatives_ranking_loss(temperature, with_negatives):
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from course_utils.losses import info_nce_loss

    a, p, n = random_embeddings(seed=4)
    negative = n if with_negatives else None
    ours = info_nce_loss(a, p, negative, temperature=temperature)
    library_loss = MultipleNegativesRankingLoss(model=None, scale=1 / temperature)  # as nb 07
    theirs = library_loss.compute_loss_from_embeddings([a, p, n][:3 if with_negatives else 2],
                                                       labels=None)
    assert abs(ours.item() - theirs.item()) < 1e-5


def test_info_nce_behaves_as_the_notebook_says():
    from course_utils.losses import info_nce_loss

    a, p, _ = random_embeddings(n=6, seed=5)
    own_row = info_nce_loss(a, a.clone() * 3, temperature=0.05).item()  # its own row wins
    assert own_row < 0.1 and own_row < info_nce_loss(a, p, temperature=0.05).item() / 10
    per_pair = info_nce_loss(a, p, reduction="none")
    assert per_pair.shape == (6,) and (per_pair > 0).all()
    assert info_nce_loss(a, p, reduction="sum").item() == pytest.approx(per_pair.sum().item())
    # a very high temperature makes every candidate equally likely: loss -> log(n)
    assert info_nce_loss(a, p, temperature=1e4).item() == pytest.approx(np.log(6), abs=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"temperature": 0}, ValueError, "temperature"),
        ({"temperature": "hot"}, TypeError, "temperature"),
        ({"reduction": "max"}, ValueError, "reduction"),
        ({"negative": torch.ones(3, 8)}, ValueError, "same shape"),
    ],
)
def test_info_nce_rejects_bad_input(kwargs, error, match):
    from course_utils.losses import info_nce_loss

    a, p, _ = random_embeddings(seed=6)
    with pytest.raises(error, match=match):
        info_nce_loss(a, p, **kwargs)
