"""Figures for the course: one palette, one size policy, one function per kind of figure
(``projection``, ``scatter``, ``training``, ``toy``, ``experiments``, ``figures``, ``batch``,
``zoom``; see docs/plots.md). Everything public is re-exported here, e.g.
``cu.plots.project_2d(...)``.
"""

from course_utils.plots import (
    batch,
    experiments,
    figures,
    projection,
    scatter,
    toy,
    training,
    zoom,
)
from course_utils.plots.batch import *  # noqa: F403
from course_utils.plots.experiments import *  # noqa: F403
from course_utils.plots.figures import *  # noqa: F403
from course_utils.plots.projection import *  # noqa: F403
from course_utils.plots.scatter import *  # noqa: F403
from course_utils.plots.toy import *  # noqa: F403
from course_utils.plots.training import *  # noqa: F403
from course_utils.plots.zoom import *  # noqa: F403

__all__ = [*batch.__all__, *experiments.__all__, *figures.__all__, *projection.__all__,
           *scatter.__all__, *toy.__all__, *training.__all__, *zoom.__all__]
