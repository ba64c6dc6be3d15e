"""Warmed-up markets kept for the next task that needs the same warm-up (an optimization's).

An optimization's trials differ only in the levers of the strategy it optimizes, and every
trial runs the same replications (common random numbers), so replication ``r`` of every trial
starts from the same warm-up whenever the optimized strategy is not the baseline (the warm-up
runs the baseline, the status quo) and no lever is a field of the scenario itself. A process
keeps the warmed-up markets it made, by what a warm-up depends on (:func:`warm_up_key`: the
scenario with only its baseline strategy) and the seed, and runs later trials' replications
from a copy (:func:`relsim.model.shared_warm_up.forked`): the same numbers as a run from the
start, as the shared warm-up of one replication's strategies gives them.

What is kept is bounded by an estimate of its memory (:data:`BUDGET_BYTES` per process, the
least recently used dropped first); a market too large for it is not kept. The optimization
clears the store of its own process when it ends; its worker processes end with their pool.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterator

import numpy as np

from relsim.experiment import limits
from relsim.model.engine import Market
from relsim.model.raw_run import RawRun
from relsim.model.shared_warm_up import forked
from relsim.model.streams import as_seed_sequence
from relsim.scenario.model import Scenario, Strategy

BUDGET_BYTES = 300_000_000
"""Estimated memory of the warmed-up markets one process keeps at most."""


def warm_up_key(scenario: Scenario) -> str:
    """What a warm-up depends on: a digest of the scenario with its baseline strategy only
    (the warm-up runs the status quo; no other strategy is read before week 0)."""
    data = scenario.model_dump(mode="json")
    data["strategies"] = [s for s in data["strategies"] if s["name"] == scenario.baseline_strategy]
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class WarmUps:
    """A bounded store of warmed-up markets (see the module docstring)."""

    def __init__(self, budget_bytes: int = BUDGET_BYTES):
        self.budget = budget_bytes
        self.kept: OrderedDict[tuple[object, ...], tuple[Market, int]] = OrderedDict()
        self.reused = 0  # runs that started from a kept warm-up

    def simulate(
        self, scenario: Scenario, strategy: Strategy, seed: int | np.random.SeedSequence
    ) -> RawRun:
        """One replication, as :func:`relsim.model.simulate_arrays` gives it, from a kept
        warm-up when there is one (its ``seconds`` then count the horizon only)."""
        sequence = as_seed_sequence(seed)
        key = (warm_up_key(scenario), str(sequence.entropy), sequence.spawn_key)
        if key in self.kept:
            self.kept.move_to_end(key)
            market = forked(self.kept[key][0])
            market.warm_up_seconds = 0.0
            self.reused += 1
        else:
            warm = Market(scenario, strategy, sequence)
            warm.warm_up()
            size = limits.estimate(scenario).bytes_per_replication
            market = self._keep(key, warm, size)
        market.scenario = scenario  # equal to the warm-up's but for the other strategies
        market.strategy = strategy
        return market.horizon()

    def _keep(self, key: tuple[object, ...], warm: Market, size: int) -> Market:
        """Keep ``warm`` (dropping the least recently used to fit) and return a copy to run;
        a market larger than the budget is run itself, not kept."""
        if size > self.budget:
            return warm
        while self.kept and sum(s for _, s in self.kept.values()) + size > self.budget:
            self.kept.popitem(last=False)
        self.kept[key] = (warm, size)
        return forked(warm)

    def clear(self) -> None:
        """Let every kept market go."""
        self.kept.clear()

    @contextlib.contextmanager
    def kept_until_done(self) -> Iterator[None]:
        """Around an optimization: what this process kept for its trials (``workers=1``)
        goes when it ends, however it ends (worker processes end with their pool)."""
        try:
            yield
        finally:
            self.clear()


WARM_UPS = WarmUps()
"""This process's store (an optimization's trials, :func:`relsim.experiment.pool.summarize`)."""
