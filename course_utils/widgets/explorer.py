"""What every explorer shares: the box it returns, its ``.state`` and the wiring that keeps the
state in step with the controls, its HTML tables, and the check of optional per-row texts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd

__all__ = ["explorer_box", "html_table", "validate_row_texts", "validate_texts"]

#: Every cell of an explorer's table: JupyterLab's stylesheet ignores ``cellpadding``, so the
#: spacing is inline (without it "#", "cosine" and "text" run together as "#cosinetext").
_CELL = 'style="padding:2px 8px;text-align:left;vertical-align:top"'


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]],
               row_styles: Iterable[str] | None = None) -> str:
    """A table of already-escaped HTML cells, padded and left-aligned in every front-end.

    ``row_styles`` (optional) gives each row's inline CSS, e.g. a highlight.
    """
    rows = list(rows)
    styles = list(row_styles) if row_styles is not None else [""] * len(rows)
    head = "".join(f"<th {_CELL}>{cell}</th>" for cell in header)
    body = "".join(f'<tr style="{style}">' + "".join(f"<td {_CELL}>{cell}</td>" for cell in row)
                   + "</tr>" for row, style in zip(rows, styles, strict=True))
    return f'<table style="border-collapse:collapse"><tr>{head}</tr>{body}</table>'



def explorer_box(children: Sequence[Any], controls: Iterable[Any],
                 refresh: Callable[[], dict[str, Any]], **attributes: Any) -> Any:
    """An ``ipywidgets.VBox`` of ``children`` whose ``.state`` follows the ``controls``.

    ``refresh()`` draws from the controls' values and returns a dict; it runs now and on every
    change, and ``box.state`` (the same dict object throughout) holds its latest result.
    ``attributes`` are set on the box (e.g. ``slider=slider``).
    """
    import ipywidgets

    box = ipywidgets.VBox(list(children))
    box.state = {}
    for name, value in attributes.items():
        setattr(box, name, value)

    def update(_change: Any = None) -> None:
        state = refresh()
        box.state.clear()
        box.state.update(state)

    for control in controls:
        control.observe(update, names="value")
    update()
    return box


def validate_texts(texts: Any, what: str = "texts") -> list[str]:
    """``texts`` as a list of str, one sentence per row; raises for a single string (it would
    be split into letters) and for missing entries (None and NaN would be shown, and embedded,
    as the sentences "None" and "nan"). ``what`` names the argument in the error."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{what} must be a list of sentences, got a single string "
                        f"({texts[:40]!r}); wrap it in a list: [{texts[:20]!r}, ...].")
    try:
        items = list(texts)
    except TypeError:
        raise TypeError(f"{what} must be a list of sentences, got "
                        f"{type(texts).__name__}.") from None
    missing = [row for row, text in enumerate(items) if _is_missing(text)]
    if missing:
        raise ValueError(f"{what} has {len(missing)} missing entries (None or NaN), e.g. at rows "
                         f"{missing[:5]}; drop those rows first (e.g. frame.dropna(subset="
                         "['text'])) and pass the rest, so every row is a sentence.")
    return [str(text) for text in items]


def _is_missing(value: Any) -> bool:
    """True for None, NaN, pd.NA and NaT (a missing table cell); False for any text."""
    return value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value)
                             and bool(pd.isna(value)))


def validate_row_texts(labels: Any, n_rows: int, row: str, example: str = "") -> list[str] | None:
    """Optional texts shown next to the rows: one string per ``row``, or ``None``; ``example``
    follows the advice in the error for a wrong count."""
    if labels is None:
        return None
    labels = validate_texts(labels, "labels")
    if len(labels) != n_rows:
        raise ValueError(f"labels has {len(labels)} entries for {n_rows} {row}s; pass one text "
                         f"per {row}{example} or leave it out.")
    return labels
