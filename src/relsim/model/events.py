"""What happens to the market from outside the weekly step: births, leads, shocks.

Part of :class:`relsim.model.engine.Market` (a mixin). Births and leads are SimPy processes
that run in the middle of each week; shocks (a price cut, a reputation event, a substitute
technology) are processes that start at their week and may end after a duration.
"""

from __future__ import annotations

import numpy as np

from relsim import units
from relsim.domain import POLITICAL, RUNGS, TECHNOLOGY
from relsim.model import defection
from relsim.model import records as rec
from relsim.model.population import NONE
from relsim.scenario.model import Shock

N_RUNGS = len(RUNGS)


class Events:
    """Events of the market (see the module docstring)."""

    def _births(self, first: int):  # type: ignore[no-untyped-def]
        for week in range(first, self.H):
            yield self.env.timeout(week + self.W + 0.25 - self.env.now)
            count = self._birth_count(week)
            if count:
                rows = self._add_customers(count, week)
                self._trace(week, rec.BORN, rows)
                self._record_births(week, count)

    def _birth_count(self, week: int) -> int:
        """How many customers are born into the market in ``week``: a Poisson number around
        the market's size that week times the rates that replace those who leave the market
        and grow it (births stream)."""
        market = self.scenario.market
        replacement = float(np.dot(self.p.segment_share, self.p.relocation_weekly))
        growth = units.weekly_growth_rate(market.growth_per_year)
        target = market.customers * (1.0 + growth) ** (week + self.W)
        return int(self.streams.births.poisson(target * (replacement + max(growth, 0.0))))

    def _record_births(self, week: int, count: int) -> None:
        if week >= 0:
            self.recorder.market["births"][week] += count

    def _leads(self, first: int):  # type: ignore[no-untyped-def]
        for week in range(first, self.H):
            yield self.env.timeout(week + self.W + 0.5 - self.env.now)
            self._leads_of_week(week)

    def _leads_of_week(self, week: int) -> None:
        """Prospects drawn to each firm in ``week``: how many, then who."""
        self._assign_leads(week, self._lead_counts(week))

    def _lead_counts(self, week: int) -> list[int]:
        """How many prospects each firm draws in ``week`` (leads stream): paid acquisition
        (saturating in spend), referrals by its ladder, fewer for the unhappy defectors it is
        remembered by (whose memory fades)."""
        acq = self.scenario.acquisition
        decay = np.exp(-1.0 / acq.unhappy_memory_weeks)
        spend = self.state.acquisition_spend
        paid = (
            acq.leads_at_saturation_per_week
            * self.c.live
            * spend
            / (spend + acq.half_saturation_spend_per_week)
        )
        referrals = self.last_ladder @ self.p.referrals_weekly
        lost = acq.negative_referrals_per_unhappy_defector * self.unhappy * (1.0 - decay)
        rate = np.maximum(paid + referrals - lost, 0.0)
        self.unhappy *= decay
        # one scalar draw per firm, in firm order: the same draws as one draw of the array
        # (numpy draws an array's Poisson variates element by element), without the
        # array's checks and broadcasting (6 us a week against 1.5)
        leads = self.streams.leads
        return [leads.poisson(lam) for lam in rate.tolist()]

    def _shock_times(self) -> list[tuple[Shock, np.ndarray]]:
        out = []
        rng = self.streams.shocks
        for shock in self.scenario.shocks:
            if shock.week is not None:
                weeks = np.array([shock.week]) if shock.week < self.H else np.array([], int)
            else:
                assert shock.rate_per_year is not None
                count = rng.poisson(units.per_week(shock.rate_per_year * self.H))
                weeks = np.sort(rng.integers(0, self.H, size=count))
            out.append((shock, weeks))
        return out

    def _shock(self, shock: Shock, week: int):  # type: ignore[no-untyped-def]
        yield self.env.timeout(week + self.W - self.env.now)
        firm = self._firm_index(shock.firm) if shock.firm is not None else NONE
        self.shock_log.append(
            {"week": week, "kind": shock.kind, "firm": shock.firm, "size": shock.size}
        )
        if shock.kind == "substitute":
            self._substitute(week, shock.size)
            return
        if shock.kind == "reputation":
            self._reputation(week, firm, shock.size)
            self.shock_penalty[firm] += shock.penalty
            self._refresh_offer()
            yield self.env.timeout(shock.duration_weeks)
            self.shock_penalty[firm] -= shock.penalty
        else:  # price_cut
            self.price_factor[firm] *= 1.0 - shock.size
            self._refresh_offer()
            yield self.env.timeout(shock.duration_weeks)
            self.price_factor[firm] /= 1.0 - shock.size
        self._refresh_offer()

    def _firm_index(self, name: str) -> int:
        return [f.name for f in self.scenario.firms].index(name)

    def _substitute(self, week: int, hazard: float) -> None:
        """A substitute technology appears: every customer may adopt it and leave."""
        c = self.c
        self.substitute_hazard += hazard
        live = c.alive[: c.n].nonzero()[0]
        self._draw_substitute(live, week, hazard)

    def _draw_substitute(self, idx: np.ndarray, week: int, hazard: float) -> None:
        c, p = self.c, self.p
        prob = np.minimum(hazard * p.technology_affinity[c.segment[idx]], 1.0)
        when = defection.schedule(week, prob, self.streams.exits.random(len(idx)))
        earlier = when < c.exit_week[idx]
        c.exit_week[idx[earlier]] = when[earlier]
        c.exit_kind[idx[earlier]] = TECHNOLOGY

    def _reputation(self, week: int, firm: int, size: float) -> None:
        """A reputation event: some of the firm's customers leave it at once (political)."""
        c, p = self.c, self.p
        members = (c.primary[: c.n] == firm).nonzero()[0]
        share = np.minimum(size * p.political_sensitivity[c.segment[members]], 1.0)
        leave = members[self.streams.defection.random(len(members)) < share]
        if len(leave):
            self._end(
                week, leave, kind="political", reason=np.full(len(leave), POLITICAL, dtype=np.int8)
            )

    def _assign_leads(self, week: int, counts: list[int]) -> None:
        """Prospects drawn to each firm (``counts``: how many, by firm): random market members
        not already its customers.

        Targets are drawn among the customers in the market (not among array rows, some of
        which may be gone and awaiting compaction), so results do not depend on when the
        arrays are compacted."""
        c = self.c
        if not any(counts):
            return
        rng = self.streams.leads
        live = c.alive[: c.n].nonzero()[0]
        if not len(live):
            return
        for firm, count in enumerate(counts):
            if not count:
                continue
            rows = live.take(rng.integers(0, len(live), size=count))
            rows = rows[c.primary.take(rows) != firm]
            c.lead[rows] = firm
            self.recorder.add_one("leads", week, firm, len(rows))
            self._trace(week, rec.LEAD, rows, firm)
