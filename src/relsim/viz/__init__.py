"""Plots of experiments (matplotlib, imported only when a plot is drawn)."""

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

__all__ = [
    "plot_costs",
    "plot_cumulative_difference",
    "plot_defection_reasons",
    "plot_differences",
    "plot_ladder_mix",
    "plot_market_share",
    "plot_metric",
    "plot_retention",
    "plot_survival",
    "plot_utilisation",
    "save_all",
]
