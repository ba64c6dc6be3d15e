"""Problems with an order, experienced quality, satisfaction and adapting expectations.

An order has a problem with the firm's problem rate ``1 - (1 - late_or_wrong)(1 - fault)``.
Experienced quality is ``x = quality[f] - penalty * problem``. With the expectation ``e`` held
before the purchase:

* the purchase is *satisfying* when ``x >= e - tolerance`` (zone of tolerance);
* satisfaction with the primary firm ``s <- clip(s + alpha * (x - e), 0, 1)``;
* the expectation adapts: ``e <- e + eta * (x - e)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SatisfactionRule:
    learning_rate: float
    expectation_rate: float
    tolerance: float
    problem_penalty: float


def experience(quality: np.ndarray, problem: np.ndarray, rule: SatisfactionRule) -> np.ndarray:
    """Experienced quality of each purchase."""
    return (quality - rule.problem_penalty * problem).astype(np.float32, copy=False)


def is_satisfying(
    experienced: np.ndarray, expectation: np.ndarray, rule: SatisfactionRule
) -> np.ndarray:
    """Whether each purchase met the expectation within the zone of tolerance."""
    return experienced >= expectation - np.float32(rule.tolerance)


def update_satisfaction(
    satisfaction: np.ndarray,
    experienced: np.ndarray,
    expectation: np.ndarray,
    rule: SatisfactionRule,
) -> np.ndarray:
    """Satisfaction after one purchase, bounded to [0, 1]."""
    new = satisfaction + np.float32(rule.learning_rate) * (experienced - expectation)
    np.maximum(new, 0.0, out=new)  # bounded in place (cheaper than np.clip on small arrays)
    np.minimum(new, 1.0, out=new)
    return new.astype(np.float32, copy=False)


def update_expectation(
    expectation: np.ndarray, experienced: np.ndarray, rule: SatisfactionRule
) -> np.ndarray:
    """Expectation after one purchase: exponential smoothing of experienced quality."""
    return (expectation + np.float32(rule.expectation_rate) * (experienced - expectation)).astype(
        np.float32, copy=False
    )
