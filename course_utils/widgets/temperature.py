"""The temperature explorer (notebook 07): slide InfoNCE's temperature, watch the softmax.

The maths is notebook 07's ``temperature_numbers`` cell (section 2); the explorer calls the
function it is given at the slider's temperature and draws the result.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course_utils.widgets.explorer import explorer_box, validate_row_texts

__all__ = ["MAX_CANDIDATES", "NUMBER_KEYS", "temperature_explorer"]

#: The slider's range (a log scale): from very sharp to almost uniform.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 1.0

#: The most candidates the explorer draws: one bar each, so 20,000 took minutes and a 50 MB
#: picture; a batch in the course has at most a few dozen.
MAX_CANDIDATES = 200

#: What the explorer reads from the numbers function's dict.
NUMBER_KEYS = ("probabilities", "loss", "p_positive", "hardest", "hardest_share",
               "effective_negatives")


def _similarities(similarities: Any, positive: Any) -> tuple[np.ndarray, int]:
    values = np.asarray(similarities, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(
            "similarities must be a 1-D list of at least 2 cosine similarities (the positive "
            f"and at least one negative), got shape {values.shape}."
        )
    if len(values) > MAX_CANDIDATES:
        raise ValueError(
            f"similarities has {len(values):,} candidates; the explorer draws one bar each and "
            f"takes at most {MAX_CANDIDATES}. Pass one anchor's in-batch candidates, e.g. the "
            f"positive and its {MAX_CANDIDATES - 1} most similar negatives."
        )
    if not np.isfinite(values).all():
        raise ValueError("similarities contains NaN or infinity.")
    if isinstance(positive, bool) or not isinstance(positive, (int, np.integer)) or not (
        0 <= positive < len(values)
    ):
        raise ValueError(f"positive must be an index from 0 to {len(values) - 1}, got "
                         f"{positive!r}.")
    return values, int(positive)


def _numbers_at(numbers: Callable[..., Any], values: np.ndarray, positive: int,
                temperature: float) -> dict[str, Any]:
    """``numbers(values, positive, temperature)`` as the explorer's state, or a clear error."""
    result = numbers(values, positive, temperature)
    if not isinstance(result, dict):
        raise TypeError(f"numbers must return a dict with keys {list(NUMBER_KEYS)}, got "
                        f"{type(result).__name__}.")
    missing = [key for key in NUMBER_KEYS if key not in result]
    if missing:
        raise ValueError(f"the dict that numbers returned lacks {missing}; it has "
                         f"{sorted(result)}.")
    probabilities = np.asarray(result["probabilities"], dtype=float)
    if probabilities.shape != values.shape:
        raise ValueError(f"numbers returned {probabilities.shape} probabilities for "
                         f"{len(values)} candidates; give one per candidate.")
    return {**result, "temperature": float(temperature), "probabilities": probabilities}


def _summary_html(state: dict[str, Any], labels: Sequence[str] | None) -> str:
    hardest = state["hardest"]
    name = html.escape(labels[hardest]) if labels is not None else f"candidate {hardest}"
    return (
        f"<p>temperature <b>{state['temperature']:.3f}</b> (scale "
        f"{1 / state['temperature']:.0f}): p(positive) <b>{state['p_positive']:.2f}</b>, loss "
        f"<b>{state['loss']:.2f}</b><br>the hardest negative ({name}) gets "
        f"<b>{state['hardest_share']:.0%}</b> of the push on the negatives; it is spread over "
        f"about <b>{state['effective_negatives']:.1f}</b> negatives.</p>"
    )


def temperature_explorer(similarities: Any, numbers: Callable[..., Any], *, positive: int = 0,
                         labels: Sequence[str] | None = None, temperature: float = 0.05,
                         plot: bool = True):
    """A temperature slider over one anchor's candidates; returns the widget box.

    Args:
        similarities: (n,) cosine similarities of the anchor to its candidates.
        numbers: a function ``(similarities, positive, temperature) -> dict`` with at least
            :data:`NUMBER_KEYS`, e.g. notebook 07's ``temperature_numbers``.
        positive: the index of the anchor's own positive among them.
        temperature: the slider's start value (the library's default is 0.05 = scale 20).
        plot: draw the bars (turn off for speed in tests).

    Returns:
        An ``ipywidgets.VBox`` with ``.slider`` (FloatLogSlider, 0.01 to 1), ``.image`` and
        ``.state`` (``numbers``'s dict plus ``temperature``).
    """
    import ipywidgets as widgets

    values, positive = _similarities(similarities, positive)
    if not callable(numbers):
        raise TypeError(f"numbers must be a function (similarities, positive, temperature) -> "
                        f"dict, e.g. temperature_numbers; got {type(numbers).__name__}.")
    labels = validate_row_texts(labels, len(values), "candidate")
    if not MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE:
        raise ValueError(f"temperature must be between {MIN_TEMPERATURE} and "
                         f"{MAX_TEMPERATURE}, got {temperature!r}.")
    slider = widgets.FloatLogSlider(value=float(temperature), base=10,
                                    min=np.log10(MIN_TEMPERATURE), max=np.log10(MAX_TEMPERATURE),
                                    step=0.05, description="temperature τ",
                                    continuous_update=False, readout_format=".3f",
                                    style={"description_width": "initial"},
                                    layout=widgets.Layout(width="70%"))
    summary = widgets.HTML()
    # 88% of the slide's width: the deck's remote (bottom right) stays clear of the bars
    image = widgets.Image(format="png", layout=widgets.Layout(width="88%"))

    def refresh() -> dict[str, Any]:
        state = _numbers_at(numbers, values, positive, slider.value)
        summary.value = _summary_html(state, labels)
        if plot:
            image.value = _draw(values, positive, state, labels)
        return state

    return explorer_box([slider, summary, image], [slider], refresh, slider=slider, image=image)


def _draw(values: np.ndarray, positive: int, state: dict[str, Any],
          labels: Sequence[str] | None) -> bytes:
    """Bars: each candidate's similarity and its softmax probability, as PNG bytes (about
    1060 px wide, 23 px a candidate: it fits a 1280x800 slide under the slider)."""
    import matplotlib.pyplot as plt

    from course_utils.plots.batch import candidate_bars
    from course_utils.plots.figures import figure_png

    order = np.argsort(-values, kind="stable")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.6, 0.23 * len(values) + 0.9),
                                      sharey=True, layout="constrained",
                                      gridspec_kw={"width_ratios": [1.3, 1]})
    candidate_bars(left, values, positive=positive, labels=labels, order=order,
                   xlabel="cosine similarity (blue: the positive)")
    candidate_bars(right, state["probabilities"], positive=positive, order=order, xlim=(0, 1),
                   xlabel=f"softmax probability at τ = {state['temperature']:.3f}",
                   show_labels=False)
    return figure_png(fig)
