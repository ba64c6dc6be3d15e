"""Key-account plans with an effect (issue 30, point 3): a manager's yearly plan per account,
adherence that falls with the managers' load, and a senior manager whose oversight keeps them
to it. Paired runs (common random numbers) on the key-accounts market."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

import relsim
from relsim.model.accounts import oversight_coverage, plan_interval, slip
from relsim.scenario import Scenario
from relsim.scenario.model import AccountPlan
from relsim.statistics import mean_interval
from tests.conftest import SCENARIOS

SEEDS = range(1, 7)
"""Six paired replications per comparison."""
ADHERENCE, CONTACTS = 0, 1


@pytest.fixture(scope="module")
def market() -> Scenario:
    """The key-accounts market (600 accounts), two years after a year's warm-up."""
    return relsim.load_scenario(
        SCENARIOS / "key-accounts.yaml",
        overrides={"horizon.weeks": 104, "horizon.warmup_weeks": 52},
    )


def planned(market: Scenario, per_manager: int, seniors: float, **plan: Any) -> Scenario:
    """Half the accounts are key accounts (at most ``per_manager`` for each of 2 managers),
    with a plan of 24 contacts and 4 reviews a year."""
    data = market.model_dump()
    strategy = next(s for s in data["strategies"] if s["name"] == "key_accounts")
    strategy["key_accounts"].update(
        top_share=0.5,
        accounts_per_manager=per_manager,
        plan={"contacts_per_year": 24, "reviews_per_year": 4, **plan},
    )
    strategy["staffing"]["managers"]["count"] = 2
    strategy["staffing"]["senior_manager"]["count"] = seniors
    data["strategies"] = [data["strategies"][0], strategy]
    return Scenario.model_validate(data)


def adherence(run: relsim.Run) -> float:
    service = run.raw.service
    return float(service["plan_made"].sum() / service["plan_due"].sum())


def contacts_per_account_year(run: relsim.Run) -> float:
    service = run.raw.service
    return float(52 * service["plan_made"].sum() / service["key_accounts"].sum())


@functools.cache
def measured(per_manager: int, seniors: float, seed: int) -> tuple[float, float]:
    """Adherence and contacts per account-year of one run (shared by the tests below)."""
    data = relsim.load_scenario(
        SCENARIOS / "key-accounts.yaml",
        overrides={"horizon.weeks": 104, "horizon.warmup_weeks": 52},
    )
    run = relsim.simulate(planned(data, per_manager, seniors), "key_accounts", seed=seed)
    return adherence(run), contacts_per_account_year(run)


def paired(a: tuple[int, float], b: tuple[int, float], measure: int) -> Any:
    """Paired interval of ``measure`` (0: adherence, 1: contacts per account-year) between
    plans ``a`` and ``b`` (accounts per manager, senior managers)."""
    diffs = [measured(*a, s)[measure] - measured(*b, s)[measure] for s in SEEDS]
    return mean_interval(np.array(diffs))


def test_the_rules() -> None:
    plan = AccountPlan(slip_at_full_load=0.4, oversight=0.75, managers_per_senior=8)
    assert oversight_coverage(0.0, 2.0, 8.0) == 0.0
    assert oversight_coverage(0.25, 4.0, 8.0) == 0.5
    assert oversight_coverage(1.0, 2.0, 8.0) == 1.0
    assert oversight_coverage(0.0, 0.0, 8.0) == 1.0
    assert slip(plan, 0.5, 0.0) == pytest.approx(0.2)
    assert slip(plan, 3.0, 0.0) == pytest.approx(0.4)  # load counts up to full
    assert slip(plan, 1.0, 1.0) == pytest.approx(0.1)
    assert slip(plan, 0.0, 0.0) == 0.0
    assert plan_interval(12) == 4 and plan_interval(2) == 26 and plan_interval(52) == 1


def test_a_plan_nobody_lets_slip_is_kept_in_full_when_managers_have_time(
    market: Scenario,
) -> None:
    sc = planned(market, 10, 0.0, slip_at_full_load=0.0)
    run = relsim.simulate(sc, "key_accounts", seed=1)
    service = run.raw.service
    assert service["plan_due"].sum() > 0
    np.testing.assert_array_equal(service["plan_made"], service["plan_due"])
    assert service["plan_slipped"].sum() == 0
    # 24 contacts (every 2 weeks: 26 a year) and 4 reviews (every 13 weeks) per account-year
    assert contacts_per_account_year(run) == pytest.approx(30, rel=0.05)


@pytest.mark.slow
def test_removing_the_senior_manager_lowers_adherence_when_managers_are_loaded() -> None:
    loaded = paired((60, 0.25), (60, 0.0), ADHERENCE)
    assert loaded.low > 0, loaded
    # lightly loaded managers (5 accounts each) let little slip, so oversight adds less
    light = paired((5, 0.25), (5, 0.0), ADHERENCE)
    assert light.mean < loaded.mean, (light, loaded)


@pytest.mark.slow
def test_more_accounts_per_manager_lowers_contacts_per_account() -> None:
    for seniors in (0.25, 0.0):
        fewer = paired((60, seniors), (10, seniors), CONTACTS)
        assert fewer.high < -1.0, (seniors, fewer)
