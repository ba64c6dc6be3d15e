"""A pass's per-market tallies as arrays with a market axis (:mod:`relsim.model.market_pass`).

Each market counts its weekly events by firm (orders, problems, acquisitions, leads), keeps
its market records (births, exits, orders with the primary firm), the unhappy defectors its
firms are remembered by and how many of its customers ever bought from each firm. In a pass
those arrays are views of one array per tally with a market axis, so that one ``bincount``
by ``market x F + firm`` and one addition count a week's events for every market, instead of
a question to each market in turn. Every count is an integer (the unhappy defectors, a float
tally, have whole numbers added), so adding a market's zeros changes nothing: each market's
numbers are those it counts alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from relsim.model import records as rec


class PassTallies:
    """The per-market tallies of a pass (module docstring). Needs ``markets``, ``storage``,
    ``c``, ``F`` and the pass's ``_trace``."""

    def _stack_tallies(self) -> None:
        """Make every market's tallies views of arrays with a market axis."""
        markets = self.markets
        counts = markets[0].recorder.counts
        self._counts = {n: _stacked(markets, lambda m, n=n: m.recorder.counts, n) for n in counts}
        records = markets[0].recorder.market
        self._records = {n: _stacked(markets, lambda m, n=n: m.recorder.market, n) for n in records}
        self._unhappy = _stacked(markets, lambda m: m.__dict__, "unhappy")
        self._ever_bought = _stacked(markets, lambda m: m.__dict__, "ever_bought")
        self._weeks = markets[0].recorder.weeks

    def _by_market_and_firm(self, rows: np.ndarray, firm: np.ndarray) -> np.ndarray:
        """How many of ``rows`` each market has with each firm ``firm``, shape (K, F)."""
        code = rows // self.storage.cap
        code *= self.F
        code += firm
        return np.bincount(code, minlength=len(self.markets) * self.F).reshape(-1, self.F)

    def _by_market(self, rows: np.ndarray) -> np.ndarray:
        """How many of ``rows`` each market has."""
        return np.bincount(rows // self.storage.cap, minlength=len(self.markets))

    def _record_add(self, name: str, week: int, firm: np.ndarray, rows: np.ndarray) -> None:
        if 0 <= week < self._weeks and len(rows):
            self._counts[name][:, week] += self._by_market_and_firm(rows, firm)

    def _count_unhappy(self, rows: np.ndarray, old: np.ndarray) -> None:
        self._unhappy += self._by_market_and_firm(rows, old)

    def _add_ever_bought(self, rows: np.ndarray, firm: np.ndarray) -> None:
        self._ever_bought += self._by_market_and_firm(rows, firm)

    def _record_market(self, name: str, week: int, counts: np.ndarray) -> None:
        """Add each market's ``counts`` to its market record ``name`` (reported weeks)."""
        if 0 <= week < self._weeks:
            self._records[name][:, week] += counts

    def _count_primary_orders(
        self, week: int, b: np.ndarray, new: tuple[slice, slice], with_primary: tuple[slice, slice]
    ) -> None:
        # each market's orders in the groups: one count by market per group, not a mask each
        orders = self._by_market(b)
        starting = sum(self._by_market(b[part]) for part in new)
        at_primary = sum(self._by_market(b[part]) for part in with_primary)
        self._record_market("orders_with_primary", week, orders - starting)
        self._record_market("orders_at_primary", week, at_primary)

    def _exit(self, week: int, rows: np.ndarray) -> None:
        """Customers ``rows`` leave their markets (:meth:`relsim.model.endings.Endings._exit`,
        for every market at once)."""
        c = self.c
        bought = np.take(c.orders, rows, axis=0) > 0  # 2-D fancy indexing is slow
        at, firm = bought.nonzero()
        self._ever_bought -= self._by_market_and_firm(rows.take(at), firm)
        self._trace(week, rec.EXIT, rows)
        c.remove(rows)
        gone = self._by_market(rows)
        for k in gone.nonzero()[0].tolist():
            self.markets[k].c.gone += int(gone[k])
        self._record_market("exits", week, gone)


def _stacked(owners: list[Any], holder: Callable[[Any], dict[str, Any]], name: str) -> np.ndarray:
    """Each owner's array ``holder(owner)[name]`` made a view of one stacked array (returned)."""
    stacked = np.stack([holder(owner)[name] for owner in owners])
    for k, owner in enumerate(owners):
        holder(owner)[name] = stacked[k]
    return stacked
