"""Helpers for the course "Why P, not Q?" on contrastive text embeddings.

Notebooks import the package the same way everywhere::

    import course_utils as cu
    cu.setup()

Importing imports every submodule (so ``cu.<Tab>`` lists them in a fresh kernel) and has no
side effects: nothing is seeded, no environment variable or plot style is changed and no model
or data is loaded until ``setup()`` (or the function you call) does it. Heavy libraries (torch,
sentence-transformers, umap, matplotlib, ipywidgets) are imported inside the functions that
need them, so ``import course_utils`` costs about 0.2 s on top of numpy and pandas. The
command lines live in :mod:`course_utils.cli`, which this import leaves alone.
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
