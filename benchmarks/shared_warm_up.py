"""What sharing the warm-up among the strategies of a replication saves, as paired runs.

Runs the Monte Carlo runner on a scenario twice at the same time, one process pinned to each of
two cores (swapped every pair, as ``paired_speed.py`` does): once as it runs by default (the
strategies of a replication in one task, the warm-up simulated once) and once with every
strategy in a task of its own (``SHARED_WARM_UP_BYTES = 0``: the warm-up simulated per
strategy, as before the sharing). Both run in-process (one worker), so the CPU time each
process reports is the whole run's: the engine, the tables and the writes. The numbers are
identical either way (``tests/test_shared_warm_up.py``); only the time differs.

Usage::

    python benchmarks/shared_warm_up.py scenarios/baseline.yaml --replications 10 --pairs 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(scenario: str, replications: int, shared: bool, core: int) -> dict[str, float]:
    """In this process, pinned to ``core``: one run's CPU and elapsed seconds."""
    os.sched_setaffinity(0, {core})
    from relsim.experiment import limits, run_experiment

    if not shared:
        limits.SHARED_WARM_UP_BYTES = 0  # one strategy a task: a warm-up per strategy
    with tempfile.TemporaryDirectory() as folder:
        start, cpu = time.perf_counter(), time.process_time()
        run_experiment(scenario, replications, workers=1, out=Path(folder) / "r", progress=False)
        return {"cpu": time.process_time() - cpu, "seconds": time.perf_counter() - start}


def _start(args: argparse.Namespace, shared: bool, core: int) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        __file__,
        args.scenario,
        "--replications",
        str(args.replications),
        "--child",
        f"{int(shared)},{core}",
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="scenarios/baseline.yaml")
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        shared, core = (int(x) for x in args.child.split(","))
        print(json.dumps(measure(args.scenario, args.replications, bool(shared), core)))
        return
    ratios = []
    for pair in range(args.pairs):
        cores = (0, 1) if pair % 2 == 0 else (1, 0)
        runs = {True: _start(args, True, cores[0]), False: _start(args, False, cores[1])}
        got = {shared: json.loads(p.communicate()[0]) for shared, p in runs.items()}
        ratio = got[False]["cpu"] / got[True]["cpu"]
        ratios.append(ratio)
        print(
            f"pair {pair + 1}: shared {got[True]['cpu']:.1f} s CPU, "
            f"a warm-up per strategy {got[False]['cpu']:.1f} s CPU: {ratio:.3f}x as fast",
            flush=True,
        )
    print(f"median {statistics.median(ratios):.3f}x over {len(ratios)} pairs")


if __name__ == "__main__":
    main()
