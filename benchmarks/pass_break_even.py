"""Where a pass of markets stops paying: one pass against one seed after another, by size.

``relsim.model.market_pass.simulate_markets`` steps a scenario's markets together only below
``PASS_MAX_CUSTOMERS`` customers (``pays``); above it, one seed after another. This measures
both ways at each size, each run in a fresh process (so neither inherits the other's memory),
alternating, and prints the CPU seconds (less disturbed than elapsed time when the machine
is busy) and the peak memory of each, with the median ratio per size::

    python benchmarks/pass_break_even.py --sizes 10000 20000 50000 --pairs 3
    python benchmarks/pass_break_even.py --sizes 10000 --weeks 260 --warmup 104 --pairs 3

With ``--ceiling`` a third way runs beside them: each strategy as one market of ``seeds x N``
customers (staff scaled to its size, as ``engine_speed.py`` scales it). It does the pass's
per-customer work with the week's fixed cost and every mechanism's work paid once per
strategy, so it is the most a pass could be sped up to; the gap between the pass and it is what
the pass still spends market by market::

    python benchmarks/pass_break_even.py --sizes 10000 --seeds 5 --weeks 260 --warmup 104 \
        --pairs 2 --ceiling --strategies transactional

With ``--baseline REV`` a fourth way runs beside them: the same markets one seed after another
in the engine of commit ``REV`` (checked out beside this one, both byte-compiled), so the pass is
measured against the engine as it was, not only against this one's markets alone; issue 31's
goal, 3x the customer-weeks per second of 10 000-customer markets, was set against commit
``4ddb6e8``::

    python benchmarks/pass_break_even.py --sizes 10000 --seeds 30 --weeks 260 --warmup 104 \
        --pairs 2 --strategies transactional --baseline 4ddb6e8

Defaults: the default scenario, 52 + 26 weeks, two seeds' strategies (12 markets).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from worktrees import checked_out  # noqa: E402

CHILD = """
import json, resource, sys, time
import relsim.model.market_pass as market_pass
from relsim import load_scenario
from relsim.model import simulate_arrays
path, mode, customers, weeks, warmup, seeds, names = sys.argv[1:8]
size = int(customers) * (int(seeds) if mode == "ceiling" else 1)
scenario = load_scenario(path, overrides={"market.customers": size,
                         "horizon.weeks": int(weeks), "horizon.warmup_weeks": int(warmup)})
strategies = [s for s in scenario.strategies if names == "all" or s.name in names.split(",")]
market_pass.PASS_MAX_CUSTOMERS = 10**12 if mode == "pass" else 0
tasks = [(s, 100 + r) for r in range(int(seeds)) for s in strategies]
started = time.process_time()
if mode == "ceiling":
    sys.path.insert(0, sys.argv[8])
    from engine_speed import _scaled_staff
    for strategy in strategies:
        simulate_arrays(scenario, _scaled_staff(strategy, int(seeds)), 100)
else:
    market_pass.simulate_markets(scenario, tasks)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"cpu": time.process_time() - started, "peak_bytes": peak}))
"""


THEN_CHILD = """
import json, resource, sys, time
from relsim import load_scenario
from relsim.model import simulate_arrays
path, customers, weeks, warmup, seeds, names = sys.argv[1:7]
scenario = load_scenario(path, overrides={"market.customers": int(customers),
                         "horizon.weeks": int(weeks), "horizon.warmup_weeks": int(warmup)})
strategies = [s for s in scenario.strategies if names == "all" or s.name in names.split(",")]
started = time.process_time()
for r in range(int(seeds)):
    for strategy in strategies:
        simulate_arrays(scenario, strategy, 100 + r)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"cpu": time.process_time() - started, "peak_bytes": peak}))
"""


def _run(
    args: argparse.Namespace, mode: str, customers: int, then: Path | None = None
) -> dict[str, float]:
    """One way (``mode``) in a fresh process; ``then``: the baseline's tree (mode "then")."""
    tree = then if mode == "then" else ROOT
    scenario = Path(args.scenario)
    if mode == "then":  # the baseline reads its own copy of a scenario of this repository
        scenario = then / scenario.resolve().relative_to(ROOT)
    child = THEN_CHILD if mode == "then" else CHILD
    command = [sys.executable, "-c", child, str(scenario)] + ([] if mode == "then" else [mode])
    command += [str(customers), str(args.weeks), str(args.warmup), str(args.seeds)]
    command += [",".join(args.strategies), str(ROOT / "benchmarks")]
    env = {"PYTHONPATH": str(tree / "src"), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.yaml")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 50_000])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--warmup", type=int, default=26)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--strategies", nargs="+", default=["all"], help="names (default: all)")
    parser.add_argument("--ceiling", action="store_true", help="also one market per strategy")
    parser.add_argument("--baseline", help="also one seed after another at this commit")
    args = parser.parse_args()
    if args.baseline:
        with (
            tempfile.TemporaryDirectory() as scratch,
            checked_out(ROOT, args.baseline, Path(scratch)) as then,
        ):
            _measure(args, then)
    else:
        _measure(args, None)


def _measure(args: argparse.Namespace, then: Path | None) -> None:
    """Every size's pairs (the ways in turn, reversed every other pair) and its summary."""
    for customers in args.sizes:
        ratios: list[float] = []
        ceiling: list[float] = []
        against_then: list[float] = []
        for pair in range(args.pairs):
            order = ["pass", "seed_by_seed"] + (["ceiling"] if args.ceiling else [])
            order += ["then"] if then is not None else []
            order = order if pair % 2 == 0 else order[::-1]
            got = {mode: _run(args, mode, customers, then) for mode in order}
            ratios.append(got["seed_by_seed"]["cpu"] / got["pass"]["cpu"])
            if args.ceiling:
                ceiling.append(got["seed_by_seed"]["cpu"] / got["ceiling"]["cpu"])
            if then is not None:
                against_then.append(got["then"]["cpu"] / got["pass"]["cpu"])
            print(json.dumps({"customers": customers, "pair": pair + 1, **got}), flush=True)
        print(
            json.dumps(
                {
                    "customers": customers,
                    "pass_speed_ratio_median": round(statistics.median(ratios), 3),
                    "range": [round(min(ratios), 3), round(max(ratios), 3)],
                    **(
                        {"ceiling_speed_ratio_median": round(statistics.median(ceiling), 3)}
                        if ceiling
                        else {}
                    ),
                    **(
                        {
                            "pass_against_baseline_median": round(
                                statistics.median(against_then), 3
                            ),
                            "against_baseline_range": [
                                round(min(against_then), 3),
                                round(max(against_then), 3),
                            ],
                        }
                        if against_then
                        else {}
                    ),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
