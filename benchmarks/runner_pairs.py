"""Paired runner time: ``run_experiment`` in this checkout against another commit.

``paired_speed.py`` times the engine; this times what a user waits for around it: a fresh
process imports relsim, starts the worker processes, runs every (strategy, replication),
writes each part and assembles the tables (no plots, no report). Each side uses every core,
so the two run one after the other, not at once; the order is swapped every pair, so a
machine that drifts from one minute to the next favours neither. Besides the elapsed time,
each run's CPU time (its process and the workers it reaped, user and system) is given: less
disturbed by a slow minute, but blind to what the run waits for. Each side imports its own
``src/`` and reads its own scenario file.

Usage::

    python benchmarks/runner_pairs.py --baseline 15bd5b1 --scenario classroom.yaml \\
        --strategies 4 --replications 10 --pairs 6
    python benchmarks/runner_pairs.py --baseline 15bd5b1 --pairs 3   # the default run
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from worktrees import checked_out, run_python  # noqa: E402

CHILD = """
import json, sys, time
started = time.perf_counter()
from relsim import load_scenario, run_experiment
imported = time.perf_counter()
tree, scenario_file, strategies, replications, workers, out = sys.argv[1:7]
scenario = load_scenario(f"{tree}/scenarios/{scenario_file}")
names = [s.name for s in scenario.strategies][: int(strategies)]
run_experiment(scenario, replications=int(replications), workers=int(workers), out=out,
               progress=False, strategies=names)
ended = time.perf_counter()
print(json.dumps({"import": imported - started, "run": ended - imported}))
"""


def _time(tree: Path, args: argparse.Namespace, out: Path) -> dict[str, float]:
    """One run in a fresh process importing ``tree``'s relsim: its seconds."""
    arguments = ["-c", CHILD, str(tree), args.scenario, str(args.strategies)]
    arguments += [str(args.replications), str(args.workers), str(out)]
    started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    printed = run_python(tree, arguments)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"process": time.perf_counter() - started, "cpu": cpu, **json.loads(printed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", required=True, help="the commit to compare with")
    parser.add_argument("--scenario", default="baseline.yaml", help="a file in scenarios/")
    parser.add_argument("--strategies", type=int, default=99, help="the first N strategies")
    parser.add_argument("--replications", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as scratch,
        checked_out(ROOT, args.baseline, Path(scratch)) as baseline,
    ):
        pairs = []
        for i in range(args.pairs):
            order = [("baseline", baseline), ("this", ROOT)]
            pair = {}
            for side, tree in order if i % 2 == 0 else order[::-1]:
                pair[side] = _time(tree, args, Path(scratch) / f"{side}-{i}")
            pairs.append(pair)
            print(json.dumps({"pair": i + 1, **_rounded(pair)}))
    ratios = [p["baseline"]["process"] / p["this"]["process"] for p in pairs]
    cpu_ratios = [p["baseline"]["cpu"] / p["this"]["cpu"] for p in pairs]
    print(
        json.dumps(
            {
                "scenario": args.scenario,
                "baseline": args.baseline,
                "pairs": len(pairs),
                "baseline_process_seconds": _spread([p["baseline"]["process"] for p in pairs]),
                "this_process_seconds": _spread([p["this"]["process"] for p in pairs]),
                "speed_ratio_mean": round(statistics.mean(ratios), 3),
                "speed_ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
                "this_faster_in": sum(r > 1.0 for r in ratios),
                "baseline_cpu_seconds": _spread([p["baseline"]["cpu"] for p in pairs]),
                "this_cpu_seconds": _spread([p["this"]["cpu"] for p in pairs]),
                "cpu_ratio_mean": round(statistics.mean(cpu_ratios), 3),
                "cpu_ratio_range": [round(min(cpu_ratios), 3), round(max(cpu_ratios), 3)],
            }
        )
    )


def _rounded(pair: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {side: {k: round(v, 2) for k, v in times.items()} for side, times in pair.items()}


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


if __name__ == "__main__":
    main()
