"""Validation against real data: the CDNOW holdout and a contractual cohort.

``relsim validate-model`` runs both and writes ``docs/validation.md`` with its tables and
figures. Nothing is tuned on a holdout: the models are fitted on the calibration part only.

CDNOW (the 1/10 sample: 2 357 customers who first bought in the first 12 weeks of 1997): fit
on weeks 1-39, forecast weeks 40-78. Counts are purchase weeks (relsim has at most one purchase
occasion a week), and three forecasts are compared with what the customers did:

* relsim, simulated: conditional simulation through the engine, every customer forward from
  its own history (``simulate_history``), many replications;
* relsim, closed form: the same process's conditional expectation (an oracle for the engine);
* BG/NBD, fitted on the same weekly histories, closed form (Fader, Hardie & Lee 2005).

The published BG/NBD on purchase days is reported next to them for reference.

The contractual cohort (Fader & Hardie 2007, Table 1, two segments of a subscription
business): a contractual segment fitted on years 1-7 and projected to year 12, by relsim's
engine (a cohort of 1 000 customers, many replications) and by the sBG closed form.

This module reads the data and runs both; the comparisons live in
``relsim.calibration.holdout`` (CDNOW) and ``relsim.calibration.cohort_projection`` (the
cohorts), the page in ``relsim.calibration.validation_page``. Their public names are
importable from here as before.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from relsim.calibration.cohort_projection import (
    COHORT_CALIBRATION_YEARS,
    COHORTS,
    CohortComparison,
    cohort_comparison,
    cohort_scenario,
)
from relsim.calibration.holdout import (
    CDNOW_CALIBRATION_END,
    CDNOW_HOLDOUT_END,
    CDNOW_WEEKS,
    GROUPS,
    HoldoutComparison,
    holdout_comparison,
)
from relsim.calibration.transactions import read_transactions
from relsim.calibration.validation_page import write_validation


def read_cdnow(path: str | Path) -> pd.DataFrame:
    """The CDNOW sample file (whitespace-separated: id, customer, yyyymmdd, CDs, amount) as a
    tidy log."""
    raw = pd.read_csv(
        path, sep=r"\s+", header=None, names=["id_full", "customer", "date", "cds", "amount"]
    )
    dates = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return pd.DataFrame(
        {"customer": raw["customer"].astype(str), "date": dates, "amount": raw["amount"]}
    )


def find_cdnow() -> Path | None:
    """``CDNOW_sample.txt`` inside an installed ``lifetimes`` package (read as data only)."""
    import importlib.util

    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_sample.txt"
    return path if path.exists() else None


def run_validation(
    out: Path,
    cdnow: Path | None,
    replications: int = 200,
    cohort_replications: int = 100,
    seed: int = 2026,
    command: str = "relsim validate-model",
) -> Path:
    """Run both comparisons and write the page (the CDNOW part needs the sample file)."""
    holdout = None
    if cdnow is not None:
        holdout = holdout_comparison(read_cdnow(cdnow), replications=replications, seed=seed)
    cohorts = [
        cohort_comparison(name, curve, cohort_replications, seed) for name, curve in COHORTS.items()
    ]
    return write_validation(out, holdout, cohorts, command)


__all__ = [
    "CDNOW_CALIBRATION_END",
    "CDNOW_HOLDOUT_END",
    "CDNOW_WEEKS",
    "COHORTS",
    "COHORT_CALIBRATION_YEARS",
    "GROUPS",
    "CohortComparison",
    "HoldoutComparison",
    "cohort_comparison",
    "cohort_scenario",
    "find_cdnow",
    "holdout_comparison",
    "read_cdnow",
    "read_transactions",
    "run_validation",
    "write_validation",
]
