"""Plots of the studies: the break-even search, robustness's tornado, sensitivity indices.

The studies themselves (:mod:`relsim.experiment.breakeven`, :mod:`relsim.experiment.robustness`,
:mod:`relsim.experiment.sensitivity`) compute and store; they never import matplotlib or this
package. Every plot takes an optional ``ax`` (:func:`relsim.viz.axes.axes_or_new`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from relsim.viz.axes import axes_or_new

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment.breakeven import BreakEven
    from relsim.experiment.robustness import Robustness
    from relsim.experiment.sensitivity import Sensitivity


def plot_breakeven(result: BreakEven, ax: Any = None) -> Any:
    """The paired difference against the field with its 95% interval, the crossing and its
    interval shaded."""
    ax = axes_or_new(ax)
    table = result.evaluations
    ax.plot(table["value"], table["difference"], marker="o", markersize=3, color="C0")
    ax.fill_between(
        table["value"],
        table["difference_low"],
        table["difference_high"],
        color="C0",
        alpha=0.2,
        linewidth=0,
    )
    ax.axhline(0.0, color="black", linewidth=0.8)
    if result.crossing is not None:
        ax.axvline(result.crossing, color="C3", linestyle="--", linewidth=1)
        left = result.low if result.ci_low is None else result.ci_low
        right = result.high if result.ci_high is None else result.ci_high
        ax.axvspan(left, right, color="C3", alpha=0.1, linewidth=0)
    ax.set_xlabel(result.path)
    ax.set_ylabel(f"{result.metric}: {result.a} - {result.b}")
    title = f"break-even at {result.crossing:.4g}" if result.crossing is not None else "no crossing"
    ax.set_title(title, fontsize="medium")
    return ax


def plot_tornado(result: Robustness, top: int = 15, ax: Any = None) -> Any:
    """The recommended strategy's advantage over the runner-up at each assumption's low and
    high end, the widest swings first; red where the recommendation changes."""
    ax = axes_or_new(ax)
    table = result.table
    if table.empty:
        ax.text(0.5, 0.5, "no assumption varied", ha="center", transform=ax.transAxes)
        return ax
    spans = table.groupby("assumption").agg(
        low=("advantage", "min"), high=("advantage", "max"), changes=("changes", "any")
    )
    spans["swing"] = spans["high"] - spans["low"]
    spans = spans.sort_values("swing", ascending=False).head(top).iloc[::-1]
    y = np.arange(len(spans))
    colours = ["C3" if c else "C0" for c in spans["changes"]]
    ax.barh(y, spans["high"] - spans["low"], left=spans["low"], color=colours, alpha=0.8)
    ax.axvline(result.base_advantage, color="black", linewidth=1, label="base run")
    ax.axvline(0.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_yticks(y, spans.index, fontsize="x-small")
    ax.set_xlabel(f"{result.metric}: {result.recommended} - {result.runner_up}")
    ax.set_title(
        "Each assumption at the ends of its range (red: another strategy wins at one end)",
        fontsize="medium",
    )
    ax.legend(fontsize="x-small")
    return ax


def plot_sensitivity(result: Sensitivity, ax: Any = None) -> Any:
    """Bar chart of the indices with their 95% intervals: Morris mu_star (bars) and sigma
    (dots); Sobol S1 and ST side by side."""
    ax = axes_or_new(ax)
    table = result.indices
    y = np.arange(len(table))
    if result.method == "morris":
        ax.barh(y, table["mu_star"], xerr=table["mu_star_conf"], color="C0", alpha=0.8, label="μ*")
        ax.plot(table["sigma"], y, "o", color="C3", label="σ (interaction / non-linearity)")
        ax.set_xlabel(f"elementary effect on {result.label} (whole range)")
    else:
        ax.barh(y - 0.2, table["S1"], height=0.4, xerr=table["S1_conf"], label="S1 (alone)")
        ax.barh(y + 0.2, table["ST"], height=0.4, xerr=table["ST_conf"], label="ST (total)")
        ax.set_xlabel(f"share of the variance of {result.label}")
        ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(y, table["field"])
    ax.invert_yaxis()
    ax.legend(fontsize="small")
    ax.set_title(f"{result.method.capitalize()} sensitivity", fontsize="medium")
    return ax


__all__ = ["plot_breakeven", "plot_sensitivity", "plot_tornado"]
