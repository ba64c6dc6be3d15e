"""The strategies of one seed share one warm-up: simulated once, copied for each strategy.

Every strategy of a replication starts from the same seed (common random numbers) and the
warm-up runs the status quo for every strategy (:meth:`relsim.model.engine.Market.warm_up`),
so the market at the start of week 0 is the same whatever strategy follows: the random streams'
positions, every customer's fields, the ledger and the records. Simulating it once and copying
it for each strategy gives exactly the numbers of separate runs (a test compares every array of
:class:`~relsim.model.raw_run.RawRun` over every bundled scenario) and saves, for ``k``
strategies, ``k - 1`` warm-ups: the classroom's warm-up is a quarter of its weeks, the default
scenario's more than a quarter.

The copy is a ``copy.deepcopy`` of the warmed-up market after its SimPy environment was let go
(a suspended generator cannot be copied; :meth:`~relsim.model.engine.Market.horizon` starts a
new environment at week 0). The scenario, the strategies and the choice rule are shared, not
copied: none of them changes during a run. A copy costs about what the market's arrays take, so
the peak memory of a shared warm-up is about twice a single run's.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence

import numpy as np

from relsim.model.allocator import keep_freed_memory
from relsim.model.engine import Market
from relsim.model.raw_run import RawRun
from relsim.model.starting import StartingCustomers
from relsim.scenario.model import Scenario, Strategy


def simulate_strategies(
    scenario: Scenario,
    strategies: Sequence[Strategy],
    seed: int | np.random.SeedSequence,
    starting: StartingCustomers | None = None,
) -> list[RawRun]:
    """One replication of ``scenario`` under each of ``strategies`` with one seed: the same
    arrays as :func:`relsim.model.engine.simulate_arrays` for each, the warm-up simulated once.
    Each run's ``seconds`` counts its own horizon and an equal share of the warm-up."""
    return list(strategy_runs(scenario, strategies, seed, starting))


def strategy_runs(
    scenario: Scenario,
    strategies: Sequence[Strategy],
    seed: int | np.random.SeedSequence,
    starting: StartingCustomers | None = None,
) -> Iterator[RawRun]:
    """:func:`simulate_strategies` one run at a time, in the order of ``strategies``: a caller
    that uses each run and lets it go holds the warm market and one run, not all of them."""
    if not strategies:
        return
    keep_freed_memory()
    warm = Market(scenario, strategies[0], seed, starting)
    warm.warm_up()
    warm.warm_up_seconds /= len(strategies)
    for k, strategy in enumerate(strategies):
        last = k == len(strategies) - 1
        market = warm if last else forked(warm)  # the last strategy takes the original
        market.strategy = strategy
        run = market.horizon()
        del market  # a forked market's state goes before the caller asks for the next run
        yield run
        del run


def forked(warm: Market) -> Market:
    """An independent copy of a warmed-up market (see the module docstring)."""
    if warm.env is not None:
        raise RuntimeError("only a market between its warm-up and its horizon can be copied")
    shared = (warm.scenario, warm.strategy, warm.status_quo, warm.choice_rule)
    return copy.deepcopy(warm, memo={id(thing): thing for thing in shared})
