"""Notebook 06's other losses (benchmarks/experiments.py's train_with_loss) and
training_presets.train_labelled: tiny runs on a handful of sentences."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from benchmarks import experiments as training_losses
from course_utils import experiments as loss_names
from course_utils import training_presets as training
from course_utils.training_presets import TrainingConfig, validate_labelled

TINY = dict(max_steps=2, batch_size=4, progress="none", snapshot_every=None)
GOOD = ["The soup was wonderful.", "Great rooms and a friendly desk.",
        "This phone charges fast.", "A moving, funny film."]
BAD = ["The soup was cold.", "Dirty rooms and a rude desk.", "This phone overheats.",
       "A dull, endless film."]


@pytest.fixture()
def sentences() -> pd.DataFrame:
    return pd.DataFrame({"text": GOOD + BAD, "sentiment": ["positive"] * 4 + ["negative"] * 4})


@pytest.fixture()
def triplets() -> pd.DataFrame:
    return pd.DataFrame({"anchor": GOOD + BAD, "positive": GOOD[1:] + GOOD[:1] + BAD[1:] + BAD[:1],
                         "negative": BAD + GOOD})


def test_labelled_sentences_are_numbered_in_sorted_order(sentences):
    checked = validate_labelled(sentences, label_col="sentiment")
    assert list(checked.columns) == ["text", "label"]
    assert list(checked["label"]) == [1] * 4 + [0] * 4  # negative = 0, positive = 1


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ([("a", 1)], "DataFrame"),
        (pd.DataFrame({"text": ["a", "b"]}), "lacks column"),
        (pd.DataFrame({"text": ["a", "b", "c"], "label": [0, 0, 1]}), "two or more"),
        (pd.DataFrame({"text": ["a", " ", "c", "d"], "label": [0, 0, 1, 1]}), "empty"),
        (pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [0, None, 1, 1]}), "missing"),
    ],
)
def test_bad_labelled_sentences_are_rejected(frame, message):
    with pytest.raises((TypeError, ValueError), match=message):
        validate_labelled(frame)


#: train_triplets' own tests cover the triplet and pair paths; batch-hard's labelled path is new.
SLOW_PATHS = (loss_names.TRIPLET, loss_names.IN_BATCH, loss_names.IN_BATCH_HARD)


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[pytest.mark.slow] if name in SLOW_PATHS else [])
    for name in loss_names.LOSS_NAMES])
def test_every_loss_trains_a_few_steps(model, triplets, sentences, name):
    result = training_losses.train_with_loss(name, triplets, sentences,
                                             config=TrainingConfig(**TINY),
                                             model=copy.deepcopy(model))
    assert [step for step, _ in result.losses] == [1, 2]
    assert all(np.isfinite(value) for _, value in result.losses)
    assert result.train_seconds > 0


def test_the_in_batch_losses_see_the_right_columns(monkeypatch, triplets):
    seen = {}

    def fake_train(frame, model, *, config, loss=None):
        seen["columns"], seen["loss"] = list(frame.columns), loss
        return "result"

    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    monkeypatch.setattr(training, "train_triplets", fake_train)
    training_losses.train_with_loss(loss_names.IN_BATCH, triplets)
    assert seen["columns"] == ["anchor", "positive"]
    assert seen["loss"] is MultipleNegativesRankingLoss
    training_losses.train_with_loss(loss_names.IN_BATCH_HARD, triplets)
    assert seen["columns"] == ["anchor", "positive", "negative"]


def test_bad_requests_say_what_is_needed(triplets):
    with pytest.raises(ValueError, match="loss_name must be one of"):
        training_losses.train_with_loss("ContrastiveLoss", triplets)
    with pytest.raises(ValueError, match="sentences="):
        training_losses.train_with_loss(loss_names.BATCH_HARD, triplets)
    with pytest.raises(ValueError, match="columns"):
        training_losses.train_with_loss(loss_names.IN_BATCH_HARD, triplets[["anchor"]])
    with pytest.raises(TypeError, match="loss must be a function"):
        training.train_labelled(pd.DataFrame({"text": ["a"], "label": [0]}), loss=None)
