"""Where every relsim plot draws, and how it reads: the axes it was given or a new figure's,
legends outside the data, money axes in thousands or millions of the currency, distinct
colours.

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


PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#000075",
    "#aaffc3",
)
"""Twelve distinct colours: matplotlib's ten, then navy and mint; a plot with more series
groups the smallest (see :func:`relsim.viz.mix_plots.plot_costs`)."""


def legend_outside(ax: Axes, **options: object) -> None:
    """The legend to the right of the data, never over it (saved figures are cropped to fit
    it: ``bbox_inches="tight"``)."""
    handles, labels = ax.get_legend_handles_labels()
    if "handles" in options:
        handles = list(options.pop("handles"))  # type: ignore[call-overload]
        labels = [h.get_label() for h in handles]
    if not handles:
        return
    ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
        fontsize="small",
        frameon=False,
        **options,  # type: ignore[arg-type]
    )


def money_axis(ax: Axes, label: str, unit: str, axis: str = "y") -> None:
    """Ticks in thousands or millions of ``unit``, said in the axis label (``label,
    million EUR``)."""
    from matplotlib.ticker import FuncFormatter

    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    top = max(abs(low), abs(high))
    scale, word = (1e6, "million ") if top >= 2e6 else (1e3, "thousand ") if top >= 2e4 else (1, "")
    digits = 1 if scale > 1 and top / scale < 20 else 0
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v / scale:,.{digits}f}"))
    (ax.set_ylabel if axis == "y" else ax.set_xlabel)(f"{label}, {word}{unit}")


def share_axis(ax: Axes, label: str) -> None:
    """Ticks as percentages."""
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    ax.set_ylabel(label)
