"""Labelled scatter plots of 2-D layouts, with the same colour for a label in every notebook.

Okabe-Ito palette (``assets/course.mplstyle``) with fixed colours for the topics and sentiments.
Points are drawn in one shuffled (fixed) order, not label by label, so the last label cannot
cover a whole topic where groups overlap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from course_utils.validation import validate_embeddings

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["OKABE_ITO", "FIXED_COLOURS", "label_colours", "scatter_by_label", "side_by_side"]

#: The Okabe-Ito palette in the order of assets/course.mplstyle's colour cycle.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "blue": "#0072B2",
    "yellow": "#F0E442",
    "black": "#000000",
}

#: Labels whose colour never changes across the course.
FIXED_COLOURS = {
    # sentiment: blue-ish for positive, vermillion for negative
    "positive": OKABE_ITO["blue"],
    "negative": OKABE_ITO["vermillion"],
    # the course's five topics
    "restaurants": OKABE_ITO["orange"],
    "movies": OKABE_ITO["reddish_purple"],
    "hotels": OKABE_ITO["bluish_green"],
    "electronics": OKABE_ITO["sky_blue"],
    "fitness": OKABE_ITO["black"],
}

#: Palette order for labels without a fixed colour (yellow last: it is faint on white).
_FALLBACK_ORDER = ("orange", "sky_blue", "bluish_green", "reddish_purple", "blue",
                   "vermillion", "black", "yellow")

#: Legend order for the course's labels: topics, then sentiments, as in the data card.
_KNOWN_ORDER = ("restaurants", "movies", "hotels", "electronics", "fitness",
                "positive", "negative")


def _as_label_list(labels: object, name: str = "labels") -> list[str]:
    if labels is None:
        raise TypeError(f"{name} is None; pass one label per point (e.g. frame['topic']).")
    if isinstance(labels, str):
        raise TypeError(f"{name} must be a sequence of labels, got a single string {labels!r}.")
    if hasattr(labels, "to_numpy"):  # pandas Series / Index
        labels = labels.to_numpy()
    try:
        values = list(labels)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of labels, got {type(labels).__name__}."
        ) from None
    return [str(value) for value in values]


def _ordered_unique(labels: Sequence[str]) -> list[str]:
    unique = set(labels)
    known = [label for label in _KNOWN_ORDER if label in unique]
    return known + sorted(unique - set(known))


def label_colours(labels) -> dict[str, str]:
    """A colour (``"#RRGGBB"``) for each distinct label: :data:`FIXED_COLOURS` first, other labels
    the unused Okabe-Ito colours in sorted order, cycling when there are more labels than colours.
    """
    unique = _ordered_unique(_as_label_list(labels))
    colours = {label: FIXED_COLOURS[label] for label in unique if label in FIXED_COLOURS}
    used = set(colours.values())
    free = [OKABE_ITO[name] for name in _FALLBACK_ORDER if OKABE_ITO[name] not in used]
    palette = free or [OKABE_ITO[name] for name in _FALLBACK_ORDER]
    others = [label for label in unique if label not in colours]
    for index, label in enumerate(others):
        colours[label] = palette[index % len(palette)]
    return colours


def _validate_xy(xy: object) -> np.ndarray:
    return validate_embeddings(xy, name="xy", dtype=float, columns=2,
                               source="the (n, 2) layout from cu.plots.project_2d(...)")


#: Opacity of the dots: overlapping dots of different labels stay visible through each other.
_ALPHA = 0.75


def _default_marker_size(n_points: int) -> float:
    # ~20 for the 660-sentence dataset, bigger for a handful of points, never a blur.
    return float(np.clip(13000 / max(n_points, 1), 8, 60))


def scatter_by_label(xy, labels, *, ax: Axes | None = None, title: str | None = None,
                     legend: bool | str = True, marker_size: float | None = None) -> Axes:
    """Scatter the (n, 2) layout ``xy`` with one colour per label; returns the Axes.

    Args:
        labels: one label per point (list, array or pandas Series).
        ax: draw into this Axes (default: a new figure).
        legend: draw a legend below the panel (True or ``"below"``), one entry per label with
            its count, or in one column to its right (``"right"``, larger type: for slides,
            where width is cheaper than height); False: none.
        marker_size: marker area in points^2 (default: chosen from the number of points).
    """
    import matplotlib.pyplot as plt

    points = _validate_xy(xy)
    names = _as_label_list(labels)
    if len(names) != len(points):
        raise ValueError(
            f"labels has {len(names)} entries but xy has {len(points)} points; they must match "
            "one to one (same order)."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 5.0), layout="constrained")
    size = _default_marker_size(len(points)) if marker_size is None else float(marker_size)
    colours = label_colours(names)
    label_array = np.asarray(names, dtype=object)
    order = _draw_order(len(points))
    ax.scatter(points[order, 0], points[order, 1], s=size, alpha=_ALPHA, linewidths=0,
               c=[colours[label] for label in label_array[order]])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(True)
        ax.spines[side].set_color("#cccccc")
    if title:
        ax.set_title(title)
    if legend:
        from matplotlib.lines import Line2D

        # One key per label (the points themselves are a single, mixed collection); keys are
        # at least as big as a 40 pt^2 dot so that the colour can be read.
        keys = [Line2D([], [], linestyle="", marker="o", markeredgewidth=0, alpha=_ALPHA,
                       markersize=max(size, 40.0) ** 0.5, color=colours[label],
                       label=f"{label} ({int(np.sum(label_array == label))})")
                for label in _ordered_unique(names)]
        if legend == "right":
            ax.legend(handles=keys, loc="center left", bbox_to_anchor=(1.0, 0.5),
                      handletextpad=0.2, fontsize=11)
        else:
            ax.legend(handles=keys, loc="upper center", bbox_to_anchor=(0.5, -0.02),
                      ncol=min(len(keys), 3), handletextpad=0.2, columnspacing=0.8,
                      fontsize="small")
    return ax


def _draw_order(n_points: int, seed: int = 0) -> np.ndarray:
    """A fixed shuffle of ``range(n_points)``: the order in which a panel draws its points,
    so that no label is always on top (the same order every time, for identical figures)."""
    return np.random.default_rng(seed).permutation(n_points)


def side_by_side(xy, label_sets: Mapping[str, Sequence[str]], *, suptitle: str | None = None,
                 axes_size: float = 4.2, legend: str = "below") -> Figure:
    """One panel per label set, all on the same layout ``xy``; returns the Figure, e.g.
    ``side_by_side(xy, {"topic": frame.topic, "sentiment": frame.sentiment})``.
    ``legend="right"``: each panel's legend to its right (a wider, lower figure)."""
    import matplotlib.pyplot as plt

    if not isinstance(label_sets, Mapping) or not label_sets:
        raise TypeError(
            "label_sets must be a non-empty dict {name: labels}, e.g. "
            "{'topic': frame['topic'], 'sentiment': frame['sentiment']}."
        )
    if not isinstance(axes_size, (int, float)) or isinstance(axes_size, bool) or axes_size <= 0:
        raise ValueError(f"axes_size must be a positive number (inches), got {axes_size!r}.")
    points = _validate_xy(xy)
    n_panels = len(label_sets)
    if legend not in ("below", "right"):
        raise ValueError(f"legend must be 'below' or 'right', got {legend!r}.")
    size = ((axes_size + 1.7) * n_panels, axes_size + 0.5) if legend == "right" else (
        axes_size * n_panels, axes_size + 0.9)
    fig, axes = plt.subplots(1, n_panels, figsize=size, layout="constrained", squeeze=False)
    for ax, (name, labels) in zip(axes[0], label_sets.items(), strict=True):
        scatter_by_label(points, labels, ax=ax, title=f"coloured by {name}", legend=legend)
    if suptitle:
        fig.suptitle(suptitle, fontweight="bold")
    return fig
