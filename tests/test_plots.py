"""course_utils.plots: colours, scatter panels, and the deterministic, cached UMAP projection."""

from __future__ import annotations

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from course_utils import plots  # noqa: E402
from course_utils.data import SENTIMENTS, TOPICS  # noqa: E402
from course_utils.embedding import CacheWarning  # noqa: E402
from course_utils.paths import assets_dir  # noqa: E402
from course_utils.plots import projection, scatter  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def style_palette() -> set[str]:
    text = (assets_dir() / "course.mplstyle").read_text()
    line = next(line for line in text.splitlines() if line.startswith("axes.prop_cycle"))
    return {f"#{code}".upper() for code in re.findall(r"'([0-9A-Fa-f]{6})'", line)}


def clustered(n_per: int = 15, dim: int = 12, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Three well-separated direction clusters (cosine), labels a/b/c."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:3] * 5
    points = np.concatenate([c + rng.normal(scale=0.3, size=(n_per, dim)) for c in centres])
    labels = [name for name in "abc" for _ in range(n_per)]
    return points.astype(np.float32), labels


# --------------------------------------------------------------------------- colours


def test_the_palette_is_the_course_style_okabe_ito():
    assert set(scatter.OKABE_ITO.values()) == style_palette()


def test_topics_and_sentiments_have_fixed_distinct_colours():
    topics = plots.label_colours(list(TOPICS))
    assert len(set(topics.values())) == len(TOPICS)
    sentiments = plots.label_colours(list(SENTIMENTS))
    assert sentiments == {"positive": "#0072B2", "negative": "#D55E00"}
    # the same label keeps its colour whatever it is plotted with
    mixed = plots.label_colours(["fitness", "negative", "zebra", "movies"])
    assert mixed["fitness"] == topics["fitness"] and mixed["movies"] == topics["movies"]
    assert mixed["negative"] == sentiments["negative"]
    assert set(topics.values()) | set(sentiments.values()) <= style_palette()


def test_other_labels_get_unused_palette_colours_deterministically():
    colours = plots.label_colours(pd.Series(["b", "a", "positive", "b", "c"]))
    assert list(colours) == ["positive", "a", "b", "c"]
    assert colours["positive"] not in {colours["a"], colours["b"], colours["c"]}
    assert len({colours["a"], colours["b"], colours["c"]}) == 3
    assert plots.label_colours(["c", "b", "a", "positive"]) == colours


def test_many_labels_cycle_and_numbers_become_strings():
    colours = plots.label_colours(range(12))
    assert len(colours) == 12 and set(colours) == {str(i) for i in range(12)}
    assert set(colours.values()) <= style_palette()


@pytest.mark.parametrize("bad", [None, "positive", 3])
def test_label_colours_refuses_non_sequences(bad):
    with pytest.raises(TypeError, match="labels"):
        plots.label_colours(bad)


# --------------------------------------------------------------------------- scatter panels


def _drawn(ax) -> tuple[np.ndarray, list[str]]:
    """The points of a scatter panel in drawing order, and each one's colour."""
    (collection,) = ax.collections
    colours = [matplotlib.colors.to_hex(c).upper() for c in collection.get_facecolor()]
    return np.asarray(collection.get_offsets()), colours


def test_scatter_by_label_colours_each_point_by_its_label_without_ticks():
    xy = np.random.default_rng(0).normal(size=(30, 2))
    labels = ["positive"] * 10 + ["negative"] * 20
    ax = plots.scatter_by_label(xy, labels, title="sentiment")
    assert ax.get_title() == "sentiment"
    assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["positive (10)", "negative (20)"]
    keys = [matplotlib.colors.to_hex(h.get_color()).upper()
            for h in ax.get_legend().legend_handles]
    assert keys == ["#0072B2", "#D55E00"]
    offsets, colours = _drawn(ax)
    colour_of = {tuple(point): "#0072B2" if i < 10 else "#D55E00" for i, point in enumerate(xy)}
    assert len(offsets) == 30
    assert colours == [colour_of[tuple(point)] for point in offsets]


def test_scatter_by_label_mixes_the_drawing_order_of_the_labels():
    """No label is drawn last (on top) as a whole, and the order is the same every time."""
    xy = np.zeros((100, 2))  # everything on one spot: what is on top is what you see
    labels = ["hotels"] * 50 + ["movies"] * 50
    _, colours = _drawn(plots.scatter_by_label(xy, labels, legend=False))
    last_ten = set(colours[-10:])
    assert len(last_ten) == 2, "the last points drawn should come from both labels"
    _, again = _drawn(plots.scatter_by_label(xy, labels, legend=False))
    assert again == colours


def test_scatter_by_label_into_given_axes_without_legend():
    fig, ax = plt.subplots()
    out = plots.scatter_by_label(np.zeros((4, 2)), ["a", "b", "a", "b"], ax=ax, legend=False,
                                 marker_size=5)
    assert out is ax and ax.get_legend() is None
    assert all(np.allclose(c.get_sizes(), 5) for c in ax.collections)


@pytest.mark.parametrize(
    ("xy", "labels", "error", "match"),
    [
        (np.zeros((3, 2)), ["a", "b"], ValueError, "one to one"),
        (np.zeros((3, 3)), ["a"] * 3, ValueError, r"shape \(n, 2\)"),
        (np.array([[0.0, np.nan], [1, 1]]), ["a", "b"], ValueError, "NaN"),
        (None, ["a"], TypeError, "project_2d"),
        (np.zeros((2, 2)), None, TypeError, "one label per point"),
    ],
)
def test_scatter_by_label_explains_bad_input(xy, labels, error, match):
    with pytest.raises(error, match=match):
        plots.scatter_by_label(xy, labels)


def test_side_by_side_makes_one_titled_panel_per_label_set():
    xy = np.random.default_rng(1).normal(size=(20, 2))
    frame = pd.DataFrame({"topic": ["movies", "hotels"] * 10,
                          "sentiment": ["positive"] * 10 + ["negative"] * 10})
    fig = plots.side_by_side(xy, {"topic": frame["topic"], "sentiment": frame["sentiment"]},
                             suptitle="pretrained", axes_size=3)
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["coloured by topic", "coloured by sentiment"]
    assert all(ax.get_legend() is not None for ax in axes)
    assert fig.get_suptitle() == "pretrained"
    assert fig.get_size_inches()[0] == pytest.approx(6)
    # same points in both panels
    first = np.concatenate([c.get_offsets() for c in axes[0].collections])
    second = np.concatenate([c.get_offsets() for c in axes[1].collections])
    assert sorted(map(tuple, first)) == sorted(map(tuple, second))


def test_side_by_side_can_put_legends_right_of_the_panels_for_slides():
    xy = np.random.default_rng(1).normal(size=(20, 2))
    labels = {"topic": ["movies", "hotels"] * 10, "sentiment": ["positive", "negative"] * 10}
    below = plots.side_by_side(xy, labels, axes_size=3)
    right = plots.side_by_side(xy, labels, axes_size=3, legend="right")
    assert right.get_size_inches()[1] < below.get_size_inches()[1]  # lower, wider
    for ax in right.get_axes():
        legend = ax.get_legend()
        assert legend._loc == 6 and legend.get_bbox_to_anchor().x0 > ax.bbox.x0  # center left
        assert all(text.get_fontsize() >= 11 for text in legend.get_texts())  # >= 14 px
    with pytest.raises(ValueError, match="'below' or 'right'"):
        plots.side_by_side(xy, labels, legend="top")


def test_before_after_grid_zooms_into_each_tight_group_after_training():
    rng = np.random.default_rng(0)
    mood = np.array(["positive", "negative"] * 40)
    domain = rng.choice(["tweets", "movies"], 80)
    before = rng.normal(size=(80, 2))
    after = np.where((mood == "positive")[:, None], [3.0, 3.0], [-3.0, -3.0])
    after = after + rng.normal(scale=0.01, size=(80, 2))  # two dots in the shared frame
    fig = plots.before_after_grid(before, after, {"domain": domain, "sentiment": mood},
                                  zoom="sentiment")
    after_panels = [ax for ax in fig.axes if ax.child_axes]
    assert len(after_panels) == 2  # the "after" row only
    for ax in after_panels:
        insets = ax.child_axes
        names = sorted(t.get_text() for inset in insets for t in inset.texts)
        assert [name.split("\n")[0] for name in names] == ["zoom: negative", "zoom: positive"]
        for inset in insets:  # magnified: the group fills the inset, not a dot
            width = np.diff(inset.get_xlim())[0]
            assert width < 0.2 * np.diff(ax.get_xlim())[0]
            assert len(inset.collections[0].get_offsets()) == 40
    with pytest.raises(ValueError, match="zoom must be one of"):
        plots.before_after_grid(before, after, {"domain": domain}, zoom="sentiment")
    row = plots.before_after_grid(before, after, {"domain": domain, "sentiment": mood},
                                  zoom="sentiment", arrangement="row", axes_size=2.9,
                                  suptitle="wide")
    width, height = row.get_size_inches()
    assert width > 2.5 * height  # wide and low, for a 16:10 slide
    titles = [ax.get_title() for ax in row.axes if ax.collections]
    assert titles == ["before training\ncoloured by domain", "after training\ncoloured by domain",
                      "before training\ncoloured by sentiment",
                      "after training\ncoloured by sentiment"]
    assert [len(ax.child_axes) for ax in row.axes if ax.collections] == [0, 2, 0, 2]
    legends = [sub.legends[0] for sub in row.subfigs]
    assert all(t.get_fontsize() >= 12 for legend in legends for t in legend.get_texts())
    with pytest.raises(ValueError, match="'grid' or 'row'"):
        plots.before_after_grid(before, after, {"domain": domain}, arrangement="column")


def test_zoom_frames_the_core_of_a_group_not_its_stragglers():
    from course_utils.plots.zoom import _core_frame

    rng = np.random.default_rng(1)
    core = rng.normal(scale=0.01, size=(76, 2))
    stragglers = np.array([[5.0, 5.0], [-4.0, 3.0], [6.0, -2.0], [5.5, 4.0]])
    (x_lim, y_lim), outside = _core_frame(np.vstack([core, stragglers]))
    def inside(points):
        return ((points[:, 0] >= x_lim[0]) & (points[:, 0] <= x_lim[1])
                & (points[:, 1] >= y_lim[0]) & (points[:, 1] <= y_lim[1]))

    assert not inside(stragglers).any() and inside(core).mean() >= 0.9
    assert outside == len(core) - inside(core).sum() + len(stragglers)
    assert x_lim[1] - x_lim[0] < 0.2 and np.isclose(x_lim[1] - x_lim[0], y_lim[1] - y_lim[0])


@pytest.mark.parametrize("label_sets", [{}, None, [("topic", ["a"])]])
def test_side_by_side_needs_a_dict_of_label_sets(label_sets):
    with pytest.raises(TypeError, match="label_sets"):
        plots.side_by_side(np.zeros((1, 2)), label_sets)


# --------------------------------------------------------------------------- projection


def test_project_2d_is_float32_deterministic_and_keeps_clusters(tmp_cache):
    points, labels = clustered()
    first = plots.project_2d(points, seed=0, cache=False)
    again = plots.project_2d(points, seed=0, cache=False)
    assert first.shape == (45, 2) and first.dtype == np.float32
    assert np.array_equal(first, again)
    # each point's nearest 2-D neighbour is in its own cluster
    distances = np.linalg.norm(first[:, None] - first[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    labels = np.array(labels)
    assert (labels[distances.argmin(axis=1)] == labels).mean() > 0.95
    assert not (tmp_cache / "layouts").exists()


def test_layouts_are_cached_atomically_and_keyed_by_data_and_parameters(tmp_cache):
    points, _ = clustered(n_per=8)
    layout = plots.project_2d(points, seed=0)
    files = list((tmp_cache / "layouts").glob("*.npy"))
    assert len(files) == 1 and not list((tmp_cache / "layouts").glob(".tmp-*"))
    assert files[0] == projection.layout_cache_path(points, seed=0)
    stamp = files[0].stat().st_mtime_ns
    assert np.array_equal(plots.project_2d(points, seed=0), layout)
    assert files[0].stat().st_mtime_ns == stamp  # read back, not recomputed
    keys = {
        projection.layout_cache_path(points, seed=1),
        projection.layout_cache_path(points, n_neighbors=5),
        projection.layout_cache_path(points, min_dist=0.5),
        projection.layout_cache_path(points, init=layout),
        projection.layout_cache_path(points[::-1].copy()),
        projection.layout_cache_path(points + np.float32(1e-3)),
        files[0],
    }
    assert len(keys) == 7


def test_a_damaged_cache_entry_is_recomputed(tmp_cache):
    points, _ = clustered(n_per=6)
    layout = plots.project_2d(points)
    entry = projection.layout_cache_path(points)
    entry.write_bytes(b"not a numpy file")
    assert np.array_equal(plots.project_2d(points), layout)
    np.save(entry, np.zeros((3, 2), np.float32))  # wrong shape
    assert np.array_equal(plots.project_2d(points), layout)


def test_init_starts_from_a_given_layout(tmp_cache):
    points, labels = clustered(n_per=10)
    before = plots.project_2d(points, seed=0, cache=False)
    after = plots.project_2d(points, seed=0, init=before, cache=False)
    assert after.shape == before.shape
    # the start is kept up to UMAP's rescaling: points stay where they were, roughly
    corr = np.corrcoef(before[:, 0], after[:, 0])[0, 1]
    assert corr > 0.8


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"init": np.zeros((3, 2))}, ValueError, r"shape \(20, 2\)"),
        ({"init": "spectral"}, TypeError, "init"),
        ({"init": np.full((20, 2), np.nan)}, ValueError, "NaN"),
        ({"seed": -1}, ValueError, "seed"),
        ({"n_neighbors": 1}, ValueError, "n_neighbors"),
        ({"min_dist": 2.0}, ValueError, "min_dist"),
        ({"n_epochs": 0}, ValueError, "n_epochs"),
    ],
)
def test_project_2d_explains_bad_arguments(kwargs, error, match):
    points = np.random.default_rng(0).normal(size=(20, 5))
    with pytest.raises(error, match=match):
        plots.project_2d(points, cache=False, **kwargs)


def test_too_few_points_and_bad_embeddings_are_explained():
    with pytest.raises(ValueError, match="at least 4 points"):
        plots.project_2d(np.eye(3), cache=False)
    with pytest.raises(TypeError, match="encode"):
        plots.project_2d(None)
    with pytest.raises(ValueError, match="NaN"):
        plots.project_2d(np.full((5, 3), np.nan))


def test_tiny_inputs_cap_n_neighbors(tmp_cache):
    layout = plots.project_2d(np.random.default_rng(0).normal(size=(6, 4)), n_neighbors=15)
    assert layout.shape == (6, 2) and np.isfinite(layout).all()


def test_unwritable_cache_warns_and_still_returns_a_layout(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(blocker))
    points, _ = clustered(n_per=5)
    with pytest.warns(CacheWarning, match="COURSE_CACHE_DIR"):
        layout = plots.project_2d(points)
    assert layout.shape == (15, 2)


def test_warm_up_switches_on_numba_disk_caching_for_umap():
    assert isinstance(plots.warm_up(), float)
    from numba.core.caching import NullCache
    from umap import layouts

    dispatcher = layouts._nb_optimize_layout_euclidean_single_epoch
    assert not isinstance(dispatcher._cache, NullCache)
    assert dispatcher.signatures, "warm_up should have compiled the layout optimiser"
    # the parallel twin is made from the same Python function: numba would give it the same
    # cache entries, so it must stay uncached
    assert isinstance(layouts._nb_optimize_layout_euclidean_single_epoch_parallel._cache,
                      NullCache)


def test_umap_warnings_do_not_reach_the_notebook(tmp_cache):
    points, _ = clustered(n_per=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.project_2d(points, cache=False)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "n_jobs" in m or "Tensorflow" in m], messages


def test_triplet_grades_differ_by_marker_shape_as_well_as_colour():
    """Easy / semi-hard / hard stay apart in greyscale: each grade has its own marker."""
    from course_utils.plots.toy import TRIPLET_CLASS_MARKERS

    ax = plots.plot_triplet_distances([1.0, 1.0, 1.0], [0.5, 1.2, 3.0], margin=0.5)
    from matplotlib.collections import PathCollection

    dots = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(dots) == 3
    shapes = [tuple(np.round(c.get_paths()[0].vertices, 3).ravel()) for c in dots]
    assert len(set(shapes)) == 3, "two grades share a marker shape"
    assert len(set(TRIPLET_CLASS_MARKERS.values())) == 3
    plt.close("all")


# ------------------------------------------------------------------ experiment trade-off figure
def _experiment_rows():
    from course_utils import experiments

    rows = []
    for run, (sentiment, topic) in {"a": (0.9, 0.3), "b": (0.7, 0.8)}.items():
        for seed in range(3):
            row = {col: 0.0 for col in experiments.NUMERIC_COLUMNS}
            row.update(grid="course", run=run, loss="TripletLoss", positives="any",
                       negatives="random", collapse_kind="spread",
                       date="2026-11-30", seed=seed, sentiment_knn=sentiment + 0.01 * seed,
                       topic_knn=topic - 0.01 * seed)
            rows.append(row)
    return pd.DataFrame(rows, columns=list(experiments.COLUMNS))


def test_tradeoff_plot_draws_one_point_with_bars_per_run():
    rows = _experiment_rows()
    reference = rows[rows["run"] == "a"].iloc[[0]].assign(run="pretrained", seed=0,
                                                          sentiment_knn=0.6, topic_knn=0.95)
    results = pd.concat([reference, rows], ignore_index=True)
    ax = plots.tradeoff_plot(results, grid="course", labels={"a": "recipe A"}, highlight="a",
                             chance=0.2, reference="pretrained")
    texts = {text.get_text(): text for text in ax.texts}
    assert {"recipe A", "b", "pretrained", "chance 0.20"} <= set(texts)
    assert texts["recipe A"].get_fontweight() == "bold"
    assert min(text.get_fontsize() for text in ax.texts) >= 12  # >= 14 px on a slide
    assert len(ax.containers) == 2  # one errorbar container per run; the reference has none
    colours = {tuple(np.round(matplotlib.colors.to_rgb(c), 3)) for c, _ in plots.TRADEOFF_STYLES}
    assert len(colours) == len(plots.TRADEOFF_STYLES)
    assert len({marker for _, marker in plots.TRADEOFF_STYLES}) == len(plots.TRADEOFF_STYLES)
    assert all(sum(matplotlib.colors.to_rgb(c)) < 2.0 for c, _ in plots.TRADEOFF_STYLES), (
        "a colour too pale to read as text on white")
    assert "3 seed(s)" in ax.get_title()
    with pytest.raises(ValueError, match="unknown run"):
        plots.tradeoff_plot(_experiment_rows(), grid="course", runs=["zzz"])


def test_tradeoff_labels_do_not_overlap_even_for_points_on_top_of_each_other():
    rows = _experiment_rows()
    copies = [rows.assign(run=f"run {i}" + " with a long name" * (i == 5))  # six points
              for i in range(6)]  # on two spots
    ax = plots.tradeoff_plot(pd.concat(copies, ignore_index=True), grid="course")
    ax.figure.canvas.draw()
    boxes = [matplotlib.text.Text.get_window_extent(text) for text in ax.texts]  # no line
    assert len(boxes) == 6
    for i, first in enumerate(boxes):
        for second in boxes[i + 1:]:
            assert not first.overlaps(second)
    figure_box = ax.figure.bbox
    assert all(box.x1 <= figure_box.x1 and box.y0 >= 0 for box in boxes), "a label is cut off"


@pytest.mark.parametrize(("wanted", "gap"), [
    ([0.5, 0.5, 0.5], 0.1), ([0.95, 0.99, 0.2], 0.1), ([0.0, 0.01], 0.2),
    (list(np.linspace(0, 1, 30)), 0.1)])
def test_label_column_positions_keep_their_gap_and_order(wanted, gap):
    placed = plots.label_column_positions(wanted, gap)
    order = np.argsort(wanted, kind="stable")
    assert np.all(np.diff(placed[order]) >= min(gap, 1 / (len(wanted) - 1)) - 1e-9)
    assert placed.min() >= 0 - 1e-9 and placed.max() <= 1 + 1e-9
    if gap * (len(wanted) - 1) <= 1 and len(set(wanted)) == len(wanted):
        assert np.max(np.abs(placed - np.asarray(wanted))) <= gap * len(wanted)


def test_pair_distance_panels_split_the_kinds_and_highlight_the_movers():
    from course_utils.plots import PAIR_STYLES

    start = np.array([1.0, 2.0, 0.5, 0.8, 1.5])
    end = np.array([0.0, 0.1, 1.0, 1.2, 1.5])
    history = np.linspace(start, end, 11)
    similar = np.array([1, 1, 0, 0, 0])
    fig = plots.plot_pair_distance_panels(history, similar, margin=1.0, highlight=1)
    left, right = fig.axes
    assert left.get_title().startswith("similar pairs (2)")
    assert right.get_title().startswith("dissimilar pairs (3)")
    bold = [line for line in left.lines if line.get_linewidth() > 2]
    assert len(bold) == 1 and np.allclose(bold[0].get_ydata(), history[:, 1])  # moved most
    assert any("below the margin (1)" in text.get_text() for text in right.texts)
    assert all(matplotlib.colors.same_color(line.get_color(), PAIR_STYLES["similar"]["color"])
               for line in left.lines)
    with pytest.raises(ValueError, match="n_steps, n_pairs"):
        plots.plot_pair_distance_panels(np.ones(5), similar, margin=1.0)
