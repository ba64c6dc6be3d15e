"""The contractual cohort comparison: fit a subscription cohort's first years, project the rest.

Fader & Hardie (2007), Table 1: two segments' cohorts of a subscription business. A
contractual segment is fitted on years 1-7 (the sBG likelihood, relsim's renewal process with
everything else switched off) and projected to year 12 by relsim's engine (cohorts of 1 000,
many replications) and by the sBG closed form. Apart from the CDNOW holdout
(``relsim.calibration.holdout``) because it tests the contractual side with its own data;
``relsim.calibration.validation`` runs both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from relsim.calibration import bgnbd, cohort

# Fader & Hardie (2007), Table 1 (data of Berry & Linoff 2004): percent still subscribed
# after years 0..12 of two segments' cohorts; years 1-7 calibrate, 8-12 validate.
COHORTS = {
    "high end": [100.0, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1, 46.8, 44.5, 42.7, 40.9, 39.4],
    "regular": [100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1, 22.3, 20.7, 19.4, 18.3, 17.3],
}
COHORT_CALIBRATION_YEARS = 7


@dataclass
class CohortComparison:
    """Survival of a contractual cohort: data, sBG closed form, relsim's engine."""

    name: str
    fit: bgnbd.Fit
    table: pd.DataFrame  # year, actual, sbg, relsim mean, low, high


def cohort_comparison(
    name: str, survival: list[float], replications: int = 100, seed: int = 2026
) -> CohortComparison:
    """Fit a contractual segment on the first years of ``survival`` and project the rest with
    the sBG closed form and with relsim's engine (a cohort of 1 000 per replication)."""
    from relsim.experiment.pool import replication_seed
    from relsim.scenario import Scenario
    from relsim.simulation import simulate

    years = len(survival) - 1
    fit = cohort.fit_cohort(survival[: COHORT_CALIBRATION_YEARS + 1])
    data = cohort_scenario(fit, years)
    scenario = Scenario.model_validate(data)
    curves = np.empty((replications, years + 1))
    for r in range(replications):
        run = simulate(scenario, seed=replication_seed(seed, r))
        weekly = run.weekly[run.weekly["firm"] == "focal"].set_index("week")["customers"]
        at = [weekly.loc[52 * y] for y in range(1, years + 1)]
        curves[r] = np.concatenate([[1.0], np.asarray(at) / scenario.market.customers])
    table = pd.DataFrame(
        {
            "year": np.arange(years + 1),
            "actual": np.asarray(survival) / 100.0,
            "sbg": cohort.survival_curve(fit.params, years),
            "relsim": curves.mean(axis=0),
            "relsim_low": np.quantile(curves, 0.05, axis=0),
            "relsim_high": np.quantile(curves, 0.95, axis=0),
        }
    )
    table["calibration"] = table["year"] <= COHORT_CALIBRATION_YEARS
    return CohortComparison(name, fit, table)


def cohort_scenario(fit: bgnbd.Fit, years: int, customers: int = 1000) -> dict:
    """A cohort of new subscribers of relsim's contractual segment with the fitted propensity,
    everything else switched off (one firm; no rung, satisfaction or relocation effects)."""
    from relsim.calibration.calibrate import process_scenario

    params = {"rate_mean": 1.0, "rate_shape": 2.0, "dropout_a": 1.0, "dropout_b": 1.0}
    data = process_scenario(params, customers=customers, weeks=52 * years + 1, name="cohort")
    data["segments"][0].update(cohort.contractual_segment(fit))
    return data


__all__ = [
    "COHORTS",
    "COHORT_CALIBRATION_YEARS",
    "CohortComparison",
    "cohort_comparison",
    "cohort_scenario",
]
