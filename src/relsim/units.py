"""One table of strategist units: every conversion between the terms a strategist uses (per
year, percent, salaries) and the engine's weekly terms, and back.

Why here: the engine works in weeks, scenario files in the strategist's terms; the
conversions were spread over the scenario, the engine's parameters, the paths and the results.
This module is the bottom layer (numpy and the standard library only), so every layer can use
it. Each function keeps the arithmetic order of the expression it replaces, so the floats are
bit-identical (``x / 52.0`` and ``x * (1 / 52)`` differ in the last bit).
"""

from __future__ import annotations

import numpy as np

WEEKS_PER_YEAR = 52.0
"""Weeks in the model's year (the engine has at most one purchase occasion a week)."""
PERCENT = 100.0


# --- time: per year <-> per week -------------------------------------------------------------


def per_week(per_year: float | np.ndarray) -> float | np.ndarray:
    """A count or amount per year as per week: orders, fees, events, salaries, referrals."""
    return per_year / WEEKS_PER_YEAR


def per_year(per_week_value: float | np.ndarray) -> float | np.ndarray:
    """A count or amount per week as per year (the inverse of :func:`per_week`)."""
    return per_week_value * WEEKS_PER_YEAR


def years(weeks: float | np.ndarray) -> float | np.ndarray:
    """Weeks as years."""
    return weeks / WEEKS_PER_YEAR


def weeks(years_value: float | np.ndarray) -> float | np.ndarray:
    """Years as weeks."""
    return years_value * WEEKS_PER_YEAR


def cost_per_week(salary_per_year: float) -> float:
    """A person's cost per week from the cost of employing them for a year."""
    return salary_per_year / WEEKS_PER_YEAR


def occasion_probability(orders_per_year: float | np.ndarray) -> float | np.ndarray:
    """Weekly purchase-occasion probability of ``orders_per_year`` (at most one a week)."""
    return np.minimum(orders_per_year / WEEKS_PER_YEAR, 1.0)


# --- probabilities and rates -----------------------------------------------------------------


def weekly_probability(per_year_value: float | np.ndarray) -> float | np.ndarray:
    """Probability per week that compounds to ``per_year_value`` over 52 weeks."""
    return 1.0 - (1.0 - np.asarray(per_year_value, dtype=float)) ** (1.0 / WEEKS_PER_YEAR)


def annual_probability(per_week_value: float | np.ndarray) -> float | np.ndarray:
    """Probability per year of a weekly probability (the inverse of :func:`weekly_probability`)."""
    return 1.0 - (1.0 - np.asarray(per_week_value, dtype=float)) ** WEEKS_PER_YEAR


def weekly_discount_rate(annual_rate: float) -> float:
    """Weekly rate equivalent to an annual discount rate: (1+i)^(1/52) - 1."""
    return (1.0 + annual_rate) ** (1.0 / WEEKS_PER_YEAR) - 1.0


def weekly_growth_rate(annual_growth: float) -> float:
    """Weekly growth rate that compounds to ``annual_growth`` over a year (the market's size)."""
    return weekly_discount_rate(annual_growth)


def annual_discount_rate(weekly_rate: float) -> float:
    """Annual rate of a weekly one: (1+w)^52 - 1 (the inverse of :func:`weekly_discount_rate`)."""
    return (1.0 + weekly_rate) ** WEEKS_PER_YEAR - 1.0


# --- churn and retention ---------------------------------------------------------------------


def churn_from_retention(retention: float, whole: float = PERCENT) -> float:
    """Annual churn from annual retention: ``whole - retention`` (percent by default; pass
    ``whole=1.0`` for shares)."""
    return whole - retention


def retention_from_churn(churn: float, whole: float = PERCENT) -> float:
    """Annual retention from annual churn: ``whole - churn`` (percent by default; pass
    ``whole=1.0`` for shares)."""
    return whole - churn


def kept_for_own_reasons(churn_percent: float, relocation_per_year: float) -> float:
    """Share of customers a year who do not end the relationship for reasons of their own,
    when ``churn_percent`` of them are lost a year in all and ``relocation_per_year`` leave the
    market: (1 - churn / 100) / (1 - relocation). Above 1 when churn is below relocation."""
    return (1.0 - churn_percent / PERCENT) / (1.0 - relocation_per_year)


def period_defection(kept_per_year: float, period_weeks: float = WEEKS_PER_YEAR) -> float:
    """Probability of ending the relationship in one period of ``period_weeks`` weeks when
    ``kept_per_year`` stay a year: 1 - kept ** (period / 52)."""
    return 1.0 - kept_per_year ** (period_weeks / WEEKS_PER_YEAR)


def defection_from_churn(
    churn_percent: float, relocation_per_year: float, period_weeks: float = WEEKS_PER_YEAR
) -> float:
    """A segment's defection propensity (per year, or per contract period) from the annual
    churn a strategist states: 1 - ((1 - churn) / (1 - relocation)) ** (period / 52)."""
    return period_defection(kept_for_own_reasons(churn_percent, relocation_per_year), period_weeks)


def churn_from_defection(
    defection: float, relocation_per_year: float, period_weeks: float = WEEKS_PER_YEAR
) -> float:
    """Annual churn in percent of a defection propensity (the inverse of
    :func:`defection_from_churn`)."""
    kept = (1.0 - defection) ** (WEEKS_PER_YEAR / period_weeks)
    return PERCENT * (1.0 - kept * (1.0 - relocation_per_year))


# --- money -----------------------------------------------------------------------------------


def unit_cost_from_margin(margin_percent: float, price_index: float = 1.0) -> float:
    """Cost of goods per order (share of the reference order value) of a gross margin in
    percent of the firm's own price: price x (1 - margin / 100)."""
    return price_index * (1.0 - margin_percent / PERCENT)


def margin_from_unit_cost(unit_cost: float, price_index: float = 1.0) -> float:
    """Gross margin in percent of the firm's own price (the inverse of
    :func:`unit_cost_from_margin`)."""
    return PERCENT * (1.0 - unit_cost / price_index)


def reward_rate(earn_rate: float, reward_value: float, threshold: float, breakage: float) -> float:
    """A points program's money returned per money spent, after breakage: its effective
    discount (points per money x money per reward / points per reward x share claimed)."""
    return earn_rate * reward_value / threshold * (1.0 - breakage)


# --- the strategist's inputs of a scenario ---------------------------------------------------

STRATEGIST_INPUTS = {
    "annual_churn_percent": ("defection_propensity.mean", defection_from_churn),
    "annual_retention_percent": ("defection_propensity.mean", defection_from_churn),
    "gross_margin_percent": ("unit_cost", unit_cost_from_margin),
    "salary_per_year": ("cost_per_week", cost_per_week),
}
"""Each strategist's input a scenario accepts, the engine field it is converted to (a dotted
path relative to the same item) and the conversion: the validated scenario holds the engine
field only (``relsim.scenario.paths.DERIVED`` is read from here)."""
