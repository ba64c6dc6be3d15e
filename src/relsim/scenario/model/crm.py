"""Strategy levers of the firm's customer database and marketing automation (the seeds' CRM
blocks): how current the records are and what keeping them so costs, and the campaigns the
firm aims with them.

Why apart: levers that act through what the firm knows of its customers, not through the
offer every customer sees.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from relsim.scenario.model.base import WHOLE, Frozen, NonNegative, Positive, Probability


class Database(Frozen):
    """The focal firm's customer database: what it observed of each customer who bought from
    it (orders, amounts, dates, requests, contacts, campaign responses), current for a share
    of the customers."""

    data_quality: Probability = Field(
        default=1.0,
        description="Share of the firm's customers whose records are current (0-1); the "
        "others look like anybody to its targeting (a random rank).",
    )
    cost_per_customer_year: NonNegative = Field(
        default=2.0,
        description="Cost of keeping one customer's record current for a year (currency "
        "units), for every customer who ever bought whose record is current; booked as "
        "`database`.",
    )


class Campaign(Frozen):
    """A campaign of marketing automation: every `every_weeks`, the firm contacts the
    customers its targeting rule ranks first, as many as the budget pays for, with an offer.

    The response follows the model's own mechanisms: the contact brings the customer's next
    purchase occasion forward (the service's outreach boost) and, for the firm's own customers,
    is a contact that delivers (trust); the offer lowers the focal firm's price in the
    customer's choice by `discount` for `offer_weeks` and reopens the firm to a customer who
    drifted away from it; a cross-sell rides on the next order (the service's cross-sell)."""

    kind: Literal["retention", "winback", "cross_sell"] = Field(
        description="retention: active customers (an order within `crm.lapsed_after_weeks`) "
        "who look like drifting off; winback: lapsed customers (no order since); cross_sell: "
        "active customers most likely to order again, the offer carrying a cross-sell."
    )
    target: Literal["random", "rfm", "score", "oracle"] = Field(
        default="rfm",
        description="How the firm ranks the eligible customers: random (the control); rfm "
        "(recency over the customer's own order interval, the value of its orders); score (a "
        "churn model the firm fits on its own records during the run); oracle (the hidden "
        "lapse hazard: a benchmark no firm has).",
    )
    every_weeks: Annotated[int, Field(ge=1, le=52), WHOLE] = Field(
        default=4, description="Weeks between the campaign's waves."
    )
    budget_per_year: NonNegative = Field(
        default=10_000.0,
        description="Money a year for the campaign's contacts (currency units); each wave "
        "contacts at most its share divided by `cost_per_contact`. Discounts redeemed are "
        "extra.",
    )
    cost_per_contact: Positive = Field(
        default=1.5,
        description="Cost of one contact (a letter, an email with a personal offer, a call "
        "from an automated list; currency units).",
    )
    discount: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.1,
        description="Share off the focal firm's price on the customer's next order within "
        "`offer_weeks` (0: a contact without an offer).",
    )
    offer_weeks: Annotated[int, Field(ge=1, le=52), WHOLE] = Field(
        default=8, description="Weeks the offer stays valid after the contact."
    )


class Crm(Frozen):
    """The firm's database and the campaigns it aims with it."""

    database: Database = Field(default=Database(), description="The customer database.")
    lapsed_after_weeks: Annotated[int, Field(ge=1, le=520), WHOLE] = Field(
        default=26,
        description="Weeks without an order after which the firm counts a customer as lapsed "
        "(what it can observe; it never sees a relationship end).",
    )
    score_window_weeks: Annotated[int, Field(ge=1, le=104), WHOLE] = Field(
        default=13,
        description="The churn score's horizon: it is fitted on whether customers ordered in "
        "the weeks after a snapshot of their records this many weeks back.",
    )
    campaigns: tuple[Campaign, ...] = Field(default=(), description="The campaigns run.")
