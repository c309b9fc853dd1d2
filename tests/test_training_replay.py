"""tests/offline_guard/training_replay.py: the suite's replay of finished training runs."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "offline_guard"))
import training_replay  # noqa: E402

from course_utils import training  # noqa: E402

TEXTS = ["A lovely stay.", "An awful stay."]


@pytest.fixture()
def triplets() -> pd.DataFrame:
    good = ["The soup was wonderful.", "Great rooms.", "This phone charges fast.", "A moving film."]
    bad = ["The soup was cold.", "Dirty rooms.", "This phone overheats.", "A dull film."]
    return pd.DataFrame({"anchor": good * 2, "positive": good[1:] + good[:1] + good[1:] + good[:1],
                         "negative": bad * 2})


def _run(model, triplets, **overrides):
    from datasets import Dataset
    from sentence_transformers.sentence_transformer.losses import TripletLoss

    model = copy.deepcopy(model)
    data = Dataset.from_pandas(triplets, preserve_index=False)
    arguments = {"max_steps": 1, "per_device_train_batch_size": 4, **overrides}
    return training.fine_tune(model, data, TripletLoss(model, triplet_margin=0.5),
                              progress="none", eval_texts=TEXTS, logging_steps=1, **arguments)


@pytest.mark.slow  # trains three one-step runs
def test_a_run_is_replayed_only_when_nothing_changed(model, triplets, tmp_path, monkeypatch):
    from sentence_transformers import SentenceTransformerTrainer

    monkeypatch.setattr(SentenceTransformerTrainer, "train", SentenceTransformerTrainer.train)
    monkeypatch.setenv(training_replay.ENV, str(tmp_path / "runs"))
    training_replay.install()
    first = _run(model, triplets)
    assert len(list((tmp_path / "runs").glob("*.pt"))) == 1
    calls = []
    original = training_replay.store
    monkeypatch.setattr(training_replay, "store", lambda *a: calls.append(a) or original(*a))
    again = _run(model, triplets)
    assert not calls, "the stored run should have been replayed, not trained"
    assert again.losses == first.losses and again.train_seconds == first.train_seconds
    np.testing.assert_array_equal(again.snapshots[-1].embeddings, first.snapshots[-1].embeddings)
    for trained, loaded in zip(first.model.parameters(), again.model.parameters(), strict=True):
        assert np.array_equal(trained.detach().numpy(), loaded.detach().numpy())
    _run(model, triplets, seed=1)
    _run(model, triplets.iloc[::-1])
    assert len(calls) == 2, "a changed seed or changed data trains again"


def test_a_damaged_entry_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv(training_replay.ENV, str(tmp_path))
    (tmp_path / "abc.pt").write_bytes(b"not a torch file")
    assert not training_replay.restore("abc", object(), [])
    assert not training_replay.restore("missing", object(), [])


def test_without_the_variable_nothing_is_installed(monkeypatch):
    monkeypatch.delenv(training_replay.ENV, raising=False)
    before = list(sys.meta_path)
    training_replay.install()
    assert sys.meta_path == before and training_replay.folder() is None
