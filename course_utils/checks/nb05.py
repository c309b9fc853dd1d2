"""Checkers for notebook 05 (fine-tune for sentiment); each returns a CheckResult, never raises."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from course_utils.checks.core import (
    CheckResult,
    as_index,
    as_scalar,
    checker,
    describe,
    fail,
    ok,
)
from course_utils.checks.student_code import StudentCodeError, call_student

#: Anchors the negative-picking function is tried on (row positions; spread over the frame).
_ANCHOR_FRACTIONS = (0.0, 0.13, 0.37, 0.5, 0.71, 0.94)


def _anchor_rows(n_rows: int) -> list[int]:
    return sorted({min(n_rows - 1, int(f * n_rows)) for f in _ANCHOR_FRACTIONS})


def _as_row(value: Any, n_rows: int) -> int | str:
    """The learner's return value as a row position, or a hint (str) saying why it is not."""
    if value is None:
        return "it returned None; `return` the row position of the negative."
    if isinstance(value, str):
        return (f"it returned the text {value[:40]!r}...; return the row position instead "
                "(an int you can pass to frame.iloc).")
    if isinstance(value, (pd.Series, pd.DataFrame)):
        return ("it returned a pandas object; return one row position, e.g. "
                "int(candidates[0]).")
    row = as_index(value)
    if row is None:
        return f"it returned {describe(value)}; return one whole number (a row position)."
    if not 0 <= row < n_rows:
        return f"it returned {row}, but the frame only has rows 0..{n_rows - 1}."
    return row


@checker("Exercise 1: a same-topic negative")
def check_same_topic_negative(function: Callable[[pd.DataFrame, int], Any],
                              frame: pd.DataFrame | None = None, *,
                              label_col: str = "sentiment", group_col: str = "topic"
                              ) -> CheckResult:
    """Call ``function(frame, anchor)`` for several anchors; each answer must be a row with the
    anchor's ``group_col`` (topic) and a different ``label_col`` (sentiment)."""
    if not callable(function):
        return fail(f"pass your function itself (no parentheses); got {describe(function)}.")
    if frame is None:
        from course_utils.data import load_course_data

        frame = load_course_data("train")
    frame = frame.reset_index(drop=True)
    for anchor in _anchor_rows(len(frame)):
        try:
            got = call_student(function, frame.copy(), anchor)
        except StudentCodeError as error:
            return fail(f"your function {error} for anchor row {anchor}. Test it on one anchor "
                        "first: same_topic_negative(train, 0).")
        row = _as_row(got, len(frame))
        if isinstance(row, str):
            return fail(f"for anchor row {anchor}, {row}")
        a, n = frame.iloc[anchor], frame.iloc[row]
        if row == anchor:
            return fail(f"for anchor row {anchor} it returned the anchor itself; a negative is "
                        "another text.")
        if n[group_col] != a[group_col]:
            return fail(
                f"for anchor row {anchor} ({group_col} {a[group_col]!r}) it returned row {row}, "
                f"whose {group_col} is {n[group_col]!r}. Keep the {group_col} the same so that "
                f"{label_col} is the only difference."
            )
        if n[label_col] == a[label_col]:
            return fail(
                f"for anchor row {anchor} it returned row {row}, which has the same {label_col} "
                f"({a[label_col]!r}); a negative must have the other {label_col}."
            )
    return ok(f"on {len(_anchor_rows(len(frame)))} anchors your negatives share the anchor's "
              f"{group_col} and differ in {label_col}: only {label_col} separates them.")


def active_fraction(anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray,
                    margin: float) -> float:
    """Share of triplets with a positive triplet loss (euclidean): d(a,p) - d(a,n) + margin > 0."""
    d_ap = np.linalg.norm(np.asarray(anchor, float) - np.asarray(positive, float), axis=1)
    d_an = np.linalg.norm(np.asarray(anchor, float) - np.asarray(negative, float), axis=1)
    return float(np.mean(d_ap - d_an + margin > 0))


@checker("Exercise 2: triplets still active")
def check_active_fraction(answer: Any, anchor: np.ndarray, positive: np.ndarray,
                          negative: np.ndarray, *, margin: float = 0.5) -> CheckResult:
    """``answer`` must be the share of (anchor, positive, negative) rows whose loss is > 0."""
    expected = active_fraction(anchor, positive, negative, margin)
    if answer is None:
        return fail("fraction_active is None; assign a number between 0 and 1.")
    answer = as_scalar(answer)  # tensor(0.5), np.float32(0.5) and 0.5 are the same answer
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        return fail(f"fraction_active should be one number, got {describe(answer)}.")
    value = float(answer)
    if abs(value - expected) <= 1e-3:
        return ok(f"{value:.3f} of the triplets still have a positive loss at margin {margin}.")
    n = len(np.asarray(anchor))
    d_ap = np.linalg.norm(np.asarray(anchor, float) - np.asarray(positive, float), axis=1)
    d_an = np.linalg.norm(np.asarray(anchor, float) - np.asarray(negative, float), axis=1)
    if value > 1:
        hint = ("a fraction is between 0 and 1; did you count triplets instead of averaging? "
                f"(divide by the {n} triplets)")
    elif abs(value - (1 - expected)) <= 1e-3:
        hint = "that is the share of solved (easy) triplets; the question asks for the rest."
    elif abs(value - float(np.mean(d_an < d_ap))) <= 1e-3:
        hint = ("you counted only the hard triplets (negative closer than the positive); "
                "semi-hard ones, in the right order but inside the margin, still have a loss.")
    elif abs(value - active_fraction(anchor, positive, negative, 5.0)) <= 1e-3 and margin != 5:
        hint = f"that is the answer for margin 5; use margin = {margin}."
    else:
        hint = ("compute d_ap = ||a - p|| and d_an = ||a - n|| per row (np.linalg.norm(..., "
                "axis=1)), then the mean of (d_ap - d_an + margin > 0).")
    return fail(f"{value:.3f} is not the share yet: {hint}")


@checker("Exercise 3: how often is a hard negative on topic?")
def check_hard_share_estimate(answer: Any, hard_same_topic: float,
                              random_same_topic: float) -> CheckResult:
    """``answer``: the learner's estimate of the share of hard negatives (the closest
    other-sentiment sentence in the pretrained space) that share the anchor's topic. Right when
    it lies nearer the measured ``hard_same_topic`` than the ``random_same_topic`` share (the
    measured numbers are only told once it is)."""
    if answer is None:
        return fail("hard_share_guess is None; assign your estimate, a number between 0 and 1.")
    value = as_scalar(answer)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return fail(f"hard_share_guess should be one number, got {describe(answer)}.")
    value = float(value)
    if not 0 <= value <= 1:
        return fail(f"{value:g} is not a share; give a number between 0 and 1 (0.5 = half).")
    hard, chance = float(hard_same_topic), float(random_same_topic)
    if abs(value - hard) < abs(value - chance):
        return ok(f"measured: {hard:.0%} of the hard negatives share the anchor's topic, against "
                  f"{chance:.0%} of random ones (your estimate {value:.0%}). The nearest "
                  "other-sentiment sentence is usually about the same thing, so hard negatives "
                  "act much like negatives='same_group'.")
    if value < 0.5:
        return fail(f"{value:.0%} is about what a *random* other-sentiment sentence gives (5 "
                    "topics). But a hard negative is the *nearest* one to the anchor: in the "
                    "pretrained space, what do a sentence's nearest neighbours usually share "
                    "with it (section 1)?")
    return fail(f"{value:.0%} is not it yet: remember the anchor's own topic holds only a "
                "fifth of the other-sentiment sentences, and nearness is not everything.")


#: Exercise 4's bar, on held-out kNN accuracy (k=5): topic must survive (pretrained 0.96,
#: notebook 05's recipe about 0.28) while sentiment is learned (pretrained 0.63).
KEEPS_TOPIC_KNN = 0.7
LEARNS_SENTIMENT_KNN = 0.75


@checker("Exercise 4: a recipe that keeps topic")
def check_recipe_keeps_topic(run: Any, train: pd.DataFrame, test: pd.DataFrame) -> CheckResult:
    """``run`` (what ``cu.training.fine_tune`` returned) must keep topic kNN at or above
    :data:`KEEPS_TOPIC_KNN` and reach sentiment kNN :data:`LEARNS_SENTIMENT_KNN` on ``test``,
    with ``train`` as the neighbours."""
    from course_utils.evaluation import embedding_report

    if run is None:
        return fail("my_run is None: build triplets with your recipe, train them with "
                    "cu.training.fine_tune as in section 3, and assign what it returns.")
    model = getattr(run, "model", run)
    if isinstance(model, (str, bytes)) or not hasattr(model, "encode"):
        return fail(f"my_run should be what cu.training.fine_tune returned; got "
                    f"{describe(run)}.")
    knn = embedding_report(model, train, test)["knn_accuracy"]
    topic, sentiment = float(knn["topic"]), float(knn["sentiment"])
    numbers = f"topic kNN {topic:.2f}, sentiment kNN {sentiment:.2f}"
    if topic >= KEEPS_TOPIC_KNN and sentiment >= LEARNS_SENTIMENT_KNN:
        return ok(f"{numbers}: sharing a topic now helps a triplet, so topic survives, while "
                  "negatives of the other sentiment still teach sentiment.")
    if topic >= KEEPS_TOPIC_KNN:
        return fail(f"{numbers}: topic survived, but sentiment was not learned (at least "
                    f"{LEARNS_SENTIMENT_KNN} wanted). Do your negatives still have the other "
                    "sentiment, and did the run train (max_steps)?")
    return fail(f"{numbers}: topic is lost as in section 3 (at least {KEEPS_TOPIC_KNN} "
                "wanted). In your triplets, does sharing a topic ever make a positive closer? "
                "The figure of section 7 shows which configuration keeps topic.")


__all__: Sequence[str] = (
    "KEEPS_TOPIC_KNN",
    "LEARNS_SENTIMENT_KNN",
    "active_fraction",
    "check_active_fraction",
    "check_recipe_keeps_topic",
    "check_same_topic_negative",
    "check_hard_share_estimate",
)
