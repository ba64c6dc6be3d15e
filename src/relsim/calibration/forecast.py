"""Forecasts of relsim's customer process (``relsim.calibration.process``) in closed form.

For a new customer, the expected repeat purchase weeks after its first purchase; for a known
customer, what its history says about it (the posterior: still in a relationship or not, its
purchase rate), its expected purchase weeks in the weeks ahead, and one random draw of its state
for the engine's conditional simulation (``relsim.calibration.simulate_history``). Both process
variants (dropout independent of the purchase rate, or rate-linked) are covered: the pace of the
dropout clock is taken per cell of the rate grid; so is the stayers variant, whose never-defecting
customers are a second component of the posterior, and the periodic variant, whose dropout clock
counts only the weeks of the opportunities passed (``relsim.calibration.periodic``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relsim.calibration import periodic
from relsim.calibration.process import (
    NEVER_SHARE,
    RATE_POWER,
    RateGrid,
    _histories,
    _log_sum,
    cell_scale,
    component_terms,
    linked_propensity,
    log_beta_ratio,
    rate_grid,
    rate_scale,
    survival,
    vector,
)
from relsim.units import per_year, years


def expected_repeat_weeks(
    params: dict[str, float], weeks: np.ndarray | int, birth_week: int = 0
) -> np.ndarray:
    """Expected repeat purchase weeks in weeks 1..k after a new customer's first purchase,
    for each k in ``weeks``: E[q * sum_{j<=k} B(j | lambda)]. ``birth_week``: the calendar
    week of the first purchase (the periodic variant's opportunities fall on the weeks
    divisible by its period; the other variants ignore it)."""
    values = vector(params)
    grid = rate_grid(values[0], values[1])
    a, b = values[2], values[3]
    weeks = np.atleast_1d(np.asarray(weeks, dtype=np.int64))
    top = int(weeks.max()) if len(weeks) else 0
    scale = cell_scale(values, grid)
    tau, _ = periodic.settings(params)
    shift = np.array([birth_week % tau]) if tau > 1 else np.zeros(1, np.int64)
    clock = periodic.exposure(np.zeros(1, np.int64), top, tau, 0)[1][shift[0]]
    kept = survival(a, b, clock[1:, None], scale[None, :])
    cumulative = np.vstack([np.zeros((1, len(scale))), np.cumsum(kept, axis=0)])
    buying = grid.mass * grid.q
    mortal = (
        float(buying.sum()) * cumulative[weeks, 0]
        if len(scale) == 1
        else cumulative[weeks] @ buying
    )
    share = float(params.get(NEVER_SHARE, 0.0))
    if not share:
        return mortal
    return (1.0 - share) * mortal + share * float(buying.sum()) * weeks


@dataclass(frozen=True)
class Posterior:
    """Per customer: the probability of still being in the relationship at the end of the
    calibration period, and the purchase-rate grid weights given that (rows sum to 1)."""

    alive: np.ndarray
    rate_weights: np.ndarray  # (customers' unique histories, cells)
    inverse: np.ndarray  # customer -> unique history row
    grid: RateGrid
    n: np.ndarray
    stayer_weights: np.ndarray | None = None  # the stayers' part of rate_weights (variant)


def posterior(params: dict[str, float], x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> Posterior:
    """What each customer's own history says about them under the fitted process."""
    values = vector(params)
    x, t_x, n = (np.asarray(v, dtype=np.int64) for v in (x, t_x, n))
    unique, inverse = _histories(x, t_x, n)
    stay, both, stayer, grid = component_terms(values, unique, periodic.settings(params))
    stay_total = _log_sum(stay)
    alive = np.exp(stay_total - _log_sum(both))
    weights = np.exp(stay - stay_total[:, None])
    norm = weights.sum(axis=1, keepdims=True)
    weights /= norm
    stayers = None if stayer is None else np.exp(stayer - stay_total[:, None]) / norm
    return Posterior(alive[inverse], weights, inverse, grid, n, stayers)


def conditional_expected_weeks(
    params: dict[str, float], weeks: int, x: np.ndarray, t_x: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """Expected purchase weeks in the ``weeks`` weeks after each customer's calibration
    period, given the customer's history: relsim's closed-form holdout forecast."""
    values = vector(params)
    post = posterior(params, x, t_x, n)
    a, b = values[2], values[3]
    scale = cell_scale(values, post.grid)  # (cells,) or a single 1
    n_all = np.asarray(n, dtype=float)
    ends, which = np.unique(n_all, return_inverse=True)
    period = periodic.settings(params)
    ahead = periodic.exposure_ahead(np.arange(1, weeks + 1), *period)
    # kept[e, k, c]: still in the relationship k weeks on, given in it at week ends[e]
    start = scale[None, :] * years(periodic.exposure_at_end(ends, *period))[:, None]
    kept = np.exp(
        log_beta_ratio(a, b + start[:, None, :], scale[None, None, :] * years(ahead)[None, :, None])
    ).sum(axis=1)  # (ends, cells or 1)
    buying = post.rate_weights * post.grid.q[None, :]  # E[q; cell | alive, history]
    if post.stayer_weights is None and len(scale) == 1:
        return post.alive * buying.sum(axis=1)[post.inverse] * kept[which, 0]
    stayers = 0.0
    if post.stayer_weights is not None:
        # stayers buy in every week ahead at their rate; the others' survival as before
        staying = post.stayer_weights * post.grid.q[None, :]
        buying = buying - staying
        stayers = staying.sum(axis=1)[post.inverse] * weeks
    per_customer = (buying[post.inverse] * kept[which]).sum(axis=1)
    return post.alive * (per_customer + stayers)


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
    posterior (log-uniform inside the drawn cell), the propensity ``theta`` from
    Beta(a, b + g E(n) / 52), which is exact given survival to week n (``E(n) = n`` but for
    the periodic variant, ``relsim.calibration.periodic``), turned into the annual propensity
    the engine runs, ``1 - (1 - theta) ** g`` (``g = 1`` without the rate power)."""
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
    power = float(params.get(RATE_POWER, 0.0))
    exposed = years(periodic.exposure_at_end(n, *periodic.settings(params)))
    if not power and post.stayer_weights is None:
        theta = rng.beta(a, b + exposed)
        return {"alive": alive, "orders_per_year": rate, "defection_propensity": theta}
    scale = rate_scale(rate, params["rate_mean"], power)
    theta = rng.beta(a, b + scale * exposed)
    propensity = linked_propensity(theta, scale)
    if post.stayer_weights is not None:
        # a stayer given its drawn cell (and alive): the stayers' share of the cell's weight
        row = post.inverse
        odds = post.stayer_weights[row, cell] / np.maximum(weights[np.arange(count), cell], 1e-300)
        propensity = np.where(rng.random(count) < odds, 0.0, propensity)
    return {"alive": alive, "orders_per_year": rate, "defection_propensity": propensity}
