"""Where the course keeps its files: the repository, the dataset, the cache, build outputs.
Each can be moved with an environment variable (e.g. a writable cache on a shared hub)."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (course_utils is installed editable, so this is the checkout).
REPO_ROOT = Path(__file__).resolve().parent.parent


def folder_setting(variable: str, default: Path) -> Path:
    """The folder named by environment ``variable`` (``~`` expanded), else ``default``. Empty
    counts as unset: ``COURSE_CACHE_DIR=`` would otherwise mean the current folder, and write
    the cache beside whichever notebook ran."""
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else default


def assets_dir() -> Path:
    """The ``assets/`` folder (dataset, data card, figures, plot style)."""
    return folder_setting("COURSE_ASSETS_DIR", REPO_ROOT / "assets")


def data_dir() -> Path:
    """The folder holding the course dataset and its data card."""
    return assets_dir() / "data"


def cache_dir() -> Path:
    """The course's on-disk cache (embeddings, layouts, downloaded data; not in git).
    ``COURSE_CACHE_DIR`` moves it."""
    return folder_setting("COURSE_CACHE_DIR", REPO_ROOT / ".cache")


def build_dir() -> Path:
    """Where ``make course`` writes executed notebooks, HTML and its timing summary."""
    return folder_setting("COURSE_BUILD_DIR", REPO_ROOT / "build")


NOTEBOOK_DIR = REPO_ROOT / "notebooks"


def course_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The course notebooks in teaching order (by file name: 00_..., 01_..., ...)."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())
