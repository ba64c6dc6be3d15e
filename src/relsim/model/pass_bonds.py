"""The bonds' answers for a pass of markets, every market's rows at once (issue 31).

:class:`relsim.model.bonds.BondBook` answers for one market: the factor its bonds put on a
relationship's hazard of ending and on a climb, and the money its customers' orders earn back
(points, regulars' discounts). Asked market by market, a pass split the week's rows among its
markets for each question; here each market's per-firm tables are stacked (market ``k``'s
firm ``f`` at ``k x F + f``) and every row reads its own market's entry, so one run of the
same element-wise arithmetic answers for the pass. Each row's number is the one its market
computes alone: the same operations on the same values, in float32 where the market's are.

Where a market's bonds say nothing (no program, no bond of a kind), alone it answers None and
the rules leave the row's numbers as they are; here its rows read zero bonds and zero rates,
which give exactly a factor of 1.0 and nothing earned back. Each market's social epoch moves
only at the start of its week's step (:meth:`BondBook.settle_epoch`), alone and in a pass, so a
read of its decay during the step moves nothing; the decay is read from the markets with rows
in the question.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from relsim.model.bonds import over_rows, rewards_completed, tied_kept
from relsim.model.economics import sum_by_firm, whole_cents
from relsim.model.pass_tallies import stack_views
from relsim.model.population import NONE


class PassBonds:
    """The bonds' answers for a pass (module docstring). Needs ``markets``, ``storage``,
    ``c``, ``F`` and ``scenario``; :meth:`_stack_bonds` once the markets are in place."""

    def _stack_bonds(self) -> None:
        """Every market's rewards account and rewards-issued record made views of arrays with
        a market axis (booked for every market at once: whole numbers, exact in any order)."""
        self._bond_key: tuple[int, ...] | None = None
        self._bond_tables: dict[str, np.ndarray] = {}
        self._rewards_cost = stack_views(self.markets, lambda m: m.ledger.costs, "rewards")
        self._rewards_issued = stack_views(
            self.markets, lambda m: m.bonds.records, "rewards_issued"
        )

    def _bond_table(self, name: str) -> np.ndarray:
        """Every market's per-firm table ``name`` of its bonds, stacked; built again when a
        market's programs change (:attr:`BondBook.derivations`)."""
        key = tuple(market.bonds.derivations for market in self.markets)
        if key != self._bond_key:
            self._bond_key, self._bond_tables = key, {}
        table = self._bond_tables.get(name)
        if table is None:
            table = np.concatenate([_bond_field(m.bonds, name) for m in self.markets])
            self._bond_tables[name] = table
        return table

    def _social_decay(self, market: np.ndarray, week: int) -> np.ndarray | None:
        """Each row's decay factor of its market's social bonds (``market``: the rows'
        markets); zero for markets without social bonds, whose rows hold none. None when no
        market has social bonds."""
        users = [k for k, m in enumerate(self.markets) if m.c.uses("social")]
        if not users:
            return None
        present = np.bincount(market, minlength=len(self.markets))
        decay = np.zeros(len(self.markets), dtype=np.float32)
        for k in users:
            if present[k]:  # as alone, only with rows (a read outside a step may move the epoch)
                decay[k] = self.markets[k].bonds.decay_since_epoch(week)
        return decay.take(market)

    def _held_costs(self, rows: np.ndarray, firm: np.ndarray) -> np.ndarray:
        """:meth:`BondBook.held_costs` for the pass's rows: what their ties and memberships
        with ``firm`` cost it per week, at each row's market's terms."""
        c, F = self.c, self.F
        cost = np.zeros(len(rows))
        cell = code = None
        for name, held in (("structural", "ties"), ("member", "members")):
            if not any(m.c.uses(name) and getattr(m.bonds, held).any() for m in self.markets):
                continue
            if cell is None:
                cell = rows * F + firm
                code = (rows // self.storage.cap) * F + firm
            weekly = self._bond_table(f"held_weekly:{name}").take(code)
            cost += getattr(c, name).reshape(-1).take(cell) * weekly
        return cost

    def _lapse_factor(self, rows: np.ndarray, week: int) -> np.ndarray | None:
        """:meth:`BondBook.lapse_factor` for the pass's rows."""
        if not any(market.bonds.holds_back_lapses() for market in self.markets):
            return None
        c, rules, F = self.c, self.scenario.bonding, self.F
        market = rows // self.storage.cap
        primary = c.primary.take(rows)
        has = (primary != NONE).nonzero()[0]
        firm = primary.take(has).astype(np.intp)
        held_by = rows.take(has)
        decay = self._social_decay(market, week)
        bonded = None
        if decay is not None:
            bond = c.social.reshape(-1).take(held_by * F + firm)
            bond *= decay.take(has)
            bonded = (1.0 - rules.social_protection * bond).astype(np.float64)
        if any(m.c.uses("structural") for m in self.markets):
            tied = c.structural.reshape(-1).take(held_by * F + firm)
            strength = self._bond_table("structural_strength").take(market.take(has) * F + firm)
            protection = rules.structural_protection * strength
            bonded = tied_kept(bonded, tied, protection)
        return over_rows(bonded, has, len(rows))

    def _climb_factor(
        self, rows: np.ndarray, primary: np.ndarray | int, week: int
    ) -> np.ndarray | None:
        """:meth:`BondBook.climb_factor` for the pass's rows (``primary``: one firm per row
        or one for all)."""
        if not any(market.bonds.speeds_climbs() for market in self.markets):
            return None
        decay = self._social_decay(rows // self.storage.cap, week)  # first, as alone
        social = self.c.social
        if isinstance(primary, int | np.integer):
            bond = social[:, primary][rows]
        else:
            bond = social.reshape(-1).take(rows * self.F + primary)
        bond *= decay
        return 1.0 + self.scenario.bonding.social_climb * bond

    def _rewards_earned(
        self, week: int, rows: np.ndarray, firm: np.ndarray, revenue: np.ndarray
    ) -> np.ndarray | None:
        """:meth:`BondBook.after_purchases` for the pass's orders: points earned and rewards
        issued, regulars' discounts, booked in each market's ledger; the money each order
        earned back."""
        if not any(market.bonds.pays_back() for market in self.markets):
            return None
        code = rows // self.storage.cap
        code *= self.F
        code += firm
        spent = revenue / 100.0
        cost = self._rewards(week, rows, firm, code, spent)
        if any(market.bonds.any_regular for market in self.markets):
            cost += self._discounts_given(rows, firm, code, spent)
        cents = whole_cents(cost)
        if week >= 0:
            cells = len(self.markets) * self.F
            self._rewards_cost[:, week] += sum_by_firm(code, cents, cells).reshape(-1, self.F)
        return cents / 100.0

    def _rewards(
        self, week: int, rows: np.ndarray, firm: np.ndarray, code: np.ndarray, spent: np.ndarray
    ) -> np.ndarray:
        """:meth:`BondBook._rewards` with each order's market's program (``code``: the
        orders' ``market x F + firm``)."""
        rate = self._bond_table("earn").take(code)
        earns = (rate > 0).nonzero()[0]
        cost = np.zeros(len(rows))
        if not len(earns):
            return cost
        at = None if len(earns) == len(rows) else earns

        def earning(x: np.ndarray) -> np.ndarray:
            return x if at is None else x.take(at)

        own, f = earning(code), earning(firm)
        cell = earning(rows) * self.F + f
        points = self.c.points.reshape(-1)
        earned = earning(rate) * earning(spent)
        rewards = rewards_completed(points, cell, earned, self._bond_table("threshold").take(own))
        if week >= 0:
            cells = len(self.markets) * self.F
            issued = np.bincount(own, weights=rewards, minlength=cells)
            self._rewards_issued[:, week] += issued.reshape(-1, self.F)
        claimed_back = rewards * self._bond_table("claimed").take(own)
        if at is None:
            return claimed_back
        cost[at] = claimed_back
        return cost

    def _discounts_given(
        self, rows: np.ndarray, firm: np.ndarray, code: np.ndarray, spent: np.ndarray
    ) -> np.ndarray:
        """:meth:`BondBook._discounts_given` with each order's market's program."""
        c = self.c
        min_rung = self._bond_table("regular_min_rung").take(code)
        regular = (c.primary.take(rows) == firm) & (c.rung.take(rows) >= min_rung)
        return np.where(regular, spent * self._bond_table("regular_discount").take(code), 0.0)


def _bond_field(bonds: Any, name: str) -> np.ndarray:
    """A market's per-firm table ``name`` of its bonds (float64 or int, one entry a firm;
    ``held_weekly:KIND``: what a tie or membership costs its firm a week)."""
    if name.startswith("held_weekly:"):
        return dict(bonds.held_weekly)[name.partition(":")[2]]
    return np.asarray(getattr(bonds, name))
