"""Statistics of replicated runs: confidence intervals, paired differences under common random
numbers, the probability of being best, and a screen for the strategies that may be best.

All intervals are Student-t intervals over independent replications (each replication is one
independent draw of the whole market; strategies within a replication share random numbers, so
differences are paired). Simultaneous intervals over ``k`` comparisons use Bonferroni's
adjustment (level ``1 - alpha / k`` each), which is conservative but valid under any
dependence between the comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np


def _scipy_stats() -> ModuleType:
    """``scipy.stats``, imported on first use: a worker's replication needs only
    :func:`kaplan_meier` from this module, and importing scipy's statistics cost each worker
    process about 0.6 s before its first result (a tenth of a classroom comparison)."""
    from scipy import stats

    return stats


@dataclass(frozen=True)
class Interval:
    """A mean with its confidence interval."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0

    @property
    def relative_half_width(self) -> float:
        return self.half_width / abs(self.mean) if self.mean else float("inf")

    def excludes_zero(self) -> bool:
        return self.low > 0.0 or self.high < 0.0


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> Interval:
    """Student-t confidence interval of the mean of independent values."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else float("nan")
    if n < 2:
        return Interval(mean, float("-inf"), float("inf"), n)
    se = float(x.std(ddof=1)) / np.sqrt(n)
    t = float(_scipy_stats().t.ppf(0.5 + confidence / 2.0, n - 1))
    return Interval(mean, mean - t * se, mean + t * se, n)


def paired_differences(
    values: dict[str, np.ndarray], baseline: str, confidence: float = 0.95
) -> dict[str, Interval]:
    """CI of the mean paired difference ``strategy - baseline`` for every other strategy, made
    simultaneous over the comparisons by Bonferroni (each at ``1 - (1-confidence)/k``)."""
    others = [name for name in values if name != baseline]
    k = max(len(others), 1)
    level = 1.0 - (1.0 - confidence) / k
    base = np.asarray(values[baseline], dtype=float)
    return {name: mean_interval(np.asarray(values[name]) - base, level) for name in others}


def probability_best(
    values: dict[str, np.ndarray], confidence: float = 0.95
) -> dict[str, Interval]:
    """Share of replications in which each strategy has the highest value (ties split), with a
    Wilson score interval."""
    names = list(values)
    matrix = np.column_stack([np.asarray(values[n], dtype=float) for n in names])
    best = matrix == matrix.max(axis=1, keepdims=True)
    wins = (best / best.sum(axis=1, keepdims=True)).sum(axis=0)
    n = matrix.shape[0]
    z = float(_scipy_stats().norm.ppf(0.5 + confidence / 2.0))
    out = {}
    for name, w in zip(names, wins, strict=True):
        p = w / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        out[name] = Interval(float(p), float(centre - spread), float(centre + spread), n)
    return out


def could_be_best(values: dict[str, np.ndarray], confidence: float = 0.95) -> list[str]:
    """Multiple comparisons with the best (Hsu 1984), paired form: strategy ``i`` cannot be ruled
    out as best when, against every other strategy ``j``, the one-sided upper bound of
    ``mean_i - mean_j`` is at least zero. Bounds are Bonferroni-adjusted over the ``k - 1``
    comparisons, so the screen keeps the truly best strategy with probability at least
    ``confidence``."""
    names = list(values)
    k = len(names)
    if k == 1:
        return names
    level = 1.0 - (1.0 - confidence) / (k - 1)
    keep = []
    for i in names:
        ok = True
        for j in names:
            if i == j:
                continue
            d = np.asarray(values[i], dtype=float) - np.asarray(values[j], dtype=float)
            n = len(d)
            if n < 2:
                continue
            upper = d.mean() + _scipy_stats().t.ppf(level, n - 1) * d.std(ddof=1) / np.sqrt(n)
            if upper < 0:
                ok = False
                break
        if ok:
            keep.append(i)
    return keep


def normal_expected_loss(mean: float, sd: float) -> float:
    """The expected value of perfect information of a choice between two options whose
    difference is normal with ``mean`` and ``sd``: ``E[max(0, X)] - max(0, E[X])`` =
    ``sd * phi(mean / sd) - |mean| * Phi(-|mean| / sd)``."""
    if sd <= 0:
        return 0.0
    z = abs(mean) / sd
    normal = _scipy_stats().norm
    return float(sd * normal.pdf(z) - abs(mean) * normal.cdf(-z))


def selection_gap(values: dict[str, np.ndarray], chosen: str, confidence: float = 0.95) -> float:
    """How much better than ``chosen`` any other strategy could be: the largest one-sided upper
    bound of ``mean_j - mean_chosen`` over the others, paired and Bonferroni-adjusted over the
    ``k - 1`` comparisons (the upper half of Hsu's multiple comparisons with the best, as in
    :func:`could_be_best`). With probability at least ``confidence``, ``chosen`` is within
    this gap of the best; so when the gap is at most an indifference zone ``delta``, choosing
    ``chosen`` is a correct selection within ``delta`` with that probability. 0 for a lone
    strategy; infinite when a comparison has fewer than 2 replications."""
    others = [name for name in values if name != chosen]
    if not others:
        return 0.0
    level = 1.0 - (1.0 - confidence) / len(others)
    gap = -np.inf
    for j in others:
        d = np.asarray(values[j], dtype=float) - np.asarray(values[chosen], dtype=float)
        n = len(d)
        if n < 2:
            return float("inf")
        upper = d.mean() + _scipy_stats().t.ppf(level, n - 1) * d.std(ddof=1) / np.sqrt(n)
        gap = max(gap, float(upper))
    return float(gap)


def kaplan_meier(duration: np.ndarray, observed: np.ndarray, horizon: int) -> np.ndarray:
    """Survival S(k) for k = 0 .. horizon-1 weeks from durations (weeks until the event, or
    until censoring where ``observed`` is False): the product over weeks j <= k of
    1 - events(j) / at_risk(j). Censoring handles customers acquired late in the horizon."""
    d = np.asarray(duration, dtype=np.int64)
    event = np.asarray(observed, dtype=bool)
    events = np.bincount(d[event], minlength=horizon)[:horizon]
    leaving = np.bincount(d, minlength=horizon)[:horizon]  # events and censorings at week k
    at_risk = len(d) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, events / np.maximum(at_risk, 1), 0.0)
    return np.cumprod(1.0 - hazard)
