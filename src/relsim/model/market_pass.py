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

from typing import Any

from relsim.domain import RUNGS
from relsim.model.allocator import keep_freed_memory
from relsim.model.census import COUNT_SLICE
from relsim.model.endings import Endings
from relsim.model.engine import Market
from relsim.model.per_market import EVERY
from relsim.model.population import BOND_FIELDS, NONE, SCALAR_FIELDS, Customers
from relsim.model.purchases import Purchases
from relsim.model.raw_run import RawRun
from relsim.model.relationships import Relationships
from relsim.model.shared_warm_up import forked
from relsim.scenario.model import Scenario, Strategy

N_RUNGS = len(RUNGS)
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

    def detached(self) -> Customers:
        """The same customers in arrays of their own."""
        own = Customers.__new__(Customers)
        own.__dict__.update(
            {k: v for k, v in self.__dict__.items() if k not in ("_storage", "_k")}
        )
        for name in (*SCALAR_FIELDS, *self.firm_fields, "alive"):
            setattr(own, name, getattr(self, name).copy())
        return own

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

    def cell_offsets(self, cells: int) -> np.ndarray:
        """``k x cells`` for every row of block ``k`` (kept until the blocks grow)."""
        held = getattr(self, "_cell_offsets", None)
        if held is None or len(held) != self.K * self.cap:
            held = np.repeat(np.arange(self.K) * cells, self.cap)
            self._cell_offsets = held
        return held

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


class MarketPass(Purchases, Relationships, Endings):
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
        "choice_rule",
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
        self._tables: tuple[tuple[int, ...], np.ndarray] | None = None

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
        for market in self.markets:
            market.begin_warm_up(ticking=False)
        for week in range(-self.W, 0):
            self._advance(week)
        share = (time.perf_counter() - started) / len(self.markets)
        for market in self.markets:
            market.env.run()  # to the launch point
            market.end_warm_up()
            market.warm_up_seconds = share

    def run_horizon(self) -> list[RawRun]:
        """Every market's horizon from its launch, stepped together; their arrays."""
        started = time.perf_counter()
        for market in self.markets:
            market.begin_horizon(ticking=False)
        for week in range(self.H):
            self._advance(week)
        share = (time.perf_counter() - started) / len(self.markets)
        runs = []
        for market in self.markets:
            market.env.run(until=self.W + self.H)
            market._started = time.perf_counter() - share
            runs.append(market.end_horizon())
        return runs

    def detached(self) -> None:
        """Give every market its own arrays again (copies of its block), so the pass's can
        go and a market can be copied (:func:`relsim.model.shared_warm_up.forked`)."""
        for market in self.markets:
            market.c = market.c.detached()

    def _advance(self, week: int) -> None:
        """Every market up to ``week``'s step, then the step."""
        at = week + self.W + 0.75
        for market in self.markets:
            market.env.run(until=at)
        self.step(week)

    def step(self, week: int) -> None:
        """The week's step of every market: endings and occasions once over the pass's
        arrays, then each market's own work (mechanisms, records, costs)."""
        c = self.c
        for market in self.markets:
            market.customer_weeks += market.c.live
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
        code = c.primary.astype(np.intp)
        code += 1
        code *= N_RUNGS
        code += c.rung
        code += self.storage.cell_offsets(cells)
        counts = np.bincount(code, minlength=K * cells).reshape(K, cells)
        names = ("satisfaction", "trust") if week >= 0 else ()
        sums = {
            name: np.bincount(code, weights=getattr(c, name), minlength=K * cells).reshape(
                K, cells
            )
            for name in names
        }
        for k, market in enumerate(self.markets):
            market._record_census(week, counts[k], {name: sums[name][k] for name in names})

    # ------------------------------------------------------------------ per market
    def _each_market(self, rows: np.ndarray) -> list[tuple[Market, np.ndarray, Any]]:
        """Rows ascending (the week's occasions, endings) give each market a slice; others
        are ordered by market first (a stable sort keeps each market's own order)."""
        if not len(rows):
            return []
        cap = self.storage.cap
        market = rows // cap
        first, last = int(market[0]), int(market[-1])
        if first == last and (len(rows) < 3 or not (market != first).any()):
            return [(self.markets[first], rows - first * cap, EVERY)]
        counts = np.bincount(market, minlength=len(self.markets))
        bounds = np.cumsum(counts).tolist()
        held = counts.nonzero()[0].tolist()
        if not (market[1:] < market[:-1]).any():  # ascending by market: slices
            local = rows - market * cap
            out = []
            for k in held:
                at = slice(bounds[k] - int(counts[k]), bounds[k])
                out.append((self.markets[k], local[at], at))
            return out
        order = np.argsort(market, kind="stable")
        local = rows.take(order)
        local -= market.take(order) * cap
        out = []
        for k in held:
            start = bounds[k] - int(counts[k])
            out.append((self.markets[k], local[start : bounds[k]], order[start : bounds[k]]))
        return out

    def _uniform(self, purpose: str, rows: np.ndarray, dtype: type = np.float64) -> np.ndarray:
        parts = self._each_market(rows)
        if len(parts) == 1:
            return getattr(parts[0][0].streams, purpose).random(len(rows), dtype=dtype)
        out = np.empty(len(rows), dtype=dtype)
        for market, local, at in parts:
            out[at] = getattr(market.streams, purpose).random(len(local), dtype=dtype)
        return out

    def _gammas(self, purpose: str, rows: np.ndarray, shape: np.ndarray) -> np.ndarray:
        out = np.empty(len(rows))
        for market, _, at in self._each_market(rows):
            out[at] = getattr(market.streams, purpose).gamma(shape[at])
        return out

    def _by_firm(self, name: str, firm: np.ndarray, rows: np.ndarray) -> np.ndarray:
        arrays = [getattr(market, name) for market in self.markets]
        width = len(arrays[0])
        code = (rows // self.storage.cap) * width
        code += firm
        code += np.where(firm < 0, width, 0)  # NONE: the last entry, as take(-1) gives
        return np.concatenate(arrays).take(code)

    def _choice_tables(
        self, rows: np.ndarray, cell: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        versions = tuple(id(market.table_by_cell) for market in self.markets)
        if self._tables is None or self._tables[0] != versions:
            stacked = np.concatenate([market.table_by_cell for market in self.markets], axis=1)
            self._tables = (versions, stacked, [m.table_by_cell for m in self.markets])
        cells = self.markets[0].table_by_cell.shape[1]
        code = (rows // self.storage.cap) * cells
        code += cell
        return self.markets[0].table, self._tables[1], code

    def any_assortment(self) -> bool:
        return any(market.assortment for market in self.markets)

    def _reopened(self, rows: np.ndarray, week: int) -> np.ndarray:
        out = np.zeros(len(rows), dtype=bool)
        for market, local, at in self._each_market(rows):
            out[at] = market._reopened(local, week)
        return out

    def _factors(self, rows: np.ndarray, factor: Any) -> np.ndarray | None:
        """Per market ``factor(market, local, at)`` (an array or None), ones where None."""
        out = None
        for market, local, at in self._each_market(rows):
            part = factor(market, local, at)
            if part is not None:
                if out is None:
                    out = np.ones(len(rows))
                out[at] = part
        return out

    def _lapse_factor(self, rows: np.ndarray, week: int) -> np.ndarray | None:
        return self._factors(rows, lambda market, local, at: market._lapse_factor(local, week))

    def _climb_factor(
        self, rows: np.ndarray, primary: np.ndarray | int, week: int
    ) -> np.ndarray | None:
        def factor(market: Market, local: np.ndarray, at: Any) -> np.ndarray | None:
            own = primary if isinstance(primary, int | np.integer) else primary[at]
            return market._climb_factor(local, own, week)

        return self._factors(rows, factor)

    def _rewards_earned(
        self, week: int, rows: np.ndarray, firm: np.ndarray, revenue: np.ndarray
    ) -> np.ndarray | None:
        out = None
        for market, local, at in self._each_market(rows):
            part = market._rewards_earned(week, local, firm[at], revenue[at])
            if part is not None:
                if out is None:
                    out = np.zeros(len(rows))  # earning nothing back: paid - 0.0 is paid
                out[at] = part
        return out

    def _record_add(self, name: str, week: int, firm: np.ndarray, rows: np.ndarray) -> None:
        for market, _, at in self._each_market(rows):
            market.recorder.add(name, week, firm[at], self.F)

    def _count_unhappy(self, rows: np.ndarray, old: np.ndarray) -> None:
        for market, local, at in self._each_market(rows):
            market._count_unhappy(local, old[at])

    def _add_ever_bought(self, rows: np.ndarray, firm: np.ndarray) -> None:
        for market, local, at in self._each_market(rows):
            market._add_ever_bought(local, firm[at])

    def _focal_orders(
        self,
        week: int,
        rows: np.ndarray,
        seg: np.ndarray,
        value: np.ndarray,
        revenue: np.ndarray,
        rewards: np.ndarray | None,
        felt: np.ndarray,
        premium: np.ndarray | None,
    ) -> None:
        for market, local, at in self._each_market(rows):
            market._focal_orders(
                week,
                local,
                seg[at],
                value[at],
                revenue[at],
                None if rewards is None else rewards[at],
                felt[at],
                None if premium is None else premium[at],
            )

    def _count_primary_orders(
        self, week: int, b: np.ndarray, new: tuple[slice, slice], with_primary: tuple[slice, slice]
    ) -> None:
        for market, local, at in self._each_market(b):
            inside = np.zeros(len(b), dtype=bool)
            inside[at] = True
            starting = sum(int(inside[part].sum()) for part in new)
            at_primary = sum(int(inside[part].sum()) for part in with_primary)
            market.recorder.market["orders_with_primary"][week] += len(local) - starting
            market.recorder.market["orders_at_primary"][week] += at_primary

    def _exit(self, week: int, rows: np.ndarray) -> None:
        for market, local, _ in self._each_market(rows):
            market._exit(week, local)

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
        for market, local, at in self._each_market(rows):
            market._record_endings(
                week,
                local,
                old[at],
                reason[at],
                chance[at],
                None if to_firm is None else to_firm[at],
                renewal if isinstance(renewal, bool) else renewal[at],
            )

    def _traced(self, rows: np.ndarray) -> np.ndarray:
        return self.c.traced.take(rows).nonzero()[0]

    def _trace(
        self,
        week: int,
        event: int,
        rows: np.ndarray,
        firm: Any = NONE,
        rung: Any = 0,
        amount: Any = 0.0,
    ) -> None:
        keep = self._traced(rows)
        if not len(keep):
            return
        firm, rung, amount = (_pick(x, keep) for x in (firm, rung, amount))
        for market, local, at in self._each_market(rows.take(keep)):
            market._trace(week, event, local, _pick(firm, at), _pick(rung, at), _pick(amount, at))


def _pick(x: Any, at: Any) -> Any:
    """``x`` at ``at`` if it is an array (aligned with the rows), else ``x``."""
    return x[at] if isinstance(x, np.ndarray) else x


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
    keep_freed_memory()
    groups: dict[object, list[int]] = {}
    for i, (_, seed) in enumerate(tasks):
        groups.setdefault(_seed_key(seed), []).append(i)
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
