"""The course's presets for whole training runs (command line, ``make experiments``, notebooks
06-08): :class:`TrainingConfig`, :func:`train_triplets` and :func:`train_labelled`, which build
the dataset and loss and call :func:`course_utils.training.fine_tune` (notebook 05's cell), and
the checks on their data. Timings are in docs/training.md and docs/benchmarks.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from course_utils.training import PROGRESS_MODES, TrainingResult, fine_tune
from course_utils.triplets import validate_distance
from course_utils.validation import (
    validate_eval_texts,
    validate_non_empty_dict,
    validate_positive_number,
    validate_snapshot_steps,
    validate_whole_number,
)

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

TRIPLET_COLUMNS = ("anchor", "positive", "negative")


def validate_triplets(triplets: object, columns: Sequence[str] = TRIPLET_COLUMNS) -> pd.DataFrame:
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


def validate_labelled(sentences: object, text_col: str = "text",
                   label_col: str = "label") -> pd.DataFrame:
    """(sentence, label) rows as a DataFrame with columns ``text`` and ``label`` (labels numbered
    in sorted order), or raise. Every label needs two sentences: batch mining takes the positive
    from the anchor's own label.
    """
    if not isinstance(sentences, pd.DataFrame):
        raise TypeError(f"sentences must be a pandas DataFrame with columns {text_col!r} and "
                        f"{label_col!r}, got {type(sentences).__name__}.")
    missing = [col for col in (text_col, label_col) if col not in sentences.columns]
    if missing:
        raise ValueError(f"sentences lacks column(s) {missing}; it has "
                         f"{list(sentences.columns)}. Pass text_col= and label_col=.")
    texts = validate_triplets(sentences.rename(columns={text_col: "text"}), ("text",))["text"]
    labels = sentences[label_col].reset_index(drop=True)
    if labels.isna().any():
        raise ValueError(f"sentences[{label_col!r}] has missing labels; fill or drop them.")
    counts = labels.astype(str).value_counts()
    if len(counts) < 2 or (counts < 2).any():
        raise ValueError(f"sentences[{label_col!r}] needs at least two labels with two or more "
                         f"sentences each; it has {counts.to_dict()}.")
    codes = {label: number for number, label in enumerate(sorted(counts.index))}
    return pd.DataFrame({"text": texts, "label": labels.astype(str).map(codes).astype(int)})


#: Batches come from the tasks in turn (sentence-transformers' "round_robin"), so each task
#: gets the same number of steps whatever its size.
TASK_SAMPLER = "round_robin"

def _is_task_name(name: object) -> bool:
    """A letter (any alphabet: 'stimmung', 'тема'), then letters, digits, ``_`` or ``-``: it
    names a prompt and a dataset."""
    return (isinstance(name, str) and name[:1].isalpha()
            and all(char.isalnum() or char in "_-" for char in name))


def validate_task_name(name: object) -> str:
    """Return ``name`` if it can name a task, else raise a ValueError that says why."""
    if not _is_task_name(name):
        raise ValueError(
            f"task name {name!r} must start with a letter and use only letters, digits, '_' "
            "and '-' (e.g. 'sentiment')."
        )
    if name in TRIPLET_COLUMNS:
        raise ValueError(f"task name {name!r} is a column name; call the task after its "
                         "question instead (e.g. 'topic').")
    return name


def validate_prompts(prompts: object, task_names: Sequence[str]) -> dict[str, str]:
    """Return ``{task: prompt}`` (empty if ``prompts`` is None), or raise with a fix."""
    if prompts is None:
        return {}
    if not isinstance(prompts, Mapping):
        raise TypeError(
            f"prompts must be a dict {{task name: prompt}}, e.g. {{'topic': 'topic: '}}; got "
            f"{type(prompts).__name__}."
        )
    unknown = [name for name in prompts if name not in task_names]
    if unknown:
        raise ValueError(f"prompts name task(s) {unknown} that are not in the triplet sets "
                         f"{list(task_names)}.")
    for name, prompt in prompts.items():
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError(f"the prompt of task {name!r} must be non-empty text such as "
                             f"'{name}: ', got {prompt!r}.")
    return dict(prompts)


def validate_triplet_sets(sets: object, prompts: object = None) -> dict[str, pd.DataFrame]:
    """Validate ``{task name: triplets}`` (and the prompts); return the checked frames."""
    validate_non_empty_dict(sets, "the triplet sets", "{task name: triplets DataFrame}",
                            "{'sentiment': sentiment_triplets, 'topic': topic_triplets}")
    checked = {}
    for name, triplets in sets.items():
        try:
            checked[validate_task_name(name)] = validate_triplets(triplets)
        except (TypeError, ValueError) as error:
            raise type(error)(f"task {name!r}: {error}") from None
    validate_prompts(prompts, list(checked))
    return checked


def trainer_extras(frames: pd.DataFrame | Mapping[str, pd.DataFrame],
                   prompts: Mapping[str, str] | None) -> dict[str, Any]:
    """Extra training arguments for checked triplets: none for one DataFrame; for a dict of
    tasks the multi-dataset sampler and the prompts."""
    if not isinstance(frames, Mapping):
        if prompts:
            raise ValueError("prompts are given per task: pass the triplets as a dict "
                             "{task name: triplets} (e.g. {'topic': triplets}).")
        return {}
    return {"multi_dataset_batch_sampler": TASK_SAMPLER,
            "prompts": validate_prompts(prompts, list(frames)) or None}


#: How notebook 05 (and ``python -m course_utils.cli.train`` on the course data) builds triplets:
#: ``cu.triplets.make_triplets(train, **SENTIMENT_RECIPE)``. Negatives share the anchor's topic
#: and positives come from another topic, so only sentiment separates them (docs/training.md).
SENTIMENT_RECIPE = {
    "label_col": "sentiment",
    "group_col": "topic",
    "negatives": "same_group",
    "positives": "other_group",
}


@dataclass(frozen=True)
class TrainingConfig:
    """How to fine-tune. The defaults move the course dataset from topic to sentiment in well
    under a minute on 2 CPU cores (docs/benchmarks.md).

    Attributes:
        max_steps: optimiser steps. ``None``: use ``epochs``.
        learning_rate: AdamW peak learning rate (linear warm-up, then linear decay to 0).
        margin: the triplet margin, in units of ``distance``.
        distance: ``"euclidean"`` (between unit vectors, 0..2) or ``"cosine"`` (1 - cos, 0..2).
        seed: seeds the model's dropout, the data order and the trainer.
        snapshot_every: encode the evaluation texts every this many steps (plus step 0 and the
            end); ``None`` = only at step 0 and at the end.
        snapshot_steps: encode them at exactly these steps instead (increasing, none beyond
            ``max_steps``); when given, ``snapshot_every`` is set to ``None``.
        progress: ``"bar"``, ``"print"`` (the trainer's line per step) or ``"none"``.
        freeze_word_embeddings: keep the token-embedding table fixed (faster, same quality here).
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
        triplets: DataFrame with columns anchor, positive, negative; or a dict of them, one per
            named task, trained together with one TripletLoss each.
        model: trained **in place**; ``None`` loads a fresh copy of the course's default model.
        eval_texts: sentences to snapshot for the timeline. ``None``: no snapshots.
        callbacks: extra ``transformers.TrainerCallback`` objects.
        loss: a function ``model -> sentence-transformers loss`` used instead of TripletLoss
            (notebook 07); then ``negative`` is optional and batches never repeat a text.
        prompts: with a dict of tasks, a prompt per task name (e.g. ``{"topic": "topic: "}``).
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
    sampler = "batch_sampler" if loss is None else "no_duplicates"
    return _train(frame, rows, model, config, eval_texts, callbacks,
                  loss or (lambda m: triplet_loss(m, config)), sampler, extra)


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
    """Fine-tune ``model`` on labelled sentences with a loss that mines its own triplets, such as
    ``BatchHardTripletLoss`` (notebook 06); batches group several sentences per label.
    Otherwise as :func:`train_triplets`.
    """
    config = _validate_config(config)
    if not callable(loss):
        raise TypeError("loss must be a function model -> loss, e.g. "
                        "lambda m: BatchHardTripletLoss(m, margin=0.5).")
    frame = validate_labelled(sentences, text_col, label_col)
    return _train(frame, len(frame), model, config, eval_texts, callbacks, loss,
                  "group_by_label", {})


def triplet_loss(model: SentenceTransformer, config: TrainingConfig) -> Any:
    """``TripletLoss`` with the config's distance and margin (notebook 05 builds it in view)."""
    from sentence_transformers.sentence_transformer.losses import (
        TripletDistanceMetric,
        TripletLoss,
    )

    metric = {"euclidean": TripletDistanceMetric.EUCLIDEAN,
              "cosine": TripletDistanceMetric.COSINE}[config.distance]
    return TripletLoss(model, distance_metric=metric, triplet_margin=float(config.margin))


def _validate_config(config: object) -> TrainingConfig:
    """``config``, or the defaults when it is None; anything else raises."""
    config = TrainingConfig() if config is None else config
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}.")
    return config


def _train(frame: pd.DataFrame | dict[str, pd.DataFrame], rows: int,
           model: SentenceTransformer | None, config: TrainingConfig,
           eval_texts: Sequence[str] | None, callbacks: Sequence[Any], loss: Callable,
           batch_sampler: str, extra: dict[str, Any]) -> TrainingResult:
    """The run behind :func:`train_triplets` and :func:`train_labelled` on checked data."""
    from datasets import Dataset

    from course_utils.models import model_or_default

    texts = None if eval_texts is None else validate_eval_texts(eval_texts)
    processes = max(1, int(os.environ.get("WORLD_SIZE", "1")))  # torchrun sets it
    batch_size = min(config.batch_size, rows // processes)
    if batch_size < 1:
        raise ValueError(f"{rows} triplet(s) cannot be shared among {processes} processes; "
                         "make more triplets or launch fewer processes.")
    config = replace(config, batch_size=batch_size)
    model = model_or_default(model)
    model.max_seq_length = config.max_seq_length
    if isinstance(frame, dict):
        dataset = {name: Dataset.from_pandas(part, preserve_index=False)
                   for name, part in frame.items()}
        losses = {name: loss(model) for name in frame}
    else:
        dataset, losses = Dataset.from_pandas(frame, preserve_index=False), loss(model)
    steps = config.snapshot_steps or [step for step in range(1, (config.max_steps or 0) + 1)
                                      if config.snapshot_due(step, config.max_steps)]
    result = fine_tune(
        model, dataset, losses, eval_texts=texts, snapshot_steps=steps,
        freeze=config.freeze_word_embeddings, progress=config.progress, callbacks=callbacks,
        max_steps=config.max_steps if config.max_steps is not None else -1,
        num_train_epochs=config.epochs if config.epochs is not None else 1.0,
        per_device_train_batch_size=batch_size, learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio, seed=config.seed, data_seed=config.seed,
        logging_steps=1, batch_sampler=batch_sampler, **extra)
    result.config = config
    # The prompts are saved with the model: model.encode(..., prompt_name="topic").
    model.prompts.update(extra.get("prompts") or {})
    return result
