"""What a relationship is worth after a week, state frozen: the continuation's exposures.

Part of :class:`relsim.model.engine.Market` (a mixin). :meth:`Residual._tail` gives what a
customer is exposed to after the horizon (or after a defection), :meth:`running_costs` the
final year's running costs that price it (:mod:`relsim.model.continuation`).
"""

from __future__ import annotations

import numpy as np

from relsim.domain import RUNGS
from relsim.model import continuation
from relsim.model.population import NEVER, NONE

N_RUNGS = len(RUNGS)

RESULT_SLICE = 4_096
"""Rows per slice when the end of a run values the focal firm's remaining customers."""


class Residual:
    """Residual of the market (see the module docstring)."""

    def _tail(
        self, rows: np.ndarray, firm: np.ndarray, week: int, weight: np.ndarray | None = None
    ) -> np.ndarray:
        """What the relationships of ``rows`` with ``firm`` are exposed to after ``week``, state
        frozen: the rows of :data:`continuation.EXPOSURES`, shape (7, n), discounted to week 0
        like every other value; :class:`continuation.RunningCosts` prices them. ``weight``
        (3,), when given, gains the focal customers' weekly staff weights (undiscounted).

        Non-contractual: per week, occasion probability x logit share of ``firm`` x margin,
        surviving the lapse, relocation and substitute hazards (periodic death opportunities:
        the lapse hazard only at the opportunities after ``week``, ``stepped_annuity``).
        Contractual: per period, the fee margin, surviving the renewal (propensity and the
        renewal choice) and relocation.
        """
        c, p = self.c, self.p
        n = len(rows)
        out = np.zeros((len(continuation.EXPOSURES), n))
        if not n:
            return out
        seg = c.segment.take(rows)
        rung = c.rung.take(rows)
        # tables by take and each field gathered once: a week prices few defections, so the
        # cost here is per call, not per row
        v = self._utilities(rows, firm.astype(np.int8), np.full(n, NONE, np.int8), seg, rung)
        share = self.choice_rule.probabilities(v, p.outside_utility.take(seg))[firm, np.arange(n)]
        value = c.value.take(rows) * self.value_factor.take(firm)
        substitute = np.minimum(self.substitute_hazard * p.technology_affinity.take(seg), 1.0)
        exits = (1.0 - p.relocation_weekly.take(seg)) * (1.0 - substitute)
        keep = 1.0 - self._propensity(rows)
        d = 1.0 + p.weekly_discount
        contract = p.contractual.take(seg)
        period = np.where(contract, p.contract_period.take(seg), 1)
        occasion = np.minimum(
            c.rate.take(rows) * p.purchase_multiplier.take(rung) * self.occasion_factor.take(firm),
            1.0,
        )
        buy = np.where(contract, 1.0, occasion * share)  # orders per period
        survive = np.where(contract, keep * share * exits**period, keep * exits)
        next_occasion = c.next_occasion.take(rows)
        first = d ** -np.where(contract, np.maximum(next_occasion, week + 1), week + 1)
        first = np.where(contract & (next_occasion >= NEVER), d ** -(week + period), first)
        periods = continuation.annuity(survive, d ** -period.astype(float), first)
        on = ((p.defection_period.take(seg) > 1) & ~contract).nonzero()[0]  # periodic dropout:
        if len(on):  # own-reason survival steps down only at the opportunities after ``week``
            tau, at = p.defection_period.take(seg[on]), p.defection_offset.take(seg[on])
            periods[on] = continuation.stepped_annuity(exits[on], keep[on], 1 / d, week, tau, at)
        weeks = periods * period
        out[0] = periods * buy * value * (self.price.take(firm) - p.unit_cost.take(firm))
        out[1] = weeks * self.bonds.held_costs(rows, firm)
        out[2] = weeks
        out[3] = periods * buy * value * self.price[firm]
        focal = (firm == 0).nonzero()[0]
        if len(focal):
            orders_per_week = buy.take(focal) / period.take(focal)
            staff = self.service.staff_weights(rows.take(focal), orders_per_week)
            staff[1] += self.bonds.event_hours(rows.take(focal))
            if weight is not None:
                weight += staff.sum(axis=1)
            out[4:, focal] = weeks.take(focal) * staff
        return out

    def running_costs(self) -> continuation.RunningCosts:
        """The running costs of the horizon's final year, per firm: what the value after the
        horizon and the value lost at defections are priced at (``model/continuation.py``).
        The staff pools are spread by the end state's customers' weights (one pass over the
        focal firm's customers, in slices)."""
        live = self.c.alive[: self.c.n].nonzero()[0]
        focal = live[self.c.primary[live] == 0]
        weight = np.zeros((3, self.F))
        for rows in _slices(focal):
            self._tail(rows, np.zeros(len(rows), np.intp), self.H - 1, weight[:, 0])
        return continuation.final_year(
            self.ledger.costs,
            self.ledger.revenue,
            self.recorder.counts["customers"],
            self.bonds.records["club_members"],
            *self.bonds.member_terms(),
            weight,
            self.bonds.records["club_paying_members"],
        )


def _slices(rows: np.ndarray) -> list[np.ndarray]:
    """``rows`` in slices of at most :data:`RESULT_SLICE`."""
    return np.array_split(rows, max(1, -(-len(rows) // RESULT_SLICE)))
