"""A scenario scaled to another market size: what grows with the number of customers.

A scenario written for 10 000 customers carries fixed costs, advertising, staff and program
budgets sized for them; run at 1 500 customers with those values, every strategy loses money
and every desk sits idle, which says nothing about the strategies (the report warns of such
"unscaled" runs, :mod:`relsim.viz.report.checks`). :func:`scaled` multiplies those fields by
the ratio of the sizes, so a small profile (a notebook's fast run, a test) keeps the written
scenario's economics per customer. Per-customer and per-order values, prices, rates and
behaviour are left as they are; dated staff changes (``staffing.changes``) are not scaled.
"""

from __future__ import annotations

from typing import Any

from relsim.scenario.model import Scenario
from relsim.scenario.paths import with_values

FIRM_FIELDS = ("fixed_cost_per_week", "acquisition_spend_per_week")
"""Each firm's weekly money that grows with the market."""

STAFF_POOLS = ("desk", "contact_centre", "managers", "senior_manager")
"""The strategies' staff pools, whose head counts grow with the customers they serve."""


def scaling_overrides(scenario: Scenario, customers: int) -> dict[str, Any]:
    """Field path -> value that scale ``scenario`` to ``customers`` customers (the market's
    size and every non-zero size-bound field, multiplied by customers / the written size)."""
    factor = customers / scenario.market.customers
    out: dict[str, Any] = {"market.customers": customers}

    def scale(path: str, value: float | None) -> None:
        if value:
            out[path] = round(value * factor, 4)

    for i, firm in enumerate(scenario.firms):
        for name in FIRM_FIELDS:
            scale(f"firms.{i}.{name}", getattr(firm, name))
    for i, strategy in enumerate(scenario.strategies):
        here = f"strategies.{i}"
        scale(f"{here}.acquisition_spend_per_week", strategy.acquisition_spend_per_week)
        for pool in STAFF_POOLS:
            scale(f"{here}.staffing.{pool}.count", getattr(strategy.staffing, pool).count)
        for bond in ("points", "club"):
            program = getattr(strategy.bonds, bond)
            if program is not None:
                scale(f"{here}.bonds.{bond}.fixed_cost_per_week", program.fixed_cost_per_week)
        if strategy.crm is not None:
            for k, campaign in enumerate(strategy.crm.campaigns):
                scale(f"{here}.crm.campaigns.{k}.budget_per_year", campaign.budget_per_year)
    return out


def scaled(scenario: Scenario, customers: int, **others: Any) -> Scenario:
    """``scenario`` scaled to ``customers`` customers (:func:`scaling_overrides`); ``others``
    (field path with ``__`` for dots, e.g. ``horizon__weeks=104``) are set as well."""
    values = scaling_overrides(scenario, customers)
    values.update({key.replace("__", "."): value for key, value in others.items()})
    return with_values(scenario, values)


__all__ = ["FIRM_FIELDS", "STAFF_POOLS", "scaled", "scaling_overrides"]
