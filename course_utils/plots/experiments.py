"""The trade-off figure of ``make experiments``' results (notebooks 04, 05 and 06): each
configuration as one point at its mean over seeds, with its 95% interval in both directions,
so the reader sees at once what a choice buys on one label and costs on the other."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["tradeoff_plot"]


def tradeoff_plot(results: pd.DataFrame, *, grid: str, x: str = "sentiment_knn",
                  y: str = "topic_knn", runs: Sequence[str] | None = None,
                  labels: Mapping[str, str] | None = None, highlight: str | None = None,
                  axis_labels: tuple[str, str] | None = None, chance: float | None = None,
                  ax: Axes | None = None, title: str | None = None) -> Axes:
    """One point per run at (mean ``x``, mean ``y``) over seeds, with 95% t-interval bars.

    Args:
        results: ``cu.experiments.load_results()``.
        grid: ``"course"`` or ``"losses"``.
        runs: which runs, in order (default: every run of the grid).
        labels: run name -> its name in the legend.
        highlight: a run drawn larger, its legend entry in bold.
        chance: draws the y column's chance level as a dotted line.
    """
    import matplotlib.pyplot as plt

    from course_utils.experiments import summarise_metric, validate_runs

    along_x = summarise_metric(results, x, grid=grid)
    along_y = summarise_metric(results, y, grid=grid)
    runs = validate_runs(runs, along_x.index)
    labels = dict(labels or {})
    if ax is None:
        _, ax = plt.subplots(figsize=(10.5, 4.6), layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, run in enumerate(runs):
        bold = run == highlight
        ax.errorbar(along_x.loc[run, "mean"], along_y.loc[run, "mean"],
                    xerr=_bar(along_x.loc[run, "half_width"]),
                    yerr=_bar(along_y.loc[run, "half_width"]),
                    fmt="D" if bold else "o", markersize=10 if bold else 6, capsize=3,
                    elinewidth=2.5 if bold else 1.2, color=colours[i % len(colours)], zorder=3,
                    label=labels.get(run, run))
    # A legend beside the axes: points of similar runs often sit on top of each other.
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9,
                       frameon=False)
    for text in legend.get_texts():
        if highlight is not None and text.get_text() == labels.get(highlight, highlight):
            text.set_fontweight("bold")
    if chance is not None:
        ax.axhline(chance, linestyle=":", color="0.4", zorder=1)
        ax.annotate(f"chance {chance:.2f}", (0.01, chance), xycoords=("axes fraction", "data"),
                    xytext=(0, 3), textcoords="offset points", fontsize=8, color="0.3")
    x_label, y_label = axis_labels or (x, y)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    n = int(along_x["n"].max())
    ax.set_title(title or f"mean over {n} seed(s), bars: 95% interval", fontsize=10)
    return ax


def _bar(half_width: float) -> float | None:
    """No bar for a single seed (its half-width is NaN)."""
    return None if half_width != half_width else half_width
