"""course_utils.multitask and the prompt-aware pieces it adds (notebook 08): named triplet
sets with prompts, encode(..., prompt=...) with its cache key, reports per prompt."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from course_utils import embedding, multitask, training_presets
from course_utils.multitask import TaskSpec
from course_utils.training_presets import TrainingConfig

TINY = dict(max_steps=2, batch_size=4, snapshot_every=None, progress="none")
GOOD = ["The soup was wonderful.", "Great rooms and a friendly desk.",
        "This phone charges fast.", "A moving, funny film."]
BAD = ["The soup was cold.", "Dirty rooms and a rude desk.", "This phone overheats.",
       "A dull, endless film."]


def _triplets(anchors, positives, negatives) -> pd.DataFrame:
    return pd.DataFrame({"anchor": anchors, "positive": positives, "negative": negatives})


@pytest.fixture()
def task_sets() -> dict[str, pd.DataFrame]:
    """Two small tasks that disagree: 'mood' pairs by sentiment, 'thing' by topic."""
    mood = _triplets(GOOD * 2, GOOD[1:] + GOOD[:1] + GOOD[2:] + GOOD[:2], BAD * 2)
    thing = _triplets(GOOD * 2, BAD * 2, GOOD[1:] + GOOD[:1] + GOOD[2:] + GOOD[:2])
    return {"mood": mood, "thing": thing}


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("name", ["", "1topic", "to pic", "topic:", None, "anchor"])
def test_bad_task_names_are_refused(name):
    with pytest.raises(ValueError, match="task name"):
        training_presets.validate_task_name(name)


def test_check_triplet_sets_names_the_task_at_fault(task_sets):
    assert list(training_presets.validate_triplet_sets(task_sets)) == ["mood", "thing"]
    with pytest.raises(TypeError, match="non-empty dict"):
        training_presets.validate_triplet_sets({})
    broken = {**task_sets, "thing": task_sets["thing"].drop(columns="negative")}
    with pytest.raises(ValueError, match="task 'thing'.*negative"):
        training_presets.validate_triplet_sets(broken)
    with pytest.raises(ValueError, match=r"not in the triplet sets \['mood', 'thing'\]"):
        training_presets.validate_triplet_sets(task_sets, {"topic": "topic: "})
    with pytest.raises(ValueError, match="non-empty text"):
        training_presets.validate_triplet_sets(task_sets, {"mood": "  "})
    with pytest.raises(TypeError, match="dict"):
        training_presets.validate_triplet_sets(task_sets, "mood: ")


def test_trainer_extras(task_sets):
    assert training_presets.trainer_extras(task_sets["mood"], None) == {}
    with pytest.raises(ValueError, match="per task"):
        training_presets.trainer_extras(task_sets["mood"], {"mood": "mood: "})
    extras = training_presets.trainer_extras(task_sets, {"mood": "mood: "})
    assert extras == {"multi_dataset_batch_sampler": "round_robin",
                      "prompts": {"mood": "mood: "}}
    assert training_presets.trainer_extras(task_sets, None)["prompts"] is None


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("sentiment:sentiment:topic", TaskSpec("sentiment", "sentiment", "topic")),
     ("topic:topic", TaskSpec("topic", "topic", None)),
     (" t : label : kind ", TaskSpec("t", "label", "kind"))],
)
def test_task_spec_parses(spec, expected):
    assert TaskSpec.parse(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [("sentiment", "not NAME:LABEL_COL"), ("a:b:c:d", "not NAME:LABEL_COL"),
     ("a::c", "not NAME:LABEL_COL"), ("9:label", "must start with a letter"),
     ("t:label:label", "must differ")],
)
def test_task_spec_errors_say_what_to_write(spec, message):
    with pytest.raises(ValueError, match=message) as error:
        TaskSpec.parse(spec)
    assert "\n" not in str(error.value)


def test_task_recipes_follow_the_single_task_cli():
    assert TaskSpec("s", "sentiment", "topic").recipe() == training_presets.SENTIMENT_RECIPE
    assert TaskSpec("t", "topic").recipe()["negatives"] == "random"


# ------------------------------------------------------------------ encode with a prompt
def test_encode_with_a_prompt_matches_the_library_and_has_its_own_cache(model, sentences,
                                                                        tmp_cache):
    plain = embedding.encode(sentences, model)
    prompted = embedding.encode(sentences, model, prompt="topic: ")
    direct = model.encode(sentences, prompt="topic: ", normalize_embeddings=True)
    np.testing.assert_allclose(prompted, direct, atol=1e-5)
    assert not np.allclose(plain, prompted, atol=1e-3)
    assert len(list((tmp_cache / "embeddings").glob("*.npy"))) == 2
    assert np.array_equal(embedding.encode(sentences, model, prompt="topic: "), prompted)
    assert np.array_equal(embedding.encode(sentences, model, prompt=""), plain)
    assert len(list((tmp_cache / "embeddings").glob("*.npy"))) == 2


def test_encode_refuses_a_prompt_that_is_not_text(model, sentences):
    with pytest.raises(TypeError, match="prompt must be a string"):
        embedding.encode(sentences, model, prompt=3)


# ------------------------------------------------------------------ training
def step_counter():
    """A trainer callback that lists the optimiser steps run (the loss is logged only every 5
    steps, too rarely for these tiny runs)."""
    from transformers import TrainerCallback

    class Steps(TrainerCallback):
        def __init__(self):
            self.steps: list[int] = []

        def on_step_end(self, args, state, control, **kwargs):
            self.steps.append(int(state.global_step))

    return Steps()


def test_two_tasks_train_in_turn_with_their_prompts(model, task_sets, monkeypatch):
    fresh = copy.deepcopy(model)
    seen: list[str | None] = []
    original = fresh.preprocess

    def spy(inputs, *args, prompt=None, **kwargs):
        seen.append(prompt)
        return original(inputs, *args, prompt=prompt, **kwargs)

    monkeypatch.setattr(fresh, "preprocess", spy)
    prompts = {"mood": "mood: ", "thing": "thing: "}
    config = TrainingConfig(**{**TINY, "max_steps": 4})
    counter = step_counter()
    training_presets.train_triplets(task_sets, fresh, config=config, prompts=prompts,
                                    callbacks=[counter])
    assert counter.steps == [1, 2, 3, 4]
    # The model card's dataset statistics tokenize each column once without a prompt; the
    # training batches follow: three columns per batch, one task per batch, tasks in turn.
    prompted = [prompt for prompt in seen if prompt is not None]
    per_batch = [set(prompted[i:i + 3]) for i in range(0, len(prompted), 3)]
    assert per_batch in ([{"mood: "}, {"thing: "}] * 2, [{"thing: "}, {"mood: "}] * 2)
    assert fresh.prompts["mood"] == "mood: " and fresh.prompts["thing"] == "thing: "
    vector = fresh.encode(["A fine film."], prompt_name="thing")
    assert vector.shape == (1, 384)


def test_tasks_without_prompts_train_and_leave_the_prompts_alone(model, task_sets):
    fresh = copy.deepcopy(model)
    before = dict(fresh.prompts)
    counter = step_counter()
    training_presets.train_triplets(task_sets, fresh, config=TrainingConfig(**TINY),
                                    callbacks=[counter])
    assert counter.steps == [1, 2] and fresh.prompts == before


def test_prompt_report_has_a_row_per_prompt(model, tmp_cache):
    rows = [(f"{word} {topic} review number {i}.", topic, mood)
            for topic, (good, bad) in {"hotel": ("lovely", "awful"),
                                       "phone": ("great", "broken")}.items()
            for mood, word in (("positive", good), ("negative", bad)) for i in range(5)]
    frame = pd.DataFrame(rows, columns=["text", "topic", "sentiment"])
    train, test = frame.iloc[::2].reset_index(drop=True), frame.iloc[1::2].reset_index(drop=True)
    table = multitask.prompt_report(model, train, test, {"none": None, "topic": "topic: "})
    assert list(table.index) == ["none", "topic"]
    assert ("knn_accuracy", "sentiment") in table.columns
    assert ("silhouette", "topic") in table.columns
    assert table.to_numpy().min() >= -1 and table["knn_accuracy"].to_numpy().max() <= 1
