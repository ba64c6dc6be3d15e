"""Which relationship level the focal firm serves each customer at, and which customers it
makes key accounts.

A customer's level: the key-account level for key accounts, else the rung rule, else the
segment rule, else the default (:func:`level_table`). Key accounts are picked by what the firm
observes, its own purchase records (:func:`select_key_accounts`).
"""

from __future__ import annotations

import numpy as np

from relsim.domain import LEVELS, RUNGS
from relsim.model.population import top_positions
from relsim.scenario.model import Scenario, Strategy


def level_table(scenario: Scenario, strategy: Strategy) -> np.ndarray:
    """Level code per (segment, rung), shape (S, 6): rung rule, else segment rule, else default."""
    rules = strategy.levels
    table = np.full((len(scenario.segments), len(RUNGS)), LEVELS.index(rules.default), np.int8)
    for s, segment in enumerate(scenario.segments):
        if segment.name in rules.segments:
            table[s, :] = LEVELS.index(rules.segments[segment.name])
    for rung, level in rules.rungs.items():
        table[:, RUNGS.index(rung)] = LEVELS.index(level)
    return table


def select_key_accounts(
    observed_value: np.ndarray, eligible: np.ndarray, top_share: float, minimum: float, cap: int
) -> np.ndarray:
    """Key accounts among ``eligible`` rows: the top ``top_share`` by observed value, at least
    ``minimum``, at most ``cap``. Uses only what the firm observes (its purchase records)."""
    candidates = (eligible & (observed_value >= minimum)).nonzero()[0]
    count = min(int(np.floor(top_share * eligible.sum())), cap, len(candidates))
    chosen = np.zeros(len(observed_value), dtype=bool)
    if count > 0:
        # ties broken by row order, deterministic
        chosen[candidates[top_positions(observed_value[candidates], count)]] = True
    return chosen
