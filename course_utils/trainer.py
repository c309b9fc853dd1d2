"""The trainer behind :func:`course_utils.training.train_triplets`: sentence-transformers'
``SentenceTransformerTrainer`` with quiet, offline, CPU-friendly arguments, a TripletLoss from
the :class:`~course_utils.training.TrainingConfig`, and a warm-up that never runs a step at
learning rate 0 (:func:`warmup_factor`).

:func:`course_trainer` is that trainer for notebooks that build their own (notebook 06 calls it
as ``cu.training.course_trainer``). Everything heavy is imported on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from sentence_transformers import SentenceTransformer

    from course_utils.training import TrainingConfig


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


@contextmanager
def frozen_word_embeddings(model: SentenceTransformer, freeze: bool = True) -> Iterator[int]:
    """Inside: the token-embedding tables of ``model`` get no gradient; yields how many
    parameters were frozen (0 when ``freeze`` is False or the model has no such table).

    all-MiniLM-L6-v2 keeps 11.7 M of its 22.7 M parameters in that table (30,522 tokens x 384),
    and a few hundred short sentences touch a few thousand of its rows. Training it anyway costs
    a 47 MB gradient plus 94 MB of AdamW state and a pass over all of it every step; frozen, a
    step is faster and the kernel ~100-200 MB smaller, with the same held-out quality
    (docs/training.md, "Where a step's time goes"). Afterwards the table trains again, so a
    model handed back to the student behaves like any other.
    """
    weights = []
    for module in model if freeze else ():
        try:
            table = module.auto_model.get_input_embeddings()
        except (AttributeError, NotImplementedError):
            continue
        if table is not None and table.weight.requires_grad:
            weights.append(table.weight)
    for weight in weights:
        weight.requires_grad_(False)
    try:
        yield sum(weight.numel() for weight in weights)
    finally:
        for weight in weights:
            weight.requires_grad_(True)


@cache
def _trainer_class():
    """``SentenceTransformerTrainer`` with :func:`warmup_factor` as its schedule (built on
    first use: importing sentence-transformers is slow)."""
    from sentence_transformers import SentenceTransformerTrainer
    from torch.optim.lr_scheduler import LambdaLR

    class CourseTrainer(SentenceTransformerTrainer):
        """A trainer whose linear warm-up never runs a step at learning rate 0 and which
        leaves the word-embedding table alone (:func:`frozen_word_embeddings`) unless
        ``freeze_word_embeddings=False``."""

        def __init__(self, *args, freeze_word_embeddings: bool = True, **kwargs):
            super().__init__(*args, **kwargs)
            self.freeze_word_embeddings = freeze_word_embeddings

        def train(self, *args, **kwargs):
            # The optimiser is built inside train(), from the parameters that need gradients.
            with frozen_word_embeddings(self.model, self.freeze_word_embeddings):
                return super().train(*args, **kwargs)

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


def build_trainer(model, frame: pd.DataFrame | dict[str, pd.DataFrame], config: TrainingConfig,
                   scratch: str, batch_size: int, callbacks: list, loss: Callable | None = None,
                   batch_sampler: str | None = None, **extra: Any):
    """A quiet trainer. A dict of frames trains one TripletLoss per named set (notebook 08);
    ``loss`` replaces TripletLoss for one frame (notebook 07); ``batch_sampler`` overrides the
    sampler (default: the library's plain one for TripletLoss, no duplicates with ``loss``);
    ``extra`` goes to the training arguments."""
    from datasets import Dataset
    from transformers import PrinterCallback, ProgressCallback

    from course_utils.notebook_setup import seed_everything

    seed_everything(config.seed)
    # The model card wants "widget examples"; computing them draws a stray progress bar and
    # consumes Python's global random state. One example from our own data is enough.
    if not getattr(model.model_card_data, "widget", None):
        first = (next(iter(frame.values())) if isinstance(frame, dict) else frame).iloc[0]
        texts = [value for value in first if isinstance(value, str)]  # not a label column
        model.model_card_data.widget = [{
            "source_sentence": texts[0],
            "sentences": texts[1:] or texts[:1],
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
        args=_training_arguments(
            config, scratch, batch_size,
            batch_sampler or ("batch_sampler" if loss is None else "no_duplicates"), **extra),
        train_dataset=dataset,
        loss=losses,
        callbacks=list(callbacks),
        freeze_word_embeddings=config.freeze_word_embeddings,
    )
    trainer.remove_callback(PrinterCallback)  # the trainer's log-dict printer
    trainer.remove_callback(ProgressCallback)
    return trainer
