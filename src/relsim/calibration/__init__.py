"""Calibration from transaction logs: customer-history summaries and the buy-till-you-die
models (BG/NBD, gamma-gamma) fitted by maximum likelihood with standard errors."""

from relsim.calibration.bgnbd import (
    Fit,
    conditional_expected_purchases,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
)
from relsim.calibration.transactions import (
    TransactionLogError,
    holdout_purchases,
    read_transactions,
    simulated_log,
    summarise,
)

__all__ = [
    "Fit",
    "TransactionLogError",
    "conditional_expected_purchases",
    "expected_purchases",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "holdout_purchases",
    "read_transactions",
    "simulated_log",
    "summarise",
]
