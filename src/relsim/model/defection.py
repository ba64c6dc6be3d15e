"""When relationships end, and why.

Hazards are turned into event weeks with geometric waiting times, redrawn whenever a rate
changes; the geometric distribution is memoryless, so this is the same process as a weekly coin
flip at a fraction of the cost. A hazard that moves often (the lapse of a relationship) is
instead drawn at a constant bound and thinned: each candidate week is an event with probability
``hazard then / bound``, which is again exactly the weekly coin flip.

Reasons (``docs/model.md``, "Defection reasons"), for a customer leaving firm ``g``, from what
its own history shows:

1. **market** and **technology**: the exogenous exits (relocation; adoption of a substitute);
   **political**: the immediate leavers of a reputation event.
2. **service**: the customer has an open, unresolved problem with ``g`` and its satisfaction
   with ``g`` is below the service threshold.
3. A move to a rival ``a``: the deterministic utility gap between ``a`` and ``g`` is split into
   a price part ``beta_p * m_p(rung) * (price_g - price_a)``, a product part
   ``beta_q * (q_a - q_g)`` and a political part ``penalty_g - penalty_a``; the largest
   positive part names the reason (ties in the order price, product, political). When no
   part favours the rival -- a chance switch made by the logit's taste shock -- nothing in
   the history explains it: **unobserved**.
4. A drift-off (a lapse, a cancellation, doing without at renewal) names no alternative: a
   dissatisfied customer without an open problem left because the product's experience fell
   short of what it expected (**product**); a satisfied one shows no cause (**unobserved**).
"""

from __future__ import annotations

import numpy as np

from relsim.domain import POLITICAL, PRICE, PRODUCT, SERVICE, UNOBSERVED
from relsim.model.population import NEVER, WEEK


def waiting_weeks(probability: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Geometric waiting time in weeks (>= 1) for a weekly event probability; 2**30 for 0.

    ``K = 1 + floor(log(1 - U) / log(1 - p))`` with ``U`` uniform on [0, 1). Computed in
    float32 (waits are whole weeks far below 2**24; relative precision 1e-7 is ample).
    """
    p = np.minimum(np.asarray(probability, dtype=np.float32), np.float32(1.0))
    u = np.asarray(uniforms, dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        # p = 1 gives 0 (K = 1); p = 0 gives inf or nan, both mapped to "never" below
        k = np.floor(np.log1p(-u) / np.log1p(-p)) + np.float32(1.0)
    return np.where(k < 2**30, k, 2**30).astype(np.int64)


def schedule(now: int, probability: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Week of the next event when weeks ``now``, ``now+1``, ... each carry ``probability``;
    NEVER when it would fall beyond any simulation (week 32 767).

    ``now + K - 1`` with ``K`` from :func:`waiting_weeks`, computed in place in float32 (whole
    numbers below 2**24 are exact there, and anything from NEVER on, infinite or undefined
    (``p = 0``) becomes NEVER)."""
    p = np.minimum(np.asarray(probability, dtype=np.float32), np.float32(1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.log1p(-np.asarray(uniforms, dtype=np.float32))
        k /= np.log1p(-p)
    np.floor(k, out=k)
    k += np.float32(now)
    np.fmin(k, np.float32(NEVER), out=k)  # fmin: a NaN gives NEVER
    return k.astype(WEEK)


def periodic_schedule(
    now: int, probability: np.ndarray, uniforms: np.ndarray, period: np.ndarray, offset: np.ndarray
) -> np.ndarray:
    """:func:`schedule` for periodic death opportunities (``Segment.defection_period_weeks``):
    the week of the next event when only the weeks ``w >= now`` with ``(w - offset) % period
    == 0`` can carry one, each with the chance ``1 - (1 - probability) ** period`` the weekly
    probability builds up over a period. The number of opportunities to wait is geometric
    (:func:`waiting_weeks`); a period of 1 gives :func:`schedule`'s week."""
    period = np.asarray(period, dtype=np.int64)
    p = np.minimum(np.asarray(probability, dtype=np.float64), 1.0)
    chance = -np.expm1(period * np.log1p(-np.minimum(p, 1.0 - 1e-16)))
    chance = np.where(p >= 1.0, 1.0, chance)
    k = waiting_weeks(chance, uniforms)
    first = now + (np.asarray(offset, dtype=np.int64) - now) % period
    week = first + (k - 1) * period
    return np.where((k < 2**30) & (week < NEVER), week, NEVER).astype(WEEK)


def per_period(probability: np.ndarray, period: np.ndarray) -> np.ndarray:
    """``1 - (1 - probability) ** period``: a weekly chance built up over ``period`` weeks."""
    p = np.minimum(np.asarray(probability, dtype=np.float64), 1.0 - 1e-16)
    return -np.expm1(np.asarray(period, dtype=np.float64) * np.log1p(-p))


def effective_propensity(
    base: np.ndarray, rung_multiplier: np.ndarray, dissatisfied: np.ndarray, extra: float
) -> np.ndarray:
    """``1 - (1 - base) ** (m_rung * (1 + extra * dissatisfied))``: stays a probability."""
    exponent = rung_multiplier * (1.0 + extra * dissatisfied)
    return 1.0 - (1.0 - base.astype(np.float64)) ** exponent


def classify(
    service: np.ndarray,
    price_part: np.ndarray,
    product_part: np.ndarray,
    political_part: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Reason codes (int8) of moves to rivals by the rule in this module's docstring, and
    whether each was a chance switch (no part favoured the rival); inputs are aligned 1-D
    arrays of finite parts."""
    # the largest part, the first of equals winning (price, product, political): an argmax
    # over the three written as comparisons, which avoids stacking them for few rows
    codes = np.where(
        price_part >= product_part,
        np.where(price_part >= political_part, PRICE, POLITICAL),
        np.where(product_part >= political_part, PRODUCT, POLITICAL),
    ).astype(np.int8)
    largest = np.maximum(np.maximum(price_part, product_part), political_part)
    chance = ~service & (largest <= 0.0)
    codes[chance] = UNOBSERVED
    codes[service] = SERVICE
    return codes, chance


def drift_off(service: np.ndarray, dissatisfied: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reason codes (int8) of drift-offs: service, else product when dissatisfied, else
    unobserved; none is a chance switch."""
    codes = np.where(service, SERVICE, np.where(dissatisfied, PRODUCT, UNOBSERVED))
    return codes.astype(np.int8), np.zeros(len(codes), dtype=bool)


def rate_linked(theta: np.ndarray, relative_rate: np.ndarray, power: float) -> np.ndarray:
    """The annual own-reason propensity of a customer whose dropout clock runs at
    ``relative_rate ** power`` times the calendar's pace (``Segment.defection_rate_power``):
    ``1 - (1 - theta) ** scale``, kept below 1 (a drawn theta of 1 counts as 1 - 1e-16)."""
    scale = np.power(np.maximum(np.asarray(relative_rate, float), 1e-300), power)
    kept = np.log1p(-np.minimum(np.asarray(theta, float), 1.0 - 1e-16))
    linked = -np.expm1(scale * kept)
    return np.minimum(linked, 1.0 - 1e-12)
