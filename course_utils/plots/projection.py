"""2-D projections of embeddings with UMAP (cosine), deterministic and cached.

Layouts are cached in ``<cache>/layouts/`` (keyed by the embedding bytes, every parameter and
``init``); UMAP's numba code is cached in ``NUMBA_CACHE_DIR`` (set by ``cu.setup()``;
``COURSE_NUMBA_CACHE=0`` turns it off), so the ~20 s compilation is paid once per
installation (notebook 00's :func:`warm_up`), not once per kernel. See docs/plots.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from course_utils.embedding import (
    read_cached_array,
    validate_embeddings,
    write_cache_entry,
)
from course_utils.paths import cache_dir
from course_utils.validation import validate_whole_number

__all__ = ["layout_cache_path", "project_2d", "warm_up"]

#: Sub-folder of the course cache that holds projected layouts.
LAYOUT_SUBDIR = "layouts"
#: Bump when the way layouts are computed changes, so old cache entries are not reused.
_LAYOUT_VERSION = "umap-layout-v1"
#: Fewest points UMAP can lay out (its spectral start needs at least 4).
MIN_POINTS = 4
#: umap modules whose numba functions get numba's on-disk cache switched on.
_NUMBA_MODULES = ("umap.utils", "umap.distances", "umap.sparse", "umap.layouts",
                  "umap.spectral", "umap.umap_")

_caching_enabled = False


@contextlib.contextmanager
def _quiet_umap_warnings() -> Iterator[None]:
    """Hide umap's harmless warnings (no TensorFlow; a seed forces one thread)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Tensorflow not installed.*")
        warnings.filterwarnings("ignore", message=".*n_jobs value .* overridden.*")
        warnings.filterwarnings("ignore", message=".*n_neighbors is larger than the dataset.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="umap")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pynndescent")
        warnings.filterwarnings("ignore", category=FutureWarning, module="sklearn")
        yield


def _enable_numba_disk_cache() -> int:
    """Switch numba's on-disk cache on for umap's compiled functions (umap-learn omits
    ``cache=True``); return how many. Repeatable; a failure leaves compilation uncached."""
    global _caching_enabled
    if _caching_enabled:
        return 0
    _caching_enabled = True
    if (os.environ.get("COURSE_NUMBA_CACHE", "1").strip().lower() in ("0", "false", "no", "off")
            or not os.environ.get("NUMBA_CACHE_DIR")):
        return 0
    import importlib

    try:
        from numba.core.caching import NullCache
        from numba.core.registry import CPUDispatcher
    except ImportError:  # pragma: no cover - numba comes with umap-learn
        return 0
    dispatchers: dict[int, Any] = {}
    for module_name in _NUMBA_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # pragma: no cover
            continue
        for value in list(vars(module).values()):
            if isinstance(value, CPUDispatcher):
                dispatchers[id(value)] = value
    # numba's cache index is keyed by the Python function and the signature, not by options
    # such as parallel=True: two dispatchers made from one function (umap has a serial and a
    # parallel layout optimiser) would share cache entries, and a serial run could load the
    # parallel machine code. Cache only one dispatcher per function, the serial one.
    by_function: dict[int, list[Any]] = {}
    for dispatcher in dispatchers.values():
        by_function.setdefault(id(dispatcher.py_func), []).append(dispatcher)
    enabled = 0
    for group in by_function.values():
        if len(group) > 1:
            group = [d for d in group if not d.targetoptions.get("parallel")][:1]
        for dispatcher in group:
            if not isinstance(dispatcher._cache, NullCache):
                continue
            try:
                dispatcher.enable_caching()
            except Exception:  # pragma: no cover - caching is an optimisation only
                continue
            enabled += 1
    return enabled


def _umap_class() -> Any:
    with _quiet_umap_warnings():
        import umap
    _enable_numba_disk_cache()
    return umap.UMAP


def _validate_init(init: object, n_rows: int) -> np.ndarray | None:
    if init is None:
        return None
    try:
        array = np.asarray(init, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(
            f"init must be an (n, 2) array of numbers (e.g. an earlier project_2d result), "
            f"got {type(init).__name__}."
        ) from None
    if array.shape != (n_rows, 2):
        raise ValueError(
            f"init must have shape ({n_rows}, 2), one starting position per embedding row; "
            f"got {array.shape}."
        )
    if not np.isfinite(array).all():
        raise ValueError("init contains NaN or infinite values.")
    return np.ascontiguousarray(array)


def _validate_params(seed: object, n_neighbors: object, min_dist: object,
                  n_epochs: object) -> None:
    validate_whole_number(seed, "seed", minimum=0)
    validate_whole_number(n_neighbors, "n_neighbors", minimum=2)
    if (isinstance(min_dist, bool) or not isinstance(min_dist, (int, float, np.floating))
            or not 0 <= float(min_dist) <= 1):
        raise ValueError(f"min_dist must be a number between 0 and 1, got {min_dist!r}.")
    validate_whole_number(n_epochs, "n_epochs", allow_none=True)


def _layout_key(array: np.ndarray, params: dict[str, Any], init: np.ndarray | None) -> str:
    digest = hashlib.sha256(_LAYOUT_VERSION.encode())
    digest.update(repr(sorted(params.items())).encode())
    digest.update(repr(array.shape).encode())
    digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
    if init is not None:
        digest.update(b"init")
        digest.update(init.tobytes())
    return digest.hexdigest()


def layout_cache_path(embeddings, *, seed: int = 0, n_neighbors: int = 15,
                      min_dist: float = 0.1, init: np.ndarray | None = None,
                      n_epochs: int | None = None) -> Path:
    """Where :func:`project_2d` stores the layout for these arguments (the file may not exist)."""
    array = validate_embeddings(embeddings)
    init_array = _validate_init(init, len(array))
    _validate_params(seed, n_neighbors, min_dist, n_epochs)
    params = _effective_params(len(array), seed, n_neighbors, min_dist, n_epochs)
    return cache_dir() / LAYOUT_SUBDIR / f"{_layout_key(array, params, init_array)}.npy"


def _effective_params(n_rows: int, seed: int, n_neighbors: int, min_dist: float,
                      n_epochs: int | None) -> dict[str, Any]:
    return {
        "seed": int(seed),
        "n_neighbors": int(min(n_neighbors, n_rows - 1)),
        "min_dist": float(min_dist),
        "n_epochs": None if n_epochs is None else int(n_epochs),
        "metric": "cosine",
    }


def _read_layout(path: Path, n_rows: int) -> np.ndarray | None:
    layout = read_cached_array(path, n_rows, 2)
    if layout is None or not np.isfinite(layout).all():
        return None
    return layout


def project_2d(embeddings, *, seed: int = 0, n_neighbors: int = 15, min_dist: float = 0.1,
               init: np.ndarray | None = None, cache: bool = True,
               n_epochs: int | None = None) -> np.ndarray:
    """Project embeddings (n, d) to 2-D with UMAP (cosine metric) -> float32 array (n, 2).

    Args:
        seed: UMAP's ``random_state``; the same seed gives the same layout (single-threaded).
        n_neighbors: how many neighbours shape the layout (capped at n - 1).
        min_dist: how tightly points may pack (0 to 1).
        init: an (n, 2) starting layout, e.g. the "before" layout, so the points visibly move.
            UMAP rescales it into a 10 x 10 box first. Default: UMAP's spectral start.
        cache: reuse / store the layout in ``<cache>/layouts/``.
        n_epochs: optimisation epochs (default: UMAP's choice).

    The coordinates have no units: read only which points are near which.
    """
    array = validate_embeddings(embeddings)
    _validate_params(seed, n_neighbors, min_dist, n_epochs)
    init_array = _validate_init(init, len(array))
    if len(array) < MIN_POINTS:
        raise ValueError(
            f"UMAP needs at least {MIN_POINTS} points to lay out, got {len(array)}. Project "
            "a larger set (e.g. the whole dataset) and pick your points from its layout."
        )
    params = _effective_params(len(array), seed, n_neighbors, min_dist, n_epochs)
    entry = None
    if cache:
        entry = cache_dir() / LAYOUT_SUBDIR / f"{_layout_key(array, params, init_array)}.npy"
        cached = _read_layout(entry, len(array)) if entry.exists() else None
        if cached is not None:
            return cached
    umap_class = _umap_class()
    with _quiet_umap_warnings():
        reducer = umap_class(
            n_components=2,
            n_neighbors=params["n_neighbors"],
            min_dist=params["min_dist"],
            metric="cosine",
            random_state=params["seed"],
            n_epochs=params["n_epochs"],
            init="spectral" if init_array is None else init_array,
        )
        layout = reducer.fit_transform(array)
    layout = np.ascontiguousarray(layout, dtype=np.float32)
    if entry is not None:
        write_cache_entry(entry, layout, "layout")
    return layout


def warm_up(verbose: bool = False) -> float:
    """Compile UMAP's numba code now (on 60 random points) into the disk cache, so later
    projections in every kernel start fast; return the seconds it took."""
    import time

    start = time.perf_counter()
    points = np.random.default_rng(0).normal(size=(60, 16)).astype(np.float32)
    project_2d(points, n_neighbors=10, cache=False)
    project_2d(points, n_neighbors=10, cache=False, init=np.zeros((60, 2), np.float32)
               + np.arange(60, dtype=np.float32)[:, None] * np.float32([1.0, 0.5]))
    seconds = time.perf_counter() - start
    if verbose:
        print(f"UMAP ready ({seconds:.1f} s).")
    return seconds
