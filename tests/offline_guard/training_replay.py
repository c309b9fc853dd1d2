"""Finished training runs replayed from disk, so the test suite trains each notebook's model once.

The suite executes every notebook twice (nbval with the solutions, then the student copy) and
presents notebook 05 a third time in the browser. Their training cells are identical and
training is deterministic, so only the first execution needs to train. When
``COURSE_TRAINING_CACHE`` names a folder (tests/conftest.py sets it for the kernels and
JupyterLab servers it starts), ``sitecustomize`` calls :func:`install`: once
sentence-transformers' trainer module is imported, ``SentenceTransformerTrainer.train`` first
looks for a stored run with the same key, and stores each run it finishes.

A run is found again only when everything that decides it is the same: the training data, the
arguments, the losses, the schedule, the evaluation texts and snapshot steps of the course's
recording callback, and the starting weights (frozen tables included). A learner's kernel never
has the variable set, so it always trains; nothing in ``course_utils`` knows about this file.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.abc
import os
import sys
import warnings
from pathlib import Path
from typing import Any

ENV = "COURSE_TRAINING_CACHE"
TRAINER_MODULE = "sentence_transformers.sentence_transformer.trainer"
#: The training arguments that decide a run's outcome.
DECIDING_ARGUMENTS = ("max_steps", "num_train_epochs", "per_device_train_batch_size",
                      "learning_rate", "warmup_steps", "weight_decay", "seed", "data_seed",
                      "batch_sampler", "multi_dataset_batch_sampler", "prompts",
                      "lr_scheduler_type", "optim", "bf16", "fp16")


def folder() -> Path | None:
    """The cache folder named by ``COURSE_TRAINING_CACHE``, or None (no caching)."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


def run_key(trainer: Any, records: list[Any]) -> str:
    """A digest of everything that decides the outcome of ``trainer.train()``."""
    import pandas as pd
    import torch

    digest = hashlib.sha256()
    data = trainer.train_dataset
    for name, part in sorted((data if isinstance(data, dict) else {"": data}).items()):
        frame = part.to_pandas()
        digest.update(name.encode() + repr(list(frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    losses = trainer.loss if isinstance(trainer.loss, dict) else {"": trainer.loss}
    digest.update(repr(sorted((name, type(loss).__name__, repr(loss.get_config_dict()))
                              for name, loss in losses.items())).encode())
    digest.update(repr([(name, repr(getattr(trainer.args, name, None)))
                        for name in DECIDING_ARGUMENTS]).encode())
    digest.update(type(trainer.lr_scheduler).__name__.encode())
    digest.update(repr([(record.eval_texts, record.snapshot_steps) for record in records]).encode())
    digest.update(torch.__version__.encode())
    for name, tensor in trainer.model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    for name, parameter in trainer.model.named_parameters():
        digest.update(f"{name}:{parameter.requires_grad}".encode())
    return digest.hexdigest()[:32]


def _warn(message: str) -> None:
    """Say what went wrong with the cache; the run itself goes on (trained, not replayed)."""
    warnings.warn(f"training replay cache ({ENV}): {message}", RuntimeWarning, stacklevel=3)


def _discard(path: Path, why: str) -> None:
    """Warn that entry ``path`` is unusable (``why``) and remove it, so the next run stores a
    good one; an entry that cannot be removed (a folder, a read-only cache) is left alone."""
    try:
        path.unlink()
        action = "removed it"
    except OSError:
        action = f"could not remove it; delete {path} by hand"
    _warn(f"ignored the entry {path.name} ({why}) and {action}; training instead.")


def _read_entry(path: Path, model: Any) -> tuple[dict[str, Any], list[Any]]:
    """The stored run at ``path`` and its snapshots, checked against ``model`` before anything
    is changed; raises (any exception) when the entry is unreadable or does not fit."""
    import torch

    from course_utils.training import Snapshot

    # weights_only: tensors, numbers, strings, lists and dicts; never code
    stored = torch.load(path, map_location="cpu", weights_only=True)
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    found = {name: tuple(tensor.shape) for name, tensor in stored["state"].items()}
    if found != expected:
        wrong = sorted(set(found.items()) ^ set(expected.items()))[:3]
        raise ValueError(f"its weights do not fit the model: {wrong} ...")
    snapshots = [Snapshot(step=int(s["step"]), embeddings=s["embeddings"].numpy(),
                          loss=s["loss"], seconds=float(s["seconds"]))
                 for s in stored["snapshots"]]
    stored["losses"] = [tuple(pair) for pair in stored["losses"]]
    for name in ("batch_size", "train_seconds", "snapshot_seconds"):
        stored[name] = float(stored[name]) if "seconds" in name else int(stored[name])
    return stored, snapshots


def restore(key: str, trainer: Any, records: list[Any]) -> bool:
    """Load stored run ``key`` into the trainer's model and the recording callbacks; False,
    touching nothing, when there is no usable entry (an unusable one is removed with a
    warning)."""
    path = folder() / f"{key}.pt"
    if not path.exists():
        return False
    if not path.is_file():
        _discard(path, "not a file")
        return False
    try:
        stored, snapshots = _read_entry(path, trainer.model)
    except Exception as error:  # noqa: BLE001 - any unreadable or mismatched entry is a miss
        _discard(path, f"{type(error).__name__}: {str(error)[:200]}")
        return False
    trainer.model.load_state_dict(stored["state"])  # shapes checked: it cannot fail half-way
    for record in records:
        result = record.result
        result.model, result.batch_size = trainer.model, stored["batch_size"]
        result.losses = list(stored["losses"])
        result.snapshots = list(snapshots)
        result.train_seconds = stored["train_seconds"]
        result.snapshot_seconds = stored["snapshot_seconds"]
    return True


def store(key: str, trainer: Any, records: list[Any]) -> None:
    """Keep the finished run ``key``: the weights and the first recording callback's result.

    A cache that cannot be written costs a warning, never the run: the entry is complete or not
    there at all, and no partial file is left behind.
    """
    import torch

    result = records[0].result if records else None
    where = folder()
    partial = where / f".{key}.{os.getpid()}.pt"
    try:
        where.mkdir(parents=True, exist_ok=True)
        torch.save({
            "state": trainer.model.state_dict(),
            "batch_size": result.batch_size if result else 0,
            "losses": [list(pair) for pair in result.losses] if result else [],
            "snapshots": [{"step": s.step, "embeddings": torch.from_numpy(s.embeddings),
                           "loss": s.loss, "seconds": s.seconds}
                          for s in (result.snapshots if result else [])],
            "train_seconds": result.train_seconds if result else 0.0,
            "snapshot_seconds": result.snapshot_seconds if result else 0.0,
        }, partial)
        os.replace(partial, where / f"{key}.pt")
    except Exception as error:  # noqa: BLE001 - torch.save raises RuntimeError, not OSError
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        _warn(f"could not store the run in {where} ({type(error).__name__}: "
              f"{str(error)[:200]}); the trained run is returned as usual, but the next run trains "
              f"again. Make {where} a writable folder (with no folder named {key}.pt in it), or "
              f"unset {ENV}.")


def patch_trainer(trainer_class: type) -> None:
    """Make ``trainer_class.train`` replay stored runs and store new ones."""
    from course_utils.training import _Recording

    original = trainer_class.train
    if getattr(original, "_replays", False):
        return

    def train(self, *args: Any, **kwargs: Any):
        if folder() is None:
            return original(self, *args, **kwargs)
        records = [cb for cb in self.callback_handler.callbacks if isinstance(cb, _Recording)]
        key = run_key(self, records)
        if restore(key, self, records):
            return None
        output = original(self, *args, **kwargs)
        store(key, self, records)
        return output

    train._replays = True
    trainer_class.train = train


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches the trainer right after its module is imported (importing it here would cost
    every process that never trains several seconds)."""

    def find_spec(self, name, path, target=None):
        if name != TRAINER_MODULE:
            return None
        sys.meta_path.remove(self)
        try:
            from importlib.util import find_spec

            spec = find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            patch_trainer(module.SentenceTransformerTrainer)

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    """Replay training runs in this process (only when ``COURSE_TRAINING_CACHE`` is set)."""
    if folder() is None:
        return
    module = sys.modules.get(TRAINER_MODULE)
    if module is not None:
        patch_trainer(module.SentenceTransformerTrainer)
    elif not any(isinstance(finder, _PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
