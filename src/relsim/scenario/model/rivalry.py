"""Behavioural rules of competition: how other firms answer a move (copy a points program,
a club, structural ties, follow a price cut), after what lag, and where a frequency war stops.

Why apart: the rivals' reaction rules form one block of the scenario (``rivalry``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from relsim.scenario.model.base import Frozen, Positive, Probability


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
