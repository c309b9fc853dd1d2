"""Helpers every kind of figure shares: :func:`figure_png` turns a figure into PNG bytes for an
``ipywidgets.Image`` (the slider in ``toy`` and the margin, temperature and timeline widgets)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["figure_png"]


def figure_png(fig: Figure, *, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (for an ``ipywidgets.Image``), and close it."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()
