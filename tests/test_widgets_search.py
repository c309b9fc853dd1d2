"""The search box of notebook 05, driven without a browser (bundled model, four sentences)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.widgets import neighbour_search
from course_utils.widgets.search import PROMPT, nearest_rows


def test_nearest_rows_orders_by_cosine():
    corpus = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    assert [row for row, _ in nearest_rows(np.array([1.0, 0.0]), corpus, 2)] == [0, 2]


def test_search_shows_each_models_neighbours_side_by_side(model, sentences, tmp_cache):
    labels = pd.DataFrame({"topic": ["restaurants", "restaurants", "electronics",
                                     "electronics"]})
    box = neighbour_search(sentences, {"pretrained": model, "again": model}, labels=labels, k=2)
    assert box.state == {"query": "", "results": {}}
    state = box.search("My new phone's battery was dead by noon.")
    assert set(state["results"]) == {"pretrained", "again"}
    first = state["results"]["pretrained"]
    assert len(first) == 2 and first[0]["row"] == 2 and first[0]["topic"] == "electronics"
    assert first[0]["cosine"] >= first[1]["cosine"]
    assert state["results"]["again"] == first  # same model -> same neighbours
    html = box.children[1].value
    assert "pretrained" in html and "again" in html and sentences[2] in html


def test_typing_updates_and_clearing_asks_again(model, sentences, tmp_cache):
    box = neighbour_search(sentences, {"pretrained": model}, k=1)
    box.text_control.value = sentences[1]  # what typing + Enter does
    hit = box.state["results"]["pretrained"][0]
    assert hit["row"] == 1 and hit["cosine"] == pytest.approx(1.0, abs=1e-4)
    box.text_control.value = "   "
    assert box.state["results"] == {} and PROMPT in box.children[1].value


def test_bad_arguments_say_what_to_do(model, sentences):
    with pytest.raises(ValueError, match="at least one model"):
        neighbour_search(sentences, {})
    with pytest.raises(ValueError, match="k must be"):
        neighbour_search(sentences, {"m": model}, k=10)
    with pytest.raises(ValueError, match="one to one"):
        neighbour_search(sentences, {"m": model}, labels=pd.DataFrame({"a": [1]}), k=2)


@pytest.mark.parametrize(("texts", "error", "message"), [
    ("one sentence", TypeError, "must be a list of sentences, got a single string"),
    (["A lovely stay.", None, float("nan")], ValueError, r"2 missing entries .* rows \[1, 2\]"),
    (pd.Series(["A lovely stay.", None]), ValueError, "missing entries"),
])
def test_search_refuses_texts_that_are_not_sentences(texts, error, message):
    with pytest.raises(error, match=message):
        neighbour_search(texts, {"pretrained": object()})
