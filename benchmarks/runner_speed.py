"""Monte Carlo runner speed on the default scenario.

Reports replications per minute (one replication = one strategy simulated once) at 1 and 2
workers, the speed-up, and the runner's overhead against the bare engine (the same tasks
simulated in a plain loop, nothing written).

Usage::

    python benchmarks/runner_speed.py                 # 8 replications x 4 strategies
    python benchmarks/runner_speed.py --replications 30
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.yaml"


def main() -> None:
    from relsim import load_scenario, run_experiment, simulate
    from relsim.experiment import replication_seed

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replications", type=int, default=8)
    args = parser.parse_args()
    scenario = load_scenario(SCENARIO)
    names = [s.name for s in scenario.strategies]
    tasks = len(names) * args.replications

    start = time.perf_counter()
    for r in range(args.replications):
        for name in names:
            run = simulate(scenario, strategy=name, seed=replication_seed(scenario.seed, r))
            _ = (run.summary, run.weekly, run.ladder, run.defections)
    bare = time.perf_counter() - start

    result = {"tasks": tasks, "bare_engine_seconds": round(bare, 2)}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            run_experiment(
                scenario,
                replications=args.replications,
                workers=workers,
                out=Path(folder) / "run",
                progress=False,
            )
            seconds = time.perf_counter() - start
        result[f"workers_{workers}_seconds"] = round(seconds, 2)
        result[f"workers_{workers}_replications_per_minute"] = round(tasks / seconds * 60, 1)
    result["speed_up_2_vs_1"] = round(result["workers_1_seconds"] / result["workers_2_seconds"], 2)
    result["runner_overhead_1_worker"] = round(result["workers_1_seconds"] / bare - 1.0, 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
