"""The scenario: a frozen, validated description of one market and the strategies to compare.

Every field carries a description with its unit; the defaults are the assumptions register of
``docs/model.md``. Validation happens here, before the engine sees anything, so the engine can
trust its input. The engine works in weeks; inputs are given in the units a strategist uses
(orders per year, money per order, probabilities per year) and converted by the engine.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from relsim.domain import RUNGS

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
SHARE_TOLERANCE = 1e-6
MAX_CUSTOMERS = 50_000_000
MAX_WEEKS = 5200


class Frozen(BaseModel):
    """Base of every scenario part: immutable, unknown keys are errors, no NaN or infinity."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _with_preset(data: object, keep: set[str] | None = None) -> object:
    """The keys a scenario gives over its preset's values; with ``keep``, preset values of
    other keys are dropped (the keys the scenario itself gives always stay)."""
    if not (isinstance(data, dict) and isinstance(data.get("preset"), str)):
        return data
    from relsim.scenario.presets import apply_preset

    merged = apply_preset(data["preset"], data)
    if keep is None:
        return merged
    return {k: v for k, v in merged.items() if k in keep or k in data}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _derive(
    data: dict, target: str, value: float, given: str, given_value: object, label: str = ""
) -> dict:
    """``data`` with ``target`` set to ``value``, the engine's form of the strategist's input
    ``given`` (the caller drops ``given``: a validated scenario holds the engine's form only, so
    a dumped and edited one validates again). A ``target`` the file also gives must agree."""
    value = round(value, 12)  # a strategist's 24.8% gives 0.2, not 0.19999999999999996
    current = data.get(target)
    label = label or target
    if _is_number(current) and abs(float(current) - value) > 1e-9 * max(1.0, abs(value)):
        raise ValueError(
            f"give `{given}` or `{label}`, not both: {given} = {given_value} means "
            f"{label} = {value:.6g}, but {label} = {current} (hint: delete one of them)"
        )
    return {**data, target: value}


def _in_range(value: object, low: float, high: float) -> bool:
    return _is_number(value) and low <= float(value) <= high  # type: ignore[arg-type]


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

    name: str = Field(min_length=1, description="Segment name, used in tables.")
    share: Probability = Field(description="Share of the market's customers in this segment (0-1).")
    contractual: bool = Field(
        default=False,
        description="True for a subscription business (customers renew each contract period and "
        "defect only at renewal or by an exogenous exit); false for purchase occasions.",
    )
    contract_period_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
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
    defection_propensity: BetaProbability = Field(
        default=BetaProbability(mean=0.15, concentration=4.0),
        description="Probability that a customer ends the relationship with its primary firm for "
        "reasons of its own: per year (non-contractual) or per contract period (contractual), "
        "before rung, satisfaction and trust modifiers. Or give `annual_churn_percent`.",
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
                100.0 - retention,
                "annual_retention_percent",
                retention,
            )
            data.pop("annual_retention_percent")
            churn = data["annual_churn_percent"]
        relocation = data.get("relocation_per_year", 0.05)
        if not (_in_range(churn, 0.0, 100.0 - 1e-12) and _in_range(relocation, 0.0, 1.0)):
            return data  # nothing to derive, or field validation reports the bad value
        kept = (1.0 - churn / 100.0) / (1.0 - relocation) if relocation < 1.0 else 2.0
        if kept > 1.0:
            raise ValueError(
                f"annual_churn_percent = {churn} is below the {relocation:.0%} a year who leave "
                "the market (relocation_per_year); expected annual churn >= relocation "
                "(hint: lower relocation_per_year or raise the churn)"
            )
        period = 52.0
        if data.get("contractual") is True:
            weeks = data.get("contract_period_weeks", 52)
            period = float(weeks) if _in_range(weeks, 1, 520) else 52.0
        mean = 1.0 - kept ** (period / 52.0)
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


Level = Literal["basic", "reactive", "accountable", "proactive", "partnership"]
PresetName = Literal[
    "transactional",
    "financial",
    "social",
    "structural",
    "financial+social",
    "financial+structural",
    "social+structural",
    "financial+social+structural",
]
Rung = Literal["prospect", "customer", "client", "supporter", "advocate", "partner"]


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
        data = _derive(data, "cost_per_week", salary / 52.0, "salary_per_year", salary)
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

    week: Annotated[int, Field(ge=0)] = Field(description="Week of the horizon it takes effect.")
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
        description="Senior managers overseeing the relationship managers (cost only).",
    )
    changes: tuple[StaffChange, ...] = Field(default=(), description="Staffing events.")


class Levels(Frozen):
    """Kotler's relationship level per customer: key-account rule first, then the rung rule,
    then the segment rule, then the default. Levels are cumulative: each includes what the
    levels below it do."""

    default: Level = Field(default="basic", description="Level where no rule applies.")
    segments: dict[str, Level] = Field(default={}, description="Level by segment name.")
    rungs: dict[Rung, Level] = Field(default={}, description="Level by rung (overrides segment).")


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
    review_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
        default=13, description="Weeks between re-evaluations of the selection."
    )
    accounts_per_manager: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=25, description="Most accounts one relationship manager carries."
    )
    level: Level = Field(default="partnership", description="Level given to key accounts.")


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

    @property
    def reward_rate(self) -> float:
        """Money returned per money spent, after breakage: the program's effective discount."""
        return self.earn_rate * self.reward_value / self.threshold * (1.0 - self.breakage)


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
    review_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
        default=13, description="Weeks between invitations (membership reviews)."
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
    max_accounts: Annotated[int, Field(ge=0)] | None = Field(
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
    review_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
        default=13, description="Weeks between reviews that tie new customers."
    )


class Bonds(Frozen):
    """The bonding instruments a firm runs (null: not run)."""

    points: Points | None = Field(default=None, description="Frequency (points) program.")
    club: Club | None = Field(default=None, description="Customer club.")
    structural: Structural | None = Field(default=None, description="Structural ties.")


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
    lag_weeks: Annotated[int, Field(ge=0, le=520)] = Field(
        default=26, description="Weeks from the launch before quality starts to rise."
    )
    ramp_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
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

    extra_lines: Annotated[int, Field(ge=0, le=10_000)] = Field(
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


class RetentionTools(Frozen):
    """The everyday retention tools beyond bonds (null: not used). Discounts for regulars and
    personal contact are the financial and social bonds."""

    fulfilment: Fulfilment | None = Field(default=None, description="Orders fulfilled on time.")
    quality: QualityInvestment | None = Field(
        default=None, description="Product-quality investment."
    )
    assortment: Assortment | None = Field(default=None, description="A wider assortment.")


class InstrumentSpec(Frozen):
    """A strategy instrument added in Python (see ``relsim.extensions``), by registered name."""

    name: str = Field(min_length=1, description="Registered instrument name.")
    params: dict[str, float | int | str | bool] = Field(
        default={}, description="Parameters passed to the instrument's factory."
    )


class Firm(Frozen):
    """A firm in the market; the first firm listed is the focal firm (the user's)."""

    name: str = Field(min_length=1, description="Firm name, used in tables.")
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
                cost = price * (1.0 - margin / 100.0)
                data = _derive(data, "unit_cost", cost, "gross_margin_percent", margin)
                data.pop("gross_margin_percent")
        return data


class Strategy(Frozen):
    """What the focal firm does in the simulated horizon (after the warm-up).

    Transactional levers (price, acquisition spend), relationship levels with the staff that
    deliver them, and key-account management. The scenario's baseline strategy is the status
    quo: the warm-up runs it.
    """

    name: str = Field(min_length=1, description="Strategy name, used in tables and reports.")
    preset: PresetName = Field(
        default="transactional",
        description="Preset the strategy starts from (`relsim presets` lists each preset's "
        "values); every field given here overrides the preset's.",
    )
    price_index: Positive | None = Field(
        default=None, description="Focal firm's price index under this strategy (null: unchanged)."
    )
    acquisition_spend_per_week: NonNegative | None = Field(
        default=None,
        description="Focal firm's acquisition spend per week under this strategy "
        "(currency units; null: unchanged).",
    )
    levels: Levels = Field(default=Levels(), description="Relationship levels.")
    staffing: Staffing = Field(default=Staffing(), description="Staff pools.")
    key_accounts: KeyAccounts | None = Field(
        default=None, description="Key-account management (null: none)."
    )
    bonds: Bonds = Field(default=Bonds(), description="Bonding instruments the focal firm runs.")
    responds_to_rivals: bool = Field(
        default=False,
        description="Whether the focal firm matches a rival's richer points program or new club "
        "(after the rivalry block's lag), so that a frequency war can unfold; false keeps the "
        "strategy as written.",
    )
    instruments: tuple[InstrumentSpec, ...] = Field(
        default=(), description="Instruments added in Python (see relsim.extensions)."
    )
    retention: RetentionTools = Field(
        default=RetentionTools(),
        description="Everyday retention tools: fulfilment reliability, quality investment, "
        "assortment.",
    )

    @model_validator(mode="before")
    @classmethod
    def _start_from_preset(cls, data: object) -> object:
        return _with_preset(data)


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
    outreach_interval_weeks: Annotated[int, Field(ge=1, le=104)] = Field(
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
    annoying_interval_weeks: Annotated[int, Field(ge=1, le=104)] = Field(
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


class Lag(Frozen):
    """A random delay: min_weeks + a gamma-distributed wait."""

    mean_weeks: Positive = Field(default=26.0, description="Mean of the gamma part (weeks).")
    shape: Positive = Field(
        default=4.0, description="Gamma shape (larger: less spread; 1 is exponential)."
    )
    min_weeks: Annotated[float, Field(ge=0.0, le=5200.0)] = Field(
        default=0.0, description="Shortest possible delay (weeks)."
    )


class CopyRule(Frozen):
    """How other firms answer one kind of move."""

    probability: Probability = Field(description="Chance that a firm answers a move at all.")
    lag: Lag = Field(default=Lag(), description="Delay between the move and the answer.")
    share_loss_trigger: Probability = Field(
        default=0.0,
        description="Answer only once the firm has lost this share of its customers since the "
        "move (checked every 4 weeks after the lag; 0: answer when the lag ends).",
    )
    ratio: Positive = Field(
        default=1.0,
        description="Points: the copy's earn rate relative to the move's (above 1 outbids). "
        "Club and structural: the copy's strength (status, event gain, utility) relative to "
        "the original (below 1: less complete).",
    )


class PriceReaction(Frozen):
    """How other firms answer a price cut of the focal firm's strategy."""

    probability: Probability = Field(default=0.0, description="Chance that a firm follows.")
    lag: Lag = Field(default=Lag(mean_weeks=8.0), description="Delay before following.")
    match: Probability = Field(
        default=0.5, description="Share of the cut (relative) that a follower matches."
    )


class Rivalry(Frozen):
    """Firms watch each other: when a firm launches or raises a points program, or starts a
    club or structural ties, each other firm may answer in kind after a random lag. The focal
    firm answers only if its strategy says `responds_to_rivals`."""

    points: CopyRule = Field(
        default=CopyRule(probability=0.8, lag=Lag(mean_weeks=26.0, shape=4.0)),
        description="Answers to a points program: copies, possibly richer (a frequency war).",
    )
    club: CopyRule = Field(
        default=CopyRule(probability=0.3, lag=Lag(mean_weeks=104.0, shape=4.0), ratio=0.5),
        description="Answers to a club: slower and less complete.",
    )
    structural: CopyRule = Field(
        default=CopyRule(probability=0.0, lag=Lag(mean_weeks=156.0, shape=4.0), ratio=0.5),
        description="Answers to structural ties: by default never copied.",
    )
    price: PriceReaction = Field(
        default=PriceReaction(), description="Answers to the focal firm's price cut."
    )
    max_reward_rate: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        default=0.15,
        description="No firm outbids beyond this reward rate (money returned per money spent, "
        "after breakage): where a frequency war stops.",
    )
    firms: tuple[str, ...] | None = Field(
        default=None, description="Rivals that answer moves (null: every rival)."
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
    problem_memory_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
        default=26, description="Weeks after which an unresolved problem is forgotten."
    )


class Switching(Frozen):
    """When a run of purchases elsewhere makes another firm the primary one."""

    purchases_elsewhere: Annotated[int, Field(ge=1, le=20)] = Field(
        default=3,
        description="Consecutive purchases at one other firm that make it the primary firm "
        "(a defection from the old one).",
    )
    winback_penalty: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        default=1.0,
        description="Utility penalty a customer holds against the last firm it defected from "
        "(remembered history; lowers win-back).",
    )
    loss_window_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
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


class Market(Frozen):
    """Size and demography of the market."""

    customers: Annotated[int, Field(ge=1, json_schema_extra={"maximum": MAX_CUSTOMERS})] = Field(
        default=10_000,
        description="Customers in the market at the start (people or accounts; at most "
        "50 000 000).",
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
            from relsim.experiment.limits import BYTES_PER_CUSTOMER

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
    week: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Week of the horizon at which it happens."
    )
    rate_per_year: Positive | None = Field(
        default=None, description="Instead of `week`: random occurrences per year (Poisson)."
    )
    size: Probability = Field(description="Strength; meaning depends on `kind` (see kind).")
    duration_weeks: Annotated[int, Field(ge=1)] = Field(
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


class Goals(Frozen):
    """The plan's targets for the focal firm; the report checks each strategy against them."""

    retention_rate_annual: Probability | None = Field(
        default=None, description="Target annual retention rate (1 - churn), 0-1."
    )
    npv: float | None = Field(default=None, description="Target NPV over the horizon (currency).")
    market_share_end: Probability | None = Field(
        default=None, description="Target share of customers at the end of the horizon, 0-1."
    )


class Horizon(Frozen):
    """Simulated time."""

    weeks: Annotated[int, Field(ge=1, json_schema_extra={"maximum": MAX_WEEKS})] = Field(
        default=260,
        description="Weeks simulated and reported (after the warm-up; at most 5200, 100 years).",
    )

    @field_validator("weeks")
    @classmethod
    def _simulable(cls, weeks: int) -> int:
        if weeks > MAX_WEEKS:
            raise ValueError(
                f"{weeks:,} weeks are {weeks / 52:,.0f} years; relsim simulates at most "
                f"{MAX_WEEKS} weeks (100 years): its tables store weeks compactly, and a "
                "strategy comparison needs a planning horizon of a few years (hint: 260 weeks "
                "are five years)"
            )
        return weeks

    warmup_weeks: Annotated[int, Field(ge=0, le=5200)] = Field(
        default=52,
        description="Weeks simulated before the horizon under the status quo, excluded from "
        "every metric, so that week 0 starts from the model's own steady state.",
    )


class Economics(Frozen):
    """Money conventions."""

    discount_rate_per_year: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.10, description="Annual discount rate i; weekly rate (1+i)^(1/52) - 1."
    )
    currency: str = Field(default="EUR", description="Currency label for reports.")


SweepValue = float | int | str | bool


class SweepDistribution(Frozen):
    """Where a Latin-hypercube design draws a field's values from."""

    kind: Literal["uniform", "loguniform", "triangular"] = Field(
        description="uniform on [low, high]; loguniform (uniform in log, for rates spanning "
        "orders of magnitude); triangular with its peak at mode."
    )
    low: float = Field(description="Smallest value.")
    high: float = Field(description="Largest value.")
    mode: float | None = Field(default=None, description="Peak of a triangular distribution.")

    @model_validator(mode="after")
    def _ordered(self) -> SweepDistribution:
        if not self.low < self.high:
            raise ValueError(f"low must be below high, got low={self.low}, high={self.high}")
        if self.kind == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform distribution needs low > 0")
        if self.kind == "triangular" and (
            self.mode is None or not self.low <= self.mode <= self.high
        ):
            raise ValueError("a triangular distribution needs low <= mode <= high")
        return self


class LinkedField(Frozen):
    """A field that moves together with a swept field: its i-th value goes with the swept
    field's i-th value (e.g. staff counts that grow with the number of customers)."""

    path: str = Field(min_length=1, description="Dotted path of the linked field.")
    values: tuple[SweepValue, ...] = Field(
        min_length=1, description="One value per value of the swept field."
    )


class SweepField(Frozen):
    """One scenario field a sweep varies: a list of values, a range, or (Latin hypercube only)
    a distribution. Give exactly one."""

    path: str = Field(
        min_length=1,
        description="Dotted path of the field, e.g. market.customers, "
        "strategies.financial.bonds.points.reward_value (list items by index or name).",
    )
    values: tuple[SweepValue, ...] | None = Field(
        default=None, min_length=1, description="The values to run."
    )
    range: str | None = Field(
        default=None,
        pattern=r"^\s*[-+0-9.eE]+\s*:\s*[-+0-9.eE]+\s*:\s*[0-9]+\s*$",
        description="'start:stop:count': count values from start to stop inclusive (a Latin "
        "hypercube draws from [start, stop] and ignores count).",
    )
    scale: Literal["linear", "log"] = Field(
        default="linear", description="Spacing of a range: linear, or even in log (start > 0)."
    )
    distribution: SweepDistribution | None = Field(
        default=None, description="Latin hypercube only: the distribution to draw from."
    )
    label: str = Field(default="", description="Name in plots and tables (default: the path).")
    linked: tuple[LinkedField, ...] = Field(
        default=(),
        description="Fields set together with this one, value for value (needs `values`); "
        "they are not a separate dimension of the design.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> SweepField:
        given = [k for k in ("values", "range", "distribution") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"{self.path}: give exactly one of values, range or distribution"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.range is not None:
            start, stop, count = (float(x) for x in self.range.split(":"))
            if count < 1:
                raise ValueError(f"{self.path}: a range needs a count of at least 1")
            if self.scale == "log" and min(start, stop) <= 0:
                raise ValueError(f"{self.path}: a log range needs start and stop above 0")
        for link in self.linked:
            if self.values is None or len(link.values) != len(self.values):
                raise ValueError(
                    f"{self.path}: linked field {link.path} needs one value per value of "
                    "`values`" + (f" ({len(self.values)})" if self.values else "")
                )
        return self


class Sweep(Frozen):
    """A design of scenario variants run through the same Monte Carlo runner (common random
    numbers across points and strategies): ``relsim sweep``."""

    fields: tuple[SweepField, ...] = Field(min_length=1, description="The fields varied.")
    design: Literal["factorial", "lhs"] = Field(
        default="factorial",
        description="factorial: every combination of the fields' values; lhs: a Latin "
        "hypercube of `samples` points over the fields' ranges or distributions.",
    )
    samples: Annotated[int, Field(ge=2, le=10_000)] = Field(
        default=20, description="Latin hypercube: number of design points."
    )
    replications: Annotated[int, Field(ge=2)] | None = Field(
        default=None, description="Replications per strategy at each point (default 10)."
    )

    @model_validator(mode="after")
    def _design_fits(self) -> Sweep:
        paths = [f.path for f in self.fields] + [
            link.path for f in self.fields for link in f.linked
        ]
        if len(set(paths)) != len(paths):
            raise ValueError("each field may appear once in a sweep")
        if self.design == "factorial" and any(f.distribution is not None for f in self.fields):
            raise ValueError("a factorial design needs values or ranges, not distributions")
        return self


class Scenario(Frozen):
    """One market, the focal firm's strategies to compare, and the simulation settings."""

    schema_version: Literal[1] = Field(default=1, description="Version of the scenario format.")
    name: str = Field(default="scenario", min_length=1, description="Scenario name.")
    description: str = Field(default="", description="Free text shown in reports.")
    seed: Annotated[int, Field(ge=0)] = Field(default=2026, description="Root random seed.")
    horizon: Horizon = Field(default=Horizon(), description="Simulated time.")
    market: Market = Field(default=Market(), description="Market size and start.")
    segments: tuple[Segment, ...] = Field(min_length=1, description="Customer segments.")
    firms: tuple[Firm, ...] = Field(min_length=1, description="Firms; the first is the focal firm.")
    ladder: Ladder = Field(default=Ladder(), description="Loyalty-ladder dynamics.")
    satisfaction: Satisfaction = Field(default=Satisfaction(), description="Satisfaction rules.")
    switching: Switching = Field(default=Switching(), description="Primary-firm changes.")
    acquisition: Acquisition = Field(default=Acquisition(), description="Leads and referrals.")
    economics: Economics = Field(default=Economics(), description="Money conventions.")
    service: Service = Field(default=Service(), description="What relationship levels do.")
    bonding: Bonding = Field(default=Bonding(), description="What bonds do to customers.")
    trust: Trust = Field(default=Trust(), description="How customers' trust moves and acts.")
    rivalry: Rivalry = Field(default=Rivalry(), description="How firms answer each other.")
    choice_rule: str = Field(
        default="logit",
        min_length=1,
        description="Choice rule on purchase occasions: 'logit' (multinomial logit) or a rule "
        "registered in Python (see relsim.extensions).",
    )
    goals: Goals = Field(default=Goals(), description="Targets the report checks.")
    shocks: tuple[Shock, ...] = Field(default=(), description="Exogenous events.")
    strategies: tuple[Strategy, ...] = Field(
        default=(Strategy(name="transactional"),),
        min_length=1,
        description="The focal firm's strategies to compare.",
    )
    baseline: str | None = Field(
        default=None, description="Strategy the others are compared with (default: the first)."
    )
    trace_share: Probability = Field(
        default=0.002,
        description="Share of customers whose every event is kept in the trace table.",
    )
    sweep: Sweep | None = Field(
        default=None,
        description="Scenario variants for `relsim sweep` (ignored by `relsim run`).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        _check_unique("segments", [s.name for s in self.segments])
        _check_unique("firms", [f.name for f in self.firms])
        _check_unique("strategies", [s.name for s in self.strategies])
        total = sum(s.share for s in self.segments)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(f"segment shares must sum to 1, got {total:.6g}")
        total = sum(f.initial_share for f in self.firms)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(f"firms' initial_share must sum to 1, got {total:.6g}")
        if len(self.firms) > 16:
            raise ValueError("at most 16 firms are supported")
        for segment in self.segments:
            if segment.orders_per_year.mean * max(self.ladder.purchase_multiplier) > 52.0:
                raise ValueError(
                    f"segment {segment.name!r}: orders_per_year.mean x the largest ladder "
                    "purchase_multiplier exceeds 52 (at most one occasion a week)"
                )
        firm_names = {f.name for f in self.firms}
        for shock in self.shocks:
            if shock.firm is not None and shock.firm not in firm_names:
                known = sorted(firm_names)
                raise ValueError(f"shock names unknown firm {shock.firm!r}; firms: {known}")
        segment_names = {s.name for s in self.segments}
        for strategy in self.strategies:
            unknown = set(strategy.levels.segments) - segment_names
            if unknown:
                raise ValueError(
                    f"strategy {strategy.name!r}: levels.segments names unknown segment(s) "
                    f"{sorted(unknown)}; segments: {sorted(segment_names)}"
                )
        for strategy in self.strategies:
            _check_retention(strategy, self.focal)
        if self.focal.bonds != Bonds() or self.focal.preset != "transactional":
            raise ValueError(
                "firms[0] is the focal firm: its bonds come from its strategies (set `bonds` "
                "or `preset` under `strategies`, not under the firm)"
            )
        if self.rivalry.firms is not None:
            unknown = set(self.rivalry.firms) - firm_names
            if unknown or self.focal.name in self.rivalry.firms:
                raise ValueError(
                    f"rivalry.firms must name rivals; unknown or focal: "
                    f"{sorted(unknown | ({self.focal.name} & set(self.rivalry.firms)))}"
                )
        if self.baseline is not None and self.baseline not in {s.name for s in self.strategies}:
            raise ValueError(f"baseline {self.baseline!r} is not one of the strategies")
        if self.sweep is not None:
            from relsim.scenario.paths import check_path

            for path in [f.path for f in self.sweep.fields] + [
                link.path for f in self.sweep.fields for link in f.linked
            ]:
                if path.split(".")[0] == "sweep":
                    raise ValueError("a sweep cannot vary the sweep itself")
                check_path(self, path)
        return self

    @property
    def focal(self) -> Firm:
        """The focal firm (the first listed)."""
        return self.firms[0]

    @property
    def baseline_strategy(self) -> str:
        """Name of the baseline strategy."""
        return self.baseline or self.strategies[0].name

    def strategy(self, name: str) -> Strategy:
        """The strategy called ``name``; a clear error lists the ones that exist."""
        for strategy in self.strategies:
            if strategy.name == name:
                return strategy
        known = ", ".join(s.name for s in self.strategies)
        raise KeyError(f"unknown strategy {name!r}; the scenario has: {known}")


def _check_unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what}: name {name!r} is used twice")
        seen.add(name)


def _check_retention(strategy: Strategy, focal: Firm) -> None:
    """The retention tools buy the focal firm's operations up, never down."""
    tools = strategy.retention
    where = f"strategy {strategy.name!r}: retention"
    if tools.fulfilment is not None and tools.fulfilment.late_or_wrong > focal.fulfilment_failure:
        raise ValueError(
            f"{where}.fulfilment.late_or_wrong = {tools.fulfilment.late_or_wrong:g} is above the "
            f"focal firm's fulfilment_failure = {focal.fulfilment_failure:g}: the lever buys "
            "reliability up (hint: set it at or below the firm's share, or change "
            "firms[0].fulfilment_failure)"
        )
    if tools.quality is not None and tools.quality.target < focal.product_quality:
        raise ValueError(
            f"{where}.quality.target = {tools.quality.target:g} is below the focal firm's "
            f"product_quality = {focal.product_quality:g}: the investment raises quality "
            "(hint: set a target at or above the firm's quality)"
        )
