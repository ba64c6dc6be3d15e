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
from relsim.model.params import weekly_discount_rate, weekly_probability
from relsim.scenario import Scenario
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
