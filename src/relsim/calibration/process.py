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

**The rate-linked variant** (opt-in, scenario field ``defection_rate_power = k``): a customer
buying ``lambda`` orders a year runs its dropout clock at ``g = (lambda / mean) ** k`` times the
calendar's pace, so its weekly hazard is ``1 - (1 - theta) ** (g / 52)`` (its annual propensity
``1 - (1 - theta) ** g``). ``k = 0`` is the process above (dropout independent of the rate, as
in the Pareto/NBD of Schmittlein, Morrison & Colombo 1987); ``k = 1`` makes the dropout hazard
proportional to the purchase rate, so dropout comes in expectation at a fixed chance per
purchase occasion, as in the BG/NBD (Fader, Hardie & Lee 2005): a silent light buyer is then
probably a slow buyer still alive, not a lost one. Between and beyond, ``k`` is a correlation of
the purchase and dropout rates across customers, which Abe's (2009) hierarchical Pareto/NBD
estimates. The likelihood is the same sum with ``B`` taken per cell of the rate grid:
``B(s | lambda) = Beta(a, b + g s / 52) / Beta(a, b)`` inside the expectation over ``lambda``.

**The stayers variant** (opt-in, scenario field ``never_defecting_share = pi``, with the
rate-linked dropout): a share ``pi`` of customers never end the relationship for reasons of
their own, the others run the rate-linked process. A stayer's history has the likelihood
``A(x, n - x)`` (its ``B`` is 1), so ``L = (1 - pi) L_rate-linked + pi A(x, n - x)``: the BTYD
literature's mixture of a segment that never defects with one that does (a split-hazard or
"cure" model, as in Fader, Hardie & Shang's 2010 beta-discrete-Weibull with a never-defecting
share), here on top of the rate-linked clock, so that light buyers' long silences weigh less
towards "gone" while repeat buyers keep the rate-linked dropout.

**The periodic variant** (opt-in, scenario field ``defection_period_weeks = tau``, with the
rate-linked clock): Jerath, Fader & Hardie's (2011) periodic death opportunities, dropout only
in the calendar weeks divisible by ``tau``, with the chance the clock built up over the period.
The likelihood is the same sum with ``B(s)`` taken at the weeks of dropout ``E(s)`` the history
was exposed to (``relsim.calibration.periodic``), which depend on where its first week sits on
the calendar: per class of histories.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaln, gammainc

from relsim.calibration import periodic
from relsim.calibration.bgnbd import Fit, _fit
from relsim.model.defection import rate_linked
from relsim.units import WEEKS_PER_YEAR, occasion_probability, per_year, years

PARAMETERS = ("rate_mean", "rate_shape", "dropout_a", "dropout_b")
"""Fitted natural parameters: the gamma of orders a year (mean, shape) and the beta of the
annual defection propensity (a, b); :func:`segment_values` turns them into scenario fields."""
RATE_POWER = "dropout_rate_power"
"""The optional fifth parameter ``k`` of the rate-linked variant: a customer buying ``lambda``
orders a year runs its dropout clock at ``(lambda / mean) ** k`` times the calendar's pace
(scenario field ``defection_rate_power``; module docstring)."""
NEVER_SHARE = "never_defecting_share"
"""The stayers variant's sixth parameter ``pi``: the share of customers who never defect for
reasons of their own (scenario field ``never_defecting_share``; module docstring)."""
STAYER_STARTS = (0.1, 0.4, 0.7)
"""The shares the stayers variant's fit starts from (the highest likelihood kept) when no start
is given: near the rate-linked fit the likelihood barely moves with the share (a beta with
``a`` below 1 mimics stayers), and from 0.1 alone L-BFGS-B stopped there on a cohort whose
true share was 0.4 (``tests/test_calibration_stayers.py``)."""
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
    rate: np.ndarray  # each cell's representative orders a year (its conditional mean)


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
    return RateGrid(q=occasion_probability(rate), mass=mass, edges=edges, rate=rate)


def parameter_names(params: dict[str, float]) -> tuple[str, ...]:
    """The process's parameters in ``params``: the four, the rate power if present, and the
    stayers' share if present (after the rate power)."""
    linked = (RATE_POWER,) if RATE_POWER in params or NEVER_SHARE in params else ()
    return PARAMETERS + linked + ((NEVER_SHARE,) if NEVER_SHARE in params else ())


def vector(params: dict[str, float]) -> np.ndarray:
    """The parameters as the likelihood takes them (four, five with the rate power, six with
    the stayers' share; a share without a rate power has power 0)."""
    return np.array([params.get(k, 0.0) for k in parameter_names(params)], dtype=float)


def rate_scale(rate: np.ndarray, mean: float, power: float) -> np.ndarray:
    """``(rate / mean) ** power``: how fast a customer buying ``rate`` orders a year runs its
    dropout clock (1 for everyone when ``power`` is 0)."""
    rate = np.asarray(rate, dtype=float)
    if power == 0:
        return np.ones_like(rate)
    return np.power(np.maximum(rate, 1e-300) / mean, power)


def linked_propensity(theta: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The annual propensity ``1 - (1 - theta) ** scale`` whose weekly hazard runs the dropout
    clock ``scale`` times as fast: the engine's own function (``defection.rate_linked``)."""
    return rate_linked(theta, scale, 1.0)


def log_beta_ratio(a: float, b: np.ndarray | float, add: np.ndarray | float) -> np.ndarray:
    """``log B(a, b + add) - log B(a, b)``, the log of E[(1 - theta)^add] for
    theta ~ Beta(a, b); for a beta so concentrated (a + b above 1e8) that the log-gamma
    differences lose their digits, the limit ``add * log(1 - a / (a + b))`` (its relative error
    is below add^2 / (a + b)). Parameter draws of a log that cannot tell the dropout's
    heterogeneity reach such values."""
    b = np.asarray(b, dtype=float)
    add = np.asarray(add, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        exact = betaln(a, b + add) - betaln(a, b)
        limit = add * np.log1p(-a / (a + b))
    return np.where(a + b > 1e8, limit, exact)


def survival(a: float, b: float, weeks: np.ndarray, scale: np.ndarray | float = 1.0) -> np.ndarray:
    """B(s) = E[(1 - theta)^(g s/52)]: the share of customers still in a relationship ``s``
    weeks after the first purchase, for dropout clocks running at ``g = scale``."""
    weeks = np.asarray(weeks, dtype=float)
    return np.exp(log_beta_ratio(a, b, scale * years(weeks)))


def cell_scale(params: np.ndarray, grid: RateGrid) -> np.ndarray:
    """The dropout clock's pace per grid cell; a single 1 without the rate power."""
    power = float(params[4]) if len(params) > 4 else 0.0
    return rate_scale(grid.rate, float(params[0]), power) if power else np.ones(1)


def _histories(x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.stack([x, t_x, n], axis=1).astype(np.int64)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)


def _log_terms(
    params: np.ndarray, unique: np.ndarray, period: tuple[int, int] = (1, 0)
) -> tuple[np.ndarray, np.ndarray, RateGrid]:
    """Per unique history and grid cell: the likelihood of staying in the relationship to
    week n and of having left between t_x and n (without the cell masses). ``period`` is the
    periodic variant's ``(tau, since)`` (``relsim.calibration.periodic``; ``(1, 0)``: every
    week), whose survival depends on the history's class (where its weeks sit on the calendar)."""
    mean, shape, a, b = params[:4]
    grid = rate_grid(mean, shape)
    x, t_x, n = unique[:, 0], unique[:, 1], unique[:, 2]
    top = int(n.max()) + 1
    cls, clock = periodic.exposure(n, top, *period)  # clock: (classes, top + 1) weeks exposed
    # B(0..top) per class and cell (one cell column without the rate power: all the same),
    # computed once per distinct exposure (a periodic clock takes few values)
    levels, where = np.unique(clock, return_inverse=True)
    keep = survival(a, b, levels[:, None], cell_scale(params, grid)[None, :])
    keep = keep[where.reshape(clock.shape)]
    leave = keep[:, :-1] - keep[:, 1:]  # D(j) = B(j) - B(j + 1), j = 0..top-1
    q = grid.q[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log(q)
        log_miss = np.log1p(-q)
        # staying: q^x (1-q)^(n-x) B(n); q = 1 gives (1-q)^0 = 1 when n == x
        stay_log = x[:, None] * log_q + _times(n - x, log_miss) + np.log(keep[cls, n])
        # leaving: q^x sum_{j=t_x}^{n-1} (1-q)^(j-x) D(j), with suffix sums over j
        miss = np.exp(np.arange(top)[:, None] * log_miss)  # (top, cells): (1-q)^j
        terms = miss[None, :, :] * leave
        tail = np.cumsum(terms[:, ::-1], axis=1)[:, ::-1]
        suffix = np.concatenate([tail, np.zeros((len(clock), 1, len(grid.q)))], axis=1)
        window = np.maximum(suffix[cls, t_x] - suffix[cls, n], 0.0)
        leave_log = x[:, None] * (log_q - log_miss) + np.log(window)
        # q = 1: only the week-by-week buyer (t_x == x) who left right after week x
        full = grid.q >= 1.0
        if full.any():
            ok = (t_x == x) & (x <= n - 1)
            last = leave[cls, np.minimum(x, top - 1)]
            last = last if last.shape[1] == 1 else last[:, full]
            leave_log[:, full] = np.where(ok[:, None], np.log(np.maximum(last, 1e-300)), -np.inf)
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


def component_terms(
    params: np.ndarray, unique: np.ndarray, period: tuple[int, int] = (1, 0)
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, RateGrid]:
    """Per unique history and grid cell, with the cell's prior mass: the log-likelihood of
    staying to week n, and of all ways (staying or leaving); for the stayers variant, the
    stayers' part of the staying term (log, with the share and the mass; None otherwise); and
    the grid. ``period``: the periodic variant's ``(tau, since)`` (:func:`_log_terms`)."""
    stay, leave, grid = _log_terms(params, unique, period)
    log_mass = np.log(np.maximum(grid.mass, 1e-300))[None, :]
    stay, both = stay + log_mass, np.logaddexp(stay, leave) + log_mass
    if len(params) < 6:
        return stay, both, None, grid
    share = float(params[5])
    x, n = unique[:, 0], unique[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q, log_miss = np.log(grid.q), np.log1p(-grid.q)
        stayer = x[:, None] * log_q[None, :] + _times(n - x, log_miss[None, :]) + log_mass
        stayer += np.log(share)
        mortal = np.log1p(-share)
    return np.logaddexp(stay + mortal, stayer), np.logaddexp(both + mortal, stayer), stayer, grid


def log_likelihood(
    params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    n: np.ndarray,
    period: tuple[int, int] = (1, 0),
) -> np.ndarray:
    """Each customer's log-likelihood under relsim's process (module docstring); ``period``:
    the periodic variant's ``(tau, since)`` (``relsim.calibration.periodic``)."""
    unique, inverse = _histories(x, t_x, n)
    _, both, _, _ = component_terms(np.asarray(params, dtype=float), unique, period)
    return _log_sum(both)[inverse]


def fit_process(
    x: np.ndarray,
    t_x: np.ndarray,
    n: np.ndarray,
    start: tuple[float, ...] | None = None,
    rate_power: bool = False,
    stayers: bool = False,
    period: tuple[int, int] = (1, 0),
    information: bool = True,
) -> Fit:
    """Maximum-likelihood parameters of relsim's customer process from weekly histories
    (:func:`relsim.calibration.weekly_summary`), with standard errors from the observed
    information; :func:`segment_values` gives the scenario fields. ``rate_power`` fits the
    rate-linked variant (a fifth parameter, :data:`RATE_POWER`, estimated on its own scale);
    ``stayers`` the stayers variant (rate-linked and a sixth, :data:`NEVER_SHARE`);
    ``period`` ``(tau, since)`` the periodic variant (dropout only at the opportunities,
    ``relsim.calibration.periodic``; kept in the fit's ``settings``). ``information=False``
    skips the standard errors (a profile over settings needs only the likelihood)."""
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
    rate_power = rate_power or stayers
    names = PARAMETERS + ((RATE_POWER,) if rate_power else ()) + ((NEVER_SHARE,) if stayers else ())
    begin = np.log(np.array(start[:4], dtype=float))
    if rate_power:
        begin = np.append(begin, start[4] if len(start) > 4 else 0.0)
    # the share's likelihood is flat near the rate-linked fit: several starts, the best kept
    shares = (start[5],) if len(start) > 5 else STAYER_STARTS
    begins = [np.append(begin, np.log(share)) for share in shares] if stayers else [begin]

    def nll(theta: np.ndarray) -> float:
        params = np.concatenate([np.exp(theta[:4]), theta[4:5], np.exp(theta[5:])])
        if params[0] > 1e4 or params[1] > 1e4 or (len(params) > 4 and abs(params[4]) > 8):
            return 1e300
        if len(params) > 5 and params[5] >= 1.0:
            return 1e300
        _, both, _, _ = component_terms(params, unique, period)
        value = -float(np.dot(counts, _log_sum(both)))
        return value if np.isfinite(value) else 1e300

    free = (4,) if rate_power else ()
    name = "relsim customer process"
    fits = [_fit(name, names, nll, b, len(x), 0, free, information) for b in begins]
    fit = max(fits, key=lambda f: f.log_likelihood)
    if period[0] > 1:
        fit.settings = {periodic.PERIOD: float(period[0]), periodic.SINCE: float(period[1])}
    return fit


def natural(fit: Fit) -> dict[str, float]:
    """A process fit's parameters with its settings (the periodic variant's calendar): what the
    forecasts (``relsim.calibration.forecast``) and the scenario take."""
    return {**fit.params, **fit.settings}


def segment_values(fit: Fit) -> pd.DataFrame:
    """The fit as scenario fields with standard errors (delta method for the beta's mean and
    concentration): ``orders_per_year.mean``, ``.shape``, ``defection_propensity.mean``,
    ``.concentration`` and, for the rate-linked variant, ``defection_rate_power``."""
    m, s, a, b = (fit.params[k] for k in PARAMETERS)
    c = a + b
    k = len(fit.params)
    extra = [fit.params[name] for name in (RATE_POWER, NEVER_SHARE) if name in fit.params]
    values = np.array([m, s, a / c, c, *extra])
    jac = np.eye(k)
    jac[2, 2], jac[2, 3] = b / c**2, -a / c**2
    jac[3, 2] = jac[3, 3] = 1.0
    cov = jac @ fit.covariance @ jac.T
    errors = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    names = [
        "orders_per_year.mean",
        "orders_per_year.shape",
        "defection_propensity.mean",
        "defection_propensity.concentration",
        *(["defection_rate_power"] if k > 4 else []),
        *(["never_defecting_share"] if k > 5 else []),
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
