"""``simulate``: one replication of one strategy, from Python."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from relsim.model.engine import simulate_arrays
from relsim.model.starting import StartingCustomers
from relsim.results import Run
from relsim.scenario import Scenario, Strategy, load_scenario


def simulate(
    scenario: Scenario | str | Path,
    strategy: str | Strategy | None = None,
    seed: int | np.random.SeedSequence | None = None,
    starting: StartingCustomers | None = None,
) -> Run:
    """Simulate one replication of the market under one of the focal firm's strategies.

    Parameters
    ----------
    scenario:
        A :class:`Scenario` or the path of a scenario file.
    strategy:
        Name of one of the scenario's strategies, a :class:`Strategy`, or None for the baseline.
    seed:
        An int or a ``numpy.random.SeedSequence``; None uses the scenario's seed. The same seed
        gives identical tables, and every strategy run with the same seed faces the same
        customers, births, exits and shocks (common random numbers).

    Returns
    -------
    Run
        Tables (``weekly``, ``ladder``, ``customers``, ``defections``, ``trace``) and ``summary``.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if strategy is None:
        strategy = scenario.baseline_strategy
    if isinstance(strategy, str):
        strategy = scenario.strategy(strategy)
    if seed is None:
        seed = scenario.seed
    return Run(simulate_arrays(scenario, strategy, seed, starting), seed)
