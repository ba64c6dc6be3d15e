"""Trust of a customer in its primary firm: kept promises build it, failures break it.

Trust ``t`` (0-1) starts at ``t0`` when a relationship begins. A kept promise -- an order on
time and without fault, a problem resolved, a contact that delivers -- moves it a share ``g``
of the way to 1: ``t <- t + g (1 - t)``; a broken promise (an order with a problem) removes a
share ``l`` of it: ``t <- (1 - l) t``. With ``l > g`` trust is built slowly and lost fast.

Trust acts through two multipliers, both 1 at ``t0``: the probability of climbing a rung after
a satisfying purchase is multiplied by ``exp(w_c (t - t0))`` and the hazard of ending the
relationship (the exponent of the defection propensity) by ``exp(-w_d (t - t0))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relsim.scenario.model import Trust


@dataclass(frozen=True)
class TrustRule:
    """The scenario's trust block in the engine's float32 form."""

    initial: np.float32
    build: np.float32
    loss: np.float32
    recovery: np.float32
    contact: np.float32
    climb_weight: float
    defection_weight: float

    @classmethod
    def from_scenario(cls, trust: Trust) -> TrustRule:
        f = np.float32
        return cls(
            f(trust.initial),
            f(trust.build),
            f(trust.loss),
            f(trust.recovery),
            f(trust.contact),
            trust.climb_weight,
            trust.defection_weight,
        )


def kept(trust: np.ndarray, gain: np.float32) -> np.ndarray:
    """Trust after a kept promise worth ``gain`` (share of the distance to 1)."""
    return (trust + gain * (np.float32(1.0) - trust)).astype(np.float32, copy=False)


def after_orders(trust: np.ndarray, problem: np.ndarray, rule: TrustRule) -> np.ndarray:
    """Trust after one order each: built when it had no problem, broken when it had one."""
    one = np.float32(1.0)
    return np.where(problem, trust * (one - rule.loss), trust + rule.build * (one - trust)).astype(
        np.float32, copy=False
    )


def climb_factor(trust: np.ndarray, rule: TrustRule) -> np.ndarray | None:
    """Multiplier on the climbing probability; None when trust does not act on it."""
    if rule.climb_weight == 0.0:
        return None
    return _exp_scaled(trust, rule, rule.climb_weight)


def hazard_factor(trust: np.ndarray, rule: TrustRule) -> np.ndarray | None:
    """Multiplier on the hazard of ending the relationship; None when trust does not act."""
    if rule.defection_weight == 0.0:
        return None
    return _exp_scaled(trust, rule, -rule.defection_weight)


def _exp_scaled(trust: np.ndarray, rule: TrustRule, weight: float) -> np.ndarray:
    """``exp(weight * (trust - t0))`` in float64, in one array: the subtraction casts trust to
    float64 itself (the values of ``astype`` first), then scaling and exp work in place."""
    x = np.subtract(trust, float(rule.initial), dtype=np.float64)
    x *= weight
    return np.exp(x, out=x)


def max_hazard_factor(rule: TrustRule) -> float:
    """The largest hazard multiplier any trust in [0, 1] gives (the weight is non-negative, so
    at no trust)."""
    return float(np.exp(rule.defection_weight * float(rule.initial)))
