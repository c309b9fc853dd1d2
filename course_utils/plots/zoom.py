"""Magnifying insets for a scatter panel (``before_after_grid(zoom=...)``, notebooks 05 and
06): after training, each sentiment can be packed so tight that the shared frame draws it as
one dot; an inset shows the spread left inside it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["zoom_insets"]


def zoom_insets(ax: Axes, xy: np.ndarray, colour_by: Sequence[str],
                 groups: Sequence[str]) -> None:
    """One inset per group (at most two) in corners of the panel that hide the fewest points
    (then: the nearest to the group), showing that group's points at their own scale, coloured
    as in the panel, with a frame and lines to where it sits."""
    from itertools import permutations

    from course_utils.plots.scatter import label_colours

    colours = label_colours(colour_by)
    colour_array = np.asarray([colours[label] for label in colour_by], dtype=object)
    group_array = np.asarray(list(groups), dtype=object)
    names = list(dict.fromkeys(group_array))[:2]
    size = 0.36
    corners = [(0.01, 0.01), (0.63, 0.01), (0.01, 0.63), (0.63, 0.63)]
    in_axes = ax.transAxes.inverted().transform(ax.transData.transform(xy))
    hidden = [int(np.all((in_axes >= c) & (in_axes <= np.add(c, size)), axis=1).sum())
              for c in corners]
    centres = [in_axes[group_array == name].mean(axis=0) for name in names]

    def cost(choice: tuple[int, ...]) -> float:
        return sum(100.0 * hidden[c] + float(np.linalg.norm(np.add(corners[c], size / 2) - m))
                   for c, m in zip(choice, centres, strict=True))

    best = min(permutations(range(len(corners)), len(names)), key=cost)
    for corner, name in zip(best, names, strict=True):
        members = group_array == name
        points = xy[members]
        inset = ax.inset_axes([*corners[corner], size, size])
        inset.scatter(points[:, 0], points[:, 1], s=12, linewidths=0, alpha=0.8,
                      c=list(colour_array[members]))
        (x_lim, y_lim), outside = _core_frame(points)
        inset.set_xlim(*x_lim)
        inset.set_ylim(*y_lim)
        inset.set_xticks([])
        inset.set_yticks([])
        for side in inset.spines.values():
            side.set_visible(True)
            side.set_color("0.35")
        note = f"\n{outside} outside the frame" if outside else ""
        inset.text(0.03, 0.97, f"zoom: {name}{note}", transform=inset.transAxes, ha="left",
                   va="top", fontsize=10, color="0.2",
                   bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0, "pad": 1})
        ax.indicate_inset_zoom(inset, edgecolor="0.35")


def _core_frame(points: np.ndarray, share: float = 0.8) -> tuple[tuple, int]:
    """A square frame around the central ``share`` of ``points`` (their 10-90 % quantiles in
    each direction, with room around them): a few stragglers must not shrink the group back
    to a dot. Returns ((x limits, y limits), how many points fall outside)."""
    tail = (1 - share) / 2
    low, high = np.quantile(points, tail, axis=0), np.quantile(points, 1 - tail, axis=0)
    centre = (low + high) / 2
    half = max(float((high - low).max()), 1e-6)
    lower, upper = centre - half, centre + half
    outside = int(np.any((points < lower) | (points > upper), axis=1).sum())
    return ((lower[0], upper[0]), (lower[1], upper[1])), outside
