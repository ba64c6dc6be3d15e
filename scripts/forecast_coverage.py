"""The deep coverage study of relsim's forecast intervals (docs/validation.md records its result).

Many logs from known parameters (CDNOW-like values, both dropout variants): each is calibrated
on 39 weeks and its 39-week holdout total forecast by the engine with the fit's parameter
uncertainty; the share of logs whose 90% interval covers the true total should be near 90%.
Writes one CSV per configuration to ``docs/validation/coverage-<variant>.csv`` and prints the
summary. Usage::

    python scripts/forecast_coverage.py [--logs 200] [--customers 300] [--replications 40]
        [--configuration weekly|rate-linked ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from relsim.calibration.coverage import coverage_study

CONFIGURATIONS = {
    # near the CDNOW fits of docs/validation.md
    "weekly": {"rate_mean": 2.6, "rate_shape": 0.65, "dropout_a": 0.47, "dropout_b": 0.25},
    "rate-linked": {
        "rate_mean": 3.0,
        "rate_shape": 0.5,
        "dropout_a": 0.46,
        "dropout_b": 0.31,
        "dropout_rate_power": 1.2,
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=200)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--replications", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path("docs/validation"))
    parser.add_argument("--configuration", choices=tuple(CONFIGURATIONS), action="append")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.configuration or CONFIGURATIONS:
        params = CONFIGURATIONS[name]
        table = coverage_study(
            params,
            args.logs,
            customers=args.customers,
            replications=args.replications,
            seed=args.seed,
        )
        table.to_csv(args.out / f"coverage-{name}.csv", index=False)
        n = len(table)
        for column in ("covered", "covered_normal", "noise_only_covered"):
            share = table[column].mean()
            se = np.sqrt(share * (1 - share) / n)
            print(f"{name}: {column} {share:.3f} (SE {se:.3f}, {n} logs)")
        print(
            f"{name}: mean parameter_sd {table['parameter_sd'].mean():.1f}, "
            f"mean simulation_sd {table['simulation_sd'].mean():.1f}"
        )


if __name__ == "__main__":
    main()
