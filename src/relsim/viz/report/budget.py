"""What the strategies cost and who carries them: sections 6, budget, and 7, organisation.

The focal firm's costs per year by kind with their intervals, the ROI and payback week of
each strategy against the baseline (``relsim.analysis.plan.budget``), and the staff pools:
hours, utilisation and the weeks a pool was short (``relsim.analysis.plan.organisation``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from relsim.analysis import plan
from relsim.names import slug
from relsim.viz.report.checks import shortfalls, staff_warnings
from relsim.viz.report.labels import COST_LABELS, unit_of
from relsim.viz.report.render import Block, ci, money, pct

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment


def budget_section(experiment: Experiment) -> list[Block]:
    """6. Budget: costs per year by kind, ROI and payback week."""
    b = plan.budget(experiment)
    unit = unit_of(experiment)
    costs = b.costs_per_year[b.costs_per_year["mean"].abs() > 0]
    cost_table = (
        costs.assign(
            value=[_estimate(r.mean, r.low, r.high) for r in costs.itertuples()],
            kind=costs["kind"].map(lambda k: COST_LABELS.get(k, k)),
        )
        .pivot(index="kind", columns="strategy", values="value")
        .fillna("—")
        .rename_axis(f"cost per year, {unit}")
    )
    roi = pd.DataFrame(
        {
            "ROI vs baseline": {k: "—" if v is None else f"{v:.2f}" for k, v in b.roi.items()},
            "payback week": {
                k: "never in the horizon" if v is None else str(v)
                for k, v in b.payback_week.items()
            },
        }
    ).rename_axis("strategy")
    return [
        ("h2", "6. Budget"),
        (
            "p",
            f"Focal firm's costs per year by kind, {unit} (mean, with its 95% CI when the "
            "replications differ):",
        ),
        ("table", cost_table[experiment.strategies]),
        (
            "p",
            "ROI: extra profit per unit of extra investment (all costs but goods) "
            "against the baseline; payback: first week from which the cumulative "
            "discounted profit difference stays non-negative (mean curve; the dotted lines "
            "of the strategy section's plot of that difference).",
        ),
        ("table", roi),
        ("img", "costs.png"),
        (
            "caption",
            "The focal firm's costs over the whole horizon by kind, mean per replication; kinds "
            "under 3% of every strategy's costs are grouped as 'other'.",
        ),
    ]


POOL_LABELS = {"desk": "service desk", "contact": "contact centre", "manager": "managers"}


def _estimate(mean: float, low: float, high: float) -> str:
    """The mean, with its interval only when the replications differ."""
    return money(mean) if money(low) == money(high) else ci(mean, low, high)


def organisation_section(experiment: Experiment) -> list[Block]:
    """7. Organisation: staff per pool, utilisation and weeks short."""
    org = plan.organisation(experiment)
    blocks: list[Block] = [("h2", "7. Organisation")]
    if org.empty:
        blocks.append(("p", "No strategy uses staff pools."))
        return blocks
    shown = org.assign(
        pool=org["pool"].map(lambda p: POOL_LABELS.get(p, p)),
        hours_per_week=org["hours_per_week"].map(lambda x: f"{x:,.0f}"),
        utilisation=org["utilisation"].map(pct),
        weeks_short=org["weeks_short"].map(pct),
    ).rename(columns={"pool": "staff pool"})
    blocks += [("warning", w) for w in staff_warnings(shortfalls(experiment))]
    blocks += [
        ("table", shown.set_index(["strategy", "staff pool"])),
        (
            "p",
            "'weeks short of staff': weeks in which the planned work needed more hours "
            "than the pool had, so the level was not fully delivered.",
        ),
    ]
    blocks += [("img", f"utilisation_{slug(x)}.png") for x in org["strategy"].unique()]
    blocks.append(
        (
            "caption",
            "Share of each pool's hours used, week by week (mean over replications, 95% band); "
            "at 100% the pool was short and delivered less than planned.",
        )
    )
    return blocks


__all__ = ["budget_section", "organisation_section"]
