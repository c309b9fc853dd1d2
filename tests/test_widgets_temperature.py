"""The temperature explorer: driven without a browser through ``.slider`` and ``.state``."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from course_utils.widgets import temperature_explorer  # noqa: E402
from course_utils.widgets.temperature import temperature_state  # noqa: E402

SIMILARITIES = [0.8, 0.7, 0.3, 0.1]  # the positive first, then a hard and two easy negatives


def test_low_temperature_puts_the_push_on_the_hardest_negative():
    sharp = temperature_state(SIMILARITIES, 0, 0.01)
    flat = temperature_state(SIMILARITIES, 0, 1.0)
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
    state = temperature_state(SIMILARITIES, 0, 0.1)
    np.testing.assert_allclose(state["gradient"], sims.grad.numpy(), atol=1e-5)
    assert state["loss"] == pytest.approx(loss.item(), abs=1e-6)


def test_state_follows_the_slider_and_the_plot_is_redrawn():
    box = temperature_explorer(SIMILARITIES, labels=["pos", "hard", "easy", "easier"])
    assert box.state["temperature"] == pytest.approx(0.05)
    first = bytes(box.image.value)
    assert first[:4] == b"\x89PNG"
    box.slider.value = 1.0
    assert box.state["temperature"] == pytest.approx(1.0)
    assert box.state["p_positive"] < 0.5
    assert bytes(box.image.value) != first
    assert "hard" in box.children[1].value


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
        temperature_explorer(*args, plot=False, **kwargs)
    with pytest.raises(ValueError, match="temperature"):
        temperature_state(SIMILARITIES, 0, 0.0)
