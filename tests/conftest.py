"""Shared helpers: small scenarios built in Python for rule, oracle and property tests."""

from __future__ import annotations

import contextlib
import copy
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from relsim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def relsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command line as a user would: a subprocess, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "relsim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@contextlib.contextmanager
def ctrl_c_at_call(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, n: int
) -> Iterator[None]:
    """Inside the block, the ``n``-th call of ``owner.name`` raises KeyboardInterrupt (the
    earlier calls run as usual), which the block must end with; the real function is back
    after it. The interrupted-and-resumed tests use it."""
    real = getattr(owner, name)
    calls = 0

    def interrupting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupting)
    try:
        with pytest.raises(KeyboardInterrupt):
            yield
    finally:
        monkeypatch.setattr(owner, name, real)


def start_run(
    out: Path,
    replications: int,
    customers: int,
    weeks: int,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start ``relsim run`` on the baseline (two strategies, two workers) in the background, in
    its own process group like a terminal's foreground job, for tests that interrupt it."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "relsim", "run", str(SCENARIOS / "baseline.yaml")),
            *("--replications", str(replications), "--workers", "2", "--out", str(out)),
            *("--set", f"market.customers={customers}", "--set", f"horizon.weeks={weeks}"),
            *("--strategy", "transactional", "--strategy", "financial"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``changes`` into a copy of ``base`` (lists are replaced whole)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


ONE_FIRM: dict[str, Any] = {
    "name": "oracle",
    "horizon": {"weeks": 52, "warmup_weeks": 0},
    "market": {
        "customers": 4000,
        "current_customer_share": 1.0,
        "initial_ladder_mix": [0, 1, 0, 0, 0, 0],
        "mean_tenure_years": 0.0,
    },
    "segments": [
        {
            "name": "all",
            "share": 1.0,
            "orders_per_year": {"mean": 26.0, "shape": None},
            "order_value": {"mean": 50.0, "shape": None},
            "defection_propensity": {"mean": 0.0, "concentration": None},
            "relocation_per_year": 0.0,
            "outside_utility": -20.0,
            "expected_quality": 0.7,
        }
    ],
    "firms": [
        {
            "name": "solo",
            "initial_share": 1.0,
            "unit_cost": 0.6,
            "product_quality": 0.7,
            "fulfilment_failure": 0.0,
            "fault_rate": 0.0,
        }
    ],
    "ladder": {
        "up_probability": [1, 0, 0, 0, 0, 0],
        "down_probability": [0, 0, 0, 0, 0, 0],
        "purchase_multiplier": [1, 1, 1, 1, 1, 1],
        "price_sensitivity_multiplier": [1, 1, 1, 1, 1, 1],
        "defection_multiplier": [1, 1, 1, 1, 1, 1],
        "referrals_per_year": [0, 0, 0, 0, 0, 0],
    },
    "satisfaction": {"expectation_rate": 0.0, "dissatisfied_defection_multiplier": 0.0},
    "trust": {"climb_weight": 0.0, "defection_weight": 0.0},
    "switching": {"winback_penalty": 60.0},
    "acquisition": {"leads_at_saturation_per_week": 0.0},
}
"""One firm, one segment, constant rates, no arrivals or exits: the base of the analytic
oracles. Tests switch on exactly the mechanism whose closed form they check."""


def scenario(changes: dict[str, Any] | None = None, base: dict[str, Any] = ONE_FIRM) -> Scenario:
    return Scenario.model_validate(merge(base, changes or {}))


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    from relsim import load_scenario

    return load_scenario(SCENARIOS / "baseline.yaml")


@pytest.fixture(scope="session")
def small_baseline(baseline: Scenario) -> Scenario:
    """The baseline market at 2 000 customers and three years: fast, all mechanisms on."""
    data = baseline.model_dump()
    data["market"]["customers"] = 2000
    data["horizon"] = {"weeks": 156, "warmup_weeks": 52}
    return Scenario.model_validate(data)


def design_noise(market: Any, x: float, size: int | None = None) -> Any:
    """A synthetic instrument's noise: standard normal draws fixed by the replication (its
    customers' order values) and the design ``x``, so a design's value is the same wherever
    and whenever its replication runs, and differs between replications."""
    c = market.c
    key = zlib.crc32(np.ascontiguousarray(c.value[: c.n]).tobytes())
    return np.random.default_rng([key, round(x * 1e6)]).standard_normal(size)
