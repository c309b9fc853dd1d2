"""The margin explorer (notebook 04): slide the triplet margin, see which triplets stay active
(loss above zero), counted as easy / semi-hard / hard, with the mean loss and the
d(a,p)-vs-d(a,n) scatter.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np

from course_utils.plots.toy import distance_limits
from course_utils.triplets import TRIPLET_CLASSES, classify_distances, triplet_distances
from course_utils.widgets.explorer import explorer_box, validate_row_texts

__all__ = ["margin_explorer", "margin_state"]


def margin_state(d_ap: np.ndarray, d_an: np.ndarray, margin: float) -> dict[str, Any]:
    """What the explorer shows at ``margin``, from the (n,) distance arrays d(a,p) and d(a,n)."""
    grades = classify_distances(d_ap, d_an, margin=margin)
    losses = np.maximum(0.0, d_ap - d_an + margin)
    active = losses > 0
    return {
        "margin": float(margin),
        "n_triplets": int(len(d_ap)),
        "n_active": int(active.sum()),
        "share_active": float(active.mean()),
        "counts": {grade: int((grades == grade).sum()) for grade in TRIPLET_CLASSES},
        "mean_loss": float(losses.mean()),
        "classes": grades,
        "losses": losses,
    }


def _summary_html(state: dict[str, Any], labels: Sequence[str] | None, n_examples: int) -> str:
    counts = state["counts"]
    lines = [
        f"<p>margin <b>{state['margin']:.2f}</b>: <b>{state['n_active']}</b> of "
        f"{state['n_triplets']} triplets active ({state['share_active']:.0%}), mean loss "
        f"<b>{state['mean_loss']:.3f}</b><br>easy {counts['easy']} &middot; semi-hard "
        f"{counts['semi-hard']} &middot; hard {counts['hard']}</p>"
    ]
    if labels is not None and state["n_active"]:
        worst = np.argsort(-state["losses"], kind="stable")[:n_examples]
        items = "".join(
            f"<li>[{state['classes'][i]}, loss {state['losses'][i]:.3f}] "
            f"{html.escape(str(labels[i]))}</li>" for i in worst if state["losses"][i] > 0
        )
        lines.append(f"<p>Triplets with the largest loss:</p><ul>{items}</ul>")
    return "".join(lines)


def margin_explorer(anchor: Any, positive: Any, negative: Any, *, distance: str = "euclidean",
                    labels: Sequence[str] | None = None, margin: float = 0.5,
                    max_margin: float | None = None, n_examples: int = 3, plot: bool = True):
    """A margin slider over a set of triplets; returns the widget box.

    Args:
        anchor, positive, negative: (n, dim) arrays or tensors; row i is triplet i.
        distance: ``"euclidean"`` or ``"cosine"`` (as :func:`course_utils.losses.triplet_loss`).
        labels: optional text per triplet, shown for the triplets with the largest loss.
        max_margin: the slider's end; default 2 (the largest distance between unit vectors)
            or the largest distance in the data if that is bigger.
        plot: draw the scatter (turn off for speed in tests).

    Returns:
        An ``ipywidgets.VBox`` with ``.slider`` and ``.state`` (margin, n_triplets, n_active,
        share_active, counts, mean_loss, and the per-triplet classes and losses).
    """
    import ipywidgets as widgets

    d_ap, d_an = triplet_distances(anchor, positive, negative, distance=distance)
    labels = validate_row_texts(labels, len(d_ap), "triplet", " (e.g. the anchor texts)")
    slider = widgets.FloatSlider(value=float(margin), min=0.0,
                                 max=_slider_end(d_ap, d_an, margin, max_margin), step=0.01,
                                 description="margin", continuous_update=False,
                                 readout_format=".2f")
    summary = widgets.HTML()
    image = widgets.Image(format="png")  # PNG bytes: no captured output to wait for headless
    limits = distance_limits(d_ap, d_an)

    def refresh() -> dict[str, Any]:
        state = margin_state(d_ap, d_an, slider.value)
        summary.value = _summary_html(state, labels, n_examples)
        if plot:
            image.value = _draw(d_ap, d_an, state, limits)
        return state

    return explorer_box([slider, summary, image], [slider], refresh, slider=slider, image=image)


def _slider_end(d_ap: np.ndarray, d_an: np.ndarray, margin: float,
                max_margin: float | None) -> float:
    """The margin slider's end (see ``margin_explorer``'s ``max_margin``); ``margin`` must lie
    on the slider."""
    largest = float(max(d_ap.max(), d_an.max()))
    top = float(max_margin) if max_margin is not None else max(2.0, np.ceil(largest * 10) / 10)
    if not top > 0:
        raise ValueError(f"max_margin must be a positive number, got {max_margin!r}.")
    if not 0 <= margin <= top:
        raise ValueError(f"margin must be between 0 and max_margin={top:g}, got {margin!r}.")
    return top


def _draw(d_ap: np.ndarray, d_an: np.ndarray, state: dict[str, Any],
          limits: tuple[float, float]) -> bytes:
    """The d(a,p)-vs-d(a,n) scatter at the state's margin, as PNG bytes."""
    import matplotlib.pyplot as plt

    from course_utils.plots.figures import figure_png
    from course_utils.plots.toy import plot_triplet_distances

    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    plot_triplet_distances(d_ap, d_an, margin=state["margin"], classes=state["classes"],
                           ax=ax, limits=limits)
    return figure_png(fig)
