"""A contractual segment fitted to a cohort's survival curve (shifted-beta-geometric).

relsim's contractual customer renews at the end of each contract period unless it cancels,
with a per-period propensity ``theta ~ Beta(mean * c, (1 - mean) * c)`` that stays the
customer's own (``defection_propensity``); with the ladder, satisfaction, rivals and relocation
switched off that is exactly the shifted-beta-geometric model of Fader & Hardie (2007, "How to
project customer retention"): the share still subscribed after ``t`` periods is
``S(t) = B(a, b + t) / B(a, b)``, and the cohort's retention rises with tenure from
heterogeneity alone. The fit is by maximum likelihood on the cohort's counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import betaln

from relsim.calibration.bgnbd import Fit, _fit

PARAMETERS = ("a", "b")


def survival_curve(params: dict[str, float], periods: int) -> np.ndarray:
    """S(0..periods): the share of a cohort still subscribed after each period."""
    a, b = params["a"], params["b"]
    t = np.arange(periods + 1, dtype=float)
    return np.exp(betaln(a, b + t) - betaln(a, b))


def fit_cohort(survival: Sequence[float], cohort: int = 1000) -> Fit:
    """sBG parameters from a cohort's survival shares S(1..T) (S(0) = 1 may be included; values
    above 1 are read as percent) for a cohort of ``cohort`` customers."""
    s = np.asarray(survival, dtype=float)
    if s.max() > 1.0:
        s = s / 100.0
    if s[0] != 1.0:
        s = np.concatenate([[1.0], s])
    if (np.diff(s) > 0).any() or s[-1] <= 0.0:
        raise ValueError("a survival curve falls from 1 and stays above 0")
    alive = np.round(s * cohort)
    lost = -np.diff(alive)
    periods = len(s) - 1
    t = np.arange(1, periods + 1, dtype=float)

    def nll(theta: np.ndarray) -> float:
        a, b = np.exp(theta)
        churn = betaln(a + 1.0, b + t - 1.0) - betaln(a, b)  # P(T = t)
        stay = betaln(a, b + periods) - betaln(a, b)
        return -float(np.dot(lost, churn) + alive[-1] * stay)

    return _fit("shifted-beta-geometric", PARAMETERS, nll, np.zeros(2), int(cohort))


def contractual_segment(fit: Fit, period_weeks: int = 52) -> dict:
    """The fit as a contractual segment's fields (per-period defection propensity)."""
    a, b = fit.params["a"], fit.params["b"]
    return {
        "contractual": True,
        "contract_period_weeks": int(period_weeks),
        "defection_propensity": {"mean": a / (a + b), "concentration": a + b},
    }
