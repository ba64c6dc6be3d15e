"""The focal firm's customer database: what it observed of its customers, and the targeting
rules that rank them -- pure functions of observed records (and, for the random control and
the oracle benchmark, of what is passed in explicitly).

**Observed records** (:class:`Records`, read by :func:`observe`): for each customer who ever
ordered from the focal firm, the week of its last order, its number of orders, the
recency-weighted margin of its orders (observed value), the week it first became the firm's
customer, whether it has a request open at the desk, the contacts and campaign contacts it
received and the campaign offers it took up. Never its propensities, satisfaction, trust, rung
or primary firm: the firm does not see them.

**Which records are current**: customer ``i``'s record is current when ``u_i < q`` (``q``
the data quality), with ``u_i = frac(o + i phi)`` a Weyl sequence over the customer's id
(``phi`` the golden ratio's fraction, ``o`` a per-replication offset): equidistributed over
ids, fixed for a customer, and nested in ``q`` (a higher quality keeps every record a lower
one kept current), so strategies that differ only in data quality are well paired.

**Targeting** (:func:`ranking_key`): each eligible customer gets a key in [0, 1); the
campaign contacts the largest keys. Current records get their rule's score as a percentile
among the current records; stale records the customer's uniform draw ``u`` (the firm cannot
tell them apart from anybody), so with data quality 0 every rule is the random control
exactly (the same draws). The rules:

* **rfm** -- retention: the drift ratio ``recency / interval``, ``interval`` the customer's
  own mean weeks between orders (``tenure / (orders - 1)``; one order: its tenure); win-back:
  the observed value (the most valuable lapsed customers first); cross-sell: the inverse
  drift ratio (the most regular buyers first).
* **score** -- a logistic churn model the firm fits on its own records (:func:`fit_logistic`):
  the probability of no order within the next ``score_window_weeks``, from features of a
  snapshot that many weeks back (log recency, log orders, log value, log tenure, drift ratio,
  open request, campaign responses); retention ranks by it, win-back and cross-sell by its
  complement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relsim.model.population import NEVER, Customers

GOLDEN_FRACTION = 0.6180339887498949
"""Step of the Weyl sequence that decides which records are current."""
FEATURES = 7
"""Columns of :func:`features`."""


@dataclass(frozen=True)
class Records:
    """Observed records of ``rows`` (customers who ever ordered from the focal firm)."""

    rows: np.ndarray
    ids: np.ndarray
    recency: np.ndarray  # weeks since the last order
    orders: np.ndarray
    value: np.ndarray  # recency-weighted margin of the orders
    tenure: np.ndarray  # weeks since the customer first became the firm's
    request_open: np.ndarray
    responses: np.ndarray  # campaign offers taken up


def current(ids: np.ndarray, offset: float, quality: float) -> np.ndarray:
    """Whether each record (by customer id) is current at data quality ``quality``."""
    u = np.modf(offset + ids.astype(np.float64) * GOLDEN_FRACTION)[0]
    return u < quality


def drift_ratio(r: Records) -> np.ndarray:
    """Weeks since the last order over the customer's own mean weeks between orders."""
    interval = np.maximum(r.tenure, 1.0) / np.maximum(r.orders - 1.0, 1.0)
    return r.recency / np.maximum(interval, 1.0)


def features(r: Records) -> np.ndarray:
    """The churn score's features, shape (n, FEATURES)."""
    return np.column_stack(
        [
            np.log1p(r.recency),
            np.log1p(r.orders),
            np.log1p(np.maximum(r.value, 0.0)),
            np.log1p(np.maximum(r.tenure, 0.0)),
            np.minimum(drift_ratio(r), 20.0),
            r.request_open.astype(np.float64),
            np.log1p(r.responses),
        ]
    )


@dataclass(frozen=True)
class Logistic:
    """A fitted logistic model on standardised features."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # intercept first

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probability of the event for each row of ``x``."""
        z = (x - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-np.clip(self.coef[0] + z @ self.coef[1:], -30, 30)))


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = 1e-2, steps: int = 12) -> Logistic:
    """Logistic regression of ``y`` (0/1) on ``x`` by Newton's method with a small ridge
    penalty (which keeps it finite when a feature separates the classes)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.column_stack([np.ones(len(x)), (x - mean) / scale])
    coef = np.zeros(z.shape[1])
    penalty = ridge * np.eye(z.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ coef, -30, 30)))
        gradient = z.T @ (y - p) - penalty @ coef
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty + 1e-9 * np.eye(z.shape[1])
        coef = coef + np.linalg.solve(hessian, gradient)
    return Logistic(mean, scale, coef)


def percentile(score: np.ndarray) -> np.ndarray:
    """Each score's rank among ``score`` as a share in [0, 1) (ties by position)."""
    out = np.empty(len(score))
    out[np.argsort(score, kind="stable")] = np.arange(len(score)) / max(len(score), 1)
    return out


def ranking_key(score: np.ndarray, is_current: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The targeting key: the score's percentile among current records, ``u`` for stale ones
    (module docstring)."""
    key = u.copy()
    at = is_current.nonzero()[0]
    if len(at):
        key[at] = percentile(score.take(at))
    return key


def observe(c: Customers, rows: np.ndarray, week: int, value: np.ndarray) -> Records:
    """The focal firm's records of ``rows`` in ``week`` (``value``: their observed value,
    :meth:`relsim.model.interface.MarketInterface.observed_value`): observed fields only."""
    last = c.last_order_focal.take(rows).astype(np.int64)
    first = c.acquired_week.take(rows).astype(np.int64)
    first = np.where(first == NEVER, last, first)
    return Records(
        rows=rows,
        ids=c.id.take(rows),
        recency=(week - last).astype(np.float64),
        orders=c.orders[:, 0].take(rows).astype(np.float64),
        value=np.asarray(value, dtype=np.float64),
        tenure=(week - first).astype(np.float64),
        request_open=c.request_week.take(rows) < NEVER,
        responses=c.campaign_responses.take(rows).astype(np.float64),
    )
