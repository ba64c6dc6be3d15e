"""The decision metric's money is complete: the value after the horizon continues the costs a
strategy keeps paying as well as the margin it keeps earning (``model/continuation.py``), and
the customers' surplus counts the logit's taste shock (Small & Rosen).

Closed forms are for the one-firm oracle market of ``conftest.ONE_FIRM``, whose customers buy
every week (so a customer's margin is its discounted customer-weeks times a constant) and never
see a rival; tolerances are Z standard errors of the simulated estimate."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from relsim import simulate
from relsim.model import continuation
from relsim.model.economics import COST_KINDS
from relsim.scenario import Scenario
from relsim.units import weekly_discount_rate, weekly_probability
from tests.conftest import scenario

Z = 4.0

TRANSACTIONAL = {"name": "plain", "preset": "transactional"}


def _club(cost_per_member_per_week: float, **more: Any) -> dict[str, Any]:
    """A club every customer joins in week 0 that changes nothing for them: no status, no
    events, no fee; it only costs ``cost_per_member_per_week`` per member."""
    return {
        "min_rung": "customer",
        "join_probability": 1.0,
        "fee_per_year": 0.0,
        "status_utility": 0.0,
        "events_per_year": 0.0,
        "event_hours_per_member": 0.0,
        "cost_per_member_per_week": cost_per_member_per_week,
        "fixed_cost_per_week": 0.0,
        "review_weeks": 520,
        **more,
    }


def _market(annual_churn: float, strategies: list[dict[str, Any]], weeks: int = 104) -> Scenario:
    base = scenario()
    return scenario(
        {
            "horizon": {"weeks": weeks},
            "market": {"customers": 6000},
            "segments": [
                {
                    **base.segments[0].model_dump(),
                    "orders_per_year": {"mean": 52.0, "shape": None},
                    "defection_propensity": {"mean": annual_churn, "concentration": None},
                }
            ],
            "strategies": strategies,
            "baseline": strategies[0]["name"],
        }
    )


def _margin_per_order(sc: Scenario) -> float:
    seg, firm = sc.segments[0], sc.firms[0]
    share = 1.0 / (
        1.0
        + np.exp(
            seg.outside_utility
            - (
                -seg.price_sensitivity * firm.price_index
                + seg.quality_sensitivity * firm.product_quality
                + sc.ladder.habit[1]
                + sc.satisfaction.choice_weight * (sc.satisfaction.initial - 0.5)
            )
        )
    )
    assert share > 1 - 1e-6  # every occasion buys: a customer's margin is m x its weeks
    return seg.order_value.mean * (firm.price_index - firm.unit_cost)


def test_customer_value_with_running_costs_is_gupta_lehmann_with_costs() -> None:
    """Margin m and running cost c per customer-week, weekly survival r, weekly discount
    D = 1/(1+i): the value of a customer within and after the horizon is (m - c) r / (1 - r D),
    i.e. Gupta & Lehmann's (m - c) r / (1 + i - r) with each week's money at its start."""
    cost = 4.0
    sc = _market(0.4, [{**TRANSACTIONAL, "name": "club", "bonds": {"club": _club(cost)}}])
    run = simulate(sc, strategy="club", seed=11)
    s = run.summary
    n = sc.market.customers
    m = _margin_per_order(sc)
    r = 1.0 - float(weekly_probability(0.4))
    d = 1.0 / (1.0 + weekly_discount_rate(sc.economics.discount_rate_per_year))
    expected = (m - cost) * r / (1.0 - r * d)
    # every customer's value is (m - c)/m times its margin value: the same standard error
    margin_value = run.customers["margin_value"].to_numpy()
    se = abs(m - cost) / m * margin_value.std(ddof=1) / np.sqrt(n)
    assert s["npv_with_residual"] / n == pytest.approx(expected, abs=Z * se)
    # power: the margin-only continuation this replaces is far outside the tolerance
    gross = s["npv"] / n + s["residual_margin"] / n
    assert abs(gross - expected) > 2 * Z * se
    assert s["residual_costs"] > 0


def test_a_cost_that_changes_nothing_costs_its_present_value_within_and_after_the_horizon() -> None:
    """Two strategies identical but for a senior manager who changes nothing for customers:
    with common random numbers the runs are the same customer by customer, and the decision
    metric differs by exactly the present value of the manager's cost. Nobody ever leaves, so
    the customers the cost runs with are there for ever: a perpetuity, X / (1 - D)."""
    salary = 2500.0
    manager = {"senior_manager": {"count": 1, "cost_per_week": salary}}
    sc = _market(0.0, [TRANSACTIONAL, {**TRANSACTIONAL, "name": "overseen", "staffing": manager}])
    plain = simulate(sc, strategy="plain", seed=12).summary
    overseen = simulate(sc, strategy="overseen", seed=12).summary
    d = 1.0 / (1.0 + weekly_discount_rate(sc.economics.discount_rate_per_year))
    weeks = sc.horizon.weeks
    assert overseen["orders"] == plain["orders"] and overseen["revenue"] == plain["revenue"]
    within = salary * (1.0 - d**weeks) / (1.0 - d)
    after = salary * d**weeks / (1.0 - d)
    assert plain["npv"] - overseen["npv"] == pytest.approx(within, rel=1e-9)
    assert plain["residual_value"] - overseen["residual_value"] == pytest.approx(after, rel=1e-9)
    difference = plain["npv_with_residual"] - overseen["npv_with_residual"]
    assert difference == pytest.approx(salary / (1.0 - d), rel=1e-9)


def test_a_points_programs_continuation_pays_the_rewards_on_the_continued_orders() -> None:
    """Every order earns points: the value after the horizon is lower than the same program's
    with free rewards (its continued margin) by the rewards on the continued orders, the
    program's reward rate times the continued revenue, within the sampling error of the
    rewards issued in the final year the rate is measured on."""
    points = {
        "earn_rate": 1.0,
        "threshold": 200.0,
        "reward_value": 10.0,
        "breakage": 0.0,
        "fixed_cost_per_week": 0.0,
    }
    sc = _market(0.4, [{**TRANSACTIONAL, "name": "points", "bonds": {"points": points}}])
    run = simulate(sc, strategy="points", seed=13)
    s = run.summary
    firm = sc.firms[0]
    rate = points["reward_value"] / points["threshold"]  # per unit of revenue
    margin_share = (firm.price_index - firm.unit_cost) / firm.price_index
    continued_revenue = s["residual_margin"] / margin_share
    expected = rate * continued_revenue
    # the final year's rewards: about one per threshold of points earned, Poisson-like in count
    issued = run.raw.bonds["rewards_issued"][-52:, 0].sum()
    se = expected / np.sqrt(issued)
    assert s["residual_margin"] - s["residual_value"] == pytest.approx(expected, abs=Z * se)
    assert expected > 10 * Z * se  # the check can tell a program from free rewards


def test_running_costs_above_the_margin_give_a_negative_value_after_the_horizon() -> None:
    sc = _market(0.4, [{**TRANSACTIONAL, "name": "club", "bonds": {"club": _club(1.0)}}])
    m = _margin_per_order(sc)
    assert simulate(sc, strategy="club", seed=14).summary["residual_value"] > 0
    costly = _market(0.4, [{**TRANSACTIONAL, "name": "club", "bonds": {"club": _club(m + 1)}}])
    run = simulate(costly, strategy="club", seed=14)
    assert run.summary["residual_margin"] > 0
    assert run.summary["residual_value"] < 0
    alive = run.customers[run.customers["residual_margin"] > 0]
    assert len(alive) and (alive["residual_value"] < 0).all()


def test_surplus_per_occasion_is_the_logit_inclusive_value() -> None:
    """One firm, the outside option at utility 0, no habit: a customer's expected surplus per
    purchase occasion is log(1 + e^v) / price weight per unit of order value (Small & Rosen),
    never negative, where the surplus of the deterministic utility alone, v / price weight
    per order, is negative for v < 0."""
    base = scenario()
    seg = base.segments[0].model_dump()
    seg.update(
        {
            "orders_per_year": {"mean": 52.0, "shape": None},
            "outside_utility": 0.0,
            "price_sensitivity": 2.0,
            "quality_sensitivity": 2.0,
        }
    )
    weeks = 26
    sc = scenario(
        {
            "horizon": {"weeks": weeks},
            "market": {"customers": 3000},
            "segments": [seg],
            "ladder": {"habit": [0, 0, 0, 0, 0, 0]},
            "satisfaction": {"choice_weight": 0.0},
            "strategies": [TRANSACTIONAL],
            "baseline": "plain",
        }
    )
    firm = sc.firms[0]
    v = seg["quality_sensitivity"] * firm.product_quality - seg["price_sensitivity"] * (
        firm.price_index
    )
    assert -1.0 < v < 0.0  # buying is a close call: the taste shock matters
    run = simulate(sc, strategy="plain", seed=15)
    occasions = sc.market.customers * weeks  # everyone shops every week, nobody leaves
    assert run.summary["orders"] < occasions
    value, weight = seg["order_value"]["mean"], seg["price_sensitivity"]
    buy = 1.0 / (1.0 + np.exp(-v))
    expected = value * np.log1p(np.exp(v)) / weight
    per_order = expected / buy
    se = per_order * np.sqrt(buy * (1 - buy) / occasions)
    surplus = run.summary["customer_surplus"] / occasions
    assert surplus == pytest.approx(expected, abs=Z * se)
    # power: the level without the taste shock is negative, far from the closed form
    assert abs(value * v / weight * buy - expected) > 10 * Z * se


def test_the_final_year_prices_each_account_as_documented() -> None:
    """A planted ledger of two firms over 60 weeks (the final year: weeks 8-59): each account is
    continued the way model/continuation.py says, by hand. Firm 1 (a rival: no staff) has a
    few members and a tiny revenue, so that no firm's figures can leak into the other's."""
    weeks, window = 60, slice(8, 60)
    costs = {kind: np.zeros((weeks, 2), dtype=np.int64) for kind in COST_KINDS}

    def book(kind: str, firm: int, before: float, during: float) -> None:
        costs[kind][:8, firm] = round(before * 100)  # outside the window: never read
        costs[kind][window, firm] = round(during * 100)

    book("fixed", 0, 1e6, 800.0)  # the firm's overhead: not continued
    book("acquisition", 0, 1e6, 500.0)
    book("structural_setup", 0, 1e6, 900.0)
    book("cost_of_goods", 0, 1e6, 3000.0)
    book("program", 0, 1e6, 600.0)
    book("club", 0, 1e6, 250.0 + 2.0 * 40)  # fixed 250 a week, 40 members at 2 each
    book("rewards", 0, 1e6, 150.0)
    book("desk", 0, 1e6, 300.0)  # nobody's level asks for the desk: spread per customer
    book("contacts", 0, 1e6, 420.0)
    book("managers", 0, 1e6, 700.0)
    book("senior_manager", 0, 1e6, 100.0)
    book("program", 1, 1e6, 50.0)
    costs["rewards"][59, 1] = 5  # 0.05 on its only orders, in the last week
    revenue = np.zeros((weeks, 2), dtype=np.int64)
    revenue[:8, 0] = 10**9
    revenue[window, 0] = round((5000.0 + 40 * 1.5) * 100)  # orders, and 40 members' fees
    revenue[window, 1] = 3  # its 3 members' fees of 0.01 a week
    revenue[59, 1] += 50  # and orders of 0.50 in all: a base below one unit still divides
    customers = np.zeros((weeks, 2), dtype=np.int64)
    customers[:8] = 10**6
    customers[window, 0] = np.linspace(900, 1100, 52).round()
    members = np.zeros((weeks, 2))
    members[window] = [40, 3]
    fee, member_cost = np.array([1.5, 0.01]), np.array([2.0, 0.0])
    staff_weight = np.array([[0.0, 0.0], [30.0, 0.0], [0.5, 0.0]])  # hours a week asked
    rates = continuation.final_year(
        costs, revenue, customers, members, fee, member_cost, staff_weight
    )
    customer_weeks = customers[window, 0].sum()
    pooled = 52 * (600.0 + 250.0 + 300.0)  # program, the club's fixed part, the idle desk
    assert rates.per_customer_week == pytest.approx([pooled / customer_weeks, 0.0], rel=1e-12)
    assert rates.reward_share == pytest.approx([150.0 / 5000.0, 0.05 / 0.50], rel=1e-12)
    assert rates.per_staff_weight[:, 0] == pytest.approx([0.0, 420.0 / 30.0, 800.0 / 0.5])
    assert (rates.per_staff_weight[:, 1] == 0).all()


def test_a_horizon_shorter_than_a_year_is_continued_from_its_first_week() -> None:
    weeks = 20
    costs = {kind: np.zeros((weeks, 1), dtype=np.int64) for kind in COST_KINDS}
    costs["program"][0, 0] = 100_000  # 1 000 in the first week only
    customers = np.full((weeks, 1), 100)
    rates = continuation.final_year(
        costs,
        np.zeros((weeks, 1), dtype=np.int64),
        customers,
        np.zeros((weeks, 1)),
        np.zeros(1),
        np.zeros(1),
        np.zeros((3, 1)),
    )
    assert rates.per_customer_week == pytest.approx([1000.0 / (100 * weeks)])


def test_a_customers_costs_add_each_exposure_at_its_rate() -> None:
    rates = continuation.RunningCosts(
        per_customer_week=np.array([2.0, 3.0]),
        reward_share=np.array([0.05, 0.1]),
        per_staff_weight=np.array([[7.0, 0.0], [11.0, 0.0], [13.0, 0.0]]),
    )
    # rows: margin, held costs, weeks, revenue, desk, contacts, managers weight-weeks
    exposure = np.array(
        [
            [100.0, 90.0],
            [5.0, 1.0],
            [10.0, 20.0],
            [400.0, 300.0],
            [1.0, 0.0],
            [2.0, 0.0],
            [0.5, 4.0],
        ]
    )
    margin, costs = rates.price(np.array([0, 1]), exposure)
    assert margin == pytest.approx([100.0, 90.0])
    assert costs[0] == pytest.approx(5 + 10 * 2 + 400 * 0.05 + 1 * 7 + 2 * 11 + 0.5 * 13)
    assert costs[1] == pytest.approx(1 + 20 * 3 + 300 * 0.1)  # firm 1 has no staff


def test_a_staff_pool_that_customers_ask_for_costs_its_present_value_too() -> None:
    """As the senior manager's test, with every customer a partnership account, so the
    managers' pool (which carries the senior manager) is spread by the hours the customers'
    level asks of it, not per customer-week: equal weights, the same perpetuity."""
    salary = 2500.0
    levels = {"default": "partnership"}
    managers = {"managers": {"count": 40}}
    overseen = {**managers, "senior_manager": {"count": 1, "cost_per_week": salary}}
    sc = _market(
        0.0,
        [
            {**TRANSACTIONAL, "levels": levels, "staffing": managers},
            {**TRANSACTIONAL, "name": "overseen", "levels": levels, "staffing": overseen},
        ],
    )
    plain = simulate(sc, strategy="plain", seed=16).summary
    with_senior = simulate(sc, strategy="overseen", seed=16).summary
    assert plain["orders"] == with_senior["orders"] and plain["managers"] > 0
    d = 1.0 / (1.0 + weekly_discount_rate(sc.economics.discount_rate_per_year))
    difference = plain["npv_with_residual"] - with_senior["npv_with_residual"]
    assert difference == pytest.approx(salary / (1.0 - d), rel=1e-9)
    # and the managers themselves are continued: the residual carries their cost
    assert plain["residual_costs"] > 0
