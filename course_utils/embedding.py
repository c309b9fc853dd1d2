"""Encoding texts into L2-normalised embeddings, with an on-disk cache.

The cache key is the model's identity (source, weights fingerprint, max sequence length) and the
exact texts, so a fine-tuned model or one changed sentence never reuses a stale result. Writes
are atomic; an entry that fails to load is recomputed.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from course_utils.paths import cache_dir

# validate_embeddings is also public here, where the course has always documented it.
from course_utils.validation import validate_embeddings as validate_embeddings
from course_utils.validation import validate_whole_number

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

CACHE_SUBDIR = "embeddings"


class CacheWarning(UserWarning):
    """The embedding cache could not be used; results are computed without it."""


class TextWarning(UserWarning):
    """Some texts were not encoded as written: cut to the model's length, or empty."""


class PromptWarning(TextWarning):
    """The prompt takes more than half of the tokens the model reads, leaving little text."""


#: A prompt must leave at least this many of the model's tokens for the text itself.
MIN_TEXT_TOKENS = 8


def _warn_about_texts(texts: list[str], model: SentenceTransformer) -> None:
    """Warn once per call when texts are empty or longer than the model reads (both change
    the embeddings: an empty text still gets a unit vector, a long one loses its end)."""
    empty = [i for i, text in enumerate(texts) if not text.strip()]
    limit = getattr(model, "max_seq_length", None)
    tokenizer = getattr(model, "tokenizer", None)
    cut: list[int] = []
    if isinstance(limit, int) and callable(tokenizer):
        # A word-piece covers at least one character, so only texts this long can be too long.
        candidates = [i for i, text in enumerate(texts) if len(text) + 2 > limit]
        if candidates:
            ids = tokenizer([texts[i] for i in candidates], add_special_tokens=True,
                            truncation=False)["input_ids"]
            cut = [i for i, row in zip(candidates, ids, strict=True) if len(row) > limit]
    problems = []
    if cut:
        problems.append(
            f"{len(cut)} text(s) are longer than the model's {limit} tokens and were cut to "
            f"that length (e.g. item {cut[0]}); split long texts into sentences or paragraphs "
            "if their end matters")
    if empty:
        problems.append(
            f"{len(empty)} text(s) are empty or only spaces (e.g. item {empty[0]}) and still "
            "got an embedding; drop them if they are missing data")
    if problems:
        warnings.warn("; ".join(problems) + ".", TextWarning, stacklevel=3)


def _validate_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError(
            "texts must be a list of strings, got a single string. Wrap it: encode([text])."
        )
    if texts is None or not hasattr(texts, "__len__"):
        raise TypeError(f"texts must be a list of strings, got {type(texts).__name__}.")
    texts = list(texts)
    if not texts:
        raise ValueError("texts is empty; pass at least one sentence to encode.")
    bad = [i for i, text in enumerate(texts) if not isinstance(text, str)]
    if bad:
        raise TypeError(
            f"texts must all be strings; item(s) {bad[:5]} are "
            f"{sorted({type(texts[i]).__name__ for i in bad})}. Convert them with str() or "
            "drop missing values first."
        )
    from course_utils.data import invalid_text_positions

    broken = invalid_text_positions(texts)
    if broken:
        raise ValueError(
            f"texts {broken[:5]} contain characters that are not valid Unicode (e.g. a lone "
            "surrogate such as '\\udc80', left by reading a file with the wrong encoding). "
            "Read the file as UTF-8, or clean them: text.encode('utf-8', 'replace').decode()."
        )
    return texts


def cache_key(identity: str, texts: Sequence[str]) -> str:
    """A hex digest naming the cache entry for these texts under this model identity."""
    digest = hashlib.sha256(identity.encode())
    for text in texts:
        encoded = text.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return digest.hexdigest()


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32). Zero rows are left at zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def read_cached_array(path: Path, n_rows: int, n_cols: int | None = None) -> np.ndarray | None:
    """A float32 (n_rows, n_cols) array from a cache file, or None if it is anything else.

    The header is checked before any data is read (a damaged one must not allocate a huge
    shape); any read failure counts as a miss, never a crash.
    """
    try:
        with open(path, "rb") as file:
            formats = np.lib.format
            read_header = {(1, 0): formats.read_array_header_1_0,
                           (2, 0): formats.read_array_header_2_0}[formats.read_magic(file)]
            shape, fortran, dtype = read_header(file)
            if (dtype != np.float32 or len(shape) != 2 or shape[0] != n_rows
                    or (n_cols is not None and shape[1] != n_cols)):
                return None
            if os.fstat(file.fileno()).st_size - file.tell() != n_rows * shape[1] * 4:
                return None
            array = np.fromfile(file, dtype=dtype, count=n_rows * shape[1])
        return array.reshape(shape, order="F" if fortran else "C")
    except Exception:  # noqa: BLE001 - whatever is wrong with the file, recompute
        return None


def _read_entry(path: Path, n_rows: int) -> np.ndarray | None:
    """The cached array if it is intact (loads, right shape, finite, unit rows), else None."""
    array = read_cached_array(path, n_rows)
    if array is None:
        return None
    if not np.isfinite(array).all():
        return None
    if not np.allclose(np.linalg.norm(array, axis=1), 1.0, atol=1e-3):
        return None
    return array


def write_cache_entry(path: Path, array: np.ndarray, what: str) -> None:
    """Write a cache entry atomically (``cu.safe_output.write_atomically``), never pickled; if
    the folder cannot be written, a CacheWarning says how to fix it and the caller goes on."""
    from course_utils.safe_output import write_atomically

    try:
        write_atomically(path, lambda handle: np.save(handle, array, allow_pickle=False))
    except OSError as error:
        warnings.warn(
            f"Could not write the {what} cache at {path.parent} ({error.strerror}); "
            "continuing without it. Set COURSE_CACHE_DIR to a writable folder to cache.",
            CacheWarning,
            stacklevel=3,
        )


def encode(
    texts: Sequence[str],
    model: SentenceTransformer | None = None,
    *,
    batch_size: int = 64,
    cache: bool = True,
    cache_directory: str | os.PathLike | None = None,
    prompt: str | None = None,
) -> np.ndarray:
    """Embed ``texts`` with ``model`` (default: the bundled model) -> float32 array (n, dim).

    Rows are L2-normalised (dot product = cosine). ``cache=True`` reuses ``<cache>/embeddings/``;
    an unwritable cache gives a CacheWarning and encoding goes on. ``prompt`` (e.g. ``"topic: "``,
    notebook 08) goes in front of every text and into the cache key.
    """
    texts = _validate_texts(texts)
    prompt = validate_prompt(prompt)
    validate_whole_number(batch_size, "batch_size")
    from course_utils.models import model_or_default

    model = model_or_default(model)
    validate_prompt_length(prompt, getattr(model, "tokenizer", None),
                           getattr(model, "max_seq_length", None))
    entry = _cache_entry(model, texts, prompt, cache_directory) if cache else None
    if entry is not None and entry.exists():
        cached = _read_entry(entry, len(texts))
        if cached is not None:
            return cached
    _warn_about_texts(texts, model)
    vectors = l2_normalise(model.encode(
        texts,
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
        **({"prompt": prompt} if prompt else {}),
    ))
    if entry is not None:
        write_cache_entry(entry, vectors, "embedding")
    return vectors


def _cache_entry(model: SentenceTransformer, texts: list[str], prompt: str | None,
                 cache_directory: str | os.PathLike | None) -> Path:
    """The cache file for these texts under this model (and prompt)."""
    from course_utils.models import model_identity

    folder = Path(cache_directory) if cache_directory is not None else cache_dir()
    identity = model_identity(model) + (f"|prompt={prompt!r}" if prompt else "")
    return folder / CACHE_SUBDIR / f"{cache_key(identity, texts)}.npy"


def validate_prompt(prompt: object) -> str | None:
    """Return ``prompt`` (``""`` becomes None: no prompt), or raise if it is not text."""
    if prompt is None or prompt == "":
        return None
    if not isinstance(prompt, str):
        raise TypeError(
            f"prompt must be a string such as 'topic: ' (or None), got {type(prompt).__name__}."
        )
    return prompt


def validate_prompt_length(prompt: str | None, tokenizer: object, max_seq_length: int | None,
                           *, where: str = "") -> int | None:
    """Raise a ValueError if ``prompt`` leaves fewer than :data:`MIN_TEXT_TOKENS` of the
    model's ``max_seq_length`` tokens for the text (the model reads the prompt first and cuts
    the rest, so every text would vanish); warn (:class:`PromptWarning`) if it takes more than
    half. Returns the tokens left for the text (None when there is nothing to check).
    ``where`` names the prompt in the message (e.g. ``"--prompt sentiment=..."``)."""
    if not prompt or not callable(tokenizer) or not isinstance(max_seq_length, int):
        return None
    used = len(tokenizer(prompt, add_special_tokens=True, truncation=False)["input_ids"])
    left = max_seq_length - used
    name = where or "the prompt"
    shown = repr(prompt if len(prompt) <= 40 else prompt[:37] + "...")
    share = (f"{name} {shown} takes {used} "
             f"of the model's {max_seq_length} tokens (with the start and end markers), "
             f"leaving {max(left, 0)} for each text")
    if left < MIN_TEXT_TOKENS:
        raise ValueError(f"{share}: the texts would be cut away. Shorten the prompt (a few "
                         f"words, e.g. 'topic: ') or raise max_seq_length above "
                         f"{used + MIN_TEXT_TOKENS}.")
    if used > max_seq_length / 2:
        warnings.warn(f"{share}; longer texts lose their end. Shorten the prompt or raise "
                      "max_seq_length.", PromptWarning, stacklevel=3)
    return left
