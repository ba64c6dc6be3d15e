"""What the week's rules ask of a market's own parts, for one market.

The week's rules (:mod:`~relsim.model.purchases`, :mod:`~relsim.model.endings`,
:mod:`~relsim.model.relationships`) work on rows of customer arrays. A few of their steps
need the market the rows belong to: its random streams, its firms' prices and quality, its
mechanisms' hooks, its records. They ask for those through the methods below, so that the
same rules run for one market (this mixin: every row is the market's own) and for a pass of
several markets sharing one set of arrays (:class:`relsim.model.many_markets.ManyMarkets`,
which answers the same questions market by market).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from relsim import extensions
from relsim.model import choice
from relsim.model.population import NONE

EVERY = slice(None)
"""All of an array: one market's rows are all the rows."""


class OneMarket:
    """The questions of the week's rules, answered for one market (module docstring)."""

    def _each_market(self, rows: np.ndarray) -> Sequence[tuple[Any, np.ndarray, Any]]:
        """Each market with some of ``rows``: (market, its rows in its own numbering, their
        positions in ``rows``: a slice where they are contiguous)."""
        return ((self, rows, EVERY),)

    def _uniform(self, purpose: str, rows: np.ndarray, dtype: type = np.float64) -> np.ndarray:
        """One uniform of stream ``purpose`` per row of ``rows``, in their order."""
        return getattr(self.streams, purpose).random(len(rows), dtype=dtype)

    def _gammas(self, purpose: str, rows: np.ndarray, shape: np.ndarray) -> np.ndarray:
        """One gamma variate of unit scale and ``shape`` per row (stream ``purpose``)."""
        return getattr(self.streams, purpose).gamma(shape)

    def _by_firm(self, name: str, firm: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The rows' firms' entries of the market's per-firm array ``name`` (price, quality,
        problem rate, ...)."""
        return getattr(self, name).take(firm)

    def _choice_tables(
        self, rows: np.ndarray, cell: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The utility table, its firm-major copy and the rows' codes into it."""
        return self.table, self.table_by_cell, cell

    def _choose(
        self, v: np.ndarray, outside: np.ndarray, seg: np.ndarray, u: np.ndarray, rows: np.ndarray
    ) -> np.ndarray:
        """Each row's choice (a firm, or F: the outside option) given utilities ``v`` (F, n),
        the outside option's, the rows' segments and one uniform each: the plain logit with
        its outside weights by segment, or the scenario's own rule."""
        if self.outside_weight is None:
            return self.choice_rule.sample(v, outside, u)
        return choice.sample_weighted(v, self.outside_weight.take(seg), u)

    def _plain_logit(self) -> bool:
        """Whether the choice rule is the logit itself (not a plugin, nor a subclass)."""
        return type(self.choice_rule) is extensions.Logit

    def _rule_probability(
        self, v: np.ndarray, outside: np.ndarray, firm: np.ndarray, rows: np.ndarray
    ) -> np.ndarray:
        """The scenario's own rule's probability that each row picks its ``firm``."""
        return self.choice_rule.probabilities(v, outside)[firm, np.arange(len(rows))]

    def any_assortment(self) -> bool:
        """Whether an assortment multiplies occasions or order values."""
        return self.assortment

    def _reopened(self, rows: np.ndarray, week: int) -> np.ndarray:
        """Which drifted-off ``rows`` a campaign's offer reopens the focal firm to."""
        if self.crm is None:
            return np.zeros(len(rows), dtype=bool)
        return self.crm.reopened(rows, week)

    def _lapse_factor(self, rows: np.ndarray, week: int) -> np.ndarray | None:
        """The bonds' multiplier on the rows' hazard of ending (None: no bond)."""
        return self.bonds.lapse_factor(rows, week)

    def _climb_factor(
        self, rows: np.ndarray, primary: np.ndarray | int, week: int
    ) -> np.ndarray | None:
        """The bonds' multiplier on the rows' chance to climb (None: no bond)."""
        return self.bonds.climb_factor(rows, primary, week)

    def _rewards_earned(
        self, week: int, rows: np.ndarray, firm: np.ndarray, revenue: np.ndarray
    ) -> np.ndarray | None:
        """The money each order earned back (points, regulars' discounts), or None."""
        return self.bonds.after_purchases(week, rows, firm, revenue)

    def _book_order_money(
        self, week: int, rows: np.ndarray, firm: np.ndarray, revenue: np.ndarray, cogs: np.ndarray
    ) -> None:
        """The orders' revenue and cost of goods (whole cents) in the market's ledger."""
        self.ledger.book_orders(week, firm, revenue, cogs)

    def _record_add(self, name: str, week: int, firm: np.ndarray, rows: np.ndarray) -> None:
        """Count events of ``rows`` by firm in the weekly record ``name``."""
        self.recorder.add(name, week, firm, self.F)

    def _count_unhappy(self, rows: np.ndarray, old: np.ndarray) -> None:
        """Unhappy defectors (service or political reasons) of the firms ``old``."""
        self.unhappy += np.bincount(old, minlength=self.F)

    def _add_ever_bought(self, rows: np.ndarray, firm: np.ndarray) -> None:
        """First orders of ``rows`` with ``firm``: the firms' buyers ever."""
        self.ever_bought += np.bincount(firm, minlength=self.F)

    def _held_costs(self, rows: np.ndarray, firm: np.ndarray) -> np.ndarray:
        """What the ties and memberships of ``rows`` with ``firm`` cost it per week."""
        return self.bonds.held_costs(rows, firm)

    def _staff_weights(self, rows: np.ndarray, orders_per_week: np.ndarray) -> np.ndarray:
        """The focal firm's customers' weekly staff hours per pool, shape (3, n): the service's
        levels and the club's events."""
        staff = self.service.staff_weights(rows, orders_per_week)
        staff[1] += self.bonds.event_hours(rows)
        return staff

    def _exits_of(self, seg: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The rows' weekly chance of staying in the market, by their segments."""
        return self._segment_exits().take(seg)

    def _record_defections(
        self,
        week: int,
        rows: np.ndarray,
        old: np.ndarray,
        reason: np.ndarray,
        chance: np.ndarray,
        rung: np.ndarray,
        to_firm: np.ndarray | None,
        tail: np.ndarray,
        renewal: np.ndarray | bool,
    ) -> None:
        """The endings' rows of the defections table (``tail``: the focal ones' exposures)."""
        c = self.c
        self.recorder.defections(
            week,
            c.id.take(rows),
            old,
            reason,
            chance,
            rung,
            week - c.since.take(rows),  # tenure
            to_firm if to_firm is not None else NONE,
            tail,
            self.F,
            renewal,
        )

    def _focal_orders(
        self,
        week: int,
        rows: np.ndarray,
        seg: np.ndarray,
        value: np.ndarray,
        revenue: np.ndarray,
        rewards: np.ndarray | None,
        felt: np.ndarray,
        premium: np.ndarray | None,
    ) -> None:
        """The focal firm's orders of a reported week: the customers' surplus and the
        retention tools' costs."""
        self._surplus(week, rows, seg, value, revenue, rewards, felt, premium)
        self.retention.after_orders(week, value)
