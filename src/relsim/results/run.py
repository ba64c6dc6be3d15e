"""The tidy tables of one simulated run, and its summary metrics (built by
:mod:`relsim.results.summary`).

Tables are long (one row per week x firm, per week x firm x rung, per customer, per event) and
built on first access from the engine's arrays. Money columns are in currency units; the
engine keeps the exact integer cents (``Run.raw``).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from relsim.domain import REASONS, RUNGS
from relsim.model.economics import COST_KINDS
from relsim.model.engine import RawRun
from relsim.model.population import NEVER, NONE
from relsim.model.records import DEFECTION, PROBLEM, PURCHASE, TRACE_EVENTS, WEEKLY_COUNTS
from relsim.results.summary import (
    customer_counts,
    loss_summary,
    mean_or_nan,
    money_summary,
    relationship_summary,
)
from relsim.units import WEEKS_PER_YEAR, weekly_discount_rate

MOVE_INSTRUMENTS = ("points", "club", "structural", "price")
MOVE_ACTIONS = ("launch", "copy", "raise")
WEEKLY_NAMES = {"defections": "relationship_endings"}
"""Weekly counts whose column names say more than the engine's record names."""


class Run:
    """One replication of one strategy: tables as pandas DataFrames and a summary dict.

    Attributes
    ----------
    scenario, strategy, seed:
        What was simulated.
    raw:
        The engine's arrays (:class:`relsim.model.RawRun`), including money in integer cents.
    """

    def __init__(self, raw: RawRun, seed: Any):
        self.raw = raw
        self.scenario = raw.scenario
        self.strategy = raw.strategy
        self.seed = seed
        self.firms = [f.name for f in raw.scenario.firms]
        self.segments = [s.name for s in raw.scenario.segments]

    def __repr__(self) -> str:
        return (
            f"Run(scenario={self.scenario.name!r}, strategy={self.strategy.name!r}, "
            f"weeks={self.scenario.horizon.weeks}, customers={len(self.customers)})"
        )

    # ------------------------------------------------------------------ tables
    @cached_property
    def weekly(self) -> pd.DataFrame:
        """One row per (week, firm): counts, shares, money, and market-level columns."""
        raw = self.raw
        weeks, n_firms = raw.revenue.shape
        frame: dict[str, Any] = {
            "week": np.repeat(np.arange(weeks), n_firms),
            "firm": pd.Categorical(np.tile(self.firms, weeks), categories=self.firms),
        }
        for name in WEEKLY_COUNTS:
            frame[WEEKLY_NAMES.get(name, name)] = raw.weekly_counts[name].ravel()
        frame["customers_lost"] = raw.by_reason.sum(axis=2).ravel()
        customers = raw.weekly_counts["customers"]
        total = customers.sum(axis=1, keepdims=True)
        frame["share"] = np.divide(
            customers, total, out=np.zeros(customers.shape), where=total > 0
        ).ravel()
        for r, reason in enumerate(REASONS):
            frame[f"lost_{reason}"] = raw.by_reason[:, :, r].ravel()
        frame["revenue"] = raw.revenue.ravel() / 100.0
        costs = np.zeros_like(raw.revenue)
        for kind in COST_KINDS:
            frame[kind] = raw.costs[kind].ravel() / 100.0
            costs += raw.costs[kind]
        profit = raw.revenue - costs
        frame["total_costs"] = costs.ravel() / 100.0
        frame["profit"] = profit.ravel() / 100.0
        frame["discounted_profit"] = (profit / 100.0 * raw.discount[:, None]).ravel()
        for name, values in raw.market.items():
            frame[f"market_{name}"] = np.repeat(values, n_firms)
        # every firm's bonding programs: reward rate in effect, rewards, members, ties
        for name, values in raw.bonds.items():
            frame[name] = values.ravel()
        # quality, customers' satisfaction and trust; the customers' surplus (focal firm)
        for name, values in raw.relationship.items():
            frame[name] = values.ravel()
        # the focal firm's service: staff pools' hours, demand and what they delivered
        service = {name: _focal_column(values, n_firms) for name, values in raw.service.items()}
        frame.update(service)
        # utilisation: hours worked on contacts over the week's hours (at most 1; 1 in a week
        # the pool was short), relsim.model.service.StaffPool
        for pool in ("desk", "contact", "manager"):
            hours, served = service[f"{pool}_hours"], service[f"{pool}_served_hours"]
            frame[f"{pool}_utilisation"] = np.divide(
                served, hours, out=np.zeros(len(hours)), where=hours > 0
            )
        return pd.DataFrame(frame)

    @cached_property
    def ladder(self) -> pd.DataFrame:
        """One row per (week, firm, rung): customers on the rung; rung 'prospect' counts the
        market's customers who never bought from the firm."""
        counts = self.raw.ladder
        weeks, n_firms, n_rungs = counts.shape
        total = counts[:, :, 1:].sum(axis=2, keepdims=True)
        share = np.divide(counts, total, out=np.zeros(counts.shape), where=total > 0)
        share[:, :, 0] = np.nan  # prospects are not part of the customer mix
        return pd.DataFrame(
            {
                "week": np.repeat(np.arange(weeks), n_firms * n_rungs),
                "firm": pd.Categorical(
                    np.tile(np.repeat(self.firms, n_rungs), weeks), categories=self.firms
                ),
                "rung": pd.Categorical(
                    np.tile(RUNGS, weeks * n_firms), categories=RUNGS, ordered=True
                ),
                "customers": counts.ravel(),
                "share_of_customers": share.ravel(),
            }
        )

    @cached_property
    def customers(self) -> pd.DataFrame:
        """One row per customer ever born (warm-up included), seen from the focal firm."""
        c = self.raw.customers
        acquired = _weeks(c["acquired_week"])
        # the customer's margin, realised and continued: the firm's running costs are carried
        # by the summary's npv and residual_value (the residual's per customer here)
        margin_value = c["value_focal"] + c["residual_margin"]
        # values are discounted to week 0; re-based to the acquisition week for new customers
        in_horizon = (c["acquired_week"] >= 0) & (c["acquired_week"] != NEVER)
        rebase = (1.0 + _weekly_rate(self.scenario)) ** np.where(in_horizon, c["acquired_week"], 0)
        at_acquisition = np.where(in_horizon, margin_value * rebase, np.nan)
        return pd.DataFrame(
            {
                "customer": c["id"],
                "segment": pd.Categorical.from_codes(c["segment"], self.segments),
                "born_week": c["born"],
                "in_market": c["in_market"],
                "exit_week": _weeks(np.where(c["in_market"], NEVER, c["exit_week"])),
                "exit_reason": _names(np.where(c["in_market"], NONE, c["exit_kind"]), REASONS),
                "primary_firm": _names(c["primary"], self.firms),
                "rung": pd.Categorical.from_codes(c["rung"], RUNGS),
                "defections": c["defections"],
                "orders_focal": c["orders_focal"],
                "acquired_week": acquired,
                "lost_week": _weeks(c["lost_week"]),
                "key_account": c["key_account"],
                "contacts": c["contacts"],
                "manager_contacts": c["manager_contacts"],
                "realised_margin": c["value_focal"],
                "residual_margin": c["residual_margin"],
                "residual_costs": c["residual_costs"],
                "residual_value": c["residual_margin"] - c["residual_costs"],
                "margin_value": margin_value,
                "margin_value_at_acquisition": at_acquisition,
            }
        )

    @cached_property
    def defections(self) -> pd.DataFrame:
        """One row per relationship ending in the horizon (a customer can defect many times):
        ``won_back`` when the customer began a relationship with the firm again within the
        loss window, else ``lost`` (relsim.model.losses)."""
        d = self.raw.defections
        return pd.DataFrame(
            {
                "week": d["week"],
                "customer": d["customer"],
                "firm": pd.Categorical.from_codes(d["firm"], self.firms),
                "reason": pd.Categorical.from_codes(d["reason"], REASONS),
                "chance": d["chance"],
                "rung": pd.Categorical.from_codes(d["rung"], RUNGS),
                "tenure_weeks": d["tenure_weeks"],
                "to_firm": _names(d["to_firm"], self.firms),
                "renewal": d["renewal"],
                "won_back": d["won_back"],
                "lost": ~d["won_back"],
                "value_lost": d["value_lost"],
            }
        )

    @cached_property
    def moves(self) -> pd.DataFrame:
        """One row per move a firm made in the horizon: launches, copies and raises of points
        programs, clubs and structural ties, and price moves (``source``: the firm copied)."""
        moves = self.raw.moves
        return pd.DataFrame(
            {
                "week": np.array([m["week"] for m in moves], dtype=np.int32),
                "firm": _names(np.array([m["firm"] for m in moves], dtype=int), self.firms),
                "instrument": pd.Categorical(
                    [m["instrument"] for m in moves], categories=MOVE_INSTRUMENTS
                ),
                "action": pd.Categorical([m["action"] for m in moves], categories=MOVE_ACTIONS),
                "source": _names(np.array([m["source"] for m in moves], dtype=int), self.firms),
                "reward_rate": np.array([m["reward_rate"] for m in moves], dtype=float),
                "price_index": np.array([m["price_index"] for m in moves], dtype=float),
            }
        )

    @cached_property
    def trace(self) -> pd.DataFrame:
        """Every event in the journeys of the traced sample of customers (warm-up included)."""
        t = self.raw.trace
        order = np.lexsort((t["event"], t["week"], t["customer"]))
        t = {k: v[order] for k, v in t.items()}
        event = t["event"]
        detail = np.full(len(event), "", dtype=object)
        is_def = event == DEFECTION
        detail[is_def] = np.array(REASONS, dtype=object)[t["amount"][is_def].astype(int)]
        is_problem = event == PROBLEM
        detail[is_problem] = np.where(t["amount"][is_problem] > 0, "voiced", "silent")
        amount = np.where(event == PURCHASE, t["amount"], np.nan)
        return pd.DataFrame(
            {
                "customer": t["customer"],
                "week": t["week"],
                "event": pd.Categorical.from_codes(event, TRACE_EVENTS),
                "firm": _names(t["firm"], self.firms),
                "rung": pd.Categorical.from_codes(t["rung"], RUNGS),
                "revenue": amount,
                "detail": detail,
            }
        )

    @cached_property
    def journeys(self) -> pd.DataFrame:
        """Where each traced customer stands at the end of every reported week while in the
        market: primary firm (missing without one) and rung with it -- the customers' paths
        up and down the ladder, as the classroom page animates them."""
        j = self.raw.journeys
        if not j:
            return pd.DataFrame(columns=["customer", "week", "firm", "rung"])
        order = np.lexsort((j["week"], j["customer"]))
        return pd.DataFrame(
            {
                "customer": j["customer"][order],
                "week": j["week"][order],
                "firm": _names(j["firm"][order], self.firms),
                "rung": pd.Categorical.from_codes(j["rung"][order], RUNGS),
            }
        )

    @cached_property
    def survival(self) -> pd.DataFrame:
        """Kaplan-Meier survival of the focal firm's new customers (acquired in the horizon)
        by weeks since acquisition: the share not yet lost (the first customer loss, of any
        reason, counts; an ending won back does not); customers not lost are censored."""
        from relsim.statistics import kaplan_meier

        c = self.raw.customers
        horizon = self.scenario.horizon.weeks
        new = (c["acquired_week"] >= 0) & (c["acquired_week"] != NEVER)
        acquired = c["acquired_week"][new].astype(np.int64)
        lost = c["lost_week"][new].astype(np.int64)
        observed = lost != NEVER
        duration = np.where(observed, lost - acquired, horizon - acquired)
        survival = kaplan_meier(duration, observed, horizon)
        return pd.DataFrame(
            {
                "weeks_since_acquisition": np.arange(horizon),
                "survival": survival,
                "cohort_size": int(new.sum()),
            }
        )

    # ------------------------------------------------------------------ summary
    @cached_property
    def summary(self) -> dict[str, float]:
        """Scalar metrics of the focal firm over the horizon (money in currency units), by
        part (:mod:`relsim.results.summary`): customers, losses, money, the new customers'
        value, the relationship with the customers, the warm-up's drift."""
        raw = self.raw
        cust = self.customers
        new = cust[cust["acquired_week"].notna() & (cust["acquired_week"] >= 0)]
        out: dict[str, float] = {
            **customer_counts(raw),
            **loss_summary(raw),
            **money_summary(raw),
            "margin_new_customers_realised": mean_or_nan(
                new["realised_margin"] * _growth(self.scenario, new["acquired_week"])
            ),
            "margin_value_new_customers": mean_or_nan(new["margin_value_at_acquisition"]),
            **relationship_summary(raw),
        }
        drift, drift_se = warmup_drift(raw.warmup_customers)
        out["warmup_share_drift_per_year"] = drift
        out["warmup_share_drift_se"] = drift_se
        out["customer_weeks"] = float(raw.customer_weeks)
        out["seconds"] = raw.seconds
        return {key: float(value) for key, value in out.items()}


def warmup_drift(customers: np.ndarray) -> tuple[float, float]:
    """Trend of the focal firm's share of customers over the warm-up's last year (or all of it,
    if shorter), per year, and its standard error: near zero when week 0 is a steady state.

    Least-squares slope of the weekly shares; the standard error assumes independent weeks, so
    it understates the noise of autocorrelated shares (a screening figure, not a test).
    NaN without at least three warm-up weeks.
    """
    recent = customers[-int(WEEKS_PER_YEAR) :]
    totals = recent.sum(axis=1)
    if len(recent) < 3 or (totals == 0).any():
        return float("nan"), float("nan")
    share = recent[:, 0] / totals
    t = np.arange(len(share), dtype=float)
    t -= t.mean()
    slope = float((t * (share - share.mean())).sum() / (t * t).sum())
    residual = share - share.mean() - slope * t
    se = float(np.sqrt((residual**2).sum() / (len(share) - 2) / (t * t).sum()))
    return slope * WEEKS_PER_YEAR, se * WEEKS_PER_YEAR


def _focal_column(values: np.ndarray, n_firms: int) -> np.ndarray:
    """A focal-firm weekly series as a (week, firm) column: rivals get zeros."""
    out = np.zeros((len(values), n_firms))
    out[:, 0] = values
    return out.ravel()


def _weekly_rate(scenario: Any) -> float:
    return weekly_discount_rate(scenario.economics.discount_rate_per_year)


def _growth(scenario: Any, weeks: pd.Series) -> np.ndarray:
    return (1.0 + _weekly_rate(scenario)) ** weeks.to_numpy(dtype=float)


def _weeks(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Week numbers with NEVER shown as missing."""
    return pd.arrays.IntegerArray(values.astype(np.int32), values == NEVER)


def _names(codes: np.ndarray, names: list[str] | tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.where(codes == NONE, -1, codes).astype(int), list(names))
