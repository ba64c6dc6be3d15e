"""The dropout variants of relsim's customer process, fitted and compared on the calibration
data only.

``weekly``: dropout in any week, independent of the purchase rate (the process before model
version 10); ``rate-linked``: the dropout clock runs with the purchase rate
(``defection_rate_power``); ``stayers``: rate-linked, and a share who never defect
(``never_defecting_share``); ``periodic``: rate-linked, with dropout only at periodic death
opportunities (``defection_period_weeks``; ``relsim.calibration.periodic``), the period the
one of highest likelihood among :data:`relsim.calibration.periodic.PERIODS`. ``auto`` fits
them all and keeps the lowest BIC; the holdout is never looked at.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from relsim.calibration import periodic, process
from relsim.calibration.bgnbd import Fit

DROPOUT_VARIANTS = ("weekly", "rate-linked", "stayers", "periodic", "auto")
"""``weekly``, ``rate-linked``, ``stayers``, ``periodic`` (module docstring), or ``auto``: the
one of the four with the lowest BIC on the calibration data."""


def fit_periodic(
    summary: pd.DataFrame, start: tuple[float, ...] | None = None
) -> tuple[Fit, dict[int, float]]:
    """The periodic variant (rate-linked dropout at death opportunities every ``tau`` weeks of
    the log's calendar, counted from its first week): fitted for each period of
    :data:`periodic.PERIODS` up to half the calibration period, the highest likelihood kept
    (its period and calendar in the fit's ``settings``); and the log-likelihood per period."""
    x, t_x, n = (summary[c].to_numpy() for c in ("x", "t_x", "n"))
    if "weeks" not in summary.attrs:  # n alone cannot place the calendar's origin
        raise ValueError(
            "the periodic variant needs the summary's attrs['weeks'] (the calibration weeks, "
            "which place the opportunities' calendar); found none. Hint: build the summary "
            "with relsim.calibration.weekly_summary, or set summary.attrs['weeks']"
        )
    weeks = int(summary.attrs["weeks"])
    best: Fit | None = None
    profile: dict[int, float] = {}
    for tau in (t for t in periodic.PERIODS if 2 * t <= weeks):
        period = (tau, periodic.since_at_end(tau, weeks))
        fit = process.fit_process(x, t_x, n, start, True, period=period, information=False)
        profile[tau] = fit.log_likelihood
        if best is None or fit.log_likelihood > best.log_likelihood:
            best = fit
    if best is None:
        raise ValueError(
            f"a periodic variant needs a calibration period of 4 weeks or more; it has {weeks}"
        )
    # the standard errors only for the period kept, from its optimum
    period = periodic.settings(best.settings)
    kept = process.fit_process(x, t_x, n, tuple(best.params.values()), True, period=period)
    return kept, profile


def fit_variants(
    summary: pd.DataFrame, dropout: str = "weekly"
) -> tuple[dict[str, Fit], dict[str, dict]]:
    """The fits of the requested dropout variant (``auto``: all), and every fitted variant's
    log-likelihood, parameters (the periodic variant's period counted as one), BIC (-2
    log-likelihood + parameters x log of the number of customers) and whether it is the one
    chosen (the lowest BIC): the choice uses the calibration data only. The periodic row adds
    its log-likelihood for each period tried (``period_log_likelihoods``)."""
    if dropout not in DROPOUT_VARIANTS:
        raise ValueError(f"dropout = {dropout!r}; expected one of {', '.join(DROPOUT_VARIANTS)}")
    x, t_x, n = summary["x"], summary["t_x"], summary["n"]
    wanted = DROPOUT_VARIANTS[:-1] if dropout == "auto" else (dropout,)
    fits: dict[str, Fit] = {}
    profile: dict[int, float] = {}
    for name in wanted:  # stayers (which nest it) and periodic start from the rate-linked fit
        linked = fits.get("rate-linked")
        if name == "periodic":
            begin = None if linked is None else tuple(linked.params.values())
            fits[name], profile = fit_periodic(summary, begin)
            continue
        linked = linked if name == "stayers" else None
        start = None if linked is None else tuple(linked.params.values())  # no share: several tried
        fits[name] = process.fit_process(
            x, t_x, n, start, rate_power=name != "weekly", stayers=name == "stayers"
        )
    table: dict[str, dict] = {}
    for name, fit in fits.items():
        count = len(fit.params) + (periodic.PERIOD in fit.settings)  # the period counts
        bic = -2.0 * fit.log_likelihood + count * np.log(len(summary))
        table[name] = {"log_likelihood": fit.log_likelihood, "parameters": count, "bic": bic}
    if profile:
        table["periodic"]["period_log_likelihoods"] = profile
    chosen = min(table, key=lambda name: table[name]["bic"])
    for name in table:
        table[name]["chosen"] = name == chosen
    return fits, table


__all__ = ["DROPOUT_VARIANTS", "fit_periodic", "fit_variants"]
