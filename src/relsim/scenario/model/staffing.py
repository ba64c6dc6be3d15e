"""Strategy levers of service: the focal firm's staff pools, the relationship level each
customer gets (Kotler's levels) and key-account management.

Why apart: what a strategy buys in people and levels, apart from bonds and retention tools.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from relsim import units
from relsim.scenario.model.base import (
    WHOLE,
    Frozen,
    Level,
    NonNegative,
    Probability,
    Rung,
    _derive,
    _in_range,
)


class Pool(Frozen):
    """A pool of staff: how many people, their hours and their cost."""

    count: Annotated[float, Field(ge=0.0, le=1_000_000)] = Field(
        default=0.0, description="People in the pool (full-time equivalents)."
    )
    hours_per_week: Annotated[float, Field(ge=0.0, le=168.0)] = Field(
        default=38.0, description="Working hours per person per week available for the duty."
    )
    cost_per_week: NonNegative = Field(
        default=900.0, description="Cost per person per week (currency units)."
    )
    salary_per_year: NonNegative | None = Field(
        default=None,
        description="Strategist's alternative to `cost_per_week`: cost of employing one person "
        "for a year (salary plus on-costs, currency units); cost_per_week = salary_per_year / 52, "
        "converted when the file is read (this field reads back null).",
    )

    @model_validator(mode="before")
    @classmethod
    def _cost_from_salary(cls, data: object) -> object:
        if not isinstance(data, dict) or not _in_range(data.get("salary_per_year"), 0, 1e300):
            return data
        salary = data["salary_per_year"]
        data = _derive(
            data, "cost_per_week", units.cost_per_week(salary), "salary_per_year", salary
        )
        data.pop("salary_per_year")
        return data


class ManagerPool(Pool):
    """Relationship managers: a pool whose default cost is a manager's."""

    cost_per_week: NonNegative = Field(
        default=1600.0, description="Cost per manager per week (currency units)."
    )


class SeniorPool(Pool):
    """Senior managers overseeing the relationship managers."""

    cost_per_week: NonNegative = Field(
        default=2500.0, description="Cost per senior manager per week (currency units)."
    )


class StaffChange(Frozen):
    """A staffing event: from `week` on, `pool` has `count` people."""

    week: Annotated[int, Field(ge=0), WHOLE] = Field(
        description="Week of the horizon it takes effect."
    )
    pool: Literal["desk", "contact_centre", "managers"] = Field(description="Pool changed.")
    count: Annotated[float, Field(ge=0.0, le=1_000_000)] = Field(description="New head count.")


class Staffing(Frozen):
    """The focal firm's staff pools; each is finite, and an overloaded pool delivers less."""

    desk: Pool = Field(default=Pool(), description="Service-desk agents (answer voiced problems).")
    contact_centre: Pool = Field(
        default=Pool(), description="Contact-centre staff (follow-up calls and outreach)."
    )
    managers: ManagerPool = Field(
        default=ManagerPool(),
        description="Relationship managers (partnership work and key accounts).",
    )
    senior_manager: SeniorPool = Field(
        default=SeniorPool(),
        description="Senior managers overseeing the relationship managers (cost only, unless "
        "key accounts run a plan: then their oversight keeps managers to it).",
    )
    changes: tuple[StaffChange, ...] = Field(default=(), description="Staffing events.")


class Levels(Frozen):
    """Kotler's relationship level per customer: key-account rule first, then the rung rule,
    then the segment rule, then the default. Levels are cumulative: each includes what the
    levels below it do."""

    default: Level = Field(default="basic", description="Level where no rule applies.")
    segments: dict[str, Level] = Field(default={}, description="Level by segment name.")
    rungs: dict[Rung, Level] = Field(default={}, description="Level by rung (overrides segment).")


class AccountPlan(Frozen):
    """A relationship manager's yearly plan for each key account (the seeds' fourth step of
    key-account management): planned contacts and account reviews, and how well managers keep
    to it under load, with and without a senior manager's oversight (the fifth step).

    Each week the plan's items fall due by account (staggered); a due item slips with
    probability ``slip_at_full_load x min(load, 1) x (1 - oversight x coverage)``, where
    ``load`` is the plan's hours over the managers' hours and ``coverage`` the share of
    managers a senior manager oversees (``senior count x managers_per_senior / managers``,
    at most 1); the items kept are then made within the managers' hours (reviews first). A
    contact renews the account's tie like a partnership contact; a review also catches an
    account at risk: it resolves the account's open problem with the firm."""

    contacts_per_year: Annotated[float, Field(gt=0.0, le=52.0)] = Field(
        default=12.0, description="Planned manager contacts per key account per year."
    )
    reviews_per_year: Annotated[float, Field(ge=0.0, le=52.0)] = Field(
        default=2.0, description="Planned account reviews per key account per year."
    )
    contact_hours: Annotated[float, Field(gt=0.0, le=168.0)] = Field(
        default=1.5, description="Manager hours per planned contact."
    )
    review_hours: Annotated[float, Field(gt=0.0, le=168.0)] = Field(
        default=4.0, description="Manager hours per account review."
    )
    slip_at_full_load: Probability = Field(
        default=0.4,
        description="Share of due plan items a fully loaded manager lets slip without "
        "oversight (firefighting; 0-1; slips grow linearly with load up to full load).",
    )
    managers_per_senior: Annotated[float, Field(gt=0.0, le=1000.0)] = Field(
        default=8.0, description="Managers one senior manager oversees (span of control)."
    )
    oversight: Probability = Field(
        default=0.75,
        description="Share of an overseen manager's slips the senior manager's oversight "
        "prevents (0-1).",
    )


class KeyAccounts(Frozen):
    """Key-account management: pick key customers by observed value, give each a manager."""

    top_share: Probability = Field(
        default=0.02,
        description="Share of the focal firm's customers, ranked by observed value, picked as "
        "key accounts (capped by managers x accounts_per_manager).",
    )
    min_observed_value: NonNegative = Field(
        default=0.0,
        description="Smallest observed value (recency-weighted margin, currency) of a key account.",
    )
    review_weeks: Annotated[int, Field(ge=1, le=520), WHOLE] = Field(
        default=13, description="Weeks between re-evaluations of the selection."
    )
    accounts_per_manager: Annotated[int, Field(ge=1, le=10_000), WHOLE] = Field(
        default=25, description="Most accounts one relationship manager carries."
    )
    level: Level = Field(default="partnership", description="Level given to key accounts.")
    plan: AccountPlan | None = Field(
        default=None,
        description="The managers' yearly plan per key account (null: key accounts get the "
        "partnership level's contacts, and the senior manager is a cost only).",
    )
