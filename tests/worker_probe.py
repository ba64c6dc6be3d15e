"""A task for a real worker process that reports what the worker has imported (the
worker-import test in tests/test_experiment.py). It imports nothing of its own beyond what the
task needs, so what it finds was loaded by the pool's worker start-up and the replication."""

from __future__ import annotations

import gc
import sys
from typing import Any

HEAVY = ("scipy.stats", "relsim.experiment.runner", "relsim.experiment.results")
"""Modules a worker has no use for: each cost 0.6-0.8 s before a worker's first result."""


def replicate_and_report(scenario: Any, strategies: tuple[str, ...], replication: int) -> dict:
    """Run a replication as a worker does, then say which of :data:`HEAVY` are loaded and
    whether the worker's start-up objects are frozen (``gc.freeze``)."""
    from relsim.experiment.pool import replicate_pass

    replicate_pass(scenario, tuple((s, replication) for s in strategies), replication)
    heavy = [name for name in HEAVY if name in sys.modules]
    return {"heavy": heavy, "frozen": gc.get_freeze_count() > 0}
