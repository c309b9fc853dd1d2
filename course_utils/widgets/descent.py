"""The descent slider (notebook 03): step through snapshots of gradient descent on toy points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from course_utils.plots.figures import figure_png
from course_utils.plots.toy import plot_toy_pairs, shared_limits, validate_frames
from course_utils.widgets.explorer import explorer_box

__all__ = ["descent_slider"]


def descent_slider(frames: Sequence[Any], pairs: Any, similar: Any, *,
                   steps: Sequence[int] | None = None, groups: Sequence[str] | None = None):
    """An ipywidgets slider over the snapshots; returns the box (``.slider``, ``.state``).

    Frames are PNG bytes in an ``ipywidgets.Image``, not an ``Output`` widget, so headless runs
    (nbclient, CI) never wait on captured output.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    frames, steps = validate_frames(frames, steps)
    step_labels = steps if steps is not None else list(range(len(frames)))
    limits = shared_limits(frames)
    slider = widgets.IntSlider(value=0, min=0, max=len(frames) - 1, description="snapshot",
                               continuous_update=False)
    image = widgets.Image(format="png")

    def refresh() -> dict[str, Any]:
        k = slider.value
        fig, ax = plt.subplots(figsize=(5.5, 4.0))
        plot_toy_pairs(frames[k], pairs, similar, groups=groups, ax=ax, limits=limits,
                       title=f"step {step_labels[k]}")
        image.value = figure_png(fig)
        return {"frame": k, "step": step_labels[k]}

    return explorer_box([slider, image], [slider], refresh, slider=slider, image=image)
