"""Plots of an experiment's results (matplotlib).

Every function takes an :class:`relsim.Experiment` (or its tables), an optional ``ax`` to draw
on, and returns the axes, so plots compose into figures. matplotlib is imported inside the
functions: importing relsim never loads it. Bands are 95% confidence intervals of the mean over
replications (Student t), the same as ``Experiment.summary``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from relsim import units
from relsim.domain import REASONS
from relsim.viz.axes import PALETTE, axes_or_new, legend_outside, money_axis, share_axis
from relsim.viz.mix_plots import (
    band,
    focal_rows,
    plot_costs,
    plot_ladder_grid,
    plot_ladder_mix,
    plot_utilisation,
    save_ladder_grid,
)
from relsim.viz.words import MONEY_METRICS, currency_of, label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from relsim.experiment import Experiment

FOCAL = "focal firm"
_axes = axes_or_new
"""The old private name of :func:`relsim.viz.axes.axes_or_new`, kept for code that imports it."""


def plot_market_share(experiment: Experiment, ax: Axes | None = None) -> Axes:
    """The focal firm's share of customers over time, per strategy, with 95% CI bands; the
    weeks rivals copied the strategy's programs are marked (dotted: the median over
    replications of the first copy; ticks along the bottom: every replication's)."""
    ax = axes_or_new(ax)
    weekly = focal_rows(experiment.weekly)
    first = first_copy_weeks(experiment)
    for strategy in experiment.strategies:
        band(ax, weekly[weekly["strategy"] == strategy], "share", strategy)
        weeks = first[first["strategy"] == strategy]["week"]
        if len(weeks):
            color = ax.lines[-1].get_color()
            ax.axvline(float(weeks.median()), color=color, linestyle=":", linewidth=1.2)
            ax.plot(
                weeks,
                np.zeros(len(weeks)),
                "|",
                color=color,
                markersize=8,
                transform=ax.get_xaxis_transform(),
            )
    ax.set(xlabel="week", title=f"Market share of the {FOCAL}")
    share_axis(ax, "share of the market's customers")
    handles = ax.get_legend_handles_labels()[0]
    if len(first):
        from matplotlib.lines import Line2D

        handles.append(
            Line2D([], [], color="grey", linestyle=":", label="a rival's first copy (median)")
        )
    legend_outside(ax, handles=handles)
    return ax


def first_copy_weeks(experiment: Experiment) -> pd.DataFrame:
    """Per strategy and replication, the first week a rival copied or outbid one of the focal
    firm's programs (replications without a copy are left out)."""
    moves = experiment.moves
    if moves.empty:
        return pd.DataFrame({"strategy": [], "replication": [], "week": []})
    copies = moves[(moves["action"] != "launch") & (moves["firm"] != experiment.focal)]
    return copies.groupby(["strategy", "replication"], observed=True)["week"].min().reset_index()


def plot_retention(experiment: Experiment, ax: Axes | None = None, window: int = 13) -> Axes:
    """Annualised retention of the focal firm's customers over time (``window``-week moving
    customers lost / customers), per strategy, with 95% CI bands. The last weeks' losses are
    provisional (an ending there may yet be won back)."""
    ax = axes_or_new(ax)
    weekly = focal_rows(experiment.weekly).sort_values(["strategy", "replication", "week"])
    frames = []
    for (strategy, r), group in weekly.groupby(["strategy", "replication"], observed=True):
        lost = group["customers_lost"].rolling(window, min_periods=window).sum()
        base = group["customers"].rolling(window, min_periods=window).mean()
        retention = 1.0 - (lost / base) * (units.WEEKS_PER_YEAR / window)
        frames.append(
            pd.DataFrame(
                {
                    "strategy": strategy,
                    "replication": r,
                    "week": group["week"],
                    "retention": retention,
                }
            )
        )
    table = pd.concat(frames).dropna()
    for strategy in experiment.strategies:
        band(ax, table[table["strategy"] == strategy], "retention", strategy)
    ax.set(xlabel="week", title=f"Retention of the {FOCAL}'s customers ({window}-week window)")
    share_axis(ax, "retention a year")
    legend_outside(ax)
    return ax


def plot_survival(experiment: Experiment, ax: Axes | None = None) -> Axes:
    """Cohort survival of the focal firm's new customers (Kaplan-Meier, by weeks since their
    acquisition), per strategy, with 95% CI bands over replications."""
    ax = axes_or_new(ax)
    survival = experiment.survival.rename(columns={"weeks_since_acquisition": "week"})
    for strategy in experiment.strategies:
        band(ax, survival[survival["strategy"] == strategy], "survival", strategy)
    ax.set(xlabel="weeks since acquisition", title=f"Survival of the {FOCAL}'s new customers")
    share_axis(ax, "share still a customer")
    legend_outside(ax)
    return ax


def plot_defection_reasons(experiment: Experiment, ax: Axes | None = None) -> Axes:
    """Customers the focal firm lost, by reason, per strategy (mean per replication); the
    hatched top of each bar is the ``unobserved`` class, losses whose cause the customers'
    histories do not show."""
    ax = axes_or_new(ax)
    weekly = focal_rows(experiment.weekly)
    columns = [f"lost_{r}" for r in REASONS]
    totals = weekly.groupby(["strategy", "replication"], observed=True)[columns].sum()
    means = totals.groupby("strategy", observed=True).mean().reindex(experiment.strategies)
    bottom = np.zeros(len(means))
    for reason, column in zip(REASONS, columns, strict=True):
        unobserved = reason == "unobserved"
        ax.bar(
            [s.replace("_", " ") for s in means.index],
            means[column].to_numpy(),
            bottom=bottom,
            label="unobserved (no reason observed)" if unobserved else reason,
            color="lightgrey" if unobserved else None,
            hatch="//" if unobserved else None,
            edgecolor="grey" if unobserved else None,
        )
        bottom += means[column].to_numpy()
    ax.set(ylabel="customers lost over the horizon", title=f"Why the {FOCAL} lost customers")
    legend_outside(ax, reverse=True)
    ax.tick_params(axis="x", labelrotation=15)
    return ax


def plot_metric(experiment: Experiment, metric: str | None = None, ax: Axes | None = None) -> Axes:
    """Distribution of a summary metric over replications, per strategy (box plots with the
    replications as points), e.g. ``npv``, ``profit`` or ``margin_value_new_customers``."""
    ax = axes_or_new(ax)
    metric = metric or experiment.metric
    values = experiment.values(metric)
    data = [values[s] for s in experiment.strategies]
    names = [s.replace("_", " ") for s in experiment.strategies]
    ax.boxplot(data, tick_labels=names, showmeans=True)
    rng = np.random.default_rng(0)  # jitter only: not part of any result
    for i, v in enumerate(data, start=1):
        ax.plot(i + rng.uniform(-0.12, 0.12, len(v)), v, "o", alpha=0.35, markersize=3)
    ax.set(title=f"{label(metric)}: {len(data[0])} replications per strategy")
    if metric in MONEY_METRICS:
        money_axis(ax, label(metric), currency_of(experiment))
    else:
        ax.set_ylabel(label(metric))
    ax.tick_params(axis="x", labelrotation=15)
    return ax


def plot_differences(
    experiment: Experiment, metric: str | None = None, ax: Axes | None = None
) -> Axes:
    """Forest plot: each strategy's paired difference from the baseline with its simultaneous
    95% CI (Bonferroni), as in ``Experiment.compare``."""
    ax = axes_or_new(ax)
    table = experiment.compare(metric=metric)
    table = table[table["strategy"] != experiment.baseline].reset_index(drop=True)
    y = np.arange(len(table))
    ax.errorbar(
        table["difference"],
        y,
        xerr=[
            table["difference"] - table["difference_low"],
            table["difference_high"] - table["difference"],
        ],
        fmt="o",
        capsize=4,
    )
    ax.axvline(0.0, color="grey", linewidth=1)
    ax.set_yticks(y, [s.replace("_", " ") for s in table["strategy"]])
    metric = metric or experiment.metric
    name = f"difference in {label(metric)} from {experiment.baseline.replace('_', ' ')}"
    ax.set(title="Paired differences from the baseline, with simultaneous 95% CIs")
    if metric in MONEY_METRICS:
        money_axis(ax, name, currency_of(experiment), axis="x")
    else:
        ax.set_xlabel(name)
    return ax


def plot_cumulative_difference(experiment: Experiment, ax: Axes | None = None) -> Axes:
    """When each strategy starts to pay: the paired difference from the baseline in the
    focal firm's cumulative discounted profit, mean over replications by week with its
    simultaneous 95% CI band (as ``Experiment.compare``), dots at the end of every year of the
    horizon (and at its last week, where it is the paired difference of ``npv``), and the
    payback week of the report's budget as a dotted line (the first week from which the mean
    curve stays at or above zero; in the legend)."""
    from relsim.analysis.value import difference_bands, focal_discounted_profit, paybacks, year_ends

    ax = axes_or_new(ax)
    bands = difference_bands(focal_discounted_profit(experiment), experiment.baseline)
    payback = paybacks(bands)
    ends = year_ends(bands)
    for strategy in [s for s in experiment.strategies if s != experiment.baseline]:
        part = bands[bands["strategy"] == strategy].sort_values("week")
        weeks = part["week"].to_numpy()  # the difference at the end of the week
        week = payback.get(strategy)
        label = f"{strategy.replace('_', ' ')}: " + (
            f"pays back in week {week}" if week is not None else "no payback in the horizon"
        )
        color = PALETTE[experiment.strategies.index(strategy) % len(PALETTE)]
        (line,) = ax.plot(weeks, part["mean"].to_numpy(), label=label, color=color)
        color = line.get_color()
        low, high = part["low"].to_numpy(), part["high"].to_numpy()
        finite = np.isfinite(low) & np.isfinite(high)
        ax.fill_between(weeks[finite], low[finite], high[finite], color=color, alpha=0.2, lw=0)
        at = ends[ends["strategy"] == strategy]
        ax.plot(at["week"], at["mean"], "o", color=color, markersize=5)
        if week is not None:
            ax.axvline(week, color=color, linestyle=":", linewidth=1.2)
    ax.axhline(0.0, color="grey", linewidth=1)
    ax.set(
        xlabel="week",
        title="Paired difference from the baseline by week (dots: the end of each year)",
    )
    money_axis(
        ax,
        "cumulative discounted profit minus the baseline's",
        currency_of(experiment),
    )
    legend_outside(ax)
    return ax


def save_all(experiment: Experiment, folder: Any) -> list[Any]:
    """Write every plot the report shows as PNG into ``folder``; returns the files.

    Uses matplotlib's object-oriented ``Figure`` (no pyplot), so it changes no global state
    and works without a display."""
    from pathlib import Path

    from relsim.names import slug

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, Any]] = [
        ("market_share", lambda ax: plot_market_share(experiment, ax)),
        ("retention", lambda ax: plot_retention(experiment, ax)),
        ("survival", lambda ax: plot_survival(experiment, ax)),
        ("defection_reasons", lambda ax: plot_defection_reasons(experiment, ax)),
        ("metric", lambda ax: plot_metric(experiment, ax=ax)),
        ("differences", lambda ax: plot_differences(experiment, ax=ax)),
        ("cumulative_difference", lambda ax: plot_cumulative_difference(experiment, ax)),
        ("costs", lambda ax: plot_costs(experiment, ax)),
    ]
    focal = focal_rows(experiment.weekly)
    staff_hours = (
        focal.groupby("strategy", observed=True)[["desk_hours", "contact_hours", "manager_hours"]]
        .sum()
        .sum(axis=1)
    )
    for strategy in experiment.strategies:
        if staff_hours.get(strategy, 0.0) > 0:  # only strategies that use staff pools
            jobs.append(
                (
                    f"utilisation_{slug(strategy)}",
                    lambda ax, s=strategy: plot_utilisation(experiment, s, ax),
                )
            )
    files = [save_plot(draw, folder / f"{name}.png") for name, draw in jobs]
    return [*files, save_ladder_grid(experiment, folder / "ladder_mix.png")]


def save_plot(draw: Any, path: Any) -> Any:
    """Draw ``draw(ax)`` on a fresh off-screen figure and write it as PNG to ``path``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5))
    draw(fig.subplots())
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


_band = band
"""The old private name of :func:`band`."""

__all__ = [
    "band",
    "first_copy_weeks",
    "plot_costs",
    "plot_cumulative_difference",
    "plot_defection_reasons",
    "plot_differences",
    "plot_ladder_grid",
    "plot_ladder_mix",
    "plot_market_share",
    "plot_metric",
    "plot_retention",
    "plot_survival",
    "plot_utilisation",
    "save_all",
    "save_plot",
]
