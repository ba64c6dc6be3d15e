"""What a relationship is worth after a week, state frozen: the continuation's exposures.

Part of :class:`relsim.model.engine.Market` (a mixin). :meth:`Residual._tail` gives what a
customer is exposed to after the horizon (or after a defection), :meth:`running_costs` the
final year's running costs that price it (:mod:`relsim.model.continuation`).
"""

from __future__ import annotations

import numpy as np

from relsim.domain import RUNGS
from relsim.model import choice, continuation
from relsim.model.population import NEVER

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
        # a week prices few endings, so the cost here is per numpy call, not per row: each
        # field is gathered once, and when every row is the focal firm's (as every caller's
        # are) nothing is gathered again for the focal subset
        focal = (firm == 0).nonzero()[0]
        all_focal = len(focal) == n
        seg = c.segment.take(rows)
        rung = c.rung.take(rows)
        share = self._share(rows, firm, seg, rung, all_focal)
        value = c.value.take(rows) * self._by_firm("value_factor", firm, rows)
        keep = 1.0 - self._propensity(rows, rung)
        occasion = np.minimum(
            c.rate.take(rows)
            * p.purchase_multiplier.take(rung)
            * self._by_firm("occasion_factor", firm, rows),
            1.0,
        )
        buy, periods, period = self._periods(rows, seg, week, share, occasion, keep)
        weeks = periods if period is None else periods * period
        price = self._by_firm("price", firm, rows)
        spend = periods * buy * value
        out[0] = spend * (price - p.unit_cost.take(firm))
        out[1] = weeks * self._held_costs(rows, firm)
        out[2] = weeks
        out[3] = spend * price
        if len(focal):
            orders_per_week = buy if period is None else buy / period
            held_by, staff_weeks, target = rows, weeks, slice(None)
            if not all_focal:
                held_by, staff_weeks, target = rows.take(focal), weeks.take(focal), focal
                orders_per_week = orders_per_week.take(focal)
            staff = self._staff_weights(held_by, orders_per_week)
            if weight is not None:
                weight += staff.sum(axis=1)
            out[4:, target] = staff_weeks * staff
        return out

    def _share(
        self, rows: np.ndarray, firm: np.ndarray, seg: np.ndarray, rung: np.ndarray, all_focal: bool
    ) -> np.ndarray:
        """The choice rule's probability that each of ``rows`` picks its ``firm`` on an occasion
        (no lead; ``all_focal``: every firm is the focal one): the logit's by
        :func:`choice.chosen_probability`, without the other alternatives' rows; a plugin's rule
        (a subclass of the logit included) by its own probabilities."""
        v = self._utilities(rows, firm.astype(np.int8), None, seg, rung)
        outside = self.p.outside_utility.take(seg)
        if not self._plain_logit():  # a plugin's rule (a subclass of the logit included)
            return self._rule_probability(v, outside, firm, rows)
        return choice.chosen_probability(v, outside, 0 if all_focal else firm)

    def _periods(
        self,
        rows: np.ndarray,
        seg: np.ndarray,
        week: int,
        share: np.ndarray,
        occasion: np.ndarray,
        keep: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Orders per period, the discounted expected periods after ``week``
        (:func:`continuation.annuity`) and the period in weeks: None when it is one week for
        every row (no contractual segment), where the general terms reduce to the weekly ones
        exactly (a product or quotient with 1 is the number itself)."""
        c, p = self.c, self.p
        d = 1.0 + p.weekly_discount
        exits = self._exits_of(seg, rows)
        if not self.any_contractual:
            buy = occasion * share
            # the powers as the general case's arrays compute them (an array of one)
            first = d ** np.array([-(week + 1.0)])
            periods = continuation.annuity(keep * exits, d ** np.array([-1.0]), first)
            period = None
        else:
            contract = p.contractual.take(seg)
            period = np.where(contract, p.contract_period.take(seg), 1)
            buy = np.where(contract, 1.0, occasion * share)  # orders per period
            survive = np.where(contract, keep * share * exits**period, keep * exits)
            next_occasion = c.next_occasion.take(rows)
            first = d ** -np.where(contract, np.maximum(next_occasion, week + 1), week + 1)
            first = np.where(contract & (next_occasion >= NEVER), d ** -(week + period), first)
            periods = continuation.annuity(survive, d ** -period.astype(float), first)
        if self.any_periodic:  # periodic dropout: own-reason survival steps down only at the
            on = ((p.defection_period > 1) & ~p.contractual).take(seg).nonzero()[0]
            if len(on):  # opportunities after ``week``
                tau, at = p.defection_period.take(seg[on]), p.defection_offset.take(seg[on])
                periods[on] = continuation.stepped_annuity(
                    exits[on], keep[on], 1 / d, week, tau, at
                )
        return buy, periods, period

    def _segment_exits(self) -> np.ndarray:
        """Per segment, the weekly chance of neither relocating nor adopting the substitute,
        ``(1 - relocation) (1 - min(substitute hazard x affinity, 1))``: a table gathered by
        segment gives each row the same numbers as computing it per row. Recomputed when the
        substitute's hazard (the only input that moves, at technology shocks) changes."""
        hazard = self.substitute_hazard
        if getattr(self, "_exits_hazard", None) != hazard:
            p = self.p
            substitute = np.minimum(hazard * p.technology_affinity, 1.0)
            self._exits_by_segment = (1.0 - p.relocation_weekly) * (1.0 - substitute)
            self._exits_hazard = hazard
        return self._exits_by_segment

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
