"""Issue 29: a finished training is never lost at save time, and prompts never eat the text.

* The output path follows symlinks (a dangling one, one to an empty folder), checks free space
  before training, and a save that fails anyway keeps the model in a fallback folder it names.
* Saved folders get the umask's normal permissions; a lock names its file and survives PID
  reuse; a folder where the lock file goes is refused with a message.
* A prompt's share of the model's tokens is checked wherever prompts are used.
* The training command's column mix-ups, batch size, steps per task and task names.
"""

from __future__ import annotations

import errno
import os
import shutil
import warnings
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import test_train_cli  # the command's helpers and its CSV fixture (tests/ is on sys.path)

from course_utils import safe_output, training
from course_utils.cli import train as cli
from course_utils.safe_output import OutputFolderError, ResultNotSavedError

BASE, run_main = test_train_cli.BASE, test_train_cli.run_main
tiny_csv = test_train_cli.tiny_csv  # 24 short reviews: 2 topics x 2 sentiments x 6

Usage = namedtuple("Usage", "total used free")
MB = 1_000_000


class FakeModel:
    """Stands in for a SentenceTransformer at save time: writes one weights file, or fails the
    first ``failures`` saves the way a full disk does."""

    def __init__(self, failures: int = 0, error: Exception | None = None):
        self.failures = failures
        self.error = error or OSError(errno.ENOSPC, "No space left on device")

    def save(self, folder: str) -> None:
        if self.failures:
            self.failures -= 1
            raise self.error
        Path(folder, "model.safetensors").write_bytes(b"weights")


def full_disk_under(monkeypatch, folder: Path, free: int = 2 * MB) -> None:
    """``shutil.disk_usage`` reports ``free`` bytes for paths inside ``folder`` (a small file
    system), the real numbers elsewhere."""
    real = shutil.disk_usage

    def disk_usage(path):
        if Path(path).resolve().is_relative_to(folder.resolve()):
            return Usage(free, 0, free)
        return real(path)

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture()
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


# ------------------------------------------------------------------ symlinks as --output
def test_a_dangling_symlink_is_followed_to_where_it_points(tmp_path, cache):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere" / "model")
    saved = training.save_model(FakeModel(), link)
    assert saved == (tmp_path / "elsewhere" / "model").resolve()
    assert (link / "model.safetensors").read_bytes() == b"weights"  # the link now works
    assert link.is_symlink()


def test_a_symlink_to_an_empty_folder_is_filled(tmp_path, cache):
    target = tmp_path / "empty"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    assert safe_output.validate_writable(link) == target.resolve()
    training.save_model(FakeModel(), link)
    assert (target / "model.safetensors").exists() and link.is_symlink()


def test_a_symlink_loop_is_refused_with_a_message(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(OutputFolderError, match="points in a circle"):
        safe_output.validate_writable(loop)


def test_the_cli_follows_a_dangling_symlink_before_training(tiny_csv, tmp_path, capsys,
                                                            monkeypatch):
    jobs = []
    monkeypatch.setattr(cli, "run", lambda job: jobs.append(job) or 0)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "models" / "m")
    code, _, err = run_main(["--data", tiny_csv, *BASE, "--output", link], capsys)
    assert code == 0, err
    assert jobs[0].output == (tmp_path / "models" / "m").resolve()


# ------------------------------------------------------------------ free space
def test_a_full_disk_is_found_before_training(tiny_csv, tmp_path, capsys, monkeypatch):
    trained = []
    monkeypatch.setattr(cli, "run", lambda job: trained.append(job) or 0)
    full_disk_under(monkeypatch, tmp_path)
    code, _, err = run_main(["--data", tiny_csv, *BASE, "--output", tmp_path / "m"], capsys)
    assert code == 2 and not trained
    assert "needs about" in err and "only 2.0 MB free" in err and "another disk" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_the_model_size_comes_from_its_parameters(model):
    assert 80 * MB < training.weights_bytes(model) < 100 * MB  # all-MiniLM-L6-v2, float32


def test_a_real_model_on_a_full_disk_is_kept_in_the_cache(model, tmp_path, cache,
                                                          monkeypatch):
    full_disk_under(monkeypatch, tmp_path / "small_disk")
    (tmp_path / "small_disk").mkdir()
    with pytest.raises(ResultNotSavedError) as raised:
        training.save_model(model, tmp_path / "small_disk" / "m")
    kept = raised.value.kept_at
    assert kept.parent == cache / "unsaved" and str(kept) in str(raised.value)
    assert (kept / "model.safetensors").stat().st_size > 80 * MB
    assert not (tmp_path / "small_disk" / "m").exists()


# ------------------------------------------------------------------ a failed save keeps the run
@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   RuntimeError("safetensors: No space left on device")])
def test_a_failed_save_keeps_the_model_where_the_message_says(tmp_path, cache, error):
    out = tmp_path / "m"
    with pytest.raises(ResultNotSavedError) as raised:
        training.save_model(FakeModel(failures=1, error=error), out)
    message, kept = str(raised.value), raised.value.kept_at
    assert "No space left on device" in message and f"kept in {kept}" in message
    assert (kept / "model.safetensors").read_bytes() == b"weights"
    assert kept.is_relative_to(cache) and not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_system_temp_folder_is_the_last_fallback(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(safe_output.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with pytest.raises(ResultNotSavedError) as raised:
        training.save_model(FakeModel(failures=2), tmp_path / "m")
    assert raised.value.kept_at.parent == tmp_path / "tmp"


def test_when_nothing_can_be_written_the_message_says_so(tmp_path, cache):
    with pytest.raises(ResultNotSavedError) as raised:
        training.save_model(FakeModel(failures=3), tmp_path / "m")
    assert raised.value.kept_at is None
    assert "could not be kept elsewhere either" in str(raised.value)
    assert "Free some disk space" in str(raised.value)


def _fake_training(model, disk_full_under=None, monkeypatch=None, seen=None):
    """A train_triplets that returns ``model`` at once (and fills the disk, if asked)."""
    def train_triplets(triplets, *, config, prompts=None):
        if seen is not None:
            seen.append(config)
        if disk_full_under is not None:
            full_disk_under(monkeypatch, disk_full_under)
        return SimpleNamespace(model=model, summary=lambda: "trained")
    return train_triplets


def test_the_cli_keeps_a_model_it_cannot_save_and_exits_1(model, tiny_csv, tmp_path, cache,
                                                          capsys, monkeypatch):
    from course_utils import training_presets

    out_disk = tmp_path / "small_disk"
    out_disk.mkdir()
    monkeypatch.setattr(training_presets, "train_triplets",
                        _fake_training(model, out_disk, monkeypatch))
    code, stdout, err = run_main(["--data", tiny_csv, *BASE, "--output", out_disk / "m",
                                  "--max-steps", "1"], capsys)
    assert code == cli.EXIT_NOT_SAVED, err
    kept = next((cache / "unsaved").iterdir())
    assert f"kept in {kept}" in err and "only 2.0 MB free" in err and "Traceback" not in err
    assert (kept / "model.safetensors").exists() and not (out_disk / "m").exists()
    assert "held-out report" in stdout and f"saved to {kept}" in stdout


# ------------------------------------------------------------------ permissions and the lock
def test_saved_folders_get_the_umask_permissions(tmp_path, cache, umask_022):
    new = training.save_model(FakeModel(), tmp_path / "new")
    assert oct(new.stat().st_mode & 0o777) == oct(0o755)
    existing = tmp_path / "existing"
    existing.mkdir()
    existing.chmod(0o750)
    training.save_model(FakeModel(), existing)
    assert oct(existing.stat().st_mode & 0o777) == oct(0o750)  # as it was


def test_a_lock_whose_pid_now_belongs_to_another_process_is_taken_over(tmp_path):
    if not safe_output._process_identity(os.getpid()):
        pytest.skip("process start times come from /proc (Linux)")
    lock = tmp_path / ".m.lock"
    lock.write_text(f"{os.getppid()}\nan-old-boot 12345\n")  # a live PID, another process
    with safe_output.lock_output(tmp_path / "m"):
        assert lock.read_text().split("\n")[0] == str(os.getpid())
    assert not lock.exists()


def test_a_live_lock_names_its_file_and_how_to_remove_it(tmp_path):
    lock = tmp_path / ".m.lock"
    parent = os.getppid()  # alive for the whole test
    lock.write_text(f"{parent}\n{safe_output._process_identity(parent)}\n")
    with pytest.raises(OutputFolderError) as raised, safe_output.lock_output(tmp_path / "m"):
        pass
    message = str(raised.value)
    assert f"another training (process {parent})" in message and f"rm {lock}" in message
    assert lock.exists()


def test_a_folder_where_the_lock_file_goes_is_refused(tmp_path):
    (tmp_path / ".m.lock").mkdir()
    with pytest.raises(OutputFolderError, match=r"is a folder .* Move or delete it"), \
            safe_output.lock_output(tmp_path / "m"):
        pass


# ------------------------------------------------------------------ prompts that eat the text
LONG_PROMPT = ("Represent this customer review for classifying whether the writer was "
               "satisfied or disappointed with the product or the service they received. ")


class StubModel:
    """The bundled model's tokenizer at the training length 64; encode returns unit vectors."""

    def __init__(self, tokenizer):
        self.tokenizer, self.max_seq_length = tokenizer, 64

    def encode(self, texts, **kwargs):
        return np.ones((len(texts), 4), dtype=np.float32)


def test_encode_refuses_a_prompt_that_leaves_no_room_for_the_text(model):
    from course_utils.embedding import encode

    with pytest.raises(ValueError) as raised:
        encode(["A quiet hotel."], StubModel(model.tokenizer), prompt=LONG_PROMPT * 3,
               cache=False)
    message = str(raised.value)
    assert "of the model's 64 tokens" in message and "leaving 0 for each text" in message
    assert "Shorten the prompt" in message and "raise max_seq_length" in message


def test_encode_warns_when_the_prompt_takes_more_than_half(model):
    from course_utils.embedding import PromptWarning, encode

    with pytest.warns(PromptWarning, match=r"takes \d+ of the model's 64 tokens"):
        vectors = encode(["A quiet hotel."], StubModel(model.tokenizer),
                         prompt=LONG_PROMPT * 2, cache=False)
    assert vectors.shape == (1, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encode(["A quiet hotel."], StubModel(model.tokenizer), prompt="topic: ", cache=False)


def test_the_cli_refuses_a_prompt_that_eats_the_text_before_training(tiny_csv, tmp_path,
                                                                     capsys, monkeypatch):
    trained = []
    monkeypatch.setattr(cli, "run", lambda job: trained.append(job) or 0)
    args = ["--data", tiny_csv, "--text-col", "review", "--output", tmp_path / "m",
            "--task", "sentiment:label:kind"]
    code, _, err = run_main([*args, "--prompt", f"sentiment={LONG_PROMPT * 3}"], capsys)
    assert code == 2 and not trained
    assert "the prompt of task 'sentiment' (--prompt sentiment=...)" in err
    assert "of the model's 64 tokens" in err and err.count("\n") == 1
    code, _, err = run_main([*args, "--prompt", f"sentiment={LONG_PROMPT * 2}"], capsys)
    assert code == 0 and trained and "warning:" in err and "longer texts lose" in err


# ------------------------------------------------------------------ the command's other messages
def test_the_text_column_as_label_is_named_as_a_mix_up(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "run", lambda job: 0)
    for argv in (["--label-col", "text"], ["--task", "t:text"]):
        code, _, err = run_main([*argv, "--output", tmp_path / "m"], capsys)
        assert code == 2 and "is the text column (--text-col text)" in err, err
        assert len(err) < 400 and "sentiment or topic" in err


def test_a_label_column_of_unique_values_lists_a_few(tmp_path):
    train = pd.DataFrame({"review": [f"review {i}" for i in range(440)],
                          "label": [f"id-{i}" for i in range(440)]})
    job = cli.Job(train, train, "review", [cli_task("label")], {}, tmp_path / "m",
                  cli.TrainingConfig(), "test", False)
    with pytest.raises(cli.UsageError) as raised:
        cli.build_triplets(job, job.tasks[0])
    message = str(raised.value)
    assert "440 of the 440 'label' labels have a single training row" in message
    assert "(e.g. ['id-0', 'id-1', 'id-10'])" in message and len(message) < 400


def cli_task(label_col, group_col=None):
    from course_utils.multitask import TaskSpec

    return TaskSpec(label_col, label_col, group_col)


def test_group_equal_to_label_suggests_another_column(tmp_path, capsys):
    code, _, err = run_main(["--label-col", "topic", "--group-col", "topic", "--output",
                             tmp_path / "m"], capsys)
    assert code == 2 and "the two must differ" in err
    assert "e.g. --group-col sentiment" in err and "--group-col topic)" not in err


def test_a_batch_larger_than_the_triplets_is_said_and_planned_as_used(model, tiny_csv,
                                                                      tmp_path, cache, capsys,
                                                                      monkeypatch):
    from course_utils import training_presets

    seen = []
    monkeypatch.setattr(training_presets, "train_triplets", _fake_training(model, seen=seen))
    code, stdout, err = run_main(["--data", tiny_csv, *BASE, "--output", tmp_path / "m",
                                  "--max-steps", "1", "--batch-size", "100000"], capsys)
    assert code == 0, err
    used = seen[0].batch_size
    assert used < 100000
    assert f"--batch-size 100000 is more than the {used} triplets" in stdout
    assert f"batch {used}" in stdout and "batch 100000" not in stdout


def test_fewer_steps_than_tasks_is_refused(tiny_csv, tmp_path, capsys):
    code, _, err = run_main(["--data", tiny_csv, "--text-col", "review", "--output",
                             tmp_path / "m", "--task", "sentiment:label:kind", "--task",
                             "topic:kind:label", "--max-steps", "1"], capsys)
    assert code == 2 and "would train only 1 of the 2 tasks" in err
    assert "--max-steps 2 or more" in err


def test_a_task_name_in_any_alphabet_is_a_name():
    from course_utils.multitask import parse_tasks

    tasks, prompts = parse_tasks(["stimmungé:label", "тема:kind:label"])
    assert [task.name for task in tasks] == ["stimmungé", "тема"]
    assert prompts == {"stimmungé": "stimmungé: ", "тема": "тема: "}
    with pytest.raises(ValueError, match="must start with a letter"):
        parse_tasks(["_x:label"])


@pytest.mark.parametrize(("variable", "value"), [("COURSE_THREADS", "abc"),
                                                 ("COURSE_PRECISION", "half")])
def test_a_wrong_environment_variable_is_one_line_before_training(variable, value, tiny_csv,
                                                                  tmp_path, capsys,
                                                                  monkeypatch):
    monkeypatch.setenv(variable, value)
    code, _, err = run_main(["--data", tiny_csv, "--text-col", "review", "--output",
                             tmp_path / "m"], capsys)
    assert code == 2 and f"{variable}={value!r}" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_label_names_its_csv_line(tmp_path):
    from course_utils.data import DataValidationError, read_csv, validate_dataframe

    path = tmp_path / "labels.csv"
    path.write_text("text,sentiment\nGood soup.,positive\nCold soup.,\nNice room.,positive\n")
    with pytest.raises(DataValidationError, match=r"line\(s\) \[3\] of labels.csv"):
        validate_dataframe(read_csv(path), label_cols=["sentiment"])
