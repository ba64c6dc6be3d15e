"""A small loyalty toy as plain numpy arrays: the yardstick relsim's engine is measured against.

The same rules as :mod:`toy_mesa` (which writes them as Mesa agents), much simpler than relsim's
model. One row per customer, float64 state, masks instead of compaction, no tuning: the plain
vectorised form a careful first draft would have. Each week, for every customer in the market:

1. buys with a probability set by its rung (0 prospect .. 3 advocate);
2. a buyer chooses one of the firms by multinomial logit: the firm's attraction, plus a habit
   term and the bond for its current firm; one Gumbel draw per buyer and firm;
3. the order may meet a problem; satisfaction moves part of the way to the experience;
4. a buyer who stays with its firm strengthens the bond and climbs a rung if satisfied; one
   who switches starts over at rung 1 with no bond;
5. the customer leaves the market with a hazard that the bond lowers and dissatisfaction
   raises;

and new customers arrive, Poisson in number (on average replacing those who left).

``python benchmarks/toy_numpy.py --customers 100000`` prints customer-weeks per second.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

FIRMS = 3
BUY = np.array([0.10, 0.25, 0.35, 0.45])  # purchase probability by rung
ATTRACTION = np.array([0.3, 0.0, -0.1])
QUALITY = np.array([0.75, 0.70, 0.65])
HABIT = 0.8
BOND_WEIGHT = 1.5
BOND_GAIN = 0.05
LEARNING = 0.3
PROBLEM = 0.08  # share of orders with a problem
PROBLEM_PENALTY = 0.5
CLIMB_ABOVE = 0.6  # satisfaction above which a repeat buyer climbs a rung
CHURN = 0.004  # weekly hazard of leaving the market
DISSATISFIED = 0.5  # below this, the hazard doubles


@dataclass
class ToyResult:
    """What a run of either toy reports: its work and its outcome."""

    customer_weeks: int
    seconds: float
    customers_at_end: int
    share_of_firm_0: float  # among customers with a firm, at the end
    mean_rung: float  # among customers in the market, at the end

    @property
    def million_per_second(self) -> float:
        return self.customer_weeks / self.seconds / 1e6


def run(customers: int, weeks: int = 260, seed: int = 1) -> ToyResult:
    """Simulate the toy market for ``weeks``; arrays sized for growth, rows masked on exit."""
    rng = np.random.default_rng(seed)
    capacity = int(customers * (1.2 + CHURN * weeks * 1.5)) + 64
    firm = np.full(capacity, -1, np.int64)
    rung = np.zeros(capacity, np.int64)
    satisfaction = np.full(capacity, 0.7)
    bond = np.zeros(capacity)
    alive = np.zeros(capacity, bool)
    alive[:customers] = True
    n = customers
    customer_weeks = 0
    start = time.perf_counter()
    for _ in range(weeks):
        live = np.flatnonzero(alive[:n])
        customer_weeks += len(live)
        buyers = live[rng.random(len(live)) < BUY[rung[live]]]
        own = firm[buyers]
        utility = np.broadcast_to(ATTRACTION, (len(buyers), FIRMS)).copy()
        has = own >= 0
        utility[np.flatnonzero(has), own[has]] += HABIT + BOND_WEIGHT * bond[buyers[has]]
        utility += rng.gumbel(size=utility.shape)
        chosen = utility.argmax(axis=1)
        problem = rng.random(len(buyers)) < PROBLEM
        experience = QUALITY[chosen] - PROBLEM_PENALTY * problem
        sat = satisfaction[buyers]
        sat += LEARNING * (experience - sat)
        satisfaction[buyers] = sat
        stay = chosen == own
        kept = buyers[stay]
        bond[kept] += BOND_GAIN * (1.0 - bond[kept])
        climb = kept[sat[stay] > CLIMB_ABOVE]
        rung[climb] = np.minimum(rung[climb] + 1, 3)
        moved = buyers[~stay]
        firm[moved] = chosen[~stay]
        rung[moved] = 1
        bond[moved] = 0.0
        hazard = CHURN * (1.0 - bond[live]) * np.where(satisfaction[live] < DISSATISFIED, 2, 1)
        alive[live[rng.random(len(live)) < hazard]] = False
        born = min(int(rng.poisson(CHURN * customers)), capacity - n)
        alive[n : n + born] = True
        n += born
    seconds = time.perf_counter() - start
    live = np.flatnonzero(alive[:n])
    with_firm = firm[live][firm[live] >= 0]
    return ToyResult(
        customer_weeks=customer_weeks,
        seconds=seconds,
        customers_at_end=len(live),
        share_of_firm_0=float(np.mean(with_firm == 0)) if len(with_firm) else 0.0,
        mean_rung=float(rung[live].mean()),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=260)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(args.customers, args.weeks, args.seed)
    print(f"{result.million_per_second:.2f} M customer-weeks/s  {result}")


if __name__ == "__main__":
    main()
