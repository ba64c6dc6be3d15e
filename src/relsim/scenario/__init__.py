"""Scenario input: the validated description of a market and of the strategies to compare."""

from relsim.scenario.load import Problem, ScenarioError, load_scenario
from relsim.scenario.model import (
    Acquisition,
    BetaProbability,
    Economics,
    Firm,
    GammaRate,
    Horizon,
    Ladder,
    Market,
    Satisfaction,
    Scenario,
    Segment,
    Shock,
    Strategy,
    Switching,
)

__all__ = [
    "Acquisition",
    "BetaProbability",
    "Economics",
    "Firm",
    "GammaRate",
    "Horizon",
    "Ladder",
    "Market",
    "Problem",
    "Satisfaction",
    "Scenario",
    "ScenarioError",
    "Segment",
    "Shock",
    "Strategy",
    "Switching",
    "load_scenario",
]
