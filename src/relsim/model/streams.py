"""Named, independent random streams for one replication.

One ``numpy.random.SeedSequence`` per replication is split into one child per purpose. The
children are derived from the purpose's fixed position, not from a spawn counter, so the same
seed gives the same streams however often and in whatever order they are asked for.

The first group of purposes never depends on the strategy (who is born when, with which traits,
when they leave the market, when shocks happen): every strategy run with the same seed therefore
faces the same market (common random numbers). The second group drives behaviour that a strategy
changes; their draws are made only for the customers who need them.
"""

from __future__ import annotations

import numpy as np

STRATEGY_INDEPENDENT: tuple[str, ...] = ("population", "births", "exits", "shocks", "initial")
BEHAVIOUR: tuple[str, ...] = (
    "occasions",
    "choice",
    "problems",
    "ladder",
    "defection",
    "leads",
    "service",
    "bonds",
    "rivals",
)
CALIBRATION: tuple[str, ...] = ("history",)
"""Draws made outside the engine for a replication: each customer's state from its own history
(``relsim.calibration.simulate_history``). Listed last: a stream's position is its identity."""
MARKETING: tuple[str, ...] = ("crm",)
"""The focal firm's campaigns (the random control's draws, which records are current): after
the calibration's stream, so that no earlier stream moves."""
UNCERTAINTY: tuple[str, ...] = ("parameters",)
"""A forecast's draw of the calibrated process's parameters from the fit's sampling
distribution (``relsim.calibration.simulate_history(..., uncertainty=...)``): last, so that
no earlier stream moves."""
SPEND: tuple[str, ...] = ("order_values",)
"""Each order's value around its customer's own (``Segment.order_value_within_shape``): drawn
only for the orders of segments that set it, after every earlier stream, so that none moves."""
PURPOSES: tuple[str, ...] = (
    STRATEGY_INDEPENDENT + BEHAVIOUR + CALIBRATION + MARKETING + UNCERTAINTY + SPEND
)


def as_seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """Accept an int or a SeedSequence; anything else is a clear error."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(int(seed))
    raise TypeError(f"seed must be a non-negative int or numpy.random.SeedSequence, got {seed!r}")


class Streams:
    """One ``numpy.random.Generator`` per purpose, e.g. ``streams.choice``."""

    def __init__(self, seed: int | np.random.SeedSequence):
        root = as_seed_sequence(seed)
        self.seed_sequence = root
        for index, purpose in enumerate(PURPOSES):
            child = np.random.SeedSequence(
                entropy=root.entropy, spawn_key=(*root.spawn_key, index), pool_size=root.pool_size
            )
            setattr(self, purpose, np.random.Generator(np.random.PCG64(child)))

    def __getattr__(self, name: str) -> np.random.Generator:  # pragma: no cover - typing aid
        raise AttributeError(f"no random stream named {name!r}; purposes: {PURPOSES}")
