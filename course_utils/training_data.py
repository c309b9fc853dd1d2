"""What :func:`course_utils.training.train_triplets` trains on, checked with errors that say
what to fix: one triplet DataFrame (:func:`validate_triplets`), or a dict of named triplet sets
with a prompt per task (:func:`validate_triplet_sets`, notebook 08), and the training arguments
such a dict needs (:func:`trainer_extras`). Labelled sentences for
:func:`course_utils.training.train_labelled` are checked by :func:`validate_labelled`, the
sentences snapshotted during training by :func:`validate_eval_texts` and the steps to
snapshot by :func:`validate_snapshot_steps`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from course_utils.validation import is_whole_number, validate_non_empty_dict

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
    """(sentence, label) rows as a DataFrame with columns ``text`` and ``label`` (whole
    numbers, the labels numbered in sorted order), or raise with what to fix.

    Every label needs at least two sentences: a batch-mining loss takes the positive from the
    anchor's own label.
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

#: A task name: letters, digits, ``_`` and ``-`` (it names a prompt and a dataset).
TASK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def validate_task_name(name: object) -> str:
    """Return ``name`` if it can name a task, else raise a ValueError that says why."""
    if not isinstance(name, str) or not TASK_NAME.match(name):
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


def validate_eval_texts(texts: object) -> list[str]:
    """``texts`` (the sentences encoded at every snapshot) as a list of non-empty strings."""
    if isinstance(texts, str) or not isinstance(texts, Sequence | pd.Series | np.ndarray):
        raise TypeError(f"eval_texts must be a list of sentences, got {type(texts).__name__}.")
    texts = list(texts)
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ValueError("eval_texts must be a non-empty list of non-empty strings.")
    return texts


def validate_snapshot_steps(steps: object, max_steps: int | None) -> tuple[int, ...]:
    """``steps`` as a tuple of increasing whole numbers >= 0 (<= ``max_steps`` when known);
    raises ValueError with what was wrong otherwise."""
    example = "e.g. snapshot_steps=(2, 4, 6, 10, 20)"
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence | np.ndarray):
        raise ValueError(f"snapshot_steps must be a list or tuple of step numbers ({example}), "
                         f"got {steps!r}.")
    values = list(steps)
    if not values:
        raise ValueError(f"snapshot_steps is empty; list at least one step ({example}) or pass "
                         "None for snapshots only at the start and the end.")
    for value in values:
        if not is_whole_number(value) or value < 0:
            raise ValueError(f"snapshot_steps must hold whole numbers >= 0, got {value!r} in "
                             f"{steps!r} ({example}).")
    values = [int(value) for value in values]
    if any(later <= earlier for earlier, later in zip(values[:-1], values[1:], strict=True)):
        raise ValueError(f"snapshot_steps must be increasing, without repeats; got {values}.")
    if max_steps is not None and values[-1] > max_steps:
        raise ValueError(f"snapshot_steps {values} asks for step {values[-1]}, but training "
                         f"stops after max_steps={max_steps}; drop the later steps or train "
                         "longer.")
    return tuple(values)
