"""2-D toy figures for the loss notebooks (03 contrastive loss, 04 triplet loss).

Similar pairs are blue and solid, dissimilar vermillion and dashed; easy / semi-hard / hard
triplets are green circles / orange diamonds / vermillion crosses (shape as well as colour,
so they survive greyscale and colour-vision deficiencies).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from course_utils.plots.scatter import OKABE_ITO
from course_utils.toy import validate_pairs, validate_points, validate_similar

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PAIR_STYLES",
    "TRIPLET_CLASS_COLOURS",
    "TRIPLET_CLASS_MARKERS",
    "distance_limits",
    "plot_descent_frames",
    "plot_pair_distances",
    "plot_pair_distance_panels",
    "plot_toy_pairs",
    "plot_triplet_2d",
    "plot_triplet_distances",
    "shared_limits",
    "validate_frames",
]

#: Line styles of the two kinds of pairs.
PAIR_STYLES = {
    "similar": {"color": OKABE_ITO["blue"], "linestyle": "-", "linewidth": 1.4},
    "dissimilar": {"color": OKABE_ITO["vermillion"], "linestyle": "--", "linewidth": 1.0},
}
#: Colours of the triplet classes (FaceNet's easy / semi-hard / hard).
TRIPLET_CLASS_COLOURS = {
    "easy": OKABE_ITO["bluish_green"],
    "semi-hard": OKABE_ITO["orange"],
    "hard": OKABE_ITO["vermillion"],
}
#: Marker shapes of the triplet classes: a second cue besides colour.
TRIPLET_CLASS_MARKERS = {"easy": "o", "semi-hard": "D", "hard": "X"}
#: Point colours and markers of the toy groups, one per group up to toy.MAX_TOY_GROUPS
#: (markers help in greyscale).
_GROUP_STYLES = (
    (OKABE_ITO["orange"], "o"),
    (OKABE_ITO["sky_blue"], "s"),
    (OKABE_ITO["reddish_purple"], "^"),
    (OKABE_ITO["bluish_green"], "D"),
    (OKABE_ITO["black"], "v"),
)


def _axes(ax: Axes | None, figsize: tuple[float, float] = (4.5, 4.5)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


# --------------------------------------------------------------------------------------------
# Pairs (notebook 03)
# --------------------------------------------------------------------------------------------
def plot_toy_pairs(points: Any, pairs: Any, similar: Any, *, groups: Sequence[str] | None = None,
                   ax: Axes | None = None, title: str | None = None, legend: bool = True,
                   limits: tuple[float, float, float, float] | None = None) -> Axes:
    """Draw toy points (n, 2) with their pairs: similar solid blue, dissimilar dashed vermillion.
    ``groups`` (n,) colours the points; ``limits`` = (xmin, xmax, ymin, ymax)."""
    from matplotlib.collections import LineCollection

    xy = validate_points(points)
    pair_index = validate_pairs(pairs, len(xy))
    is_similar = validate_similar(similar, len(pair_index))
    ax = _axes(ax)
    for kind, mask in (("dissimilar", ~is_similar), ("similar", is_similar)):
        if not mask.any():
            continue
        style = PAIR_STYLES[kind]
        segments = xy[pair_index[mask]]  # (m, 2 ends, 2 coordinates)
        ax.add_collection(LineCollection(
            segments, colors=style["color"], linestyles=style["linestyle"],
            linewidths=style["linewidth"], alpha=0.35 if kind == "dissimilar" else 0.8,
            zorder=1, label=f"{kind} pair"))
    group_names = np.asarray(groups) if groups is not None else np.array(["point"] * len(xy))
    if len(group_names) != len(xy):
        raise ValueError(f"groups needs one name per point ({len(xy)}), got {len(group_names)}.")
    for k, name in enumerate(dict.fromkeys(group_names.tolist())):
        colour, marker = _GROUP_STYLES[k % len(_GROUP_STYLES)]
        rows = group_names == name
        ax.scatter(*xy[rows].T, s=60, color=colour, marker=marker, edgecolor="white",
                   linewidth=0.8, zorder=3, label=f"group {name}" if groups is not None else None)
    if limits is not None:
        ax.set_xlim(limits[0], limits[1])
        ax.set_ylim(limits[2], limits[3])
    ax.set_aspect("equal", adjustable="box")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    return ax


def shared_limits(frames: Sequence[Any], pad: float = 0.15) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax): one square window that shows every (n, 2) frame."""
    frames = [validate_points(frame, "each frame") for frame in frames]
    if not frames:
        raise ValueError("frames is empty; pass at least one (n, 2) array of points.")
    stacked = np.concatenate(frames)
    low, high = stacked.min(axis=0), stacked.max(axis=0)
    centre, half = (low + high) / 2, (high - low).max() / 2 + pad
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


def validate_frames(frames: Sequence[Any],
                    steps: Sequence[int] | None = None) -> tuple[list[np.ndarray], list | None]:
    """Snapshots of the toy points as (n, 2) arrays, and their step labels (None if not given)."""
    frames = [validate_points(frame, "each frame") for frame in frames]
    if not frames:
        raise ValueError("frames is empty; record at least one snapshot of the points.")
    if steps is not None and len(steps) != len(frames):
        raise ValueError(f"steps has {len(steps)} labels for {len(frames)} frames.")
    return frames, None if steps is None else list(steps)


def plot_descent_frames(frames: Sequence[Any], pairs: Any, similar: Any, *,
                        steps: Sequence[int] | None = None, groups: Sequence[str] | None = None,
                        n_cols: int = 4, title: str | None = None) -> Figure:
    """Snapshots of gradient descent as small multiples on one scale: ``frames`` (n, 2) arrays,
    labelled by ``steps``."""
    import matplotlib.pyplot as plt

    frames, steps = validate_frames(frames, steps)
    n_cols = max(1, min(n_cols, len(frames)))
    n_rows = -(-len(frames) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.6 * n_cols + 1.6, 2.6 * n_rows + 0.3),
                             squeeze=False)
    limits = shared_limits(frames)
    for k, ax in enumerate(axes.flat):
        if k >= len(frames):
            ax.axis("off")
            continue
        plot_toy_pairs(frames[k], pairs, similar, groups=groups, ax=ax, legend=False,
                       limits=limits, title=f"step {steps[k]}" if steps is not None else None)
        ax.set_xticks([])
        ax.set_yticks([])
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_pair_distances(distances: Any, similar: Any, *, steps: Sequence[int] | None = None,
                        margin: float | None = None, ax: Axes | None = None,
                        title: str | None = None, legend: bool = True) -> Axes:
    """Every pair's distance over the steps: distances (n_steps, m), similar (m,), with the
    ``margin`` line when given."""
    values = np.asarray(distances, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"distances must be (n_steps, n_pairs), got shape {values.shape}.")
    is_similar = validate_similar(similar, values.shape[1])
    x = np.arange(len(values)) if steps is None else np.asarray(steps)
    if len(x) != len(values):
        raise ValueError(f"steps has {len(x)} values for {len(values)} rows of distances.")
    ax = _axes(ax, figsize=(6.0, 3.6))
    for kind, mask in (("dissimilar", ~is_similar), ("similar", is_similar)):
        if mask.any():
            lines = ax.plot(x, values[:, mask], alpha=0.5, **PAIR_STYLES[kind])
            lines[0].set_label(f"{kind} pairs ({int(mask.sum())})")
    if margin is not None:
        ax.axhline(margin, color=OKABE_ITO["black"], linewidth=1.2, linestyle=":",
                   label=f"margin = {margin:g}")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("distance within the pair")
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def plot_pair_distance_panels(distances: Any, similar: Any, *, margin: float,
                              highlight: int = 2) -> Figure:
    """The run of :func:`plot_pair_distances` as two small multiples sharing the y axis: similar
    pairs (left), dissimilar pairs and the margin (right). Every pair is a thin line; the
    ``highlight`` pairs that move most (largest |end - start|) of each kind are drawn bold."""
    import matplotlib.pyplot as plt

    values = np.asarray(distances, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"distances must be (n_steps, n_pairs), got shape {values.shape}.")
    is_similar = validate_similar(similar, values.shape[1])
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.6), sharey=True, layout="constrained")
    steps = np.arange(len(values))
    for ax, kind, mask in ((axes[0], "similar", is_similar), (axes[1], "dissimilar", ~is_similar)):
        style = PAIR_STYLES[kind]
        shown = values[:, mask]
        if shown.size:
            ax.plot(steps, shown, color=style["color"], linewidth=0.8, alpha=0.35)
            moved = np.argsort(-np.abs(shown[-1] - shown[0]))[:highlight]
            ax.plot(steps, shown[:, moved], color=style["color"], linewidth=2.4,
                    linestyle=style["linestyle"])
        ax.set_title(f"{kind} pairs ({int(mask.sum())}); bold: the {highlight} that move most",
                     fontsize=11)
        ax.set_xlabel("gradient-descent step")
    axes[1].axhspan(0, margin, color=PAIR_STYLES["dissimilar"]["color"], alpha=0.08, zorder=0)
    axes[1].axhline(margin, color=OKABE_ITO["black"], linewidth=1.2, linestyle=":")
    axes[1].annotate(f"below the margin ({margin:g}) a dissimilar pair pays", (0.98, 0.04),
                     xycoords="axes fraction", ha="right", va="bottom", fontsize=11)
    axes[0].set_ylabel("distance within the pair")
    axes[0].set_ylim(bottom=0)
    return fig


# --------------------------------------------------------------------------------------------
# Triplets (notebook 04)
# --------------------------------------------------------------------------------------------
def plot_triplet_2d(anchor: Any, positive: Any, negative: Any, *, margin: float,
                    ax: Axes | None = None, title: str | None = None) -> Axes:
    """One 2-D triplet with the zones where the negative would be hard (inside d(a, p)),
    semi-hard (up to d(a, p) + margin) or easy."""
    import matplotlib.patches as mpatches

    a, p, n = (validate_points(np.reshape(np.asarray(v, dtype=float), (1, 2)), name)[0]
               for v, name in ((anchor, "anchor"), (positive, "positive"), (negative, "negative")))
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}.")
    ax = _axes(ax, figsize=(5.0, 5.0))
    d_ap = float(np.linalg.norm(p - a))
    outer = d_ap + margin
    ax.add_patch(mpatches.Circle(a, d_ap, color=TRIPLET_CLASS_COLOURS["hard"], alpha=0.25,
                                 label="hard zone", zorder=0))
    if margin > 0:
        ax.add_patch(mpatches.Wedge(a, outer, 0, 360, width=margin, alpha=0.3, zorder=0,
                                    color=TRIPLET_CLASS_COLOURS["semi-hard"],
                                    label="semi-hard zone"))
    ax.add_patch(mpatches.Rectangle((0, 0), 0, 0, facecolor="white", edgecolor="0.6",
                                    label="easy zone (outside)"))
    ax.plot(*np.stack([a, p]).T, **PAIR_STYLES["similar"], zorder=2)
    ax.plot(*np.stack([a, n]).T, **PAIR_STYLES["dissimilar"], zorder=2)
    for point, name, colour, marker in ((a, "anchor", OKABE_ITO["black"], "o"),
                                        (p, "positive", OKABE_ITO["blue"], "s"),
                                        (n, "negative", OKABE_ITO["vermillion"], "^")):
        ax.scatter(*point, s=90, color=colour, marker=marker, zorder=3, label=name,
                   edgecolor="white")
    reach = max(outer, float(np.linalg.norm(n - a))) * 1.15
    ax.set_xlim(a[0] - reach, a[0] + reach)
    ax.set_ylim(a[1] - reach, a[1] + reach)
    ax.set_aspect("equal", adjustable="box")
    from course_utils.triplets import classify_distances

    grade = classify_distances([d_ap], [float(np.linalg.norm(n - a))], margin=margin)[0]
    ax.set_title(title or f"margin {margin:g}: this negative is {grade}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    return ax


def distance_limits(*distances: Any, pad: float = 0.06) -> tuple[float, float]:
    """(low, high) for a square d(a,p)-vs-d(a,n) plot: the data's range plus a little room."""
    values = np.concatenate([np.asarray(d, dtype=float).reshape(-1) for d in distances])
    if values.size == 0 or not np.isfinite(values).all():
        raise ValueError("distances must be non-empty and finite.")
    low, high = float(values.min()), float(values.max())
    room = max(high - low, 1e-3) * pad
    return max(0.0, low - room), high + room


def plot_triplet_distances(d_ap: Any, d_an: Any, *, margin: float,
                           classes: Sequence[str] | None = None, ax: Axes | None = None,
                           title: str | None = None,
                           limits: tuple[float, float] | None = None,
                           legend_loc: str = "outside") -> Axes:
    """Scatter d(a, p) (x) against d(a, n) (y), one dot per triplet, hard / semi-hard / easy
    zones shaded.

    ``classes``: computed with :func:`course_utils.triplets.classify_distances` when not given;
    ``limits`` = (low, high) for both axes (default: :func:`distance_limits`); ``legend_loc``:
    "outside" or a matplotlib location.
    """
    from course_utils.triplets import TRIPLET_CLASSES, classify_distances

    x = np.asarray(d_ap, dtype=float).reshape(-1)
    y = np.asarray(d_an, dtype=float).reshape(-1)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"d_ap and d_an must be equally long and non-empty: {len(x)}, {len(y)}.")
    grades = np.asarray(classes) if classes is not None else classify_distances(x, y,
                                                                                margin=margin)
    if len(grades) != len(x):
        raise ValueError(f"classes needs one entry per triplet ({len(x)}), got {len(grades)}.")
    ax = _axes(ax, figsize=(5.6, 4.6))
    low, top = limits if limits is not None else distance_limits(x, y)
    line = np.array([low, top])
    ax.fill_between(line, low, line, color=TRIPLET_CLASS_COLOURS["hard"], alpha=0.10, lw=0)
    ax.fill_between(line, line, line + margin, color=TRIPLET_CLASS_COLOURS["semi-hard"],
                    alpha=0.18, lw=0)
    ax.plot(line, line, color=OKABE_ITO["black"], linewidth=0.8)
    ax.plot(line, line + margin, color=OKABE_ITO["black"], linewidth=0.8, linestyle="--")
    for grade in TRIPLET_CLASSES:
        rows = grades == grade
        ax.scatter(x[rows], y[rows], s=16, alpha=0.75, color=TRIPLET_CLASS_COLOURS[grade],
                   marker=TRIPLET_CLASS_MARKERS[grade], label=f"{grade} ({int(rows.sum())})",
                   edgecolor="none")
    ax.set_xlim(low, top)
    ax.set_ylim(low, top)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("d(anchor, positive)")
    ax.set_ylabel("d(anchor, negative)")
    ax.set_title(title or f"margin {margin:g}: active (loss > 0) below the dashed line")
    if legend_loc == "outside":
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="triplets")
    else:
        ax.legend(loc=legend_loc, title="triplets", fontsize=9)
    return ax
