"""The customer's side of the focal firm's orders: value received minus price paid, in money.

Part of :class:`relsim.model.engine.Market` (a mixin), called for the focal firm's orders of
the reported weeks; the result is the weekly ``customer_surplus`` record.
"""

from __future__ import annotations

import numpy as np

MIN_PRICE_WEIGHT = 1e-6
"""Below this price weight (utility per unit of price index) a customer's utility has no
money equivalent: one unit would be worth over a million orders."""


class Surplus:
    """Surplus of the market (see the module docstring)."""

    def _surplus(
        self,
        week: int,
        rows: np.ndarray,
        seg: np.ndarray,
        value: np.ndarray,
        revenue: np.ndarray,
        rewards: np.ndarray | None,
        felt: np.ndarray,
        premium: np.ndarray | None = None,
    ) -> None:
        """Record the customer's side of the focal firm's orders: value received minus price
        paid, in money.

        Value received, in utility relative to the outside option: the experienced quality
        ``beta_q x felt`` (a late, wrong or faulty order delivers less), the social bond and
        club status with the firm, less the firm's reputation penalty and the outside option's
        utility. It is converted to money at the customer's own price weight (one utility unit
        is worth ``value / (beta_p x m_p(rung))`` for an order of ``value`` at the reference
        price). Price paid: the order's revenue less the rewards it earned back. Habit and
        switching costs (points held, structural ties) are not value received. The taste
        shock is: a logit buyer who chose the firm expects its shock to beat the outside
        option's by :func:`choice.taste_premium` (Small & Rosen's inclusive value), so the
        surplus of an order is never below what not buying would have given (``premium``, one
        per order; a custom choice rule has none). Orders of customers with no price weight (below
        :data:`MIN_PRICE_WEIGHT`) cannot be converted and are counted apart."""
        c, p = self.c, self.p
        rung = c.rung.take(rows)
        weight = p.price_sensitivity.take(seg) * p.price_multiplier.take(rung)
        utility = p.quality_sensitivity.take(seg) * felt - p.outside_utility.take(seg)
        utility -= self.penalty[0]
        if c.uses("social"):
            utility = utility + self.scenario.bonding.social_utility * self.bonds.social_with(
                rows, 0, week
            )
        if c.uses("member") and self.bonds.status[0]:
            utility = utility + self.bonds.status[0] * c.member[:, 0][rows]
        if premium is not None:
            utility = utility + premium
        paid = revenue / 100.0
        if rewards is not None:
            paid = paid - rewards
        ok = weight >= MIN_PRICE_WEIGHT
        converted = int(ok.sum())
        if converted < len(rows):
            value, utility, weight, paid = value[ok], utility[ok], weight[ok], paid[ok]
        received = value * utility / weight
        record = self.recorder.relationship
        record["customer_surplus"][week, 0] += float(received.sum() - paid.sum())
        record["surplus_unconverted_orders"][week, 0] += len(rows) - converted


def focal_in_order(
    values: np.ndarray | None, firm: np.ndarray, focal_order: np.ndarray
) -> np.ndarray | None:
    """``values`` of the focal firm's orders, given in the orders' first order, rearranged to
    the grouped order (``focal_order``: the focal orders' first positions, grouped): spread
    over every order, then gathered. Cheaper than sorting the rows and searching each one."""
    if values is None:
        return None
    spread = np.zeros(len(firm))
    spread[firm == 0] = values
    return spread.take(focal_order)
