"""ipywidgets explorers, each a factory function that returns the widget box.

Tests drive them without a browser: set a control's ``.value`` and read what the explorer
computed from the returned object's ``.state`` (a plain dict updated on every change).

* ``feature_contrast_explorer`` (notebook 01): pick P and Q in a feature table.
* ``contrast_explorer`` (notebook 02): anchor vs candidates P and Q, and the anchor's neighbours.
* ``descent_slider`` (notebook 03): a slider over snapshots of gradient descent on toy points.
* ``hover_scatter`` (notebooks 02, 05, 08): hover a point of a UMAP layout to read its sentence;
  before/after views linked.
* ``margin_explorer`` (notebook 04): a margin slider -> which triplets are still active.
* ``training_timeline`` (notebook 05): a slider over training steps -> the projection then.
* ``neighbour_search`` (notebook 05): type a sentence -> its nearest sentences per model.
* ``temperature_explorer`` (notebook 07): InfoNCE's temperature -> the softmax over candidates.

What they share (the returned box, its ``.state`` and the wiring) lives in ``explorer``.
"""

from __future__ import annotations

import importlib
from typing import Any

_FACTORIES = {
    "contrast_explorer": "course_utils.widgets.contrast",
    "descent_slider": "course_utils.widgets.descent",
    "feature_contrast_explorer": "course_utils.widgets.contrast",
    "hover_scatter": "course_utils.widgets.hover",
    "margin_explorer": "course_utils.widgets.margin",
    "neighbour_search": "course_utils.widgets.search",
    "temperature_explorer": "course_utils.widgets.temperature",
    "training_timeline": "course_utils.widgets.timeline",
}

__all__ = sorted(_FACTORIES)


def __getattr__(name: str) -> Any:
    # Imported on first use so that `import course_utils.widgets` stays light.
    if name in _FACTORIES:
        return getattr(importlib.import_module(_FACTORIES[name]), name)
    raise AttributeError(f"module 'course_utils.widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    # What `cu.widgets.<Tab>` offers before any factory has been imported.
    return sorted(set(globals()) | set(_FACTORIES))
