"""Hover to read a point (notebooks 02, 05, 08): linked interactive scatters of UMAP layouts.

Hovering shows a point's sentence and labels; with several layouts (before / after training)
hovering or selecting in one view marks the same sentences in the others. Drawn by
``jupyter-scatter`` (its front-end ships in the package, nothing is fetched); the static
matplotlib figures stay for exports and CI.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from course_utils.widgets.explorer import validate_texts

__all__ = ["HINT", "TOOLTIP_LINES", "hover_scatter"]

HINT = ("Hover a point to read its sentence. Click a point (or lasso a group with the toolbar) "
        "to mark the same sentences in every view; double-click empty space to clear.")
#: Lines of a sentence the tooltip shows before "..." (the readout always shows all of it).
TOOLTIP_LINES = 6
#: Columns of the plotted table that labels may not use (they hold coordinates and text).
_RESERVED = ("x", "y", "sentence")


def _layouts(layouts: object) -> dict[str, np.ndarray]:
    """``{title: (n, 2) array}`` from a mapping, or a single unnamed layout."""
    from course_utils.plots.scatter import _validate_xy

    if not isinstance(layouts, Mapping):
        layouts = {"UMAP layout": layouts}
    if not layouts:
        raise ValueError("layouts is empty; pass e.g. {'pretrained': xy} from "
                         "cu.plots.project_2d(...) or cu.plots.shared_layouts(...).")
    checked = {str(title): _validate_xy(xy) for title, xy in layouts.items()}
    sizes = {title: len(xy) for title, xy in checked.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"every layout must hold the same sentences in the same order; got "
                         f"{sizes} points.")
    return checked


def _label_sets(labels: object, n_points: int) -> dict[str, list[str]]:
    """``{name: one label per point}`` from a DataFrame or a dict of sequences."""
    from course_utils.plots.training import _validate_label_sets

    if isinstance(labels, pd.DataFrame):
        labels = {column: labels[column] for column in labels.columns}
    checked = _validate_label_sets(labels, n_points)
    clash = [name for name in checked if name in _RESERVED]
    if clash:
        raise ValueError(f"label names {clash} are used for the plot itself; rename them "
                         f"(reserved: {list(_RESERVED)}).")
    return checked


def _readout_html(point: dict[str, str] | None, selected: Sequence[int],
                  label_sets: Mapping[str, Sequence[str]]) -> str:
    """The line under the plots: the hovered sentence and a count of the selection's labels."""
    if point is None:
        parts = [f"<i>{html.escape(HINT)}</i>"]
    else:
        tags = " &middot; ".join(f"{html.escape(name)}: <b>{html.escape(point[name])}</b>"
                                 for name in label_sets)
        parts = [f"<b>&ldquo;{html.escape(point['sentence'])}&rdquo;</b><br>{tags}"]
    if selected:
        counts = []
        for name, values in label_sets.items():
            tally = Counter(values[row] for row in selected).most_common()
            counts.append(f"{html.escape(name)}: " + ", ".join(
                f"{count} {html.escape(label)}" for label, count in tally))
        parts.append(f"<b>{len(selected)} selected</b> &mdash; " + "; ".join(counts))
    return '<div class="course-hover-readout">' + "<br>".join(parts) + "</div>"


def _title_html(title: str, colours: Mapping[str, str]) -> str:
    """A view's title with its colour key under it (jupyter-scatter's own legend is drawn over
    the points, where it hid a cluster at projector size)."""
    key = " ".join(f'<span style="white-space:nowrap"><span style="color:{colour}">&#9679;</span>'
                   f"&nbsp;{html.escape(label)}</span>" for label, colour in colours.items())
    return (f'<span style="display:block;text-align:center">{html.escape(title)}<br>'
            f'<span style="font-weight:normal">{key}</span></span>')


def hover_scatter(layouts: Mapping[str, Any] | Any, texts: Sequence[str],
                  labels: pd.DataFrame | Mapping[str, Sequence[str]], *,
                  color_by: str | Sequence[str] | None = None, height: int = 340,
                  point_size: float = 5.0) -> Any:
    """Linked interactive scatters of one or more 2-D layouts of the same sentences.

    Args:
        layouts: ``{title: (n, 2) array}``, one view per entry in that order, or one (n, 2) array.
        texts: the n sentences, in the layouts' row order.
        labels: a DataFrame or a dict ``{name: labels}``; every label set is shown on hover.
        color_by: the label set that colours the points (default: the first), or one name
            per view.
        height: pixels per view row, including its title.

    Returns:
        An ``ipywidgets.VBox`` with ``views`` (``jscatter.Scatter`` objects), ``readout``,
        ``state`` (``hovered`` row or None, ``selected`` rows) and ``point(row)``, what hovering
        ``row`` shows.
    """
    import ipywidgets as widgets

    views_xy = _layouts(layouts)
    n_points = len(next(iter(views_xy.values())))
    texts = validate_texts(texts)
    if len(texts) != n_points:
        raise ValueError(f"texts has {len(texts)} entries for {n_points} points; pass the "
                         "sentences in the layouts' row order.")
    label_sets = _label_sets(labels, n_points)
    names = list(label_sets)
    colour_names = _colour_names(color_by, names, len(views_xy))
    views, grid = _linked_views(views_xy, texts, label_sets, colour_names, height, point_size)
    readout = widgets.HTML(_readout_html(None, [], label_sets))
    state: dict[str, Any] = {"hovered": None, "selected": []}

    def point(row: int) -> dict[str, str]:
        """What hovering ``row`` shows: its sentence and each of its labels."""
        if _row_or_none(row, n_points) is None:
            raise IndexError(f"row must be a point number from 0 to {n_points - 1}, got {row!r}.")
        row = int(row)
        return {"sentence": texts[row], **{name: label_sets[name][row] for name in names}}

    def follow(change: dict) -> None:
        """Keep ``state`` and the readout on the row under the mouse and the selected rows;
        a row the views do not have (none hovered, a stale selection) is ignored."""
        if change["name"] == "hovering":
            state["hovered"] = _row_or_none(change["new"], n_points)
        else:
            given = [] if change["new"] is None else change["new"]
            rows = [_row_or_none(row, n_points) for row in given]
            state["selected"] = [row for row in rows if row is not None]
        shown = None if state["hovered"] is None else point(state["hovered"])
        readout.value = _readout_html(shown, state["selected"], label_sets)

    for scatter in views:
        scatter.widget.observe(follow, names=["hovering", "selection"])
    box = widgets.VBox([grid, readout])
    box.add_class("course-hover-scatter")
    box.views, box.readout, box.state, box.point = views, readout, state, point
    return box


def _row_or_none(row: Any, n_points: int) -> int | None:
    """``row`` as a point number, or None when it is not one (None, -1 for "nothing hovered",
    past the end)."""
    try:
        number = int(row)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < n_points and number == row else None


def _colour_names(color_by: str | Sequence[str] | None, names: list[str],
                  n_views: int) -> list[str]:
    """The label set that colours each view: ``color_by`` for all, or one name per view."""
    if color_by is None or isinstance(color_by, str):
        colour_names = [color_by or names[0]] * n_views
    else:
        colour_names = [str(name) for name in color_by]
        if len(colour_names) != n_views:
            raise ValueError(f"color_by names {len(colour_names)} label sets for "
                             f"{n_views} views; give one per view or a single name.")
    unknown = sorted(set(colour_names) - set(names))
    if unknown:
        raise ValueError(f"color_by {unknown} is not a label set; choose from {names}.")
    return colour_names


def _linked_views(views_xy: dict[str, np.ndarray], texts: list[str],
                  label_sets: dict[str, list[str]], colour_names: list[str], height: int,
                  point_size: float) -> tuple[list[Any], Any]:
    """One ``jscatter.Scatter`` per layout, and the grid that links their hover and selection."""
    try:
        import jscatter
    except ImportError:  # pragma: no cover - the course pins it
        raise ImportError("hover_scatter needs jupyter-scatter: run `make setup` (or "
                          "`pip install -e .`) in the course folder, then restart.") from None
    from course_utils.plots.scatter import label_colours

    # Categories in the order of the course's colours (label_colours: topics as in the data card,
    # then positive, negative), and each colour map in that same order: jupyter-scatter pairs
    # legend entries with colours by position, so any other order mislabels the legend.
    colour_maps = {name: label_colours(values) for name, values in label_sets.items()}
    table = pd.DataFrame({"sentence": texts})
    for name, values in label_sets.items():
        table[name] = pd.Categorical(values, categories=list(colour_maps[name]))

    views = []
    for (title, xy), colour in zip(views_xy.items(), colour_names, strict=True):
        data = table.assign(x=xy[:, 0], y=xy[:, 1])
        scatter = jscatter.Scatter(data=data, x="x", y="y", axes=False, size=point_size,
                                   color_by=colour, color_map=colour_maps[colour])
        scatter.tooltip(True, properties=list(label_sets), histograms=False,
                        preview="sentence", preview_type="text", size="medium")
        # jupyter-scatter 1.0.1's tooltip(preview_text_lines=...) never reaches the widget (it
        # stores the value under another name), so the widget's trait is set directly.
        scatter.widget.tooltip_preview_text_lines = TOOLTIP_LINES
        views.append((scatter, _title_html(title, colour_maps[colour])))
    grid = jscatter.compose(views, sync_selection=True, sync_hover=True, row_height=height)
    # compose() fixes the row at ``height`` px for a one-line title; ours is two lines (title and
    # colour key), so the row takes its content's height (else a view scrolls inside its cell).
    grid.layout.grid_template_rows = "auto"
    return [scatter for scatter, _title in views], grid
