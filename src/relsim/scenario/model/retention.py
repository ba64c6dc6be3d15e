"""Strategy levers of everyday retention beyond bonds: fulfilment reliability, product-quality
investment, a wider assortment, a price-match guarantee, and instruments added in Python.

Why apart: levers that buy the focal firm's operations up, each with its own cost curve.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from relsim.scenario.model.base import WHOLE, Frozen, NonNegative


class Fulfilment(Frozen):
    """Orders fulfilled on time: the focal firm buys its share of late or wrong orders down.

    Each halving of the share costs the same per order (diminishing returns: going from 4% to
    2% costs as much as from 2% to 1%)."""

    late_or_wrong: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        description="Share of the focal firm's orders delivered late or wrong once the lever "
        "runs (at most the firm's own `fulfilment_failure`; above 0: perfection has no finite "
        "price on this cost curve)."
    )
    cost_per_order_per_halving: NonNegative = Field(
        default=0.5,
        description="Extra cost per order for each halving of the late-or-wrong share below the "
        "firm's own (currency units per order): per order, this x log2(fulfilment_failure / "
        "late_or_wrong).",
    )
    fixed_cost_per_week: NonNegative = Field(
        default=0.0,
        description="Fixed cost per week of the fulfilment improvement (systems, currency units).",
    )


class QualityInvestment(Frozen):
    """Product-quality investment: quality rises toward a target after a development lag.

    The investment runs every week from the strategy's launch; quality stays where it is for
    ``lag_weeks`` and then climbs linearly to ``target`` over ``ramp_weeks``. Each halving of
    the gap between quality and 1 costs the same per week."""

    target: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        description="Product quality reached (quality units 0-1, at least the firm's own "
        "`product_quality`, below 1)."
    )
    lag_weeks: Annotated[int, Field(ge=0, le=520), WHOLE] = Field(
        default=26, description="Weeks from the launch before quality starts to rise."
    )
    ramp_weeks: Annotated[int, Field(ge=1, le=520), WHOLE] = Field(
        default=26, description="Weeks over which quality climbs to the target after the lag."
    )
    cost_per_week_per_halving: NonNegative = Field(
        default=1500.0,
        description="Investment per week for each halving of the gap between product quality "
        "and 1 (currency units per week): this x log2((1 - product_quality) / (1 - target)).",
    )


class Assortment(Frozen):
    """A wider assortment: more product lines give the focal firm's customers more occasions
    to buy and larger baskets (cross-sell), at a cost per line."""

    extra_lines: Annotated[int, Field(ge=0, le=10_000), WHOLE] = Field(
        description="Product lines added to the focal firm's assortment."
    )
    cost_per_line_per_week: NonNegative = Field(
        default=150.0,
        description="Cost per added line per week (listing, inventory, space; currency units).",
    )
    occasions_per_line: NonNegative = Field(
        default=0.01,
        description="Each line multiplies the purchase occasions of the firm's own customers "
        "by 1 + this (added linearly over lines: 20 lines at 0.01 give x1.2).",
    )
    cross_sell_per_line: NonNegative = Field(
        default=0.005,
        description="Each line adds this share to the value of an order at the firm (added "
        "linearly over lines: 20 lines at 0.005 give +10%).",
    )


class PriceMatch(Frozen):
    """A price-match (refund) guarantee: a buyer at the focal firm who finds the product
    cheaper at a rival gets the difference back (the seeds' refund "if the customer finds it
    cheaper elsewhere").

    Buyers count on the refund they expect to claim: the focal firm's price in their choice is
    lowered by ``claim_share`` x the gap to the cheapest rival's price, so the guarantee pulls
    through the choice rule and the price part of a switch's reason (price-class losses fall
    when the gap is what drove them). The firm pays that expected refund on every order while
    a rival is cheaper, booked as the cost kind ``price_match``."""

    claim_share: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.5,
        description="Share of the price gap to the cheapest rival that buyers find, claim and "
        "count on (0-1): of an order's gap in money, this share is refunded.",
    )
    fixed_cost_per_week: NonNegative = Field(
        default=0.0,
        description="Cost per week of running the guarantee (price checks, claims desk; "
        "currency units), booked as `price_match`.",
    )


class RetentionTools(Frozen):
    """The everyday retention tools beyond bonds (null: not used). Discounts for regulars and
    personal contact are the financial and social bonds."""

    fulfilment: Fulfilment | None = Field(default=None, description="Orders fulfilled on time.")
    quality: QualityInvestment | None = Field(
        default=None, description="Product-quality investment."
    )
    assortment: Assortment | None = Field(default=None, description="A wider assortment.")
    price_match: PriceMatch | None = Field(
        default=None, description="A price-match (refund) guarantee against cheaper rivals."
    )


class InstrumentSpec(Frozen):
    """A strategy instrument added in Python (see ``relsim.extensions``), by registered name."""

    name: str = Field(min_length=1, description="Registered instrument name.")
    params: dict[str, float | int | str | bool] = Field(
        default={}, description="Parameters passed to the instrument's factory."
    )
