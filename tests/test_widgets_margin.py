"""The margin explorer: driven without a browser through ``.slider`` and ``.state``."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from course_utils.widgets import margin_explorer  # noqa: E402
from course_utils.widgets.margin import margin_state  # noqa: E402


@pytest.fixture()
def triplets():
    """Three 1-D-like triplets with d(a,p) = 1 and d(a,n) = 0.5, 1.2, 3.0."""
    anchor = np.zeros((3, 2))
    positive = np.array([[1.0, 0.0]] * 3)
    negative = np.array([[0.5, 0.0], [0.0, 1.2], [-3.0, 0.0]])
    return anchor, positive, negative


def test_state_follows_the_slider(triplets):
    box = margin_explorer(*triplets, margin=0.5, labels=["t0", "t1", "t2"], plot=False)
    assert box.state["margin"] == 0.5
    assert box.state["counts"] == {"easy": 1, "semi-hard": 1, "hard": 1}
    assert box.state["n_active"] == 2
    assert box.state["mean_loss"] == pytest.approx((1.0 + 0.3 + 0.0) / 3)
    box.slider.value = 0.1
    assert box.state["margin"] == pytest.approx(0.1)
    assert box.state["counts"] == {"easy": 2, "semi-hard": 0, "hard": 1}
    assert box.state["n_active"] == 1
    box.slider.value = 2.5
    assert box.state["counts"]["easy"] == 0 and box.state["n_active"] == 3
    assert "t0" in box.children[1].value  # the largest-loss triplets are listed


def test_plot_is_drawn_and_cosine_works(triplets):
    box = margin_explorer(*triplets, distance="cosine", plot=True)
    assert box.state["n_triplets"] == 3
    first = bytes(box.image.value)
    assert first[:4] == b"\x89PNG"
    box.slider.value = 0.0
    assert bytes(box.image.value) != first  # redrawn at the new margin
    assert box.state["n_active"] + box.state["counts"]["easy"] >= 2


def test_default_slider_range_covers_unit_vectors(triplets):
    box = margin_explorer(*triplets, plot=False)
    assert box.slider.max >= 3.0  # the data reach 3, so the slider does too
    rng = np.random.default_rng(0)
    unit = rng.normal(size=(3, 5, 4))
    unit /= np.linalg.norm(unit, axis=2, keepdims=True)
    assert margin_explorer(*unit, plot=False).slider.max == pytest.approx(2.0)


def test_margin_state_at_zero_margin_matches_the_definitions():
    state = margin_state(np.array([1.0, 1.0]), np.array([0.5, 1.0]), 0.0)
    assert state["counts"] == {"easy": 1, "semi-hard": 0, "hard": 1}
    assert state["n_active"] == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"labels": ["only one"]}, ValueError),
        ({"labels": "abc"}, TypeError),
        ({"margin": -0.1}, ValueError),
        ({"distance": "dot"}, ValueError),
        ({"max_margin": 0.0, "margin": 0.0}, ValueError),
    ],
)
def test_bad_arguments_raise_clear_errors(triplets, kwargs, error):
    with pytest.raises(error):
        margin_explorer(*triplets, plot=False, **kwargs)


def test_mismatched_shapes_raise(triplets):
    anchor, positive, negative = triplets
    with pytest.raises(ValueError, match="same shape"):
        margin_explorer(anchor, positive[:2], negative, plot=False)


# --------------------------------------------------------------------------------------------
# The toy figures behind the explorer and notebooks 03/04 (course_utils.plots.toy), and
# notebook 03's descent slider (course_utils.widgets.descent)
# --------------------------------------------------------------------------------------------
def test_toy_figures_draw_what_they_are_given():
    import matplotlib.pyplot as plt

    from course_utils.plots import (
        plot_descent_frames,
        plot_pair_distances,
        plot_toy_pairs,
        plot_triplet_2d,
        plot_triplet_distances,
        shared_limits,
    )
    from course_utils.toy import make_toy_pairs
    from course_utils.widgets import descent_slider

    toy = make_toy_pairs()
    ax = plot_toy_pairs(toy.points, toy.pairs, toy.similar, groups=toy.groups)
    labels = ax.get_legend_handles_labels()[1]
    assert {"similar pair", "dissimilar pair", "group A"} <= set(labels)
    frames = [toy.points, toy.points * 0.5]
    fig = plot_descent_frames(frames, toy.pairs, toy.similar, steps=[0, 10], groups=toy.groups)
    assert [a.get_title() for a in fig.axes[:2]] == ["step 0", "step 10"]
    xmin, xmax, ymin, ymax = shared_limits(frames)
    assert xmin <= toy.points[:, 0].min() and ymax >= toy.points[:, 1].max()
    history = np.stack([np.ones(36), np.linspace(0, 2, 36)])
    ax = plot_pair_distances(history, toy.similar, margin=1.0)
    assert any("margin = 1" in label for label in ax.get_legend_handles_labels()[1])
    ax = plot_triplet_2d([0, 0], [1, 0], [0, 1.2], margin=0.5)
    assert len(ax.patches) == 3  # the hard and semi-hard zones, the easy-zone legend key
    assert ax.get_title() == "margin 0.5: this negative is semi-hard"
    ax = plot_triplet_distances([1.0, 1.0, 1.0], [0.5, 1.2, 3.0], margin=0.5)
    assert {"easy (1)", "semi-hard (1)", "hard (1)"} <= set(ax.get_legend_handles_labels()[1])
    slider = descent_slider(frames, toy.pairs, toy.similar)
    first = bytes(slider.image.value)
    slider.slider.value = 1
    assert slider.state == {"frame": 1, "step": 1}
    assert bytes(slider.image.value)[:4] == b"\x89PNG" and bytes(slider.image.value) != first
    plt.close("all")


def test_toy_figures_reject_bad_input():
    from course_utils.plots import plot_pair_distances, plot_toy_pairs
    from course_utils.toy import make_toy_pairs

    toy = make_toy_pairs()
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plot_toy_pairs(np.ones((9, 3)), toy.pairs, toy.similar)
    with pytest.raises(ValueError, match="NaN"):
        plot_toy_pairs(np.full((9, 2), np.nan), toy.pairs, toy.similar)
    with pytest.raises(ValueError, match="one 0/1 label per pair"):
        plot_toy_pairs(toy.points, toy.pairs, toy.similar[:3])
    with pytest.raises(ValueError, match="indices outside"):
        plot_toy_pairs(toy.points, toy.pairs + 100, toy.similar)
    with pytest.raises(ValueError, match="n_steps, n_pairs"):
        plot_pair_distances(np.ones(5), toy.similar)
