"""The temperature explorer: driven without a browser through ``.slider`` and ``.state``.

The explorer only draws; the maths is notebook 07's ``temperature_numbers`` cell. The tests
pass the same function, written out here as ``reference_numbers``.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from course_utils.widgets import temperature_explorer  # noqa: E402

SIMILARITIES = [0.8, 0.7, 0.3, 0.1]  # the positive first, then a hard and two easy negatives


def reference_numbers(similarities, positive, temperature):
    """Notebook 07's ``temperature_numbers`` (section 2): the softmax and who gets the push."""
    s = np.asarray(similarities, dtype=float)
    logits = s / temperature
    p = np.exp(logits - logits.max())  # softmax, shifted so that exp cannot overflow
    p = p / p.sum()
    negatives = np.flatnonzero(np.arange(len(s)) != positive)
    push = p[negatives] / p[negatives].sum()  # each negative's share of the push
    hardest = int(negatives[np.argmax(s[negatives])])  # the most similar negative
    return {"temperature": temperature, "probabilities": p,
            "loss": -np.log(p[positive]), "p_positive": p[positive],
            "gradient": (p - np.eye(len(s))[positive]) / temperature,
            "hardest": hardest, "hardest_share": p[hardest] / p[negatives].sum(),
            "effective_negatives": np.exp(-np.sum(push * np.log(push)))}


def test_low_temperature_puts_the_push_on_the_hardest_negative():
    sharp = reference_numbers(SIMILARITIES, 0, 0.01)
    flat = reference_numbers(SIMILARITIES, 0, 1.0)
    assert sharp["hardest"] == 1 and flat["hardest"] == 1
    assert sharp["hardest_share"] > 0.99 and flat["hardest_share"] < 0.5
    assert sharp["effective_negatives"] == pytest.approx(1.0, abs=0.01)
    assert 2.5 < flat["effective_negatives"] <= 3.0
    for state in (sharp, flat):
        assert state["probabilities"].sum() == pytest.approx(1.0)
        assert state["loss"] == pytest.approx(-np.log(state["p_positive"]))
        assert state["gradient"][0] < 0 and (state["gradient"][1:] > 0).all()


def test_gradient_is_the_softmax_over_temperature():
    import torch

    sims = torch.tensor(SIMILARITIES, requires_grad=True)
    loss = torch.nn.functional.cross_entropy((sims / 0.1).unsqueeze(0), torch.tensor([0]))
    loss.backward()
    state = reference_numbers(SIMILARITIES, 0, 0.1)
    np.testing.assert_allclose(state["gradient"], sims.grad.numpy(), atol=1e-5)
    assert state["loss"] == pytest.approx(loss.item(), abs=1e-6)


def test_state_follows_the_slider_and_the_plot_is_redrawn():
    box = temperature_explorer(SIMILARITIES, reference_numbers,
                               labels=["pos", "hard", "easy", "easier"])
    assert box.state["temperature"] == pytest.approx(0.05)
    assert box.state["p_positive"] == reference_numbers(SIMILARITIES, 0, 0.05)["p_positive"]
    first = bytes(box.image.value)
    assert first[:4] == b"\x89PNG"
    box.slider.value = 1.0
    assert box.state["temperature"] == pytest.approx(1.0)
    assert box.state["p_positive"] < 0.5
    assert bytes(box.image.value) != first
    assert "hard" in box.children[1].value


def test_the_explorer_draws_what_the_function_returns():
    calls = []

    def fixed_numbers(similarities, positive, temperature):
        calls.append(temperature)
        return {"probabilities": [0.4, 0.3, 0.2, 0.1], "loss": 1.5, "p_positive": 0.4,
                "hardest": 2, "hardest_share": 0.25, "effective_negatives": 2.5}

    box = temperature_explorer(SIMILARITIES, fixed_numbers, labels=["a", "b", "c", "d"],
                               plot=False)
    assert calls == [pytest.approx(0.05)]
    assert box.state["hardest_share"] == 0.25
    assert "(c)" in box.children[1].value and "25%" in box.children[1].value


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ([[0.5]], {}, ValueError),
        ([[0.5, float("nan")]], {}, ValueError),
        ([SIMILARITIES], {"positive": 4}, ValueError),
        ([SIMILARITIES], {"labels": ["a"]}, ValueError),
        ([SIMILARITIES], {"labels": "abcd"}, TypeError),
        ([SIMILARITIES], {"temperature": 5.0}, ValueError),
    ],
)
def test_bad_arguments_raise_clear_errors(args, kwargs, error):
    with pytest.raises(error):
        temperature_explorer(*args, reference_numbers, plot=False, **kwargs)


@pytest.mark.parametrize(
    ("numbers", "error", "message"),
    [
        (None, TypeError, "function"),
        (lambda s, p, t: [0.5, 0.5], TypeError, "dict"),
        (lambda s, p, t: {"loss": 1.0}, ValueError, "lacks"),
        (lambda s, p, t: {**reference_numbers(s, p, t), "probabilities": [1.0]}, ValueError,
         "one per candidate"),
    ],
)
def test_a_wrong_numbers_function_is_named(numbers, error, message):
    with pytest.raises(error, match=message):
        temperature_explorer(SIMILARITIES, numbers, plot=False)


def test_too_many_candidates_are_refused_before_anything_is_drawn():
    from course_utils.widgets.temperature import MAX_CANDIDATES

    similarities = np.linspace(-1, 1, 20_000)
    with pytest.raises(ValueError, match=rf"20,000 candidates; .* at most {MAX_CANDIDATES}\. "
                                         "Pass one anchor's in-batch candidates"):
        temperature_explorer(similarities, reference_numbers)
