"""Notebook 08's checkers and the recipe section 3 trains on: right answers pass, usual mistakes
get a specific hint, a blank exercise falls back to the reference without raising."""

from __future__ import annotations

import pytest

from course_utils import multitask
from course_utils.checks import nb08
from course_utils.checks.core import STRICT_ENV
from course_utils.data import load_course_data
from course_utils.training_presets import SENTIMENT_RECIPE

PROMPTS = {"sentiment": "sentiment: ", "topic": "topic: "}


@pytest.fixture(scope="module")
def train():
    return load_course_data("train")


# ------------------------------------------------------------------ Exercise 1
def test_the_reference_topic_recipe_passes(train):
    assert nb08.check_topic_recipe(multitask.TOPIC_RECIPE, train).passed


def test_the_reference_leaves_the_positives_sentiment_to_chance(train):
    """Issue 26: positives of the *other* sentiment reversed sentiment under "topic: "."""
    assert multitask.TOPIC_RECIPE["positives"] == "any"
    mirror = nb08.check_topic_recipe({**multitask.TOPIC_RECIPE, "positives": "other_group"},
                                     train)
    assert mirror.passed and "opposite opinions" in mirror.message


def test_the_sentiment_hint_leads_without_the_arguments(train):
    verdict = nb08.check_topic_recipe({"label_col": "topic", "negatives": "random"}, train)
    assert not verdict.passed
    for answer in ("same_group", "group_col='sentiment'", "negatives="):
        assert answer not in verdict.message, verdict.message


@pytest.mark.parametrize(
    ("recipe", "hint"),
    [(None, "should be a dict"),
     (SENTIMENT_RECIPE, "do not teach topic"),
     ({"label_col": "topic", "negatives": "random"}, "sentiment alone"),
     ({"label_col": "topic", "group_col": "sentiment", "negatives": "nearest"}, "raised")],
)
def test_topic_recipe_mistakes_get_hints(train, recipe, hint):
    verdict = nb08.check_topic_recipe(recipe, train)
    assert not verdict.passed and hint in verdict.message


# ------------------------------------------------------------------ recipe or reference
def test_an_accepted_recipe_is_trained_as_written(train):
    mine = {**multitask.TOPIC_RECIPE, "positives": "other_group"}  # accepted, not the reference
    recipe, line = nb08.topic_recipe_or_reference(mine, train)
    assert recipe == mine and recipe is not mine
    assert "your topic_recipe" in line


@pytest.mark.parametrize("recipe", [None, SENTIMENT_RECIPE, {"label_col": "topic"}, "topic"])
def test_a_blank_or_rejected_recipe_falls_back_to_the_reference(train, recipe):
    chosen, line = nb08.topic_recipe_or_reference(recipe, train)
    assert chosen == multitask.TOPIC_RECIPE and chosen is not multitask.TOPIC_RECIPE
    assert "reference" in line and "\n" not in line
    # the line never gives Exercise 1's answer away
    assert not any(word in line for word in ("sentiment", "group", "{"))


def test_the_fallback_does_not_raise_in_strict_mode(train, monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    chosen, _ = nb08.topic_recipe_or_reference(None, train)
    assert chosen == multitask.TOPIC_RECIPE


# ------------------------------------------------------------------ Exercise 2
def test_closer_under_uses_the_prompts_it_is_given(model):
    similarities = nb08.pair_similarities(model, PROMPTS)
    assert list(similarities.columns) == list(PROMPTS)
    assert list(similarities.index) == ["A-B", "A-C"]
    measured = {pair: row.idxmax() for pair, row in similarities.iterrows()}
    assert nb08.check_closer_under(measured, model, PROMPTS).passed
    swapped = {pair: "topic" if question == "sentiment" else "sentiment"
               for pair, question in measured.items()}
    assert "not for A-B" in nb08.check_closer_under(swapped, model, PROMPTS).message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [({"A-B": None, "A-C": None}, "missing or None"),
     ({"A-B": "mood", "A-C": "topic"}, "use 'sentiment' or 'topic'"),
     (["topic", "sentiment"], "should be a dict")],
)
def test_closer_under_mistakes_get_hints(model, answer, hint):
    verdict = nb08.check_closer_under(answer, model, PROMPTS)
    assert not verdict.passed and hint in verdict.message
