"""The report's opening sections: 1 situation (the market at the start) and 2 goals.

They describe where the firm stands and what it wants before any strategy is compared, from
the status quo (``relsim.analysis.plan.situation``) and the scenario's optional ``goals:``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from relsim.analysis import plan
from relsim.scenario import Scenario
from relsim.viz.report.render import Block, pct

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment


def situation_section(experiment: Experiment) -> list[Block]:
    """1. Situation: customers and shares by firm, the ladder mix and the losses by reason."""
    s = plan.situation(experiment)
    return [
        ("h2", "1. Situation"),
        (
            "p",
            f"At the start the market holds {s['market_customers']:,.0f} customers. "
            "Customers and shares of customers by firm:",
        ),
        (
            "table",
            pd.DataFrame(
                {
                    "customers": {k: f"{v:,.0f}" for k, v in s["customers"].items()},
                    "share": {k: pct(v) for k, v in s["shares"].items()},
                }
            ).rename_axis("firm"),
        ),
        (
            "p",
            "The focal firm's customers by rung: "
            + ", ".join(f"{r} {pct(v)}" for r, v in s["ladder_mix"].items())
            + ". "
            "Customers lost a year, by reason, under the status quo (first year; "
            "'unobserved': no cause shows in the customer's history): "
            + ", ".join(f"{r} {pct(v)}" for r, v in s["loss_rate_by_reason"].items())
            + ".",
        ),
        ("img", "ladder_mix.png"),
        (
            "caption",
            "The focal firm's customers by rung of the loyalty ladder, week by week, under each "
            "strategy (mean over replications); the first panel is the status quo.",
        ),
        ("img", "market_share.png"),
        (
            "caption",
            "The focal firm's share of the market's customers under each strategy (mean over "
            "replications, 95% band). Dotted vertical line in a strategy's colour: the median "
            "week in which a rival first copied or outbid its program; ticks along the bottom: "
            "that week in each replication. A strategy without a program has no marks.",
        ),
    ]


def goals_section(scenario: Scenario, experiment: Experiment) -> list[Block]:
    """2. Goals: each strategy against the scenario's targets, met, missed or uncertain."""
    return [("h2", "2. Goals"), *_goals(scenario, experiment)]


def _goals(scenario: Scenario, experiment: Experiment) -> list[Block]:
    goals = scenario.goals
    targets = {
        "retention_rate_annual": goals.retention_rate_annual,
        "npv": goals.npv,
        "market_share_end": goals.market_share_end,
    }
    targets = {k: v for k, v in targets.items() if v is not None}
    if not targets:
        return [
            (
                "p",
                "The scenario sets no goals (add a `goals:` block with a retention, NPV "
                "or market-share target to have each strategy checked against it).",
            )
        ]
    summary = experiment.summary(list(targets))
    rows = {}
    for r in summary.itertuples():
        target = targets[r.metric]
        verdict = "met" if r.low >= target else "missed" if r.high < target else "uncertain"
        rows.setdefault(r.strategy, {})[r.metric] = (
            f"{r.mean:,.3f} vs {target:,.3f}: {verdict}"
            if abs(target) < 10
            else f"{r.mean:,.0f} vs {target:,.0f}: {verdict}"
        )
    return [
        ("table", pd.DataFrame(rows).T.rename_axis("strategy")),
        (
            "p",
            "'met': the whole 95% CI is at or above the target; 'missed': all below; "
            "'uncertain': the target lies inside the interval.",
        ),
    ]


__all__ = ["goals_section", "situation_section"]
