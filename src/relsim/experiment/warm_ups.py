"""Warmed-up markets kept for the next task that needs the same warm-up (an optimization's).

An optimization's trials differ only in the levers of the strategy it optimizes, and every
trial runs the same replications (common random numbers), so replication ``r`` of every trial
starts from the same warm-up whenever the optimized strategy is not the baseline (the warm-up
runs the baseline, the status quo) and no lever is a field of the scenario itself. A process
keeps the warmed-up markets it made, by what a warm-up depends on (:func:`warm_up_key`: the
scenario with only its baseline strategy) and the seed, and runs later trials' replications
from a copy (:func:`relsim.model.shared_warm_up.forked`): the same numbers as a run from the
start, as the shared warm-up of one replication's strategies gives them.

What is kept is bounded by its measured size (:data:`BUDGET_BYTES` per process: the bytes of
every array a kept market holds, its scratch buffers dropped first; the least recently used
goes first); a market too large for it is not kept. Where keys never repeat (a lever on the
baseline or on the market) the store fills to its budget and reuses nothing, at the cost of a
copy per run (about 1% of a run). An optimization clears the store of its own process when it
ends, however it ends; its worker processes end with their pool.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator

import numpy as np

from relsim.model.allocator import keep_freed_memory
from relsim.model.engine import Market
from relsim.model.raw_run import RawRun
from relsim.model.shared_warm_up import forked
from relsim.model.streams import as_seed_sequence
from relsim.scenario.model import Scenario, Strategy

BUDGET_BYTES = 200_000_000
"""Measured memory of the warmed-up markets one process keeps at most."""


def warm_up_key(scenario: Scenario) -> str:
    """What a warm-up depends on: a digest of the scenario with its baseline strategy only
    (the warm-up runs the status quo; no other strategy is read before week 0)."""
    data = scenario.model_dump(mode="json")
    data["strategies"] = [s for s in data["strategies"] if s["name"] == scenario.baseline_strategy]
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class WarmUps:
    """A bounded store of warmed-up markets (see the module docstring); thread-safe."""

    def __init__(self, budget_bytes: int = BUDGET_BYTES):
        self.budget = budget_bytes
        self.kept: OrderedDict[tuple[object, ...], tuple[Market, int]] = OrderedDict()
        self.held = 0  # bytes of what is kept
        self.reused = 0  # runs that started from a kept warm-up
        self.lock = threading.Lock()

    def simulate(
        self, scenario: Scenario, strategy: Strategy, seed: int | np.random.SeedSequence
    ) -> RawRun:
        """One replication, as :func:`relsim.model.simulate_arrays` gives it, from a kept
        warm-up when there is one (its ``seconds`` then count the horizon only)."""
        keep_freed_memory()  # as simulate_arrays does (the worker processes' allocator)
        sequence = as_seed_sequence(seed)
        key = (warm_up_key(scenario), str(sequence.entropy), sequence.spawn_key)
        with self.lock:
            found = self.kept.get(key)
            if found is not None:
                self.kept.move_to_end(key)
                self.reused += 1
        if found is not None:
            market = forked(found[0])
            market.warm_up_seconds = 0.0
        else:
            warm = Market(scenario, strategy, sequence)
            warm.warm_up()
            market = self._keep(key, warm)
        market.scenario = scenario  # equal to the warm-up's but for the other strategies
        market.strategy = strategy
        return market.horizon()

    def _keep(self, key: tuple[object, ...], warm: Market) -> Market:
        """Keep ``warm`` (dropping the least recently used to fit) and return a copy to run;
        a market larger than the budget is run itself, not kept."""
        warm._buffers = {}  # scratch arrays (about 1 MB), made again when needed
        size = held_bytes(warm)
        if size > self.budget:
            return warm
        with self.lock:
            while self.kept and self.held + size > self.budget:
                self.held -= self.kept.popitem(last=False)[1][1]
            self.kept[key] = (warm, size)
            self.held += size
        return forked(warm)

    def clear(self) -> None:
        """Let every kept market go."""
        with self.lock:
            self.kept.clear()
            self.held = 0

    @contextlib.contextmanager
    def kept_until_done(self) -> Iterator[None]:
        """Around an optimization: what this process kept for its trials (``workers=1``)
        goes when it ends, however it ends (worker processes end with their pool)."""
        try:
            yield
        finally:
            self.clear()


def held_bytes(market: Market) -> int:
    """The bytes of every numpy array a market holds (its customers, records, ledger,
    mechanisms' state), each array once; the shared scenario and strategies left out."""
    skip = {id(market.scenario), id(market.strategy), id(market.status_quo)}
    seen: set[int] = set()
    total = 0
    todo: list[object] = [market]
    while todo:
        thing = todo.pop()
        if id(thing) in seen or id(thing) in skip:
            continue
        seen.add(id(thing))
        if isinstance(thing, np.ndarray):
            total += thing.nbytes
        elif isinstance(thing, dict):
            todo.extend(thing.values())
        elif isinstance(thing, list | tuple | set):
            todo.extend(thing)
        elif hasattr(thing, "__dict__") and not isinstance(thing, type):
            todo.extend(vars(thing).values())
    return total


WARM_UPS = WarmUps()
"""This process's store (an optimization's trials, :func:`relsim.experiment.pool.summarize`)."""
