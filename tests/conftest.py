"""Shared fixtures: the bundled model (loaded once per session) and a few sentences."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def model():
    from course_utils.models import load_model
    from course_utils.notebook_setup import set_torch_threads

    set_torch_threads(2)
    return load_model()


@pytest.fixture()
def sentences():
    return [
        "The pasta arrived cold and the waiter never came back.",
        "Our table by the window had a lovely view and fresh bread.",
        "The battery died before lunch on the second day.",
        "This laptop boots in seconds and stays cool on my knees.",
    ]


@pytest.fixture()
def tmp_cache(tmp_path, monkeypatch):
    """A private cache folder so tests never touch the user's .cache/."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("COURSE_CACHE_DIR", str(folder))
    return folder
