"""Conditional simulation: a calibrated customer base run forward through the engine.

:func:`simulate_history` starts the engine from each customer of a log as its own history
describes it and runs the fitted process for the weeks ahead, many replications. With the
fit's sampling distribution (``uncertainty``, ``relsim.calibration.uncertainty``) each
replication first draws its own parameters, so the replications' spread holds both what the
customers' randomness and what the log's limited information leave open;
:meth:`HistoryForecast.parts` separates the two with the closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from relsim.calibration import forecast
from relsim.calibration.calibrate import process_scenario
from relsim.calibration.process import NEVER_SHARE, RATE_POWER
from relsim.calibration.spend import GammaGammaFit, OrderValueFit
from relsim.calibration.uncertainty import ParameterDistribution, variance_parts


@dataclass
class HistoryForecast:
    """Purchase weeks after the calibration period, simulated from each customer's history."""

    per_customer: pd.DataFrame  # customer, mean and sd over replications
    weekly: pd.DataFrame  # replication, week, purchases
    replications: int
    totals: np.ndarray  # per replication: the simulated total purchase weeks
    expected: np.ndarray  # per replication: the closed-form total given its parameters
    parameters: pd.DataFrame  # per replication: the parameters it ran
    with_uncertainty: bool = False

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """The central ``level`` interval of the replications' totals."""
        tail = (1.0 - level) / 2.0
        low, high = np.quantile(self.totals, [tail, 1.0 - tail])
        return float(low), float(high)

    def parts(self) -> dict[str, float]:
        """The total's spread and its two parts: ``parameter_sd`` (0 without uncertainty)
        and ``simulation_sd`` (``relsim.calibration.uncertainty.variance_parts``)."""
        return variance_parts(self.totals, self.expected)


def simulate_history(
    params: dict[str, float],
    summary: pd.DataFrame,
    weeks: int,
    replications: int = 100,
    seed: int = 2026,
    order_value: OrderValueFit | GammaGammaFit | None = None,
    uncertainty: ParameterDistribution | None = None,
) -> HistoryForecast:
    """Conditional simulation: each replication draws every customer's state at the end of
    the calibration period from the posterior given its own history (still in a relationship
    or not; its purchase rate and defection propensity), starts the engine from the customers
    still in a relationship (:class:`relsim.model.starting.StartingCustomers`) and runs the
    fitted process for ``weeks`` weeks. Replication ``r`` has the seed of a run's replication
    ``r``: its ``history`` stream draws the states, its engine streams run the market. With
    ``uncertainty`` (``Calibration.uncertainty``) replication ``r`` first draws the process's
    parameters from the fit's sampling distribution with its ``parameters`` stream."""
    from relsim.experiment.pool import replication_seed
    from relsim.model.streams import Streams

    x, t_x, n = (summary[c].to_numpy() for c in ("x", "t_x", "n"))
    value = np.full(len(summary), order_value.mean if order_value else 40.0)
    if order_value is not None and "mean_amount" in summary:
        value = order_value.own_values(summary["k"], summary["mean_amount"].fillna(0.0))
    counts = np.zeros((replications, len(summary)))
    weekly = np.zeros((replications, weeks))
    expected = np.zeros(replications)
    drawn = []
    fixed_expectation = None
    for r in range(replications):
        root = replication_seed(seed, r)
        streams = Streams(root)
        run_params = params if uncertainty is None else uncertainty.draw(streams.parameters)
        drawn.append(run_params)
        if uncertainty is not None or fixed_expectation is None:
            total = forecast.conditional_expected_weeks(run_params, weeks, x, t_x, n).sum()
            fixed_expectation = float(total)
        expected[r] = fixed_expectation
        draws = forecast.draw_customers(run_params, x, t_x, n, streams.history)
        counts[r], weekly[r] = _run_one(run_params, draws, value, order_value, weeks, seed, root)
    per_customer = pd.DataFrame(
        {"mean": counts.mean(axis=0), "sd": counts.std(axis=0, ddof=1)}, index=summary.index
    )
    tidy = pd.DataFrame(
        {
            "replication": np.repeat(np.arange(replications), weeks),
            "week": np.tile(np.arange(weeks), replications),
            "purchases": weekly.ravel(),
        }
    )
    return HistoryForecast(
        per_customer,
        tidy,
        replications,
        totals=counts.sum(axis=1),
        expected=expected,
        parameters=pd.DataFrame(drawn),
        with_uncertainty=uncertainty is not None,
    )


def _run_one(
    params: dict[str, float],
    draws: dict[str, np.ndarray],
    value: np.ndarray,
    order_value: OrderValueFit | GammaGammaFit | None,
    weeks: int,
    seed: int,
    root: np.random.SeedSequence,
) -> tuple[np.ndarray, np.ndarray]:
    """One replication through the engine: each customer's purchase weeks and the focal
    firm's orders per week (zeros when nobody is still in a relationship)."""
    from relsim.model.starting import StartingCustomers
    from relsim.scenario import Scenario
    from relsim.simulation import simulate

    counts = np.zeros(len(value))
    alive = np.flatnonzero(draws["alive"])
    if not len(alive):
        return counts, np.zeros(weeks)
    # the starting customers carry their own propensities (rate-linked or not); the segment's
    # rate power would act only on customers born later, and this market has no births, so a
    # drawn power outside the scenario field's range is left out of the scenario, and a drawn
    # mean rate above the field's bound of 52 a year is capped there (it too acts at births)
    own = {k: v for k, v in params.items() if k not in (RATE_POWER, NEVER_SHARE)}
    own["rate_mean"] = min(own["rate_mean"], 50.0)
    scenario = Scenario.model_validate(
        process_scenario(own, order_value, customers=len(alive), weeks=weeks, seed=seed)
    )
    run = simulate(
        scenario,
        seed=root,
        starting=StartingCustomers(
            orders_per_year=draws["orders_per_year"][alive],
            defection_propensity=draws["defection_propensity"][alive],
            order_value=value[alive],
        ),
    )
    table = run.customers
    counts[alive[table["customer"].to_numpy()]] = table["orders_focal"].to_numpy() - 1
    orders = run.weekly[run.weekly["firm"] == "focal"].sort_values("week")["orders"]
    return counts, orders.to_numpy()
