"""Key-account plans with an effect (issue 30, point 3): a manager's yearly plan per account,
adherence that falls with the managers' load, and a senior manager whose oversight keeps them
to it. Paired runs (common random numbers) on the key-accounts market."""

from __future__ import annotations

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


def paired(a: Scenario, b: Scenario, measure: Any) -> Any:
    diffs = [
        measure(relsim.simulate(a, "key_accounts", seed=s))
        - measure(relsim.simulate(b, "key_accounts", seed=s))
        for s in SEEDS
    ]
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
def test_removing_the_senior_manager_lowers_adherence_when_managers_are_loaded(
    market: Scenario,
) -> None:
    loaded = paired(planned(market, 60, 0.25), planned(market, 60, 0.0), adherence)
    assert loaded.low > 0, loaded
    # lightly loaded managers (5 accounts each) let little slip, so oversight adds less
    light = paired(planned(market, 5, 0.25), planned(market, 5, 0.0), adherence)
    assert light.mean < loaded.mean, (light, loaded)


@pytest.mark.slow
def test_more_accounts_per_manager_lowers_contacts_per_account(market: Scenario) -> None:
    for seniors in (0.25, 0.0):
        fewer = paired(
            planned(market, 60, seniors), planned(market, 10, seniors), contacts_per_account_year
        )
        assert fewer.high < -1.0, (seniors, fewer)
