"""Customers lost, told apart from relationships restarted; churn as customers lost per year.

A relationship ends (a *relationship ending*) when the customer drifts off (a lapse, a
cancellation, choosing to do without at renewal), moves to a rival, leaves at a reputation
event, or leaves the market. The ending is **won back** when the same customer begins a
relationship with the same firm again within the loss window (``switching.loss_window_weeks``,
counted from the ending's week) while that firm is still the last one it left (in practice:
it switches back from the rival it went to, or from the firm it began with after drifting
off); every other ending is a **customer lost**. The engine records a restart when a switch
goes back to the firm the customer last left; a customer who meanwhile left another firm too
counts as lost to the first. So relationship
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

from relsim.units import WEEKS_PER_YEAR

CHUNK = 65_536
"""Endings probed at a time when they are matched with the restarts."""
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
    out: np.ndarray | None = None,
    chunk: int = CHUNK,
) -> np.ndarray:
    """Which endings were won back: the same customer's first recorded restart with
    the same firm after the ending (``restarts``: week, customer, firm) came at most
    ``window`` weeks after it. Written into ``out`` when given.

    The first restart after an ending is the one that wins it back: a later ending with the
    same firm needs a relationship begun again in between, and every such beginning in the
    horizon is recorded. Endings of the warm-up are not recorded, so a restart after one
    matches nothing. Only the restarts are sorted (far fewer than the endings); the endings
    are probed in chunks, so the work arrays stay small at the end of a run, when its memory
    peaks."""
    n = len(endings["week"])
    out = np.zeros(n, dtype=bool) if out is None else out
    out[:] = False
    if not n or not len(restarts["week"]):
        return out
    probe = _keys(restarts["customer"], restarts["firm"], restarts["week"], n_firms)
    probe.sort()
    for start in range(0, n, chunk):
        part = slice(start, min(start + chunk, n))
        key = _keys(
            endings["customer"][part], endings["firm"][part], endings["week"][part], n_firms
        )
        at = np.searchsorted(probe, key, side="right")  # the first restart after the ending
        found = at < len(probe)
        nxt = probe[np.minimum(at, len(probe) - 1)]
        same_pair = (nxt >> 17) == (key >> 17)
        gap = (nxt & ((1 << 17) - 1)) - (key & ((1 << 17) - 1))
        out[part] = found & same_pair & (gap <= window)
    return out


def first_loss_week(
    lost_week: np.ndarray,
    customer: np.ndarray,
    week: np.ndarray,
    lost: np.ndarray,
    never: int,
) -> None:
    """``lost_week`` (in place): each customer's first week with a loss among the endings of
    the horizon, where the engine kept the first ending there (week >= 0, or ``never``); a
    first ending of the warm-up (negative) stays."""
    lost_week[lost_week >= 0] = never
    np.minimum.at(lost_week, customer[lost].astype(np.intp), week[lost].astype(lost_week.dtype))


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
