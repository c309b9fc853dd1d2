"""The contrast explorers, driven without a browser: set a control's value, read ``.state``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils import toy, widgets
from course_utils.widgets.contrast import (
    contrast_explorer,
    feature_contrast_explorer,
    feature_contrast_state,
)

TEXTS = ["anchor <b>bold</b>", "near the anchor", "far from the anchor", "opposite",
         "also near", "sideways"]
# 2-D unit-ish vectors: rows 1 and 4 near row 0, row 2 at 90 degrees, row 3 opposite
EMBEDDINGS = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0], [0.8, 0.3],
                       [0.5, -0.5]], dtype=np.float32)
LABELS = pd.DataFrame({"topic": ["t1", "t1", "t2", "t2", "t1", "t3"],
                       "sentiment": ["positive", "negative", "positive", "negative",
                                     "positive", "negative"]})


def unit(rows):
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_package_exports_the_factory():
    assert widgets.contrast_explorer is contrast_explorer


def test_initial_state_says_which_candidate_is_closer_and_by_how_much():
    box = contrast_explorer(TEXTS, EMBEDDINGS, labels=LABELS, k=3)
    state = box.state
    vectors = unit(EMBEDDINGS)
    assert (state["anchor"], state["p"], state["q"]) == (0, 1, 2)
    assert state["sim_p"] == pytest.approx(vectors[0] @ vectors[1], abs=1e-6)
    assert state["sim_q"] == pytest.approx(0.0, abs=1e-6)
    assert state["closer"] == "P" and state["margin"] == pytest.approx(
        state["sim_p"] - state["sim_q"])
    assert state["anchor_text"] == TEXTS[0] and state["q_text"] == TEXTS[2]
    assert state["labels"]["topic"] == {"anchor": "t1", "p": "t1", "q": "t2"}
    assert [n["index"] for n in state["neighbours"]] == [1, 4, 5]
    assert state["neighbours"][0]["sentiment"] == "negative"
    sims = [n["similarity"] for n in state["neighbours"]]
    assert sims == sorted(sims, reverse=True)


def test_changing_controls_updates_the_state():
    box = contrast_explorer(TEXTS, EMBEDDINGS, labels=LABELS, k=2)
    box.q_control.value = 4
    assert box.state["q"] == 4 and box.state["closer"] == "P"
    box.p_control.value = 3
    assert box.state["closer"] == "Q" and box.state["sim_p"] == pytest.approx(-1.0, abs=1e-6)
    box.anchor_control.value = 3
    assert box.state["anchor"] == 3
    assert all(n["index"] != 3 for n in box.state["neighbours"]), "the anchor is not its own"
    assert box.state["neighbours"][0]["index"] == 2  # orthogonal beats the rest
    box.k_control.value = 5
    assert len(box.state["neighbours"]) == 5


def test_a_tie_is_reported_as_a_tie():
    box = contrast_explorer(TEXTS, EMBEDDINGS, p=1, q=1)
    assert box.state["closer"] == "tie" and box.state["margin"] == 0
    assert "equally close" in box.children[-1].value


def test_the_html_escapes_the_texts_and_shows_the_verdict():
    box = contrast_explorer(TEXTS, EMBEDDINGS, labels=LABELS)
    html = box.children[-1].value
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert "<b>P</b> is closer to the anchor" in html
    assert "positive" in html


@pytest.mark.parametrize("labels", [None, {"topic": list(LABELS["topic"])},
                                    list(LABELS["sentiment"])])
def test_labels_may_be_a_frame_a_dict_a_list_or_nothing(labels):
    box = contrast_explorer(TEXTS, EMBEDDINGS, labels=labels)
    expected = 0 if labels is None else 1
    assert len(box.state["labels"]) == expected


def test_options_show_index_text_and_labels():
    box = contrast_explorer(TEXTS, EMBEDDINGS, labels=LABELS)
    label, value = box.anchor_control.options[2]
    assert value == 2 and label.startswith("2: far from the anchor") and "[t2/positive]" in label


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((TEXTS, EMBEDDINGS[:4]), {}, ValueError, "must match one to one"),
        ((TEXTS, EMBEDDINGS), {"labels": ["a"]}, ValueError, "one to one"),
        ((TEXTS, EMBEDDINGS), {"k": 0}, ValueError, "k must be"),
        ((TEXTS, EMBEDDINGS), {"k": 6}, ValueError, "k must be"),
        ((TEXTS, EMBEDDINGS), {"anchor": 6}, ValueError, "anchor must be"),
        ((TEXTS, EMBEDDINGS), {"labels": "topic"}, TypeError, "not a single string"),
        (("one text", EMBEDDINGS), {}, TypeError, "list of sentences"),
        ((TEXTS[:2], EMBEDDINGS[:2]), {}, ValueError, "at least 3"),
        ((TEXTS, None), {}, TypeError, "encode"),
    ],
)
def test_contrast_explorer_explains_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        contrast_explorer(*args, **kwargs)


def test_with_the_real_model_the_same_topic_candidate_wins_the_teaser(model):
    from course_utils.embedding import encode

    teaser = toy.teaser_sentences()
    vectors = encode(teaser["text"].tolist(), model, cache=False)
    box = contrast_explorer(teaser["text"].tolist(), vectors,
                            labels=teaser[["topic", "sentiment"]], anchor=0, p=1, q=2, k=3)
    assert box.state["closer"] == "P"  # same topic, opposite sentiment beats the reverse
    assert box.state["labels"]["sentiment"] == {"anchor": "positive", "p": "negative",
                                                "q": "positive"}


# --------------------------------------------------------------------------- feature table


def test_feature_explorer_state_follows_p_q_and_the_ticks():
    box = feature_contrast_explorer(toy.animal_table(), p="dog", q="cat")
    state = box.state
    assert state["discriminating"] == ["barks", "retractable_claws", "lives_in_group", "size"]
    assert "has_tail" in state["shared"] and state["nearest_to_p"] == "wolf"
    assert state["distance"] == pytest.approx(2.0)
    box.q_control.value = "wolf"
    assert box.state["discriminating"] == ["barks", "domesticated", "size"]
    for feature, control in box.feature_controls.items():
        control.value = feature in ("domesticated", "size")
    assert box.state["nearest_to_p"] == "cat"
    assert box.state["weights"]["barks"] == 0.0
    assert box.state["distance"] == pytest.approx(np.sqrt(2))
    assert "(weight 0)" in box.children[-1].value
    box.p_control.value = "wolf"
    assert "same row" in box.children[-1].value and box.state["discriminating"] == []


def test_feature_state_is_what_the_explorer_shows():
    box = feature_contrast_explorer(toy.animal_table(), p="dog", q="horse")
    every_feature = {f: 1.0 for f in box.table.columns}
    assert feature_contrast_state(box.table, "dog", "horse", every_feature) == box.state


def test_feature_explorer_starting_weights_and_bad_tables():
    box = feature_contrast_explorer(toy.animal_table(), weights={"size": 1.0})
    assert [f for f, c in box.feature_controls.items() if c.value] == ["size"]
    with pytest.raises(TypeError, match="DataFrame"):
        feature_contrast_explorer([[1, 2]])
    with pytest.raises(ValueError, match="numeric"):
        feature_contrast_explorer(pd.DataFrame({"colour": ["red", "blue"]}, index=["a", "b"]))
    with pytest.raises(ValueError, match="not a row"):
        feature_contrast_explorer(toy.animal_table(), p="unicorn")


def test_explorer_tables_pad_every_cell_and_keep_row_styles():
    from course_utils.widgets.explorer import html_table

    table = html_table(["#", "cosine", "text"], [["1", "0.55", "a"], ["2", "0.48", "b"]],
                       ["color:#777", ""])
    assert table.count("padding:2px 8px") == 9  # 3 header cells + 6 body cells
    assert '<tr style="color:#777">' in table and table.count("<tr") == 3


def test_contrast_explorer_refuses_missing_texts():
    texts = list(TEXTS)
    texts[1] = float("nan")
    with pytest.raises(ValueError, match=r"missing entries \(None or NaN\), e\.g\. at rows \[1\]"):
        contrast_explorer(texts, EMBEDDINGS)
