"""The report: an experiment's evidence laid out as the strategist's marketing plan.

``write_report`` writes ``report.md`` (figures referenced from ``plots/``) and ``report.html``
(self-contained: figures embedded as data URIs, styles inline, no network request) into the
results folder. Sections: the summary (the recommendation, its confidence, what it rests on,
the warnings), situation, goals, strategy, program, action plan, budget,
organisation, exit management, and what the numbers mean.

:func:`report_blocks` puts the sections in order; each lives in its own module:
:mod:`~relsim.viz.report.situation` (1 situation, 2 goals), :mod:`~relsim.viz.report.strategy`
(3 strategy: ranking, recommendation, where the value comes from),
:mod:`~relsim.viz.report.program` (4 program, 5 action plan), :mod:`~relsim.viz.report.budget`
(6 budget, 7 organisation), :mod:`~relsim.viz.report.exits` (exit management) and
:mod:`~relsim.viz.report.robustness` (when the robustness analysis has run);
:mod:`~relsim.viz.report.summary` and :mod:`~relsim.viz.report.checks` the summary and the
warnings, :mod:`~relsim.viz.report.labels` the plain labels and the glossary.
:mod:`~relsim.viz.report.render` holds the blocks, number formats and the Markdown and HTML
renderers, also used by the sweep's report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from relsim.viz.report.budget import budget_section, organisation_section
from relsim.viz.report.checks import result_checks
from relsim.viz.report.exits import exit_section
from relsim.viz.report.labels import currency, glossary_section, plain_blocks, run_scenario
from relsim.viz.report.program import action_plan_section, copy_table, program_section
from relsim.viz.report.render import STYLE, Block, to_html, to_markdown
from relsim.viz.report.robustness import robustness_section
from relsim.viz.report.situation import goals_section, situation_section
from relsim.viz.report.strategy import strategy_section
from relsim.viz.report.summary import executive_summary, summary_section

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment


def write_report(experiment: Experiment, folder: str | Path | None = None) -> tuple[Path, Path]:
    """Write report.md and report.html (and the plots they show) into the results folder."""
    from relsim.viz.plots import plot_cumulative_difference, save_all, save_plot

    folder = Path(folder or experiment.out)
    plots = folder / "plots"
    with experiment.keeping_tables():  # the blocks and plots read the same tables
        if not (plots / "market_share.png").exists():
            save_all(experiment, plots)
        elif not (plots / "cumulative_difference.png").exists():  # plots of an older relsim
            save_plot(
                lambda ax: plot_cumulative_difference(experiment, ax),
                plots / "cumulative_difference.png",
            )
        blocks = report_blocks(experiment)
    md, page = folder / "report.md", folder / "report.html"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    page.write_text(to_html(blocks, plots), encoding="utf-8")
    return md, page


def report_blocks(experiment: Experiment) -> list[Block]:
    """The report's content as (kind, payload) blocks: h1, h2, p, caption, warning, summary,
    table, img, code; code names replaced by plain labels, listed in the glossary at the end."""
    scenario = run_scenario(experiment)
    n = experiment.manifest["replications_per_strategy"]
    compare = experiment.compare()
    checks = result_checks(experiment, scenario)
    blocks = [
        ("h1", f"Marketing plan evidence: {scenario.name}"),
        *summary_section(experiment, compare, checks),
        ("h2", "About this run"),
        (
            "p",
            f"{scenario.description} This run: {scenario.market.customers:,} customers at the "
            f"start, {n} replications per strategy with common random numbers (root seed "
            f"{scenario.seed}); decision metric: {experiment.metric}, in "
            f"{currency(scenario)}.",
        ),
        *situation_section(experiment),
        *goals_section(scenario, experiment),
        *strategy_section(experiment, compare),
        *program_section(scenario, experiment),
        *action_plan_section(scenario, experiment),
        *budget_section(experiment),
        *organisation_section(experiment),
        *exit_section(experiment),
        *robustness_section(experiment),
        *_MEANING,
    ]
    shown, seen = plain_blocks(blocks)
    return shown + glossary_section(seen, checks.commands)


_MEANING: list[Block] = [
    ("h2", "What the numbers mean"),
    (
        "p",
        "The intervals cover the simulation's own noise for the scenario as "
        "written. They do not cover doubt about the assumptions: most parameters "
        "are assumptions (see the assumptions register in docs/model.md), and a "
        "ranking can change when they change. Check the parameters your decision "
        "rests on with sweeps and robustness analysis before acting.",
    ),
]


__all__ = [
    "STYLE",
    "Block",
    "copy_table",
    "executive_summary",
    "report_blocks",
    "to_html",
    "to_markdown",
    "write_report",
]
