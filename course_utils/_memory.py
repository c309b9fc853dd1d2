"""Handing freed memory back to the operating system (glibc only; a no-op elsewhere).

Private: :func:`course_utils.training.train_triplets` calls :func:`release_memory` before and
after training, and notebooks 06 and 07 call it as ``cu.training.release_memory()`` after
dropping a model. ``benchmarks/step_ab.py`` uses :func:`call_glibc` to try allocator settings.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: glibc's mallopt parameter: allocations at least this large get their own memory mapping.
M_MMAP_THRESHOLD = -3
#: glibc's starting value, kept outside training: large blocks (model weights, layouts) get their
#: own mapping and go back to the system when freed, so they never pin the heap.
OUTSIDE_TRAINING_BYTES = 128 * 1024
#: While training: every block a step allocates (hidden states, attention scores, the
#: feed-forward layers' 2-3 MB blocks) is reused from the heap instead of being mapped,
#: page-faulted in and unmapped again every step. With the word-embedding table frozen
#: (course_utils.trainer.frozen_word_embeddings) this costs less memory than the old 1 MB
#: setting with the table trained; see docs/training.md, "Where a step's time goes".
TRAINING_BYTES = 32 * 1024 * 1024


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


@contextmanager
def training_heap() -> Iterator[None]:
    """Before: what earlier runs freed is handed back, so training starts from a compact heap.
    Inside: blocks below ``TRAINING_BYTES`` come from the heap (faster steps). After: glibc's
    starting threshold (128 kB) again and the freed training memory handed back, so that a
    notebook kernel's later models and arrays do not pile up on top of a large heap."""
    release_memory()
    call_glibc("mallopt", M_MMAP_THRESHOLD, TRAINING_BYTES)
    try:
        yield
    finally:
        call_glibc("mallopt", M_MMAP_THRESHOLD, OUTSIDE_TRAINING_BYTES)
        release_memory()
