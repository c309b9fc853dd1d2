"""The one call at the top of every notebook: ``cu.setup()``. Idempotent.

Seeds Python, NumPy and torch; sets torch's threads from the CPUs this process may use
(docs/training.md); switches Hugging Face to offline and quiet (values you exported are
respected); applies the course's plot style.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import platform
import random
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Environment defaults: offline, no telemetry, no progress-bar floods, no tokenizer fork warnings.
QUIET_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "WANDB_DISABLED": "true",
    "WANDB_MODE": "disabled",
    "DISABLE_MLFLOW_INTEGRATION": "TRUE",
}

#: Most threads the course asks for, even on a big machine: the models are small, and on a
#: shared hub a notebook should not grab every core.
MAX_THREADS = 4


@dataclass(frozen=True)
class SetupInfo:
    """What ``setup()`` did, so a notebook (or a test) can show or check it."""

    seed: int
    threads: int
    offline: bool
    python: str
    torch: str
    bf16: bool = False  # training will use bfloat16 matmuls (use_bf16)

    def summary(self) -> str:
        mode = "offline" if self.offline else "online allowed"
        bf16 = ", bf16 training" if self.bf16 else ""
        return (
            f"course_utils ready | python {self.python} | torch {self.torch} (cpu, "
            f"{self.threads} threads{bf16}) | seed {self.seed} | {mode}"
        )


def usable_cpu_count() -> int:
    """CPUs this process may use: affinity mask, capped by a cgroup CPU quota if one is set."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    quota_file = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2, e.g. a JupyterHub / Binder pod
    try:
        quota, period = quota_file.read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.floor(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


#: ``COURSE_PRECISION``: ``auto`` (unset): bfloat16 matmuls where the chip has them natively;
#: ``float32``: never; ``bf16``: always (slow where emulated; for comparisons).
PRECISIONS = ("auto", "float32", "bf16")


def native_bf16() -> bool:
    """Whether this machine computes bfloat16 natively: a GPU that supports it, or a CPU with
    ``avx512_bf16`` or AMX (detected by torch; elsewhere bfloat16 is emulated and slower)."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def precision_setting() -> str:
    """``COURSE_PRECISION`` checked: one of :data:`PRECISIONS` (unset or empty: ``auto``)."""
    value = os.environ.get("COURSE_PRECISION", "").strip().lower() or "auto"
    if value not in PRECISIONS:
        raise ValueError(f"COURSE_PRECISION={os.environ['COURSE_PRECISION']!r} is not one of "
                         f"{', '.join(PRECISIONS)}; unset it (auto), or set "
                         "COURSE_PRECISION=float32 to train in float32 everywhere.")
    return value


def use_bf16() -> bool:
    """Whether to train with bfloat16 matmuls (``bf16=True``), shown in notebook 05, section 3.

    On a CPU with native bfloat16 a course training step takes about half the time with the
    same held-out quality over seeds (docs/training.md, "bfloat16"); the weights stay float32.
    ``COURSE_PRECISION=float32`` turns it off, ``COURSE_PRECISION=bf16`` forces it on."""
    setting = precision_setting()
    return setting == "bf16" or (setting == "auto" and native_bf16())


def threads_setting() -> int | None:
    """``COURSE_THREADS`` checked: a positive whole number, or None when unset or empty.
    Raises ValueError saying what to set, so a typo stops setup() and check_env alike."""
    value = os.environ.get("COURSE_THREADS", "").strip()
    if not value:
        return None
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"COURSE_THREADS={os.environ['COURSE_THREADS']!r} is not a positive "
                         "whole number of threads; unset it (the course then uses the CPUs "
                         f"available, at most {MAX_THREADS}) or set e.g. COURSE_THREADS=2.")
    return threads


def choose_threads(requested: int | None = None) -> int:
    """The torch thread count: ``requested`` if given, else usable CPUs capped at MAX_THREADS."""
    if requested is not None:
        if not isinstance(requested, int) or isinstance(requested, bool) or requested < 1:
            raise ValueError(
                f"threads must be a positive whole number, got {requested!r}. "
                "Leave it out to let setup() choose from the CPUs available."
            )
        return requested
    from_env = threads_setting()
    return from_env if from_env is not None else min(usable_cpu_count(), MAX_THREADS)


def apply_quiet_offline_env() -> bool:
    """Set the offline/quiet variables unless the user already chose a value. Returns offline."""
    for key, value in QUIET_OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    return os.environ.get("HF_HUB_OFFLINE", "1") not in ("0", "false", "False", "")


#: The libraries whose loggers ``quiet_logging`` sets to ERROR.
QUIET_LOGGERS = ("sentence_transformers", "transformers", "datasets", "accelerate", "numba",
                 "huggingface_hub", "urllib3", "filelock")


def quiet_logging() -> None:
    """Silence the libraries' info logs and known harmless warnings; keep real errors visible."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*n_jobs value .* overridden.*")  # UMAP + seed
    warnings.filterwarnings("ignore", message=".*TqdmWarning.*")
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*")
    # The trainer asks for pinned memory; on a CPU-only machine torch says it cannot, harmlessly.
    warnings.filterwarnings("ignore", message=".*pin_memory.*no accelerator.*")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a pinned dependency
        pass


@contextlib.contextmanager
def quiet_logging_for_now() -> Iterator[None]:
    """:func:`quiet_logging` for the ``with`` block only, then everything as it was, so library
    helpers change no global log level or warning filter until ``setup()``."""
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    bars = _progress_bars_enabled()
    try:
        with warnings.catch_warnings():  # restores warnings.filters on the way out
            quiet_logging()
            yield
    finally:
        for name, level in levels.items():  # includes "transformers", i.e. its verbosity
            logging.getLogger(name).setLevel(level)
        _restore_progress_bars(*bars)


def _progress_bars_enabled() -> tuple[bool, bool]:
    """(transformers' progress bars on?, huggingface_hub's on?)"""
    from huggingface_hub.utils import are_progress_bars_disabled
    from transformers.utils import logging as hf_logging

    return hf_logging.is_progress_bar_enabled(), not are_progress_bars_disabled()


def _restore_progress_bars(transformers_on: bool, hub_on: bool) -> None:
    """Switch the two libraries' progress bars back to what :func:`_progress_bars_enabled` saw."""
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars
    from transformers.utils import logging as hf_logging

    with warnings.catch_warnings():  # the hub warns when HF_HUB_DISABLE_PROGRESS_BARS decides
        warnings.simplefilter("ignore")
        if transformers_on:
            hf_logging.enable_progress_bar()  # switches the hub's on too
        if hub_on:
            enable_progress_bars()
        else:
            disable_progress_bars()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and, if present, CUDA)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def set_torch_threads(threads: int) -> None:
    """Set torch's intra-op threads; inter-op threads only while torch still allows it."""
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set, or parallel work already started: harmless on re-run


def limit_blas_threads(threads: int) -> None:
    """At most ``threads`` threads for numpy's BLAS (already loaded, so its environment
    variables are read too late); nothing when threadpoolctl (scikit-learn's) is missing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return
    threadpool_limits(limits=threads)


def apply_plot_style() -> None:
    """Use the course's matplotlib style (assets/course.mplstyle) and an inline-friendly DPI."""
    import matplotlib.pyplot as plt

    from course_utils.paths import assets_dir

    style = assets_dir() / "course.mplstyle"
    if style.exists():
        plt.style.use(str(style))


def setup(seed: int = 0, threads: int | None = None, *, plots: bool = True,
          verbose: bool = True) -> SetupInfo:
    """Prepare the notebook: offline + quiet env, threads, seeds, plot style; print one line.

    Args:
        threads: torch threads; default = usable CPUs (affinity / pod quota), at most 4.
            ``COURSE_THREADS`` overrides the default.

    The line says "bf16 training" when training will use bfloat16 (``COURSE_PRECISION``,
    :func:`use_bf16`). A wrong ``COURSE_THREADS`` or ``COURSE_PRECISION``
    raises ValueError saying what to set.
        plots: apply the course's plot style.
    """
    from course_utils.validation import validate_whole_number  # numpy: imported on first use

    seed = validate_whole_number(seed, "seed", minimum=0)
    n_threads = choose_threads(threads)
    precision_setting()  # a wrong COURSE_PRECISION stops here, before anything changed
    offline = apply_quiet_offline_env()
    # No stray tqdm bars in notebooks (the trainer's model card, similarity scores); tqdm reads
    # this when it is first imported, which quiet_logging below does. Command lines keep theirs.
    os.environ.setdefault("TQDM_DISABLE", "1")
    # Thread counts: numba (UMAP) reads its variable when first imported, after this; numpy's
    # BLAS was loaded with the package, so it is limited directly.
    os.environ.setdefault("NUMBA_NUM_THREADS", str(n_threads))
    limit_blas_threads(n_threads)
    # Compiled UMAP code goes under the course cache, never beside umap's installed sources;
    # plots.projection switches numba's disk cache on for umap only when this is set.
    from course_utils.paths import cache_dir

    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir() / "numba"))
    quiet_logging()
    import torch

    set_torch_threads(n_threads)
    seed_everything(seed)
    if plots:
        apply_plot_style()
    info = SetupInfo(
        seed=seed,
        threads=n_threads,
        offline=offline,
        python=platform.python_version(),
        torch=torch.__version__.split("+")[0],
        bf16=use_bf16(),
    )
    if verbose:
        print(info.summary())
    return info
