"""Notebook 07's and 08's slide figures: the batch similarity heatmap, one anchor's softmax at
several temperatures, the wide before/after strip, and slide-sized fonts in the 2x2 grid."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def texts(fig) -> list:
    return [t for ax in fig.axes for t in ax.texts]


def test_heatmap_writes_every_value_and_frames_the_diagonal():
    matrix = np.array([[0.9, 0.1, 0.2], [0.0, 0.8, 0.3], [0.2, 1.0, 0.7]])
    fig = plots.similarity_heatmap(matrix)
    assert sorted(t.get_text() for t in texts(fig)) == sorted(f"{v:.2f}" for v in matrix.flat)
    assert len(fig.axes[0].patches) == 3  # one frame per right answer
    with pytest.raises(ValueError, match="square"):
        plots.similarity_heatmap(np.ones((2, 3)))


def test_softmax_panels_share_the_order_most_similar_first():
    sims = np.array([0.5, 0.9, 0.1])
    probabilities = {0.05: [0.2, 0.7, 0.1], 1.0: [0.3, 0.4, 0.3]}
    fig = plots.softmax_at_temperatures(sims, probabilities, labels=["pos", "hard", "easy"])
    first, *panels = fig.axes
    assert [t.get_text() for t in first.get_yticklabels()] == ["hard", "pos", "easy"]
    assert [ax.get_title() for ax in panels] == ["τ = 0.05", "τ = 1"]
    widths = [bar.get_width() for bar in panels[0].patches]
    assert widths == [0.7, 0.2, 0.1]
    with pytest.raises(ValueError, match="at least one temperature"):
        plots.softmax_at_temperatures(sims, {})


def test_layout_strip_is_one_row_in_one_frame():
    rng = np.random.default_rng(0)
    before, after = rng.normal(size=(20, 2)), rng.normal(size=(20, 2)) * 3
    labels = {"topic": ["a", "b"] * 10, "sentiment": ["x"] * 10 + ["y"] * 10}
    fig = plots.layout_strip({"pretrained": before, "trained": after}, labels)
    axes = [ax for ax in fig.axes if ax.collections]
    assert len(axes) == 4 and len({round(ax.get_position().y0, 6) for ax in axes}) == 1
    assert len({(ax.get_xlim(), ax.get_ylim()) for ax in axes}) == 1
    assert axes[1].get_title() == "trained\ncoloured by topic"
    assert sum(ax.get_legend() is not None for ax in axes) == 2
    with pytest.raises(ValueError):
        plots.layout_strip({"a": before, "b": after[:5]}, labels)


def test_grid_fontsize_reaches_titles_and_legends():
    rng = np.random.default_rng(1)
    xy = rng.normal(size=(10, 2))
    labels = {"topic": ["a", "b"] * 5}
    fig = plots.before_after_grid(xy, xy, labels, fontsize=15)
    ax = fig.axes[0]
    assert ax.title.get_fontsize() == 15
    legend = next(a.get_legend() for a in fig.axes if a.get_legend())
    assert legend.get_texts()[0].get_fontsize() == 15
