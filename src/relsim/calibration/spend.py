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

**Gamma-gamma** (opt-in, ``relsim calibrate --spend gamma-gamma``; :func:`fit_spend_gamma_gamma`):
the order values keep their variation from one order to the next. Each purchase week's amount
is Gamma(p, rate nu) around the customer's own mean p / nu, with nu ~ Gamma(q, rate gamma)
between customers (Fader, Hardie & Lee 2005); the engine runs exactly this with
``order_value_within_shape = p``, ``order_value_between: inverse-gamma``, ``order_value.shape =
q`` and ``order_value.mean = p gamma / (q - 1)``. Fitted by maximum likelihood on every purchase
week (the first included: the engine's first order is like the others), standard errors from
the observed information. Its assumption that a customer's order values are independent of its
purchase frequency is checked on the log by :func:`spend_frequency_correlation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from relsim.calibration.bgnbd import Fit, fit_gamma_gamma

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

    def segment_fields(self) -> dict:
        """The scenario's fields: one order value per customer, a gamma between customers."""
        return {"order_value": {"mean": float(self.mean), "shape": float(self.shape)}}


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


@dataclass(frozen=True)
class GammaGammaFit:
    """Gamma-gamma spend (module docstring): the fit of p, q, gamma and the scenario fields."""

    fit: Fit

    @property
    def params(self) -> dict[str, float]:
        return self.fit.params

    @property
    def mean(self) -> float:
        """Mean order value over customers, p gamma / (q - 1)."""
        p, q, gamma = (self.params[k] for k in ("p", "q", "gamma"))
        return p * gamma / (q - 1.0)

    @property
    def table(self) -> pd.DataFrame:
        """Scenario fields with standard errors (delta method for the mean)."""
        p, q, gamma = (self.params[k] for k in ("p", "q", "gamma"))
        grad = np.array([gamma / (q - 1.0), -p * gamma / (q - 1.0) ** 2, p / (q - 1.0)])
        mean_se = float(np.sqrt(max(grad @ self.fit.covariance @ grad, 0.0)))
        se = self.fit.standard_errors
        frame = pd.DataFrame(
            [
                ("order_value.mean", self.mean, mean_se),
                ("order_value.shape", q, se["q"]),
                ("order_value_within_shape", p, se["p"]),
            ],
            columns=["field", "estimate", "standard_error"],
        )
        frame["low"] = frame["estimate"] - 1.96 * frame["standard_error"]
        frame["high"] = frame["estimate"] + 1.96 * frame["standard_error"]
        return frame.set_index("field")

    def own_values(self, k: np.ndarray, mean_amount: np.ndarray) -> np.ndarray:
        """Each customer's own mean order value given its ``k`` purchase weeks' mean amount:
        the posterior mean (gamma + k m) p / (p k + q - 1); the segment's mean when k = 0."""
        p, q, gamma = (self.params[k] for k in ("p", "q", "gamma"))
        k = np.asarray(k, dtype=float)
        m = np.asarray(mean_amount, dtype=float)
        return (gamma + k * m) * p / (p * k + q - 1.0)

    def segment_fields(self) -> dict:
        """The scenario's fields that run this model in the engine."""
        p, q = self.params["p"], self.params["q"]
        return {
            "order_value": {"mean": float(self.mean), "shape": float(q)},
            "order_value_within_shape": float(p),
            "order_value_between": "inverse-gamma",
        }


def fit_spend_gamma_gamma(k: np.ndarray, mean_amount: np.ndarray) -> GammaGammaFit:
    """Gamma-gamma on every customer's ``k`` purchase weeks and their mean amount
    (``weekly_summary``'s columns), started from moments. The mean exists only for q > 1:
    a fit at or below it is an error (the log's order values are too heavy-tailed)."""
    k = np.asarray(k, dtype=float)
    m = np.asarray(mean_amount, dtype=float)
    keep = (k >= 1) & np.isfinite(m) & (m > 0)
    mu, shape, cv = _moments(k[keep], m[keep], np.zeros(int(keep.sum())))
    p0 = float(np.clip(1.0 / max(cv, 0.3) ** 2, 0.5, 50.0))
    q0 = max(shape, 1.5) + 1.0
    fit = fit_gamma_gamma(k[keep], m[keep], start=(p0, q0, mu * (q0 - 1.0) / p0))
    if fit.params["q"] <= 1.0:
        raise ValueError(
            f"the gamma-gamma fit has q = {fit.params['q']:.3g} <= 1: its mean order value is "
            "infinite (hint: use --spend constant, or trim extreme amounts)"
        )
    return GammaGammaFit(fit)


@dataclass(frozen=True)
class SpendFrequency:
    """Correlation between repeat buyers' mean repeat order value and their repeat frequency."""

    customers: int
    pearson: float
    low: float
    high: float

    def reading(self) -> str:
        """One sentence: what the correlation says about gamma-gamma's independence."""
        clear = self.low > 0 or self.high < 0
        size = "weak" if max(abs(self.low), abs(self.high)) < 0.3 else "not weak"
        return (
            f"spend vs frequency among {self.customers} repeat buyers: Pearson r = "
            f"{self.pearson:.3f} (95% bootstrap interval {self.low:.3f} to {self.high:.3f}); "
            + (
                f"a {size} but non-zero dependence"
                if clear
                else "no dependence detected at this sample size"
            )
        )


def spend_frequency_correlation(weeks: pd.DataFrame, seed: int = 0) -> SpendFrequency:
    """Gamma-gamma's independence check (Fader & Hardie 2013): among customers with repeat
    purchase weeks, the Pearson correlation between the mean amount of their repeat weeks and
    their number (``weeks``: one row per customer and purchase week, columns customer, week,
    amount; each customer's first week is its trial and is left out), with a 95% percentile
    interval from a bootstrap over customers (amounts are skewed: Fisher's z assumes normal
    margins). Pearson, not a rank correlation: under independence the mean of more skewed
    amounts is not larger on average, but its median is, so Spearman's rho is biased upwards."""
    ordered = weeks.sort_values(["customer", "week"])
    first = ~ordered["customer"].duplicated()
    repeats = ordered[~first].groupby("customer")["amount"].agg(["count", "mean"])
    repeats = repeats[repeats["mean"] > 0]
    n = len(repeats)
    if n < 10:
        raise ValueError(f"the spend-frequency check needs 10 repeat buyers; the log has {n}")
    x, m = repeats["count"].to_numpy(float), repeats["mean"].to_numpy(float)
    pick = np.random.default_rng(seed).integers(0, n, (BOOTSTRAP_SAMPLES * 10, n))
    xs, ms = x[pick], m[pick]
    xs -= xs.mean(axis=1, keepdims=True)
    ms -= ms.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = (xs * ms).sum(axis=1) / np.sqrt((xs**2).sum(axis=1) * (ms**2).sum(axis=1))
    low, high = np.nanquantile(draws, [0.025, 0.975])
    return SpendFrequency(n, float(stats.pearsonr(x, m)[0]), float(low), float(high))
