"""Behavioural oracles for rules that only the golden outputs used to pin: each test says *what*
is wrong when it fails, where a golden diff says only *that* something changed.

The expectation update (seen through the satisfaction it drives, in a one-firm market), the
ladder's climb with a multiplier capped at certainty, rewards booked to the firm that paid
them, and the ledger's guard against sums float64 cannot hold exactly."""

from __future__ import annotations

import numpy as np
import pytest

import relsim
from relsim.domain import CLIENT, SUPPORTER
from relsim.model import ladder
from relsim.model.economics import Ledger
from relsim.scenario import Scenario, load_scenario
from tests.conftest import SCENARIOS, scenario

Z = 4.5  # standard errors, as in test_oracles


def test_expectations_adapt_geometrically_to_a_constant_quality() -> None:
    """One firm of constant quality q, no problems, every customer buying every week. The
    expectation after n purchases is e_n = q + (1 - eta)**n (e_0 - q); satisfaction moves by
    alpha (q - e_n) on the (n+1)-th purchase, so the expectation each purchase was judged
    against is recovered exactly from the week-to-week change of mean satisfaction:
    e_n = q - (s_{n+1} - s_n) / alpha, with s_0 the initial satisfaction."""
    q, e0, eta, alpha, s0 = 0.7, 0.9, 0.2, 0.1, 0.5
    weeks = 20
    sc = scenario(
        {
            "horizon": {"weeks": weeks},
            "market": {"customers": 500},
            "segments": [
                {
                    **scenario().segments[0].model_dump(),
                    "orders_per_year": {"mean": 52.0, "shape": None},
                    "expected_quality": e0,
                }
            ],
            "satisfaction": {
                "expectation_rate": eta,
                "learning_rate": alpha,
                "initial": s0,
                "tolerance": 1.0,  # every purchase satisfying: the ladder stays out of it
            },
        }
    )
    assert sc.firms[0].product_quality == q
    run = relsim.simulate(sc, seed=7)
    w = run.weekly
    orders = w["orders"].to_numpy()
    assert (orders == sc.market.customers).all()  # everyone bought every week
    s = np.r_[s0, w["mean_satisfaction"].to_numpy()]  # s_n: after n purchases
    n = np.arange(weeks)
    expected_e = q + (1.0 - eta) ** n * (e0 - q)
    recovered_e = q - np.diff(s) / alpha
    np.testing.assert_allclose(recovered_e, expected_e, atol=2e-5)  # float32 arithmetic
    # the closed form itself: s_n = s_0 - alpha (e_0 - q) (1 - (1 - eta)**n) / eta
    closed = s0 - alpha * (e0 - q) * (1.0 - (1.0 - eta) ** (n + 1)) / eta
    np.testing.assert_allclose(s[1:], closed, atol=2e-5)
    # the tolerance can fail: an expectation that did not adapt (eta = 0) would be 0.2 away
    assert np.abs(expected_e - e0)[1:].min() > 100 * 2e-5


@pytest.mark.parametrize("up", [0.3, 0.6])
def test_climbs_happen_with_the_probability_up_times_factor_capped_at_one(up: float) -> None:
    """Satisfying purchases on the rung 'client': the share that climbs is min(up x factor, 1)
    for factors below and above 1, within Z binomial standard errors; with certainty nobody
    stays, and dissatisfying purchases never climb."""
    n = 100_000
    rng = np.random.default_rng(int(up * 10))
    up_table = np.full(6, up)
    down_table = np.zeros(6)
    for factor in (0.5, 1.5, 4.0):
        rung = np.full(n, CLIENT, np.int8)
        new = ladder.move(
            rung, np.ones(n, bool), rng.random(n), up_table, down_table, np.full(n, factor)
        )
        assert set(np.unique(new)) <= {CLIENT, SUPPORTER}
        p = min(up * factor, 1.0)
        share = float((new == SUPPORTER).mean())
        se = np.sqrt(p * (1 - p) / n)  # 0 at certainty: then every one of them climbs
        assert abs(share - p) <= Z * se, (factor, share, p)
        unhappy = ladder.move(
            rung, np.zeros(n, bool), rng.random(n), up_table, down_table, np.full(n, factor)
        )
        assert (unhappy == CLIENT).all()
    # per customer: factors are not shared across rows
    factors = np.r_[np.zeros(n // 2), np.full(n // 2, 1.0 / up)]
    new = ladder.move(
        np.full(n, CLIENT, np.int8), np.ones(n, bool), rng.random(n), up_table, down_table, factors
    )
    assert (new[: n // 2] == CLIENT).all() and (new[n // 2 :] == SUPPORTER).all()


@pytest.fixture(scope="module")
def three_programs() -> Scenario:
    """The baseline market, small, where every firm runs its own points program from the
    start and nobody copies: the focal firm's rewards are worth 25 x (1 - 0.2) = 20.00 when
    claimed, rival_value's 30 x (1 - 0.5) = 15.00, rival_premium's 10 x (1 - 0.1) = 9.00."""
    base = load_scenario(
        SCENARIOS / "baseline.yaml",
        overrides={"market.customers": 3000, "horizon.weeks": 40, "horizon.warmup_weeks": 10},
    )
    data = base.model_dump()
    data["rivalry"]["points"]["probability"] = 0.0
    programs = [None, (30.0, 0.5, 300.0), (10.0, 0.1, 200.0)]
    for firm, program in zip(data["firms"], programs, strict=True):
        if program is not None:
            value, breakage, threshold = program
            firm["bonds"]["points"] = {
                "reward_value": value,
                "breakage": breakage,
                "threshold": threshold,
                "regular_discount": 0.0,
            }
    return Scenario.model_validate(data)


def test_rewards_are_booked_to_the_firm_whose_customers_earned_them(
    three_programs: Scenario,
) -> None:
    """The ledger's rewards line of each firm, each week, is that firm's rewards issued times
    its own claimed value: to the cent (every claimed value is a whole number of cents)."""
    run = relsim.simulate(three_programs, "financial", seed=3)
    points = three_programs.strategy("financial").bonds.points
    assert points is not None and points.regular_discount == 0.0
    assert points.reward_value * (1 - points.breakage) == 20.0
    claimed_cents = np.array([2000, 1500, 900])
    issued = run.raw.bonds["rewards_issued"]  # (weeks, firms), counts of rewards
    booked = run.raw.costs["rewards"]  # cents
    assert (issued.sum(axis=0) > 0).all()  # every firm's customers earned rewards
    np.testing.assert_array_equal(booked, issued * claimed_cents)


def test_the_ledger_refuses_sums_beyond_exact_float64() -> None:
    """Per-firm sums go through float64 weights: up to 2**53 cents they are exact, and from
    2**53 on (in either sign) the ledger raises rather than book a rounded amount."""
    big = 2**52
    ledger = Ledger(weeks=1, n_firms=2)
    ledger.book_orders(0, np.array([0, 0, 1]), np.array([big - 1, big - 1, 5]), np.zeros(3))
    assert ledger.revenue[0].tolist() == [2**53 - 2, 5]  # the largest exact even sum
    with pytest.raises(OverflowError, match="2\\*\\*53"):
        ledger.book_orders(0, np.array([1, 1]), np.array([big, big]), np.zeros(2))
    with pytest.raises(OverflowError):
        ledger.book_by_firm(0, "rewards", np.array([0, 1, 1]), np.array([1.0, -big, -big]))
    assert ledger.revenue[0].tolist() == [2**53 - 2, 5]  # nothing booked by a refused call
    assert ledger.costs["rewards"][0].tolist() == [0, 0]
    ledger.book_by_firm(0, "rewards", np.array([1]), np.array([-(big - 1.0)]))
    assert ledger.costs["rewards"][0].tolist() == [0, -(big - 1)]
