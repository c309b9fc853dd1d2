"""The collapse detectors: total collapse (one point or direction) and class collapse (one tight
blob per class), on synthetic spaces; the pretrained space is healthy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.collapse import (
    ClassCollapseReport,
    CollapseReport,
    detect_class_collapse,
    detect_collapse,
    effective_rank,
    mean_pairwise_cosine,
    subgroup_knn_within_classes,
    within_class_fraction,
    within_class_spread,
)


def test_healthy_random_space_is_not_collapsed():
    rng = np.random.default_rng(0)
    report = detect_collapse(rng.normal(size=(200, 32)))
    assert isinstance(report, CollapseReport)
    assert not report.collapsed and not report
    assert abs(report.mean_pairwise_cosine) < 0.05
    assert report.effective_rank > 25
    assert "healthy" in str(report)


def test_everything_near_one_point_is_collapsed():
    rng = np.random.default_rng(1)
    point = rng.normal(size=32)
    report = detect_collapse(point + 0.01 * rng.normal(size=(200, 32)))
    assert report.collapsed
    assert report.mean_pairwise_cosine > 0.99
    assert "mean pairwise cosine" in report.message and "learning rate" in report.message


def test_one_direction_with_both_signs_is_caught_by_the_effective_rank():
    rng = np.random.default_rng(2)
    direction = rng.normal(size=16)
    line = np.outer(rng.normal(size=100), direction)  # +/- the same direction: cosine ~ 0
    report = detect_collapse(line)
    assert report.collapsed
    assert report.effective_rank == pytest.approx(1.0, abs=1e-4)
    assert "effective rank" in report.message


def test_all_zero_embeddings_are_collapsed():
    report = detect_collapse(np.zeros((10, 4)))
    assert report.collapsed and "zero vectors" in report.message


def test_thresholds_are_respected():
    rng = np.random.default_rng(3)
    close = rng.normal(size=8) + 0.3 * rng.normal(size=(50, 8))
    cosine = mean_pairwise_cosine(close)
    assert detect_collapse(close, cosine_threshold=cosine - 0.01).collapsed
    assert not detect_collapse(close, cosine_threshold=min(1.0, cosine + 0.01),
                               min_effective_rank=1.0).collapsed


def test_mean_pairwise_cosine_matches_the_full_matrix():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 5))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    full = unit @ unit.T
    expected = (full.sum() - np.trace(full)) / (30 * 29)
    assert mean_pairwise_cosine(x) == pytest.approx(expected, abs=1e-6)
    assert effective_rank(np.eye(5)) == pytest.approx(5.0)


def test_tensors_are_accepted():
    assert not detect_collapse(torch.randn(50, 8, generator=torch.Generator().manual_seed(0)))


@pytest.mark.parametrize(
    ("embeddings", "kwargs", "error"),
    [
        (None, {}, TypeError),
        (np.ones(5), {}, ValueError),
        (np.ones((1, 5)), {}, ValueError),
        (np.full((4, 3), np.nan), {}, ValueError),
        (np.ones((4, 3)), {"cosine_threshold": 2.0}, ValueError),
        (np.ones((4, 3)), {"min_effective_rank": -1}, ValueError),
        (np.ones((4, 3)), {"cosine_threshold": "high"}, TypeError),
    ],
)
def test_bad_inputs_raise_clear_errors(embeddings, kwargs, error):
    with pytest.raises(error):
        detect_collapse(embeddings, **kwargs)


def test_pretrained_course_embeddings_are_healthy(model, sentences):
    from course_utils.data import load_course_data
    from course_utils.embedding import encode

    texts = load_course_data("test")["text"].tolist()[:60] + sentences
    report = detect_collapse(encode(texts, model, cache=False))
    assert not report.collapsed
    assert report.mean_pairwise_cosine < 0.5
    assert report.effective_rank > 20


# ------------------------------------------------------------------ class collapse
def _blobs(rng, centres, per_class: int, noise: float):
    """Rows around each of ``centres`` (one class per centre) and their labels."""
    rows = np.concatenate([c + noise * rng.normal(size=(per_class, len(c))) for c in centres])
    labels = np.repeat([f"class{i}" for i in range(len(centres))], per_class)
    return rows, labels


def test_two_tight_blobs_are_class_collapsed_not_collapsed():
    rng = np.random.default_rng(5)
    direction = rng.normal(size=32)
    rows, labels = _blobs(rng, [direction, -direction], 50, 0.02)  # opposite poles
    assert not detect_collapse(rows).collapsed  # the total-collapse detector cannot see it
    report = detect_class_collapse(rows, labels)
    assert isinstance(report, ClassCollapseReport)
    assert report.kind == "class-collapsed"
    assert report.within_fraction < 0.01
    assert (report.per_class["spread"] < 0.05).all()
    assert list(report.per_class.index) == ["class0", "class1"]
    assert list(report.per_class["n"]) == [50, 50]
    assert "class-collapsed" in str(report) and "learning rate" in report.message


def test_one_blob_is_collapsed_whatever_the_labels():
    rng = np.random.default_rng(6)
    rows = rng.normal(size=16) + 0.01 * rng.normal(size=(60, 16))
    labels = np.repeat(["a", "b"], 30)
    report = detect_class_collapse(rows, labels)
    assert report.kind == "collapsed" and report.overall.collapsed
    assert report.per_class["spread"].max() < 0.05


def test_a_spread_space_with_loose_classes_is_spread():
    rng = np.random.default_rng(7)
    rows, labels = _blobs(rng, [rng.normal(size=32), rng.normal(size=32)], 80, 1.0)
    report = detect_class_collapse(rows, labels)
    assert report.kind == "spread"
    assert report.within_fraction > 0.5
    assert (report.per_class["spread"] > 0.6).all()
    assert (report.per_class["effective_rank"] > 20).all()


def test_random_labels_leave_all_the_variation_inside_the_classes():
    rng = np.random.default_rng(8)
    rows = rng.normal(size=(300, 16))
    labels = rng.choice(["a", "b", "c"], size=300)
    assert within_class_fraction(rows, labels) == pytest.approx(1.0, abs=0.03)


def test_within_class_measures_match_a_direct_computation():
    rng = np.random.default_rng(9)
    rows = rng.normal(size=(12, 4))
    labels = np.array(list("aabbbcccaabc"))
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    table = within_class_spread(rows, labels)
    for name in "abc":
        members = unit[labels == name]
        expected = np.linalg.norm(members - members.mean(axis=0), axis=1).mean()
        assert table.loc[name, "spread"] == pytest.approx(expected)
    within = sum(((unit[labels == n] - unit[labels == n].mean(axis=0)) ** 2).sum() for n in "abc")
    total = ((unit - unit.mean(axis=0)) ** 2).sum()
    assert within_class_fraction(rows, labels) == pytest.approx(within / total)
    assert within_class_spread(torch.from_numpy(rows), labels).equals(table)


def test_a_single_point_class_has_no_spread_and_no_rank():
    table = within_class_spread(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 2.0]]), ["x", "y", "y"])
    assert table.loc["x", "spread"] == 0 and table.loc["x", "effective_rank"] == 0
    assert table.loc["y", "spread"] == pytest.approx(0)  # both rows point the same way


def _classes_with_subgroups(rng, inner_noise: float):
    """Two classes far apart, each made of two subgroups ``inner_noise`` wide."""
    poles = [rng.normal(size=32) for _ in range(2)]
    rows, classes, subgroups = [], [], []
    for c, pole in enumerate(poles):
        for g in range(2):
            offset = 0.5 * rng.normal(size=32)
            rows.append(3 * pole + offset + inner_noise * rng.normal(size=(25, 32)))
            classes += [f"c{c}"] * 25
            subgroups += [f"g{g}"] * 25
    return np.concatenate(rows), np.array(classes), np.array(subgroups)


def test_subgroups_inside_classes_are_found_when_kept_and_at_chance_when_erased():
    rng = np.random.default_rng(11)
    kept, classes, subgroups = _classes_with_subgroups(rng, 0.05)
    accuracy, chance = subgroup_knn_within_classes(kept, classes, subgroups)
    assert accuracy == 1.0 and chance == 0.5
    shuffled = rng.permutation(subgroups)  # the subgroup no longer shapes anything
    accuracy, chance = subgroup_knn_within_classes(kept, classes, shuffled)
    assert abs(accuracy - chance) < 0.2


def test_class_collapse_is_also_seen_through_an_erased_subgroup():
    rng = np.random.default_rng(12)
    rows, classes, subgroups = _classes_with_subgroups(rng, 0.05)
    loose = detect_class_collapse(rows, classes, subgroups, max_within_fraction=0.0)
    assert loose.kind == "spread" and loose.subgroup_knn == 1.0
    erased = detect_class_collapse(rows, classes, rng.permutation(subgroups),
                                   max_within_fraction=0.0)
    assert erased.kind == "class-collapsed" and "chance" in erased.message
    assert "subgroup kNN inside the classes" in str(erased)
    assert np.isnan(detect_class_collapse(rows, classes).subgroup_knn)


@pytest.mark.parametrize(
    ("labels", "kwargs", "error", "message"),
    [
        (None, {}, TypeError, "labels is None"),
        (["a", "b"], {}, ValueError, "one label per embedding row"),
        (["a", None, "b", "a"], {}, ValueError, "missing"),
        (["a"] * 4, {}, ValueError, "single class"),
        (["a", "b"] * 2, {"max_within_fraction": 2}, ValueError, "max_within_fraction"),
        (["a", "b"] * 2, {"min_subgroup_gain": -1}, ValueError, "min_subgroup_gain"),
        (["a", "b"] * 2, {"subgroups": ["x"]}, ValueError, "one label per embedding row"),
        (["a", "b", "b", "b"], {"subgroups": list("xyxy")}, ValueError, "single row"),
    ],
)
def test_class_collapse_rejects_bad_labels(labels, kwargs, error, message):
    rows = np.random.default_rng(10).normal(size=(4, 3))
    with pytest.raises(error, match=message):
        detect_class_collapse(rows, labels, **kwargs)


def test_a_narrow_cone_is_not_collapse_but_one_point_or_one_line_is():
    """Anisotropy (rows in a narrow cone that still vary in many directions) is reported, not
    flagged; rows nearly identical, or varying along one direction only, are collapsed."""
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(200, 32))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    centre = np.eye(32)[0]

    def squeeze(blend):
        mixed = (1 - blend) * rows + blend * centre
        return mixed / np.linalg.norm(mixed, axis=1, keepdims=True)

    cone = detect_collapse(squeeze(0.8))
    assert cone.mean_pairwise_cosine > 0.9 and not cone.collapsed
    assert "narrow cone" in cone.message and cone.effective_rank > 20
    assert detect_collapse(squeeze(0.999)).collapsed
    line = centre + np.outer(np.linspace(-0.5, 0.5, 200), np.eye(32)[1])
    one_direction = detect_collapse(line)
    assert one_direction.collapsed and "effective rank of the variation" in one_direction.message
