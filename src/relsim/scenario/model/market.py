"""The market: its customers' segments (with the strategist's churn terms), the firms in it,
its size and demography, and the exogenous shocks that hit it.

Why apart: what the market *is*, as opposed to what the focal firm does in it (the levers)
or how customers behave (the rules).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from relsim import units
from relsim.domain import RUNGS
from relsim.scenario.model.base import (
    BYTES_PER_CUSTOMER,
    MAX_CUSTOMERS,
    SHARE_TOLERANCE,
    WHOLE,
    Frozen,
    Name,
    NonNegative,
    Positive,
    Probability,
    _derive,
    _in_range,
)
from relsim.scenario.model.bonds import Bonds
from relsim.scenario.presets import PresetName
from relsim.scenario.presets import with_preset as _with_preset


class GammaRate(Frozen):
    """A positive quantity that varies between customers of a segment as a gamma distribution."""

    mean: Positive = Field(description="Mean over the segment's customers.")
    shape: Positive | None = Field(
        default=2.0,
        description="Gamma shape parameter (heterogeneity: smaller is more spread); "
        "null makes the quantity the same for every customer.",
    )


class BetaProbability(Frozen):
    """A probability that varies between customers of a segment as a beta distribution."""

    mean: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.15,
        description="Mean probability over the segment's customers (a segment's "
        "`annual_churn_percent` sets it).",
    )
    concentration: Positive | None = Field(
        default=4.0,
        description="Beta concentration alpha + beta (smaller is more spread); null makes the "
        "probability the same for every customer.",
    )


class Segment(Frozen):
    """A group of customers with its own behaviour; customers inside it are heterogeneous."""

    name: Name = Field(min_length=1, description="Segment name, used in tables.")
    share: Probability = Field(description="Share of the market's customers in this segment (0-1).")
    contractual: bool = Field(
        default=False,
        description="True for a subscription business (customers renew each contract period and "
        "defect only at renewal or by an exogenous exit); false for purchase occasions.",
    )
    contract_period_weeks: Annotated[int, Field(ge=1, le=520), WHOLE] = Field(
        default=52, description="Contract length in weeks (contractual segments only)."
    )
    orders_per_year: GammaRate = Field(
        default=GammaRate(mean=12.0, shape=2.0),
        description="Purchase occasions per year of a customer at rung 'customer' (orders/year, "
        "at most 52: the engine has at most one occasion a week). Contractual segments use it "
        "for how often a customer without a contract shops for one, and how often a contract "
        "holder reviews the market (only then does it re-choose at its next renewal).",
    )
    order_value: GammaRate = Field(
        default=GammaRate(mean=40.0, shape=6.0),
        description="Money per order at the reference price index 1.0 (currency units); for "
        "contractual segments the fee per contract period.",
    )
    order_value_within_shape: Positive | None = Field(
        default=None,
        description="Order values vary from one order to the next of the same customer: each "
        "order is worth the customer's order value times a gamma draw of mean 1 and this shape "
        "p (gamma-gamma's within-customer shape; smaller is more spread; dimensionless). null "
        "(default): every order of a customer is worth its order value. Non-contractual "
        "segments only. Fitted by relsim calibrate --spend gamma-gamma.",
    )
    order_value_between: Literal["gamma", "inverse-gamma"] | None = Field(
        default=None,
        description="How customers' order values (their own means) vary within the segment: "
        "null or 'gamma' (default): a gamma with order_value's mean and shape; 'inverse-gamma': "
        "the gamma-gamma model's (Fader, Hardie & Lee 2005), a customer's mean p / nu with nu "
        "~ Gamma(q, rate gamma), given as order_value.mean = p gamma / (q - 1) and "
        "order_value.shape = q (> 1).",
    )
    defection_propensity: BetaProbability = Field(
        default=BetaProbability(mean=0.15, concentration=4.0),
        description="Probability that a customer ends the relationship with its primary firm for "
        "reasons of its own: per year (non-contractual) or per contract period (contractual), "
        "before rung, satisfaction and trust modifiers. Or give `annual_churn_percent`.",
    )
    defection_rate_power: Annotated[float, Field(ge=-8.0, le=8.0)] = Field(
        default=0.0,
        description="Links a customer's dropout to its purchase rate (non-contractual segments): "
        "a customer buying lambda orders a year runs its own-reason defection clock at "
        "(lambda / orders_per_year.mean) ** power times the calendar's pace. 0 (default): "
        "independent of the rate; 1: dropout in proportion to purchase occasions, as in the "
        "BG/NBD. Fitted by relsim calibrate --dropout rate-linked (dimensionless).",
    )
    never_defecting_share: Probability | None = Field(
        default=None,
        description="Share of the segment's customers who never end a relationship for reasons "
        "of their own (their defection propensity is 0; non-contractual segments). null "
        "(default): none. Fitted by relsim calibrate --dropout stayers (share, 0-1).",
    )
    defection_period_weeks: Annotated[int, Field(ge=1, le=520)] | None = Field(
        default=None,
        description="Periodic death opportunities (Jerath, Fader & Hardie 2011; non-contractual): "
        "own-reason defection only in weeks w with w - defection_period_offset_weeks divisible "
        "by this, with the chance that week's hazard (rung, satisfaction, trust, bonds) builds "
        "up over a period. null: any week. Fitted by relsim calibrate --dropout periodic (weeks).",
    )
    defection_period_offset_weeks: Annotated[int, Field(ge=0, le=519)] | None = Field(
        default=None, description="The first periodic death opportunity's week; null: 0 (weeks)."
    )
    annual_churn_percent: Annotated[float, Field(ge=0.0, lt=100.0)] | None = Field(
        default=None,
        description="Strategist's alternative to `defection_propensity.mean` (percent of "
        "customers lost per year, for reasons of their own or by leaving the market, before "
        "rung, satisfaction, trust, bond and rival effects). Converted so that a run of the "
        "textbook reduction (one firm, flat ladder, neutral satisfaction, trust without "
        "effect) shows this annual churn: "
        "mean = 1 - ((1 - churn) / (1 - relocation_per_year)) ** (period / 52), period = 52 "
        "weeks or the contract period. Must be at least relocation_per_year. Converted when "
        "the file is read: the validated scenario holds the mean (this field reads back null).",
    )
    annual_retention_percent: Annotated[float, Field(gt=0.0, le=100.0)] | None = Field(
        default=None,
        description="Annual retention in percent: 100 - annual_churn_percent (give one of them; "
        "converted like it).",
    )
    price_sensitivity: NonNegative = Field(
        default=4.0, description="Utility lost per unit of a firm's price index (utility/index)."
    )
    quality_sensitivity: NonNegative = Field(
        default=3.0, description="Utility gained per unit of product quality (utility/quality)."
    )
    outside_utility: float = Field(
        default=-1.0,
        ge=-50.0,
        le=50.0,
        description="Utility of the outside option (buy nothing or a substitute) on a purchase "
        "occasion; the firms' utilities are measured against it (utility units).",
    )
    expected_quality: Probability = Field(
        default=0.7, description="Quality a new customer expects (quality units, 0-1)."
    )
    relocation_per_year: Probability = Field(
        default=0.05,
        description="Probability per year that a customer leaves the market (moves away, no "
        "longer needs the category): a 'market' defection.",
    )
    voice_share: Probability = Field(
        default=0.3, description="Share of problems the customer complains about (voiced)."
    )
    technology_affinity: NonNegative = Field(
        default=1.0, description="Multiplier on the adoption hazard of a substitute technology."
    )
    political_sensitivity: NonNegative = Field(
        default=1.0,
        description="Multiplier on the share who leave a firm after a reputation event.",
    )

    @model_validator(mode="before")
    @classmethod
    def _churn_from_strategist_terms(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        churn, retention = data.get("annual_churn_percent"), data.get("annual_retention_percent")
        if _in_range(retention, 1e-12, 100.0):
            data = _derive(
                data,
                "annual_churn_percent",
                units.churn_from_retention(retention),
                "annual_retention_percent",
                retention,
            )
            data.pop("annual_retention_percent")
            churn = data["annual_churn_percent"]
        relocation = data.get("relocation_per_year", 0.05)
        if not (_in_range(churn, 0.0, 100.0 - 1e-12) and _in_range(relocation, 0.0, 1.0)):
            return data  # nothing to derive, or field validation reports the bad value
        kept = units.kept_for_own_reasons(churn, relocation) if relocation < 1.0 else 2.0
        if kept > 1.0:
            raise ValueError(
                f"annual_churn_percent = {churn} is below the {relocation:.0%} a year who leave "
                "the market (relocation_per_year); expected annual churn >= relocation "
                "(hint: lower relocation_per_year or raise the churn)"
            )
        period = units.WEEKS_PER_YEAR
        if data.get("contractual") is True:
            weeks = data.get("contract_period_weeks", 52)
            period = float(weeks) if _in_range(weeks, 1, 520) else units.WEEKS_PER_YEAR
        mean = units.period_defection(kept, period)
        propensity = data.get("defection_propensity", {"concentration": 4.0})
        if isinstance(propensity, BaseModel):
            propensity = propensity.model_dump()
        if not isinstance(propensity, dict):
            return data
        propensity = _derive(
            propensity, "mean", mean, "annual_churn_percent", churn, "defection_propensity.mean"
        )
        data = {**data, "defection_propensity": propensity}
        data.pop("annual_churn_percent")
        return data

    @model_validator(mode="after")
    def _order_value_variation(self) -> Segment:
        if self.contractual and self.order_value_within_shape is not None:
            raise ValueError(
                "order_value_within_shape is for non-contractual segments (a contract's fee "
                "does not vary from one period to the next); expected null"
            )
        if self.contractual and self.defection_period_weeks is not None:
            raise ValueError(
                "defection_period_weeks is for non-contractual segments (a contractual "
                "segment decides at its renewals); expected null"
            )
        if (self.defection_period_offset_weeks or 0) >= (self.defection_period_weeks or 1):
            raise ValueError(
                f"defection_period_offset_weeks = {self.defection_period_offset_weeks} with "
                f"defection_period_weeks = {self.defection_period_weeks}; expected an offset "
                "below the period"
            )
        if self.contractual and self.never_defecting_share is not None:
            raise ValueError(
                "never_defecting_share is for non-contractual segments (a contractual "
                "segment's propensity is per contract period); expected null"
            )
        if self.order_value_between == "inverse-gamma":
            shape = self.order_value.shape
            if shape is None or shape <= 1.0:
                raise ValueError(
                    f"order_value.shape = {shape} with order_value_between: inverse-gamma; "
                    "expected a shape q above 1 (the gamma-gamma mean p gamma / (q - 1) is "
                    "finite only then)"
                )
        return self


class Firm(Frozen):
    """A firm in the market; the first firm listed is the focal firm (the user's)."""

    name: Name = Field(min_length=1, description="Firm name, used in tables.")
    price_index: Positive = Field(
        default=1.0, description="Price relative to the reference price (1.0 = reference)."
    )
    unit_cost: NonNegative = Field(
        default=0.6,
        description="Cost of goods per order as a share of the reference order value "
        "(1 - gross margin % at the reference price). Or give `gross_margin_percent`.",
    )
    gross_margin_percent: Annotated[float, Field(ge=0.0, le=100.0)] | None = Field(
        default=None,
        description="Strategist's alternative to `unit_cost`: gross margin in percent of the "
        "firm's own price; unit_cost = price_index x (1 - gross_margin_percent / 100), "
        "converted when the file is read (this field reads back null).",
    )
    product_quality: Probability = Field(default=0.7, description="Product quality (0-1).")
    fulfilment_failure: Probability = Field(
        default=0.05, description="Share of orders delivered late or wrong."
    )
    fault_rate: Probability = Field(
        default=0.02, description="Share of orders with a product fault."
    )
    acquisition_spend_per_week: NonNegative = Field(
        default=0.0, description="Acquisition (advertising) spend per week (currency units)."
    )
    fixed_cost_per_week: NonNegative = Field(
        default=0.0, description="Fixed cost per week not tied to customers (currency units)."
    )
    preset: PresetName = Field(
        default="transactional",
        description="A rival's own strategy: the preset whose bonds it runs from the start "
        "(the focal firm's strategies are listed under `strategies`).",
    )
    bonds: Bonds = Field(
        default=Bonds(),
        description="A rival's bonding instruments from the start; overrides its preset's.",
    )
    initial_share: Probability = Field(
        default=0.0,
        description="Share of the market's current customers whose primary firm this is at the "
        "start of the warm-up (shares over all firms sum to 1).",
    )

    @model_validator(mode="before")
    @classmethod
    def _preset_and_margin(cls, data: object) -> object:
        # a firm runs only the bonds of its preset (levels and staff are the focal firm's);
        # keys the file gives are kept, so a misspelt one is still reported
        data = _with_preset(data, keep=set(cls.model_fields))
        if isinstance(data, dict) and _in_range(data.get("gross_margin_percent"), 0.0, 100.0):
            margin, price = data["gross_margin_percent"], data.get("price_index", 1.0)
            if _in_range(price, 1e-300, 1e300):
                cost = units.unit_cost_from_margin(margin, price)
                data = _derive(data, "unit_cost", cost, "gross_margin_percent", margin)
                data.pop("gross_margin_percent")
        return data


class Market(Frozen):
    """Size and demography of the market."""

    customers: Annotated[int, Field(ge=1, json_schema_extra={"maximum": MAX_CUSTOMERS}), WHOLE] = (
        Field(
            default=10_000,
            description="Customers in the market at the start (people or accounts; at most "
            "50 000 000).",
        )
    )
    growth_per_year: Annotated[float, Field(ge=-0.5, le=1.0)] = Field(
        default=0.0, description="Net growth of the market per year (births above replacement)."
    )
    current_customer_share: Probability = Field(
        default=0.8,
        description="Share of the market with a primary firm at the start of the warm-up; the "
        "rest are prospects.",
    )
    initial_ladder_mix: tuple[Probability, ...] = Field(
        default=(0.0, 0.3, 0.4, 0.18, 0.09, 0.03),
        description="Rung mix of current customers at the start of the warm-up, one share per "
        "rung (prospect share must be 0).",
    )
    mean_tenure_years: NonNegative = Field(
        default=3.0, description="Mean tenure of current customers at the start (years)."
    )

    @model_validator(mode="after")
    def _mix_is_a_distribution(self) -> Market:
        mix = self.initial_ladder_mix
        if len(mix) != len(RUNGS):
            raise ValueError(f"initial_ladder_mix needs {len(RUNGS)} shares, one per rung")
        if mix[0] != 0.0:
            raise ValueError("initial_ladder_mix: a current customer cannot be a prospect")
        if abs(sum(mix) - 1.0) > SHARE_TOLERANCE:
            raise ValueError(f"initial_ladder_mix must sum to 1, got {sum(mix):.6g}")
        return self

    @field_validator("customers")
    @classmethod
    def _simulable(cls, customers: int) -> int:
        if customers > MAX_CUSTOMERS:
            need = customers * BYTES_PER_CUSTOMER / 1e9
            raise ValueError(
                f"{customers:,} customers would need about {need:,.0f} GB of memory for one "
                f"replication; relsim simulates at most {MAX_CUSTOMERS:,} (hint: simulate a "
                "representative sample and scale money and counts)"
            )
        return customers


class Shock(Frozen):
    """An exogenous event: a rival's price cut, a substitute technology, a reputation event."""

    kind: Literal["price_cut", "substitute", "reputation"] = Field(
        description="price_cut: a firm lowers its price index by `size` (a share) for "
        "`duration_weeks`; substitute: from then on customers adopt a substitute technology and "
        "leave the market with weekly hazard `size` x segment affinity; reputation: `size` x "
        "segment sensitivity of the firm's customers leave it (political), and its utility drops "
        "by `penalty` for `duration_weeks`."
    )
    firm: str | None = Field(default=None, description="Firm hit (price_cut, reputation).")
    week: Annotated[int, Field(ge=0), WHOLE] | None = Field(
        default=None, description="Week of the horizon at which it happens."
    )
    rate_per_year: Positive | None = Field(
        default=None, description="Instead of `week`: random occurrences per year (Poisson)."
    )
    size: Probability = Field(description="Strength; meaning depends on `kind` (see kind).")
    duration_weeks: Annotated[int, Field(ge=1), WHOLE] = Field(
        default=26, description="How long a price cut or a reputation penalty lasts (weeks)."
    )
    penalty: NonNegative = Field(
        default=0.5, description="Utility penalty of a reputation event (utility units)."
    )

    @model_validator(mode="after")
    def _when(self) -> Shock:
        if (self.week is None) == (self.rate_per_year is None):
            raise ValueError("give exactly one of `week` and `rate_per_year`")
        if self.kind != "substitute" and self.firm is None:
            raise ValueError(f"a {self.kind} shock needs `firm`")
        return self
