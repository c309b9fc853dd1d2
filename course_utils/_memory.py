"""Handing freed memory back to the operating system (glibc only; a no-op elsewhere).

Private: :func:`course_utils.training.train_triplets` calls :func:`release_memory` before and
after training, and notebooks 06 and 07 call it as ``cu.training.release_memory()`` after
dropping a model. ``benchmarks/step_ab.py`` uses :func:`call_glibc` to try allocator settings.
"""

from __future__ import annotations

import sys


def call_glibc(function: str, *args: int) -> None:
    """Call glibc's ``function(*args)`` on Linux; do nothing on other systems or C libraries."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        getattr(libc, function)(*args)
    except (OSError, AttributeError):  # musl or another libc without this function
        pass


def release_memory() -> None:
    """Give memory freed after training back to the operating system.

    The optimiser's state and the gradients (~400 MB here) are freed when training ends, but
    glibc keeps the freed pages for reuse, so a notebook kernel would stay that large. On Linux
    ``malloc_trim`` returns them (measured: 1055 -> 676 MB); elsewhere this only collects
    garbage.
    """
    import gc

    gc.collect()
    call_glibc("malloc_trim", 0)
