"""relsim.units: the strategist's terms and the engine's weekly terms, both ways."""

from __future__ import annotations

import math

import numpy as np
import pytest

from relsim import units


def test_a_year_has_52_weeks() -> None:
    assert units.WEEKS_PER_YEAR == 52.0
    assert units.per_week(52.0) == 1.0
    assert units.per_year(1.0) == 52.0
    assert units.years(104) == 2.0
    assert units.weeks(0.5) == 26.0
    assert units.cost_per_week(52_000.0) == 1000.0


@pytest.mark.parametrize("value", [0.0, 0.05, 0.3, 12.0, 51.9])
def test_per_week_and_per_year_are_inverse(value: float) -> None:
    assert units.per_year(units.per_week(value)) == pytest.approx(value, rel=1e-15)
    assert units.weeks(units.years(value)) == pytest.approx(value, rel=1e-15)


def test_occasion_probability_is_at_most_one_a_week() -> None:
    assert units.occasion_probability(26.0) == 0.5
    assert units.occasion_probability(104.0) == 1.0
    np.testing.assert_array_equal(units.occasion_probability(np.array([0.0, 13.0])), [0, 0.25])


@pytest.mark.parametrize("annual", [0.0, 0.01, 0.15, 0.5, 0.99])
def test_weekly_probability_compounds_to_the_annual_one(annual: float) -> None:
    weekly = float(units.weekly_probability(annual))
    assert 1.0 - (1.0 - weekly) ** 52 == pytest.approx(annual, abs=1e-12)
    assert float(units.annual_probability(weekly)) == pytest.approx(annual, abs=1e-12)
    assert weekly <= annual


def test_weekly_probability_known_value() -> None:
    # half the customers kept after a year: (1/2)^(1/52) kept a week
    assert float(units.weekly_probability(0.5)) == pytest.approx(1 - 0.5 ** (1 / 52), rel=1e-15)
    assert float(units.weekly_probability(1.0)) == 1.0


@pytest.mark.parametrize("rate", [0.0, 0.05, 0.1, 0.3])
def test_discount_rates_round_trip(rate: float) -> None:
    weekly = units.weekly_discount_rate(rate)
    assert units.annual_discount_rate(weekly) == pytest.approx(rate, abs=1e-14)
    assert weekly == pytest.approx(math.log1p(rate) / 52, rel=1e-2) if rate else weekly == 0.0


def test_discount_rate_keeps_the_engines_arithmetic() -> None:
    # bit-identical to the expression the engine and the results used before the table
    for rate in (0.1, 0.07, 0.123456789):
        assert units.weekly_discount_rate(rate) == (1.0 + rate) ** (1.0 / 52.0) - 1.0


def test_churn_and_retention() -> None:
    assert units.churn_from_retention(80.0) == 20.0
    assert units.retention_from_churn(20.0) == 80.0
    assert units.retention_from_churn(0.25, 1.0) == 0.75
    assert units.churn_from_retention(0.75, 1.0) == 0.25


def test_defection_from_churn_known_values() -> None:
    # without relocation and over a year, the propensity is the churn itself
    assert units.defection_from_churn(20.0, 0.0) == pytest.approx(0.2, abs=1e-15)
    # relocation takes its share first: 1 - 0.8 / 0.95
    assert units.defection_from_churn(20.0, 0.05) == pytest.approx(1 - 0.8 / 0.95, abs=1e-15)
    # a quarterly contract: per period, (kept a year) ** (13 / 52)
    assert units.defection_from_churn(19.0, 0.0, 13) == pytest.approx(1 - 0.81**0.25, abs=1e-15)
    assert units.kept_for_own_reasons(5.0, 0.05) == 1.0
    assert units.kept_for_own_reasons(4.0, 0.05) > 1.0


@pytest.mark.parametrize("period", [4.0, 13.0, 52.0, 104.0])
@pytest.mark.parametrize("churn", [5.0, 24.8, 60.0])
def test_churn_round_trip(churn: float, period: float) -> None:
    mean = units.defection_from_churn(churn, 0.05, period)
    assert units.churn_from_defection(mean, 0.05, period) == pytest.approx(churn, rel=1e-12)


def test_churn_keeps_the_scenarios_arithmetic() -> None:
    churn, relocation, period = 24.8, 0.05, 13.0
    kept = (1.0 - churn / 100.0) / (1.0 - relocation)
    expected = 1.0 - kept ** (period / 52.0)
    assert units.defection_from_churn(churn, relocation, period) == expected


def test_margin_and_unit_cost() -> None:
    assert units.unit_cost_from_margin(40.0) == 0.6
    assert units.unit_cost_from_margin(50.0, 1.2) == 0.6
    assert units.margin_from_unit_cost(units.unit_cost_from_margin(35.0, 1.1), 1.1) == (
        pytest.approx(35.0, rel=1e-14)
    )


def test_reward_rate() -> None:
    # the default program: 1 point per unit, 500 points make 25, a fifth never claimed
    assert units.reward_rate(1.0, 25.0, 500.0, 0.2) == pytest.approx(0.04, rel=1e-15)
    assert units.reward_rate(2.0, 25.0, 500.0, 0.0) == 0.1


def test_the_scenario_uses_the_table() -> None:
    from relsim.scenario.model import Points, Pool
    from relsim.scenario.paths import DERIVED

    assert Points().reward_rate == units.reward_rate(1.0, 25.0, 500.0, 0.2)
    assert Pool(salary_per_year=52_000.0).cost_per_week == 1000.0
    assert {
        term: tuple(field.split(".")) for term, (field, _) in units.STRATEGIST_INPUTS.items()
    } == DERIVED
    assert DERIVED["annual_churn_percent"] == ("defection_propensity", "mean")
