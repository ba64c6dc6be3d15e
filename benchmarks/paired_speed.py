"""Paired engine speed: this checkout against another commit, both running at the same time.

On a shared virtual machine the same run varies by up to +-15% from one minute to the next,
so two commits measured minutes apart cannot be told apart by a few percent. This script runs
both at once, one process pinned to each of two cores, and swaps the cores every pair: the two
runs of a pair see the same state of the machine. When other work shares the machine (load
above 2), ``--clock cpu`` compares CPU time instead of elapsed time: a run that waits for its
core does not count the wait (it still shares caches and memory bandwidth). Two runs at once
are slower than one alone, so the figures compare the commits; ``engine_speed.py`` gives the
speed itself.

The other commit is checked out into a temporary git worktree (removed afterwards) and each
side imports its own ``src/`` and reads its own ``scenarios/baseline.yaml``.

Usage::

    python benchmarks/paired_speed.py --baseline 05f7d98 --strategy all_bonds --pairs 6
    python benchmarks/paired_speed.py --baseline 05f7d98 --strategy all --replications 3

``--strategy all`` times what a run of the scenario does per replication: every strategy of
``--scenario`` from one shared warm-up (``simulate_strategies``), ``--replications`` seeds in
one process after an untimed first replication, so the figure is the engine's steady speed
without the first run's imports and page faults (both commits must have
``simulate_strategies``: from commit ecd4965 on).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from worktrees import checked_out  # noqa: E402


def measure(args: argparse.Namespace) -> dict[str, float]:
    """Run in this process, pinned to ``args.core``: customer-weeks per second."""
    import time

    os.sched_setaffinity(0, {args.core})
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from engine_speed import BASE_CUSTOMERS, _scaled_staff

    from relsim import load_scenario
    from relsim.model import simulate_arrays

    tree = Path(os.environ["PAIRED_TREE"])
    customers, strategy, seed = args.customers, args.strategy, args.seed
    overrides = {"market.customers": customers} if customers else None
    scenario = load_scenario(tree / "scenarios" / args.scenario, overrides=overrides)
    if strategy == "all":
        return _every_strategy(scenario, seed, args.replications)
    chosen = _scaled_staff(scenario.strategy(strategy), customers / BASE_CUSTOMERS)
    start, cpu_start = time.perf_counter(), time.process_time()
    raw = simulate_arrays(scenario, chosen, seed)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "million_customer_weeks_per_second": raw.customer_weeks / seconds / 1e6,
        "cpu": raw.customer_weeks / cpu_seconds / 1e6,
    }


def _every_strategy(scenario, seed: int, replications: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Every strategy of ``scenario`` from shared warm-ups, ``replications`` seeds timed after
    an untimed first one (seed - 1)."""
    import time

    from relsim.model import simulate_strategies

    strategies = list(scenario.strategies)
    simulate_strategies(scenario, strategies, seed - 1)
    start, cpu_start, weeks = time.perf_counter(), time.process_time(), 0
    for r in range(replications):
        weeks += sum(
            run.customer_weeks for run in simulate_strategies(scenario, strategies, seed + r)
        )
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "million_customer_weeks_per_second": weeks / seconds / 1e6,
        "cpu": weeks / cpu_seconds / 1e6,
    }


def _start(tree: Path, args: argparse.Namespace, core: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree / "src"),
        "PAIRED_TREE": str(tree),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    cmd = [sys.executable, __file__, "--child", "--core", str(core)]
    cmd += ["--customers", str(args.customers), "--strategy", args.strategy]
    cmd += ["--seed", str(args.seed), "--scenario", args.scenario]
    cmd += ["--replications", str(args.replications)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)


def _speed(process: subprocess.Popen[str], clock: str) -> float:
    out, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"a measuring process failed (exit {process.returncode})")
    key = "cpu" if clock == "cpu" else "million_customer_weeks_per_second"
    return float(json.loads(out)[key])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", help="the commit to compare with (required)")
    parser.add_argument("--strategy", default="all_bonds", help="a strategy's name, or all")
    parser.add_argument(
        "--customers",
        type=int,
        default=None,
        help="the market's size (default 100 000; with --strategy all the scenario's own)",
    )
    parser.add_argument("--scenario", default="baseline.yaml", help="a file in scenarios/")
    parser.add_argument("--replications", type=int, default=3, help="with --strategy all")
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="speed by elapsed time (default) or by the process's CPU time: when other work "
        "shares the machine, CPU time leaves out the time slices each run waits for a core",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--core", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.customers is None:
        args.customers = 0 if args.strategy == "all" else 100_000
    if args.child:
        print(json.dumps(measure(args)))
        return
    if not args.baseline:
        parser.error("--baseline is required: the commit to compare with")
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit("paired runs need two cores")
    with (
        tempfile.TemporaryDirectory() as scratch,
        checked_out(ROOT, args.baseline, Path(scratch)) as baseline,
    ):
        pairs = []
        for i in range(args.pairs):
            a_core, b_core = (cores[0], cores[1]) if i % 2 == 0 else (cores[1], cores[0])
            a, b = _start(baseline, args, a_core), _start(ROOT, args, b_core)
            pair = {"baseline": _speed(a, args.clock), "this": _speed(b, args.clock)}
            pairs.append(pair)
            print(json.dumps({"pair": i + 1, **{k: round(v, 2) for k, v in pair.items()}}))
    ratios = [p["this"] / p["baseline"] for p in pairs]
    summary = {
        "scenario": args.scenario,
        "strategy": args.strategy,
        "clock": args.clock,
        "customers": args.customers,
        "baseline": args.baseline,
        "pairs": len(pairs),
        "baseline_mean": round(statistics.mean(p["baseline"] for p in pairs), 2),
        "this_mean": round(statistics.mean(p["this"] for p in pairs), 2),
        "ratio_mean": round(statistics.mean(ratios), 3),
        "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
        "this_faster_in": sum(r > 1.0 for r in ratios),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
