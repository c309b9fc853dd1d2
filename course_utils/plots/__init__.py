"""Figures for the course: one palette, one size policy, one function per kind of figure.

* ``projection``: 2-D projection of embeddings with UMAP (cosine), deterministic given a seed,
  with a cached fast path.
* ``scatter``: labelled scatter plots and side-by-side panels coloured by different labels.
* ``training``: before/after grids in a shared layout and the training timeline (notebook 05).
* ``toy``: the figures of the loss notebooks (03, 04) on 2-D toy points.
* ``experiments``: the trade-off figure of the committed experiment results.
* ``figures``: what every figure shares (``figure_png``: PNG bytes for a widget).

Everything public is re-exported here: ``cu.plots.project_2d(...)``, ``cu.plots.scatter_by_label``.
"""

from course_utils.plots import experiments, figures, projection, scatter, toy, training
from course_utils.plots.experiments import *  # noqa: F403
from course_utils.plots.figures import *  # noqa: F403
from course_utils.plots.projection import *  # noqa: F403
from course_utils.plots.scatter import *  # noqa: F403
from course_utils.plots.toy import *  # noqa: F403
from course_utils.plots.training import *  # noqa: F403

__all__ = [*experiments.__all__, *figures.__all__, *projection.__all__, *scatter.__all__,
           *toy.__all__, *training.__all__]
