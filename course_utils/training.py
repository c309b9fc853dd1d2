"""Fine-tuning pieces that notebook 05 (section 3) shows, kept for the notebooks and tools
after it: :func:`record_training`, :func:`warmup_that_learns`, :func:`training_arguments`,
:func:`fine_tune` (the training cell as a function) and :func:`save_model`. Why margin 0.5
and the measurements: docs/training.md. Whole-run presets: ``course_utils.training_presets``.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from course_utils.notebook_setup import (  # noqa: F401  (shown in notebook 05 as cu.training.*)
    PRECISIONS,
    native_bf16,
    precision_setting,
    use_bf16,
)
from course_utils.validation import validate_eval_texts, validate_snapshot_steps

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

#: How :func:`fine_tune` shows progress: one bar, the trainer's line per logged step, nothing.
PROGRESS_MODES = ("bar", "print", "none")

#: Notebook 05's settings: 40 steps of 16 triplets at learning rate 2e-4, the first 10% of
#: the steps warming up, the loss logged (and recorded) every 5 steps.
COURSE_ARGUMENTS = {"max_steps": 40, "per_device_train_batch_size": 16, "learning_rate": 2e-4,
                    "warmup_steps": 0.1, "seed": 0, "logging_steps": 5}


@dataclass
class Snapshot:
    """The evaluation texts' embeddings at one training step.

    Attributes:
        step: optimiser steps done (0 = before training).
        embeddings: float32 array (n_eval_texts, dim), rows L2-normalised.
        loss: the last logged training loss before the snapshot (``None`` at step 0).
        seconds: training time (without snapshot time) elapsed.
    """

    step: int
    embeddings: np.ndarray
    loss: float | None
    seconds: float


@dataclass
class TrainingResult:
    """What a training run leaves behind (:func:`record_training` fills it).

    Attributes:
        config: the settings of the run, where a preset made it (else None).
        losses: (step, mean loss since the previous logged step) pairs.
        train_seconds: wall time of the optimisation, snapshots excluded.
        batch_size: triplets (or pairs, or sentences) per step.
    """

    model: Any = None
    config: Any = None
    losses: list[tuple[int, float]] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    train_seconds: float = 0.0
    snapshot_seconds: float = 0.0
    batch_size: int = 0
    steps: int = 0

    @property
    def seconds_per_step(self) -> float:
        return self.train_seconds / self.steps if self.steps else float("nan")

    def loss_frame(self) -> pd.DataFrame:
        """The loss history as a DataFrame with columns step, loss."""
        return pd.DataFrame(self.losses, columns=["step", "loss"])

    def summary(self) -> str:
        """One line: steps, time per step, snapshot cost, final loss."""
        if not self.steps:
            return "no steps were run"
        snapshots = (f"; {len(self.snapshots)} snapshots took {self.snapshot_seconds:.1f} s"
                     if self.snapshots else "")
        loss = f"; last logged loss {self.losses[-1][1]:.3f}" if self.losses else ""
        return (f"{self.steps} steps in {self.train_seconds:.1f} s "
                f"({self.seconds_per_step:.2f} s/step, batch {self.batch_size})"
                f"{snapshots}{loss}")


def encode_texts(model: SentenceTransformer, texts: Sequence[str], batch_size: int = 64
                 ) -> np.ndarray:
    """Embed ``texts`` -> float32 (n, dim), unit rows, without the disk cache; the model's
    train/eval mode is restored afterwards (snapshots are taken while training)."""
    was_training = model.training
    try:
        vectors = model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                               normalize_embeddings=True, show_progress_bar=False)
    finally:
        model.train(was_training)
    return np.asarray(vectors, dtype=np.float32)


class _Recording:
    """What :func:`record_training`'s callback does (mixed into ``TrainerCallback`` there)."""

    def __init__(self, eval_texts: list[str] | None, snapshot_steps: Sequence[int],
                 show_bar: bool) -> None:
        self.eval_texts, self.snapshot_steps = eval_texts, tuple(snapshot_steps)
        self.show_bar = show_bar  # one tqdm bar (fine_tune's progress="bar")
        self.result = TrainingResult()
        self.started = 0.0
        self.last_loss: float | None = None
        self.bar: Any = None

    def _elapsed(self) -> float:
        return time.perf_counter() - self.started - self.result.snapshot_seconds

    def _snapshot(self, model, step: int, main: bool) -> None:
        result = self.result
        if self.eval_texts is None or not main:
            return
        if result.snapshots and result.snapshots[-1].step == step:
            return
        seconds = self._elapsed()
        start = time.perf_counter()
        vectors = encode_texts(model, self.eval_texts)
        result.snapshot_seconds += time.perf_counter() - start
        result.snapshots.append(Snapshot(step, vectors, self.last_loss, seconds))

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.result.model = model
        self.result.batch_size = args.per_device_train_batch_size
        if self.show_bar and state.is_world_process_zero:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_steps, desc="training", unit="step", leave=True)
        self.started = time.perf_counter()
        self._snapshot(model, 0, state.is_world_process_zero)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        step = int(state.global_step)
        if self.bar is not None:
            self.bar.update(step - self.bar.n)
        if step in self.snapshot_steps and step < state.max_steps:
            self._snapshot(model, step, state.is_world_process_zero)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs and "train_runtime" not in logs:
            self.last_loss = float(logs["loss"])
            self.result.losses.append((int(state.global_step), self.last_loss))
            if self.bar is not None:
                self.bar.set_postfix(loss=f"{self.last_loss:.3f}", refresh=False)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self.result.steps = int(state.global_step)
        self._snapshot(model, self.result.steps, state.is_world_process_zero)
        self.result.train_seconds = self._elapsed()
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@cache
def _recording_callback() -> type:
    from transformers import TrainerCallback  # heavy: imported on first use

    return type("TrainingRecord", (_Recording, TrainerCallback), {})


def record_training(eval_texts: Sequence[str] | None = None,
                    snapshot_steps: Sequence[int] = (), *, bar: bool = False) -> Any:
    """A trainer callback that records the run in ``.result`` (a :class:`TrainingResult`).

    Shown in notebook 05, section 3: ``callbacks=[record]``. Given ``eval_texts``, it embeds them
    before training, at ``snapshot_steps`` and at the end; under ``torchrun`` only the first
    process does. ``bar``: show one progress bar.
    """
    texts = None if eval_texts is None else validate_eval_texts(eval_texts)
    steps = validate_snapshot_steps(snapshot_steps, None) if len(snapshot_steps) else ()
    return _recording_callback()(texts, steps, bar)


def warmup_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """The learning-rate multiplier for optimiser step ``step`` (0-based): never 0 while training.

    Warm-up starts above zero and the decay's last step is above zero too; the library's
    schedule starts at 0, so a 1-step run would save the model it started from.
    """
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def warmup_that_learns(trainer: Any) -> Any:
    """The trainer's optimiser, built now, with :func:`warmup_factor` as its schedule.

    Shown in notebook 05, section 3: ``trainer.lr_scheduler = warmup_that_learns(trainer)``.
    The optimiser takes the parameters that need gradients now, so freeze first.
    """
    from torch.optim.lr_scheduler import LambdaLR

    args = trainer.args
    steps = args.max_steps
    if steps is None or steps < 1:  # trained by epochs: the trainer's own count
        batches = len(trainer.get_train_dataloader()) // args.gradient_accumulation_steps
        steps = max(1, math.ceil(max(1, batches) * args.num_train_epochs))
    optimizer = trainer.create_optimizer()
    return LambdaLR(optimizer, partial(warmup_factor, total_steps=steps,
                                       warmup_steps=args.get_warmup_steps(steps)))


def training_arguments(output_dir: str, **overrides: Any) -> Any:
    """``SentenceTransformerTrainingArguments`` with notebook 05's settings (section 3), quiet,
    offline, on the GPU when there is one, with bfloat16 matmuls where :func:`use_bf16` says;
    ``overrides`` replace or add any argument."""
    import torch
    from sentence_transformers import SentenceTransformerTrainingArguments

    cuda = torch.cuda.is_available()
    bf16 = use_bf16()
    fp16 = cuda and not bf16 and precision_setting() == "auto"  # older GPUs: float16
    processes = max(1, int(os.environ.get("WORLD_SIZE", "1")))  # torchrun sets it
    settings = {
        **COURSE_ARGUMENTS, "output_dir": output_dir,
        "data_seed": overrides.get("seed", COURSE_ARGUMENTS["seed"]),
        "save_strategy": "no", "report_to": [], "disable_tqdm": True,
        "use_cpu": not cuda, "bf16": bf16, "fp16": fp16,
        "ddp_backend": None if cuda or processes == 1 else "gloo",
        "dataloader_drop_last": processes > 1,
    }
    return SentenceTransformerTrainingArguments(**{**settings, **overrides})


def freeze_word_embeddings(model: SentenceTransformer) -> int:
    """Stop training the token-embedding table(s) of ``model``; return how many weights.

    Shown in notebook 05, section 3. Faster, smaller, same quality (docs/training.md);
    ``table.requires_grad_(True)`` trains it again.
    """
    frozen = 0
    for module in model:
        table = getattr(getattr(module, "auto_model", None), "get_input_embeddings", None)
        weight = getattr(table() if table else None, "weight", None)
        if weight is not None and weight.requires_grad:
            weight.requires_grad_(False)
            frozen += weight.numel()
    return frozen


@contextmanager
def scratch_folder():
    """A temporary folder for the trainer's output_dir, removed afterwards (nothing is saved
    there: ``save_strategy="no"``)."""
    folder = tempfile.mkdtemp(prefix="course-training-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fine_tune(model: SentenceTransformer, train_dataset: Any, loss: Any, *,
              eval_texts: Sequence[str] | None = None, snapshot_steps: Sequence[int] = (),
              freeze: bool = True, progress: str = "print", callbacks: Sequence[Any] = (),
              **arguments: Any) -> TrainingResult:
    """Notebook 05's training cell as one call; returns the run's :class:`TrainingResult`.

    ``model`` is trained in place with ``loss`` on ``train_dataset`` (a ``datasets.Dataset`` or a
    dict of them); ``arguments`` override :func:`training_arguments`. ``freeze``: see
    :func:`freeze_word_embeddings`; ``eval_texts`` and ``snapshot_steps``: see
    :func:`record_training`; ``progress``: ``"print"``, ``"bar"`` or ``"none"``.
    """
    from sentence_transformers import SentenceTransformerTrainer
    from transformers import PrinterCallback

    if progress not in PROGRESS_MODES:
        raise ValueError(f"progress must be one of {PROGRESS_MODES}, got {progress!r}.")
    if freeze:
        freeze_word_embeddings(model)
    record = record_training(eval_texts, snapshot_steps, bar=progress == "bar")
    with scratch_folder() as folder:
        args = training_arguments(folder, **arguments)
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train_dataset,
                                             loss=loss, callbacks=[record, *callbacks])
        if progress != "print":
            trainer.remove_callback(PrinterCallback)
        trainer.lr_scheduler = warmup_that_learns(trainer)
        trainer.train()
    del trainer
    release_memory()
    return record.result


def release_memory() -> None:
    """Give memory freed after training back to the OS (glibc's ``malloc_trim``; elsewhere only a
    garbage collection): glibc keeps the freed pages (a kernel stayed at 1,055 MB, not 676 MB)."""
    import ctypes
    import ctypes.util
    import gc
    import sys

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # musl or another C library
            pass


def save_model(model: SentenceTransformer, output_dir: str | os.PathLike) -> Path:
    """Save ``model`` to ``output_dir`` (created; symlinks followed) without asking the hub;
    return the path.

    Written to a hidden folder and renamed into place (``cu.safe_output.atomic_folder``), so a
    kill while saving leaves no half model. The free space is checked first (the weights' size
    from the parameters, ~90 MB for the course model); if saving fails anyway, the model is kept
    in a fallback folder and ``cu.safe_output.ResultNotSavedError`` names it, so a trained model
    is never lost. ``cu.models.load_model(path)`` loads it offline.
    """
    if not hasattr(model, "save"):
        raise TypeError(f"model must be a SentenceTransformer, got {type(model).__name__}.")
    if not isinstance(output_dir, (str, os.PathLike)):
        raise TypeError(f"output_dir must be a folder path, got {type(output_dir).__name__}.")
    from course_utils.safe_output import resolve_output, save_folder_or_keep_elsewhere

    path = resolve_output(output_dir)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not an empty folder; choose a new folder "
                              "so nothing is overwritten.")
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"  # model.save asks the hub for the model card otherwise
    try:
        return save_folder_or_keep_elsewhere(path, lambda folder: model.save(str(folder)),
                                             weights_bytes(model))
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous


def weights_bytes(model: Any) -> int:
    """Bytes the model's parameters and buffers take (what ``model.save`` writes, give or take
    the tokenizer files); 0 for an object without ``state_dict``. Shared tensors count once."""
    state = getattr(model, "state_dict", None)
    if not callable(state):
        return 0
    tensors = {tensor.data_ptr(): tensor for tensor in state().values()
               if hasattr(tensor, "element_size")}
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors.values())
