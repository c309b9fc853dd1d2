"""The input checks several modules share: numbers, embedding arrays and tensors, dicts. Each
``validate_*`` returns the cleaned value or raises naming the argument, what it got and needs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd


def is_whole_number(value: object) -> bool:
    """True for an int or NumPy integer (not a bool, which Python counts as an int)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def validate_whole_number(value: object, name: str, *, minimum: int = 1,
                          allow_none: bool = False) -> int | None:
    """``value`` as an int >= ``minimum`` (or None when ``allow_none``); ValueError otherwise."""
    if value is None and allow_none:
        return None
    if not is_whole_number(value) or value < minimum:
        wanted = "a positive whole number" if minimum == 1 else f"a whole number >= {minimum}"
        none = " (or None)" if allow_none else ""
        raise ValueError(f"{name} must be {wanted}{none}, got {value!r}.")
    return int(value)


def validate_positive_number(value: object, name: str, *, upper: float | None = None) -> float:
    """``value`` as a finite float above 0 (and at most ``upper``); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number above 0, got {value!r}.")
    if upper is not None and value > upper:
        raise ValueError(f"{name} must be at most {upper}, got {value!r}.")
    return float(value)


def validate_non_empty_dict(value: object, name: str, shape: str, example: str) -> Mapping:
    """``value`` if it is a non-empty mapping, else a TypeError showing the ``shape`` wanted."""
    if not isinstance(value, Mapping) or not value:
        raise TypeError(f"{name} must be a non-empty dict {shape}, e.g. {example}.")
    return value


def validate_embeddings(value: object, *, name: str = "embeddings", n_rows: int | None = None,
                        dtype: type = np.float32, columns: int | None = None,
                        source: str = "the array returned by cu.embedding.encode(...)",
                        ) -> np.ndarray:
    """``value`` (an array, list or torch tensor) as a finite, non-empty (n, dim) array of
    ``dtype``, or a clear error. ``n_rows``/``columns``: the rows and width it must have;
    ``source``: what to pass instead of None.
    """
    shape = "(n_texts, dim)" if columns is None else f"(n, {columns})"
    if value is None:
        raise TypeError(f"{name} is None; pass {source}.")
    if hasattr(value, "detach"):  # a torch tensor, possibly on a GPU or with gradients
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a 2-D array of numbers {shape}, got {type(value).__name__}."
        ) from None
    if columns is not None and (array.ndim != 2 or array.shape[1] != columns
                                or array.shape[0] == 0):
        raise ValueError(f"{name} must have shape {shape}, one row of {columns}-D coordinates "
                         f"per point; got {array.shape}.")
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D array {shape}, got shape {array.shape}. "
            "For a single vector use v[None, :]."
        )
    if not np.isfinite(array).all():
        bad_rows = np.where(~np.isfinite(array).all(axis=1))[0][:5].tolist()
        raise ValueError(
            f"{name} contains NaN or infinite values (rows {bad_rows}); re-encode the texts, "
            "and check that no text was empty."
        )
    if n_rows is not None and array.shape[0] != n_rows:
        raise ValueError(
            f"{name} has {array.shape[0]} rows but there are {n_rows} labels/texts; they must "
            "match one to one (same order)."
        )
    return array


def validate_tensor(value: Any, name: str) -> Any:
    """``value`` as a finite floating-point (n, d) tensor, or an error that says what to fix."""
    import torch

    if value is None:
        raise TypeError(f"{name} is None; pass an (n, dim) float tensor of embeddings.")
    if isinstance(value, np.ndarray):
        # a copy when read-only (e.g. a cached array), which torch cannot share safely
        value = torch.from_numpy(value if value.flags.writeable else value.copy())
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch tensor of shape (n, dim), got {type(value).__name__}. "
            f"Convert it with torch.as_tensor({name}, dtype=torch.float32)."
        )
    if not torch.is_floating_point(value):
        raise TypeError(
            f"{name} must hold floating-point numbers, got dtype {value.dtype}. "
            f"Convert it with {name}.float()."
        )
    if value.dim() != 2 or value.shape[0] == 0 or value.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D tensor (n_items, dim), got shape "
            f"{tuple(value.shape)}. For a single vector use v.unsqueeze(0)."
        )
    if not torch.isfinite(value).all():
        raise ValueError(
            f"{name} contains NaN or infinite values; check the inputs (or a learning rate that "
            "made training diverge)."
        )
    return value


def validate_same_shapes(**arrays: Any) -> None:
    """Raise unless the named arrays or tensors all have one shape (row i of each together)."""
    shapes = {name: tuple(array.shape) for name, array in arrays.items()}
    if len(set(shapes.values())) != 1:
        described = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"The embeddings must have the same shape (row i of each belongs "
                         f"together, one row per triplet/pair), got {described}.")


def validate_eval_texts(texts: object) -> list[str]:
    """``texts`` (the sentences encoded at every snapshot) as a list of non-empty strings."""
    if isinstance(texts, str) or not isinstance(texts, Sequence | pd.Series | np.ndarray):
        raise TypeError(f"eval_texts must be a list of sentences, got {type(texts).__name__}.")
    texts = list(texts)
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ValueError("eval_texts must be a non-empty list of non-empty strings.")
    return texts


def validate_snapshot_steps(steps: object, max_steps: int | None) -> tuple[int, ...]:
    """``steps`` as a tuple of increasing whole numbers >= 0 (<= ``max_steps`` when known);
    raises ValueError with what was wrong otherwise."""
    example = "e.g. snapshot_steps=(2, 4, 6, 10, 20)"
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence | np.ndarray):
        raise ValueError(f"snapshot_steps must be a list or tuple of step numbers ({example}), "
                         f"got {steps!r}.")
    values = list(steps)
    if not values:
        raise ValueError(f"snapshot_steps is empty; list at least one step ({example}) or pass "
                         "None for snapshots only at the start and the end.")
    for value in values:
        if not is_whole_number(value) or value < 0:
            raise ValueError(f"snapshot_steps must hold whole numbers >= 0, got {value!r} in "
                             f"{steps!r} ({example}).")
    values = [int(value) for value in values]
    if any(later <= earlier for earlier, later in zip(values[:-1], values[1:], strict=True)):
        raise ValueError(f"snapshot_steps must be increasing, without repeats; got {values}.")
    if max_steps is not None and values[-1] > max_steps:
        raise ValueError(f"snapshot_steps {values} asks for step {values[-1]}, but training "
                         f"stops after max_steps={max_steps}; drop the later steps or train "
                         "longer.")
    return tuple(values)
