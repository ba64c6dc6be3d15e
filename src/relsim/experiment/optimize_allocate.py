"""Budget allocation mode of ``relsim optimize``: one relationship budget a year split between
the financial, social and structural bonds of one strategy (Palmatier, Gopalakrishna &
Houston's allocation question).

**The split.** For ``k`` bonds the search draws ``k`` unconstrained weights ``w_i`` in [0, 1]
(Optuna parameters ``weight_<bond>``) and normalises them: ``share_i = w_i / sum(w)`` (equal
shares when every weight is 0). Every point of the simplex is reachable; the normalisation
is not uniform on it, which only changes where the sampler starts looking.

**What a share buys** (``money = share x budget`` a year; each through the cost the scenario
gives that lever, so that the money a share buys is what the lever then costs in the run):

- financial: the points program's reward. Its fixed cost (``fixed_cost_per_week`` x 52) is
  paid first; the rest funds rewards at the rate ``reward_rate = rest / revenue``, with
  ``revenue`` the focal firm's revenue a year under the baseline (the mean of the search's
  first replications of the baseline, measured once). ``reward_value`` is set to give that
  rate (``reward_rate x threshold / (earn_rate x (1 - breakage))``, at least 0.01).
- social: the relationship managers, ``count = money / (52 x managers.cost_per_week)``
  (fractional: part-time staff), who serve the key accounts (and the structural set-ups).
- structural: the number of structural ties, ``max_accounts = floor(money / (52 x
  running_cost_per_week + setup_cost / years))`` (a tie's running cost and its set-up spread
  over the horizon's years), with ``top_share`` set to 1 so the money, not the share, sets
  how many of the most valuable eligible customers are tied.

The mapping is a plan: rewards follow what customers buy, ties that end are replaced (new
set-ups), set-ups wait for manager hours. So the realised spend of each bond (its cost kinds
of :data:`BOND_KINDS` a year) is measured in every replication and reported beside its
planned share, and the budget is a constraint on the realised spend of the bonds together:
a design that overspends is never reported as feasible. The strategy's other costs (a club,
the service desk, a senior manager) stay as the scenario says and are outside the split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from relsim.scenario import Scenario
from relsim.scenario.model import Allocate, Lever
from relsim.units import WEEKS_PER_YEAR, years

BOND_KINDS = {
    "financial": ("rewards", "program"),
    "social": ("managers",),
    "structural": ("structural_setup", "structural"),
}
"""The cost kinds each bond's realised spend counts."""
BOND_SPEND = "bond_spend_per_year"
"""The column of the bonds' realised spend together (currency a year)."""
REVENUE = "revenue"
MIN_REWARD = 0.01


def spend_column(bond: str) -> str:
    """The column of one bond's realised spend (currency a year)."""
    return f"{bond}_spend_per_year"


def weight_name(bond: str) -> str:
    return f"weight_{bond}"


def share_name(bond: str) -> str:
    return f"share_{bond}"


@dataclass(frozen=True)
class Allocation:
    """A checked allocation: the budget, the bonds sharing it, the lever each share buys and
    the unit costs of the mapping (from the strategy's fields)."""

    budget: float
    bonds: tuple[str, ...]
    paths: dict[str, str]
    strategy: dict[str, Any]
    years: float

    @property
    def columns(self) -> list[str]:
        """The columns a trial keeps for the allocation: realised spends and the revenue."""
        return [BOND_SPEND, *(spend_column(b) for b in self.bonds), REVENUE]

    def shares(self, weights: dict[str, float]) -> dict[str, float]:
        """The shares of the budget: the weights normalised to sum to 1."""
        total = sum(weights[b] for b in self.bonds)
        if total <= 0:
            return dict.fromkeys(self.bonds, 1.0 / len(self.bonds))
        return {b: weights[b] / total for b in self.bonds}

    def values(self, shares: dict[str, float], revenue: float) -> dict[str, Any]:
        """The lever values the shares buy (``revenue``: the baseline's revenue a year)."""
        out: dict[str, Any] = {}
        for bond in self.bonds:
            money = shares[bond] * self.budget
            out[self.paths[bond]] = getattr(self, f"_{bond}")(money, revenue)
        return out

    def _financial(self, money: float, revenue: float) -> float:
        p = self.strategy["bonds"]["points"]
        rest = max(0.0, money - p["fixed_cost_per_week"] * WEEKS_PER_YEAR)
        rate = rest / revenue if revenue > 0 else 0.0
        value = rate * p["threshold"] / (p["earn_rate"] * (1.0 - p["breakage"]))
        return max(MIN_REWARD, value)

    def _social(self, money: float, revenue: float) -> float:
        return money / (WEEKS_PER_YEAR * self.strategy["staffing"]["managers"]["cost_per_week"])

    def _structural(self, money: float, revenue: float) -> int:
        s = self.strategy["bonds"]["structural"]
        per_tie = WEEKS_PER_YEAR * s["running_cost_per_week"] + s["setup_cost"] / self.years
        return math.floor(money / per_tie) if per_tie > 0 else 0

    def levers(self) -> tuple[Lever, ...]:
        """The levers the allocation sets (their tables' columns and the winner's block; the
        search moves the weights, so the ranges are nominal)."""
        return tuple(
            Lever(path=self.paths[b], low=0.0, high=1.0, integer=b == "structural")
            for b in self.bonds
        )

    def split(self, won: Any) -> dict[str, Any]:
        """The winner's split (``won``: its candidates row): each bond's planned share and
        money beside its realised spend a year on the fresh seeds, and the bonds' together."""
        bonds = {
            b: {
                "share": float(won[share_name(b)]),
                "planned": float(won[share_name(b)]) * self.budget,
                "realised": float(won[f"{spend_column(b)}_fresh_mean"]),
                "lever": self.paths[b],
            }
            for b in self.bonds
        }
        realised = float(won[f"{BOND_SPEND}_fresh_mean"])
        return {"budget": self.budget, "bonds": bonds, "realised": realised}

    def revenue(self, rows: list[dict[str, float]]) -> float:
        """The spend base of the financial share: the mean revenue a year of ``rows``."""
        return sum(r[REVENUE] for r in rows) / len(rows) / self.years


def allocation_of(scenario: Scenario, block: Allocate) -> tuple[Scenario, Allocation]:
    """The scenario prepared for the allocation (``top_share`` 1 for structural ties) and the
    allocation, checked (``ValueError`` naming the field, what was expected, and a hint)."""
    try:
        strategy = scenario.strategy(block.strategy)
    except (KeyError, ValueError):
        names = ", ".join(s.name for s in scenario.strategies)
        raise ValueError(
            f"optimize.allocate.strategy: no strategy {block.strategy!r} (strategies: {names})"
        ) from None
    if strategy.name == scenario.baseline_strategy:
        raise ValueError(
            f"optimize.allocate.strategy: {strategy.name} is the baseline; "
            "allocate another strategy's budget against it"
        )
    runs = _runs(strategy)
    bonds = block.bonds or tuple(b for b in BOND_KINDS if runs[b])
    missing = [b for b in bonds if not runs[b]]
    if missing or len(bonds) < 2:
        raise ValueError(
            f"optimize.allocate: the budget needs at least two bonds the strategy runs; "
            f"{strategy.name} runs {', '.join(b for b in BOND_KINDS if runs[b]) or 'none'}"
            f"{' (not ' + ', '.join(missing) + ')' if missing else ''}. Hint: start it from "
            "preset financial+social+structural (points, key accounts, structural ties)"
        )
    index = [s.name for s in scenario.strategies].index(strategy.name)
    data = scenario.model_dump(mode="json")
    mine = data["strategies"][index]
    if "structural" in bonds:
        mine["bonds"]["structural"]["top_share"] = 1.0
    head = f"strategies.{strategy.name}"
    paths = {
        "financial": f"{head}.bonds.points.reward_value",
        "social": f"{head}.staffing.managers.count",
        "structural": f"{head}.bonds.structural.max_accounts",
    }
    if "social" in bonds and mine["staffing"]["managers"]["cost_per_week"] <= 0:
        raise ValueError(
            f"{head}.staffing.managers.cost_per_week: a social share buys managers at their "
            "cost; expected a cost above 0"
        )
    prepared = type(scenario).model_validate(data)
    allocation = Allocation(
        budget=block.budget,
        bonds=tuple(bonds),
        paths={b: paths[b] for b in bonds},
        strategy=mine,
        years=years(scenario.horizon.weeks),
    )
    return prepared, allocation


def _runs(strategy: Any) -> dict[str, bool]:
    """Which bonds the strategy runs (has the fields a share buys)."""
    return {
        "financial": strategy.bonds.points is not None,
        "social": strategy.key_accounts is not None,
        "structural": strategy.bonds.structural is not None,
    }


__all__ = ["BOND_KINDS", "BOND_SPEND", "Allocation", "allocation_of", "share_name", "spend_column"]
