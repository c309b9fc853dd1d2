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
    with pytest.warns(RuntimeWarning, match="ignored the entry abc.pt"):
        assert not training_replay.restore("abc", object(), [])
    assert not training_replay.restore("missing", object(), [])


def _entry(model, **changes) -> dict:
    """A stored run for ``model`` as :func:`training_replay.store` writes it, with ``changes``."""
    import torch

    return {"state": model.state_dict(), "batch_size": 4, "losses": [[1, 0.5]],
            "snapshots": [{"step": 0, "embeddings": torch.zeros(2, 3), "loss": None,
                           "seconds": 0.0}],
            "train_seconds": 1.0, "snapshot_seconds": 0.1, **changes}


class _Trainer:
    """The parts of a trainer that restore and store use."""

    def __init__(self, model) -> None:
        self.model = model


def test_an_entry_of_the_wrong_shape_is_a_miss_that_touches_nothing(tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv(training_replay.ENV, str(tmp_path))
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 2))
    other = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 5))  # first layer fits
    torch.save(_entry(other), tmp_path / "abc.pt")
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    with pytest.warns(RuntimeWarning, match="do not fit the model.*removed it"):
        assert not training_replay.restore("abc", _Trainer(model), [])
    assert not (tmp_path / "abc.pt").exists(), "the unusable entry is removed"
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name]), f"{name} was overwritten by a bad entry"


def test_an_entry_with_missing_fields_is_a_miss(tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv(training_replay.ENV, str(tmp_path))
    model = torch.nn.Linear(3, 3)
    entry = _entry(model)
    del entry["snapshots"]
    torch.save(entry, tmp_path / "abc.pt")
    record = type("Record", (), {"result": type("Result", (), {})()})()
    with pytest.warns(RuntimeWarning, match="KeyError"):
        assert not training_replay.restore("abc", _Trainer(model), [record])
    assert not (tmp_path / "abc.pt").exists()
    torch.save(_entry(model), tmp_path / "good.pt")
    assert training_replay.restore("good", _Trainer(model), [record])
    assert record.result.batch_size == 4 and record.result.snapshots[0].embeddings.shape == (2, 3)


def test_an_entry_that_is_a_folder_is_a_miss_and_blocks_no_run(tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv(training_replay.ENV, str(tmp_path))
    (tmp_path / "abc.pt").mkdir()
    with pytest.warns(RuntimeWarning, match="not a file.*delete .* by hand"):
        assert not training_replay.restore("abc", _Trainer(torch.nn.Linear(2, 2)), [])
    with pytest.warns(RuntimeWarning, match="could not store the run"):
        training_replay.store("abc", _Trainer(torch.nn.Linear(2, 2)), [])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["abc.pt"], "no partial file"


@pytest.mark.parametrize("problem", ["cache path is a file", "cache cannot be written"])
def test_a_failed_store_is_a_warning_and_the_trained_run_is_returned(tmp_path, monkeypatch,
                                                                        problem):
    import torch

    cache = tmp_path / "runs"
    if problem == "cache path is a file":
        cache.write_text("not a folder")
    else:  # as a read-only folder does (for root too): torch.save raises RuntimeError midway
        cache.mkdir()

        def fails_midway(obj, path):
            Path(path).write_bytes(b"x" * 1000)
            raise RuntimeError(f"File {path} cannot be opened.")

        monkeypatch.setattr(torch, "save", fails_midway)
    monkeypatch.setenv(training_replay.ENV, str(cache))
    monkeypatch.setattr(training_replay, "run_key", lambda trainer, records: "abc")

    class FakeTrainer:
        model = torch.nn.Linear(2, 2)
        callback_handler = type("Handler", (), {"callbacks": []})()

        def train(self):
            return "the trained run"

    training_replay.patch_trainer(FakeTrainer)
    with pytest.warns(RuntimeWarning, match="could not store the run.*returned as usual"):
        assert FakeTrainer().train() == "the trained run"
    if cache.is_dir():
        assert not list(cache.iterdir()), "no partial (hidden) file is left behind"


def test_without_the_variable_nothing_is_installed(monkeypatch):
    monkeypatch.delenv(training_replay.ENV, raising=False)
    before = list(sys.meta_path)
    training_replay.install()
    assert sys.meta_path == before and training_replay.folder() is None
