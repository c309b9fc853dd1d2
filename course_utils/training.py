"""Fine-tuning a sentence-embedding model with triplet loss, sized for a laptop CPU.

A thin layer over sentence-transformers' ``SentenceTransformerTrainer`` and ``TripletLoss``:

* :class:`TrainingConfig` holds CPU-friendly defaults chosen by measurement (see
  ``docs/training.md``): 40 steps of 16 triplets at learning rate 2e-4, euclidean distance
  with margin 0.5, sequences cut at 64 tokens, torch threads from ``choose_threads()``.
* :func:`train_triplets` trains on an (anchor, positive, negative) DataFrame and returns a
  ``TrainingResult`` (``course_utils.training_record``): the loss at every step and
  **snapshots** - the embeddings of a fixed evaluation set at step 0, every
  ``snapshot_every`` steps (or at the listed ``snapshot_steps``) and at the end, for the
  timeline.
* :func:`save_model` writes a folder that ``SentenceTransformer(folder)`` loads offline.

The trainer itself (arguments, loss, warm-up) is built in ``course_utils.trainer``; the
held-out numbers before and after (``embedding_report``, ``claim_shift``) live in
``course_utils.evaluation``.

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

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

# release_memory is also public here: notebooks 06 and 07 call cu.training.release_memory()
# after dropping a model (a notebook should not reach into the private _memory module).
from course_utils._memory import release_memory as release_memory
from course_utils._memory import training_heap

# course_trainer is also public here: notebook 06 calls cu.training.course_trainer(...).
from course_utils.trainer import (
    build_trainer,
    is_main_process,
    offline_hub,
    threads_per_process,
    world_size,
)
from course_utils.trainer import course_trainer as course_trainer
from course_utils.training_data import (
    TRIPLET_COLUMNS,
    trainer_extras,
    validate_eval_texts,
    validate_labelled,
    validate_snapshot_steps,
    validate_triplet_sets,
    validate_triplets,
)
from course_utils.training_record import TrainingResult, make_recorder
from course_utils.triplets import validate_distance
from course_utils.validation import validate_positive_number, validate_whole_number

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

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


@dataclass(frozen=True)
class TrainingConfig:
    """How to fine-tune. The defaults move the course dataset from topic to sentiment in
    well under a minute on 2 idle CPU cores (16.7 s in ``make bench`` on 2026-11-30; see
    docs/benchmarks.md).

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
        snapshot_steps: encode them at exactly these steps instead (plus step 0 and the end),
            e.g. ``(2, 4, 6, 10, 20)``: dense where the space changes fast, early in training,
            sparse later. Increasing whole numbers, none beyond ``max_steps``. When given, it
            replaces ``snapshot_every``, which is then set to ``None`` (so the config shows
            what will happen).
        progress: ``"bar"`` (one tqdm bar), ``"print"`` (one line per snapshot) or ``"none"``.
        freeze_word_embeddings: keep the token-embedding table (half of the course model's
            parameters) fixed while training: faster steps, less memory, same quality here
            (see :func:`course_utils.trainer.frozen_word_embeddings`).
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
    snapshot_steps: tuple[int, ...] | None = None
    progress: str = "bar"
    freeze_word_embeddings: bool = True

    def __post_init__(self) -> None:
        validate_whole_number(self.max_steps, "max_steps", allow_none=True)
        if self.max_steps is None and self.epochs is None:
            raise ValueError("Give max_steps or epochs (both are None); e.g. max_steps=40.")
        if self.epochs is not None:
            validate_positive_number(self.epochs, "epochs", upper=1000)
        validate_whole_number(self.batch_size, "batch_size")
        validate_positive_number(self.learning_rate, "learning_rate", upper=1.0)
        if isinstance(self.warmup_ratio, bool) or not (
            isinstance(self.warmup_ratio, (int, float)) and 0 <= self.warmup_ratio < 1
        ):
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio!r}.")
        validate_positive_number(self.margin, "margin")
        validate_distance(self.distance)
        validate_whole_number(self.max_seq_length, "max_seq_length")
        validate_whole_number(self.seed, "seed", minimum=0)
        validate_whole_number(self.threads, "threads", allow_none=True)
        validate_whole_number(self.snapshot_every, "snapshot_every", allow_none=True)
        if not isinstance(self.freeze_word_embeddings, bool):
            raise ValueError("freeze_word_embeddings must be True or False, got "
                             f"{self.freeze_word_embeddings!r}.")
        if self.snapshot_steps is not None:
            # A tuple (hashable, stable repr for the training cache), even when given a list.
            object.__setattr__(self, "snapshot_steps",
                               validate_snapshot_steps(self.snapshot_steps, self.max_steps))
            object.__setattr__(self, "snapshot_every", None)
        if self.progress not in PROGRESS_MODES:
            raise ValueError(f"progress must be one of {PROGRESS_MODES}, got {self.progress!r}.")

    def snapshot_due(self, step: int, max_steps: int) -> bool:
        """Whether to snapshot after optimiser step ``step`` of ``max_steps`` (step 0 and the
        last step are taken anyway, by the recorder)."""
        if step >= max_steps:
            return False
        if self.snapshot_steps is not None:
            return step in self.snapshot_steps
        return bool(self.snapshot_every) and step % self.snapshot_every == 0


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
            (multi-task training, see :func:`course_utils.training_data.validate_triplet_sets`).
        model: the SentenceTransformer to train **in place**; ``None`` loads a fresh copy of the
            course's default model, so re-running a cell never continues an earlier run.
        config: a :class:`TrainingConfig`; ``None`` uses the defaults.
        eval_texts: sentences to encode at step 0, every ``config.snapshot_every`` steps (or
            at ``config.snapshot_steps``) and at the end (e.g. the test split), for the
            timeline. ``None``: no snapshots.
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
    config = _validate_config(config)
    if isinstance(triplets, Mapping):
        if loss is not None:
            raise ValueError(
                "loss= applies to one DataFrame; with a dict of tasks every task trains with "
                "TripletLoss. Train one task at a time to use another loss.")
        frame = validate_triplet_sets(triplets, prompts)
    else:
        columns = TRIPLET_COLUMNS
        if loss is not None and isinstance(triplets, pd.DataFrame) and "negative" not in triplets:
            columns = TRIPLET_COLUMNS[:2]
        frame = validate_triplets(triplets, columns)
    extra = trainer_extras(frame, prompts)  # {} for one DataFrame
    rows = min(len(part) for part in frame.values()) if extra else len(frame)
    return _train(frame, rows, model, config, eval_texts, callbacks, loss, extra)


def train_labelled(
    sentences: pd.DataFrame,
    model: SentenceTransformer | None = None,
    *,
    loss: Callable[[SentenceTransformer], Any],
    config: TrainingConfig | None = None,
    text_col: str = "text",
    label_col: str = "label",
    eval_texts: Sequence[str] | None = None,
    callbacks: Sequence[Any] = (),
) -> TrainingResult:
    """Fine-tune ``model`` on labelled sentences with a loss that builds its own contrasts.

    For losses such as ``BatchHardTripletLoss`` (notebook 06) that take (sentence, label)
    rows and mine anchors, positives and negatives inside each batch. Batches are drawn so
    that every label present has several sentences in the batch (the library's
    group-by-label sampler). Labels may be any values; they are numbered in sorted order.
    Otherwise as :func:`train_triplets` (same config, snapshots, progress and result).
    """
    config = _validate_config(config)
    if not callable(loss):
        raise TypeError("loss must be a function model -> loss, e.g. "
                        "lambda m: BatchHardTripletLoss(m, margin=0.5).")
    frame = validate_labelled(sentences, text_col, label_col)
    return _train(frame, len(frame), model, config, eval_texts, callbacks, loss, {},
                  batch_sampler="group_by_label")


def _validate_config(config: object) -> TrainingConfig:
    """``config``, or the defaults when it is None; anything else raises."""
    config = TrainingConfig() if config is None else config
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}.")
    return config


def _train(frame: pd.DataFrame | dict[str, pd.DataFrame], rows: int,
           model: SentenceTransformer | None, config: TrainingConfig,
           eval_texts: Sequence[str] | None, callbacks: Sequence[Any], loss: Callable | None,
           extra: dict[str, Any], batch_sampler: str | None = None) -> TrainingResult:
    """The run behind :func:`train_triplets` and :func:`train_labelled` on checked data."""
    from course_utils import training_cache

    texts = None if eval_texts is None else validate_eval_texts(eval_texts)
    batch_size = min(config.batch_size, rows // world_size())
    if batch_size < 1:
        raise ValueError(
            f"{rows} triplet(s) cannot be shared among {world_size()} processes; "
            "make more triplets or launch fewer processes."
        )
    config = replace(config, batch_size=batch_size)
    from course_utils.models import model_or_default
    from course_utils.notebook_setup import quiet_logging, set_torch_threads

    model = model_or_default(model)
    quiet_logging()
    set_torch_threads(threads_per_process(config.threads))
    model.max_seq_length = config.max_seq_length
    result = TrainingResult(model=model, config=config)
    key = (training_cache.run_key(frame, config, loss, extra.get("prompts"), texts, model)
           if training_cache.folder() else None)  # only the test suite sets the cache
    if not (key and training_cache.restore(key, model, result)):
        scratch = tempfile.mkdtemp(prefix="course-training-")
        with training_heap():  # fast steps; memory handed back when the optimiser state is gone
            try:
                recorder = make_recorder(result, texts, config, main=is_main_process())
                trainer = build_trainer(model, frame, config, scratch, batch_size,
                                        [recorder, *callbacks], loss,
                                        batch_sampler=batch_sampler, **extra)
                with offline_hub():
                    trainer.train()
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            del trainer
        if key:
            training_cache.store(key, model, result)
    # The prompts are saved with the model: model.encode(..., prompt_name="topic").
    model.prompts.update(extra.get("prompts") or {})
    return result


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
