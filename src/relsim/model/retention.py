"""The focal firm's everyday retention tools: orders on time, product quality, assortment.

Each tool is a lever with a mechanism and a cost, booked in its own account:

* **fulfilment** -- the share of orders late or wrong falls from the firm's own
  ``fulfilment_failure`` to ``late_or_wrong`` at once; the problem rate becomes
  ``1 - (1 - late_or_wrong)(1 - fault_rate)``. Fewer problems mean fewer satisfaction losses,
  fewer broken promises (trust), fewer service defections and less work at the desk, which
  recovers the voiced ones as before. Cost per order: ``c x log2(fulfilment_failure /
  late_or_wrong)`` -- every halving costs the same -- plus a fixed cost per week.
* **quality** -- after ``lag_weeks`` product quality climbs linearly to ``target`` over
  ``ramp_weeks`` (it never falls because of the lever: follow-up learning may already have
  taken it higher). Investment per week from the launch: ``c x log2((1 - q0) / (1 - target))``
  with ``q0`` the firm's ``product_quality``.
* **assortment** -- ``L`` extra lines multiply the purchase occasions of the firm's own
  customers by ``1 + o L`` and the value of every order at the firm by ``1 + x L``
  (cross-sell; revenue and cost of goods both scale); cost ``k L`` per week.
* **price match** -- a refund guarantee against cheaper rivals: buyers count on ``s`` (the
  claim share) of the gap ``g`` between the focal firm's price index and the cheapest
  rival's, so the firm's price in their choice (and in the price part of a switch's reason)
  is ``p - s g``; every order at the firm costs ``s g x`` its value in refunds (expected
  claims, rounded to the cent per order), booked as ``price_match`` with the guarantee's
  fixed cost. No rival cheaper, no refund and no pull.

Tools belong to a strategy: the status quo's run through the warm-up, the strategy's replace
them at the launch. Quality reached stays when a tool stops (no depreciation is modelled).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import simpy

from relsim.model.economics import to_cents, whole_cents
from relsim.scenario.model import QualityInvestment, Strategy

if TYPE_CHECKING:
    from relsim.model.interface import MarketInterface

FOCAL = 0
RETENTION_COSTS: tuple[str, ...] = ("fulfilment", "quality", "assortment", "price_match")
"""Cost accounts of the retention tools."""


def halvings(before: float, after: float) -> float:
    """How many halvings take ``before`` down to ``after`` (0 when it does not fall)."""
    if after >= before:
        return 0.0
    return math.log2(before / after)


class FirmRetention:
    """The retention tools the focal firm runs under one strategy."""

    def __init__(self, market: MarketInterface, strategy: Strategy, env: simpy.Environment):
        self.m = market
        self.active = True
        tools = strategy.retention
        firm = market.scenario.focal
        late = firm.fulfilment_failure
        self.order_cost_cents = 0
        weekly: dict[str, float] = {}
        if tools.fulfilment is not None:
            late = tools.fulfilment.late_or_wrong
            per_order = tools.fulfilment.cost_per_order_per_halving * halvings(
                firm.fulfilment_failure, late
            )
            self.order_cost_cents = int(to_cents(per_order))
            weekly["fulfilment"] = tools.fulfilment.fixed_cost_per_week
        market.set_problem_rate(FOCAL, 1.0 - (1.0 - late) * (1.0 - firm.fault_rate))
        occasions = value = 1.0
        if tools.assortment is not None:
            a = tools.assortment
            occasions = 1.0 + a.occasions_per_line * a.extra_lines
            value = 1.0 + a.cross_sell_per_line * a.extra_lines
            weekly["assortment"] = a.cost_per_line_per_week * a.extra_lines
        market.set_assortment(FOCAL, occasions, value)
        self.claim_share = 0.0
        if tools.price_match is not None:
            self.claim_share = tools.price_match.claim_share
            weekly["price_match"] = tools.price_match.fixed_cost_per_week
        market.set_price_match(self.claim_share)
        if tools.quality is not None:
            q = tools.quality
            gap = halvings(1.0 - firm.product_quality, 1.0 - q.target)
            weekly["quality"] = q.cost_per_week_per_halving * gap
            env.process(self._quality(env, q))
        self.weekly_cents = {kind: int(to_cents(v)) for kind, v in weekly.items() if v > 0}

    def stop(self) -> None:
        """Another strategy's tools replace these (the quality process ends)."""
        self.active = False

    def _quality(self, env: simpy.Environment, q: QualityInvestment):  # type: ignore[no-untyped-def]
        yield env.timeout(q.lag_weeks)
        start = float(self.m.quality[FOCAL])
        for step in range(1, q.ramp_weeks + 1):
            if not self.active:
                return
            self.m.raise_quality(FOCAL, start + (q.target - start) * step / q.ramp_weeks)
            yield env.timeout(1)

    def after_orders(self, week: int, values: np.ndarray) -> None:
        """The costs of this week's orders at the focal firm (``values``: each order's value
        at the reference price): the fulfilment lever's, and the price match's refunds, which
        go to the customers' side of the relationship."""
        if week < 0 or not len(values):
            return
        if self.order_cost_cents:
            self.m.ledger.book_focal(week, "fulfilment", self.order_cost_cents * len(values))
        refund = self.claim_share * self.m.match_gap()
        if refund > 0:
            cents = int(whole_cents(refund * values).sum())
            self.m.ledger.book_focal(week, "price_match", cents)
            self.m.add_customer_surplus(week, FOCAL, cents / 100.0)

    def work(self, week: int) -> None:
        """The week's running costs (reported weeks only)."""
        if week < 0:
            return
        for kind, cents in self.weekly_cents.items():
            self.m.ledger.book_focal(week, kind, cents)
