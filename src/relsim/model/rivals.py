"""Firms watching each other: copies of points programs, clubs and structural ties, and price
reactions, each after a random lag (SimPy processes).

When a firm makes a move -- launches or raises a points program, starts a club or structural
ties, or (the focal firm) cuts its price -- every other firm that answers moves (the rivals
listed in the scenario's rivalry block; the focal firm only if its strategy ``responds_to_rivals``)
draws whether it answers at all and after how long. When its lag has passed it answers if the
move still leaves it behind and, when a share-loss trigger is set, once it has lost that share
of its customers since the move (checked every :data:`RECHECK_WEEKS`). A points copy at a
``ratio`` above 1 outbids the mover, which is itself a move: a frequency war unfolds until the
rivalry block's ``max_reward_rate``. Every move is logged (``Run.moves``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from relsim import units
from relsim.scenario.model import Club, CopyRule, Lag, Points, Structural

if TYPE_CHECKING:
    from relsim.model.interface import MarketInterface

RECHECK_WEEKS = 4
"""Weeks between checks of a share-loss trigger after the lag has passed."""


def draw_lag(lag: Lag, rng: np.random.Generator) -> float:
    """A delay in weeks: ``min_weeks`` plus a gamma wait with the given mean and shape."""
    return float(lag.min_weeks + rng.gamma(lag.shape, lag.mean_weeks / lag.shape))


def copied_points(original: Points, ratio: float, cap: float) -> Points:
    """A copy of ``original`` at ``ratio`` times its earn rate, capped at reward rate ``cap``."""
    earn = original.earn_rate * ratio
    rate = units.reward_rate(earn, original.reward_value, original.threshold, original.breakage)
    if rate > cap:
        earn *= cap / rate
    return original.model_copy(update={"earn_rate": earn})


def copied_club(original: Club, ratio: float) -> Club:
    """A less (or more) complete copy of a club: status and event bond scaled by ``ratio``."""
    return original.model_copy(
        update={
            "status_utility": original.status_utility * ratio,
            "event_social_gain": min(original.event_social_gain * ratio, 1.0),
        }
    )


class Rivalry:
    """The answering firms of one replication and the log of moves."""

    def __init__(self, market: MarketInterface, focal_responds: bool):
        self.m = market
        self.rules = market.scenario.rivalry
        names = [f.name for f in market.scenario.firms]
        rivals = self.rules.firms if self.rules.firms is not None else names[1:]
        self.answers = {names.index(n) for n in rivals}
        if focal_responds:
            self.answers.add(0)
        self.moves: list[dict[str, Any]] = []

    def announce(
        self, week: int, firm: int, instrument: str, action: str, source: int | None = None
    ) -> None:
        """Log a move by ``firm`` and start every other firm's possible answer."""
        program = self.m.program(firm, instrument)
        self._log(week, firm, instrument, action, source)
        rule: CopyRule = getattr(self.rules, instrument)
        rng = self.m.streams.rivals
        for other in sorted(self.answers - {firm}):
            # both draws are made for every answering firm, so one firm's outcome does not
            # shift another's random numbers
            answers = rng.random() < rule.probability
            lag = draw_lag(rule.lag, rng)
            if answers:
                self.m.env.process(self._answer(other, firm, instrument, program, rule, lag))

    def _answer(  # type: ignore[no-untyped-def]
        self,
        firm: int,
        mover: int,
        instrument: str,
        program: object,
        rule: CopyRule,
        lag: float,
    ):
        m = self.m
        base = m.customers_of(firm)
        yield m.env.timeout(lag)
        while m.now_week() < m.H:
            if not self._behind(firm, instrument, program, rule):
                return
            now = m.customers_of(firm)
            if rule.share_loss_trigger == 0 or now <= (1.0 - rule.share_loss_trigger) * base:
                self._copy(firm, mover, instrument, program, rule)
                return
            yield m.env.timeout(RECHECK_WEEKS)

    def _behind(self, firm: int, instrument: str, program: object, rule: CopyRule) -> bool:
        if instrument == "points":
            assert isinstance(program, Points)
            offer = copied_points(program, rule.ratio, self.rules.max_reward_rate).reward_rate
            return bool(self.m.reward_rate(firm) < offer - 1e-12)
        return self.m.program(firm, instrument) is None

    def _copy(
        self, firm: int, mover: int, instrument: str, program: object, rule: CopyRule
    ) -> None:
        m = self.m
        had = m.program(firm, instrument) is not None
        strength = None
        if instrument == "points":
            assert isinstance(program, Points)
            copy: object = copied_points(program, rule.ratio, self.rules.max_reward_rate)
        elif instrument == "club":
            assert isinstance(program, Club)
            copy = copied_club(program, rule.ratio)
        else:
            assert isinstance(program, Structural)
            copy = program
            strength = rule.ratio
        m.set_program(firm, instrument, copy, strength)
        self.announce(m.now_week(), firm, instrument, "raise" if had else "copy", source=mover)

    # ------------------------------------------------------------------ price
    def price_cut(self, week: int, cut: float) -> None:
        """The focal firm cut its price by ``cut`` (a share): rivals may follow in part."""
        self._log(week, 0, "price", "launch")
        rule = self.rules.price
        rng = self.m.streams.rivals
        for other in sorted(self.answers - {0}):
            follows = rng.random() < rule.probability
            lag = draw_lag(rule.lag, rng)
            if follows:
                self.m.env.process(self._follow_price(other, cut * rule.match, lag))

    def _follow_price(self, firm: int, cut: float, lag: float):  # type: ignore[no-untyped-def]
        m = self.m
        yield m.env.timeout(lag)
        if m.now_week() >= m.H:
            return
        m.cut_price(firm, cut)
        self._log(m.now_week(), firm, "price", "copy", source=0)

    def _log(
        self, week: int, firm: int, instrument: str, action: str, source: int | None = None
    ) -> None:
        """One row of the moves table, with the firm's reward rate and price after the move."""
        self.moves.append(
            {
                "week": week,
                "firm": firm,
                "instrument": instrument,
                "action": action,
                "source": -1 if source is None else source,
                "reward_rate": self.m.reward_rate(firm),
                "price_index": float(self.m.price[firm]),
            }
        )
