"""Resource estimates: refuse a run the machine cannot hold before it starts, not by the
kernel's out-of-memory killer half-way through.

The figures come from ``benchmarks/engine_speed.py`` (README, Performance): the engine's peak
is at most about 330 bytes per customer with every bond and level in use, and the slowest
preset runs about 8 million customer-weeks a second on one core. Customers ever born (the
customers table holds every one) are the market at the start, grown, plus the births that
replace those who leave.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from relsim import units
from relsim.experiment.checks import MAX_REPLICATIONS, MAX_WORKERS, SettingError, count
from relsim.scenario import Scenario
from relsim.scenario.model.base import BYTES_PER_CUSTOMER

__all__ = [
    "BYTES_PER_CUSTOMER",
    "CUSTOMER_WEEKS_PER_SECOND",
    "HELD_TABLES_BYTES",
    "LONG_RUN_SECONDS",
    "MEMORY_SHARE",
    "SHARED_WARM_UP_BYTES",
    "WORKER_BYTES",
    "Estimate",
    "ResourceLimitError",
    "announcement",
    "available_memory",
    "bytes_per_task",
    "check_memory",
    "check_run",
    "estimate",
    "held_tables_budget",
    "long_run_seconds",
    "markets_in_pass",
    "markets_per_task",
]
CUSTOMER_WEEKS_PER_SECOND = 8e6
"""The slowest preset's measured engine speed on one core (all_bonds at 100 000 customers)."""
MEMORY_SHARE = 0.8
"""Share of the memory available now that a run may plan to use."""
WORKER_BYTES = 200_000_000
"""A spawned worker process's own memory before its first replication (Python, numpy, pandas,
SimPy imported: about 195 MB measured)."""
LONG_RUN_SECONDS = 60.0
"""A run expected to take longer than this (or more than half the free memory) prints its
estimate first; progress on a non-terminal stderr comes at least this often. The environment
variable ``RELSIM_LONG_RUN_SECONDS`` lowers it (tests use 0)."""


SHARED_WARM_UP_BYTES = 400_000_000
"""What one task's pass of markets may hold at once beyond a single run (the markets, the
warm-ups' copies and the finished runs): bounds how many markets share a pass."""
HELD_TABLES_BYTES = 512 * 2**20
"""The most of finished replications' tables the runner keeps in memory to assemble the
results from (:class:`relsim.experiment.storage.HeldParts`; the rest is read back). Counted
at 8 bytes a cell, the default run's 180 parts are about 340 MB (1.3 MB each in fact); reading
them all back at the end, as before, held as much."""


def held_tables_budget(available: int | None = None) -> int:
    """Bytes of tables the runner may hold for assembly: :data:`HELD_TABLES_BYTES`, or a
    sixteenth of the memory available now when that is less (the workers' replications come
    first)."""
    available = available_memory() if available is None else available
    return HELD_TABLES_BYTES if available is None else min(HELD_TABLES_BYTES, available // 16)


def markets_per_task(scenario: Scenario) -> int:
    """How many replications one task may simulate as one pass of markets
    (:mod:`relsim.model.market_pass`; the strategies of one replication also share its
    warm-up): as many as fit in :data:`SHARED_WARM_UP_BYTES` at the memory estimate of one
    replication and in :data:`LONG_RUN_SECONDS` at its time estimate (progress moves a task at
    a time); where a pass does not pay (markets of ``PASS_MAX_CUSTOMERS`` or more) one
    replication's strategies at most; 1 in a market of about a million customers or more."""
    from relsim.model.market_pass import pays

    needed = estimate(scenario)
    by_memory = SHARED_WARM_UP_BYTES // max(needed.bytes_per_replication, 1)
    by_time = LONG_RUN_SECONDS / max(needed.seconds_per_replication, 1e-9)
    most = min(by_memory, by_time)
    if not pays(scenario):  # larger markets run one after another: one replication a task
        most = min(most, len(scenario.strategies))
    return max(1, int(most))


def markets_in_pass(scenario: Scenario, runs: int, workers: int) -> int:
    """The most markets one task's pass holds when ``runs`` replications run on ``workers``
    (:func:`relsim.experiment.pool.in_passes` packs them so: at most
    :func:`markets_per_task`, and a pass per worker at least; rounded up, as a replication's
    strategies split in even pieces may be)."""
    return max(1, min(-(-runs // max(1, workers)), markets_per_task(scenario)))


def bytes_per_task(scenario: Scenario, runs: int | None = None, workers: int = 1) -> int:
    """Memory of one task at once: one replication's, and in a pass every market's state
    and finished run beside it (at most :data:`SHARED_WARM_UP_BYTES` more). ``runs``
    replications on ``workers`` (None: as many as a pass may hold)."""
    one = estimate(scenario).bytes_per_replication
    markets = (
        markets_per_task(scenario) if runs is None else markets_in_pass(scenario, runs, workers)
    )
    if markets < 2:
        return one
    # measured: a pass holds about one replication's estimate per market (the default
    # scenario: 161 MB at 30 markets of 5.3 MB, 66 MB at 10), the warm-ups' copies included
    return one + min(SHARED_WARM_UP_BYTES, markets * one)


class ResourceLimitError(RuntimeError):
    """A run that would need more memory than the machine has."""


@dataclass(frozen=True)
class Estimate:
    """What one replication of a scenario needs, roughly."""

    customers_ever: int
    customer_weeks: int
    bytes_per_replication: int
    seconds_per_replication: float

    def describe(self, runs: int, workers: int) -> str:
        total = self.seconds_per_replication * runs / max(1, workers)
        return (
            f"about {_bytes(self.bytes_per_replication)} per replication at once, "
            f"{self.customer_weeks:,} customer-weeks each, roughly {_duration(total)} for "
            f"{runs:,} replications on {workers} worker(s)"
        )


def estimate(scenario: Scenario) -> Estimate:
    """Memory and time one replication of ``scenario`` needs (order of magnitude)."""
    weeks = scenario.horizon.weeks + scenario.horizon.warmup_weeks
    years = units.years(weeks)
    start = scenario.market.customers
    growth = (1.0 + scenario.market.growth_per_year) ** years
    leaving = sum(s.share * s.relocation_per_year for s in scenario.segments)
    ever = int(start * max(1.0, growth) + start * max(growth, 1.0) * leaving * years)
    mean_size = start * (1.0 + max(growth, 1.0)) / 2.0
    customer_weeks = int(mean_size * weeks)
    return Estimate(
        customers_ever=ever,
        customer_weeks=customer_weeks,
        bytes_per_replication=ever * BYTES_PER_CUSTOMER,
        seconds_per_replication=customer_weeks / CUSTOMER_WEEKS_PER_SECOND,
    )


def available_memory() -> int | None:
    """Bytes of memory available to new processes now (Linux: MemAvailable), else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(
    scenario: Scenario, workers: int, runs: int, available: int | None = None
) -> Estimate:
    """The estimate, or :class:`ResourceLimitError` when ``workers`` replications at once
    would need more than ``MEMORY_SHARE`` of the available memory."""
    needed = estimate(scenario)
    available = available_memory() if available is None else available
    task = bytes_per_task(scenario, runs, workers) if runs > 1 else needed.bytes_per_replication
    at_once = task * max(1, min(workers, runs))
    if available is not None and at_once > MEMORY_SHARE * available:
        raise ResourceLimitError(
            f"this run needs {needed.describe(runs, workers)}: {_bytes(at_once)} with "
            f"{min(workers, runs)} replication(s) at once, but only {_bytes(available)} of "
            "memory is available (hint: fewer --workers, a smaller market.customers or "
            "horizon, or --no-memory-check if you know better)"
        )
    return needed


def check_run(
    scenario: Scenario,
    replications: int,
    workers: int,
    strategies: int,
    available: int | None = None,
) -> Estimate:
    """Replications per strategy and workers within what relsim runs: whole numbers from 1,
    at most :data:`MAX_REPLICATIONS` replications and as many workers as the memory holds
    (:data:`WORKER_BYTES` each, at most :data:`MAX_WORKERS`); :class:`SettingError` (a
    ``ValueError``) with the run's estimate otherwise."""
    needed = estimate(scenario)
    count("workers", workers)
    count("replications", replications)
    available = available_memory() if available is None else available
    most = MAX_WORKERS
    if available is not None:
        most = max(1, min(MAX_WORKERS, int(MEMORY_SHARE * available // WORKER_BYTES)))
    runs = replications * strategies
    if workers > most:
        raise SettingError(
            f"workers {workers:,} is more than this machine holds: each worker process needs "
            f"about {_bytes(WORKER_BYTES)} before its first replication, so at most {most:,} "
            f"fit in {_bytes(available or 0)} of free memory; this run needs "
            f"{needed.describe(runs, min(workers, most))} (hint: --workers {min(most, 8)})"
        )
    if replications > MAX_REPLICATIONS:
        raise SettingError(
            f"replications {replications:,} is more than relsim runs (at most "
            f"{MAX_REPLICATIONS:,} per strategy): this run would need "
            f"{needed.describe(runs, workers)} (hint: fewer --replications; relsim run "
            "--precision 0.05 adds replications only until the comparison is precise enough)"
        )
    return needed


def long_run_seconds() -> float:
    """:data:`LONG_RUN_SECONDS`, or ``RELSIM_LONG_RUN_SECONDS`` when it is set to a number."""
    try:
        return max(0.0, float(os.environ["RELSIM_LONG_RUN_SECONDS"]))
    except (KeyError, ValueError):
        return LONG_RUN_SECONDS


def announcement(
    scenario: Scenario,
    workers: int,
    runs: int,
    available: int | None = None,
    threshold: float | None = None,
) -> str | None:
    """One line with the run's estimate of time and memory when it is expected to take more
    than ``threshold`` seconds (default :func:`long_run_seconds`) or more than half the free
    memory; None for a quick, small run."""
    needed = estimate(scenario)
    workers = max(1, min(workers, runs))
    seconds = needed.seconds_per_replication * runs / workers
    processes = WORKER_BYTES * workers if workers > 1 else 0
    at_once = bytes_per_task(scenario, runs, workers) * workers + processes
    available = available_memory() if available is None else available
    threshold = long_run_seconds() if threshold is None else threshold
    big = available is not None and at_once > available / 2
    if seconds <= threshold and not big:
        return None
    free = f" of {_bytes(available)} free" if available is not None else ""
    return (
        f"relsim: this run is expected to take roughly {_duration(seconds)} and "
        f"{_bytes(at_once)}{free} ({runs:,} replications, {workers} at once, "
        f"{needed.customer_weeks:,} customer-weeks each)"
    )


def _bytes(n: float) -> str:
    unit = "B"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            break
        n /= 1000
    return f"{n:,.0f} {unit}" if unit in ("B", "kB") else f"{n:,.1f} {unit}"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"
