"""relsim's own customer process, fitted to weekly purchase histories by maximum likelihood.

The engine with the ladder, bonds, service and rivals switched off (one firm, a flat ladder, an
outside option that never wins, no win-back, no relocation) runs this process for a customer of
a non-contractual segment, from the week of the first purchase (week 0):

* the customer has a purchase occasion each week with probability ``q = min(lambda / 52, 1)``,
  ``lambda ~ Gamma(shape, mean)`` orders a year (``orders_per_year``);
* the relationship ends in a week with probability ``h = 1 - (1 - theta) ** (1 / 52)``,
  ``theta ~ Beta(mean * c, (1 - mean) * c)`` a year (``defection_propensity``), checked
  before that week's occasion; a customer whose relationship ended never buys again.

So a history of ``x`` repeat purchase weeks, the last in week ``t_x``, observed for weeks
``1..n`` has the likelihood::

    L = A(x, n - x) B(n) + sum_{j = t_x}^{n - 1} A(x, j - x) (B(j) - B(j + 1))
    A(x, m) = E[q^x (1 - q)^m]              (over the gamma: a fine grid of exact cell masses)
    B(s)    = E[(1 - theta)^(s / 52)] = Beta(a, b + s / 52) / Beta(a, b)      (closed form)

It is the discrete-time, per-week-dropout relative of the BG/NBD (which lets customers drop out
only right after a purchase): its parameters are the engine's own, so nothing is mapped. The
weekly grid has one purchase per week at most; a log's several purchases in one week count once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaln, gammainc

from relsim.calibration.bgnbd import Fit, _fit
from relsim.units import WEEKS_PER_YEAR, occasion_probability, per_year, years

PARAMETERS = ("rate_mean", "rate_shape", "dropout_a", "dropout_b")
"""Fitted natural parameters: the gamma of orders a year (mean, shape) and the beta of the
annual defection propensity (a, b); :func:`segment_values` turns them into scenario fields."""
GRID_CELLS = 400
"""Cells of the purchase-rate grid, log-spaced from 1e-3 x the mean up to 52 a year, each
represented by its conditional mean rate (a test bounds the error against a finer grid)."""


@dataclass(frozen=True)
class RateGrid:
    """The gamma of orders a year on a grid: weekly purchase probability and prior mass per
    cell (the last cell is the mass at and above 52 a year, where q = 1)."""

    q: np.ndarray
    mass: np.ndarray
    edges: np.ndarray  # orders a year at the cells' edges (len(q) + 1; last is inf)


def rate_grid(mean: float, shape: float, cells: int = GRID_CELLS) -> RateGrid:
    """Exact gamma masses of log-spaced cells; each cell is represented by its geometric
    midpoint (cells below the first edge and above 52 a year are lumped)."""
    low = 1e-3 * mean
    inner = np.geomspace(low, WEEKS_PER_YEAR, cells) if low < WEEKS_PER_YEAR else np.array([])
    edges = np.concatenate([[0.0], inner, [np.inf]])
    cdf = gammainc(shape, np.minimum(edges, 1e300) * shape / mean)
    cdf[-1] = 1.0
    mass = np.diff(cdf)
    # each cell's conditional mean rate: E[lambda; cell] = mean * (mass of Gamma(shape + 1))
    first = gammainc(shape + 1.0, np.minimum(edges, 1e300) * shape / mean)
    first[-1] = 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(mass > 0, mean * np.diff(first) / mass, 0.0)
    middle = np.concatenate([[low / 2], np.sqrt(inner[:-1] * inner[1:]), [WEEKS_PER_YEAR]])
    rate = np.where((rate > 0) & np.isfinite(rate), rate, middle)
    return RateGrid(q=occasion_probability(rate), mass=mass, edges=edges)


def survival(a: float, b: float, weeks: np.ndarray) -> np.ndarray:
    """B(s) = E[(1 - theta)^(s/52)]: the share of customers still in a relationship ``s``
    weeks after the first purchase."""
    weeks = np.asarray(weeks, dtype=float)
    return np.exp(betaln(a, b + years(weeks)) - betaln(a, b))


def _histories(x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.stack([x, t_x, n], axis=1).astype(np.int64)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)


def _log_terms(params: np.ndarray, unique: np.ndarray) -> tuple[np.ndarray, np.ndarray, RateGrid]:
    """Per unique history and grid cell: the likelihood of staying in the relationship to
    week n and of having left between t_x and n (without the cell masses)."""
    mean, shape, a, b = params
    grid = rate_grid(mean, shape)
    x, t_x, n = unique[:, 0], unique[:, 1], unique[:, 2]
    top = int(n.max()) + 1
    weeks = np.arange(top + 1)
    keep = survival(a, b, weeks)  # B(0..top)
    leave = keep[:-1] - keep[1:]  # D(j) = B(j) - B(j + 1), j = 0..top-1
    q = grid.q[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log(q)
        log_miss = np.log1p(-q)
        # staying: q^x (1-q)^(n-x) B(n); q = 1 gives (1-q)^0 = 1 when n == x
        stay_log = x[:, None] * log_q + _times(n - x, log_miss) + np.log(keep[n])[:, None]
        # leaving: q^x sum_{j=t_x}^{n-1} (1-q)^(j-x) D(j), with suffix sums over j
        miss = np.exp(np.arange(top)[:, None] * log_miss)  # (top, cells): (1-q)^j
        terms = miss * leave[:, None]
        suffix = np.vstack([np.cumsum(terms[::-1], axis=0)[::-1], np.zeros((1, len(grid.q)))])
        window = np.maximum(suffix[t_x] - suffix[n], 0.0)
        leave_log = x[:, None] * (log_q - log_miss) + np.log(window)
        # q = 1: only the week-by-week buyer (t_x == x) who left right after week x
        full = grid.q >= 1.0
        if full.any():
            ok = (t_x == x) & (x <= n - 1)
            leave_log[:, full] = np.where(
                ok, np.log(np.maximum(leave[np.minimum(x, top - 1)], 1e-300)), -np.inf
            )[:, None]
    return stay_log, leave_log, grid


def _times(count: np.ndarray, log_value: np.ndarray) -> np.ndarray:
    """count * log_value with 0 * -inf = 0 (a probability to the power 0 is 1)."""
    out = count[:, None] * log_value
    return np.where(count[:, None] == 0, 0.0, out)


def _log_sum(values: np.ndarray) -> np.ndarray:
    """log(sum(exp(values))) along the last axis, without overflow."""
    peak = values.max(axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    return peak[..., 0] + np.log(np.exp(values - peak).sum(axis=-1))


def _history_terms(
    params: np.ndarray, unique: np.ndarray
) -> tuple[np.ndarray, np.ndarray, RateGrid]:
    """Per unique history and grid cell, with the cell's prior mass: the log-likelihood of
    staying to week n, and of all ways (staying or leaving); and the grid."""
    stay, leave, grid = _log_terms(params, unique)
    log_mass = np.log(np.maximum(grid.mass, 1e-300))[None, :]
    return stay + log_mass, np.logaddexp(stay, leave) + log_mass, grid


def log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood under relsim's process (module docstring)."""
    unique, inverse = _histories(x, t_x, n)
    _, both, _ = _history_terms(np.asarray(params, dtype=float), unique)
    return _log_sum(both)[inverse]


def fit_process(
    x: np.ndarray, t_x: np.ndarray, n: np.ndarray, start: tuple[float, ...] | None = None
) -> Fit:
    """Maximum-likelihood parameters of relsim's customer process from weekly histories
    (:func:`relsim.calibration.weekly_summary`), with standard errors from the observed
    information; :func:`segment_values` gives the scenario fields."""
    x, t_x, n = (np.asarray(v, dtype=np.int64) for v in (x, t_x, n))
    if not (len(x) == len(t_x) == len(n)) or len(x) == 0:
        raise ValueError("x, t_x and n need one value per customer")
    if (x < 0).any() or (t_x < x).any() or (t_x > n).any():
        raise ValueError("expected 0 <= x <= t_x <= n (weeks) for every customer")
    unique, inverse = _histories(x, t_x, n)
    counts = np.bincount(inverse, minlength=len(unique))
    if start is None:
        watched = np.maximum(t_x, 1).sum()
        rate = float(np.clip(per_year(x.sum()) / watched, 0.05, 40.0))
        start = (rate, 1.0, 1.0, 3.0)

    def nll(theta: np.ndarray) -> float:
        params = np.exp(theta)
        if params[0] > 1e4 or params[1] > 1e4:
            return 1e300
        _, both, _ = _history_terms(params, unique)
        value = -float(np.dot(counts, _log_sum(both)))
        return value if np.isfinite(value) else 1e300

    return _fit("relsim customer process", PARAMETERS, nll, np.log(np.array(start)), len(x), 0)


def segment_values(fit: Fit) -> pd.DataFrame:
    """The fit as scenario fields with standard errors (delta method for the beta's mean and
    concentration): ``orders_per_year.mean``, ``.shape``, ``defection_propensity.mean``,
    ``.concentration``."""
    m, s, a, b = (fit.params[k] for k in PARAMETERS)
    c = a + b
    values = np.array([m, s, a / c, c])
    jac = np.zeros((4, 4))
    jac[0, 0] = jac[1, 1] = 1.0
    jac[2, 2], jac[2, 3] = b / c**2, -a / c**2
    jac[3, 2] = jac[3, 3] = 1.0
    cov = jac @ fit.covariance @ jac.T
    errors = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    names = [
        "orders_per_year.mean",
        "orders_per_year.shape",
        "defection_propensity.mean",
        "defection_propensity.concentration",
    ]
    return pd.DataFrame(
        {
            "field": names,
            "estimate": values,
            "standard_error": errors,
            "low": values - 1.96 * errors,
            "high": values + 1.96 * errors,
        }
    ).set_index("field")


# ---------------------------------------------------------------------------- forecasts
def expected_repeat_weeks(params: dict[str, float], weeks: np.ndarray | int) -> np.ndarray:
    """Expected repeat purchase weeks in weeks 1..k after a new customer's first purchase,
    for each k in ``weeks``: E[q] * sum_{j<=k} B(j)."""
    m, s, a, b = (params[k] for k in PARAMETERS)
    grid = rate_grid(m, s)
    mean_q = float(np.dot(grid.mass, grid.q))
    weeks = np.atleast_1d(np.asarray(weeks, dtype=np.int64))
    top = int(weeks.max()) if len(weeks) else 0
    cumulative = np.concatenate([[0.0], np.cumsum(survival(a, b, np.arange(1, top + 1)))])
    return mean_q * cumulative[weeks]


@dataclass(frozen=True)
class Posterior:
    """Per customer: the probability of still being in the relationship at the end of the
    calibration period, and the purchase-rate grid weights given that (rows sum to 1)."""

    alive: np.ndarray
    rate_weights: np.ndarray  # (customers' unique histories, cells)
    inverse: np.ndarray  # customer -> unique history row
    grid: RateGrid
    n: np.ndarray


def posterior(params: dict[str, float], x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> Posterior:
    """What each customer's own history says about them under the fitted process."""
    values = np.array([params[k] for k in PARAMETERS])
    x, t_x, n = (np.asarray(v, dtype=np.int64) for v in (x, t_x, n))
    unique, inverse = _histories(x, t_x, n)
    stay, both, grid = _history_terms(values, unique)
    stay_total = _log_sum(stay)
    alive = np.exp(stay_total - _log_sum(both))
    weights = np.exp(stay - stay_total[:, None])
    weights /= weights.sum(axis=1, keepdims=True)
    return Posterior(alive[inverse], weights, inverse, grid, n)


def conditional_expected_weeks(
    params: dict[str, float], weeks: int, x: np.ndarray, t_x: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """Expected purchase weeks in the ``weeks`` weeks after each customer's calibration
    period, given the customer's history: relsim's closed-form holdout forecast."""
    post = posterior(params, x, t_x, n)
    a, b = params["dropout_a"], params["dropout_b"]
    mean_q = post.rate_weights @ post.grid.q  # E[q | alive, history] per unique history
    n_all = np.asarray(n, dtype=float)
    ahead = np.arange(1, weeks + 1, dtype=float)
    kept = np.exp(
        betaln(a, b + years(n_all[:, None] + ahead[None, :])) - betaln(a, b + years(n_all[:, None]))
    ).sum(axis=1)
    return post.alive * mean_q[post.inverse] * kept


def draw_customers(
    params: dict[str, float],
    x: np.ndarray,
    t_x: np.ndarray,
    n: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """One draw of each customer's state at the end of the calibration period from the
    posterior: ``alive`` (still in the relationship), and for every customer an annual
    purchase rate and defection propensity (meaningful for those alive): the rate from its grid
    posterior (log-uniform inside the drawn cell), the propensity from Beta(a, b + n / 52),
    which is exact given survival to week n."""
    post = posterior(params, x, t_x, n)
    count = len(post.inverse)
    alive = rng.random(count) < post.alive
    weights = post.rate_weights[post.inverse]
    cdf = np.cumsum(weights, axis=1)
    cell = (cdf < rng.random(count)[:, None] * cdf[:, -1:]).sum(axis=1)
    cell = np.minimum(cell, weights.shape[1] - 1)
    edges = post.grid.edges
    low, high = edges[cell], edges[cell + 1]
    u = rng.random(count)
    inner = (low > 0) & np.isfinite(high)
    rate = np.where(
        inner,
        np.exp(
            np.log(np.maximum(low, 1e-300))
            + u * (np.log(np.where(inner, high, 1.0)) - np.log(np.maximum(low, 1e-300)))
        ),
        per_year(post.grid.q[cell]),
    )
    a, b = params["dropout_a"], params["dropout_b"]
    theta = rng.beta(a, b + years(np.asarray(n, dtype=float)))
    return {"alive": alive, "orders_per_year": rate, "defection_propensity": theta}
