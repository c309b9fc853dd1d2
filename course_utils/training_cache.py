"""Finished training runs kept on disk, so the test suite trains each notebook's model once.

The full test suite executes every notebook twice: the solutions under nbval, then the student
copy (see ``tests/test_notebook_reruns.py``); the slide-mode browser test presents notebook 05
a third time. Their training cells are identical, and training is deterministic, so the second
and third executions need not train again. When the environment variable
``COURSE_TRAINING_CACHE`` names a folder, :func:`course_utils.training.train_triplets` looks
there first and stores each finished run: the trained weights and everything the
``TrainingResult`` holds.

Nothing sets the variable outside the test suite (which points it at a temporary folder it
deletes afterwards): a learner always trains. A run is found again only when everything that
decides it is the same: the triplets, the configuration, the loss, the prompts, the evaluation
texts and the starting weights.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pandas as pd

ENV = "COURSE_TRAINING_CACHE"


def folder() -> Path | None:
    """The cache folder named by ``COURSE_TRAINING_CACHE``, or None (no caching)."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


def run_key(frame: pd.DataFrame | dict[str, pd.DataFrame], config: Any, loss: Any,
            prompts: Any, eval_texts: list[str] | None, model: Any) -> str:
    """A digest of everything that decides a training run's outcome."""
    import torch

    digest = hashlib.sha256()
    frames = frame if isinstance(frame, dict) else {"": frame}
    for name, part in sorted(frames.items()):
        digest.update(name.encode())
        digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        digest.update(repr(list(part.columns)).encode())
    loss_name = getattr(loss, "__qualname__", None) or repr(loss)
    digest.update(repr((config, loss_name, sorted((prompts or {}).items()), eval_texts,
                        torch.__version__)).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:32]


def restore(key: str, model: Any, result: Any) -> bool:
    """Load the stored run ``key`` into ``model`` (weights) and ``result`` (losses, snapshots,
    times); False, touching nothing, when there is no readable entry."""
    import torch

    from course_utils.training_record import Snapshot

    where = folder()
    if where is None or not (where / f"{key}.pt").exists():
        return False
    try:  # weights_only: tensors, numbers, strings, lists and dicts; never code
        stored = torch.load(where / f"{key}.pt", map_location="cpu", weights_only=True)
    except Exception:  # an unreadable entry is a miss
        return False
    model.load_state_dict(stored.pop("state"))
    result.losses = [tuple(pair) for pair in stored["losses"]]
    result.snapshots = [Snapshot(step=s["step"], embeddings=s["embeddings"].numpy(),
                                 loss=s["loss"], seconds=s["seconds"])
                        for s in stored["snapshots"]]
    result.train_seconds = stored["train_seconds"]
    result.snapshot_seconds = stored["snapshot_seconds"]
    return True


def store(key: str, model: Any, result: Any) -> None:
    """Keep the finished run ``key``: the model's weights and the result's other fields."""
    import torch

    where = folder()
    if where is None:
        return
    where.mkdir(parents=True, exist_ok=True)
    partial = where / f".{key}.{os.getpid()}.pt"
    torch.save({
        "state": model.state_dict(),
        "losses": [list(pair) for pair in result.losses],
        "snapshots": [{"step": s.step, "embeddings": torch.from_numpy(s.embeddings),
                       "loss": s.loss, "seconds": s.seconds} for s in result.snapshots],
        "train_seconds": result.train_seconds,
        "snapshot_seconds": result.snapshot_seconds,
    }, partial)
    os.replace(partial, where / f"{key}.pt")  # complete, or not there at all
