"""The scenario model: a frozen, validated description of one market and the strategies to
compare, split by job (each module says what it holds and why):

* :mod:`.base` -- the frozen base class, field types, limits, derivation helpers;
* :mod:`.market` -- segments, firms, the market's size, shocks;
* :mod:`.staffing`, :mod:`.bonds`, :mod:`.retention`, :mod:`.strategy` -- strategy levers
  (staff, levels and key accounts; points, club and ties; retention tools) and the strategy;
* :mod:`.rules`, :mod:`.rivalry` -- behavioural rules (service, bonding, trust, ladder,
  satisfaction, switching, acquisition; rivals' answers);
* :mod:`.settings` -- horizon, money conventions, goals;
* :mod:`.sweep` -- sweep design;
* :mod:`.uncertainty` -- what the decision analysis treats as uncertain, and how;
* :mod:`.scenario` and :mod:`.checks` -- the scenario and its cross-checks per concern.

Every field carries a description with its unit; the defaults are the assumptions register of
``docs/model.md``. Validation happens here, before the engine sees anything, so the engine can
trust its input. The engine works in weeks; inputs are given in the units a strategist uses
(orders per year, money per order, probabilities per year) and converted by the engine, or
when the file is read (:mod:`relsim.units`). Every name is re-exported here, so
``from relsim.scenario.model import X`` works as before the split.
"""

from relsim.scenario.model.base import (
    BYTES_PER_CUSTOMER,
    MAX_CUSTOMERS,
    MAX_WEEKS,
    SHARE_TOLERANCE,
    Frozen,
    Level,
    NonNegative,
    Positive,
    Probability,
    Rung,
    _derive,
    _in_range,
    _is_number,
)
from relsim.scenario.model.bonds import Bonds, Club, Points, Structural
from relsim.scenario.model.checks import CrossCheckError, Finding
from relsim.scenario.model.crm import Campaign, Crm, Database
from relsim.scenario.model.market import BetaProbability, Firm, GammaRate, Market, Segment, Shock
from relsim.scenario.model.optimize import (
    BOND_NAMES,
    Allocate,
    Lever,
    Objective,
    Optimize,
    Requirement,
    Robust,
)
from relsim.scenario.model.retention import (
    Assortment,
    Fulfilment,
    InstrumentSpec,
    PriceMatch,
    QualityInvestment,
    RetentionTools,
)
from relsim.scenario.model.rivalry import CopyRule, Lag, PriceReaction, Rivalry
from relsim.scenario.model.rules import (
    Acquisition,
    Bonding,
    Ladder,
    Satisfaction,
    Service,
    Switching,
    Trust,
)
from relsim.scenario.model.scenario import Scenario
from relsim.scenario.model.settings import Economics, Goals, Horizon
from relsim.scenario.model.staffing import (
    AccountPlan,
    KeyAccounts,
    Levels,
    ManagerPool,
    Pool,
    SeniorPool,
    StaffChange,
    Staffing,
)
from relsim.scenario.model.strategy import Strategy
from relsim.scenario.model.sweep import (
    LinkedField,
    Sweep,
    SweepDistribution,
    SweepField,
    SweepValue,
)
from relsim.scenario.model.uncertainty import Uncertainty, UncertainValue
from relsim.scenario.presets import PresetName
from relsim.scenario.presets import with_preset as _with_preset

__all__ = [
    "BOND_NAMES",
    "BYTES_PER_CUSTOMER",
    "MAX_CUSTOMERS",
    "MAX_WEEKS",
    "SHARE_TOLERANCE",
    "AccountPlan",
    "Acquisition",
    "Allocate",
    "Assortment",
    "BetaProbability",
    "Bonding",
    "Bonds",
    "Campaign",
    "Club",
    "CopyRule",
    "Crm",
    "CrossCheckError",
    "Database",
    "Economics",
    "Finding",
    "Firm",
    "Frozen",
    "Fulfilment",
    "GammaRate",
    "Goals",
    "Horizon",
    "InstrumentSpec",
    "KeyAccounts",
    "Ladder",
    "Lag",
    "Level",
    "Levels",
    "Lever",
    "LinkedField",
    "ManagerPool",
    "Market",
    "NonNegative",
    "Objective",
    "Optimize",
    "Points",
    "Pool",
    "Positive",
    "PresetName",
    "PriceMatch",
    "PriceReaction",
    "Probability",
    "QualityInvestment",
    "Requirement",
    "RetentionTools",
    "Rivalry",
    "Robust",
    "Rung",
    "Satisfaction",
    "Scenario",
    "Segment",
    "SeniorPool",
    "Service",
    "Shock",
    "StaffChange",
    "Staffing",
    "Strategy",
    "Structural",
    "Sweep",
    "SweepDistribution",
    "SweepField",
    "SweepValue",
    "Switching",
    "Trust",
    "UncertainValue",
    "Uncertainty",
    "_derive",
    "_in_range",
    "_is_number",
    "_with_preset",
]
