"""Calibrate a scenario from a transaction log, and simulate a calibrated customer base forward.

:func:`calibrate` fits relsim's own customer process (``relsim.calibration.process``) and its
spend model (``relsim.calibration.spend``) to a log and returns a :class:`Calibration`: the
fitted scenario fields with standard errors, the fit's diagnostics, and the scenario that runs
exactly the fitted process (:func:`process_scenario`). ``relsim.calibration.history`` runs the
engine forward from each customer's own history (conditional simulation).

What a transaction log cannot identify stays an assumption, and the written scenario says so:
the ladder (a flat ladder reproduces the fit), bonds, relationship levels and service, rivals
and price response (one firm; its outside option never wins an occasion of a customer in a
relationship), relocation (leaving the market is part of the fitted dropout), acquisition of
new customers, and the margin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.calibration import forecast, periodic, process
from relsim.calibration.bgnbd import Fit
from relsim.calibration.spend import (
    GammaGammaFit,
    OrderValueFit,
    SpendFrequency,
    fit_order_value,
    fit_spend_gamma_gamma,
    spend_frequency_correlation,
)
from relsim.calibration.transactions import weekly_summary
from relsim.calibration.uncertainty import ParameterDistribution
from relsim.calibration.variants import fit_variants
from relsim.domain import RUNGS

NEUTRAL_OUTSIDE_UTILITY = -50.0
"""The outside option's utility in the fitted process: it never wins an occasion (e^-50)."""
NO_WINBACK = 100.0
"""Win-back penalty in the fitted process: a customer whose relationship ended never returns
(the buy-till-you-die assumption the data is fitted under)."""
NOT_IDENTIFIED = (
    "ladder (flat: no climbing, every multiplier 1)",
    "bonds, relationship levels and service (transactional; no problems, so no service defections)",
    "rivals and price response (one firm; the outside option never wins an occasion)",
    "relocation (0: leaving the market is part of the fitted dropout)",
    "acquisition of new customers (none: the market is the calibrated customers)",
    "margin (gross_margin_percent is an assumption)",
)


@dataclass
class Calibration:
    """A fitted customer side: parameters with errors, diagnostics, and the scenario."""

    summary: pd.DataFrame
    process: Fit
    order_value: OrderValueFit | GammaGammaFit | None
    start: str
    weeks: int
    repeat_weeks: np.ndarray  # calendar week of every repeat purchase week in the log
    variants: dict[str, Fit] = field(default_factory=dict)  # every dropout variant fitted
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, float]:
        """The natural parameters of the process (``process.PARAMETERS``), with the chosen
        variant's settings (``process.natural``)."""
        return process.natural(self.process)

    @property
    def uncertainty(self) -> ParameterDistribution:
        """The fit's sampling distribution, for forecasts that carry the parameters' error."""
        return ParameterDistribution.from_fit(self.process)

    @property
    def values(self) -> pd.DataFrame:
        """Scenario fields with estimate, standard error and 95% interval."""
        frames = [process.segment_values(self.process)]
        if self.order_value is not None:
            frames.append(self.order_value.table)
        return pd.concat(frames)

    @property
    def tracking(self) -> pd.DataFrame:
        """In-sample check: repeat purchase weeks per calendar week, observed and expected."""
        s = self.summary
        weeks = np.arange(self.weeks)
        birth = s["birth"].to_numpy()
        age = np.clip(weeks[None, :] - birth[:, None], 0, None)
        # the periodic variant's curve depends on the first purchase's place on the calendar
        tau, _ = periodic.settings(self.params)
        curves = np.stack(
            [
                forecast.expected_repeat_weeks(self.params, np.arange(self.weeks + 1), week)
                for week in range(tau)
            ]
        )
        expected = curves[(birth % tau)[:, None], age]
        per_week = np.diff(np.concatenate([np.zeros((len(s), 1)), expected], axis=1), axis=1)
        observed = np.bincount(self.repeat_weeks, minlength=self.weeks)[: self.weeks]
        return pd.DataFrame({"week": weeks, "observed": observed, "expected": per_week.sum(axis=0)})

    def scenario(self, name: str = "calibrated", weeks: int = 104, seed: int = 2026) -> dict:
        """The scenario (a dict ready for YAML or ``Scenario.model_validate``) whose market is
        a cohort as large as the log's, every customer at its first purchase and running the
        fitted process: customers like the log's, from the start of their relationship. The
        log's own customers are forecast from their histories by :func:`simulate_history`."""
        return process_scenario(
            self.params,
            self.order_value,
            customers=len(self.summary),
            weeks=weeks,
            name=name,
            seed=seed,
        )

    def write_scenario(self, path: str | Path, source: str = "", **kwargs: Any) -> Path:
        """Write :meth:`scenario` as YAML with a header that names the fitted values (with
        standard errors) and what stays an assumption."""
        from ruamel.yaml import YAML

        path = Path(path)
        data = self.scenario(**kwargs)
        lines = [
            "# yaml-language-server: $schema=scenario.schema.json",
            f"# relsim calibrate: fitted to {source or 'a transaction log'} on {date.today()}",
            f"# {self.process.customers} customers, weeks counted from {self.start}, "
            f"{self.weeks} calibration weeks; log-likelihood {self.process.log_likelihood:.2f}",
            "#",
            "# Fitted (estimate, standard error, 95% interval):",
        ]
        for name, row in self.values.iterrows():
            lines.append(
                f"#   {name}: {row['estimate']:.6g} (SE {row['standard_error']:.3g}; "
                f"{row['low']:.4g} .. {row['high']:.4g})"
            )
        lines += self._uncertainty_lines()
        lines += [
            "#",
            f"# The market: a cohort of {data['market']['customers']} customers at their first "
            "purchase, running the",
            "# fitted process (to forecast the log's own customers from their histories, use",
            "# relsim.calibration.simulate_history).",
            "#",
            "# Not identified by a transaction log -- assumptions, switched off so that this",
            "# scenario runs exactly the fitted process; set them from judgement or research:",
            *[f"#   - {item}" for item in NOT_IDENTIFIED],
            "",
        ]
        yaml = YAML(typ="rt", pure=True)
        yaml.default_flow_style = None
        yaml.width = 100
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
            yaml.dump(data, handle)
        return path

    def _uncertainty_lines(self) -> list[str]:
        """The header's account of the dropout variant and of the fit's sampling distribution
        (what a forecast with parameter uncertainty draws from)."""
        variant = self.diagnostics.get("dropout", "weekly")
        if periodic.PERIOD in self.process.settings:
            tau, since = periodic.settings(self.process.settings)
            variant += (
                f"; death opportunities every {tau} weeks, the next in week {tau - since} "
                "after the calibration period"
            )
        lines = ["#", f"# Dropout variant: {variant} ({_variant_note(self.diagnostics)})."]
        try:
            dist = self.uncertainty
        except ValueError as error:
            return [*lines, f"# Parameter uncertainty: not available ({error})."]
        scale = ", ".join(
            f"{'log ' if logged else ''}{name}"
            for name, logged in zip(dist.names, dist.logged, strict=True)
        )
        lines += [
            "# Parameter uncertainty (what the log cannot pin down; forecasts from this fit draw",
            "# each replication's parameters from it: relsim calibrate --forecast-weeks, or",
            "# relsim.calibration.simulate_history(..., uncertainty=calibration.uncertainty)):",
            f"# normal on the fitting scale ({scale}),",
            "#   center: [" + ", ".join(f"{v:.6g}" for v in dist.center) + "]",
            "#   covariance:",
            *["#     [" + ", ".join(f"{v:.6g}" for v in row) + "]" for row in dist.covariance],
        ]
        return lines


def _variant_note(diagnostics: dict[str, Any]) -> str:
    """The variants fitted and their BIC, or that only one was fitted."""
    variants = diagnostics.get("variants", {})
    if len(variants) < 2:
        return "as requested"
    return "chosen by BIC on the calibration data: " + "; ".join(
        f"{name} BIC {row['bic']:.1f}" for name, row in variants.items()
    )


def process_scenario(
    params: dict[str, float],
    order_value: OrderValueFit | GammaGammaFit | None = None,
    customers: int = 1000,
    weeks: int = 104,
    name: str = "calibrated",
    seed: int = 2026,
    prospects: bool = False,
    gross_margin_percent: float = 30.0,
) -> dict:
    """A scenario that runs relsim's customer process with the given natural parameters: one
    firm, a flat ladder, no problems, trust without effect, an outside option that never wins
    an occasion of a customer in a relationship, no win-back, relocation or acquisition.
    ``prospects`` starts every customer as a prospect (whose first occasion is its first
    purchase) instead of as a current customer in a new relationship."""
    return {
        "schema_version": 1,
        "name": name,
        "description": "relsim's customer process with calibrated parameters (relsim calibrate)",
        "seed": seed,
        "horizon": {"weeks": weeks, "warmup_weeks": 0},
        "market": {
            "customers": int(customers),
            "growth_per_year": 0.0,
            "current_customer_share": 0.0 if prospects else 1.0,
            "initial_ladder_mix": [0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
            "mean_tenure_years": 0.0,
        },
        "segments": [_fitted_segment(params, order_value)],
        "firms": [_lone_firm(gross_margin_percent)],
        "ladder": _flat_ladder(),
        "satisfaction": {"dissatisfied_defection_multiplier": 0.0},
        # trust would lower the hazard with every order: the fitted process has none
        "trust": {"climb_weight": 0.0, "defection_weight": 0.0},
        "switching": {"winback_penalty": NO_WINBACK},
        "acquisition": {"leads_at_saturation_per_week": 0.0},
        "strategies": [{"name": "transactional", "preset": "transactional"}],
        "trace_share": 0.0,
    }


def _fitted_segment(
    params: dict[str, float], order_value: OrderValueFit | GammaGammaFit | None
) -> dict:
    """The one segment: the fitted purchase rate, defection propensity and order value; no
    price or quality response, an outside option that never wins, no relocation or voice."""
    m, s, a, b = (float(params[k]) for k in process.PARAMETERS)
    linked: dict[str, float | int] = {
        field: float(params[name])
        for name, field in (
            (process.RATE_POWER, "defection_rate_power"),
            (process.NEVER_SHARE, "never_defecting_share"),
        )
        if name in params
    }
    if periodic.PERIOD in params:  # the opportunities continue the log's calendar
        tau, since = periodic.settings(params)
        linked["defection_period_weeks"] = tau
        linked["defection_period_offset_weeks"] = periodic.first_week_offset(tau, since)
    value = (
        order_value.segment_fields()
        if order_value is not None
        else {"order_value": {"mean": 40.0, "shape": 6.0}}
    )
    return {
        "name": "calibrated",
        "share": 1.0,
        "orders_per_year": {"mean": m, "shape": s},
        **value,
        "defection_propensity": {"mean": a / (a + b), "concentration": a + b},
        **linked,
        "price_sensitivity": 0.0,
        "quality_sensitivity": 0.0,
        "outside_utility": NEUTRAL_OUTSIDE_UTILITY,
        "relocation_per_year": 0.0,
        "voice_share": 0.0,
    }


def _lone_firm(gross_margin_percent: float) -> dict:
    """The only firm: no failures or faults (so no problems), no acquisition or fixed cost."""
    return {
        "name": "focal",
        "price_index": 1.0,
        "gross_margin_percent": gross_margin_percent,
        "fulfilment_failure": 0.0,
        "fault_rate": 0.0,
        "acquisition_spend_per_week": 0.0,
        "fixed_cost_per_week": 0.0,
        "initial_share": 1.0,
    }


def _flat_ladder() -> dict:
    """A ladder nobody climbs or falls down, every multiplier 1, no habit or referrals."""
    flat = [1.0] * len(RUNGS)
    zero = [0.0] * len(RUNGS)
    return {
        "up_probability": zero,
        "down_probability": zero,
        "purchase_multiplier": flat,
        "price_sensitivity_multiplier": flat,
        "defection_multiplier": flat,
        "habit": zero,
        "referrals_per_year": zero,
    }


SPEND_MODELS = ("constant", "gamma-gamma")
"""``constant``: one order value per customer, a gamma between customers, fitted by moments
without the within-customer noise; ``gamma-gamma``: every order's value varies around the
customer's own (``relsim.calibration.spend``)."""


def calibrate(
    log: pd.DataFrame,
    calibration_end: str | date | pd.Timestamp | None = None,
    start: str | date | pd.Timestamp | None = None,
    dropout: str = "weekly",
    spend: str = "constant",
) -> Calibration:
    """Fit relsim's customer process (and, with amounts, its spend model) to a transaction log
    (``read_transactions``): weeks are counted from ``start`` (default: the log's first date)
    up to the last complete week on or before ``calibration_end``; ``dropout`` is one of
    :data:`DROPOUT_VARIANTS`, ``spend`` one of :data:`SPEND_MODELS`."""
    if spend not in SPEND_MODELS:
        raise ValueError(f"spend = {spend!r}; expected one of {', '.join(SPEND_MODELS)}")
    summary = weekly_summary(log, calibration_end, start)
    if len(summary) < 10:
        raise ValueError(f"a calibration needs at least 10 customers; the log has {len(summary)}")
    fits, variants = fit_variants(summary, dropout)
    fit = next(fits[name] for name, row in variants.items() if row["chosen"])
    value: OrderValueFit | GammaGammaFit | None = None
    if "mean_amount" in summary and spend == "gamma-gamma":
        value = fit_spend_gamma_gamma(summary["k"], summary["mean_amount"])
    elif "mean_amount" in summary:
        value = fit_order_value(summary["k"], summary["mean_amount"], summary["sd_amount"])
    weeks = int(summary.attrs["weeks"])
    origin = pd.Timestamp(summary.attrs["start"])
    week = (log["date"] - origin).dt.days // 7
    inside = log.assign(week=week)
    dependence = _spend_frequency(inside[inside["week"] < weeks]) if value is not None else None
    inside = inside[inside["week"] < weeks][["customer", "week"]].drop_duplicates()
    births = inside.groupby("customer")["week"].transform("min")
    repeats = inside["week"][inside["week"] > births].to_numpy(int)
    calibration = Calibration(summary, fit, value, summary.attrs["start"], weeks, repeats, fits)
    same_week = int(len(log[log["date"] < origin + pd.Timedelta(weeks=weeks)]) - len(inside))
    post = forecast.posterior(process.natural(fit), summary["x"], summary["t_x"], summary["n"])
    calibration.diagnostics = {
        "customers": len(summary),
        "repeat_customers": int((summary["x"] > 0).sum()),
        "repeat_weeks": int(summary["x"].sum()),
        "purchases_merged_into_weeks": same_week,
        "log_likelihood": fit.log_likelihood,
        "converged": fit.converged,
        "optimiser": fit.message,
        "expected_alive_at_end": float(post.alive.sum()),
        "dropout": next(name for name, row in variants.items() if row["chosen"]),
        "variants": variants,
        "spend": spend if value is not None else None,
        "spend_frequency": None
        if dependence is None
        else {**asdict(dependence), "reading": dependence.reading()},
        "not_identified": list(NOT_IDENTIFIED),
    }
    return calibration


def _spend_frequency(inside: pd.DataFrame) -> SpendFrequency | None:
    """Gamma-gamma's independence check on the calibration period's purchase weeks (amounts
    summed within a week), or None when the log has too few repeat buyers for it."""
    weeks = inside.groupby(["customer", "week"], sort=True)["amount"].sum().reset_index()
    try:
        return spend_frequency_correlation(weeks)
    except ValueError:
        return None
