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

from course_utils.widgets.contrast import contrast_explorer, feature_contrast_explorer
from course_utils.widgets.descent import descent_slider
from course_utils.widgets.hover import hover_scatter
from course_utils.widgets.margin import margin_explorer
from course_utils.widgets.search import neighbour_search
from course_utils.widgets.temperature import temperature_explorer
from course_utils.widgets.timeline import training_timeline

__all__ = [
    "contrast_explorer",
    "descent_slider",
    "feature_contrast_explorer",
    "hover_scatter",
    "margin_explorer",
    "neighbour_search",
    "temperature_explorer",
    "training_timeline",
]
