"""Calibration from transaction logs and validation against real data.

* :func:`calibrate` fits relsim's own customer process (weekly purchase occasions, weekly
  dropout, gamma and beta heterogeneity) and its spend model to a log and writes a scenario;
* :func:`simulate_history` runs the engine forward from each customer's own history, with the
  fit's parameter uncertainty if asked (:class:`ParameterDistribution`);
* the buy-till-you-die standards (BG/NBD, gamma-gamma) and the shifted-beta-geometric cohort
  model, fitted by maximum likelihood with standard errors, for comparison and validation.
"""

from relsim.calibration.bgnbd import (
    Fit,
    conditional_expected_purchases,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
)
from relsim.calibration.calibrate import Calibration, calibrate, process_scenario
from relsim.calibration.cohort import fit_cohort, survival_curve
from relsim.calibration.forecast import conditional_expected_weeks, expected_repeat_weeks
from relsim.calibration.history import HistoryForecast, simulate_history
from relsim.calibration.process import fit_process, segment_values
from relsim.calibration.spend import OrderValueFit, fit_order_value
from relsim.calibration.transactions import (
    TransactionLogError,
    holdout_purchases,
    holdout_weeks,
    read_transactions,
    simulated_log,
    summarise,
    weekly_summary,
)
from relsim.calibration.uncertainty import ParameterDistribution, variance_parts
from relsim.calibration.variants import DROPOUT_VARIANTS, fit_variants

__all__ = [
    "DROPOUT_VARIANTS",
    "Calibration",
    "Fit",
    "HistoryForecast",
    "OrderValueFit",
    "ParameterDistribution",
    "TransactionLogError",
    "calibrate",
    "conditional_expected_purchases",
    "conditional_expected_weeks",
    "expected_purchases",
    "expected_repeat_weeks",
    "fit_bgnbd",
    "fit_cohort",
    "fit_gamma_gamma",
    "fit_order_value",
    "fit_process",
    "fit_variants",
    "holdout_purchases",
    "holdout_weeks",
    "process_scenario",
    "read_transactions",
    "segment_values",
    "simulate_history",
    "simulated_log",
    "summarise",
    "survival_curve",
    "variance_parts",
    "weekly_summary",
]
