"""What a compiled kernel would buy the engine, measured before adding a compiler (issue 31).

Issue 31 allows a compiler (numba) "for a few hot kernels if the profile shows the vectorised
form cannot get there". This measures one kernel that is a plain loop in numba, the weekly
census (every row's (primary firm, rung) cell counted, and in reported weeks its satisfaction
and trust summed by cell: a full scan of the customers, most of it ``bincount`` already):

- the engine's own numpy code (``Census._cell_totals``) against a numba loop over the same
  slices of rows, on a real market's arrays at the end of its horizon, checked bitwise equal
  (cells, counts and sums; the sums of these float32 fields are exact in float64 here, so the
  check does not tell apart orders of addition);
- the census's share of one of the engine's weeks at that size (timed alone, caches warm: in a
  profile of the running engine it is a larger share), and so what the kernel saves;
- the engine's speed as ``benchmarks/engine_speed.py`` counts it (customer-weeks of the whole
  run, warm-up included, per second of the run), the speed-up it needs to reach ``--target``,
  and by Amdahl's law the share of a week that compiled kernels would have to cover to get
  there: kernels as much faster as this one, and kernels that took no time at all;
- what numba costs each fresh process (every worker of a run is one): its import and a kernel's
  first call without a cache and with one (the cache in a temporary folder).

numba is not a relsim dependency::

    pip install numba
    python benchmarks/compiled_kernel.py --customers 1000000 --strategy all_bonds
    python benchmarks/compiled_kernel.py --customers 100000 --strategy social --weeks 52
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

KERNEL = """
import numba
import numpy as np

@numba.njit(cache=CACHE)
def census(primary, rung, satisfaction, trust, cells, n_rungs, slice_rows):
    counts = np.zeros(cells, np.int64)
    sums = np.zeros((2, cells))
    part = np.zeros((2, cells))
    n = primary.shape[0]
    for start in range(0, n, slice_rows):
        part[:] = 0.0
        for i in range(start, min(start + slice_rows, n)):
            code = (primary[i] + 1) * n_rungs + rung[i]
            counts[code] += 1
            part[0, code] += np.float64(satisfaction[i])
            part[1, code] += np.float64(trust[i])
        sums += part
    return counts, sums
"""

FIRST_CALL = """
import json, sys, time
started = time.perf_counter()
import numba
imported = time.perf_counter()
import numpy as np
sys.path.insert(0, sys.argv[1])
from census_kernel import census
rows = np.zeros(1000, np.int8)
values = np.zeros(1000, np.float32)
called = time.perf_counter()
census(rows, rows, values, values, 24, 6, 65536)
done = time.perf_counter()
print(json.dumps({"import": imported - started, "first_call": done - called}))
"""


def _kernel(cache: bool) -> str:
    return KERNEL.replace("CACHE", str(cache))


def first_calls() -> dict[str, float]:
    """numba's import and the kernel's first call in fresh processes: without a cache, then
    twice with one in a temporary folder (the first writes it, the second reads it)."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        # numba caches only a function defined in a file: the kernel's module, in the folder
        module = Path(folder) / "census_kernel.py"
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(folder) / "cache")}
        for label, cache in (("no_cache", False), ("cache_written", True), ("cache_read", True)):
            module.write_text(_kernel(cache))
            child = [sys.executable, "-c", FIRST_CALL, folder]
            done = subprocess.run(child, env=env, capture_output=True, text=True, check=True)
            figures = json.loads(done.stdout)
            out.setdefault("import_s", figures["import"])  # the first, cold
            out[f"first_call_{label}_s"] = figures["first_call"]
    return out


def _best_ms(call, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best * 1e3


def census_against_kernel(args: argparse.Namespace) -> dict[str, float]:
    """Simulate a market's horizon, then time its census and the kernel on its arrays
    (before the horizon's end lets them go)."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from engine_speed import BASE_CUSTOMERS, _scaled_staff

    from relsim import load_scenario
    from relsim.model.census import COUNT_SLICE, N_RUNGS
    from relsim.model.engine import Market

    overrides: dict[str, int] = {"market.customers": args.customers}
    if args.weeks is not None:
        overrides |= {"horizon.weeks": args.weeks, "horizon.warmup_weeks": args.warmup}
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml", overrides=overrides)
    strategy = _scaled_staff(scenario.strategy(args.strategy), args.customers / BASE_CUSTOMERS)
    started = time.perf_counter()  # as engine_speed.py times simulate_arrays
    market = Market(scenario, strategy, 1)
    market.warm_up()
    market.begin_horizon()
    horizon_started = time.perf_counter()
    market.env.run(until=market.W + market.H)  # its arrays are let go at end_horizon
    paused = time.perf_counter()
    week_ms = (paused - horizon_started) / market.H * 1e3

    namespace: dict = {}
    exec(_kernel(False), namespace)
    kernel = namespace["census"]
    c = market.c
    n = c.n
    fields = (c.primary[:n], c.rung[:n], c.satisfaction[:n], c.trust[:n])
    cells = (market.F + 1) * N_RUNGS
    counts, sums = kernel(*fields, cells, N_RUNGS, COUNT_SLICE)
    numpy_counts, numpy_sums = market._cell_totals(0)
    equal = bool(
        np.array_equal(counts, numpy_counts)
        and np.array_equal(sums[0], numpy_sums["satisfaction"])
        and np.array_equal(sums[1], numpy_sums["trust"])
    )
    numpy_ms = _best_ms(lambda: market._cell_totals(0), args.repeat)
    kernel_ms = _best_ms(lambda: kernel(*fields, cells, N_RUNGS, COUNT_SLICE), args.repeat)
    resumed = time.perf_counter()
    raw = market.end_horizon()
    run_s = (paused - started) + (time.perf_counter() - resumed)
    return {
        "rows": n,
        "cells_filled": int((counts > 0).sum()),
        "week_ms": week_ms,
        "customer_weeks_per_s": raw.customer_weeks / run_s,
        "census_numpy_ms": numpy_ms,
        "census_kernel_ms": kernel_ms,
        "bitwise_equal": equal,
    }


def amdahl(out: dict, target: float) -> dict[str, float | str]:
    """What the kernel saves of a week, and the share of a week compiled kernels would have to
    cover to reach ``target``: covering a share f at a speed-up S gives 1 / (1 - f + f / S)."""
    speedup = out["census_numpy_ms"] / out["census_kernel_ms"]
    share = out["census_numpy_ms"] / out["week_ms"]
    needed = target / out["customer_weeks_per_s"]
    figures: dict[str, float | str] = {
        "kernel_speedup": speedup,
        "census_share_of_week": share,
        "week_saved_by_kernel": share * (1.0 - 1.0 / speedup),
        "engine_speedup_needed": needed,
    }
    if needed <= 1.0:
        return figures | {"share_to_compile": "none: the target is reached"}
    instant = 1.0 - 1.0 / needed
    figures["share_to_compile_if_instant"] = instant
    at_speedup = instant / (1.0 - 1.0 / speedup) if speedup > 1.0 else float("inf")
    figures["share_to_compile_at_kernel_speedup"] = (
        at_speedup if at_speedup <= 1.0 else "unreachable: over the whole week"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--strategy", default="all_bonds")
    parser.add_argument(
        "--weeks", type=int, default=None, help="horizon weeks (default: the scenario's)"
    )
    parser.add_argument("--warmup", type=int, default=26, help="warm-up weeks, with --weeks")
    parser.add_argument("--repeat", type=int, default=20, help="timings of each census (best)")
    parser.add_argument(
        "--target", type=float, default=20e6, help="customer-weeks per second aimed at"
    )
    args = parser.parse_args()
    if importlib.util.find_spec("numba") is None:
        sys.exit("numba is not installed (it is not a relsim dependency): pip install numba")
    out = census_against_kernel(args)
    out |= amdahl(out, args.target) | first_calls()
    for key, value in out.items():
        print(f"{key:36} {value:.4g}" if isinstance(value, float) else f"{key:36} {value}")


if __name__ == "__main__":
    main()
