"""The loyalty toy of :mod:`toy_numpy` written as Mesa agents, each with a ``step``.

Mesa is a benchmark-only dependency (``pip install -e ".[bench]"``): relsim never imports it.
The rules and constants are :mod:`toy_numpy`'s, one customer at a time; each agent draws from
the model's ``random`` (Python's generator, the fast one for scalars), so the two toys agree in
distribution, not draw by draw (``tests/test_toys.py`` checks that they do, when Mesa is
installed).

``python benchmarks/toy_mesa.py --customers 10000`` prints customer-weeks per second.
"""

from __future__ import annotations

import argparse
import math
import time

import mesa
from toy_numpy import (
    ATTRACTION,
    BOND_GAIN,
    BOND_WEIGHT,
    BUY,
    CHURN,
    CLIMB_ABOVE,
    DISSATISFIED,
    FIRMS,
    HABIT,
    LEARNING,
    PROBLEM,
    PROBLEM_PENALTY,
    QUALITY,
    ToyResult,
)

_BUY = BUY.tolist()
_ATTRACTION = ATTRACTION.tolist()
_QUALITY = QUALITY.tolist()


class Customer(mesa.Agent):
    """One customer: its firm (-1: none), rung, satisfaction and bond."""

    def __init__(self, model: LoyaltyToy):
        super().__init__(model)
        self.firm = -1
        self.rung = 0
        self.satisfaction = 0.7
        self.bond = 0.0

    def step(self) -> None:
        random = self.model.random
        self.model.customer_weeks += 1
        if random.random() < _BUY[self.rung]:
            self._buy(random)
        hazard = CHURN * (1.0 - self.bond) * (2 if self.satisfaction < DISSATISFIED else 1)
        if random.random() < hazard:
            self.remove()

    def _buy(self, random) -> None:  # type: ignore[no-untyped-def]
        best, chosen = -math.inf, 0
        for f in range(FIRMS):
            u = _ATTRACTION[f] - math.log(-math.log(1.0 - random.random()))  # Gumbel
            if f == self.firm:
                u += HABIT + BOND_WEIGHT * self.bond
            if u > best:
                best, chosen = u, f
        experience = _QUALITY[chosen] - (PROBLEM_PENALTY if random.random() < PROBLEM else 0.0)
        self.satisfaction += LEARNING * (experience - self.satisfaction)
        if chosen == self.firm:
            self.bond += BOND_GAIN * (1.0 - self.bond)
            if self.satisfaction > CLIMB_ABOVE:
                self.rung = min(self.rung + 1, 3)
        else:
            self.firm, self.rung, self.bond = chosen, 1, 0.0


class LoyaltyToy(mesa.Model):
    """The toy market: customers step in random order each week, then newcomers arrive."""

    def __init__(self, customers: int, seed: int = 1):
        super().__init__(seed=seed)
        self.customers = customers
        self.customer_weeks = 0
        for _ in range(customers):
            Customer(self)

    def step(self) -> None:
        self.agents.shuffle_do("step")
        for _ in range(int(self.rng.poisson(CHURN * self.customers))):
            Customer(self)


def run(customers: int, weeks: int = 260, seed: int = 1) -> ToyResult:
    """Simulate the toy market for ``weeks`` with Mesa."""
    model = LoyaltyToy(customers, seed)
    start = time.perf_counter()
    for _ in range(weeks):
        model.step()
    seconds = time.perf_counter() - start
    agents = list(model.agents)
    with_firm = [a.firm for a in agents if a.firm >= 0]
    return ToyResult(
        customer_weeks=model.customer_weeks,
        seconds=seconds,
        customers_at_end=len(agents),
        share_of_firm_0=sum(f == 0 for f in with_firm) / max(len(with_firm), 1),
        mean_rung=sum(a.rung for a in agents) / max(len(agents), 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=260)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(args.customers, args.weeks, args.seed)
    print(f"{result.million_per_second:.2f} M customer-weeks/s  {result}")


if __name__ == "__main__":
    main()
