"""The arrays one replication produces (``relsim.results`` builds its tables from them)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from relsim.scenario.model import Scenario, Strategy


@dataclass
class RawRun:
    """Arrays produced by one replication (tables are built from them in ``relsim.results``)."""

    scenario: Scenario
    strategy: Strategy
    weekly_counts: dict[str, np.ndarray]
    by_reason: np.ndarray
    ladder: np.ndarray
    market: dict[str, np.ndarray]
    revenue: np.ndarray
    costs: dict[str, np.ndarray]
    discount: np.ndarray
    defections: dict[str, np.ndarray]
    trace: dict[str, np.ndarray]
    customers: dict[str, np.ndarray]
    service: dict[str, np.ndarray]
    warmup_customers: np.ndarray  # (W, F) customers per firm in each warm-up week
    shocks: list[dict[str, Any]]
    bonds: dict[str, np.ndarray]  # (H, F) weekly bond records per firm
    moves: list[dict[str, Any]]  # launches, copies, raises and price moves, in order
    customer_weeks: int
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)
    journeys: dict[str, np.ndarray] = field(default_factory=dict)  # traced customers, weekly
    relationship: dict[str, np.ndarray] = field(default_factory=dict)  # (H, F) weekly

    def fingerprint(self) -> str:
        """SHA-256 of every recorded array, record and count (dtype, shape and bytes), all
        fields but the scenario, the strategy and the timings: two runs with equal fingerprints
        hold the same numbers bit for bit (``scripts/bitwise_fingerprints.py``, the tests of
        the shared warm-up)."""
        digest = hashlib.sha256()
        for f in fields(self):
            if f.name not in ("scenario", "strategy", "seconds", "meta"):
                digest.update(f.name.encode())
                _feed(getattr(self, f.name), digest)
        return digest.hexdigest()


def _feed(thing: Any, digest: Any) -> None:
    """Feed ``thing`` (arrays, dicts, lists and scalars, nested) into ``digest``."""
    if isinstance(thing, np.ndarray):
        digest.update(f"{thing.dtype}{thing.shape}".encode())
        digest.update(np.ascontiguousarray(thing).tobytes())
    elif isinstance(thing, dict):
        for key in sorted(thing, key=str):
            digest.update(str(key).encode())
            _feed(thing[key], digest)
    elif isinstance(thing, list | tuple):
        for item in thing:
            _feed(item, digest)
    else:
        digest.update(repr(thing).encode())
