"""Where the course keeps its files: the repository, the dataset, the cache, build outputs.
Each can be moved with an environment variable (e.g. a writable cache on a shared hub).

Two ways to run: from a checkout (editable install; ``assets/`` and ``notebooks/`` at the top
of the repository are read in place) or from a regular install (a wheel on a JupyterHub,
Colab, a laptop without git), whose package carries the same files as ``course_utils/assets``
and ``course_utils/notebooks``: pyproject.toml maps the repository's folders into the wheel,
so the repository stays their only source. :func:`course_files_root` picks one.
"""

from __future__ import annotations

import functools
import os
import sys
from importlib import resources
from pathlib import Path

#: The folder above the package: the repository in a checkout, site-packages when installed.
REPO_ROOT = Path(__file__).resolve().parent.parent
#: The name of the per-user cache folder of a regular install (e.g. ``~/.cache/why-p-not-q``).
APP_NAME = "why-p-not-q"


@functools.cache
def in_checkout() -> bool:
    """True when course_utils runs from the course repository (``pyproject.toml`` of the
    course_utils project beside the package), False for a regular install."""
    try:
        text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return False
    return 'name = "course_utils"' in text


def course_files_root() -> Path:
    """The folder holding ``assets/`` and ``notebooks/``: the repository in a checkout, else
    the installed package (the wheel carries them inside it)."""
    if in_checkout():
        return REPO_ROOT
    return Path(str(resources.files("course_utils")))


def folder_setting(variable: str, default: Path) -> Path:
    """The folder named by environment ``variable`` (``~`` expanded), else ``default``. Empty
    counts as unset: ``COURSE_CACHE_DIR=`` would otherwise mean the current folder, and write
    the cache beside whichever notebook ran."""
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else default


def assets_dir() -> Path:
    """The ``assets/`` folder (dataset, data card, figures, plot style)."""
    return folder_setting("COURSE_ASSETS_DIR", course_files_root() / "assets")


def data_dir() -> Path:
    """The folder holding the course dataset and its data card."""
    return assets_dir() / "data"


def cache_dir() -> Path:
    """The course's on-disk cache (embeddings, layouts, downloaded data; not in git).
    ``COURSE_CACHE_DIR`` moves it."""
    return folder_setting("COURSE_CACHE_DIR", default_cache_dir())


def build_dir() -> Path:
    """Where ``make course`` writes executed notebooks, HTML and its timing summary."""
    return folder_setting("COURSE_BUILD_DIR", default_build_dir())


def default_cache_dir() -> Path:
    """``.cache/`` in a checkout you can write to; else (a regular install, or a read-only
    checkout on a hub) the per-user cache folder, so each user writes only their own files."""
    checkout_cache = REPO_ROOT / ".cache"
    if in_checkout() and _writable(checkout_cache):
        return checkout_cache
    return user_cache_dir()


def user_cache_dir() -> Path:
    """This user's cache folder for the course, where the platform keeps caches: Linux
    ``$XDG_CACHE_HOME/why-p-not-q`` (default ``~/.cache/...``), macOS
    ``~/Library/Caches/why-p-not-q``, Windows ``%LOCALAPPDATA%\\why-p-not-q\\Cache``."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
        return Path(base) / APP_NAME / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP_NAME
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"  # XDG: ignore relative
    return base / APP_NAME


def _writable(folder: Path) -> bool:
    """Can this user create files in ``folder`` (or create it, in its nearest existing parent)?"""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


def default_build_dir() -> Path:
    """``build/`` in the repository; for a regular install ``build/`` in the current folder."""
    return REPO_ROOT / "build" if in_checkout() else Path.cwd() / "build"


#: The course notebooks as committed (instructor copies): ``notebooks/`` of the repository, or
#: the copies inside the installed package.
NOTEBOOK_DIR = course_files_root() / "notebooks"


def course_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The course notebooks in teaching order (by file name: 00_..., 01_..., ...)."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())


def restore_advice(what: str = "assets/data") -> str:
    """How to get a committed course file back, for a checkout and for an installed package."""
    return (
        f"In a checkout of the course repository: `git checkout -- {what}` restores it. With "
        "the course installed as a package (JupyterHub, Colab, pip): reinstall it with `pip "
        "install --force-reinstall --no-deps` and the source you installed from. "
        "COURSE_ASSETS_DIR, when set, must name a folder holding data/ and results/."
    )
