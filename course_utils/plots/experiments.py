"""The trade-off figure of ``make experiments``' results (notebooks 05 and 06): each
configuration as one point at its mean over seeds, with its 95% interval in both directions,
so the reader sees at once what a choice buys on one label and costs on the other.

Every point is named by a label in a column beside the axes, joined to it by a thin line in
its colour: points of similar runs often sit on top of each other, and labels placed next to
them would overlap. Colours are dark enough to read on a projector (no yellow, no sky blue),
each with its own marker shape as well; the untrained model, when shown, is a grey star named
next to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from course_utils.plots.scatter import OKABE_ITO

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["TRADEOFF_STYLES", "label_column_positions", "tradeoff_plot"]

#: (colour, marker) of the runs, in order: dark enough to read as text on white (the
#: Okabe-Ito vermillion, blue and green, Tol's wine, purple and indigo, black, brown), and a
#: marker shape each, so that no run is told apart by its colour alone.
TRADEOFF_STYLES = (
    (OKABE_ITO["vermillion"], "D"), (OKABE_ITO["blue"], "o"), (OKABE_ITO["bluish_green"], "s"),
    ("#882255", "^"), (OKABE_ITO["black"], "v"), ("#AA4499", "P"), ("#332288", "X"),
    ("#7F5A00", "h"),
)
#: The reference run (the untrained model): a grey star.
REFERENCE_STYLE = ("#707070", "*")
#: Font size (points) of the labels and ticks: 16-17 px at the notebook's 100 dpi, so that
#: they stay >= 14 px when a slide shrinks the figure to its width.
FONT_PT = 12


def label_column_positions(wanted: Sequence[float], gap: float, low: float = 0.0,
                           high: float = 1.0) -> np.ndarray:
    """Heights for labels that would sit at ``wanted`` (any order) so that no two are closer
    than ``gap``, each as near its wish as the others allow, inside [low, high] when they fit
    (otherwise spread evenly over it). Returned in the order of ``wanted``."""
    wanted = np.asarray(wanted, dtype=float)
    if wanted.size == 0:
        return wanted
    order = np.argsort(wanted, kind="stable")
    placed = np.clip(wanted[order], low, high)
    if gap * (len(placed) - 1) > high - low:
        placed = np.linspace(low, high, len(placed))
    else:
        for i in range(1, len(placed)):  # push up what sits too close above its neighbour
            placed[i] = max(placed[i], placed[i - 1] + gap)
        placed[-1] = min(placed[-1], high)
        for i in range(len(placed) - 2, -1, -1):  # and down from the top when it overflowed
            placed[i] = min(placed[i], placed[i + 1] - gap)
    result = np.empty_like(placed)
    result[order] = placed
    return result


def tradeoff_plot(results: pd.DataFrame, *, grid: str, x: str = "sentiment_knn",
                  y: str = "topic_knn", runs: Sequence[str] | None = None,
                  labels: Mapping[str, str] | None = None, highlight: str | None = None,
                  reference: str | None = None, axis_labels: tuple[str, str] | None = None,
                  chance: float | None = None, ax: Axes | None = None,
                  title: str | None = None) -> Axes:
    """One point per run at (mean ``x``, mean ``y``) over seeds, with 95% t-interval bars,
    named in a label column to the right of the axes.

    Args:
        results: ``cu.experiments.load_results()``.
        grid: ``"course"`` or ``"losses"``.
        runs: which runs, in order (default: every run of the grid but ``reference``).
        labels: run name -> its name on the figure.
        highlight: a run drawn larger, its label in bold.
        reference: a run drawn as a grey star without bars (e.g. ``"pretrained"``).
        chance: draws the y column's chance level as a dotted line.
    """
    import matplotlib.pyplot as plt

    from course_utils.experiments import summarise_metric, validate_runs

    along_x = summarise_metric(results, x, grid=grid)
    along_y = summarise_metric(results, y, grid=grid)
    if runs is None:
        runs = [run for run in along_x.index if run != reference]
    runs = validate_runs(runs, along_x.index)
    if reference is not None:
        validate_runs([reference], along_x.index)
    labels = dict(labels or {})
    if ax is None:  # room on the right for the label column
        figure, ax = plt.subplots(figsize=(11.0, 5.2))
        figure.subplots_adjust(left=0.08, right=0.63, bottom=0.13, top=0.91)
    named = []  # (x, y, text, colour, bold)
    for i, run in enumerate(runs):
        colour, marker = TRADEOFF_STYLES[i % len(TRADEOFF_STYLES)]
        bold = run == highlight
        point = (along_x.loc[run, "mean"], along_y.loc[run, "mean"])
        ax.errorbar(*point, xerr=_bar(along_x.loc[run, "half_width"]),
                    yerr=_bar(along_y.loc[run, "half_width"]), fmt=marker,
                    markersize=11 if bold else 8, capsize=3, elinewidth=2.6 if bold else 1.4,
                    color=colour, markeredgecolor="white", markeredgewidth=0.8, zorder=3)
        named.append((*point, labels.get(run, run), colour, bold))
    if reference is not None:
        colour, marker = REFERENCE_STYLE
        point = (along_x.loc[reference, "mean"], along_y.loc[reference, "mean"])
        ax.plot(*point, marker=marker, markersize=16, color=colour, linestyle="none", zorder=4)
        ax.annotate(labels.get(reference, reference), point, xytext=(12, 0),
                    textcoords="offset points", ha="left", va="center", fontsize=FONT_PT,
                    color=colour)
    if chance is not None:
        ax.axhline(chance, linestyle=":", color="0.4", zorder=1)
        ax.annotate(f"chance {chance:.2f}", (0.01, chance), xycoords=("axes fraction", "data"),
                    xytext=(0, 3), textcoords="offset points", fontsize=FONT_PT, color="0.3")
    x_label, y_label = axis_labels or (x, y)
    ax.set_xlabel(x_label, fontsize=FONT_PT + 1)
    ax.set_ylabel(y_label, fontsize=FONT_PT + 1)
    ax.tick_params(labelsize=FONT_PT)
    ax.margins(0.08)
    n = int(along_x["n"].max())
    ax.set_title(title or f"mean over {n} seed(s), bars: 95% interval", fontsize=FONT_PT + 1)
    _label_column(ax, named)
    return ax


def _label_column(ax: Axes, named: list[tuple[float, float, str, str, bool]]) -> None:
    """Each point's name right of the axes, at its height where the others leave room, and a
    thin line in its colour from the name to the point."""
    from matplotlib.text import Text  # the name alone, without its line

    figure = ax.figure
    figure.canvas.draw()  # settles the axes' limits and size
    to_axes = ax.transAxes.inverted()
    heights = [to_axes.transform(ax.transData.transform((px, py)))[1] for px, py, *_ in named]
    axes_points = ax.get_window_extent().height * 72 / figure.dpi
    placed = label_column_positions(heights, gap=1.5 * FONT_PT / axes_points)
    texts = [ax.annotate(text, xy=(px, py), xycoords="data", xytext=(1.04, height),
                         textcoords="axes fraction", va="center", ha="left", fontsize=FONT_PT,
                         color=colour, fontweight="bold" if bold else "normal",
                         arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.8,
                                     "alpha": 0.7, "shrinkA": 2, "shrinkB": 6},
                         annotation_clip=False)
             for (px, py, text, colour, bold), height in zip(named, placed, strict=True)]
    if texts:  # a long name: narrow the axes until the column fits the figure
        figure.canvas.draw()
        right = max(Text.get_window_extent(text).x1 for text in texts)
        overflow = (right - 0.99 * figure.bbox.x1) / figure.bbox.width
        if overflow > 0:
            box = ax.get_position()
            ax.set_position([box.x0, box.y0, box.width - overflow / 1.04, box.height])


def _bar(half_width: float) -> float | None:
    """No bar for a single seed (its half-width is NaN)."""
    return None if half_width != half_width else half_width
