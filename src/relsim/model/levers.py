"""The firms' levers that mechanisms and plugins move through the market's interface.

Part of :class:`relsim.model.engine.Market` (a mixin): quality, problem rate, assortment,
price match, a rival's price cut and an outreach that brings purchase occasions forward. Each
changes a per-firm entry and, where customers see it, rebuilds the offer or redraws the
affected customers' next occasions (waits are memoryless, so a redraw at the new rate is exact).
"""

from __future__ import annotations

import numpy as np

from relsim.model import defection


class Levers:
    """Levers of the market (see the module docstring)."""

    def raise_quality(self, firm: int, level: float) -> None:
        """Product quality becomes ``level`` unless it is already higher (quality investment)."""
        if level > self.quality[firm]:
            self.quality[firm] = min(level, 1.0)
            self._refresh_offer()

    def set_assortment(self, firm: int, occasions: float, value: float) -> None:
        """``firm``'s assortment multiplies its own customers' occasions and its order values;
        its customers' next occasions are redrawn at the new rate (the wait is memoryless)."""
        same_occasions = self.occasion_factor[firm] == occasions
        self.occasion_factor[firm] = occasions
        self.value_factor[firm] = value
        self.assortment = bool(
            (self.occasion_factor != 1.0).any() or (self.value_factor != 1.0).any()
        )
        if same_occasions:
            return
        c = self.c
        rows = (c.primary[: c.n] == firm).nonzero()[0]
        rows = rows[~self.p.contractual[c.segment[rows]]]
        if len(rows):
            c.next_occasion[rows] = self._next_occasion(rows, self.now_week())

    def improve_quality(self, firm: int, share: float) -> None:
        """Product quality moves ``share`` of the way to 1."""
        if share > 0:
            self.quality[firm] += min(share, 1.0) * (1.0 - self.quality[firm])
            self._refresh_offer()

    def set_problem_rate(self, firm: int, rate: float) -> None:
        """Share of ``firm``'s orders that meet a problem (the retention tools' fulfilment)."""
        self.problem_rate[firm] = rate

    def set_price_match(self, claim_share: float) -> None:
        """The focal firm's price-match guarantee: buyers count on ``claim_share`` of the gap
        to the cheapest rival's price (0: no guarantee); the offer is rebuilt."""
        self.price_match = claim_share
        self._refresh_offer()

    def cut_price(self, firm: int, share: float) -> None:
        """``firm`` cuts its price by ``share`` (a rival following a price cut)."""
        self.price_factor[firm] *= 1.0 - share
        self._refresh_offer()

    def bring_occasion_forward(self, rows: np.ndarray, week: int, factor: float) -> None:
        """An outreach: the next purchase occasion is redrawn at ``factor`` x the rate (it can
        only come earlier); contract holders are left to their renewal."""
        c, p = self.c, self.p
        rows = rows[~p.contractual[c.segment.take(rows)]]
        rate = (
            c.rate.take(rows).astype(np.float64) * p.purchase_multiplier[c.rung.take(rows)] * factor
        )
        if self.assortment:
            rate *= self.occasion_factor[c.primary.take(rows)]
        u = self.streams.occasions.random(len(rows), dtype=np.float32)
        sooner = defection.schedule(week + 1, rate, u)
        c.next_occasion[rows] = np.minimum(c.next_occasion.take(rows), sooner)
