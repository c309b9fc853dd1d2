"""Notebook 02's checkers and claims: right answers pass, wrong ones get hints, claims bite."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.checks import CheckResult, nb02


def grouped_embeddings(topic_scale: float, sentiment_scale: float, n_per: int = 12,
                       seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """Embeddings = topic direction * topic_scale + sentiment direction * sentiment_scale."""
    rng = np.random.default_rng(seed)
    topics, sentiments = ["t1", "t2", "t3"], ["positive", "negative"]
    rows, labels = [], []
    for ti, topic in enumerate(topics):
        for si, sentiment in enumerate(sentiments):
            for _ in range(n_per):
                vector = rng.normal(scale=0.2, size=8)
                vector[ti] += topic_scale
                vector[3 + si] += sentiment_scale
                rows.append(vector)
                labels.append((topic, sentiment))
    frame = pd.DataFrame(labels, columns=["topic", "sentiment"])
    return np.array(rows), frame


# --------------------------------------------------------------------------- Exercise 1


@pytest.mark.parametrize("function", [
    lambda a, b: np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)),
    lambda a, b: torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(b), dim=0),
    lambda a, b: float(a @ b / np.sqrt((a @ a) * (b @ b))),
])
def test_cosine_accepts_right_functions(function):
    result = nb02.check_cosine_similarity(function)
    assert result.passed, result.message


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (None, "is None"),
        (lambda a, b: a @ b, "plain dot product"),
        (lambda a, b: a @ b / np.linalg.norm(a), "differs"),
        (lambda a, b: None, "is None"),
        (lambda a, b: a * b / (np.linalg.norm(a) * np.linalg.norm(b)), "shape"),
        (lambda a: 1.0, "raised TypeError"),
        (0.5, "should be a function"),
    ],
)
def test_cosine_hints(function, hint):
    result = nb02.check_cosine_similarity(function)
    assert not result.passed and hint in result.message, result.message


def test_cosine_reference():
    assert nb02.cosine_reference([1, 0], [1, 1]) == pytest.approx(np.sqrt(0.5))
    assert nb02.cosine_reference([3, 4], [-6, -8]) == pytest.approx(-1)


# --------------------------------------------------------------------------- Exercise 2


def fake_embed(texts):
    """A stand-in model: a sentence's vector counts a few words (the dish weighs most)."""
    words = ("risotto", "creamy", "great", "terrible", "hotel", "room")
    return np.array([[1.0 + 4 * ("risotto" in t.lower())] + [float(w in t.lower()) for w in words]
                     for t in texts])


ANCHOR = "Great little bistro where the risotto is creamy without being heavy."
FOIL = "Terrible risotto, gluey and salty."


def test_beats_foil_passes_a_sentence_closer_than_the_foil():
    result = nb02.check_beats_foil("Our hotel's creamy risotto was great.", fake_embed,
                                   anchor=ANCHOR, foil=FOIL)
    assert result.passed and "beats the foil" in result.message, result.message


def test_beats_foil_hints_without_giving_the_sentence():
    result = nb02.check_beats_foil("A great hotel with a lovely room.", fake_embed,
                                   anchor=ANCHOR, foil=FOIL)
    assert not result.passed and "What does B share with A" in result.message
    assert "risotto" not in result.message
    for answer, hint in [(None, "is None"), (3, "in quotes"), ("   ", "in quotes"),
                         ("Creamy risotto, great.", "use the word 'hotel'"),
                         ("The hotel restaurant's risotto", "'restaurant' makes it"),
                         ("hotel: " + ANCHOR, "sentence A itself")]:
        result = nb02.check_beats_foil(answer, fake_embed, anchor=ANCHOR, foil=FOIL)
        assert not result.passed and hint in result.message, (answer, result.message)


# --------------------------------------------------------------------------- Exercise 3


def test_nearest_neighbour():
    embeddings = np.random.default_rng(3).normal(size=(30, 6))
    best = nb02.nearest_neighbour_reference(embeddings, 4)
    assert best != 4
    assert nb02.check_nearest_neighbour(best, embeddings, 4).passed
    assert nb02.check_nearest_neighbour(np.int64(best), embeddings, query=4).passed
    worst = int(np.argmin(embeddings @ embeddings[4] / np.linalg.norm(embeddings, axis=1)))
    for answer, hint in [(4, "the query sentence itself"), (worst, "argmin"),
                         (99, "does not exist"), (None, "is None"), ("3", "whole number"),
                         (2.0, "whole number"), (np.arange(3), "one row index")]:
        result = nb02.check_nearest_neighbour(answer, embeddings, 4)
        assert not result.passed and hint in result.message, (answer, result.message)


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), st.text(max_size=5),
                 st.lists(st.integers(), max_size=3)))
def test_checkers_never_raise(answer):
    embeddings = np.eye(5)
    for result in (nb02.check_cosine_similarity(answer),
                   nb02.check_beats_foil(answer, fake_embed, anchor=ANCHOR, foil=FOIL),
                   nb02.check_nearest_neighbour(answer, embeddings, 0)):
        assert isinstance(result, CheckResult)


# --------------------------------------------------------------------------- claims


def test_cosine_agreement_claim(capsys):
    vectors = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    from sentence_transformers import util

    worst = nb02.claim_cosine_agrees(vectors @ vectors.T, util.cos_sim(vectors, vectors))
    assert worst < 1e-5 and "agree" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="agree"):
        nb02.claim_cosine_agrees(vectors @ vectors.T + 0.01, vectors @ vectors.T)
    with pytest.raises(AssertionError, match="shape"):
        nb02.claim_cosine_agrees(np.eye(3), np.eye(4))


def test_teaser_claim():
    names = list("ABCD")
    good = pd.DataFrame(np.eye(4), index=names, columns=names)
    good.loc["A", "B"], good.loc["A", "C"], good.loc["C", "D"] = 0.6, 0.2, 0.1
    nb02.claim_teaser_topic_wins(good)
    bad = good.copy()
    bad.loc["A", "C"] = 0.9
    with pytest.raises(AssertionError):
        nb02.claim_teaser_topic_wins(bad)


def report(topic_knn, sentiment_knn, topic_sil=0.1, sentiment_sil=0.02, probe=0.85):
    return pd.DataFrame(
        {"knn_accuracy": [topic_knn, sentiment_knn], "silhouette": [topic_sil, sentiment_sil],
         "probe_accuracy": [0.96, probe], "chance": [0.2, 0.5]},
        index=pd.Index(["topic", "sentiment"], name="label"))


def test_topic_claim_passes_on_the_pretrained_pattern_and_fails_otherwise(capsys):
    nb02.claim_topic_organises_space(report(0.96, 0.63))
    assert capsys.readouterr().out.count("\u2714") == 4
    for bad in (report(0.7, 0.65), report(0.96, 0.95), report(0.96, 0.6, sentiment_sil=0.3),
                report(0.96, 0.6, probe=0.6)):
        with pytest.raises(AssertionError, match="claim no longer true"):
            nb02.claim_topic_organises_space(bad)


def test_layout_agreement_and_the_layout_claim():
    xy_topic, frame = grouped_embeddings(topic_scale=3.0, sentiment_scale=0.0)
    layout = xy_topic[:, :3] @ np.array([[0, 0], [5, 0], [0, 5]]) + xy_topic[:, 5:7]
    assert nb02.layout_neighbour_agreement(layout, frame["topic"], k=5) > 0.95
    assert abs(nb02.layout_neighbour_agreement(layout, frame["sentiment"], k=5) - 0.5) < 0.15
    agreement = nb02.claim_layout_shows_topic(layout, frame, k=5)
    assert set(agreement) == {"topic", "sentiment"}
    swapped = frame.rename(columns={"topic": "sentiment", "sentiment": "topic"})
    with pytest.raises(AssertionError):
        nb02.claim_layout_shows_topic(layout, swapped, k=5)


def test_same_topic_win_rate_reads_which_label_dominates():
    topic_space, frame = grouped_embeddings(topic_scale=3.0, sentiment_scale=0.5)
    sentiment_space, _ = grouped_embeddings(topic_scale=0.5, sentiment_scale=3.0)
    high = nb02.same_topic_win_rate(topic_space, frame, n=300)
    low = nb02.same_topic_win_rate(sentiment_space, frame, n=300)
    assert high > 0.95 and low < 0.05
    assert nb02.same_topic_win_rate(topic_space, frame, n=300) == high  # seeded
    nb02.claim_same_topic_wins(high)
    with pytest.raises(AssertionError):
        nb02.claim_same_topic_wins(low)
