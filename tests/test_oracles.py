"""Analytic oracles: the engine, run with degenerate parameters (no special code path), must
approach closed forms. Tolerances are Z standard errors of the simulated estimate; each test
also checks that the tolerance is tighter than a plausible modelling error, so it can fail."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import betaln

from relsim import Run, simulate
from relsim.scenario import Scenario
from relsim.units import weekly_discount_rate, weekly_probability
from tests.conftest import scenario

Z = 4.5  # per comparison; with at most ~40 comparisons per test, a false alarm is ~1e-4


def logit_share(v: float, outside: float) -> float:
    return 1.0 / (1.0 + np.exp(outside - v))


def test_geometric_clv_of_a_customer_with_constant_rates() -> None:
    """Constant purchase probability p, margin m and weekly defection delta: the mean realised
    discounted value is p*pi*m * sum_{t<H} r**(t+1) D**t with r = 1-delta, D = 1/(1+d), and
    realised + residual value is the infinite geometric series p*pi*m * r / (1 - r D)."""
    weeks, annual_churn = 104, 0.4
    sc = scenario(
        {
            "horizon": {"weeks": weeks},
            "market": {"customers": 10000},
            "segments": [
                {
                    **scenario().segments[0].model_dump(),
                    "defection_propensity": {"mean": annual_churn, "concentration": None},
                }
            ],
        }
    )
    run = simulate(sc, seed=101)
    seg, firm = sc.segments[0], sc.firms[0]
    p = seg.orders_per_year.mean / 52.0
    margin = seg.order_value.mean * (firm.price_index - firm.unit_cost)
    v = (
        -seg.price_sensitivity * firm.price_index
        + seg.quality_sensitivity * firm.product_quality
        + sc.ladder.habit[1]
        + sc.satisfaction.choice_weight * (sc.satisfaction.initial - 0.5)
    )
    pi = logit_share(v, seg.outside_utility)
    r = 1.0 - float(weekly_probability(annual_churn))
    discount = 1.0 / (1.0 + weekly_discount_rate(sc.economics.discount_rate_per_year))
    t = np.arange(weeks)
    expected_realised = p * pi * margin * np.sum(r ** (t + 1) * discount**t)
    expected_total = p * pi * margin * r / (1.0 - r * discount)

    customers = run.customers
    realised = customers["realised_margin"].to_numpy()
    total = customers["margin_value"].to_numpy()
    n = len(customers)
    assert n == sc.market.customers  # no arrivals
    se_realised = realised.std(ddof=1) / np.sqrt(n)
    se_total = total.std(ddof=1) / np.sqrt(n)
    assert abs(realised.mean() - expected_realised) < Z * se_realised
    assert abs(total.mean() - expected_total) < Z * se_total
    # power: a 15% error in the weekly defection probability would be detected
    r_wrong = 1.0 - 1.15 * (1.0 - r)
    wrong = p * pi * margin * np.sum(r_wrong ** (t + 1) * discount**t)
    assert abs(wrong - expected_realised) > Z * se_realised


def test_rung_occupancy_follows_the_markov_chain() -> None:
    """Every customer buys every week; a purchase has a problem with probability q. Satisfying
    purchases climb with u[r], dissatisfying ones fall with d[r]: rung occupancy after k weeks
    is the first row of P**k."""
    q = 0.2
    up = [1.0, 0.5, 0.3, 0.2, 0.1, 0.0]
    down = [0.0, 0.0, 0.4, 0.3, 0.2, 0.5]
    sc = scenario(
        {
            "horizon": {"weeks": 40},
            "segments": [
                {
                    **scenario().segments[0].model_dump(),
                    "orders_per_year": {"mean": 52.0, "shape": None},
                }
            ],
            "firms": [{**scenario().firms[0].model_dump(), "fulfilment_failure": q}],
            "ladder": {"up_probability": up, "down_probability": down},
        }
    )
    run = simulate(sc, seed=202)
    n = sc.market.customers
    transition = np.zeros((5, 5))  # rungs customer..partner
    for i in range(5):
        rung = i + 1
        climb = (1 - q) * up[rung] if rung < 5 else 0.0
        fall = q * down[rung] if rung > 1 else 0.0
        if i < 4:
            transition[i, i + 1] = climb
        if i > 0:
            transition[i, i - 1] = fall
        transition[i, i] = 1.0 - climb - fall
    counts = run.raw.ladder[:, 0, 1:]  # (weeks, 5) after each week's step
    start = np.array([1.0, 0, 0, 0, 0])
    worst = 0.0
    for week in (0, 3, 9, 19, 39):
        expected = start @ np.linalg.matrix_power(transition, week + 1)
        se = np.sqrt(n * expected * (1 - expected)) + 1e-12
        z = np.abs(counts[week] - n * expected) / se
        assert counts[week].sum() == n
        assert np.all((z < Z) | (expected * n < 1e-9)), (week, counts[week], n * expected)
        worst = max(worst, float(z[expected > 0].max()))
    # power: a chain with climbing 10% slower would be far outside the tolerance at week 9
    slow = transition.copy()
    for i in range(4):
        slow[i, i + 1] *= 0.9
        slow[i, i] = 1.0 - slow[i].sum() + slow[i, i]
    off = start @ np.linalg.matrix_power(slow, 10)
    exp9 = start @ np.linalg.matrix_power(transition, 10)
    se9 = np.sqrt(n * exp9 * (1 - exp9))
    assert np.max(np.abs(n * off - n * exp9) / se9) > Z


@pytest.mark.parametrize("mean, concentration", [(0.2, 2.0), (0.1, 5.0)])
def test_contractual_cohort_survival_is_shifted_beta_geometric(
    mean: float, concentration: float
) -> None:
    """Contract holders with beta(a, b) churn probabilities per period: the cohort's survival
    after t renewals is S(t) = B(a, b + t) / B(a, b)."""
    period = 4
    a, b = mean * concentration, (1 - mean) * concentration
    sc = scenario(
        {
            "horizon": {"weeks": 60},
            "market": {"customers": 6000},
            "segments": [
                {
                    **scenario().segments[0].model_dump(),
                    "contractual": True,
                    "contract_period_weeks": period,
                    "defection_propensity": {"mean": mean, "concentration": concentration},
                }
            ],
        }
    )
    run = simulate(sc, seed=303)
    lost = run.customers["lost_week"].to_numpy(dtype=float, na_value=np.inf)
    n = len(lost)
    renewals = np.arange(1, 60 // period)
    for t in renewals:
        simulated = np.mean(lost > t * period)
        expected = np.exp(betaln(a, b + t) - betaln(a, b))
        se = np.sqrt(expected * (1 - expected) / n)
        assert abs(simulated - expected) < Z * se, (t, simulated, expected)
    # power: the homogeneous geometric curve with the same mean differs beyond the tolerance
    t = renewals[-1]
    expected = np.exp(betaln(a, b + t) - betaln(a, b))
    assert abs((1 - mean) ** t - expected) > Z * np.sqrt(expected * (1 - expected) / n)


def _stated_churn_market(churn_percent: float, concentration: float | None) -> Scenario:
    """The textbook reduction: one firm, flat ladder, neutral satisfaction, no arrivals; the
    segment states its churn in a strategist's terms (percent a year, market exits included)."""
    segment = scenario().segments[0].model_dump(exclude={"defection_propensity"})
    return scenario(
        {
            "horizon": {"weeks": 156},
            "market": {"customers": 10000},
            "segments": [
                {
                    **segment,
                    "relocation_per_year": 0.05,
                    "annual_churn_percent": churn_percent,
                    "defection_propensity": {"concentration": concentration},
                }
            ],
        }
    )


def _starting_cohort_lost_week(run: Run, n: int) -> np.ndarray:
    customers = run.customers
    cohort = customers[customers["customer"] < n]
    assert len(cohort) == n and (cohort["acquired_week"] == 0).all()
    return cohort["lost_week"].to_numpy(dtype=float, na_value=np.inf)


def test_stated_annual_churn_is_what_the_textbook_reduction_shows() -> None:
    """A segment's `annual_churn_percent` is converted to the engine's propensity so that the
    run's annual churn (relationships ended per customer-week at risk, compounded over 52
    weeks) is the stated figure, and so is the share of the starting customers gone within a
    year."""
    churn = 0.25
    sc = _stated_churn_market(100 * churn, None)
    run = simulate(sc, seed=404)
    n = sc.market.customers
    # the run's reported churn: weekly rate h over E customer-weeks, se by the delta method
    defections = run.raw.weekly_counts["defections"][:, 0]
    exposure = run.raw.weekly_counts["customers"][:, 0].sum() + defections.sum()
    h = defections.sum() / exposure
    se = 52 * (1 - h) ** 51 * np.sqrt(h * (1 - h) / exposure)
    reported = run.summary["churn_rate_annual"]
    assert abs(reported - churn) < Z * se, (reported, churn, se)
    # a cohort's first year: the starting customers (ids 0..n-1; arrivals replacing market
    # exits come later) all started with the firm
    lost = _starting_cohort_lost_week(run, n)
    first_year = np.mean(lost < 52)
    se_cohort = np.sqrt(churn * (1 - churn) / n)
    assert abs(first_year - churn) < Z * se_cohort, first_year
    # power: the rate the summary reported before (ended per mean customer and year) is
    # -ln(1 - churn) for a constant hazard, and would fail this tolerance
    assert abs(-np.log(1 - churn) - churn) > Z * se
    # and the conversion matters: the stated churn used as the propensity (ignoring exits)
    naive = 1 - (1 - churn) * (1 - 0.05)
    assert abs(naive - churn) > Z * se_cohort


def test_stated_annual_churn_holds_for_the_first_year_of_a_heterogeneous_cohort() -> None:
    """With beta-distributed propensities the first-year churn of a cohort is still the stated
    mean (each customer survives a year with (1 - p_i)(1 - relocation)); later years churn
    less because the loyal remain -- the run's churn over three years is below the statement."""
    churn = 0.25
    sc = _stated_churn_market(100 * churn, 2.0)
    run = simulate(sc, seed=405)
    n = sc.market.customers
    lost = _starting_cohort_lost_week(run, n)
    first_year = np.mean(lost < 52)
    assert abs(first_year - churn) < Z * np.sqrt(churn * (1 - churn) / n), first_year
    survivors = lost >= 52
    third_year = np.mean(lost[survivors] < 104) if survivors.any() else 1.0
    assert third_year < churn - Z * np.sqrt(churn * (1 - churn) / survivors.sum())


def test_a_lapse_hazard_that_moves_every_week_gives_the_product_survival() -> None:
    """Trust that rises with every order moves the lapse hazard every week. Everyone buys
    every week without problems, so trust after ``k`` orders is ``1 - (1 - t0)(1 - b)**k``
    and week ``k``'s hazard is ``1 - (1 - p)**exp(-w (t_k - t0))``: the starting cohort's
    survival to week ``K`` is the product of ``1 - h_k`` over ``k < K``. The engine draws lapse
    candidates at a bound hazard and thins them to the hazard of the moment, so this checks
    that the thinning is exact (and that trust reaches the hazard in the right week)."""
    theta, w, t0, b = 0.4, 3.0, 0.5, 0.1
    segment = scenario().segments[0].model_dump()
    sc = scenario(
        {
            "market": {"customers": 10000},
            "segments": [
                {
                    **segment,
                    "orders_per_year": {"mean": 52.0, "shape": None},
                    "defection_propensity": {"mean": theta, "concentration": None},
                }
            ],
            "trust": {"initial": t0, "build": b, "defection_weight": w},
        }
    )
    run = simulate(sc, seed=406)
    n = sc.market.customers
    lost = _starting_cohort_lost_week(run, n)
    weekly = 1.0 - (1.0 - theta) ** (1.0 / 52)
    k = np.arange(52)
    trust_k = 1.0 - (1.0 - t0) * (1.0 - b) ** k
    hazard = 1.0 - (1.0 - weekly) ** np.exp(-w * (trust_k - t0))
    survival = np.cumprod(1.0 - hazard)  # survival[K-1]: no lapse in weeks 0..K-1
    for weeks in (1, 4, 13, 26, 52):
        expected = 1.0 - survival[weeks - 1]
        se = np.sqrt(expected * (1 - expected) / n)
        share = np.mean(lost < weeks)
        assert abs(share - expected) < Z * se, (weeks, share, expected)
    # power: a hazard frozen at the relationship's start (trust never reaching it) loses
    # theta in the first year, far outside the tolerance
    expected = 1.0 - survival[-1]
    assert abs(theta - expected) > 10 * Z * np.sqrt(expected * (1 - expected) / n)
