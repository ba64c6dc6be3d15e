"""Plots of a sweep: the decision metric against a swept field, and the best strategy over two.

Like :mod:`relsim.viz.plots`: each function takes a :class:`SweepResult`, an optional ``ax``,
and returns the axes. Bands and bars are 95% confidence intervals over replications; the
differences are paired (common random numbers) and Bonferroni-simultaneous over the strategies,
as in ``Experiment.compare``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from relsim.viz.axes import axes_or_new, legend_outside
from relsim.viz.words import label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from relsim.experiment.sweep import SweepResult

NOT_CLEAR = "#d9d9d9"


def fixed_others(result: SweepResult, keep: list[str], at: dict[str, Any] | None = None) -> dict:
    """Values of the swept fields not in ``keep``: as given in ``at``, else the middle of each
    field's design values (a factorial design's slice through the centre)."""
    at = dict(at or {})
    design = result.design
    for field in result.fields:
        if field in keep or field in at:
            continue
        values = sorted(design[field].unique())
        at[field] = values[len(values) // 2]
    return at


def _slice(result: SweepResult, keep: list[str], at: dict[str, Any] | None) -> tuple:
    table = result.points
    others = (
        fixed_others(result, keep, at) if result.manifest.get("design_kind") == "factorial" else {}
    )
    for field, value in others.items():
        table = table[table[field] == value]
    return table, others


def _title(metric: str, others: dict[str, Any]) -> str:
    metric = label(metric)
    if not others:
        return metric
    fixed = ", ".join(
        f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in others.items()
    )
    return f"{metric} (at {fixed})"


def plot_sweep(
    result: SweepResult,
    field: str | None = None,
    metric: str | None = None,
    difference: bool = False,
    at: dict[str, Any] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Mean of ``metric`` (or, with ``difference``, its paired difference against the
    baseline) against one swept field, one line per strategy with its 95% CI band. Other swept
    fields are held at ``at`` (default: their middle design value); in a Latin-hypercube design
    each point is drawn with its interval instead of a band."""
    ax = axes_or_new(ax)
    field = field or result.fields[0]
    metric = metric or result.metric
    table, others = _slice(result, [field], at)
    lhs = result.manifest.get("design_kind") != "factorial"
    for i, strategy in enumerate(result.strategies):
        colour = f"C{i}"  # the same colour for a strategy in every sweep plot
        if difference and strategy == result.baseline:
            continue
        rows = table[table["strategy"] == strategy].sort_values(field)
        if difference:
            if metric != result.metric:
                raise ValueError("differences are stored for the decision metric only")
            mean, low, high = rows["difference"], rows["difference_low"], rows["difference_high"]
        else:
            mean, low, high = rows[f"{metric}_mean"], rows[f"{metric}_low"], rows[f"{metric}_high"]
        x = rows[field].to_numpy()
        if lhs:
            ax.errorbar(
                x,
                mean,
                yerr=[mean - low, high - mean],
                fmt="o",
                markersize=3,
                capsize=2,
                color=colour,
                label=label(strategy),
            )
        else:
            ax.plot(x, mean, marker="o", markersize=3, color=colour, label=label(strategy))
            ax.fill_between(x, low, high, color=colour, alpha=0.2, linewidth=0)
    if difference:
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_ylabel(f"{label(metric)}: difference from {label(result.baseline)}")
    else:
        ax.set_ylabel(label(metric))
    ax.set_xlabel(label(field))
    ax.set_title(_title(metric, others), fontsize="medium")
    legend_outside(ax)
    return ax


def plot_best_map(
    result: SweepResult,
    x: str | None = None,
    y: str | None = None,
    at: dict[str, Any] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The best strategy (highest mean of the decision metric) over two swept fields, each cell
    labelled with its margin over the runner-up; cells where more than one strategy could be
    best (multiple comparisons with the best, 95%) are grey and marked "n.s.". A Latin-hypercube
    design is drawn as points (hollow where not clear)."""
    from matplotlib.patches import Patch, Rectangle

    ax = axes_or_new(ax)
    if len(result.fields) < 2 and (x is None or y is None):
        raise ValueError("a best-strategy map needs two swept fields")
    x = x or result.fields[0]
    y = y or next(f for f in result.fields if f != x)
    best = result.best()
    others: dict[str, Any] = {}
    if result.manifest.get("design_kind") == "factorial":
        others = fixed_others(result, [x, y], at)
        for field, value in others.items():
            best = best[best[field] == value]
    colours = {s: f"C{i}" for i, s in enumerate(result.strategies)}
    if result.manifest.get("design_kind") != "factorial":
        for _, row in best.iterrows():
            colour = colours[row["best"]]
            ax.scatter(
                row[x],
                row[y],
                s=60,
                facecolors=colour if row["clear"] else "none",
                edgecolors=colour,
            )
    else:
        xs, ys = sorted(best[x].unique()), sorted(best[y].unique())
        for _, row in best.iterrows():
            i, j = xs.index(row[x]), ys.index(row[y])
            colour = colours[row["best"]] if row["clear"] else NOT_CLEAR
            ax.add_patch(
                Rectangle((i - 0.5, j - 0.5), 1, 1, facecolor=colour, alpha=0.75, edgecolor="white")
            )
            cell = f"{label(row['best'])}\n+{row['margin']:,.0f}" + (
                "" if row["clear"] else "\nn.s."
            )
            ax.text(i, j, cell, ha="center", va="center", fontsize="x-small")
        ax.set_xlim(-0.5, len(xs) - 0.5)
        ax.set_ylim(-0.5, len(ys) - 0.5)
        ax.set_xticks(range(len(xs)), [_fmt(v) for v in xs])
        ax.set_yticks(range(len(ys)), [_fmt(v) for v in ys])
    handles = [Patch(color=c, label=label(s)) for s, c in colours.items() if s in set(best["best"])]
    handles.append(Patch(color=NOT_CLEAR, label="no single best (n.s.)"))
    ax.legend(handles=handles, fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(_title(f"best strategy by {result.metric}", others), fontsize="medium")
    return ax


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:g}"
    return str(value)


def save_sweep_plots(result: SweepResult, folder: Any) -> list[Any]:
    """Every sweep plot as PNG in ``folder``: per swept field the metric and the paired
    difference; with two or more fields the best-strategy map of the first two."""
    from pathlib import Path

    from matplotlib.figure import Figure

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, Any]] = []
    for k, field in enumerate(result.fields):
        jobs.append((f"sweep_metric_{k}", lambda ax, f=field: plot_sweep(result, f, ax=ax)))
        if len(result.strategies) > 1:
            jobs.append(
                (
                    f"sweep_difference_{k}",
                    lambda ax, f=field: plot_sweep(result, f, difference=True, ax=ax),
                )
            )
    if len(result.fields) >= 2:
        jobs.append(("sweep_best_map", lambda ax: plot_best_map(result, ax=ax)))
    files = []
    for name, draw in jobs:
        fig = Figure(figsize=(8, 4.8))
        draw(fig.subplots())
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        files.append(path)
    return files


def points_overview(result: SweepResult) -> pd.DataFrame:
    """The best-strategy table for the report: one row per design point."""
    best = result.best().set_index("point")
    best["margin"] = best["margin"].map(lambda v: f"{v:,.0f}")
    best["clear"] = best["clear"].map({True: "yes", False: "no (n.s.)"})
    return best.rename(columns={"clear": "only one could be best"})
