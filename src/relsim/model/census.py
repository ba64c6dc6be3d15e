"""The market's weekly records and the replication's result.

Part of :class:`relsim.model.engine.Market` (a mixin). Each week's end counts customers per
firm and rung (the ladder) and the relationships' means; traced customers' events go to the
recorder; the run's end values the remaining customers and gathers every array into a
:class:`relsim.model.raw_run.RawRun`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from relsim.domain import RUNGS
from relsim.model import continuation, losses
from relsim.model.population import NEVER, NONE
from relsim.model.raw_run import RawRun
from relsim.model.residual import _slices

N_RUNGS = len(RUNGS)

COUNT_SLICE = 65_536
"""Rows per slice of the weekly counts (work buffers of this size are kept between weeks)."""

INT8_CELLS = np.iinfo(np.int8).max + 1
"""The most cells an int8 cell code can number (0 .. 127)."""


class Census:
    """Census of the market (see the module docstring)."""

    def _traced(self, rows: np.ndarray) -> np.ndarray:
        """Positions in ``rows`` of the traced customers (few): callers build the trace's
        columns for these only."""
        return self.c.traced.take(rows).nonzero()[0]

    def _trace(
        self,
        week: int,
        event: int,
        rows: slice | np.ndarray,
        firm: Any = NONE,
        rung: Any = 0,
        amount: Any = 0.0,
    ) -> None:
        """Keep ``event`` for the traced customers among ``rows`` (aligned firm/rung/amount)."""
        c = self.c
        if isinstance(rows, slice):  # the slice's own views: no positions built for it
            keep = c.traced[rows].nonzero()[0]
            if not len(keep):
                return
            ids = c.id[rows].take(keep)
        else:
            keep = self._traced(rows)
            if not len(keep):
                return
            ids = c.id.take(rows.take(keep))
        self.recorder.trace(
            week, event, ids, _pick(firm, keep), _pick(rung, keep), _pick(amount, keep)
        )

    def _count(self, week: int) -> None:
        """The week's census: customers by (primary firm, rung) and, in reported weeks, the
        totals of their satisfaction and trust by the same cells."""
        self._record_census(week, *self._cell_totals(week))

    def _cell_totals(self, week: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Customers per (primary firm + 1, rung) cell, and (reported weeks) the sums of their
        satisfaction and trust by cell, over the rows in slices of :data:`COUNT_SLICE`."""
        c = self.c
        n = c.n
        cells = (self.F + 1) * N_RUNGS
        counts = np.zeros(cells, dtype=np.int64)
        means = ("satisfaction", "trust") if week >= 0 else ()
        sums = {name: np.zeros(cells) for name in means}
        for start in range(0, n, COUNT_SLICE):
            part = slice(start, min(start + COUNT_SLICE, n))
            code = self._cell_codes(part, cells)
            counts += np.bincount(code, minlength=cells)
            for name in means:
                sums[name] += self._cell_sums(name, part, code, cells)
        return counts, sums

    def _cell_codes(self, part: slice, cells: int) -> np.ndarray:
        """Each row's (primary firm + 1, rung) cell, for rows ``part``.

        Through small buffers kept between weeks: bincount converts any index but intp and
        weighs float32 slowly, and fresh full-length conversions would fault in new pages
        every week (or, kept, cost memory per customer). The cell code is built in the
        smallest integer type that holds every cell (int8 for up to 20 firms: three int8
        operations and one widening copy cost a third of three operations on intp)."""
        c = self.c
        small, small_name = (
            (np.int8, "code_int8") if cells <= INT8_CELLS else (np.int16, "code_int16")
        )
        length = part.stop - part.start
        code = self._buffer("code", COUNT_SLICE, np.intp)[:length]
        narrow = self._buffer(small_name, COUNT_SLICE, small)[:length]
        np.add(c.primary[part], 1, out=narrow, dtype=small)
        narrow *= N_RUNGS
        narrow += c.rung[part]
        np.copyto(code, narrow)
        return code

    def _cell_sums(self, name: str, part: slice, code: np.ndarray, cells: int) -> np.ndarray:
        """Field ``name`` of rows ``part`` summed by cell (``code``: their cells)."""
        weights = self._buffer("weights", COUNT_SLICE, np.float64)[: len(code)]
        np.copyto(weights, getattr(self.c, name)[part])
        return np.bincount(code, weights=weights, minlength=cells)

    def _record_census(self, week: int, counts: np.ndarray, sums: dict[str, np.ndarray]) -> None:
        """The ladder, customers and means of the week from the cells' counts and sums."""
        c = self.c
        ladder_counts = counts[N_RUNGS:].reshape(self.F, N_RUNGS).copy()
        ladder_counts[:, 0] = c.live - self.ever_bought
        self.last_ladder = ladder_counts
        customers = ladder_counts[:, 1:].sum(axis=1)
        if week < 0:
            self.recorder.warmup_customers[week + self.W] = customers
        else:
            self._record_counts(week, ladder_counts, customers)
            self._record_relationships(week, sums, customers)

    def _record_counts(self, week: int, ladder_counts: np.ndarray, customers: np.ndarray) -> None:
        """A reported week's ladder, customers, prospects, contract holders, market size and
        the traced customers' journeys."""
        c = self.c
        n = c.n
        recorder = self.recorder
        recorder.ladder[week] = ladder_counts
        recorder.counts["customers"][week] = customers
        recorder.counts["prospects"][week] = ladder_counts[:, 0]
        if self.any_contractual:
            primary = c.primary[:n]
            holders = primary[self.p.contractual[c.segment[:n]] & (primary != NONE)]
            recorder.counts["contract_customers"][week] = np.bincount(holders, minlength=self.F)
        recorder.market["in_market"][week] = c.live
        traced = c.traced[:n].nonzero()[0]  # few: the live ones among them found after
        traced = traced[c.alive.take(traced)]
        recorder.journeys(week, c.id.take(traced), c.primary.take(traced), c.rung.take(traced))

    def _buffer(self, name: str, n: int, dtype: type) -> np.ndarray:
        """A work array of ``n`` elements kept between weeks (reused, never re-faulted)."""
        held = self._buffers.get(name)
        if held is None or len(held) < n:
            held = np.empty(n, dtype=dtype)
            self._buffers[name] = held
        return held[:n]

    def _record_relationships(
        self, week: int, sums: dict[str, np.ndarray], customers: np.ndarray
    ) -> None:
        """Each firm's product quality and its customers' mean satisfaction and trust
        (``sums``: their totals per (primary firm + 1, rung) cell, as counted for the ladder)."""
        F = self.F
        record = self.recorder.relationship
        record["product_quality"][week] = self.quality
        have = customers > 0
        for name, by_cell in sums.items():
            total = by_cell[N_RUNGS:].reshape(F, N_RUNGS).sum(axis=1)
            # divided straight into the week's row, NaN where a firm has no customers
            row = record[f"mean_{name}"][week]
            row.fill(np.nan)
            np.divide(total, customers, out=row, where=have)

    def _result(self, seconds: float) -> RawRun:
        """The run's arrays: the defections priced, losses settled, the focal firm's remaining
        customers valued, and every customer's row gathered by id."""
        c = self.c
        live = c.alive[: c.n].nonzero()[0]
        focal = live[c.primary[live] == 0]
        running = self.running_costs()
        # the defections first: their exposures are freed before the customers are valued
        defections = self.recorder.price_defections(running.price)
        window = self.scenario.switching.loss_window_weeks
        by_reason = self.recorder.settle_losses(defections, window, self.F)
        margin, costs = self._value_remaining(focal, running)
        live_ids, focal_ids = c.id[live], c.id[focal]
        del live, focal  # positions, no longer needed: the output's peak is at its end
        state_bytes = c.nbytes()
        customers = self._gather_customers()
        _settle_lost_week(customers, defections)
        customers["in_market"] = np.zeros(c.next_id, dtype=bool)
        customers["in_market"][live_ids] = True
        customers["residual_margin"] = np.zeros(c.next_id)
        customers["residual_margin"][focal_ids] = margin
        del margin
        customers["residual_costs"] = np.zeros(c.next_id)
        customers["residual_costs"][focal_ids] = costs
        return RawRun(
            scenario=self.scenario,
            strategy=self.strategy,
            weekly_counts=self.recorder.counts,
            by_reason=by_reason,
            ladder=self.recorder.ladder,
            market=self.recorder.market,
            revenue=self.ledger.revenue,
            costs=self.ledger.costs,
            discount=self.discount,
            defections=defections,
            trace=self.recorder.trace_arrays(),
            journeys=self.recorder.journey_arrays(),
            relationship=self.recorder.relationship,
            customers=customers,
            service=self.recorder.service,
            warmup_customers=self.recorder.warmup_customers,
            shocks=self.shock_log,
            bonds=self.bonds.records,
            moves=self.rivalry.moves,
            customer_weeks=self.customer_weeks,
            seconds=seconds,
            meta={"state_bytes": state_bytes},
        )

    def _value_remaining(
        self, focal: np.ndarray, running: continuation.RunningCosts
    ) -> tuple[np.ndarray, np.ndarray]:
        """The focal firm's remaining customers' margin and costs after the horizon, in
        slices: the continuation's (firms x rows) temporaries for every customer at once were
        the run's peak memory (70 bytes per customer with all bonds)."""
        margin, costs = np.empty(len(focal)), np.empty(len(focal))
        done = 0
        for rows in _slices(focal):
            firm = np.zeros(len(rows), np.intp)
            part = running.price(firm, self._tail(rows, firm, self.H - 1))
            margin[done : done + len(rows)], costs[done : done + len(rows)] = part
            done += len(rows)
        return margin, costs

    def _gather_customers(self) -> dict[str, np.ndarray]:
        """Every customer's row by id. Ids are 0 .. next_id-1, each in exactly one place:
        everything is scattered into position, the archive first (released part by part),
        then the rows still held (released field by field), so the state and its copy are
        never held whole at once; unarchived gone rows are dropped first, before the output
        is allocated, so the peak stays low."""
        c = self.c
        ids = c.id[: c.n].copy()
        c.drop_unarchived()
        customers = {name: np.empty(c.next_id, dtype=dtype) for name, dtype in c.archived_dtypes()}
        while c.archive:
            part = c.archive.pop()
            for name, values in part.items():
                customers[name][part["id"]] = values
        for name, values in c.drain():
            customers[name][ids] = values
        return customers


def _pick(x: Any, keep: np.ndarray) -> Any:
    """``x`` at positions ``keep`` if it is an array (aligned with a trace's rows), else ``x``."""
    return x.take(keep) if isinstance(x, np.ndarray) else x


def _settle_lost_week(customers: dict[str, np.ndarray], defections: dict[str, np.ndarray]) -> None:
    """``lost_week``: the first loss to the focal firm after acquisition. The engine keeps the
    first ending; in the horizon, an ending won back was no loss, so the week becomes the
    customer's first focal ending there that was not won back (or never). Endings of the
    warm-up are not recorded and stay as they are."""
    d = defections
    lost = (d["firm"] == 0) & ~d["won_back"]
    losses.first_loss_week(customers["lost_week"], d["customer"], d["week"], lost, NEVER)
