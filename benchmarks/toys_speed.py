"""relsim's engine against the loyalty toys, in one process run: the ratio is what is tracked.

Runs, one after the other in this process (one core: thread pools pinned to one thread), the
plain numpy toy (``toy_numpy.py``) at 10 000 and 100 000 customers, the Mesa toy
(``toy_mesa.py``) at 10 000, and one replication of relsim's default scenario (each strategy's
staff scaled to the market, as ``engine_speed.py`` does): transactional at 10 000 and 100 000
customers, all_bonds at 100 000. Prints a Markdown table of million customer-weeks per second
and each row's ratio to the numpy toy and to the Mesa toy. Absolute figures move with the
machine's load; the ratios, measured minutes apart at most, move much less.

With ``--repeat K`` each row runs K times, interleaved (round robin over the rows), and the
table gives the median. Mesa is a benchmark-only dependency: ``pip install -e ".[bench]"``;
without it the Mesa row is left out and said so.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/toys_speed.py --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

Row = tuple[str, int, Callable[[], float]]


def _relsim(customers: int, strategy: str) -> Callable[[], float]:
    def measure() -> float:
        import time

        from engine_speed import BASE_CUSTOMERS, _scaled_staff

        from relsim import load_scenario
        from relsim.model import simulate_arrays

        scenario = load_scenario(
            ROOT / "scenarios" / "baseline.yaml", overrides={"market.customers": customers}
        )
        chosen = _scaled_staff(scenario.strategy(strategy), customers / BASE_CUSTOMERS)
        start = time.perf_counter()
        raw = simulate_arrays(scenario, chosen, 1)
        return raw.customer_weeks / (time.perf_counter() - start) / 1e6

    return measure


def _toy(module: str, customers: int) -> Callable[[], float]:
    def measure() -> float:
        toy = __import__(module)
        return float(toy.run(customers).million_per_second)

    return measure


def rows(mesa_customers: int) -> list[Row]:
    """The table's rows: (design, customers, measure), the toys first."""
    out: list[Row] = [
        ("numpy float64 toy", 10_000, _toy("toy_numpy", 10_000)),
        ("numpy float64 toy", 100_000, _toy("toy_numpy", 100_000)),
    ]
    try:
        import mesa  # noqa: F401
    except ImportError:
        print("Mesa is not installed (pip install -e '.[bench]'): no Mesa row", file=sys.stderr)
    else:
        out.append(("Mesa toy", mesa_customers, _toy("toy_mesa", mesa_customers)))
    out += [
        ("relsim, transactional", 10_000, _relsim(10_000, "transactional")),
        ("relsim, transactional", 100_000, _relsim(100_000, "transactional")),
        ("relsim, all_bonds", 100_000, _relsim(100_000, "all_bonds")),
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per row, interleaved")
    parser.add_argument("--mesa-customers", type=int, default=10_000)
    args = parser.parse_args()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    table = rows(args.mesa_customers)
    speeds: list[list[float]] = [[] for _ in table]
    for _ in range(max(args.repeat, 1)):
        for i, (_, _, measure) in enumerate(table):
            speeds[i].append(measure())
    median = [statistics.median(s) for s in speeds]
    named = [(design, size, m) for (design, size, _), m in zip(table, median, strict=True)]
    numpy_at = {size: m for design, size, m in named if design.startswith("numpy")}
    mesa = next((m for design, _, m in named if design == "Mesa toy"), None)
    print("| design | customers | M customer-weeks/s | × numpy toy (same size) | × Mesa toy |")
    print("|---|---|---|---|---|")
    for (design, size, m), runs in zip(named, speeds, strict=True):
        spread = f" ({min(runs):.2f}–{max(runs):.2f})" if len(runs) > 1 else ""
        to_numpy = f"{m / numpy_at[size]:.2f}" if size in numpy_at else "–"
        to_mesa = f"{m / mesa:.1f}" if mesa else "–"
        print(f"| {design} | {size:,} | {m:.2f}{spread} | {to_numpy} | {to_mesa} |")


if __name__ == "__main__":
    main()
