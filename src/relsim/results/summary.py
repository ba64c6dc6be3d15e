"""The summary metrics of one run, part by part: the focal firm's customers, the customers it
lost (:func:`loss_summary`), its money within and after the horizon, and its relationship with
its customers. :attr:`relsim.results.Run.summary` joins them, in this order, with the new
customers' value and the warm-up's drift.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from relsim.domain import EXTERNAL, FIRM_CAUSED, REASONS, RUNGS
from relsim.model import losses
from relsim.model.economics import COST_KINDS
from relsim.model.engine import RawRun
from relsim.units import retention_from_churn


def customer_counts(raw: RawRun) -> dict[str, float]:
    """The focal firm's customers and market share at the start and the end, its orders and
    the customers it acquired."""
    focal_customers = raw.weekly_counts["customers"][:, 0]
    all_customers = raw.weekly_counts["customers"].sum(axis=1)
    return {
        "customers_start": float(focal_customers[0]),
        "customers_end": float(focal_customers[-1]),
        "market_share_start": ratio(focal_customers[0], all_customers[0]),
        "market_share_end": ratio(focal_customers[-1], all_customers[-1]),
        "orders": float(raw.weekly_counts["orders"][:, 0].sum()),
        "acquired": float(raw.weekly_counts["acquired"][:, 0].sum()),
    }


def loss_summary(raw: RawRun) -> dict[str, float]:
    """The focal firm's customers lost and relationship endings (relsim.model.losses): counts,
    annual churn and retention (customers lost), the rate of relationship endings, losses by
    reason and by cause (firm-caused, external, unobserved), and the value of the customers
    lost (their continuation, net of running costs, at the end of the run)."""
    counts = raw.weekly_counts
    weeks = losses.measured_weeks(
        len(counts["customers"]), raw.scenario.switching.loss_window_weeks
    )
    d = raw.defections
    focal = d["firm"] == 0
    lost = focal & ~d["won_back"]
    in_weeks = (d["week"] >= weeks.start) & (d["week"] < weeks.stop)
    endings = counts["defections"][weeks, 0]
    exposure = counts["customers"][weeks, 0] + endings
    renewals, renewal_weeks = counts["renewals"][weeks, 0], counts["renewal_weeks"][weeks, 0]
    contract_exposure = counts["contract_customers"][weeks, 0]

    def churn(events: np.ndarray) -> float:
        events = events & in_weeks
        at_renewal = events & d["renewal"]
        return losses.annual_churn(
            np.array([np.sum(events & ~d["renewal"])]),
            np.array([np.sum(at_renewal)]),
            exposure,
            renewals,
            renewal_weeks,
            contract_exposure,
        )

    customer_churn = churn(lost)
    by_reason = raw.by_reason[:, 0, :].sum(axis=0)
    n_lost = float(by_reason.sum())
    value = d["value_lost"]
    out = {
        "relationship_endings": float(focal.sum()),
        "customers_lost": n_lost,
        "endings_won_back": float((focal & d["won_back"]).sum()),
        "churn_rate_annual": customer_churn,
        "retention_rate_annual": retention_from_churn(customer_churn, 1.0),
        "relationship_ending_rate_annual": churn(focal),
    }
    for r, reason in enumerate(REASONS):
        out[f"lost_{reason}"] = float(by_reason[r])
    caused = {"firm_caused": FIRM_CAUSED, "external": EXTERNAL, "unobserved": ("unobserved",)}
    for cause, reasons in caused.items():
        count = sum(out[f"lost_{r}"] for r in reasons)
        out[f"lost_{cause}"] = count
        out[f"churn_{cause}_annual"] = customer_churn * ratio(count, n_lost)
        codes = [REASONS.index(r) for r in reasons]
        out[f"value_lost_{cause}"] = float(value[lost & np.isin(d["reason"], codes)].sum())
    out["value_of_customers_lost"] = float(value[lost].sum())
    return out


def money_summary(raw: RawRun) -> dict[str, float]:
    """The focal firm's revenue, costs by kind, profit and NPV within the horizon, the value
    of its customers after it (margin, costs, net) and the decision metric, their sum."""
    costs = {kind: raw.costs[kind][:, 0].sum() / 100.0 for kind in COST_KINDS}
    profit_cents = raw.revenue[:, 0] - sum(raw.costs[k][:, 0] for k in COST_KINDS)
    npv = float((profit_cents / 100.0 * raw.discount).sum())
    residual_margin = float(raw.customers["residual_margin"].sum())
    residual_costs = float(raw.customers["residual_costs"].sum())
    residual = residual_margin - residual_costs
    return {
        "revenue": raw.revenue[:, 0].sum() / 100.0,
        **costs,
        "total_costs": sum(costs.values()),
        "profit": float(profit_cents.sum() / 100.0),
        "npv": npv,
        "residual_margin": residual_margin,
        "residual_costs": residual_costs,
        "residual_value": residual,
        "npv_with_residual": npv + residual,
    }


def relationship_summary(raw: RawRun) -> dict[str, float]:
    """Mutual benefit (what the focal firm keeps of its orders and what its customers get),
    trust, satisfaction and quality at the end, the customers' concentration on their primary
    firm, the week a rival first copied a program, and the ladder's mix at the end."""
    revenue = raw.revenue[:, 0].sum() / 100.0
    cost_of_goods = raw.costs["cost_of_goods"][:, 0].sum() / 100.0
    rewards = raw.costs["rewards"][:, 0].sum() / 100.0
    orders = raw.weekly_counts["orders"][:, 0].sum()
    out = {"unit_margin": ratio(revenue - cost_of_goods - rewards, orders)}
    rel = raw.relationship
    margin = revenue - cost_of_goods - rewards
    surplus = float(rel["customer_surplus"][:, 0].sum())
    out["firm_margin"] = margin
    out["customer_surplus"] = surplus
    out["customer_share_of_value"] = ratio(surplus, surplus + margin)
    out["mean_trust_end"] = float(rel["mean_trust"][-1, 0])
    out["mean_satisfaction_end"] = float(rel["mean_satisfaction"][-1, 0])
    out["product_quality_end"] = float(rel["product_quality"][-1, 0])
    out["concentration"] = ratio(
        raw.market["orders_at_primary"].sum(), raw.market["orders_with_primary"].sum()
    )
    copies = [m["week"] for m in raw.moves if m["action"] != "launch" and m["source"] == 0]
    out["first_copy_week"] = float(min(copies)) if copies else float("nan")
    end = raw.ladder[-1, 0, 1:]
    for r, rung in enumerate(RUNGS[1:], start=1):
        out[f"ladder_end_{rung}"] = ratio(end[r - 1], end.sum())
    return out


def ratio(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


def mean_or_nan(values: pd.Series | np.ndarray) -> float:
    """The mean, NaN for no values."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()) if values.size else float("nan")
