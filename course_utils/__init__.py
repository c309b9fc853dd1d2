"""Helpers for the course "Why P, not Q?" on contrastive text embeddings.

``import course_utils as cu; cu.setup()``. Importing loads every submodule and has no side
effects until ``setup()``; heavy libraries are imported inside the functions that need them
(docs/architecture.md). The command lines live in :mod:`course_utils.cli`.
"""

from course_utils import (
    checks,
    claims,
    collapse,
    data,
    embedding,
    evaluation,
    experiments,
    losses,
    models,
    notebook_setup,
    paths,
    plots,
    toy,
    training,
    training_presets,
    triplets,
    vader,
    widgets,
)
from course_utils.notebook_setup import setup

__version__ = "0.1.0"

__all__ = [
    "__version__", "checks", "claims", "collapse", "data", "embedding", "evaluation",
    "experiments", "losses", "models", "notebook_setup", "paths", "plots", "setup", "toy",
    "training", "training_presets", "triplets", "vader", "widgets",
]
