"""Relationships after an order: climbing the ladder, beginning, switching.

Part of :class:`relsim.model.engine.Market` (a mixin). An order with the primary firm moves
satisfaction, trust and the rung; a first order starts a relationship; a run of orders
elsewhere (or a contract's renewal) switches the primary firm, ending the old relationship.
"""

from __future__ import annotations

import numpy as np

from relsim.domain import RUNGS
from relsim.model import ladder, trust
from relsim.model import records as rec
from relsim.model.population import NEVER, NONE
from relsim.model.satisfaction import (
    update_satisfaction,
)

N_RUNGS = len(RUNGS)


class Relationships:
    """Relationships of the market (see the module docstring)."""

    def _climb_with_primary(
        self,
        week: int,
        b: np.ndarray,
        firm: np.ndarray,
        with_primary: tuple[slice, slice],
        satisfying: np.ndarray,
        felt: np.ndarray,
        expected: np.ndarray,
        problem: np.ndarray,
    ) -> None:
        """The orders placed with the primary firm climb, in one call: the focal firm's group
        (at the start of ``b``) and the rivals' (at its end) joined. The rows are distinct
        and the climb reads only their own state, so this is what one call per group would
        do, with the same draws (one uniform per order, in this order); a call per group
        cost as much again in per-call work as the joining does."""
        focal_part, rivals_part = with_primary
        if focal_part.stop == focal_part.start:  # one group: its slices, no joined copies
            part = rivals_part
        elif rivals_part.stop == rivals_part.start:
            part = focal_part
        else:
            at = np.concatenate((np.arange(focal_part.stop), np.arange(rivals_part.start, len(b))))
            self._climb(
                week,
                b.take(at),
                firm.take(at),
                satisfying.take(at),
                felt.take(at),
                expected.take(at),
                problem.take(at),
                split=focal_part.stop,
            )
            return
        self._climb(
            week, b[part], firm[part], satisfying[part], felt[part], expected[part], problem[part]
        )

    def _climb(
        self,
        week: int,
        b: np.ndarray,
        primary: np.ndarray | int,
        satisfying: np.ndarray,
        felt: np.ndarray,
        expected: np.ndarray,
        problem: np.ndarray,
        split: int = 0,
    ) -> None:
        """Satisfaction, trust and ladder after purchases with the primary firm (``primary``:
        one per row, or one for all). ``split``: where a second group of rows starts (the
        rivals' after the focal firm's), whose traced moves follow the first group's."""
        c, p = self.c, self.p
        c.satisfaction[b] = update_satisfaction(c.satisfaction.take(b), felt, expected, self.rule)
        trusted = trust.after_orders(c.trust.take(b), problem, self.trust_rule)
        c.trust[b] = trusted
        c.run_count[b] = 0
        old = c.rung.take(b)
        up_factor = self._climb_factor(b, primary, week)
        trusting = trust.climb_factor(trusted, self.trust_rule)
        if trusting is not None:
            up_factor = trusting if up_factor is None else up_factor * trusting
        new = ladder.move(
            old,
            satisfying,
            self._uniform("ladder", b),
            p.up_probability,
            p.down_probability,
            up_factor=up_factor,
        )
        c.rung[b] = new
        t = self._traced(b)
        if len(t):
            for group in (t[t < split], t[t >= split]) if split else (t,):
                self._trace_moves(week, b.take(group), old.take(group), new.take(group))

    def _trace_moves(self, week: int, b: np.ndarray, before: np.ndarray, after: np.ndarray) -> None:
        """The traced customers ``b``'s rung moves: the climbs, then the falls."""
        for event, moved in ((rec.RUNG_UP, after > before), (rec.RUNG_DOWN, after < before)):
            if np.count_nonzero(moved):  # cheaper than moved.any()'s Python layers
                self._trace(week, event, b[moved], self.c.primary[b[moved]], after[moved])

    def _begin(
        self,
        week: int,
        b: np.ndarray,
        firm: np.ndarray,
        felt: np.ndarray,
        expected: np.ndarray,
        problem: np.ndarray,
    ) -> None:
        """Start relationships: ``firm`` becomes the primary firm; satisfaction and trust start
        at their initial values and take in the first order; non-contractual relationships draw
        their first lapse candidate."""
        c = self.c
        c.primary[b] = firm
        c.since[b] = week
        rung = ladder.start_rung(c.orders.reshape(-1).take(b * self.F + firm))
        c.rung[b] = rung
        # the initial satisfaction and trust as float32 scalars: the same elementwise
        # arithmetic as on arrays of them, which the orders' arrays broadcast to
        start = np.float32(self.scenario.satisfaction.initial)
        c.satisfaction[b] = update_satisfaction(start, felt, expected, self.rule)
        c.trust[b] = trust.after_orders(
            np.float32(self.trust_rule.initial), problem, self.trust_rule
        )
        c.run_firm[b] = NONE
        c.run_count[b] = 0
        # a return to the firm the customer last left comes by a switch (_elsewhere records it)
        c.left[b[c.left.take(b) == firm]] = NONE
        focal = b[(firm == 0) & (c.acquired_week.take(b) == NEVER)]
        c.acquired_week[focal] = week
        self._record_add("acquired", week, firm, b)
        self._trace(week, rec.ACQUIRED, b, firm, rung)
        if self.any_contractual:
            b = b[~self.p.contractual[c.segment.take(b)]]
        self._schedule_lapse(b, week + 1)

    def _elsewhere(
        self,
        week: int,
        b: np.ndarray,
        firm: np.ndarray,
        problem: np.ndarray,
    ) -> np.ndarray:
        """Purchases away from the primary firm: a run of them (or a contract) switches. Ends
        the switchers' relationships and returns their positions in ``b`` (the caller begins
        their new ones)."""
        c, p = self.c, self.p
        same = c.run_firm.take(b) == firm
        count = np.where(same, c.run_count.take(b) + 1, 1)
        count = np.where(problem, 0, count)  # a bad experience breaks the run
        c.run_firm[b] = firm
        c.run_count[b] = np.minimum(count, 127)
        switch = count >= self.scenario.switching.purchases_elsewhere
        renewal: np.ndarray | bool = False
        if self.any_contractual:
            renewal = p.contractual[c.segment.take(b)]
            switch |= renewal
        switched = switch.nonzero()[0]
        if len(switched):
            rows, to = b[switched], firm[switched]
            back = (c.left.take(rows) == to).nonzero()[0]
            if week >= 0 and len(back):
                # back with the firm it last left (read before this ending replaces it)
                came_back = rows.take(back)
                for market, local, at in self._each_market(came_back):
                    market.recorder.restarts(week, market.c.id.take(local), to.take(back)[at])
            if not isinstance(renewal, bool):
                renewal = renewal.take(switched)  # a contract holder switches at renewal
            self._end(week, rows, kind="switch", to_firm=to, renewal=renewal)
        return switched
