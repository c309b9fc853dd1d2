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
        inset = ax.inset_axes([*corners[corner], size, size])
        inset.scatter(xy[members, 0], xy[members, 1], s=12, linewidths=0, alpha=0.8,
                      c=list(colour_array[members]))
        inset.set_aspect("equal", adjustable="datalim")
        inset.margins(0.08, 0.25)  # room for the name at the top
        inset.set_xticks([])
        inset.set_yticks([])
        for side in inset.spines.values():
            side.set_visible(True)
            side.set_color("0.35")
        inset.text(0.03, 0.97, f"zoom: {name}", transform=inset.transAxes, ha="left",
                   va="top", fontsize=10, color="0.2")
        ax.indicate_inset_zoom(inset, edgecolor="0.35")
