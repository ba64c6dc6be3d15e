"""Order value: relsim's spend model fitted to the amounts of a transaction log.

relsim gives each customer one order value for all its orders, drawn from a gamma with the
segment's ``order_value`` mean and shape. Real amounts also vary from one purchase to the next
of the same customer; that noise must not be mistaken for differences between customers. The
fit is by moments with the noise removed:

* mean: the average over customers of each customer's mean amount per purchase week;
* between-customer variance: the variance of those means minus their average noise, where a
  customer's noise is ``cv^2 * mean_i^2 / k_i`` with ``cv`` the within-customer coefficient of
  variation pooled over customers with two or more purchase weeks (the gamma-gamma model's
  assumption of a common within-customer shape);
* shape = mean^2 / between-customer variance.

Standard errors come from a bootstrap over customers. Each customer's own order value for a
conditional simulation is the credibility-weighted (Buehlmann) mix of its mean and the
segment's mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BOOTSTRAP_SAMPLES = 200


@dataclass(frozen=True)
class OrderValueFit:
    """The gamma of customers' order values, the within-customer noise, and their errors."""

    mean: float
    shape: float
    within_cv: float
    mean_se: float
    shape_se: float
    customers: int

    @property
    def table(self) -> pd.DataFrame:
        rows = [
            ("order_value.mean", self.mean, self.mean_se),
            ("order_value.shape", self.shape, self.shape_se),
        ]
        frame = pd.DataFrame(rows, columns=["field", "estimate", "standard_error"])
        frame["low"] = frame["estimate"] - 1.96 * frame["standard_error"]
        frame["high"] = frame["estimate"] + 1.96 * frame["standard_error"]
        return frame.set_index("field")

    def own_values(self, k: np.ndarray, mean_amount: np.ndarray) -> np.ndarray:
        """Each customer's order value: its mean shrunk towards the segment mean by the
        credibility ``k / (k + within variance / between variance)``."""
        between = self.mean**2 / self.shape
        within = self.within_cv**2 * (self.mean**2 + between)
        k = np.asarray(k, dtype=float)
        weight = k / (k + within / between) if between > 0 else np.zeros_like(k)
        return weight * np.asarray(mean_amount, float) + (1.0 - weight) * self.mean


def _moments(k: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> tuple[float, float, float]:
    repeat = (k >= 2) & (mean > 0)
    cv2 = float(np.mean((sd[repeat] / mean[repeat]) ** 2)) if repeat.any() else 0.0
    # a sample variance of k draws is unbiased; a mean of k draws has variance sigma^2 / k
    mu = float(mean.mean())
    noise = float(np.mean(cv2 * mean**2 / k))
    between = max(float(mean.var(ddof=1)) - noise, 1e-12 * mu**2)
    return mu, mu**2 / between, float(np.sqrt(cv2))


def fit_order_value(
    k: np.ndarray, mean_amount: np.ndarray, sd_amount: np.ndarray, seed: int = 0
) -> OrderValueFit:
    """Fit the gamma of customers' order values from each customer's number of purchase weeks
    ``k``, mean amount and standard deviation of amounts (``weekly_summary``'s columns)."""
    k = np.asarray(k, dtype=float)
    mean = np.asarray(mean_amount, dtype=float)
    sd = np.asarray(sd_amount, dtype=float)
    keep = (k >= 1) & np.isfinite(mean) & (mean > 0)
    if keep.sum() < 3:
        raise ValueError("order values need at least 3 customers with positive amounts")
    k, mean, sd = k[keep], mean[keep], sd[keep]
    mu, shape, cv = _moments(k, mean, sd)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(BOOTSTRAP_SAMPLES):
        pick = rng.integers(0, len(k), len(k))
        draws.append(_moments(k[pick], mean[pick], sd[pick])[:2])
    spread = np.std(np.array(draws), axis=0, ddof=1)
    return OrderValueFit(mu, shape, cv, float(spread[0]), float(spread[1]), len(k))
