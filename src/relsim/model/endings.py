"""Relationships ending: lapses, exits from the market, and their reasons.

Part of :class:`relsim.model.engine.Market` (a mixin). Lapses are drawn as candidate weeks at
a bound hazard and thinned to the hazard of the moment; every ending is recorded with its
reason (:func:`relsim.model.defection.classify`) and the focal firm's value lost.
"""

from __future__ import annotations

import numpy as np

from relsim.domain import POLITICAL, RUNGS, SERVICE
from relsim.model import defection, trust
from relsim.model import records as rec
from relsim.model.population import NEVER, NONE

N_RUNGS = len(RUNGS)


class Endings:
    """Endings of the market (see the module docstring)."""

    def _propensity(self, idx: np.ndarray, rung: np.ndarray | None = None) -> np.ndarray:
        """The weekly (contract holders: per period) hazard of ending the relationship now
        (``rung``: the rows' rungs, when the caller has them)."""
        c = self.c
        sat = self.scenario.satisfaction
        dissatisfied = c.satisfaction.take(idx) < sat.service_threshold
        rung = c.rung.take(idx) if rung is None else rung
        multiplier = self.p.defection_multiplier.take(rung)
        bonded = self._lapse_factor(idx, self.now_week())
        if bonded is not None:
            multiplier = multiplier * bonded
        trusting = trust.hazard_factor(c.trust.take(idx), self.trust_rule)
        if trusting is not None:
            multiplier = multiplier * trusting
        return defection.effective_propensity(
            c.propensity.take(idx), multiplier, dissatisfied, sat.dissatisfied_defection_multiplier
        )

    def _schedule_lapse(self, idx: np.ndarray, week: int, bound: np.ndarray | None = None) -> None:
        """Draw the next lapse candidate week of non-contractual relationships, from ``week``
        on, at the customer's bound hazard (:meth:`_lapse_bound`, when not given)."""
        if len(idx):
            u = self._uniform("defection", idx, np.float32)
            bound = self._lapse_bound(idx) if bound is None else bound
            self.c.lapse_week[idx] = defection.schedule(week, bound, u)
            if self.any_periodic:  # death opportunities only every period (the same draws)
                seg = self.c.segment.take(idx)
                at = (self.p.defection_period.take(seg) > 1).nonzero()[0]
                self.c.lapse_week[idx[at]] = defection.periodic_schedule(
                    week,
                    bound[at],
                    u[at],
                    self.p.defection_period.take(seg[at]),
                    self.p.defection_offset.take(seg[at]),
                )

    def _lapse_bound(self, idx: np.ndarray) -> np.ndarray:
        """Weekly hazard that no state of the relationship can exceed: the propensity at the
        largest rung multiplier, dissatisfied, with no bond and no trust."""
        base = self.c.propensity.take(idx).astype(np.float64)
        return 1.0 - (1.0 - base) ** self.lapse_exponent_bound

    def _leave(self, week: int, exits: np.ndarray, candidates: np.ndarray) -> None:
        """The week's exits from the market and lapse candidates, ended in one call.

        Thinning: a candidate week ends the relationship with probability ``hazard now /
        bound``; the others draw their next candidate. The bound's geometric candidates thinned
        this way give exactly a weekly coin flip at the current hazard, whatever moved it since
        (purchases, rungs, satisfaction, trust, bonds and their decay), without redrawing.

        A customer who exits this week ends its relationship by exiting, not by lapsing. Both
        kinds of ending read only the ending customers' own state, so ending them together is
        the same as ending the exits first; one call saves the per-call cost of a second."""
        c = self.c
        if len(exits) and len(candidates):
            candidates = candidates[c.exit_week.take(candidates) != week]
        u = self._uniform("defection", candidates)
        bound = self._lapse_bound(candidates)
        hazard = self._propensity(candidates)
        if self.any_periodic:  # at an opportunity: the period's chances, bound and now
            period = self.p.defection_period.take(c.segment.take(candidates))
            lapse = u * defection.per_period(bound, period) < defection.per_period(hazard, period)
        else:
            lapse = u * bound < hazard
        had = exits[c.primary.take(exits) != NONE]
        lapsed = candidates[lapse]
        if len(had) or len(lapsed):
            old = c.primary.take(lapsed).astype(np.intp)
            reason, chance = self._reasons(week, lapsed, old, None)
            self._end(
                week,
                np.concatenate([had, lapsed]),
                kind="lapse",
                reason=np.concatenate([c.exit_kind.take(had).astype(np.int8), reason]),
                chance=np.concatenate([np.zeros(len(had), dtype=bool), chance]),
                reshop=slice(len(had), len(had) + len(lapsed)),
            )
        if len(exits):
            self._exit(week, exits)
        self._schedule_lapse(candidates[~lapse], week + 1, bound[~lapse])

    def _exit(self, week: int, rows: np.ndarray) -> None:
        """Customers ``rows`` leave the market (their relationships already ended)."""
        c = self.c
        bought = np.take(c.orders, rows, axis=0) > 0  # 2-D fancy indexing is slow
        self.ever_bought -= bought.sum(axis=0)
        self._trace(week, rec.EXIT, rows)
        c.remove(rows)
        if week >= 0:
            self.recorder.market["exits"][week] += len(rows)

    def _end(
        self,
        week: int,
        rows: np.ndarray,
        kind: str,
        to_firm: np.ndarray | None = None,
        reason: np.ndarray | None = None,
        chance: np.ndarray | None = None,
        reshop: slice | None = None,
        renewal: np.ndarray | bool = False,
    ) -> None:
        """End the relationships of ``rows`` with their primary firms and record why
        (``renewal``: which endings came at a contract renewal).

        ``kind`` (lapse, outside, switch, political) gives the reasons unless ``reason`` (and
        ``chance``) are given. Customers who lapse or leave for political reasons go back to
        shopping at their own pace: their next occasions are redrawn (``reshop``: the positions
        in ``rows`` this applies to; by default all of them for those two kinds)."""
        c = self.c
        old = c.primary.take(rows).astype(np.intp)
        if reason is None:
            reason, chance = self._reasons(week, rows, old, to_firm)
        elif chance is None:
            chance = np.zeros(len(rows), dtype=bool)
        self._record_endings(week, rows, old, reason, chance, to_firm, renewal)
        unhappy = (reason == SERVICE) | (reason == POLITICAL)
        if unhappy.any():
            self._count_unhappy(rows[unhappy], old[unhappy])
        for market, local, at in self._each_market(rows):
            market.bonds.relationship_ended(local, old[at])
        focal_first = rows[(old == 0) & (c.lost_week.take(rows) == NEVER)]
        c.lost_week[focal_first] = week
        c.defections[rows] += 1
        c.left[rows] = old
        c.primary[rows] = NONE
        c.rung[rows] = 0
        c.since[rows] = NEVER
        c.run_firm[rows] = NONE
        c.run_count[rows] = 0
        c.lapse_week[rows] = NEVER
        if reshop is None:
            reshop = slice(0, len(rows) if kind in ("lapse", "political") else 0)
        self._reshop(week, rows[reshop], old[reshop])

    def _record_endings(
        self,
        week: int,
        rows: np.ndarray,
        old: np.ndarray,
        reason: np.ndarray,
        chance: np.ndarray,
        to_firm: np.ndarray | None,
        renewal: np.ndarray | bool,
    ) -> None:
        """The endings' rows of the defections table (and the trace). The focal firm's value
        lost is recorded in the horizon only (the warm-up records nothing), priced when the
        run ends at the final year's running costs, like the value after it."""
        c = self.c
        rung = c.rung.take(rows)
        if week >= 0:  # (the table holds the reported weeks only)
            focal = (old == 0).nonzero()[0]
            tail = self._tail(rows.take(focal), old.take(focal), week)
            self._record_defections(week, rows, old, reason, chance, rung, to_firm, tail, renewal)
        # the reason codes go into the trace's float amounts as they are (the same numbers)
        self._trace(week, rec.DEFECTION, rows, old, rung, reason)

    def _reshop(self, week: int, rows: np.ndarray, old: np.ndarray) -> None:
        """Customers who lapsed or left for political reasons (``old``: the firms they left)
        go back to shopping at their own pace: former contract holders for a new contract,
        and customers out of a firm's assortment at the rate without it (memoryless)."""
        if not len(rows):
            return
        c, p = self.c, self.p
        contract = p.contractual[c.segment.take(rows)]
        if contract.any():
            shoppers = rows[contract]
            c.next_occasion[shoppers] = self._next_occasion(shoppers, week + 1)
        if self.any_assortment():
            moved = rows[~contract & (self._by_firm("occasion_factor", old, rows) != 1.0)]
            c.next_occasion[moved] = self._next_occasion(moved, week)

    def _reasons(
        self,
        week: int,
        rows: np.ndarray,
        old: np.ndarray,
        to_firm: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Reasons for the endings of ``rows`` with ``old`` (``to_firm``: the rivals switched
        to; None for drift-offs), by :func:`relsim.model.defection.classify`."""
        c, p = self.c, self.p
        dissatisfied = c.satisfaction.take(rows) < self.scenario.satisfaction.service_threshold
        service = (
            dissatisfied & (c.problem_firm.take(rows) == old) & (c.problem_until.take(rows) > week)
        )
        if to_firm is None:
            return defection.drift_off(service, dissatisfied)
        seg = c.segment.take(rows)
        rung = c.rung.take(rows)
        alt = to_firm.astype(np.intp)
        perceived, quality, penalty = (
            (self._by_firm(name, old, rows), self._by_firm(name, alt, rows))
            for name in ("perceived_price", "quality", "penalty")
        )
        price_part = (
            p.price_sensitivity[seg] * p.price_multiplier[rung] * (perceived[0] - perceived[1])
        )
        product_part = p.quality_sensitivity[seg] * (quality[1] - quality[0])
        political_part = penalty[0] - penalty[1]
        return defection.classify(service, price_part, product_part, political_part)
