"""Fine-tuning a sentence-embedding model with triplet loss, sized for a laptop CPU.

A thin layer over sentence-transformers' ``SentenceTransformerTrainer`` and ``TripletLoss``:

* :class:`TrainingConfig` holds CPU-friendly defaults chosen by measurement (see
  ``docs/training.md``): 40 steps of 16 triplets at learning rate 2e-4, euclidean distance
  with margin 0.5, sequences cut at 64 tokens, torch threads from ``choose_threads()``.
* :func:`train_triplets` trains on an (anchor, positive, negative) DataFrame and returns a
  :class:`TrainingResult`: the loss at every step and **snapshots** - the embeddings of a fixed
  evaluation set at step 0, every ``snapshot_every`` steps and at the end, for the timeline.
* :func:`before_after_report` and :func:`check_shift` give the held-out numbers (kNN accuracy,
  silhouette, linear probe) before and after, and fail loudly when the expected shift is absent.
* :func:`save_model` writes a folder that ``SentenceTransformer(folder)`` loads offline.

Training is quiet, offline and reproducible: no telemetry (``report_to=[]``), no hub calls,
one progress bar (or one short line per snapshot) instead of the trainer's log dictionaries,
and the same seed gives the same losses and embeddings on the same machine.

Why margin 0.5 and not the library default 5: the model ends in a Normalize layer, so every
embedding has length 1 and two embeddings are at most 2 apart (euclidean). With margin 5 the
hinge ``max(d(a, p) - d(a, n) + 5, 0)`` can never reach zero: every triplet, even a solved one,
keeps pulling. Margin 0.5 asks the negative to be 0.5 further from the anchor than the positive
(cosine similarities differ by about 0.3 for nearby points), which solved triplets reach, so
the loss can fall to zero and training concentrates on the triplets that are still wrong.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from course_utils.checks.core import CheckResult, fail, ok

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

TRIPLET_COLUMNS = ("anchor", "positive", "negative")
DISTANCES = ("euclidean", "cosine")
PROGRESS_MODES = ("bar", "print", "none")

#: How notebook 05 (and ``python -m course_utils.train`` on the course data) builds triplets:
#: ``cu.triplets.make_triplets(train, **SENTIMENT_RECIPE)``. Negatives share the anchor's topic
#: and positives come from another topic, so topic never separates positive from negative and
#: only sentiment does. Measured at 40 steps (docs/training.md, before the warm-up fix):
#: sentiment silhouette 0.632 and topic kNN 0.273, against 0.576 and 0.305 with positives from
#: any topic (0.659 and 0.282 with the current warm-up).
SENTIMENT_RECIPE = {
    "label_col": "sentiment",
    "group_col": "topic",
    "negatives": "same_group",
    "positives": "other_group",
}

#: The acceptance thresholds of notebook 05 on the course test split (see docs/training.md).
MIN_SENTIMENT_KNN = 0.88
MAX_TOPIC_KNN = 0.45


class ShiftNotReachedError(AssertionError):
    """Training did not move the space to the target label; the message says what to try."""


def _positive_int(name: str, value: object, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}.")


def _positive_float(name: str, value: object, *, upper: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number above 0, got {value!r}.")
    if upper is not None and value > upper:
        raise ValueError(f"{name} must be at most {upper}, got {value!r}.")


@dataclass(frozen=True)
class TrainingConfig:
    """How to fine-tune. The defaults move the course dataset from topic to sentiment in
    about 40 s on 2 idle CPU cores (measured; see docs/training.md).

    Attributes:
        max_steps: optimiser steps (each sees ``batch_size`` triplets). ``None``: use ``epochs``.
        epochs: passes over the triplets, used only when ``max_steps`` is ``None``.
        batch_size: triplets per step (3 sentences each).
        learning_rate: AdamW peak learning rate (linear warm-up, then linear decay to 0).
        warmup_ratio: fraction of the steps spent warming up.
        margin: the triplet margin, in units of ``distance`` (see the module docstring).
        distance: ``"euclidean"`` (between unit vectors, 0..2) or ``"cosine"`` (1 - cos, 0..2).
        max_seq_length: tokens kept per sentence; the course's sentences have at most 29.
        seed: seeds the model's dropout, the data order and the trainer.
        threads: torch threads per process; ``None`` = ``choose_threads()`` split among the
            processes of a ``torchrun`` launch.
        snapshot_every: encode the evaluation texts every this many steps (plus step 0 and the
            end); ``None`` = only at step 0 and at the end.
        progress: ``"bar"`` (one tqdm bar), ``"print"`` (one line per snapshot) or ``"none"``.
    """

    max_steps: int | None = 40
    epochs: float | None = None
    batch_size: int = 16
    learning_rate: float = 2e-4
    warmup_ratio: float = 0.1
    margin: float = 0.5
    distance: str = "euclidean"
    max_seq_length: int = 64
    seed: int = 0
    threads: int | None = None
    snapshot_every: int | None = 10
    progress: str = "bar"

    def __post_init__(self) -> None:
        _positive_int("max_steps", self.max_steps, allow_none=True)
        if self.max_steps is None:
            if self.epochs is None:
                raise ValueError("Give max_steps or epochs (both are None); e.g. max_steps=40.")
            _positive_float("epochs", self.epochs, upper=1000)
        elif self.epochs is not None:
            _positive_float("epochs", self.epochs, upper=1000)
        _positive_int("batch_size", self.batch_size)
        _positive_float("learning_rate", self.learning_rate, upper=1.0)
        if isinstance(self.warmup_ratio, bool) or not (
            isinstance(self.warmup_ratio, (int, float)) and 0 <= self.warmup_ratio < 1
        ):
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio!r}.")
        _positive_float("margin", self.margin)
        if self.distance not in DISTANCES:
            raise ValueError(f"distance must be one of {DISTANCES}, got {self.distance!r}.")
        _positive_int("max_seq_length", self.max_seq_length)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {self.seed!r}.")
        _positive_int("threads", self.threads, allow_none=True)
        _positive_int("snapshot_every", self.snapshot_every, allow_none=True)
        if self.progress not in PROGRESS_MODES:
            raise ValueError(f"progress must be one of {PROGRESS_MODES}, got {self.progress!r}.")


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
    """What :func:`train_triplets` returns.

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


def check_triplets(triplets: object, columns: Sequence[str] = TRIPLET_COLUMNS) -> pd.DataFrame:
    """Return the ``columns`` (default anchor/positive/negative) of ``triplets``, or raise."""
    if not isinstance(triplets, pd.DataFrame):
        raise TypeError(
            f"triplets must be a pandas DataFrame with columns {list(columns)}, got "
            f"{type(triplets).__name__}. Build one with "
            "cu.triplets.make_triplets(frame, group_col='topic')."
        )
    missing = [col for col in columns if col not in triplets.columns]
    if missing:
        raise ValueError(
            f"triplets lacks column(s) {missing}; it has {list(triplets.columns)}. "
            "Build it with cu.triplets.make_triplets(frame, group_col='topic'), or rename your "
            "columns."
        )
    if len(triplets) == 0:
        raise ValueError("triplets has no rows; there is nothing to train on.")
    frame = triplets.loc[:, list(columns)].reset_index(drop=True)
    for col in columns:
        bad = ~frame[col].map(lambda text: isinstance(text, str) and text.strip() != "")
        if bad.any():
            rows = list(frame.index[bad][:5])
            raise ValueError(
                f"triplets[{col!r}] has {int(bad.sum())} empty or non-text value(s) "
                f"(rows {rows}). Every cell must be a sentence; drop those rows."
            )
    return frame


def _check_texts(texts: object, name: str) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Sequence | pd.Series | np.ndarray):
        raise TypeError(f"{name} must be a list of sentences, got {type(texts).__name__}.")
    texts = list(texts)
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ValueError(f"{name} must be a non-empty list of non-empty strings.")
    return texts


def world_size() -> int:
    """How many processes train together (``torchrun`` sets WORLD_SIZE; 1 otherwise)."""
    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


def is_main_process() -> bool:
    """True in the process that should print and save (rank 0, or the only process)."""
    return int(os.environ.get("RANK", "0")) == 0


def threads_per_process(requested: int | None = None) -> int:
    """Torch threads for this process: ``choose_threads()`` shared among local processes."""
    from course_utils.notebook_setup import choose_threads

    if requested is not None:
        return choose_threads(requested)
    local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    return max(1, choose_threads() // local)


@contextmanager
def offline_hub() -> Iterator[None]:
    """Force HF_HUB_OFFLINE=1 for the duration (``model.save`` asks the hub otherwise)."""
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous


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


def _make_recorder(result: TrainingResult, eval_texts: list[str] | None,
                   config: TrainingConfig) -> Any:
    """A TrainerCallback that records losses, takes snapshots and shows progress (rank 0)."""
    from transformers import TrainerCallback  # imported here: transformers is heavy

    class Recorder(TrainerCallback):
        def __init__(self) -> None:
            self.bar = None
            self.started = 0.0
            self.last_loss: float | None = None

        def _elapsed(self) -> float:
            return time.perf_counter() - self.started - result.snapshot_seconds

        def _snapshot(self, model, step: int) -> None:
            if eval_texts is None or not is_main_process():
                return
            if result.snapshots and result.snapshots[-1].step == step:
                return
            seconds = self._elapsed()
            start = time.perf_counter()
            vectors = encode_texts(model, eval_texts)
            result.snapshot_seconds += time.perf_counter() - start
            result.snapshots.append(Snapshot(step, vectors, self.last_loss, seconds))

        def on_train_begin(self, args, state, control, model=None, **kwargs):
            self.started = time.perf_counter()
            if is_main_process() and config.progress == "bar":
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
            result.losses.append((step, self.last_loss))
            if self.bar is not None:
                self.bar.set_postfix(loss=f"{self.last_loss:.3f}", refresh=False)
                self.bar.update(step - self.bar.n)
            every = config.snapshot_every
            if every and step % every == 0 and step < state.max_steps:
                self._snapshot(model, step)
                if config.progress == "print" and is_main_process():
                    self._print(step, state.max_steps)

        def _print(self, step: int, total: int) -> None:
            loss = "" if self.last_loss is None else f" | loss {self.last_loss:.3f}"
            print(f"step {step:>4}/{total}{loss} | {self._elapsed():5.1f} s", flush=True)

        def on_train_end(self, args, state, control, model=None, **kwargs):
            step = int(state.global_step)
            self._snapshot(model, step)
            result.train_seconds = self._elapsed()
            if self.bar is not None:
                self.bar.update(step - self.bar.n)
                self.bar.close()
                self.bar = None
            if config.progress == "print" and is_main_process():
                self._print(step, state.max_steps)

    return Recorder()


def _training_arguments(config: TrainingConfig, output_dir: str, batch_size: int,
                        batch_sampler: str = "batch_sampler", **extra: Any):
    """The trainer's arguments; ``extra`` adds more (e.g. ``prompts``, notebook 08)."""
    import torch
    from sentence_transformers import SentenceTransformerTrainingArguments

    cuda = torch.cuda.is_available()
    return SentenceTransformerTrainingArguments(
        output_dir=output_dir,
        max_steps=config.max_steps if config.max_steps is not None else -1,
        num_train_epochs=config.epochs if config.epochs is not None else 1.0,
        per_device_train_batch_size=batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,  # transformers 5: a float below 1 is a ratio
        lr_scheduler_type="linear",
        seed=config.seed,
        data_seed=config.seed,
        logging_strategy="steps",
        logging_steps=1,
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        disable_tqdm=True,
        push_to_hub=False,
        use_cpu=not cuda,
        bf16=cuda and torch.cuda.is_bf16_supported(),
        fp16=cuda and not torch.cuda.is_bf16_supported(),
        ddp_backend=None if cuda or world_size() == 1 else "gloo",
        dataloader_drop_last=world_size() > 1,
        batch_sampler=batch_sampler,
        **extra,
    )


def _make_loss(model: SentenceTransformer, config: TrainingConfig):
    from sentence_transformers.sentence_transformer.losses import (
        TripletDistanceMetric,
        TripletLoss,
    )

    metric = {
        "euclidean": TripletDistanceMetric.EUCLIDEAN,
        "cosine": TripletDistanceMetric.COSINE,
    }[config.distance]
    return TripletLoss(model, distance_metric=metric, triplet_margin=float(config.margin))


def train_triplets(
    triplets: pd.DataFrame | Mapping[str, pd.DataFrame],
    model: SentenceTransformer | None = None,
    *,
    config: TrainingConfig | None = None,
    eval_texts: Sequence[str] | None = None,
    callbacks: Sequence[Any] = (),
    loss: Callable[[SentenceTransformer], Any] | None = None,
    prompts: Mapping[str, str] | None = None,
) -> TrainingResult:
    """Fine-tune ``model`` with triplet loss on ``triplets``; return losses and snapshots.

    Args:
        triplets: DataFrame with text columns anchor, positive, negative (others are ignored),
            e.g. from ``cu.triplets.make_triplets``; or a dict of them, one per named task
            (multi-task training, see :func:`course_utils.multitask.check_triplet_sets`).
        model: the SentenceTransformer to train **in place**; ``None`` loads a fresh copy of the
            course's default model, so re-running a cell never continues an earlier run.
        config: a :class:`TrainingConfig`; ``None`` uses the defaults.
        eval_texts: sentences to encode at step 0, every ``config.snapshot_every`` steps and at
            the end (e.g. the test split), for the timeline. ``None``: no snapshots.
        callbacks: extra ``transformers.TrainerCallback`` objects.
        loss: a function ``model -> sentence-transformers loss`` used instead of TripletLoss,
            e.g. ``lambda m: MultipleNegativesRankingLoss(m)`` (notebook 07). Then the
            ``negative`` column is optional ((anchor, positive) pairs suffice) and batches
            never repeat a text (the library's no-duplicates sampler), which in-batch-negative
            losses need: a repeated text would be its own negative.
        prompts: with a dict of tasks, a prompt per task name (e.g. ``{"topic": "topic: "}``),
            put in front of that task's texts in training and saved with the model.

    The trainer's scratch folder is a temporary directory that is removed afterwards; nothing
    is written to the repository. Under ``torchrun`` only rank 0 shows progress and snapshots.
    """
    config = TrainingConfig() if config is None else config
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}.")
    from course_utils import training_cache
    from course_utils.multitask import check_triplet_sets, trainer_extras

    if isinstance(triplets, Mapping):
        frame = check_triplet_sets(triplets, prompts)
    else:
        columns = TRIPLET_COLUMNS
        if loss is not None and isinstance(triplets, pd.DataFrame) and "negative" not in triplets:
            columns = TRIPLET_COLUMNS[:2]
        frame = check_triplets(triplets, columns)
    extra = trainer_extras(frame, prompts)  # {} for one DataFrame
    rows = min(len(part) for part in frame.values()) if extra else len(frame)
    texts = None if eval_texts is None else _check_texts(eval_texts, "eval_texts")
    batch_size = min(config.batch_size, rows // world_size())
    if batch_size < 1:
        raise ValueError(
            f"{rows} triplet(s) cannot be shared among {world_size()} processes; "
            "make more triplets or launch fewer processes."
        )
    config = replace(config, batch_size=batch_size)
    if model is None:
        from course_utils.models import load_model

        model = load_model()
    if not hasattr(model, "encode") or not hasattr(model, "tokenizer"):
        raise TypeError(
            f"model must be a SentenceTransformer, got {type(model).__name__}. "
            "Pass cu.models.load_model() or leave it out."
        )
    from course_utils.notebook_setup import quiet_logging, set_torch_threads

    quiet_logging()
    set_torch_threads(threads_per_process(config.threads))
    release_memory()  # what earlier runs freed: training then starts from a compact heap
    model.max_seq_length = config.max_seq_length
    result = TrainingResult(model=model, config=config)
    key = (training_cache.run_key(frame, config, loss, extra.get("prompts"), texts, model)
           if training_cache.folder() else None)  # only the test suite sets the cache
    stored = training_cache.load(key, model) if key else None
    if stored is not None:
        for name, value in stored.items():
            setattr(result, name, value)
        model.prompts.update(extra.get("prompts", {}))
        return result
    scratch = tempfile.mkdtemp(prefix="course-training-")
    try:
        trainer = _build_trainer(model, frame, config, scratch, batch_size,
                                 [_make_recorder(result, texts, config), *callbacks], loss,
                                 **extra)
        with offline_hub():
            trainer.train()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    del trainer
    release_memory()
    if extra.get("prompts"):  # saved with the model: model.encode(..., prompt_name="topic")
        model.prompts.update(extra["prompts"])
    if key:
        training_cache.store(key, model, {
            name: getattr(result, name)
            for name in ("losses", "snapshots", "train_seconds", "snapshot_seconds")})
    return result


def _call_glibc(function: str, *args: int) -> None:
    """Call glibc's ``function(*args)`` on Linux; do nothing on other systems or C libraries."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        getattr(libc, function)(*args)
    except (OSError, AttributeError):  # musl or another libc without this function
        pass


def release_memory() -> None:
    """Give memory freed after training back to the operating system.

    The optimiser's state and the gradients (~400 MB here) are freed when training ends, but
    glibc keeps the freed pages for reuse, so a notebook kernel would stay that large. On Linux
    ``malloc_trim`` returns them (measured: 1055 -> 676 MB); elsewhere this only collects
    garbage.
    """
    import gc

    gc.collect()
    _call_glibc("malloc_trim", 0)


def warmup_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """The learning-rate multiplier for optimiser step ``step`` (0-based): never 0 while training.

    Warm-up climbs linearly to 1 over ``warmup_steps`` steps starting *above* zero (step ``i``
    of the warm-up gets ``(i + 1) / (warmup_steps + 1)``); then the rate decays linearly and
    the last step still gets ``1 / (total_steps - warmup_steps)``. The library's linear
    schedule starts at 0, so its first step changes nothing and a 1-step run saves the model
    it started from.
    """
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


@cache
def _trainer_class():
    """``SentenceTransformerTrainer`` with :func:`warmup_factor` as its schedule (built on
    first use: importing sentence-transformers is slow)."""
    from sentence_transformers import SentenceTransformerTrainer
    from torch.optim.lr_scheduler import LambdaLR

    class CourseTrainer(SentenceTransformerTrainer):
        """A trainer whose linear warm-up never runs a step at learning rate 0."""

        def create_scheduler(self, num_training_steps, optimizer=None):
            if self.lr_scheduler is None:
                warmup = self.args.get_warmup_steps(num_training_steps)
                self.lr_scheduler = LambdaLR(
                    optimizer if optimizer is not None else self.optimizer,
                    partial(warmup_factor, warmup_steps=warmup, total_steps=num_training_steps))
                self._created_lr_scheduler = True
            return self.lr_scheduler

    return CourseTrainer


def course_trainer(**kwargs: Any):
    """A ``SentenceTransformerTrainer(**kwargs)`` whose first step learns (see
    :func:`warmup_factor`); notebooks that build their own trainer use this instead."""
    return _trainer_class()(**kwargs)


def _build_trainer(model, frame: pd.DataFrame | dict[str, pd.DataFrame], config: TrainingConfig,
                   scratch: str, batch_size: int, callbacks: list, loss: Callable | None = None,
                   **extra: Any):
    """A quiet trainer. A dict of frames trains one TripletLoss per named set (notebook 08);
    ``loss`` replaces TripletLoss for one frame (notebook 07); ``extra`` goes to the training
    arguments."""
    from datasets import Dataset
    from transformers import PrinterCallback, ProgressCallback

    from course_utils.notebook_setup import seed_everything

    seed_everything(config.seed)
    # The model card wants "widget examples"; computing them draws a stray progress bar and
    # consumes Python's global random state. One example from our own data is enough.
    if not getattr(model.model_card_data, "widget", None):
        first = (next(iter(frame.values())) if isinstance(frame, dict) else frame).iloc[0]
        model.model_card_data.widget = [{
            "source_sentence": first["anchor"],
            "sentences": list(first.iloc[1:]),
        }]
    if isinstance(frame, dict):
        dataset = {name: Dataset.from_pandas(part, preserve_index=False)
                   for name, part in frame.items()}
        losses = {name: _make_loss(model, config) for name in frame}
    else:
        dataset = Dataset.from_pandas(frame, preserve_index=False)
        losses = _make_loss(model, config) if loss is None else loss(model)
    trainer = course_trainer(
        model=model,
        args=_training_arguments(config, scratch, batch_size,
                                 "batch_sampler" if loss is None else "no_duplicates", **extra),
        train_dataset=dataset,
        loss=losses,
        callbacks=list(callbacks),
    )
    trainer.remove_callback(PrinterCallback)  # the trainer's log-dict printer
    trainer.remove_callback(ProgressCallback)
    return trainer


def save_model(model: SentenceTransformer, output_dir: str | os.PathLike) -> Path:
    """Save ``model`` to ``output_dir`` (created) without asking the hub; return the path.

    ``SentenceTransformer(str(path))`` or ``cu.models.load_model(path)`` loads it offline.
    The files are written to a hidden folder beside ``output_dir`` and renamed into place when
    complete (``cu.safe_output.atomic_folder``): a kill while saving leaves no half model.
    """
    if not hasattr(model, "save"):
        raise TypeError(f"model must be a SentenceTransformer, got {type(model).__name__}.")
    if not isinstance(output_dir, (str, os.PathLike)):
        raise TypeError(f"output_dir must be a folder path, got {type(output_dir).__name__}.")
    path = Path(output_dir).expanduser()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(
            f"{path} exists and is not an empty folder; choose a new folder so nothing is "
            "overwritten."
        )
    from course_utils.safe_output import atomic_folder

    with offline_hub(), atomic_folder(path) as scratch:
        model.save(str(scratch))
    return path


def embedding_report(model: SentenceTransformer, train_frame: pd.DataFrame,
                     test_frame: pd.DataFrame, *, text_col: str = "text",
                     label_cols: Sequence[str] = ("topic", "sentiment"),
                     cache: bool = True, prompt: str | None = None) -> pd.DataFrame:
    """``cu.evaluation.label_report`` for ``model``: kNN, silhouette and probe per label.

    Train and test texts are encoded with the on-disk cache (keyed by the model's weights, so
    a fine-tuned model never reuses the base model's embeddings), each with ``prompt`` in
    front when one is given (e.g. ``"topic: "``, notebook 08).
    """
    from course_utils.embedding import encode
    from course_utils.evaluation import label_report

    for frame, name in ((train_frame, "train_frame"), (test_frame, "test_frame")):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name} must be a DataFrame, got {type(frame).__name__}.")
        if text_col not in frame.columns:
            raise ValueError(
                f"{name} has no text column {text_col!r}; columns are {list(frame.columns)}."
            )
    train = encode(train_frame[text_col].tolist(), model, cache=cache, prompt=prompt)
    test = encode(test_frame[text_col].tolist(), model, cache=cache, prompt=prompt)
    return label_report(train, train_frame, test, test_frame, label_cols=label_cols)


def before_after_report(before: SentenceTransformer | pd.DataFrame,
                        after: SentenceTransformer | pd.DataFrame,
                        train_frame: pd.DataFrame, test_frame: pd.DataFrame, *,
                        text_col: str = "text",
                        label_cols: Sequence[str] = ("topic", "sentiment")) -> pd.DataFrame:
    """The held-out report before and after training, side by side.

    ``before`` and ``after`` are models (encoded here) or reports already made with
    :func:`embedding_report`. Returns ``cu.evaluation.compare_reports``: columns
    (metric, before/after/change), one row per label column.
    """
    from course_utils.evaluation import compare_reports

    reports = []
    for value in (before, after):
        if isinstance(value, pd.DataFrame):
            reports.append(value)
        else:
            reports.append(embedding_report(value, train_frame, test_frame, text_col=text_col,
                                            label_cols=label_cols))
    return compare_reports(*reports)


def check_shift(comparison: pd.DataFrame, *, target: str = "sentiment", other: str = "topic",
                min_target_knn: float = MIN_SENTIMENT_KNN,
                max_other_knn: float = MAX_TOPIC_KNN) -> CheckResult:
    """Did training reorganise the space from ``other`` to ``target``? Three conditions:

    the target's kNN accuracy after training is at least ``min_target_knn``; the other label's
    kNN accuracy after is at most ``max_other_knn``; the target's silhouette after is above the
    other's. ``comparison`` is :func:`before_after_report`'s table.
    """
    try:
        knn = comparison["knn_accuracy"]
        sil = comparison["silhouette"]
        t_before, t_after = float(knn.loc[target, "before"]), float(knn.loc[target, "after"])
        o_before, o_after = float(knn.loc[other, "before"]), float(knn.loc[other, "after"])
        ts, os_ = float(sil.loc[target, "after"]), float(sil.loc[other, "after"])
    except (KeyError, TypeError) as error:
        return fail(f"the table lacks {error}; pass the output of before_after_report().",
                    name="shift")
    problems = []
    if t_after < min_target_knn:
        problems.append(f"{target} kNN accuracy is {t_after:.3f} (< {min_target_knn})")
    if o_after > max_other_knn:
        problems.append(f"{other} kNN accuracy is still {o_after:.3f} (> {max_other_knn})")
    if ts <= os_:
        problems.append(f"{target} silhouette {ts:.3f} is not above {other}'s {os_:.3f}")
    numbers = (
        f"{target} kNN {t_before:.3f} -> {t_after:.3f}; {other} kNN {o_before:.3f} -> "
        f"{o_after:.3f}; silhouette after: {target} {ts:.3f} vs {other} {os_:.3f}"
    )
    if problems:
        return fail(
            f"{'; '.join(problems)}. ({numbers}.) Try more steps or a higher learning rate, "
            "and negatives from the same group (negatives='same_group').", name="shift")
    return ok(f"the space now follows {target}, not {other}: {numbers}.", name="shift")


def assert_shift(comparison: pd.DataFrame, **kwargs: Any) -> CheckResult:
    """:func:`check_shift`, printed; raises :class:`ShiftNotReachedError` if it failed."""
    result = check_shift(comparison, **kwargs)
    print(result, file=sys.stdout)
    if not result.passed:
        raise ShiftNotReachedError(result.message)
    return result


def snapshot_metrics(embeddings: np.ndarray, labels: dict[str, Sequence], *, k: int = 5
                     ) -> dict[str, float]:
    """Per label: silhouette and leave-one-out kNN accuracy within one snapshot's texts.

    Snapshots only hold the evaluation texts, so kNN here predicts each text from its ``k``
    nearest other evaluation texts (not from the train split as in the held-out report).
    Returns e.g. ``{"topic silhouette": 0.08, "topic kNN": 0.86, ...}``.
    """
    from sklearn.neighbors import KNeighborsClassifier

    from course_utils.embedding import check_embeddings
    from course_utils.evaluation import silhouette

    array = check_embeddings(embeddings)
    if not isinstance(labels, dict) or not labels:
        raise TypeError("labels must be a dict like {'topic': [...], 'sentiment': [...]}.")
    metrics: dict[str, float] = {}
    for name, values in labels.items():
        y = np.asarray(values).astype(str)
        if len(y) != len(array):
            raise ValueError(
                f"labels[{name!r}] has {len(y)} values for {len(array)} embeddings; they must "
                "match one to one."
            )
        metrics[f"{name} silhouette"] = silhouette(array, y)
        neighbours = KNeighborsClassifier(n_neighbors=min(k + 1, len(y)), metric="cosine")
        neighbours.fit(array, y)
        index = neighbours.kneighbors(array, return_distance=False)[:, 1:]  # drop self
        votes = [pd.Series(y[row]).value_counts().index[0] for row in index]
        metrics[f"{name} kNN"] = float(np.mean(np.asarray(votes) == y))
    return metrics
