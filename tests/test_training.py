"""course_utils.training, training_presets and plots.training: tiny runs on a few sentences."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from course_utils import notebook_setup, training
from course_utils import training_presets as presets
from course_utils.training_presets import TrainingConfig

TINY = dict(max_steps=2, batch_size=4, snapshot_every=1, progress="none")


@pytest.fixture()
def triplets() -> pd.DataFrame:
    good = ["The soup was wonderful.", "Great rooms and a friendly desk.",
            "This phone charges fast.", "A moving, funny film."]
    bad = ["The soup was cold.", "Dirty rooms and a rude desk.",
           "This phone overheats.", "A dull, endless film."]
    rows = []
    for i in range(8):
        j = i % 4
        rows.append({"anchor": good[j], "positive": good[(j + 1) % 4], "negative": bad[j],
                     "group": "x"})
    return pd.DataFrame(rows)


@pytest.fixture()
def fresh_model(model):
    """A private copy of the session model: training changes weights in place."""
    return copy.deepcopy(model)


# ------------------------------------------------------------------ configuration and inputs
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_steps": 0}, "max_steps"),
        ({"max_steps": None}, "max_steps or epochs"),
        ({"max_steps": None, "epochs": -1}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"learning_rate": 3.0}, "at most"),
        ({"warmup_ratio": 1.0}, "warmup_ratio"),
        ({"margin": -1}, "margin"),
        ({"distance": "manhattan"}, "distance"),
        ({"seed": -1}, "seed"),
        ({"snapshot_every": 0}, "snapshot_every"),
        ({"progress": "loud"}, "progress"),
        ({"max_steps": True}, "max_steps"),
        ({"freeze_word_embeddings": "yes"}, "freeze_word_embeddings"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**kwargs)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ((), "empty"),
        ("2, 4", "list or tuple"),
        (5, "list or tuple"),
        ((2, -1), "whole numbers >= 0"),
        ((2, 2.5), "whole numbers >= 0"),
        ((True, 4), "whole numbers >= 0"),
        ((4, 2), "increasing"),
        ((2, 2, 4), "increasing"),
        ((2, 50), "max_steps=40"),
    ],
)
def test_snapshot_steps_are_checked(steps, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(max_steps=40, snapshot_steps=steps)


def test_snapshot_steps_pick_the_snapshots():
    """Explicit steps replace snapshot_every; step 0 and the last step are the recorder's."""
    config = TrainingConfig(max_steps=40, snapshot_steps=[2, 4, 10, 40])
    assert config.snapshot_steps == (2, 4, 10, 40)  # a tuple: hashable, stable repr
    assert config.snapshot_every is None, "the listed steps replace snapshot_every"
    due = [step for step in range(1, 41) if config.snapshot_due(step, 40)]
    assert due == [2, 4, 10]  # step 40 is the end snapshot, taken anyway
    every = TrainingConfig(max_steps=40, snapshot_every=10)
    assert [s for s in range(1, 41) if every.snapshot_due(s, 40)] == [10, 20, 30]
    never = TrainingConfig(max_steps=40, snapshot_every=None)
    assert not any(never.snapshot_due(s, 40) for s in range(1, 41))
    epochs = TrainingConfig(max_steps=None, epochs=1, snapshot_steps=(100,))  # total unknown
    assert epochs.snapshot_due(100, 200)


def test_the_default_margin_can_be_met_by_unit_vectors():
    """With the default margin and distance, a perfectly ordered triplet of unit vectors costs
    nothing, so training can finish triplets (the library's margin 5 never lets it). How long
    the default training takes is measured by benchmarks/ (docs/benchmarks.md), not here."""
    import torch

    from course_utils.losses import triplet_loss

    config = TrainingConfig()
    anchor = torch.nn.functional.normalize(torch.randn(8, 16, generator=torch.Generator()
                                                       .manual_seed(0)), dim=1)
    loss = triplet_loss(anchor, anchor.clone(), -anchor, margin=config.margin,
                        distance=config.distance)
    assert float(loss) == 0.0
    library_default = triplet_loss(anchor, anchor.clone(), -anchor, margin=5.0,
                                   distance=config.distance)
    assert float(library_default) > 0, "margin 5 stays unmet even by the best possible triplet"


def test_check_triplets_errors():
    with pytest.raises(TypeError, match="DataFrame"):
        presets.validate_triplets([("a", "b", "c")])
    with pytest.raises(ValueError, match="negative"):
        presets.validate_triplets(pd.DataFrame({"anchor": ["a"], "positive": ["b"]}))
    with pytest.raises(ValueError, match="no rows"):
        presets.validate_triplets(pd.DataFrame(columns=["anchor", "positive", "negative"]))
    with pytest.raises(ValueError, match="empty or non-text"):
        presets.validate_triplets(pd.DataFrame({"anchor": ["a", " "], "positive": ["b", "c"],
                                              "negative": ["c", None]}))


def test_a_loss_with_a_dict_of_tasks_is_refused_not_ignored(triplets):
    with pytest.raises(ValueError, match="one DataFrame"):
        presets.train_triplets({"a": triplets, "b": triplets}, config=TrainingConfig(**TINY),
                                loss=lambda model: None)


def test_train_triplets_rejects_bad_arguments(triplets):
    with pytest.raises(TypeError, match="TrainingConfig"):
        presets.train_triplets(triplets, config={"max_steps": 2})
    with pytest.raises(TypeError, match="SentenceTransformer"):
        presets.train_triplets(triplets, model="all-MiniLM-L6-v2",
                                config=TrainingConfig(**TINY))
    with pytest.raises(TypeError, match="list of sentences"):
        presets.train_triplets(triplets, config=TrainingConfig(**TINY), eval_texts="one text")


def test_the_command_line_shares_threads_among_torchrun_processes(monkeypatch):
    from course_utils.cli import train

    monkeypatch.setenv("RANK", "1")
    assert not train.is_main_process()
    monkeypatch.setenv("RANK", "0")
    assert train.is_main_process()


# ------------------------------------------------------------------ training
@pytest.mark.slow  # trains a model (seconds on 2 idle cores)
def test_tiny_run_records_losses_and_snapshots(fresh_model, triplets, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the trainer must not leave files in the working folder
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    texts = ["A lovely stay.", "An awful stay.", "Fast charging.", "Broken screen."]
    result = presets.train_triplets(triplets, fresh_model,
                                     config=TrainingConfig(**TINY), eval_texts=texts)
    assert result.model is fresh_model
    assert [step for step, _ in result.losses] == [1, 2]
    assert all(np.isfinite(loss) and loss >= 0 for _, loss in result.losses)
    assert [s.step for s in result.snapshots] == [0, 1, 2]
    assert result.snapshots[0].loss is None and result.snapshots[2].loss == result.losses[-1][1]
    for snapshot in result.snapshots:
        assert snapshot.embeddings.shape == (4, 384)
        assert snapshot.embeddings.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(snapshot.embeddings, axis=1), 1, atol=1e-4)
    assert not np.allclose(result.snapshots[0].embeddings, result.snapshots[-1].embeddings)
    assert result.train_seconds > 0 and result.snapshot_seconds > 0
    assert "2 steps" in result.summary()
    assert list(result.loss_frame().columns) == ["step", "loss"]
    assert [p.name for p in tmp_path.iterdir()] == ["tmp"]
    assert list((tmp_path / "tmp").iterdir()) == [], "the scratch folder must be removed"


@pytest.mark.slow
def test_same_seed_same_run(model, triplets):
    config = TrainingConfig(**{**TINY, "snapshot_every": None})
    texts = ["A lovely stay.", "An awful stay."]
    runs = [presets.train_triplets(triplets, copy.deepcopy(model), config=config,
                                    eval_texts=texts) for _ in range(2)]
    assert runs[0].losses == runs[1].losses
    np.testing.assert_array_equal(runs[0].snapshots[-1].embeddings,
                                  runs[1].snapshots[-1].embeddings)
    other = presets.train_triplets(triplets, copy.deepcopy(model),
                                    config=TrainingConfig(**{**TINY, "seed": 1}))
    assert other.losses != runs[0].losses


@pytest.mark.slow  # trains three tiny steps
def test_a_run_snapshots_at_the_listed_steps(fresh_model, triplets):
    config = TrainingConfig(max_steps=3, batch_size=4, snapshot_steps=(2,), progress="none")
    result = presets.train_triplets(triplets, fresh_model, config=config,
                                     eval_texts=["A lovely stay.", "An awful stay."])
    assert [s.step for s in result.snapshots] == [0, 2, 3]


@pytest.mark.slow  # trains a model (seconds on 2 idle cores)
def test_batch_is_capped_by_the_number_of_triplets(fresh_model, triplets):
    result = presets.train_triplets(triplets.head(3), fresh_model,
                                     config=TrainingConfig(max_steps=1, batch_size=16,
                                                           progress="none"))
    assert result.config.batch_size == 3


@pytest.mark.slow  # trains one step
def test_one_step_run_changes_the_weights(fresh_model, triplets):
    """The first optimiser step learns: warm-up never runs a step at learning rate 0."""
    before = [p.detach().clone() for p in fresh_model.parameters()]
    presets.train_triplets(triplets, fresh_model,
                            config=TrainingConfig(max_steps=1, batch_size=4, progress="none"))
    changed = [not np.array_equal(b.numpy(), a.detach().numpy())
               for b, a in zip(before, fresh_model.parameters(), strict=True)]
    assert sum(changed) > len(changed) // 2, "a 1-step run left the weights as they were"


def _word_table(model):
    return model[0].auto_model.get_input_embeddings().weight


@pytest.mark.parametrize("freeze", [True, False])
def test_the_word_embedding_table_trains_only_when_asked(fresh_model, triplets, freeze):
    """Frozen by default (faster, smaller), as notebook 05 shows."""
    table = _word_table(fresh_model).detach().clone()
    config = TrainingConfig(max_steps=1, batch_size=4, progress="none",
                            freeze_word_embeddings=freeze)
    presets.train_triplets(triplets, fresh_model, config=config)
    assert torch.equal(table, _word_table(fresh_model).detach()) == freeze
    assert _word_table(fresh_model).requires_grad != freeze


def test_freeze_word_embeddings_counts_the_frozen_weights(fresh_model):
    assert training.freeze_word_embeddings(fresh_model) == 30522 * 384
    assert not _word_table(fresh_model).requires_grad
    assert training.freeze_word_embeddings(fresh_model) == 0, "already frozen"


@pytest.mark.parametrize(("warmup", "total"), [(0, 1), (1, 1), (1, 2), (4, 40), (0, 40)])
def test_warmup_factor_is_never_zero_while_training(warmup, total):
    factors = [training.warmup_factor(step, warmup, total) for step in range(total)]
    assert all(0 < f <= 1 for f in factors), factors
    assert max(factors) == 1 or total <= warmup


@pytest.mark.slow  # trains a model (seconds on 2 idle cores)
def test_print_progress_is_the_trainers_log_line(fresh_model, triplets, capsys):
    config = TrainingConfig(max_steps=2, batch_size=4, snapshot_every=None, progress="print")
    presets.train_triplets(triplets, fresh_model, config=config)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and "'loss'" in lines[0] and "train_runtime" in lines[-1]
    config = TrainingConfig(max_steps=2, batch_size=4, snapshot_every=None, progress="none")
    presets.train_triplets(triplets, copy.deepcopy(fresh_model), config=config)
    assert capsys.readouterr().out.strip() == ""


@pytest.mark.slow  # trains a model (seconds on 2 idle cores)
def test_notebook_05s_cell_and_fine_tune_train_alike(model, triplets):
    """The training cell of notebook 05, written out, and fine_tune give the same weights."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.losses import TripletLoss

    data = Dataset.from_pandas(triplets[["anchor", "positive", "negative"]],
                               preserve_index=False)
    by_hand = copy.deepcopy(model)
    by_hand[0].auto_model.embeddings.word_embeddings.requires_grad_(False)
    loss = TripletLoss(by_hand, triplet_margin=0.5)
    with training.scratch_folder() as folder:
        args = training.training_arguments(folder, max_steps=3, per_device_train_batch_size=4)
        record = training.record_training(["A lovely stay."], snapshot_steps=(2,))
        trainer = SentenceTransformerTrainer(model=by_hand, args=args, train_dataset=data,
                                             loss=loss, callbacks=[record])
        trainer.lr_scheduler = training.warmup_that_learns(trainer)
        trainer.train()
    helper = copy.deepcopy(model)
    result = training.fine_tune(helper, data, TripletLoss(helper, triplet_margin=0.5),
                                max_steps=3, per_device_train_batch_size=4, progress="none",
                                eval_texts=["A lovely stay."], snapshot_steps=(2,))
    for a, b in zip(by_hand.parameters(), helper.parameters(), strict=True):
        assert torch.equal(a, b)
    assert [s.step for s in record.result.snapshots] == [s.step for s in result.snapshots]
    assert result.steps == 3 and result.model is helper and result.batch_size == 4


def test_record_training_refuses_bad_snapshot_requests():
    with pytest.raises(TypeError, match="list of sentences"):
        training.record_training("one sentence")
    with pytest.raises(ValueError, match="increasing"):
        training.record_training(["a"], snapshot_steps=(4, 2))
    with pytest.raises(ValueError, match="progress"):
        training.fine_tune(None, None, None, progress="loud")


def test_save_model_loads_offline(fresh_model, tmp_path, monkeypatch):
    from sentence_transformers import SentenceTransformer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = training.save_model(fresh_model, tmp_path / "saved")
    assert (path / "modules.json").exists()
    reloaded = SentenceTransformer(str(path), device="cpu")
    texts = ["A lovely stay.", "Broken screen."]
    np.testing.assert_allclose(reloaded.encode(texts), fresh_model.encode(texts), atol=1e-5)
    with pytest.raises(FileExistsError, match="not an empty folder"):
        training.save_model(fresh_model, path)
    with pytest.raises(TypeError):
        training.save_model("model", tmp_path / "x")


# ------------------------------------------------------------------ figures
def test_before_after_grid_layout():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils.plots.training import before_after_grid

    rng = np.random.default_rng(0)
    xy = rng.normal(size=(12, 2))
    labels = {"topic": ["hotels", "movies"] * 6, "sentiment": ["positive"] * 6 + ["negative"] * 6}
    fig = before_after_grid(xy, xy + 1, labels, suptitle="demo")
    panels = [ax for ax in fig.axes if ax.collections]
    assert len(panels) == 4
    assert panels[0].get_ylabel() == "before training"
    assert panels[2].get_ylabel() == "after training"
    assert panels[0].get_title() == "coloured by topic"
    assert sum(ax.get_legend() is not None for ax in panels) == 2  # bottom row only
    plt.close(fig)
    with pytest.raises(ValueError, match="same"):
        before_after_grid(xy, xy[:5], labels)
    with pytest.raises(ValueError, match="one to one"):
        before_after_grid(xy, xy, {"topic": ["a"]})


def test_loss_curve_and_pick_steps():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils.plots.training import loss_curve, pick_steps

    ax = loss_curve([(1, 0.5), (2, 0.4), (3, 0.1)], snapshot_at=[2], margin=0.5)
    assert len(ax.lines) == 2 and "margin 0.5" in ax.get_title()
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="empty"):
        loss_curve([])
    assert pick_steps([0, 10, 20, 30, 40, 50, 60], 4) == [0, 20, 40, 60]
    assert pick_steps([0, 5], 5) == [0, 5]


def test_a_pair_loss_trains_on_pairs_without_duplicates(fresh_model):
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    pairs = pd.DataFrame({
        "anchor": ["The soup was wonderful.", "Great rooms.", "This phone charges fast.",
                   "A moving film.", "The soup was cold.", "Dirty rooms."],
        "positive": ["Lovely food.", "A fine hotel.", "Quick to charge.", "A touching movie.",
                     "Awful food.", "A grim hotel."],
    })
    seen = []

    def loss(model):
        made = MultipleNegativesRankingLoss(model)
        seen.append(made)
        return made

    result = presets.train_triplets(pairs, fresh_model, loss=loss,
                                     config=TrainingConfig(max_steps=2, batch_size=3,
                                                           progress="none"))
    assert len(seen) == 1 and seen[0].model is fresh_model
    assert [step for step, _ in result.losses] == [1, 2]
    assert all(np.isfinite(value) and value > 0 for _, value in result.losses)
    with pytest.raises(ValueError, match="positive"):
        presets.train_triplets(pairs[["anchor"]], fresh_model, loss=loss)
    with pytest.raises(ValueError, match="negative"):  # triplet loss still needs negatives
        presets.train_triplets(pairs, fresh_model)


# ------------------------------------------------------------------ precision (issue 27)
@pytest.mark.parametrize(("setting", "expected"), [("float32", False), ("bf16", True),
                                                    (" BF16 ", True), ("FLOAT32", False)])
def test_course_precision_decides_bf16(monkeypatch, setting, expected):
    monkeypatch.setenv("COURSE_PRECISION", setting)
    assert training.use_bf16() is expected
    with training.scratch_folder() as folder:
        args = training.training_arguments(folder)
    assert args.bf16 is expected and args.fp16 is False


@pytest.mark.parametrize("setting", [None, "", "auto"])
def test_auto_precision_follows_the_chip(monkeypatch, setting):
    if setting is None:
        monkeypatch.delenv("COURSE_PRECISION", raising=False)
    else:
        monkeypatch.setenv("COURSE_PRECISION", setting)
    assert training.precision_setting() == "auto"
    assert training.use_bf16() is training.native_bf16()
    monkeypatch.setattr(notebook_setup, "native_bf16", lambda: False)
    assert training.use_bf16() is False


def test_native_bf16_reads_the_cpu_flags(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("the CPU path only")
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert training.native_bf16() is False
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert training.native_bf16() is True


def test_a_wrong_course_precision_says_what_to_set(monkeypatch):
    monkeypatch.setenv("COURSE_PRECISION", "half")
    with pytest.raises(ValueError, match="COURSE_PRECISION='half'.*auto, float32, bf16"):
        training.use_bf16()
