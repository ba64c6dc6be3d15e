"""Value after the horizon, net: what a customer keeps bringing and what serving them keeps costing.

A run ends with customers still buying. Their value after the horizon continues each one's
end state (rung, bonds, satisfaction, trust, prices, rivals' offers: all held fixed) with the
survival the engine's own hazards give it. Counting only the margin would credit a strategy
with future orders and charge it none of the rewards, staff, programs and ties that keep those
orders coming, so the continuation carries the costs too:

``value_i = A_i x (m_i b_i - k_i)``

* ``A_i`` the discounted expected number of periods the relationship lasts from the first
  period after the horizon (:func:`annuity`), ``m_i b_i`` the expected margin per period;
* ``k_i`` the customer's running cost per period, the sum of:

  - **rewards** and **price-match refunds** on the continued orders: the firm's rewards and
    refunds over its order revenue in the horizon's final year, times the customer's
    expected order revenue;
  - **ties and memberships** the customer holds: a structural tie's running cost, a club
    membership's cost less its fee (from the strategy's own terms);
  - **staff** (service desk, contact centre, relationship managers with the senior manager):
    each pool's weekly cost in the final year, spread over the end state's customers in
    proportion to the hours their relationship level asks of the pool (desk: reactive and up,
    per expected order; contact centre: follow-up calls per expected order from accountable,
    outreach from proactive, club events for members; managers: partnership contacts), evenly
    when nobody asks;
  - **the programs the strategy keeps running** (the points program's fixed cost, the club's
    fixed cost, the everyday retention tools): their weekly cost in the final year per
    customer-week.

  Not continued (:data:`NOT_CONTINUED`): acquisition spend and structural set-ups (the
  continuation brings in no new customers and sets up no new ties), the cost of goods (already
  in the margin) and the firm's overhead (the same under every strategy).

Fixed costs are continued per customer-week: they run as long as the customers they serve,
shrinking with the base, because the continuation adds no new customers to pay them for. A
defection's value lost is the same continuation for the relationship that ended, priced at the
same final-year running costs, so the two figures add up.

The engine gathers what each customer's continuation is exposed to (the rows of
:data:`EXPOSURES`, ``Residual._tail``); :class:`RunningCosts` prices it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TAIL_WINDOW_WEEKS = 52
"""The horizon's final weeks whose running costs are continued: a year, so that whatever
recurs within a year (contract renewals, club reviews and events, rewards that fall due
together) is counted once per cycle, not by where the window happens to cut it."""
EXPOSURES: tuple[str, ...] = (
    "margin",  # discounted expected margin
    "known_costs",  # discounted running costs of the ties and memberships held
    "weeks",  # discounted expected customer-weeks
    "revenue",  # discounted expected order revenue
    "desk",  # discounted expected weight-weeks of each staff pool
    "contacts",
    "managers",
)
"""What a customer's continuation is exposed to: the rows of ``Residual._tail``'s result."""
STAFF_POOLS: dict[str, tuple[str, ...]] = {
    "desk": ("desk",),
    "contacts": ("contacts",),
    "managers": ("managers", "senior_manager"),
}
"""Staff pools and the cost accounts each one carries (the senior manager oversees the
managers' key accounts)."""
PER_CUSTOMER_WEEK: tuple[str, ...] = (
    "program",
    "club",
    "fulfilment",
    "quality",
    "assortment",
    "database",
    "campaigns",
)
"""Cost accounts continued per customer-week (the club's per-member part is taken out and
charged to members)."""
PER_ORDER: tuple[str, ...] = ("rewards", "price_match")
"""Cost accounts continued per unit of order revenue (they arise with orders)."""
NOT_CONTINUED: tuple[str, ...] = ("cost_of_goods", "acquisition", "structural_setup", "fixed")
"""Accounts the continuation does not carry: goods are in the margin; it acquires nobody and
sets up no new ties; the firm's overhead (``fixed``) is the same under every strategy and does
not shrink or grow with its customers, so continuing it would add the same amount to every
strategy (or, spread per customer-week, charge a strategy for keeping customers longer)."""


def annuity(
    survival: np.ndarray, discount_per_period: np.ndarray | float, first: np.ndarray | float
) -> np.ndarray:
    """Discounted expected number of periods after the horizon: ``sum_{k>=0} r**(k+1) D**k``
    times the discount ``first`` of the first period after it, i.e. ``r / (1 - r D) x first``.

    A payment at the end of each period survived (Gupta & Lehmann's convention): the first one
    needs one survival, as the engine's relationships must survive the first hazard after the
    horizon before they buy again."""
    return survival / (1.0 - survival * discount_per_period) * first


def stepped_annuity(
    exits: np.ndarray,
    keep: np.ndarray,
    discount: float,
    week: int,
    period: np.ndarray,
    offset: np.ndarray,
) -> np.ndarray:
    """:func:`annuity` per week for periodic death opportunities, discounted to week 0: the
    payment of week ``week + 1 + k`` needs ``k + 1`` weeks of surviving ``exits`` and every
    opportunity in the weeks ``week + 1 .. week + 1 + k`` (weeks ``w`` with ``(w - offset) %
    period == 0``), each kept with ``keep ** period``. With ``x = exits D`` and ``m`` the weeks
    before the next opportunity: ``D^(week+1) exits [G(m) + x^m K G(period) / (1 - K
    x^period)]``, ``G(n) = 1 + x + ... + x^(n-1)``. A period of 1 gives :func:`annuity`."""
    period = np.asarray(period, dtype=np.int64)
    m = (np.asarray(offset, dtype=np.int64) - (week + 1)) % period
    x = exits * discount
    big_k = keep ** period.astype(float)

    def geometric(n: np.ndarray) -> np.ndarray:
        return np.where(np.abs(1.0 - x) < 1e-12, n, (1.0 - x**n) / np.where(x == 1.0, 0.5, 1.0 - x))

    tail = x**m * big_k * geometric(period) / (1.0 - big_k * x**period)
    return discount ** (week + 1) * exits * (geometric(m) + tail)


@dataclass(frozen=True)
class RunningCosts:
    """The running costs a continuation is priced at, per firm: per customer-week, per unit of
    order revenue (rewards) and per weight-week of each staff pool."""

    per_customer_week: np.ndarray  # (F,)
    reward_share: np.ndarray  # (F,)
    per_staff_weight: np.ndarray  # (3, F)

    def price(self, firm: np.ndarray, exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Continued margin and continued costs of each customer (``exposure``: the rows of
        :data:`EXPOSURES`, one column per customer; ``firm``: whose customer it is)."""
        margin, known, weeks, revenue = exposure[0], exposure[1], exposure[2], exposure[3]
        costs = known + weeks * self.per_customer_week.take(firm)
        costs = costs + revenue * self.reward_share.take(firm)
        for pool in range(len(STAFF_POOLS)):
            costs = costs + exposure[4 + pool] * self.per_staff_weight[pool].take(firm)
        return margin, costs


def final_year(
    costs: dict[str, np.ndarray],
    revenue: np.ndarray,
    customers: np.ndarray,
    member_weeks: np.ndarray,
    fee_per_week: np.ndarray,
    member_cost_per_week: np.ndarray,
    staff_weight: np.ndarray,
    paying_weeks: np.ndarray | None = None,
) -> RunningCosts:
    """The running costs of the horizon's final :data:`TAIL_WINDOW_WEEKS` weeks, per firm.

    ``costs`` and ``revenue``: the ledger's weekly accounts (cents, (H, F)); ``customers``:
    each firm's customers at the end of each week (H, F); ``member_weeks``: club members per
    firm in each week (H, F); ``fee_per_week`` and ``member_cost_per_week``: each firm's club
    fee and running cost per member (F,); ``staff_weight``: the end state's total weight of
    each staff pool (3, F), the hours a week its customers ask of it (module docstring);
    ``paying_weeks``: the members who paid the fee in each week (H, F; default: every
    member, as without free weeks).
    """
    window = slice(max(0, len(revenue) - TAIL_WINDOW_WEEKS), len(revenue))

    def total(kind: str) -> np.ndarray:
        return costs[kind][window].sum(axis=0) / 100.0

    weeks = max(window.stop - window.start, 1)
    customer_weeks = customers[window].sum(axis=0).astype(float)
    members = member_weeks[window].sum(axis=0)
    pooled = sum(total(kind) for kind in PER_CUSTOMER_WEEK) - members * member_cost_per_week
    paying = members if paying_weeks is None else paying_weeks[window].sum(axis=0)
    order_revenue = revenue[window].sum(axis=0) / 100.0 - paying * fee_per_week
    per_weight = np.zeros_like(staff_weight, dtype=float)
    for pool, kinds in enumerate(STAFF_POOLS.values()):
        weekly = sum(total(kind) for kind in kinds) / weeks
        asked = staff_weight[pool] > 0
        per_weight[pool] = np.divide(weekly, staff_weight[pool], where=asked, out=per_weight[pool])
        # a pool nobody's level asks for is still paid: it runs with the base
        pooled = pooled + np.where(asked, 0.0, weekly * weeks)
    return RunningCosts(
        per_customer_week=_share(pooled, customer_weeks),
        reward_share=_share(sum(total(kind) for kind in PER_ORDER), order_revenue),
        per_staff_weight=per_weight,
    )


def _share(amount: np.ndarray, base: np.ndarray) -> np.ndarray:
    return np.divide(amount, base, out=np.zeros(len(base)), where=base > 0)
