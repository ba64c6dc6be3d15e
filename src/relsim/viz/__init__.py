"""Plots of experiments (matplotlib, imported only when a plot is drawn).

:func:`axes_or_new` is the public helper every plot uses for its optional ``ax``; a new plot
(here or in a study) calls it too. The studies' plots (break-even, robustness's tornado,
sensitivity indices) are in :mod:`relsim.viz.study_plots`.
"""

from relsim.viz.axes import axes_or_new
from relsim.viz.plots import (
    plot_costs,
    plot_cumulative_difference,
    plot_defection_reasons,
    plot_differences,
    plot_ladder_mix,
    plot_market_share,
    plot_metric,
    plot_retention,
    plot_survival,
    plot_utilisation,
    save_all,
)
from relsim.viz.study_plots import plot_breakeven, plot_sensitivity, plot_tornado

__all__ = [
    "axes_or_new",
    "plot_breakeven",
    "plot_costs",
    "plot_cumulative_difference",
    "plot_defection_reasons",
    "plot_differences",
    "plot_ladder_mix",
    "plot_market_share",
    "plot_metric",
    "plot_retention",
    "plot_sensitivity",
    "plot_survival",
    "plot_tornado",
    "plot_utilisation",
    "save_all",
]
