"""The report's exit management section: the customers each strategy loses and what it pays
to lose fewer.

Churn as customers lost (with the endings won back apart), why they were lost, the value of
the customers lost, the cost of a point of firm-caused churn avoided against what such a point
is worth (``relsim.analysis.plan.exit_management``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from relsim.analysis import plan
from relsim.domain import REASONS
from relsim.viz.report.labels import unit_of
from relsim.viz.report.render import Block, ci, money, pct

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment


def exit_section(experiment: Experiment) -> list[Block]:
    """Exit management: churn, its reasons, the value lost and whether avoiding it pays."""
    ex = plan.exit_management(experiment).set_index("strategy")
    pays = [
        r.Index
        for r in ex.itertuples()
        if r.cost_per_point_avoided is not None
        and not pd.isna(r.cost_per_point_avoided)
        and r.cost_per_point_avoided < r.value_per_point
    ]
    return [
        ("h2", "Exit management"),
        (
            "p",
            "1) churn: customers lost a year (a relationship that ends and is not begun "
            "again with the firm within the loss window; endings won back are counted "
            "apart), 2) why they were lost, 3) the value of the customers lost (each "
            "one's expected remaining value, net of what serving it would have cost), "
            "4) what a point of firm-caused churn (price, product, service, political) "
            "avoided costs, 5) whether that is below what such a point is worth. Market "
            "exits and substitutes (external) no strategy prevents; they are left out of "
            "the points.",
        ),
        ("table", _churn_table(ex, unit_of(experiment))),
        (
            "p",
            "Why customers were lost, as shares of the customers lost ('unobserved': no "
            "cause shows in the customer's history, a drift-off of a satisfied customer "
            "or a switch made by taste alone).",
        ),
        ("table", _reason_table(ex)),
        (
            "p",
            "Lowering firm-caused churn pays (cost per point below the value of a point) for: "
            + (", ".join(pays) if pays else "none of the strategies")
            + ".",
        ),
        ("img", "survival.png"),
        (
            "caption",
            "Share of the focal firm's new customers still with it, by weeks since they were "
            "won (mean over replications, 95% band).",
        ),
        ("img", "defection_reasons.png"),
        (
            "caption",
            "Customers lost over the horizon, by reason, mean per replication; hatched grey: "
            "losses whose cause the customers' histories do not show.",
        ),
        ("img", "retention.png"),
        (
            "caption",
            "Annual retention of the focal firm's customers over a moving 13-week window (mean, "
            "95% band); the last weeks are provisional, as an ending there may yet be won back.",
        ),
    ]


def _churn_table(ex: pd.DataFrame, unit: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "strategy": ex.index,
            "annual churn [95% CI]": [
                ci(r.churn, r.churn_low, r.churn_high, pct) for r in ex.itertuples()
            ],
            "firm-caused churn [95% CI]": [
                ci(r.firm_caused_churn, r.firm_caused_churn_low, r.firm_caused_churn_high, pct)
                for r in ex.itertuples()
            ],
            "lost / year": ex["lost_per_year"].map(lambda x: f"{x:,.0f}"),
            "won back / year": ex["won_back_per_year"].map(lambda x: f"{x:,.0f}"),
            f"value lost a year (firm-caused), {unit}": ex["firm_caused_value_lost_per_year"].map(
                money
            ),
            "firm-caused points avoided": ex["points_avoided"].map(lambda x: f"{x:.2f}"),
            f"cost per point avoided, {unit}": ex["cost_per_point_avoided"].map(money),
            f"value of a point, {unit}": ex["value_per_point"].map(money),
        },
    ).set_index("strategy")


def _reason_table(ex: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "strategy": ex.index,
            "firm-caused %": ex["share_firm_caused"].map(pct),
            "external %": ex["share_external"].map(pct),
            **{f"{r} %": ex[f"share_{r}"].map(pct) for r in REASONS},
        }
    ).set_index("strategy")


__all__ = ["exit_section"]
