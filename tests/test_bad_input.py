"""Bad input gets an error a student can act on, across the public course_utils functions.

Each case feeds one kind of bad input (empty lists, mismatched lengths, NaN embeddings, unknown
or single-class labels, missing or malformed files, an unusable cache ...) and checks two
things: the right exception type, and a message that says what to do (the regex matches the
instruction, not just the complaint). Modules are imported plainly at the top: a renamed or
broken module fails the whole file at collection, loudly, never as skipped cases.

More bad-input cases live next to each module's tests (tests/test_data.py,
tests/test_models_and_embedding.py, tests/test_evaluation.py, tests/test_setup.py, ...); this
file covers the kinds of bad input across modules in one place.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import course_utils as cu
from course_utils import (
    data,
    embedding,
    evaluation,
    losses,
    models,
    notebook_setup,
    toy,
    training,
    training_presets,
    triplets,
    vader,
)
from course_utils.cli import train
from course_utils.plots import projection, scatter
from course_utils.widgets import contrast, margin

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Ctx:
    """What a case may need: a temporary folder, monkeypatch, and the model on demand."""

    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    request: pytest.FixtureRequest

    @property
    def model(self):
        return self.request.getfixturevalue("model")


@dataclass(frozen=True)
class Case:
    call: Callable[[Ctx], object]
    error: type[BaseException] | tuple[type[BaseException], ...]
    says_what_to_do: str  # regex matching the instruction part of the message


def frame(**overrides) -> pd.DataFrame:
    base = {
        "text": ["good soup", "cold soup", "great film", "dull film", "nice room", "noisy room"],
        "topic": ["food", "food", "film", "film", "hotel", "hotel"],
        "sentiment": ["positive", "negative"] * 3,
    }
    base.update(overrides)
    return pd.DataFrame(base)


def vectors(n: int = 6, dim: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def write(ctx: Ctx, name: str, payload: bytes) -> Path:
    path = ctx.tmp_path / name
    path.write_bytes(payload)
    return path


def under_a_file(ctx: Ctx) -> Path:
    """A folder path whose parent is a regular file: unwritable even for root."""
    blocker = ctx.tmp_path / "a_file"
    blocker.write_text("not a folder")
    return blocker / "cache"


def tensors(*shapes):
    import torch

    return [torch.randn(*shape) for shape in shapes]


def torch_nan():
    import torch

    return torch.from_numpy(NAN.copy())


NAN = np.where(np.eye(6, 4) > 0, np.nan, 1.0).astype(np.float32)
LABELS = np.array(["a", "b"] * 3)

CASES: dict[str, Case] = {
    # ---- files: missing, malformed ----------------------------------------------------------
    "csv path does not exist": Case(
        lambda c: data.read_csv(c.tmp_path / "missing" / "reviews.csv"),
        FileNotFoundError, r"Check the path"),
    "csv path is a folder": Case(
        lambda c: data.read_csv(c.tmp_path), data.DataValidationError,
        r"pass the path of a \.csv file"),
    "csv with ragged rows": Case(
        lambda c: data.read_csv(write(c, "ragged.csv", b"text,topic\na,b\nc,d,e,f,g\n")),
        data.DataValidationError, r"Check the delimiter is a comma"),
    "csv that is binary, not UTF-8": Case(
        lambda c: data.read_csv(write(c, "binary.csv", b"\xff\xfe\x00\x81garbage\n\x9c")),
        data.DataValidationError, r"Save it as UTF-8"),
    "csv saved by Excel as Windows-1252": Case(
        lambda c: data.read_csv(write(c, "excel.csv", "text,label\nok,a\ncafé bon,b\n"
                                      .encode("cp1252"))),
        data.DataValidationError,
        r"byte 0xe9 on line 3.*Windows-1252.*Save it as UTF-8 \(Excel: 'CSV UTF-8'"),
    "csv that is empty": Case(
        lambda c: data.read_csv(write(c, "empty.csv", b"")),
        data.DataValidationError, r"needs a header row and data rows"),
    "course dataset folder missing": Case(
        lambda c: (c.monkeypatch.setenv("COURSE_ASSETS_DIR", str(c.tmp_path / "nowhere")),
                   data.load_course_data()),
        FileNotFoundError, r"git checkout -- assets/data|build_course_dataset\.py"),
    "unknown split name": Case(
        lambda c: data.load_course_data("dev"), ValueError, r"one of \('all', 'train', 'test'\)"),
    # ---- dataframes: columns, labels --------------------------------------------------------
    "tab-separated columns read as one": Case(
        lambda c: data.validate_dataframe(pd.DataFrame({"text\ttopic\tsentiment": ["a\tb\tc"]})),
        data.DataValidationError, r"rename yours or pass the right names"),
    "unknown sentiment label": Case(
        lambda c: data.validate_dataframe(
            frame(sentiment=["positive", "negativ"] * 3),
            allowed_labels={"sentiment": data.SENTIMENTS}),
        data.DataValidationError, r"Fix the spelling or map them"),
    "single-class label column": Case(
        lambda c: data.validate_dataframe(frame(sentiment=["positive"] * 6)),
        data.DataValidationError, r"needs at least 2"),
    "missing labels": Case(
        lambda c: data.validate_dataframe(frame(topic=["food", None, "film", "film", "x", "x"])),
        data.DataValidationError, r"Fill them in or drop those rows"),
    "texts that are all numbers": Case(
        lambda c: data.validate_dataframe(frame(text=[1, 2, 3, 4, 5, 6])),
        data.DataValidationError, r"Name the column with the texts \(text_col / --text-col\)"),
    "labels spelled two ways (a trailing space)": Case(
        lambda c: data.validate_dataframe(frame(sentiment=["positive", "negative", "positive ",
                                                           "negative", "positive", "negative"])),
        data.DataValidationError, r"\['positive', 'positive '\].*str\.strip\(\)"),
    "missing texts (NaN) in a DataFrame": Case(
        lambda c: data.validate_dataframe(frame(text=["a", None, "b", "c", "d", "e"])),
        data.DataValidationError, r"\(rows \[1\]\)\. Drop them: frame = frame\[frame\['text'\]"
        r"\.fillna\(''\)"),
    "empty texts in a CSV are reported by line number": Case(
        lambda c: data.validate_dataframe(data.read_csv(write(
            c, "gaps.csv", b"text,topic,sentiment\na,x,p\n,x,n\nb,y,p\n  ,y,n\n"))),
        data.DataValidationError, r"line\(s\) \[3, 5\] of gaps\.csv\)\. Fill in the text"),
    "empty texts": Case(
        lambda c: data.validate_dataframe(frame(text=["a", "  ", "b", "c", "d", "e"])),
        data.DataValidationError, r"Drop them"),
    "stratify by a missing column": Case(
        lambda c: data.stratified_split(frame(), "domain"),
        data.DataValidationError, r"columns are \['text', 'topic', 'sentiment'\]"),
    # ---- encoding ---------------------------------------------------------------------------
    "encode an empty list": Case(
        lambda c: embedding.encode([], c.model, cache=False), ValueError,
        r"pass at least one sentence"),
    "encode a bare string": Case(
        lambda c: embedding.encode("one review", c.model, cache=False), TypeError,
        r"Wrap it: encode\(\[text\]\)"),
    "encode numbers and NaN": Case(
        lambda c: embedding.encode(["fine", 3, float("nan")], c.model, cache=False), TypeError,
        r"Convert them with str\(\) or drop missing values"),
    "encode a text with a lone surrogate (a mis-decoded file)": Case(
        lambda c: embedding.encode(["fine", "bad \udc80"], c.model, cache=False), ValueError,
        r"texts \[1\] contain characters that are not valid Unicode.*Read the file as UTF-8"),
    "encode with a model name instead of a model": Case(
        lambda c: embedding.encode(["fine"], "all-MiniLM-L6-v2", cache=False), TypeError,
        r"Load it first: model = cu\.models\.load_model"),
    "encode with batch size zero": Case(
        lambda c: embedding.encode(["fine"], c.model, batch_size=0, cache=False), ValueError,
        r"positive whole number"),
    # ---- models -----------------------------------------------------------------------------
    "model given as a number": Case(
        lambda c: models.load_model(3), TypeError, r"Pass e\.g\. load_model\(\)"),
    "model path is a plain file": Case(
        lambda c: models.load_model(write(c, "model.bin", b"\x00" * 16)),
        models.ModelNotFoundError, r"Pass the folder that `model\.save"),
    "unknown hub model while offline": Case(
        lambda c: (c.monkeypatch.setenv("HF_HUB_OFFLINE", "1"),
                   models.load_model("nobody/no-such-model")),
        models.ModelNotFoundError, r"[Uu]se load_model\(\) for the default"),
    "a typo in a saved model's folder name": Case(
        lambda c: ((c.tmp_path / "my_model").mkdir(), c.monkeypatch.chdir(c.tmp_path),
                   models.load_model("my_modle")),
        models.ModelNotFoundError, r"There is no folder 'my_modle'.*Did you mean \['my_model'\]"),
    "a hub name with no network and no cu.setup()": Case(
        lambda c: (c.monkeypatch.setenv("HF_HUB_OFFLINE", "0"),
                   c.monkeypatch.setattr(models, "_hub_reachable", lambda: False),
                   c.monkeypatch.chdir(c.tmp_path), models.load_model("nobody/no-such-model")),
        models.ModelNotFoundError, r"the Hugging Face hub cannot be reached\. Check the spell"),
    # ---- embeddings and labels in the metrics -----------------------------------------------
    "metrics on empty lists": Case(
        lambda c: evaluation.knn_accuracy([], [], [], []), ValueError,
        r"non-empty 2-D array \(n_texts, dim\)"),
    "labels and embeddings of different lengths": Case(
        lambda c: evaluation.knn_accuracy(vectors(), LABELS[:5], vectors(), LABELS),
        ValueError, r"must match one to one \(same order\)"),
    "NaN embeddings": Case(
        lambda c: evaluation.probe_accuracy(NAN, LABELS, vectors(), LABELS), ValueError,
        r"re-encode the texts"),
    "single-class labels in silhouette": Case(
        lambda c: evaluation.silhouette(vectors(), ["a"] * 6), ValueError,
        r"needs at least two"),
    "labels that are None": Case(
        lambda c: evaluation.silhouette(vectors(), None), TypeError,
        r"pass one label per embedding row"),
    "labels with a missing value": Case(
        lambda c: evaluation.silhouette(vectors(), ["a", "b", None, "a", "b", "a"]),
        ValueError, r"fill or drop those rows first"),
    "k larger than the train set": Case(
        lambda c: evaluation.knn_accuracy(vectors(), LABELS, vectors(), LABELS, k=50),
        ValueError, r"between 1 and 6"),
    "train and test encoded by different models": Case(
        lambda c: evaluation.knn_accuracy(vectors(), LABELS, vectors(dim=8), LABELS),
        ValueError, r"encode both with the same model"),
    "report on a label column that does not exist": Case(
        lambda c: evaluation.label_report(vectors(), frame(), vectors(), frame(),
                                          label_cols=["domain"]),
        ValueError, r"columns are \['text', 'topic', 'sentiment'\]"),
    "embeddings of the wrong dimensionality": Case(
        lambda c: embedding.validate_embeddings(np.ones(4)), ValueError,
        r"non-empty 2-D array \(n_texts, dim\)"),
    # ---- setup ------------------------------------------------------------------------------
    "zero threads": Case(
        lambda c: cu.setup(threads=0, verbose=False, plots=False), ValueError,
        r"Leave it out to let setup\(\) choose"),
    "COURSE_THREADS not a number": Case(
        lambda c: (c.monkeypatch.setenv("COURSE_THREADS", "all"),
                   notebook_setup.choose_threads()),
        ValueError, r"unset it .* or set e\.g\. COURSE_THREADS=2"),
    # ---- triplets ---------------------------------------------------------------------------
    "triplets from a single class": Case(
        lambda c: triplets.make_triplets(frame(sentiment=["positive"] * 6),
                                                   group_col="topic"),
        ValueError, r"Use data with at least two labels"),
    "same-group negatives without a group column": Case(
        lambda c: triplets.make_triplets(frame(), negatives="same_group"),
        ValueError, r"group_col='topic'\), or use negatives='random'"),
    "unknown negative strategy": Case(
        lambda c: triplets.make_triplets(frame(), negatives="hardest"),
        ValueError, r"one of \('random', 'same_group', 'hard'\)"),
    "hard negatives without embeddings": Case(
        lambda c: triplets.make_triplets(frame(), negatives="hard"),
        ValueError, r"embeddings=cu\.embedding\.encode"),
    "embeddings and frame of different lengths": Case(
        lambda c: triplets.make_triplets(frame(), negatives="hard",
                                                   embeddings=vectors(n=5)),
        ValueError, r"Encode frame\[text_col\] again"),
    "a label with a single row": Case(
        lambda c: triplets.make_triplets(
            frame(sentiment=["positive"] * 5 + ["negative"]), negatives="random"),
        ValueError, r"Drop them or add examples"),
    "triplets from an empty frame": Case(
        lambda c: triplets.make_triplets(frame().iloc[:0]), ValueError,
        r"nothing to build triplets from"),
    # ---- losses -----------------------------------------------------------------------------
    "triplet loss on mismatched shapes": Case(
        lambda c: losses.triplet_loss(*tensors((4, 3), (4, 3), (5, 3)), margin=0.5),
        ValueError, r"row i of each belongs together"),
    "negative margin": Case(
        lambda c: losses.triplet_loss(*tensors((4, 3), (4, 3), (4, 3)), margin=-1),
        ValueError, r"try 0\.5"),
    "loss on a Python list": Case(
        lambda c: losses.triplet_loss([[0.0, 1.0]], *tensors((1, 2), (1, 2)),
                                                margin=0.5),
        TypeError, r"Convert it with torch\.as_tensor"),
    "loss on a single vector": Case(
        lambda c: losses.triplet_loss(*tensors((3,), (3,), (3,)), margin=0.5),
        ValueError, r"For a single vector use v\.unsqueeze\(0\)"),
    "loss on NaN embeddings": Case(
        lambda c: losses.triplet_loss(torch_nan(), *tensors((6, 4), (6, 4)),
                                                margin=0.5),
        ValueError, r"check the inputs"),
    "contrastive labels that are not 0/1": Case(
        lambda c: losses.contrastive_loss(*tensors((3, 2), (3, 2)), [0, 1, 2]),
        ValueError, r"only 0 and 1 \(1 = similar\)"),
    "contrastive labels of the wrong length": Case(
        lambda c: losses.contrastive_loss(*tensors((3, 2), (3, 2)), [0, 1]),
        ValueError, r"give one label per pair"),
    # ---- toy content ------------------------------------------------------------------------
    "a feature table with a text column": Case(
        lambda c: toy.weighted_distance(
            pd.DataFrame({"colour": ["red", "blue"]}, index=["a", "b"]), "a", "b"),
        ValueError, r"every feature must be numeric \(0/1 or a number\)"),
    "weights for a feature the table lacks": Case(
        lambda c: toy.weighted_distance(toy.animal_table(), "dog", "cat", {"wings": 1.0}),
        ValueError, r"features are \['has_tail'"),
    "more toy groups than the figures can tell apart": Case(
        lambda c: toy.make_toy_pairs(n_groups=9), ValueError, r"n_groups can be at most 5"),
    # ---- plots ------------------------------------------------------------------------------
    "projecting three points": Case(
        lambda c: projection.project_2d(vectors(n=3)), ValueError,
        r"Project a larger set"),
    "projecting NaN embeddings": Case(
        lambda c: projection.project_2d(NAN), ValueError,
        r"re-encode the texts"),
    "projection start of the wrong shape": Case(
        lambda c: projection.project_2d(vectors(), init=np.zeros((5, 2))),
        ValueError, r"one starting position per embedding row"),
    "scatter without labels": Case(
        lambda c: scatter.scatter_by_label(np.zeros((3, 2)), None), TypeError,
        r"pass one label per point"),
    "scatter of a 3-D layout": Case(
        lambda c: scatter.scatter_by_label(np.zeros((3, 3)), ["a"] * 3),
        ValueError, r"one row of 2-D coordinates per point"),
    # ---- widgets ----------------------------------------------------------------------------
    "explorer with fewer embeddings than texts": Case(
        lambda c: contrast.contrast_explorer(["a", "b", "c", "d"], vectors(3)),
        ValueError, r"must match one to one \(same order\)"),
    "explorer labels of the wrong length": Case(
        lambda c: contrast.contrast_explorer(
            ["a", "b", "c", "d"], vectors(4), labels=["x", "y"]),
        ValueError, r"must match one to one \(same order\)"),
    "explorer given a single string": Case(
        lambda c: contrast.contrast_explorer("one sentence", vectors(3)),
        TypeError, r"a list of sentences"),
    "margin explorer labels of the wrong length": Case(
        lambda c: margin.margin_explorer(vectors(3), vectors(3, seed=1), vectors(3, seed=2),
                                         labels=["a"], plot=False),
        ValueError, r"pass one text per triplet \(e\.g\. the anchor texts\) or leave it out"),
    # ---- training ---------------------------------------------------------------------------
    "training on the dataset instead of triplets": Case(
        lambda c: training_presets.train_triplets(frame()), ValueError,
        r"Build it with cu\.triplets\.make_triplets\(frame, group_col=.topic.\), or rename"),
    "training on a list": Case(
        lambda c: training_presets.train_triplets([("a", "b", "c")]), TypeError,
        r"Build one with cu\.triplets\.make_triplets"),
    "training triplets with an empty sentence": Case(
        lambda c: training_presets.train_triplets(pd.DataFrame(
            {"anchor": ["a", "b"], "positive": ["c", ""], "negative": ["e", "f"]})),
        ValueError, r"drop those rows"),
    "training with neither steps nor epochs": Case(
        lambda c: training_presets.TrainingConfig(max_steps=None, epochs=None), ValueError,
        r"e\.g\. max_steps=40"),
    "saving over a folder that has files": Case(
        lambda c: training.save_model(
            c.model, (write(c, "keep.txt", b"old work"), c.tmp_path)[1]),
        FileExistsError, r"choose a new folder"),
    # ---- real data --------------------------------------------------------------------------
    "unknown VADER domain": Case(
        lambda c: vader.load_vader(domains=["reddit"]), ValueError,
        r"choose from \['tweets', 'movies', 'products', 'editorials'\]"),
    "VADER threshold out of range": Case(
        lambda c: vader.load_vader(threshold=9), ValueError,
        r"1\.0 keeps clearly rated sentences"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_an_actionable_error(name, tmp_path, monkeypatch, request):
    case = CASES[name]
    ctx = Ctx(tmp_path, monkeypatch, request)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(case.error) as raised:
        case.call(ctx)
    message = str(raised.value)
    assert re.search(case.says_what_to_do, message), (
        f"{name}: the message should tell the student what to do (expected to match "
        f"{case.says_what_to_do!r}), got: {message}"
    )


def test_there_are_at_least_30_bad_input_cases():
    assert len(CASES) + len(CLI_CASES) >= 30


# ---- an unusable or damaged cache never breaks a notebook -----------------------------------


def test_unwritable_cache_folder_warns_with_the_fix_and_still_encodes(model, sentences,
                                                                       tmp_path):
    ctx = Ctx(tmp_path, None, None)
    with pytest.warns(embedding.CacheWarning, match="Set COURSE_CACHE_DIR to a writable"):
        result = embedding.encode(sentences, model, cache_directory=under_a_file(ctx))
    assert np.allclose(result, embedding.encode(sentences, model, cache=False), atol=1e-5)


def test_unwritable_cache_from_the_environment_warns_too(model, sentences, tmp_path,
                                                        monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(under_a_file(Ctx(tmp_path, None, None))))
    with pytest.warns(embedding.CacheWarning, match="COURSE_CACHE_DIR"):
        assert embedding.encode(sentences[:2], model).shape == (2, 384)


def huge_header(rows: int) -> bytes:
    """An .npy header that claims ~40 GB of float32 and holds no data (a damaged entry)."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f4", "fortran_order": False, "shape": (rows, 10**10)})
    return buffer.getvalue()


@pytest.mark.parametrize("damage", ["garbage bytes", "truncated", "wrong shape", "pickle",
                                    "huge shape in the header"])
def test_a_damaged_cache_entry_is_recomputed_silently(damage, model, sentences, tmp_cache):
    good = embedding.encode(sentences, model)
    entry = next((tmp_cache / "embeddings").glob("*.npy"))
    if damage == "garbage bytes":
        entry.write_bytes(b"this is not an npy file at all")
    elif damage == "truncated":
        entry.write_bytes(entry.read_bytes()[:-50])
    elif damage == "wrong shape":
        np.save(entry, np.ones((2, 384), dtype=np.float32))
    elif damage == "pickle":  # an object array needs pickle to load: refused, not executed
        np.save(entry, np.array([{"x": 1}] * 4, dtype=object), allow_pickle=True)
    else:
        entry.write_bytes(huge_header(len(sentences)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either: the cache just heals
        again = embedding.encode(sentences, model)
    assert np.allclose(again, good, atol=1e-6)
    assert embedding._read_entry(entry, len(sentences)) is not None, "the entry was rewritten"


@pytest.mark.slow
def test_a_damaged_layout_cache_entry_is_recomputed(tmp_cache):
    points = vectors(n=30, dim=8)
    good = projection.project_2d(points, n_epochs=50)
    entry = projection.layout_cache_path(points, n_epochs=50)
    assert entry.exists()
    for damage in (b"\x93NUMPY garbage", huge_header(30)):
        entry.write_bytes(damage)
        assert np.allclose(projection.project_2d(points, n_epochs=50), good)


def test_unwritable_layout_cache_warns_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(under_a_file(Ctx(tmp_path, None, None))))
    points = vectors(n=12, dim=4)
    with pytest.warns(embedding.CacheWarning, match="Set COURSE_CACHE_DIR to a writable"):
        layout = projection.project_2d(points, n_epochs=20)
    assert layout.shape == (12, 2)


# ---- the training command line: errors go to stderr with exit status 2, no traceback -------

CLI_CASES = {
    "--data that does not exist": (["--data", "{tmp}/nope.csv"], r"Check the path"),
    "--data that is not a CSV": (["--data", "{tmp}/binary.csv"], r"Save it as UTF-8"),
    "--data saved as Windows-1252": (["--data", "{tmp}/excel.csv"], r"Save it as UTF-8"),
    "--data whose text column is numbers": (
        ["--data", "{tmp}/numbers.csv"], r"Name the column with the texts"),
    "--data with an empty text": (
        ["--data", "{tmp}/gaps.csv"], r"line\(s\) \[3\] of gaps\.csv\)\. Fill in the text"),
    "--data with labels spelled two ways": (
        ["--data", "{tmp}/spaces.csv"], r"differ only in spaces.*one spelling in the file"),
    "--group-col where a group has one label": (
        ["--data", "{tmp}/groups.csv", "--group-col", "topic"],
        r"Leave out --group-col topic"),
    "--output inside the repository": (
        ["--output", "{repo}/assets/my_model"], r"Use --output outputs/my_model \(git-ignored\)"),
    "--output in a folder that cannot be written": (
        ["--output", "{unwritable}/my_model"], r"Choose a folder you can write to"),
    "--data without the label column": (
        ["--data", "{tmp}/no_label.csv"], r"rename yours or pass the right names"),
    "--label-col not in the course dataset": (
        ["--label-col", "stars"], r"Pass --data PATH\.csv to train on your own file"),
    "--output under a regular file": (["--output", "{tmp}/a_file/model"], r"is not a folder"),
    "--lr that is not a number": (["--lr", "fast"], r"expected a number|invalid"),
}


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_train_command_explains_bad_arguments(name, tmp_path, capsys):
    if "inside the repository" in name and not (REPO / ".git").exists():
        pytest.skip("a copy without .git (make test-pythons): nothing there would be committed, "
                    "so an --output inside it is allowed")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00garbage\n")
    (tmp_path / "no_label.csv").write_text("text,topic\na b c,x\nd e f,y\n")
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "excel.csv").write_bytes("text,sentiment\ncafé bon,positive\n".encode("cp1252"))
    good = [f"fine text {i}" for i in range(12)]
    labels = ["positive", "negative"] * 6
    pd.DataFrame({"text": range(12), "sentiment": labels}).to_csv(tmp_path / "numbers.csv",
                                                                  index=False)
    pd.DataFrame({"text": ["a", "", *good[2:]], "sentiment": labels}).to_csv(
        tmp_path / "gaps.csv", index=False)
    pd.DataFrame({"text": good, "sentiment": ["positive "] + labels[1:]}).to_csv(
        tmp_path / "spaces.csv", index=False)
    pd.DataFrame({"text": [f"text {i}" for i in range(27)],
                  "sentiment": labels * 2 + ["positive"] * 3,
                  "topic": ["a"] * 12 + ["b"] * 12 + ["c"] * 3}).to_csv(
        tmp_path / "groups.csv", index=False)
    unwritable = Path("/sys") if os.geteuid() == 0 else tmp_path / "locked"
    if unwritable != Path("/sys"):
        unwritable.mkdir()
        unwritable.chmod(0o500)
    args, says = CLI_CASES[name]
    argv = [arg.format(tmp=tmp_path, repo=REPO, unwritable=unwritable) for arg in args]
    if "--output" not in argv:
        argv += ["--output", str(tmp_path / "out")]
    try:
        status = train.main(argv)
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    assert re.search(says, err), f"{name}: expected the fix {says!r} in: {err}"
    lines = [line for line in err.splitlines()
             if line.strip() and not line.startswith(("usage:", " "))]  # argparse's usage
    assert len(lines) == 1, f"{name}: one line (after argparse's usage), got: {err}"
    assert not (tmp_path / "out").exists(), "nothing may be written when the arguments are bad"
    assert not (REPO / "assets" / "my_model").exists()


# ---- make clean keeps what needed the network ----------------------------------------------


def test_make_clean_keeps_the_fetched_vader_files_and_student_work(tmp_path):
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(Path(__file__).resolve().parent.parent / "Makefile", tmp_path / "Makefile")
    for name in (".cache/vader/tweets_GroundTruth.txt", ".cache/embeddings/x.npy",
                 ".cache/layouts/y.npy", "build/05.html", "build/student/05.ipynb",
                 ".pytest_cache/z"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    done = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".cache/vader/tweets_GroundTruth.txt").exists(), "VADER needs the network"
    assert (tmp_path / "build/student/05.ipynb").exists(), "a learner's work is never cleaned"
    for gone in (".cache/embeddings", ".cache/layouts", "build/05.html", ".pytest_cache"):
        assert not (tmp_path / gone).exists(), gone


# ---- texts the model does not read as written: said once, not silently --------------------


def test_long_and_empty_texts_are_encoded_with_one_warning(model):
    long_text = "a very long review " * 200  # ~800 tokens, the model reads 256
    with pytest.warns(embedding.TextWarning) as caught:
        vectors = embedding.encode(["fine", long_text, "   "], model, cache=False)
    assert vectors.shape == (3, 384)
    assert len(caught) == 1, [str(w.message) for w in caught]
    message = str(caught[0].message)
    assert "1 text(s) are longer than the model's 256 tokens and were cut" in message
    assert "e.g. item 1" in message and "split long texts" in message
    assert "1 text(s) are empty or only spaces (e.g. item 2)" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ordinary sentences: no warning
        embedding.encode(["fine", "a short review"], model, cache=False)
