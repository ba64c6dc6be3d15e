"""The scenario: one market, the focal firm's strategies to compare, and the simulation
settings, with the cross-checks between its parts (in :mod:`.checks`).

Why apart: the root of the validated tree; the fields' own rules live in their modules.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, model_validator

from relsim.scenario.model import checks
from relsim.scenario.model.base import WHOLE, Frozen, Name, Probability
from relsim.scenario.model.market import Firm, Market, Segment, Shock
from relsim.scenario.model.optimize import Optimize
from relsim.scenario.model.rivalry import Rivalry
from relsim.scenario.model.rules import (
    Acquisition,
    Bonding,
    Ladder,
    Satisfaction,
    Service,
    Switching,
    Trust,
)
from relsim.scenario.model.settings import Economics, Goals, Horizon
from relsim.scenario.model.strategy import Strategy
from relsim.scenario.model.sweep import Sweep
from relsim.scenario.model.uncertainty import Uncertainty


class Scenario(Frozen):
    """One market, the focal firm's strategies to compare, and the simulation settings."""

    schema_version: Literal[1] = Field(default=1, description="Version of the scenario format.")
    name: Name = Field(default="scenario", min_length=1, description="Scenario name.")
    description: str = Field(default="", description="Free text shown in reports.")
    seed: Annotated[int, Field(ge=0), WHOLE] = Field(default=2026, description="Root random seed.")
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
    uncertainty: Uncertainty | None = Field(
        default=None,
        description="How `relsim decide` draws the assumptions (ignored by `relsim run`).",
    )
    optimize: Optimize | None = Field(
        default=None,
        description="Levers, constraints and settings for `relsim optimize` (ignored by "
        "`relsim run`).",
    )

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Scenario:
        skip = (info.context or {}).get("skip_parts", frozenset())
        findings = checks.run_checks(self, frozenset(skip))
        if findings:
            raise checks.CrossCheckError(findings)
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
