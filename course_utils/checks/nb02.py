"""Notebook 02 (embeddings and similarity): checkers for Exercises 1-3
(:func:`check_cosine_similarity`, :func:`check_beats_foil`, :func:`check_nearest_neighbour`)
and the notebook's claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from course_utils.checks.core import (
    CheckResult,
    as_index,
    as_scalar,
    check_callable,
    checker,
    describe,
    fail,
    ok,
)
from course_utils.checks.student_code import StudentCodeError, call_student
from course_utils.claims import claim

__all__ = [
    "BEAT_THE_FOIL_WORDS",
    "check_beats_foil",
    "check_cosine_similarity",
    "check_nearest_neighbour",
    "claim_cosine_agrees",
    "claim_layout_shows_topic",
    "claim_same_topic_wins",
    "claim_teaser_topic_wins",
    "claim_topic_organises_space",
    "cosine_reference",
    "layout_neighbour_agreement",
    "nearest_neighbour_reference",
    "same_topic_win_rate",
]


# --------------------------------------------------------------------------------------------
# Reference computations
# --------------------------------------------------------------------------------------------


def cosine_reference(a: Any, b: Any) -> float:
    """cos(a, b) = a . b / (|a| |b|) for two 1-D vectors."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def nearest_neighbour_reference(embeddings: Any, query: int) -> int:
    """The row (other than ``query``) with the highest cosine similarity to row ``query``."""
    array = np.asarray(embeddings, dtype=np.float64)
    unit = array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)
    similarities = unit @ unit[query]
    similarities[query] = -np.inf
    return int(np.argmax(similarities))


def layout_neighbour_agreement(xy: Any, labels: Sequence[Any], k: int = 10) -> float:
    """Share of each point's k nearest 2-D neighbours that carry its label (mean over points):
    near 1, the label forms regions; near its chance level, the colours are mixed."""
    from sklearn.neighbors import NearestNeighbors

    points = np.asarray(xy, dtype=np.float64)
    labels = np.asarray(list(labels)).astype(str)
    finder = NearestNeighbors(n_neighbors=k + 1).fit(points)
    _, index = finder.kneighbors(points)
    return float((labels[index[:, 1:]] == labels[:, None]).mean())


# --------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------


def claim_cosine_agrees(by_hand: Any, library: Any, *, tolerance: float = 1e-5) -> float:
    """By-hand cosine similarities equal the library's (``sentence_transformers.util.cos_sim``)."""
    if hasattr(library, "detach"):
        library = library.detach().cpu().numpy()
    ours = np.asarray(by_hand, dtype=np.float64)
    theirs = np.asarray(library, dtype=np.float64)
    claim(ours.shape == theirs.shape,
           f"both similarity matrices have shape {ours.shape}")
    worst = float(np.max(np.abs(ours - theirs)))
    claim(worst <= tolerance,
           f"by hand and sentence_transformers.util.cos_sim agree: largest difference "
           f"{worst:.1e} (float32 rounding)")
    return worst


def claim_teaser_topic_wins(similarity: pd.DataFrame) -> None:
    """For the teaser sentences: the same-topic pair is closer than the same-sentiment pairs."""
    same_topic = float(similarity.loc["A", "B"])
    same_sentiment = float(similarity.loc["A", "C"])
    other = float(similarity.loc["C", "D"])
    claim(same_topic > same_sentiment and same_topic > other,
           f"A-B (same topic, opposite sentiment) {same_topic:.2f} > A-C (same sentiment, "
           f"other topic) {same_sentiment:.2f} and C-D (same sentiment) {other:.2f}")


def claim_topic_organises_space(report: pd.DataFrame) -> None:
    """The pretrained space is organised by topic, not by sentiment (cu.evaluation.label_report)."""
    topic, sentiment = report.loc["topic"], report.loc["sentiment"]
    claim(topic["knn_accuracy"] > sentiment["knn_accuracy"] + 0.15,
           f"topic kNN accuracy {topic['knn_accuracy']:.2f} (chance {topic['chance']:.2f}) "
           f"> sentiment kNN accuracy {sentiment['knn_accuracy']:.2f} "
           f"(chance {sentiment['chance']:.2f})")
    claim(topic["knn_accuracy"] > 0.8,
           f"a sentence's neighbours usually share its topic: {topic['knn_accuracy']:.0%} "
           "of test sentences get the right topic from their 5 nearest training sentences")
    claim(topic["silhouette"] > max(sentiment["silhouette"], 0)
           and abs(sentiment["silhouette"]) < 0.1,
           f"silhouette: topic {topic['silhouette']:.3f} > sentiment "
           f"{sentiment['silhouette']:.3f} (small but positive: weak topic groups; about 0: "
           "the sentiments overlap)")
    claim(sentiment["probe_accuracy"] > sentiment["knn_accuracy"] + 0.05,
           f"yet sentiment is readable by a linear probe: {sentiment['probe_accuracy']:.2f} "
           f"vs kNN {sentiment['knn_accuracy']:.2f} - the information is there, it just "
           "does not decide who is near whom")


def claim_layout_shows_topic(xy: Any, frame: pd.DataFrame, k: int = 10) -> dict[str, float]:
    """The 2-D picture: topic forms regions, sentiment colours are mixed (about chance)."""
    topic = layout_neighbour_agreement(xy, frame["topic"], k)
    sentiment = layout_neighbour_agreement(xy, frame["sentiment"], k)
    sentiment_chance = float(frame["sentiment"].value_counts(normalize=True).pow(2).sum())
    claim(topic > 0.75,
           f"in the picture, {topic:.0%} of each point's {k} nearest points share its topic")
    claim(abs(sentiment - sentiment_chance) < 0.1,
           f"but only {sentiment:.0%} share its sentiment - what random colouring would give "
           f"({sentiment_chance:.0%}): the sentiment panel is mixed")
    return {"topic": topic, "sentiment": sentiment}


# --------------------------------------------------------------------------------------------
# Exercise checkers
# --------------------------------------------------------------------------------------------


def _cosine_cases() -> list[tuple[tuple, float]]:
    rng = np.random.default_rng(2)
    big_a, big_b = rng.normal(size=384), rng.normal(size=384)
    vectors = [
        (np.array([1.0, 0.0]), np.array([1.0, 1.0])),      # 45 degrees, b not unit length
        (np.array([3.0, 4.0]), np.array([6.0, 8.0])),      # same direction, different lengths
        (np.array([1.0, 2.0, 0.0]), np.array([-2.0, 1.0, 0.0])),  # orthogonal
        (np.array([1.0, -1.0]), np.array([-2.0, 2.0])),    # opposite
        (big_a, big_b),                                    # embedding-sized
    ]
    return [((a, b), cosine_reference(a, b)) for a, b in vectors]


@checker("Exercise 1: cosine similarity")
def check_cosine_similarity(function: Any) -> CheckResult:
    """``function(a, b)`` -> the cosine similarity of two 1-D vectors (any lengths)."""
    if function is None:
        return fail("cosine_similarity is None; define the function in the exercise cell.")
    if callable(function):
        try:
            got = call_student(function, np.array([3.0, 4.0]), np.array([6.0, 8.0]))
            if got is not None and abs(float(np.asarray(got)) - 50.0) < 1e-6:
                return fail("for (3, 4) and (6, 8) you return 50, the plain dot product. "
                            "Divide by both lengths (np.linalg.norm) so that only the angle "
                            "counts.")
        except (StudentCodeError, TypeError, ValueError):  # check_callable reports it properly
            pass
    result = check_callable(function, _cosine_cases(), tolerance=1e-6, what="cosine_similarity",
                            hint="cos(a, b) = a . b / (|a| |b|): np.dot, then np.linalg.norm.")
    if result.passed:
        return ok("cosine_similarity is right on all 5 cases: 45 degrees (0.707), same "
                  "direction (1), orthogonal (0), opposite (-1) and two 384-d vectors.")
    return result


#: Exercise 2's rules: the sentence must contain the first word and none of the others (a hotel
#: guest's sentence, not another restaurant review).
BEAT_THE_FOIL_WORDS = ("hotel", "restaurant", "bistro")


def _embed(texts: list[str], model: Any) -> np.ndarray:
    """Unit vectors of ``texts``: with a sentence-transformers model (through the course's
    ``encode``, not cached), or with any function from a list of texts to an array."""
    if hasattr(model, "encode"):
        from course_utils.embedding import encode

        return encode(texts, model, cache=False)
    vectors = np.asarray(model(texts), dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


@checker("Exercise 2: beat the foil")
def check_beats_foil(sentence: Any, model: Any, *, anchor: str, foil: str) -> CheckResult:
    """``sentence``: a hotel guest's sentence (it contains "hotel", not "restaurant" or
    "bistro") that the pretrained ``model`` places closer to ``anchor`` than ``foil``."""
    if sentence is None:
        return fail("my_p is None; write a sentence (a string) in quotes.")
    if not isinstance(sentence, str) or not sentence.strip():
        return fail(f"my_p should be a sentence in quotes, got {describe(sentence)}.")
    words = sentence.lower()
    if anchor.lower().strip(" .") in words:
        return fail("that contains sentence A itself; write a sentence of your own.")
    required, *forbidden = BEAT_THE_FOIL_WORDS
    if required not in words:
        return fail(f"the rules ask for a hotel guest's sentence: use the word '{required}'.")
    used = [word for word in forbidden if word in words]
    if used:
        return fail(f"'{used[0]}' makes it a restaurant review again; the rules ask for a "
                    "hotel guest's sentence.")
    vectors = _embed([anchor, foil, sentence], model)
    to_foil, to_yours = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    measured = f"cos(A, yours) = {to_yours:.3f}, cos(A, B) = {to_foil:.3f}"
    if to_yours > to_foil:
        return ok(f"{measured}: your hotel sentence beats the foil. What did it take - more "
                  "praise, or what A is about? That is what this model's 'close' means.")
    return fail(f"{measured}: not yet closer than B. Praise alone moves the number little. "
                "What does B share with A that your sentence does not?")


@checker("Exercise 3: the nearest neighbour")
def check_nearest_neighbour(answer: Any, embeddings: Any, query: int) -> CheckResult:
    """``answer``: the row index of the sentence closest (cosine) to row ``query``."""
    expected = nearest_neighbour_reference(embeddings, query)
    if answer is None:
        return fail("your answer is None; assign the row index (an int) of the nearest sentence.")
    index = as_index(answer)
    if index is None:
        if hasattr(as_scalar(answer), "shape"):
            return fail(f"give one row index, got {describe(answer)}.")
        return fail(f"give the row index as a whole number (an int), got {describe(answer)}.")
    answer = index
    if answer == query:
        return fail(f"{answer} is the query sentence itself (its similarity with itself is 1). "
                    "Exclude it, e.g. set that similarity to -inf before np.argmax.")
    if answer == expected:
        return ok(f"row {expected} is the nearest neighbour of row {query}.")
    array = np.asarray(embeddings, dtype=np.float64)
    unit = array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)
    similarities = unit @ unit[query]
    if 0 <= answer < len(similarities):
        rank = int((similarities > similarities[answer]).sum())  # the query itself counts 1
        return fail(f"row {answer} has similarity {similarities[answer]:.3f}, but {rank - 1} "
                    f"other sentence(s) score higher (best: {similarities[expected]:.3f}). "
                    "Did you take np.argmin instead of np.argmax, or sort the wrong way?")
    return fail(f"row {answer} does not exist; valid rows are 0 to {len(similarities) - 1}.")


def same_topic_win_rate(embeddings: Any, frame: pd.DataFrame, *, n: int = 2000,
                        seed: int = 0) -> float:
    """How often the foil Q (same topic, opposite sentiment) is closer to the anchor than P
    (other topic, same sentiment), over ``n`` random picks from ``frame``: high = topic decides."""
    array = np.asarray(embeddings, dtype=np.float64)
    unit = array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)
    topic = frame["topic"].to_numpy()
    sentiment = frame["sentiment"].to_numpy()
    rng = np.random.default_rng(seed)
    wins = 0
    for anchor in rng.integers(0, len(frame), size=n):
        same_topic = np.flatnonzero((topic == topic[anchor]) & (sentiment != sentiment[anchor]))
        same_sentiment = np.flatnonzero((topic != topic[anchor])
                                        & (sentiment == sentiment[anchor]))
        q, p = rng.choice(same_topic), rng.choice(same_sentiment)  # draw order kept: same picks
        wins += unit[anchor] @ unit[q] > unit[anchor] @ unit[p]
    return wins / n


def claim_same_topic_wins(rate: float) -> None:
    """Most of the time the same-topic foil Q beats the same-sentiment candidate P."""
    claim(rate > 0.7,
           f"in {rate:.0%} of random (anchor, P, Q) picks, the foil Q = same topic / opposite "
           "sentiment is closer than P = other topic / same sentiment")
