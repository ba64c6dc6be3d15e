"""Calibrate a scenario from a transaction log, and simulate a calibrated customer base forward.

:func:`calibrate` fits relsim's own customer process (``relsim.calibration.process``) and its
spend model (``relsim.calibration.spend``) to a log and returns a :class:`Calibration`: the
fitted scenario fields with standard errors, the fit's diagnostics, and the scenario that runs
exactly the fitted process (:func:`process_scenario`). :func:`simulate_history` runs the engine
forward from each customer's own history (conditional simulation): every replication draws
each customer's state from what its history says, then the market runs as usual.

What a transaction log cannot identify stays an assumption, and the written scenario says so:
the ladder (a flat ladder reproduces the fit), bonds, relationship levels and service, rivals
and price response (one firm; its outside option never wins an occasion of a customer in a
relationship), relocation (leaving the market is part of the fitted dropout), acquisition of
new customers, and the margin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.calibration import process
from relsim.calibration.bgnbd import Fit
from relsim.calibration.spend import OrderValueFit, fit_order_value
from relsim.calibration.transactions import weekly_summary
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
    order_value: OrderValueFit | None
    start: str
    weeks: int
    repeat_weeks: np.ndarray  # calendar week of every repeat purchase week in the log
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, float]:
        """The natural parameters of the process (``process.PARAMETERS``)."""
        return self.process.params

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
        age = weeks[None, :] - s["birth"].to_numpy()[:, None]
        cumulative = process.expected_repeat_weeks(self.params, np.arange(self.weeks + 1))
        expected = cumulative[np.clip(age, 0, None)]
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


def process_scenario(
    params: dict[str, float],
    order_value: OrderValueFit | None = None,
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


def _fitted_segment(params: dict[str, float], order_value: OrderValueFit | None) -> dict:
    """The one segment: the fitted purchase rate, defection propensity and order value; no
    price or quality response, an outside option that never wins, no relocation or voice."""
    m, s, a, b = (float(params[k]) for k in process.PARAMETERS)
    value = (
        {"mean": float(order_value.mean), "shape": float(order_value.shape)}
        if order_value is not None
        else {"mean": 40.0, "shape": 6.0}
    )
    return {
        "name": "calibrated",
        "share": 1.0,
        "orders_per_year": {"mean": m, "shape": s},
        "order_value": value,
        "defection_propensity": {"mean": a / (a + b), "concentration": a + b},
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


def calibrate(
    log: pd.DataFrame,
    calibration_end: str | date | pd.Timestamp | None = None,
    start: str | date | pd.Timestamp | None = None,
) -> Calibration:
    """Fit relsim's customer process (and, with amounts, its spend model) to a transaction log
    (``read_transactions``): weeks are counted from ``start`` (default: the log's first date)
    up to the last complete week on or before ``calibration_end``."""
    summary = weekly_summary(log, calibration_end, start)
    if len(summary) < 10:
        raise ValueError(f"a calibration needs at least 10 customers; the log has {len(summary)}")
    fit = process.fit_process(summary["x"], summary["t_x"], summary["n"])
    value = None
    if "mean_amount" in summary:
        value = fit_order_value(summary["k"], summary["mean_amount"], summary["sd_amount"])
    weeks = int(summary.attrs["weeks"])
    origin = pd.Timestamp(summary.attrs["start"])
    week = (log["date"] - origin).dt.days // 7
    inside = log.assign(week=week)
    inside = inside[inside["week"] < weeks][["customer", "week"]].drop_duplicates()
    births = inside.groupby("customer")["week"].transform("min")
    repeats = inside["week"][inside["week"] > births].to_numpy(int)
    calibration = Calibration(summary, fit, value, summary.attrs["start"], weeks, repeats)
    same_week = int(len(log[log["date"] < origin + pd.Timedelta(weeks=weeks)]) - len(inside))
    post = process.posterior(fit.params, summary["x"], summary["t_x"], summary["n"])
    calibration.diagnostics = {
        "customers": len(summary),
        "repeat_customers": int((summary["x"] > 0).sum()),
        "repeat_weeks": int(summary["x"].sum()),
        "purchases_merged_into_weeks": same_week,
        "log_likelihood": fit.log_likelihood,
        "converged": fit.converged,
        "optimiser": fit.message,
        "expected_alive_at_end": float(post.alive.sum()),
        "not_identified": list(NOT_IDENTIFIED),
    }
    return calibration


@dataclass
class HistoryForecast:
    """Purchase weeks after the calibration period, simulated from each customer's history."""

    per_customer: pd.DataFrame  # customer, mean and sd over replications
    weekly: pd.DataFrame  # replication, week, purchases
    replications: int


def simulate_history(
    params: dict[str, float],
    summary: pd.DataFrame,
    weeks: int,
    replications: int = 100,
    seed: int = 2026,
    order_value: OrderValueFit | None = None,
) -> HistoryForecast:
    """Conditional simulation: each replication draws every customer's state at the end of
    the calibration period from the posterior given its own history (still in a relationship
    or not; its purchase rate and defection propensity), starts the engine from the customers
    still in a relationship (:class:`relsim.model.starting.StartingCustomers`) and runs the
    fitted process for ``weeks`` weeks. Replication ``r`` has the seed of a run's replication
    ``r``: its ``history`` stream draws the states, its engine streams run the market."""
    from relsim.experiment.pool import replication_seed
    from relsim.model.starting import StartingCustomers
    from relsim.model.streams import Streams
    from relsim.scenario import Scenario
    from relsim.simulation import simulate

    x, t_x, n = (summary[c].to_numpy() for c in ("x", "t_x", "n"))
    value = np.full(len(summary), order_value.mean if order_value else 40.0)
    if order_value is not None and "mean_amount" in summary:
        value = order_value.own_values(summary["k"], summary["mean_amount"].fillna(0.0))
    counts = np.zeros((replications, len(summary)))
    weekly = np.zeros((replications, weeks))
    for r in range(replications):
        root = replication_seed(seed, r)
        draws = process.draw_customers(params, x, t_x, n, Streams(root).history)
        alive = np.flatnonzero(draws["alive"])
        if not len(alive):
            continue
        scenario = Scenario.model_validate(
            process_scenario(params, order_value, customers=len(alive), weeks=weeks, seed=seed)
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
        counts[r, alive[table["customer"].to_numpy()]] = table["orders_focal"].to_numpy() - 1
        orders = run.weekly[run.weekly["firm"] == "focal"].sort_values("week")["orders"]
        weekly[r] = orders.to_numpy()
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
    return HistoryForecast(per_customer, tidy, replications)
