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
from typing import Any

import numpy as np

from relsim.domain import RUNGS
from relsim.model.allocator import keep_freed_memory
from relsim.model.census import COUNT_SLICE
from relsim.model.endings import Endings
from relsim.model.engine import Market, simulate_arrays
from relsim.model.many_markets import ManyMarkets
from relsim.model.pass_arrivals import PassArrivals
from relsim.model.pass_bonds import PassBonds
from relsim.model.pass_storage import PassStorage
from relsim.model.pass_tallies import PassTallies
from relsim.model.population import Customers
from relsim.model.purchases import Purchases
from relsim.model.raw_run import RawRun
from relsim.model.relationships import Relationships
from relsim.model.residual import Residual
from relsim.model.shared_warm_up import forked, strategy_runs
from relsim.scenario.model import Scenario, Strategy

N_RUNGS = len(RUNGS)
"""A pass whose block fills grows every block by this factor (births outpacing exits)."""


class MarketPass(
    PassTallies, PassBonds, ManyMarkets, PassArrivals, Purchases, Relationships, Endings, Residual
):
    """Markets of one scenario simulated together; :meth:`run` returns each one's
    :class:`~relsim.model.raw_run.RawRun`, the same arrays as it would give alone.

    The week's rules (:mod:`~relsim.model.purchases`, :mod:`~relsim.model.endings`,
    :mod:`~relsim.model.relationships`) run once over the pass's arrays; where they ask for a
    market's own parts (:mod:`relsim.model.per_market`), the answers below are given market
    by market, each market's rows in the order they have alone."""

    SHARED = (
        "scenario",
        "p",
        "F",
        "W",
        "H",
        "any_contractual",
        "price_weight",
        "recency",
        "trust_rule",
        "any_periodic",
        "lapse_exponent_bound",
        "rule",
        "terms",
        "logit",
        "outside_weight",
        "varied_order_values",
        "discount",
    )
    """What every market of one scenario holds alike: the rules read it from the first."""

    def __init__(self, markets: Sequence[Market]):
        if not markets:
            raise ValueError("a pass needs at least one market")
        if len({id(market.scenario) for market in markets}) > 1:
            raise ValueError("the markets of a pass share one scenario")
        self.markets = list(markets)
        self.storage = PassStorage([market.c for market in self.markets])
        for market, member in zip(self.markets, self.storage.members, strict=True):
            market.c = member
        for name in self.SHARED:
            setattr(self, name, getattr(self.markets[0], name))
        self._stack_tallies()
        self._stack_bonds()
        # the last few answers of _each_market (many_markets.PARTITIONS_KEPT)
        self._partitions: list[tuple[np.ndarray, np.ndarray, int, list[Any]]] = []
        # the stacked utility tables, keyed by the markets' tables' ids (kept alive beside)
        self._tables: tuple[tuple[int, ...], np.ndarray, list[np.ndarray]] | None = None

    @property
    def c(self) -> Customers:  # type: ignore[override]
        """Every market's customers (the blocks), rows numbered across the pass."""
        return self.storage.c

    observed_value = Market.observed_value

    def now_week(self) -> int:
        return self.markets[0].now_week()

    def run(self) -> list[RawRun]:
        """Warm-up and horizon of every market, stepped together."""
        self.run_warm_up()
        return self.run_horizon()

    def run_warm_up(self) -> None:
        """Every market's warm-up, stepped together, up to its launch point."""
        started = time.perf_counter()
        self._collect_traces()
        for market in self.markets:
            market.begin_warm_up(ticking=False)
        for week in range(-self.W, 0):
            self._advance(week)
        share = (time.perf_counter() - started) / len(self.markets)
        for market in self.markets:
            market.env.run()  # to the launch point
            market.end_warm_up()
            market.warm_up_seconds = share
        self._hand_over_traces()

    def run_horizon(self) -> list[RawRun]:
        """Every market's horizon from its launch, stepped together; their arrays."""
        started = time.perf_counter()
        for market in self.markets:
            market.begin_horizon(ticking=False)
        self._collect_defections()
        self._collect_traces(journeys=True)
        for week in range(self.H):
            self._advance(week)
        for market in self.markets:
            market.env.run(until=self.W + self.H)
        self._hand_over_defections()
        self._hand_over_traces()
        share = (time.perf_counter() - started) / len(self.markets)
        runs = []
        for market in self.markets:
            market._started = time.perf_counter() - share
            runs.append(market.end_horizon())
        return runs

    def detached(self) -> None:
        """Give every market its own arrays again (copies of its block), so the pass's can
        go and a market can be copied (:func:`relsim.model.shared_warm_up.forked`)."""
        for market in self.markets:
            market.c = market.c.detached()

    def _advance(self, week: int) -> None:
        """``week`` for every market: its environment runs to the week's births (a quarter
        into it), then to its leads (half), then to its step (three quarters), each done for
        every market at once when all are there."""
        start = week + self.W
        self._run_until(start + 0.25)
        self._births_phase(week)
        self._run_until(start + 0.5)
        self._leads_phase(week)
        for market in self.markets:
            market.env.run(until=start + 0.75)
        self.step(week)

    def _run_until(self, until: float) -> None:
        """Every market's events before ``until``, as ``run(until=...)`` processes them, but
        step by step: most weeks there is none (only what ``run`` leaves at its stop, the
        previous stop's spent event), and ``run`` costs a stop event and an exception each
        time. The clock then stays at the last event, not at ``until``: births and leads do not
        read it, and the step's ``run`` sets it."""
        for market in self.markets:
            env = market.env
            while env.peek() < until:
                env.step()

    def step(self, week: int) -> None:
        """The week's step of every market: endings and occasions once over the pass's
        arrays, then each market's own work (mechanisms, records, costs)."""
        c = self.c
        for market in self.markets:
            market.customer_weeks += market.c.live
            market.bonds.settle_epoch(week)
        exits, candidates = c.ending(week)
        if len(exits) or len(candidates):
            self._leave(week, exits, candidates)
        due = (c.next_occasion == week).nonzero()[0]
        if len(due):
            self._occasions(week, due)
        for market in self.markets:
            market.mechanisms_work(week)
        self._census(week)
        for market in self.markets:
            market.close_week(week)

    def _census(self, week: int) -> None:
        """Every market's census from one count over the pass's arrays: the cells numbered
        by market, so each market's totals add its own rows in their order, as alone (a
        market adds its rows in slices of ``COUNT_SLICE``; blocks larger than that are
        counted market by market)."""
        cap = self.storage.cap
        if cap > COUNT_SLICE:
            for market in self.markets:
                market._count(week)
            return
        c, K = self.c, len(self.markets)
        cells = (self.F + 1) * N_RUNGS
        code = self.storage.cell_codes(c.primary, c.rung, N_RUNGS)
        counts = np.bincount(code, minlength=K * cells).reshape(K, cells)
        names = ("satisfaction", "trust") if week >= 0 else ()
        sums = {
            name: np.bincount(code, weights=getattr(c, name), minlength=K * cells).reshape(K, cells)
            for name in names
        }
        self._census_records(week, counts, sums)


def simulate_markets(
    scenario: Scenario, tasks: Sequence[tuple[Strategy, int | np.random.SeedSequence]]
) -> list[RawRun]:
    """Replications ``tasks`` (strategy, seed) of ``scenario`` in one pass: for each, the
    arrays :func:`relsim.model.engine.simulate_arrays` gives, to the bit. The tasks of one
    seed share its warm-up (:mod:`relsim.model.shared_warm_up`): the warm-ups of the distinct
    seeds run as one pass, each is copied for its seed's strategies, and the horizons run as
    a second pass. Memory: every market of the pass at once."""
    if not tasks:
        return []
    if len(tasks) == 1:  # nothing to share: the market alone, which lets its state go early
        return [simulate_arrays(scenario, *tasks[0])]
    groups: dict[object, list[int]] = {}
    for i, (_, seed) in enumerate(tasks):
        groups.setdefault(_seed_key(seed), []).append(i)
    if not pays(scenario):
        return _seed_by_seed(scenario, tasks, groups)
    keep_freed_memory()
    warm = [Market(scenario, tasks[idx[0]][0], tasks[idx[0]][1]) for idx in groups.values()]
    warming = MarketPass(warm)
    warming.run_warm_up()
    warming.detached()
    del warming
    markets: list[Market | None] = [None] * len(tasks)
    for market, idx in zip(warm, groups.values(), strict=True):
        market.warm_up_seconds /= len(idx)
        for j, i in enumerate(idx):
            copy = market if j == len(idx) - 1 else forked(market)  # the last takes the original
            copy.strategy = tasks[i][0]
            markets[i] = copy
    del warm
    return MarketPass(markets).run_horizon()  # type: ignore[arg-type]


def _seed_key(seed: int | np.random.SeedSequence) -> object:
    """What tells two seeds apart (equal keys: the same streams)."""
    if isinstance(seed, np.random.SeedSequence):
        return (repr(seed.entropy), seed.spawn_key, seed.pool_size)
    return int(seed)


PASS_MAX_CUSTOMERS = 30_000
"""Markets this large or larger are not stepped together: the week's work per market outweighs
its fixed cost, and the pass's larger arrays and per-market answers cost what sharing saves.
Measured with ``python benchmarks/pass_break_even.py --sizes 5000 10000 20000 30000 50000
--pairs 4`` (the default scenario, 52 + 26 weeks, two seeds' six strategies: one pass against
one seed after another, CPU seconds, 2026-12-07, after births, leads, tallies, census and
defections went to the pass): the pass 1.41x faster at 5 000 customers, 1.26x at 10 000,
1.30x at 20 000, 1.06x at 30 000, 0.98x at 50 000. Valgrind's instructions say less (1.08x at
10 000: 9.55 -> 8.85 billion net of start-up): the time a market alone spends that they do not
count (memory traffic of its many small arrays) is not measured apart."""


def pays(scenario: Scenario) -> bool:
    """Whether a pass of this scenario's markets is faster than one after another."""
    return scenario.market.customers < PASS_MAX_CUSTOMERS


def _seed_by_seed(
    scenario: Scenario,
    tasks: Sequence[tuple[Strategy, int | np.random.SeedSequence]],
    groups: dict[object, list[int]],
) -> list[RawRun]:
    """The tasks one seed after another, each seed's strategies sharing its warm-up."""
    runs: list[RawRun | None] = [None] * len(tasks)
    for idx in groups.values():
        strategies = [tasks[i][0] for i in idx]
        for i, run in zip(idx, strategy_runs(scenario, strategies, tasks[idx[0]][1]), strict=True):
            runs[i] = run
    return runs  # type: ignore[return-value]
