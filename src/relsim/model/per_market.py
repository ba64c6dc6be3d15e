"""What the week's rules ask of a market's own parts, for one market.

The week's rules (:mod:`~relsim.model.purchases`, :mod:`~relsim.model.endings`,
:mod:`~relsim.model.relationships`) work on rows of customer arrays. A few of their steps
need the market the rows belong to: its random streams, its firms' prices and quality, its
mechanisms' hooks, its records. They ask for those through the methods below, so that the
same rules run for one market (this mixin: every row is the market's own) and for a pass of
several markets sharing one set of arrays (:class:`relsim.model.market_pass.MarketPass`, which
answers the same questions market by market).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

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


class ManyMarkets:
    """The same questions answered for a pass of markets
    (:class:`relsim.model.market_pass.MarketPass`): rows are numbered across the pass, market
    ``k``'s at ``k x cap`` on (:mod:`relsim.model.pass_storage`); each market answers for its
    own rows, in the order they have alone, from its own streams, firms, mechanisms and records.
    Needs ``markets``, ``storage``, ``c`` and ``F``."""

    def _each_market(self, rows: np.ndarray) -> list[tuple[Any, np.ndarray, Any]]:
        """Rows ascending (the week's occasions, endings) give each market a slice; others
        are ordered by market first (a stable sort keeps each market's own order)."""
        if not len(rows):
            return []
        if len(self.markets) == 1:
            return [(self.markets[0], rows, EVERY)]
        cap = self.storage.cap
        market = rows // cap
        first, last = int(market[0]), int(market[-1])
        if first == last and (len(rows) < 3 or not (market != first).any()):
            return [(self.markets[first], rows - first * cap, EVERY)]
        counts = np.bincount(market, minlength=len(self.markets))
        bounds = np.cumsum(counts).tolist()
        held = counts.nonzero()[0].tolist()
        if not (market[1:] < market[:-1]).any():  # ascending by market: slices
            local = rows - market * cap
            out = []
            for k in held:
                at = slice(bounds[k] - int(counts[k]), bounds[k])
                out.append((self.markets[k], local[at], at))
            return out
        order = np.argsort(market, kind="stable")
        local = rows.take(order)
        local -= market.take(order) * cap
        out = []
        for k in held:
            start = bounds[k] - int(counts[k])
            out.append((self.markets[k], local[start : bounds[k]], order[start : bounds[k]]))
        return out

    def _uniform(self, purpose: str, rows: np.ndarray, dtype: type = np.float64) -> np.ndarray:
        parts = self._each_market(rows)
        if len(parts) == 1:
            return getattr(parts[0][0].streams, purpose).random(len(rows), dtype=dtype)
        out = np.empty(len(rows), dtype=dtype)
        for market, local, at in parts:
            out[at] = getattr(market.streams, purpose).random(len(local), dtype=dtype)
        return out

    def _gammas(self, purpose: str, rows: np.ndarray, shape: np.ndarray) -> np.ndarray:
        out = np.empty(len(rows))
        for market, _, at in self._each_market(rows):
            out[at] = getattr(market.streams, purpose).gamma(shape[at])
        return out

    def _by_firm(self, name: str, firm: np.ndarray, rows: np.ndarray) -> np.ndarray:
        arrays = [getattr(market, name) for market in self.markets]
        width = len(arrays[0])
        code = (rows // self.storage.cap) * width
        code += firm
        code += np.where(firm < 0, width, 0)  # NONE: the last entry, as take(-1) gives
        return np.concatenate(arrays).take(code)

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

    def any_assortment(self) -> bool:
        return any(market.assortment for market in self.markets)

    def _reopened(self, rows: np.ndarray, week: int) -> np.ndarray:
        out = np.zeros(len(rows), dtype=bool)
        for market, local, at in self._each_market(rows):
            out[at] = market._reopened(local, week)
        return out

    def _factors(self, rows: np.ndarray, factor: Any) -> np.ndarray | None:
        """Per market ``factor(market, local, at)`` (an array or None), ones where None."""
        out = None
        for market, local, at in self._each_market(rows):
            part = factor(market, local, at)
            if part is not None:
                if out is None:
                    out = np.ones(len(rows))
                out[at] = part
        return out

    def _lapse_factor(self, rows: np.ndarray, week: int) -> np.ndarray | None:
        return self._factors(rows, lambda market, local, at: market._lapse_factor(local, week))

    def _climb_factor(
        self, rows: np.ndarray, primary: np.ndarray | int, week: int
    ) -> np.ndarray | None:
        def factor(market: Any, local: np.ndarray, at: Any) -> np.ndarray | None:
            own = primary if isinstance(primary, int | np.integer) else primary[at]
            return market._climb_factor(local, own, week)

        return self._factors(rows, factor)

    def _rewards_earned(
        self, week: int, rows: np.ndarray, firm: np.ndarray, revenue: np.ndarray
    ) -> np.ndarray | None:
        out = None
        for market, local, at in self._each_market(rows):
            part = market._rewards_earned(week, local, firm[at], revenue[at])
            if part is not None:
                if out is None:
                    out = np.zeros(len(rows))  # earning nothing back: paid - 0.0 is paid
                out[at] = part
        return out

    def _record_add(self, name: str, week: int, firm: np.ndarray, rows: np.ndarray) -> None:
        for market, _, at in self._each_market(rows):
            market.recorder.add(name, week, firm[at], self.F)

    def _count_unhappy(self, rows: np.ndarray, old: np.ndarray) -> None:
        for market, local, at in self._each_market(rows):
            market._count_unhappy(local, old[at])

    def _add_ever_bought(self, rows: np.ndarray, firm: np.ndarray) -> None:
        for market, local, at in self._each_market(rows):
            market._add_ever_bought(local, firm[at])

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

    def _count_primary_orders(
        self, week: int, b: np.ndarray, new: tuple[slice, slice], with_primary: tuple[slice, slice]
    ) -> None:
        for market, local, at in self._each_market(b):
            inside = np.zeros(len(b), dtype=bool)
            inside[at] = True
            starting = sum(int(inside[part].sum()) for part in new)
            at_primary = sum(int(inside[part].sum()) for part in with_primary)
            market.recorder.market["orders_with_primary"][week] += len(local) - starting
            market.recorder.market["orders_at_primary"][week] += at_primary

    def _exit(self, week: int, rows: np.ndarray) -> None:
        for market, local, _ in self._each_market(rows):
            market._exit(week, local)

    def _held_costs(self, rows: np.ndarray, firm: np.ndarray) -> np.ndarray:
        out = np.zeros(len(rows))
        for market, local, at in self._each_market(rows):
            out[at] = market._held_costs(local, firm[at])
        return out

    def _staff_weights(self, rows: np.ndarray, orders_per_week: np.ndarray) -> np.ndarray:
        out = np.zeros((3, len(rows)))
        for market, local, at in self._each_market(rows):
            out[:, at] = market._staff_weights(local, orders_per_week[at])
        return out

    def _exits_of(self, seg: np.ndarray, rows: np.ndarray) -> np.ndarray:
        tables = [market._segment_exits() for market in self.markets]
        code = (rows // self.storage.cap) * len(tables[0])
        code += seg
        return np.concatenate(tables).take(code)

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
        focal_index = np.cumsum(old == 0) - 1  # each focal ending's column of ``tail``
        for market, local, at in self._each_market(rows):
            own_old = old[at]
            market._record_defections(
                week,
                local,
                own_old,
                reason[at],
                chance[at],
                rung[at],
                None if to_firm is None else to_firm[at],
                tail[:, focal_index[at][own_old == 0]],
                renewal if isinstance(renewal, bool) else renewal[at],
            )

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
        keep = self._traced(rows)
        if not len(keep):
            return
        firm, rung, amount = (_pick(x, keep) for x in (firm, rung, amount))
        for market, local, at in self._each_market(rows.take(keep)):
            market._trace(week, event, local, _pick(firm, at), _pick(rung, at), _pick(amount, at))


def _pick(x: Any, at: Any) -> Any:
    """``x`` at ``at`` if it is an array (aligned with the rows), else ``x``."""
    return x[at] if isinstance(x, np.ndarray) else x
