"""The report's program and its consequences: sections 4, program, and 5, action plan.

What each strategy does (price, acquisition, relationship levels, key accounts, bonds,
retention tools, staff), who gains from it (the firm's margin next to the customers' surplus),
and when things happen: launches, staffing changes, outside events, and when rivals copied,
outbid or matched a program over the replications (:func:`copy_table`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from relsim.analysis import plan
from relsim.analysis.campaigns import campaign_results
from relsim.scenario import Scenario
from relsim.viz.report.labels import currency
from relsim.viz.report.render import Block, ci, money, pct
from relsim.viz.words import label

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment


def program_section(scenario: Scenario, experiment: Experiment) -> list[Block]:
    """4. Program: each strategy's instruments, then the mutual benefit."""
    return [
        ("h2", "4. Program"),
        *_program(scenario, experiment.strategies),
        *_mutual_benefit(experiment, currency(scenario)),
        *_campaigns(scenario, experiment),
    ]


def action_plan_section(scenario: Scenario, experiment: Experiment) -> list[Block]:
    """5. Action plan: launches, staffing changes, outside events and rivals' answers."""
    return [("h2", "5. Action plan"), *_action_plan(scenario, experiment)]


def _program(scenario: Scenario, names: list[str]) -> list[Block]:
    rows = {}
    for name in names:
        st = scenario.strategy(name)
        levels = st.levels
        rules = [f"default {levels.default}"] + [
            f"{k}: {v}" for k, v in {**levels.segments, **levels.rungs}.items()
        ]
        staff = st.staffing
        rows[name] = {
            "price index": st.price_index if st.price_index is not None else "as today",
            f"acquisition a week, {currency(scenario)}": money(st.acquisition_spend_per_week)
            if st.acquisition_spend_per_week is not None
            else "as today",
            "relationship levels": "; ".join(rules),
            "key accounts": (
                f"top {pct(st.key_accounts.top_share)} by observed value, "
                f"{st.key_accounts.accounts_per_manager} per manager, "
                f"{st.key_accounts.level}"
            )
            + (
                f", plan {st.key_accounts.plan.contacts_per_year:g} contacts and "
                f"{st.key_accounts.plan.reviews_per_year:g} reviews a year"
                if st.key_accounts.plan
                else ""
            )
            if st.key_accounts
            else "none",
            "bonds": _bonds(st),
            "retention tools": _retention_tools(scenario, st),
            "customer database and campaigns": _crm(st),
            "staff (desk / contact / managers / senior)": (
                f"{staff.desk.count:g} / {staff.contact_centre.count:g} / "
                f"{staff.managers.count:g} / {staff.senior_manager.count:g}"
            ),
        }
    return [("table", pd.DataFrame(rows).T.rename_axis("strategy"))]


def _retention_tools(scenario: Scenario, strategy: Any) -> str:
    tools, firm = strategy.retention, scenario.focal
    parts = []
    if tools.fulfilment:
        parts.append(
            f"orders late or wrong {100 * firm.fulfilment_failure:.3g}% -> "
            f"{100 * tools.fulfilment.late_or_wrong:.3g}%"
        )
    if tools.quality:
        q = tools.quality
        parts.append(
            f"quality {firm.product_quality:.2f} -> {q.target:.2f} after {q.lag_weeks} weeks "
            f"(over {q.ramp_weeks} more)"
        )
    if tools.assortment:
        parts.append(f"{tools.assortment.extra_lines} extra product lines")
    if tools.price_match:
        parts.append(f"price match ({pct(tools.price_match.claim_share)} of the gap claimed)")
    return "; ".join(parts) or "none"


def _crm(strategy: Any) -> str:
    """The customer database and its campaigns, in a line."""
    crm = strategy.crm
    if crm is None:
        return "none"
    parts = [f"records {pct(crm.database.data_quality)} current"]
    for k in crm.campaigns:
        offer = f"{pct(k.discount)} off" if k.discount else "a contact"
        parts.append(
            f"{k.kind.replace('_', '-')} by {k.target} every {k.every_weeks} weeks, "
            f"{money(k.budget_per_year)}/year, {offer}"
        )
    return "; ".join(parts)


def _campaigns(scenario: Scenario, experiment: Experiment) -> list[Block]:
    """The campaigns' contacts, responses and customers won back, and what they added over a
    random-target control (:func:`relsim.analysis.campaigns.campaign_results`)."""
    table = campaign_results(scenario, experiment)
    if table.empty:
        return []
    unit = currency(scenario)
    shown = pd.DataFrame(
        {
            "contacts a year": table["campaign_contacts"].map(money).to_list(),
            "offers taken up a year": table["campaign_responses"].map(money).to_list(),
            "customers won back a year": table["campaign_won_back"].map(money).to_list(),
            f"database and campaigns a year, {unit}": (
                (table["database"] + table["campaigns"]).map(money).to_list()
            ),
        },
        index=pd.Index(table["strategy"], name="strategy"),
    )
    control = table.attrs.get("control")
    text = (
        "Campaigns: contacts, offers taken up and customers won back (lapsed customers who "
        "ordered within an offer) a year."
    )
    if control is not None and "metric_vs_control" in table.columns:
        rows = table["strategy"] != control
        for key, name in (
            ("customers_end", "customers at the end"),
            ("metric", label(experiment.metric)),
        ):
            values = [
                ci(r[f"{key}_vs_control"], r[f"{key}_vs_control_low"], r[f"{key}_vs_control_high"])
                if ok
                else "(control)"
                for ok, (_, r) in zip(rows, table.iterrows(), strict=True)
            ]
            shown[f"{name} vs {label(control)}"] = values
        text += (
            f" Against {label(control)}, the same campaigns aimed at random (paired "
            "replications, 95% CI, one comparison each): the uplift of the targeting itself, not "
            "of the contacts."
        )
    return [("p", text), ("table", shown)]


def _mutual_benefit(experiment: Experiment, unit: str) -> list[Block]:
    """The customers' side next to the firm's: who gains from each strategy."""
    table = plan.mutual_benefit(experiment)
    if table.empty:
        return []
    losing = _losing(experiment)
    shown = pd.DataFrame(
        {
            f"firm margin a year, {unit}": [
                ci(r.firm_margin, r.firm_margin_low, r.firm_margin_high) for r in table.itertuples()
            ],
            f"customer surplus a year, {unit}": [
                ci(r.customer_surplus, r.customer_surplus_low, r.customer_surplus_high)
                for r in table.itertuples()
            ],
            "customers' share": table["customer_share"].map(pct).to_list(),
            "vs baseline (before the strategy's own costs)": [
                f"{v}; after its own costs the firm loses against the baseline"
                if s in losing and "creates value" in v
                else v
                for s, v in zip(table["strategy"], table["verdict"], strict=True)
            ],
        },
        index=pd.Index(table["strategy"], name="strategy"),
    )
    blocks: list[Block] = [
        (
            "p",
            "Mutual benefit: what the focal firm keeps of its orders (revenue less goods and "
            "rewards) next to what its customers get (value received -- product quality as "
            "experienced, relationship and club value -- minus price paid, against not buying, "
            "converted to money at each customer's price weight). Mean per year [95% CI]:",
        ),
        ("table", shown),
        (
            "p",
            "'vs baseline' reads the signs of the paired differences whose simultaneous 95% "
            "CI excludes zero: a strategy that raises the firm's margin while lowering the "
            "customers' surplus wins by extracting value rather than creating it. The margin "
            "is before what the strategy itself costs (staff, programs, retention tools): the "
            "budget below sets those against it.",
        ),
    ]
    unconverted = experiment.weekly["surplus_unconverted_orders"].sum()
    if unconverted > 0:
        blocks.append(
            (
                "p",
                f"{unconverted:,.0f} orders by customers with no price weight could not be "
                "converted to money and are left out of the surplus.",
            )
        )
    return blocks


def _losing(experiment: Experiment) -> set[str]:
    """The strategies whose paired difference in the decision metric from the baseline is
    below zero with its whole simultaneous 95% CI."""
    compare = experiment.compare()
    return set(compare.loc[compare["difference_high"] < 0, "strategy"])


def _bonds(strategy: Any) -> str:
    b = strategy.bonds
    parts = []
    if b.points:
        parts.append(
            f"points: {b.points.earn_rate:g}/unit, {b.points.threshold:g} = "
            f"{money(b.points.reward_value)} (reward rate {pct(b.points.reward_rate)})"
            + (", paid from the service's budget" if b.points.funded_from == "service" else "")
        )
    if b.club:
        free = f", first {b.club.free_weeks} weeks free" if b.club.free_weeks else ""
        parts.append(f"club from {b.club.min_rung}, fee {money(b.club.fee_per_year)}/year{free}")
    if b.structural:
        parts.append(
            f"structural ties for the top {pct(b.structural.top_share)} "
            f"({money(b.structural.setup_cost)} set-up)"
        )
    for spec in strategy.instruments:
        parts.append(f"{spec.name} (Python instrument)")
    if strategy.responds_to_rivals:
        parts.append("matches rivals' richer programs")
    return "; ".join(parts) or "none"


def _action_plan(scenario: Scenario, experiment: Experiment) -> list[Block]:
    names = experiment.strategies
    lines = [
        "Every strategy starts at week 0, after the warm-up under the status quo "
        f"({scenario.baseline_strategy})."
    ]
    for name in names:
        for change in scenario.strategy(name).staffing.changes:
            lines.append(
                f"{name}: from week {change.week}, {change.pool} has {change.count:g} people."
            )
    for shock in scenario.shocks:
        when = (
            f"week {shock.week}"
            if shock.week is not None
            else (f"at random, {shock.rate_per_year:g} a year")
        )
        lines.append(f"Outside events: {shock.kind} ({shock.firm or 'market'}, {when}).")
    blocks: list[Block] = [("p", " ".join(lines))]
    table = copy_table(experiment)
    if table.empty:
        blocks.append(("p", "No firm copied or answered a program in any replication."))
    else:
        blocks.append(
            (
                "p",
                "When rivals answered (copied, outbid or matched) the strategies' programs, "
                "over the replications: the share of replications in which each firm made "
                "each kind of move, and the week of its first such move.",
            )
        )
        blocks.append(("table", table))
    return blocks


def copy_table(experiment: Experiment) -> pd.DataFrame:
    """Per strategy, answering firm, instrument and action: in how many replications it
    happened and the distribution of the week it first happened."""
    moves = experiment.moves
    if moves.empty:
        return pd.DataFrame()
    answers = moves[moves["action"] != "launch"]
    if answers.empty:
        return pd.DataFrame()
    reps = experiment.replications.groupby("strategy")["replication"].nunique()
    first = answers.groupby(
        ["strategy", "firm", "instrument", "action", "replication"], observed=True
    )["week"].min()
    rows = []
    for (strategy, firm, instrument, action), weeks in first.groupby(
        level=[0, 1, 2, 3], observed=True
    ):
        rows.append(
            {
                "strategy": strategy,
                "firm": firm,
                "move": f"{action} {instrument}",
                "replications": f"{len(weeks)} of {int(reps.get(strategy, 0))}",
                "first week, median": int(np.median(weeks)),
                "10%-90%": f"{np.percentile(weeks, 10):.0f}-{np.percentile(weeks, 90):.0f}",
            }
        )
    return pd.DataFrame(rows).set_index("strategy")


__all__ = ["action_plan_section", "copy_table", "program_section"]
