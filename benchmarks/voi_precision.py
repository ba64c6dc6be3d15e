"""How precise are relsim's EVPI and EVPPI estimates at a given number of draws?

A toy with a closed form (docs/voi.md, "Precision"): two strategies whose difference in net
benefit is ``mean + sd * x`` with ``x`` standard normal -- the decision hinges on ``x`` -- plus
simulation noise of standard deviation ``noise`` per replication (two replications per draw,
as ``relsim decide`` runs by default) and two assumptions that do not matter. EVPI and the
EVPPI of ``x`` both equal ``sd * phi(mean / sd) - |mean| * Phi(-|mean| / sd)``; the others'
EVPPI is 0. For each number of draws K the analysis is repeated on independent samples and
the script prints, relative to the true EVPI: the estimators' bias and root-mean-square error,
the mean half-width of the 95% bootstrap intervals and how often they cover the truth, the
naive (noisy) EVPI, the largest EVPPI of an irrelevant assumption, and how often one was
(wrongly) found worth knowing. The noise is set so that it is as large as a typical relsim
draw's (about half the spread over the draws: ``noise = 0.7 * sd``).

    python benchmarks/voi_precision.py [--repeats 40] [--bootstrap 100]

Pure numpy, one core; the last result is in docs/voi.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from relsim.experiment.voi import analyse, normal_expected_loss


def sample(k: int, mean: float, sd: float, noise: float, seed: int) -> tuple:
    u = qmc.Sobol(3, scramble=True, seed=seed).random(k)
    x = stats.norm.ppf(u[:, 0])
    rng = np.random.default_rng(seed + 10_000)
    values = np.zeros((k, 2, 2))
    values[:, :, 0] = noise * rng.standard_normal((k, 2))
    values[:, :, 1] = mean + sd * x[:, None] + noise * rng.standard_normal((k, 2))
    return values, pd.DataFrame({"x": x, "z1": u[:, 1], "z2": u[:, 2]})


def one_setting(k: int, mean: float, repeats: int, bootstrap: int) -> dict:
    sd, noise = 1.0, 0.7
    truth = normal_expected_loss(mean, sd)
    rows = []
    for seed in range(repeats):
        values, inputs = sample(k, mean, sd, noise, seed)
        result = analyse(values, inputs, ["a", "b"], seed=seed, bootstrap=bootstrap)
        table = result.evppi.set_index("name")
        rows.append(
            {
                "evpi": result.evpi["estimate"],
                "evpi_cover": result.evpi["low"] <= truth <= result.evpi["high"],
                "evpi_half": (result.evpi["high"] - result.evpi["low"]) / 2,
                "naive": result.evpi["simulated"],
                "evppi": table.loc["x", "evppi"],
                "evppi_cover": table.loc["x", "low"] <= truth <= table.loc["x", "high"],
                "evppi_half": (table.loc["x", "high"] - table.loc["x", "low"]) / 2,
                "irrelevant": table.loc[["z1", "z2"], "evppi"].max(),
                "false": table.loc[["z1", "z2"], "worth_knowing"].mean(),
            }
        )
    r = pd.DataFrame(rows)
    return {
        "K": k,
        "mean/sd": mean,
        "EVPI bias": (r["evpi"].mean() - truth) / truth,
        "EVPI rmse": np.sqrt(((r["evpi"] - truth) ** 2).mean()) / truth,
        "EVPI ±": r["evpi_half"].mean() / truth,
        "EVPI cover": r["evpi_cover"].mean(),
        "naive EVPI bias": (r["naive"].mean() - truth) / truth,
        "EVPPI rmse": np.sqrt(((r["evppi"] - truth) ** 2).mean()) / truth,
        "EVPPI ±": r["evppi_half"].mean() / truth,
        "EVPPI cover": r["evppi_cover"].mean(),
        "irrelevant max": r["irrelevant"].mean() / truth,
        "false 'worth knowing'": r["false"].mean(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--bootstrap", type=int, default=100)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = [
        one_setting(k, mean, args.repeats, args.bootstrap)
        for mean in (0.0, 0.5)
        for k in (32, 64, 128, 256)
    ]
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(
        f"({args.repeats} samples per row, {args.bootstrap} bootstrap resamples each; "
        f"{time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
