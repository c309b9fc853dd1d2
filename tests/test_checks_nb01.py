"""Notebook 01's claims and checkers (its data and maths: tests/test_toy.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import toy
from course_utils.checks import CheckResult, nb01

ODD_ANSWERS = st.one_of(
    st.none(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
    st.lists(st.one_of(st.text(max_size=10), st.integers()), max_size=5),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


# --------------------------------------------------------------------------- claims


def test_claims_print_their_evidence(capsys):
    table = toy.animal_table()
    nb01.claim_nearest_depends_on_weights(table)
    pets = toy.learn_feature_weights(table, toy.PET_TRIPLETS)
    family = toy.learn_feature_weights(table, toy.FAMILY_TRIPLETS)
    nb01.claim_triplets_satisfied(table, toy.PET_TRIPLETS, pets.to_dict(), purpose="pets")
    nb01.claim_purposes_differ(pets, family)
    out = capsys.readouterr().out
    assert "nearest animal is the wolf" in out and "nearest animal is the cat" in out
    assert "pets: 3 of 4 triplets hold with every weight 1, 4 of 4" in out
    assert out.count("\u2714") == 6


def test_claims_fail_loudly_when_they_stop_being_true():
    table = toy.animal_table()
    table.loc["wolf", "size"] = 5  # now the wolf is far from the dog
    with pytest.raises(AssertionError, match="claim no longer true"):
        nb01.claim_nearest_depends_on_weights(table)
    with pytest.raises(AssertionError, match="claim no longer true"):
        nb01.claim_triplets_satisfied(toy.animal_table(), toy.PET_TRIPLETS, None)
    ones = pd.Series(1.0, index=table.columns)
    with pytest.raises(AssertionError, match="domesticated"):
        nb01.claim_purposes_differ(ones, ones)


# --------------------------------------------------------------------------- checkers


@pytest.mark.parametrize(
    "answer",
    [["barks", "retractable_claws", "lives_in_group", "size"],
     ("size", "barks", "lives_in_group", "retractable_claws"),
     {" barks", "size ", "lives_in_group", "retractable_claws"},
     pd.Index(["barks", "retractable_claws", "lives_in_group", "size"])],
)
def test_exercise_1_accepts_the_discriminating_features_in_any_container(answer):
    result = nb01.check_discriminating_features(answer)
    assert result.passed, result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (None, "is None"),
        (["barks", "has_tail"], "a cat has the same value (has_tail = 1)"),
        (["barks"], "3 discriminating feature(s) missing"),
        (["wings"], "not features of the table"),
        ([1, 2], "feature names (strings)"),
        (42, "feature names"),
    ],
)
def test_exercise_1_hints(answer, hint):
    result = nb01.check_discriminating_features(answer)
    assert not result.passed and hint in result.message, result.message


def test_exercise_2_pick_q():
    assert nb01.check_pick_q("horse").passed
    assert nb01.check_pick_q(" Horse ").passed
    for answer, hint in [("wolf", "['barks', 'domesticated', 'size']"), ("dog", "no contrast"),
                         ("unicorn", "not in the table"), (None, "is None"), (7, "string")]:
        result = nb01.check_pick_q(answer)
        assert not result.passed and hint in result.message, result.message


def right_distance(p, q, w):
    return np.sqrt(np.sum(w * (p - q) ** 2))


def loop_distance(p, q, w):
    return sum(wi * (pi - qi) ** 2 for pi, qi, wi in zip(p, q, w, strict=True)) ** 0.5


@pytest.mark.parametrize("function", [right_distance, loop_distance])
def test_exercise_3_accepts_right_functions(function):
    result = nb01.check_weighted_distance(function)
    assert result.passed, result.message


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (None, "is None"),
        (lambda p, q, w: None, "is None"),
        (lambda p, q, w: np.sum(w * (p - q) ** 2), "differs"),  # forgot the square root
        (lambda p, q, w: np.sqrt(np.sum((p - q) ** 2)), "differs"),  # ignored the weights
        (lambda p, q: 0.0, "raised TypeError"),
        ("sqrt", "should be a function"),
    ],
)
def test_exercise_3_hints(function, hint):
    result = nb01.check_weighted_distance(function)
    assert not result.passed and hint in result.message, result.message


@settings(max_examples=60, deadline=None)
@given(ODD_ANSWERS)
def test_checkers_never_raise_on_odd_answers(answer):
    for check in (nb01.check_discriminating_features, nb01.check_pick_q,
                  nb01.check_weighted_distance):
        result = check(answer)
        assert isinstance(result, CheckResult)
