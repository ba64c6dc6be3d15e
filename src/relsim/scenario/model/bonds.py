"""Strategy levers of bonding: the points program, the club and structural ties (Berry &
Parasuraman's three levels) a firm runs.

Why apart: the bonding instruments are shared by the focal firm's strategies and the rivals.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from relsim import units
from relsim.scenario.model.base import WHOLE, Frozen, NonNegative, Positive, Probability, Rung


class Points(Frozen):
    """A frequency (points) program: the financial bond (Berry & Parasuraman's level 1).

    Every buyer earns points on every order; a full ``threshold`` of points becomes a reward
    worth ``reward_value``. Customers value the program as a price reduction of its reward
    rate, and the points they hold as money they would lose by leaving (a switching cost)."""

    earn_rate: Positive = Field(
        default=1.0, description="Points earned per currency unit spent (points/currency)."
    )
    threshold: Positive = Field(default=500.0, description="Points that make one reward (points).")
    reward_value: Positive = Field(
        default=25.0, description="Money value of one reward (currency units)."
    )
    breakage: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.2,
        description="Share of rewards never claimed (expired, forgotten): the firm does not "
        "pay them and customers discount the program by it (0-1).",
    )
    fixed_cost_per_week: NonNegative = Field(
        default=600.0,
        description="Cost of running the program per week: systems, statements, partners "
        "(currency units).",
    )
    regular_discount: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.0,
        description="Discount for regular customers: share off the price for customers whose "
        "primary firm this is and whose rung is at least `regular_min_rung` (0-1).",
    )
    regular_min_rung: Rung = Field(
        default="client", description="Lowest rung that gets the regulars' discount."
    )
    funded_from: Literal["budget", "service"] = Field(
        default="budget",
        description="Where the focal firm finds the program's money: `budget` (new money) or "
        "`service` (the seeds' third drawback of financial bonds: last week's rewards and "
        "program cost are taken from the service desk's and contact centre's hours and pay, "
        "in proportion to their weekly cost). Rivals' programs are always new money.",
    )

    @property
    def reward_rate(self) -> float:
        """Money returned per money spent, after breakage: the program's effective discount."""
        return units.reward_rate(self.earn_rate, self.reward_value, self.threshold, self.breakage)


class Club(Frozen):
    """A customer club: membership by purchase volume (rung) or fee, status, events and
    community (the seeds' club program). A social bond (level 2)."""

    min_rung: Rung = Field(
        default="client",
        description="Customers of the firm on at least this rung are invited (membership by "
        "volume: higher rungs buy more).",
    )
    join_probability: Probability = Field(
        default=0.5, description="Share of invited customers who join at each review (0-1)."
    )
    fee_per_year: NonNegative = Field(
        default=0.0, description="Membership fee per member per year (currency units; revenue)."
    )
    status_utility: NonNegative = Field(
        default=0.3,
        description="Utility of the club's firm for a member on a purchase occasion (status, "
        "services; utility units).",
    )
    events_per_year: Annotated[float, Field(ge=0.0, le=52.0)] = Field(
        default=4.0, description="Events (meetings, rides, magazine issues) per member per year."
    )
    event_social_gain: Probability = Field(
        default=0.1,
        description="Share of the distance to 1 an event adds to the member's social bond.",
    )
    event_hours_per_member: NonNegative = Field(
        default=0.1,
        description="Contact-centre hours per member per event (focal firm: capacity-bound; "
        "an event that does not fit in the week's hours does not reach the member).",
    )
    cost_per_member_per_week: NonNegative = Field(
        default=0.5, description="Cost per member per week (magazine, services; currency units)."
    )
    fixed_cost_per_week: NonNegative = Field(
        default=300.0, description="Fixed cost of the club per week (currency units)."
    )
    review_weeks: Annotated[int, Field(ge=1, le=520), WHOLE] = Field(
        default=13, description="Weeks between invitations (membership reviews)."
    )
    free_weeks: Annotated[int, Field(ge=0, le=520), WHOLE] = Field(
        default=0,
        description="Weeks of each member's membership without the fee, counted from the week "
        "it joined (the Harley Owners Group's first year free: 52); the fee is paid after.",
    )


class Structural(Frozen):
    """Structural ties: custom solutions, integration, tools for the customer's own work
    (the seeds' customised marketing). Level 3: a set-up investment per customer and a running
    cost buy a real switching cost; aimed at the few customers it pays for."""

    min_rung: Rung = Field(
        default="supporter", description="Lowest rung a customer must reach to be offered it."
    )
    top_share: Probability = Field(
        default=0.05,
        description="Share of the firm's customers tied structurally at most, picked by the "
        "value of their orders (what the firm observes) among those on `min_rung` or above.",
    )
    max_accounts: Annotated[int, Field(ge=0), WHOLE] | None = Field(
        default=None, description="Most customers tied at once (null: no cap besides top_share)."
    )
    setup_cost: NonNegative = Field(
        default=1500.0, description="Set-up investment per customer tied (currency units)."
    )
    setup_manager_hours: NonNegative = Field(
        default=6.0,
        description="Relationship-manager hours per set-up (focal firm: capacity-bound; set-ups "
        "that do not fit in a review week's remaining hours wait for the next review).",
    )
    running_cost_per_week: NonNegative = Field(
        default=8.0, description="Running cost per tied customer per week (currency units)."
    )
    review_weeks: Annotated[int, Field(ge=1, le=520), WHOLE] = Field(
        default=13, description="Weeks between reviews that tie new customers."
    )


class Bonds(Frozen):
    """The bonding instruments a firm runs (null: not run)."""

    points: Points | None = Field(default=None, description="Frequency (points) program.")
    club: Club | None = Field(default=None, description="Customer club.")
    structural: Structural | None = Field(default=None, description="Structural ties.")
