"""Engine speed and memory for one replication of the default scenario, one core.

Reports customer-weeks per second (customer-weeks = the sum over simulated weeks, warm-up
included, of the customers the engine updated that week, prospects included) and peak memory
per customer above the interpreter's baseline (peak RSS after the run minus RSS after imports,
divided by the market's customers at the start).

Usage::

    python benchmarks/engine_speed.py                      # 10k, 100k, 1M customers
    python benchmarks/engine_speed.py --strategy relationship_levels   # every level in use

Each size runs in a fresh subprocess so that peak memory is not inherited from a larger run.
With ``--repeat K`` each size runs K times, each in its own subprocess, and a summary line per
size follows the runs: the median speed and memory with their ranges. On a shared virtual
machine the same run varies by up to +-15% from minute to minute, so single runs are not
enough to compare figures near a bar.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.yaml"


def measure(customers: int, strategy: str | None, seed: int, tables: bool) -> dict[str, float]:
    """Run in this process; returns the figures for one size."""
    import resource
    import time

    import relsim
    from relsim import load_scenario
    from relsim.model import simulate_arrays
    from relsim.results import Run

    # The whole public API, as `import relsim` loaded it until it became lazy and as a run of
    # the command or a notebook has it: the memory figure depends on the heap the run finds.
    # With only the engine imported, an all_bonds run at 100 000 customers grew the resident
    # memory by 336-347 B per customer instead of 272-273 B (measured by resetting the peak
    # through /proc/self/clear_refs), because the imports leave freed heap the run reuses.
    for name in relsim.__all__:
        getattr(relsim, name)

    scenario = load_scenario(SCENARIO, overrides={"market.customers": customers})
    chosen = _scaled_staff(
        scenario.strategy(strategy or scenario.baseline_strategy), customers / BASE_CUSTOMERS
    )
    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    raw = simulate_arrays(scenario, chosen, seed)
    engine_s = time.perf_counter() - start
    engine_peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {
        "customers": customers,
        "weeks": scenario.horizon.weeks + scenario.horizon.warmup_weeks,
        "customer_weeks": raw.customer_weeks,
        "engine_seconds": round(engine_s, 3),
        "million_customer_weeks_per_second": round(raw.customer_weeks / engine_s / 1e6, 2),
        "engine_peak_bytes_per_customer": round((engine_peak_kib - base_kib) * 1024 / customers),
        "state_bytes_per_customer": round(raw.meta["state_bytes"] / customers),
    }
    if tables:
        start = time.perf_counter()
        run = Run(raw, seed)
        for name in ("weekly", "ladder", "customers", "defections", "trace"):
            getattr(run, name)
        _ = run.summary
        out["tables_seconds"] = round(time.perf_counter() - start, 3)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out["peak_bytes_per_customer_with_tables"] = round((peak - base_kib) * 1024 / customers)
    return out


BASE_CUSTOMERS = 10_000


def _scaled_staff(strategy, factor: float):  # type: ignore[no-untyped-def]
    """The strategy with every staff pool scaled to the market's size (the shipped staffing is
    sized for the baseline's 10 000 customers), so the levels do the same work per customer."""
    staffing = strategy.staffing
    pools = {
        name: getattr(staffing, name).model_copy(
            update={"count": getattr(staffing, name).count * factor}
        )
        for name in ("desk", "contact_centre", "managers", "senior_manager")
    }
    return strategy.model_copy(update={"staffing": staffing.model_copy(update=pools)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--strategy", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-tables", action="store_true", help="skip building DataFrames")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per size (fresh processes); median and range"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = measure(args.sizes[0], args.strategy, args.seed, not args.no_tables)
        print(json.dumps(result))
        return
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for size in args.sizes:
        cmd = [sys.executable, __file__, "--child", "--sizes", str(size), "--seed", str(args.seed)]
        if args.strategy:
            cmd += ["--strategy", args.strategy]
        if args.no_tables:
            cmd.append("--no-tables")
        runs = []
        for _ in range(max(args.repeat, 1)):
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
            print(done.stdout.strip(), flush=True)
            runs.append(json.loads(done.stdout))
        if len(runs) > 1:
            print(json.dumps(_summary(runs)), flush=True)


def _summary(runs: list[dict[str, float]]) -> dict[str, object]:
    """Median and range of the speed and the engine's peak memory over repeated runs."""
    import statistics

    summary: dict[str, object] = {"customers": runs[0]["customers"], "runs": len(runs)}
    for key in ("million_customer_weeks_per_second", "engine_peak_bytes_per_customer"):
        values = [run[key] for run in runs]
        summary[key] = {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
        }
    return summary


if __name__ == "__main__":
    main()
