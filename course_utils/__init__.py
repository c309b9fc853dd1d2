"""Helpers for the course "Why P, not Q?" on contrastive text embeddings.

Notebooks import the package the same way everywhere::

    import course_utils as cu
    cu.setup()

Importing has no side effects: nothing is seeded, no environment variable or plot style is
changed and nothing is loaded until ``setup()`` (or the function you call) does it. Heavy
libraries (torch, sentence-transformers, umap) are imported inside the modules that need them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from course_utils.notebook_setup import setup  # light: imports nothing heavy at module level

__all__ = ["__version__", "setup"]

_SUBMODULES = {
    "checks",
    "claims",
    "collapse",
    "data",
    "embedding",
    "evaluation",
    "experiments",
    "losses",
    "models",
    "notebook_setup",
    "paths",
    "plots",
    "toy",
    "training",
    "training_losses",
    "triplets",
    "vader",
    "widgets",
}


def __getattr__(name: str) -> Any:
    # Lazy submodules: ``cu.data`` imports course_utils.data on first use only.
    if name in _SUBMODULES:
        return importlib.import_module(f"course_utils.{name}")
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")


def __dir__() -> list[str]:
    # What `cu.<Tab>` offers in a fresh kernel: the submodules too, before any is imported.
    return sorted(set(globals()) | _SUBMODULES)
