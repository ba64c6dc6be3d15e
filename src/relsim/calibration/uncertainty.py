"""What a log cannot pin down: the fit's sampling distribution, and a forecast's two parts.

A forecast from a calibrated process is uncertain for two reasons: the customers' own
randomness (which of them buy in which week: simulation noise, what replications average out),
and the parameters, which the log estimates with error (what more replications do not reduce).
:class:`ParameterDistribution` is the fit's asymptotic sampling distribution: normal on the scale
the fit was estimated on (the logarithm of each positive parameter, the rate power as it is),
with the inverse observed information mapped to that scale by the delta method. Each
replication of ``simulate_history`` draws its parameters from it, so the spread of the
replications' totals covers both parts; :func:`variance_parts` separates them with the closed
form: the spread of each replication's expected total given its parameters is the parameter
part, the spread of the simulated totals around those expectations the simulation part.
Both are conditional on the chosen variant and its settings (the periodic variant's period and
calendar), which every draw keeps as fitted: their own uncertainty is not in the interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relsim.calibration.bgnbd import Fit
from relsim.calibration.process import NEVER_SHARE, RATE_POWER

LINEAR = (RATE_POWER,)
"""Parameters estimated on their own scale (the others on the log scale: they are positive)."""
LOGIT = (NEVER_SHARE,)
"""Shares, drawn on the logit scale (so that every draw stays between 0 and 1)."""


@dataclass(frozen=True)
class ParameterDistribution:
    """Normal on the fitting scale: ``center`` and ``covariance`` there, ``logged`` marks the
    parameters whose fitting scale is the logarithm."""

    names: tuple[str, ...]
    center: np.ndarray
    covariance: np.ndarray
    logged: np.ndarray
    logit: np.ndarray | None = None  # the shares among them (logit scale, not log)
    fixed: dict[str, float] | None = None  # the fit's settings, in every draw as they are

    @classmethod
    def from_fit(cls, fit: Fit) -> ParameterDistribution:
        """The fit's sampling distribution; a ValueError if its information is singular."""
        names = tuple(fit.params)
        values = np.array([fit.params[k] for k in names], dtype=float)
        logged = np.array([k not in LINEAR for k in names])
        logit = np.array([k in LOGIT for k in names])
        if not np.isfinite(fit.covariance).all():
            raise ValueError(
                "the fit's standard errors are not available (its information matrix is "
                "singular), so its parameter uncertainty cannot be drawn"
            )
        share = np.clip(values, 1e-12, 1.0 - 1e-12)
        jac = np.diag(
            np.where(logit, 1.0 / (share * (1.0 - share)), np.where(logged, 1.0 / values, 1.0))
        )
        covariance = jac @ fit.covariance @ jac.T
        center = np.where(logged, np.log(np.abs(values)), values)
        center = np.where(logit, np.log(share / (1.0 - share)), center)
        covariance = (covariance + covariance.T) / 2.0
        return cls(names, center, covariance, logged, logit, dict(fit.settings) or None)

    def draw(self, rng: np.random.Generator) -> dict[str, float]:
        """One set of parameters (``len(names)`` standard normals from ``rng``), with the
        fit's settings as they are; a covariance that rounding left slightly indefinite is
        clipped to its nearest semi-definite one."""
        eigen, vectors = np.linalg.eigh(self.covariance)
        root = vectors * np.sqrt(np.clip(eigen, 0.0, None))
        point = self.center + root @ rng.standard_normal(len(self.names))
        natural = np.where(self.logged, np.exp(point), point)
        if self.logit is not None:
            natural = np.where(self.logit, 1.0 / (1.0 + np.exp(-point)), natural)
        drawn = dict(zip(self.names, map(float, natural), strict=True))
        return drawn if self.fixed is None else {**drawn, **self.fixed}

    def standard_errors(self) -> dict[str, float]:
        """Standard errors on the fitting scale (relative errors for the logged ones)."""
        errors = np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))
        return dict(zip(self.names, map(float, errors), strict=True))


def variance_parts(totals: np.ndarray, expected: np.ndarray) -> dict[str, float]:
    """Split the spread of the replications' simulated ``totals`` with each replication's
    closed-form ``expected`` total given its parameters: ``parameter_sd`` (the spread of the
    expectations), ``simulation_sd`` (of the totals around them) and ``total_sd``; the two
    parts' variances add up to the total's (law of total variance)."""
    totals, expected = np.asarray(totals, float), np.asarray(expected, float)
    parameter = float(np.std(expected, ddof=1)) if len(expected) > 1 else 0.0
    simulation = float(np.std(totals - expected, ddof=1)) if len(totals) > 1 else 0.0
    total = float(np.std(totals, ddof=1)) if len(totals) > 1 else 0.0
    return {"parameter_sd": parameter, "simulation_sd": simulation, "total_sd": total}


__all__ = ["LINEAR", "ParameterDistribution", "variance_parts"]
