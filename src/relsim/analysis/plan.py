"""The numbers of the strategist's marketing plan, computed from an experiment's tables.

Definitions (all for the focal firm, means over replications with 95% t-intervals):

* **ROI** of a strategy against the baseline, per replication:
  ``(profit_s - profit_b) / (investment_s - investment_b)``, where investment is every cost
  except the cost of goods (acquisition, fixed, staff, rewards, structural); the ratio of the
  mean differences is reported (a ratio of means, robust to replications with tiny
  denominators). Undefined when the strategy invests no more than the baseline.
* **Payback week**: the first week from which the cumulative paired difference in discounted
  profit stays at or above zero, on the mean curve over replications; none if it never does.
  It is read off the same series as the report's plot of that difference
  (:func:`relsim.analysis.value.difference_bands`), so the two tell one story.
* **Cost of lowering defection**: extra investment per year per point of annual churn avoided
  against the baseline (only for strategies that spend more and avoid churn; a price cut's
  cost is forgone margin, which profit already counts), next to the **value of a point**: the
  value lost to defection per year divided by the baseline's churn in points.
* **Mutual benefit**: the focal firm's margin on its orders (revenue less goods and rewards)
  next to its customers' surplus (value received minus price paid, ``docs/model.md``), with a
  verdict from the signs of their paired differences against the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from relsim.analysis.value import difference_bands, paybacks
from relsim.analysis.value import payback_week as payback_week  # the rule, kept here too
from relsim.domain import REASONS, RUNGS
from relsim.model.economics import COST_KINDS
from relsim.statistics import Interval, mean_interval, paired_differences
from relsim.units import WEEKS_PER_YEAR

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment

INVESTMENT_KINDS = tuple(k for k in COST_KINDS if k != "cost_of_goods")


def focal_weekly(experiment: Experiment) -> pd.DataFrame:
    weekly = experiment.weekly
    first = weekly["firm"].iloc[0]
    return weekly[weekly["firm"] == first]


def situation(experiment: Experiment) -> dict[str, object]:
    """The market at week 0 (identical for every strategy: the warm-up ran the status quo) and
    the baseline's customers lost by reason in its first year."""
    weekly = experiment.weekly
    start = weekly[(weekly["week"] == 0) & (weekly["strategy"] == experiment.baseline)]
    shares = start.groupby("firm", observed=True)["share"].mean()
    customers = start.groupby("firm", observed=True)["customers"].mean()
    ladder = experiment.ladder
    first = ladder["firm"].iloc[0]
    mix = ladder[
        (ladder["week"] == 0)
        & (ladder["strategy"] == experiment.baseline)
        & (ladder["firm"] == first)
        & (ladder["rung"] != "prospect")
    ]
    mix = mix.groupby("rung", observed=True)["share_of_customers"].mean()
    focal = focal_weekly(experiment)
    year = focal[(focal["strategy"] == experiment.baseline) & (focal["week"] < 52)]
    per_rep = year.groupby("replication")[[f"lost_{r}" for r in REASONS]].sum()
    base = year.groupby("replication")["customers"].mean()
    rates = per_rep.div(base, axis=0) * (WEEKS_PER_YEAR / max(year["week"].nunique(), 1))
    return {
        "market_customers": float(start["market_in_market"].mean()),
        "customers": customers.to_dict(),
        "shares": shares.to_dict(),
        "ladder_mix": {r: float(mix.get(r, 0.0)) for r in RUNGS[1:]},
        "loss_rate_by_reason": {r: float(rates[f"lost_{r}"].mean()) for r in REASONS},
    }


@dataclass(frozen=True)
class Budget:
    """Per strategy: mean cost per year by kind (with CIs), ROI and payback vs the baseline."""

    costs_per_year: pd.DataFrame  # strategy x kind: mean, low, high
    roi: dict[str, float | None]
    payback_week: dict[str, int | None]


def budget(experiment: Experiment) -> Budget:
    focal = focal_weekly(experiment)
    weeks = focal["week"].nunique()
    years = weeks / WEEKS_PER_YEAR
    totals = focal.groupby(["strategy", "replication"], observed=True)[
        [*COST_KINDS, "profit"]
    ].sum()
    rows = []
    for strategy in experiment.strategies:
        for kind in COST_KINDS:
            ci = mean_interval(totals.loc[strategy][kind].to_numpy() / years)
            rows.append(
                {
                    "strategy": strategy,
                    "kind": kind,
                    "mean": ci.mean,
                    "low": ci.low,
                    "high": ci.high,
                }
            )
    costs = pd.DataFrame(rows)
    investment = totals[list(INVESTMENT_KINDS)].sum(axis=1)
    base_profit = totals.loc[experiment.baseline]["profit"]
    base_invest = investment.loc[experiment.baseline]
    roi: dict[str, float | None] = {}
    payback = paybacks(difference_bands(focal, experiment.baseline))
    for strategy in experiment.strategies:
        if strategy == experiment.baseline:
            continue
        extra_invest = float((investment.loc[strategy] - base_invest).mean())
        extra_profit = float((totals.loc[strategy]["profit"] - base_profit).mean())
        roi[strategy] = extra_profit / extra_invest if extra_invest > 0 else None
    return Budget(costs, roi, {s: payback.get(s) for s in roi})


def organisation(experiment: Experiment) -> pd.DataFrame:
    """Per strategy and staff pool: mean hours a week, utilisation, share of weeks short."""
    focal = focal_weekly(experiment)
    rows = []
    for strategy in experiment.strategies:
        part = focal[focal["strategy"] == strategy]
        for pool in ("desk", "contact", "manager"):
            hours = part[f"{pool}_hours"]
            if hours.sum() == 0 and part[f"{pool}_demand_hours"].sum() == 0:
                continue
            # a week is short when the pool left planned work undone (recorded by the model:
            # demand above the week's hours is not enough, work carried from last week counts)
            short = (part[f"{pool}_short"] > 0).mean()
            rows.append(
                {
                    "strategy": strategy,
                    "pool": pool,
                    "hours_per_week": hours.mean(),
                    "utilisation": part[f"{pool}_utilisation"].mean(),
                    "weeks_short": float(short),
                }
            )
    return pd.DataFrame(
        rows, columns=["strategy", "pool", "hours_per_week", "utilisation", "weeks_short"]
    )


def exit_management(experiment: Experiment) -> pd.DataFrame:
    """The seeds' exit management per strategy: churn (customers lost), why they were lost
    (each reason's share, ``unobserved`` included), the value of the customers lost, and, for
    the churn a firm can act on (firm-caused: price, product, service, political), what a point
    of it is worth against what a strategy pays to avoid one. Market exits and substitutes
    (external) are counted apart: no strategy prevents them."""
    table = experiment.replications
    focal = focal_weekly(experiment)
    years = focal["week"].nunique() / WEEKS_PER_YEAR
    investment = (
        focal.groupby(["strategy", "replication"], observed=True)[list(INVESTMENT_KINDS)]
        .sum()
        .sum(axis=1)
        / years
    )
    base = table[table["strategy"] == experiment.baseline].set_index("replication")
    base_points = base["churn_firm_caused_annual"] * 100.0
    value_per_point = (base["value_lost_firm_caused"] / years) / base_points.where(base_points > 0)
    rows = []
    for strategy in experiment.strategies:
        s = table[table["strategy"] == strategy].set_index("replication")
        churn: Interval = mean_interval(s["churn_rate_annual"].to_numpy())
        caused: Interval = mean_interval(s["churn_firm_caused_annual"].to_numpy())
        avoided = base_points - s["churn_firm_caused_annual"] * 100.0
        extra = investment.loc[strategy] - investment.loc[experiment.baseline]
        # defined for strategies that spend more to keep customers; a price cut's cost is
        # margin forgone, which the profit comparison already counts
        spend, points = float(extra.mean()), float(avoided.mean())
        cost_per_point = spend / points if spend > 0 and points > 0 else None
        lost = s["customers_lost"].where(s["customers_lost"] > 0)
        shares = {f"share_{r}": float((s[f"lost_{r}"] / lost).mean()) for r in REASONS}
        for cause in ("firm_caused", "external"):
            shares[f"share_{cause}"] = float((s[f"lost_{cause}"] / lost).mean())
        rows.append(
            {
                "strategy": strategy,
                "churn": churn.mean,
                "churn_low": churn.low,
                "churn_high": churn.high,
                "firm_caused_churn": caused.mean,
                "firm_caused_churn_low": caused.low,
                "firm_caused_churn_high": caused.high,
                "lost_per_year": float(s["customers_lost"].mean() / years),
                "won_back_per_year": float(s["endings_won_back"].mean() / years),
                "value_lost_per_year": float(s["value_of_customers_lost"].mean() / years),
                "firm_caused_value_lost_per_year": float(
                    s["value_lost_firm_caused"].mean() / years
                ),
                "points_avoided": points if strategy != experiment.baseline else 0.0,
                "cost_per_point_avoided": cost_per_point,
                "value_per_point": float(value_per_point.mean()),
                **shares,
            }
        )
    return pd.DataFrame(rows)


MUTUAL_VERDICTS = {
    (1, 1): "creates value for both sides",
    (1, -1): "wins by extracting value from customers",
    (-1, 1): "gives value to customers at the firm's expense",
    (-1, -1): "destroys value on both sides",
}
"""Verdict by the signs of the significant paired differences (firm margin, customer surplus)
against the baseline; any other combination is 'no clear shift'."""


def mutual_benefit(experiment: Experiment) -> pd.DataFrame:
    """Per strategy: the focal firm's margin on its orders (revenue less goods and rewards)
    and its customers' surplus (value received minus price paid), per year, with 95% CIs; the
    customers' share of the value; paired differences against the baseline (Bonferroni
    simultaneous 95% CIs) and a verdict on who gains. Empty for results written before
    relsim recorded the surplus."""
    table = experiment.replications
    if "customer_surplus" not in table.columns:
        return pd.DataFrame()
    years = experiment.weekly["week"].nunique() / WEEKS_PER_YEAR
    margin = {k: v / years for k, v in experiment.values("firm_margin").items()}
    surplus = {k: v / years for k, v in experiment.values("customer_surplus").items()}
    d_margin = paired_differences(margin, experiment.baseline)
    d_surplus = paired_differences(surplus, experiment.baseline)
    rows = []
    for strategy in experiment.strategies:
        m, s = mean_interval(margin[strategy]), mean_interval(surplus[strategy])
        row = {
            "strategy": strategy,
            "firm_margin": m.mean,
            "firm_margin_low": m.low,
            "firm_margin_high": m.high,
            "customer_surplus": s.mean,
            "customer_surplus_low": s.low,
            "customer_surplus_high": s.high,
            "customer_share": s.mean / (s.mean + m.mean) if s.mean + m.mean else float("nan"),
            "verdict": "(baseline)",
        }
        if strategy != experiment.baseline:
            dm, ds = d_margin[strategy], d_surplus[strategy]
            row.update(
                margin_difference=dm.mean,
                margin_difference_low=dm.low,
                margin_difference_high=dm.high,
                surplus_difference=ds.mean,
                surplus_difference_low=ds.low,
                surplus_difference_high=ds.high,
                verdict=MUTUAL_VERDICTS.get((_sign(dm), _sign(ds)), "no clear shift"),
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _sign(interval: Interval) -> int:
    """+1 or -1 when the interval excludes zero on that side, else 0."""
    return 1 if interval.low > 0 else -1 if interval.high < 0 else 0
