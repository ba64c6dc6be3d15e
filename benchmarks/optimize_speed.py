"""How long ``relsim optimize`` takes: the classroom scenario's points card, 2 levers.

The levers are the points card's reward (5 to 100 per 500 points) and its price index (0.9 to
1.05); the objective is the decision metric's paired difference from the transactional shop.
Reports the trials, the replications the search and the re-evaluation ran, the wall time of
each part, the trial that found the search's best feasible estimate (how many trials the
search needed), the answer (the winner's search and fresh estimates: the curse), and the machine:
its cores and its load average (1 minute) before and after, since a shared machine's other
work slows every figure.

Usage::

    python benchmarks/optimize_speed.py                      # 30 trials, 2 workers
    python benchmarks/optimize_speed.py --trials 10 --workers 1
    python benchmarks/optimize_speed.py --default            # the default scenario, 3 levers
    python benchmarks/optimize_speed.py --study-workers 2 --workers 1   # 2 trials at a time
    python benchmarks/optimize_speed.py --replications 5     # 5 a trial, as much work each run
    python benchmarks/optimize_speed.py --no-kept-warm-ups   # a warm-up per replication and trial

``--default``: the default scenario (scenarios/baseline.yaml), all_bonds against the
transactional baseline, its points reward (5 to 60), relationship managers (0 to 10) and the
structural ties' top_share (0.005 to 0.1).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "classroom.yaml"
LEVERS = (
    "strategies.points_card.bonds.points.reward_value=5:100",
    "strategies.points_card.price_index=0.9:1.05",
)


DEFAULT = ROOT / "scenarios" / "baseline.yaml"
DEFAULT_LEVERS = (
    "strategies.all_bonds.bonds.points.reward_value=5:60",
    "strategies.all_bonds.staffing.managers.count=0:10",
    "strategies.all_bonds.bonds.structural.top_share=0.005:0.1",
)


def main() -> None:
    from relsim import load_scenario
    from relsim.experiment.optimize import optimize, parse_lever, with_levers

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--study-workers", type=int, default=1, help="trials at a time")
    parser.add_argument(
        "--replications", type=int, default=None, help="every trial's (no adaptive doubling)"
    )
    parser.add_argument("--default", action="store_true", help="the default scenario, 3 levers")
    parser.add_argument(
        "--no-kept-warm-ups",
        action="store_true",
        help="every replication simulates its warm-up (as before warm-ups were kept for trials)",
    )
    args = parser.parse_args()
    if args.no_kept_warm_ups:
        from relsim.experiment.warm_ups import WARM_UPS

        WARM_UPS.budget = 0  # nothing kept: each replication warms up from the start
    path, levers = (DEFAULT, DEFAULT_LEVERS) if args.default else (SCENARIO, LEVERS)
    kept = ("transactional", "all_bonds" if args.default else "points_card")
    data = load_scenario(path).model_dump(mode="json")
    data["strategies"] = [s for s in data["strategies"] if s["name"] in kept]
    scenario = type(load_scenario(path)).model_validate(data)
    fixed = {"replications": args.replications, "max_replications": args.replications}
    scenario = with_levers(scenario, [parse_lever(t) for t in levers], trials=args.trials, **fixed)
    lines: list[tuple[float, str]] = []
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = optimize(
            scenario,
            workers=args.workers,
            out=Path(tmp) / "o",
            say=lambda line: lines.append((time.perf_counter() - start, line)),
            study_workers=args.study_workers,
        )
        total = time.perf_counter() - start
        trials, candidates, answer = result.trials, result.candidates, result.answer
        search = _search_seconds(Path(tmp) / "o")
    report = {
        "scenario": f"{path.stem} ({kept[1]} against {kept[0]})",
        "levers": list(levers),
        "workers": args.workers,
        "study_workers": args.study_workers,
        "trials": len(trials),
        "search_replications": int(trials["replications"].sum()),
        "best_found_at_trial": int(
            trials.loc[trials["estimate"].where(trials["feasible"]).idxmax(), "trial"]
        ),
        "search_seconds (first trial's start to last trial's end)": round(search, 1),
        "fresh_replications_each": answer["replications"],
        "fresh_designs": len(candidates),
        "other_seconds (start, fresh re-evaluation)": round(total - search, 1),
        "total_seconds": round(total, 1),
        "winner": answer["levers"],
        "winner_search_estimate": round(answer["winner_search_estimate"]),
        "winner_fresh_estimate": round(answer["winner_fresh_estimate"]),
        "sure": answer["sure"],
        "cores": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(report, indent=2))


def _search_seconds(out: Path) -> float:
    """From the first trial's start to the last trial's end (whichever process ran them)."""
    from relsim.experiment.optimize_search import STUDY_FILE, finished, open_study

    done = finished(open_study(out / STUDY_FILE, fail_running=False))
    first = min(t.datetime_start for t in done if t.datetime_start is not None)
    last = max(t.datetime_complete for t in done if t.datetime_complete is not None)
    return (last - first).total_seconds()


if __name__ == "__main__":
    main()
