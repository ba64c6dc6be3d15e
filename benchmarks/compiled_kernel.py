"""What a compiled kernel would buy the engine, measured before adding a compiler (issue 31).

Issue 31 allows a compiler (numba) "for a few hot kernels if the profile shows the vectorised
form cannot get there". This measures two kernels. One is a plain loop in numba, the weekly
census (every row's (primary firm, rung) cell counted, and in reported weeks its satisfaction
and trust summed by cell: a full scan of the customers, most of it ``bincount`` already):

- the engine's own numpy code (``Census._cell_totals``) against a numba loop over the same
  slices of rows, on a real market's arrays at the end of its horizon, checked bitwise equal
  (cells, counts and sums; the sums of these float32 fields are exact in float64 here, so the
  check does not tell apart orders of addition);
- the census's share of one of the engine's weeks at that size (timed alone, caches warm: in a
  profile of the running engine it is a larger share), and so what the kernel saves;
- a whole rule as a kernel: ``Relationships._climb`` (satisfaction, trust and the ladder after
  orders with the primary firm: gathers, float32 updates, the trust's ``exp``, the bonds'
  factor, the ladder's move, scatters) for a quarter of the customers with a primary firm,
  the engine's call against the kernel given the same ladder uniforms and bonds' factor,
  checked bitwise equal on the four fields it writes (numba's ``exp`` and numpy's need not
  agree in the last bit, so this is a check on this data, not a guarantee);
- the engine's speed as ``benchmarks/engine_speed.py`` counts it (customer-weeks of the whole
  run, warm-up included, per second of the run), the speed-up it needs to reach ``--target``,
  and by Amdahl's law the share of a week that compiled kernels would have to cover to get
  there: kernels as much faster as each measured one, and kernels that took no time at all;
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
from typing import Any

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


@numba.njit(cache=CACHE)
def climb(b, satisfaction, trust, rung, run_count, felt, expected, satisfying, problem,
          uniforms, bond, learning_rate, trust_kept, trust_build, trust_initial, climb_weight,
          up, down, lowest, highest):
    one = np.float32(1.0)
    for j in range(b.shape[0]):
        i = b[j]
        s = satisfaction[i] + learning_rate * (felt[j] - expected[j])
        satisfaction[i] = min(max(s, np.float32(0.0)), one)
        t = trust[i] * trust_kept if problem[j] else trust[i] + trust_build * (one - trust[i])
        trust[i] = t
        run_count[i] = 0
        factor = bond[j] * np.exp((np.float64(t) - trust_initial) * climb_weight)
        r = rung[i]
        climbs = satisfying[j] and uniforms[j] < min(up[r] * factor, 1.0)
        falls = not satisfying[j] and uniforms[j] < down[r]
        rung[i] = min(max(r + climbs - falls, lowest), highest)
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


def kernels_against_engine(args: argparse.Namespace) -> dict[str, float]:
    """Simulate a market's horizon, then time the engine's census and climbs and the kernels
    on its arrays (before the horizon's end lets them go)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from engine_speed import BASE_CUSTOMERS, _scaled_staff

    from relsim import load_scenario
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
    out = {"rows": market.c.n, "week_ms": week_ms}
    out |= census_figures(market, namespace["census"], args.repeat)
    out |= climb_figures(market, namespace["climb"], args.repeat)
    resumed = time.perf_counter()
    raw = market.end_horizon()
    run_s = (paused - started) + (time.perf_counter() - resumed)
    return out | {"customer_weeks_per_s": raw.customer_weeks / run_s}


def census_figures(market: Any, kernel: Any, repeat: int) -> dict[str, float]:
    """The engine's census (a reported week's) against the kernel, on the market's arrays."""
    import numpy as np

    from relsim.model.census import COUNT_SLICE, N_RUNGS

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
    return {
        "census_cells_filled": int((counts > 0).sum()),
        "census_numpy_ms": _best_ms(lambda: market._cell_totals(0), repeat),
        "census_kernel_ms": _best_ms(lambda: kernel(*fields, cells, N_RUNGS, COUNT_SLICE), repeat),
        "census_bitwise_equal": equal,
    }


CLIMBED = ("satisfaction", "trust", "rung", "run_count")
"""The customers' fields a purchase with the primary firm writes (``Relationships._climb``)."""


def climb_figures(market: Any, kernel: Any, repeat: int) -> dict[str, float]:
    """The engine's ``_climb`` (satisfaction, trust and ladder after orders with the primary
    firm) against the kernel, for a quarter of the customers with a primary firm, in row
    order, as a week's orders with their primary firms: the kernel gets the ladder's uniforms
    and the bonds' factor from one call of the engine's and must leave the same fields."""
    import numpy as np

    from relsim.model.population import NONE
    from relsim.model.satisfaction import is_satisfying

    c, week = market.c, market.H - 1
    draws = np.random.default_rng(7)
    held = np.flatnonzero((c.primary[: c.n] != NONE) & c.alive[: c.n])
    b = np.sort(draws.choice(held, size=len(held) // 4, replace=False))
    primary = c.primary.take(b).astype(np.intp)
    felt = draws.random(len(b), dtype=np.float32)
    expected = c.expectation.take(b)
    satisfying = is_satisfying(felt, expected, market.rule)
    problem = draws.random(len(b)) < 0.05
    orders = (b, primary, satisfying, felt, expected, problem)
    before = {name: getattr(c, name)[: c.n].copy() for name in CLIMBED}
    seen = _seen_draws(market)
    market._climb(week, *orders)
    after = {name: getattr(c, name)[: c.n].copy() for name in CLIMBED}
    moved = int((after["rung"] != before["rung"]).sum())  # before the kernel writes over it
    del market._uniform, market._climb_factor  # the class's own again
    constants = _climb_constants(market)
    bond = seen.get("bond")
    bond = np.ones(len(b), np.float32) if bond is None else bond
    fields = [before[name] for name in CLIMBED]
    rows = (b, *fields, felt, expected, satisfying, problem)
    kernel(*rows, seen["uniforms"], bond, *constants)
    equal = all(np.array_equal(f, after[k]) for k, f in zip(CLIMBED, fields, strict=True))

    def compiled() -> None:
        uniforms = market._uniform("ladder", b)
        factor = market._climb_factor(b, primary, week)
        factor = np.ones(len(b), np.float32) if factor is None else factor
        fields = (getattr(c, name) for name in CLIMBED)
        kernel(b, *fields, felt, expected, satisfying, problem, uniforms, factor, *constants)

    return {
        "climb_orders": len(b),
        "climb_rungs_moved": moved,
        "climb_numpy_ms": _best_ms(lambda: market._climb(week, *orders), repeat),
        "climb_kernel_ms": _best_ms(compiled, repeat),
        "climb_bitwise_equal": equal,
    }


def _seen_draws(market: Any) -> dict[str, Any]:
    """Keep the next ladder uniforms and bonds' climb factor the market computes (wrapping its
    methods on the instance; deleting the wrappers brings back the class's)."""
    seen: dict[str, Any] = {}
    uniform, climb_factor = market._uniform, market._climb_factor

    def kept_uniform(purpose: str, rows: Any, *args: Any) -> Any:
        seen["uniforms"] = uniform(purpose, rows, *args)
        return seen["uniforms"]

    def kept_factor(rows: Any, primary: Any, week: int) -> Any:
        seen["bond"] = climb_factor(rows, primary, week)
        return seen["bond"]

    market._uniform, market._climb_factor = kept_uniform, kept_factor
    return seen


def _climb_constants(market: Any) -> tuple:
    """The climb's constants in the types the engine's numpy arithmetic gives them: float32
    for satisfaction's and trust's (numpy 2 casts a Python float to an array's float32)."""
    import numpy as np

    from relsim.model.ladder import CUSTOMER, PARTNER

    rule, trust_rule, p = market.rule, market.trust_rule, market.p
    return (
        np.float32(rule.learning_rate),
        np.float32(1.0) - trust_rule.loss,
        np.float32(trust_rule.build),
        float(trust_rule.initial),
        float(trust_rule.climb_weight),
        p.up_probability,
        p.down_probability,
        int(CUSTOMER),
        int(PARTNER),
    )


def amdahl(out: dict, target: float) -> dict[str, float | str]:
    """What the census's kernel saves of a week, and the share of a week compiled kernels would
    have to cover to reach ``target``: covering a share f at a speed-up S gives
    1 / (1 - f + f / S); for kernels as fast as each measured one, and for instant ones."""
    census = out["census_numpy_ms"] / out["census_kernel_ms"]
    climb = out["climb_numpy_ms"] / out["climb_kernel_ms"]
    share = out["census_numpy_ms"] / out["week_ms"]
    needed = target / out["customer_weeks_per_s"]
    figures: dict[str, float | str] = {
        "census_kernel_speedup": census,
        "climb_kernel_speedup": climb,
        "census_share_of_week": share,
        "week_saved_by_census_kernel": share * (1.0 - 1.0 / census),
        "engine_speedup_needed": needed,
    }
    if needed <= 1.0:
        return figures | {"share_to_compile": "none: the target is reached"}
    instant = 1.0 - 1.0 / needed
    figures["share_to_compile_if_instant"] = instant
    for name, speedup in (("census", census), ("climb", climb)):
        at = instant / (1.0 - 1.0 / speedup) if speedup > 1.0 else float("inf")
        key = f"share_to_compile_at_{name}_speedup"
        figures[key] = at if at <= 1.0 else "unreachable: over the whole week"
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
    out = kernels_against_engine(args)
    out |= amdahl(out, args.target) | first_calls()
    for key, value in out.items():
        print(f"{key:36} {value:.4g}" if isinstance(value, float) else f"{key:36} {value}")


if __name__ == "__main__":
    main()
