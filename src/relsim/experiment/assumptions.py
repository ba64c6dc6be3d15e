"""The assumptions register in machine-readable form, and what robustness analysis varies.

``docs/model.md`` section 5 lists every parameter with its default, unit, plausible range and
source. :data:`REGISTER` holds the entries whose source is an *assumption* (no data or
literature fixes them) and whose range is numeric: these are what ``relsim run --robustness``
moves, one at a time, to the ends of their ranges. A test keeps the two in agreement.

Left out, and why: values a scenario states about its own market or a strategy sets (shares,
prices, margins, staff counts, program terms, churn stated by the strategist); the ladder's
per-rung vectors (six values each, whose ranges are per element -- a one-at-a-time move of a
vector has no single meaning); the horizon.

A path may hold ``*`` for "every item of this list" (every segment, every strategy): the
variant sets the field to the same end of its range in every item that has the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from relsim.scenario import Scenario
from relsim.scenario.paths import FieldPathError, get_value


@dataclass(frozen=True)
class Assumption:
    """One register entry robustness analysis varies."""

    path: str
    low: float
    high: float
    unit: str
    whole: bool = False
    """The field holds whole numbers."""


def _a(path: str, low: float, high: float, unit: str, whole: bool = False) -> Assumption:
    return Assumption(path, low, high, unit, whole)


REGISTER: tuple[Assumption, ...] = (
    # segments (every segment moved together)
    _a("segments.*.orders_per_year.shape", 0.2, 10, "gamma shape"),
    _a("segments.*.order_value.shape", 1, 20, "gamma shape"),
    _a("segments.*.defection_propensity.concentration", 0.5, 50, "alpha+beta"),
    _a("segments.*.price_sensitivity", 0, 10, "utility/price index"),
    _a("segments.*.quality_sensitivity", 0, 10, "utility/quality"),
    _a("segments.*.outside_utility", -5, 2, "utility"),
    _a("segments.*.expected_quality", 0, 1, "quality"),
    _a("segments.*.relocation_per_year", 0.01, 0.15, "prob/year"),
    _a("segments.*.voice_share", 0.04, 0.5, "share"),
    _a("segments.*.technology_affinity", 0, 3, "multiplier"),
    _a("segments.*.political_sensitivity", 0, 3, "multiplier"),
    # the focal firm's operations
    _a("firms.0.product_quality", 0, 1, "quality"),
    _a("firms.0.fulfilment_failure", 0, 0.2, "share of orders"),
    _a("firms.0.fault_rate", 0, 0.1, "share of orders"),
    # satisfaction
    _a("satisfaction.initial", 0.4, 0.8, "satisfaction"),
    _a("satisfaction.learning_rate", 0.05, 0.6, "weight"),
    _a("satisfaction.expectation_rate", 0, 0.5, "weight"),
    _a("satisfaction.tolerance", 0, 0.1, "quality"),
    _a("satisfaction.problem_penalty", 0.1, 0.8, "quality"),
    _a("satisfaction.service_threshold", 0.2, 0.6, "satisfaction"),
    _a("satisfaction.dissatisfied_defection_multiplier", 0, 5, "hazard exponent"),
    _a("satisfaction.choice_weight", 0, 5, "utility"),
    _a("satisfaction.problem_memory_weeks", 4, 104, "weeks"),
    # service
    _a("service.desk_hours_per_request", 0.1, 4, "agent hours"),
    _a("service.wait_penalty_per_week", 0, 0.2, "satisfaction/week"),
    _a("service.recovery", 0, 0.6, "satisfaction"),
    _a("service.follow_up_hours", 0.05, 1, "hours/call"),
    _a("service.follow_up_finds_silent", 0, 1, "share"),
    _a("service.quality_learning_rate", 0, 0.05, "1/week"),
    _a("service.outreach_interval_weeks", 2, 26, "weeks", whole=True),
    _a("service.outreach_hours", 0.05, 1, "hours"),
    _a("service.outreach_purchase_boost", 0, 2, "x rate"),
    _a("service.outreach_cross_sell", 0, 0.5, "share of order value"),
    _a("service.annoying_interval_weeks", 1, 26, "weeks", whole=True),
    _a("service.annoyance_probability", 0, 1, "prob"),
    _a("service.annoyance_penalty", 0, 0.3, "satisfaction"),
    _a("service.partnership_contacts_per_month", 0.25, 8, "contacts"),
    _a("service.partnership_hours", 0.5, 8, "manager hours"),
    _a("service.tie_gain", 0, 0.5, "share of distance to 1"),
    _a("service.contact_satisfaction", 0, 0.1, "satisfaction"),
    # bonds
    _a("bonding.social_utility", 0, 3, "utility"),
    _a("bonding.social_protection", 0, 1, "share of hazard"),
    _a("bonding.social_half_life_weeks", 4, 104, "weeks"),
    _a("bonding.social_climb", 0, 3, "x climbing probability"),
    _a("bonding.structural_utility", 0, 5, "utility"),
    _a("bonding.structural_protection", 0, 1, "share of hazard"),
    _a("bonding.points_weight", 0, 2, "x money value"),
    _a("strategies.*.bonds.points.breakage", 0, 0.5, "share unclaimed"),
    _a("strategies.*.bonds.club.join_probability", 0, 1, "per invitation"),
    _a("strategies.*.bonds.club.status_utility", 0, 1, "utility"),
    _a("strategies.*.bonds.club.event_social_gain", 0, 0.5, "share of distance to 1"),
    _a("strategies.*.bonds.club.event_hours_per_member", 0, 2, "hours"),
    # trust
    _a("trust.initial", 0.2, 0.8, "trust"),
    _a("trust.build", 0.01, 0.2, "share of distance to 1"),
    _a("trust.loss", 0.05, 0.6, "share of trust"),
    _a("trust.recovery", 0, 0.4, "share of distance to 1"),
    _a("trust.contact", 0, 0.1, "share of distance to 1"),
    _a("trust.climb_weight", 0, 3, "exponent per unit of trust"),
    _a("trust.defection_weight", 0, 3, "exponent per unit of trust"),
    # retention tools' behavioural assumptions (their costs are the strategist's quotes)
    _a("strategies.*.retention.quality.lag_weeks", 0, 104, "weeks", whole=True),
    _a("strategies.*.retention.assortment.occasions_per_line", 0, 0.05, "share per line"),
    _a("strategies.*.retention.assortment.cross_sell_per_line", 0, 0.02, "share per line"),
    # rivalry
    _a("rivalry.points.probability", 0, 1, "chance"),
    _a("rivalry.points.lag.mean_weeks", 4, 104, "weeks"),
    _a("rivalry.points.ratio", 0.5, 2, "x earn rate"),
    _a("rivalry.points.share_loss_trigger", 0, 0.5, "share of customers"),
    _a("rivalry.structural.probability", 0, 0.3, "chance"),
    _a("rivalry.max_reward_rate", 0.02, 0.3, "money per money"),
    # switching, acquisition, market, economics
    _a("switching.purchases_elsewhere", 1, 6, "purchases", whole=True),
    _a("switching.winback_penalty", 0, 3, "utility"),
    _a("acquisition.leads_at_saturation_per_week", 0, 0.02, "share of market/week"),
    _a("acquisition.lead_bonus", 0, 3, "utility"),
    _a("acquisition.negative_referrals_per_unhappy_defector", 0, 10, "leads"),
    _a("acquisition.unhappy_memory_weeks", 4, 104, "weeks"),
    _a("market.mean_tenure_years", 0, 20, "years"),
    _a("economics.discount_rate_per_year", 0, 0.3, "1/year"),
)


def concrete_paths(scenario: Scenario, assumption: Assumption) -> list[str]:
    """The scenario's paths an entry stands for: ``*`` expanded to every item that has the
    field with a number (a strategy without a club has no club terms to vary)."""
    if "*" not in assumption.path:
        return [assumption.path]
    head, tail = assumption.path.split(".*.", 1)
    count = len(get_value(scenario, head))
    paths = []
    for i in range(count):
        path = f"{head}.{i}.{tail}"
        try:
            value = get_value(scenario, path)
        except FieldPathError:
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            paths.append(path)
    return paths
