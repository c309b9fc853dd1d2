"""The record of a training run: what :func:`course_utils.training.train_triplets` returns.

* :class:`TrainingResult`: the loss at every step, the snapshots and the time they took.
* :class:`Snapshot`: the evaluation texts' embeddings at one step (the timeline widget and
  ``cu.plots.training`` draw them).
* :func:`make_recorder`: the trainer callback that fills a :class:`TrainingResult` and shows
  progress (one tqdm bar, or one line per snapshot).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

    from course_utils.training import TrainingConfig


@dataclass
class Snapshot:
    """The evaluation texts' embeddings at one training step.

    Attributes:
        step: optimiser steps done when the snapshot was taken (0 = before training).
        embeddings: float32 array (n_eval_texts, dim), rows L2-normalised.
        loss: the training loss of the last step before the snapshot (``None`` at step 0).
        seconds: training time (without snapshot time) elapsed when it was taken.
    """

    step: int
    embeddings: np.ndarray
    loss: float | None
    seconds: float


@dataclass
class TrainingResult:
    """What :func:`course_utils.training.train_triplets` returns.

    Attributes:
        model: the trained SentenceTransformer (the same object that was passed in, if any).
        config: the configuration used (``batch_size`` is the one actually used).
        losses: the training loss at every step, as (step, loss) pairs.
        snapshots: embeddings of the evaluation texts over training (empty without them).
        train_seconds: wall time of the optimisation, snapshots excluded.
        snapshot_seconds: wall time spent encoding snapshots.
    """

    model: Any
    config: TrainingConfig
    losses: list[tuple[int, float]] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    train_seconds: float = 0.0
    snapshot_seconds: float = 0.0

    @property
    def steps(self) -> int:
        return self.losses[-1][0] if self.losses else 0

    @property
    def seconds_per_step(self) -> float:
        return self.train_seconds / self.steps if self.steps else float("nan")

    def loss_frame(self) -> pd.DataFrame:
        """The loss history as a DataFrame with columns step, loss."""
        return pd.DataFrame(self.losses, columns=["step", "loss"])

    def summary(self) -> str:
        """One line: steps, time per step, snapshot cost, final loss."""
        if not self.losses:
            return "no steps were run"
        snapshots = (f"; {len(self.snapshots)} snapshots took {self.snapshot_seconds:.1f} s"
                     if self.snapshots else "")
        return (
            f"{self.steps} steps in {self.train_seconds:.1f} s "
            f"({self.seconds_per_step:.2f} s/step, batch {self.config.batch_size})"
            f"{snapshots}; final loss {self.losses[-1][1]:.3f}"
        )


def encode_texts(model: SentenceTransformer, texts: Sequence[str], batch_size: int = 64
                 ) -> np.ndarray:
    """Embed ``texts`` -> float32 (n, dim), unit rows, without touching the disk cache.

    Used for snapshots during training; the model's train/eval mode is restored afterwards.
    """
    was_training = model.training
    try:
        vectors = model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                               normalize_embeddings=True, show_progress_bar=False)
    finally:
        model.train(was_training)
    return np.asarray(vectors, dtype=np.float32)


def make_recorder(result: TrainingResult, eval_texts: list[str] | None, config: TrainingConfig,
                  *, main: bool = True) -> Any:
    """A TrainerCallback that records losses, takes snapshots and shows progress.

    Only the ``main`` process (rank 0 under ``torchrun``) takes snapshots and shows progress.
    """
    from transformers import TrainerCallback  # imported here: transformers is heavy

    recorder_class = type("Recorder", (_Recording, TrainerCallback), {})
    return recorder_class(result, eval_texts, config, main)


class _Recording:
    """What :func:`make_recorder`'s callback does at the start, at every logged step and at the
    end of training (mixed into transformers' ``TrainerCallback`` there)."""

    def __init__(self, result: TrainingResult, eval_texts: list[str] | None,
                 config: TrainingConfig, main: bool) -> None:
        self.result, self.eval_texts, self.config, self.main = result, eval_texts, config, main
        self.bar = None
        self.started = 0.0
        self.last_loss: float | None = None

    def _elapsed(self) -> float:
        return time.perf_counter() - self.started - self.result.snapshot_seconds

    def _snapshot(self, model, step: int) -> None:
        result = self.result
        if self.eval_texts is None or not self.main:
            return
        if result.snapshots and result.snapshots[-1].step == step:
            return
        seconds = self._elapsed()
        start = time.perf_counter()
        vectors = encode_texts(model, self.eval_texts)
        result.snapshot_seconds += time.perf_counter() - start
        result.snapshots.append(Snapshot(step, vectors, self.last_loss, seconds))

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.started = time.perf_counter()
        if self.main and self.config.progress == "bar":
            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_steps, desc="training", unit="step",
                            leave=True, dynamic_ncols=True)
        self._snapshot(model, 0)

    def on_log(self, args, state, control, logs=None, model=None, **kwargs):
        # The trainer logs every step (logging_steps=1) right after on_step_end, so the
        # step's loss is known here: record it, then snapshot / report if one is due.
        if not logs or "loss" not in logs or "train_runtime" in logs:
            return
        step = int(state.global_step)
        self.last_loss = float(logs["loss"])
        self.result.losses.append((step, self.last_loss))
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{self.last_loss:.3f}", refresh=False)
            self.bar.update(step - self.bar.n)
        if self.config.snapshot_due(step, state.max_steps):
            self._snapshot(model, step)
            if self.config.progress == "print" and self.main:
                self._print(step, state.max_steps)

    def _print(self, step: int, total: int) -> None:
        loss = "" if self.last_loss is None else f" | loss {self.last_loss:.3f}"
        print(f"step {step:>4}/{total}{loss} | {self._elapsed():5.1f} s", flush=True)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        step = int(state.global_step)
        self._snapshot(model, step)
        self.result.train_seconds = self._elapsed()
        if self.bar is not None:
            self.bar.update(step - self.bar.n)
            self.bar.close()
            self.bar = None
        if self.config.progress == "print" and self.main:
            self._print(step, state.max_steps)
