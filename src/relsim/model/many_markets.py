"""What the week's rules ask of a market's own parts, answered for a pass of markets.

:class:`relsim.model.per_market.OneMarket` answers the rules' questions for one market; a pass
(:class:`relsim.model.market_pass.MarketPass`) runs the rules once over several markets' rows
and answers here, market by market: each market's rows in the order they have alone (a stable
sort by market; the week's due rows are ascending, so a market's are one slice and a hook
that writes in place gets a view), from its own streams, firms, mechanisms and records.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from relsim.model import choice
from relsim.model.per_market import EVERY
from relsim.model.population import NONE

PARTITIONS_KEPT = 4
"""How many of :meth:`ManyMarkets._each_market`'s last answers are kept (a week's occasions are
asked about most; 37% of the classroom pass's questions were the same rows as one of the last
six)."""


class ManyMarkets:
    """The same questions answered for a pass of markets
    (:class:`relsim.model.market_pass.MarketPass`): rows are numbered across the pass, market
    ``k``'s at ``k x cap`` on (:mod:`relsim.model.pass_storage`); each market answers for its
    own rows, in the order they have alone, from its own streams, firms, mechanisms and records.
    Needs ``markets``, ``storage``, ``c`` and ``F``."""

    def _each_market(self, rows: np.ndarray) -> list[tuple[Any, np.ndarray, Any]]:
        """Rows ascending (the week's occasions, endings) give each market a slice; others
        are ordered by market first (a stable sort keeps each market's own order).

        The rules ask again and again of the same rows (a week's occasions: a dozen times): the
        last few answers are kept, for the same array holding the same rows in a pass whose
        blocks have not moved; the rows each market is given are read-only."""
        if not len(rows):
            return []
        if len(self.markets) == 1:
            return [(self.markets[0], rows, EVERY)]
        cap = self.storage.cap
        for held, copy, held_cap, parts in self._partitions:
            if held is rows and held_cap == cap and len(copy) == len(rows) and (copy == rows).all():
                return parts
        parts = self._partition(rows, cap)
        self._partitions.append((rows, rows.copy(), cap, parts))
        if len(self._partitions) > PARTITIONS_KEPT:
            del self._partitions[0]
        return parts

    def _partition(self, rows: np.ndarray, cap: int) -> list[tuple[Any, np.ndarray, Any]]:
        """:meth:`_each_market`'s answer, worked out. The markets' spans are a search of
        the rows' sorted markets (ascending rows need no sort), cheaper than a count."""
        market = rows // cap
        ascending = not (market[1:] < market[:-1]).any()
        if ascending and market[0] == market[-1]:
            first = int(market[0])
            local = rows - first * cap
            local.flags.writeable = False
            return [(self.markets[first], local, EVERY)]
        order = None if ascending else np.argsort(market, kind="stable")
        if order is not None:
            order.flags.writeable = False
            rows, market = rows.take(order), market.take(order)
        bounds = np.searchsorted(market, np.arange(len(self.markets) + 1)).tolist()
        market *= cap
        local = rows - market
        local.flags.writeable = False
        markets = self.markets
        spans = [(k, a, b) for k, (a, b) in enumerate(pairwise(bounds)) if b > a]
        if order is None:  # ascending by market: slices
            return [(markets[k], local[a:b], slice(a, b)) for k, a, b in spans]
        return [(markets[k], local[a:b], order[a:b]) for k, a, b in spans]

    def _uniform(self, purpose: str, rows: np.ndarray, dtype: type = np.float64) -> np.ndarray:
        parts = self._each_market(rows)
        if len(parts) == 1:
            return getattr(parts[0][0].streams, purpose).random(len(rows), dtype=dtype)
        out = np.empty(len(rows), dtype=dtype)
        for market, local, at in parts:
            stream = getattr(market.streams, purpose)
            if isinstance(at, slice):  # drawn straight into place: the same numbers
                stream.random(dtype=dtype, out=out[at])
            else:
                out[at] = stream.random(len(local), dtype=dtype)
        return out

    def _gammas(self, purpose: str, rows: np.ndarray, shape: np.ndarray) -> np.ndarray:
        out = np.empty(len(rows))
        for market, _, at in self._each_market(rows):
            out[at] = getattr(market.streams, purpose).gamma(shape[at])
        return out

    def _by_firm(self, name: str, firm: np.ndarray, rows: np.ndarray) -> np.ndarray:
        # NONE (-1) reads the last entry, as take(-1) gives alone
        code = np.where(firm < 0, firm + len(getattr(self.markets[0], name)), firm)
        return self._stacked([getattr(market, name) for market in self.markets], code, rows)

    def _stacked(self, tables: list[np.ndarray], code: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Each row's entry ``code`` of its own market's table (the tables stacked, gathered
        at ``market x width + code``)."""
        at = (rows // self.storage.cap) * len(tables[0])
        at += code
        return np.concatenate(tables).take(at)

    def _choice_tables(
        self, rows: np.ndarray, cell: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        versions = tuple(id(market.table_by_cell) for market in self.markets)
        if self._tables is None or self._tables[0] != versions:
            stacked = np.concatenate([market.table_by_cell for market in self.markets], axis=1)
            self._tables = (versions, stacked, [m.table_by_cell for m in self.markets])
        cells = self.markets[0].table_by_cell.shape[1]
        code = (rows // self.storage.cap) * cells
        code += cell
        return self.markets[0].table, self._tables[1], code

    def _choose(
        self, v: np.ndarray, outside: np.ndarray, seg: np.ndarray, u: np.ndarray, rows: np.ndarray
    ) -> np.ndarray:
        # the plain logit chooses customer by customer: once for the pass; a plugin's rule may
        # look at its batch, so each market's rule sees its own rows, as alone
        if self.outside_weight is not None:
            return choice.sample_weighted(v, self.outside_weight.take(seg), u)
        out = None
        for market, local, at in self._each_market(rows):
            part = market._choose(v[:, at], outside[at], seg[at], u[at], local)
            if out is None:
                out = np.empty(len(rows), dtype=part.dtype)
            out[at] = part
        return np.zeros(0, dtype=np.intp) if out is None else out

    def _plain_logit(self) -> bool:
        return all(market._plain_logit() for market in self.markets)

    def _rule_probability(
        self, v: np.ndarray, outside: np.ndarray, firm: np.ndarray, rows: np.ndarray
    ) -> np.ndarray:
        out = np.empty(len(rows))
        for market, local, at in self._each_market(rows):
            out[at] = market._rule_probability(v[:, at], outside[at], firm[at], local)
        return out

    def any_assortment(self) -> bool:
        return any(market.assortment for market in self.markets)

    def _reopened(self, rows: np.ndarray, week: int) -> np.ndarray:
        out = np.zeros(len(rows), dtype=bool)
        for market, local, at in self._each_market(rows):
            out[at] = market._reopened(local, week)
        return out

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
        for market, local, at in self._each_market(rows):
            market._focal_orders(
                week,
                local,
                seg[at],
                value[at],
                revenue[at],
                None if rewards is None else rewards[at],
                felt[at],
                None if premium is None else premium[at],
            )

    def _staff_weights(self, rows: np.ndarray, orders_per_week: np.ndarray) -> np.ndarray:
        out = np.zeros((3, len(rows)))
        for market, local, at in self._each_market(rows):
            out[:, at] = market._staff_weights(local, orders_per_week[at])
        return out

    def _exits_of(self, seg: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self._stacked([market._segment_exits() for market in self.markets], seg, rows)

    def _traced(self, rows: np.ndarray) -> np.ndarray:
        return self.c.traced.take(rows).nonzero()[0]

    def _trace(
        self,
        week: int,
        event: int,
        rows: np.ndarray,
        firm: Any = NONE,
        rung: Any = 0,
        amount: Any = 0.0,
    ) -> None:
        """The traced customers' events among ``rows``, every market's in one append to the
        pass's trace (:meth:`relsim.model.pass_tallies.PassTallies._collect_traces`)."""
        keep = self._traced(rows)
        if not len(keep):
            return
        rows = rows.take(keep)
        firm, rung, amount = (_pick(x, keep) for x in (firm, rung, amount))
        values = (week, self.c.id.take(rows), event, firm, rung, amount, rows // self.storage.cap)
        self._trace_rows["trace"].append(values, len(rows))


def _pick(x: Any, at: Any) -> Any:
    """``x`` at ``at`` if it is an array (aligned with the rows), else ``x``."""
    return x[at] if isinstance(x, np.ndarray) else x
