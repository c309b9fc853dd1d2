"""Figures for fine-tuning (notebook 05): the same points before and after, and over steps.

Layouts share one frame (the "after" projection starts from "before" and is aligned onto it),
so a point keeps its place unless training changed its neighbourhood; :func:`timeline_grid` is
for readers of the HTML export, who cannot drag the slider. See docs/training.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from course_utils.plots.zoom import zoom_insets
from course_utils.validation import validate_non_empty_dict, validate_whole_number

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "align_layout",
    "set_frame",
    "before_after_grid",
    "layout_strip",
    "loss_curve",
    "pick_steps",
    "shared_layouts",
    "timeline_grid",
    "timeline_layouts",
]


def _validate_label_sets(labels: object, n_points: int) -> dict[str, list[str]]:
    validate_non_empty_dict(labels, "labels", "{name: labels}",
                            "{'topic': test['topic'], 'sentiment': test['sentiment']}")
    checked = {}
    for name, values in labels.items():
        if isinstance(values, str) or not hasattr(values, "__len__"):
            raise TypeError(f"labels[{name!r}] must be a sequence of labels, got {values!r}.")
        values = [str(v) for v in (values.to_numpy() if hasattr(values, "to_numpy") else values)]
        if len(values) != n_points:
            raise ValueError(
                f"labels[{name!r}] has {len(values)} entries for {n_points} points; they must "
                "match one to one (the evaluation texts, in order)."
            )
        checked[str(name)] = values
    return checked


def _snapshot_parts(snapshots: object) -> tuple[list[int], list[np.ndarray]]:
    """Steps and embeddings from Snapshot objects, (step, embeddings) pairs or a dict."""
    from course_utils.embedding import validate_embeddings

    if isinstance(snapshots, Mapping):
        items = list(snapshots.items())
    elif isinstance(snapshots, Sequence) and not isinstance(snapshots, str):
        items = [(s.step, s.embeddings) if hasattr(s, "embeddings") else tuple(s)
                 for s in snapshots]
    else:
        raise TypeError(
            "snapshots must be the list TrainingResult.snapshots (or (step, embeddings) pairs), "
            f"got {type(snapshots).__name__}."
        )
    if not items:
        raise ValueError("snapshots is empty; train with eval_texts=... to record some.")
    steps = [int(step) for step, _ in items]
    if steps != sorted(set(steps)):
        raise ValueError(f"snapshot steps must be increasing and distinct, got {steps}.")
    arrays = [validate_embeddings(emb, name=f"snapshot at step {step}") for step, emb in items]
    if len({a.shape for a in arrays}) != 1:
        raise ValueError("every snapshot must embed the same texts (same shape).")
    return steps, arrays


def align_layout(layout: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Rotate, scale and shift ``layout`` (n, 2) to best match ``reference`` (n, 2): orthogonal
    Procrustes without mirroring, same size and centre, so who is near whom is unchanged."""
    layout = np.asarray(layout, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if layout.shape != reference.shape or layout.ndim != 2 or layout.shape[1] != 2:
        raise ValueError(
            f"layout {layout.shape} and reference {reference.shape} must both be (n, 2) "
            "layouts of the same points."
        )
    source = layout - layout.mean(axis=0)
    target = reference - reference.mean(axis=0)
    u, _, vt = np.linalg.svd(source.T @ target)
    if np.linalg.det(u @ vt) < 0:  # a mirror image would flip the picture: forbid it
        u[:, -1] *= -1
    rotated = source @ (u @ vt)
    # Match the reference's overall size. (The least-squares scale would shrink a layout that
    # truly changed towards a dot, and a chain of such steps would vanish.)
    scale = float(np.linalg.norm(target) / max(np.linalg.norm(rotated), 1e-12))
    return (scale * rotated + reference.mean(axis=0)).astype(np.float32)


def shared_layouts(before: np.ndarray, after: np.ndarray, *, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """UMAP layouts (n, 2) of the same texts before and after training, in one frame.

    "after" starts from the "before" layout and is aligned onto it (:func:`align_layout`). UMAP is
    stochastic (a seed makes it repeatable, not exact): read large moves, and measure with numbers.
    """
    from course_utils.embedding import validate_embeddings
    from course_utils.plots.projection import project_2d

    before = validate_embeddings(before, name="before")
    after = validate_embeddings(after, name="after")
    if before.shape[0] != after.shape[0]:
        raise ValueError(
            f"before has {before.shape[0]} rows and after {after.shape[0]}; embed the same "
            "texts (same order) with both models."
        )
    before_xy = project_2d(before, seed=seed)
    after_xy = align_layout(project_2d(after, seed=seed, init=before_xy), before_xy)
    return before_xy, after_xy


def timeline_layouts(snapshots: object, *, seed: int = 0) -> list[np.ndarray]:
    """One (n, 2) layout per snapshot; each starts from the previous one so points move
    smoothly between steps. Layouts are cached on disk by ``project_2d``."""
    from course_utils.plots.projection import project_2d

    _, arrays = _snapshot_parts(snapshots)
    layouts = [project_2d(arrays[0], seed=seed)]
    for array in arrays[1:]:
        layouts.append(align_layout(project_2d(array, seed=seed, init=layouts[-1]),
                                    layouts[-1]))
    return layouts


def _limits(layouts: Sequence[np.ndarray], pad: float = 0.05) -> tuple[tuple, tuple]:
    """Square x and y limits that contain every layout (one frame for all panels)."""
    stacked = np.vstack(layouts)
    low, high = stacked.min(axis=0), stacked.max(axis=0)
    centre, half = (low + high) / 2, (high - low).max() * (0.5 + pad)
    return (centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half)


def set_frame(axes: Sequence[Axes], limits: tuple[tuple, tuple]) -> None:
    """Give every panel the same square frame, so positions are comparable across panels."""
    for ax in axes:
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])


def _validate_layout(xy: object, name: str) -> np.ndarray:
    try:
        array = np.asarray(xy, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an (n, 2) array, got {type(xy).__name__}.") from None
    if array.ndim != 2 or array.shape[1] != 2 or not len(array) or not np.isfinite(array).all():
        raise ValueError(
            f"{name} must be a finite (n, 2) layout from shared_layouts(); got shape {array.shape}."
        )
    return array


def _validate_track(track: object, n_points: int) -> list[int]:
    if track is None:
        return []
    try:
        indices = [int(i) for i in track]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise TypeError(f"track must be a list of point indices, got {track!r}.") from None
    bad = [i for i in indices if not 0 <= i < n_points]
    if bad:
        raise ValueError(f"track indices {bad} are outside 0..{n_points - 1}.")
    return indices


def _mark_tracked(ax: Axes, layout: np.ndarray, track: Sequence[int]) -> None:
    """Ring and number the tracked points, so the eye can follow them between panels."""
    for number, index in enumerate(track, start=1):
        x, y = layout[index]
        ax.scatter([x], [y], s=110, facecolors="none", edgecolors="black", linewidths=1.4,
                   zorder=5)
        ax.annotate(str(number), (x, y), xytext=(5, 5), textcoords="offset points",
                    fontsize="small", fontweight="bold", zorder=6,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.8})


def _draw_grid(layouts: Sequence[np.ndarray], row_titles: Sequence[str],
               labels: dict[str, list[str]], *, axes_size: float, by_row: bool,
               suptitle: str | None, track: Sequence[int] = (),
               fontsize: float | None = None) -> Figure:
    """Panels for layouts x label sets. ``by_row``: layouts are rows (else columns);
    ``fontsize``: titles and legends in points (default: the course style's sizes)."""
    import matplotlib.pyplot as plt

    from course_utils.plots.scatter import scatter_by_label

    n_layouts, n_labels = len(layouts), len(labels)
    shape = (n_layouts, n_labels) if by_row else (n_labels, n_layouts)
    fig, axes = plt.subplots(*shape, figsize=(axes_size * shape[1], axes_size * shape[0] + 0.9),
                             layout="constrained", squeeze=False)
    for i, (layout, title) in enumerate(zip(layouts, row_titles, strict=True)):
        for j, (name, values) in enumerate(labels.items()):
            ax = axes[i, j] if by_row else axes[j, i]
            scatter_by_label(layout, values, ax=ax, legend=False)
            _mark_tracked(ax, layout, track)
            if by_row:
                if i == 0:
                    ax.set_title(f"coloured by {name}", fontsize=fontsize)
                if j == 0:
                    ax.set_ylabel(title, fontsize=fontsize or "large", fontweight="bold")
            else:
                if j == 0:
                    ax.set_title(title)
                if i == 0:
                    ax.set_ylabel(f"coloured by {name}", fontsize="medium")
            if i == n_layouts - 1:  # legends once: under the last row / right of the last column
                _legend_beside(ax, values, by_row=by_row, fontsize=fontsize)
    if suptitle:
        fig.suptitle(suptitle, fontweight="bold", fontsize=fontsize)
    return fig


def _legend_beside(ax: Axes, values: Sequence[str], *, by_row: bool,
                   fontsize: float | None = None) -> None:
    """A legend below (grid of rows) or to the right (small multiples) of ``ax``."""
    from matplotlib.lines import Line2D

    from course_utils.plots.scatter import label_colours

    handles = [Line2D([], [], marker="o", linestyle="", markersize=6, color=colour, label=label)
               for label, colour in label_colours(values).items()]
    if by_row:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02),
                  ncol=min(len(handles), 3 if fontsize is None else 2),  # big text: narrower
                  fontsize=fontsize or "small", handletextpad=0.2, columnspacing=0.8)
    else:
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5),
                  fontsize="small", handletextpad=0.2, frameon=False)


def before_after_grid(before_xy: np.ndarray, after_xy: np.ndarray,
                      labels: Mapping[str, Sequence], *,
                      row_titles: tuple[str, str] = ("before training", "after training"),
                      suptitle: str | None = None, axes_size: float = 3.6,
                      track: Sequence[int] = (), fontsize: float | None = None,
                      zoom: str | None = None, arrangement: str = "grid") -> Figure:
    """The 2 x len(labels) grid: rows before / after, one column per label set; with
    ``arrangement="row"`` one row instead, before and after side by side for each label set
    (wide and low: what a 16:10 slide has room for).

    Args:
        before_xy, after_xy: (n, 2) layouts of the same texts, e.g. from :func:`shared_layouts`.
        labels: ``{"topic": test.topic, "sentiment": test.sentiment}``, one column each.
        axes_size: inches per panel.
        track: indices of a few points to ring and number in every panel.
        fontsize: titles and legends of the grid in points (e.g. 14 for a slide; default: the
            style's).
        zoom: a key of ``labels``: every "after" panel gets one inset per group of that label
            (at most two), magnified to the group's own extent - when training packs each
            group tight, the shared frame draws it as one dot and hides the spread left inside.
    """
    before_xy = _validate_layout(before_xy, "before_xy")
    after_xy = _validate_layout(after_xy, "after_xy")
    if before_xy.shape != after_xy.shape:
        raise ValueError(
            f"before_xy {before_xy.shape} and after_xy {after_xy.shape} must lay out the same "
            "points."
        )
    checked = _validate_label_sets(labels, len(before_xy))
    if zoom is not None and zoom not in checked:
        raise ValueError(f"zoom must be one of the label sets {list(checked)}, got {zoom!r}.")
    track = _validate_track(track, len(before_xy))
    if arrangement == "row":
        fig = _draw_row(before_xy, after_xy, list(row_titles), checked, axes_size=axes_size,
                        suptitle=suptitle, track=track)
        panels = [ax for ax in fig.axes if ax.collections]
        after_axes = panels[1::2]
    elif arrangement == "grid":
        fig = _draw_grid([before_xy, after_xy], list(row_titles), checked, axes_size=axes_size,
                         by_row=True, suptitle=suptitle, track=track, fontsize=fontsize)
        panels = [ax for ax in fig.axes if ax.collections]
        after_axes = panels[len(checked):]
    else:
        raise ValueError(f"arrangement must be 'grid' or 'row', got {arrangement!r}.")
    set_frame(panels, _limits([before_xy, after_xy]))
    if zoom is not None:
        for ax, values in zip(after_axes, checked.values(), strict=True):
            zoom_insets(ax, after_xy, values, checked[zoom])
    return fig


def _draw_row(before_xy: np.ndarray, after_xy: np.ndarray, titles: list[str],
              labels: dict[str, list[str]], *, axes_size: float, suptitle: str | None,
              track: Sequence[int]) -> Figure:
    """One row: for each label set, its before and after panels side by side, one legend
    centred under the pair (12 pt: >= 14 px when a slide shrinks the figure a little)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from course_utils.plots.scatter import label_colours, scatter_by_label

    fig = plt.figure(figsize=(axes_size * 2 * len(labels), axes_size + 1.3), layout="constrained")
    for sub, (name, values) in zip(np.atleast_1d(fig.subfigures(1, len(labels))),
                                   labels.items(), strict=True):
        axes = sub.subplots(1, 2)
        for ax, layout, title in zip(axes, (before_xy, after_xy), titles, strict=True):
            scatter_by_label(layout, values, ax=ax, legend=False)
            _mark_tracked(ax, layout, track)
            ax.set_title(f"{title}\ncoloured by {name}", fontsize=12)
        handles = [Line2D([], [], marker="o", linestyle="", markersize=8, color=colour,
                          label=label) for label, colour in label_colours(values).items()]
        sub.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 3),
                   fontsize=12, handletextpad=0.2, columnspacing=0.8)
    if suptitle:  # constrained layout leaves no room for it above subfigures: make some
        fig.get_layout_engine().set(rect=(0, 0, 1, 1 - 0.35 / fig.get_size_inches()[1]))
        fig.suptitle(suptitle, fontweight="bold", fontsize=13)
    return fig


def layout_strip(layouts: Mapping[str, np.ndarray], labels: Mapping[str, Sequence], *,
                 suptitle: str | None = None, axes_size: float = 3.0,
                 fontsize: float = 14) -> Figure:
    """One row of panels for a wide slide: for each label set, one panel per layout (e.g.
    pretrained, then trained), all in one frame, with the label set's legend under its panels.

    ``layouts``: {title: (n, 2) layout} of the same texts; ``labels``: {name: labels}.
    """
    import matplotlib.pyplot as plt

    from course_utils.plots.scatter import scatter_by_label

    if not isinstance(layouts, Mapping) or not layouts:
        raise TypeError("layouts must be a non-empty dict {title: (n, 2) layout}.")
    checked_layouts = {title: _validate_layout(xy, f"layouts[{title!r}]")
                       for title, xy in layouts.items()}
    n_points = len(next(iter(checked_layouts.values())))
    if any(len(xy) != n_points for xy in checked_layouts.values()):
        raise ValueError("every layout must place the same points (the same number of rows).")
    checked = _validate_label_sets(labels, n_points)
    n_panels = len(checked_layouts) * len(checked)
    fig, axes = plt.subplots(1, n_panels, figsize=(axes_size * n_panels, axes_size + 1.4),
                             layout="constrained", squeeze=False)
    panels = iter(axes[0])
    for name, values in checked.items():
        for k, (title, xy) in enumerate(checked_layouts.items()):
            ax = next(panels)
            scatter_by_label(xy, values, ax=ax, legend=False)
            ax.set_title(f"{title}\ncoloured by {name}", fontsize=fontsize)
            if k == 0:
                _legend_beside(ax, values, by_row=True, fontsize=fontsize)
    set_frame(list(axes[0]), _limits(list(checked_layouts.values())))
    if suptitle:
        fig.suptitle(suptitle, fontweight="bold", fontsize=fontsize)
    return fig


def pick_steps(steps: Sequence[int], n: int = 5) -> list[int]:
    """``n`` steps spread evenly over ``steps`` (always the first and the last)."""
    steps = list(steps)
    validate_whole_number(n, "n")
    if len(steps) <= n:
        return steps
    positions = np.linspace(0, len(steps) - 1, n).round().astype(int)
    return [steps[i] for i in sorted(set(positions.tolist()))]


def timeline_grid(snapshots: object, labels: Mapping[str, Sequence], *,
                  layouts: Sequence[np.ndarray] | None = None, steps: Sequence[int] | None = None,
                  n_steps: int = 5, seed: int = 0, axes_size: float = 2.6,
                  suptitle: str | None = None, track: Sequence[int] = ()) -> Figure:
    """Small multiples of the timeline: one column per step, one row per label set.

    ``layouts``: from :func:`timeline_layouts` (computed if not given); ``steps``: default
    ``n_steps`` spread from first to last; ``track``: points to ring and number.
    """
    all_steps, arrays = _snapshot_parts(snapshots)
    checked = _validate_label_sets(labels, len(arrays[0]))
    layouts = timeline_layouts(snapshots, seed=seed) if layouts is None else list(layouts)
    if len(layouts) != len(all_steps):
        raise ValueError(f"{len(layouts)} layouts for {len(all_steps)} snapshots; they must match.")
    chosen = pick_steps(all_steps, n_steps) if steps is None else [int(s) for s in steps]
    unknown = [s for s in chosen if s not in all_steps]
    if unknown:
        raise ValueError(f"step(s) {unknown} have no snapshot; available: {all_steps}.")
    picked = [layouts[all_steps.index(s)] for s in chosen]
    fig = _draw_grid(picked, [f"step {s}" for s in chosen], checked, axes_size=axes_size,
                     by_row=False, suptitle=suptitle, track=_validate_track(track, len(arrays[0])))
    set_frame([ax for ax in fig.axes if ax.collections], _limits(picked))
    return fig


def loss_curve(losses: Sequence[tuple[int, float]], *, snapshot_at: Sequence[int] = (),
               ax: Axes | None = None, margin: float | None = None) -> Axes:
    """Training loss per step (``TrainingResult.losses``); dotted lines mark snapshots. With
    ``margin``, a note says that a loss of 0 means every triplet in the batch is solved."""
    import matplotlib.pyplot as plt

    pairs = [(int(s), float(v)) for s, v in losses]
    if not pairs:
        raise ValueError("losses is empty; train first (TrainingResult.losses).")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 2.8), layout="constrained")
    steps, values = zip(*pairs, strict=True)
    ax.plot(steps, values, color="#0072B2", linewidth=1.5)
    for step in snapshot_at:
        ax.axvline(step, color="#999999", linestyle=":", linewidth=1)
    ax.set_xlabel("training step")
    ax.set_ylabel("triplet loss (batch mean)")
    ax.set_ylim(bottom=0)
    if margin is not None:
        ax.set_title(f"margin {margin:g}: loss 0 = every triplet in the batch is solved",
                     fontsize="medium")
    return ax
