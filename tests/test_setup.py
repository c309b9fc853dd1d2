"""course_utils.setup(): seeds, threads, offline settings; idempotent."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils import notebook_setup


def test_setup_seeds_everything_and_is_repeatable(monkeypatch):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    cu.setup(seed=3, verbose=False, plots=False)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    info = cu.setup(seed=3, verbose=False, plots=False)
    second = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == second
    assert info.seed == 3
    assert torch.get_num_threads() == info.threads


def test_setup_goes_offline_but_respects_the_users_choice(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert cu.setup(verbose=False, plots=False).offline
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["HF_HUB_DISABLE_TELEMETRY"] == "1"
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert not cu.setup(verbose=False, plots=False).offline


def test_setup_prints_one_summary_line(capsys):
    cu.setup(verbose=True, plots=False)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "torch" in lines[0] and "threads" in lines[0]


def test_thread_policy_uses_usable_cpus_capped(monkeypatch):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    assert 1 <= notebook_setup.choose_threads() <= notebook_setup.MAX_THREADS
    assert notebook_setup.choose_threads() <= notebook_setup.usable_cpu_count()
    monkeypatch.setenv("COURSE_THREADS", "1")
    assert notebook_setup.choose_threads() == 1
    assert notebook_setup.choose_threads(3) == 3


@pytest.mark.parametrize("bad", [0, -2, 1.5, "two", True])
def test_bad_thread_counts_are_refused_with_advice(bad):
    with pytest.raises(ValueError, match="threads must be a positive whole number"):
        notebook_setup.choose_threads(bad)


def test_bad_thread_env_var_is_explained(monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "lots")
    with pytest.raises(ValueError, match="COURSE_THREADS"):
        notebook_setup.choose_threads()


@pytest.mark.parametrize("bad", [-1, "0", None, 2.0])
def test_bad_seed_is_refused(bad):
    with pytest.raises(ValueError, match="seed"):
        cu.setup(seed=bad, verbose=False, plots=False)


def test_plot_style_applies_the_colour_blind_palette():
    import matplotlib.pyplot as plt

    cu.setup(verbose=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    assert colours[0].lower().lstrip("#") == "e69f00"


def test_quiet_logging_for_now_restores_levels_filters_and_the_progress_bar():
    import logging
    import warnings

    from transformers.utils import logging as hf_logging

    logger = logging.getLogger("sentence_transformers")
    before_level, before_bar = logger.level, hf_logging.is_progress_bar_enabled()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Cannot enable progress bars")  # env var set
        logger.setLevel(logging.INFO)
        hf_logging.enable_progress_bar()
        filters = list(warnings.filters)
        with notebook_setup.quiet_logging_for_now():
            assert logger.level == logging.ERROR
            assert not hf_logging.is_progress_bar_enabled()
            assert warnings.filters != filters
        assert logger.level == logging.INFO
        assert hf_logging.is_progress_bar_enabled()
        assert warnings.filters == filters
        logger.setLevel(before_level)
        (hf_logging.enable_progress_bar if before_bar else hf_logging.disable_progress_bar)()


@pytest.mark.parametrize("bad", ["abc", "0", "-2", "1.5"])
def test_a_wrong_thread_variable_stops_setup_with_what_to_set(monkeypatch, bad):
    monkeypatch.setenv("COURSE_THREADS", bad)
    with pytest.raises(ValueError, match=f"COURSE_THREADS='{bad}' is not a positive whole "
                                         "number.*unset it.*COURSE_THREADS=2"):
        cu.setup(verbose=False, plots=False)


@pytest.mark.parametrize(("value", "threads"), [("", None), ("  ", None), (" 3 ", 3)])
def test_an_empty_thread_variable_counts_as_unset(monkeypatch, value, threads):
    monkeypatch.setenv("COURSE_THREADS", value)
    assert notebook_setup.threads_setting() == threads


@pytest.mark.parametrize(("precision", "native", "shown"), [
    ("auto", True, True), ("auto", False, False), ("float32", True, False), ("bf16", False, True)])
def test_the_banner_says_bf16_training_when_training_will_use_it(monkeypatch, capsys, precision,
                                                                 native, shown):

    monkeypatch.setenv("COURSE_PRECISION", precision)
    monkeypatch.setattr(notebook_setup, "native_bf16", lambda: native)
    info = cu.setup(verbose=True, plots=False)
    [line] = capsys.readouterr().out.strip().splitlines()
    assert info.bf16 is shown and ("threads, bf16 training) |" in line) is shown


def test_a_wrong_precision_stops_setup_with_the_training_modules_message(monkeypatch):
    monkeypatch.setenv("COURSE_PRECISION", "half")
    with pytest.raises(ValueError, match="COURSE_PRECISION='half' is not one of auto, float32"):
        cu.setup(verbose=False, plots=False)


@pytest.mark.parametrize("folder", ["cache_dir", "build_dir", "assets_dir"])
def test_an_empty_folder_variable_counts_as_unset(monkeypatch, tmp_path, folder):
    from course_utils import paths

    variable = {"cache_dir": "COURSE_CACHE_DIR", "build_dir": "COURSE_BUILD_DIR",
                "assets_dir": "COURSE_ASSETS_DIR"}[folder]
    monkeypatch.delenv(variable, raising=False)
    default = getattr(paths, folder)()
    monkeypatch.chdir(tmp_path)  # '' used to mean this folder: the cache beside the notebook
    for empty in ("", " "):
        monkeypatch.setenv(variable, empty)
        assert getattr(paths, folder)() == default and default.is_absolute()
    monkeypatch.setenv(variable, str(tmp_path / "elsewhere"))
    assert getattr(paths, folder)() == tmp_path / "elsewhere"
