"""Figures of one in-batch (InfoNCE) batch, notebook 07: the batch's similarity matrix as a
heatmap, and one anchor's candidates as bars (similarity, softmax probability), also at several
temperatures side by side. Sized for a 1280x800 slide: text stays at least 14 px there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["candidate_bars", "similarity_heatmap", "softmax_at_temperatures"]

#: Font size (pt) of tick labels and annotations on these figures: at the widths used here
#: they show at 14-16 px on a 1280x800 slide.
SLIDE_FONT = 13


def similarity_heatmap(similarity: object, *, row_name: str = "anchor",
                       column_name: str = "positive", title: str | None = None) -> Figure:
    """The (B, B) matrix ``similarity[i, j] = cos(anchor_i, positive_j)`` with every value
    written in its cell and the diagonal (the right answers) framed."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    matrix = np.asarray(similarity, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or not len(matrix):
        raise ValueError(f"similarity must be a square (B, B) matrix, got shape {matrix.shape}.")
    size = len(matrix)
    fig, ax = plt.subplots(figsize=(1.0 * size + 2.6, 0.8 * size + 1.2), layout="constrained")
    image = ax.imshow(matrix, cmap="viridis", vmin=min(0.0, matrix.min()), vmax=1.0)
    for i in range(size):
        for j in range(size):
            dark = image.norm(matrix[i, j]) < 0.6
            ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=SLIDE_FONT,
                    color="white" if dark else "black")
        ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#E69F00",
                               linewidth=3))
    ax.set_xticks(range(size), [f"{column_name} {j}" for j in range(size)],
                  fontsize=SLIDE_FONT, rotation=30, ha="right")
    ax.set_yticks(range(size), [f"{row_name} {i}" for i in range(size)], fontsize=SLIDE_FONT)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("cosine similarity", fontsize=SLIDE_FONT)
    bar.ax.tick_params(labelsize=SLIDE_FONT)
    ax.set_title(title or "orange frames: the right answers (the diagonal)", fontsize=SLIDE_FONT)
    return fig


def candidate_bars(ax: Axes, values: Sequence[float], *, positive: int,
                   labels: Sequence[str] | None = None, order: Sequence[int] | None = None,
                   xlabel: str = "", xlim: tuple[float, float] | None = None,
                   show_labels: bool = True) -> None:
    """One horizontal bar per candidate in ``order`` (default: as given): the anchor's own
    positive in blue, the in-batch negatives in vermillion."""
    from course_utils.plots.scatter import OKABE_ITO

    values = np.asarray(values, dtype=float)
    order = np.arange(len(values)) if order is None else np.asarray(order)
    rows = np.arange(len(order))
    colours = [OKABE_ITO["blue"] if i == positive else OKABE_ITO["vermillion"] for i in order]
    ax.barh(rows, values[order], color=colours)
    if show_labels:
        names = [labels[i] if labels is not None else f"candidate {i}" for i in order]
        ax.set_yticks(rows, [name if len(name) <= 34 else name[:33] + "…" for name in names])
    else:  # a panel sharing the y axis of a labelled one: leave the shared ticks alone
        ax.tick_params(labelleft=False)
    ax.tick_params(labelsize=SLIDE_FONT)
    ax.set_ylim(len(order) - 0.5, -0.5)  # the first in ``order`` on top
    if xlim is not None:
        ax.set_xlim(*xlim)
    ax.set_xlabel(xlabel, fontsize=SLIDE_FONT)


def softmax_at_temperatures(similarities: Sequence[float],
                            probabilities: Mapping[float, Sequence[float]], *, positive: int = 0,
                            labels: Sequence[str] | None = None,
                            suptitle: str | None = None) -> Figure:
    """One anchor's candidates, most similar first: their cosine similarity, then their softmax
    probability at each temperature of ``probabilities`` ({temperature: (n,) probabilities})."""
    import matplotlib.pyplot as plt

    values = np.asarray(similarities, dtype=float)
    if not probabilities:
        raise ValueError("probabilities must map at least one temperature to its softmax.")
    order = np.argsort(-values, kind="stable")
    n_panels = 1 + len(probabilities)
    fig, axes = plt.subplots(1, n_panels, figsize=(10.6, 0.23 * len(values) + 1.1),  # ~1060 px
                             sharey=True, layout="constrained",
                             gridspec_kw={"width_ratios": [1.5] + [1] * len(probabilities)})
    candidate_bars(axes[0], values, positive=positive, labels=labels, order=order,
                   xlabel="cosine similarity (blue: the positive)")
    for ax, (temperature, p) in zip(axes[1:], probabilities.items(), strict=True):
        candidate_bars(ax, np.asarray(p, dtype=float), positive=positive, order=order,
                       xlim=(0, 1), xlabel="softmax probability", show_labels=False)
        ax.set_title(f"τ = {temperature:g}", fontsize=SLIDE_FONT + 1)
    if suptitle:
        fig.suptitle(suptitle, fontsize=SLIDE_FONT)
    return fig
