"""The market's weekly step: endings, occasions, the mechanisms' work, the census, the week's
costs and compaction.

Part of :class:`relsim.model.engine.Market` (a mixin). A pass of markets
(:mod:`relsim.model.market_pass`) runs the endings and occasions once for all its markets and
then each market's :meth:`Week.mechanisms_work` and :meth:`Week.close_week` around one census.
"""

from __future__ import annotations

import numpy as np

from relsim.model.economics import to_cents


class Week:
    """The weekly step of the market (see the module docstring)."""

    def step(self, week: int) -> None:
        """Advance every customer in the market by one week."""
        c = self.c
        n = c.n
        self.customer_weeks += c.live
        self.bonds.settle_epoch(week)
        exits, candidates = c.ending(week)
        if len(exits) or len(candidates):
            self._leave(week, exits, candidates)
        due = (c.next_occasion[:n] == week).nonzero()[0]
        if len(due):
            self._occasions(week, due)
        self.weekly_work(week)

    def weekly_work(self, week: int) -> None:
        """The week's work after its occasions: the mechanisms', the census, the week's
        fixed and acquisition costs, and compaction."""
        self.mechanisms_work(week)
        self._count(week)
        self.close_week(week)

    def mechanisms_work(self, week: int) -> None:
        """The mechanisms' weekly work: service, retention tools, campaigns, bonds, plugins."""
        self.service.work(week)
        self.retention.work(week)
        if self.crm is not None:
            self.crm.work(week)
        self.bonds.work(week)
        for instrument in self.instruments:
            for kind, amount in instrument.weekly(self.interface, week).items():
                if week >= 0 and amount:
                    self.ledger.book_focal(week, kind, to_cents(amount))

    def close_week(self, week: int) -> None:
        """After the census: the week's acquisition and fixed costs, then compaction."""
        if week >= 0:
            acquisition, fixed = self._weekly_costs()
            self.ledger.book(week, "acquisition", acquisition)
            self.ledger.book(week, "fixed", fixed)
        self.c.compact_if_worthwhile(self.compact_share)

    def _weekly_costs(self) -> tuple[np.ndarray, np.ndarray]:
        """The firms' weekly acquisition spend and fixed cost in cents, converted once per
        offer: a FirmState is replaced, never mutated, and the fixed cost never moves."""
        if self._costs_of is not self.state:
            spend = to_cents(self.state.acquisition_spend)
            self._costs_cents = (spend, to_cents(self.p.fixed_cost))
            self._costs_of = self.state
        return self._costs_cents
