"""Several independent markets of one scenario, simulated together week by week (a pass).

At ten thousand customers most of a week's time is the fixed cost of a few hundred numpy calls,
not customers (docs/architecture.md). A pass holds K markets' customers in one set of arrays,
one block of rows per market, so that the week's work over customers is done once for all K.

**The promise**: a market's numbers do not depend on the pass it runs in. Every market keeps its
own random streams, SimPy environment, mechanisms, ledger and records; the pass only shares the
arrays. Each market's :class:`~relsim.model.population.Customers` are views of its block
(:class:`BlockCustomers`), so everything a market does on its own (births, leads, shocks, the
mechanisms) works on its local rows, unchanged; row ``r`` of market ``k`` is row
``k x cap + r`` of the pass's arrays. Rows past a market's ``n`` hold the fill values (as in
any :class:`~relsim.model.population.Customers`), so a scan of the pass's arrays never finds
them due.

The markets advance in lockstep: each environment runs up to the week's step (three quarters
into the week; births come at a quarter, leads at a half, launches, staffing and shocks at its
start), then the pass steps every market. Events of the same time keep their order, since no
event but the step falls on it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from relsim.model.allocator import keep_freed_memory
from relsim.model.engine import Market
from relsim.model.population import BOND_FIELDS, SCALAR_FIELDS, Customers
from relsim.model.raw_run import RawRun

GROWTH = 1.25
"""A pass whose block fills grows every block by this factor (births outpacing exits)."""


class BlockCustomers(Customers):
    """A market's customers, held in its block of a pass's arrays (each field a view)."""

    def __init__(self, own: Customers, storage: PassStorage, k: int):
        self.__dict__.update(own.__dict__)
        self.firm_fields = dict(own.firm_fields)
        self._storage = storage
        self._k = k

    def _alloc(self, capacity: int) -> None:
        self._storage.grow(capacity)

    def use(self, name: str) -> None:
        if name in self.firm_fields:
            return
        self.firm_fields[name] = BOND_FIELDS[name]
        self._storage.use(name)


class PassStorage:
    """The arrays of a pass: market ``k``'s rows are ``k x cap .. k x cap + cap``; ``c`` holds
    them all (a :class:`Customers` whose ``n`` is every row, inert rows included)."""

    def __init__(self, customers: Sequence[Customers]):
        self.K = len(customers)
        self.F = customers[0].n_firms
        self.cap = max(own._capacity for own in customers)
        self.c = Customers(self.F, self.K * self.cap)
        for own in customers:
            for name in own.firm_fields:
                if name in BOND_FIELDS:
                    self.c.use(name)
        self.members = [BlockCustomers(own, self, k) for k, own in enumerate(customers)]
        for k, own in enumerate(customers):
            for name in self._names():
                getattr(self.c, name)[self._block(k)][: own.n] = getattr(own, name)[: own.n]
        self.c.n = self.K * self.cap
        self._bind()

    def _names(self) -> list[str]:
        return [*SCALAR_FIELDS, *self.c.firm_fields, "alive"]

    def _block(self, k: int) -> slice:
        return slice(k * self.cap, (k + 1) * self.cap)

    def _bind(self) -> None:
        for k, member in enumerate(self.members):
            for name in self._names():
                setattr(member, name, getattr(self.c, name)[self._block(k)])
            member._capacity = self.cap

    def offset(self, k: int) -> int:
        """Market ``k``'s first row in the pass's arrays."""
        return k * self.cap

    def grow(self, capacity: int) -> None:
        """Every block to at least ``capacity`` rows (one market's births need them)."""
        cap = max(capacity, int(GROWTH * self.cap) + 16)
        old, old_cap = self.c, self.cap
        new = Customers(self.F, self.K * cap)
        for name in old.firm_fields:
            if name in BOND_FIELDS:
                new.use(name)
        for k, member in enumerate(self.members):
            for name in self._names():
                start = k * old_cap
                getattr(new, name)[k * cap : k * cap + member.n] = getattr(old, name)[
                    start : start + member.n
                ]
        self.c, self.cap = new, cap
        self.c.n = self.K * cap
        self._bind()

    def use(self, name: str) -> None:
        """Bond field ``name`` for every block (a market that does not use it ignores it)."""
        if not self.c.uses(name):
            self.c.use(name)
            self._bind()


class MarketPass:
    """Markets of one scenario simulated together; :meth:`run` returns each one's
    :class:`~relsim.model.raw_run.RawRun`, the same arrays as it would give alone."""

    def __init__(self, markets: Sequence[Market]):
        if not markets:
            raise ValueError("a pass needs at least one market")
        scenarios = {id(market.scenario) for market in markets}
        if len(scenarios) > 1:
            raise ValueError("the markets of a pass share one scenario")
        self.markets = list(markets)
        self.storage = PassStorage([market.c for market in self.markets])
        for market, member in zip(self.markets, self.storage.members, strict=True):
            market.c = member
        first = self.markets[0]
        self.W, self.H = first.W, first.H

    def run(self) -> list[RawRun]:
        """Warm-up and horizon of every market, stepped together."""
        keep_freed_memory()
        started = time.perf_counter()
        for market in self.markets:
            market.begin_warm_up(ticking=False)
        for week in range(-self.W, 0):
            self._advance(week)
        for market in self.markets:
            market.env.run()  # to the launch point
            market.end_warm_up()
            market.begin_horizon(ticking=False)
        for week in range(self.H):
            self._advance(week)
        share = (time.perf_counter() - started) / len(self.markets)
        runs = []
        for market in self.markets:
            market.env.run(until=self.W + self.H)
            market.warm_up_seconds = share
            runs.append(market.end_horizon())
        return runs

    def _advance(self, week: int) -> None:
        """Every market up to ``week``'s step, then the step."""
        at = week + self.W + 0.75
        for market in self.markets:
            market.env.run(until=at)
        self.step(week)

    def step(self, week: int) -> None:
        """The week's step of every market."""
        for market in self.markets:
            market.step(week)


def simulate_pass(
    scenario: object, tasks: Sequence[tuple[object, int | np.random.SeedSequence]]
) -> list[RawRun]:
    """Replications ``tasks`` (strategy, seed) of ``scenario`` in one pass: the same arrays as
    :func:`relsim.model.engine.simulate_arrays` gives for each."""
    markets = [Market(scenario, strategy, seed) for strategy, seed in tasks]  # type: ignore[arg-type]
    return MarketPass(markets).run()
