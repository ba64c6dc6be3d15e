"""Behavioural rules, the same for every firm and strategy: what relationship levels do,
what bonds and trust do to customers, the loyalty ladder, satisfaction, switching and
acquisition.

Why apart: these are the model's assumptions about customers (the assumptions register),
not choices of the strategist.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from relsim.domain import RUNGS
from relsim.scenario.model.base import WHOLE, Frozen, NonNegative, Positive, Probability


class Service(Frozen):
    """What each relationship level does, and at what cost in staff time (the same for every
    strategy; strategies choose levels and staff)."""

    desk_hours_per_request: Positive = Field(
        default=0.5, description="Agent hours to resolve one voiced problem at the desk."
    )
    wait_penalty_per_week: Probability = Field(
        default=0.03, description="Satisfaction lost per week a request waits unresolved."
    )
    recovery: Probability = Field(
        default=0.25, description="Satisfaction regained when a problem is resolved."
    )
    recovery_can_exceed: bool = Field(
        default=False,
        description="Whether a resolved problem can leave satisfaction above its level before "
        "the problem (the 'service recovery paradox'); false caps it there.",
    )
    follow_up_hours: Positive = Field(
        default=0.2, description="Contact-centre hours of one follow-up call (accountable)."
    )
    follow_up_finds_silent: Probability = Field(
        default=0.6, description="Share of silent problems a follow-up call finds (and fixes)."
    )
    quality_learning_rate: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.004,
        description="Share of the distance to quality 1 that the answers of follow-up calls "
        "close in a week in which every customer of the firm was called once (per week, scaled "
        "by the share actually called): the offer improves slowly.",
    )
    outreach_interval_weeks: Annotated[int, Field(ge=1, le=104), WHOLE] = Field(
        default=8, description="Weeks between proactive outreach contacts per customer."
    )
    outreach_hours: Positive = Field(default=0.25, description="Contact-centre hours per outreach.")
    outreach_purchase_boost: NonNegative = Field(
        default=0.5,
        description="Outreach multiplies the rate of the next purchase occasion by 1 + this.",
    )
    outreach_cross_sell: NonNegative = Field(
        default=0.15, description="Extra order value of the next purchase after an outreach."
    )
    annoying_interval_weeks: Annotated[int, Field(ge=1, le=104), WHOLE] = Field(
        default=6,
        description="Outreach more frequent than every this many weeks annoys some customers.",
    )
    annoyance_probability: Probability = Field(
        default=0.2, description="Probability an outreach that is too frequent annoys."
    )
    annoyance_penalty: Probability = Field(
        default=0.1, description="Satisfaction lost by an annoyed customer."
    )
    partnership_contacts_per_month: Annotated[float, Field(gt=0.0, le=30.0)] = Field(
        default=2.0, description="Relationship-manager contacts per partnership customer a month."
    )
    partnership_hours: Positive = Field(
        default=2.0, description="Manager hours per partnership contact."
    )
    tie_gain: Probability = Field(
        default=0.15,
        description="Share of the distance to 1 a partnership contact adds to the customer's "
        "social bond with the firm (a named person who knows the customer; 0-1).",
    )
    contact_satisfaction: Probability = Field(
        default=0.03, description="Satisfaction gained by a partnership contact."
    )


class Bonding(Frozen):
    """What bonds do to customers, the same for every firm and strategy.

    A social bond (0-1) grows with personal contact and club events and decays without them; a
    structural tie (0 or 1) lasts while the relationship lasts; points held are money the
    customer would forfeit by leaving. Bonds raise the utility of the firm they tie to and
    lower the hazard of ending the relationship with it."""

    social_utility: NonNegative = Field(
        default=1.5, description="Utility of a firm per unit of social bond with it."
    )
    social_protection: Probability = Field(
        default=0.6,
        description="A social bond of 1 multiplies the hazard of ending the relationship by "
        "1 - this.",
    )
    social_half_life_weeks: Positive = Field(
        default=26.0, description="Weeks for a social bond to halve without contacts or events."
    )
    social_climb: NonNegative = Field(
        default=1.0,
        description="A social bond of 1 multiplies the probability of climbing a rung after a "
        "satisfying purchase by 1 + this (capped at 1).",
    )
    structural_utility: NonNegative = Field(
        default=2.0,
        description="Utility of a firm for a customer tied to it structurally (switching "
        "costs: integration, custom solutions).",
    )
    structural_protection: Probability = Field(
        default=0.7,
        description="A structural tie multiplies the hazard of ending the relationship by "
        "1 - this.",
    )
    points_weight: NonNegative = Field(
        default=1.0,
        description="Weight of the money value of points held at a firm in its utility (1: "
        "valued like the same money off the price; 0: ignored).",
    )


class Trust(Frozen):
    """Trust of a customer in its primary firm (0-1): built by kept promises -- orders on time
    and without fault, problems resolved, contacts that deliver -- and broken by failures.

    Built slowly, lost fast: a kept promise adds a share of the distance to 1, a failure
    removes a share of the trust held. Trust above its starting value raises the chance of
    climbing the ladder and lowers the hazard of ending the relationship; below, the reverse."""

    initial: Probability = Field(
        default=0.5, description="Trust at the start of a relationship (0-1)."
    )
    build: Probability = Field(
        default=0.05,
        description="Share of the distance to 1 added by an order delivered on time and "
        "without fault (a kept promise).",
    )
    loss: Probability = Field(
        default=0.2,
        description="Share of the trust held removed by an order with a problem (late, wrong "
        "or faulty: a broken promise).",
    )
    recovery: Probability = Field(
        default=0.15,
        description="Share of the distance to 1 added back when the firm resolves a problem.",
    )
    contact: Probability = Field(
        default=0.03,
        description="Share of the distance to 1 added by a contact that delivers (proactive "
        "outreach, a relationship manager's contact).",
    )
    climb_weight: NonNegative = Field(
        default=1.0,
        description="The climbing probability is multiplied by exp(climb_weight x (trust - "
        "initial)), capped at 1.",
    )
    defection_weight: NonNegative = Field(
        default=1.0,
        description="The hazard of ending the relationship is multiplied by "
        "exp(-defection_weight x (trust - initial)).",
    )


class Ladder(Frozen):
    """How the rung of a customer's relationship with its primary firm moves and what it changes.

    Each list has one entry per rung: prospect, customer, client, supporter, advocate, partner.
    """

    up_probability: tuple[Probability, ...] = Field(
        default=(1.0, 1.0, 0.12, 0.06, 0.03, 0.0),
        description="Probability of climbing one rung after a satisfying purchase.",
    )
    down_probability: tuple[Probability, ...] = Field(
        default=(0.0, 0.0, 0.3, 0.35, 0.4, 0.4),
        description="Probability of falling one rung after a dissatisfying purchase (never below "
        "'customer' while the relationship lasts).",
    )
    purchase_multiplier: tuple[NonNegative, ...] = Field(
        default=(1.0, 1.0, 1.1, 1.2, 1.3, 1.4),
        description="Multiplier on the customer's purchase occasions per year.",
    )
    price_sensitivity_multiplier: tuple[NonNegative, ...] = Field(
        default=(1.0, 1.0, 0.9, 0.8, 0.7, 0.6),
        description="Multiplier on the segment's price sensitivity.",
    )
    defection_multiplier: tuple[NonNegative, ...] = Field(
        default=(1.0, 1.3, 1.0, 0.7, 0.5, 0.35),
        description="Multiplier on the hazard of ending the relationship (defection propensity).",
    )
    habit: tuple[float, ...] = Field(
        default=(0.0, 0.5, 1.0, 1.4, 1.8, 2.2),
        description="Utility bonus of the primary firm on a purchase occasion (inertia, habit).",
    )
    referrals_per_year: tuple[NonNegative, ...] = Field(
        default=(0.0, 0.0, 0.0, 0.0, 1.0, 2.0),
        description="Prospects a customer on this rung sends to its primary firm per year "
        "(positive word of mouth).",
    )

    @field_validator("*")
    @classmethod
    def _one_per_rung(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) != len(RUNGS):
            raise ValueError(f"expected {len(RUNGS)} values, one per rung {list(RUNGS)}")
        return value


class Satisfaction(Frozen):
    """Satisfaction as experienced quality against an adapting expectation."""

    initial: Probability = Field(
        default=0.6, description="Satisfaction of a new relationship (0-1)."
    )
    learning_rate: Probability = Field(
        default=0.3, description="Weight of one purchase's disconfirmation in satisfaction."
    )
    expectation_rate: Probability = Field(
        default=0.1, description="Weight of one purchase's experience in the expectation."
    )
    tolerance: NonNegative = Field(
        default=0.02,
        description="Zone of tolerance: a purchase is satisfying when the experienced quality is "
        "at least the expectation minus this (quality units).",
    )
    problem_penalty: Probability = Field(
        default=0.4, description="Experienced quality lost when an order has a problem."
    )
    service_threshold: Probability = Field(
        default=0.45,
        description="Satisfaction below which an unresolved problem makes a defection a "
        "'service' defection and raises the defection hazard.",
    )
    dissatisfied_defection_multiplier: NonNegative = Field(
        default=2.0,
        description="Extra defection hazard while satisfaction is below the service threshold "
        "(hazard multiplied by 1 + this).",
    )
    choice_weight: NonNegative = Field(
        default=2.0,
        description="Utility per unit of satisfaction above 0.5 for the primary firm on a "
        "purchase occasion.",
    )
    problem_memory_weeks: Annotated[int, Field(ge=1, le=520), WHOLE] = Field(
        default=26, description="Weeks after which an unresolved problem is forgotten."
    )


class Switching(Frozen):
    """When a run of purchases elsewhere makes another firm the primary one."""

    purchases_elsewhere: Annotated[int, Field(ge=1, le=20), WHOLE] = Field(
        default=3,
        description="Consecutive purchases at one other firm that make it the primary firm "
        "(a defection from the old one).",
    )
    winback_penalty: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        default=1.0,
        description="Utility penalty a customer holds against the last firm it defected from "
        "(remembered history; lowers win-back).",
    )
    loss_window_weeks: Annotated[int, Field(ge=1, le=520), WHOLE] = Field(
        default=52,
        description="Weeks within which a customer who begins a relationship with the firm it "
        "left again counts as won back; any other end of a relationship is a customer lost "
        "(churn and retention count customers lost).",
    )


class Acquisition(Frozen):
    """How acquisition spend and word of mouth bring prospects to a firm."""

    leads_at_saturation_per_week: NonNegative = Field(
        default=0.004,
        description="Prospects per week, as a share of the market, that unlimited acquisition "
        "spend would bring one firm.",
    )
    half_saturation_spend_per_week: Positive = Field(
        default=2000.0,
        description="Acquisition spend per week that brings half the saturation level "
        "(diminishing returns; currency units).",
    )
    lead_bonus: float = Field(
        default=1.0,
        description="Utility bonus of the firm a prospect was brought to, at its "
        "next purchase occasion.",
    )
    negative_referrals_per_unhappy_defector: NonNegative = Field(
        default=2.0,
        description="Prospects a firm loses per customer who left it unhappy (service or "
        "political defection), spread over the memory below.",
    )
    unhappy_memory_weeks: Positive = Field(
        default=26.0,
        description="Mean weeks an unhappy defector keeps talking (exponential decay).",
    )
