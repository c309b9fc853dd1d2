"""Figures for the course: one palette, one size policy, one function per kind of figure.

* ``projection``: 2-D projection of embeddings with UMAP (cosine), deterministic given a seed,
  with a cached fast path.
* ``scatter``: labelled scatter plots and side-by-side panels coloured by different labels.
* ``training``: before/after grids in a shared layout and the training timeline (notebook 05).
* ``toy``: 2-D toy points for the loss notebooks (03, 04).
* ``experiments``: the trade-off figure of the committed experiment results.
* ``figures``: what every figure shares (``figure_png``: PNG bytes for a widget).

Everything public is re-exported here: ``cu.plots.project_2d(...)``, ``cu.plots.scatter_by_label``.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = ("experiments", "figures", "projection", "scatter", "training", "toy")


def _submodules():
    """The figure modules that exist, imported (on first attribute use or `<Tab>`)."""
    for module_name in _MODULES:
        try:
            yield importlib.import_module(f"course_utils.plots.{module_name}")
        except ModuleNotFoundError as error:
            if error.name != f"course_utils.plots.{module_name}":
                raise


def __getattr__(name: str) -> Any:
    # Look the name up in the submodules on first use (keeps `import course_utils` light).
    for module in _submodules():
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    raise AttributeError(f"module 'course_utils.plots' has no attribute {name!r}")


def __dir__() -> list[str]:
    # What `cu.plots.<Tab>` offers: every re-exported figure function.
    names = set(globals())
    for module in _submodules():
        names.update(getattr(module, "__all__", ()))
    return sorted(names)
