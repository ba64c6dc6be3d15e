"""The week's births and leads for every market of a pass at once
(:mod:`relsim.model.market_pass`).

Alone, a market's births are a SimPy process that wakes a quarter into each week and adds its
newborns (:meth:`relsim.model.events.Events._births`, :meth:`relsim.model.arrivals.Arrivals.
_add_customers`): some forty numpy calls on a few rows, for each market, every week. A pass
brings every market to that point and adds all the markets' newborns together: each market
still draws its own numbers from its own streams, in its own order (how many are born, their
segments, each segment's traits, who is traced, their exits, their first occasions), so its
numbers are those it has alone; the arithmetic and the writes on the newborns' rows are done
once for the pass. Leads likewise (half into the week): each market's counts and its picks
among its own customers from its own stream, the prospects marked once for the pass.

An event of a market's own that falls exactly on a quarter or a half of a week (none does but
births and leads; a lag drawn from a continuous distribution could, with probability zero)
would come after them here, where alone it could come first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from relsim.domain import MARKET
from relsim.model import defection
from relsim.model import records as rec
from relsim.model.arrivals import segment_draws, set_traits


class PassArrivals:
    """Births of every market of a pass (module docstring). Needs ``markets``, ``storage``,
    ``c``, ``p``, ``scenario``, the pass's ``_next_occasion`` and ``_trace`` and its tallies
    (:mod:`relsim.model.pass_tallies`)."""

    def _births_phase(self, week: int) -> None:
        """Every market's births of ``week``, as each market has them alone."""
        born = []
        for k, market in enumerate(self.markets):
            count = market._birth_count(week)
            if count:
                born.append((k, market, market.c.add(count)))
        if not born:
            return
        cap = self.storage.cap  # after every add: a block that filled re-laid all of them out
        rows = np.concatenate([np.arange(k * cap + s.start, k * cap + s.stop) for k, _, s in born])
        self._newborns(week, born, rows)
        self._trace(week, rec.BORN, rows)
        self._record_market("births", week, self._by_market(rows))

    def _newborns(self, week: int, born: list[tuple[int, Any, slice]], rows: np.ndarray) -> None:
        """The newborns' traits, exits and first occasions (``rows``: theirs in the pass's
        numbering, market by market): each market's draws in its order, the rest at once."""
        segments = self.scenario.segments
        drawn: list[list[tuple[np.ndarray, tuple[Any, ...]]]] = [[] for _ in segments]
        segs, traced, exits = [], [], []
        at = 0
        for _, market, local in born:
            count = local.stop - local.start
            own = rows[at : at + count]
            at += count
            pop = market.streams.population
            seg = market._draw_segments(count)
            for s, segment in enumerate(segments):
                members = (seg == s).nonzero()[0]
                if len(members):
                    drawn[s].append((own.take(members), segment_draws(pop, segment, len(members))))
            segs.append(seg)
            traced.append(pop.random(count))
            exits.append(market.streams.exits.random(count))
        c = self.c
        seg = np.concatenate(segs)
        c.segment[rows] = seg
        c.born[rows] = week
        for s, segment in enumerate(segments):
            if drawn[s]:
                members = np.concatenate([m for m, _ in drawn[s]])
                set_traits(c, members, segment, *_joined([d for _, d in drawn[s]]))
        c.traced[rows] = np.concatenate(traced) < self.scenario.trace_share
        u = np.concatenate(exits)
        c.exit_week[rows] = defection.schedule(week, self.p.relocation_weekly[seg], u)
        c.exit_kind[rows] = MARKET
        for _, market, local in born:
            if market.substitute_hazard > 0:
                idx = np.arange(local.start, local.stop)
                market._draw_substitute(idx, week, market.substitute_hazard)
        c.next_occasion[rows] = self._next_occasion(rows, week)

    def _leads_phase(self, week: int) -> None:
        """Every market's leads of ``week``, as each market has them alone
        (:meth:`relsim.model.events.Events._assign_leads`): each market's counts and its picks
        among its own customers from its own stream, firm by firm; the picks marked and
        counted for the pass, firm by firm."""
        asked = [(k, market, market._lead_counts(week)) for k, market in enumerate(self.markets)]
        asked = [(k, market, counts) for k, market, counts in asked if any(counts)]
        if not asked:
            return
        c, cap, F = self.c, self.storage.cap, self.F
        live = c.alive.nonzero()[0]  # every market's customers, block by block
        bounds = live.searchsorted(np.arange(len(self.markets) + 1) * cap).tolist()
        picks: list[list[np.ndarray]] = [[] for _ in range(F)]
        for k, market, counts in asked:
            own = live[bounds[k] : bounds[k + 1]]
            if not len(own):
                continue
            rng = market.streams.leads
            for firm, count in enumerate(counts):
                if count:
                    picks[firm].append(own.take(rng.integers(0, len(own), size=count)))
        for firm in range(F):
            if not picks[firm]:
                continue
            rows = np.concatenate(picks[firm])
            rows = rows[c.primary.take(rows) != firm]
            c.lead[rows] = firm
            if 0 <= week < self._weeks:
                self._counts["leads"][:, week, firm] += self._by_market(rows)
            self._trace(week, rec.LEAD, rows, firm)


def _joined(draws: list[tuple[Any, ...]]) -> list[Any]:
    """The markets' draws for one segment, each kind joined (None where none was drawn)."""
    kinds = zip(*draws, strict=True)
    return [None if parts[0] is None else np.concatenate(parts) for parts in kinds]
