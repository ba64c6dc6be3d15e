"""The periodic (PDO) variant on CDNOW, period by period: what the choice saw, and the holdout.

For each period of death opportunities (1 week = the rate-linked variant, then 2, 4, 8, 13 and
26 weeks), the rate-linked process with dropout at those opportunities is fitted on weeks 1-39
of the CDNOW sample; printed per period: the log-likelihood and BIC (what ``relsim calibrate
--dropout auto`` chooses by; 26 weeks is beyond its range, shown to see the trend), and, for the
record only, the closed-form holdout error of weeks 40-78 in total and per calibration-frequency
group. Nothing here chooses anything: the holdout columns are looked at after the choice, to
report what the other periods would have given. Usage::

    python scripts/periodic_profile.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from relsim.calibration import forecast, periodic, process, validation
from relsim.calibration.selection import group_errors
from relsim.calibration.transactions import holdout_weeks, weekly_summary

PERIODS = (1, *periodic.PERIODS, 26)


def main() -> None:
    path = validation.find_cdnow()
    if path is None:
        raise SystemExit("the CDNOW sample is not found (pip install lifetimes==0.11.3)")
    log = validation.read_cdnow(path)
    summary = weekly_summary(log, validation.CDNOW_CALIBRATION_END)
    x, t_x, n = (summary[c].to_numpy() for c in ("x", "t_x", "n"))
    weeks = int(summary.attrs["weeks"])
    rows = holdout_weeks(log, summary.attrs["start"], weeks, validation.CDNOW_WEEKS)
    rows = rows[rows["customer"].isin(summary.index)]
    actual = rows.groupby("customer").size().reindex(summary.index, fill_value=0).to_numpy()
    table = []
    for tau in PERIODS:
        period = (tau, periodic.since_at_end(tau, weeks))
        fit = process.fit_process(x, t_x, n, rate_power=True, period=period)
        ahead = forecast.conditional_expected_weeks(
            process.natural(fit), validation.CDNOW_WEEKS, x, t_x, n
        )
        errors = group_errors(ahead, actual, x)
        count = len(fit.params) + (tau > 1)
        table.append(
            {
                "period_weeks": tau,
                "log_likelihood": fit.log_likelihood,
                "bic": -2.0 * fit.log_likelihood + count * np.log(len(summary)),
                "holdout_error_percent": 100.0 * (ahead.sum() / actual.sum() - 1.0),
                "mean_abs_group_error_percent": float(np.abs(errors).mean()),
                "group_1_error_percent": errors[1],
                "group_2_error_percent": errors[2],
            }
        )
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 2):
        print(pd.DataFrame(table).set_index("period_weeks"))


if __name__ == "__main__":
    main()
