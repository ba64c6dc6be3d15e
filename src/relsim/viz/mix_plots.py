"""Plots of how the focal firm's customers, costs and staff are made up, per strategy.

The ladder mix (customers by rung, one strategy or every strategy side by side), the costs by
kind (small kinds grouped as "other", one distinct colour per kind) and the staff pools'
utilisation. Re-exported by :mod:`relsim.viz.plots`; matplotlib is imported only when a plot
is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from relsim.domain import RUNGS
from relsim.model.economics import COST_KINDS
from relsim.viz.axes import PALETTE, axes_or_new, legend_outside, money_axis, share_axis
from relsim.viz.words import COST_LABELS, currency_of

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from relsim.experiment import Experiment

FOCAL = "focal firm"
SMALL_COST = 0.03
"""A cost kind under this share of every strategy's total costs is grouped as "other"."""
POOL_NAMES = {"desk": "service desk", "contact": "contact centre", "manager": "managers"}


def focal_rows(weekly: pd.DataFrame) -> pd.DataFrame:
    """The focal firm's rows of a weekly table (the focal firm is the first firm)."""
    first = (
        weekly["firm"].cat.categories[0]
        if hasattr(weekly["firm"], "cat")
        else weekly["firm"].iloc[0]
    )
    return weekly[weekly["firm"] == first]


def _mix(experiment: Experiment, strategy: str) -> pd.DataFrame:
    ladder = experiment.ladder
    first = ladder["firm"].iloc[0]
    ladder = ladder[
        (ladder["firm"] == first)
        & (ladder["strategy"] == strategy)
        & (ladder["rung"] != "prospect")
    ]
    mix = ladder.groupby(["week", "rung"], observed=True)["customers"].mean().unstack("rung")
    return mix[[r for r in RUNGS[1:] if r in mix.columns]]


def band(ax: Axes, frame: pd.DataFrame, column: str, label: str) -> None:
    """Mean over replications by week with a 95% CI band."""
    grouped = frame.groupby("week")[column]
    mean, sd, n = grouped.mean(), grouped.std(ddof=1), grouped.count()
    half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd.fillna(0.0) / np.sqrt(n)
    (line,) = ax.plot(mean.index, mean.to_numpy(), label=label.replace("_", " "))
    ax.fill_between(
        mean.index,
        (mean - half).to_numpy(),
        (mean + half).to_numpy(),
        color=line.get_color(),
        alpha=0.2,
        linewidth=0,
    )


def plot_ladder_mix(
    experiment: Experiment, strategy: str, ax: Axes | None = None, legend: bool = True
) -> Axes:
    """The focal firm's customers by rung of the loyalty ladder over time (stacked areas, mean
    over replications)."""
    ax = axes_or_new(ax)
    mix = _mix(experiment, strategy)
    colors = [PALETTE[i] for i in range(len(mix.columns))]
    ax.stackplot(mix.index, mix.to_numpy().T, labels=list(mix.columns), colors=colors, alpha=0.85)
    ax.set(xlabel="week", ylabel="customers", title=strategy.replace("_", " "))
    if legend:
        legend_outside(ax, reverse=True)
    return ax


def plot_ladder_grid(experiment: Experiment, fig: Figure) -> list[Axes]:
    """Every strategy's ladder mix side by side on ``fig`` (the baseline first, the same
    customer scale), with one legend for all."""
    order = [experiment.baseline] + [s for s in experiment.strategies if s != experiment.baseline]
    columns = min(3, len(order))
    rows = -(-len(order) // columns)
    grid = np.atleast_1d(fig.subplots(rows, columns, sharex=True, sharey=True)).ravel()
    for ax, strategy in zip(grid, order, strict=False):
        plot_ladder_mix(experiment, strategy, ax, legend=False)
        ax.set(xlabel="", ylabel="")
        ax.title.set_text(
            strategy.replace("_", " ")
            + (" (status quo)" if strategy == experiment.baseline else "")
        )
    for ax in grid[len(order) :]:
        ax.set_visible(False)
    fig.supxlabel("week")
    fig.supylabel(f"customers of the {FOCAL}")
    handles, labels = grid[0].get_legend_handles_labels()
    fig.legend(
        handles[::-1], labels[::-1], loc="outside right upper", fontsize="small", frameon=False
    )
    return list(grid[: len(order)])


def plot_costs(experiment: Experiment, ax: Axes | None = None) -> Axes:
    """The focal firm's costs by kind over the horizon, per strategy (mean per replication);
    kinds under :data:`SMALL_COST` of every strategy's total are grouped as "other"."""
    ax = axes_or_new(ax)
    weekly = focal_rows(experiment.weekly)
    totals = weekly.groupby(["strategy", "replication"], observed=True)[list(COST_KINDS)].sum()
    means = totals.groupby("strategy", observed=True).mean().reindex(experiment.strategies)
    means = means.loc[:, means.abs().sum() > 0]
    shares = means.div(means.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    small = [k for k in means.columns if (shares[k] < SMALL_COST).all()]
    shown = means.drop(columns=small)
    if small:
        shown["other"] = means[small].sum(axis=1)
    bottom = np.zeros(len(shown))
    labels = [s.replace("_", " ") for s in shown.index]
    for i, kind in enumerate(shown.columns):
        name = COST_LABELS.get(kind, kind)
        color = "#cccccc" if kind == "other" else PALETTE[i % len(PALETTE)]
        ax.bar(labels, shown[kind].to_numpy(), bottom=bottom, label=name, color=color)
        bottom += shown[kind].to_numpy()
    ax.set(title=f"Costs of the {FOCAL} by kind, over the horizon")
    money_axis(ax, "cost over the horizon", currency_of(experiment))
    legend_outside(ax, reverse=True)
    ax.tick_params(axis="x", labelrotation=15)
    return ax


def plot_utilisation(experiment: Experiment, strategy: str, ax: Axes | None = None) -> Axes:
    """Utilisation of each staff pool over time under a strategy (mean over replications);
    1.0 means the pool was short and delivered less than planned."""
    ax = axes_or_new(ax)
    weekly = focal_rows(experiment.weekly)
    weekly = weekly[weekly["strategy"] == strategy]
    for pool in ("desk", "contact", "manager"):
        if weekly[f"{pool}_hours"].sum() > 0:
            band(ax, weekly, f"{pool}_utilisation", POOL_NAMES[pool])
    ax.set(
        xlabel="week",
        ylim=(0, 1.05),
        title=f"Staff utilisation: {strategy.replace('_', ' ')}",
    )
    share_axis(ax, "share of the pool's hours used")
    legend_outside(ax)
    return ax


def save_ladder_grid(experiment: Experiment, path: Any) -> Any:
    """Write :func:`plot_ladder_grid` as PNG to ``path``."""
    from matplotlib.figure import Figure

    rows = -(-len(experiment.strategies) // 3)
    fig = Figure(figsize=(10, 2.4 * rows + 0.8), layout="constrained")
    plot_ladder_grid(experiment, fig)
    fig.savefig(path, dpi=110)
    return path


__all__ = [
    "band",
    "plot_costs",
    "plot_ladder_grid",
    "plot_ladder_mix",
    "plot_utilisation",
    "save_ladder_grid",
]
