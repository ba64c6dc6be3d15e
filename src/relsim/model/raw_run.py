"""The arrays one replication produces (``relsim.results`` builds its tables from them)."""

from __future__ import annotations

from dataclasses import dataclass, field
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
