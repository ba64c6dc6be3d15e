"""Buy-till-you-die models fitted by maximum likelihood: BG/NBD for purchases and dropout,
gamma-gamma for spend per purchase.

The standard customer-base models for non-contractual settings (Fader, Hardie & Lee 2005,
"Counting your customers the easy way"; Fader & Hardie 2013, "The gamma-gamma model of monetary
value"), implemented from their closed-form likelihoods with scipy's optimiser. Standard errors
come from the inverse of the observed information (a central-difference Hessian of the negative
log-likelihood at the optimum). The lifetimes package implements the same models but is no
longer maintained; relsim uses it only as a test-time source of the CDNOW data.

BG/NBD, per customer with ``x`` repeat purchases, the last at ``t_x``, observed for ``T``
(any time unit, weeks in relsim):

* while alive, purchases follow a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
* after each purchase the customer drops out with probability ``p ~ Beta(a, b)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import betaln, gammaln, hyp2f1

BGNBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "gamma")


@dataclass
class Fit:
    """Fitted parameters with standard errors and the fit's diagnostics."""

    model: str
    params: dict[str, float]
    standard_errors: dict[str, float]
    log_likelihood: float
    customers: int
    converged: bool
    message: str
    covariance: np.ndarray = field(repr=False)
    settings: dict[str, float] = field(default_factory=dict)  # fixed, not estimated (a variant's)

    @property
    def table(self) -> pd.DataFrame:
        """Parameter, estimate, standard error, 95% interval (Wald)."""
        rows = [
            {
                "parameter": name,
                "estimate": value,
                "standard_error": self.standard_errors[name],
                "low": value - 1.96 * self.standard_errors[name],
                "high": value + 1.96 * self.standard_errors[name],
            }
            for name, value in self.params.items()
        ]
        return pd.DataFrame(rows).set_index("parameter")

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "params": self.params,
            "standard_errors": self.standard_errors,
            "log_likelihood": self.log_likelihood,
            "customers": self.customers,
            "converged": self.converged,
            "message": self.message,
        }


def bgnbd_log_likelihood(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6)."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    dropped = np.full_like(alive, -np.inf)
    xr = x[repeat]
    dropped[repeat] = (
        betaln(a + 1, b + xr - 1) - betaln(a, b) - (r + xr) * np.log(alpha + t_x[repeat])
    )
    return common + np.logaddexp(alive, dropped)


def fit_bgnbd(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, start: tuple[float, ...] = (1, 1, 1, 1)
) -> Fit:
    """Maximum-likelihood BG/NBD parameters from each customer's (x, t_x, T)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    _check_summary(x, t_x, T)

    def nll(theta: np.ndarray) -> float:
        return -float(np.sum(bgnbd_log_likelihood(np.exp(theta), x, t_x, T)))

    return _fit("BG/NBD", BGNBD_PARAMETERS, nll, np.log(start), len(x))


def gamma_gamma_log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each repeat customer's gamma-gamma log-likelihood of the mean spend ``m`` of its ``x``
    repeat purchases (Fader & Hardie 2013, eq. 3)."""
    p, q, gamma = params
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + x * m)
    )


def fit_gamma_gamma(x: np.ndarray, m: np.ndarray, start: tuple[float, ...] = (1, 1, 1)) -> Fit:
    """Maximum-likelihood gamma-gamma parameters from repeat customers' (x, mean spend);
    customers without repeat purchases carry no information and are left out."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    if keep.sum() < 3:
        raise ValueError("the gamma-gamma model needs at least 3 customers with repeat purchases")
    x, m = x[keep], m[keep]

    def nll(theta: np.ndarray) -> float:
        return -float(np.sum(gamma_gamma_log_likelihood(np.exp(theta), x, m)))

    return _fit("gamma-gamma", GAMMA_GAMMA_PARAMETERS, nll, np.log(start), len(x))


def _fit(
    model: str,
    names: tuple[str, ...],
    nll: Any,
    start: np.ndarray,
    n: int,
    polish_iterations: int = 20_000,
    free: tuple[int, ...] = (),
    information: bool = True,
) -> Fit:
    """Minimise over log-parameters (positivity; the indices in ``free`` are estimated as
    they are, on the whole real line): L-BFGS-B, then Nelder-Mead from its point (at most
    ``polish_iterations``; 0 skips it), then the observed information in the natural
    parameters for the standard errors (``information=False`` skips it: errors unknown; an
    error is unknown, NaN, too where the inverse information's variance is negative)."""
    logged = np.ones(len(names), dtype=bool)
    logged[list(free)] = False
    best = None
    methods = ("L-BFGS-B", "Nelder-Mead") if polish_iterations else ("L-BFGS-B",)
    for method in methods:
        result = optimize.minimize(
            nll,
            start if best is None else best.x,
            method=method,
            options={"maxiter": polish_iterations, "xatol": 1e-6, "fatol": 1e-6}
            if method == "Nelder-Mead"
            else {"maxiter": 2000},
        )
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None
    estimate = np.where(logged, np.exp(best.x), best.x)

    def nll_natural(values: np.ndarray) -> float:
        return nll(np.where(logged, np.log(np.abs(values)), values))

    hessian = _hessian(nll_natural, estimate, np.where(logged, 1e-3, 1.0)) if information else None
    try:
        if hessian is None:
            raise np.linalg.LinAlgError("the information was not asked for")
        covariance = np.linalg.inv(hessian)
        # a negative variance: the point is no maximum along that parameter (the likelihood
        # still rises, as on a ridge to a boundary): its error is unknown, not zero
        variances = np.diag(covariance)
        errors = np.where(variances < 0.0, np.nan, np.sqrt(np.abs(variances)))
    except np.linalg.LinAlgError:
        covariance = np.full((len(names), len(names)), np.nan)
        errors = np.full(len(names), np.nan)
    return Fit(
        model=model,
        params=dict(zip(names, map(float, estimate), strict=True)),
        standard_errors=dict(zip(names, map(float, errors), strict=True)),
        log_likelihood=-float(best.fun),
        customers=n,
        converged=bool(best.success) or best.message == "Optimization terminated successfully.",
        message=str(best.message),
        covariance=covariance,
    )


def _hessian(f: Any, point: np.ndarray, floor: np.ndarray | float = 1e-3) -> np.ndarray:
    """Central-difference Hessian with steps relative to each coordinate (at least ``floor``
    times 1e-4: a parameter near 0 gets a step that rounding does not swamp)."""
    k = len(point)
    steps = 1e-4 * np.maximum(np.abs(point), floor)
    hessian = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i], ej[j] = steps[i], steps[j]
            value = (
                f(point + ei + ej) - f(point + ei - ej) - f(point - ei + ej) + f(point - ei - ej)
            ) / (4 * steps[i] * steps[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


def _check_summary(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
    if not (len(x) == len(t_x) == len(T)) or len(x) == 0:
        raise ValueError("x, t_x and T need one value per customer")
    if (x < 0).any() or (t_x < 0).any() or (t_x > T + 1e-9).any():
        raise ValueError("expected x >= 0 and 0 <= t_x <= T for every customer")
    if ((x == 0) & (t_x > 0)).any():
        raise ValueError("a customer without repeat purchases has t_x = 0")


def expected_purchases(params: dict[str, float], t: np.ndarray | float) -> np.ndarray:
    """Expected repeat purchases in (0, t] of a new customer (BG/NBD, eq. 7)."""
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMETERS)
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


def conditional_expected_purchases(
    params: dict[str, float], t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Expected purchases in (T, T + t] of a customer with history (x, t_x, T) (eq. 10): the
    closed-form forecast relsim's simulations are compared with."""
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMETERS)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    z = t / (alpha + T + t)
    first = (a + b + x - 1) / (a - 1)
    second = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return first * second / (1 + odds)
