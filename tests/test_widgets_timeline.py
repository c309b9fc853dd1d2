"""The training timeline widget and its static small multiples, driven without a browser."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from course_utils.training import Snapshot  # noqa: E402

N_PER_CLUSTER = 10


def fake_snapshots():
    """40 texts (2 topics x 2 sentiments) that drift from topic clusters to sentiment clusters.

    Step 0 is organised by topic, step 20 by sentiment, step 10 in between.
    """
    rng = np.random.default_rng(0)
    topic = np.repeat(["hotels", "movies"], 2 * N_PER_CLUSTER)
    sentiment = np.tile(np.repeat(["positive", "negative"], N_PER_CLUSTER), 2)
    axes = np.eye(6)
    by_topic = np.where((topic == "hotels")[:, None], axes[0], axes[1])
    by_sentiment = np.where((sentiment == "positive")[:, None], axes[2], axes[3])
    noise = 0.15 * rng.normal(size=(len(topic), 6))
    snapshots = []
    for step, weight in ((0, 0.0), (10, 0.5), (20, 1.0)):
        vectors = (1 - weight) * by_topic + weight * by_sentiment + noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        loss = None if step == 0 else 0.5 - weight / 4
        snapshots.append(Snapshot(step, vectors.astype(np.float32), loss, float(step)))
    return snapshots, {"topic": list(topic), "sentiment": list(sentiment)}


def test_slider_drives_state_and_metrics(tmp_cache):
    from course_utils.widgets.timeline import training_timeline

    snapshots, labels = fake_snapshots()
    box = training_timeline(snapshots, labels, seed=0)
    assert box.steps == [0, 10, 20]
    assert box.state["step"] == 0 and box.state["index"] == 0
    first_png = bytes(box.image.value)
    assert first_png.startswith(b"\x89PNG")
    # drawn at 150 dpi, shown at a 100-dpi size: sharp when a slide scales it
    import io

    from PIL import Image

    drawn = Image.open(io.BytesIO(first_png)).size[0]
    assert drawn >= 1.4 * int(box.image.layout.width.removesuffix("px"))
    start = box.state["metrics"]
    assert start["topic kNN"] > 0.9 and start["topic silhouette"] > start["sentiment silhouette"]
    box.slider.value = 20
    assert box.state["step"] == 20 and box.state["loss"] == pytest.approx(0.25)
    end = box.state["metrics"]
    assert end["sentiment kNN"] > 0.9 and end["sentiment silhouette"] > end["topic silhouette"]
    assert "step 20" in box.children[1].value  # the numbers shown above the plot
    assert bytes(box.image.value) != first_png  # the plot was redrawn
    assert len(box.layouts) == 3 and all(xy.shape == (40, 2) for xy in box.layouts)
    # the play button drives the slider through its index
    assert box.play.max == 2


def test_render_draws_both_label_sets_in_fixed_limits(tmp_cache):
    import matplotlib.pyplot as plt

    from course_utils.widgets.timeline import training_timeline

    snapshots, labels = fake_snapshots()
    box = training_timeline(snapshots, labels)
    figures = [box.render(step) for step in box.steps]
    limits = {tuple(np.round(ax.get_xlim(), 6)) for fig in figures for ax in fig.axes
              if ax.collections}
    assert len(limits) == 1  # the same frame at every step, so movement is real movement
    assert [ax.get_title() for ax in figures[0].axes if ax.collections] == [
        "coloured by topic", "coloured by sentiment"]
    for fig in figures:
        plt.close(fig)


def test_layouts_start_from_the_previous_step(tmp_cache):
    from course_utils.plots.training import timeline_layouts

    snapshots, _ = fake_snapshots()
    same = [Snapshot(s.step, snapshots[0].embeddings, None, 0.0) for s in snapshots]
    layouts = timeline_layouts(same)
    # with unchanged embeddings, each step starts where the last ended: points barely move
    spread = np.ptp(layouts[0], axis=0).max()
    assert np.abs(layouts[1] - layouts[0]).mean() < 0.1 * spread
    assert np.abs(layouts[2] - layouts[0]).mean() < 0.1 * spread


def test_timeline_grid_shows_chosen_steps(tmp_cache):
    import matplotlib.pyplot as plt

    from course_utils.plots.training import timeline_grid

    snapshots, labels = fake_snapshots()
    fig = timeline_grid(snapshots, labels, n_steps=2)
    panels = [ax for ax in fig.axes if ax.collections]
    assert len(panels) == 4
    assert [ax.get_title() for ax in panels[:2]] == ["step 0", "step 20"]
    plt.close(fig)
    with pytest.raises(ValueError, match="no snapshot"):
        timeline_grid(snapshots, labels, steps=[5])


@pytest.mark.parametrize(
    ("snapshots", "labels", "error", "message"),
    [
        ([], {"topic": []}, ValueError, "empty"),
        ("not snapshots", {"topic": []}, TypeError, "snapshots must be"),
        (None, {"topic": []}, TypeError, "snapshots must be"),
        ("fake", ["hotels"], TypeError, "dict"),
        ("fake", {"topic": ["hotels"]}, ValueError, "one to one"),
        ("unordered", None, ValueError, "increasing"),
    ],
)
def test_bad_inputs_get_clear_errors(snapshots, labels, error, message):
    from course_utils.widgets.timeline import training_timeline

    good, good_labels = fake_snapshots()
    if snapshots == "fake":
        snapshots = good
    if snapshots == "unordered":
        snapshots, labels = good[::-1], good_labels
    with pytest.raises(error, match=message):
        training_timeline(snapshots, labels)


def test_align_layout_undoes_rotation_scale_and_shift_but_not_mirroring():
    from course_utils.plots.training import align_layout

    rng = np.random.default_rng(1)
    reference = rng.normal(size=(30, 2))
    angle = 0.7
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = 3.0 * reference @ rotation + np.array([5.0, -2.0])
    np.testing.assert_allclose(align_layout(moved, reference), reference, atol=1e-5)
    mirrored = reference * np.array([-1.0, 1.0])
    assert np.abs(align_layout(mirrored, reference) - reference).mean() > 0.1
    with pytest.raises(ValueError, match="same points"):
        align_layout(reference, reference[:5])


def test_tracked_points_are_ringed_in_every_panel():
    import matplotlib.pyplot as plt

    from course_utils.plots.training import before_after_grid

    snapshots, labels = fake_snapshots()
    xy = np.random.default_rng(0).normal(size=(40, 2))
    fig = before_after_grid(xy, xy + 1, labels, track=[3, 25])
    panels = [ax for ax in fig.axes if ax.collections]
    assert all(sum(t.get_text() in {"1", "2"} for t in ax.texts) == 2 for ax in panels)
    plt.close(fig)
    with pytest.raises(ValueError, match="outside"):
        before_after_grid(xy, xy, labels, track=[99])
