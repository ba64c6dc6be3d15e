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
from functools import partial
from typing import Any

import numpy as np

from relsim.domain import RUNGS
from relsim.model import records as rec
from relsim.model.economics import sum_by_firm
from relsim.model.population import NONE

N_RUNGS = len(RUNGS)


class PassTallies:
    """The per-market tallies of a pass (module docstring). Needs ``markets``, ``storage``,
    ``c``, ``p``, ``F``, ``W``, ``any_contractual`` and the pass's ``_trace`` and
    ``_each_market``."""

    def _stack_tallies(self) -> None:
        """Make every market's tallies views of arrays with a market axis."""
        markets = self.markets
        counts = markets[0].recorder.counts
        self._counts = {
            n: stack_views(markets, lambda m, n=n: m.recorder.counts, n) for n in counts
        }
        records = markets[0].recorder.market
        self._records = {
            n: stack_views(markets, lambda m, n=n: m.recorder.market, n) for n in records
        }
        relationship = markets[0].recorder.relationship
        self._relationship = {
            n: stack_views(markets, lambda m, n=n: m.recorder.relationship, n) for n in relationship
        }
        self._ladder = stack_views(markets, lambda m: m.recorder.__dict__, "ladder")
        self._warmup = stack_views(markets, lambda m: m.recorder.__dict__, "warmup_customers")
        self._unhappy = stack_views(markets, lambda m: m.__dict__, "unhappy")
        self._ever_bought = stack_views(markets, lambda m: m.__dict__, "ever_bought")
        self._weeks = markets[0].recorder.weeks
        self._revenue = stack_views(markets, lambda m: m.ledger.__dict__, "revenue")
        self._cogs = stack_views(markets, lambda m: m.ledger.costs, "cost_of_goods")

    def _by_market_and_firm(self, rows: np.ndarray, firm: np.ndarray) -> np.ndarray:
        """How many of ``rows`` each market has with each firm ``firm``, shape (K, F)."""
        code = rows // self.storage.cap
        code *= self.F
        code += firm
        return np.bincount(code, minlength=len(self.markets) * self.F).reshape(-1, self.F)

    def _by_market(self, rows: np.ndarray) -> np.ndarray:
        """How many of ``rows`` each market has."""
        return np.bincount(rows // self.storage.cap, minlength=len(self.markets))

    def _book_order_money(
        self, week: int, rows: np.ndarray, firm: np.ndarray, revenue: np.ndarray, cogs: np.ndarray
    ) -> None:
        """Every market's orders in its ledger, summed by market and firm at once (whole
        cents: exact in any order, so each market's totals are those it books alone)."""
        code = rows // self.storage.cap
        code *= self.F
        code += firm
        cells = len(self.markets) * self.F
        self._revenue[:, week] += sum_by_firm(code, revenue, cells).reshape(-1, self.F)
        self._cogs[:, week] += sum_by_firm(code, cogs, cells).reshape(-1, self.F)

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

    def _census_records(self, week: int, counts: np.ndarray, sums: dict[str, np.ndarray]) -> None:
        """Every market's ladder, customers and means of the week from its cells' counts and
        sums (``counts``, ``sums``: shape (K, cells)), as
        :meth:`relsim.model.census.Census._record_census` records one market's."""
        K, F = len(self.markets), self.F
        ladder = counts[:, N_RUNGS:].reshape(K, F, N_RUNGS).copy()
        live = np.array([market.c.live for market in self.markets])
        ladder[:, :, 0] = live[:, None] - self._ever_bought
        for k, market in enumerate(self.markets):
            market.last_ladder = ladder[k]
        customers = ladder[:, :, 1:].sum(axis=2)
        if week < 0:
            self._warmup[:, week + self.W] = customers
            return
        self._ladder[:, week] = ladder
        self._counts["customers"][:, week] = customers
        self._counts["prospects"][:, week] = ladder[:, :, 0]
        c = self.c
        if self.any_contractual:
            primary = c.primary
            holders = (self.p.contractual[c.segment] & (primary != NONE)).nonzero()[0]
            self._counts["contract_customers"][:, week] = self._by_market_and_firm(
                holders, primary.take(holders)
            )
        self._records["in_market"][:, week] = live
        traced = c.traced.nonzero()[0]  # few: the live ones among them found after
        traced = traced[c.alive.take(traced)]
        if len(traced):
            values = (week, c.id.take(traced), c.primary.take(traced), c.rung.take(traced))
            market = traced // self.storage.cap
            self._trace_rows["journeys"].append((*values, market), len(traced))
        self._relationship["product_quality"][:, week] = [m.quality for m in self.markets]
        have = customers > 0
        for name, by_cell in sums.items():
            total = by_cell[:, N_RUNGS:].reshape(K, F, N_RUNGS).sum(axis=2)
            # divided straight into the week's rows, NaN where a firm has no customers
            rows = self._relationship[f"mean_{name}"][:, week]
            rows.fill(np.nan)
            np.divide(total, customers, out=rows, where=have)

    def _collect_traces(self, journeys: bool = False) -> None:
        """From now on every market's traced events (and, with ``journeys``, the weekly
        journeys) go to one buffer of the pass each, with their market: one append for the
        pass, not a question to each market. What a market records itself (its own events,
        its own census) goes there through its recorder, so each market's rows stay in their
        order; :meth:`_hand_over_traces` gives each market its own."""
        kinds: dict[str, tuple[dict[str, type], Callable[..., None]]] = {
            "trace": (rec.TRACE_COLUMNS, self._trace_of)
        }
        if journeys:
            kinds["journeys"] = (rec.JOURNEY_COLUMNS, self._journeys_of)
        self._trace_rows = {
            kind: rec.ColumnBuffer({**columns, "market": np.int32})
            for kind, (columns, _) in kinds.items()
        }
        for k, market in enumerate(self.markets):
            for kind, (_, keep) in kinds.items():
                setattr(market.recorder, kind, partial(keep, k))

    def _trace_of(
        self,
        k: int,
        week: int,
        event: int,
        customer: np.ndarray,
        firm: np.ndarray | int,
        rung: np.ndarray | int,
        amount: np.ndarray | float = 0.0,
    ) -> None:
        """Market ``k``'s own :meth:`relsim.model.records.Recorder.trace`, kept by the pass."""
        if len(customer):
            values = (week, customer, event, firm, rung, amount, k)
            self._trace_rows["trace"].append(values, len(customer))

    def _journeys_of(
        self, k: int, week: int, customer: np.ndarray, firm: np.ndarray, rung: np.ndarray
    ) -> None:
        """Market ``k``'s own :meth:`relsim.model.records.Recorder.journeys`, kept by the pass."""
        if 0 <= week < self._weeks and len(customer):
            self._trace_rows["journeys"].append((week, customer, firm, rung, k), len(customer))

    def _hand_over_traces(self) -> None:
        """Each market's traced events and journeys, in their order, to its recorder."""
        for kind, buffer in self._trace_rows.items():
            columns = buffer.columns()
            rows = _by_market(columns.pop("market"), len(self.markets))
            for market, at in zip(self.markets, rows, strict=True):
                delattr(market.recorder, kind)  # the recorder's own method again
                if len(at):
                    market.recorder.kept_rows(kind, tuple(x.take(at) for x in columns.values()))
        del self._trace_rows

    def _collect_defections(self) -> None:
        """From now on every market's defection rows go to one buffer of the pass, with their
        market: the week's endings in one append for the pass, not one per market. What a
        market records itself (a reputation shock's endings, in its own event) goes there
        too, through its recorder, so each market's rows stay in their order;
        :meth:`_hand_over_defections` gives each market its own."""
        self._defection_rows = rec.ColumnBuffer({**rec.DEFECTION_COLUMNS, "market": np.int32})
        self._lost_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for k, market in enumerate(self.markets):
            market.recorder.defections = partial(self._defections_of, k)

    def _defections_of(
        self,
        k: int,
        week: int,
        customer: np.ndarray,
        firm: np.ndarray,
        reason: np.ndarray,
        chance: np.ndarray,
        rung: np.ndarray,
        tenure: np.ndarray,
        to_firm: np.ndarray | int,
        tail: np.ndarray,
        n_firms: int,
        renewal: np.ndarray | bool = False,
    ) -> None:
        """Market ``k``'s own :meth:`relsim.model.records.Recorder.defections`, kept by the pass."""
        if not (0 <= week < self._weeks) or not len(customer):
            return
        self._counts["defections"][k, week] += np.bincount(firm, minlength=n_firms)
        values = (week, customer, firm, reason, chance, rung, tenure, to_firm, renewal)
        self._keep_defections(values, k, tail, np.full(tail.shape[1], k))

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
        """The endings' rows of every market's defections table (``tail``: the focal ones'
        exposures), as :meth:`relsim.model.per_market.OneMarket._record_defections` records
        one market's."""
        if not (0 <= week < self._weeks) or not len(rows):
            return
        c = self.c
        market = rows // self.storage.cap
        self._counts["defections"][:, week] += self._by_market_and_firm(rows, old)
        tenure = week - c.since.take(rows)
        to = to_firm if to_firm is not None else NONE
        values = (week, c.id.take(rows), old, reason, chance, rung, tenure, to, renewal)
        self._keep_defections(values, market, tail, market[old == 0])

    def _keep_defections(
        self, values: tuple[Any, ...], market: Any, tail: np.ndarray, focal: np.ndarray
    ) -> None:
        self._defection_rows.append((*values, False, np.nan, market), len(values[1]))
        if tail.shape[1]:  # the ties' and memberships' costs netted off the margin, as alone
            self._lost_parts.append((focal, tail[0] - tail[1], tail[2:].astype(np.float32)))

    def _hand_over_defections(self) -> None:
        """Each market's defection rows and focal exposures, in their order, to its recorder
        (one part each), which prices them when its run ends as it does alone (element by
        element: parts of any size give the same values)."""
        columns = self._defection_rows.columns()
        rows = _by_market(columns.pop("market"), len(self.markets))
        parts = self._lost_parts or [(np.zeros(0, np.intp), np.zeros(0), np.zeros((0, 0)))]
        focal, margin, rest = (np.concatenate(x, axis=-1) for x in zip(*parts, strict=True))
        lost = _by_market(focal, len(self.markets))
        for market, at, focal_at in zip(self.markets, rows, lost, strict=True):
            del market.recorder.defections  # the recorder's own method again
            if len(at):
                own = None
                if len(focal_at):
                    own = (margin.take(focal_at), rest.take(focal_at, axis=1))
                market.recorder.defection_rows(tuple(x.take(at) for x in columns.values()), own)
        del self._defection_rows, self._lost_parts


def _by_market(market: np.ndarray, K: int) -> list[np.ndarray]:
    """The positions of each market's entries in ``market``, in their order."""
    order = np.argsort(market, kind="stable")
    ends = np.cumsum(np.bincount(market, minlength=K)).tolist()
    return [order[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def stack_views(
    owners: list[Any], holder: Callable[[Any], dict[str, Any]], name: str
) -> np.ndarray:
    """Each owner's array ``holder(owner)[name]`` made a view of one stacked array (returned)."""
    stacked = np.stack([holder(owner)[name] for owner in owners])
    for k, owner in enumerate(owners):
        holder(owner)[name] = stacked[k]
    return stacked
