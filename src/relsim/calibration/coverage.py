"""Does a forecast's interval cover what happens? Coverage on logs from known parameters.

:func:`story_histories` simulates customers from the process's own story (week by week: the
relationship ends with the weekly hazard, else a purchase with the weekly probability; births
spread over the first weeks, as in CDNOW), for a calibration period and a holdout after it.
:func:`coverage_study` draws many such logs from the same known parameters, calibrates each on
its calibration period, forecasts its holdout total with ``simulate_history`` (with the fit's
parameter uncertainty) and records whether the 90% interval covers the log's true holdout
total, and whether an interval from the simulation noise alone (the same replications, their
spread around each replication's expectation, centred on the fitted parameters' forecast)
would have. Its tests run a few logs; ``scripts/forecast_coverage.py`` runs many.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from relsim.calibration import forecast, periodic, process
from relsim.calibration.history import simulate_history
from relsim.calibration.uncertainty import ParameterDistribution

Z_90 = 1.6448536269514722
"""The standard normal's 95% quantile: a central 90% interval is mean +- Z_90 sd."""


def story_histories(
    params: dict[str, float],
    customers: int,
    calibration_weeks: int,
    holdout_weeks: int,
    rng: np.random.Generator,
    birth_weeks: int = 12,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Weekly histories (``x``, ``t_x``, ``n`` as ``weekly_summary`` gives them) and each
    customer's purchase weeks in the holdout, from the process's story (the periodic
    variant's opportunities placed by ``params``' calendar, ``relsim.calibration.periodic``)."""
    shape, mean = params["rate_shape"], params["rate_mean"]
    rate = rng.gamma(shape, mean / shape, customers)
    q = np.minimum(rate / 52.0, 1.0)
    theta = rng.beta(params["dropout_a"], params["dropout_b"], customers)
    power = float(params.get(process.RATE_POWER, 0.0))
    theta = process.linked_propensity(theta, process.rate_scale(rate, mean, power))
    if process.NEVER_SHARE in params:  # the stayers variant: drawn only then
        theta[rng.random(customers) < params[process.NEVER_SHARE]] = 0.0
    tau, since = periodic.settings(params)  # (1, 0) but for the periodic variant
    hazard = 1.0 - (1.0 - theta) ** (tau / 52.0)  # at each opportunity (every week: tau = 1)
    n = calibration_weeks - rng.integers(0, birth_weeks, customers)
    alive = np.ones(customers, dtype=bool)
    x = np.zeros(customers, dtype=np.int64)
    t_x = np.zeros(customers, dtype=np.int64)
    later = np.zeros(customers, dtype=np.int64)
    for week in range(1, int(n.max()) + holdout_weeks + 1):
        watched = week <= n + holdout_weeks
        chance = np.where((week - n + since) % tau == 0, hazard, 0.0)
        alive &= ~(watched & (rng.random(customers) < chance))
        buys = alive & watched & (rng.random(customers) < q)
        inside = buys & (week <= n)
        x += inside
        t_x[inside] = week
        later += buys & (week > n)
    return pd.DataFrame({"x": x, "t_x": t_x, "n": n}), later


def coverage_study(
    params: dict[str, float],
    logs: int,
    customers: int = 300,
    calibration_weeks: int = 39,
    holdout_weeks: int = 39,
    replications: int = 40,
    seed: int = 2026,
) -> pd.DataFrame:
    """One row per log: the true holdout total, the forecast (mean of the replications), its
    90% intervals (from the replications' quantiles and mean +- 1.645 sd) and whether they
    cover the truth, and the same for the simulation noise alone."""
    rng = np.random.default_rng(seed)
    rows = []
    for log in range(logs):
        summary, later = story_histories(params, customers, calibration_weeks, holdout_weeks, rng)
        fit = process.fit_process(
            summary["x"], summary["t_x"], summary["n"], rate_power=process.RATE_POWER in params
        )
        sim = simulate_history(
            fit.params,
            summary,
            holdout_weeks,
            replications,
            seed=seed + log,
            uncertainty=ParameterDistribution.from_fit(fit),
        )
        rows.append(_row(sim, fit.params, summary, holdout_weeks, float(later.sum())))
    return pd.DataFrame(rows)


def _row(sim, params, summary, weeks, truth) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The intervals of one log's forecast and whether they cover ``truth``."""
    x, t_x, n = (summary[c].to_numpy() for c in ("x", "t_x", "n"))
    parts = sim.parts()
    low, high = sim.interval(0.9)
    mean = float(sim.totals.mean())
    # the simulation noise alone: the fitted parameters' forecast, spread by the replications'
    # deviations from their own expectations
    point = float(forecast.conditional_expected_weeks(params, weeks, x, t_x, n).sum())
    noise = point + (sim.totals - sim.expected)
    noise_low, noise_high = np.quantile(noise, [0.05, 0.95])
    return {
        "truth": truth,
        "forecast": mean,
        "low_90": low,
        "high_90": high,
        "covered": bool(low <= truth <= high),
        "covered_normal": bool(abs(truth - mean) <= Z_90 * parts["total_sd"]),
        "parameter_sd": parts["parameter_sd"],
        "simulation_sd": parts["simulation_sd"],
        "noise_only_covered": bool(noise_low <= truth <= noise_high),
    }


__all__ = ["Z_90", "coverage_study", "story_histories"]
