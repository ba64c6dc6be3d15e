"""Plots of the studies: the break-even search, robustness's tornado, sensitivity indices, and
the decision under uncertainty (probability of being best, its curve against the assumption
worth most to know, and the value of information).

The studies themselves (:mod:`relsim.experiment.breakeven`, :mod:`relsim.experiment.robustness`,
:mod:`relsim.experiment.sensitivity`) compute and store; they never import matplotlib or this
package. Every plot takes an optional ``ax`` (:func:`relsim.viz.axes.axes_or_new`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from relsim.viz.axes import PALETTE, axes_or_new, legend_outside, money_axis

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment.breakeven import BreakEven
    from relsim.experiment.robustness import Robustness
    from relsim.experiment.sensitivity import Sensitivity
    from relsim.experiment.voi import Voi


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


def plot_probability_best(voi: Voi, ax: Any = None) -> Any:
    """Each strategy's probability of being best over the assumptions (bars, simulation noise
    removed, with 95% bootstrap intervals) and before removing the noise (dots)."""
    ax = axes_or_new(ax)
    table = voi.strategies
    x = np.arange(len(table))
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(table))]
    errors = np.vstack(
        [table["p_best"] - table["p_best_low"], table["p_best_high"] - table["p_best"]]
    ).clip(min=0)
    ax.bar(x, table["p_best"], color=colours, alpha=0.85, label="noise removed")
    ax.errorbar(x, table["p_best"], yerr=errors, fmt="none", ecolor="black", capsize=3)
    ax.plot(x, table["p_best_simulated"], "o", color="black", label="as simulated")
    ax.set_xticks(x, table["strategy"], rotation=20, ha="right")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(_percent())
    ax.set_ylabel("probability of being best")
    ax.set_title(
        f"Best over {voi.samples} draws of the assumptions (bars: 95% bootstrap interval)",
        fontsize="medium",
    )
    legend_outside(ax)
    return ax


def plot_best_curve(voi: Voi, ax: Any = None) -> Any:
    """The probability-best curve: P(each strategy is best) against the value of the
    assumption worth most to know, the rest of the uncertainty averaged over."""
    ax = axes_or_new(ax)
    curve = voi.curve
    name = curve.attrs.get("assumption") if not curve.empty else None
    if not name:
        ax.text(0.5, 0.5, "no assumption to draw against", ha="center", transform=ax.transAxes)
        return ax
    for i, strategy in enumerate(c for c in curve.columns if c != "value"):
        ax.plot(curve["value"], curve[strategy], color=PALETTE[i % len(PALETTE)], label=strategy)
    ax.plot(curve["value"], np.zeros(len(curve)) - 0.02, "|", color="grey", label="draws")
    ax.set_ylim(-0.05, 1.02)
    ax.yaxis.set_major_formatter(_percent())
    ax.set_xlabel(name)
    ax.set_ylabel("probability of being best")
    ax.set_title(f"Which strategy is best, by the value of {name}", fontsize="medium")
    legend_outside(ax)
    return ax


def plot_evppi(voi: Voi, unit: str = "currency units", top: int = 15, ax: Any = None) -> Any:
    """EVPPI of the assumptions and groups worth most to know (bars with 95% bootstrap
    intervals), EVPI (line and band) and, on each bar, the floor of an assumption (or a group
    of that size) that cannot matter."""
    ax = axes_or_new(ax)
    table = voi.evppi.dropna(subset=["evppi"])
    shown = table.sort_values("evppi", ascending=False).head(top).iloc[::-1]
    if shown.empty:
        ax.text(0.5, 0.5, "no value of information estimated", ha="center", transform=ax.transAxes)
        return ax
    y = np.arange(len(shown))
    colours = ["C2" if k == "group" else "C0" for k in shown["kind"]]
    errors = np.vstack([shown["evppi"] - shown["low"], shown["high"] - shown["evppi"]]).clip(min=0)
    ax.barh(y, shown["evppi"], color=colours, alpha=0.85)
    ax.errorbar(shown["evppi"], y, xerr=errors, fmt="none", ecolor="black", capsize=2)
    evpi = voi.evpi
    ax.axvline(evpi["estimate"], color="C3", linewidth=1.2, label="EVPI (every assumption)")
    ax.axvspan(evpi["low"], evpi["high"], color="C3", alpha=0.1, linewidth=0, zorder=0)
    ax.plot(shown["floor"], y, "D", color="dimgrey", markersize=4, label="floor: cannot matter")
    ax.set_yticks(
        y,
        [
            f"{n} ({s})" if k == "group" else n
            for n, k, s in zip(shown["name"], shown["kind"], shown["size"], strict=True)
        ],
        fontsize="x-small",
    )
    ax.set_xlim(left=0)
    money_axis(ax, "expected value of perfect information", unit, axis="x")
    ax.set_title("What knowing each assumption exactly would be worth", fontsize="medium")
    from matplotlib.patches import Patch

    handles = ax.get_legend_handles_labels()[0]
    handles += [
        Patch(color="C0", alpha=0.85, label="one assumption"),
        Patch(color="C2", alpha=0.85, label="group (members)"),
    ]
    legend_outside(ax, handles=handles)
    return ax


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)


__all__ = [
    "plot_best_curve",
    "plot_breakeven",
    "plot_evppi",
    "plot_probability_best",
    "plot_sensitivity",
    "plot_tornado",
]
