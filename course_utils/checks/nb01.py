"""Notebook 01 (why P, not Q?): checkers for Exercises 1-3 (:func:`check_discriminating_features`,
:func:`check_pick_q`, :func:`check_weighted_distance`) and the claims about the animal table,
which live in :mod:`course_utils.toy`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from course_utils.checks.core import CheckResult, check_callable, checker, describe, fail, ok
from course_utils.claims import claim
from course_utils.toy import (
    PET_WEIGHTS,
    animal_table,
    discriminating_features,
    nearest,
    triplet_table,
    weighted_distance,
)

__all__ = [
    "check_discriminating_features",
    "check_pick_q",
    "check_weighted_distance",
    "claim_nearest_depends_on_weights",
    "claim_purposes_differ",
    "claim_triplets_satisfied",
]

# --------------------------------------------------------------------------------------------
# Claims: print the evidence, fail loudly if it stops being true
# --------------------------------------------------------------------------------------------


def claim_nearest_depends_on_weights(table: pd.DataFrame | None = None) -> None:
    """Equal weights: a dog's nearest animal is the wolf; pet-shop weights: the cat."""
    table = animal_table() if table is None else table
    plain, d_plain = nearest(table, "dog")
    pets, d_pets = nearest(table, "dog", PET_WEIGHTS)
    claim(plain == "wolf",
           f"all features weighted 1: the dog's nearest animal is the {plain} "
           f"(distance {d_plain:.2f})")
    claim(pets == "cat",
           f"only 'domesticated' and 'size' weighted: the dog's nearest animal is the {pets} "
           f"(distance {d_pets:.2f})")


def claim_triplets_satisfied(table: pd.DataFrame, triplets, weights, *,
                             purpose: str = "") -> None:
    """Equal weights leave some triplets unsatisfied; the learned ``weights`` satisfy all."""
    start = triplet_table(table, triplets, None)
    after = triplet_table(table, triplets, weights)
    prefix = f"{purpose}: " if purpose else ""
    claim(not start["satisfied"].all() and after["satisfied"].all(),
           f"{prefix}{int(start['satisfied'].sum())} of {len(start)} triplets hold with every "
           f"weight 1, {int(after['satisfied'].sum())} of {len(after)} with the learned weights")


def claim_purposes_differ(pet_weights: pd.Series, family_weights: pd.Series) -> None:
    """Two sets of triplets, two sets of weights: each purpose picks its own features."""
    claim(pet_weights["domesticated"] > family_weights["domesticated"],
           f"pet-shop triplets raise 'domesticated' ({pet_weights['domesticated']:.2f} vs "
           f"{family_weights['domesticated']:.2f} for the biologist)")
    claim(family_weights["retractable_claws"] > pet_weights["retractable_claws"],
           f"biologist triplets raise 'retractable_claws' "
           f"({family_weights['retractable_claws']:.2f} vs "
           f"{pet_weights['retractable_claws']:.2f} for the pet shop)")
    untouched = [f for f in ("has_tail", "four_legs", "fur")
                 if pet_weights[f] == family_weights[f] == 1.0]
    claim(len(untouched) == 3,
           f"features no triplet varies keep their starting weight 1: {untouched}")


# --------------------------------------------------------------------------------------------
# Exercise checkers
# --------------------------------------------------------------------------------------------


def _as_feature_set(answer: Any) -> set[str] | None:
    if isinstance(answer, str):
        return {answer.strip()}
    if isinstance(answer, pd.Index | pd.Series):
        answer = list(answer)
    if isinstance(answer, (list, tuple, set, frozenset)):
        if not all(isinstance(item, str) for item in answer):
            return None
        return {item.strip() for item in answer}
    return None


@checker("Exercise 1: why a dog rather than a cat?")
def check_discriminating_features(answer: Any) -> CheckResult:
    """``answer``: the features that discriminate a dog from a cat (list of names)."""
    table = animal_table()
    expected = set(discriminating_features(table, "dog", "cat"))
    if answer is None:
        return fail("your answer is None; assign a list of feature names, e.g. ['barks'].")
    chosen = _as_feature_set(answer)
    if chosen is None:
        return fail(f"give a list of feature names (strings), got {describe(answer)}.")
    unknown = sorted(chosen - set(table.columns))
    if unknown:
        return fail(f"{unknown} are not features of the table; the features are "
                    f"{list(table.columns)}.")
    shared = sorted(chosen - expected)
    if shared:
        values = ", ".join(f"{f} = {table.at['dog', f]:g}" for f in shared)
        return fail(f"{shared} describe a dog, but a cat has the same value ({values}), so "
                    "they cannot answer 'why a dog rather than a cat?'.")
    missing = sorted(expected - chosen)
    if missing:
        return fail(f"{len(missing)} discriminating feature(s) missing. Compare the dog and cat "
                    "rows column by column: which values differ?")
    return ok(f"dog and cat differ in exactly {sorted(expected)}; tail, four legs and fur are "
              "true of both, so they explain nothing about this contrast.")


@checker("Exercise 2: pick the Q")
def check_pick_q(answer: Any) -> CheckResult:
    """``answer``: the Q for which 'why a dog rather than Q?' is answered by barks and size."""
    table = animal_table()
    target = {"barks", "size"}
    options = [name for name in table.index if name != "dog"]
    if answer is None:
        return fail(f"your answer is None; assign one of {options}.")
    if not isinstance(answer, str):
        return fail(f"give the animal's name as a string, got {describe(answer)}.")
    name = answer.strip().lower()
    if name == "dog":
        return fail("P and Q are both the dog: there is no contrast left to explain.")
    if name not in options:
        return fail(f"{answer!r} is not in the table; pick one of {options}.")
    got = set(discriminating_features(table, "dog", name))
    if got == target:
        return ok(f"dog vs {name}: only {sorted(got)} differ, so 'it barks, and it is smaller' "
                  "is the whole answer.")
    return fail(f"for dog vs {name} the discriminating features are {sorted(got)}, not "
                f"{sorted(target)}. Look for the animal that shares everything with the dog "
                "except barking and size.")


def _distance_cases() -> list[tuple[tuple, float]]:
    table = animal_table()
    cases = []
    for p, q, weights in (("dog", "cat", None), ("dog", "horse", None),
                          ("dog", "cat", PET_WEIGHTS), ("wolf", "eagle", {"size": 2.0}),
                          ("lion", "lion", None)):
        full = {f: 1.0 for f in table.columns} if weights is None else {
            f: float(weights.get(f, 0.0)) for f in table.columns}
        args = (table.loc[p].to_numpy(dtype=float), table.loc[q].to_numpy(dtype=float),
                np.array([full[f] for f in table.columns]))
        cases.append((args, weighted_distance(table, p, q, full)))
    return cases


@checker("Exercise 3: a weighted distance")
def check_weighted_distance(function: Any) -> CheckResult:
    """``function(p_values, q_values, weights)`` -> sqrt(sum(weights * (p - q) ** 2))."""
    if function is None:
        return fail("weighted_distance is None; define the function in the exercise cell.")
    result = check_callable(function, _distance_cases(), tolerance=1e-6,
                            what="weighted_distance",
                            hint="Square the differences, multiply by the weights, sum, then "
                                 "take the square root (np.sqrt).")
    if result.passed:
        return ok("weighted_distance matches on all 5 cases, including zero weights and P = Q.")
    return result
