"""The CDNOW holdout comparison: calibrate on a log's first weeks, forecast the next ones.

:func:`holdout_comparison` fits relsim's customer process on the calibration part only and
compares three forecasts of each customer's holdout purchase weeks with what the customer
did: relsim simulated from each customer's own history (``simulate_history``), relsim's
closed form, and the BG/NBD fitted on the same weekly histories; the published BG/NBD on
purchase days is added for reference. Its steps (the forecasts, the published model, the
totals, the per-group means and the cumulative tracking) are functions of their own here;
``relsim.calibration.validation`` runs it and ``relsim.calibration.validation_page`` shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from relsim.calibration import bgnbd, forecast, process
from relsim.calibration.calibrate import Calibration, calibrate
from relsim.calibration.history import HistoryForecast, simulate_history
from relsim.calibration.selection import time_split
from relsim.calibration.spend import GammaGammaFit, fit_spend_gamma_gamma
from relsim.calibration.transactions import holdout_purchases, holdout_weeks, summarise

CDNOW_CALIBRATION_END = "1997-09-30"  # 39 weeks from 1997-01-01
CDNOW_HOLDOUT_END = "1998-06-30"  # 78 weeks
CDNOW_WEEKS = 39
GROUPS = ("0", "1", "2", "3", "4", "5", "6", "7+")
_TOTALS_COLUMNS = [
    "forecast",
    "purchase_weeks",
    "sd",
    "low_90",
    "high_90",
    "parameter_sd",
    "simulation_sd",
    "rmse_per_customer",
    "error_percent",
]
TIME_SPLIT_WEEKS = 26
"""The time split inside the calibration period: fit on weeks 1-26, forecast weeks 27-39."""
_BGNBD_START = (0.3, 4.0, 0.8, 2.5)


@dataclass
class HoldoutComparison:
    """Everything ``docs/validation.md`` shows about a holdout forecast."""

    calibration: Calibration
    totals: pd.DataFrame
    groups: pd.DataFrame
    tracking: pd.DataFrame
    bgnbd_weeks: bgnbd.Fit
    bgnbd_days: bgnbd.Fit
    replications: int
    time_split: pd.DataFrame | None = None
    simulated: HistoryForecast | None = None
    spend: GammaGammaFit | None = None  # gamma-gamma on the calibration weeks


@dataclass
class _Forecasts:
    """The calibration histories, the holdout's actual purchase weeks and the three forecasts."""

    x: np.ndarray
    t_x: np.ndarray
    n: np.ndarray
    actual: np.ndarray  # per customer
    actual_weekly: np.ndarray  # per holdout week
    simulated: HistoryForecast
    closed: np.ndarray
    bg_fit: bgnbd.Fit
    bg: np.ndarray
    variants: dict[str, np.ndarray]  # closed form of every fitted dropout variant


def _group(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 7, "7+", x.astype(int).astype(str))


def holdout_comparison(
    log: pd.DataFrame,
    calibration_end: str = CDNOW_CALIBRATION_END,
    holdout_weeks_count: int = CDNOW_WEEKS,
    replications: int = 200,
    seed: int = 2026,
    dropout: str = "auto",
    split: bool = True,
) -> HoldoutComparison:
    """Calibrate on the log up to ``calibration_end`` (the dropout variant chosen by BIC on
    the calibration data with ``auto``), forecast the next weeks three ways and compare with
    the log's holdout (module docstring); ``split`` adds the time split inside the
    calibration period (``relsim.calibration.selection``)."""
    cal = calibrate(log, calibration_end, dropout=dropout)
    h = holdout_weeks_count
    f = _forecasts(log, cal, h, replications, seed)
    bg_days, days_rows = _published_model(log, calibration_end, cal, h)
    totals = pd.concat([_totals(f), days_rows], ignore_index=True)
    inside = time_split(log, cal.weeks, TIME_SPLIT_WEEKS) if split else None
    s = cal.summary
    spend = fit_spend_gamma_gamma(s["k"], s["mean_amount"]) if "mean_amount" in s else None
    return HoldoutComparison(
        cal,
        totals,
        _groups(f),
        _tracking(cal, f, h),
        f.bg_fit,
        bg_days,
        replications,
        inside,
        f.simulated,
        spend,
    )


def _forecasts(
    log: pd.DataFrame, cal: Calibration, h: int, replications: int, seed: int
) -> _Forecasts:
    """What the calibrated customers did in the ``h`` holdout weeks, and the forecasts: the
    chosen variant simulated with the fit's parameter uncertainty, every variant's closed form,
    and the BG/NBD's."""
    s = cal.summary
    x, t_x, n = s["x"].to_numpy(), s["t_x"].to_numpy(), s["n"].to_numpy()
    actual_rows = holdout_weeks(log, cal.start, cal.weeks, h)
    actual_rows = actual_rows[actual_rows["customer"].isin(s.index)]
    actual = actual_rows.groupby("customer").size().reindex(s.index, fill_value=0).to_numpy()
    actual_weekly = np.bincount(actual_rows["week"] - cal.weeks, minlength=h)[:h]
    simulated = simulate_history(
        cal.params, s, h, replications, seed, cal.order_value, uncertainty=cal.uncertainty
    )
    closed = forecast.conditional_expected_weeks(cal.params, h, x, t_x, n)
    variants = {
        name: forecast.conditional_expected_weeks(process.natural(fit), h, x, t_x, n)
        for name, fit in cal.variants.items()
    }
    bg_weeks = bgnbd.fit_bgnbd(x, t_x, n, start=_BGNBD_START)
    bg = bgnbd.conditional_expected_purchases(bg_weeks.params, float(h), x, t_x, n)
    return _Forecasts(x, t_x, n, actual, actual_weekly, simulated, closed, bg_weeks, bg, variants)


def _published_model(
    log: pd.DataFrame, calibration_end: str, cal: Calibration, h: int
) -> tuple[bgnbd.Fit, pd.DataFrame]:
    """The published model (BG/NBD on purchase days, continuous weeks): its fit and its rows
    of the totals table."""
    days = summarise(log, calibration_end)
    bg_days = bgnbd.fit_bgnbd(days["x"], days["t_x"], days["T"], start=_BGNBD_START)
    end = pd.Timestamp(cal.start) + pd.Timedelta(weeks=cal.weeks + h) - pd.Timedelta(days=1)
    actual_days = holdout_purchases(log, calibration_end, end).reindex(days.index, fill_value=0)
    forecast_days = bgnbd.conditional_expected_purchases(
        bg_days.params, float(h), days["x"], days["t_x"], days["T"]
    )
    rows = pd.DataFrame(
        [
            ("actual purchase days", actual_days.sum(), *[np.nan] * 7),
            (
                "BG/NBD on days (published model)",
                forecast_days.sum(),
                *[np.nan] * 5,
                _rmse(forecast_days, actual_days.to_numpy()),
                100.0 * (forecast_days.sum() / actual_days.sum() - 1.0),
            ),
        ],
        columns=_TOTALS_COLUMNS,
    )
    return bg_days, rows


def _totals(f: _Forecasts) -> pd.DataFrame:
    """Holdout purchase weeks: actual and each forecast, with the simulation's spread, 90%
    interval and the spread's two parts, the error per customer and the error of the total."""
    sim = f.simulated
    parts = sim.parts()
    low, high = sim.interval(0.9)
    blank = [np.nan] * 5
    chosen = next(
        (name for name, values in f.variants.items() if np.array_equal(values, f.closed)), ""
    )
    rows = [
        ("actual", f.actual.sum(), *blank, np.nan),
        (
            "relsim, simulated",
            sim.per_customer["mean"].sum(),
            parts["total_sd"],
            low,
            high,
            parts["parameter_sd"],
            parts["simulation_sd"],
            _rmse(sim.per_customer["mean"], f.actual),
        ),
        ("relsim, closed form", f.closed.sum(), *blank, _rmse(f.closed, f.actual)),
        *[
            (f"relsim, {name} dropout, closed form", v.sum(), *blank, _rmse(v, f.actual))
            for name, v in f.variants.items()
            if name != chosen
        ],
        ("BG/NBD on weeks, closed form", f.bg.sum(), *blank, _rmse(f.bg, f.actual)),
    ]
    totals = pd.DataFrame(rows, columns=_TOTALS_COLUMNS[:8])
    totals["error_percent"] = 100.0 * (totals["purchase_weeks"] / f.actual.sum() - 1.0)
    totals.loc[0, "error_percent"] = np.nan
    return totals


def _groups(f: _Forecasts) -> pd.DataFrame:
    """Mean holdout purchase weeks per customer by repeat purchase weeks in the calibration:
    actual, the simulation, every variant's closed form and the BG/NBD's."""
    group = _group(f.x)
    columns = {
        "actual": f.actual,
        "relsim_simulated": f.simulated.per_customer["mean"].to_numpy(),
        "relsim_closed_form": f.closed,
        **{f"relsim_{name.replace('-', '_')}": v for name, v in f.variants.items()},
        "bgnbd": f.bg,
    }
    frame = pd.DataFrame({"group": group, **columns})
    groups = frame.groupby("group").agg(
        customers=("actual", "size"), **{c: (c, "mean") for c in columns}
    )
    groups = groups.reindex([g for g in GROUPS if g in set(group)])
    groups.index.name = "calibration_repeat_weeks"
    return groups


def _tracking(cal: Calibration, f: _Forecasts, h: int) -> pd.DataFrame:
    """Cumulative repeat purchase weeks over calibration and holdout: actual, relsim (the
    in-sample expectation, then the simulation with its 90% band), and the closed forms."""
    x, t_x, n = f.x, f.t_x, f.n
    in_sample = cal.tracking
    sim_weeks = f.simulated.weekly.pivot(index="week", columns="replication", values="purchases")
    bg_cum = np.array(
        [
            bgnbd.conditional_expected_purchases(f.bg_fit.params, float(k), x, t_x, n).sum()
            for k in range(1, h + 1)
        ]
    )
    closed_cum = np.array(
        [
            forecast.conditional_expected_weeks(cal.params, k, x, t_x, n).sum()
            for k in range(1, h + 1)
        ]
    )
    before = in_sample["observed"].sum()
    cumulative = np.cumsum(sim_weeks.to_numpy(), axis=0)
    blank = np.full(cal.weeks, np.nan)  # no forecast in the calibration weeks
    return pd.DataFrame(
        {
            "week": np.arange(1, cal.weeks + h + 1),
            "actual": np.cumsum(np.concatenate([in_sample["observed"], f.actual_weekly])),
            "relsim": np.concatenate(
                [np.cumsum(in_sample["expected"]), before + np.cumsum(sim_weeks.mean(axis=1))]
            ),
            "relsim_low": np.concatenate([blank, before + np.quantile(cumulative, 0.05, axis=1)]),
            "relsim_high": np.concatenate([blank, before + np.quantile(cumulative, 0.95, axis=1)]),
            "relsim_closed_form": np.concatenate([blank, before + closed_cum]),
            "bgnbd": np.concatenate([blank, before + bg_cum]),
        }
    )


def _rmse(forecast: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(forecast, float) - np.asarray(actual, float)) ** 2)))


__all__ = [
    "CDNOW_CALIBRATION_END",
    "CDNOW_HOLDOUT_END",
    "CDNOW_WEEKS",
    "GROUPS",
    "TIME_SPLIT_WEEKS",
    "HoldoutComparison",
    "holdout_comparison",
]
