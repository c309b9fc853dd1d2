"""A search box (notebook 05): type a sentence, see its nearest course sentences per model,
side by side (pretrained neighbours share the topic, fine-tuned ones the opinion).
``box.search(text)`` runs a query from code; ``box.state`` holds what is shown.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from course_utils.embedding import encode
from course_utils.widgets.explorer import explorer_box, html_table, validate_texts

__all__ = ["nearest_rows", "neighbour_search"]

PROMPT = "Type a sentence (e.g. a review of your own) and press Enter."


def nearest_rows(query: np.ndarray, corpus: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(row, cosine) of the ``k`` rows of unit-length ``corpus`` (n, dim) closest to ``query``."""
    scores = corpus @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return [(int(row), float(scores[row])) for row in order]


def neighbour_search(texts: Sequence[str], models: Mapping[str, Any], *,
                     labels: pd.DataFrame | None = None, k: int = 5, query: str = ""):
    """A text box and, per model in ``models`` (name -> SentenceTransformer), the ``k`` nearest
    of ``texts`` to what was typed, side by side.

    ``labels``: optional DataFrame, one row per text, shown next to each neighbour. Texts are
    embedded once per model (cached); queries without the cache.
    """
    import ipywidgets as widgets

    texts = validate_texts(texts)
    if not models:
        raise ValueError("models must name at least one model, e.g. {'pretrained': model}.")
    if not isinstance(k, int) or not 1 <= k <= len(texts):
        raise ValueError(f"k must be a whole number from 1 to {len(texts)}, got {k!r}.")
    if labels is not None and len(labels) != len(texts):
        raise ValueError(f"labels has {len(labels)} rows for {len(texts)} texts; they must "
                         "match one to one.")
    label_rows = None if labels is None else labels.reset_index(drop=True)
    corpora = {name: encode(texts, model) for name, model in models.items()}

    box_input = widgets.Text(value=query, placeholder=PROMPT, description="sentence",
                             continuous_update=False, layout=widgets.Layout(width="95%"))
    output = widgets.HTML()

    def refresh() -> dict[str, Any]:
        text = box_input.value.strip()
        if not text:
            output.value = f"<i>{html.escape(PROMPT)}</i>"
            return {"query": text, "results": {}}
        results = {name: _hits(encode([text], model, cache=False)[0], corpora[name], k, texts,
                               label_rows) for name, model in models.items()}
        output.value = _results_html(results)
        return {"query": text, "results": results}

    box = explorer_box([box_input, output], [box_input], refresh, text_control=box_input)

    def search(text: str) -> dict:
        """Run a query as if typed; returns ``box.state``."""
        box_input.value = text
        return box.state

    box.search = search
    return box


def _hits(query: np.ndarray, corpus: np.ndarray, k: int, texts: list[str],
          label_rows: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The ``k`` nearest texts to the embedded ``query``: row, cosine, text and its labels."""
    hits = []
    for row, cosine in nearest_rows(query, corpus, k):
        hit = {"row": row, "cosine": cosine, "text": texts[row]}
        if label_rows is not None:
            hit.update({str(c): label_rows.iloc[row][c] for c in label_rows.columns})
        hits.append(hit)
    return hits


def _results_html(results: dict[str, list[dict]]) -> str:
    columns = []
    for name, hits in results.items():
        rows = []
        for rank, hit in enumerate(hits, start=1):
            extra = [f"{v}" for key, v in hit.items() if key not in ("row", "cosine", "text")]
            tag = f' <span style="color:#666">[{html.escape("/".join(extra))}]</span>' if extra \
                else ""
            rows.append([str(rank), f"{hit['cosine']:.2f}", f"{html.escape(hit['text'])}{tag}"])
        columns.append(
            f'<div style="flex:1;min-width:300px"><b>{html.escape(name)}</b>'
            f"{html_table(['#', 'cosine', 'sentence'], rows)}</div>")
    return f'<div style="display:flex;gap:1.5em;flex-wrap:wrap">{"".join(columns)}</div>'
