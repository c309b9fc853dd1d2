"""Installs the course's offline guard in every Python process that has this folder on PYTHONPATH.

tests/conftest.py adds this folder to PYTHONPATH and sets COURSE_OFFLINE_GUARD_LOG, so notebook
kernels, JupyterLab and ``python -m ...`` subprocesses started by the tests refuse (and log)
every connection outside loopback. Without COURSE_OFFLINE_GUARD_LOG nothing is changed.
With COURSE_TRAINING_CACHE set it also installs ``training_replay`` (finished training runs
replayed from disk, so the suite trains each notebook's model once).

Python imports only the first ``sitecustomize`` on sys.path; any other one (e.g. a
distribution's) is run afterwards so that this file hides nothing.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def _install_guard() -> None:
    if not os.environ.get("COURSE_OFFLINE_GUARD_LOG"):
        return
    import course_offline_guard

    course_offline_guard.install()


def _run_shadowed_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        folder = os.path.abspath(entry or os.curdir)
        candidate = os.path.join(folder, "sitecustomize.py")
        if folder == here or not os.path.isfile(candidate):
            continue
        spec = importlib.util.spec_from_file_location("_shadowed_sitecustomize", candidate)
        if spec and spec.loader:
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
        return


def _install_training_replay() -> None:
    if not os.environ.get("COURSE_TRAINING_CACHE"):
        return
    import training_replay

    training_replay.install()


_install_guard()
_install_training_replay()
_run_shadowed_sitecustomize()
