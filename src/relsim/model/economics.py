"""Money: per-firm weekly accounts in integer cents and discounting (the value after the horizon
is :mod:`relsim.model.continuation`'s).

Every amount is rounded to whole cents once, where it arises (an order's revenue, its cost of
goods, a week's spend), and only integers are added afterwards, so revenue minus the costs is
the profit to the cent, per firm and for the market.
"""

from __future__ import annotations

import numpy as np

COST_KINDS: tuple[str, ...] = (
    "cost_of_goods",
    "acquisition",
    "fixed",
    "desk",
    "contacts",
    "managers",
    "senior_manager",
    "rewards",
    "program",
    "club",
    "structural_setup",
    "structural",
    "fulfilment",
    "quality",
    "assortment",
    "price_match",
    "database",
    "campaigns",
)
"""Cost accounts: goods, acquisition and fixed costs; the staff pools of the relationship
levels (service desk, contact centre, relationship managers, senior manager); the bonds:
rewards (points redeemed, regulars' discounts), the points program's fixed cost, the club,
structural set-up investment and structural running cost; and the everyday retention tools:
fulfilment reliability, quality investment, assortment, and the price-match guarantee's
refunds; the customer database's upkeep and the campaigns' contacts and discounts."""


def to_cents(amount: np.ndarray | float) -> np.ndarray:
    """Round money to the nearest whole cent (int64)."""
    return whole_cents(amount).astype(np.int64)


def whole_cents(amount: np.ndarray | float) -> np.ndarray:
    """Money rounded to the nearest whole cent, as float64 numbers of cents: the values of
    :func:`to_cents` (whole numbers below 2**53 are exact in float64), without the integer
    conversion that summing them by firm (bincount weighs float64) would undo."""
    return np.rint(np.asarray(amount, dtype=np.float64) * 100.0)


class Ledger:
    """Weekly accounts per firm for the reported weeks (warm-up weeks are not booked)."""

    def __init__(self, weeks: int, n_firms: int):
        self.revenue = np.zeros((weeks, n_firms), dtype=np.int64)
        self.costs = {kind: np.zeros((weeks, n_firms), dtype=np.int64) for kind in COST_KINDS}

    def book_orders(
        self, week: int, firm: np.ndarray, revenue_cents: np.ndarray, cogs_cents: np.ndarray
    ) -> None:
        """Add orders' revenue and cost of goods (whole cents, integer or float) to their
        firms' accounts for ``week``."""
        n = self.revenue.shape[1]
        self.revenue[week] += sum_by_firm(firm, revenue_cents, n)
        self.costs["cost_of_goods"][week] += sum_by_firm(firm, cogs_cents, n)

    def book(self, week: int, kind: str, cents: np.ndarray) -> None:
        """Add a per-firm cost (cents, shape (F,)) to account ``kind``."""
        self.costs[kind][week] += cents

    def book_focal(self, week: int, kind: str, cents: int | np.integer) -> None:
        """Add the focal firm's (firm 0's) cost in cents to account ``kind``."""
        self.costs[kind][week, 0] += cents

    def book_by_firm(self, week: int, kind: str, firm: np.ndarray, cents: np.ndarray) -> None:
        """Add per-event costs (whole cents, integer or float, one per event, ``firm`` its
        firm) to account ``kind``."""
        self.costs[kind][week] += sum_by_firm(firm, cents, self.revenue.shape[1])

    def total_costs(self) -> np.ndarray:
        return sum(self.costs.values())  # type: ignore[return-value]

    def profit(self) -> np.ndarray:
        """Revenue minus all costs, cents, shape (weeks, F)."""
        return self.revenue - self.total_costs()


def sum_by_firm(firm: np.ndarray, cents: np.ndarray, n_firms: int) -> np.ndarray:
    """Whole cents (integer or float) summed by ``firm`` into ``n_firms`` int64 totals (any
    key below ``n_firms`` will do: a pass of markets sums by market and firm at once)."""
    # Integer sums: bincount's float64 weights are exact for totals below 2**53 cents, and the
    # check keeps that promise honest. Exact in any order, so many orders are summed in
    # LANES partial sums per firm (order i in lane i % LANES): bincount's additions to one
    # firm's total otherwise wait for each other (a third of the time for the grouped orders
    # of a week at a million customers).
    if len(firm) >= LANE_MIN_ORDERS:
        key = np.add(firm, _lane_offsets(len(firm), n_firms), dtype=np.intp)
        lanes = np.bincount(key, weights=cents, minlength=LANES * n_firms)
        totals = lanes.reshape(LANES, n_firms).sum(axis=0)
    else:
        totals = np.bincount(firm, weights=cents, minlength=n_firms)
    if totals.size and np.abs(totals).max() >= 2**53:
        raise OverflowError("weekly revenue beyond 2**53 cents cannot be summed exactly")
    return totals.astype(np.int64)


LANES = 8
"""Partial sums per firm of :func:`sum_by_firm` (whole cents: any order gives its totals)."""

LANE_MIN_ORDERS = 4096
"""Fewer orders than this are summed in one lane (the lanes' fixed cost would not pay)."""

_LANE_OFFSETS: dict[int, np.ndarray] = {}


def _lane_offsets(n: int, n_firms: int) -> np.ndarray:
    """``(i % LANES) * n_firms`` for i < n, kept per number of firms and grown on demand
    (int16: a few bytes per order of the largest week)."""
    held = _LANE_OFFSETS.get(n_firms)
    if held is None or len(held) < n:
        size = max(n, 0 if held is None else len(held) + len(held) // 8)
        held = ((np.arange(size) % LANES) * n_firms).astype(np.int16)
        _LANE_OFFSETS[n_firms] = held
    return held[:n]


def discount_factors(weeks: int, weekly_rate: float) -> np.ndarray:
    """``(1 + d) ** -t`` for reported weeks t = 0 .. weeks-1 (week 0 undiscounted)."""
    return (1.0 + weekly_rate) ** -np.arange(weeks, dtype=np.float64)
