"""Customers lost, told apart from relationships restarted; churn as customers lost per year.

A relationship ends (a *relationship ending*) when the customer drifts off (a lapse, a
cancellation, choosing to do without at renewal), moves to a rival, leaves at a reputation
event, or leaves the market. The ending is **won back** when the same customer begins a
relationship with the same firm again within the loss window (``switching.loss_window_weeks``,
counted from the ending's week); every other ending is a **customer lost**. So relationship
endings = customers lost + endings won back, and each ending is exactly one of the two.

Endings in the last ``window`` weeks of the horizon cannot yet be known to be won back: they
count as lost in the totals (a provisional count, as a firm's own books would have it), and
:func:`annual_churn` measures churn over the weeks whose windows have closed.

**Churn on any calendar.** Losses happen in two ways. Most can happen in any week (drift-offs
of non-contractual customers, moves to rivals, market exits, reputation events): their weekly
hazard is the losses over the customer-weeks at risk. A contract holder can only be lost at a
renewal (or by leaving the market): its hazard is the losses at renewal over the renewals due,
per contract period. A weekly rate over customer-weeks misreads contracts that renew together:
a run whose length is not a whole number of periods counts weeks that had no renewal. Annual
churn composes the two::

    churn = 1 - ((1 - h_any) (1 - s h_renewal)) ** 52,
    h_any = L_any / E,  h_renewal = 1 - (1 - L_renewal / R) ** (1 / k),  s = (C + L_renewal) / E

``E`` the customer-weeks at risk (customers at the end of each week plus the week's endings),
``R`` the renewals due, ``k`` their mean period in weeks and ``s`` the contract holders' share of
the exposure (``C`` their customer-weeks). It is exact for a market of one kind:
non-contractual (``R = 0``), or contract holders whatever their renewal calendar; for a mix it
spreads the contract holders' renewal hazard over their share of the weeks.
"""

from __future__ import annotations

import numpy as np

from relsim.model.params import WEEKS_PER_YEAR

KEY_WEEK_OFFSET = 1 << 15
"""Weeks (int16, negative in the warm-up) are shifted by this to sort as non-negative keys."""


def _keys(customer: np.ndarray, firm: np.ndarray, week: np.ndarray, n_firms: int) -> np.ndarray:
    """One sortable int64 per (customer, firm, week): by customer and firm, then week."""
    pair = customer.astype(np.int64) * n_firms + firm.astype(np.int64)
    return pair * (1 << 17) + (week.astype(np.int64) + KEY_WEEK_OFFSET)


def won_back(
    endings: dict[str, np.ndarray],
    restarts: dict[str, np.ndarray],
    window: int,
    n_firms: int,
) -> np.ndarray:
    """Which endings were won back: for each relationship begun again (``restarts``: week,
    customer, firm), the same customer's latest earlier ending with that firm, if it ended at
    most ``window`` weeks before. Endings of the warm-up are not recorded, so a restart after
    one matches nothing."""
    out = np.zeros(len(endings["week"]), dtype=bool)
    if not len(out) or not len(restarts["week"]):
        return out
    key = _keys(endings["customer"], endings["firm"], endings["week"], n_firms)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    probe = _keys(restarts["customer"], restarts["firm"], restarts["week"], n_firms)
    at = np.searchsorted(sorted_key, probe, side="left") - 1  # the latest strictly earlier
    ok = at >= 0
    at = np.where(ok, at, 0)
    ended = order[at]
    same_pair = (sorted_key[at] >> 17) == (probe >> 17)
    gap = restarts["week"].astype(np.int64) - endings["week"][ended].astype(np.int64)
    hit = ok & same_pair & (gap <= window)
    out[ended[hit]] = True
    return out


def first_loss_week(
    customer: np.ndarray,
    week: np.ndarray,
    lost: np.ndarray,
    n_customers: int,
    never: int,
) -> np.ndarray:
    """Each customer's first week with a loss among the given endings (``never`` without)."""
    out = np.full(n_customers, never, dtype=np.int64)
    np.minimum.at(out, customer[lost].astype(np.intp), week[lost].astype(np.int64))
    return out


def annual_churn(
    lost_any: np.ndarray,
    lost_at_renewal: np.ndarray,
    exposure: np.ndarray,
    renewals: np.ndarray,
    renewal_weeks: np.ndarray,
    contract_exposure: np.ndarray,
) -> float:
    """Annual churn from weekly series (the module docstring's formula): losses that can
    happen in any week, losses at renewal, customer-weeks at risk, renewals due, the sum of
    their periods in weeks, and contract holders' customer-weeks. NaN without exposure."""
    e = float(exposure.sum())
    if e <= 0:
        return float("nan")
    h_any = float(lost_any.sum()) / e
    r = float(renewals.sum())
    h_renewal = 0.0
    if r > 0:
        period = float(renewal_weeks.sum()) / r
        per_period = float(lost_at_renewal.sum()) / r
        share = min(1.0, (float(contract_exposure.sum()) + float(lost_at_renewal.sum())) / e)
        h_renewal = share * (1.0 - (1.0 - per_period) ** (1.0 / period))
    survival = (1.0 - h_any) * (1.0 - h_renewal)
    return float(1.0 - survival**WEEKS_PER_YEAR)


def measured_weeks(horizon: int, window: int) -> slice:
    """The reported weeks whose loss windows have closed, when there are at least as many of
    them as the window is long; otherwise every week (losses then partly provisional)."""
    closed = horizon - window
    return slice(0, closed) if closed >= window else slice(0, horizon)
