"""A strategy: what the focal firm does in the simulated horizon, assembled from a preset and
the levers (price, acquisition, levels, staff, bonds, retention tools, instruments).

Why apart: the one place where the levers come together, and presets are applied.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from relsim.scenario.model.base import Frozen, Name, NonNegative, Positive
from relsim.scenario.model.bonds import Bonds
from relsim.scenario.model.crm import Crm
from relsim.scenario.model.retention import InstrumentSpec, RetentionTools
from relsim.scenario.model.staffing import KeyAccounts, Levels, Staffing
from relsim.scenario.presets import PresetName
from relsim.scenario.presets import with_preset as _with_preset


class Strategy(Frozen):
    """What the focal firm does in the simulated horizon (after the warm-up).

    Transactional levers (price, acquisition spend), relationship levels with the staff that
    deliver them, and key-account management. The scenario's baseline strategy is the status
    quo: the warm-up runs it.
    """

    name: Name = Field(min_length=1, description="Strategy name, used in tables and reports.")
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

    crm: Crm | None = Field(
        default=None,
        description="The customer database and marketing automation's campaigns (null: none).",
    )

    @model_validator(mode="before")
    @classmethod
    def _start_from_preset(cls, data: object) -> object:
        return _with_preset(data)
