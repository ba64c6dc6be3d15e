"""Behavioural oracles for rules that only the golden outputs used to pin: each test says *what*
is wrong when it fails, where a golden diff says only *that* something changed.

The expectation update (seen through the satisfaction it drives, in a one-firm market), the
ladder's climb with a multiplier capped at certainty, rewards booked to the firm that paid
them, and the ledger's guard against sums float64 cannot hold exactly."""

from __future__ import annotations

import numpy as np
import pytest

import relsim
from relsim.domain import CLIENT, CUSTOMER, PARTNER, SUPPORTER
from relsim.model import defection, ladder, trust
from relsim.model.economics import Ledger, to_cents, whole_cents
from relsim.model.population import NEVER
from relsim.model.satisfaction import (
    SatisfactionRule,
    experience,
    is_satisfying,
    update_expectation,
    update_satisfaction,
)
from relsim.scenario import Scenario, load_scenario
from relsim.scenario.model import Trust
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
    with pytest.raises(
        OverflowError, match=r"^weekly revenue beyond 2\*\*53 cents cannot be summed exactly$"
    ):
        ledger.book_orders(0, np.array([1, 1]), np.array([big, big]), np.zeros(2))
    with pytest.raises(OverflowError):
        ledger.book_by_firm(0, "rewards", np.array([0, 1, 1]), np.array([1.0, -big, -big]))
    assert ledger.revenue[0].tolist() == [2**53 - 2, 5]  # nothing booked by a refused call
    assert ledger.costs["rewards"][0].tolist() == [0, 0]
    ledger.book_by_firm(0, "rewards", np.array([1]), np.array([-(big - 1.0)]))
    assert ledger.costs["rewards"][0].tolist() == [0, -(big - 1)]


# ---------------------------------------------------------------- rule edges (mutation testing)


def test_a_kept_promise_moves_trust_its_share_of_the_way_to_one() -> None:
    """t <- t + g (1 - t), in float32, for the kept promises the service desk and contacts
    book (the order rule has its own test): never beyond 1, 1 stays 1."""
    t = np.array([0.0, 0.25, 0.5, 1.0], np.float32)
    gained = trust.kept(t, np.float32(0.2))
    np.testing.assert_allclose(gained, [0.2, 0.4, 0.6, 1.0], rtol=1e-6)
    assert gained.dtype == np.float32


def test_the_trust_rule_carries_every_field_of_the_scenario() -> None:
    block = Trust(
        initial=0.4, build=0.05, loss=0.3, recovery=0.15, contact=0.02, climb_weight=1.0,
        defection_weight=2.0,
    )  # fmt: skip
    rule = trust.TrustRule.from_scenario(block)
    got = [rule.initial, rule.build, rule.loss, rule.recovery, rule.contact]
    np.testing.assert_allclose(got, [0.4, 0.05, 0.3, 0.15, 0.02], rtol=1e-6)
    assert (rule.climb_weight, rule.defection_weight) == (1.0, 2.0)


@pytest.mark.parametrize("weight", [0.0, 1.0, 2.5])
def test_trust_multiplies_the_climb_by_exp_weight_times_its_distance_from_the_start(
    weight: float,
) -> None:
    rule = trust.TrustRule.from_scenario(Trust(initial=0.5, climb_weight=weight))
    t = np.array([0.0, 0.5, 1.0], np.float32)
    factor = trust.climb_factor(t, rule)
    if weight == 0.0:
        assert factor is None  # trust does not act: the engine skips the product
    else:
        assert factor is not None
        np.testing.assert_allclose(factor, np.exp(weight * (t - 0.5)), rtol=1e-6)


def test_the_ledger_adds_every_booking_of_a_week() -> None:
    """Every booking adds to the week's integer cents, per firm; a firm nobody booked for
    stays at zero."""
    ledger = Ledger(weeks=2, n_firms=3)
    assert ledger.revenue.dtype == np.int64
    ledger.book_orders(1, np.array([0, 0]), np.array([100.0, 50.0]), np.array([60.0, 30.0]))
    ledger.book_orders(1, np.array([0]), np.array([1.0]), np.array([2.0]))
    assert ledger.revenue.tolist() == [[0, 0, 0], [151, 0, 0]]
    assert ledger.costs["cost_of_goods"].tolist() == [[0, 0, 0], [92, 0, 0]]
    ledger.book(1, "fixed", np.array([5, 6, 7]))
    ledger.book(1, "fixed", np.array([1, 1, 1]))
    assert ledger.costs["fixed"][1].tolist() == [6, 7, 8]
    ledger = Ledger(weeks=2, n_firms=2)
    ledger.book_by_firm(1, "rewards", np.array([0, 1]), np.array([100.0, 7.0]))
    ledger.book_by_firm(1, "rewards", np.array([1]), np.array([5.0]))
    ledger.book_focal(1, "club", 300)
    ledger.book_focal(1, "club", 20)
    assert ledger.costs["rewards"].tolist() == [[0, 0], [100, 12]]
    assert ledger.costs["club"].tolist() == [[0, 0], [320, 0]]


def test_geometric_waits_at_their_edges() -> None:
    """p = 0 and waits beyond 2**30 weeks are 'never' (2**30); p >= 1 is the next week; the
    wait is an int64 count of weeks."""
    u = np.full(4, 0.5, np.float32)
    k = defection.waiting_weeks(np.array([0.0, 5e-10, 1.0, 1.5]), u)
    assert k.dtype == np.int64
    # 5e-10: log(0.5) / log(1 - 5e-10) is 1.4e9 weeks, between 2**30 and 2**31
    assert k.tolist() == [2**30, 2**30, 1, 1]
    # the same edges for the week of the next event: now, for certain or more than certain
    now = 7
    assert defection.schedule(now, np.array([0.0, 1.0, 1.5]), u[:3]).tolist() == [NEVER, now, now]


def test_the_rules_keep_the_populations_compact_dtypes() -> None:
    """The population stores rungs as int8 and trust and quality as float32 (docs/model.md:
    memory per customer); the rules return those types, so their arithmetic stays float32
    exactly as the golden outputs were computed."""
    rule = SatisfactionRule(0.1, 0.2, 0.05, 0.3)
    felt = experience(np.array([0.7, 0.7], np.float32), np.array([False, True]), rule)
    assert felt.dtype == np.float32 and felt.tolist() == pytest.approx([0.7, 0.4], rel=1e-6)
    assert ladder.start_rung(np.array([0, 1, 2, 9])).dtype == np.int8
    e = update_expectation(np.float32([0.9]), np.float32([0.7]), rule)
    assert e.dtype == np.float32 and e.tolist() == pytest.approx([0.86], rel=1e-6)
    t = np.array([0.5, 0.5], np.float32)
    kept_rule = trust.TrustRule.from_scenario(Trust(initial=0.5, build=0.1, loss=0.5))
    after = trust.after_orders(t, np.array([False, True]), kept_rule)
    assert after.dtype == np.float32 and after.tolist() == pytest.approx([0.55, 0.25], rel=1e-6)


def test_satisfaction_is_bounded_and_the_zone_of_tolerance_includes_its_edge() -> None:
    rule = SatisfactionRule(learning_rate=0.5, expectation_rate=0.2, tolerance=0.25,
                            problem_penalty=0.3)  # fmt: skip
    s = np.array([0.95, 0.05, 0.5], np.float32)
    felt = np.array([0.9, 0.1, 0.6], np.float32)
    expected = np.array([0.5, 0.9, 0.5], np.float32)
    new = update_satisfaction(s, felt, expected, rule)  # 1.15, -0.35 and 0.55 before the bounds
    assert new.dtype == np.float32 and new.tolist() == pytest.approx([1.0, 0.0, 0.55], rel=1e-6)
    # exactly at the lower edge of the zone (0.75 - 0.25, exact in float32) is satisfying
    at_edge = is_satisfying(np.float32([0.5, 0.4999]), np.float32([0.75, 0.75]), rule)
    assert at_edge.tolist() == [True, False]


def test_cents_are_rounded_from_float64_even_for_float32_amounts() -> None:
    """300 000.03125 is exact in float32; x 100 is 30 000 003.125 cents, which float32 (whole
    numbers only, in steps of 2, at that size) would make 30 000 004."""
    assert whole_cents(np.float32(300000.03125)) == 30000003.0
    assert to_cents(np.array([300000.03125], np.float32)).tolist() == [30000003]


def test_event_weeks_are_computed_in_float32_as_documented() -> None:
    """schedule and waiting_weeks compute log1p(-u) / log1p(-p) in float32 whatever the input
    types: on a million draws given as float64 they equal that float32 computation exactly,
    and the sample holds draws where a float64 computation would give another week."""
    rng = np.random.default_rng(36)
    n, now = 1_000_000, 100
    p, u = rng.uniform(1e-4, 0.5, n), rng.random(n)
    p32, u32 = p.astype(np.float32), u.astype(np.float32)
    ratio = np.log1p(-u32) / np.log1p(-p32)  # float32, as documented
    expected = np.minimum(np.floor(ratio) + now, NEVER)  # NEVER: beyond any simulation
    np.testing.assert_array_equal(defection.schedule(now, p, u), expected)
    np.testing.assert_array_equal(defection.waiting_weeks(p, u), np.floor(ratio) + 1)
    for other in (np.log1p(-u32) / np.log1p(-p), np.log1p(-u) / np.log1p(-p32)):
        assert (np.floor(other.astype(np.float32)) != np.floor(ratio)).any()


@pytest.mark.parametrize("weight", [0.0, 1.0, 2.5])
def test_trust_divides_the_hazard_by_exp_weight_times_its_distance_from_the_start(
    weight: float,
) -> None:
    rule = trust.TrustRule.from_scenario(Trust(initial=0.4, defection_weight=weight))
    t = np.array([0.0, 0.4, 1.0], np.float32)
    factor = trust.hazard_factor(t, rule)
    if weight == 0.0:
        assert factor is None
    else:
        assert factor is not None
        np.testing.assert_allclose(factor, np.exp(-weight * (t - 0.4)), rtol=1e-6)
    # the largest factor, at no trust, bounds every customer's (the lapse's thinning bound)
    assert trust.max_hazard_factor(rule) == pytest.approx(np.exp(weight * 0.4), rel=1e-6)


def test_the_ladder_never_leaves_customer_to_partner_and_a_zero_probability_never_moves() -> None:
    """With certain moves everywhere, 'customer' does not fall and 'partner' does not climb;
    with zero probabilities nothing moves, even at a uniform of exactly 0. Rungs are int8."""
    rungs = np.array([CUSTOMER, CUSTOMER, PARTNER, PARTNER, CLIENT, CLIENT], np.int8)
    satisfying = np.array([False, True, True, False, True, False])
    zeros = np.zeros(6)
    certain = ladder.move(rungs, satisfying, zeros, np.ones(6), np.ones(6))
    assert certain.dtype == np.int8
    assert certain.tolist() == [CUSTOMER, CLIENT, PARTNER, PARTNER - 1, SUPPORTER, CUSTOMER]
    never = ladder.move(rungs, satisfying, zeros, np.zeros(6), np.zeros(6), np.ones(6))
    assert never.tolist() == rungs.tolist()
