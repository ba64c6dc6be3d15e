"""What one replication records: weekly counts per firm, the ladder, defection events, a trace.

Only plain numpy arrays; turning them into tables is the job of :mod:`relsim.results`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from relsim.domain import REASONS, RUNGS
from relsim.model import losses

WEEKLY_COUNTS: tuple[str, ...] = (
    "customers",  # customers whose primary firm this is, end of week
    "prospects",  # customers in the market who never bought from this firm
    "orders",
    "acquired",  # relationships begun (new primary firm)
    "defections",  # relationships ended (customers lost and endings won back)
    "renewals",  # contract holders' renewals due
    "renewal_weeks",  # the periods of those renewals, in weeks (churn on any calendar)
    "contract_customers",  # customers holding a contract with this firm, end of week
    "problems",
    "voiced_problems",
    "leads",
)
MARKET_RECORDS: tuple[str, ...] = (
    "in_market",
    "births",
    "exits",
    "orders_with_primary",  # orders by customers who have a primary firm
    "orders_at_primary",  # ... of which placed with that primary firm (concentration)
)
RELATIONSHIP_RECORDS: tuple[str, ...] = (
    "product_quality",  # the firm's product quality in effect at the end of the week
    "mean_satisfaction",  # mean over the firm's customers, end of week (NaN without any)
    "mean_trust",  # mean over the firm's customers, end of week (NaN without any)
    "customer_surplus",  # customers' value received minus price paid on the week's orders
    "surplus_unconverted_orders",  # orders whose customers have no price weight
)
"""Weekly records per firm of the relationship principles (trust, mutual benefit); the
surplus is recorded for the focal firm's orders."""
TRACE_EVENTS: tuple[str, ...] = (
    "born",
    "lead",
    "purchase",
    "problem",
    "rung_up",
    "rung_down",
    "acquired",
    "defection",
    "exit",
)
BORN, LEAD, PURCHASE, PROBLEM, RUNG_UP, RUNG_DOWN, ACQUIRED, DEFECTION, EXIT = range(
    len(TRACE_EVENTS)
)


class Recorder:
    """Accumulates the records of the reported weeks."""

    def __init__(
        self, weeks: int, n_firms: int, service: tuple[str, ...] = (), warmup_weeks: int = 0
    ):
        self.weeks = weeks
        # customers per firm in each warm-up week: the steady-state diagnostic
        self.warmup_customers = np.zeros((warmup_weeks, n_firms), dtype=np.int64)
        self.counts = {name: np.zeros((weeks, n_firms), dtype=np.int64) for name in WEEKLY_COUNTS}
        self.ladder = np.zeros((weeks, n_firms, len(RUNGS)), dtype=np.int64)
        self.market = {name: np.zeros(weeks, dtype=np.int64) for name in MARKET_RECORDS}
        self.relationship = {name: np.zeros((weeks, n_firms)) for name in RELATIONSHIP_RECORDS}
        self.service = {name: np.zeros(weeks) for name in service}
        self._defections = ColumnBuffer(DEFECTION_COLUMNS)
        self._restarts = ColumnBuffer(RESTART_COLUMNS)
        # the focal firm's ended relationships' exposures, a (margin, rest) pair per call: no
        # buffer to grow and copy (its copies were the weekly peak), priced chunk by chunk
        self._lost: list[tuple[np.ndarray, np.ndarray]] = []
        self._trace = ColumnBuffer(TRACE_COLUMNS)
        self._journeys = ColumnBuffer(JOURNEY_COLUMNS)

    def add(self, name: str, week: int, firm: np.ndarray, n_firms: int) -> None:
        """Count events per firm (``firm`` holds one firm code per event)."""
        if 0 <= week < self.weeks and len(firm):
            self.counts[name][week] += np.bincount(firm, minlength=n_firms)

    def add_one(self, name: str, week: int, firm: int, count: int) -> None:
        """Count ``count`` events of one firm (:meth:`add` without a firm code per event)."""
        if 0 <= week < self.weeks:
            self.counts[name][week, firm] += count

    def defections(
        self,
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
        """Record defection events (only in reported weeks); ``tail`` is what the focal firm's
        ended relationships' continuations were exposed to, in order (the rows of
        :data:`relsim.model.continuation.EXPOSURES`), priced into their value lost when the run
        ends. Rivals' relationships have no value lost: their costs of serving (staff, levels)
        are not modelled, so their net value is unknown (NaN). ``to_firm``: the firms moved to,
        or one code for all (NONE: drift-offs). ``renewal``: the endings that came at a contract
        renewal (cancellations, doing without, switching at renewal)."""
        if not (0 <= week < self.weeks) or not len(customer):
            return
        self.counts["defections"][week] += np.bincount(firm, minlength=n_firms)
        self._defections.append(
            (week, customer, firm, reason, chance, rung, tenure, to_firm, renewal, False, np.nan),
            len(customer),
        )
        if tail.shape[1]:
            # the ties' and memberships' costs are known now: kept netted off the margin
            self._lost.append((tail[0] - tail[1], tail[2:].astype(np.float32)))

    def defection_rows(
        self, values: tuple[np.ndarray, ...], lost: tuple[np.ndarray, np.ndarray] | None
    ) -> None:
        """Defection rows recorded elsewhere (a pass of markets gathers them for all its
        markets): the columns of :data:`DEFECTION_COLUMNS` in order, and the focal ones'
        exposures as :meth:`defections` keeps them (None: none of them focal)."""
        self._defections.append(values, len(values[0]))
        if lost is not None:
            self._lost.append(lost)

    def kept_rows(self, kind: str, values: tuple[np.ndarray, ...]) -> None:
        """Rows of the trace (``kind`` "trace") or the journeys ("journeys") recorded
        elsewhere (a pass of markets gathers them for all its markets): the columns of
        :data:`TRACE_COLUMNS` or :data:`JOURNEY_COLUMNS` in order."""
        buffer = self._trace if kind == "trace" else self._journeys
        buffer.append(values, len(values[0]))

    def restarts(self, week: int, customer: np.ndarray, firm: np.ndarray) -> None:
        """Relationships begun by customers who had bought from that firm before (reported
        weeks): the candidates for winning an ending back."""
        if 0 <= week < self.weeks and len(customer):
            self._restarts.append((week, customer, firm), len(customer))

    def restart_arrays(self) -> dict[str, np.ndarray]:
        return self._restarts.columns()

    def trace(
        self,
        week: int,
        event: int,
        customer: np.ndarray,
        firm: np.ndarray | int,
        rung: np.ndarray | int,
        amount: np.ndarray | float = 0.0,
    ) -> None:
        """Keep events of traced customers (callers pass the traced subset)."""
        n = len(customer)
        if not n:
            return
        self._trace.append((week, customer, event, firm, rung, amount), n)

    def defection_arrays(self) -> dict[str, np.ndarray]:
        return self._defections.columns()

    def price_defections(
        self, price: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    ) -> dict[str, np.ndarray]:
        """The defection columns with the focal firm's value lost priced (``price``: a
        :meth:`RunningCosts.price` of the focal firm's customers), chunk by chunk as they were
        recorded (a (7, n) float64 copy of every exposure would be the end of a run's peak).
        The exposures are freed before the run's tables are built."""
        defections = self._defections.columns()
        focal = (defections["firm"] == 0).nonzero()[0]
        lost = np.empty(len(focal))
        done = 0
        chunks, self._lost = self._lost[::-1], []
        while chunks:  # oldest first; each chunk freed once priced
            margin_less_held, rest = chunks.pop()
            n = len(margin_less_held)
            held = np.zeros(n)  # already netted off the margin
            exposure = np.vstack([margin_less_held, held, rest], dtype=float)
            margin, costs = price(np.zeros(n, np.intp), exposure)
            lost[done : done + n] = margin - costs
            done += n
        defections["value_lost"][focal] = lost
        return defections

    def settle_losses(
        self, defections: dict[str, np.ndarray], window: int, n_firms: int
    ) -> np.ndarray:
        """Mark the endings won back (:func:`relsim.model.losses.won_back`) in ``defections``
        and return the customers lost per reported week, firm and reason (weeks, firms,
        reasons), counted in chunks."""
        losses.won_back(
            defections, self._restarts.columns(), window, n_firms, defections["won_back"]
        )
        self._restarts = ColumnBuffer(RESTART_COLUMNS)
        n_reasons = len(REASONS)
        cells = self.weeks * n_firms * n_reasons
        counts = np.zeros(cells, dtype=np.int64)
        n = len(defections["week"])
        for start in range(0, n, losses.CHUNK):
            part = slice(start, min(start + losses.CHUNK, n))
            lost = ~defections["won_back"][part]
            cell = defections["week"][part][lost].astype(np.intp) * n_firms
            cell += defections["firm"][part][lost]
            cell *= n_reasons
            cell += defections["reason"][part][lost]
            counts += np.bincount(cell, minlength=cells)
        return counts.reshape(self.weeks, n_firms, n_reasons)

    def trace_arrays(self) -> dict[str, np.ndarray]:
        return self._trace.columns()

    def journeys(self, week: int, customer: np.ndarray, firm: np.ndarray, rung: np.ndarray) -> None:
        """Where each traced customer in the market stands at the end of a reported week."""
        if 0 <= week < self.weeks and len(customer):
            self._journeys.append((week, customer, firm, rung), len(customer))

    def journey_arrays(self) -> dict[str, np.ndarray]:
        return self._journeys.columns()


DEFECTION_COLUMNS: dict[str, type] = {
    "week": np.int16,
    "customer": np.int32,
    "firm": np.int8,
    "reason": np.int8,
    "chance": np.bool_,
    "rung": np.int8,
    "tenure_weeks": np.int16,  # weeks are int16: a tenure within a run fits
    "to_firm": np.int8,
    "renewal": np.bool_,  # ended at a contract renewal
    "won_back": np.bool_,  # switched back to the firm within the loss window (set at the end)
    "value_lost": np.float64,  # the focal firm's: priced when the run ends; rivals': NaN
}

RESTART_COLUMNS: dict[str, type] = {
    "week": np.int16,
    "customer": np.int32,
    "firm": np.int8,
}

TRACE_COLUMNS: dict[str, type] = {
    "week": np.int16,
    "customer": np.int32,
    "event": np.int8,
    "firm": np.int8,
    "rung": np.int8,
    "amount": np.float64,
}

JOURNEY_COLUMNS: dict[str, type] = {
    "week": np.int16,
    "customer": np.int32,
    "firm": np.int8,  # primary firm, NONE without one
    "rung": np.int8,
}


class ColumnBuffer:
    """Growable typed columns: events are copied in, the arrays grow by a quarter when full.

    Cheaper than a list of small arrays per week (no per-chunk object overhead), and the
    finished columns are views, so there is no concatenation copy at the end.
    """

    def __init__(self, columns: dict[str, type], capacity: int = 1024):
        self.size = 0
        self.data = {name: np.empty(capacity, dtype=dtype) for name, dtype in columns.items()}

    def append(self, values: tuple[object, ...], n: int) -> None:
        """Append ``n`` events; each value is an array of length ``n`` or a scalar."""
        end = self.size + n
        capacity = len(next(iter(self.data.values())))
        if end > capacity:
            grown = max(end, capacity + capacity // 4)
            for name, column in self.data.items():
                bigger = np.empty(grown, dtype=column.dtype)
                bigger[: self.size] = column[: self.size]
                self.data[name] = bigger
        for column, value in zip(self.data.values(), values, strict=True):
            column[self.size : end] = value
        self.size = end

    def columns(self) -> dict[str, np.ndarray]:
        """The recorded events, one array (a view) per column."""
        return {name: column[: self.size] for name, column in self.data.items()}
