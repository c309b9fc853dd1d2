"""A claim prints its sentence with its numbers, and raises AssertionError - in every mode -
naming the sentence and the number that broke it (course_utils.claims)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from course_utils import claims


def test_a_claim_that_holds_prints_one_line(capsys):
    claims.claim(True, "A is closer (0.61 > 0.20).")
    assert capsys.readouterr().out == "\u2714 claim: A is closer (0.61 > 0.20)\n"
    claims.claim(1 > 0, "one is positive", name="sign")
    assert capsys.readouterr().out == "\u2714 sign: one is positive\n"


def test_a_claim_that_breaks_names_the_sentence_the_problem_and_the_remedy(capsys):
    with pytest.raises(AssertionError) as raised:
        claims.claim(False, "A is closer (0.10 > 0.20).", problem="B caught up.")
    message = str(raised.value)
    assert message.startswith("claim no longer true: A is closer (0.10 > 0.20) - B caught up. ")
    assert "re-run from the top" in message
    with pytest.raises(AssertionError, match=r"^claim no longer true: x\. try again$"):
        claims.claim(False, "x", remedy="try again")
    assert capsys.readouterr().out == ""  # nothing printed for a broken claim


def test_claims_raise_in_friendly_mode_too(monkeypatch):
    monkeypatch.delenv("COURSE_STRICT_CHECKS", raising=False)
    with pytest.raises(AssertionError):
        claims.claim_at_least(0.1, 0.5, "x")


def test_claim_at_least(capsys):
    claims.claim_at_least(np.float64(0.9), 0.85, "sentiment kNN")
    claims.claim_at_least(torch.tensor(1), 0.5, "x")
    assert "sentiment kNN = 0.900 (at least 0.85)" in capsys.readouterr().out
    with pytest.raises(AssertionError, match=r"sentiment kNN = 0\.800 \(at least 0\.85\) - it is "
                                             r"below 0\.85.*re-run from the top"):
        claims.claim_at_least(0.8, 0.85, "sentiment kNN")
    for broken in ("high", None, float("nan"), [0.9]):
        with pytest.raises(TypeError, match="must be one finite number"):
            claims.claim_at_least(broken, 0.5, "x")


def test_claim_within(capsys):
    claims.claim_within(0, (-0.03, 0.14), "the kNN gap's interval")
    assert ("the kNN gap's interval runs from -0.030 to +0.140: it contains 0"
            in capsys.readouterr().out)
    with pytest.raises(AssertionError, match="no longer contains 0"):
        claims.claim_within(0, (0.02, 0.14), "the kNN gap's interval")
    with pytest.raises(TypeError, match="two numbers"):
        claims.claim_within(0, "wide", "x")
    with pytest.raises(TypeError, match="the value must be one finite number"):
        claims.claim_within(None, (0, 1), "x")


def test_claim_equal(capsys):
    claims.claim_equal(torch.tensor(0.5), 0.5 + 1e-7, what="the two losses")
    printed = capsys.readouterr().out
    assert "\u2714 same value: the two losses agree: 0.500000 vs 0.500000" in printed
    with pytest.raises(AssertionError, match="0.500000 vs 0.600000"):
        claims.claim_equal(0.5, 0.6)


def test_claim_difference_holds_only_when_the_interval_says_so(capsys):
    above = pd.Series({"mean": 0.2, "half_width": 0.1, "low": 0.1, "high": 0.3, "n": 3})
    claims.claim_difference(above, "topic kept")
    assert "+0.200, 95% interval +0.100 to +0.300 over 3 seeds" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="does not lie below 0"):
        claims.claim_difference(above, "topic kept", direction="less")
    straddles = pd.Series({"mean": 0.05, "half_width": 0.1, "low": -0.05, "high": 0.15, "n": 3})
    with pytest.raises(AssertionError, match="no longer support"):
        claims.claim_difference(straddles, "topic kept")
    claims.claim_difference(straddles, "topic kept", direction="unresolved")
    with pytest.raises(AssertionError, match="resolve"):
        claims.claim_difference(above, "topic kept", direction="unresolved")
    with pytest.raises(TypeError, match="paired_difference"):
        claims.claim_difference(0.3, "topic kept")
    with pytest.raises(ValueError, match="direction"):
        claims.claim_difference(above, "topic kept", direction="up")


def test_as_number_accepts_one_finite_number_only():
    assert claims.as_number(np.float32(0.5)) == 0.5 and claims.as_number(torch.tensor(2)) == 2.0
    for broken in (True, "1", [1.0], torch.ones(2), float("inf"), None):
        assert claims.as_number(broken) is None


@pytest.mark.parametrize("holds", [float("nan"), np.float64("nan"), float("inf"), 0.7, "yes", None])
def test_a_claim_is_decided_by_true_or_false_never_by_a_nan(holds, capsys):
    with pytest.raises(TypeError, match="whether 'the gap is real' holds must be True or False"
                       ) as raised:
        claims.claim(holds, "the gap is real")
    assert capsys.readouterr().out == ""  # no tick printed
    if isinstance(holds, float) and not np.isfinite(holds):
        assert "A NaN or infinity means a number behind the sentence is missing" in str(
            raised.value)


def test_a_claim_accepts_numpy_and_torch_comparisons(capsys):
    claims.claim(np.float64(0.9) > 0.5, "numpy")
    claims.claim(torch.tensor(0.9) > 0.5, "torch")
    with pytest.raises(AssertionError):
        claims.claim(torch.tensor(0.1) > 0.5, "torch")
    assert capsys.readouterr().out == "\u2714 claim: numpy\n\u2714 claim: torch\n"


@pytest.mark.parametrize("key", ["mean", "low", "high", "n"])
@pytest.mark.parametrize("direction", ["greater", "less", "unresolved"])
def test_a_difference_with_a_nan_never_passes_and_names_the_quantity(key, direction, capsys):
    broken = pd.Series({"mean": 0.2, "half_width": 0.1, "low": 0.1, "high": 0.3, "n": 3})
    broken[key] = np.nan
    names = {"mean": "the mean difference", "low": "low end", "high": "high end",
             "n": "the number of seeds n"}
    with pytest.raises(TypeError, match=f"topic kept: .*{names[key]} must be one finite number.*"
                                        "fewer than 2 seeds"):
        claims.claim_difference(broken, "topic kept", direction=direction)
    assert capsys.readouterr().out == ""


def test_an_all_nan_interval_does_not_say_the_seeds_resolve_it():
    nothing = pd.Series({"mean": np.nan, "half_width": np.nan, "low": np.nan, "high": np.nan,
                         "n": 0})
    with pytest.raises(TypeError) as raised:
        claims.claim_difference(nothing, "topic kept", direction="unresolved")
    assert "resolve" not in str(raised.value)


def test_reversed_interval_ends_are_refused():
    reversed_ends = pd.Series({"mean": 0.2, "half_width": 0.1, "low": 0.3, "high": 0.1, "n": 3})
    with pytest.raises(ValueError, match="topic kept: the interval runs from 0.3 down to 0.1"):
        claims.claim_difference(reversed_ends, "topic kept")
    with pytest.raises(ValueError, match="gap: the interval runs from 1 down to 0"):
        claims.claim_within(0.5, (1, 0), "gap")


@pytest.mark.parametrize("interval", [(np.nan, 1), (0, np.nan), (-np.inf, 1)])
def test_claim_within_refuses_an_end_that_is_not_a_finite_number(interval, capsys):
    with pytest.raises(TypeError, match="gap: the interval's (low|high) end must be one finite"):
        claims.claim_within(0.5, interval, "gap")
    assert "no longer contains" not in capsys.readouterr().out


def test_claim_equal_refuses_nan_instead_of_saying_they_differ():
    with pytest.raises(TypeError, match="the two losses: the first value must be one finite"):
        claims.claim_equal(float("nan"), 0.5)
    with pytest.raises(TypeError, match="the second value"):
        claims.claim_equal(0.5, torch.tensor(float("nan")))
