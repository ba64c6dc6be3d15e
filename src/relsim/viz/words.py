"""Plain words for what relsim's tables and figures show: labels of code names and money.

The one place that says how a metric, a cost kind or a field path reads for a strategist
(:data:`LABELS`, :data:`COST_LABELS`, :func:`label`) and which currency money is in
(:func:`currency`); the report (:mod:`relsim.viz.report.labels`) and the plots use it.
Imports nothing heavy.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from relsim.scenario import Scenario

NO_CURRENCY = "currency units"

LABELS = {
    "npv_with_residual": "NPV incl. value after the horizon",
    "npv": "NPV within the horizon",
    "residual_value": "value after the horizon",
    "residual_margin": "margin after the horizon",
    "residual_costs": "costs after the horizon",
    "margin_value_new_customers": "margin value of a new customer",
    "customers_end": "customers at the end",
    "market_share_end": "market share at the end",
    "churn_rate_annual": "annual churn",
    "retention_rate_annual": "annual retention",
    "hours_per_week": "hours a week",
    "weeks_short": "weeks short of staff",
    "cost_of_goods": "cost of goods",
    "senior_manager": "senior manager",
    "structural_setup": "structural ties set-up",
    "contact_centre": "contact centre",
    "price_seekers": "price seekers",
    "quality_seekers": "quality seekers",
    "price_cut": "price cut",
}
"""Code names with a label other than their words joined by spaces."""

COST_LABELS = {
    "structural": "structural ties (running)",
    "structural_setup": "structural ties (set-up)",
    "program": "points program (running)",
    "rewards": "points rewards",
    "contacts": "contact centre",
    "desk": "service desk",
    "managers": "relationship managers",
    "senior_manager": "senior managers",
    "fixed": "fixed costs",
    "club": "club",
    "acquisition": "acquisition (advertising)",
    "cost_of_goods": "cost of goods",
    "fulfilment": "fulfilment improvement",
    "quality": "quality investment",
    "assortment": "extra product lines",
    "price_match": "price-match refunds",
    "database": "customer database upkeep",
    "campaigns": "campaigns (contacts and discounts)",
}
"""Plain names of the cost kinds (the weekly table's columns)."""

MONEY_METRICS = frozenset(
    {
        "npv",
        "npv_with_residual",
        "residual_value",
        "residual_margin",
        "residual_costs",
        "profit",
        "revenue",
        "margin_value_new_customers",
    }
)
"""Summary metrics measured in money."""


def currency(scenario: Scenario) -> str:
    """The scenario's currency label, or "currency units" when it names none."""
    economics = getattr(scenario, "economics", None)
    label = str(getattr(economics, "currency", "") or "").strip()
    return label or NO_CURRENCY


def label(code: str) -> str:
    """The plain label of one code name (``all_bonds`` -> ``all bonds``; a field path
    ``segments.*.price_sensitivity`` -> ``segments › price sensitivity``)."""
    if "." in code:
        parts = [p for p in code.split(".") if p != "*" and not p.isdigit()]
        return " › ".join(label(p) for p in parts)
    return LABELS.get(code, code.replace("_", " "))


def currency_of(experiment: Any) -> str:
    """The currency label of an experiment's resolved scenario (:func:`currency`)."""
    from relsim.experiment.folder import RESOLVED_SCENARIO

    try:
        path = Path(experiment.out) / RESOLVED_SCENARIO
        found = path.stat()
        return _currency_in(str(path.resolve()), (found.st_ino, found.st_mtime_ns, found.st_size))
    except (OSError, ValueError, TypeError, AttributeError):
        return NO_CURRENCY


@functools.lru_cache(maxsize=16)
def _currency_in(path: str, _version: tuple[int, int, int]) -> str:
    """The currency of the scenario file ``path``, read once per version of the file (inode,
    time and size): the plots ask four times a run, and reading a scenario takes 0.3 s."""
    from relsim.scenario import load_scenario

    return currency(load_scenario(path))


__all__ = [
    "COST_LABELS",
    "LABELS",
    "MONEY_METRICS",
    "NO_CURRENCY",
    "currency",
    "currency_of",
    "label",
]
