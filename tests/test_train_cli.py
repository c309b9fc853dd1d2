"""The training CLI: bad arguments exit 2 with a helpful message; a tiny run saves a model
that loads offline; the same command runs under torchrun with two CPU processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from course_utils.cli import train as cli

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def tiny_csv(tmp_path) -> Path:
    """24 short reviews: 2 topics x 2 sentiments x 6, enough for a stratified hold-out."""
    words = {
        ("hotel", "positive"): "spotless room, kind staff, quiet night, great breakfast, "
                               "lovely view, comfy bed",
        ("hotel", "negative"): "dirty room, rude staff, noisy night, cold breakfast, "
                               "ugly view, broken bed",
        ("phone", "positive"): "fast charging, bright screen, clear calls, long battery, "
                               "smooth apps, sturdy case",
        ("phone", "negative"): "slow charging, dim screen, dropped calls, dead battery, "
                               "laggy apps, cracked case",
    }
    rows = []
    for (topic, sentiment), phrases in words.items():
        for i, phrase in enumerate(phrases.split(", ")):
            rows.append({"review": f"The {topic} had {phrase} ({i}).", "label": sentiment,
                         "kind": topic})
    path = tmp_path / "tiny.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def run_main(argv, capsys):
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


BASE = ["--text-col", "review", "--label-col", "label"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-steps", "0"], ">= 1"),
        (["--max-steps", "three"], "whole number"),
        (["--lr", "-1"], "above 0"),
        (["--lr", "nan"], "finite"),
        (["--lr", "5"], "try 5e-5"),
        (["--batch-size", "0"], ">= 1"),
        (["--seed", "-3"], ">= 0"),
        (["--epochs", "0"], "above 0"),
    ],
)
def test_bad_numbers_exit_2(tiny_csv, tmp_path, capsys, extra, message):
    code, out, err = run_main(["--data", tiny_csv, *BASE, "--output", tmp_path / "m", *extra],
                              capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_missing_output_argument_exits_2(capsys):
    code, _, err = run_main([], capsys)
    assert code == 2 and "--output" in err


def test_missing_file(tmp_path, capsys):
    code, _, err = run_main(["--data", tmp_path / "nope.csv", *BASE, "--output",
                             tmp_path / "m"], capsys)
    assert code == 2 and "No file at" in err and "nope.csv" in err


def test_not_a_csv(tmp_path, capsys):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00garbage\n")
    code, _, err = run_main(["--data", path, *BASE, "--output", tmp_path / "m"], capsys)
    assert code == 2 and "Save it as UTF-8" in err and "Traceback" not in err
    code, _, err = run_main(["--data", tmp_path, *BASE, "--output", tmp_path / "m"], capsys)
    assert code == 2 and "is a folder" in err


def test_missing_column(tiny_csv, tmp_path, capsys):
    code, _, err = run_main(["--data", tiny_csv, "--text-col", "text", "--label-col", "label",
                             "--output", tmp_path / "m"], capsys)
    assert code == 2 and "Missing column(s) ['text']" in err and "review" in err


def test_one_class_only(tmp_path, capsys):
    path = tmp_path / "one.csv"
    pd.DataFrame({"review": [f"fine {i}" for i in range(6)], "label": ["positive"] * 6}
                 ).to_csv(path, index=False)
    code, _, err = run_main(["--data", path, *BASE, "--output", tmp_path / "m"], capsys)
    assert code == 2 and "only 1 class" in err


def test_output_not_empty(tiny_csv, tmp_path, capsys):
    out = tmp_path / "existing"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run_main(["--data", tiny_csv, *BASE, "--output", out], capsys)
    assert code == 2 and "not empty" in err
    assert (out / "keep.txt").read_text() == "mine"


def test_output_is_a_file(tiny_csv, tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("x")
    code, _, err = run_main(["--data", tiny_csv, *BASE, "--output", target], capsys)
    assert code == 2 and "is a file" in err


def test_group_equal_to_label(tiny_csv, tmp_path, capsys):
    code, _, err = run_main(["--data", tiny_csv, *BASE, "--group-col", "label", "--output",
                             tmp_path / "m"], capsys)
    assert code == 2 and "must differ" in err


def test_unknown_course_column(tmp_path, capsys):
    code, _, err = run_main(["--label-col", "stars", "--output", tmp_path / "m"], capsys)
    assert code == 2 and "not a column of the course dataset" in err


def test_group_with_a_single_label_cannot_make_same_group_negatives(tmp_path, capsys):
    rows = [{"review": f"text {i}", "label": "pos" if i % 2 else "neg",
             "kind": "a" if i < 12 else "b"} for i in range(24)]
    rows += [{"review": f"only positive {i}", "label": "pos", "kind": "c"} for i in range(3)]
    path = tmp_path / "groups.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    code, _, err = run_main(["--data", path, *BASE, "--group-col", "kind", "--output",
                             tmp_path / "m"], capsys)
    assert code == 2 and "Cannot build triplets" in err and "'c'" in err


@pytest.mark.process
def test_bad_arguments_print_no_traceback_in_a_real_process(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "course_utils.cli.train", "--data", str(tmp_path / "missing.csv"),
         "--output", str(tmp_path / "m")],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stderr.count("\n") <= 3  # one paragraph


@pytest.mark.slow
def test_tiny_run_saves_a_model_that_loads_offline(tiny_csv, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "model"
    code, stdout, err = run_main(["--data", tiny_csv, *BASE, "--group-col", "kind",
                                  "--output", out, "--max-steps", "2", "--batch-size", "4"],
                                 capsys)
    assert code == 0, err
    assert "held-out report" in stdout and "knn_accuracy" in stdout
    assert "same-kind negatives" in stdout
    for phase in ("reading and checking", "building triplets from 16 rows ...",
                  "held-out report before training ...", "saving to",
                  "held-out report after training ..."):
        assert phase in stdout, phase  # progress for every long phase
    assert "{'loss'" not in stdout + err  # no trainer log dictionaries
    _assert_loads_offline(out)


def _assert_loads_offline(path: Path) -> None:
    code = (
        "import sys; from sentence_transformers import SentenceTransformer; "
        "m = SentenceTransformer(sys.argv[1], device='cpu'); "
        "print(m.encode(['a fine hotel']).shape)"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(1, 384)" in done.stdout


@pytest.mark.slow
def test_torchrun_two_cpu_processes(tiny_csv, tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torchrun is not installed next to this Python")
    out = tmp_path / "ddp_model"
    env = {**os.environ, "COURSE_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1",
           "OMP_NUM_THREADS": "1", "COURSE_THREADS": "2"}
    done = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node=2", "-m", "course_utils.cli.train",
         "--data", str(tiny_csv), *BASE, "--group-col", "kind", "--output", str(out),
         "--max-steps", "3", "--batch-size", "4"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=900,
    )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    assert done.stdout.count("held-out report (") == 1  # rank 0 only (not the phase lines)
    _assert_loads_offline(out)


# ------------------------------------------------------------------ the output folder is safe
def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create anything in (root ignores mode bits: use /sys)."""
    if os.geteuid() == 0:
        if not Path("/sys").is_dir():
            pytest.skip("needs /sys (Linux) to get an unwritable folder as root")
        return Path("/sys")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return locked


def test_unwritable_output_is_refused_before_training(tiny_csv, tmp_path, capsys, monkeypatch):
    trained = []
    monkeypatch.setattr(cli, "run", lambda job: trained.append(job) or 0)
    code, _, err = run_main(["--data", tiny_csv, *BASE, "--output",
                             unwritable_folder(tmp_path) / "my_model"], capsys)
    assert code == 2 and not trained, err
    assert "cannot be written" in err and "Choose a folder you can write to" in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.process  # a sleeping Python holds the lock
def test_a_second_run_to_the_same_output_stops_at_once(tiny_csv, tmp_path, capsys):
    from course_utils.safe_output import lock_output

    out = tmp_path / "model"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = tmp_path / ".model.lock"
        lock.write_text(str(other.pid))  # a live process holds the folder
        code, _, err = run_main(["--data", tiny_csv, *BASE, "--output", out], capsys)
        assert code == 2 and f"another training (process {other.pid})" in err
        assert f"rm {lock}" in err  # what to do if no training is running
        assert err.count("\n") == 1 and lock.read_text() == str(other.pid)
    finally:
        other.kill()
        other.wait()
    with lock_output(out):  # the holder died: its lock is taken over
        assert lock.read_text().split("\n")[0] == str(os.getpid())
    assert not lock.exists()


def test_save_is_atomic(model, tmp_path):
    from course_utils import training
    from course_utils.safe_output import atomic_folder

    out = tmp_path / "model"
    with pytest.raises(RuntimeError), atomic_folder(out) as scratch:
        (scratch / "config.json").write_text("{}")
        raise RuntimeError("killed halfway")
    assert list(tmp_path.iterdir()) == [], "a failed save leaves nothing behind"
    stale = tmp_path / ".model.partial-999999999-x"  # left by a process that no longer exists
    stale.mkdir()
    (stale / "model.safetensors.tmp").write_bytes(b"\0" * 10)
    training.save_model(model, out)
    assert (out / "modules.json").exists() and not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


KILL_DURING_SAVE = """
import os, signal, sys
from sentence_transformers import SentenceTransformer
from course_utils.cli import train

original = SentenceTransformer.save
def save_then_die(self, path, *args, **kwargs):
    original(self, path, *args, **kwargs)  # every file written, not yet renamed into place
    os.kill(os.getpid(), signal.SIGKILL)
SentenceTransformer.save = save_then_die
sys.exit(train.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_run_killed_while_saving_leaves_no_model_and_the_next_run_succeeds(tiny_csv, tmp_path):
    out = tmp_path / "model"
    argv = ["--data", str(tiny_csv), *BASE, "--output", str(out), "--max-steps", "1",
            "--batch-size", "4"]
    env = {**os.environ, "COURSE_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    killed = subprocess.run([sys.executable, "-c", KILL_DURING_SAVE, *argv], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not out.exists(), "a killed save must not leave a folder that looks like a model"
    assert (tmp_path / ".model.lock").exists()  # left behind by the killed run
    again = subprocess.run([sys.executable, "-m", "course_utils.cli.train", *argv], cwd=REPO,
                           env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    _assert_loads_offline(out)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], \
        "the killed run's temporary folder and lock are cleaned up"


def test_the_report_samples_large_data_deterministically_by_stratum():
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(1000)],
                          "label": ["a"] * 900 + ["b"] * 100})
    sample = cli.report_sample(frame, 100, ["label"], seed=0)
    assert len(sample) == 100 and (sample["label"] == "b").sum() == 10
    assert sample.equals(cli.report_sample(frame, 100, ["label"], seed=0))
    assert cli.report_sample(frame, 5000, ["label"], seed=0) is frame


def test_phase_prints_its_name_and_duration(capsys):
    with cli.phase("building triplets from 3 rows"):
        pass
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "building triplets from 3 rows ..." and out[1].startswith("  done in ")

# ------------------------------------------------------------------ several questions (notebook 08)
# --task NAME:LABEL_COL[:GROUP_COL], repeated, each with its prompt. A bad spec exits 2 with one
# actionable line; a tiny two-task run saves a model that reloads offline and knows its prompts.
TASKS = ["--task", "sentiment:label:kind", "--task", "topic:kind:label"]


def data_args(tiny_csv, tmp_path):
    return ["--data", tiny_csv, "--text-col", "review", "--output", tmp_path / "m"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--task", "sentiment"], "is not NAME:LABEL_COL[:GROUP_COL]"),
        (["--task", "a:b:c:d"], "is not NAME:LABEL_COL[:GROUP_COL]"),
        (["--task", "9lives:label"], "must start with a letter"),
        (["--task", "s:label:label"], "must differ"),
        (["--task", "s:label", "--task", "s:kind"], "task names must differ"),
        (["--task", "s:stars"], "Missing column(s) ['stars']"),
        (["--task", "s:label", "--prompt", "t=topic: "], "NAME one of the tasks"),
        (["--task", "s:label", "--prompt", "s"], "must be NAME=TEXT"),
        (["--task", "s:label", "--prompt", "s=x", "--no-prompts"], "contradict"),
        (["--prompt", "s=x"], "need at least one --task"),
        (["--task", "s:label", "--group-col", "kind"], "--task replaces"),
        (["--task", "s:label", "--label-col", "kind"], "--task replaces"),
    ],
)
def test_bad_task_arguments_exit_2_with_one_line(tiny_csv, tmp_path, capsys, extra, message):
    code, _, err = run_main([*data_args(tiny_csv, tmp_path), *extra], capsys)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert err.strip().count("\n") == 0, err  # one line
    assert not (tmp_path / "m").exists()


def test_unknown_course_column_in_a_task(tmp_path, capsys):
    code, _, err = run_main(["--task", "stars:stars", "--output", tmp_path / "m"], capsys)
    assert code == 2 and "not a column of the course dataset" in err


def test_a_task_whose_group_has_one_label_says_which_task(tmp_path, capsys):
    rows = [{"review": f"text {i}", "label": "pos" if i % 2 else "neg",
             "kind": "a" if i < 12 else "b"} for i in range(24)]
    rows += [{"review": f"only positive {i}", "label": "pos", "kind": "c"} for i in range(6)]
    path = tmp_path / "groups.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    code, _, err = run_main(["--data", path, "--text-col", "review", "--output",
                             tmp_path / "m", "--task", "mood:label:kind"], capsys)
    assert code == 2 and "task 'mood'" in err and "'c'" in err


@pytest.mark.slow
def test_two_tasks_with_prompts_train_save_and_reload_offline(tiny_csv, tmp_path, capsys,
                                                              monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "m"
    code, stdout, err = run_main([*data_args(tiny_csv, tmp_path), *TASKS, "--prompt",
                                  "topic=Represent the topic: ", "--max-steps", "2",
                                  "--batch-size", "4"], capsys)
    assert code == 0, err
    assert "task sentiment:" in stdout and "prompt 'sentiment: '" in stdout
    assert "prompt 'Represent the topic: '" in stdout
    assert stdout.count("held-out report, texts encoded") == 2 and "knn_accuracy" in stdout
    assert "prompt_name='sentiment'" in stdout
    code = (
        "import sys; from sentence_transformers import SentenceTransformer; "
        "m = SentenceTransformer(sys.argv[1], device='cpu'); "
        "print(sorted(m.prompts.items())); "
        "print(m.encode(['a fine hotel'], prompt_name='topic').shape)"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True,
                          text=True, env=env, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "('sentiment', 'sentiment: ')" in done.stdout
    assert "('topic', 'Represent the topic: ')" in done.stdout
    assert "(1, 384)" in done.stdout


def test_write_atomically_replaces_whole_files_and_leaves_nothing_on_failure(tmp_path):
    import numpy as np

    from course_utils.safe_output import write_atomically

    target = tmp_path / "sub" / "data.bin"
    assert write_atomically(target, b"first") == target
    write_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    array_file = tmp_path / "array.npy"
    write_atomically(array_file, lambda handle: np.save(handle, np.arange(3)))
    assert np.load(array_file).tolist() == [0, 1, 2]

    def broken(handle):
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(target, broken)
    assert target.read_bytes() == b"second"  # the old file, whole
    assert [p.name for p in target.parent.iterdir()] == ["data.bin"]  # no temporary left
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # a normal file, not mkstemp's
