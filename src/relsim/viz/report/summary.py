"""The executive summary: the report's first screen, and the last lines of ``relsim run``.

:func:`executive_summary` says, in plain text lines, which strategy to fund and how sure the
run is (its P(best) and the paired difference against the baseline, from
``Experiment.compare``), where its advantage comes from (within the horizon or after it, from
the value parts of the replications), what could overturn it (the closest rival within the
noise, the top robustness finding when robustness was run), which strategies did not get the
staff they need, the money conventions, and the warnings of :mod:`~relsim.viz.report.checks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from relsim.analysis import value
from relsim.viz.report.checks import Checks, result_checks, short_phrase
from relsim.viz.report.labels import currency, label, run_scenario
from relsim.viz.report.robustness import robustness_finding

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment
    from relsim.scenario import Scenario
    from relsim.viz.report.render import Block


def _signed(x: float, unit: str) -> str:
    return f"{x:+,.0f} {unit}"


def executive_summary(
    experiment: Experiment,
    compare: pd.DataFrame | None = None,
    checks: Checks | None = None,
    commands: bool = True,
) -> list[str]:
    """The summary as plain text lines, each "Topic: sentence"; with ``commands``, a last
    line with the ``--set`` settings the warnings suggest (the report lists them in its
    glossary instead)."""
    scenario = run_scenario(experiment)
    compare = experiment.compare() if compare is None else compare
    checks = result_checks(experiment, scenario) if checks is None else checks
    unit = currency(scenario)
    best = value.ranked_could_be_best(compare)
    ranking = compare.sort_values("mean", ascending=False, kind="stable")
    rec = best[0]
    runner = next((s for s in ranking["strategy"] if s != rec), None)
    lines = [_recommendation(experiment, compare, best, unit)]
    if runner is not None:
        lines.append(_advantage(experiment, rec, runner, unit))
    lines.append(_overturn(experiment, compare, best, runner))
    lines.append(_staff(checks))
    lines.append(_conventions(experiment, scenario, unit))
    lines += [f"Warning: {w}" for w in checks.warnings]
    if commands and checks.commands:
        lines.append("Suggested settings: " + " ".join(checks.commands))
    return lines


def _recommendation(
    experiment: Experiment, compare: pd.DataFrame, best: list[str], unit: str
) -> str:
    rec, base = best[0], experiment.baseline
    row = compare.set_index("strategy").loc[rec]
    metric = label(experiment.metric)
    text = (
        f"Recommendation: {'stay with' if rec == base else 'fund'} {rec}"
        + (", the baseline," if rec == base else ",")
        + f" the highest mean {metric} ({row['mean']:,.0f} {unit}); "
        f"it was best in {100 * row['p_best']:.0f}% of the replications "
        f"(95% CI {100 * row['p_best_low']:.0f}%–{100 * row['p_best_high']:.0f}%)."
    )
    if rec != base:
        sure = "clearly" if row["significant"] else "not clearly"
        text += (
            f" Against the baseline {base} it gains {_signed(row['difference'], unit)} "
            f"[95% CI {row['difference_low']:,.0f} to {row['difference_high']:,.0f}]: "
            f"{sure} better."
        )
    if len(best) > 1:
        text += f" Not clear-cut: {', '.join(best[1:])} cannot be ruled out as best"
        if rec == base:
            other = compare.set_index("strategy").loc[best[1]]
            text += (
                f" ({best[1]} against {base}: {_signed(other['difference'], unit)}, 95% CI "
                f"{other['difference_low']:,.0f} to {other['difference_high']:,.0f})"
            )
        text += "."
    else:
        text += " No other strategy could be best."
    return text


def _advantage(experiment: Experiment, rec: str, runner: str, unit: str) -> str:
    table = experiment.replications
    parts = [p for p in (value.WITHIN, value.AFTER) if p in table.columns]
    columns = list(dict.fromkeys([experiment.metric, *parts]))  # the metric may be a part
    means = table.groupby("strategy", observed=True)[columns].mean()
    lead = means.loc[rec, experiment.metric] - means.loc[runner, experiment.metric]
    text = f"Where the advantage comes from: its lead over {runner} is {_signed(lead, unit)}"
    if experiment.metric != value.TOTAL or len(parts) < 2:
        return text + "."
    within = means.loc[rec, value.WITHIN] - means.loc[runner, value.WITHIN]
    after = means.loc[rec, value.AFTER] - means.loc[runner, value.AFTER]
    text += f": {_signed(within, unit)} within the horizon and {_signed(after, unit)} after it"
    check = value.recommendation_within_horizon(experiment)
    if check is not None and check.changes:
        return text + (
            f". It rests on the value after the horizon: within the horizon alone "
            f"{check.within_only} would be recommended."
        )
    return text + ". It does not rest on the value after the horizon alone."


def _overturn(
    experiment: Experiment, compare: pd.DataFrame, best: list[str], runner: str | None
) -> str:
    parts = []
    if len(best) > 1:
        parts.append(
            f"{best[1]} is within the simulation's noise (more replications would separate them: "
            "--precision)"
        )
    elif runner is not None:
        p_best = float(compare.set_index("strategy").loc[runner, "p_best"])
        if p_best > 0:
            parts.append(
                f"{runner} was best in {100 * p_best:.0f}% of the replications (on average it "
                "trails by more than the noise: the comparison with the best rules it out)"
            )
    finding = robustness_finding(experiment)
    if finding is None:
        parts.append(
            "the assumptions were not tested in this run (relsim run --robustness tests each "
            "one at both ends of its range)"
        )
    else:
        parts.append(finding)
    return "What could overturn it: " + "; ".join(parts) + "."


def _staff(checks: Checks) -> str:
    if not checks.short:
        return "Staff: every strategy got the staff its plan needs in most weeks."
    items = [f"{s}, {short_phrase(pools)}" for s, pools in checks.short.items()]
    return (
        "Under-delivered: "
        + "; ".join(items)
        + ". The figures are for what these strategies delivered, not for them as planned."
    )


def _conventions(experiment: Experiment, scenario: Scenario, unit: str) -> str:
    weeks, warmup = scenario.horizon.weeks, scenario.horizon.warmup_weeks
    n = experiment.manifest.get("replications_per_strategy", "?")
    money = (
        "money in currency units (the scenario names no currency)"
        if unit == "currency units"
        else f"money in {unit}"
    )
    return (
        f"Basis: {money}, discounted at {100 * scenario.economics.discount_rate_per_year:g}% a "
        f"year; horizon {weeks} weeks ({weeks / 52:.3g} years) after a {warmup}-week warm-up; "
        f"{scenario.market.customers:,} customers; {n} replications per strategy with common "
        "random numbers."
    )


def summary_section(experiment: Experiment, compare: pd.DataFrame, checks: Checks) -> list[Block]:
    """The summary block and the warnings, first in the report."""
    lines = executive_summary(experiment, compare, checks, commands=False)
    warning = "Warning: "
    return [
        ("h2", "Summary"),
        ("summary", [line for line in lines if not line.startswith(warning)]),
        *[("warning", line[len(warning) :]) for line in lines if line.startswith(warning)],
    ]


__all__ = ["executive_summary", "summary_section"]
