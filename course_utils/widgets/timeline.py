"""The training timeline (notebook 05): drag a slider over training steps, watch points move.

Each step's UMAP layout starts from the previous one, so a point only moves when training
moved it; all layouts are computed (and cached) when the widget is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from course_utils.widgets.explorer import explorer_box

__all__ = ["training_timeline"]


def _metrics_html(step: int, metrics: Mapping[str, float], loss: float | None) -> str:
    cells = "".join(
        f"<td style='padding:0 10px'><b>{name}</b><br>{value:.2f}</td>"
        for name, value in metrics.items()
    )
    loss_text = "" if loss is None else f" &middot; training loss {loss:.3f}"
    return (
        f"<div style='font-size:15px'><b>step {step}</b>{loss_text}"
        f"<table style='margin-top:2px'><tr>{cells}</tr></table>"
        "kNN: share of texts whose 5 nearest other test texts mostly share their label; "
        "silhouette: -1..1, higher = tighter clusters.</div>"
    )


#: The timeline's picture is drawn at this resolution and shown at the size of a 100-dpi
#: figure, so that it stays sharp when a slide or a high-density screen scales it up.
RENDER_DPI = 150


def training_timeline(snapshots: Sequence[Any], labels: dict[str, Sequence], *,
                      seed: int = 0, axes_size: float = 3.3) -> Any:
    """A slider over training steps showing the 2-D projection at each step.

    Args:
        snapshots: ``TrainingResult.snapshots`` (or ``(step, embeddings)`` pairs), at least one.
        labels: ``{"topic": ..., "sentiment": ...}``, one panel per entry, in the snapshot
            texts' order.
        axes_size: inches per panel.

    Returns:
        An ``ipywidgets.VBox`` with ``slider``, ``play``, ``state`` (``step``, ``index``,
        ``metrics``, ``loss``), ``image``, ``layouts`` ((n, 2) per step), ``steps``, ``metrics``
        and ``render(step)`` -> the matplotlib Figure.
    """
    import ipywidgets as widgets

    from course_utils.plots.figures import figure_png
    from course_utils.plots.scatter import side_by_side
    from course_utils.plots.training import _limits, set_frame

    steps, checked, layouts, metrics, losses = _timeline_data(snapshots, labels, seed)
    limits = _limits(layouts)
    slider = widgets.SelectionSlider(
        options=[(str(step), step) for step in steps], value=steps[0], description="step",
        continuous_update=False, layout=widgets.Layout(width="420px"),
    )
    play = widgets.Play(min=0, max=len(steps) - 1, step=1, interval=900, value=0,
                        description="play")
    widgets.jslink((play, "value"), (slider, "index"))
    numbers = widgets.HTML()
    # The plot is a PNG in an Image widget rather than a figure shown in an Output widget:
    # it needs no display machinery, so it behaves the same in JupyterLab, in a headless run
    # (nbclient / nbval, where Output-widget capture could stall) and in tests.
    # Legends right of the panels: a slide has width to spare, not height.
    width = round((axes_size + 1.7) * len(checked) * 100)
    image = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px",
                                                              max_width="100%"))

    def render(step: int) -> Any:
        index = steps.index(int(step))
        fig = side_by_side(layouts[index], checked, suptitle=f"after {step} training steps",
                           axes_size=axes_size, legend="right")
        set_frame([ax for ax in fig.axes if ax.has_data()], limits)
        return fig

    def refresh() -> dict[str, Any]:
        step = int(slider.value)
        index = steps.index(step)
        numbers.value = _metrics_html(step, metrics[index], losses[index])
        image.value = figure_png(render(step), dpi=RENDER_DPI)
        return {"step": step, "index": index, "metrics": dict(metrics[index]),
                "loss": losses[index]}

    return explorer_box([widgets.HBox([play, slider]), numbers, image], [slider], refresh,
                        slider=slider, play=play, image=image, layouts=layouts, steps=steps,
                        metrics=metrics, render=render)


def _timeline_data(snapshots: Sequence[Any], labels: dict[str, Sequence], seed: int):
    """The steps, the checked label sets, one layout and one set of numbers per step, and the
    training loss at each step (None where the snapshots do not carry it)."""
    from course_utils.evaluation import snapshot_metrics
    from course_utils.plots.training import (
        _snapshot_parts,
        _validate_label_sets,
        timeline_layouts,
    )

    steps, arrays = _snapshot_parts(snapshots)
    checked = _validate_label_sets(labels, len(arrays[0]))
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}.")
    layouts = timeline_layouts(list(zip(steps, arrays, strict=True)), seed=seed)
    metrics = [snapshot_metrics(array, checked) for array in arrays]
    losses = [getattr(s, "loss", None) for s in snapshots] if not isinstance(
        snapshots, Mapping) else [None] * len(steps)
    return steps, checked, layouts, metrics, losses
