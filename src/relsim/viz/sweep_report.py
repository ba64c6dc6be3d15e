"""The report of a sweep: which strategy wins under which conditions.

``write_sweep_report`` writes ``report.md`` and a self-contained ``report.html`` into the sweep
folder (the same building blocks as the experiment report): the design, per swept field the
decision metric and the paired difference against the baseline with their bands, the
best-strategy map over two fields, and the best strategy at every design point with the margin
by which it wins and whether the win is significant.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from relsim.viz.report.render import Block, to_html, to_markdown

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment.sweep import SweepResult


def write_sweep_report(result: SweepResult) -> tuple[Path, Path]:
    """Write the sweep's plots, report.md and report.html; returns (md, html)."""
    from relsim.viz.sweep_plots import save_sweep_plots

    plots = result.out / "plots"
    save_sweep_plots(result, plots)
    blocks = sweep_blocks(result)
    md, page = result.out / "report.md", result.out / "report.html"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    page.write_text(to_html(blocks, plots), encoding="utf-8")
    return md, page


def sweep_blocks(result: SweepResult) -> list[Block]:
    """The sweep report's content as (kind, payload) blocks: the design, the figures per swept
    field, the best-strategy map and the best strategy at every design point."""
    return [*_design(result), *_figures(result), *_winners(result)]


def _design(result: SweepResult) -> list[Block]:
    """The title and what was run: design points, strategies, replications, fields varied."""
    manifest = result.manifest
    design = result.design
    kind = manifest.get("design_kind", "factorial")
    n = manifest["replications_target"]
    described = "; ".join(
        f"{field}: {', '.join(_fmt(v) for v in sorted(design[field].unique())[:12])}"
        + (" …" if design[field].nunique() > 12 else "")
        for field in result.fields
    )
    return [
        ("h1", f"Sweep: {manifest['scenario_name']}"),
        (
            "p",
            f"{len(design)} design points ({_DESIGNS[kind]}) "
            f"× {len(result.strategies)} strategies × {n} replications, with the same replication "
            f"seeds at every point and for every strategy (common random numbers; root seed "
            f"{manifest['root_seed']}). Decision metric: {result.metric}; baseline: "
            f"{result.baseline}. Fields varied: {described}.",
        ),
    ]


def _figures(result: SweepResult) -> list[Block]:
    """The decision metric and the paired difference against each field, and the best-strategy
    map over the first two fields."""
    blocks: list[Block] = [
        ("h2", "Decision metric against each swept field"),
        (
            "p",
            "Lines are means over replications with 95% bands; the difference plots show each "
            "strategy's paired difference from the baseline with Bonferroni-simultaneous 95% "
            "bands — where a band contains zero, that strategy is not distinguishable from the "
            "baseline at that value. Other swept fields are held at their middle value.",
        ),
    ]
    for k, _field in enumerate(result.fields):
        blocks.append(("img", f"sweep_metric_{k}.png"))
        if len(result.strategies) > 1:
            blocks.append(("img", f"sweep_difference_{k}.png"))
    if len(result.fields) >= 2:
        blocks += [
            ("h2", "Best strategy over the first two fields"),
            (
                "p",
                "Each cell names the strategy with the highest mean and its margin over the "
                "runner-up; grey cells (n.s.) are those where more than one strategy could be "
                "best (multiple comparisons with the best at 95%).",
            ),
            ("img", "sweep_best_map.png"),
        ]
    return blocks


def _winners(result: SweepResult) -> list[Block]:
    """The best strategy at every design point, with how often each wins and clearly."""
    from relsim.viz.sweep_plots import points_overview

    overview = points_overview(result)
    wins = overview["best"].value_counts()
    clear = (overview["only one could be best"] == "yes").sum()
    return [
        ("h2", "Best strategy at every design point"),
        (
            "p",
            "Wins: "
            + ", ".join(f"{s} {c} of {len(overview)}" for s, c in wins.items())
            + f". The winner is the only strategy that could be best at {clear} of "
            f"{len(overview)} points.",
        ),
        ("table", overview),
        (
            "p",
            "These are consequences of the scenario's assumptions over the ranges swept, not "
            "forecasts; the intervals cover simulation noise only.",
        ),
    ]


_DESIGNS = {"factorial": "full factorial", "lhs": "Latin hypercube"}


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


__all__ = ["sweep_blocks", "write_sweep_report"]
