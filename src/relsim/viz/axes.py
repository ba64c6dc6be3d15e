"""Where every relsim plot draws: the axes it was given, or a new figure's.

Plot functions (here, in :mod:`relsim.analysis` and :mod:`relsim.experiment`) take an optional
``ax`` so that plots compose into figures; this one helper gives them the same default figure.
matplotlib is imported only when a new figure is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

FIGURE_SIZE = (8, 4.5)
"""Inches of a plot drawn on its own figure."""


def axes_or_new(ax: Axes | None = None) -> Axes:
    """``ax`` itself, or the axes of a new figure of :data:`FIGURE_SIZE` when it is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=FIGURE_SIZE)[1]
