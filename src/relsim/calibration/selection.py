"""Choosing the dropout variant inside the calibration period: a time split.

The BIC (``relsim.calibration.variants.fit_variants``) compares the variants' fit to the
calibration weeks. :func:`time_split` asks the forecasting question without touching the
holdout: each variant (and the BG/NBD, for reference) is fitted on the first ``inner`` weeks
of the calibration period and forecasts the rest of it, customer by customer, in closed form;
the table gives the error of the total and the mean absolute error of the frequency groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from relsim.calibration import bgnbd, forecast, process
from relsim.calibration.transactions import holdout_weeks, weekly_summary
from relsim.calibration.variants import fit_variants

FREQUENCY_GROUPS = 8
"""Frequency groups of the comparisons: 0, 1, ..., 6 and 7+ repeat purchase weeks."""
_BGNBD_START = (0.3, 4.0, 0.8, 2.5)


def group_errors(forecast_weeks: np.ndarray, actual: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Percent error of the mean forecast in each frequency group with customers."""
    group = np.minimum(np.asarray(x, int), FREQUENCY_GROUPS - 1)
    errors = []
    for g in range(FREQUENCY_GROUPS):
        inside = group == g
        if inside.any() and actual[inside].mean() > 0:
            errors.append(100.0 * (forecast_weeks[inside].mean() / actual[inside].mean() - 1.0))
    return np.array(errors)


def time_split(log: pd.DataFrame, calibration_weeks: int, inner: int) -> pd.DataFrame:
    """Fit on weeks ``1..inner`` of the calibration period, forecast weeks ``inner+1..
    calibration_weeks``: per model, the forecast and actual total and the errors."""
    start = pd.Timestamp(log["date"].min()).normalize()
    end = start + pd.Timedelta(weeks=inner) - pd.Timedelta(days=1)
    summary = weekly_summary(log, end)
    x, t_x, n = (summary[c].to_numpy() for c in ("x", "t_x", "n"))
    ahead = calibration_weeks - inner
    rows = holdout_weeks(log, summary.attrs["start"], inner, ahead)
    rows = rows[rows["customer"].isin(summary.index)]
    actual = rows.groupby("customer").size().reindex(summary.index, fill_value=0).to_numpy()
    fits, table = fit_variants(summary, "auto")
    forecasts = {
        f"relsim, {name} dropout": forecast.conditional_expected_weeks(
            process.natural(fit), ahead, x, t_x, n
        )
        for name, fit in fits.items()
    }
    bg = bgnbd.fit_bgnbd(x, t_x, n, start=_BGNBD_START)
    forecasts["BG/NBD on weeks"] = bgnbd.conditional_expected_purchases(
        bg.params, float(ahead), x, t_x, n
    )
    out = pd.DataFrame(
        [
            {
                "model": name,
                "forecast": float(values.sum()),
                "actual": float(actual.sum()),
                "error_percent": 100.0 * (values.sum() / actual.sum() - 1.0),
                "mean_abs_group_error_percent": float(
                    np.abs(group_errors(values, actual, x)).mean()
                ),
            }
            for name, values in forecasts.items()
        ]
    ).set_index("model")
    out.attrs.update(inner=inner, ahead=ahead, bic={k: v["bic"] for k, v in table.items()})
    return out


__all__ = ["FREQUENCY_GROUPS", "group_errors", "time_split"]
