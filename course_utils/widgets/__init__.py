"""ipywidgets explorers, each a factory that returns the widget box (notebooks 01-08).

Tests drive them without a browser: set a control's ``.value`` and read the box's ``.state``
(a plain dict updated on every change). What they share lives in ``explorer``.
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
