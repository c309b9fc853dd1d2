"""Notebook 08 (the question picks the contrast): checkers for Exercise 1
(:func:`check_topic_recipe`) and Exercise 2 (:func:`check_closer_under`), and
:func:`topic_recipe_or_reference`, the recipe section 3 trains on. The prompts are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from course_utils.checks.core import CheckResult, StrictCheckError, checker, describe, fail, ok

__all__ = [
    "PAIRS",
    "check_closer_under",
    "check_topic_recipe",
    "pair_similarities",
    "topic_recipe_or_reference",
]

#: Exercise 2's pairs of notebook 01's teaser sentences: A and B share a dish and differ in
#: opinion; A and C share an opinion and are about different things.
PAIRS = (("A", "B"), ("A", "C"))


def pair_similarities(model: Any, prompts: Mapping[str, str],
                      pairs: Sequence[tuple[str, str]] = PAIRS) -> pd.DataFrame:
    """Cosine similarity of each teaser pair under each prompt of ``prompts`` ({question:
    prompt}): rows "A-B", one column per question."""
    from course_utils.embedding import encode
    from course_utils.toy import teaser_sentences

    teaser = teaser_sentences()
    rows = {}
    for question, prompt in prompts.items():
        vectors = dict(zip(teaser.index, encode(teaser["text"].tolist(), model, prompt=prompt),
                           strict=True))
        for first, second in pairs:
            rows.setdefault(f"{first}-{second}", {})[question] = float(
                vectors[first] @ vectors[second])
    return pd.DataFrame.from_dict(rows, orient="index").round(3)


@checker("Exercise 2: which question brings them together?")
def check_closer_under(answer: Any, model: Any, prompts: Mapping[str, str]) -> CheckResult:
    """``answer`` maps each pair ("A-B", "A-C") to the question ("topic" or "sentiment", a key
    of ``prompts``) under whose prompt the two sentences are more similar in ``model``'s
    space."""
    if not isinstance(answer, Mapping):
        return fail(f"closer_under should be a dict like {{'A-B': 'topic', 'A-C': ...}}, got "
                    f"{describe(answer)}.")
    questions = " or ".join(repr(question) for question in prompts)
    similarities = pair_similarities(model, prompts)
    for pair, row in similarities.iterrows():
        given = answer.get(pair)
        if given is None:
            return fail(f"closer_under[{pair!r}] is missing or None; set it to {questions}.")
        if not isinstance(given, str) or given.strip().lower() not in prompts:
            return fail(f"closer_under[{pair!r}] = {given!r}; use {questions}.")
        expected = row.idxmax()
        if given.strip().lower() != expected:
            first, second = pair.split("-")
            return fail(
                f"not for {pair}. Look at what {first} and {second} share in the table of "
                "notebook 01 (topic? opinion?): the prompt that asks about the shared thing "
                "puts them close, the other one pulls them apart."
            )
    numbers = "; ".join(f"{pair}: " + ", ".join(f"{q} {row[q]:.2f}" for q in prompts)
                        for pair, row in similarities.iterrows())
    return ok(f"the same two sentences are near or far depending on the question ({numbers}).")


def _triplet_shares(triplets: pd.DataFrame, frame: pd.DataFrame) -> dict[str, float]:
    topic, sentiment = frame["topic"].to_numpy(), frame["sentiment"].to_numpy()
    a, p, n = (triplets[f"{role}_index"].to_numpy() for role in ("anchor", "positive",
                                                                   "negative"))
    helps = (sentiment[p] == sentiment[a]) & (sentiment[n] != sentiment[a])
    return {"positive same topic": float(np.mean(topic[p] == topic[a])),
            "negative other topic": float(np.mean(topic[n] != topic[a])),
            "negative same sentiment": float(np.mean(sentiment[n] == sentiment[a])),
            "sentiment helps": float(np.mean(helps))}


@checker("Exercise 1: triplets for the topic question")
def check_topic_recipe(recipe: Any, frame: pd.DataFrame | None = None) -> CheckResult:
    """``recipe`` is ``make_triplets`` keyword arguments for the topic question: the triplets
    must teach topic, and sentiment must never separate the positive from the negative."""
    from course_utils.triplets import make_triplets

    if not isinstance(recipe, Mapping):
        return fail(f"topic_recipe should be a dict of make_triplets arguments, e.g. "
                    f"{{'label_col': ..., 'negatives': ...}}; got {describe(recipe)}.")
    if frame is None:
        from course_utils.data import load_course_data

        frame = load_course_data("train")
    frame = frame.reset_index(drop=True)
    try:
        triplets = make_triplets(frame, seed=0, **recipe)
    except (TypeError, ValueError) as error:
        return fail(f"make_triplets(train, **topic_recipe) raised: {error}")
    shares = _triplet_shares(triplets, frame)
    if shares["positive same topic"] < 1 or shares["negative other topic"] < 1:
        return fail(f"these triplets do not teach topic: {shares['positive same topic']:.0%} "
                    f"of positives share the anchor's topic and "
                    f"{shares['negative other topic']:.0%} of negatives differ in it. The label "
                    "the triplets teach is label_col.")
    if shares["sentiment helps"] > 0:
        return fail(
            f"in {shares['sentiment helps']:.0%} of the triplets sentiment alone tells the "
            "positive from the negative (same sentiment as the anchor vs the other one), so "
            "the model can answer with sentiment. Ask what the negative would have to share "
            "with the anchor for sentiment to be no help, then look at how notebook 05's "
            "recipe (printed above) controls topic for the sentiment question."
        )
    extra = ("" if recipe.get("positives") != "other_group" else
             " Note: with positives='other_group' sentiment points the wrong way in every "
             "triplet, so asked about topic the model may put opposite opinions nearest; "
             "compare the sentiment column under \"topic: \" below with positives='any'.")
    return ok(f"every negative has another topic and the anchor's sentiment "
              f"({shares['negative same sentiment']:.0%}); sentiment never helps.{extra}")


def topic_recipe_or_reference(recipe: Any, frame: pd.DataFrame | None = None
                              ) -> tuple[dict[str, Any], str]:
    """The ``make_triplets`` recipe section 3 trains the topic set on, and one line saying which.

    The student's when :func:`check_topic_recipe` accepts it (on ``frame``), else
    ``multitask.TOPIC_RECIPE``; the line never shows the reference (it would give Exercise 1 away).
    """
    from course_utils.multitask import TOPIC_RECIPE

    try:
        accepted = check_topic_recipe(recipe, frame).passed
    except StrictCheckError:  # strict mode raises on "Not yet": the checker cell says why
        accepted = False
    if accepted:
        return dict(recipe), "topic triplets: your topic_recipe (Exercise 1's check accepts it)"
    return dict(TOPIC_RECIPE), ("topic triplets: the course's reference recipe, because "
                                "Exercise 1's check does not accept topic_recipe yet")
