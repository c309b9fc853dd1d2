"""Contrast explorers: "why P rather than Q?" as two small ipywidgets apps.

:func:`feature_contrast_explorer` (notebook 01) works on a feature table, :func:`contrast_explorer`
(notebook 02) on sentence embeddings. Both return the box; its controls are attributes and its
``.state`` is recomputed on every change, so tests can drive it without a browser.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from course_utils.embedding import l2_normalise, validate_embeddings
from course_utils.toy import (
    discriminating_features,
    distances_from,
    nearest,
    validate_feature_table,
    validate_feature_weights,
    weighted_distance,
)
from course_utils.widgets.explorer import explorer_box, html_table, validate_texts

__all__ = [
    "contrast_explorer",
    "contrast_state",
    "feature_contrast_explorer",
    "feature_contrast_state",
]

_TIE = 1e-6


# --------------------------------------------------------------------------------------------
# Notebook 01: contrasts in a hand-made feature table
# --------------------------------------------------------------------------------------------


def feature_contrast_state(frame: pd.DataFrame, p: str, q: str,
                           weights: dict[str, float]) -> dict[str, Any]:
    """What the feature explorer shows for rows ``p``, ``q`` of ``frame`` under ``weights``."""
    differ = discriminating_features(frame, p, q)
    return {
        "p": p, "q": q, "discriminating": differ,
        "shared": [str(c) for c in frame.columns if str(c) not in differ],
        "weights": weights, "distance": weighted_distance(frame, p, q, weights),
        "nearest_to_p": nearest(frame, p, weights)[0],
        "distances_from_p": distances_from(frame, p, weights),
    }


def _feature_controls(names: list[str], p: str, q: str, features: dict[str, float]):
    """The P and Q dropdowns and one checkbox per feature (ticked where its weight is > 0)."""
    import ipywidgets as widgets

    p_control = widgets.Dropdown(options=names, value=p, description="P",
                                 layout=widgets.Layout(width="220px"))
    q_control = widgets.Dropdown(options=names, value=q, description="rather than Q",
                                 style={"description_width": "initial"},
                                 layout=widgets.Layout(width="240px"))
    feature_controls = {
        feature: widgets.Checkbox(value=bool(weight > 0), description=feature, indent=False,
                                  layout=widgets.Layout(width="auto"))
        for feature, weight in features.items()
    }
    return p_control, q_control, feature_controls


def feature_contrast_explorer(table: pd.DataFrame, *, p: str | None = None,
                              q: str | None = None,
                              weights: Mapping[str, float] | None = None):
    """Pick P and Q from a feature table and see which features answer "why P rather than Q?".

    Controls: ``p_control``, ``q_control`` and ``feature_controls`` (feature -> checkbox: weight
    1 or 0; ``weights`` sets the starting ticks). ``box.state`` holds ``p``, ``q``,
    ``discriminating``, ``shared``, ``weights``, ``distance``, ``nearest_to_p`` and
    ``distances_from_p``.
    """
    import ipywidgets as widgets

    frame = validate_feature_table(table)
    names = [str(n) for n in frame.index]
    frame.index = names
    p = names[0] if p is None else str(p)
    q = names[1] if q is None else str(q)
    for value in (p, q):
        if value not in names:
            raise ValueError(f"{value!r} is not a row of the table; rows are {names}.")
    start = validate_feature_weights(frame, weights)
    p_control, q_control, feature_controls = _feature_controls(
        names, p, q, dict(zip(map(str, frame.columns), start, strict=True)))
    output = widgets.HTML()

    def refresh() -> dict[str, Any]:
        weights_now = {f: float(c.value) for f, c in feature_controls.items()}
        state = feature_contrast_state(frame, p_control.value, q_control.value, weights_now)
        output.value = _feature_html(frame, state)
        return state

    children = [
        widgets.HBox([p_control, q_control]),
        widgets.HTML("<b>Features that count in the distance</b> (untick to weigh 0):"),
        widgets.HBox(list(feature_controls.values()),
                     layout=widgets.Layout(flex_flow="row wrap")),
        output,
    ]
    return explorer_box(children, [p_control, q_control, *feature_controls.values()], refresh,
                        p_control=p_control, q_control=q_control,
                        feature_controls=feature_controls, table=frame)


def _feature_html(frame: pd.DataFrame, state: dict[str, Any]) -> str:
    p, q, differ, weights = state["p"], state["q"], state["discriminating"], state["weights"]
    rows, styles = [], []
    for feature in frame.columns:
        hit = feature in differ
        styles.append("background:#fdf0e6;font-weight:bold" if hit else "color:#777")
        counted = "" if weights[feature] > 0 else " <i>(weight 0)</i>"
        rows.append([f"{html.escape(str(feature))}{counted}", f"{frame.at[p, feature]:g}",
                     f"{frame.at[q, feature]:g}", "discriminates" if hit else "shared"])
    if p == q:
        answer = "P and Q are the same row: there is no contrast to explain."
    elif differ:
        answer = (f"Why <b>{html.escape(p)}</b> rather than <b>{html.escape(q)}</b>? Because of "
                  f"{', '.join(html.escape(f) for f in differ)}.")
    else:
        answer = "No feature tells them apart: the question has no answer in this table."
    return (
        f"<p>{answer}</p>"
        + html_table(["feature", f"P = {html.escape(p)}", f"Q = {html.escape(q)}", ""], rows,
                     styles)
        + f"<p>Weighted distance P-Q: <b>{state['distance']:.3f}</b> &nbsp;|&nbsp; closest to "
        f"{html.escape(p)} under these weights: <b>{html.escape(state['nearest_to_p'])}</b></p>"
    )


# --------------------------------------------------------------------------------------------
# Notebook 02: anchor, P and Q in an embedding space
# --------------------------------------------------------------------------------------------


def _label_columns(labels: object, n_rows: int) -> dict[str, list[str]]:
    if labels is None:
        return {}
    if isinstance(labels, pd.DataFrame):
        columns = {str(c): labels[c].astype(str).tolist() for c in labels.columns}
    elif isinstance(labels, Mapping):
        columns = {str(k): [str(v) for v in values] for k, values in labels.items()}
    elif isinstance(labels, str):
        raise TypeError("labels must be one label per text (a list), not a single string.")
    else:
        columns = {"label": [str(v) for v in labels]}
    for name, values in columns.items():
        if len(values) != n_rows:
            raise ValueError(
                f"labels {name!r} has {len(values)} entries but there are {n_rows} texts; "
                "they must match one to one (same order)."
            )
    return columns


def contrast_state(unit: np.ndarray, texts: Sequence[str], labels: dict[str, list[str]],
                   anchor: int, p: int, q: int, k: int) -> dict[str, Any]:
    """What the explorer shows, as a dict (the same computation the widget runs)."""
    similarities = unit @ unit[anchor]
    sim_p, sim_q = float(similarities[p]), float(similarities[q])
    margin = sim_p - sim_q
    closer = "tie" if abs(margin) <= _TIE else ("P" if margin > 0 else "Q")
    order = np.argsort(-similarities, kind="stable")
    order = [int(i) for i in order if i != anchor][:k]
    neighbours = [
        {"index": i, "text": texts[i], "similarity": float(similarities[i]),
         **{name: values[i] for name, values in labels.items()}}
        for i in order
    ]
    return {
        "anchor": anchor, "p": p, "q": q,
        "anchor_text": texts[anchor], "p_text": texts[p], "q_text": texts[q],
        "sim_p": sim_p, "sim_q": sim_q, "margin": margin, "closer": closer,
        "labels": {name: {"anchor": v[anchor], "p": v[p], "q": v[q]}
                   for name, v in labels.items()},
        "neighbours": neighbours,
    }


def _option_label(index: int, text: str, labels: dict[str, list[str]], width: int = 70) -> str:
    short = text if len(text) <= width else text[: width - 1] + "…"
    tags = "/".join(values[index] for values in labels.values())
    return f"{index}: {short}" + (f"  [{tags}]" if tags else "")


def _validate_sentences(texts: Sequence[str], embeddings: Any, labels: Any, k: Any,
                        **rows: Any) -> tuple[list[str], np.ndarray, dict[str, list[str]]]:
    """The explorer's inputs, checked: the texts, their unit vectors and the label columns;
    ``k`` and every row index in ``rows`` (anchor, p, q) must fit the texts."""
    texts = validate_texts(texts)
    unit = l2_normalise(validate_embeddings(embeddings, n_rows=len(texts)))
    n_rows = len(texts)
    if n_rows < 3:
        raise ValueError(f"the explorer needs at least 3 texts (anchor, P, Q), got {n_rows}.")
    label_columns = _label_columns(labels, n_rows)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k < n_rows:
        raise ValueError(f"k must be a whole number from 1 to {n_rows - 1}, got {k!r}.")
    for name, value in rows.items():
        if (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
                or not 0 <= value < n_rows):
            raise ValueError(f"{name} must be a row index from 0 to {n_rows - 1}, got {value!r}.")
    return texts, unit, label_columns


def contrast_explorer(texts: Sequence[str], embeddings, *, labels=None, k: int = 5,
                      anchor: int = 0, p: int = 1, q: int = 2):
    """Anchor vs candidates P and Q: which is closer (cosine), by how much, and who is nearest.

    Args:
        texts: the sentences (one per embedding row).
        embeddings: (n, d) array, e.g. ``cu.embedding.encode(texts)``.
        labels: optional labels shown next to each sentence: a DataFrame of label columns,
            a dict ``{name: labels}`` or one list.
        anchor, p, q: the starting row indices.

    Returns the ``ipywidgets.VBox`` with ``anchor_control``, ``p_control``, ``q_control``,
    ``k_control`` and ``state`` (``sim_p``, ``sim_q``, ``margin = sim_p - sim_q``, ``closer``:
    ``'P'``, ``'Q'`` or ``'tie'`` within 1e-6, ``labels``, ``neighbours`` without the anchor).
    """
    import ipywidgets as widgets

    texts, unit, label_columns = _validate_sentences(texts, embeddings, labels, k,
                                                     anchor=anchor, p=p, q=q)
    options = [(_option_label(i, t, label_columns), i) for i, t in enumerate(texts)]
    wide, style = widgets.Layout(width="95%"), {"description_width": "70px"}
    anchor_control, p_control, q_control = (
        widgets.Dropdown(options=options, value=int(value), description=name, layout=wide,
                         style=style)
        for name, value in (("anchor", anchor), ("P", p), ("Q", q)))
    k_control = widgets.IntSlider(value=int(k), min=1, max=min(20, len(texts) - 1),
                                  description="neighbours", style=style)
    output = widgets.HTML()

    def refresh() -> dict[str, Any]:
        state = contrast_state(unit, texts, label_columns, anchor_control.value,
                               p_control.value, q_control.value, k_control.value)
        output.value = _contrast_html(state, list(label_columns))
        return state

    controls = [anchor_control, p_control, q_control, k_control]
    return explorer_box([*controls, output], controls, refresh, anchor_control=anchor_control,
                        p_control=p_control, q_control=q_control, k_control=k_control)


def _contrast_html(state: dict[str, Any], label_names: list[str]) -> str:
    def tags(which: str) -> str:
        values = [state["labels"][name][which] for name in label_names]
        return f' <span style="color:#777">[{html.escape("/".join(values))}]</span>' if values \
            else ""

    def bar(similarity: float, colour: str) -> str:
        width = int(round(max(similarity, 0.0) * 200))
        return (f'<span style="display:inline-block;width:{width}px;height:10px;'
                f'background:{colour}"></span>')

    closer = state["closer"]
    if closer == "tie":
        verdict = "P and Q are equally close to the anchor."
    else:
        verdict = (f"<b>{closer}</b> is closer to the anchor, by "
                   f"<b>{abs(state['margin']):.3f}</b> in cosine similarity.")
    header = ["#", "cosine", "text", *(html.escape(name) for name in label_names)]
    rows = [[str(i + 1), f"{n['similarity']:.3f}", html.escape(n["text"]),
             *(html.escape(str(n[name])) for name in label_names)]
            for i, n in enumerate(state["neighbours"])]
    return (
        f"<p><b>anchor</b>: {html.escape(state['anchor_text'])}{tags('anchor')}</p>"
        f"<p><b>P</b> ({state['sim_p']:.3f}) {bar(state['sim_p'], '#777777')}<br>"
        f"{html.escape(state['p_text'])}{tags('p')}</p>"
        f"<p><b>Q</b> ({state['sim_q']:.3f}) {bar(state['sim_q'], '#777777')}<br>"
        f"{html.escape(state['q_text'])}{tags('q')}</p>"
        f"<p>{verdict}</p>"
        f"<p><b>The anchor's {len(state['neighbours'])} nearest neighbours</b> (cosine):</p>"
        + html_table(header, rows)
    )
